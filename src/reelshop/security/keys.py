"""The process-wide field cipher and lookup-hash key, built from Settings once, and
the data keys it loads from the database.

Data keys are read from ``field_data_keys`` of the configured database (or through
a session factory attached with :func:`attach_store`): at first use, every
``DATA_KEY_REFRESH_S`` seconds when sealing (so a rotation started by
``reelshop keys rotate`` in another process reaches every server within that time,
without a restart), and at once when a value names a key not loaded yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings, get_settings
from reelshop.security.crypto import (
    DataKeyMaterial,
    FieldCipher,
    Keyring,
    lookup_hash,
    normalise_email,
)

log = logging.getLogger("reelshop.keys")

DATA_KEY_REFRESH_S = 30.0
# Personal data belongs to a market; until requests are routed per market, values are
# sealed with the launch market's data key unless a caller scopes another market.
DEFAULT_MARKET = "US"

_state: dict[str, object] = {}
_store: dict[str, object] = {}
_lock = threading.Lock()
_market: ContextVar[str] = ContextVar("reelshop_data_market", default=DEFAULT_MARKET)


def configure(settings: Settings) -> None:
    """Build the cipher from settings; data keys come from ``settings.database_url``
    (every process that reads personal data configures keys from its settings)."""
    cipher_ = FieldCipher(Keyring.parse(settings.field_encryption_keys))
    cipher_.on_unknown_key = lambda: refresh_data_keys(force=True)
    _state["cipher"] = cipher_
    _state["hash_key"] = settings.email_hash_key
    _drop_store()
    url = settings.database_url
    if url not in ("sqlite://", "sqlite:///:memory:"):
        _store["url"] = url
        _store["loaded_at"] = 0.0


def attach_store(factory: sessionmaker[Session]) -> None:
    """Load data keys through ``factory`` instead (a read-only factory is enough)."""
    _drop_store()
    _store["factory"] = factory
    _store["loaded_at"] = 0.0


def _drop_store() -> None:
    engine = _store.get("engine")
    if isinstance(engine, Engine):
        engine.dispose()
    _store.clear()


def _store_factory() -> sessionmaker[Session] | None:
    factory = _store.get("factory")
    if isinstance(factory, sessionmaker):
        return factory
    url = _store.get("url")
    if not isinstance(url, str):
        return None
    from reelshop.db import make_engine, make_session_factory

    engine = make_engine(url, pool_size=1, max_overflow=2)
    _store["engine"] = engine
    made = make_session_factory(engine, deferred=True)
    _store["factory"] = made
    return made


def cipher() -> FieldCipher:
    if "cipher" not in _state:
        configure(get_settings())
    value = _state["cipher"]
    assert isinstance(value, FieldCipher)
    return value


def sealing_cipher() -> FieldCipher:
    """The cipher, with data keys fresh enough to seal new values."""
    loaded_at = _store.get("loaded_at")
    if isinstance(loaded_at, float) and time.monotonic() - loaded_at > DATA_KEY_REFRESH_S:
        refresh_data_keys()
    return cipher()


def load_data_keys(session: Session, target: FieldCipher) -> int:
    from reelshop.security.hardening_models import DataKey

    materials = [
        DataKeyMaterial(
            kid=row.id,
            market=row.market_code,
            raw=target.unwrap_data_key(row.wrapped_key, data_key_id=row.id),
            active=row.state == "active",
        )
        for row in session.scalars(select(DataKey))
    ]
    target.install_data_keys(materials)
    return len(materials)


def refresh_data_keys(*, force: bool = False) -> None:
    with _lock:
        factory = _store_factory()
        if factory is None:
            return
        loaded_at = _store.get("loaded_at")
        fresh = isinstance(loaded_at, float) and time.monotonic() - loaded_at < 1.0
        if fresh and not force:
            return
        _store["loaded_at"] = time.monotonic()
        try:
            with factory() as session:
                load_data_keys(session, cipher())
        except Exception as exc:  # keep sealing with the keys we have; say why
            log.warning("could not load field data keys", extra={"error": repr(exc)})


def current_market() -> str:
    return _market.get()


@contextmanager
def market_scope(code: str) -> Iterator[None]:
    """Seal personal data written inside the block with ``code``'s data key."""
    token = _market.set(code)
    try:
        yield
    finally:
        _market.reset(token)


def email_lookup_hash(email: str) -> str:
    if "hash_key" not in _state:
        configure(get_settings())
    return lookup_hash(normalise_email(email), key=str(_state["hash_key"]), purpose="email")
