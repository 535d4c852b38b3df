"""Typed requests: what the access layer guarantees a view has (see django-htmx's example)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
