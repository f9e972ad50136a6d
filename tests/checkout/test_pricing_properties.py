"""Property tests: voucher stacking never makes a negative total and always adds up."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reelshop.checkout.models import VoucherFunding, VoucherKind
from reelshop.checkout.pricing import VoucherNotApplicable, VoucherTerms, price_checkout
from reelshop.money import Money

SELLERS = ["sel_a", "sel_b", "sel_c", "sel_d"]


@st.composite
def vouchers(draw: st.DrawFn, sellers: list[str]) -> list[VoucherTerms]:
    chosen: list[VoucherTerms] = []
    for i, seller in enumerate(draw(st.lists(st.sampled_from(sellers), unique=True))):
        chosen.append(draw(terms(f"S{i}", VoucherFunding.SELLER, seller)))
    if draw(st.booleans()):
        chosen.append(draw(terms("P", VoucherFunding.PLATFORM, None)))
    return chosen


@st.composite
def terms(
    draw: st.DrawFn, code: str, funded_by: VoucherFunding, seller_id: str | None
) -> VoucherTerms:
    kind = draw(st.sampled_from(list(VoucherKind)))
    cap = draw(st.none() | st.integers(1, 50_000))
    return VoucherTerms(
        voucher_id=f"vch_{code}",
        code=code,
        funded_by=funded_by,
        kind=kind,
        min_spend=Money(draw(st.integers(0, 5_000)), "USD"),
        seller_id=seller_id,
        percent_bp=draw(st.integers(1, 10_000)) if kind == VoucherKind.PERCENT else None,
        amount=Money(draw(st.integers(1, 100_000)), "USD") if kind == VoucherKind.FIXED else None,
        max_discount=Money(cap, "USD") if cap else None,
    )


@st.composite
def carts(draw: st.DrawFn) -> tuple[dict[str, Money], dict[str, Money], list[VoucherTerms]]:
    sellers = draw(st.lists(st.sampled_from(SELLERS), min_size=1, unique=True))
    subtotals = {s: Money(draw(st.integers(0, 200_000)), "USD") for s in sellers}
    shipping = {s: Money(draw(st.sampled_from([0, 499, 1299])), "USD") for s in sellers}
    return subtotals, shipping, draw(vouchers(sellers))


@settings(max_examples=400, deadline=None)
@given(carts())
def test_stacked_vouchers_never_go_negative_and_add_up(
    cart: tuple[dict[str, Money], dict[str, Money], list[VoucherTerms]],
) -> None:
    subtotals, shipping, chosen = cart
    try:
        price = price_checkout(
            currency="USD", subtotals=subtotals, shipping=shipping, vouchers=chosen
        )
    except VoucherNotApplicable as exc:
        refused = exc.detail
        assert "minimum spend" in refused
        return
    for order in price.orders:
        assert order.seller_discount.amount >= 0 and order.platform_discount.amount >= 0
        assert order.discount <= order.subtotal  # never below zero merchandise
        assert order.total.amount >= order.shipping.amount >= 0
        assert order.total == order.subtotal - order.discount + order.shipping
    total = Money.zero("USD")
    for order in price.orders:
        total = total + order.total
    assert total == price.total
    assert price.total == price.subtotal - price.discount + price.shipping
    # every voucher's discount is exactly what the orders carry for it
    platform = [v for v in chosen if v.funded_by == VoucherFunding.PLATFORM]
    if platform:
        split = sum(o.platform_discount.amount for o in price.orders)
        assert split == price.voucher_discounts[platform[0].voucher_id].amount
    for voucher in chosen:
        if voucher.funded_by == VoucherFunding.SELLER:
            order = next(o for o in price.orders if o.seller_id == voucher.seller_id)
            assert order.seller_discount == price.voucher_discounts[voucher.voucher_id]
        discount = price.voucher_discounts[voucher.voucher_id]
        if voucher.max_discount is not None:
            assert discount <= voucher.max_discount


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 100_000), min_size=1, max_size=6),
    st.integers(1, 10_000),
)
def test_platform_discount_shares_follow_what_is_left(parts: list[int], percent_bp: int) -> None:
    subtotals = {f"sel_{i}": Money(p, "USD") for i, p in enumerate(parts)}
    voucher = VoucherTerms(
        voucher_id="vch_p",
        code="P",
        funded_by=VoucherFunding.PLATFORM,
        kind=VoucherKind.PERCENT,
        min_spend=Money(0, "USD"),
        percent_bp=percent_bp,
    )
    price = price_checkout(currency="USD", subtotals=subtotals, shipping={}, vouchers=[voucher])
    for order in price.orders:
        if order.subtotal.is_zero():
            assert order.platform_discount.is_zero()
    assert price.discount == Money(sum(parts), "USD").percent(percent_bp)
