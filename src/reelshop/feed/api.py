"""Feed API: the For You page, interaction events, video uploads and follows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from reelshop.errors import PAYLOAD_TOO_LARGE, ProblemError, problem_responses
from reelshop.feed import service
from reelshop.feed.schemas import (
    BuyTarget,
    EventIn,
    EventsAccepted,
    FeedPageOut,
    FeedVideo,
    FollowOut,
    MoneyOut,
    TaggedProduct,
    VideoOut,
)
from reelshop.money import Money
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    OptionalPrincipal,
    Principal,
    ShopperPrincipal,
    require_scope,
)
from reelshop.security.scopes import Scope
from reelshop.storage import get_storage

router = APIRouter(tags=["feed"])
VideoWriter = Annotated[Principal, Depends(require_scope(Scope.VIDEOS_WRITE))]

CART_LINES_URL = "/api/v1/cart/lines"  # the checkout API


def model_dir(settings: AppSettings) -> Path:
    return settings.data_dir / "recommender"


def money_out(value: Money) -> MoneyOut:
    return MoneyOut(amount=value.amount, currency=value.currency, display=value.format())


def feed_video(item: service.FeedItem) -> FeedVideo:
    return FeedVideo(
        video_id=item.video_id,
        media_url=item.media_url,
        content_type=item.content_type,
        poster_url=item.poster_url,
        caption=item.caption,
        duration_ms=item.duration_ms,
        creator=item.author_name,
        creator_user_id=item.author_user_id,
        products=[
            TaggedProduct(
                product_id=c.product_id,
                title=c.title,
                price=money_out(c.price),
                compare_at=money_out(c.compare_at) if c.compare_at else None,
                buy=BuyTarget(
                    url=CART_LINES_URL,
                    sku_id=c.sku_id,
                    video_id=item.video_id,
                    creator_id=c.affiliate_user_id,
                )
                if c.sku_id
                else None,
            )
            for c in item.products
        ],
        reason=item.reason,
        sponsored=item.sponsored,
    )


@router.get(
    "/feed",
    response_model=FeedPageOut,
    summary="The For You feed, 20 videos a page",
    responses=problem_responses(422),
)
def get_feed(
    session: DbSession,
    principal: OptionalPrincipal,
    settings: AppSettings,
    response: Response,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> FeedPageOut:
    started = time.perf_counter()
    page = service.feed_page(
        session=session,
        user_id=principal.id if principal else None,
        market_code=principal.user.market_code if principal else "US",
        cursor=cursor,
        model_dir=model_dir(settings),
    )
    out = FeedPageOut(
        items=[feed_video(i) for i in page.items],
        next_cursor=page.next_cursor,
        personalised=page.personalised,
    )
    response.headers["Server-Timing"] = f"feed;dur={(time.perf_counter() - started) * 1000:.2f}"
    return out


def _as_list(value: object) -> object:
    return [value] if isinstance(value, dict) else value


@router.post(
    "/feed/events",
    response_model=EventsAccepted,
    status_code=202,
    summary="Record interactions (one event or an array of them)",
    responses=problem_responses(401, 403, 404, 422),
)
def post_events(
    session: DbSession,
    principal: ShopperPrincipal,
    settings: AppSettings,
    events: Annotated[list[EventIn], BeforeValidator(_as_list), Body()],
) -> EventsAccepted:
    batch = events
    recorded = service.record_events(
        session=session,
        user_id=principal.id,
        events=[
            service.EventInput(
                video_id=e.video_id,
                kind=e.kind,
                watch_ms=e.watch_ms,
                completion_pct=e.completion_pct,
                product_id=e.product_id,
            )
            for e in batch
        ],
        model_dir=model_dir(settings),
    )
    return EventsAccepted(recorded=recorded)


@router.post(
    "/videos",
    response_model=VideoOut,
    status_code=201,
    summary="Upload a short video (MP4 or WebM) tagging one or more products",
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def upload_video(
    session: DbSession,
    principal: VideoWriter,
    file: Annotated[UploadFile, File(description="MP4 or WebM, at most 50 MB and 60 s")],
    product_ids: Annotated[str, Form(description="comma-separated product ids")],
    caption: Annotated[str, Form(max_length=300)] = "",
) -> VideoOut:
    data = await file.read(service.MAX_VIDEO_BYTES + 1)
    if len(data) > service.MAX_VIDEO_BYTES:
        raise ProblemError("videos are at most 50 MB", problem=PAYLOAD_TOO_LARGE)
    # The database work and the ffmpeg probe/poster run off the event loop.
    video = await run_in_threadpool(
        lambda: service.publish_video(
            session=session,
            storage=get_storage(),
            author=principal.user,
            data=data,
            caption=caption,
            product_ids=[p.strip() for p in product_ids.split(",") if p.strip()],
        )
    )
    return VideoOut(
        video_id=video.id,
        media_url=service.media_url(video.media_key),
        poster_url=service.media_url(video.poster_key),
        content_type=video.content_type,
        duration_ms=video.duration_ms,
        size_bytes=video.size_bytes,
        caption=video.caption,
        product_ids=[t.product_id for t in video.tags],
        affiliate=any(t.affiliate_user_id for t in video.tags),
    )


@router.put(
    "/creators/{creator_user_id}/follow",
    response_model=FollowOut,
    summary="Follow a creator",
    responses=problem_responses(401, 404, 422),
)
def follow_creator(
    creator_user_id: str, session: DbSession, principal: ShopperPrincipal
) -> FollowOut:
    service.follow(session=session, follower=principal.user, creator_user_id=creator_user_id)
    return FollowOut(creator_user_id=creator_user_id, following=True)


@router.delete(
    "/creators/{creator_user_id}/follow",
    status_code=204,
    summary="Stop following a creator",
    responses=problem_responses(401),
)
def unfollow_creator(
    creator_user_id: str, session: DbSession, principal: ShopperPrincipal
) -> Response:
    service.unfollow(session=session, follower=principal.user, creator_user_id=creator_user_id)
    return Response(status_code=204)
