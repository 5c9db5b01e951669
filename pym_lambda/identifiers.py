"""Python names made from spec names: the one snake_case (views and client operations alike)."""
from __future__ import annotations

import re


def snake_case(name: str) -> str:
    """'listBooks' -> 'list_books', 'get-book' -> 'get_book': what an operationId is also
    bound and called by."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_")
