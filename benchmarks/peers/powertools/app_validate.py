"""Peer (d1): Powertools' APIGatewayRestResolver + its validation utility, as documented.

`aws_lambda_powertools.utilities.validation.validate(event=..., schema=...)` on the request
body and on the response body. It calls fastjsonschema.validate(), which compiles the schema
on every call: that is what this row measures.
"""
from _routes import Invalid, build
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate
from library_schemas import with_definitions

SCHEMAS = {name: with_definitions(name) for name in ("NewBook", "Book", "BookList", "Loan")}


def check_in(name, value):
    try:
        validate(event=value, schema=SCHEMAS[name])
    except SchemaValidationError as exc:
        raise Invalid(f"body: {exc.validation_message}") from None


def check_out(name, value):
    try:
        validate(event=value, schema=SCHEMAS[name])
    except SchemaValidationError as exc:
        raise Invalid(f"response: {exc.validation_message}", 500, "BAD_RESPONSE") from None


resolver = build(check_in, check_out)


def app(event, context):
    return resolver.resolve(event, context)
