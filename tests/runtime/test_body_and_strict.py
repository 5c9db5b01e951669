"""Form and multipart bodies parsed against the spec; strict mode refuses undeclared input."""
from __future__ import annotations

import pytest
from chalice.test import Client

from pym_lambda import create_app
from tests.conftest import JsonClient, make_project
from tests.runtime.test_requests import assert_error

SPEC = """
openapi: 3.0.3
info: {title: uploads, version: '1'}
paths:
  /photos:
    post:
      x-bind-server: tests.runtime.test_body_and_strict.upload
      parameters:
        - {name: album, in: query, schema: {type: string}}
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [title, image]
              properties:
                title: {type: string, minLength: 2}
                rating: {type: integer, maximum: 5}
                tags: {type: array, items: {type: string}}
                image: {type: string, format: binary}
          application/json:
            schema: {$ref: '#/components/schemas/Photo'}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object}}}
  /notes:
    get:
      x-bind-server: tests.runtime.test_body_and_strict.note
      responses:
        '200':
          description: a note
          content: {text/plain: {schema: {type: string}}}
components:
  schemas:
    Photo:
      type: object
      required: [title]
      properties:
        title: {type: string}
        place: {type: object, properties: {city: {type: string}}}
"""


def upload(body, album=None):
    image = getattr(body, "image", None)
    return {"title": body.title, "rating": getattr(body, "rating", None),
            "tags": getattr(body, "tags", None), "album": album,
            "image_size": len(image) if image is not None else None,
            "image_is_bytes": isinstance(image, bytes)}


def note():
    return "plain text, not JSON"


def multipart(fields, files):
    boundary = "pymBoundary42"
    chunks = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f'{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                      f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
                      + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), {"content-type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture(scope="module", params=[False, True], ids=["lenient", "strict"])
def uploads_app(request, tmp_path_factory):
    """The uploads app, built once per mode."""
    project = make_project(tmp_path_factory.mktemp("uploads"), {"uploads": SPEC})
    (project / "pym-config.yaml").write_text(f"limits: {{strict: {str(request.param).lower()}}}\n")
    return create_app(project), request.param


@pytest.fixture
def uploads(uploads_app):
    app, strict = uploads_app
    # its service is the current one outside requests (generate_token(), models)
    with app.pym_service.use(), Client(app) as client:
        yield JsonClient(client), strict


def test_multipart_fields_coerced_and_files_kept_as_bytes(uploads):
    client, _ = uploads
    image = bytes(range(256)) * 4
    body, headers = multipart([("title", "Sunset"), ("rating", "4"), ("tags", "sea"),
                               ("tags", "sky")], {"image": ("s.png", image)})
    reply = client.request("POST", "/photos", body=body, headers=headers)
    assert reply.status == 200, reply
    assert reply.json == {"title": "Sunset", "rating": 4, "tags": ["sea", "sky"], "album": None,
                          "image_size": 1024, "image_is_bytes": True}


def test_multipart_errors_name_the_field(uploads):
    client, _ = uploads
    body, headers = multipart([("title", "Sunset"), ("rating", "six")], {"image": ("a", b"x")})
    assert_error(client.request("POST", "/photos", body=body, headers=headers), 400,
                 "INVALID_PARAMETER", "body field 'rating'")
    body, headers = multipart([("title", "S")], {})
    assert_error(client.request("POST", "/photos", body=body, headers=headers), 400,
                 "INVALID_PARAMETER")
    assert_error(client.request("POST", "/photos", body=b"--x--",
                                headers={"content-type": "multipart/form-data"}),
                 400, "INVALID_PARAMETER", "boundary")


def test_text_plain_response(uploads):
    client, _ = uploads
    reply = client.get("/notes")
    assert reply.status == 200 and reply.body == b"plain text, not JSON"
    assert reply.headers["Content-Type"] == "text/plain"


def test_unknown_query_parameters_and_body_fields(uploads):
    client, strict = uploads
    photo = {"title": "t", "place": {"city": "Oslo", "country": "NO"}}
    reply = client.post("/photos?album=a&colour=red", photo)
    if strict:
        assert_error(reply, 400, "INVALID_PARAMETER", "unknown query parameter(s): 'colour'")
        reply = client.post("/photos?album=a", photo)
        assert_error(reply, 400, "INVALID_PARAMETER", "body.place.country: unknown field")
        assert client.post("/photos", {"title": "t", "place": {"city": "Oslo"}}).status == 200
    else:
        assert reply.status == 200 and reply.json["album"] == "a"


SWAGGER_SPEC = """
swagger: '2.0'
info: {title: uploads, version: '1'}
paths:
  /photos:
    post:
      x-bind-server: tests.runtime.test_body_and_strict.upload_fields
      consumes: [multipart/form-data]
      parameters:
        - {name: title, in: formData, type: string, required: true, minLength: 2}
        - {name: rating, in: formData, type: integer, maximum: 5}
        - {name: image, in: formData, type: file, required: true}
      responses:
        '200': {description: ok, schema: {type: object}}
"""


def upload_fields(title, image, rating=None):
    return {"title": title, "rating": rating, "image_size": len(image)}


def test_swagger2_form_data_fields_arrive_as_keyword_arguments(tmp_path):
    project = make_project(tmp_path, {"uploads": SWAGGER_SPEC})
    with Client(create_app(project)) as raw:
        client = JsonClient(raw)
        body, headers = multipart([("title", "Sunset"), ("rating", "3")],
                                  {"image": ("s.png", b"\x89PNG" * 10)})
        reply = client.request("POST", "/photos", body=body, headers=headers)
        assert reply.json == {"title": "Sunset", "rating": 3, "image_size": 40}, reply
        body, headers = multipart([("title", "Sunset"), ("rating", "9")], {"image": ("a", b"x")})
        assert_error(client.request("POST", "/photos", body=body, headers=headers), 400,
                     "INVALID_PARAMETER", "rating")
