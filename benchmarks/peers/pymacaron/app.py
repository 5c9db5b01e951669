"""Peer (f): PyMacaron 2 serving the library API (Flask app, generated pydantic models).

PyMacaron 2's API.start() runs the Flask server unless it sees gunicorn in sys.argv[0]; the
benchmark wants the app without a server, so it borrows that path for the duration of start().
PyMacaron generates apis/library_models.py and library_app.py next to the spec on first load;
run.py copies this folder to a temporary one first.
"""
import logging
import os
import sys

from flask import Flask
from pymacaron import API
from pymacaron.config import get_config

HERE = os.path.dirname(os.path.abspath(__file__))

app = Flask(__name__)
get_config().load_pym_config(path=HERE)
api = API(app, port=8080, debug=False, log_level=logging.WARNING)
api.load_apis(os.path.join(HERE, "apis"))
_argv0, sys.argv[0] = sys.argv[0], "gunicorn"
try:
    api.start()
finally:
    sys.argv[0] = _argv0
flask_app = app
