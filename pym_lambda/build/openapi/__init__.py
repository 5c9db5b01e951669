"""Spec files -> the compiled form, plain data (build time): loader.py reads the files and
their `$ref`s, schemas.py brings every dialect's schemas to one form, metaschema.py checks
them, compiler.py compiles the operations; client_markers.py and client_specs.py add what a
typed client needs."""
