"""The shopper's cart, pay page and receipt: lines, steppers (htmx and plain forms), totals with tax per rate.

Every figure is the one the order is charged: the cart prices its lines with checkout.services.pricing.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CartLine, Order, Visit
from checkout.services.carts import cart_set, visit_start
from checkout.services.orders import order_place
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access
from tests.catalog.factories import StoreProductFactory
from tests.checkout.test_exit_check_page import paid_order

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _stocked(store: Store, name: str, price: int, *, on_hand: int = 10, **product: Any) -> StoreProduct:
    item = StoreProductFactory(store=store, price=price, product__name=name, **product)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=on_hand)
    return item


def _shopper(store: Store, cart: list[tuple[StoreProduct, int]]) -> tuple[Client, Visit]:
    """A phone with a visit of ``store`` in its session and ``cart`` in the visit."""
    visit = visit_start(store=store)
    for item, quantity in cart:
        cart_set(visit=visit, store_product_id=item.pk, quantity=quantity)
    client = Client()
    session = client.session
    session[f"visit:{store.pk}"] = str(visit.token)
    session.save()
    return client, visit


def _quantities(visit: Visit) -> dict[int, int]:
    with merchant_context(visit.merchant_id):
        return dict(CartLine.objects.of_visit(visit).values_list("store_product_id", "quantity"))


def _text(html: str) -> str:
    """What a person reads: tags dropped, runs of ordinary white space as one (money keeps its no-break space)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _totals(body: str) -> list[tuple[str, str]]:
    """The totals box, row by row: (label, amount)."""
    rows = re.findall(r'<div class="totals-row[^"]*"><dt>(.*?)</dt><dd class="num">(.*?)</dd></div>', body)
    return [(_text(label), amount) for label, amount in rows]


def _lines(body: str) -> list[str]:
    """Each line's name and total as the shopper reads them."""
    lines = re.findall(r'<li class="order-line[^"]*">(.*?)</li>', body, flags=re.S)
    return [_text(re.sub(r"<form.*?</form>", "", line, flags=re.S)) for line in lines]


def _stepper(body: str, item: StoreProduct) -> dict[str, str]:
    """The values the stepper buttons of ``item`` post, by button id prefix."""
    return dict(re.findall(rf'id="(less|more|remove)-{item.pk}" name="quantity" value="(\d+)"', body))


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    return _stocked(store, "Quellwerk Cola", 249, product__tax_class="standard")


@pytest.fixture
def chips(store: Store) -> StoreProduct:
    return _stocked(store, "Knusperwerk Chips", 199, product__tax_class="reduced")


def test_the_cart_shows_lines_steppers_and_the_totals_the_order_will_charge(
    store: Store, cola: StoreProduct, chips: StoreProduct
) -> None:
    client, visit = _shopper(store, [(cola, 2), (chips, 1)])

    body = client.get(f"/s/{store.code}/cart/").content.decode()

    assert _lines(body) == [
        "Quellwerk Cola 4,98\xa0€ 2,49\xa0€ each",
        "Knusperwerk Chips 1,99\xa0€ 1,99\xa0€ each",
    ]
    assert _totals(body) == [
        ("Subtotal · 3 items", "6,97\xa0€"),
        ("incl. 19 % VAT", "0,80\xa0€"),
        ("incl. 7 % VAT", "0,13\xa0€"),
        ("Total", "6,97\xa0€"),
    ]
    assert _stepper(body, cola) == {"less": "1", "more": "3", "remove": "0"}
    assert _stepper(body, chips) == {"less": "0", "more": "2", "remove": "0"}
    assert 'value="0" aria-label="One less Knusperwerk Chips">−</button>' in body  # "−" at one takes the line out
    assert f'<a href="/s/{store.code}/p/{cola.product.gtin}/">Quellwerk Cola</a>' in body
    assert "Pay 6,97\xa0€</button>" in body
    # The order placed from this cart charges exactly what the cart showed.
    order = order_place(visit=visit)
    assert (order.subtotal, order.tax_total, order.total) == (697, 93, 697)


