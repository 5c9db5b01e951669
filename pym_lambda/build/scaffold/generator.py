"""`create_service()`: a new service folder from the templates shipped in scaffold/template/.

Template files end in ``.tmpl`` (so that no tool mistakes them for the package's own code);
``{{key}}`` placeholders are replaced; in paths, ``__name__`` is the service name,
``__module__`` its Python module name and a ``dot-`` prefix a leading dot (package data skips
dotfiles).
"""
from __future__ import annotations

import keyword
import re
import secrets
import shutil
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from ...errors import PymLambdaError
from ...version import __version__

# The worker's Lambda is named "<name>-<stage>-pym_task_worker_default" (64 characters at
# most): 30 leaves room for the stage.
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")
_RESERVED_MODULES = {"tasks"}  # chalicelib/tasks.py is the template's own
_PLACEHOLDER = re.compile(r"\{\{[a-z_]+\}\}")


class ScaffoldError(PymLambdaError):
    """The service can't be created (bad name, existing folder)."""


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ScaffoldError(f"service name {name!r}: use 2-30 lower-case letters, digits or '-', "
                            "starting with a letter (it names the Lambda functions and queues)")
    module = name.replace("-", "_")
    if keyword.iskeyword(module) or module in _RESERVED_MODULES:
        raise ScaffoldError(f"service name {name!r}: chalicelib/{module}.py can't be used; "
                            "choose another name")
    return module


def template_values(name: str) -> Dict[str, str]:
    module = check_name(name)
    return {
        "name": name,
        "module": module,
        "title": " ".join(part.capitalize() for part in name.split("-")),
        # Dev-only: it signs the tokens of `pym-lambda token` for the dev stage.
        "dev_jwt_secret": "dev-only-" + secrets.token_urlsafe(32),
        "pym_version": __version__,
        "pym_source": pym_lambda_source(),
    }


def pym_lambda_source() -> str:
    """Where `pip install -e` finds this pym-lambda (on no package index yet): the clone it
    runs from, quoted for a shell; a placeholder when it was installed some other way."""
    import shlex

    import pym_lambda

    clone = Path(pym_lambda.__file__).resolve().parents[1]
    try:
        project = (clone / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return "/path/to/pym-lambda"
    return shlex.quote(str(clone)) if 'name = "pym-lambda"' in project else "/path/to/pym-lambda"


def _templates(folder: Traversable, prefix: Tuple[str, ...] = ()) -> Iterator[
        Tuple[Tuple[str, ...], Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _templates(entry, prefix + (entry.name,))
        elif entry.name.endswith(".tmpl"):
            yield prefix + (entry.name[:-len(".tmpl")],), entry


def _target_part(part: str, values: Dict[str, str]) -> str:
    part = part.replace("__name__", values["name"]).replace("__module__", values["module"])
    return "." + part[len("dot-"):] if part.startswith("dot-") else part


def render(text: str, values: Dict[str, str], where: str) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = _PLACEHOLDER.search(text)
    if left:  # a template bug: never write a half-rendered file
        raise ScaffoldError(f"template {where}: unknown placeholder {left.group(0)}")
    return text


BEANSTALK = ("infra",)  # the template's Beanstalk files: infra/beanstalk/


def create_service(name: str, parent: Path, beanstalk: bool = True
                   ) -> Tuple[Path, List[Path]]:
    """Write the service `name` into `parent/name`; the folder and the files written.

    beanstalk=False leaves out infra/beanstalk/ (the files `deploy --target beanstalk` builds
    its image from). Refuses an existing folder (even an empty one): nothing of the user's is
    overwritten.
    """
    values = template_values(name)
    target = Path(parent).resolve() / name
    if not target.parent.is_dir():
        raise ScaffoldError(f"{target.parent} is not a folder")
    try:
        target.mkdir()  # atomic claim: fails if anything is already there
    except FileExistsError:
        raise ScaffoldError(f"{target} already exists: choose another name or --dir") from None
    written: List[Path] = []
    try:
        root = resources.files("pym_lambda.build.scaffold") / "template"
        for parts, source in _templates(root):
            if not beanstalk and parts[:1] == BEANSTALK:
                continue
            path = target.joinpath(*(_target_part(p, values) for p in parts))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(source.read_text(encoding="utf-8"), values,
                                   "/".join(parts)), encoding="utf-8")
            written.append(path)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # no half-made service left behind
        raise
    return target, written
