"""Accounts: sign-up, authentication with throttling, API tokens, addresses.

Plain functions taking a Session; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import Address, ApiToken, LoginThrottle, Role, StaffPermission, User
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.errors import (
    BAD_CREDENTIALS,
    EMAIL_TAKEN,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ProblemError,
    RateLimited,
)
from reelshop.ids import looks_like
from reelshop.markets import service as markets
from reelshop.outbox import service as outbox
from reelshop.security import audit, keys, rate_limits
from reelshop.security.passwords import (
    burn_verify_time,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from reelshop.security.scopes import Scope, scopes_for

SELF_SERVICE_ROLES = frozenset({Role.SHOPPER, Role.SELLER, Role.CREATOR})
TOKEN_PREFIX = "rs_"  # noqa: S105 - a prefix, not a secret
MAX_TOKENS_PER_USER = 50


def find_user_by_email(*, session: Session, email: str) -> User | None:
    return session.scalars(
        select(User).where(User.email_hash == keys.email_lookup_hash(email))
    ).first()


def get_user(*, session: Session, user_id: str) -> User:
    user = session.get(User, user_id) if looks_like("usr", user_id) else None
    if user is None:
        raise NotFound("no such user")
    return user


def sign_up(
    *,
    session: Session,
    email: str,
    password: str,
    name: str,
    role: Role = Role.SHOPPER,
    market_code: str = markets.LAUNCH_MARKET,
    phone: str | None = None,
    handle: str | None = None,
) -> User:
    if role not in SELF_SERVICE_ROLES:
        raise InvalidInput(f"accounts with role {role!r} are created by an administrator")
    user = _create_user(
        session=session,
        email=email,
        password=password,
        name=name,
        role=role,
        market_code=market_code,
        phone=phone,
        handle=handle,
    )
    outbox.emit(
        session=session,
        topic="user.signed_up",
        subject_id=user.id,
        payload={"user_id": user.id, "role": user.role, "market": user.market_code},
    )
    return user


def create_staff_user(
    *,
    session: Session,
    email: str,
    password: str,
    name: str,
    permissions: list[StaffPermission],
    created_by: str | None,
    market_code: str = markets.LAUNCH_MARKET,
) -> User:
    if not permissions:
        raise InvalidInput("a staff member needs at least one permission")
    user = _create_user(
        session=session,
        email=email,
        password=password,
        name=name,
        role=Role.STAFF,
        market_code=market_code,
    )
    user.staff_permissions = sorted(str(p) for p in permissions)
    audit.record(
        session=session,
        actor_id=created_by,
        action="staff.created",
        target_type="user",
        target_id=user.id,
        detail={"permissions": user.staff_permissions},
    )
    return user


def _create_user(
    *,
    session: Session,
    email: str,
    password: str,
    name: str,
    role: Role,
    market_code: str,
    phone: str | None = None,
    handle: str | None = None,
) -> User:
    problem = password_problem(password, email=email)
    if problem:
        raise InvalidInput(f"password refused: {problem}", field="password")
    if not name.strip():
        raise InvalidInput("name is required", field="name")
    market = markets.get_market(session=session, code=market_code)
    email_hash = keys.email_lookup_hash(email)
    if session.scalars(select(User.id).where(User.email_hash == email_hash)).first():
        raise Conflict("an account with this email already exists", problem=EMAIL_TAKEN)
    if handle and session.scalars(select(User.id).where(User.handle == handle)).first():
        raise Conflict(f"the handle @{handle} is taken", field="handle")
    user = User(
        email_hash=email_hash,
        email=email.strip(),
        name=name.strip(),
        phone=phone,
        handle=handle,
        password_hash=hash_password(password),
        role=role,
        staff_permissions=[],
        market_code=market.code,
        locale=market.default_locale,
    )
    session.add(user)
    session.flush()
    return user


# --- log-in and its throttle -----------------------------------------------------------


@dataclass(frozen=True)
class ThrottleKeys:
    pair: str  # this account from this client: the lock a guesser trips
    account: str  # this account from anywhere: only unknown clients are held by it
    client: str  # this client against any account: stops spraying


def _throttle_keys(email_hash: str, client_ip: str) -> ThrottleKeys:
    return ThrottleKeys(
        pair=f"pair:{email_hash}:{client_ip}",
        account=f"acct:{email_hash}",
        client=f"ip:{client_ip}",
    )


def _load_throttle(session: Session, key: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, key)


def _lock_remaining(row: LoginThrottle | None, now: datetime) -> int:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return int((row.locked_until - now).total_seconds()) + 1


def _note_failure(
    session: Session, key: str, *, threshold: int, settings: Settings, now: datetime
) -> None:
    window = timedelta(seconds=settings.login_lockout_max_s * 2)
    row = _load_throttle(session, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_started_at=now)
        session.add(row)
    elif row.window_started_at + window < now and (
        row.locked_until is None or row.locked_until <= now
    ):
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    if row.failures >= threshold:
        # Exponential back-off, capped: a lock always ends, so nobody can lock a victim
        # out for good by guessing wrong on purpose.
        over = row.failures - threshold
        seconds = min(
            settings.login_lockout_base_s * (2 ** min(over, 20)), settings.login_lockout_max_s
        )
        row.locked_until = now + timedelta(seconds=seconds)


def _clear(session: Session, key: str) -> None:
    row = _load_throttle(session, key)
    if row is not None:
        session.delete(row)


class LoginLocked(RateLimited):
    pass


def authenticate(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    client_ip: str,
    trusted_device_for: str | None = None,
) -> User:
    """Check credentials under the log-in throttle.

    ``trusted_device_for`` is the user id from a valid device cookie of an earlier
    successful log-in on this browser. Such a client is never held by the
    account-wide lock, only by its own failures, so an attacker hammering an account
    cannot keep its owner out.

    Failures are counted in the caller's transaction, which must commit even when this
    raises (see ``accounts.api``).
    """
    now = utcnow()
    email_hash = keys.email_lookup_hash(email)
    tk = _throttle_keys(email_hash, client_ip)
    user = session.scalars(select(User).where(User.email_hash == email_hash)).first()
    trusted = user is not None and trusted_device_for == user.id

    waits = [
        _lock_remaining(_load_throttle(session, tk.pair), now),
        _lock_remaining(_load_throttle(session, tk.client), now),
    ]
    if not trusted:
        waits.append(_lock_remaining(_load_throttle(session, tk.account), now))
    wait = max(waits)
    if wait:
        raise LoginLocked(
            f"too many failed log-ins; try again in {wait} seconds", retry_after_s=wait
        )
    if settings.rate_limits_enabled and not trusted:
        # Every attempt on one account counts, right or wrong (the per-IP limit is the
        # app-wide rate-limit dependency's); a browser that logged in before is exempt.
        hits, wait = rate_limits.count_hit(
            session=session,
            key=f"login:acct:{email_hash}",
            window_s=settings.rate_limit_login_window_s,
        )
        if hits > settings.rate_limit_login_per_account:
            raise LoginLocked(
                f"too many log-in attempts for this account; try again in {wait} seconds",
                retry_after_s=wait,
            )

    ok = user is not None and user.is_active and verify_password(user.password_hash, password)
    if user is None:
        burn_verify_time(password)
    if not ok or user is None:
        _note_failure(
            session, tk.pair, threshold=settings.login_max_failures, settings=settings, now=now
        )
        _note_failure(
            session,
            tk.account,
            threshold=settings.login_account_max_failures,
            settings=settings,
            now=now,
        )
        _note_failure(
            session,
            tk.client,
            threshold=settings.login_account_max_failures * 5,
            settings=settings,
            now=now,
        )
        raise ProblemError("email or password is wrong", problem=BAD_CREDENTIALS)

    _clear(session, tk.pair)
    _clear(session, tk.account)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(*, session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ProblemError("the current password is wrong", problem=BAD_CREDENTIALS)
    problem = password_problem(new, email=user.email)
    if problem:
        raise InvalidInput(f"password refused: {problem}", field="new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1  # every other session ends


# --- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    *,
    session: Session,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    ttl: timedelta | None = None,
    ceiling: frozenset[str] | None = None,
) -> IssuedToken:
    """Mint a token. ``ceiling`` is the scopes of the credential asking: a token can only
    mint tokens narrower than itself."""
    allowed = scopes_for(user) if ceiling is None else scopes_for(user) & ceiling
    wanted = set(scopes) if scopes is not None else set(allowed)
    unknown = wanted - {s.value for s in Scope}
    if unknown:
        raise InvalidInput(f"unknown scopes: {', '.join(sorted(unknown))}", field="scopes")
    beyond = wanted - allowed
    if beyond:
        raise Forbidden(f"you cannot grant: {', '.join(sorted(beyond))}")
    if not wanted:
        raise InvalidInput("a token needs at least one scope", field="scopes")
    live = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise Conflict(f"at most {MAX_TOKENS_PER_USER} active tokens; revoke one first")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip() or "token",
        token_hash=_hash_token(secret),
        display_prefix=secret[:10],
        scopes=sorted(wanted),
        expires_at=(utcnow() + ttl) if ttl else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def list_api_tokens(*, session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(*, session: Session, user: User, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id) if looks_like("tok", token_id) else None
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("no such token")
    token.revoked_at = utcnow()
    return token


def resolve_api_token(*, session: Session, secret: str) -> tuple[User, ApiToken] | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(secret))
    ).first()
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now  # coarse, so a busy token does not write on every call
    return user, token


# --- addresses -----------------------------------------------------------------------------


def add_address(
    *,
    session: Session,
    user: User,
    recipient: str,
    line1: str,
    city: str,
    region: str,
    postal_code: str,
    country: str,
    line2: str | None = None,
    phone: str | None = None,
    make_default: bool = False,
) -> Address:
    existing = list(user.addresses)
    if len(existing) >= 20:
        raise Conflict("at most 20 saved addresses")
    address = Address(
        user_id=user.id,
        recipient=recipient,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country.upper(),
        phone=phone,
        is_default=make_default or not existing,
    )
    if address.is_default:
        for other in existing:
            other.is_default = False
    user.addresses.append(address)
    session.flush()
    return address


def delete_address(*, session: Session, user: User, address_id: str) -> None:
    for address in user.addresses:
        if address.id == address_id:
            user.addresses.remove(address)
            session.flush()
            if address.is_default and user.addresses:
                user.addresses[0].is_default = True
            return
    raise NotFound("no such address")
