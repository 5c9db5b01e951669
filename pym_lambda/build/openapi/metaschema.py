"""Meta-schema checks of the schemas in a spec, with openapi-schema-validator's meta-schemas."""
from __future__ import annotations

from functools import cache
from typing import Any, Optional

from .loader import OAS31


@cache
def _meta_validator(dialect: str) -> Any:
    from jsonschema.validators import validator_for
    from openapi_schema_validator import OAS30Validator, OAS31Validator
    from openapi_schema_validator._specifications import REGISTRY

    cls = OAS31Validator if dialect == OAS31 else OAS30Validator
    meta_cls = validator_for(cls.META_SCHEMA, default=cls)
    return meta_cls(cls.META_SCHEMA, registry=REGISTRY)


def check_schema(schema: Any, dialect: str) -> Optional[str]:
    """None when the schema is valid for its dialect, else what is wrong and where."""
    error = next(iter(_meta_validator(dialect).iter_errors(schema)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message}" + (f" (at {where})" if where else "")
