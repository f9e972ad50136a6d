"""Account security pages: the log-in's code step, password change, TOTP enrolment.

Thin: parse the form, call ``accounts`` / ``accounts.two_factor``, render. A change
of password or of the second factor ends every other session and gives this
browser a fresh session cookie (and CSRF token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.accounts import service as accounts
from reelshop.accounts import two_factor
from reelshop.accounts.models import User
from reelshop.errors import ProblemError
from reelshop.security.authz import DbSession, Principal, ShopperPrincipal
from reelshop.web.pages import _check_anon_csrf, _safe_next, _start_session
from reelshop.web.rendering import render, role_home

router = APIRouter(include_in_schema=False)

TICKET_COOKIE = "reelshop_2fa"


def begin_second_step(request: Request, session: DbSession, user: User, next_url: str) -> Response:
    """Called by the password log-in when the account has TOTP on: no session yet."""
    ticket = two_factor.issue_ticket(session=session, user=user)
    target = "/login/totp" + (f"?next={next_url}" if next_url else "")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        TICKET_COOKIE,
        ticket,
        max_age=int(two_factor.TICKET_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/login",
    )
    return response


@router.get("/login/totp", response_class=HTMLResponse)
def login_code_form(request: Request, next: str | None = None) -> Response:
    if not request.cookies.get(TICKET_COOKIE):
        return RedirectResponse("/login", status_code=303)
    return render(request, "security/login_code.html", {"next": next or ""})


@router.post("/login/totp", response_class=HTMLResponse)
def login_code_submit(
    request: Request,
    session: DbSession,
    code: Annotated[str, Form(max_length=40)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    _check_anon_csrf(request, csrf_token)
    ticket = request.cookies.get(TICKET_COOKIE, "")
    try:
        user = two_factor.redeem_ticket(session=session, ticket=ticket, code=code)
    except ProblemError as exc:
        session.commit()  # the ticket's attempt count must stick
        return render(
            request,
            "security/login_code.html",
            {"error": exc.detail, "next": next},
            status_code=exc.status,
        )
    response = RedirectResponse(_safe_next(next, role_home(user.role)), status_code=303)
    response.delete_cookie(TICKET_COOKIE, path="/login")
    _start_session(request, response, user.id, user.session_version)
    return response


def _security_context(session: DbSession, principal: Principal) -> dict[str, object]:
    user = principal.user
    return {
        "can_enrol": two_factor.can_enrol(user),
        "enrolled": two_factor.is_enrolled(session=session, user=user),
        "enrolment": two_factor.pending_enrolment(session=session, user=user),
        "recovery_left": two_factor.remaining_recovery_codes(session=session, user=user),
    }


def _page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: object,
) -> Response:
    context = _security_context(session, principal) | extra
    return render(request, "security/account_security.html", context, status_code=status_code)


def _refreshed(request: Request, response: Response, user: User) -> Response:
    """This browser stays logged in under the user's new session version."""
    _start_session(request, response, user.id, user.session_version)
    return response


@router.get("/account/security", response_class=HTMLResponse)
def security_page(request: Request, session: DbSession, principal: ShopperPrincipal) -> Response:
    return _page(request, session, principal)


@router.post("/account/security/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    session: DbSession,
    principal: ShopperPrincipal,
    current_password: Annotated[str, Form(max_length=200)],
    new_password: Annotated[str, Form(max_length=200)],
) -> Response:
    try:
        accounts.change_password(
            session=session, user=principal.user, current=current_password, new=new_password
        )
    except ProblemError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=exc.status, password_error=exc.detail)
    response = _page(request, session, principal, notice="Password changed.")
    return _refreshed(request, response, principal.user)


@router.post("/account/security/totp/start", response_class=HTMLResponse)
def totp_start(request: Request, session: DbSession, principal: ShopperPrincipal) -> Response:
    try:
        two_factor.begin_enrolment(session=session, user=principal.user)
    except ProblemError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=exc.status, totp_error=exc.detail)
    return _page(request, session, principal)


@router.post("/account/security/totp/confirm", response_class=HTMLResponse)
def totp_confirm(
    request: Request,
    session: DbSession,
    principal: ShopperPrincipal,
    code: Annotated[str, Form(max_length=40)],
) -> Response:
    try:
        codes = two_factor.confirm_enrolment(session=session, user=principal.user, code=code)
    except ProblemError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=exc.status, totp_error=exc.detail)
    response = _page(request, session, principal, recovery_codes=codes)
    return _refreshed(request, response, principal.user)


@router.post("/account/security/totp/disable", response_class=HTMLResponse)
def totp_disable(
    request: Request,
    session: DbSession,
    principal: ShopperPrincipal,
    password: Annotated[str, Form(max_length=200)],
    code: Annotated[str, Form(max_length=40)],
) -> Response:
    try:
        two_factor.disable(session=session, user=principal.user, password=password, code=code)
    except ProblemError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=exc.status, totp_error=exc.detail)
    response = _page(request, session, principal, notice="Two-factor log-in is off.")
    return _refreshed(request, response, principal.user)
