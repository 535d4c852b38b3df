"""The states and kinds sensing's rows take (model choices), apart so that the read vocabulary can name them."""

from django.db import models


class FrameStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    # Kept but not processed: the camera had no calibration, or the frame came after a later one.
    FLAGGED = "flagged", "Flagged"


class EventKind(models.TextChoices):
    TAKE = "take", "Taken"
    PUT_BACK = "put_back", "Put back"
    RESTOCK = "restock", "Restocked"


class ReviewStatus(models.TextChoices):
    # Confident enough to count without a person looking at it.
    ACCEPTED = "accepted", "Accepted"
    PENDING = "pending", "Needs review"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class AlertKind(models.TextChoices):
    LOW_STOCK = "low_stock", "Low stock"
    STOCK_OUT = "stock_out", "Out of stock"
    WRONG_PRODUCT = "wrong_product", "Wrong product in slot"
    BLURRED = "blurred", "Picture blurred"
    DARK = "dark", "Picture dark"
    MOVED = "moved", "Camera moved"
    BLOCKED = "blocked", "View blocked"
    OFFLINE = "offline", "Camera offline"
