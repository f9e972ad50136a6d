"""Operations endpoints, request ids, structured logs, metrics and the OpenAPI document."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from reelshop.app import create_app
from reelshop.config import Settings


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_when_the_database_does(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"


@pytest.mark.usefixtures("_restore_logging")
@pytest.mark.parametrize(
    "unreachable_url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        "sqlite:///{tmp}",
    ],
    ids=["postgres-port-closed", "sqlite-path-is-a-directory"],
)
def test_readyz_is_503_when_the_database_is_unreachable(
    unreachable_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        env="test",
        database_url=unreachable_url.format(tmp=tmp_path),
        data_dir=tmp_path,
        log_json=False,
        log_level="CRITICAL",
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings)) as c:
        response = c.get("/readyz")
        assert response.status_code == 503
        assert response.json()["database"] == "down"
        assert c.get("/healthz").status_code == 200


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123-def"})
    assert echoed.headers["x-request-id"] == "abc-123-def"
    generated = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["x-request-id"])
    other = client.get("/healthz")
    assert other.headers["x-request-id"] != generated.headers["x-request-id"]
    # A hostile id (log injection) is replaced, not echoed.
    hostile = client.get("/healthz", headers={"X-Request-ID": 'x" injected\\n'})
    assert hostile.headers["x-request-id"] != 'x" injected\\n'
    assert re.fullmatch(r"[0-9a-f]{16}", hostile.headers["x-request-id"])


@pytest.mark.usefixtures("_restore_logging")
def test_json_log_lines_carry_the_request_id(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"log_json": True, "log_level": "INFO"}))
    with TestClient(app) as c:
        c.get("/api/v1/markets/US", headers={"X-Request-ID": "trace-me-42"})
        c.get("/api/v1/markets/ZZ")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    requests = [entry for entry in lines if entry.get("msg") == "request"]
    traced = [entry for entry in requests if entry.get("request_id") == "trace-me-42"]
    assert len(traced) == 1
    assert traced[0]["route"] == "/api/v1/markets/{code}"
    assert traced[0]["status"] == 200 and traced[0]["level"] == "info"
    assert all(entry.get("request_id") for entry in requests)
    assert len({entry["request_id"] for entry in requests}) == len(requests)


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        sample = re.fullmatch(re.escape(name) + r"\{(.*)\} (\S+)", line)
        if sample is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample.group(1)))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(sample.group(2))
    return total


def test_metrics_count_and_time_requests_by_route_template(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/api/v1/markets/US").status_code == 200
    assert client.get("/api/v1/markets/QQ").status_code == 404
    client.get("/no/such/page")
    text = client.get("/metrics").text
    route = "/api/v1/markets/{code}"
    assert _metric(text, "reelshop_http_requests_total", route=route, status="200") == 3
    assert _metric(text, "reelshop_http_requests_total", route=route, status="404") == 1
    # Concrete paths never become labels (unbounded cardinality).
    assert "/api/v1/markets/US" not in text and "/no/such/page" not in text
    assert _metric(text, "reelshop_http_requests_total", route="unmatched") >= 1
    assert _metric(text, "reelshop_http_request_duration_seconds_count", route=route) == 4
    assert _metric(text, "reelshop_http_request_duration_seconds_sum", route=route) > 0
    assert (
        _metric(text, "reelshop_http_request_duration_seconds_bucket", route=route, le="+Inf") == 4
    )


def test_openapi_documents_every_api_route(client: TestClient, app: Any) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    # Included routers stay nested in app.routes; iter_route_contexts flattens them.
    api_routes = [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and str(r.path).startswith("/api/")
    ]
    assert api_routes, "no /api routes registered"
    for route in api_routes:
        assert route.include_in_schema, f"{route.path} is hidden from the API document"
        assert route.path in paths, f"{route.path} missing from /openapi.json"
        for method in (route.methods or set()) - {"HEAD"}:
            operation = paths[route.path].get(method.lower())
            assert operation is not None, f"{method} {route.path} missing from /openapi.json"
            assert operation.get("summary"), f"{method} {route.path} has no summary"
            assert operation.get("responses"), f"{method} {route.path} has no responses"
    # Pages stay out of the API contract.
    assert "/login" not in paths and "/shop" not in paths
    for path in ("/healthz", "/readyz", "/metrics", "/problems/{slug}"):
        assert path in paths


def test_problem_types_are_documented(client: TestClient) -> None:
    known = client.get("/problems/not-found")
    assert known.status_code == 200
    assert known.json() == {"type": "/problems/not-found", "title": "Not found", "status": 404}
    # The type a real error carries resolves to its documentation.
    error = client.get("/api/v1/markets/QQ")
    assert error.headers["content-type"].startswith("application/problem+json")
    doc = client.get(error.json()["type"])
    assert doc.status_code == 200 and doc.json()["status"] == 404
    unknown = client.get("/problems/no-such-problem")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["type"] == "/problems/not-found"


def test_unknown_api_path_and_method_are_problems(client: TestClient) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    wrong_method = client.put("/api/v1/markets")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "/problems/method-not-allowed"


def test_money_errors_from_the_client_are_422_problems(app: object) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from reelshop.money import Money

    assert isinstance(app, FastAPI)

    @app.get("/api/v1/_test/money")
    def money_route(currency: str) -> dict[str, int]:
        return {"amount": Money(100, currency).amount}

    with TestClient(app) as client:
        ok = client.get("/api/v1/_test/money", params={"currency": "USD"})
        bad = client.get("/api/v1/_test/money", params={"currency": "XYZ"})
    assert ok.status_code == 200
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "XYZ" in bad.json()["detail"]
