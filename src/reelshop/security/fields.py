"""``Encrypted``: a column type that seals personal data with the field cipher.

The plaintext never reaches the database; the column's name is the AEAD context,
so a ciphertext moved to another column fails to open.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from reelshop.security import keys


class Encrypted(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return keys.sealing_cipher().seal_field(
            value, context=self.context, market=keys.current_market()
        )

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return keys.cipher().decrypt(value, context=self.context)
