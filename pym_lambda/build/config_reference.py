"""The key reference of docs/configuration.md, generated from pym_lambda/config/keys.py.

    python -m pym_lambda.build.config_reference           # print the generated part
    python -m pym_lambda.build.config_reference --write   # replace it between the markers
    python -m pym_lambda.build.config_reference --check   # exit 1 when the doc is out of date

Types and defaults come from the settings classes, descriptions from key_docs.KEY_DOCS, the
variables from the loader's own naming rule, keys.ALIASES and key_docs.VARIABLES: the code is the
single definition, the doc follows it (tests/config/test_environment.py checks it does).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..config import key_docs, keys
from ..config.loader import ENV_PREFIX, env_variables

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
START = "<!-- key-reference: start"
END = "<!-- key-reference: end -->"
_KIND_TEXT = {"str": "string", "int": "integer", "bool": "boolean", "list": "list",
              "map": "mapping of name to string", "any": "any mapping",
              "secret": "string or reference", "secrets": "mapping of name to reference"}
_CHOICES = {("log_level",): keys.LOG_LEVELS, ("docs", "ui"): keys.DOCS_UIS,
            ("jwt", "algorithms"): keys.JWT_ALGORITHMS}
_SECTION_TITLES = {"": "Top-level keys"}


def _type_text(path: Tuple[str, ...], kind: Tuple[str, bool]) -> str:
    name, _ = kind
    text = _KIND_TEXT[name]
    if path in _CHOICES:
        choices = ", ".join(f"`{c}`" for c in _CHOICES[path])
        text = f"list of {choices}" if name == "list" else choices
    low, high = keys.MINIMUMS.get(path), keys.MAXIMUMS.get(path)
    if low is not None and high is not None:
        text += f", {low}-{high}"
    elif low is not None:
        text += f" >= {low}"
    if path[-1].endswith("_file"):
        text = "path"
    return text


def _default_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(value) + "]`"
    if isinstance(value, dict) or hasattr(value, "items"):
        return "`{}`"
    return f"`{value}`"


def _rows() -> Dict[str, List[str]]:
    """Section name ("" for the top level) -> its table rows."""
    by_path = {path: name for name, (path, _) in env_variables().items()}
    aliases: Dict[Tuple[str, ...], List[str]] = {}
    for alias, path in keys.ALIASES.items():
        aliases.setdefault(path, []).append(alias)
    sections: Dict[str, List[str]] = {"": []}
    for key, entry in keys.schema_of(keys.Settings).items():
        fields: List[Tuple[Tuple[str, ...], Any, Any]]
        if isinstance(entry, type):
            defaults: Dict[str, Any] = entry._field_defaults  # type: ignore[attr-defined]
            fields = [((key, child), kind, defaults[child])
                      for child, kind in keys.schema_of(entry).items()]
            rows = sections.setdefault(key, [])
        else:
            fields = [((key,), entry, keys.Settings._field_defaults[key])]
            rows = sections[""]
        for path, kind, default in fields:
            dotted = ".".join(path)
            variable = by_path.get(path)
            env = f"`{variable}`" if variable else "file only"
            if path in aliases:
                env += " (older name, below it: " + ", ".join(
                    f"`{a}`" for a in aliases[path]) + ")"
            rows.append(f"| `{dotted}` | {_type_text(path, kind)} | {_default_text(default)} "
                        f"| {env} | {key_docs.KEY_DOCS[dotted]} |")
    sections[""].append("| `stages` | mapping of stage name to keys | `{}` | file only "
                        "| per-stage values, applied over the top level |")
    return sections


def generate() -> str:
    """The Markdown that goes between the markers."""
    lines: List[str] = []
    for section, rows in _rows().items():
        title = _SECTION_TITLES.get(section, f"`{section}`")
        lines += [f"### {title}", "", "| key | type | default | env | what |",
                  "|---|---|---|---|---|", *rows, ""]
    lines += ["### Other variables", "",
              f"Not keys of the file: plumbing set by the deploy, the container or "
              f"`pym-lambda test`, read by `pym_lambda.config.environment` (every `{ENV_PREFIX}*` "
              "variable is read in `pym_lambda/config/`; the build side sets them).", "",
              "| variable | type | default | what |", "|---|---|---|---|"]
    lines += [f"| `{v.name}` | {v.type} | {v.default} | {v.what} |" for v in key_docs.VARIABLES]
    return "\n".join(lines) + "\n"


def replaced(document: str, generated: str) -> str:
    """``document`` with the part between the markers replaced (the start marker's comment
    kept)."""
    start = document.index(START)
    start = document.index("-->", start) + len("-->")
    end = document.index(END)
    return document[:start] + "\n\n" + generated + "\n" + document[end:]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    generated = generate()
    if not args:
        sys.stdout.write(generated)
        return 0
    current = DOC.read_text(encoding="utf-8")
    wanted = replaced(current, generated)
    if args == ["--check"]:
        if current != wanted:
            print(f"{DOC} is out of date: run python -m pym_lambda.build.config_reference --write")
            return 1
        return 0
    if args == ["--write"]:
        DOC.write_text(wanted, encoding="utf-8")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
