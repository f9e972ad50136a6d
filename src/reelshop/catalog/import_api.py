"""JSON API for bulk product CSV: upload an import, watch it, export the catalog.

Registered before the catalog router so ``/seller/products/export.csv`` is not taken
for a product id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import StreamingResponse

from reelshop.catalog import imports
from reelshop.catalog.api import Seller, SellerWriter
from reelshop.catalog.import_models import ImportJob
from reelshop.catalog.import_schemas import ImportErrorOut, ImportOut
from reelshop.errors import PAYLOAD_TOO_LARGE, ProblemError, problem_responses
from reelshop.security.authz import DbSession

router = APIRouter(tags=["catalog import"])


def import_out(job: ImportJob) -> ImportOut:
    return ImportOut(
        id=job.id,
        status=job.status,
        filename=job.filename,
        size_bytes=job.size_bytes,
        rows=job.rows,
        total=job.total,
        processed=job.processed,
        created=job.created,
        updated=job.updated,
        failed=job.failed,
        percent=imports.percent_done(job),
        message=job.message,
        errors=[ImportErrorOut.model_validate(e) for e in job.errors],
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def read_capped(upload: UploadFile) -> bytes:
    data = upload.file.read(imports.MAX_IMPORT_BYTES + 1)
    if len(data) > imports.MAX_IMPORT_BYTES:
        raise ProblemError(
            f"a product CSV is at most {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB; "
            "split the file",
            problem=PAYLOAD_TOO_LARGE,
        )
    return data


@router.post(
    "/seller/imports",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 413, 415, 422),
    summary="Upload a Shopify product CSV (UTF-8, at most 15 MB); it is imported in the background",
)
def upload_import(
    seller: SellerWriter,
    session: DbSession,
    file: Annotated[UploadFile, File(description="Shopify product CSV, UTF-8")],
) -> ImportOut:
    job = imports.start_import(
        session=session,
        seller=seller,
        data=read_capped(file),
        filename=file.filename or "",
        actor_id=seller.user_id,
    )
    return import_out(job)


@router.get(
    "/seller/imports",
    responses=problem_responses(401, 403),
    summary="The calling seller's latest imports",
)
def list_imports(seller: Seller, session: DbSession) -> list[ImportOut]:
    return [import_out(j) for j in imports.list_imports(session=session, seller=seller)]


@router.get(
    "/seller/imports/{import_id}",
    responses=problem_responses(401, 403, 404),
    summary="An import's progress and its per-row error report",
)
def get_import(import_id: str, seller: Seller, session: DbSession) -> ImportOut:
    return import_out(imports.get_import(session=session, seller=seller, import_id=import_id))


@router.get(
    "/seller/products/export.csv",
    responses={
        200: {"content": {"text/csv": {}}, "description": "Shopify product CSV"},
        **problem_responses(401, 403),
    },
    response_class=StreamingResponse,
    summary="Every product of the calling seller as a Shopify product CSV (streamed)",
)
def export_csv(request: Request, seller: Seller) -> StreamingResponse:
    chunks = imports.export_products(
        request.app.state.read_session_factory,
        seller_id=seller.id,
        base_url=str(request.base_url),
    )
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{imports.export_filename(seller)}"'
        },
    )
