"""The shop's own Stripe account (Connect Express), so that shoppers pay the shop directly."""

from __future__ import annotations

from checkout import gateway
from merchants.models import Merchant


def merchant_stripe_account_ensure(*, merchant: Merchant, email: str, country: str) -> str:
    """The merchant's Express account, created once (idempotent per merchant) and remembered."""
    if merchant.stripe_account:
        return merchant.stripe_account
    account = gateway.account_create(
        email=email, country=country, idempotency_key=f"merchant-{merchant.pk}-stripe-account"
    )
    # Compare-and-swap: a concurrent request that already stored the same account changes nothing.
    Merchant.objects.filter(pk=merchant.pk, stripe_account="").update(stripe_account=account)
    merchant.refresh_from_db(fields=["stripe_account"])
    return merchant.stripe_account
