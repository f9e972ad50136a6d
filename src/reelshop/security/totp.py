"""Time-based one-time passwords (RFC 6238, via pyotp) and recovery codes.

Codes are 6 digits over 30-second steps, as every authenticator app expects. A code
is accepted for the current step and one step either side (clock drift), and only
for a step newer than the last one accepted: :func:`matching_step` returns the step
so the caller can store it and refuse the same code a second time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg

ISSUER = "reelshop"
DIGITS = 6
INTERVAL_S = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account_label: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_S).provisioning_uri(
        name=account_label, issuer_name=ISSUER
    )


def qr_svg_data_uri(text: str) -> str:
    """The otpauth URL as an SVG QR code in a data: URI (the CSP allows data: images)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL_S)


def code_for_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_S).generate_otp(step)


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-").lower()


def matching_step(secret: str, code: str, *, after_step: int, now: float | None = None) -> int:
    """The time step ``code`` is valid for, or 0 when it is wrong, stale or replayed."""
    given = normalise_code(code)
    if len(given) != DIGITS or not given.isdigit():
        return 0
    step_now = current_step(now)
    for step in range(step_now - DRIFT_STEPS, step_now + DRIFT_STEPS + 1):
        if step > after_step and hmac.compare_digest(code_for_step(secret, step), given):
            return step
    return 0


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Codes like ``k7pq-x3mz-2rtd`` (12 of 31 characters: 59 bits); shown once, stored hashed."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    given = normalise_code(code)
    return len(given) == 12 and all(ch in _RECOVERY_ALPHABET for ch in given)
