"""The WSGI fallback's peer: the same endpoint (GET /v1/books) in a plain Flask app."""
from flask import Flask, jsonify, request

app = Flask(__name__)
BOOKS: list = []


@app.get("/v1/books")
def list_books():
    limit = int(request.args.get("limit", 20))
    return jsonify({"books": BOOKS[:limit], "count": len(BOOKS)})
