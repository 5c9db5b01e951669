"""Per-service settings: pym-config.yaml and ``PYM_*`` variables, read into the settings classes.

    from pym_lambda.config import load_settings
    settings = load_settings(project_dir, stage="prod")

Two modules: keys.py declares every key (its type and its default, whose only home is there),
loader.py reads the file and the environment into them along one precedence chain (its
docstring states it). This package is the public home of both.
"""
from .keys import (
    DEFAULT_STAGE,
    DOCS_UIS,
    JWT_ALGORITHMS,
    LOG_LEVELS,
    ConfigError,
    CorsSettings,
    DocsSettings,
    JwtSettings,
    LimitSettings,
    Settings,
    TasksConfig,
)
from .loader import CONFIG_FILENAME, ENV_PREFIX, STAGE_VARIABLE, load_settings, read_config_file

__all__ = ["CONFIG_FILENAME", "DEFAULT_STAGE", "DOCS_UIS", "ENV_PREFIX", "JWT_ALGORITHMS",
           "LOG_LEVELS", "STAGE_VARIABLE", "ConfigError", "CorsSettings", "DocsSettings",
           "JwtSettings", "LimitSettings", "Settings", "TasksConfig", "load_settings",
           "read_config_file"]
