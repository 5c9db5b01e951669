"""The service's own API docs, as PyMacaron served them: GET /doc (ReDoc or Swagger UI,
vendored: no CDN) and GET /doc/<api>.yaml (the spec as written). See routes.py."""
from .routes import register_docs
from .specs import publish_specs

__all__ = ["register_docs", "publish_specs"]
