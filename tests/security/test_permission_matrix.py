"""Every API route, as every role, aimed at other people's things: nothing outside the matrix.

The routes come from the running app (routes other engineers add are walked without
touching this file). For each route and role the walk fills path ids with real ids of
rows the caller does not own and sends a plausible body. It fails when

- a role the matrix grants nothing for the route's (action, resource) gets a 2xx;
- a role whose grant reaches only its own or its shop's rows gets a 2xx on a path id
  that belongs to somebody else (an IDOR);
- a 2xx answer to such a role carries the id of somebody else's private row (a list
  or a detail that leaks);
- an API route is missing from ``permissions.ROUTES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout.models import Order
from reelshop.config import Settings
from reelshop.ids import new_id
from reelshop.security import permissions
from reelshop.security.authz import ShopperPrincipal
from reelshop.security.permissions import Action, Ownership, Resource
from tests.platform.test_bad_input import Schemas, operations
from tests.security.world import ROLE_NAMES, Callers, World, arrange_world

# Path parameters naming somebody else's public thing, not a row the caller owns.
TARGET_PARAMS = frozenset({"creator_user_id", "seller_id", "code", "provider", "carrier"})
# ... and on these routes, where the id names what the caller acts on, not what they own.
ROUTE_TARGETS = {
    ("POST", "/api/v1/products/{product_id}/reports"): {"product_id"},
}
MAX_IDS_PER_PARAM = 3
# Calls that may end the caller's credential run last.
ENDS_THE_CALLER = frozenset(
    {(Action.DELETE, Resource.SESSION), (Action.DELETE, Resource.PERSONAL_DATA)}
)
# Parameter stems whose table name differs from the stem.
STEM_TABLES = {
    "line": ["cart_lines"],
    "token": ["api_tokens"],
    "application": ["seller_applications"],
    "document": ["seller_documents"],
    "invitation": ["seller_invitations"],
    "import": ["catalog_imports", "import_jobs"],
    "campaign": ["ad_campaigns", "sponsored_campaigns"],
    "seller": ["seller_profiles"],
}


def role_set(role: str) -> tuple[str, ...]:
    """The roles whose grants a caller of ``role`` holds (as ``permissions.roles_of``)."""
    if role == "anonymous":
        return ("anonymous",)
    roles = ["anonymous", "shopper"]
    if role.startswith("staff:"):
        roles.append("staff")
        perm = role.split(":", 1)[1]
        roles += list(permissions.STAFF_ROLES) if perm == "admin" else [role]
    elif role != "shopper":
        roles.append(role)
    return tuple(roles)


@dataclass
class Probe:
    method: str
    url: str
    foreign: bool  # a path id that belongs to somebody else
    kind: str


def _tables_for(param: str, ids_by_table: dict[str, list[str]]) -> list[str]:
    stem = param.removesuffix("_id")
    for candidate in (stem, stem.rsplit("_", 1)[-1]):
        named = [t for t in STEM_TABLES.get(candidate, []) if t in ids_by_table]
        named += [t for t in ids_by_table if t in (f"{candidate}s", f"{candidate}es")]
        if named:
            return named
    return []


def probes(method: str, path: str, world: World) -> Iterator[Probe]:
    params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
    if not params:
        yield Probe(method, path, False, "no path ids")
        return
    candidates: dict[str, list[str]] = {}
    for name in params:
        tables = _tables_for(name, world.ids_by_table)
        ids = [i for t in tables for i in world.ids_by_table[t]][:MAX_IDS_PER_PARAM]
        candidates[name] = ids or [new_id("zz")]

    def fill(values: dict[str, str]) -> str:
        url = path
        for key, value in values.items():
            url = url.replace("{" + key + "}", quote(value, safe=""))
        return url

    first = {name: ids[0] for name, ids in candidates.items()}
    targets = TARGET_PARAMS | ROUTE_TARGETS.get((method, path), set())
    owned_params = [n for n in params if n not in targets]
    foreign = any(_tables_for(n, world.ids_by_table) for n in owned_params)
    yield Probe(method, fill(first), foreign, "first ids")
    for name in params:
        for value in candidates[name][1:]:
            yield Probe(method, fill({**first, name: value}), foreign, f"{name}={value}")
    yield Probe(method, fill({n: new_id("zz") for n in params}), False, "unknown ids")


def walk(
    client: TestClient,
    role: str,
    headers: dict[str, str],
    world: World,
    renew: Callable[[], dict[str, str]] = dict,
) -> tuple[int, int, list[str]]:
    """Send every probe as ``role``; return (calls sent, 2xx answers, failures)."""
    document = client.get("/openapi.json").json()
    schemas = Schemas(document)
    roles = role_set(role)
    private = world.private_ids
    failures: list[str] = []
    sent = answered = 0
    checked_alive = False
    ops = sorted(
        (op for op in operations(document) if op.path.startswith("/api/")),
        key=lambda op: permissions.ROUTES.get((op.method.upper(), op.path)) in ENDS_THE_CALLER,
    )
    for op in ops:
        method = op.method.upper()
        grant = permissions.ROUTES.get((method, op.path))
        if grant in ENDS_THE_CALLER and headers:
            if not checked_alive:
                # Everything before ran with a live credential, or the walk proved nothing.
                alive = client.get("/api/v1/me", headers=headers)
                assert alive.status_code == 200, f"{role} lost its token before {op.name}"
                checked_alive = True
            headers = renew()
        if grant is None:
            failures.append(f"{method} {op.path} is not in permissions.ROUTES")
            continue
        action, resource = grant
        reach = permissions.reach(roles, action, resource)
        body_schema = (
            op.spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        ).get("schema")
        body = schemas.example(body_schema) if body_schema else None
        for probe in probes(method, op.path, world):
            response = client.request(
                probe.method,
                probe.url,
                json=body,
                headers={**headers, "Idempotency-Key": new_id("idem")},
            )
            sent += 1
            ok = 200 <= response.status_code < 300
            where = f"{role} {method} {probe.url} [{probe.kind}] -> {response.status_code}"
            if not ok:
                continue
            answered += 1
            if reach is None:
                failures.append(f"{where}: the matrix grants {roles} no {action} {resource}")
            elif reach < Ownership.ANY:
                if probe.foreign:
                    failures.append(f"{where}: {reach.name} grant, foreign id answered (IDOR)")
                leaked = sorted(i for i in private if i in response.text)
                if leaked:
                    failures.append(f"{where}: {reach.name} grant, leaks {leaked[:3]}")
    return sent, answered, failures


@pytest.fixture
def world(session: Session, session_factory: sessionmaker[Session], settings: Settings) -> World:
    return arrange_world(session, session_factory, settings)


@pytest.fixture
def loose_client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_every_api_route_is_in_the_matrix(app: FastAPI) -> None:
    assert permissions.undeclared_routes(app) == []
    served = {(m, p) for m, p, _ in permissions.api_routes(app)}
    stale = sorted(set(permissions.ROUTES) - served)
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_no_role_reaches_outside_the_matrix(
    role: str,
    world: World,
    loose_client: TestClient,
    session_factory: sessionmaker[Session],
) -> None:
    callers = Callers(session_factory)
    sent, answered, failures = walk(
        loose_client, role, callers.headers[role], world, lambda: callers.renew(role)
    )
    assert sent > len(permissions.ROUTES)
    # The callers get through where the matrix lets them: the walk reaches the services.
    assert answered >= (5 if role == "anonymous" else 15), answered
    assert not failures, f"{len(failures)} of {sent} calls broke the matrix:\n" + "\n".join(
        failures[:40]
    )


def test_the_walk_finds_a_planted_idor_and_an_ungranted_route(
    app: FastAPI,
    world: World,
    session: Session,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route that shows any order to any shopper, and a staff report open to all: both caught."""
    canary = APIRouter()

    @canary.get("/api/v1/zz-orders/{order_id}", summary="Planted IDOR")
    def leaky(order_id: str, principal: ShopperPrincipal) -> dict[str, str]:
        del principal
        return {"id": order_id}

    @canary.get("/api/v1/zz-report", summary="Planted open staff report")
    def report(principal: ShopperPrincipal) -> dict[str, str]:
        del principal
        return {"ok": "yes"}

    monkeypatch.setitem(
        permissions.ROUTES, ("GET", "/api/v1/zz-orders/{order_id}"), (Action.READ, Resource.ORDER)
    )
    monkeypatch.setitem(
        permissions.ROUTES, ("GET", "/api/v1/zz-report"), (Action.READ, Resource.LISTING)
    )
    app.include_router(canary)
    app.openapi_schema = None
    callers = Callers(session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        _, _, failures = walk(c, "shopper", callers.headers["shopper"], world)
    planted = [f for f in failures if "zz-" in f]
    assert any("zz-orders" in f and "IDOR" in f for f in planted), failures
    assert not [f for f in failures if "zz-" not in f], failures
    assert world.victim_order_id in set(session.scalars(select(Order.id)))


def test_the_dependencies_consult_the_matrix(
    app: FastAPI, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Declare GET /me as an audit-log read: a shopper is refused, an admin is not."""
    monkeypatch.setitem(
        permissions.ROUTES, ("GET", "/api/v1/me"), (Action.READ, Resource.AUDIT_LOG)
    )
    callers = Callers(session_factory)
    with TestClient(app) as c:
        refused = c.get("/api/v1/me", headers=callers.headers["shopper"])
        assert refused.status_code == 403, refused.text
        assert "audit log" in json.loads(refused.text)["detail"]
        assert c.get("/api/v1/me", headers=callers.headers["staff:admin"]).status_code == 200
        assert c.get("/api/v1/me").status_code == 401


def test_a_checkout_cannot_ship_to_someone_elses_saved_address(
    world: World, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """Ids in bodies too: a shopper's cart with the victim's address id is refused (404),
    and the victim's address does not appear in anything the shopper gets back."""
    callers = Callers(session_factory)
    headers = callers.headers["shopper"]
    sku_id = world.ids_by_table["skus"][0]
    added = client.post(
        "/api/v1/cart/lines", json={"sku_id": sku_id, "quantity": 1}, headers=headers
    )
    assert added.status_code in (200, 201), added.text
    response = client.post(
        "/api/v1/checkouts",
        json={"address_id": world.victim_address_id},
        headers={**headers, "Idempotency-Key": new_id("idem")},
    )
    assert response.status_code == 404, response.text
    assert "Springfield" not in response.text and "Main St" not in response.text
    own = client.post(
        "/api/v1/me/addresses",
        json={
            "recipient": "Caller Person",
            "line1": "9 Own Road",
            "city": "Portland",
            "region": "OR",
            "postal_code": "97201",
            "country": "US",
        },
        headers=headers,
    )
    assert own.status_code == 201, own.text
    placed = client.post(
        "/api/v1/checkouts",
        json={"address_id": own.json()["id"]},
        headers={**headers, "Idempotency-Key": new_id("idem")},
    )
    assert placed.status_code == 201, placed.text  # the same call with one's own id works
