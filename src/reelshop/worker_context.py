"""What handlers running in the worker may use besides their session (the mailer)."""

from __future__ import annotations

from reelshop.config import get_settings
from reelshop.mail import FolderMailer, Mailer

_state: dict[str, Mailer] = {}


def configure_mailer(value: Mailer) -> None:
    _state["mailer"] = value


def mailer() -> Mailer:
    if "mailer" not in _state:
        _state["mailer"] = FolderMailer(get_settings().data_dir / "mail")
    return _state["mailer"]
