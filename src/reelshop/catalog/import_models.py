"""Bulk product imports: one row per uploaded CSV, with its progress and error report."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelshop.db import Base, CreatedAtMixin
from reelshop.ids import new_id


class ImportStatus(StrEnum):
    QUEUED = "queued"  # uploaded, waiting for the worker
    RUNNING = "running"  # validated; products are being written batch by batch
    DONE = "done"  # every product was imported or reported
    FAILED = "failed"  # the file as a whole could not be read


class ImportJob(CreatedAtMixin, Base):
    __tablename__ = "catalog_imports"
    __table_args__ = (Index("ix_catalog_imports_seller_created", "seller_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("imp"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"))
    created_by: Mapped[str | None] = mapped_column(String(40), default=None)
    filename: Mapped[str] = mapped_column(String(255), default="")
    storage_key: Mapped[str] = mapped_column(String(200))
    # The validated products as JSON in storage, written by the first batch.
    validated_key: Mapped[str | None] = mapped_column(String(200), default=None)
    size_bytes: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED)
    rows: Mapped[int] = mapped_column(default=0)  # data rows in the file
    total: Mapped[int] = mapped_column(default=0)  # products in the file
    processed: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[int] = mapped_column(default=0)  # validated products written so far
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
