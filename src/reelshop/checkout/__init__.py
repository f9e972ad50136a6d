"""Cart, checkout, orders split per seller, vouchers and flash deals."""
