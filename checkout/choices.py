"""The states and channels of an order (kept apart from the models so that querysets can name them)."""

from __future__ import annotations

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Waiting for payment"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired unpaid"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"


class Channel(models.TextChoices):
    SHOPPER = "shopper", "Scan and pay"
    COUNTER = "counter", "Counter"


class LineKind(models.TextChoices):
    """What an order line is. Only products and open-price items are sales; deposits are money held for the
    bottle, and a return slip gives deposit back."""

    PRODUCT = "product", "Product"
    OPEN_PRICE = "open_price", "Item without a barcode"
    DEPOSIT = "deposit", "Deposit"
    DEPOSIT_RETURN = "deposit_return", "Deposit returned"


# The kinds of line that are sales: what analytics counts, and what discounts are taken off.
SALE_KINDS = (LineKind.PRODUCT, LineKind.OPEN_PRICE)
DEPOSIT_KINDS = (LineKind.DEPOSIT, LineKind.DEPOSIT_RETURN)


class RefundMethod(models.TextChoices):
    """How money went back: to the card through Stripe, from the till's cash, or on the shop's own card terminal."""

    STRIPE = "stripe", "Card, through Stripe"
    CASH = "cash", "Cash from the till"
    EXTERNAL_CARD = "external_card", "On the card terminal"
