"""Peer (d2): Powertools' APIGatewayRestResolver + fastjsonschema validators compiled at import.

What a performance-minded Powertools user writes instead of utilities.validation.validate():
the same fastjsonschema engine, compiled once per schema.
"""
import fastjsonschema
from _routes import Invalid, build
from library_schemas import with_definitions

VALIDATORS = {name: fastjsonschema.compile(with_definitions(name))
              for name in ("NewBook", "Book", "BookList", "Loan")}


def check_in(name, value):
    try:
        VALIDATORS[name](value)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise Invalid(f"body: {exc.message}") from None


def check_out(name, value):
    try:
        VALIDATORS[name](value)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise Invalid(f"response: {exc.message}", 500, "BAD_RESPONSE") from None


resolver = build(check_in, check_out)


def app(event, context):
    return resolver.resolve(event, context)
