"""Field encryption (AES-256-GCM with a key id) and keyed lookup hashes.

A ciphertext reads ``v1.<key id>.<base64url(nonce || ciphertext+tag)>``. The key
id names the key that sealed it, so keys can rotate: new values use the first
(active) key; every configured key still opens what it sealed. The column name is
bound in as associated data, so a value copied into another column does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


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


class FieldCipher:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = {kid: AESGCM(raw) for kid, raw in keyring.keys}

    def encrypt(self, plaintext: str, *, context: str) -> str:
        kid = self.keyring.active_id
        nonce = os.urandom(12)
        sealed = self._aead[kid].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{kid}.{_b64e(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            version, kid, body = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("not a field ciphertext") from exc
        if version != _VERSION:
            raise DecryptionError(f"unknown ciphertext version {version!r}")
        if kid not in self._aead:
            raise DecryptionError(f"no key with id {kid!r} is configured")
        raw = _b64d(body)
        try:
            return self._aead[kid].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not open with its key") from exc

    @staticmethod
    def key_id_of(token: str) -> str:
        return token.split(".", 2)[1]

    def needs_rotation(self, token: str) -> bool:
        return self.key_id_of(token) != self.keyring.active_id


def normalise_email(email: str) -> str:
    """Case-fold and NFKC-normalise; keep dots and plus tags (they are real mailboxes)."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def lookup_hash(value: str, *, key: str, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value: findable by exact match, unreadable in a dump."""
    mac = hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()
