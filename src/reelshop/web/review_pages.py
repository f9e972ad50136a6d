"""HTML pages of reviews: the product page's review list (loaded by htmx into the product
page), the shopper's review form from the order page, the seller's answers, and the
staff view of held reviews."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.images import MAX_BYTES
from reelshop.checkout import service as checkout
from reelshop.errors import (
    PAYLOAD_TOO_LARGE,
    Conflict,
    InvalidInput,
    NotFound,
    ProblemError,
)
from reelshop.security.authz import (
    DbSession,
    OptionalPrincipal,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.trust import claims, reviews
from reelshop.trust.review_models import Review
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

TrustStaff = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]
DEVICE_COOKIE = "reelshop_rdev"
DEVICE_MAX_AGE_S = 400 * 24 * 3600
SIGNAL_LABEL = {
    reviews.Signal.BURST_PRODUCT: "Burst of reviews on the product",
    reviews.Signal.BURST_SELLER: "Burst of reviews on the seller",
    reviews.Signal.SIMILAR_TEXT: "Same or near-same text as another review",
    reviews.Signal.OWN_ACCOUNT: "Written from the seller's own account",
    reviews.Signal.SHARED_ADDRESS: "Address shared with the seller or another reviewer",
    reviews.Signal.SAME_DEVICE: "Device shared with another reviewer",
    reviews.Signal.PAID_BY_SELLER: "Reviewer paid by the seller",
}
PAGE = 10
CLAIM_STATUS_LABEL = {
    "awaiting_seller": "waiting for the seller",
    "awaiting_staff": "with our team",
    "escalated": "with our team",
    "upheld": "upheld, refunded",
    "rejected": "not upheld",
}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _uploads(form: Any, name: str) -> list[bytes]:
    """The non-empty files posted under ``name``, each read up to the size limit."""
    found = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            data = item.file.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise ProblemError(
                    f"images are at most {MAX_BYTES // (1024 * 1024)} MB",
                    problem=PAYLOAD_TOO_LARGE,
                )
            if data:
                found.append(data)
    return found


def _seller_id(session: Session, principal: Principal) -> str:
    return sellers.own_shop(session=session, user_id=principal.id).id


# --- product page ------------------------------------------------------------------------------


@router.get("/products/{product_id}/reviews", response_class=HTMLResponse)
def product_reviews_page(
    product_id: str,
    request: Request,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    """The fragment the product page loads (htmx), or a page of its own without htmx."""
    product = reviews.require_listed_product(session=session, product_id=product_id)
    rows = reviews.product_reviews(
        session=session, product_id=product_id, limit=PAGE + 1, offset=(page - 1) * PAGE
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    rating = reviews.product_rating(session=session, product_id=product_id)
    context = {
        "product": product,
        "rating": rating,
        "stars": [(n, getattr(rating, f"stars_{n}") if rating else 0) for n in range(5, 0, -1)],
        "reviews": rows,
        "names": reviews.reviewer_names(session=session, reviews=rows),
        "page": page,
        "more": more,
    }
    if _is_htmx(request):
        return render(request, "reviews/_list.html", context)
    return render(request, "reviews/product_reviews.html", context)


@router.get("/reviews/photos/{photo_id}")
def review_photo(
    photo_id: str,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    size: Annotated[str, Query(max_length=8)] = "full",
) -> Response:
    is_staff = principal is not None and principal.is_staff_with(StaffPermission.TRUST_SAFETY)
    data, content_type = reviews.photo_for_viewing(
        session=session,
        photo_id=photo_id,
        viewer_id=principal.id if principal else None,
        is_staff=is_staff,
        thumb=size == "thumb",
    )
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


# --- the shopper's order page ------------------------------------------------------------------


@router.get("/orders/{order_id}/protection", response_class=HTMLResponse)
def order_protection(
    order_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    """Reviews and claims for one order: loaded into the order page by htmx."""
    lines = reviews.reviewable_lines(session=session, shopper_id=principal.id, order_id=order_id)
    order = checkout.shopper_order(session=session, shopper_id=principal.id, order_id=order_id)
    context = {
        "order": order,
        "lines": lines,
        "claims": claims.order_claims(session=session, order_id=order.id),
        "claim_types": claims.available_types(session=session, order=order),
        "type_label": claims.TYPE_LABEL,
        "claim_status_label": CLAIM_STATUS_LABEL,
        "edit_open": {
            x.review.id: reviews.can_edit(x.review) for x in lines if x.review is not None
        },
    }
    template = "reviews/_order_protection.html" if _is_htmx(request) else "reviews/order.html"
    return render(request, template, context)


def _line_and_review(
    session: Session, shopper_id: str, order_id: str, line_id: str
) -> reviews.ReviewableLine:
    for item in reviews.reviewable_lines(session=session, shopper_id=shopper_id, order_id=order_id):
        if item.line.id == line_id:
            return item
    raise NotFound("no such order line")


def _form_page(
    request: Request,
    session: Session,
    shopper_id: str,
    order_id: str,
    line_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    item = _line_and_review(session, shopper_id, order_id, line_id)
    if item.review is None and not item.can_review:
        raise Conflict("you can review this product once its order has been delivered")
    response = render(
        request,
        "reviews/form.html",
        {
            "order_id": order_id,
            "line": item.line,
            "review": item.review,
            "editable": item.review is None or reviews.can_edit(item.review),
            "policy": reviews.POLICY,
            "active": "orders",
            **extra,
        },
        status_code=status_code,
    )
    if not request.cookies.get(DEVICE_COOKIE):
        settings = request.app.state.settings
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
            max_age=DEVICE_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
        )
    return response


@router.get("/orders/{order_id}/lines/{line_id}/review", response_class=HTMLResponse)
def review_form(
    order_id: str,
    line_id: str,
    request: Request,
    principal: ShopperPrincipal,
    session: ReadDbSession,
) -> Response:
    return _form_page(request, session, principal.id, order_id, line_id)


@router.post("/orders/{order_id}/lines/{line_id}/review", response_class=HTMLResponse)
def save_review(
    order_id: str,
    line_id: str,
    request: Request,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    raw_rating = str(form.get("rating") or "")
    body = str(form.get("body") or "")
    try:
        if not raw_rating.isdigit():
            raise InvalidInput("choose a rating from 1 to 5 stars", field="rating")
        item = _line_and_review(session, principal.id, order_id, line_id)
        if item.review is None:
            review = reviews.create_review(
                session=session,
                reviewer_id=principal.id,
                order_line_id=line_id,
                rating=int(raw_rating),
                body=body,
                device_fingerprint=request.cookies.get(DEVICE_COOKIE),
            )
        else:
            review = reviews.edit_review(
                session=session,
                reviewer_id=principal.id,
                review_id=item.review.id,
                rating=int(raw_rating),
                body=body,
            )
        for data in _uploads(form, "photos"):
            reviews.add_photo(
                session=session, reviewer_id=principal.id, review_id=review.id, data=data
            )
    except ProblemError as exc:
        session.rollback()
        return _form_page(
            request,
            session,
            principal.id,
            order_id,
            line_id,
            status_code=exc.status,
            error=exc.detail,
            form={"rating": raw_rating, "body": body},
        )
    return RedirectResponse(f"/orders/{order_id}?review={review.status}", status_code=303)


# --- seller ------------------------------------------------------------------------------------


@router.get("/seller/reviews", response_class=HTMLResponse)
def seller_reviews_page(
    request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller_id = _seller_id(session, principal)
    rows = reviews.seller_reviews(session=session, seller_id=seller_id, limit=100)
    return render(
        request,
        "reviews/seller.html",
        {
            "reviews": rows,
            "names": reviews.reviewer_names(session=session, reviews=rows),
            "seller": sellers.get_seller(session=session, seller_id=seller_id),
            "policy": reviews.POLICY,
        },
    )


@router.post("/seller/reviews/{review_id}/answer")
def answer_review(
    review_id: str, principal: SellerPrincipal, session: DbSession, form: PostedForm
) -> Response:
    reviews.answer_review(
        session=session,
        seller_id=_seller_id(session, principal),
        review_id=review_id,
        answer=str(form.get("answer") or ""),
    )
    return RedirectResponse(f"/seller/reviews#review-{review_id}", status_code=303)


# --- staff -------------------------------------------------------------------------------------


@router.get("/staff/reviews", response_class=HTMLResponse)
def held_reviews_page(request: Request, principal: TrustStaff, session: ReadDbSession) -> Response:
    rows: list[Review] = reviews.held_reviews(session=session)
    return render(
        request,
        "reviews/staff_held.html",
        {
            "reviews": rows,
            "names": reviews.reviewer_names(session=session, reviews=rows),
            "signal_label": SIGNAL_LABEL,
        },
    )


@router.post("/staff/reviews/{review_id}/moderation")
def moderate_review(
    review_id: str, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    reviews.moderate_review(
        session=session,
        review_id=review_id,
        actor_id=principal.id,
        action=str(form.get("action") or ""),
        note=str(form.get("note") or ""),
    )
    return RedirectResponse("/staff/reviews", status_code=303)
