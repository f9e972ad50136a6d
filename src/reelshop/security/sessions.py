"""Signed session cookies (HttpOnly, SameSite=Lax) carrying a CSRF token, and device cookies.

The cookie holds the user id, the user's session version (bumped to end all
sessions) and a random CSRF token; it is signed and time-limited with
itsdangerous. Forms echo the CSRF token in a hidden field, htmx in a header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from reelshop.config import Settings

DEVICE_COOKIE = "reelshop_device"
DEVICE_MAX_AGE_S = 180 * 24 * 3600


@dataclass(frozen=True)
class SessionData:
    user_id: str
    session_version: int
    csrf_token: str


class SessionCodec:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session = URLSafeTimedSerializer(settings.secret_key, salt="reelshop.session")
        self._device = URLSafeTimedSerializer(settings.secret_key, salt="reelshop.device")
        self._anon_csrf = URLSafeTimedSerializer(settings.secret_key, salt="reelshop.csrf")

    def issue(self, user_id: str, session_version: int) -> tuple[str, SessionData]:
        data = SessionData(user_id, session_version, secrets.token_urlsafe(24))
        value = self._session.dumps({"u": user_id, "v": session_version, "c": data.csrf_token})
        return value, data

    def read(self, value: str | None) -> SessionData | None:
        if not value:
            return None
        try:
            raw = self._session.loads(value, max_age=self.settings.session_max_age_s)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        try:
            return SessionData(str(raw["u"]), int(raw["v"]), str(raw["c"]))
        except (KeyError, TypeError, ValueError):
            return None

    def issue_device(self, user_id: str) -> str:
        return self._device.dumps({"u": user_id, "n": secrets.token_urlsafe(8)})

    def read_device(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            raw = self._device.loads(value, max_age=DEVICE_MAX_AGE_S)
        except BadSignature:
            return None
        return str(raw.get("u")) if isinstance(raw, dict) and raw.get("u") else None

    # Anonymous forms (log-in, sign-up) get a CSRF token bound to a random cookie.
    def anon_csrf_pair(self) -> tuple[str, str]:
        nonce = secrets.token_urlsafe(16)
        return nonce, self.anon_csrf_token(nonce)

    def anon_csrf_token(self, nonce: str) -> str:
        return str(self._anon_csrf.dumps(nonce))

    def check_anon_csrf(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        try:
            expected = self._anon_csrf.loads(token, max_age=24 * 3600)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, nonce)


def tokens_match(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)
