"""The product image pipeline: sniff, limit, re-encode, thumbnail.

The file name and the client's content type are never trusted: the type comes from
the bytes. Every accepted image is decoded and encoded again, which drops whatever
rode along in the original file (EXIF with GPS positions, ICC tricks, trailing
payloads) and leaves only pixels.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from reelshop.errors import PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA, InvalidInput, ProblemError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 16
MAX_SIDE = 2048  # longer side of the stored image
THUMB_SIDE = 400
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
WEBP = "image/webp"
JPEG = "image/jpeg"


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    thumb: bytes
    width: int
    height: int
    content_type: str


def media_url(key: str | None) -> str | None:
    """Where the app serves a stored object (``reelshop.web.media``)."""
    return f"/media/{key}" if key else None


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise ProblemError(
            f"images are at most {MAX_BYTES // (1024 * 1024)} MB", problem=PAYLOAD_TOO_LARGE
        )
    if not data:
        raise ProblemError("the file is empty", problem=UNSUPPORTED_MEDIA)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ProblemError(
            "not a JPEG, PNG or WebP image (the file's contents decide, not its name)",
            problem=UNSUPPORTED_MEDIA,
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput(
            f"images are at most {MAX_PIXELS // 1_000_000} megapixels", field="file"
        ) from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InvalidInput(
            f"images are at most {MAX_PIXELS // 1_000_000} megapixels "
            f"(this one is {width}x{height})",
            field="file",
        )
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(f"images are at least {MIN_SIDE} pixels on each side", field="file")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProblemError(
            "the image is damaged or truncated and cannot be read", problem=UNSUPPORTED_MEDIA
        ) from exc
    return image


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue()


def process(data: bytes) -> ProcessedImage:
    """Validate an uploaded image and return clean WebP bytes and a thumbnail.

    Raises 413 for too many bytes, 415 for anything that is not a JPEG/PNG/WebP,
    422 for too many pixels or too small an image.
    """
    source = _open(data)
    upright = ImageOps.exif_transpose(source)
    has_alpha = upright.mode in ("RGBA", "LA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    pixels.info.clear()
    if max(pixels.size) > MAX_SIDE:
        pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        data=_encode(pixels, 82),
        thumb=_encode(thumb, 78),
        width=pixels.width,
        height=pixels.height,
        content_type=WEBP,
    )
