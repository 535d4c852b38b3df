"""The error every checkout service raises for something the person can fix."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class CheckoutError(ValidationError):
    """Something the shopper can fix (quantity, sold out, empty cart); the message says what."""
