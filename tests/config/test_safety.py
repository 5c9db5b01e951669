"""Settings each valid alone, unsafe together: refused when loaded, one line naming the keys."""
from __future__ import annotations

import pytest

from pym_lambda.config import ConfigError, Settings
from pym_lambda.config.keys import CorsSettings
from pym_lambda.config.safety import check_safety


def test_a_credentialed_wildcard_is_refused() -> None:
    unsafe = Settings(cors=CorsSettings(enabled=True, allow_credentials=True))
    with pytest.raises(ConfigError) as info:
        check_safety(unsafe, "pym-config.yaml (stage prod)")
    assert str(info.value).startswith("pym-config.yaml (stage prod): cors.allow_origins: '*'")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("cors", [
    CorsSettings(enabled=True),  # "*" without credentials
    CorsSettings(enabled=True, allow_credentials=True, allow_origins=("https://a.example",))])
def test_safe_cors_settings_pass(cors: CorsSettings) -> None:
    check_safety(Settings(cors=cors), "here")


def test_an_unknown_client_token_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="client_tokens.reviews: expected one of https, "
                                          "always, never, got 'yes'"):
        check_safety(Settings(client_tokens={"reviews": "yes"}), "here")
