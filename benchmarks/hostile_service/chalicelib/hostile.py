"""The bound functions of the hostile-input benchmark's service: they accept and do nothing,
so that what is measured is the framework's work on the request (benchmarks/hostile.py)."""

OK = {"ok": True}


def read_numbers(n=None, q=None, x_amount=None, session=None):
    return OK


def pay(body):
    return OK


def add_item(body):
    return OK
