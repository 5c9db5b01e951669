"""The static files of the docs page, vendored in pym_lambda/docs/static/ (see ASSETS.md).

Served from the package itself, so the page works offline and on Lambda (no CDN). Only the
files listed here are served: a URL can never reach another file. Each is read on first use
and kept in memory; URLs carry a version (`?v=`) so browsers may cache them for a year.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, NamedTuple, Optional, Tuple

STATIC_DIR = Path(__file__).parent / "static"
JS = "text/javascript; charset=utf-8"  # RFC 9239
CSS = "text/css; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CACHE_FOREVER = "public, max-age=31536000, immutable"

REDOC = "redoc-2.5.4"  # npm package and version, as in ASSETS.md
SWAGGER_UI = "swagger-ui-dist-5.35.0"


class Asset(NamedTuple):
    path: str  # under static/
    content_type: str
    version: Optional[str] = None  # the vendored package; None: a hash of the content


ASSETS: Dict[str, Asset] = {
    "redoc.standalone.js": Asset("redoc/redoc.standalone.js", JS, REDOC),
    # The bundles' first line points to these third-party notices.
    "redoc.standalone.js.LICENSE.txt": Asset("redoc/redoc.standalone.js.LICENSE.txt", TEXT,
                                             REDOC),
    "swagger-ui-bundle.js": Asset("swagger-ui/swagger-ui-bundle.js", JS, SWAGGER_UI),
    "swagger-ui-bundle.js.LICENSE.txt": Asset("swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
                                              TEXT, SWAGGER_UI),
    "swagger-ui.css": Asset("swagger-ui/swagger-ui.css", CSS, SWAGGER_UI),
    "pym-docs.js": Asset("pym-docs.js", JS),
    "pym-docs.css": Asset("pym-docs.css", CSS),
}

# What each UI needs on the page, in order: (stylesheets, scripts).
UI_FILES: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "redoc": (("pym-docs.css",), ("redoc.standalone.js", "pym-docs.js")),
    "swagger-ui": (("swagger-ui.css", "pym-docs.css"), ("swagger-ui-bundle.js", "pym-docs.js")),
}

_contents: Dict[str, str] = {}


def read_asset(name: str) -> Optional[str]:
    """The text of a served file, None for any other name."""
    asset = ASSETS.get(name)
    if asset is None:
        return None
    if name not in _contents:
        _contents[name] = (STATIC_DIR / asset.path).read_text(encoding="utf-8")
    return _contents[name]


def asset_version(name: str) -> str:
    asset = ASSETS[name]
    if asset.version:
        return asset.version
    import hashlib

    text = read_asset(name) or ""  # our own small files: their hash, so an edit shows at once
    return hashlib.sha256(text.encode()).hexdigest()[:12]
