"""What the import API answers: a job's progress and its error report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ImportErrorOut(BaseModel):
    line: int
    column: str | None
    message: str
    handle: str | None


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str  # queued | running | done | failed
    filename: str
    size_bytes: int
    rows: int
    total: int
    processed: int
    created: int
    updated: int
    failed: int
    percent: int
    message: str | None
    errors: list[ImportErrorOut]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
