"""Outbound email. The built-in mailer is SIMULATED: it writes .eml files to a folder.

A real SMTP or provider adapter implements the same ``Mailer`` protocol.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from reelshop.db import utcnow
from reelshop.ids import new_id


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> str: ...


class FolderMailer:
    """Simulated delivery: one RFC 5322 file per message under ``<data_dir>/mail``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, to: str, subject: str, body: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message = EmailMessage()
        message["From"] = "reelshop <no-reply@reelshop.invalid>"
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
        message.set_content(body)
        message_id = new_id("msg")
        (self.folder / f"{message_id}.eml").write_bytes(bytes(message))
        return message_id
