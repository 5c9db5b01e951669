"""`python -m pym_lambda.tasks.local_worker`: the Beanstalk container's task worker command.

infra/beanstalk/supervise.py (the container's entrypoint, copied into every service by
`pym-lambda new`) starts this module when PYM_TASK_WORKER=1, and only if this file exists and
has a ``__main__`` block. It is that command, kept under its first name; the poller itself is
pym_lambda.tasks.poller.
"""
from .poller import main

if __name__ == "__main__":
    raise SystemExit(main())
