"""Settings refuse development secrets in production and accept real ones."""

from __future__ import annotations

from typing import Any

import pytest

from reelshop.config import (
    DEV_EMAIL_HASH_KEY,
    DEV_FIELD_KEYS,
    DEV_SECRET_KEY,
    Environment,
    InsecureConfigurationError,
    Settings,
)
from reelshop.security.crypto import Keyring

REAL = {
    "secret_key": "a-real-secret-key-that-is-long-enough-0123456789",
    "field_encryption_keys": Keyring.generate_key_spec("k2026"),
    "email_hash_key": "a-real-email-hash-key-0123456789abcdef",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("REELSHOP_") and not name.startswith("REELSHOP_TEST_"):
            monkeypatch.delenv(name)


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_accepts_real_secrets_and_forces_secure_cookies() -> None:
    settings = make(env=Environment.PRODUCTION, **REAL)
    assert settings.cookie_secure is True


@pytest.mark.parametrize(
    ("field", "default", "env_name"),
    [
        ("secret_key", DEV_SECRET_KEY, "REELSHOP_SECRET_KEY"),
        ("field_encryption_keys", DEV_FIELD_KEYS, "REELSHOP_FIELD_ENCRYPTION_KEYS"),
        ("email_hash_key", DEV_EMAIL_HASH_KEY, "REELSHOP_EMAIL_HASH_KEY"),
    ],
)
def test_production_refuses_each_default_secret(field: str, default: str, env_name: str) -> None:
    with pytest.raises(InsecureConfigurationError, match=env_name):
        make(env=Environment.PRODUCTION, **{**REAL, field: default})


def test_production_refuses_short_secret_key() -> None:
    with pytest.raises(InsecureConfigurationError, match="shorter than 32"):
        make(env=Environment.PRODUCTION, **{**REAL, "secret_key": "short-but-not-default"})


def test_production_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSHOP_ENV", "production")
    with pytest.raises(InsecureConfigurationError):
        make()
    for name, value in REAL.items():
        monkeypatch.setenv(f"REELSHOP_{name.upper()}", value)
    assert make().env is Environment.PRODUCTION


@pytest.mark.parametrize("env", [Environment.DEVELOPMENT, Environment.TEST])
def test_development_and_test_run_with_defaults(env: Environment) -> None:
    settings = make(env=env)
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.cookie_secure is False
    Keyring.parse(settings.field_encryption_keys)
