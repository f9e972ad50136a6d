"""Imports every domain's outbox handlers and periodic jobs so the worker knows them."""

from reelshop.accounts import jobs as accounts_jobs
from reelshop.catalog import jobs as catalog_jobs

__all__ = ["accounts_jobs", "catalog_jobs"]
