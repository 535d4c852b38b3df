"""The wholesaler's invoice states net, VAT per rate and gross with both VAT ids; the admin shows a shop's sales
rate and stock on its order lines only when that store shares them."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client

from catalog.models import Product
from merchants.models import Merchant, Store, Wholesaler
from merchants.tenancy import merchant_context, platform_access
from ordering.invoices import rate_label, vat_by_rate
from ordering.models import Depot, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services import drafting, editing
from tests.ordering.conftest import MONDAY_NOON, selling
from tests.ordering.test_admin import CHANGELIST, pdf_text, submitted  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def test_vat_is_charged_on_each_rates_net_sum_rounded_once() -> None:
    # 3 × 0,33 at 19 %: 0,0627 a line (0,06 rounded, 0,18 for three) but 0,19 on the 0,99 sum.
    assert vat_by_rate([(1900, 33), (1900, 33), (1900, 33), (700, 1440), (0, 500)]) == [
        (1900, 99, 19),
        (700, 1440, 101),
        (0, 500, 0),
    ]
    assert (rate_label(1900), rate_label(550), rate_label(0)) == ("19 %", "5,5 %", "0 %")


def test_the_invoice_shows_net_vat_per_rate_gross_and_both_vat_ids(
    depot_client: Client,
    submitted: PurchaseOrder,  # noqa: F811 - the fixture imported above
    store: Store,
    chips: Product,
    wholesaler: Wholesaler,
) -> None:
    Wholesaler.objects.filter(pk=wholesaler.pk).update(vat_id="DE271828180")
    Product.objects.filter(pk=chips.pk).update(tax_class="reduced")
    with merchant_context(store.merchant_id):
        Store.objects.filter(pk=store.pk).update(vat_id="DE298765435", tax_number="29/123/45678")
    depot_client.post(CHANGELIST, {"action": "confirm", "_selected_action": [submitted.pk]})
    depot_client.post(CHANGELIST, {"action": "mark_shipped", "_selected_action": [submitted.pk]})
    invoice = depot_client.get(f"{CHANGELIST}{submitted.pk}/invoice.pdf")
    assert invoice.status_code == 200
    text = pdf_text(invoice.content)
    assert f"{wholesaler.name} · Hafenstraße 1, Hamburg" in text
    assert "VAT id DE271828180" in text  # the seller's
    assert "VAT id DE298765435 · Tax number 29/123/45678" in text  # the buyer's
    # 24 cola at 0,80 (19 %) and 12 chips at 1,20 (7 %): 3,648 and 1,008 VAT.
    assert "19,20 €" in text
    assert "14,40 €" in text
    assert "Net total 33,60 €" in text
    assert "VAT 19 % on 19,20 € 3,65 €" in text
    assert "VAT 7 % on 14,40 € 1,01 €" in text
    assert "Total incl. VAT 38,26 €" in text


def _submitted_draft(store: Store) -> PurchaseOrder:
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    return order


def _lines(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    with platform_access(reason="test", actor="test"):
        return list(PurchaseOrderLine.objects.filter(order=order).select_related("store_product").order_by("pk"))


def _share(store: Store, shared: bool) -> None:
    with merchant_context(store.merchant_id):
        Store.objects.filter(pk=store.pk).update(share_with_wholesaler=shared)


@pytest.fixture
def two_shops(
    store: Store,
    other_store: Store,
    supply: StoreSupply,
    depot: Depot,
    cola: Product,
) -> tuple[PurchaseOrder, PurchaseOrder]:
    """Two merchants of the same wholesaler, each with a submitted suggested order of cola."""
    del supply  # asked for so that the first store is supplied
    with merchant_context(other_store.merchant_id):
        StoreSupply.objects.create(
            merchant_id=other_store.merchant_id, store=other_store, depot=depot, delivery_weekdays=["tue", "fri"],
            cutoff_time=dt.time(18, 0), lead_time_days=1,
        )  # fmt: skip
    selling(store, cola, daily=[6, 5, 7, 6, 8, 4, 6] * 8, left=3, end=MONDAY_NOON)
    selling(other_store, cola, daily=[2, 3, 2, 2, 3, 2, 2] * 8, left=1, end=MONDAY_NOON)
    return _submitted_draft(store), _submitted_draft(other_store)


def _cells(page: str, field: str) -> list[str]:
    """The text of each order line's readonly cell ``field``, as the admin's inline table shows it."""
    return [
        html.unescape(text.strip())
        for text in re.findall(rf'<td class="field-{field}">\s*<p>(.*?)</p>\s*</td>', page, flags=re.DOTALL)
    ]


def _page(client: Client, order: PurchaseOrder) -> str:
    response = client.get(f"{CHANGELIST}{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_wholesaler_sees_no_sales_rate_or_stock_until_the_store_shares_them(
    depot_client: Client, two_shops: tuple[PurchaseOrder, PurchaseOrder], store: Store
) -> None:
    mine, _theirs = two_shops
    [line] = _lines(mine)
    assert line.explanation.startswith("sells ")
    assert " a day, 3 on hand, next delivery Tuesday: " in line.explanation
    page = _page(depot_client, mine)
    assert line.explanation not in page
    assert "a day" not in page
    assert _cells(page, "stock_at_shop") == _cells(page, "reason") == ["not shared by the shop"]

    _share(store, True)
    page = _page(depot_client, mine)
    assert _cells(page, "reason") == [line.explanation]
    assert _cells(page, "stock_at_shop") == ["3"]


def test_one_store_sharing_shows_nothing_of_another_merchants_store(
    depot_client: Client,
    rival_client: Client,
    two_shops: tuple[PurchaseOrder, PurchaseOrder],
    store: Store,
    other_merchant: Merchant,
) -> None:
    mine, theirs = two_shops
    _share(store, True)
    [their_line] = _lines(theirs)
    assert theirs.merchant_id == other_merchant.pk
    page = _page(depot_client, theirs)
    assert their_line.explanation not in page
    assert _cells(page, "stock_at_shop") == _cells(page, "reason") == ["not shared by the shop"]
    # Another wholesaler's staff open neither order, shared or not.
    for order in (mine, theirs):
        assert rival_client.get(f"{CHANGELIST}{order.pk}/change/").status_code == 302
        assert their_line.explanation not in rival_client.get(CHANGELIST).content.decode()


def test_the_notes_of_a_suggestion_are_the_shops_own_too(
    depot_client: Client, two_shops: tuple[PurchaseOrder, PurchaseOrder], store: Store
) -> None:
    mine, _theirs = two_shops
    with merchant_context(store.merchant_id):
        PurchaseOrder.objects.filter(pk=mine.pk).update(notes=["No sales are recorded for this store."])
    assert "No sales are recorded" not in _page(depot_client, mine)
    _share(store, True)
    assert "No sales are recorded for this store." in _page(depot_client, mine)


def test_a_superuser_sees_the_same_as_the_wholesaler(two_shops: tuple[PurchaseOrder, PurchaseOrder]) -> None:
    from tests.factories import UserFactory, signed_in_two_step

    mine, _theirs = two_shops
    admin: Any = UserFactory(username="ops@lingshou.example", is_staff=True, is_superuser=True)
    client = signed_in_two_step(admin)
    [line] = _lines(mine)
    assert line.explanation not in _page(client, mine)
