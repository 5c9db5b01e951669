"""A module-level PyMacaron task, as a service would declare it (the worker imports it by name)."""
from pym_lambda.compat.pymacaron import asynctask

RUNS = []


@asynctask()
def remember(value, model=None):
    RUNS.append((value, model))


@asynctask(delay=30)
def later(value):
    RUNS.append((value, None))
