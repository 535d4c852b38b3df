"""The states of a purchase order, apart from the models so that the read vocabulary can name them."""

from django.db import models


class OrderState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CONFIRMED = "confirmed", "Confirmed"
    PICKING = "picking", "Picking"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


# States whose goods are still to arrive: what the next suggestion counts as on order.
OPEN_STATES = (
    OrderState.SUBMITTED,
    OrderState.CONFIRMED,
    OrderState.PICKING,
    OrderState.SHIPPED,
    OrderState.DELIVERED,
)


class ClaimStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
