"""The service's own API docs, as PyMacaron served them: GET /doc (ReDoc or Swagger UI,
vendored: no CDN) and GET /doc/<api>.yaml (the spec as written). See routes.py. The build
copies the specs where a Lambda reads them (pym_lambda.build.compiled_form.publish_specs)."""
from .routes import register_docs

__all__ = ["register_docs"]
