"""create_app(): routers, middleware, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

import reelshop.models  # noqa: F401 - all tables registered before first use
from reelshop import __version__, storage
from reelshop.accounts.api import router as accounts_router
from reelshop.analytics import events as analytics_events
from reelshop.analytics.api import router as analytics_router
from reelshop.catalog.api import router as catalog_router
from reelshop.catalog.import_api import router as catalog_import_router
from reelshop.catalog.search_api import router as search_router
from reelshop.checkout.api import router as checkout_router
from reelshop.config import Environment, Settings, get_settings
from reelshop.db import make_engine, make_session_factory
from reelshop.errors import (
    INTERNAL,
    MALFORMED,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PROBLEM_TYPES,
    UNAUTHENTICATED,
    VALIDATION,
    ProblemError,
)
from reelshop.feed.api import router as feed_router
from reelshop.feed.monetisation_api import router as feed_monetisation_router
from reelshop.feed.service import register_sponsored_slots
from reelshop.feed.sponsored import SponsoredFiller
from reelshop.logistics.api import router as logistics_router
from reelshop.logistics.estimates_api import router as logistics_estimates_router
from reelshop.logistics.fulfilment_api import router as fulfilment_router
from reelshop.logistics.performance_api import router as performance_router
from reelshop.markets.api import router as markets_router
from reelshop.money import MoneyError
from reelshop.notifications.api import router as notifications_router
from reelshop.observability import Metrics, RequestContextMiddleware, configure_logging
from reelshop.payments.api import router as payments_router
from reelshop.privacy.api import router as privacy_router
from reelshop.request_gate import POSTGRES_LIMIT, SQLITE_LIMIT, DatabaseRequestGate
from reelshop.security import keys, permissions
from reelshop.security.audit_api import router as audit_router
from reelshop.security.body_limit import BodySizeLimitMiddleware
from reelshop.security.headers import SecurityHeadersMiddleware
from reelshop.security.passwords import use_cheap_hashing_for_tests
from reelshop.security.rate_limits import enforce_rate_limits, make_counters
from reelshop.security.sessions import SessionCodec
from reelshop.security.upload_cleanup import TrackingStorage, UploadCleanupMiddleware
from reelshop.sellers.api import router as sellers_router
from reelshop.trust.api import router as trust_router
from reelshop.trust.brand_api import router as brand_router
from reelshop.trust.claims_api import router as claims_router
from reelshop.trust.reviews_api import router as reviews_router
from reelshop.web.analytics_pages import router as analytics_pages_router
from reelshop.web.audit_pages import router as audit_pages_router
from reelshop.web.brand_pages import router as brand_pages_router
from reelshop.web.checkout_pages import router as checkout_pages_router
from reelshop.web.claim_pages import router as claim_pages_router
from reelshop.web.delivery_pages import router as delivery_pages_router
from reelshop.web.feed_pages import router as feed_pages_router
from reelshop.web.fulfilment_pages import router as fulfilment_pages_router
from reelshop.web.logistics_pages import router as logistics_pages_router
from reelshop.web.logistics_staff_pages import router as logistics_staff_pages_router
from reelshop.web.media import router as media_router
from reelshop.web.monetisation_pages import router as monetisation_pages_router
from reelshop.web.notification_pages import router as notification_pages_router
from reelshop.web.pages import router as pages_router
from reelshop.web.payment_pages import router as payment_pages_router
from reelshop.web.performance_pages import router as performance_pages_router
from reelshop.web.privacy_pages import router as privacy_pages_router
from reelshop.web.rendering import render_error_page
from reelshop.web.review_pages import router as review_pages_router
from reelshop.web.security_pages import router as security_pages_router
from reelshop.web.seller_catalog_pages import router as seller_catalog_pages_router
from reelshop.web.seller_pages import router as seller_pages_router
from reelshop.web.shop_pages import router as shop_pages_router
from reelshop.web.studio_pages import router as studio_pages_router
from reelshop.web.trust_pages import router as trust_pages_router
from reelshop.web.video_media import router as video_media_router

log = logging.getLogger("reelshop.app")

STATIC_DIR = Path(__file__).parent / "web" / "static"
PROBLEM_JSON = "application/problem+json"


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _problem_response(request: Request, exc: ProblemError) -> Response:
    if _wants_html(request):
        if exc.problem is UNAUTHENTICATED and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render_error_page(request, exc)
    return JSONResponse(
        exc.to_dict(instance=request.url.path),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=exc.headers,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def problem_handler(request: Request, exc: ProblemError) -> Response:
        return _problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_handler(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        malformed = any(e["type"] in ("json_invalid", "model_attributes_type") for e in errors)
        problem = ProblemError(
            "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors)[:500]
            or "invalid request",
            problem=MALFORMED if malformed else VALIDATION,
            errors=errors,
        )
        return _problem_response(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def http_handler(request: Request, exc: StarletteHTTPException) -> Response:
        known = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 400: MALFORMED}
        problem = known.get(exc.status_code)
        if problem is None:
            problem = next(
                (p for p in PROBLEM_TYPES.values() if p.status == exc.status_code), MALFORMED
            )
        detail = exc.detail if isinstance(exc.detail, str) else problem.title
        return _problem_response(
            request, ProblemError(detail, problem=problem, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, exc: DataError) -> Response:
        # The database refused a value the client sent (a NUL character, a number out of
        # the column's range): the client's error, and the transaction has rolled back.
        log.warning("database refused a value", extra={"path": request.url.path})
        return _problem_response(
            request,
            ProblemError(
                "a value is out of range or contains characters that cannot be stored",
                problem=VALIDATION,
            ),
        )

    @app.exception_handler(MoneyError)
    async def bad_money(request: Request, exc: MoneyError) -> Response:
        # An amount or currency code from the client that cannot be money (unknown ISO 4217
        # code, more decimals than the currency has, currencies mixed).
        return _problem_response(request, ProblemError(str(exc), problem=VALIDATION))

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return _problem_response(
            request,
            ProblemError("an unexpected error happened; it has been logged", problem=INTERNAL),
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    keys.configure(settings)
    uploads = TrackingStorage(storage.storage_from_settings(settings))
    storage.configure(uploads)
    if settings.env == "test":
        use_cheap_hashing_for_tests()

    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        analytics_events.flush()
        engine.dispose()

    app = FastAPI(
        title="reelshop",
        version=__version__,
        description="Social commerce: short videos that sell. JSON API under /api/v1.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        responses={
            422: {"description": "Validation error (RFC 9457 problem details)"},
            413: {"description": "Request body too large (RFC 9457 problem details)"},
            429: {"description": "Rate limited; see Retry-After (RFC 9457 problem details)"},
        },
        dependencies=[Depends(enforce_rate_limits)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.read_session_factory = make_session_factory(engine, deferred=True)
    app.state.session_codec = SessionCodec(settings)
    app.state.rate_counters = make_counters(settings, app.state.session_factory)
    metrics = Metrics()
    app.state.metrics = metrics
    analytics_events.configure(settings.analytics_path)
    metrics.registry.register(analytics_events.WriterCollector())

    _install_error_handlers(app)
    register_sponsored_slots(SponsoredFiller())
    app.include_router(accounts_router, prefix="/api/v1")
    app.include_router(markets_router, prefix="/api/v1")
    app.include_router(fulfilment_router, prefix="/api/v1")
    app.include_router(performance_router, prefix="/api/v1")
    app.include_router(checkout_router, prefix="/api/v1")
    # Before the catalog router: /seller/products/export.csv is not a product id.
    app.include_router(catalog_import_router, prefix="/api/v1")
    app.include_router(catalog_router, prefix="/api/v1")
    app.include_router(search_router, prefix="/api/v1")
    app.include_router(sellers_router, prefix="/api/v1")
    app.include_router(trust_router, prefix="/api/v1")
    app.include_router(brand_router, prefix="/api/v1")
    app.include_router(payments_router, prefix="/api/v1")
    app.include_router(logistics_router, prefix="/api/v1")
    app.include_router(notifications_router, prefix="/api/v1")
    app.include_router(logistics_estimates_router, prefix="/api/v1")
    app.include_router(feed_router, prefix="/api/v1")
    app.include_router(feed_monetisation_router, prefix="/api/v1")
    app.include_router(analytics_router, prefix="/api/v1")
    app.include_router(reviews_router, prefix="/api/v1")
    app.include_router(claims_router, prefix="/api/v1")
    # Before the image media router: its /media/{key:path} would take video keys too.
    app.include_router(video_media_router)
    app.include_router(feed_pages_router)
    app.include_router(monetisation_pages_router)
    app.include_router(media_router)
    app.include_router(pages_router)
    app.include_router(trust_pages_router)
    app.include_router(brand_pages_router)
    app.include_router(security_pages_router)
    app.include_router(shop_pages_router)
    app.include_router(studio_pages_router)
    app.include_router(payment_pages_router)
    app.include_router(fulfilment_pages_router)  # before /checkout/{checkout_id}
    app.include_router(performance_pages_router)
    app.include_router(checkout_pages_router)
    app.include_router(logistics_pages_router)
    app.include_router(analytics_pages_router)
    app.include_router(notification_pages_router)
    app.include_router(delivery_pages_router)
    app.include_router(logistics_staff_pages_router)
    app.include_router(seller_pages_router)
    app.include_router(seller_catalog_pages_router)
    app.include_router(review_pages_router)
    app.include_router(claim_pages_router)
    app.include_router(privacy_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(privacy_pages_router)
    app.include_router(audit_pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database answers",
        responses={503: {"description": "Database unavailable"}},
    )
    def readyz() -> Response:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness check failed", extra={"error": repr(exc)})
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/problems/{slug}",
        tags=["operations"],
        summary="What a problem type means",
        responses={404: {"description": "Unknown problem type"}},
    )
    def problem_doc(slug: str) -> Response:
        problem = PROBLEM_TYPES.get(slug)
        if problem is None:
            raise ProblemError(f"no problem type {slug!r}", problem=NOT_FOUND)
        body: dict[str, Any] = {
            "type": problem.uri,
            "title": problem.title,
            "status": problem.status,
        }
        return JSONResponse(body)

    app.add_middleware(
        DatabaseRequestGate, limit=SQLITE_LIMIT if settings.is_sqlite else POSTGRES_LIMIT
    )
    app.add_middleware(UploadCleanupMiddleware, storage=uploads)
    app.add_middleware(BodySizeLimitMiddleware, default_cap=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == Environment.PRODUCTION)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, router_app=app)
    permissions.check_declared(app)
    return app
