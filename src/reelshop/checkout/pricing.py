"""How a checkout's price is made: one order of precedence, pure arithmetic on Money.

The price-priority order (docs/checkout.md explains why):

1. **Unit price.** The SKU's price is the list price. A compare-at price is only the
   "was" price shown beside it; the seller's own product discount is already in
   the list price and is never subtracted again.
2. **Flash deal.** A live deal with enough units left *replaces* the unit price for
   the whole line. Deals do not stack with each other (one deal per SKU at a time).
3. **Seller-funded voucher** (at most one per seller): applies to that seller's
   post-deal merchandise subtotal.
4. **Platform-funded voucher** (at most one per checkout): applies to the sum of
   what is left after seller vouchers, and is split across the orders in proportion
   to it with ``Money.allocate`` (parts add up exactly).
5. **Shipping** is added last; vouchers never discount shipping.

A discount never exceeds what it applies to, so no total is ever negative; a
voucher whose minimum spend is not met by what it applies to is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reelshop.checkout.models import VoucherFunding, VoucherKind
from reelshop.errors import InvalidInput, problem_type
from reelshop.money import Money

VOUCHER_NOT_APPLICABLE = problem_type(
    "voucher-not-applicable", 422, "The voucher cannot be used on this purchase"
)


class VoucherNotApplicable(InvalidInput):
    default_type = VOUCHER_NOT_APPLICABLE


@dataclass(frozen=True)
class VoucherTerms:
    voucher_id: str
    code: str
    funded_by: VoucherFunding
    kind: VoucherKind
    min_spend: Money
    seller_id: str | None = None
    percent_bp: int | None = None
    amount: Money | None = None
    max_discount: Money | None = None


@dataclass
class OrderPrice:
    seller_id: str
    subtotal: Money
    shipping: Money
    seller_discount: Money
    platform_discount: Money

    @property
    def discount(self) -> Money:
        return self.seller_discount + self.platform_discount

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount + self.shipping


@dataclass
class CheckoutPrice:
    currency: str
    orders: list[OrderPrice]
    voucher_discounts: dict[str, Money] = field(default_factory=dict)

    def _sum(self, name: str) -> Money:
        total = Money.zero(self.currency)
        for order in self.orders:
            total = total + getattr(order, name)
        return total

    @property
    def subtotal(self) -> Money:
        return self._sum("subtotal")

    @property
    def discount(self) -> Money:
        return self._sum("discount")

    @property
    def shipping(self) -> Money:
        return self._sum("shipping")

    @property
    def total(self) -> Money:
        return self._sum("total")


def voucher_discount(terms: VoucherTerms, eligible: Money) -> Money:
    """What ``terms`` take off ``eligible``: never more than ``eligible``."""
    if eligible < terms.min_spend:
        raise VoucherNotApplicable(
            f"voucher {terms.code} needs a minimum spend of {terms.min_spend.format()}; "
            f"this purchase counts {eligible.format()}",
            code=terms.code,
        )
    if terms.kind == VoucherKind.PERCENT:
        discount = eligible.percent(terms.percent_bp or 0)
    else:
        assert terms.amount is not None
        discount = terms.amount
    if terms.max_discount is not None and discount > terms.max_discount:
        discount = terms.max_discount
    return discount if discount <= eligible else eligible


def price_checkout(
    *,
    currency: str,
    subtotals: dict[str, Money],
    shipping: dict[str, Money],
    vouchers: list[VoucherTerms],
) -> CheckoutPrice:
    """Totals per seller (``subtotals`` keyed by seller id, in placement order)."""
    orders = {
        seller_id: OrderPrice(
            seller_id=seller_id,
            subtotal=subtotal,
            shipping=shipping.get(seller_id, Money.zero(currency)),
            seller_discount=Money.zero(currency),
            platform_discount=Money.zero(currency),
        )
        for seller_id, subtotal in subtotals.items()
    }
    price = CheckoutPrice(currency=currency, orders=list(orders.values()))
    seller_vouchers = [v for v in vouchers if v.funded_by == VoucherFunding.SELLER]
    platform_vouchers = [v for v in vouchers if v.funded_by == VoucherFunding.PLATFORM]
    if len(platform_vouchers) > 1:
        raise VoucherNotApplicable("only one platform voucher per checkout")
    seen_sellers: set[str] = set()
    for terms in seller_vouchers:
        if terms.seller_id not in orders:
            raise VoucherNotApplicable(
                f"voucher {terms.code} is for a shop that has nothing in this cart",
                code=terms.code,
            )
        if terms.seller_id in seen_sellers:
            raise VoucherNotApplicable("only one voucher per shop", code=terms.code)
        seen_sellers.add(terms.seller_id)
        order = orders[terms.seller_id]
        order.seller_discount = voucher_discount(terms, order.subtotal)
        price.voucher_discounts[terms.voucher_id] = order.seller_discount
    for terms in platform_vouchers:
        remaining = [o.subtotal - o.seller_discount for o in price.orders]
        eligible = Money.zero(currency)
        for part in remaining:
            eligible = eligible + part
        discount = voucher_discount(terms, eligible)
        price.voucher_discounts[terms.voucher_id] = discount
        if discount.is_zero():
            continue
        # Only orders with something left take a share: a zero ratio must not receive
        # a rounding cent.
        takers = [i for i, part in enumerate(remaining) if part.amount > 0]
        shares = discount.allocate([remaining[i].amount for i in takers])
        for i, share in zip(takers, shares, strict=True):
            price.orders[i].platform_discount = share
    return price
