"""Peer (d3): Powertools' APIGatewayRestResolver(enable_validation=True): its data validation.

Parameters declared with Annotated Path/Query constraints, the body and the responses as
pydantic models (the Powertools way of "validated in and out").
"""
from datetime import datetime
from typing import Annotated, List, Optional

import library_store as store
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

Tag = Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]


class Author(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    born: Optional[Annotated[int, Field(ge=-3000, le=2100)]] = None


class NewBook(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    authors: Annotated[List[Author], Field(min_length=1)]
    tags: Optional[List[Tag]] = None
    published_at: Optional[datetime] = None
    isbn: Optional[Annotated[str, Field(pattern=r"^[0-9X-]{10,17}$")]] = None


class Book(NewBook):
    id: int
    available: bool


class BookList(BaseModel):
    books: List[Book]
    count: int


class Loan(BaseModel):
    reader: Annotated[str, Field(min_length=1)]
    due: str
    id: Optional[str] = None
    book_id: Optional[int] = None
    branch: Optional[str] = None


resolver = APIGatewayRestResolver(enable_validation=True)


@resolver.exception_handler(store.NotFound)
def not_found(exc):
    return Response(status_code=404, content_type=content_types.APPLICATION_JSON,
                    body={"status": 404, "error": "BOOK_NOT_FOUND",
                          "error_description": str(exc)})


@resolver.get("/v1/books")
def list_books(limit: Annotated[int, Query(ge=1, le=100)] = 20,
               tags: Annotated[Optional[str], Query()] = None,
               available: Annotated[Optional[bool], Query()] = None) -> BookList:
    return store.list_books(limit=limit, tags=tags.split(",") if tags else None,
                            available=available)


@resolver.post("/v1/books")
def add_book(new_book: NewBook) -> Response[Book]:
    book = store.add_book(new_book.model_dump(exclude_none=True, mode="json"))
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=book)


@resolver.get("/v1/books/<book_id>")
def get_book(book_id: Annotated[int, Path(ge=1)]) -> Book:
    return store.get_book(book_id)


@resolver.delete("/v1/books/<book_id>")
def delete_book(book_id: Annotated[int, Path(ge=1)]):
    store.delete_book(book_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@resolver.post("/v1/books/<book_id>/loans")
def lend_book(loan: Loan, book_id: Annotated[int, Path(ge=1)]) -> Response[Loan]:
    branch = resolver.current_event.get_header_value("x-library-branch", "main")
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body=store.lend_book(loan.model_dump(exclude_none=True), book_id, branch))


def app(event, context):
    return resolver.resolve(event, context)
