"""Optional TOTP two-factor for sellers and staff: enrol, log in with a code, disable.

Enrolment is two steps so a typo in the authenticator never locks anyone out: a
secret is stored unconfirmed, and only a correct code from the app confirms it (and
hands out the recovery codes, once). A log-in that passes the password for an
enrolled account gets a short-lived ticket instead of a session; the ticket plus a
code (or an unused recovery code) completes it. Enabling or disabling the factor and
changing the password end every other session (``session_version``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import (
    PendingSecondFactor,
    RecoveryCode,
    Role,
    TotpFactor,
    User,
)
from reelshop.db import utcnow
from reelshop.errors import BAD_CREDENTIALS, Conflict, Forbidden, InvalidInput, ProblemError
from reelshop.security import audit, totp
from reelshop.security.passwords import verify_password

TWO_FACTOR_ROLES = frozenset({Role.SELLER, Role.STAFF})
TICKET_TTL = timedelta(minutes=5)
TICKET_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_data_uri: str


def can_enrol(user: User) -> bool:
    return user.role in TWO_FACTOR_ROLES


def factor_of(*, session: Session, user: User) -> TotpFactor | None:
    return session.get(TotpFactor, user.id)


def is_enrolled(*, session: Session, user: User) -> bool:
    factor = factor_of(session=session, user=user)
    return factor is not None and factor.confirmed_at is not None


def begin_enrolment(*, session: Session, user: User) -> Enrolment:
    """A new unconfirmed secret (replacing an earlier unconfirmed one)."""
    if not can_enrol(user):
        raise Forbidden("two-factor log-in is offered to seller and staff accounts")
    factor = session.get(TotpFactor, user.id, with_for_update=True)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("two-factor log-in is already on; turn it off first to re-enrol")
    secret = totp.new_secret()
    if factor is None:
        session.add(TotpFactor(user_id=user.id, secret=secret, last_step=0))
    else:
        factor.secret = secret
        factor.last_step = 0
    session.flush()
    return enrolment_for(user=user, secret=secret)


def enrolment_for(*, user: User, secret: str) -> Enrolment:
    uri = totp.provisioning_uri(secret, account_label=user.email)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_data_uri=totp.qr_svg_data_uri(uri))


def pending_enrolment(*, session: Session, user: User) -> Enrolment | None:
    factor = factor_of(session=session, user=user)
    if factor is None or factor.confirmed_at is not None:
        return None
    return enrolment_for(user=user, secret=factor.secret)


def _accept_code(factor: TotpFactor, code: str) -> bool:
    step = totp.matching_step(factor.secret, code, after_step=factor.last_step)
    if not step:
        return False
    factor.last_step = step
    return True


def confirm_enrolment(*, session: Session, user: User, code: str) -> list[str]:
    """Turn the factor on with a first code; returns the recovery codes (shown once)."""
    factor = session.get(TotpFactor, user.id, with_for_update=True)
    if factor is None:
        raise Conflict("start the enrolment first")
    if factor.confirmed_at is not None:
        raise Conflict("two-factor log-in is already on")
    if not _accept_code(factor, code):
        raise InvalidInput("that code is not right; check the app's clock and try again")
    factor.confirmed_at = utcnow()
    codes = _replace_recovery_codes(session, user)
    user.session_version += 1  # a privilege change: every other session ends
    audit.record(
        session=session,
        actor_id=user.id,
        action="account.two_factor_enabled",
        target_type="user",
        target_id=user.id,
    )
    return codes


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(code)))
    session.flush()
    return codes


def check_second_factor(*, session: Session, user: User, code: str) -> bool:
    """A fresh TOTP code or an unused recovery code (used up by this call)."""
    factor = session.get(TotpFactor, user.id, with_for_update=True)
    if factor is None or factor.confirmed_at is None:
        return False
    if totp.looks_like_recovery_code(code):
        row = session.scalars(
            select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == totp.hash_recovery_code(code),
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        ).first()
        if row is None:
            return False
        row.used_at = utcnow()
        return True
    return _accept_code(factor, code)


def remaining_recovery_codes(*, session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def disable(*, session: Session, user: User, password: str, code: str) -> None:
    if not is_enrolled(session=session, user=user):
        raise Conflict("two-factor log-in is not on")
    if not verify_password(user.password_hash, password):
        raise ProblemError("the password is wrong", problem=BAD_CREDENTIALS)
    if not check_second_factor(session=session, user=user, code=code):
        raise ProblemError("that code is not right", problem=BAD_CREDENTIALS)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    factor = session.get(TotpFactor, user.id)
    if factor is not None:
        session.delete(factor)
    user.session_version += 1
    audit.record(
        session=session,
        actor_id=user.id,
        action="account.two_factor_disabled",
        target_type="user",
        target_id=user.id,
    )
    session.flush()


# --- the second step of a log-in --------------------------------------------------------


def _ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(*, session: Session, user: User) -> str:
    now = utcnow()
    session.execute(delete(PendingSecondFactor).where(PendingSecondFactor.expires_at < now))
    ticket = secrets.token_urlsafe(32)
    session.add(
        PendingSecondFactor(
            ticket_hash=_ticket_hash(ticket),
            user_id=user.id,
            expires_at=now + TICKET_TTL,
            attempts=0,
        )
    )
    session.flush()
    return ticket


def redeem_ticket(*, session: Session, ticket: str, code: str) -> User:
    """The user whose password log-in ``ticket`` continues, if ``code`` is right.

    Wrong codes count against the ticket (five, then it is gone); the caller commits
    even when this raises, so the count sticks."""
    row = session.get(PendingSecondFactor, _ticket_hash(ticket), with_for_update=True)
    if row is None or row.expires_at <= utcnow():
        raise ProblemError(
            "the log-in expired; enter your email and password again", problem=BAD_CREDENTIALS
        )
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        session.delete(row)
        raise ProblemError("the log-in expired", problem=BAD_CREDENTIALS)
    if not check_second_factor(session=session, user=user, code=code):
        row.attempts += 1
        if row.attempts >= TICKET_MAX_ATTEMPTS:
            session.delete(row)
        raise ProblemError("that code is not right", problem=BAD_CREDENTIALS)
    session.delete(row)
    session.flush()
    return user
