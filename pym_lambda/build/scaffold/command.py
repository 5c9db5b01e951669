"""`pym-lambda new NAME`: a working service folder, ready for `pym-lambda local` and pytest."""
from __future__ import annotations

from pathlib import Path

import click

from .generator import ScaffoldError, create_service, pym_lambda_source

_WHAT = [
    ("apis/{name}.yaml", "the OpenAPI spec: POST /v1/greetings and its models"),
    ("chalicelib/{module}.py", "the function the operation is bound to (x-bind-server)"),
    ("chalicelib/tasks.py", "an async task the endpoint enqueues"),
    ("app.py", "the Chalice entry point (never needs editing)"),
    ("pym-config.yaml", "settings; .chalice/config.json: the dev and prod stages"),
    ("tests/", "tests run by pytest with pym-lambda's plugin (tests/acceptance: black-box)"),
    ("infra/beanstalk/", "the Docker files of `deploy --target beanstalk` (Elastic Beanstalk)"),
]


@click.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to create the NAME folder.")
@click.option("--beanstalk/--no-beanstalk", default=True, show_default=True,
              help="Include infra/beanstalk/ (Dockerfile, gunicorn and entrypoint, image check), "
                   "so that `pym-lambda deploy --target beanstalk` can run the service on "
                   "Elastic Beanstalk too.")
def new(name: str, parent: Path, beanstalk: bool) -> None:
    """Create the service NAME in a new folder: spec, code, stages, settings, tests, README."""
    try:
        target, written = create_service(name, parent, beanstalk=beanstalk)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    module = name.replace("-", "_")
    click.echo(f"created {target} ({len(written)} files):")
    for path, what in _WHAT if beanstalk else _WHAT[:-1]:
        click.echo(f"  {path.format(name=name, module=module):<26} {what}")
    here = Path.cwd().resolve()
    shown = target.relative_to(here) if target.is_relative_to(here) else target
    click.echo(f"""
next:
  cd {shown}
  pip install -r requirements-dev.txt      # pytest, moto (in a new venv: pip install -e
                                           # {pym_lambda_source()} first, pym-lambda's clone)
  pym-lambda local                         # API, local SQS and task worker; Ctrl-C stops all
  curl -s -X POST localhost:8000/v1/greetings -H 'Content-Type: application/json' \\
       -d '{{"name": "Ann"}}'
  python -m pytest                         # the service's own tests""")
