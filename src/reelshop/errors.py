"""Errors a user can cause, as RFC 9457 problem details with a stable ``type`` each.

Service functions raise these; the app turns them into ``application/problem+json``
responses. Every problem type is registered once here with its title, so the
``type`` URI is stable and ``GET /problems/{slug}`` can explain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


PROBLEM_TYPES: dict[str, ProblemType] = {}


def problem_type(slug: str, status: int, title: str) -> ProblemType:
    if slug in PROBLEM_TYPES and PROBLEM_TYPES[slug] != ProblemType(slug, status, title):
        raise ValueError(f"problem type {slug!r} registered twice with different meaning")
    pt = ProblemType(slug, status, title)
    PROBLEM_TYPES[slug] = pt
    return pt


VALIDATION = problem_type("validation-error", 422, "The request is not valid")
MALFORMED = problem_type("malformed-request", 400, "The request could not be read")
NOT_FOUND = problem_type("not-found", 404, "Not found")
METHOD_NOT_ALLOWED = problem_type("method-not-allowed", 405, "Method not allowed")
UNAUTHENTICATED = problem_type("unauthenticated", 401, "Authentication required")
BAD_CREDENTIALS = problem_type("bad-credentials", 401, "Email or password is wrong")
FORBIDDEN = problem_type("forbidden", 403, "Not allowed")
CSRF = problem_type("csrf-failed", 403, "The form expired or did not come from this site")
CONFLICT = problem_type("conflict", 409, "Conflict with the current state")
EMAIL_TAKEN = problem_type("email-taken", 409, "An account with this email already exists")
RATE_LIMITED = problem_type("rate-limited", 429, "Too many attempts")
PAYLOAD_TOO_LARGE = problem_type("payload-too-large", 413, "The upload is too large")
UNSUPPORTED_MEDIA = problem_type("unsupported-media-type", 415, "Unsupported file type")
INTERNAL = problem_type("internal-error", 500, "Something went wrong on our side")


class ProblemError(Exception):
    """An error with a problem type, a human detail and optional extension members."""

    default_type: ClassVar[ProblemType] = VALIDATION

    def __init__(
        self,
        detail: str,
        *,
        problem: ProblemType | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.problem = problem or self.default_type
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def status(self) -> int:
        return self.problem.status

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.problem.uri,
            "title": self.problem.title,
            "status": self.problem.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(ProblemError):
    default_type = VALIDATION


class NotFound(ProblemError):
    default_type = NOT_FOUND


class Unauthenticated(ProblemError):
    default_type = UNAUTHENTICATED


class Forbidden(ProblemError):
    default_type = FORBIDDEN


class Conflict(ProblemError):
    default_type = CONFLICT


class RateLimited(ProblemError):
    default_type = RATE_LIMITED

    def __init__(self, detail: str, *, retry_after_s: int, **extensions: Any) -> None:
        super().__init__(
            detail,
            headers={"Retry-After": str(max(1, retry_after_s))},
            retry_after_s=max(1, retry_after_s),
            **extensions,
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the problem documents a route can return."""
    from reelshop.schemas import Problem  # local: schemas imports pydantic only

    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        titles = sorted({p.title for p in PROBLEM_TYPES.values() if p.status == status})
        out[status] = {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "; ".join(titles) or "Problem",
        }
    return out
