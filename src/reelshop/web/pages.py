"""HTML routes: log-in, sign-up, and each role's home. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.accounts import service as accounts
from reelshop.accounts import two_factor
from reelshop.accounts.models import Role, StaffPermission
from reelshop.errors import CSRF, ProblemError
from reelshop.security.authz import (
    AppSettings,
    CreatorPrincipal,
    DbSession,
    OptionalPrincipal,
    Principal,
    SellerPrincipal,
    ShopperPrincipal,
    StaffPrincipal,
    get_codec,
)
from reelshop.security.sessions import DEVICE_COOKIE, DEVICE_MAX_AGE_S
from reelshop.web.rendering import ANON_CSRF_COOKIE, render, role_home

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None, fallback: str) -> str:
    # Only same-site paths: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def _check_anon_csrf(request: Request, csrf_token: str) -> None:
    codec = get_codec(request)
    if not codec.check_anon_csrf(request.cookies.get(ANON_CSRF_COOKIE), csrf_token):
        raise ProblemError("the form expired; reload the page and try again", problem=CSRF)


def _start_session(
    request: Request, response: Response, principal_user_id: str, version: int
) -> None:
    codec = get_codec(request)
    settings = codec.settings
    value, _data = codec.issue(principal_user_id, version)  # a fresh session and CSRF token
    response.set_cookie(
        settings.session_cookie_name,
        value,
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    response.set_cookie(
        DEVICE_COOKIE,
        codec.issue_device(principal_user_id),
        max_age=DEVICE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, principal: OptionalPrincipal) -> Response:
    if principal is not None:
        return RedirectResponse(role_home(principal.role), status_code=303)
    return render(request, "landing.html")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: OptionalPrincipal, next: str | None = None) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next, role_home(principal.role)), status_code=303)
    return render(request, "login.html", {"next": next or ""})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    _check_anon_csrf(request, csrf_token)
    codec = get_codec(request)
    try:
        user = accounts.authenticate(
            session=session,
            settings=settings,
            email=email,
            password=password,
            client_ip=request.client.host if request.client else "unknown",
            trusted_device_for=codec.read_device(request.cookies.get(DEVICE_COOKIE)),
        )
    except ProblemError as exc:
        session.commit()  # keep the failure count
        return render(
            request,
            "login.html",
            {"error": exc.detail, "email": email, "next": next},
            status_code=exc.status,
        )
    if two_factor.is_enrolled(session=session, user=user):
        from reelshop.web.security_pages import begin_second_step  # imports this module

        return begin_second_step(request, session, user, _safe_next(next, ""))
    response = RedirectResponse(_safe_next(next, role_home(user.role)), status_code=303)
    _start_session(request, response, user.id, user.session_version)
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    return render(request, "signup.html", {"form": {}})


@router.post("/signup", response_class=HTMLResponse)
def signup_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(max_length=120)],
    role: Annotated[str, Form()] = "shopper",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _check_anon_csrf(request, csrf_token)
    form = {"email": email, "name": name, "role": role}
    try:
        if role not in ("shopper", "seller", "creator"):
            raise ProblemError("choose shopper, seller or creator")
        if "@" not in email or len(email) < 3:
            raise ProblemError("enter a valid email address")
        user = accounts.sign_up(
            session=session, email=email, password=password, name=name, role=Role(role)
        )
    except ProblemError as exc:
        session.rollback()
        return render(
            request, "signup.html", {"error": exc.detail, "form": form}, status_code=exc.status
        )
    response = RedirectResponse(role_home(user.role), status_code=303)
    _start_session(request, response, user.id, user.session_version)
    return response


@router.post("/logout")
def logout(request: Request, principal: OptionalPrincipal) -> Response:
    # The principal dependency already checked the CSRF token of a logged-in session.
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(get_codec(request).settings.session_cookie_name)
    return response


@router.get("/shop", response_class=HTMLResponse)
def shop_home(request: Request, principal: ShopperPrincipal) -> Response:
    return render(request, "shop/home.html")


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, principal: ShopperPrincipal) -> Response:
    return render(request, "account.html")


@router.get("/seller", response_class=HTMLResponse)
def seller_home(request: Request, principal: SellerPrincipal) -> Response:
    return render(request, "seller/home.html")


@router.get("/creator", response_class=HTMLResponse)
def creator_home(request: Request, principal: CreatorPrincipal) -> Response:
    return render(request, "creator/home.html")


def _staff_sections(principal: Principal) -> list[dict[str, str | None]]:
    """The console's sections this staff member may open; ``url`` None = not built yet."""
    sections: list[tuple[str, str, StaffPermission, str | None]] = [
        (
            "Seller vetting",
            "Approve applications and invite sellers",
            StaffPermission.TRUST_SAFETY,
            "/staff/sellers/applications",
        ),
        (
            "Moderation queue",
            "Suspected counterfeits and reports",
            StaffPermission.TRUST_SAFETY,
            "/staff/trust/cases",
        ),
        (
            "Held reviews",
            "Reviews held on fake-review signals: release or remove",
            StaffPermission.TRUST_SAFETY,
            "/staff/reviews",
        ),
        (
            "Brand registry",
            "Brands, infringement complaints and seller authorisations",
            StaffPermission.TRUST_SAFETY,
            "/staff/trust/brands",
        ),
        (
            "Strike appeals",
            "Sellers contesting a strike",
            StaffPermission.TRUST_SAFETY,
            "/staff/trust/appeals",
        ),
        (
            "Claims",
            "Buyer-protection claims awaiting a decision",
            StaffPermission.SUPPORT,
            "/staff/claims",
        ),
        (
            "Logistics",
            "Delay hot-spots by lane and carrier, late dispatch, dead letters",
            StaffPermission.SUPPORT,
            "/staff/logistics",
        ),
        (
            "Platform warehouse",
            "Count inbound stock in; pick and ship platform-fulfilled orders",
            StaffPermission.SUPPORT,
            "/staff/fulfilment",
        ),
        (
            "Finance",
            "Escrow, commission, payables and payouts",
            StaffPermission.FINANCE,
            "/staff/finance",
        ),
        (
            "GMV and growth",
            "GMV, orders, take rate and the funnel against the yearly target",
            StaffPermission.FINANCE,
            "/staff/analytics",
        ),
        (
            "Audit log",
            "Privileged actions and staff reads of personal data",
            StaffPermission.ADMIN,
            "/staff/audit",
        ),
        ("Markets & rollout", "Markets, rollout stages and staff", StaffPermission.ADMIN, None),
    ]
    return [
        {"title": title, "blurb": blurb, "permission": perm.value, "url": url}
        for title, blurb, perm, url in sections
        if principal.user.has_permission(perm)
    ]


@router.get("/staff", response_class=HTMLResponse)
def staff_home(request: Request, principal: StaffPrincipal) -> Response:
    return render(request, "staff/home.html", {"sections": _staff_sections(principal)})
