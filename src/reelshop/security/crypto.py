"""Field encryption (AES-256-GCM with a key id) and keyed lookup hashes.

Two layers of keys (envelope encryption):

- **master keys** come from settings (``REELSHOP_FIELD_ENCRYPTION_KEYS``) and never
  touch the database. They wrap the data keys, and seal blobs and tokens directly.
- **data keys** are random AES-256 keys, one active per market, stored in the
  ``field_data_keys`` table wrapped by a master key. Personal-data columns are sealed
  with them.

A ciphertext reads ``v1.<master key id>.<base64url(nonce || ciphertext+tag)>`` or
``v2.<data key id>.<...>``. The key id names the key that sealed it, so keys rotate:
new values use the active key, every known key still opens what it sealed. Values
written before data keys existed (``v1``) keep opening with their master key. The
column name is bound in as associated data, so a value copied into another column
does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_DATA_KEY_VERSION = "v2"


class KeyringError(ValueError):
    pass


class DecryptionError(ValueError):
    pass


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Keyring:
    """Ordered AES-256 keys by id; the first one encrypts."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        keys: list[tuple[str, bytes]] = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            kid, sep, material = part.partition(":")
            if not sep or not kid.isalnum():
                raise KeyringError("field keys look like 'keyid:base64url(32 bytes)'")
            raw = _b64d(material)
            if len(raw) != 32:
                raise KeyringError(f"key {kid!r} must be 32 bytes, got {len(raw)}")
            keys.append((kid, raw))
        if not keys:
            raise KeyringError("at least one field encryption key is required")
        if len({k for k, _ in keys}) != len(keys):
            raise KeyringError("duplicate key id in field encryption keys")
        return cls(tuple(keys))

    @staticmethod
    def generate_key_spec(kid: str) -> str:
        return f"{kid}:{_b64e(os.urandom(32))}"

    @property
    def active_id(self) -> str:
        return self.keys[0][0]

    def key(self, kid: str) -> bytes:
        for k, raw in self.keys:
            if k == kid:
                return raw
        raise DecryptionError(f"no key with id {kid!r} is configured")


@dataclass(frozen=True)
class DataKeyMaterial:
    """An unwrapped data key: its id, its market, the raw key, and whether it is the
    market's active key (the one new values are sealed with)."""

    kid: str
    market: str
    raw: bytes
    active: bool


class FieldCipher:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = {kid: AESGCM(raw) for kid, raw in keyring.keys}
        self._data_aead: dict[str, AESGCM] = {}
        self._data_market: dict[str, str] = {}
        self._active_data: dict[str, str] = {}
        # Called when a value names a data key this process has not loaded (a key made
        # by a rotation in another process): reloads the keys, then decryption retries.
        self.on_unknown_key: Callable[[], None] | None = None

    # --- master keys: blobs, tokens, and the wrapping of data keys ---------------------

    def encrypt(self, plaintext: str, *, context: str) -> str:
        kid = self.keyring.active_id
        nonce = os.urandom(12)
        sealed = self._aead[kid].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{kid}.{_b64e(nonce + sealed)}"

    def wrap_data_key(self, raw: bytes, *, data_key_id: str) -> tuple[str, str]:
        """(master key id, wrapped key) for storing a data key."""
        wrapped = self.encrypt(_b64e(raw), context=f"field_data_keys.{data_key_id}")
        return self.keyring.active_id, wrapped

    def unwrap_data_key(self, wrapped: str, *, data_key_id: str) -> bytes:
        raw = _b64d(self.decrypt(wrapped, context=f"field_data_keys.{data_key_id}"))
        if len(raw) != 32:
            raise DecryptionError(f"data key {data_key_id!r} is not 32 bytes")
        return raw

    # --- data keys: personal-data columns ---------------------------------------------

    def install_data_keys(self, keys: list[DataKeyMaterial]) -> None:
        """Replace the loaded data keys (an atomic swap of three dicts)."""
        self._data_aead = {k.kid: AESGCM(k.raw) for k in keys}
        self._data_market = {k.kid: k.market for k in keys}
        self._active_data = {k.market: k.kid for k in keys if k.active}

    def active_data_key(self, market: str) -> str | None:
        return self._active_data.get(market)

    def market_of(self, kid: str) -> str | None:
        return self._data_market.get(kid)

    def seal_field(self, plaintext: str, *, context: str, market: str) -> str:
        """Seal a column value with the market's active data key (the master key while
        the market has none yet)."""
        kid = self._active_data.get(market)
        if kid is None:
            return self.encrypt(plaintext, context=context)
        nonce = os.urandom(12)
        sealed = self._data_aead[kid].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_DATA_KEY_VERSION}.{kid}.{_b64e(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            version, kid, body = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("not a field ciphertext") from exc
        if version == _VERSION:
            aead = self._aead.get(kid)
        elif version == _DATA_KEY_VERSION:
            aead = self._data_aead.get(kid)
            if aead is None and self.on_unknown_key is not None:
                self.on_unknown_key()
                aead = self._data_aead.get(kid)
        else:
            raise DecryptionError(f"unknown ciphertext version {version!r}")
        if aead is None:
            raise DecryptionError(f"no key with id {kid!r} is configured")
        raw = _b64d(body)
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not open with its key") from exc

    @staticmethod
    def key_id_of(token: str) -> str:
        return token.split(".", 2)[1]

    def needs_rotation(self, token: str, *, default_market: str | None = None) -> bool:
        """Whether ``token`` is sealed with anything but the key new values get: its
        market's active data key, or (for a market without one) the active master key.
        Values sealed directly by a master key belong to ``default_market``."""
        version, kid, _ = token.split(".", 2)
        if version == _VERSION:
            if default_market is not None and default_market in self._active_data:
                return True
            return kid != self.keyring.active_id
        market = self._data_market.get(kid, default_market)
        return market is None or self._active_data.get(market) != kid

    def target_market(self, token: str, *, default_market: str) -> str:
        version, kid, _ = token.split(".", 2)
        if version == _VERSION:
            return default_market
        return self._data_market.get(kid, default_market)


def normalise_email(email: str) -> str:
    """Case-fold and NFKC-normalise; keep dots and plus tags (they are real mailboxes)."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def lookup_hash(value: str, *, key: str, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value: findable by exact match, unreadable in a dump."""
    mac = hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()
