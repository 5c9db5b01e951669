"""`x-bind-server: chalicelib.api.do_thing` -> the function, checked against its operation.

Binding rules, in order:
1. `x-bind-server: module.function` on the operation (PyMacaron's extension);
2. an `operationId` that is a dotted import path (`chalicelib.pets.list_pets`);
3. a plain `operationId` found in the module `chalicelib.<api>` (the spec file's stem), as
   the function of that name or its snake_case form (`listPets` -> `list_pets`);
4. otherwise (or when a dotted operationId does not import) the operation is served as
   501 NOT_IMPLEMENTED, so foreign specs load unchanged.
Rule 1 is explicit: a target that does not import is an error at load.
Only the service's own code is bound (own_code.py): an operationId naming the standard library
or a dependency (`os.getcwd`) is served as 501 with a warning; an x-bind-server doing so is an
error. An operation the compiler could not route (`unserved`: a duplicate, a path key with
'?') answers 501 saying why, unless it is bound: then it is an error.
"""
from __future__ import annotations

import importlib
import re
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import NotImplementedYetError, SpecError
from ..identifiers import snake_case
from .compiled_types import CompiledOperation
from .own_code import foreign, module_of

# PyMacaron's own bindings, served by pym-lambda so that its specs load unchanged.
ALIASES = {f"pymacaron.api.{name}": f"pym_lambda.compat.pymacaron.{name}" for name in (
    "do_ping", "do_version", "do_crash_internal_exception", "do_crash_pymacaron_exception",
    "do_crash_report_error", "do_crash_slow_call", "do_crash_return_error_instance",
    "do_crash_return_fatal_error_response", "do_crash_return_non_fatal_error_response",
    "do_crash_return_error_model")}

# What the framework serves itself: /ping and /version, PyMacaron's handlers.
FRAMEWORK_TARGETS = ("pym_lambda.runtime.builtins.", "pym_lambda.compat.")


