"""The process-wide field cipher and lookup-hash key, built from Settings once."""

from __future__ import annotations

from reelshop.config import Settings, get_settings
from reelshop.security.crypto import FieldCipher, Keyring, lookup_hash, normalise_email

_state: dict[str, object] = {}


def configure(settings: Settings) -> None:
    _state["cipher"] = FieldCipher(Keyring.parse(settings.field_encryption_keys))
    _state["hash_key"] = settings.email_hash_key


def cipher() -> FieldCipher:
    if "cipher" not in _state:
        configure(get_settings())
    value = _state["cipher"]
    assert isinstance(value, FieldCipher)
    return value


def email_lookup_hash(email: str) -> str:
    if "hash_key" not in _state:
        configure(get_settings())
    return lookup_hash(normalise_email(email), key=str(_state["hash_key"]), purpose="email")
