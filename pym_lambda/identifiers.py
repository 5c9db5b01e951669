"""Python names made from spec names: the one snake_case (views and client operations alike).

Written with str methods, not regular expressions: these run while app.py is imported, where
compiling a pattern (~0.3-0.5 M instructions each) would be paid at every Lambda cold start.
"""
from __future__ import annotations

from typing import Callable


def is_word_char(char: str) -> bool:
    """What the pattern ``\\w`` matches in a str (``re``'s own rule: alphanumeric or "_")."""
    return char.isalnum() or char == "_"


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def underscore_runs(text: str, keep: Callable[[str], bool] = is_word_char) -> str:
    """Each run of characters not kept replaced by one "_": ``re.sub(r"\\W+", "_", text)``."""
    out = []
    in_run = False
    for char in text:
        if keep(char):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("_")
            in_run = True
    return "".join(out)


def split_camel(name: str) -> str:
    """"UserNotFound" -> "User_Not_Found": "_" between [a-z0-9] and [A-Z]."""
    out = []
    previous = ""
    for char in name:
        if "A" <= char <= "Z" and ("a" <= previous <= "z" or "0" <= previous <= "9"):
            out.append("_")
        out.append(char)
        previous = char
    return "".join(out)


def snake_case(name: str) -> str:
    """'listBooks' -> 'list_books', 'get-book' -> 'get_book': what an operationId is also
    bound and called by."""
    return split_camel(underscore_runs(name, _is_ascii_alnum)).lower().strip("_")
