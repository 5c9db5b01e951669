"""The build side of pym-lambda: everything that runs on a developer's machine or in CI, never
in a Lambda or the Beanstalk container.

- openapi/: spec files loaded, `$ref`s resolved, schemas checked, compiled to plain data;
- compiled_form.py: a project compiled and written where the Lambda reads it (the compiled
  form, the prebuilt schema checks, the published specs);
- cli.py: the `pym-lambda` command (with deploy/cli.py, tasks/cli.py, scaffold/,
  local_service.py and acceptance_runner.py, which bring their own commands);
- deploy/: build, plan, apply, verify, for Lambda and Elastic Beanstalk;
- tasks/: task queue definitions (`ensure_queues`), operator tools, their commands.

The runtime (the rest of pym_lambda) never imports this package, with one exception: in a
project tree that has apis/ (chalice local, tests), runtime/app.py's load_compiled() compiles
the specs with compiled_form.py. A Lambda package has no apis/ and no copy of this package
(deploy/vendor.py copies the runtime only; a test proves the wall).
"""
