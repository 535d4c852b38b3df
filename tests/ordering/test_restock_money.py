"""Restock money is clear: the free-delivery top-up shows the fee it saves and is made only when keeping the
stock costs less; every amount is written as the store writes money; lines show their cost, the order its
total at cost; the wholesaler types the supply's amounts as money."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import Product
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from ordering.models import PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import drafting
from tests.ordering.conftest import MONDAY_NOON, item_for

pytestmark = pytest.mark.django_db

FEE = 1490  # 14,90 €


def _draft(store: Store) -> PurchaseOrder:
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    return order


def _lines(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    with merchant_context(order.merchant_id):
        return list(order.lines.select_related("product").order_by("product__name"))


def _value(order: PurchaseOrder) -> int:
    return sum(line.quantity * line.unit_cost for line in _lines(order))


def _terms(supply: StoreSupply, **terms: int) -> None:
    with merchant_context(supply.merchant_id):
        StoreSupply.objects.filter(pk=supply.pk).update(**terms)


@pytest.mark.usefixtures("selling_store")
def test_the_top_up_to_free_delivery_says_the_fee_it_saves_and_how_each_topped_line_was_judged(
    store: Store, supply: StoreSupply
) -> None:
    plain = _value(_draft(store))
    assert plain > 0
    _terms(supply, free_delivery_threshold=plain + 1000, delivery_fee=FEE)
    order = _draft(store)
    value = _value(order)
    assert value >= plain + 1000
    [note] = order.notes
    found = re.fullmatch(
        r"added (\d+) cases? \(([\d.,]+)\xa0€\) of the lines that run out soonest to reach free delivery at "
        r"([\d.,]+)\xa0€: saves the 14,90\xa0€ delivery fee, and keeping the extra stock until it sells costs "
        r"(about [\d,]+\xa0€|less than 0,01\xa0€) \(25 % a year of its cost\)",
        note,
    )
    assert found is not None, note
    assert found.group(2) == f"{(value - plain) / 100:.2f}".replace(".", ",")
    assert found.group(3) == f"{(plain + 1000) / 100:.2f}".replace(".", ",")
    topped = [line for line in _lines(order) if "for free delivery" in line.explanation]
    assert topped
    for line in topped:
        assert "below the 14,90\xa0€ delivery fee it saves" in line.explanation


@pytest.mark.usefixtures("selling_store")
def test_no_top_up_when_keeping_the_stock_costs_more_than_the_fee(store: Store, supply: StoreSupply) -> None:
    plain_order = _draft(store)
    plain = _value(plain_order)
    quantities = [line.quantity for line in _lines(plain_order)]
    # Free delivery far away, and a fee of one cent: the stock to reach it costs more to keep than that.
    _terms(supply, free_delivery_threshold=plain * 3, delivery_fee=1)
    order = _draft(store)
    assert [line.quantity for line in _lines(order)] == quantities
    [note] = order.notes
    assert note.startswith(f"free delivery at {plain * 3 / 100:.2f}\xa0€".replace(".", ","))
    assert note.endswith("more than the 0,01\xa0€ delivery fee it saves, so none were added")
    assert not any("for free delivery" in line.explanation for line in _lines(order))


def test_the_order_page_shows_each_lines_cost_and_the_total_at_cost_in_the_stores_format(
    owner_client: Client, merchant, store: Store, supply: StoreSupply, cola: Product, chips: Product
) -> None:  # type: ignore[no-untyped-def]
    order = _draft(store)  # no sales yet: an empty draft
    with merchant_context(merchant.pk):
        for product, quantity in ((cola, 24), (chips, 6)):
            PurchaseOrderLine.objects.create(
                merchant=merchant, order=order, store_product=item_for(store, product), product=product,
                case_pack=product.case_pack, unit_cost=product.wholesale_cost, quantity=quantity,
            )  # fmt: skip
    _terms(supply, free_delivery_threshold=5000, delivery_fee=FEE)
    text = owner_client.get(f"/m/{merchant.slug}/restock/orders/{order.pk}/").content.decode()
    # 24 × 0,80 € and 6 × 1,20 €
    assert 'data-label="Cost">19,20\xa0€<span class="small muted cost-each">0,80\xa0€ each</span>' in text
    assert 'data-label="Cost">7,20\xa0€<span class="small muted cost-each">1,20\xa0€ each</span>' in text
    assert '<span class="muted">Total at cost</span> <strong>26,40\xa0€</strong>' in text
    assert "23,60\xa0€ more for free delivery (from 50,00\xa0€): below it the delivery costs 14,90\xa0€" in text
    # No amount anywhere written the other way round (€26.40).
    assert re.search(r"€[ \xa0]?\d", text) is None
    _terms(supply, free_delivery_threshold=2000)
    text = owner_client.get(f"/m/{merchant.slug}/restock/orders/{order.pk}/").content.decode()
    assert "Free delivery: saves the 14,90\xa0€ delivery fee" in text
    restock = owner_client.get(f"/m/{merchant.slug}/restock/").content.decode()
    assert "<dt>Delivery fee</dt><dd>14,90\xa0€ below free delivery</dd>" in restock


def test_the_wholesaler_types_the_supplys_amounts_as_money(
    depot_client: Client, store: Store, supply: StoreSupply
) -> None:
    url = f"/admin/ordering/storesupply/{supply.pk}/change/"
    form = {
        "store": store.pk, "depot": supply.depot_id, "delivery_weekdays": '["tue", "fri"]', "cutoff_time": "18:00",
        "lead_time_days": "1", "route": "Route A", "default_service_level": "0.95", "service_levels": "{}",
        "minimum_order_value": "50", "free_delivery_threshold": "250,00", "delivery_fee": "14.90",
    }  # fmt: skip
    assert depot_client.post(url, form).status_code == 302
    with platform_access(reason="test", actor="test"):
        saved = StoreSupply.objects.get(pk=supply.pk)
    assert (saved.minimum_order_value, saved.free_delivery_threshold, saved.delivery_fee) == (5000, 25000, 1490)
    listing = depot_client.get("/admin/ordering/storesupply/").content.decode()
    assert "250,00\xa0€" in listing
    assert "14,90\xa0€" in listing
    assert 'value="14.90"' in depot_client.get(url).content.decode()
    refused = depot_client.post(url, {**form, "delivery_fee": "14,905"})
    assert refused.status_code == 200
    assert "EUR amounts have 2 decimals at most." in refused.content.decode()
    with platform_access(reason="test", actor="test"):
        assert StoreSupply.objects.get(pk=supply.pk).delivery_fee == 1490


@pytest.mark.usefixtures("cola")
def test_the_wholesalers_product_list_shows_costs_as_money(depot_client: Client) -> None:
    text = depot_client.get("/admin/catalog/product/").content.decode()
    assert "0,80\xa0€" in text  # the cola's wholesale cost of 80 cents
