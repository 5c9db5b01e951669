"""No app state in module globals of the runtime: it lives on each app's Service
(pym_lambda/runtime/service.py). What remains at module level is a constant (UPPER_CASE, never
mutated: tests/runtime/test_service.py checks that across create_app calls) or one of the
caches below, each a pure function of its key or per process by nature."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, Tuple

ROOT = Path(__file__).resolve().parents[1] / "pym_lambda"
WALLED_OFF = ("build", "testing")  # the build side and the pytest plugin: not the runtime

# "module:name" -> why it may stay at module level
ALLOWED: Dict[str, str] = {
    "pym_lambda.aws:_clients": "boto3 clients by (service, region, endpoint): a pure cache",
    "pym_lambda.aws:_client_hooks": "botocore event handlers for every boto3 client (tracing): "
                                    "the clients are the process's",
    "pym_lambda.auth.keys:_cache": "keys by their source (inline PEM, PEM file, JWKS file, "
                                   "JWKS URL's fetcher): a pure cache",
    "pym_lambda.config.keys:_schemas": "the key schema of each settings class: a pure cache",
    "pym_lambda.fastcheck.helpers:_re2_texts": "a spec pattern -> the text RE2 runs (a "
                                               "repetition bound shrunk): a pure cache",
    "pym_lambda.docs.assets:_contents": "the text of each vendored asset file: a pure cache",
    "pym_lambda.logs:_second": "the last second formatted for the request log: a pure cache",
    "pym_lambda.runtime.models:_date_time_shape": "the date-time pattern, compiled at its first "
                                                  "use (not at a cold start): a pure cache",
    "pym_lambda.metrics:_cold": "whether this process wrote a metrics line yet: a cold start is "
                                "the process's, not an app's",
    "pym_lambda.secret_store:_fetching": "a thread-local flag while a secret is fetched",
    "pym_lambda.runtime.local_compat:_PATCHED": "chalice.local's matcher is patched once per "
                                                "process (global statement)",
    "pym_lambda.tasks.worker:_records": "record_processing, imported with the first batch "
                                        "(global statement)",
    "pym_lambda.cold_start:_held": "the garbage collector's thresholds while a Lambda cold start "
                                   "builds the app: the process's (global statement)",
}
MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "collections.defaultdict", "OrderedDict",
                 "threading.local", "deque"}


def runtime_sources() -> Iterator[Tuple[str, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in WALLED_OFF:
            continue
        module = ".".join(("pym_lambda",) + relative.with_suffix("").parts)
        yield module.removesuffix(".__init__"), ast.parse(path.read_text())


def is_constant_name(name: str) -> bool:
    bare = name.strip("_")
    return (name.startswith("__") and name.endswith("__")) or bare == "LAZY" or (
        bare.isupper() and bare.replace("_", "").isalnum())


def module_state(module: str, tree: ast.Module) -> Iterator[str]:
    """Names assigned a mutable container at module level (constants aside), and names
    rebound by a `global` statement."""
    for node in tree.body:
        value = getattr(node, "value", None)
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        mutable = isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp,
                                     ast.SetComp)) or (
            isinstance(value, ast.Call) and ast.unparse(value.func) in MUTABLE_CALLS)
        for target in targets:
            if mutable and isinstance(target, ast.Name) and not is_constant_name(target.id):
                yield f"{module}:{target.id}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            yield from (f"{module}:{name}" for name in node.names)


def test_no_module_level_mutable_state_but_the_documented_caches() -> None:
    found = {name for module, tree in runtime_sources() for name in module_state(module, tree)}
    assert len(list(runtime_sources())) > 50
    assert sorted(found - set(ALLOWED)) == [], "app state belongs on the Service"
    assert sorted(set(ALLOWED) - found) == [], "an allowed entry no longer exists: drop it"


def test_the_scan_sees_what_the_singletons_were() -> None:
    tree = ast.parse("_registry: dict = {}\nclients = dict()\nMAX = [1]\n"
                     "def set_it():\n    global _settings\n")
    assert sorted(module_state("m", tree)) == ["m:_registry", "m:_settings", "m:clients"]
