"""The service under test: where it is, its stage's environment, its app module, its tokens."""
from __future__ import annotations

import importlib
import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from ..config.environment import runtime_environment
from ..errors import PymLambdaError

TOKEN_VARIABLE = "PYM_TEST_TOKEN"  # a ready-made token (`pym-lambda test --token-user`)
DEFAULT_TEST_USER = "pym-test-user"


class ProjectError(PymLambdaError):
    """The project can't be found or imported as configured."""


@dataclass(frozen=True)
class ServiceProject:
    root: Path
    stage: str = "dev"
    app_module: str = "app"

    def stage_variables(self) -> Dict[str, str]:
        """The `environment_variables` of .chalice/config.json for the stage (as chalice
        applies them: the stage's over the top-level ones)."""
        try:
            config = json.loads((self.root / ".chalice" / "config.json").read_text())
        except (OSError, ValueError):
            return {}
        stage = config.get("stages", {}).get(self.stage, {})
        return {name: str(value) for name, value in {
            **config.get("environment_variables", {}),
            **stage.get("environment_variables", {})}.items()}

    def apply_stage_environment(self) -> None:
        """Set the stage's variables the environment lacks (a variable already set wins): the
        app reads some at import (JWT_SECRET, PYM_STAGE), as under `chalice local`."""
        for name, value in self.stage_variables().items():
            os.environ.setdefault(name, value)

    def _check_not_shadowed(self, name: str) -> None:
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None) or next(
            iter(getattr(module, "__path__", []) or []), None)
        if module is not None and where and self.root not in Path(where).resolve().parents:
            raise ProjectError(f"a module {name!r} from {where} is already imported: one "
                               f"pytest run tests one service ({self.root})")

    def import_app_module(self) -> types.ModuleType:
        """The project's app module (app.py), imported with the stage's environment."""
        if not (self.root / f"{self.app_module}.py").is_file():
            raise ProjectError(f"no {self.app_module}.py in {self.root}: point pytest at the "
                               "service with --pym-project or the pym_project ini option")
        for name in (self.app_module, "chalicelib"):
            self._check_not_shadowed(name)
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))  # x-bind-server imports chalicelib from here
        self.apply_stage_environment()
        return importlib.import_module(self.app_module)

    def settings(self) -> Any:
        """The service's settings for the stage, read as the app reads them."""
        from ..config import load_settings

        environ = {**self.stage_variables(), **os.environ}
        return load_settings(self.root, stage=self.stage, environ=environ)

    def token(self, user_id: Optional[str] = None, *, expires_in: Optional[int] = None,
              **claims: Any) -> str:
        """A JWT signed with the stage's key; without a user, PYM_TEST_TOKEN when it is set."""
        from ..auth import generate_token

        token = runtime_environment().test_token
        if user_id is None and token and not claims:
            return token
        return generate_token(user_id or DEFAULT_TEST_USER, data=claims or None,
                              expires_in=expires_in, settings=self.settings())


@dataclass(frozen=True)
class AppGlobals:
    """The per-process settings an app installs when it is created (JWT keys, task settings).

    A suite that creates several apps leaves the last one's installed; the plugin puts its
    app's back for each test that calls it, and what was there after."""

    jwt: Any
    tasks: Any

    @classmethod
    def capture(cls) -> AppGlobals:
        from ..auth import get_settings
        from ..tasks import get_task_settings

        try:
            jwt = get_settings()
        except RuntimeError:  # no app installed any
            jwt = None
        return cls(jwt, get_task_settings())

    def apply(self) -> None:
        from ..auth import set_settings
        from ..tasks import configure_tasks

        set_settings(self.jwt)
        configure_tasks(self.tasks)

