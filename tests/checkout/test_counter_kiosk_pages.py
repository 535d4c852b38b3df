"""The counter's pages for goods without a barcode, discounts and the rules at the till: what they answer, who
may use them, and that another merchant's ids are 404 with nothing changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import Order, OrderLine, Shift
from checkout.services import counter, shifts
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import StoreProductFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _stocked(store: Store, **kwargs: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, **kwargs)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=20)
    return item


def _lines(order: Order) -> list[tuple[str, str, int, int]]:
    with merchant_context(order.merchant_id):
        return list(
            OrderLine.objects.filter(order=order).order_by("pk").values_list("kind", "name", "line_total", "discount")
        )


def _text(response: Any) -> str:
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())  # not \s: it would take the money's no-break spaces


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)


@pytest.fixture
def sale(shift: Shift, clerk: Any, cola: StoreProduct) -> Order:
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=order, code=cola.product.gtin[1:])  # type: ignore[union-attr]
    return order


# Finding products without a barcode ---------------------------------------------------------------


def test_a_name_typed_at_the_counter_offers_matches_to_pick_and_adds_nothing(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct
) -> None:
    client = _client(clerk)
    answer = client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/scan/", {"code": "Qellwerk"}, **HTMX)
    assert answer.status_code == 200
    body = _text(answer)
    assert "Products matching “Qellwerk”" in body
    assert f'name="item" value="{cola.pk}"' in body
    assert "Quellwerk Cola" in body
    with merchant_context(merchant.pk):
        assert not OrderLine.objects.exists()
    picked = client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/pick/", {"item": cola.pk}, **HTMX)
    assert picked.status_code == 200
    with merchant_context(merchant.pk):
        order = Order.objects.get()
    assert _lines(order) == [("product", "Quellwerk Cola", 249, 0), ("deposit", "Deposit Quellwerk Cola", 25, 0)]
    nothing = client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/scan/", {"code": "zzzzqqq"}, **HTMX)
    assert "Nothing in this store matches “zzzzqqq”. Sell it below as an item without a barcode." in _text(nothing)


def test_without_javascript_a_name_search_comes_back_on_the_counter_page(
    merchant: Merchant, shift: Shift, clerk: Any, cola: StoreProduct
) -> None:
    client = _client(clerk)
    answer = client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/scan/", {"code": "Quellwerk"})
    assert answer.status_code == 302
    assert "search=Quellwerk" in answer.url
    page = client.get(answer.url)
    assert f'name="item" value="{cola.pk}"' in page.content.decode()


def test_an_open_price_item_is_added_or_refused_with_its_reason(merchant: Merchant, shift: Shift, clerk: Any) -> None:
    client = _client(clerk)
    url = f"/m/{merchant.slug}/counter/shifts/{shift.pk}/open-price/"
    refused = client.post(url, {"name": "Kuchen", "amount": "-3,50", "tax_class": "reduced"}, **HTMX)
    assert refused.status_code == 400
    assert "Price: A price cannot be negative." in _text(refused)
    # What was typed stays in the form.
    assert 'value="Kuchen"' in _text(refused)
    no_name = client.post(url, {"name": "", "amount": "3,50", "tax_class": "reduced"}, **HTMX)
    assert no_name.status_code == 400
    assert "Say what the item is (for the receipt)." in _text(no_name)
    with merchant_context(merchant.pk):
        assert not OrderLine.objects.exists()
    added = client.post(url, {"name": "Kuchen vom Nachbarn", "amount": "3,50", "tax_class": "reduced"}, **HTMX)
    assert added.status_code == 200
    with merchant_context(merchant.pk):
        order = Order.objects.get()
    assert _lines(order) == [("open_price", "Kuchen vom Nachbarn", 350, 0)]
    assert 'id="counter-total">3,50\xa0€<' in added.content.decode()


# Discounts ----------------------------------------------------------------------------------------


def test_a_clerks_discount_over_the_limit_is_refused_on_the_page_and_one_within_is_shown(
    merchant: Merchant, clerk: Any, sale: Order
) -> None:
    with merchant_context(merchant.pk):
        line = OrderLine.objects.get(order=sale, kind="product")
    client = _client(clerk)
    url = f"/m/{merchant.slug}/counter/sales/{sale.pk}/lines/{line.pk}/discount/"
    refused = client.post(url, {"value": "15", "unit": "percent", "reason": "Dented"}, **HTMX)
    assert refused.status_code == 400
    assert (
        "A discount of 15 % on 1 × Quellwerk Cola is more than the 10 % you may give: ask the owner or a manager."
        in _text(refused)
    )
    assert _lines(sale)[0] == ("product", "Quellwerk Cola", 249, 0)
    unreadable = client.post(url, {"value": "ten", "unit": "percent", "reason": "Dented"}, **HTMX)
    assert unreadable.status_code == 400
    assert "“ten” is not a percentage; give a number such as 10 or 12,5." in _text(unreadable)
    given = client.post(url, {"value": "0,20", "unit": "amount", "reason": "Dented can"}, **HTMX)
    assert given.status_code == 200
    assert _lines(sale)[0] == ("product", "Quellwerk Cola", 229, 20)
    body = _text(given)
    assert "Discount: Dented can" in body
    assert "−0,20\xa0€" in body
    assert 'id="counter-total">2,54\xa0€<' in given.content.decode()
    sale_url = f"/m/{merchant.slug}/counter/sales/{sale.pk}/discount/"
    too_much = client.post(sale_url, {"value": "1", "unit": "amount", "reason": "Regular"}, **HTMX)
    assert too_much.status_code == 400
    assert "on this sale is more than the 10 % you may give" in _text(too_much)
    assert client.post(sale_url, {"value": "5", "unit": "percent", "reason": "Regular"}, **HTMX).status_code == 200
    with merchant_context(merchant.pk):
        order = Order.objects.get(pk=sale.pk)
    # 5 % of the cola after its own discount (2,29): 0,11; the deposit stays whole.
    assert (order.sale_discount, order.discount_total, order.total) == (11, 31, 243)


# Who may, and whose ids -----------------------------------------------------------------------------


def _new_routes(shift: int, sale: int, line: int, item: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"counter/shifts/{shift}/pick/", {"item": item}),
        (f"counter/shifts/{shift}/open-price/", {"name": "Kuchen", "amount": "3.50", "tax_class": "reduced"}),
        (f"counter/sales/{sale}/lines/{line}/discount/", {"value": "5", "unit": "percent", "reason": "Dented"}),
        (f"counter/sales/{sale}/discount/", {"value": "5", "unit": "percent", "reason": "Regular"}),
    ]


def _snapshot() -> list[Any]:
    with platform_access(reason="test: what the counter writes", actor="test"):
        return [list(model.objects.order_by("pk").values()) for model in (Shift, Order, OrderLine)]


@pytest.fixture
def theirs(other_store: Store, other_owner: Any) -> dict[str, Any]:
    item = _stocked(other_store, price=300, product__name="Fremde Cola")
    shift = shifts.shift_open(store=other_store, opened_by=other_owner, opening_cash=0)
    order = counter.counter_sale_start(shift=shift, clerk=other_owner)
    counter.counter_line_scan(order=order, code=item.product.gtin[1:])  # type: ignore[union-attr]
    with merchant_context(other_store.merchant_id):
        line = OrderLine.objects.get(order=order)
    return {"shift": shift, "sale": order, "line": line, "item": item}


def test_another_merchants_shift_sale_line_and_product_are_404_and_nothing_changes(
    merchant: Merchant, clerk: Any, shift: Shift, sale: Order, theirs: dict[str, Any]
) -> None:
    client = _client(clerk)
    with merchant_context(merchant.pk):
        line = OrderLine.objects.get(order=sale, kind="product")
    before = _snapshot()
    routes = _new_routes(theirs["shift"].pk, theirs["sale"].pk, theirs["line"].pk, theirs["item"].pk)
    for path, data in routes:
        assert client.post(f"/m/{merchant.slug}/{path}", data, **HTMX).status_code == 404, path
    # Their product picked into our own sale: not sold in this store.
    assert client.post(f"/m/{merchant.slug}/{_new_routes(shift.pk, sale.pk, line.pk, theirs['item'].pk)[0][0]}",
                       {"item": theirs["item"].pk}, **HTMX).status_code == 404  # fmt: skip
    assert client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/pick/", {"item": "x1"}, **HTMX).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["outsider", "other_owner"])
def test_non_members_get_404_on_the_new_routes(
    request: pytest.FixtureRequest, who: str, merchant: Merchant, shift: Shift, sale: Order, cola: StoreProduct
) -> None:
    with merchant_context(merchant.pk):
        line = OrderLine.objects.get(order=sale, kind="product")
    client = _client(request.getfixturevalue(who))
    before = _snapshot()
    for path, data in _new_routes(shift.pk, sale.pk, line.pk, cola.pk):
        assert client.post(f"/m/{merchant.slug}/{path}", data, **HTMX).status_code == 404, path
    assert _snapshot() == before


# The rules at the till, and a product's PLU and deposit ---------------------------------------------


def test_the_owner_sets_the_clerks_discount_limit_and_the_slip_prefix(merchant: Merchant, owner: Any) -> None:
    client = _client(owner)
    url = f"/m/{merchant.slug}/settings/payments/till/"
    page = client.get(f"/m/{merchant.slug}/settings/payments/")
    assert 'name="clerk_discount_limit" value="10"' in page.content.decode()
    assert client.post(url, {"clerk_discount_limit": "15", "deposit_slip_prefix": "99"}).status_code == 302
    merchant.refresh_from_db()
    assert (merchant.clerk_discount_limit, merchant.deposit_slip_prefix) == (15, "99")
    for data, message in [
        ({"clerk_discount_limit": "150", "deposit_slip_prefix": "98"}, "The discount limit is between 0 % and 100 %."),
        (
            {"clerk_discount_limit": "-5", "deposit_slip_prefix": "98"},
            "The discount limit is a whole number of per cent",
        ),
        (
            {"clerk_discount_limit": "10", "deposit_slip_prefix": "40"},
            "A return slip prefix starts 02, 04, 20-29, 98 or 99 (GS1 codes for use inside a shop); "
            "40 would clash with the barcodes of products.",
        ),
    ]:
        answer = client.post(url, data, follow=True)
        assert message in _text(answer), data
        merchant.refresh_from_db()
        assert (merchant.clerk_discount_limit, merchant.deposit_slip_prefix) == (15, "99")


@pytest.mark.parametrize(("who", "status"), [("clerk", 403), ("manager", 403), ("other_owner", 404)])
def test_only_the_owner_sets_the_rules_at_the_till(
    request: pytest.FixtureRequest, who: str, status: int, merchant: Merchant
) -> None:
    answer = _client(request.getfixturevalue(who)).post(
        f"/m/{merchant.slug}/settings/payments/till/", {"clerk_discount_limit": "100", "deposit_slip_prefix": ""}
    )
    assert answer.status_code == status
    merchant.refresh_from_db()
    assert (merchant.clerk_discount_limit, merchant.deposit_slip_prefix) == (10, "98")


def test_a_manager_gives_a_product_a_plu_and_a_deposit(
    merchant: Merchant, store: Store, manager: Any, cola: StoreProduct
) -> None:
    rolls = _stocked(store, product=None, local_name="Brötchen", local_tax_class="reduced", price=45, plu="12")
    client = _client(manager)
    url = f"/m/{merchant.slug}/catalog/{cola.pk}/till/"
    assert client.post(url, {"plu": "4011", "deposit": "0,08"}).status_code == 302
    with merchant_context(merchant.pk):
        cola.refresh_from_db()
    assert (cola.plu, cola.deposit) == ("4011", 8)
    page = _text(client.get(f"/m/{merchant.slug}/stock/{cola.pk}/"))
    assert '<dd id="item-plu">4011</dd>' in page
    assert '<dd id="item-deposit">0,08\xa0€</dd>' in page
    for data, message in [
        ({"plu": "4011", "deposit": "-0,25"}, "A deposit cannot be negative."),
        ({"plu": "12", "deposit": "0,25"}, "PLU 12 is taken by Brötchen in this store."),
        ({"plu": "12a", "deposit": "0,25"}, "A PLU is 1 to 5 digits, such as 12 or 4011."),
        ({"plu": "123456", "deposit": "0,25"}, "A PLU is 1 to 5 digits, such as 12 or 4011."),
        # Django escapes the quotes of the message.
        ({"plu": "4011", "deposit": "zwei"}, "&#x27;zwei&#x27; is not an amount."),
    ]:
        answer = client.post(url, data)
        assert answer.status_code == 400, data
        assert message in _text(answer), data
        with merchant_context(merchant.pk):
            cola.refresh_from_db()
            rolls.refresh_from_db()
        assert (cola.plu, cola.deposit, rolls.plu) == ("4011", 8, "12")


@pytest.mark.parametrize(("who", "status"), [("clerk", 403), ("other_owner", 404), ("outsider", 404)])
def test_clerks_and_strangers_cannot_set_a_plu_or_deposit(
    request: pytest.FixtureRequest, who: str, status: int, merchant: Merchant, cola: StoreProduct
) -> None:
    answer = _client(request.getfixturevalue(who)).post(
        f"/m/{merchant.slug}/catalog/{cola.pk}/till/", {"plu": "7", "deposit": "0,15"}
    )
    assert answer.status_code == status
    with merchant_context(merchant.pk):
        cola.refresh_from_db()
    assert (cola.plu, cola.deposit) == ("", 25)


def test_another_merchants_product_is_404_for_the_plu_form(merchant: Merchant, owner: Any, other_store: Store) -> None:
    theirs = _stocked(other_store, price=100, product__name="Fremde Cola")
    answer = _client(owner).post(f"/m/{merchant.slug}/catalog/{theirs.pk}/till/", {"plu": "7", "deposit": ""})
    assert answer.status_code == 404
    with platform_access(reason="test: their product as it was", actor="test"):
        theirs.refresh_from_db()
    assert (theirs.plu, theirs.deposit) == ("", 0)
