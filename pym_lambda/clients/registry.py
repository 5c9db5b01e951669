"""Compiled specs + base URLs -> typed clients: ``clients.<api>.<operation>(**params)``.

An API becomes a client when its spec is marked with a root-level ``x-bind-client: <name>``
(read at build time by pym_lambda.build.openapi.client_markers: the compiled form then carries
``bind_client``) or when the service config's ``clients:`` mapping names it
(``{api_name: base_url}``). Its base URL is the service root,
without the spec's base path (the operations' paths already carry it): the config's entry,
by client name or api name, else the spec's own server origin.

Everything that can fail is checked when the clients are loaded (base URLs, decorators,
operation names, the call options); a problem raises SpecErrors listing each one, at
start-up. A client's operations, model classes and transport are built at its first use,
importing the encoders, decoders and transport then; the HTTP session (and requests itself)
is only created at the first call.
"""
from __future__ import annotations

import functools
import importlib
import threading
import types
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
)
from urllib.parse import urlsplit

from ..config.keys import CLIENT_TOKEN_MODES
from ..errors import SpecError, SpecErrors
from ..identifiers import snake_case, underscore_runs
from ..runtime.compiled_types import CompiledApi, CompiledDocument, CompiledOperation
from ..runtime.service import Service, current_service
from .policy import CallPolicy, TimeoutArg

if TYPE_CHECKING:
    from .operation import ClientOperation
    from .transport import Transport

# What load_clients checked of one operation, to build it from: op, name, decorators.
PlannedOperation = Tuple[CompiledOperation, str, List[Callable[[Any], Any]]]


def operation_name(op: CompiledOperation) -> str:
    """The operationId (its last part when dotted), else one made of method and path."""
    op_id = str(op.get("operation_id") or "")
    if op_id:
        op_id = op_id.rsplit(".", 1)[-1]
    name = underscore_runs(op_id or op["id"]).strip("_")
    return name if name and not name[0].isdigit() else f"op_{name}"


def check_base_url(url: Any) -> Optional[str]:
    if not isinstance(url, str):
        return f"the base URL must be a string, not {type(url).__name__}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the base URL {url!r} is not an http(s) URL"
    if parts.query or parts.fragment:
        return f"the base URL {url!r} may not have a query or fragment"
    return None


TOKEN_MODES = CLIENT_TOKEN_MODES  # client_tokens.<name>: "https" (the default), always, never


def forwards_token(base_url: str, mode: str = "https") -> bool:
    """Whether calls to ``base_url`` carry the caller's token: "always", "never", or "https":
    only over TLS, or to a loopback address, which no network carries (local development,
    a sidecar)."""
    if mode != "https":
        return mode == "always"
    parts = urlsplit(base_url)
    return parts.scheme == "https" or _is_loopback(parts.hostname or "")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_decorator(dotted: Any) -> Callable[[Any], Any]:
    if not isinstance(dotted, str) or "." not in dotted:
        raise ValueError(f"x-decorate-request {dotted!r} is not a dotted path "
                         f"(module.function)")
    module, _, attr = dotted.rpartition(".")
    try:
        target = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"x-decorate-request {dotted!r} cannot be imported: {exc}") from None
    if not callable(target):
        raise ValueError(f"x-decorate-request {dotted!r} is not callable")
    return target  # type: ignore[no-any-return]


class _Built:
    """What a client builds at its first use."""

    __slots__ = ("operations", "models", "transport")

    def __init__(self, operations: Dict[str, ClientOperation], models: types.SimpleNamespace,
                 transport: Transport) -> None:
        self.operations = operations
        self.models = models
        self.transport = transport


