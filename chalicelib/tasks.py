"""The example service's async tasks: sent to SQS by .delay(), run by the worker Lambda.

In the dev stage (`tasks.inline: true` in pym-config.yaml) they run synchronously, so that
`chalice local` needs no queue; `pym-lambda local` and real stages send them to SQS.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from pym_lambda import async_task, current_task

log = logging.getLogger(__name__)

RECEIPTS: List[Dict[str, Any]] = []  # what a real service would e-mail; kept for the demo


@async_task(queue="default", max_attempts=3)
def send_loan_receipt(loan) -> None:
    task = current_task()
    if any(r["task_id"] == task.task_id for r in RECEIPTS):
        return  # SQS delivers at least once: the task id tells a redelivery apart
    RECEIPTS.append({"task_id": task.task_id, "loan_id": loan.id, "reader": loan.reader,
                     "due": loan.due.isoformat(), "lent_by": loan.lent_by})
    log.info("receipt for loan %s sent to %s (due %s)", loan.id, loan.reader, loan.due)
