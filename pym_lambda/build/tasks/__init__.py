"""The build side of the task system: queue definitions and `ensure_queues` (queues.py), the
waits for what AWS refuses while it settles (settling.py), the operator's tools (admin.py) and
the `pym-lambda tasks|worker` commands (cli.py). What runs in a Lambda is pym_lambda.tasks."""
