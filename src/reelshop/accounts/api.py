"""JSON API for accounts: sign-up, log-in/out, profile, API tokens, addresses."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from reelshop.accounts import service as accounts
from reelshop.accounts import two_factor
from reelshop.accounts.models import Role, User
from reelshop.accounts.schemas import (
    AddressIn,
    AddressOut,
    IssuedTokenOut,
    LogInIn,
    LogInOut,
    PasswordChangeIn,
    RecoveryCodesOut,
    SecondFactorChallengeOut,
    SecondFactorIn,
    SignUpIn,
    TokenCreateIn,
    TokenOut,
    TotpCodeIn,
    TotpDisableIn,
    TotpEnrolmentOut,
    TotpStatusOut,
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


def _log_in_answer(session: DbSession, user: User, token_name: str) -> LogInOut:
    issued = accounts.create_api_token(
        session=session, user=user, name=token_name, ttl=LOGIN_TOKEN_TTL
    )
    return LogInOut(
        user=UserOut.model_validate(user),
        token=TokenOut.model_validate(issued.token),
        secret=issued.secret,
    )


@router.post(
    "/auth/login",
    response_model=LogInOut,
    responses={
        **problem_responses(401, 422, 429),
        202: {
            "model": SecondFactorChallengeOut,
            "description": "Password right; the account asks for a TOTP code",
        },
    },
    summary="Exchange email and password for a bearer token (30 days)",
)
def log_in(
    body: LogInIn, request: Request, session: DbSession, settings: AppSettings
) -> Response | LogInOut:
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
    if two_factor.is_enrolled(session=session, user=user):
        ticket = two_factor.issue_ticket(session=session, user=user)
        challenge = SecondFactorChallengeOut(
            ticket=ticket, expires_in_s=int(two_factor.TICKET_TTL.total_seconds())
        )
        return JSONResponse(challenge.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    return _log_in_answer(session, user, body.token_name)


@router.post(
    "/auth/login/totp",
    responses=problem_responses(401, 422, 429),
    summary="Finish a log-in with the TOTP code (or a recovery code)",
)
def log_in_second_factor(body: SecondFactorIn, session: DbSession) -> LogInOut:
    try:
        user = two_factor.redeem_ticket(session=session, ticket=body.ticket, code=body.code)
    except ProblemError:
        session.commit()  # the ticket's attempt count must stick
        raise
    return _log_in_answer(session, user, body.token_name)


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


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 422),
    summary="Change the password (every other session ends)",
)
def change_password(
    body: PasswordChangeIn, principal: ProfileWriter, session: DbSession
) -> Response:
    accounts.change_password(
        session=session, user=principal.user, current=body.current_password, new=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/totp", responses=problem_responses(401, 403), summary="Two-factor log-in status")
def totp_status(principal: ProfileReader, session: DbSession) -> TotpStatusOut:
    user = principal.user
    return TotpStatusOut(
        available=two_factor.can_enrol(user),
        enabled=two_factor.is_enrolled(session=session, user=user),
        pending=two_factor.pending_enrolment(session=session, user=user) is not None,
        recovery_codes_left=two_factor.remaining_recovery_codes(session=session, user=user),
    )


@router.post(
    "/me/totp",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409),
    summary="Start TOTP enrolment: a secret and its QR code for an authenticator app",
)
def totp_begin(principal: ProfileWriter, session: DbSession) -> TotpEnrolmentOut:
    enrolment = two_factor.begin_enrolment(session=session, user=principal.user)
    return TotpEnrolmentOut(
        secret=enrolment.secret,
        otpauth_uri=enrolment.otpauth_uri,
        qr_data_uri=enrolment.qr_data_uri,
    )


@router.post(
    "/me/totp/confirm",
    responses=problem_responses(401, 403, 409, 422),
    summary="Confirm enrolment with a first code; returns the recovery codes once",
)
def totp_confirm(
    body: TotpCodeIn, principal: ProfileWriter, session: DbSession
) -> RecoveryCodesOut:
    codes = two_factor.confirm_enrolment(session=session, user=principal.user, code=body.code)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post(
    "/me/totp/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 409, 422),
    summary="Turn two-factor log-in off (needs the password and a code)",
)
def totp_disable(body: TotpDisableIn, principal: ProfileWriter, session: DbSession) -> Response:
    two_factor.disable(session=session, user=principal.user, password=body.password, code=body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
