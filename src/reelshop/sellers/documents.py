"""KYC documents: checked by what the bytes are, sealed before they reach storage.

A file named ``licence.pdf`` is a PDF only if its bytes say so. Identity documents
are the most sensitive thing a seller gives the platform, so the stored object is
AES-GCM ciphertext bound to its storage key: a copied bucket or a moved object does
not open.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from reelshop.errors import PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA, InvalidInput, ProblemError
from reelshop.security import keys
from reelshop.storage import get_storage, new_key

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
SEALED_CONTENT_TYPE = "application/octet-stream"

# content type -> (file suffix, leading bytes)
_SIGNATURES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "application/pdf": (".pdf", (b"%PDF-",)),
    "image/png": (".png", (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": (".jpg", (b"\xff\xd8\xff",)),
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class CheckedDocument:
    kind: str
    filename: str
    content_type: str
    data: bytes
    sha256: str


def sniff_content_type(data: bytes) -> str | None:
    for content_type, (_suffix, magics) in _SIGNATURES.items():
        if any(data.startswith(magic) for magic in magics):
            if content_type == "image/png" and data[12:16] != b"IHDR":
                return None
            return content_type
    return None


def suffix_for(content_type: str) -> str:
    return _SIGNATURES[content_type][0]


def safe_filename(filename: str, content_type: str) -> str:
    """A display name without path parts or odd characters, ending in the sniffed type."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._")[:80] or "document"
    return stem + suffix_for(content_type)


def check_document(*, kind: str, filename: str, data: bytes) -> CheckedDocument:
    label = kind.replace("_", " ")
    if not data:
        raise InvalidInput(f"the {label} file is empty", field=kind)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ProblemError(
            f"the {label} file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_DOCUMENT_BYTES // 1_048_576} MB",
            problem=PAYLOAD_TOO_LARGE,
            field=kind,
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ProblemError(
            f"the {label} file is not a PDF, PNG or JPEG (judged by its contents, not its name)",
            problem=UNSUPPORTED_MEDIA,
            field=kind,
        )
    return CheckedDocument(
        kind=kind,
        filename=safe_filename(filename or kind, content_type),
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _context(storage_key: str) -> str:
    return f"seller_documents.content:{storage_key}"


def store_sealed(data: bytes, content_type: str) -> str:
    """Seal and store the bytes; returns the new storage key."""
    key = new_key("kyc", suffix_for(content_type) + ".sealed")
    sealed = keys.cipher().encrypt(base64.b64encode(data).decode(), context=_context(key))
    get_storage().put(key, sealed.encode(), content_type=SEALED_CONTENT_TYPE)
    return key


def load_sealed(storage_key: str) -> bytes:
    sealed = get_storage().get(storage_key).decode()
    return base64.b64decode(keys.cipher().decrypt(sealed, context=_context(storage_key)))


def discard(storage_keys: list[str]) -> None:
    storage = get_storage()
    for key in storage_keys:
        storage.delete(key)
