"""The pym-lambda command. Build-time only: never imported by the Lambda runtime."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .errors import SpecErrors


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pym-lambda")
def main() -> None:
    """pym-lambda: OpenAPI/Swagger specs compiled into AWS Chalice routes."""


def _project(project_dir: Optional[str]) -> Path:
    return Path(project_dir or ".").resolve()


@main.command()
@click.option("--project-dir", type=click.Path(file_okay=False), default=None,
              help="The service folder (default: the current folder).")
def validate(project_dir: Optional[str]) -> None:
    """Check every spec in apis/ and every binding; exit 1 listing each problem."""
    from .runtime.app import bind_operations
    from .spec.compiler import compile_apis_dir

    root = _project(project_dir)
    started = time.perf_counter()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        compiled = compile_apis_dir(root / "apis", root)
        operations = bind_operations(compiled)
    except SpecErrors as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"{len(exc.errors)} problem(s) found", err=True)
        sys.exit(1)
    unbound = [op for op in operations if getattr(op.func, "__name__", "") == "not_implemented"]
    for op in unbound:
        click.echo(f"warning: {op.api.file}: {op.method} {op.path}: operation {op.id} is bound "
                   f"to no function (served as 501 NOT_IMPLEMENTED)")
    click.echo(f"ok: {len(compiled['apis'])} spec(s), {len(operations)} operation(s) "
               f"in {(time.perf_counter() - started) * 1000:.0f} ms")


@main.command()
@click.option("--project-dir", type=click.Path(file_okay=False), default=None,
              help="The service folder (default: the current folder).")
def build(project_dir: Optional[str]) -> None:
    """Compile apis/ into chalicelib/pym_compiled.json, which the Lambda package serves from."""
    from .runtime.app import COMPILED_FILE, specs_fingerprint, write_compiled
    from .spec.compiler import compile_apis_dir

    root = _project(project_dir)
    try:
        compiled = compile_apis_dir(root / "apis", root)
    except SpecErrors as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        sys.exit(1)
    compiled["fingerprint"] = specs_fingerprint(root / "apis")
    target = root / "chalicelib" / COMPILED_FILE
    target.parent.mkdir(exist_ok=True)
    if not write_compiled(target, compiled):
        click.echo(f"error: cannot write {target}", err=True)
        sys.exit(1)
    click.echo(f"wrote {target.relative_to(root)} ({target.stat().st_size} bytes)")


if __name__ == "__main__":  # pragma: no cover
    main()
