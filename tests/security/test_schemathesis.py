"""schemathesis over the whole OpenAPI document, through the ASGI app: no operation
answers 5xx, and every response matches the schema the document gives for it — as an
anonymous caller and as a logged-in shopper.

Examples per operation are bounded (``FUZZ_EXAMPLES``, default 4) so the run takes a
few minutes on both databases; raise it locally for a deeper run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from tests.factories import make_user

FUZZ_EXAMPLES = int(os.environ.get("REELSHOP_FUZZ_EXAMPLES", "4"))


@pytest.fixture
def shopper_headers(session: Session) -> dict[str, str]:
    user = make_user(session, commit=False)
    issued = accounts.create_api_token(session=session, user=user, name="fuzz")
    session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


CHECKS = [not_a_server_error, response_schema_conformance]


def fuzz_every_operation(app: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation of the document with generated input; the problems found."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        # Collect every operation's failures and report them together (schemathesis
        # raises its FailureGroup, a BaseExceptionGroup; the app's own errors pass through).
        except (Exception, BaseExceptionGroup) as exc:
            first = [line for line in str(exc).strip().splitlines() if line.strip()][:8]
            problems.append(f"{operation.method.upper()} {operation.path}: " + " | ".join(first))
    return problems


def test_anonymous_calls_never_5xx_and_match_the_schema(app: Any) -> None:
    problems = fuzz_every_operation(app, {})
    assert not problems, "\n".join(problems)


def test_shopper_calls_never_5xx_and_match_the_schema(
    app: Any, shopper_headers: dict[str, str]
) -> None:
    problems = fuzz_every_operation(app, shopper_headers)
    assert not problems, "\n".join(problems)
