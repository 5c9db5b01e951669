"""What each settings key does, and the PYM_* variables that are not keys: the text of the
generated configuration reference (docs/configuration.md, written by
pym_lambda.build.config_reference, which reads types and defaults from config/keys.py).

Apart from keys.py so that a cold start does not load it: only the build reads it.
"""
from __future__ import annotations

from typing import Dict, Tuple

from ..records import Record

# What each key does: the generated reference (docs/configuration.md, written by
# pym_lambda.build.config_reference) reads its type and default from keys.py's classes and
# its description from here; a test fails when a key has none.
KEY_DOCS: Dict[str, str] = {
    "name": "the service's name in `/version` and crash reports (default: Chalice's `app_name`)",
    "version": "the version `/version` reports (default: the spec's `info.version`)",
    "log_level": "the level of the service's and the framework's logs",
    "error_reporter": "`module.function` told about every 5xx and every `report_error()` call",
    "jwt.secret": "HMAC key, for HS* (string or `{ssm: ...}`/`{secretsmanager: ...}`)",
    "jwt.public_key": "PEM public key or certificate, for RS*/PS*/ES*/EdDSA",
    "jwt.public_key_file": "the same, from a file",
    "jwt.private_key": "signs RS*/PS*/ES* tokens (`generate_token()`)",
    "jwt.private_key_file": "the same, from a file",
    "jwt.jwks_url": ("a JWKS, kept 5 min, fetched again for an unknown kid; after a failure, "
                     "no retry for 30 s (5 s timeout)"),
    "jwt.jwks_file": "a JWKS from a file",
    "jwt.key_id": "the `kid` header put on the tokens this service signs",
    "jwt.algorithms": "the only algorithms accepted",
    "jwt.audience": "any one of them in the token's `aud` is enough; a token with an `aud` is "
                    "refused when this is empty",
    "jwt.issuer": "the `iss` required, and put on signed tokens",
    "jwt.leeway": "seconds of slack on `exp`, `nbf`, `iat` (PyMacaron's was 300)",
    "jwt.cookie": "also read a `token` cookie, as PyMacaron did",
    "jwt.expires_in": "lifetime of the tokens `generate_token()` signs",
    "jwt.required_claims": "claims every token must carry, else 403 `FORBIDDEN`",
    "jwt.require_exp": "a token without `exp` is 401 `TOKEN_INVALID` naming the claim; `false` "
                       "accepts tokens that never expire",
    "clients": "base URLs of the typed clients, by API name",
    "client_tokens": "per client: `https` (default) forwards the caller's token only to an "
                     "`https` or loopback base URL, `always` to this client over plain `http` "
                     "too, `never` not at all",
    "tasks.inline": "`.delay()` runs the task at once (development without SQS)",
    "tasks.queues": "another physical SQS name than `<app>-<stage>-<queue>`, by logical queue",
    "tasks.lambda_timeout_seconds": "the worker's timeout as the task system sees it; a queue's "
                                    "visibility timeout is 6x the longer of this and the "
                                    "worker's deployed timeout",
    "tasks.backoff_base_seconds": "exponential backoff after a failure (0: SQS's own timing)",
    "tasks.backoff_max_seconds": "the longest backoff",
    "tasks.partial_batch_responses": "the event source mapping reports item failures; `false`: "
                                     "the worker deletes what succeeded itself and raises",
    "tasks.max_message_bytes": "a larger task call fails at `.delay()`",
    "tasks.max_receive_count": "the queues' redrive `maxReceiveCount` (at least each queue's "
                               "highest `max_attempts`)",
    "tasks.signing_key": "HMAC key signing the caller a task message carries (string or "
                         "`{ssm: ...}`/`{secretsmanager: ...}`; default: derived from "
                         "`jwt.secret` and the stage; with neither, tasks get no caller)",
    "cors.enabled": "answer preflights and add CORS headers",
    "cors.allow_origins": "origins allowed; another gets no CORS header, its preflight a 403",
    "cors.allow_headers": "request headers allowed besides `Content-Type`, `Authorization` and "
                          "`PymCallID`",
    "cors.expose_headers": "response headers exposed (`PymCallID` always is)",
    "cors.max_age": "how long a browser keeps a preflight answer",
    "cors.allow_credentials": "`Access-Control-Allow-Credentials: true`",
    "limits.max_body_bytes": "a larger body is 413 `PAYLOAD_TOO_LARGE` (on Lambda and under the "
                             "WSGI adapter, which stops reading past it)",
    "limits.max_json_depth": "deeper JSON is 400 `INVALID_PARAMETER`",
    "limits.max_header_bytes": "all request headers together; more is 431 "
                               "`REQUEST_HEADERS_TOO_LARGE`",
    "limits.max_query_params": "query parameter values (each of a repeated name counts); more "
                               "is 400 `INVALID_PARAMETER` naming the limit",
    "limits.max_headers": "request header values; more is 431 `REQUEST_HEADERS_TOO_LARGE`",
    "limits.max_cookies": "cookies in the `Cookie` header; more is 400 `INVALID_PARAMETER`",
    "limits.max_form_fields": "fields of a form or multipart body; more is 400 "
                              "`INVALID_PARAMETER`",
    "limits.strict": "refuse query parameters and body fields the spec does not declare (400 "
                     "naming them)",
    "docs.enabled": "serve the docs page and the specs",
    "docs.path": "where the page is served",
    "docs.ui": "which renderer",
    "metrics.enabled": "one CloudWatch Embedded Metric Format line per request and per task "
                       "record (docs/operations.md)",
    "metrics.namespace": "the metrics' CloudWatch namespace (default: the service's name)",
    "tracing.enabled": "X-Ray traces: a segment per request, its steps, each task run and AWS "
                       "call; deploy turns on Lambda active tracing (docs/operations.md)",
    "tracing.exporter": "`xray` (the daemon Lambda runs) or `memory` (kept in the process, for "
                        "tests: `app.pym_service.tracer.exporter.documents`)",
    "alarms.enabled": "deploy creates CloudWatch alarms: dead letters, API 5xx rate, oldest "
                      "task message (docs/operations.md)",
    "alarms.sns_topic": "the SNS topic ARN the alarms notify (none: alarms without actions)",
    "alarms.error_rate_percent": "the API 5xx alarm fires above this share of requests",
    "alarms.oldest_message_seconds": "a task queue's alarm fires when its oldest message is "
                                     "older",
    "alarms.period_seconds": "the period each alarm evaluates (a multiple of 60)",
    "env_secrets": "variables that must be set; read as `settings.secrets[NAME]`",
    "extra": "the service's own keys, not checked (`{env: NAME}` allowed anywhere)",
    "secrets": "`{ssm: ...}`, `{secretsmanager: ...}` or `{env: ...}` by name, read at first "
               "use as `settings.secrets[NAME]`",
    "production": "a production stage: deploy refuses plain secrets, `/version` names no "
                  "platform details (Python, library, kernel versions)",
    "allow_plain_secrets": "read by deploy: accept plain secrets in a production stage",
    "serve_base_path": "routes are the spec's `basePath` (or first server's path) + its path "
                       "keys; `false` serves the path keys alone, as PyMacaron did (default: "
                       "`false` when the file is a PyMacaron one, else `true`; top level only)",
}


