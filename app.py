"""The example service's Chalice entry point: every spec in apis/ becomes routes.

Nothing to edit here when a spec is added: create_app() loads them all.
"""
from pym_lambda import create_app

app = create_app(__file__)
