"""Small factories for test data, built through the service layer where one exists."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.sellers.models import SellerProfile, SellerStatus

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.com"


def make_user(
    session: Session,
    *,
    role: Role = Role.SHOPPER,
    email: str | None = None,
    name: str = "Test Person",
    phone: str | None = None,
    password: str = PASSWORD,
    commit: bool = True,
) -> User:
    user = accounts.sign_up(
        session=session,
        email=email or unique_email(role.value),
        password=password,
        name=name,
        role=role,
        phone=phone,
    )
    if commit:
        session.commit()
    return user


def make_staff(
    session: Session, *permissions: StaffPermission, email: str | None = None, commit: bool = True
) -> User:
    user = accounts.create_staff_user(
        session=session,
        email=email or unique_email("staff"),
        password=PASSWORD,
        name="Staff Member",
        permissions=list(permissions) or [StaffPermission.SUPPORT],
        created_by=None,
    )
    if commit:
        session.commit()
    return user


def make_seller(
    session: Session,
    *,
    status: SellerStatus = SellerStatus.APPROVED,
    ships_from: str = "CN",
    commit: bool = True,
    **profile: Any,
) -> tuple[User, SellerProfile]:
    user = make_user(session, role=Role.SELLER, commit=False)
    seller = SellerProfile(
        user_id=user.id,
        display_name=profile.pop("display_name", "Lumi Electronics"),
        legal_name=profile.pop("legal_name", "Shenzhen Lumi Electronics Co., Ltd."),
        country=profile.pop("country", ships_from),
        ships_from_country=ships_from,
        status=status,
        market_codes=profile.pop("market_codes", ["US"]),
        categories=profile.pop("categories", ["electronics"]),
        **profile,
    )
    session.add(seller)
    session.flush()
    if commit:
        session.commit()
    return user, seller


def api_login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API and return the Authorization header for the token."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['secret']}"}


def page_login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the HTML form; returns the session's CSRF token for later forms."""
    import re

    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "login form has no CSRF token"
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert found, "logged-in page carries no CSRF token"
    return found.group(1)


def make_category(session: Session, slug: str = "electronics", name: str | None = None) -> Any:
    from sqlalchemy import select

    from reelshop.catalog.models import Category

    found = session.scalars(select(Category).where(Category.slug == slug)).first()
    if found is not None:
        return found
    category = Category(slug=slug, name=name or slug.replace("-", " ").title(), path=slug)
    session.add(category)
    session.flush()
    return category


def make_product(
    session: Session,
    *,
    seller: SellerProfile | None = None,
    title: str = "Wireless earbuds",
    price_cents: int = 2999,
    stock: int = 10,
    status: str = "active",
    variants: int = 1,
    category_slug: str = "electronics",
    commit: bool = True,
) -> Any:
    """An active product with ``variants`` SKUs, each with ``stock`` units at the seller's
    warehouse. Returns the Product (SKUs in ``product.skus``)."""
    from reelshop.catalog.models import Product, Sku
    from reelshop.inventory import service as inventory
    from reelshop.inventory.models import AdjustmentReason

    if seller is None:
        _, seller = make_seller(session, commit=False)
    category = make_category(session, category_slug)
    n = next(_counter)
    product = Product(
        seller_id=seller.id,
        handle=f"product-{n}",
        title=title,
        description=f"{title} #{n}",
        category_id=category.id,
        currency=seller.currency,
        status=status,
        option_names=["Color"] if variants > 1 else [],
    )
    for i in range(variants):
        product.skus.append(
            Sku(
                code=f"SKU-{n}-{i}",
                price_amount=price_cents,
                position=i,
                option_values={"Color": f"Color {i}"} if variants > 1 else {},
            )
        )
    session.add(product)
    session.flush()
    location = inventory.default_location(
        session=session, seller_id=seller.id, country=seller.ships_from_country
    )
    for sku in product.skus:
        if stock:
            inventory.adjust(
                session=session,
                sku_id=sku.id,
                location_id=location.id,
                delta=stock,
                reason=AdjustmentReason.RECEIVED,
            )
    if commit:
        session.commit()
    return product
