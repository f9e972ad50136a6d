"""JSON API of trust and safety: shopper reports, the moderation queue (staff with
``trust_safety``), sellers' strikes and appeals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from reelshop.accounts.models import StaffPermission
from reelshop.errors import problem_responses
from reelshop.security.authz import (
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.trust import reports, service
from reelshop.trust.schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    CaseDecisionIn,
    CaseOut,
    CaseSummaryOut,
    ReportIn,
    ReportOut,
    StrikeOut,
)

router = APIRouter(tags=["trust"])

TrustStaff = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]


def _seller_id(session: DbSession | ReadDbSession, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


@router.post(
    "/products/{product_id}/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportOut,
    summary="Report a listing as counterfeit, prohibited or misleading",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def report_listing(
    product_id: str, body: ReportIn, principal: ShopperPrincipal, session: DbSession
) -> ReportOut:
    report = reports.submit_report(
        session=session,
        reporter_id=principal.id,
        product_id=product_id,
        kind=body.kind,
        reason=body.reason,
    )
    return ReportOut.of(report)


@router.get(
    "/trust/cases",
    response_model=list[CaseSummaryOut],
    summary="The moderation queue: undecided cases, riskiest and most sales at stake first",
    responses=problem_responses(401, 403),
)
def list_cases(principal: TrustStaff, session: ReadDbSession) -> list[CaseSummaryOut]:
    return [
        CaseSummaryOut(
            id=row.case.id,
            product_id=row.case.product_id,
            product_title=row.product_title,
            seller_id=row.case.seller_id,
            seller_name=row.seller_name,
            status=row.case.status,
            source=row.case.source,
            risk_score=row.case.risk_score,
            gmv_exposure_amount=row.case.gmv_exposure_amount,
            currency=row.case.currency,
            created_at=row.case.created_at,
        )
        for row in service.queue(session=session)
    ]


def _case_out(session: DbSession | ReadDbSession, case_id: str) -> CaseOut:
    view = service.case_view(session=session, case_id=case_id)
    return CaseOut.of(
        view.case,
        moderation_status=view.product.moderation_status,
        assessment=view.assessment,
        reports=view.reports,
    )


@router.get(
    "/trust/cases/{case_id}",
    response_model=CaseOut,
    summary="One case with the listing's assessment, its evidence and shopper reports",
    responses=problem_responses(401, 403, 404),
)
def get_case(case_id: str, principal: TrustStaff, session: ReadDbSession) -> CaseOut:
    return _case_out(session, case_id)


@router.post(
    "/trust/cases/{case_id}/decision",
    response_model=CaseOut,
    summary="Approve (publish), take down (optionally with a strike) or escalate a case",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def decide_case(
    case_id: str, body: CaseDecisionIn, principal: TrustStaff, session: DbSession
) -> CaseOut:
    service.decide_case(
        session=session,
        case_id=case_id,
        action=body.action,
        actor_id=principal.id,
        note=body.note,
        strike=body.strike,
    )
    return _case_out(session, case_id)


@router.get(
    "/trust/appeals",
    response_model=list[AppealOut],
    summary="Sellers' appeals of strikes, oldest first",
    responses=problem_responses(401, 403),
)
def list_appeals(principal: TrustStaff, session: ReadDbSession) -> list[AppealOut]:
    return [AppealOut.of(a) for a in service.list_appeals(session=session)]


@router.post(
    "/trust/appeals/{appeal_id}/decision",
    response_model=AppealOut,
    summary="Grant (lift the strike, reinstate a suspended seller) or deny an appeal",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def decide_appeal(
    appeal_id: str, body: AppealDecisionIn, principal: TrustStaff, session: DbSession
) -> AppealOut:
    appeal = service.decide_appeal(
        session=session,
        appeal_id=appeal_id,
        grant=body.grant,
        actor_id=principal.id,
        note=body.note,
    )
    return AppealOut.of(appeal)


@router.get(
    "/seller/strikes",
    response_model=list[StrikeOut],
    summary="Your shop's strikes (three active strikes suspend it)",
    responses=problem_responses(401, 403),
)
def my_strikes(principal: SellerPrincipal, session: ReadDbSession) -> list[StrikeOut]:
    seller_id = _seller_id(session, principal.id)
    return [StrikeOut.of(s) for s in service.list_strikes(session=session, seller_id=seller_id)]


@router.post(
    "/seller/strikes/{strike_id}/appeal",
    status_code=status.HTTP_201_CREATED,
    response_model=AppealOut,
    summary="Appeal one of your strikes; staff decide",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def appeal_strike(
    strike_id: str, body: AppealIn, principal: SellerPrincipal, session: DbSession
) -> AppealOut:
    appeal = service.appeal_strike(
        session=session,
        seller_id=_seller_id(session, principal.id),
        strike_id=strike_id,
        statement=body.statement,
    )
    return AppealOut.of(appeal)
