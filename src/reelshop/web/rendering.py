"""Template rendering with the context every page needs (who is logged in, CSRF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from reelshop.errors import ProblemError
from reelshop.money import Money

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
ANON_CSRF_COOKIE = "reelshop_csrf"


def _format_money(value: Money, locale: str = "en_US") -> str:
    return value.format(locale)


templates.env.filters["money"] = _format_money

ROLE_HOME = {"shopper": "/shop", "seller": "/seller", "creator": "/creator", "staff": "/staff"}


def role_home(role: str) -> str:
    return ROLE_HOME.get(role, "/shop")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    ctx: dict[str, Any] = {
        "principal": principal,
        "user": principal.user if principal else None,
        "csrf_token": principal.csrf_token if principal else None,
        "home_url": role_home(principal.role) if principal else "/",
    }
    if context:
        ctx.update(context)
    anon_cookie: tuple[str, str] | None = None
    if principal is None and ctx.get("csrf_token") is None:
        codec = request.app.state.session_codec
        nonce = request.cookies.get(ANON_CSRF_COOKIE)
        if not nonce:
            nonce, token = codec.anon_csrf_pair()
            anon_cookie = (ANON_CSRF_COOKIE, nonce)
        else:
            token = codec.anon_csrf_token(nonce)
        ctx["csrf_token"] = token
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if anon_cookie:
        settings = request.app.state.settings
        response.set_cookie(
            anon_cookie[0],
            anon_cookie[1],
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
            max_age=24 * 3600,
        )
    return response


def render_error_page(request: Request, exc: ProblemError) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status": exc.status, "title": exc.problem.title, "detail": exc.detail},
        status_code=exc.status,
    )
