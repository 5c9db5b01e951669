"""Whether a parameter's text is a JSON-like number, in linear time.

A regex such as ``[0-9]+\\.?[0-9]*`` backtracks quadratically on a long run of digits followed by
a letter (16,000 digits took seconds), and it ran before authentication. These checks are str
methods only (each one pass in C). The language is the old regexes': an optional sign, ASCII
digits (int() and float() also take full-width and other Unicode digits: refused here), an
optional decimal point, an optional exponent; no surrounding space, no trailing newline.
"""
from __future__ import annotations

# More digits than this are refused before int() or float() sees them: Python's own default
# limit (sys.get_int_max_str_digits) may be lifted by the process, making int() quadratic.
MAX_NUMBER_CHARS = 4300


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "" is not digits


def _unsigned(text: str) -> str:
    return text[1:] if text[:1] in ("-", "+") and text else text


def is_integer_text(text: str) -> bool:
    """[-+]?[0-9]+"""
    return _digits(_unsigned(text))


def is_number_text(text: str) -> bool:
    """[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?"""
    body = _unsigned(text)
    mantissa, exponent = body, None
    for mark in ("e", "E"):
        if mark in body:
            mantissa, _, exponent = body.partition(mark)
            break
    if exponent is not None and not _digits(_unsigned(exponent)):
        return False
    whole, point, fraction = mantissa.partition(".")
    if _digits(whole):
        return not fraction or _digits(fraction)
    return not whole and bool(point) and _digits(fraction)
