"""What a schema evaluated in a value: the annotations unevaluatedProperties and
unevaluatedItems read (JSON Schema 2020-12, section 11)."""
from __future__ import annotations

from typing import Set


class Evaluated:
    """Property names and item indices some keyword looked at (all_items: every item)."""

    __slots__ = ("props", "items", "all_items")

    def __init__(self) -> None:
        self.props: Set[str] = set()
        self.items: Set[int] = set()
        self.all_items = False

    def merge(self, other: Evaluated) -> None:
        if other.props:
            self.props |= other.props
        if other.items:
            self.items |= other.items
        self.all_items = self.all_items or other.all_items
