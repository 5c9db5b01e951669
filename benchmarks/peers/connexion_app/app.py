"""Peer (e): connexion 3 serving apis/library.yaml itself, validating requests and responses.

connexion is an ASGI framework: `app` here is connexion's FlaskApp (its middleware stack, with
Flask behind a2wsgi). There is no `app(event, context)`: the benchmark drives the ASGI app in
process (one asyncio loop, an ASGI scope per request built from the same payloads).
Set BENCH_CONNEXION_APP=async for connexion's AsyncApp instead.
"""
import os
from pathlib import Path

import connexion
import handlers
from connexion.resolver import Resolver

SPEC = Path(os.environ.get("BENCH_LIBRARY_SPEC")
            or Path(__file__).resolve().parents[3] / "apis" / "library.yaml")

if os.environ.get("BENCH_CONNEXION_APP") == "async":
    app = connexion.AsyncApp(__name__, specification_dir=str(SPEC.parent))
else:
    app = connexion.FlaskApp(__name__, specification_dir=str(SPEC.parent))
app.add_api(SPEC.name,
            resolver=Resolver(function_resolver=lambda op_id: getattr(
                handlers, op_id, handlers.not_implemented)),
            validate_responses=True)
