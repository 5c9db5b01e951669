"""`chalice local`'s reloader, made to watch the service's own code only.

Chalice's reloader (chalice/cli/reloader.py) runs the server in a worker process whose file
watcher restarts it when any file under the project changes, appears or goes. Without
watchdog installed it is chalice/cli/filewatch/stat.py's StatFileWatcher, which walks the
whole tree every second. Two things made that hurt:

- the first `chalice local` on a clean tree writes the build outputs (chalicelib/pym_*) and
  the __pycache__ of app.py while the watcher starts: the server restarted a second after it
  first answered, losing what it held in memory;
- a virtualenv inside the project (the README puts `.venv` there) is ~24k files stat()ed every
  second: ~13% of a core, idle.

Chalice has no setting for what it watches, so `ignore_build_outputs()` narrows its watcher in
place. It is called only in a reloader worker (CHALICE_WORKER set: never on Lambda), before
the build outputs are written; the watcher polls through the patched methods from its next pass.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, Set

# Never code the server runs from: caches, VCS data and tool state.
IGNORED_DIRS = frozenset({"__pycache__", "node_modules", "vendor-build"})
IGNORED_SUFFIXES = (".pyc", ".pyo", ".tmp", ".swp", "~")
BUILD_PREFIX = "pym_"  # chalicelib/pym_compiled.json, pym_schemas.json, pym_validators.bin...
WATCHED_DOT_DIRS = frozenset({".chalice"})  # its config.json sets the stage's environment


def is_worker() -> bool:
    """True in the process chalice local's reloader restarts."""
    return bool(os.environ.get("CHALICE_WORKER"))


def _ignored_dir(parent: str, name: str) -> bool:
    if name in IGNORED_DIRS or (name.startswith(".") and name not in WATCHED_DOT_DIRS):
        return True  # .venv, .git, .mypy_cache, tests/.external...
    if os.path.basename(parent) in WATCHED_DOT_DIRS:
        return True  # .chalice/deployments, deployed, venv: written by chalice package/deploy
    if name.startswith(BUILD_PREFIX) and os.path.basename(parent) == "chalicelib":
        return True  # chalicelib/pym_apis/
    # a virtualenv under any name (venv/, env/): it holds pyvenv.cfg
    return os.path.isfile(os.path.join(parent, name, "pyvenv.cfg"))


def _ignored_file(parent: str, name: str) -> bool:
    return name.endswith(IGNORED_SUFFIXES) or (
        name.startswith(BUILD_PREFIX) and os.path.basename(parent) == "chalicelib")


def ignored(root: str, path: str) -> bool:
    """Whether a change of `path` (a file under `root`) leaves the server alone: the same
    rule as watched_files(), for one path (watchdog's events)."""
    relative = os.path.relpath(path, root)
    if relative.startswith(os.pardir + os.sep):
        return True  # not the project's
    *dirs, name = relative.split(os.sep)
    parent = root
    for directory in dirs:
        if _ignored_dir(parent, directory):
            return True
        parent = os.path.join(parent, directory)
    return _ignored_file(parent, name)


def watched_files(root: str) -> Iterator[str]:
    """The files whose change should restart the server: the tree minus what is ignored."""
    for parent, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _ignored_dir(parent, d)]
        for name in files:
            if not _ignored_file(parent, name):
                yield os.path.join(parent, name)


def _mtimes(root: str) -> Dict[str, float]:
    found: Dict[str, float] = {}
    for path in watched_files(root):
        try:
            found[path] = os.stat(path).st_mtime
        except OSError:
            pass  # gone between the listing and the stat
    return found


def ignore_build_outputs() -> bool:
    """Narrow chalice local's watcher to watched_files(); False when chalice has none we know
    (another version: it then watches as before)."""
    try:
        from chalice.cli.filewatch.stat import StatFileWatcher
    except ImportError:
        return False
    if getattr(StatFileWatcher, "_pym_narrowed", False):
        return True
    original_poll: Callable[..., None] = StatFileWatcher._single_pass_poll
    if not hasattr(StatFileWatcher, "_recursive_walk_files"):
        return False

    def seed(self: Any, root_dir: str) -> None:
        self._mtime_cache = _mtimes(root_dir)

    def walk(self: Any, root_dir: str) -> Iterator[str]:
        return watched_files(root_dir)

    def single_pass_poll(self: Any, root_dir: str, callback: Callable[[], None]) -> None:
        # A seed taken before the patch holds ignored files: their absence from the next
        # pass would read as "files removed". Seed again, narrowed, once.
        if not getattr(self, "_pym_seeded", False):
            seed(self, root_dir)
            self._pym_seeded = True
            return
        original_poll(self, root_dir, callback)

    for name, value in (("_seed_mtime_cache", seed), ("_recursive_walk_files", walk),
                        ("_single_pass_poll", single_pass_poll), ("_pym_narrowed", True)):
        setattr(StatFileWatcher, name, value)
    _narrow_watchdog()
    return True


def _narrow_watchdog() -> None:
    """With watchdog installed chalice uses it instead: the same filter on its events, and
    events that change nothing (a file opened or closed unwritten) ignored."""
    try:
        from chalice.cli.filewatch.eventbased import WatchdogRestarter
    except ImportError:
        return  # watchdog is not installed
    original: Callable[[Any, Any], None] = WatchdogRestarter.on_any_event
    changes: Set[str] = {"modified", "created", "deleted", "moved", "closed"}

    def on_any_event(self: Any, event: Any) -> None:
        if getattr(event, "event_type", "modified") not in changes:
            return
        path = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
        if ignored(os.getcwd(), os.path.abspath(path)):  # chalice local runs in the project
            return
        original(self, event)

    setattr(WatchdogRestarter, "on_any_event", on_any_event)
