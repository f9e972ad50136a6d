"""Seed step "trust": three of the catalog's invented brands registered, one with the
demo brand owner; the sellers already listing them authorised; unauthorised sellers'
suspicious listings (disguised names, give-away prices, a copied official photo)
screened into the moderation queue; a shopper report, a strike and an open appeal.

Screening runs without the sentence-embedding model (the seeded brands are not
ordinary words), so the step stays well under a second or two.
"""

from __future__ import annotations

import io
import random
from statistics import median
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, User
from reelshop.catalog.models import Brand, Product, ProductImage, ProductStatus, Sku
from reelshop.db import utcnow
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.storage import get_storage, new_key
from reelshop.trust import brands, moderation, reports, screening
from reelshop.trust.models import AuthorisationStatus, BrandAuthorisation

BRAND_OWNER_EMAIL = "brand@demo.reelshop.dev"


def _photo(seed: str, size: int = 480) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(7):
        x0, y0 = rng.randrange(size - 80), rng.randrange(size - 80)
        x1, y1 = x0 + rng.randrange(60, 260), y0 + rng.randrange(60, 260)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jpeg_copy(data: bytes, scale: float = 0.6) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _leet(name: str) -> str:
    return name.replace("o", "0").replace("i", "1").replace("e", "3")


def seed_trust(session: Session, ctx: Any) -> None:
    admin = session.scalars(
        select(User).where(User.role == Role.STAFF).order_by(User.created_at)
    ).first()
    if admin is None:
        return
    owner = accounts.sign_up(
        session=session,
        email=BRAND_OWNER_EMAIL,
        password=ctx_password(),
        name="Ines Duarte",
        role=Role.SHOPPER,
    )
    from reelshop.seed import DemoLogin

    ctx.logins.append(
        DemoLogin("shopper", BRAND_OWNER_EMAIL, ctx_password(), "brand owner: /brand")
    )
    # The three invented brands with the most live listings.
    top = session.execute(
        select(Brand, func.count(Product.id))
        .join(Product, Product.brand_id == Brand.id)
        .where(Product.status == ProductStatus.ACTIVE)
        .group_by(Brand.id)
        .order_by(func.count(Product.id).desc(), Brand.name)
        .limit(3)
    ).all()
    rng = random.Random(20261125)
    registered: list[dict[str, Any]] = []
    for index, (brand, _count) in enumerate(top):
        reg = brands.register_brand(
            session=session,
            staff_id=admin.id,
            name=brand.name,
            trademark_number=f"US {rng.randrange(4_000_000, 7_999_999)}",
            trademark_classes=[9, 25] if index % 2 else [18, 25],
            aliases=[brand.name + brand.name[-1], brand.name[:-1]],
        )
        products = session.scalars(
            select(Product).where(
                Product.brand_id == brand.id, Product.status == ProductStatus.ACTIVE
            )
        ).all()
        prices = sorted(
            s.price_amount for p in products for s in p.skus if s.is_active and s.price_amount > 0
        )
        typical = int(median(prices)) if prices else 5000
        currency = products[0].currency if products else "USD"
        brands.add_price_range(
            session=session,
            registration=reg,
            product_line=f"{brand.name} range",
            keywords=[],
            currency=currency,
            min_amount=max(int(typical * 0.6), 100),
            max_amount=max(int(typical * 1.6), 200),
        )
        official = _photo(f"official-{brand.slug}")
        brands.add_official_image(
            session=session, registration=reg, data=official, label="Catalogue shot"
        )
        if index == 0:
            brands.verify_owner(
                session=session,
                staff_id=admin.id,
                brand_id=brand.id,
                user_id=owner.id,
                note="demo: trademark certificate checked",
            )
        sellers_of_brand = {p.seller_id for p in products}
        for seller_id in sorted(sellers_of_brand):
            session.add(
                BrandAuthorisation(
                    brand_id=brand.id,
                    seller_id=seller_id,
                    status=AuthorisationStatus.APPROVED,
                    statement="Distributor agreement on file",
                    decided_by=admin.id,
                    decided_at=utcnow(),
                    decision_note="seeded",
                )
            )
        registered.append(
            {"brand": brand, "typical": typical, "official": official, "sellers": sellers_of_brand,
             "category_id": products[0].category_id if products else None, "currency": currency}
        )  # fmt: skip
    session.flush()

    # Unauthorised sellers' suspicious listings.
    candidates = session.scalars(
        select(SellerProfile)
        .where(SellerProfile.status == SellerStatus.APPROVED)
        .order_by(SellerProfile.created_at, SellerProfile.id)
    ).all()
    storage = get_storage()
    suspicious: list[str] = []
    templates = [
        ("{leet} best seller, factory direct", 0.15, False),
        ("{spaced} premium edition", 0.2, False),
        ("{doubled} replica 1:1 top quality", 0.1, False),
        ("Premium classic item, same as the catalogue", 0.3, True),
    ]
    for entry in registered:
        brand = entry["brand"]
        if entry["category_id"] is None:
            continue
        outsiders = [s for s in candidates if s.id not in entry["sellers"]][:4]
        names = {
            "leet": _leet(brand.name),
            "spaced": " ".join(brand.name.upper()),
            "doubled": brand.name + brand.name[-1],
        }
        for (pattern, ratio, copy_photo), seller in zip(templates, outsiders, strict=False):
            product = Product(
                seller_id=seller.id,
                handle=f"trust-{brand.slug}-{len(suspicious)}",
                title=pattern.format(**names),
                description=f"Looks exactly like {brand.name}. Fast shipping."
                if not copy_photo
                else "Photo of the real item.",
                category_id=entry["category_id"],
                currency=entry["currency"],
                status=ProductStatus.ACTIVE,
                brand_text="Unbranded" if copy_photo else None,
                published_at=utcnow(),
            )
            product.skus.append(
                Sku(code="ONE", price_amount=max(int(entry["typical"] * ratio), 99), position=0)
            )
            if copy_photo:
                key = new_key("products", ".jpg")
                storage.put(key, _jpeg_copy(entry["official"]), content_type="image/jpeg")
                product.images.append(
                    ProductImage(storage_key=key, position=0, content_type="image/jpeg")
                )
            session.add(product)
            session.flush()
            location = inventory.default_location(
                session=session, seller_id=seller.id, country=seller.ships_from_country
            )
            inventory.adjust(
                session=session,
                sku_id=product.skus[0].id,
                location_id=location.id,
                delta=rng.randrange(20, 200),
                reason=AdjustmentReason.RECEIVED,
            )
            suspicious.append(product.id)
    for product_id in suspicious:
        screening.screen_listing(session=session, product_id=product_id, semantic=False)

    # A shopper report on an ordinary listing, a strike and an open appeal.
    if ctx.shopper_ids:
        ordinary = session.scalars(
            select(Product)
            .where(Product.status == ProductStatus.ACTIVE, Product.id.not_in(suspicious))
            .order_by(Product.created_at, Product.id)
            .limit(1)
        ).first()
        if ordinary is not None:
            reports.submit_report(
                session=session,
                reporter_id=ctx.shopper_ids[0],
                product_id=ordinary.id,
                kind="misleading",
                reason="The photos show a different colour from the one delivered.",
                semantic=False,
            )
    struck = [c for c in candidates if c.id not in {s for e in registered for s in e["sellers"]}]
    if struck:
        strike = moderation.add_strike(
            session=session,
            seller_id=struck[0].id,
            reason="Counterfeit listing taken down (seeded history)",
            ref="seed:strike-1",
            actor_id=admin.id,
        )
        moderation.appeal_strike(
            session=session,
            seller_id=struck[0].id,
            strike_id=strike.id,
            statement="We bought the stock from the brand's distributor; invoices sent by email.",
        )
    session.flush()


def ctx_password() -> str:
    from reelshop.seed import DEMO_PASSWORD

    return DEMO_PASSWORD