def import_target(target: str) -> Any:
    """'pkg.module.attr' (or 'pkg.module:attr') -> the object; ImportError naming what failed."""
    target = ALIASES.get(target, target)
    if ":" in target:
        module_name, _, attr_path = target.partition(":")
    else:
        module_name, _, attr_path = target.rpartition(".")
    if not module_name or not attr_path:
        raise ImportError(f"{target!r} is not a 'module.function' path")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ImportError(f"module {module_name!r} not found") from None
        raise
    obj: Any = module
    for attr in attr_path.split("."):
        if not hasattr(obj, attr):
            raise ImportError(f"module {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, attr)
    return obj


def _module_name(api: str) -> str:
    return "chalicelib." + re.sub(r"\W", "_", api)


def find_binding(op: CompiledOperation, modules: Optional[Dict[str, Any]] = None
                 ) -> Tuple[Optional[str], bool]:
    """(import path, explicit?) for an operation; (None, False) when it is unbound. `modules`
    remembers each chalicelib.<api> module looked for (None: not there), so that a spec of
    a thousand unbound operations looks for a missing module once, not a thousand times."""
    if op.get("bind"):
        return str(op["bind"]), True
    op_id = op.get("operation_id") or ""
    if "." in op_id and re.fullmatch(r"[\w.]+", op_id):
        return op_id, False  # lenient: foreign specs use dotted ids that are not import paths
    if not op_id:
        return None, False
    module_name = _module_name(op["api"])
    if modules is not None and module_name in modules:
        module = modules[module_name]
    else:
        module = _api_module(module_name)
        if modules is not None:
            modules[module_name] = module
    if module is None:
        return None, False
    for candidate in (op_id, snake_case(op_id)):
        func = getattr(module, candidate, None) if candidate.isidentifier() else None
        # `from os import getcwd` in the module does not make getcwd the service's code
        if callable(func) and not foreign(str(getattr(func, "__module__", "") or "")):
            return f"{module_name}.{candidate}", False
    return None, False


def _api_module(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise


def _not_implemented(op_id: str, why: str = "is not implemented") -> Callable[..., Any]:
    def not_implemented(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedYetError(f"operation {op_id} {why}")
    return not_implemented


# A parameter as check_signature sees it: (name, kind, has a default).
POSITIONAL_ONLY, POSITIONAL, VAR_POSITIONAL, KEYWORD_ONLY, VAR_KEYWORD = range(5)
Param = Tuple[str, int, bool]


def _code_parameters(func: types.FunctionType) -> List[Param]:
    # A plain function's parameters read from its code object: what inspect.signature says
    # for it, without importing inspect (3 ms of every cold start).
    code = func.__code__
    names = code.co_varnames
    count, posonly, kwonly = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    first_default = count - len(func.__defaults__ or ())
    params = [(names[i], POSITIONAL_ONLY if i < posonly else POSITIONAL, i >= first_default)
              for i in range(count)]
    rest = count + kwonly  # the code object lists *args and **kwargs after keyword-only ones
    if code.co_flags & 0x04:  # CO_VARARGS
        params.append((names[rest], VAR_POSITIONAL, False))
        rest += 1
    kwdefaults = func.__kwdefaults__ or {}
    params += [(n, KEYWORD_ONLY, n in kwdefaults) for n in names[count:count + kwonly]]
    if code.co_flags & 0x08:  # CO_VARKEYWORDS
        params.append((names[rest], VAR_KEYWORD, False))
    return params


def _parameters(func: Callable[..., Any]) -> Optional[List[Param]]:
    """The parameters of func in the order inspect.signature gives, None if it cannot tell."""
    if (type(func) is types.FunctionType and not hasattr(func, "__wrapped__")
            and not hasattr(func, "__signature__")):
        return _code_parameters(func)
    import inspect  # wrapped functions, callables, partials: let inspect follow them

    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # builtins and some C callables: cannot tell, let them be
    return [(p.name, int(p.kind), p.default is not p.empty) for p in sig.parameters.values()]


def check_signature(func: Callable[..., Any], wants_body: bool, kwargs: List[str]
                    ) -> Optional[str]:
    """None if func can be called as the pipeline calls it, else what is wrong."""
    params = _parameters(func)
    if params is None:
        return None
    has_var_kw = any(kind == VAR_KEYWORD for _, kind, _ in params)
    positional = [(name, kind) for name, kind, _ in params
                  if kind in (POSITIONAL_ONLY, POSITIONAL, VAR_POSITIONAL)]
    if wants_body and not positional:
        return "the function takes no positional argument for the request body"
    named = {name for name, kind, _ in params if kind in (POSITIONAL, KEYWORD_ONLY)}
    if wants_body and positional and positional[0][1] != VAR_POSITIONAL:
        named.discard(positional[0][0])
    missing = [k for k in kwargs if k not in named and not has_var_kw]
    if missing:
        return f"the function does not accept the argument(s) {', '.join(missing)}"
    declared = set(kwargs) | ({positional[0][0]} if wants_body and positional else set())
    required = [name for name, kind, has_default in params if not has_default and
                kind in (POSITIONAL, KEYWORD_ONLY) and name not in declared]
    if required:
        return f"the function requires argument(s) the spec does not declare: {', '.join(required)}"
    return None


def bind_operation(op: CompiledOperation, file: str, warnings: Optional[List[str]] = None,
                   modules: Optional[Dict[str, Any]] = None
                   ) -> Tuple[Callable[..., Any], Optional[str]]:
    """The function serving `op` (decorators applied) and its import path (None if unbound);
    what deserves a warning (an operationId naming foreign code) is appended to `warnings`."""
    def fail(message: str) -> SpecError:
        return SpecError(message, spec_file=file, path=op["path"], method=op["method"],
                         operation=op["id"])

    unserved = op.get("unserved")
    unbound = _not_implemented(op["id"], f"cannot be served: {unserved}" if unserved
                               else "is not implemented")
    try:
        target, explicit = find_binding(op, modules)
    except ImportError as exc:
        raise fail(f"cannot import the module for operationId {op['operation_id']!r}: "
                   f"{exc}") from None
    if target is None:
        return unbound, None
    label = "x-bind-server" if op.get("bind") else "operationId"
    served_by_us = target in ALIASES or target.startswith(FRAMEWORK_TARGETS)
    other = None if served_by_us else foreign(module_of(target))
    if other:
        if explicit:
            raise fail(f"{label} {target!r} is {other}, not the service's own code "
                       f"(chalicelib/)")
        if warnings is not None:
            warnings.append(str(fail(f"{label} {target!r} is {other}, not the service's own "
                                     f"code: not bound (501 NOT_IMPLEMENTED)")))
        return unbound, None
    try:
        func = import_target(target)
    except ImportError as exc:
        if not explicit:
            return unbound, None
        raise fail(f"{label} {target!r} cannot be bound: {exc}") from None
    except Exception as exc:  # the user's module raised while importing
        raise fail(f"{label} {target!r}: importing it raised "
                   f"{type(exc).__name__}: {exc}") from None
    if not callable(func):
        raise fail(f"{label} {target!r} is not a function")
    if unserved:
        raise fail(f"{label} {target!r} binds an operation that cannot be served: {unserved}")
    body = op.get("body")
    form_fields = (body.get("form_fields") or []) if body else []
    wants_body = bool(body) and not form_fields
    kwargs = [p["pyname"] for p in op["params"]] + [f["pyname"] for f in form_fields]
    problem = check_signature(func, wants_body, kwargs)
    if problem:
        raise fail(f"{label} {target!r}: {problem}")
    for decorator_path in op.get("decorate") or []:
        func = apply_decorator(func, decorator_path, fail)
    return func, target


# Decorators that the framework provides itself (PyMacaron's names included): applied as steps
# of the pipeline, not as wrappers.
BUILTIN_DECORATORS = {"pymacaron.auth.requires_auth"}


def apply_decorator(func: Callable[..., Any], path: str, fail: Callable[[str], SpecError]
                    ) -> Callable[..., Any]:
    if path in BUILTIN_DECORATORS:
        return func
    try:
        decorator = import_target(path)
    except ImportError as exc:
        raise fail(f"x-decorate-server {path!r} cannot be imported: {exc}") from None
    decorated: Callable[..., Any] = decorator(func)
    return decorated
