"""The docs page's content without JavaScript: every operation of an API (method, path as
served, summary, parameters, request body, responses) and its named schemas, as plain HTML
rendered on the server from the spec. ReDoc or Swagger UI replaces it when scripts run
(static/pym-docs.js); without them (blocked, a text browser, a crawler) this is the page.
Made at the first request for an API, then kept: nothing here runs at a cold start.
"""
from __future__ import annotations

from html import escape
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEFINITION_PREFIXES = ("#/definitions/", "#/components/schemas/")


def render_api(spec: Mapping[str, Any], served: Sequence[Mapping[str, Any]]) -> str:
    """The HTML of one API. `served`: its compiled operations (method, spec_path, path), whose
    served `path` (base path included) is shown; the rest is read from the spec itself."""
    info: Mapping[str, Any] = spec["info"] if isinstance(spec.get("info"), dict) else {}
    out = [f"<h1>{_text(info.get('title'))} <small>{_text(info.get('version'))}</small></h1>"]
    if info.get("description"):
        out.append(f"<p>{_text(info['description'])}</p>")
    paths: Mapping[str, Any] = spec["paths"] if isinstance(spec.get("paths"), dict) else {}
    operations = []
    for op in served:
        item = paths.get(str(op.get("spec_path")), {})
        found = item.get(str(op.get("method", "")).lower()) if isinstance(item, dict) else None
        if isinstance(found, dict):
            operations.append((op, item, found))
    out.append("<nav><h2>Operations</h2><ul>")
    out += [f'<li><a href="#{_anchor(op)}"><code>{_text(op["method"])} {_text(op["path"])}'
            f"</code></a> {_text(found.get('summary'))}</li>" for op, _, found in operations]
    out.append("</ul></nav>")
    for op, item, found in operations:
        out.append(_operation(spec, op, item, found))
    definitions = _definitions(spec)
    if definitions:
        out.append("<h2>Schemas</h2>")
        out += [_schema_section(spec, name, schema) for name, schema in definitions.items()]
    return "\n".join(out)


def _operation(spec: Mapping[str, Any], op: Mapping[str, Any], item: Mapping[str, Any],
               found: Mapping[str, Any]) -> str:
    out = [f'<section class="pym-docs-operation" id="{_anchor(op)}">',
           f"<h2><code>{_text(op['method'])} {_text(op['path'])}</code></h2>"]
    if found.get("summary"):
        out.append(f"<p><strong>{_text(found['summary'])}</strong></p>")
    if found.get("description"):
        out.append(f"<p>{_text(found['description'])}</p>")
    if found.get("security") or (found.get("security") is None and spec.get("security")):
        out.append("<p>Needs authentication.</p>")
    parameters = _parameters(spec, item, found)
    body = [p for p in parameters if p.get("in") == "body"]
    form = [p for p in parameters if p.get("in") == "formData"]
    plain = [p for p in parameters if p.get("in") not in ("body", "formData")]
    if plain:
        out.append("<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>type</th>"
                   "<th>required</th><th>description</th></tr>")
        out += [f"<tr><td><code>{_text(p.get('name'))}</code></td><td>{_text(p.get('in'))}</td>"
                f"<td>{_type(p.get('schema', p))}</td><td>{'yes' if p.get('required') else 'no'}"
                f"</td><td>{_text(p.get('description'))}</td></tr>" for p in plain]
        out.append("</table>")
    request = _resolve(spec, found.get("requestBody"))
    if isinstance(request, dict) and isinstance(request.get("content"), dict):
        out.append("<h3>Request body</h3>" + _content(request["content"], request.get(
            "required", False), request.get("description")))
    elif body:
        out.append("<h3>Request body</h3>" + _content(
            {"application/json": {"schema": body[0].get("schema")}}, body[0].get("required"),
            body[0].get("description")))
    elif form:
        out.append("<h3>Form fields</h3><ul>")
        out += [f"<li><code>{_text(p.get('name'))}</code>: {_type(p)}"
                f"{' (required)' if p.get('required') else ''}</li>" for p in form]
        out.append("</ul>")
    responses = found.get("responses") if isinstance(found.get("responses"), dict) else {}
    if responses:
        out.append("<h3>Responses</h3><table><tr><th>status</th><th>description</th>"
                   "<th>body</th></tr>")
        for status, response in responses.items():
            response = _resolve(spec, response)
            if not isinstance(response, dict):
                continue
            content = response.get("content")
            if not isinstance(content, dict):  # Swagger 2: one schema
                content = {"": {"schema": response["schema"]}} if "schema" in response else {}
            shown = "; ".join(
                (f"{_text(kind)}: " if kind else "") + _type(media.get("schema"))
                for kind, media in content.items() if isinstance(media, dict))
            out.append(f"<tr><td>{_text(status)}</td><td>{_text(response.get('description'))}"
                       f"</td><td>{shown}</td></tr>")
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _content(content: Mapping[str, Any], required: Any, description: Any) -> str:
    lines = [f"<li>{_text(kind)}: {_type(media.get('schema'))}</li>"
             for kind, media in content.items() if isinstance(media, dict)]
    note = "required" if required else "optional"
    text = f" {_text(description)}" if description else ""
    return f"<p>{note}.{text}</p><ul>{''.join(lines)}</ul>"


