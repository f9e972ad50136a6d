"""Bad input on every operation of /openapi.json gives a 4xx problem document, never a 500.

The walk is generated from the live OpenAPI document, so routes other engineers add are
covered without touching this file. For each operation and each caller (anonymous, and a
bearer token of a shopper, a seller, a creator and a staff admin) it sends malformed
bodies (not JSON, wrong types, missing fields, huge strings, unknown fields, deep
nesting), bad query values, and path ids that are junk, random or other users' real ids.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import String, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.db import Base
from reelshop.ids import new_id
from tests.factories import make_seller, make_staff, make_user

ROLES = ["anonymous", "shopper", "seller", "creator", "staff-admin"]
METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC_ID = re.compile(r"^[a-z]{2,5}_[0-9a-z]{25}$")
HUGE = "x" * 100_000
JUNK_PATH_VALUES = [
    "0",
    "-1",
    "nope",
    "usr_",
    "x" * 3000,
    "%00",
    "' OR 1=1 --",
    "..%2F..%2Fetc%2Fpasswd",
    "😀",
    "null",
]
MAX_REAL_IDS_PER_OPERATION = 8
MAX_PROPERTIES_MUTATED = 25
BAD_AUTHORIZATIONS = ("Bearer", "Bearer rs_not-a-real-token", "Basic dXNlcjpwdw==", "x" * 9000)


@dataclass
class Call:
    method: str
    url: str
    kind: str
    json_body: Any = None
    content: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


# --- reading the OpenAPI document -------------------------------------------------------


class Schemas:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: dict[str, Any] | None, depth: int = 0) -> dict[str, Any]:
        schema = schema or {}
        while "$ref" in schema and depth < 20:
            node: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
            depth += 1
        return schema

    def options(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                found = [self.resolve(s) for s in schema[key]]
                return [s for s in found if s.get("type") != "null"] or found
        if "allOf" in schema:
            merged: dict[str, Any] = {"properties": {}, "required": []}
            for part in schema["allOf"]:
                part = self.resolve(part)
                merged.update({k: v for k, v in part.items() if k not in merged})
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            merged.setdefault("type", "object")
            return [merged]
        return [schema]

    def type_of(self, schema: dict[str, Any]) -> str:
        chosen = self.options(schema)[0]
        kind = chosen.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind is None:
            kind = "object" if "properties" in chosen else "string"
        return str(kind)

    def example(self, schema: dict[str, Any], depth: int = 0) -> Any:
        """A plausible value: valid often enough for a mutation to reach the service."""
        chosen = self.options(schema)[0]
        if "enum" in chosen:
            return chosen["enum"][0]
        if "const" in chosen:
            return chosen["const"]
        if "default" in chosen and chosen["default"] is not None:
            return chosen["default"]
        kind = self.type_of(chosen)
        if kind == "string":
            fmt = chosen.get("format", "")
            if fmt == "email":
                return "fuzz.walker@example.com"
            if fmt == "date-time":
                return "2026-01-01T00:00:00Z"
            if fmt == "date":
                return "2026-01-01"
            if fmt in ("uri", "url"):
                return "https://example.com/x"
            if fmt == "uuid":
                return "00000000-0000-4000-8000-000000000000"
            length = max(int(chosen.get("minLength", 1)), 3)
            length = min(length, int(chosen.get("maxLength", length)))
            return ("fuzz" * (length // 4 + 1))[:length]
        if kind == "integer":
            return int(chosen.get("minimum", 1))
        if kind == "number":
            return float(chosen.get("minimum", 1))
        if kind == "boolean":
            return True
        if kind == "array":
            if depth > 4 or not chosen.get("minItems"):
                return []
            return [self.example(chosen.get("items", {}), depth + 1)]
        if kind == "object":
            if depth > 4:
                return {}
            return {
                name: self.example(prop, depth + 1)
                for name, prop in chosen.get("properties", {}).items()
            }
        return None

    def wrong_values(self, schema: dict[str, Any]) -> list[Any]:
        kind = self.type_of(schema)
        by_kind: dict[str, list[Any]] = {
            "string": [12345, {"a": 1}, HUGE, ""],
            "integer": ["not-a-number", 1.5, 10**40, -1],
            "number": ["NaN", 10**400, -1],
            "boolean": ["maybe", 2],
            "array": ["x", {"a": 1}, [None] * 1000, [HUGE]],
            "object": ["x", []],
        }
        return [*by_kind.get(kind, ["x", 7]), None]


@dataclass
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def params(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            if method in item:
                found.append(Operation(method, path, item[method]))
    return found


# --- the callers ---------------------------------------------------------------------------


class Callers:
    """A live bearer token per role; a role whose token stopped working (an operation
    revoked it, or deleted the account) gets a fresh account."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.secrets: dict[str, str] = {}

    def _new_account(self, session: Session, role: str) -> User:
        if role == "shopper":
            return make_user(session, role=Role.SHOPPER, name="Fuzz Shopper")
        if role == "creator":
            return make_user(session, role=Role.CREATOR, name="Fuzz Creator")
        if role == "seller":
            user, _ = make_seller(session, display_name="Fuzz Seller")
            return user
        return make_staff(session, StaffPermission.ADMIN)

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        with self.factory() as session:
            secret = self.secrets.get(role)
            if secret is None or accounts.resolve_api_token(session=session, secret=secret) is None:
                user = self._new_account(session, role)
                secret = accounts.create_api_token(session=session, user=user, name="fuzz").secret
                self.secrets[role] = secret
            session.commit()
        return {"Authorization": f"Bearer {secret}"}