class Variable(Record):
    """A PYM_* variable that is not a settings key: plumbing set by the deploy, the container
    or `pym-lambda test`, read by pym_lambda.config.environment (or the build side)."""

    name: str = ""
    type: str = "string"
    default: str = "none"
    what: str = ""


VARIABLES: Tuple[Variable, ...] = (
    Variable(name="PYM_STAGE", default="`dev`",
             what="the stage: picks `stages.<stage>`; `.chalice/config.json` sets it per stage"),
    Variable(name="PYM_APP_NAME",
             what="the app's name in queue names (deploy sets it on every function; else "
                  "`.chalice/config.json`'s `app_name`)"),
    Variable(name="PYM_ENV", what="`/version`'s `pym_env` field (else `PYM_STAGE`)"),
    Variable(name="PYM_RUNTIME", what="`/version`'s `runtime` field (else detected)"),
    Variable(name="PYM_LOG_FORMAT", type="`json` or `text`",
             default="JSON on Lambda, text elsewhere", what="the log format"),
    Variable(name="PYM_TASK_QUEUE_URL_<QUEUE>",
             what="a queue's URL (deploy sets it, so no `GetQueueUrl` at run time); `<QUEUE>` "
                  "is the logical name upper-cased, other characters as `_`"),
    Variable(name="PYM_TASK_DLQ_URL_<QUEUE>", what="a queue's dead-letter queue URL"),
    Variable(name="PYM_TASK_QUEUE_NAME_<QUEUE>",
             what="a queue's SQS name; beats `tasks.queues`"),
    Variable(name="PYM_TRUSTED_PROXY_HOPS", type="integer >= 0", default="`0`",
             what="WSGI adapter: proxies whose `X-Forwarded-For` entry to trust"),
    Variable(name="PYM_APP_MODULE", default="`app`",
             what="WSGI adapter and container worker: the module (or `module:attribute`) "
                  "holding the Chalice app"),
    Variable(name="PYM_TASK_WORKER", type="`1`", default="unset",
             what="Beanstalk container: also run the SQS task worker (`PYM_TASK_WORKER_CMD`: "
                  "its command)"),
    Variable(name="PYM_TEST_URL", what="test plugin: the URL `pym_client` calls"),
    Variable(name="PYM_TEST_TOKEN",
             what="test plugin: the token `pym_token()` returns without a user"),
    Variable(name="PYM_SERVER_HOST",
             what="PyMacaron's acceptance test case (`pym_lambda.testing.pymacaron`): the host "
                  "it calls"),
    Variable(name="PYM_SERVER_PORT", what="the same: the port (443: https)"),
    Variable(name="PYM_JWT_TOKEN", what="the same: its `self.token`"),
    Variable(name="PYM_IDEMPOTENCY_TABLE", default="`<app>-<stage>-idempotency`",
             what="the DynamoDB table of idempotent tasks and operations (deploy creates "
                  "the default one)"),
    Variable(name="PYM_STATE_BUCKET", what="deploy: the deployments bucket (`--state-bucket`)"),
    Variable(name="PYM_NO_COMPILE_CACHE", type="`1`", default="unset",
             what="build: do not write `chalicelib/pym_compiled.json` (deploy refuses it)"),
)
