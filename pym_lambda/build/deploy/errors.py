"""The one error of the deploy commands: a step, a one-line cause, and what exists now."""
from __future__ import annotations

import re
from typing import Callable, List, Sequence, Tuple, TypeVar

from ...errors import PymLambdaError

T = TypeVar("T")


class DeployError(PymLambdaError):
    """A deploy step that cannot go on. `existing` lists what exists in AWS at that point, so
    that a half-deployed stage is never left unreported."""

    def __init__(self, step: str, message: str, existing: Sequence[str] = (),
                 hint: str = "") -> None:
        self.step = step
        self.message = message
        self.existing: Tuple[str, ...] = tuple(existing)
        self.hint = hint
        super().__init__(f"{step}: {message}")


def one_line(exc: BaseException) -> str:
    """An exception as one readable line: AWS's error code and message, never a traceback."""
    original = getattr(exc, "original_error", None)  # ChaliceDeploymentError wraps the cause
    if isinstance(original, BaseException):
        exc = original
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        operation = getattr(exc, "operation_name", "")
        text = _squeeze(f"{error.get('Code', 'Error')}: {error.get('Message', '')}")
        return f"{operation}: {text}" if operation else text
    text = _squeeze(str(exc))
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _squeeze(text: str, limit: int = 300) -> str:
    # An error page (HTML) or a multi-line message, as one bounded line.
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


class StepRunner:
    """Runs named steps so that any failure becomes a DeployError naming the step, with what
    exists at that point (existing_lines(), per target)."""

    def existing_lines(self) -> List[str]:
        return []

    def _existing(self) -> List[str]:
        try:
            return self.existing_lines()
        except Exception as exc:
            return [f"(could not list the stage's resources: {one_line(exc)})"]

    def guarded(self, name: str, action: Callable[[], T]) -> T:
        from ...tasks.errors import QueueConfigConflict
        from ..tasks.settling import StillSettling

        try:
            return action()
        except DeployError as exc:
            if not exc.existing:
                exc.existing = tuple(self._existing())
            raise
        except QueueConfigConflict as exc:
            raise DeployError(name, "queue configuration conflict: " + "; ".join(exc.problems),
                              self._existing(), hint="change or delete the queue by hand, or "
                              "name another one (tasks.queues in pym-config.yaml)") from None
        except StillSettling as exc:  # AWS's own words are in the message
            raise DeployError(name, str(exc), self._existing(), hint=exc.hint) from None
        except Exception as exc:
            raise DeployError(name, one_line(exc), self._existing()) from None
