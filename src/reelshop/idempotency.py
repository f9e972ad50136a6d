"""``Idempotency-Key`` for state-changing API calls: a retry gets the first answer.

How a route uses it (one line in the body)::

    from reelshop.idempotency import IdempotencyKey   # required header
    # or OptionalIdempotencyKey: the call runs unguarded when the header is absent

    @router.post("/things", status_code=201, response_model=ThingOut)
    def create_thing(body: ThingIn, session: DbSession, principal: ShopperPrincipal,
                     idempotency: IdempotencyKey) -> Response:
        return idempotency.run(lambda: ThingOut.of(service.create(...)), status_code=201)

``run`` claims the key, calls the function, stores its JSON answer and returns it
as a response. Everything happens in the request's own unit of work (``DbSession``),
so the stored answer and the effect commit together or not at all:

- keys are scoped per user (two users may use the same key);
- the fingerprint is method + path + SHA-256 of the canonical JSON body; the same key
  with a different fingerprint is a 422 ``/problems/idempotency-key-reused``;
- a retry with the same key and body returns the stored status and body, with the
  header ``Idempotent-Replayed: true``; the function is not called again;
- two concurrent requests with one key: the claim is an ``INSERT ... ON CONFLICT DO
  NOTHING`` on the (user, key) primary key. On PostgreSQL the second insert waits
  for the first transaction and then sees its stored answer; on SQLite writers are
  serialised by ``BEGIN IMMEDIATE``. A claim found without an answer (only possible
  if a caller stored the claim in a separate transaction) is a 409
  ``/problems/idempotency-key-in-progress``;
- a call that fails with a problem (4xx) rolls back, claim included: it had no
  effect, so a retry runs it again;
- answers are kept ``settings.idempotency_ttl_h`` hours (default 24); expired keys
  are purged by ``purge_expired`` (periodic job) and treated as new before that.

For HTML forms the same guarantee comes from :func:`run_once` with a key from a
hidden form field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reelshop.checkout.models import IdempotencyRecord
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import Conflict, InvalidInput, ProblemError, problem_type
from reelshop.security.authz import AppSettings, CurrentPrincipal, DbSession

KEY_REUSED = problem_type(
    "idempotency-key-reused", 422, "This Idempotency-Key was used for a different request"
)
KEY_IN_PROGRESS = problem_type(
    "idempotency-key-in-progress", 409, "A request with this Idempotency-Key is still running"
)
KEY_MISSING = problem_type(
    "idempotency-key-missing", 400, "This call needs an Idempotency-Key header"
)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Method, path and a hash of the body in canonical JSON (key order and spacing ignored)."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":")
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: Any


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters", field=HEADER
        )
    return key


def claim(
    *, session: Session, user_id: str, key: str, fingerprint: str, ttl: timedelta
) -> StoredAnswer | None:
    """Claim ``key`` for this request: None if it is ours to run, or the stored answer."""
    now = utcnow()
    values = {
        "user_id": user_id,
        "key": key,
        "fingerprint": fingerprint,
        "created_at": now,
        "expires_at": now + ttl,
    }
    statement = (
        insert_on_conflict(session, IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyRecord.key)
    )
    if session.execute(statement).first() is not None:
        return None
    expired = session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at <= now,
        )
    )
    if expired.rowcount and session.execute(statement).first() is not None:  # type: ignore[attr-defined]
        return None
    record = session.scalars(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    ).one()
    if record.fingerprint != fingerprint:
        raise ProblemError(
            "this Idempotency-Key was already used with a different request body or path; "
            "use a new key for a new request",
            problem=KEY_REUSED,
        )
    if record.response_status is None:
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly",
            problem=KEY_IN_PROGRESS,
            headers={"Retry-After": "1"},
        )
    return StoredAnswer(record.response_status, record.response_body)


def store(*, session: Session, user_id: str, key: str, status: int, body: Any) -> None:
    record = session.get(IdempotencyRecord, (user_id, key))
    if record is None:  # pragma: no cover - claimed in this same transaction
        raise RuntimeError("idempotency key was not claimed")
    record.response_status = status
    record.response_body = body
    session.flush()


def run_once(
    *,
    session: Session,
    user_id: str,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    produce: Callable[[], Any],
    status_code: int = 200,
) -> tuple[StoredAnswer, bool]:
    """Run ``produce`` once per (user, key); returns (answer, replayed)."""
    key = _check_key(key)
    stored = claim(session=session, user_id=user_id, key=key, fingerprint=fingerprint, ttl=ttl)
    if stored is not None:
        return stored, True
    result = produce()
    body = jsonable_encoder(
        result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    )
    store(session=session, user_id=user_id, key=key, status=status_code, body=body)
    return StoredAnswer(status_code, body), False


@dataclass
class Idempotency:
    """Bound to one request: its user, key (or None) and fingerprint."""

    session: Session
    user_id: str
    key: str | None
    fingerprint: str
    ttl: timedelta

    def run(self, produce: Callable[[], Any], *, status_code: int = 200) -> JSONResponse:
        if self.key is None:
            result = produce()
            body = jsonable_encoder(
                result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            )
            return JSONResponse(body, status_code=status_code)
        answer, replayed = run_once(
            session=self.session,
            user_id=self.user_id,
            key=self.key,
            fingerprint=self.fingerprint,
            ttl=self.ttl,
            produce=produce,
            status_code=status_code,
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)


async def _bind(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    required: bool,
) -> Idempotency:
    raw = request.headers.get(HEADER)
    if raw is None and required:
        raise ProblemError(
            f"send an {HEADER} header (a random UUID per intended action) so a retry "
            "cannot repeat it",
            problem=KEY_MISSING,
        )
    body = await request.body()
    return Idempotency(
        session=session,
        user_id=principal.id,
        key=_check_key(raw) if raw is not None else None,
        fingerprint=fingerprint(request.method, request.url.path, body),
        ttl=timedelta(hours=settings.idempotency_ttl_h),
    )


async def required_idempotency(
    request: Request, session: DbSession, principal: CurrentPrincipal, settings: AppSettings
) -> Idempotency:
    return await _bind(request, session, principal, settings, True)


async def optional_idempotency(
    request: Request, session: DbSession, principal: CurrentPrincipal, settings: AppSettings
) -> Idempotency:
    return await _bind(request, session, principal, settings, False)


IdempotencyKey = Annotated[Idempotency, Depends(required_idempotency)]
OptionalIdempotencyKey = Annotated[Idempotency, Depends(optional_idempotency)]


def purge_expired(*, session: Session, limit: int = 5_000) -> int:
    """Delete answers past their keeping time (periodic job)."""
    now = utcnow()
    keys = session.execute(
        select(IdempotencyRecord.user_id, IdempotencyRecord.key)
        .where(IdempotencyRecord.expires_at <= now)
        .limit(limit)
    ).all()
    for user_id, key in keys:
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        )
    session.flush()
    return len(keys)
