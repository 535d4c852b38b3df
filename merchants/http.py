"""Typed requests: what the access layer guarantees a view has (see django-htmx's example)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Membership, Merchant


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class MerchantRequest(AuthenticatedRequest):
    """A request that merchant_view let through: the merchant and the member's role are resolved."""

    merchant: Merchant
    membership: Membership
    # Which navigation entry to mark current, when the URL name does not say.
    dashboard_section: str


def error_message(error: ValidationError) -> str:
    """A validation error as one line for a flash message or a form."""
    if hasattr(error, "error_dict"):
        return "; ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return error.messages[0] if error.messages else "That did not work."
