"""A posted form as a dependency, so form-reading page routes can stay plain ``def``
routes: their database work then runs on the thread pool, never on the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]
