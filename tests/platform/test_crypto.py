"""Field encryption: AES-256-GCM with a key id, the column bound in, keys that rotate."""

from __future__ import annotations

import base64

import pytest

from reelshop.security.crypto import (
    DecryptionError,
    FieldCipher,
    Keyring,
    KeyringError,
    lookup_hash,
    normalise_email,
)


def cipher(*kids: str, specs: dict[str, str] | None = None) -> FieldCipher:
    specs = specs if specs is not None else {}
    for kid in kids:
        specs.setdefault(kid, Keyring.generate_key_spec(kid))
    return FieldCipher(Keyring.parse(",".join(specs[k] for k in kids)))


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    c = cipher("k1")
    for plain in ("", "Ana Souza", "+1 415 555 0134", "北京市朝阳区 1号", "x" * 5000):
        token = c.encrypt(plain, context="users.name")
        assert token.startswith("v1.k1.")
        if plain:
            assert plain not in token
        assert c.decrypt(token, context="users.name") == plain


def test_same_plaintext_encrypts_differently_each_time() -> None:
    c = cipher("k1")
    assert c.encrypt("same", context="users.name") != c.encrypt("same", context="users.name")


def test_context_is_bound_in() -> None:
    c = cipher("k1")
    token = c.encrypt("4 Privet Drive", context="addresses.line1")
    with pytest.raises(DecryptionError):
        c.decrypt(token, context="users.name")


@pytest.mark.parametrize("position", [0, 5, 11, 12, 20, -1])
def test_tampering_is_detected(position: int) -> None:
    """Any flipped bit (nonce, ciphertext or tag) makes the value refuse to open."""
    c = cipher("k1")
    token = c.encrypt("secret phone", context="users.phone")
    head, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError):
        c.decrypt(f"{head}.{forged}", context="users.phone")


@pytest.mark.parametrize(
    "token", ["", "garbage", "v2.k1.AAAA", "v1.nokey.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
def test_malformed_ciphertexts_are_refused(token: str) -> None:
    with pytest.raises(DecryptionError):
        cipher("k1").decrypt(token, context="users.name")


def test_key_rotation() -> None:
    specs: dict[str, str] = {}
    old = cipher("k1", specs=specs)
    sealed_by_old = old.encrypt("Maya Thompson", context="users.name")
    rotated = cipher("k2", "k1", specs=specs)  # new key first: it encrypts
    sealed_by_new = rotated.encrypt("Maya Thompson", context="users.name")
    assert FieldCipher.key_id_of(sealed_by_new) == "k2"
    assert rotated.decrypt(sealed_by_old, context="users.name") == "Maya Thompson"
    assert rotated.decrypt(sealed_by_new, context="users.name") == "Maya Thompson"
    assert rotated.needs_rotation(sealed_by_old)
    assert not rotated.needs_rotation(sealed_by_new)
    with pytest.raises(DecryptionError):
        old.decrypt(sealed_by_new, context="users.name")
    # Once the old key is dropped, what it sealed no longer opens.
    with pytest.raises(DecryptionError):
        cipher("k2", specs=specs).decrypt(sealed_by_old, context="users.name")


def test_same_key_id_with_other_material_does_not_open() -> None:
    token = cipher("k1").encrypt("hello", context="users.name")
    with pytest.raises(DecryptionError):
        cipher("k1").decrypt(token, context="users.name")


@pytest.mark.parametrize(
    "spec",
    ["", "nokeymaterial", "k1:" + "A" * 10, "bad-id:" + "A" * 43, "k1:{k},k1:{k}"],
)
def test_bad_keyrings_are_refused(spec: str) -> None:
    key = Keyring.generate_key_spec("k1").split(":", 1)[1]
    with pytest.raises(KeyringError):
        Keyring.parse(spec.format(k=key))


def test_email_lookup_hash_normalises_and_depends_on_key() -> None:
    a = lookup_hash(normalise_email("  Ana@Example.COM "), key="one", purpose="email")
    b = lookup_hash(normalise_email("ana@example.com"), key="one", purpose="email")
    assert a == b and len(a) == 64 and "ana" not in a
    assert a != lookup_hash(normalise_email("ana@example.com"), key="two", purpose="email")
    assert a != lookup_hash(normalise_email("ana+x@example.com"), key="one", purpose="email")