class ApiClient:
    """The client of one API: one attribute per operation (operationId and snake_case alias).

    Also ``name``, ``base_url``, ``models`` (the API's model classes, to build bodies),
    ``operations`` (name -> operation; an operation whose name is one of these attributes is
    reachable there), ``transport`` and ``close()``. The operations, models and transport are
    built at the first use of any of them (``build``): load_clients checked what could fail.
    """

    def __init__(self, name: str, base_url: str, names: Iterable[str],
                 build: Callable[[], _Built]) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._names = frozenset(names)  # the operations' attribute names, known before building
        self._build = build
        self._built: Optional[_Built] = None
        self._lock = threading.Lock()

    def _parts(self) -> _Built:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    @property
    def operations(self) -> Dict[str, ClientOperation]:
        return self._parts().operations

    @property
    def models(self) -> types.SimpleNamespace:
        return self._parts().models

    @property
    def transport(self) -> Transport:
        return self._parts().transport

    def __getattr__(self, name: str) -> ClientOperation:
        names = self.__dict__.get("_names") or frozenset()
        if name in names:
            return self.operations[name]
        raise AttributeError(f"client {self.__dict__.get('name')!r} has no operation {name!r}; "
                             f"it has: {', '.join(sorted(names)) or 'none'}")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | self._names)

    def __repr__(self) -> str:
        return f"<client {self.name} at {self.base_url}: {len(self._names)} operation names>"

    def close(self) -> None:
        if self._built is not None:
            self._built.transport.close()


class Clients:
    """The loaded clients by name: ``clients.catalog.listBooks(...)`` or ``clients["catalog"]``."""

    def __init__(self, by_name: Optional[Mapping[str, ApiClient]] = None) -> None:
        self._by_name: Dict[str, ApiClient] = dict(by_name or {})

    def __getattr__(self, name: str) -> ApiClient:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._by_name[name]
        except KeyError:
            loaded = ", ".join(sorted(self._by_name)) or "none"
            raise AttributeError(
                f"no client {name!r} (loaded: {loaded}); a client comes from a spec marked "
                f"'x-bind-client: {name}' or listed under 'clients:' in pym-config.yaml"
            ) from None

    def __getitem__(self, name: str) -> ApiClient:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._by_name))

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"<clients: {', '.join(self) or 'none'}>"

    def replace(self, other: Clients) -> None:
        """Take the clients of ``other`` (the runtime does, at app creation); close the old."""
        old, self._by_name = self._by_name, dict(other._by_name)
        for client in old.values():
            if client not in self._by_name.values():
                client.close()

    def close(self) -> None:
        for client in self._by_name.values():
            client.close()

    def clear(self) -> None:
        self.close()
        self._by_name = {}


def _config_error(message: str, **where: Any) -> SpecError:
    from .errors import ClientConfigError  # only when there is a problem to report

    return ClientConfigError(message, **where)


def _client_apis(compiled: CompiledDocument, base_urls: Mapping[str, str],
                 problems: List[SpecError]) -> Dict[str, CompiledApi]:
    """Client name -> compiled api, for every api marked as a client or configured."""
    selected: Dict[str, CompiledApi] = {}
    for api in compiled.get("apis") or []:
        name = api.get("bind_client") or api["name"]
        if not (api.get("bind_client") or api["name"] in base_urls):
            continue
        if name in selected:
            problems.append(_config_error(
                f"client name {name!r} is also taken by {selected[name]['file']}",
                spec_file=api.get("file", "")))
            continue
        selected[name] = api
    known = set(selected) | {a["name"] for a in selected.values()}
    for key in base_urls:
        if key not in known:
            names = sorted(a["name"] for a in compiled.get("apis") or [])
            problems.append(_config_error(
                f"clients.{key}: no spec named {key!r} (specs: {', '.join(names) or 'none'})"))
    return selected


def _plan_operations(api: CompiledApi, problems: List[SpecError]
                     ) -> Tuple[List[PlannedOperation], Dict[str, str]]:
    """The operations to build, and attribute name -> operation name (aliases included)."""
    planned: List[PlannedOperation] = []
    names: Dict[str, str] = {}
    aliases: List[Tuple[Any, str]] = []
    for op in api.get("operations") or []:
        op_name = operation_name(op)
        where = {"spec_file": api.get("file", ""), "path": op["path"], "method": op["method"],
                 "operation": op_name}
        try:
            decorators = [resolve_decorator(d) for d in _as_list(op.get("decorate_request"))]
        except ValueError as exc:
            problems.append(_config_error(str(exc), **where))
            continue
        if op_name in names:
            problems.append(_config_error(f"two operations are named {op_name!r}", **where))
            continue
        names[op_name] = op_name
        planned.append((op, op_name, decorators))
        aliases += [(snake_case(op_name), op_name), (op.get("bind_client"), op_name)]
    for alias, op_name in aliases:
        if isinstance(alias, str) and alias.isidentifier():
            names.setdefault(alias, op_name)  # a real operationId wins over an alias
    return planned, names


