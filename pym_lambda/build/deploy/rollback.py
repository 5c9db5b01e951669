"""`pym-lambda rollback --stage S`: put the previous version's code back.

Lambda: every deploy stores its package in the deployments bucket and records a version
(state.History); rollback points each of the stage's functions at the previous package
(update_function_code from S3) and records the switch, so a second rollback goes one version
further back and the next deploy records a new version. Code only: the compiled specs and
settings travel in the package, but the REST API's routes, queues, IAM and environment stay as
last deployed (redeploy an older commit for those).

Beanstalk: the environment is switched to the previous application version.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import click

from .aws_access import ClientFactory, check_access, client_factory
from .build import read_stage_config
from .errors import DeployError, StepRunner
from .inventory import stage_functions
from .prepare import DeployOptions
from .state import DeploymentStore, default_bucket, deployed_file, sha_hex
from .verify import verify_service

DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # Lambda's limit for a zip sent with the request


def run_rollback(options: DeployOptions, *, to_version: Optional[int],
                 confirm: Callable[[str], None], clients: Optional[ClientFactory] = None,
                 echo: Callable[[str], None] = click.echo) -> None:
    root = options.project_dir.resolve()
    config = read_stage_config(root, options.stage)
    aws = check_access(options.region, clients, step="rollback")
    clients = clients or client_factory(aws.region)
    bucket = options.state_bucket or default_bucket(config.app_name, aws.account_id)
    store = DeploymentStore(clients("s3"), bucket, aws.region, config.stage)
    runner = StepRunner()
    if options.target == "beanstalk":
        from .beanstalk_target import rollback_environment

        rollback_environment(config, aws, clients, store, options, to_version, confirm, echo)
        return
    history = runner.guarded("rollback", store.history)
    target = history.rollback_target(to_version)
    current = history.current_record
    echo(f"current: version {history.current} (package "
         f"{sha_hex(current.code_sha256)[:12] if current else '?'}); rolling back to version "
         f"{target.version} (package {sha_hex(target.code_sha256)[:12]}, deployed "
         f"{target.deployed_at})")
    confirm(f"Roll {config.app_name} stage {config.stage} back to version {target.version}?")
    lam = clients("lambda")
    code = runner.guarded("fetch package", lambda: package_source(store, target.package_key))
    functions = runner.guarded("rollback", lambda: stage_functions(
        lam, config.app_name, config.stage))
    if not functions:
        raise DeployError("rollback", f"no function of stage {config.stage} exists: deploy it")
    for function in functions:
        if function.name not in target.functions:
            echo(f"warning: {function.name} did not exist in version {target.version}: kept")
            continue
        runner.guarded("update function code", partial(
            lam.update_function_code, FunctionName=function.name, **code))
        echo(f"{function.name}: code of version {target.version}")
    for function in functions:
        if function.name in target.functions:
            runner.guarded("wait for update", partial(
                lam.get_waiter("function_updated_v2").wait, FunctionName=function.name,
                WaiterConfig={"Delay": 1, "MaxAttempts": 120}))
    history.rolled_back_to(target)
    runner.guarded("record rollback", lambda: store.save_history(history))
    echo(f"version {target.version} is current; version "
         f"{current.version if current else '?'} marked rolled back")
    if not options.skip_verify:
        url = _api_url(store, root, config.stage)
        if url:
            for line in runner.guarded("verify", lambda: verify_service(url)):
                echo(line)


def package_source(store: DeploymentStore, key: str) -> Dict[str, Any]:
    """update_function_code's code argument: the zip itself when Lambda takes it directly (as
    Chalice uploads), else its S3 location (which must be in the function's region)."""
    size = store.s3.head_object(Bucket=store.bucket, Key=store.prefix + key)["ContentLength"]
    if size <= DIRECT_UPLOAD_LIMIT:
        return {"ZipFile": store.fetch_package(key)}
    return {"S3Bucket": store.bucket, "S3Key": store.prefix + key}


def _api_url(store: DeploymentStore, root: Path, stage: str) -> Optional[str]:
    store.download_state(deployed_file(root, stage))
    try:
        data = json.loads(deployed_file(root, stage).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rest: Dict[str, Any] = next(
        (r for r in data.get("resources", []) if r.get("name") == "rest_api"), {})
    return rest.get("rest_api_url")
