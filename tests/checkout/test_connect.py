"""Connecting a shop to Stripe (Connect Express), against Stripe's own example objects."""

from __future__ import annotations

import pytest
from django.test import Client

from merchants.models import Merchant
from tests.checkout.conftest import FakeStripeHTTPClient

pytestmark = pytest.mark.django_db


def _owner_client(owner) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(owner)
    return client


def test_the_owner_connects_once_and_is_sent_to_stripe_onboarding(
    merchant: Merchant,
    store,
    owner,
    fake_stripe: FakeStripeHTTPClient,
    stripe_fixtures: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    fake_stripe.answer("POST", "/v1/accounts", {**stripe_fixtures["account"], "id": "acct_shop1"})
    fake_stripe.answer(
        "POST",
        "/v1/account_links",
        {**stripe_fixtures["account_link"], "url": "https://connect.stripe.com/setup/e/acct_shop1/x"},
    )
    client = _owner_client(owner)
    response = client.post(f"/m/{merchant.slug}/settings/payments/connect/")
    assert response.status_code == 302
    assert response["Location"] == "https://connect.stripe.com/setup/e/acct_shop1/x"
    merchant.refresh_from_db()
    assert merchant.stripe_account == "acct_shop1"
    created = [r for r in fake_stripe.requests if r.path == "/v1/accounts"]
    assert len(created) == 1
    assert created[0].form["type"] == "express"
    assert created[0].form["country"] == store.country
    assert created[0].headers["Idempotency-Key"] == f"merchant-{merchant.pk}-stripe-account"
    # A second click reuses the account and only asks for a fresh link.
    client.post(f"/m/{merchant.slug}/settings/payments/connect/")
    assert len([r for r in fake_stripe.requests if r.path == "/v1/accounts"]) == 1
    assert len([r for r in fake_stripe.requests if r.path == "/v1/account_links"]) == 2


def test_the_payments_page_says_whether_stripe_can_pay_the_shop(
    merchant: Merchant,
    owner,
    fake_stripe: FakeStripeHTTPClient,
    stripe_fixtures: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(stripe_account="acct_shop1")
    # Stripe answers "not yet" first, then "charges enabled" once onboarding is done.
    fake_stripe.answer(
        "GET", "/v1/accounts/acct_shop1", {**stripe_fixtures["account"], "id": "acct_shop1", "charges_enabled": False}
    )
    fake_stripe.answer(
        "GET", "/v1/accounts/acct_shop1", {**stripe_fixtures["account"], "id": "acct_shop1", "charges_enabled": True}
    )
    assert "Not finished" in _owner_client(owner).get(f"/m/{merchant.slug}/settings/payments/").content.decode()
    assert "Ready" in _owner_client(owner).get(f"/m/{merchant.slug}/settings/payments/").content.decode()


def test_only_the_owner_connects_and_other_merchants_get_404(
    merchant: Merchant,
    manager,
    other_owner,
    fake_stripe: FakeStripeHTTPClient,  # type: ignore[no-untyped-def]
) -> None:
    assert _owner_client(manager).post(f"/m/{merchant.slug}/settings/payments/connect/").status_code == 403
    assert _owner_client(other_owner).post(f"/m/{merchant.slug}/settings/payments/connect/").status_code == 404
    assert _owner_client(other_owner).get(f"/m/{merchant.slug}/settings/payments/").status_code == 404
    merchant.refresh_from_db()
    assert merchant.stripe_account == ""
    assert fake_stripe.requests == []


def test_payments_of_a_connected_shop_are_direct_charges_with_the_platform_fee(
    merchant: Merchant,
    store,
    fake_stripe: FakeStripeHTTPClient,
    stripe_fixtures: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    from catalog.services.stock import stock_move
    from checkout.services.carts import cart_add, visit_start
    from checkout.services.orders import order_place
    from checkout.services.payments import payment_start
    from tests.catalog.factories import StoreProductFactory

    Merchant.objects.filter(pk=merchant.pk).update(stripe_account="acct_shop1")
    item = StoreProductFactory(store=store, price=1000)
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=3)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    fake_stripe.answer(
        "POST",
        "/v1/payment_intents",
        {**stripe_fixtures["payment_intent"], "id": "pi_shop1", "amount": 1000, "currency": "eur"},
    )
    order = payment_start(order=order)
    sent = fake_stripe.requests[-1]
    assert sent.headers["Stripe-Account"] == "acct_shop1"
    assert sent.form["application_fee_amount"] == "15"  # 1.5 % of 10,00 €
    assert sent.form["amount"] == "1000"
    assert (order.payment_intent, order.stripe_account) == ("pi_shop1", "acct_shop1")