def _build_client(name: str, api: CompiledApi, base_url: str, policy: CallPolicy,
                  session_factory: Optional[Callable[[], Any]],
                  planned: List[PlannedOperation], names: Dict[str, str],
                  forward_token: bool = True) -> _Built:
    """A client's operations, models and transport, at its first use."""
    from .operation import ClientApi, ClientOperation
    from .transport import Transport

    client_api = ClientApi(api)
    transport = Transport(name, base_url, policy, session_factory)
    built = {op_name: ClientOperation(op, client_api, transport, f"{name}.{op_name}", decorators,
                                      forward_token=forward_token)
             for op, op_name, decorators in planned}
    return _Built({attr: built[op_name] for attr, op_name in names.items()},
                  types.SimpleNamespace(**client_api.models.classes), transport)


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_clients(compiled: CompiledDocument, base_urls: Mapping[str, str], *,
                 timeout: TimeoutArg = (3.05, 10), retries: int = 2, backoff: float = 0.2,
                 session_factory: Optional[Callable[[], Any]] = None,
                 total_timeout: Optional[float] = None,
                 client_tokens: Optional[Mapping[str, str]] = None) -> Clients:
    """The clients of the compiled specs marked as clients or named in ``base_urls``.

    ``client_tokens`` says, per client name, where the caller's token goes (forwards_token():
    "https" by default, "always" or "never").

    ``timeout`` is (connect, read) seconds (or one number for both), ``retries`` the extra
    attempts, ``backoff`` the first pause (doubled each time), ``total_timeout`` an optional
    cap on a whole call; see transport.py for which failures are retried. ``session_factory``
    makes each client's requests.Session (tests hand in their own).
    """
    policy = CallPolicy.make(timeout, retries, backoff, total_timeout)
    problems: List[SpecError] = []
    loaded: Dict[str, ApiClient] = {}
    client_tokens = client_tokens or {}
    selected = _client_apis(compiled, base_urls, problems)
    for key, mode in client_tokens.items():
        if key not in selected:
            problems.append(_config_error(f"client_tokens.{key}: no client named {key!r} "
                                          f"(clients: {', '.join(sorted(selected)) or 'none'})"))
        elif mode not in TOKEN_MODES:
            problems.append(_config_error(f"client_tokens.{key}: expected one of "
                                          f"{', '.join(TOKEN_MODES)}, got {mode!r}"))
    for name, api in selected.items():
        url = base_urls.get(name) or base_urls.get(api["name"]) or api.get("client_url")
        if not url:
            problems.append(_config_error(
                f"client {name!r} has no base URL: set clients.{name} in pym-config.yaml",
                spec_file=api.get("file", "")))
            continue
        problem = check_base_url(url)
        if problem:
            problems.append(_config_error(f"clients.{name}: {problem}",
                                          spec_file=api.get("file", "")))
            continue
        planned, names = _plan_operations(api, problems)
        forward = forwards_token(url, client_tokens.get(name, "https"))
        loaded[name] = ApiClient(name, url, list(names), functools.partial(
            _build_client, name, api, url, policy, session_factory, planned, names, forward))
    if problems:
        raise SpecErrors(problems)
    return Clients(loaded)


class CurrentClients(Clients):
    """``pym_lambda.clients.clients``: the clients of the current service
    (runtime/service.py), the request's or task's app; outside one, the app create_app made
    in this context."""

    def __init__(self) -> None:  # no state of its own
        pass

    @property
    def _by_name(self) -> Dict[str, ApiClient]:
        return _current_clients()._by_name

    @_by_name.setter
    def _by_name(self, value: Dict[str, ApiClient]) -> None:
        _current_clients()._by_name = value


def _current_clients() -> Clients:
    return service_clients(current_service())


def service_clients(service: Service) -> Clients:
    """The service's clients (none until install_clients() or create_app load some)."""
    if service.clients is None:
        service.clients = Clients()
    return service.clients


clients = CurrentClients()  # the current service's: install_clients() fills them


def install_clients(compiled: CompiledDocument, base_urls: Mapping[str, str],
                    **options: Any) -> Clients:
    """Load the clients (load_clients' options) into the current service's ``clients``."""
    clients.replace(load_clients(compiled, base_urls, **options))
    return clients
