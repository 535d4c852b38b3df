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
