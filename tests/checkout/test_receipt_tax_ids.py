"""Receipts carry the store's tax ids and its footer: the shopper's page, the counter's print and the e-mail."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from checkout.models import Order
from checkout.tasks import receipt_send
from merchants.models import Merchant, Store
from merchants.services import StoreSettings, store_update
from merchants.tenancy import merchant_context
from tests.analytics.conftest import code, counter_sale, phone_order, stocked

pytestmark = pytest.mark.django_db

HEAD = (
    '<p class="small muted receipt-head">Kiosk Lindenstraße · Lindenstraße 5 · Lindenstraße 5, 10969 Berlin'
    "<br>VAT id DE298765435 · Tax number 29/123/45678<br>"
)
FOOT = '<p class="receipt-foot small">Danke für Ihren Einkauf!<br>Umtausch nur mit Kassenbon.</p>'


@pytest.fixture
def taxed_store(merchant: Merchant, store: Store) -> Store:
    store_update(
        merchant=merchant,
        store_id=store.pk,
        settings=StoreSettings(
            name=store.name,
            timezone="Europe/Berlin",
            street="Lindenstraße 5",
            postal_code="10969",
            city="Berlin",
            vat_id="DE298765435",
            tax_number="29/123/45678",
            receipt_footer="Danke für Ihren Einkauf!\nUmtausch nur mit Kassenbon.",
        ),
    )
    with merchant_context(merchant.pk):
        return Store.objects.select_related("merchant").get(pk=store.pk)


def test_the_shoppers_receipt_names_the_stores_tax_ids_and_ends_with_its_footer(taxed_store: Store) -> None:
    cola = stocked(taxed_store, 5, price=249, product__name="Quellwerk Cola")
    order = phone_order(taxed_store, [(cola, 2)])
    body = Client().get(f"/s/{taxed_store.code}/orders/{order.token}/").content.decode()
    assert HEAD in body
    assert FOOT in body
    assert body.index(FOOT) > body.index("4,98\xa0€")  # after the total


def test_the_counter_receipt_names_the_stores_tax_ids_and_ends_with_its_footer(
    merchant: Merchant, taxed_store: Store, clerk: Any
) -> None:
    cola = stocked(taxed_store, 5, price=249, product__name="Quellwerk Cola")
    order = counter_sale(taxed_store, clerk, [code(cola)], tendered=500)
    client = Client()
    client.force_login(clerk)
    body = client.get(f"/m/{merchant.slug}/counter/sales/{order.pk}/receipt/").content.decode()
    assert HEAD in body
    assert FOOT in body
    # Paid at the store's own clock (Berlin), not UTC.
    assert f"<br>{order.paid_at.astimezone(ZoneInfo('Europe/Berlin')):%Y-%m-%d %H:%M} · Counter</p>" in body


def test_a_store_without_tax_ids_prints_neither_line(store: Store) -> None:
    cola = stocked(store, 5, price=249, product__name="Quellwerk Cola")
    order = phone_order(store, [(cola, 1)])
    body = Client().get(f"/s/{store.code}/orders/{order.token}/").content.decode()
    assert "VAT id" not in body
    assert "Tax number" not in body
    assert "receipt-foot" not in body


def test_the_receipt_email_names_the_tax_ids_and_the_footer(merchant: Merchant, taxed_store: Store) -> None:
    cola = stocked(taxed_store, 5, price=249, product__name="Quellwerk Cola")
    order = phone_order(taxed_store, [(cola, 1)])
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=order.pk).update(email="mia@example.com")
    assert receipt_send(merchant.pk, order.pk) is True
    assert (
        "Kiosk Lindenstraße · Lindenstraße 5, 10969 Berlin\n"
        "VAT id DE298765435\n"
        "Tax number 29/123/45678\n\n"
        "Danke für Ihren Einkauf!\nUmtausch nur mit Kassenbon.\n"
    ) in mail.outbox[-1].body
