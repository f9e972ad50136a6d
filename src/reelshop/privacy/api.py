"""Your data: download it all, or delete your account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reelshop.errors import problem_responses
from reelshop.privacy import service as privacy
from reelshop.security.authz import DbSession, Principal
from reelshop.security.passwords import MAX_LENGTH
from reelshop.security.permissions import Action, Resource, require

router = APIRouter(tags=["privacy"])
DataOwner = Annotated[Principal, Depends(require(Action.EXPORT, Resource.PERSONAL_DATA))]
AccountCloser = Annotated[Principal, Depends(require(Action.DELETE, Resource.PERSONAL_DATA))]


class DeletionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    confirm: str = Field(max_length=20, description=f"type {privacy.CONFIRM_WORD}")


class DeletionOut(BaseModel):
    deleted: bool
    rows: dict[str, int]


@router.get(
    "/me/data",
    responses=problem_responses(401, 403),
    summary="Everything reelshop holds about you, as JSON",
)
def my_data(principal: DataOwner, session: DbSession) -> JSONResponse:
    data: dict[str, Any] = privacy.export_data(session=session, user=principal.user)
    return JSONResponse(
        data, headers={"Content-Disposition": 'attachment; filename="reelshop-data.json"'}
    )


@router.post(
    "/me/deletion",
    responses=problem_responses(401, 403, 409, 422),
    summary="Delete your account (password and the word DELETE); orders and the ledger stay",
)
def delete_me(body: DeletionIn, principal: AccountCloser, session: DbSession) -> DeletionOut:
    rows = privacy.delete_account(
        session=session, user_id=principal.id, password=body.password, confirm=body.confirm
    )
    return DeletionOut(deleted=True, rows=rows)
