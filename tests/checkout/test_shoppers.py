"""The optional shopper account: e-mail link sign-in, receipts across shops, saved cards, Payment Element."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.core import mail
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout import tasks
from checkout.models import Order, OrderStatus, Shopper, ShopperCustomer, ShopperSignIn
from checkout.services import shoppers
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, shopper_context
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

VISA = "4242424242424242"


@pytest.fixture
def eager_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the sign-in e-mail task in this process (the real task code) instead of queueing it."""
    monkeypatch.setattr(tasks.shopper_sign_in_send, "delay", lambda *args: tasks.shopper_sign_in_send.apply(args))


def _link_from_mail() -> str:
    match = re.search(r"http://\S+(/shopper/sign-in/[\w-]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _sign_in(client: Client, email: str, *, next_url: str = "") -> None:
    response = client.post("/shopper/", {"email": email, "next": next_url})
    assert response.status_code == 200
    link = _link_from_mail()
    assert client.post(link).status_code == 302


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_mail")
def test_an_email_link_signs_in_once_and_only_on_the_button(django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/shopper/", {"email": " Mia@Example.com ", "next": "/s/LINDEN5/cart/"})
    assert "We sent a sign-in link to <strong>mia@example.com</strong>" in page.content.decode()
    assert mail.outbox[-1].to == ["mia@example.com"]
    link = _link_from_mail()
    shopper = Shopper.objects.get(email="mia@example.com")
    # Only the hash of the secret is stored.
    assert ShopperSignIn.objects.get(shopper=shopper).token_hash != link.split("/")[-2]

    # Opening the link (as a mail scanner would) signs nobody in and leaves it usable.
    assert "Sign in to Lingshou" in client.get(link).content.decode()
    assert client.session.get(shoppers.SESSION_KEY) is None
    response = client.post(link)
    assert (response.status_code, response["Location"]) == (302, "/s/LINDEN5/cart/")
    assert client.session[shoppers.SESSION_KEY] == shopper.pk
    assert "Your receipts" in client.get("/shopper/").content.decode()

    again = Client().post(link)
    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert Client().post("/shopper/sign-in/not-a-real-secret/").status_code == 400


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_mail")
def test_expired_links_bad_addresses_and_floods_are_refused(django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    response = client.post("/shopper/", {"email": "not an address"})
    assert response.status_code == 400
    assert "like name@example.com" in response.content.decode()
    assert Shopper.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/shopper/", {"email": "late@example.com"})
    link = _link_from_mail()
    ShopperSignIn.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.post(link)
    assert expired.status_code == 400
    assert "expired" in expired.content.decode()
    assert client.session.get(shoppers.SESSION_KEY) is None

    # The limit counts the expired link too: four more go out, the sixth is refused.
    for _ in range(shoppers.SIGN_IN_LIMIT_PER_HOUR - 1):
        assert client.post("/shopper/", {"email": "late@example.com"}).status_code == 200
    sent = len(mail.outbox)
    flood = client.post("/shopper/", {"email": "late@example.com"})
    assert flood.status_code == 429
    assert ShopperSignIn.objects.count() == shoppers.SIGN_IN_LIMIT_PER_HOUR
    assert len(mail.outbox) == sent


@pytest.mark.django_db
def test_a_shopper_sees_their_own_orders_in_every_shop_and_nobody_elses(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    mia = Shopper.objects.create(email="mia@example.com")
    ben = Shopper.objects.create(email="ben@example.com")
    mine = []
    for owner_merchant in (merchant, other_merchant):
        store = StoreFactory(merchant=owner_merchant)
        with merchant_context(owner_merchant.pk):
            for shopper in (mia, ben, None):
                order = Order.objects.create(
                    merchant=owner_merchant,
                    store=store,
                    currency="EUR",
                    subtotal=100,
                    tax_total=16,
                    total=100,
                    status=OrderStatus.PAID,
                    paid_at=timezone.now(),
                    shopper=shopper,
                )
                if shopper is mia:
                    mine.append(order.pk)
    with shopper_context(mia.pk):
        assert sorted(Order.objects.values_list("pk", flat=True)) == sorted(mine)
        # A merchant context inside it sees that merchant's orders only, not Mia's elsewhere.
        with merchant_context(merchant.pk):
            assert set(Order.objects.values_list("merchant_id", flat=True)) == {merchant.pk}
        # Read only: the policy refuses writes that do not belong to the current merchant.
        with pytest.raises(DatabaseError), transaction.atomic():
            Order.objects.filter(pk=mine[0]).update(total=1)
    with merchant_context(merchant.pk):
        assert Order.objects.get(pk=mine[0]).total == 100
    receipts = shoppers.shopper_receipts(shopper=mia)
    assert sorted(row["pk"] for row in receipts) == sorted(mine)
    assert {row["store"].merchant_id for row in receipts} == {merchant.pk, other_merchant.pk}


# --- through localstripe ---------------------------------------------------------------------------


@pytest.fixture
def shop(merchant: Merchant, localstripe_webhook: str) -> tuple[Store, StoreProduct]:
    del localstripe_webhook  # requested for its effect: localstripe posts its events to the live server
    store = StoreFactory(merchant=merchant)
    item = StoreProductFactory(store=store, price=150, product__name="Quellwerk Wasser")
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return store, item


def _place(client: Client, store: Store, item: StoreProduct) -> str:
    client.post(f"/s/{store.code}/cart/add/", {"item": item.pk, "quantity": 1})
    response = client.post(f"/s/{store.code}/checkout/", {"email": ""})
    assert response.status_code == 302, response.content[:300]
    return str(response["Location"])


def _wait_paid(merchant: Merchant, order_id: int, timeout: float = 40) -> Order:
    deadline = time.monotonic() + timeout
    while True:
        with merchant_context(merchant.pk):
            order = Order.objects.get(pk=order_id)
        if order.status == OrderStatus.PAID or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_mail")
def test_a_signed_in_shopper_keeps_the_receipt_and_pays_again_with_the_saved_card(
    merchant: Merchant,
    shop: tuple[Store, StoreProduct],
    localstripe: stripe.StripeClient,
) -> None:
    store, item = shop
    client = Client()
    _sign_in(client, "mia@example.com")
    mia = Shopper.objects.get(email="mia@example.com")
    assert client.post("/shopper/settings/", {"saves_cards": "on"}).status_code == 302

    pay_url = _place(client, store, item)
    paid = client.post(pay_url, {"card": VISA})
    assert paid.status_code == 302
    assert "/pay/" not in paid["Location"]
    with merchant_context(merchant.pk):
        first = Order.objects.get(shopper=mia)
    assert first.email == "mia@example.com"  # the receipt e-mail goes to the account's address
    assert _wait_paid(merchant, first.pk).status == OrderStatus.PAID
    with merchant_context(merchant.pk):
        customer = ShopperCustomer.objects.get(shopper=mia).stripe_customer
    cards = localstripe.v1.payment_methods.list(params={"customer": customer, "type": "card"}).data
    assert [card.to_dict()["card"]["last4"] for card in cards] == ["4242"]

    account_page = client.get("/shopper/").content.decode()
    assert f"/s/{store.code}/orders/{first.token}/" in account_page
    assert "1,50" in account_page
    assert "ending 4242" in account_page

    # The next purchase is one tap with the saved card.
    pay_url = _place(client, store, item)
    page = client.get(pay_url).content.decode()
    assert "Pay with Visa ending 4242" in page
    card_id = cards[0].id
    assert client.post(pay_url, {"saved_card": card_id}).status_code == 302
    with merchant_context(merchant.pk):
        second = Order.objects.filter(shopper=mia).exclude(pk=first.pk).get()
    assert _wait_paid(merchant, second.pk).status == OrderStatus.PAID
    with merchant_context(merchant.pk):
        assert StoreProduct.objects.get(pk=item.pk).on_hand == 8

    # Someone else cannot pay with Mia's card, nor see her receipts.
    stranger = Client()
    pay_url = _place(stranger, store, item)
    refused = stranger.post(pay_url, {"saved_card": card_id})
    assert refused.status_code == 200
    assert "Choose one of the cards shown" in refused.content.decode()
    with merchant_context(merchant.pk):
        assert Order.objects.filter(shopper__isnull=True, status=OrderStatus.PENDING).count() == 1
    assert "Keep your receipts" in stranger.get("/shopper/").content.decode()

    # Forgetting the card removes it at Stripe; a made-up card id changes nothing.
    assert (
        client.post("/shopper/cards/forget/", {"merchant": merchant.pk, "account": "", "card": "pm_x"}).status_code
        == 302
    )
    assert len(localstripe.v1.payment_methods.list(params={"customer": customer, "type": "card"}).data) == 1
    client.post("/shopper/cards/forget/", {"merchant": merchant.pk, "account": "", "card": card_id})
    assert localstripe.v1.payment_methods.list(params={"customer": customer, "type": "card"}).data == []


@pytest.mark.django_db
def test_the_payment_element_appears_only_with_real_keys_and_only_there_opens_the_csp(
    merchant: Merchant, fake_stripe: Any, stripe_fixtures: dict[str, Any], settings: Any
) -> None:
    store = StoreFactory(merchant=merchant)
    with merchant_context(merchant.pk):
        order = Order.objects.create(
            merchant=merchant,
            store=store,
            currency="EUR",
            subtotal=300,
            tax_total=48,
            total=300,
            payment_intent="pi_element",
            reserved_until=timezone.now() + timedelta(minutes=10),
        )
    intent = {**stripe_fixtures["payment_intent"], "id": "pi_element", "client_secret": "pi_element_secret_abc"}
    fake_stripe.answer("GET", "/v1/payment_intents/pi_element", intent)
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_51realkey"
    page = Client().get(f"/s/{store.code}/orders/{order.token}/pay/")
    html = page.content.decode()
    assert 'data-client-secret="pi_element_secret_abc"' in html
    assert 'data-publishable-key="pk_test_51realkey"' in html
    assert "https://js.stripe.com/v3/" in html
    policy = page["Content-Security-Policy"]
    assert "https://js.stripe.com" in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-src" in policy

    # The demo's placeholder key is not a key: no element, and Stripe's sources stay out of the policy.
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_lingshou_demo"
    plain = Client().get(f"/s/{store.code}/orders/{order.token}/pay/")
    assert "payment-element" not in plain.content.decode()
    assert "js.stripe.com" not in plain["Content-Security-Policy"]
    # The store's landing page never carries Stripe's sources.
    assert "js.stripe.com" not in Client().get(f"/s/{store.code}/")["Content-Security-Policy"]
