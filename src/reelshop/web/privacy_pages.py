"""The "Your data" page: download everything (JSON or readable), or delete the account."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from reelshop.errors import ProblemError
from reelshop.privacy import service as privacy
from reelshop.security.authz import CurrentPrincipal, DbSession, get_codec
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/account/data", response_class=HTMLResponse)
def your_data(request: Request, principal: CurrentPrincipal, session: DbSession) -> Response:
    blockers = privacy.deletion_blockers(session=session, user=principal.user)
    return render(
        request,
        "privacy/your_data.html",
        {"blockers": blockers, "confirm_word": privacy.CONFIRM_WORD, "error": None},
    )


@router.get("/account/data.json")
def your_data_json(principal: CurrentPrincipal, session: DbSession) -> Response:
    data = privacy.export_data(session=session, user=principal.user)
    return JSONResponse(
        data, headers={"Content-Disposition": 'attachment; filename="reelshop-data.json"'}
    )


def _readable(value: Any) -> Any:
    """Lists of flat rows become tables; anything nested is shown as indented JSON."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns = sorted({k for row in value for k in row})
        return {
            "table": True,
            "columns": columns,
            "rows": [
                [
                    json.dumps(row.get(c), ensure_ascii=False)
                    if isinstance(row.get(c), dict | list)
                    else row.get(c)
                    for c in columns
                ]
                for row in value
            ],
        }
    if isinstance(value, dict) and not any(isinstance(v, dict | list) for v in value.values()):
        return {"table": False, "facts": list(value.items())}
    if value is None or isinstance(value, str | int | float | bool):
        return {"table": False, "facts": [("", value)]}
    return {"table": False, "text": json.dumps(value, indent=2, ensure_ascii=False)}


@router.get("/account/data/view", response_class=HTMLResponse)
def your_data_view(request: Request, principal: CurrentPrincipal, session: DbSession) -> Response:
    data = privacy.export_data(session=session, user=principal.user)
    sections: list[tuple[str, list[tuple[str, Any]]]] = []
    for name, content in data["sections"].items():
        parts = content.items() if isinstance(content, dict) else [("", content)]
        sections.append((name, [(part, _readable(value)) for part, value in parts]))
    return render(
        request,
        "privacy/export.html",
        {"sections": sections, "generated_at": data["generated_at"]},
    )


@router.post("/account/delete", response_class=HTMLResponse)
def delete_account(
    request: Request, principal: CurrentPrincipal, session: DbSession, form: PostedForm
) -> Response:
    password = str(form.get("password") or "")
    confirm = str(form.get("confirm") or "")
    try:
        privacy.delete_account(
            session=session, user_id=principal.id, password=password, confirm=confirm
        )
    except ProblemError as exc:
        session.rollback()
        return render(
            request,
            "privacy/your_data.html",
            {
                "blockers": privacy.deletion_blockers(session=session, user=principal.user),
                "confirm_word": privacy.CONFIRM_WORD,
                "error": exc.detail,
            },
            status_code=exc.status,
        )
    request.state.principal = None
    response = render(request, "privacy/deleted.html")
    response.delete_cookie(get_codec(request).settings.session_cookie_name)
    return response
