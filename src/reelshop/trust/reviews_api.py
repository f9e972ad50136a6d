"""JSON API of reviews: shoppers write and edit reviews of delivered order lines, anyone
reads a product's published reviews, sellers answer once, trust & safety staff release
or remove held reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Header, Query, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.images import MAX_BYTES
from reelshop.errors import PAYLOAD_TOO_LARGE, ProblemError, problem_responses
from reelshop.security.authz import (
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.trust import reviews
from reelshop.trust.review_models import ProductRating, Review, ReviewPhoto

router = APIRouter(tags=["reviews"])

TrustStaff = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: str = Field(min_length=1, max_length=40)
    rating: StrictInt = Field(ge=1, le=5)
    body: str = Field(default="", max_length=reviews.POLICY.max_body_chars)


class ReviewEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: StrictInt | None = Field(default=None, ge=1, le=5)
    body: str | None = Field(default=None, max_length=reviews.POLICY.max_body_chars)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=reviews.POLICY.max_answer_chars)


class ModerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["release", "remove"]
    note: str = Field(default="", max_length=300)


class PhotoOut(BaseModel):
    id: str
    url: str
    thumb_url: str
    width: int
    height: int

    @classmethod
    def of(cls, photo: ReviewPhoto) -> PhotoOut:
        return cls(
            id=photo.id,
            url=f"/reviews/photos/{photo.id}",
            thumb_url=f"/reviews/photos/{photo.id}?size=thumb",
            width=photo.width,
            height=photo.height,
        )


class ReviewOut(BaseModel):
    id: str
    product_id: str
    order_line_id: str
    rating: int
    body: str
    status: str
    reviewer_name: str
    created_at: datetime
    edited_at: datetime | None
    seller_answer: str | None
    seller_answered_at: datetime | None
    photos: list[PhotoOut]

    @classmethod
    def of(cls, review: Review, reviewer_name: str) -> ReviewOut:
        return cls(
            id=review.id,
            product_id=review.product_id,
            order_line_id=review.order_line_id,
            rating=review.rating,
            body=review.body,
            status=review.status,
            reviewer_name=reviewer_name,
            created_at=review.created_at,
            edited_at=review.edited_at,
            seller_answer=review.seller_answer,
            seller_answered_at=review.seller_answered_at,
            photos=[PhotoOut.of(p) for p in review.photos],
        )


class HeldReviewOut(ReviewOut):
    hold_reasons: list[dict[str, str]]
    seller_id: str


class RatingOut(BaseModel):
    count: int
    average: float | None
    stars: dict[str, int]

    @classmethod
    def of(cls, rating: ProductRating | None) -> RatingOut:
        if rating is None:
            return cls(count=0, average=None, stars={str(n): 0 for n in range(1, 6)})
        return cls(
            count=rating.rating_count,
            average=rating.average,
            stars={str(n): getattr(rating, f"stars_{n}") for n in range(1, 6)},
        )


class ProductReviewsOut(BaseModel):
    rating: RatingOut
    reviews: list[ReviewOut]


def _out(session: Session, review: Review) -> ReviewOut:
    names = reviews.reviewer_names(session=session, reviews=[review])
    return ReviewOut.of(review, names[review.reviewer_id])


def _seller_id(session: Session, principal: Principal) -> str:
    return sellers.own_shop(session=session, user_id=principal.id).id


@router.get(
    "/products/{product_id}/reviews",
    response_model=ProductReviewsOut,
    summary="A product's published reviews, newest first, with its rating aggregate",
    responses=problem_responses(404, 422),
)
def product_reviews(
    product_id: str,
    session: ReadDbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ProductReviewsOut:
    reviews.require_listed_product(session=session, product_id=product_id)
    rows = reviews.product_reviews(
        session=session, product_id=product_id, limit=limit, offset=offset
    )
    names = reviews.reviewer_names(session=session, reviews=rows)
    return ProductReviewsOut(
        rating=RatingOut.of(reviews.product_rating(session=session, product_id=product_id)),
        reviews=[ReviewOut.of(r, names[r.reviewer_id]) for r in rows],
    )


@router.post(
    "/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    summary="Review a delivered order line (one review per line); may be held for checks",
    responses=problem_responses(401, 404, 409, 422),
)
def create_review(
    body: ReviewIn,
    principal: ShopperPrincipal,
    session: DbSession,
    x_device_id: Annotated[str | None, Header(max_length=200)] = None,
) -> ReviewOut:
    review = reviews.create_review(
        session=session,
        reviewer_id=principal.id,
        order_line_id=body.order_line_id,
        rating=body.rating,
        body=body.body,
        device_fingerprint=x_device_id,
    )
    return _out(session, review)


@router.patch(
    "/reviews/{review_id}",
    response_model=ReviewOut,
    summary="Edit your review within the edit window",
    responses=problem_responses(401, 404, 409, 422),
)
def edit_review(
    review_id: str, body: ReviewEdit, principal: ShopperPrincipal, session: DbSession
) -> ReviewOut:
    review = reviews.edit_review(
        session=session,
        reviewer_id=principal.id,
        review_id=review_id,
        rating=body.rating,
        body=body.body,
    )
    return _out(session, review)


@router.post(
    "/reviews/{review_id}/photos",
    status_code=status.HTTP_201_CREATED,
    response_model=PhotoOut,
    summary="Add a photo to your review (re-encoded; metadata such as GPS is dropped)",
    responses=problem_responses(401, 404, 409, 413, 415, 422),
)
def add_photo(
    review_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> PhotoOut:
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ProblemError(
            f"images are at most {MAX_BYTES // (1024 * 1024)} MB", problem=PAYLOAD_TOO_LARGE
        )
    photo = reviews.add_photo(
        session=session, reviewer_id=principal.id, review_id=review_id, data=data
    )
    return PhotoOut.of(photo)


@router.post(
    "/seller/reviews/{review_id}/answer",
    response_model=ReviewOut,
    summary="Answer a review of your shop, once",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def answer_review(
    review_id: str, body: AnswerIn, principal: SellerPrincipal, session: DbSession
) -> ReviewOut:
    review = reviews.answer_review(
        session=session,
        seller_id=_seller_id(session, principal),
        review_id=review_id,
        answer=body.answer,
    )
    return _out(session, review)


@router.get(
    "/staff/reviews/held",
    response_model=list[HeldReviewOut],
    summary="Reviews held by a fake-review signal, oldest first",
    responses=problem_responses(401, 403),
)
def held_reviews(principal: TrustStaff, session: ReadDbSession) -> list[HeldReviewOut]:
    rows = reviews.held_reviews(session=session)
    names = reviews.reviewer_names(session=session, reviews=rows)
    return [
        HeldReviewOut(
            **ReviewOut.of(r, names[r.reviewer_id]).model_dump(),
            hold_reasons=[
                {"signal": str(x.get("signal")), "detail": str(x.get("detail"))}
                for x in r.hold_reasons
            ],
            seller_id=r.seller_id,
        )
        for r in rows
    ]


@router.post(
    "/staff/reviews/{review_id}/moderation",
    response_model=ReviewOut,
    summary="Release a held review (published and counted) or remove a review",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def moderate_review(
    review_id: str, body: ModerationIn, principal: TrustStaff, session: DbSession
) -> ReviewOut:
    review = reviews.moderate_review(
        session=session,
        review_id=review_id,
        actor_id=principal.id,
        action=body.action,
        note=body.note,
    )
    return _out(session, review)