def test_a_store_whose_prices_exclude_tax_adds_it_on_top(store: Store) -> None:
    with merchant_context(store.merchant_id):
        Store.objects.filter(pk=store.pk).update(prices_include_tax=False)
        store.refresh_from_db()
    item = _stocked(store, "Großpackung Kaffee", 1000, product__tax_class="standard")
    client, _visit = _shopper(store, [(item, 1)])

    body = client.get(f"/s/{store.code}/cart/").content.decode()

    assert _totals(body) == [
        ("Subtotal · 1 item", "10,00\xa0€"),
        ("plus 19 % VAT", "1,90\xa0€"),
        ("Total", "11,90\xa0€"),
    ]


def test_plus_without_javascript_posts_the_form_and_comes_back_to_the_cart(store: Store, cola: StoreProduct) -> None:
    client, visit = _shopper(store, [(cola, 2)])

    response = client.post(f"/s/{store.code}/cart/", {"item": cola.pk, "quantity": "3"})

    assert (response.status_code, response["Location"]) == (302, f"/s/{store.code}/cart/")
    assert _quantities(visit) == {cola.pk: 3}


def test_plus_with_htmx_swaps_the_cart_with_its_new_totals(store: Store, cola: StoreProduct) -> None:
    client, visit = _shopper(store, [(cola, 2)])

    response = client.post(f"/s/{store.code}/cart/", {"item": cola.pk, "quantity": "3"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="cart">')
    assert "<html" not in body
    assert _totals(body)[0] == ("Subtotal · 3 items", "7,47\xa0€")
    assert _totals(body)[-1] == ("Total", "7,47\xa0€")
    assert _stepper(body, cola) == {"less": "2", "more": "4", "remove": "0"}
    # The e-mail typed before the tap stays as it was (htmx keeps the element).
    assert 'id="receipt-email"' in body
    assert 'hx-preserve="true"' in body
    assert _quantities(visit) == {cola.pk: 3}


def test_the_last_minus_empties_the_cart_and_takes_the_pay_button_away(store: Store, cola: StoreProduct) -> None:
    client, visit = _shopper(store, [(cola, 1)])

    body = client.post(f"/s/{store.code}/cart/", {"item": cola.pk, "quantity": "0"}, **HTMX).content.decode()

    assert "Your cart is empty." in body
    assert "Pay " not in body
    assert _quantities(visit) == {}


def test_the_stepper_stops_at_the_most_one_purchase_may_hold(store: Store, cola: StoreProduct) -> None:
    client, _visit = _shopper(store, [(cola, 99)])

    body = client.get(f"/s/{store.code}/cart/").content.decode()

    assert re.search(
        rf'id="more-{cola.pk}" name="quantity" value="99" aria-label="One more Quellwerk Cola" disabled>', body
    )


@pytest.mark.parametrize(
    ("item", "quantity", "message"),
    [
        ("cola", "abc", "Choose a quantity as a whole number."),
        ("cola", "", "Choose a quantity as a whole number."),
        ("cola", "100", "At most 99 of one product per purchase."),
        ("cola", "-1", "Choose a quantity of 0 or more."),
        ("x", "1", "This product is not sold here."),
        ("99999999999999999999999", "1", "This product is not sold here."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_bad_quantity_or_product_is_refused_with_a_message_and_changes_nothing(
    store: Store, cola: StoreProduct, item: str, quantity: str, message: str, htmx: bool
) -> None:
    client, visit = _shopper(store, [(cola, 2)])

    response = client.post(
        f"/s/{store.code}/cart/",
        {"item": str(cola.pk) if item == "cola" else item, "quantity": quantity},
        **(HTMX if htmx else {}),
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert f'<li class="message message-error">{message}</li>' in body
    assert ("<html" in body) is not htmx
    assert _quantities(visit) == {cola.pk: 2}
    assert _totals(body)[-1] == ("Total", "4,98\xa0€")


def test_another_merchants_product_cannot_enter_the_cart(store: Store, other_store: Store, cola: StoreProduct) -> None:
    theirs = _stocked(other_store, "Späti Spezialbier", 389)
    client, visit = _shopper(store, [(cola, 1)])

    response = client.post(f"/s/{store.code}/cart/", {"item": theirs.pk, "quantity": "1"})

    assert response.status_code == 400
    assert "This product is not sold here." in response.content.decode()
    assert _quantities(visit) == {cola.pk: 1}
    with platform_access(reason="test: no cart line anywhere", actor="test"):
        assert not CartLine.objects.filter(store_product=theirs).exists()
    # This phone's cart at the other shop is its own, and empty.
    assert "Your cart is empty." in client.get(f"/s/{other_store.code}/cart/").content.decode()


def test_the_cart_says_when_the_shop_cannot_sell_as_many(store: Store, cola: StoreProduct) -> None:
    short = _stocked(store, "Knusperwerk Chips", 199, on_hand=1)
    gone = _stocked(store, "Almliebe Vanillemilch", 189)
    client, _visit = _shopper(store, [(cola, 1), (short, 2), (gone, 1)])
    with merchant_context(store.merchant_id):
        StoreProduct.objects.filter(pk=gone.pk).update(is_active=False)

    body = client.get(f"/s/{store.code}/cart/").content.decode()

    notes = re.findall(r'<p class="order-line-note"><span class="badge [a-z-]+">([^<]*)</span></p>', body)
    assert notes == ["only 1 left", "no longer sold here"]


def test_the_pay_page_shows_the_lines_and_totals_and_the_hold_in_the_stores_time(
    store: Store, cola: StoreProduct, chips: StoreProduct
) -> None:
    client, visit = _shopper(store, [(cola, 2), (chips, 1)])
    order = order_place(visit=visit)

    body = client.get(f"/s/{store.code}/orders/{order.token}/pay/").content.decode()

    assert "<h1>Pay 6,97\xa0€</h1>" in body
    assert _lines(body) == ["2 × Quellwerk Cola 4,98\xa0€ 2,49\xa0€ each", "1 × Knusperwerk Chips 1,99\xa0€"]
    assert _totals(body) == [
        ("Subtotal · 3 items", "6,97\xa0€"),
        ("incl. 19 % VAT", "0,80\xa0€"),
        ("incl. 7 % VAT", "0,13\xa0€"),
        ("Total", "6,97\xa0€"),
    ]
    assert order.reserved_until is not None
    held = timezone.localtime(order.reserved_until, ZoneInfo("Europe/Berlin"))
    assert f"Your units are held for you until {held:%H:%M}." in body
    assert "Visa that pays (4242)</button>" in body


def test_the_receipt_shows_the_exit_pass_with_the_item_count_and_the_totals(store: Store) -> None:
    order = paid_order(store, [("Quellwerk Cola", 249, 2), ("Knusperwerk Chips", 199, 1)])

    body = Client().get(f"/s/{store.code}/orders/{order.token}/").content.decode()

    assert "<h1>Thank you!</h1>" in body
    assert re.search(r'<div class="exit-qr"><svg[^>]*>', body)
    assert f'<p class="exit-pass-count">3 items · {order.number}</p>' in body
    assert _lines(body) == ["2 × Quellwerk Cola 4,98\xa0€ 2,49\xa0€ each", "1 × Knusperwerk Chips 1,99\xa0€"]
    assert _totals(body)[-1] == ("Total", "6,97\xa0€")
    assert order.paid_at is not None
    paid = timezone.localtime(order.paid_at, ZoneInfo("Europe/Berlin"))
    assert f"{paid:%Y-%m-%d %H:%M}" in body


def test_a_refunded_receipt_says_so_and_shows_no_pass(store: Store) -> None:
    order = paid_order(store, [("Quellwerk Cola", 249, 2)])
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=order.pk).update(status="partially_refunded", amount_refunded=249)

    body = Client().get(f"/s/{store.code}/orders/{order.token}/").content.decode()

    assert "exit-qr" not in body
    assert "partly refunded" in body
    assert _totals(body)[-2:] == [("Total", "4,98\xa0€"), ("Refunded", "−2,49\xa0€")]
