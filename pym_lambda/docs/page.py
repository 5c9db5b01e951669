"""The HTML of the docs page: a bar listing every API, the selected one rendered by ReDoc or
Swagger UI from the vendored files, over the same API as plain HTML rendered here (what a
browser without JavaScript shows). No inline script: static/pym-docs.js reads the spec URL
from data- attributes, so the Content-Security-Policy can keep scripts to 'self'.
"""
from __future__ import annotations

from html import escape
from typing import Any, Dict, List, NamedTuple, Sequence

from .assets import UI_FILES, asset_version

# Content-Security-Policy: every source is this service ('self'); no inline script, no eval.
# Swagger UI needs nothing more (its "Try it out" calls are connect-src 'self'). ReDoc needs two
# exceptions, checked in headless Chromium (tests/docs/test_page.py):
# - style-src 'unsafe-inline': ReDoc's styled-components writes its CSS into <style> elements
#   it creates, without a nonce (the bundle offers no way to give it one); without this ReDoc
#   stops with an error and renders nothing. Styles cannot run code; scripts stay 'self'.
# - worker-src blob:: ReDoc builds its search index in a Web Worker made from a blob: URL.
# img-src data:: both UIs draw icons as data: URIs. ReDoc's "API docs by Redocly" footer asks
# for a logo on cdn.redoc.ly: refused here (offline, no third party), the footer hides it.
_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
_UI_POLICY = {
    "redoc": {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"},
    "swagger-ui": {},
}


def content_security_policy(ui: str) -> str:
    return "; ".join(f"{name} {value}" for name, value in {**_POLICY, **_UI_POLICY[ui]}.items())


def page_headers(ui: str) -> Dict[str, Any]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(ui),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class ApiEntry(NamedTuple):
    name: str  # the spec file's stem: /doc/<name>.yaml
    title: str
    version: str
    source_format: str  # "yaml" or "json": the format the UI is given (the original text)


def render_page(service: str, apis: Sequence[ApiEntry], selected: ApiEntry, ui: str,
                base: str, content: str = "") -> str:
    """`base` is the docs folder relative to the page's URL ("doc/" for /doc, "" for /doc/),
    so that every link works behind any prefix (an API Gateway stage, a custom domain path).
    `content`: the API as plain HTML (static_html.py), what a browser without JavaScript
    shows; pym-docs.js hides it once the UI is running."""
    stylesheets, scripts = UI_FILES[ui]
    spec_url = f"{base}{selected.name}.{selected.source_format}"
    links: List[str] = []
    for api in apis:
        current = ' aria-current="page"' if api == selected else ""
        links.append(f'<a href="?api={escape(api.name)}"{current} title="{escape(api.title)}">'
                     f'{escape(api.name)}</a>')
    head = "\n".join(f'<link rel="stylesheet" href="{_static(base, name)}">'
                     for name in stylesheets)
    tail = "\n".join(f'<script src="{_static(base, name)}"></script>' for name in scripts)
    title = f"{selected.title or selected.name} {selected.version}".strip()
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)} - {escape(service)} API docs</title>
{head}
</head>
<body>
<header class="pym-docs-bar">
<strong>{escape(service)}</strong>
<nav aria-label="APIs">{" ".join(links)}</nav>
<span class="pym-docs-files">spec: <a href="{escape(base)}{escape(selected.name)}.yaml">YAML</a>
<a href="{escape(base)}{escape(selected.name)}.json">JSON</a></span>
</header>
<main id="pym-docs" data-ui="{escape(ui)}" data-spec-url="{escape(spec_url)}"></main>
<article id="pym-docs-static" class="pym-docs-static">
{content}
</article>
{tail}
</body>
</html>
"""


def _static(base: str, name: str) -> str:
    return escape(f"{base}static/{name}?v={asset_version(name)}")
