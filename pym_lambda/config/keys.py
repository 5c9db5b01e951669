"""The settings classes: every key pym-config.yaml may set, its type and its default.

loader.py reads the file and the environment into them (pym_lambda.config re-exports them). A
field is an annotated class attribute: the annotation is its type, which the loader checks
(see schema_of() at the end), the value its default, whose only home is here. Records (named
tuples to the type checker), not dataclasses, for a cheaper cold start (see pym_lambda.records).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple, Union

from ..errors import PymLambdaError
from ..records import EMPTY_MAP, Record, field_annotation, repr_hiding

if TYPE_CHECKING:
    from ..secret_store import SecretValue

# A setting that may be a secret read from AWS at first use (pym_lambda.secret_store): its text
# is `reveal(value)`. SecretMap is `settings.secrets`: env_secrets and the `secrets:` section.
SecretText = Union[str, "SecretValue"]
SecretMap = Mapping[str, str]

DEFAULT_STAGE = "dev"
# What some keys are limited to; the loader (pym_lambda.config) enforces it.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOCS_UIS = ("redoc", "swagger-ui")
TRACE_EXPORTERS = ("xray", "memory")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
                  "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA")
# clients' token forwarding (client_tokens.<name>): "https" forwards the caller's token only to
# an https or loopback base URL, "always" to this client whatever its scheme, "never" not at all.
CLIENT_TOKEN_MODES = ("https", "always", "never")
MINIMUMS: Dict[Tuple[str, ...], int] = {
    ("jwt", "leeway"): 0, ("jwt", "expires_in"): 1, ("cors", "max_age"): 0,
    ("limits", "max_body_bytes"): 1, ("limits", "max_json_depth"): 1,
    ("limits", "max_header_bytes"): 256, ("limits", "max_query_params"): 1,
    ("limits", "max_headers"): 1, ("limits", "max_cookies"): 1, ("limits", "max_form_fields"): 1,
    ("tasks", "max_receive_count"): 1, ("alarms", "error_rate_percent"): 1,
    ("alarms", "oldest_message_seconds"): 60, ("alarms", "period_seconds"): 60}
MAXIMUMS: Dict[Tuple[str, ...], int] = {("tasks", "max_receive_count"): 1000,  # SQS's own limit
                                        ("alarms", "error_rate_percent"): 100}


class ConfigError(PymLambdaError):
    """A configuration that cannot be used; raised at start-up, never turned into HTTP.

    ``problems``: every problem found, one line each (the loader reports them all at once);
    the message is those lines.
    """

    def __init__(self, *problems: str) -> None:
        self.problems: Tuple[str, ...] = problems
        super().__init__("\n".join(problems))


# Fields left out of the reprs: secrets, and what may hold them.
_JWT_HIDDEN = frozenset({"secret", "public_key", "private_key"})
_SETTINGS_HIDDEN = frozenset({"extra", "secrets", "raw"})
_TASKS_HIDDEN = frozenset({"signing_key"})


class JwtSettings(Record):
    """The ``jwt:`` section: how tokens are verified and signed."""

    # These three may be {ssm: ...} / {secretsmanager: ...}: read with reveal() at first use.
    secret: Optional[SecretText] = None  # HMAC key, for HS*
    public_key: Optional[SecretText] = None  # PEM, for RS*/PS*/ES*/EdDSA
    public_key_file: Optional[str] = None
    private_key: Optional[SecretText] = None  # to sign RS*/PS*/ES* tokens
    private_key_file: Optional[str] = None
    jwks_url: Optional[str] = None
    jwks_file: Optional[str] = None
    key_id: Optional[str] = None  # ``kid`` header put on the tokens this service signs
    algorithms: Tuple[str, ...] = ("HS256",)
    audience: Tuple[str, ...] = ()  # any one of them in the token's ``aud`` is enough
    issuer: Optional[str] = None
    leeway: int = 0
    cookie: bool = False  # also accept a ``token`` cookie, as PyMacaron did
    expires_in: int = 86400
    required_claims: Tuple[str, ...] = ()
    require_exp: bool = True  # a token without ``exp`` would be valid forever

    def __repr__(self) -> str:
        return repr_hiding(self, _JWT_HIDDEN)


class CorsSettings(Record):
    """The ``cors:`` section."""

    enabled: bool = False
    allow_origins: Tuple[str, ...] = ("*",)
    allow_headers: Tuple[str, ...] = ()
    expose_headers: Tuple[str, ...] = ()
    max_age: int = 600
    allow_credentials: bool = False


class LimitSettings(Record):
    """The ``limits:`` section: request size and strictness."""

    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 64
    max_header_bytes: int = 16384  # all request headers together (API Gateway allows 10 KiB+)
    # How many parameters a request may carry (runtime/request_caps.py, body.py): what the
    # runtime does with each is then bounded by these, not by the client.
    max_query_params: int = 256  # values, each value of a repeated name counted
    max_headers: int = 100  # values, each value of a repeated header counted
    max_cookies: int = 180  # what Chrome keeps per domain
    max_form_fields: int = 1000  # fields of a form or multipart body
    # PyMacaron ignored query parameters and body fields the spec does not declare; with
    # strict: true they are a 400 naming them.
    strict: bool = False


class TasksConfig(Record):
    """The `tasks:` section; runtime.app hands it to pym_lambda.tasks.configure_tasks."""

    inline: bool = False  # run .delay() synchronously (development without SQS)
    queues: Mapping[str, str] = EMPTY_MAP  # logical queue -> physical SQS name
    lambda_timeout_seconds: int = 60  # of the worker Lambda; visibility timeout is 6x this
    backoff_base_seconds: int = 0  # exponential backoff after a failure (0: SQS's own timing)
    backoff_max_seconds: int = 900
    partial_batch_responses: bool = True  # the event source mapping reports item failures
    max_message_bytes: int = 262144
    # RedrivePolicy maxReceiveCount of every task queue (at least its tasks' max_attempts):
    # 5 or more, as AWS advises for queues Lambda reads, since throttled receives count too.
    max_receive_count: int = 5
    # Signs the caller a task message carries (pym_lambda.auth.task_identity); None: derived
    # from jwt.secret and the stage. May be {ssm: ...} / {secretsmanager: ...}.
    signing_key: Optional[SecretText] = None

    def __repr__(self) -> str:
        return repr_hiding(self, _TASKS_HIDDEN)


class DocsSettings(Record):
    """The ``docs:`` section: the API documentation pages."""

    enabled: bool = True  # GET <path> (HTML), <path>/<api>.yaml|.json, <path>/static/<file>
    path: str = "/doc"  # PyMacaron's; checked and normalised by the loader (no trailing /)
    ui: str = "redoc"  # one of DOCS_UIS


class MetricsSettings(Record):
    """The ``metrics:`` section: CloudWatch metrics as Embedded Metric Format log lines."""

    enabled: bool = False  # off: pym_lambda.metrics is never imported
    namespace: str = ""  # the CloudWatch namespace; empty: the service's name


class TracingSettings(Record):
    """The ``tracing:`` section: X-Ray segments per request, step, task run and AWS call."""

    enabled: bool = False  # off: pym_lambda.tracing is never imported
    exporter: str = "xray"  # one of TRACE_EXPORTERS; memory: kept in process, for tests


class AlarmsSettings(Record):
    """The ``alarms:`` section: the CloudWatch alarms deploy creates for the stage."""

    enabled: bool = False
    sns_topic: Optional[str] = None  # the ARN told when an alarm fires (and when it clears)
    error_rate_percent: int = 5  # of API requests answered 5xx, over one period
    oldest_message_seconds: int = 900  # age of a task queue's oldest message
    period_seconds: int = 300


class Settings(Record):
    """Everything pym-config.yaml says, with the stage, secrets and file read."""

    name: str = ""
    version: str = "0.0.0"
    stage: str = DEFAULT_STAGE
    log_level: str = "INFO"
    error_reporter: Optional[str] = None  # "module.function" told about every 5xx
    jwt: JwtSettings = JwtSettings()
    clients: Mapping[str, str] = EMPTY_MAP  # api name -> base URL
    client_tokens: Mapping[str, str] = EMPTY_MAP  # client name -> one of CLIENT_TOKEN_MODES
    tasks: TasksConfig = TasksConfig()
    cors: CorsSettings = CorsSettings()
    limits: LimitSettings = LimitSettings()
    docs: DocsSettings = DocsSettings()
    metrics: MetricsSettings = MetricsSettings()
    tracing: TracingSettings = TracingSettings()
    alarms: AlarmsSettings = AlarmsSettings()
    env_secrets: Tuple[str, ...] = ()
    extra: Mapping[str, Any] = EMPTY_MAP
    # name -> {ssm: ...} / {secretsmanager: ...} / {env: ...}, read at first access; with
    # env_secrets' values, settings.secrets[NAME] (a pym_lambda.secret_store.Secrets).
    secrets: SecretMap = EMPTY_MAP
    # Deploy refuses a plain secret (jwt.secret, jwt.private_key, env_secrets, secrets) in the
    # functions' environment of a production stage, which every stage is unless it says
    # `production: false`; `allow_plain_secrets: true` accepts it anyway (docs/deploy.md).
    production: bool = True
    allow_plain_secrets: bool = False
    # Read at build time from the file's top level (config/pymacaron.py: serves_base_path).
    serve_base_path: Optional[bool] = None
    config_file: Optional[str] = None  # the file read, None when there was none
    raw: Mapping[str, Any] = EMPTY_MAP  # the file as parsed

    def __repr__(self) -> str:
        return repr_hiding(self, _SETTINGS_HIDDEN)


# --- what the loader checks each level of the file against ----------------------------------

# Settings fields that are computed, never written in the file.
_DERIVED = frozenset({"stage", "config_file", "raw"})
# A field's annotation (a string, never evaluated) -> (kind, nullable); a field whose default
# is a record (a NamedTuple) is a section, checked key by key.
_KINDS = {"str": ("str", False), "Optional[str]": ("str", True), "int": ("int", False),
          "bool": ("bool", False),
          "Optional[bool]": ("bool", True), "Tuple[str, ...]": ("list", False),
          "Mapping[str, str]": ("map", False), "Mapping[str, Any]": ("any", False),
          "Optional[SecretText]": ("secret", True), "SecretMap": ("secrets", False)}
_schemas: Dict[type, Dict[str, Any]] = {}


def schema_of(cls: Any) -> Dict[str, Any]:
    """The keys a level of the file may set: key -> section class, or (kind, nullable) with
    kind str/int/bool/list/map/any, secret (a string or a reference to one) or secrets (a
    mapping of names to references)."""
    if cls not in _schemas:
        _schemas[cls] = {
            name: type(default) if _is_record(default)
            else _KINDS[field_annotation(cls, name)]
            for name, default in cls._field_defaults.items()
            if not (cls is Settings and name in _DERIVED)}
    return _schemas[cls]


def _is_record(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


# --- the PYM_* variables ----------------------------------------------------------------------
# Every key above is also set by PYM_<SECTION>_<KEY> (loader.py). Older names kept as aliases
# set the same key, below its own variable (still above the file).
ALIASES: Dict[str, Tuple[str, ...]] = {
    "PYM_TASK_BACKOFF_SECONDS": ("tasks", "backoff_base_seconds"),
    "PYM_MAX_BODY_BYTES": ("limits", "max_body_bytes"),
}

# What each key does, and the PYM_* variables that are not keys: config/key_docs.py (read by
# the build's generated reference only, so not imported at a cold start).
