"""Post a video: the creator studio's and the seller center's upload page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from reelshop.accounts.models import Role
from reelshop.catalog import service as catalog
from reelshop.errors import ProblemError
from reelshop.feed import service as feed
from reelshop.security.authz import DbSession, Principal, require_role
from reelshop.sellers import service as sellers
from reelshop.storage import get_storage
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

AuthorPrincipal = Annotated[Principal, Depends(require_role(Role.CREATOR, Role.SELLER))]


def _context(session: DbSession, principal: Principal) -> dict[str, object]:
    own_products: list[object] = []
    if principal.role == Role.SELLER:
        seller = sellers.seller_for_user(session=session, user_id=principal.id)
        if seller is not None:
            page = catalog.list_seller_products(
                session=session, seller=seller, status="active", per_page=30
            )
            own_products = list(page.items)
    return {
        "videos": feed.videos_by_author(session=session, author_id=principal.id),
        "own_products": own_products,
        "media_url": feed.media_url,
        "home": "/seller" if principal.role == Role.SELLER else "/creator",
    }


@router.get("/studio/videos", response_class=HTMLResponse)
def studio(request: Request, principal: AuthorPrincipal, session: DbSession) -> Response:
    return render(request, "studio/videos.html", {**_context(session, principal), "form": {}})


@router.post("/studio/videos", response_class=HTMLResponse)
async def post_video(
    request: Request,
    principal: AuthorPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=300)] = "",
    product_refs: Annotated[str, Form(max_length=4000)] = "",
    own_product_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    data = await file.read(feed.MAX_VIDEO_BYTES + 1)
    product_ids = list(
        dict.fromkeys([*(own_product_ids or []), *feed.parse_product_refs(product_refs)])
    )
    try:
        if not product_ids:
            raise ProblemError("tag at least one product: paste its link or pick one of yours")
        # Probing the container and cutting the poster run ffmpeg: off the event loop.
        await run_in_threadpool(
            lambda: feed.publish_video(
                session=session,
                storage=get_storage(),
                author=principal.user,
                data=data,
                caption=caption,
                product_ids=product_ids,
            )
        )
    except ProblemError as exc:
        session.rollback()
        context = await run_in_threadpool(_context, session, principal)
        return render(
            request,
            "studio/videos.html",
            {
                **context,
                "error": exc.detail,
                "form": {"caption": caption, "product_refs": product_refs},
            },
            status_code=exc.status,
        )
    return RedirectResponse("/studio/videos?posted=1", status_code=303)
