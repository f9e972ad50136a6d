"""Who is calling, and may they: typed FastAPI dependencies used by every router.

A request is authenticated by a bearer API token (JSON API) or by the signed
session cookie (pages, and htmx calls from them). Cookie-authenticated requests
that change state must carry the session's CSRF token, in the ``X-CSRF-Token``
header or a ``csrf_token`` form field. Authorisation is decided here and only
here: routes declare what they need (``RequireRole``, ``RequireScope``,
``RequireStaff``) instead of re-checking inline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.errors import CSRF, Forbidden, ProblemError, Unauthenticated
from reelshop.security import permissions
from reelshop.security.scopes import Scope, scopes_for
from reelshop.security.sessions import SessionCodec, tokens_match

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def get_codec(request: Request) -> SessionCodec:
    codec = request.app.state.session_codec
    assert isinstance(codec, SessionCodec)
    return codec


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed if the route returns, rolled back if it raises."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


def get_read_db(request: Request) -> Iterator[Session]:
    """A read-only unit of work (runs beside writers on SQLite)."""
    with unit_of_work(request.app.state.read_session_factory) as session:
        yield session


# scope="function": the unit of work commits before the response is sent. With the
# default (request) scope FastAPI runs the commit after sending, so a crash or a failed
# commit could leave a client holding a 201 for something that was never stored (the
# payments crash test caught exactly that).
DbSession = Annotated[Session, Depends(get_db, scope="function")]
ReadDbSession = Annotated[Session, Depends(get_read_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


@dataclass(frozen=True)
class Principal:
    user: User
    via: Literal["token", "session"]
    scopes: frozenset[str]
    csrf_token: str | None = None
    token_id: str | None = None

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role

    def has_scope(self, scope: Scope) -> bool:
        return scope.value in self.scopes

    def is_staff_with(self, permission: StaffPermission) -> bool:
        return self.has_scope(Scope.STAFF) and self.user.has_permission(permission)


async def _csrf_given(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def optional_principal(request: Request, session: DbSession) -> Principal | None:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    principal: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        # Database work leaves the event loop: on SQLite a blocked BEGIN IMMEDIATE on the
        # loop would stall the request that holds the lock and needs the loop to commit.
        found = await run_in_threadpool(
            accounts.resolve_api_token, session=session, secret=secret.strip()
        )
        if found is None:
            raise Unauthenticated("the API token is unknown, expired or revoked")
        user, token = found
        principal = Principal(
            user, "token", frozenset(token.scopes) & scopes_for(user), token_id=token.id
        )
    else:
        codec = get_codec(request)
        data = codec.read(request.cookies.get(codec.settings.session_cookie_name))
        if data is not None:
            cookie_user = await run_in_threadpool(session.get, User, data.user_id)
            if (
                cookie_user is not None
                and cookie_user.is_active
                and cookie_user.session_version == data.session_version
            ):
                principal = Principal(
                    cookie_user, "session", scopes_for(cookie_user), data.csrf_token
                )
                if request.method not in SAFE_METHODS:
                    given = await _csrf_given(request)
                    if not tokens_match(data.csrf_token, given):
                        raise ProblemError(
                            "missing or wrong CSRF token; reload the page and try again",
                            problem=CSRF,
                        )
    request.state.principal = principal
    permissions.enforce(request, principal)
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthenticated("log in first")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_role(*roles: Role) -> Callable[..., Principal]:
    allowed = {r.value for r in roles}

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"this needs a {' or '.join(sorted(allowed))} account")
        return principal

    return dependency


def require_scope(scope: Scope) -> Callable[..., Principal]:
    def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden(f"this token lacks the {scope.value!r} scope")
        return principal

    return dependency


def require_staff(permission: StaffPermission) -> Callable[..., Principal]:
    def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_staff_with(permission):
            raise Forbidden(f"this needs the staff permission {permission.value!r}")
        return principal

    return dependency


ProfileReader = Annotated[Principal, Depends(require_scope(Scope.PROFILE_READ))]
ProfileWriter = Annotated[Principal, Depends(require_scope(Scope.PROFILE_WRITE))]
ShopperPrincipal = Annotated[Principal, Depends(current_principal)]  # every account can shop
SellerPrincipal = Annotated[Principal, Depends(require_role(Role.SELLER))]
CreatorPrincipal = Annotated[Principal, Depends(require_role(Role.CREATOR))]
StaffPrincipal = Annotated[Principal, Depends(require_role(Role.STAFF))]
AdminPrincipal = Annotated[Principal, Depends(require_staff(StaffPermission.ADMIN))]
