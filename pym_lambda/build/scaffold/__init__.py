"""`pym-lambda new`: the service template (template/) and the code that copies it."""
from .command import new
from .generator import ScaffoldError, create_service

__all__ = ["ScaffoldError", "create_service", "new"]
