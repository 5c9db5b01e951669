"""`python -m pym_lambda.scaffold NAME`: the same as `pym-lambda new NAME`."""
from .command import new

new()
