"""Perceptual hashes of product images, compared against a brand's official photos.

A pHash (DCT of a 32x32 greyscale) survives resizing and JPEG/WebP re-encoding with a
few bits changed; it does not survive cropping well, so official photos also keep the
hashes of centred 90 % and 80 % crops, and a listing's photo is hashed whole and at
the same crops. The closest pair decides.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import imagehash
from PIL import Image, UnidentifiedImageError

CROPS = (0.9, 0.8)
MAX_HASH_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ImageHashes:
    phash: str
    variants: tuple[str, ...]

    def all(self) -> tuple[str, ...]:
        return (self.phash, *self.variants)


def _crop(image: Image.Image, keep: float) -> Image.Image:
    w, h = image.size
    dw, dh = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
    return image.crop((dw, dh, w - dw, h - dh))


def hash_image(image: Image.Image) -> ImageHashes:
    rgb = image.convert("RGB")
    return ImageHashes(
        phash=str(imagehash.phash(rgb)),
        variants=tuple(str(imagehash.phash(_crop(rgb, keep))) for keep in CROPS),
    )


def hash_bytes(data: bytes) -> ImageHashes | None:
    """None for anything Pillow cannot read (a broken upload is not evidence)."""
    if not data or len(data) > MAX_HASH_BYTES:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return hash_image(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def distance(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


@dataclass(frozen=True)
class ImagePair:
    official_id: str
    listing_index: int
    distance: int


def closest(
    listing: Sequence[ImageHashes], official: Iterable[tuple[str, ImageHashes]]
) -> ImagePair | None:
    """The closest (listing image, official image) pair over every crop combination."""
    best: ImagePair | None = None
    for official_id, hashes in official:
        for index, mine in enumerate(listing):
            d = min(distance(x, y) for x in mine.all() for y in hashes.all())
            if best is None or d < best.distance:
                best = ImagePair(official_id, index, d)
    return best
