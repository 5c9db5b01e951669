"""The install steps of a service made by `pym-lambda new` work for a new user: pym-lambda is on
no package index, so its README and requirements-dev.txt install it from the clone the service
was made with before `pip install -r requirements-dev.txt` (which lists pym-lambda)."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_readme_installs_pym_lambda_from_its_clone_first(tmp_path: Path) -> None:
    made = subprocess.run([sys.executable, "-m", "pym_lambda.build.cli", "new", "shop", "--dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    readme = (tmp_path / "shop" / "README.md").read_text()
    block = readme.split("## Run it locally", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    editable = next(i for i, c in enumerate(commands) if c.startswith("pip install -e "))
    requirements = commands.index("pip install -r requirements-dev.txt")
    assert editable < requirements
    [source] = shlex.split(commands[editable])[3:]
    assert Path(source) == ROOT  # this clone, where pyproject.toml names pym-lambda
    assert re.search(r'^name = "pym-lambda"$', (Path(source) / "pyproject.toml").read_text(),
                     re.M)
    assert "pip install -e" in made.stdout and str(ROOT) in made.stdout  # `new`'s next steps
    dev = (tmp_path / "shop" / "requirements-dev.txt").read_text()
    assert f"pip install -e {shlex.quote(str(ROOT))}" in dev
