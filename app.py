"""The example service's Chalice entry point: every spec in apis/ becomes routes.

Nothing to edit here when a spec is added: create_app() loads them all.
"""
from pym_lambda import create_app, task_workers

app = create_app(__file__)
# One SQS-triggered worker per task queue; Chalice deploys each as app.<its name>.
globals().update(task_workers(app))
