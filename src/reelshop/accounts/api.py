"""JSON API for accounts: sign-up, log-in/out, profile, API tokens, addresses."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role
from reelshop.accounts.schemas import (
    AddressIn,
    AddressOut,
    IssuedTokenOut,
    LogInIn,
    LogInOut,
    SignUpIn,
    TokenCreateIn,
    TokenOut,
    UserOut,
)
from reelshop.errors import ProblemError, problem_responses
from reelshop.security.authz import (
    AppSettings,
    CurrentPrincipal,
    DbSession,
    ProfileReader,
    ProfileWriter,
    get_codec,
)

router = APIRouter(tags=["accounts"])

LOGIN_TOKEN_TTL = timedelta(days=30)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 422),
    summary="Create a shopper, seller or creator account",
)
def sign_up(body: SignUpIn, session: DbSession) -> UserOut:
    user = accounts.sign_up(
        session=session,
        email=str(body.email),
        password=body.password,
        name=body.name,
        role=Role(body.role),
        market_code=body.market,
        handle=body.handle,
    )
    return UserOut.model_validate(user)


@router.post(
    "/auth/login",
    responses=problem_responses(401, 422, 429),
    summary="Exchange email and password for a bearer token (30 days)",
)
def log_in(body: LogInIn, request: Request, session: DbSession, settings: AppSettings) -> LogInOut:
    codec = get_codec(request)
    try:
        user = accounts.authenticate(
            session=session,
            settings=settings,
            email=str(body.email),
            password=body.password,
            client_ip=client_ip(request),
            trusted_device_for=codec.read_device(request.cookies.get("reelshop_device")),
        )
    except ProblemError:
        session.commit()  # keep the failure count: the throttle must see it
        raise
    issued = accounts.create_api_token(
        session=session, user=user, name=body.token_name, ttl=LOGIN_TOKEN_TTL
    )
    return LogInOut(
        user=UserOut.model_validate(user),
        token=TokenOut.model_validate(issued.token),
        secret=issued.secret,
    )


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401),
    summary="Revoke the bearer token this request uses",
)
def log_out(principal: CurrentPrincipal, session: DbSession) -> Response:
    if principal.token_id:
        accounts.revoke_api_token(session=session, user=principal.user, token_id=principal.token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", responses=problem_responses(401), summary="The calling account")
def me(principal: CurrentPrincipal) -> UserOut:
    return UserOut.model_validate(principal.user)


@router.get("/me/tokens", responses=problem_responses(401, 403), summary="Active API tokens")
def list_tokens(principal: ProfileReader, session: DbSession) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t)
        for t in accounts.list_api_tokens(session=session, user=principal.user)
    ]


@router.post(
    "/me/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a scoped API token (its secret is shown once)",
)
def create_token(
    body: TokenCreateIn, principal: ProfileWriter, session: DbSession
) -> IssuedTokenOut:
    issued = accounts.create_api_token(
        session=session,
        user=principal.user,
        name=body.name,
        scopes=body.scopes,
        ttl=timedelta(days=body.ttl_days) if body.ttl_days else None,
        ceiling=principal.scopes,
    )
    return IssuedTokenOut(token=TokenOut.model_validate(issued.token), secret=issued.secret)


@router.delete(
    "/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
    summary="Revoke an API token",
)
def revoke_token(token_id: str, principal: ProfileWriter, session: DbSession) -> Response:
    accounts.revoke_api_token(session=session, user=principal.user, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/addresses", responses=problem_responses(401, 403), summary="Saved addresses")
def list_addresses(principal: ProfileReader) -> list[AddressOut]:
    return [AddressOut.model_validate(a) for a in principal.user.addresses]


@router.post(
    "/me/addresses",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Save a shipping address (stored encrypted)",
)
def add_address(body: AddressIn, principal: ProfileWriter, session: DbSession) -> AddressOut:
    address = accounts.add_address(session=session, user=principal.user, **body.model_dump())
    return AddressOut.model_validate(address)


@router.delete(
    "/me/addresses/{address_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
    summary="Delete a saved address",
)
def delete_address(address_id: str, principal: ProfileWriter, session: DbSession) -> Response:
    accounts.delete_address(session=session, user=principal.user, address_id=address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