def _schema_section(spec: Mapping[str, Any], name: str, schema: Any) -> str:
    out = [f'<section class="pym-docs-schema" id="schema-{escape(name, quote=True)}">',
           f"<h3>{_text(name)}</h3>"]
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return "\n".join(out + ["</section>"])
    if schema.get("description"):
        out.append(f"<p>{_text(schema['description'])}</p>")
    properties = _properties(spec, schema)
    if properties:
        required = set(_required(spec, schema))
        out.append("<table><tr><th>property</th><th>type</th><th>required</th>"
                   "<th>description</th></tr>")
        out += [f"<tr><td><code>{_text(key)}</code></td><td>{_type(value)}</td>"
                f"<td>{'yes' if key in required else 'no'}</td>"
                f"<td>{_text(value.get('description') if isinstance(value, dict) else '')}"
                f"</td></tr>" for key, value in properties.items()]
        out.append("</table>")
    else:
        out.append(f"<p>{_type(schema, link=False)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _properties(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Dict[str, Any]:
    """Its properties, allOf parts' included (x-parent / inheritance)."""
    found: Dict[str, Any] = {}
    for part in schema.get("allOf") or ():
        part = _resolve(spec, part)
        if isinstance(part, dict):
            found.update(_properties(spec, part))
    if isinstance(schema.get("properties"), dict):
        found.update(schema["properties"])
    return found


def _required(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> List[str]:
    names = list(schema.get("required") or ()) if isinstance(schema.get("required"), list) else []
    for part in schema.get("allOf") or ():
        part = _resolve(spec, part)
        if isinstance(part, dict):
            names += _required(spec, part)
    return [str(n) for n in names]


def _type(schema: Any, link: bool = True, depth: int = 0) -> str:
    """A schema in a few words: `Book` (linked), `array of string`, `integer (int64, >= 1)`."""
    if not isinstance(schema, dict) or depth > 4:
        return ""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if link and ref.startswith(DEFINITION_PREFIXES):
            return f'<a href="#schema-{escape(name, quote=True)}">{_text(name)}</a>'
        return _text(name)
    for key, joiner in (("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")):
        if isinstance(schema.get(key), list):
            return joiner.join(_type(part, link, depth + 1) for part in schema[key])
    kind = schema.get("type")
    text = "/".join(map(str, kind)) if isinstance(kind, list) else _text(kind or "any")
    if kind == "array":
        text = f"array of {_type(schema.get('items'), link, depth + 1) or 'any'}"
    notes = [_text(schema["format"])] if schema.get("format") else []
    if isinstance(schema.get("enum"), list):
        notes.append("one of " + ", ".join(_text(v) for v in schema["enum"][:20]))
    for key, sign in (("minimum", ">="), ("maximum", "<="), ("minLength", "length >="),
                      ("maxLength", "length <="), ("pattern", "matches")):
        if key in schema:
            notes.append(f"{escape(sign)} {_text(schema[key])}")
    if schema.get("nullable"):
        notes.append("nullable")
    return text + (f" ({', '.join(notes)})" if notes else "")


def _parameters(spec: Mapping[str, Any], item: Mapping[str, Any], found: Mapping[str, Any]
                ) -> List[Dict[str, Any]]:
    """The path item's parameters, overridden by the operation's (same name and place)."""
    merged: Dict[Any, Dict[str, Any]] = {}
    for source in (item.get("parameters"), found.get("parameters")):
        for parameter in source if isinstance(source, list) else ():
            parameter = _resolve(spec, parameter)
            if isinstance(parameter, dict):
                merged[(parameter.get("name"), parameter.get("in"))] = parameter
    return list(merged.values())


def _definitions(spec: Mapping[str, Any]) -> Dict[str, Any]:
    if isinstance(spec.get("definitions"), dict):
        return dict(spec["definitions"])
    components = spec.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    return dict(schemas) if isinstance(schemas, dict) else {}


def _resolve(spec: Mapping[str, Any], value: Any, seen: int = 0) -> Any:
    """A local `$ref` (#/...) followed; anything else as it is."""
    ref = value.get("$ref") if isinstance(value, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/") or seen > 8:
        return value
    target: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part) if isinstance(target, dict) else None
    return _resolve(spec, target, seen + 1) if target is not None else value


def _anchor(op: Mapping[str, Any]) -> str:
    return "op-" + escape(str(op.get("id") or f"{op['method']}-{op['path']}"), quote=True)


def _text(value: Optional[Any]) -> str:
    return "" if value is None else escape(str(value))


def served_operations(api: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    return [op for op in api.get("operations", ()) if isinstance(op, dict)]