def real_ids(session: Session) -> list[str]:
    """Public ids of rows in every table (most belong to other users than the caller)."""
    ids: list[str] = []
    existing = set(inspect(session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if table.name not in existing or len(pk) != 1 or not isinstance(pk[0].type, String):
            continue
        for value in session.scalars(select(pk[0]).limit(3)):
            if isinstance(value, str) and PUBLIC_ID.match(value):
                ids.append(value)
    return ids


# --- generating the calls --------------------------------------------------------------------


def _fill_path(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: quote(values.get(m.group(1), "x"), safe=""), path)


def _body_content_types(op: Operation) -> list[str]:
    return list(op.spec.get("requestBody", {}).get("content", {}).keys())


def calls_for(
    op: Operation, schemas: Schemas, other_ids: list[str], rng: random.Random
) -> Iterator[Call]:
    path_params = [p["name"] for p in op.params("path")]
    id_prefixes = sorted({i.split("_", 1)[0] for i in other_ids})
    base_path_values = {name: new_id("zz") for name in path_params}
    url = _fill_path(op.path, base_path_values)
    method = op.method
    content_types = _body_content_types(op)
    body_schema: dict[str, Any] = {}
    if "application/json" in content_types:
        body_schema = op.spec["requestBody"]["content"]["application/json"].get("schema", {})
    # Path and query variations carry a plausible body, so they get past validation.
    baseline = schemas.example(body_schema) if body_schema else None

    for name in path_params:
        candidates = list(JUNK_PATH_VALUES)
        candidates += [new_id(prefix) for prefix in id_prefixes]
        candidates += rng.sample(other_ids, min(MAX_REAL_IDS_PER_OPERATION, len(other_ids)))
        for value in candidates:
            yield Call(
                method,
                _fill_path(op.path, {**base_path_values, name: value}),
                f"path {name}={value[:30]!r}",
                json_body=baseline,
            )

    for param in op.params("query"):
        for bad in ("x" * 5000, "not-a-number", "-1", "1e309", "99999999999999999999999", ""):
            yield Call(
                method,
                url,
                f"query {param['name']}={bad[:20]!r}",
                params={param["name"]: bad},
                json_body=baseline,
            )

    if not content_types:
        if method != "get":
            yield Call(method, url, "unexpected body", content="{not json", headers=_json_ct())
        return
    if "application/json" not in content_types:
        for content_type in content_types:
            yield Call(
                method,
                url,
                f"empty {content_type}",
                content=b"",
                headers={"content-type": content_type},
            )
            yield Call(
                method,
                url,
                f"json sent as {content_type}",
                content=b'{"a": 1}',
                headers={"content-type": content_type},
            )
        yield Call(method, url, "json instead of form", json_body={"a": 1})
        return

    yield Call(method, url, "not JSON", content="{not json", headers=_json_ct())
    yield Call(method, url, "invalid UTF-8", content=b'{"a": "\xff\xfe"}', headers=_json_ct())
    yield Call(method, url, "no body", content=b"", headers=_json_ct())
    yield Call(
        method, url, "wrong content type", content="a=1", headers={"content-type": "text/plain"}
    )
    yield Call(method, url, "deeply nested", content="[" * 5000 + "]" * 5000, headers=_json_ct())
    yield Call(method, url, "huge JSON string", json_body=HUGE)
    for top in ([], 42, "string", None, True, [{}] * 100):
        yield Call(method, url, f"top-level {json.dumps(top)[:20]}", json_body=top)

    yield Call(method, url, "plausible body", json_body=baseline)
    if not isinstance(baseline, dict):
        return
    yield Call(method, url, "empty object", json_body={})
    yield Call(method, url, "unknown field", json_body={**baseline, "zz_unknown_field": 1})
    properties = schemas.options(body_schema)[0].get("properties", {})
    for name, prop in list(properties.items())[:MAX_PROPERTIES_MUTATED]:
        without = {k: v for k, v in baseline.items() if k != name}
        yield Call(method, url, f"missing {name}", json_body=without)
        for wrong in schemas.wrong_values(prop):
            label = json.dumps(wrong)[:20] if not isinstance(wrong, str) else repr(wrong[:20])
            yield Call(method, url, f"{name}={label}", json_body={**baseline, name: wrong})


def _json_ct() -> dict[str, str]:
    return {"content-type": "application/json"}


# --- checking the answers --------------------------------------------------------------------


def problems_with(call: Call, status: int, headers: Any, body: bytes) -> str | None:
    if status >= 500:
        return f"{status} server error: {body[:300]!r}"
    if 400 <= status < 500 and call.url.startswith("/api/"):
        content_type = headers.get("content-type", "")
        if not content_type.startswith("application/problem+json"):
            return f"{status} with content-type {content_type!r}, not a problem document"
        try:
            doc = json.loads(body)
        except ValueError:
            return f"{status} problem document is not JSON: {body[:200]!r}"
        missing = [k for k in ("type", "title", "status", "detail") if not doc.get(k)]
        if missing:
            return f"{status} problem document lacks {missing}: {doc}"
        if doc["status"] != status:
            return f"problem status {doc['status']} differs from HTTP status {status}"
    return None


def walk(
    client: TestClient,
    role: str,
    callers: Callers,
    other_ids: list[str],
    path_prefix: str = "",
) -> tuple[int, list[str], dict[int, int]]:
    """Send every generated call as ``role``; return (calls sent, failures, status counts)."""
    document = client.get("/openapi.json").json()
    schemas = Schemas(document)
    ops = [op for op in operations(document) if op.path.startswith(path_prefix)]
    rng = random.Random(role)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    sent = 0

    def check(op: Operation, call: Call, auth: dict[str, str]) -> None:
        nonlocal sent
        response = client.request(
            call.method,
            call.url,
            json=call.json_body if call.content is None else None,
            content=call.content,
            headers={**auth, **call.headers},
            params=call.params or None,
        )
        sent += 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        problem = problems_with(call, response.status_code, response.headers, response.content)
        if problem:
            failures.append(f"{role} {op.name} [{call.kind}] -> {problem}")

    for op in ops:
        auth = callers.headers(role)
        for call in calls_for(op, schemas, other_ids, rng):
            check(op, call, auth)
        if role == "anonymous":
            url = _fill_path(op.path, {p["name"]: new_id("zz") for p in op.params("path")})
            for bad_auth in BAD_AUTHORIZATIONS:
                check(
                    op,
                    Call(op.method, url, f"Authorization {bad_auth[:20]!r}"),
                    {"Authorization": bad_auth},
                )
    return sent, failures, statuses


def _arrange_other_people(session: Session) -> list[str]:
    """Other people's things to aim at: a shopper with an address and a token, a seller.
    Returns the public ids of every row in the database."""
    victim = make_user(session, name="Victim Person")
    accounts.add_address(
        session=session,
        user=victim,
        recipient="Victim Person",
        line1="1 Main St",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="US",
    )
    accounts.create_api_token(session=session, user=victim, name="victim")
    make_seller(session, display_name="Victim Goods", commit=False)
    session.commit()
    ids = real_ids(session)
    session.rollback()
    return ids


@pytest.fixture
def loose_client(app: Any) -> Iterator[TestClient]:
    """A client that reports a server error as a 500 instead of raising it."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("role", ROLES)
def test_bad_input_on_every_operation_is_a_4xx_problem(
    role: str,
    loose_client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    other_ids = _arrange_other_people(session)
    assert any(i.startswith("usr_") for i in other_ids)
    sent, failures, statuses = walk(loose_client, role, Callers(session_factory), other_ids)
    assert sent > 100
    # The walk reaches the services, not only the validators.
    assert any(400 <= code < 500 and code != 422 for code in statuses), statuses
    assert not failures, f"{len(failures)} of {sent} calls misbehaved:\n" + "\n".join(failures[:40])


class Canary(BaseModel):
    count: int
    note: str = ""


def test_the_walk_finds_a_planted_500_and_a_non_problem_4xx(
    app: Any, session_factory: sessionmaker[Session]
) -> None:
    """The walker is only worth something if it can fail."""
    canary = APIRouter()

    @canary.post("/api/v1/zz-canary/{thing_id}", summary="A route with two planted bugs")
    def broken(thing_id: str, body: Canary) -> dict[str, float]:
        if thing_id == "nope":
            return JSONResponse({"oops": True}, status_code=404)  # type: ignore[return-value]
        return {"value": 1 / (body.count - 1)}  # count == 1 divides by zero

    app.include_router(canary)
    app.openapi_schema = None
    with TestClient(app, raise_server_exceptions=False) as c:
        _, failures, _ = walk(
            c, "shopper", Callers(session_factory), [new_id("usr")], path_prefix="/api/v1/zz-"
        )
    planted = [f for f in failures if "zz-canary" in f]
    assert any("500 server error" in f for f in planted), failures
    assert any("not a problem document" in f for f in planted), failures
    assert len(planted) == len(failures), failures
