"""apis/library.yaml's schemas as Python dicts, for the peers that validate by hand.

OpenAPI 3.0 schema objects (what openapi-schema-validator takes) whose $refs point at
"#/definitions/<Name>"; `with_definitions(name)` gives a self-contained root document, which
is also valid JSON Schema draft 4/7 for fastjsonschema (readOnly is only an annotation there).
"""
import copy

DEFINITIONS = {
    "Author": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "born": {"type": "integer", "minimum": -3000, "maximum": 2100},
        },
    },
    "NewBook": {
        "type": "object",
        "required": ["title", "authors"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "authors": {"type": "array", "minItems": 1,
                        "items": {"$ref": "#/definitions/Author"}},
            "tags": {"type": "array", "uniqueItems": True,
                     "items": {"type": "string", "pattern": "^[a-z0-9-]+$"}},
            "published_at": {"type": "string", "format": "date-time"},
            "isbn": {"type": "string", "pattern": "^[0-9X-]{10,17}$"},
        },
    },
    "Book": {
        "allOf": [
            {"$ref": "#/definitions/NewBook"},
            {"type": "object", "required": ["id", "available"],
             "properties": {"id": {"type": "integer", "readOnly": True},
                            "available": {"type": "boolean"}}},
        ],
    },
    "BookList": {
        "type": "object",
        "required": ["books", "count"],
        "properties": {
            "count": {"type": "integer"},
            "books": {"type": "array", "items": {"$ref": "#/definitions/Book"}},
        },
    },
    "Loan": {
        "type": "object",
        "required": ["reader", "due"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "book_id": {"type": "integer", "readOnly": True},
            "reader": {"type": "string", "minLength": 1},
            "due": {"type": "string", "format": "date"},
            "branch": {"type": "string", "readOnly": True},
        },
    },
    "Error": {
        "type": "object",
        "required": ["status", "error", "error_description"],
        "properties": {
            "status": {"type": "integer"},
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "error_id": {"type": "string"},
            "user_message": {"type": "string"},
        },
    },
}


def with_definitions(name):
    """A root schema for definition `name`, carrying every definition its $refs need."""
    root = copy.deepcopy(DEFINITIONS[name])
    root["definitions"] = copy.deepcopy(DEFINITIONS)
    return root
