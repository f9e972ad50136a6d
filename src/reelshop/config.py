"""Settings: the one place configuration is read (environment variables ``REELSHOP_*``).

Every other module receives a :class:`Settings` instance; nothing else reads the
environment. Defaults are made for the embedded, single-machine mode; production
refuses to start while any secret still has its development default.
"""

from __future__ import annotations

import base64
import hashlib
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - the named insecure default
DEV_EMAIL_HASH_KEY = "dev-only-email-hash-key-change-me"
DEV_SIMULATED_WEBHOOK_SECRET = "dev-only-simulated-processor-webhook-secret"  # noqa: S105


def _dev_field_key() -> str:
    """A deterministic development key, derived so it is obviously not random."""
    raw = hashlib.sha256(b"reelshop-dev-field-key").digest()
    return "dev1:" + base64.urlsafe_b64encode(raw).decode()


DEV_FIELD_KEYS = _dev_field_key()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InsecureConfigurationError(RuntimeError):
    """Raised when production is started with a development default secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REELSHOP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///var/reelshop.db"
    redis_url: str | None = None
    data_dir: Path = Path("var")
    # Uploads: files under data_dir/media by default; "s3://bucket/prefix" for an
    # S3-compatible store (pip install 'reelshop[s3]'; AWS credentials from the usual chain).
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None

    secret_key: str = DEV_SECRET_KEY
    # Comma-separated "key_id:base64url(32 bytes)"; the first key encrypts, all decrypt.
    field_encryption_keys: str = DEV_FIELD_KEYS
    email_hash_key: str = DEV_EMAIL_HASH_KEY

    session_cookie_name: str = "reelshop_session"
    session_max_age_s: int = 14 * 24 * 3600
    cookie_secure: bool = False

    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_base_s: int = Field(default=30, ge=1)
    login_lockout_max_s: int = Field(default=15 * 60, ge=1)
    login_account_max_failures: int = Field(default=20, ge=1)

    # Rate limits (fixed windows; Redis when redis_url is set, else the database). In
    # the test environment they are off and out of reach unless a test sets them.
    rate_limits_enabled: bool = True
    rate_limit_login_per_ip: int = Field(default=30, ge=1)
    rate_limit_login_per_account: int = Field(default=10, ge=1)
    rate_limit_login_window_s: int = Field(default=60, ge=1)
    rate_limit_signup_per_ip: int = Field(default=10, ge=1)
    rate_limit_signup_per_account: int = Field(default=10, ge=1)
    rate_limit_signup_window_s: int = Field(default=3600, ge=1)
    rate_limit_checkout_per_ip: int = Field(default=30, ge=1)
    rate_limit_checkout_per_account: int = Field(default=10, ge=1)
    rate_limit_checkout_window_s: int = Field(default=60, ge=1)
    rate_limit_search_per_ip: int = Field(default=120, ge=1)
    rate_limit_search_per_account: int = Field(default=60, ge=1)
    rate_limit_search_window_s: int = Field(default=60, ge=1)
    # Request bodies: the app-wide cap; upload routes have their own larger caps.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_retry_base_s: float = Field(default=2.0, ge=0)

    # Checkout: how long placed-but-unpaid checkouts hold stock; how long
    # Idempotency-Key answers are kept.
    checkout_reservation_ttl_s: int = Field(default=15 * 60, ge=30)
    idempotency_ttl_h: int = Field(default=24, ge=24)

    # Trust: counterfeit-risk scores at which a listing is held for review / blocked
    # (reelshop.trust.policy holds every other weight; docs/trust.md explains them).
    trust_hold_score: int = Field(default=40, ge=1)
    trust_block_score: int = Field(default=90, ge=1)

    # Payments through the SIMULATED processor: the key it signs webhooks with, where
    # its worker job posts them (default http://<host>:<port>), and how often it sends
    # one twice.
    simulated_processor_webhook_secret: str = DEV_SIMULATED_WEBHOOK_SECRET
    payments_webhook_base_url: str | None = None
    simulated_webhook_duplicate_rate: float = Field(default=0.1, ge=0, le=1)

    # Analytics events as Parquet files (default: data_dir/analytics).
    analytics_dir: Path | None = None

    log_level: str = "INFO"
    log_json: bool = True
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _generous_rate_limits_in_tests(self) -> Settings:
        if self.env is Environment.TEST:
            # Off unless a test turns them on (their counter write would show in the
            # query-count tests); any limit a test does not set is out of reach.
            if "rate_limits_enabled" not in self.model_fields_set:
                self.rate_limits_enabled = False
            for name in type(self).model_fields:
                if (
                    name.startswith("rate_limit_")
                    and not name.endswith("_window_s")
                    and name not in self.model_fields_set
                ):
                    setattr(self, name, 1_000_000)
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env is not Environment.PRODUCTION:
            return self
        defaults = {
            "REELSHOP_SECRET_KEY": self.secret_key == DEV_SECRET_KEY,
            "REELSHOP_FIELD_ENCRYPTION_KEYS": self.field_encryption_keys == DEV_FIELD_KEYS,
            "REELSHOP_EMAIL_HASH_KEY": self.email_hash_key == DEV_EMAIL_HASH_KEY,
        }
        weak = [name for name, is_default in defaults.items() if is_default]
        if len(self.secret_key) < 32 and "REELSHOP_SECRET_KEY" not in weak:
            weak.append("REELSHOP_SECRET_KEY (shorter than 32 characters)")
        if weak:
            raise InsecureConfigurationError(
                "refusing to run in production with development secrets: " + ", ".join(weak)
            )
        if not self.cookie_secure:
            self.cookie_secure = True
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def huey_path(self) -> Path:
        return self.data_dir / "huey.db"

    @property
    def analytics_path(self) -> Path:
        return self.analytics_dir or self.data_dir / "analytics"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
