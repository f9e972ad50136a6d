"""Reads of the brand registry in the shape the risk rules take (``BrandFacts``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Brand
from reelshop.trust.image_match import ImageHashes
from reelshop.trust.models import (
    AuthorisationStatus,
    BrandAuthorisation,
    BrandImage,
    BrandPriceRange,
    BrandRegistration,
)
from reelshop.trust.risk import BrandFacts, ProductLine


def brand_facts(*, session: Session) -> list[BrandFacts]:
    """Every registered brand with its aliases, product lines and official image hashes
    (four queries, whatever the number of brands)."""
    regs = session.execute(
        select(BrandRegistration, Brand.name).join(Brand, Brand.id == BrandRegistration.brand_id)
    ).all()
    if not regs:
        return []
    ids = [reg.brand_id for reg, _ in regs]
    lines: dict[str, list[ProductLine]] = {}
    for r in session.scalars(select(BrandPriceRange).where(BrandPriceRange.brand_id.in_(ids))):
        lines.setdefault(r.brand_id, []).append(
            ProductLine(r.product_line, tuple(r.keywords), r.currency, r.min_amount, r.max_amount)
        )
    images: dict[str, list[tuple[str, ImageHashes]]] = {}
    for img in session.scalars(select(BrandImage).where(BrandImage.brand_id.in_(ids))):
        images.setdefault(img.brand_id, []).append(
            (img.id, ImageHashes(img.phash, tuple(img.variant_hashes)))
        )
    return [
        BrandFacts(
            brand_id=reg.brand_id,
            name=name,
            aliases=tuple(reg.aliases),
            lines=tuple(lines.get(reg.brand_id, [])),
            images=tuple(images.get(reg.brand_id, [])),
        )
        for reg, name in regs
    ]


def authorised_brand_ids(*, session: Session, seller_id: str) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(BrandAuthorisation.brand_id).where(
                BrandAuthorisation.seller_id == seller_id,
                BrandAuthorisation.status == AuthorisationStatus.APPROVED,
            )
        )
    )
