"""Build-time deployment: `pym-lambda deploy|delete|rollback|package` (never imported at runtime).

deploy = build (checks, no AWS) -> plan (frozen steps, printable: --dry-run) -> apply (a target:
lambda through Chalice's deployer, or beanstalk) -> verify -> summary. Modules:

- build: project, stage and config checks; the fresh compiled form; the functions'
  environment; importing the project's app.py in isolation.
- chalice_project: Chalice's CLIFactory, config, deployer and packager, driven from Python.
- prepare: build + the app graph, shared by the commands; plan: the steps as frozen data.
- aws_access: region and credentials checked before any call; the account.
- state: the deployments bucket (Chalice's deployed state, packages, version history).
- inventory, reconcile: what exists for a stage; adopting what a failed deploy left unrecorded.
- lambda_target, beanstalk_target, teardown (delete), rollback, package, verify.
- artifact, artifact_check, lambda_events (+ lambda_bootstrap, events/): the built package run
  as the Lambda runtime runs it, driven by real API Gateway and SQS events: check_package().
- cli: the click commands, attached to the `pym-lambda` group (COMMANDS).
"""
