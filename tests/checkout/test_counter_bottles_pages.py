"""The counter's pages for bottles returned by hand and a deposit paid out: what they show, the refusals on the
page, who may use them, and that another merchant's ids are 404 with nothing changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CounterPayment, Order, OrderLine, Shift
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


def _text(response: Any) -> str:
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())  # not \s: it would take the money's no-break spaces


def _snapshot() -> list[Any]:
    with platform_access(reason="test: what the counter writes", actor="test"):
        return [list(model.objects.order_by("pk").values()) for model in (Shift, Order, OrderLine, CounterPayment)]


@pytest.fixture
def cola(store: Store) -> StoreProduct:
    _stocked(store, price=69, deposit=15, product__tax_class="standard", product__name="Quelle Still")
    return _stocked(store, price=249, deposit=25, product__tax_class="standard", product__name="Quellwerk Cola")


@pytest.fixture
def shift(store: Store, clerk: Any) -> Shift:
    return shifts.shift_open(store=store, opened_by=clerk, opening_cash=10000)


@pytest.mark.usefixtures("cola")
def test_a_clerk_takes_six_bottles_back_and_pays_the_deposit_out(
    merchant: Merchant, store: Store, shift: Shift, clerk: Any
) -> None:
    client = _client(clerk)
    page = _text(client.get(f"/m/{merchant.slug}/counter/?store={store.pk}"))
    assert "Bottles returned" in page
    assert '<option value="15">0,15\xa0€</option><option value="25">0,25\xa0€</option>' in page

    answer = client.post(
        f"/m/{merchant.slug}/counter/shifts/{shift.pk}/bottles/", {"bottles": "6", "deposit": "25"}, **HTMX
    )
    assert answer.status_code == 200
    body = _text(answer)
    assert "Deposit returned: 6 x 0,25\xa0€" in body
    assert '<strong id="counter-total">−1,50\xa0€</strong>' in body
    assert 'Hand the shopper <strong id="counter-payout-amount">1,50\xa0€</strong> from the drawer.' in body
    # No card or cash-taking form for a total below zero.
    assert "Paid by card on the terminal" not in body
    with merchant_context(merchant.pk):
        order = Order.objects.get()

    paid = client.post(f"/m/{merchant.slug}/counter/sales/{order.pk}/pay/out/", **HTMX)
    assert paid.status_code == 200
    assert '<strong class="fact-main" id="counter-paid-out">Pay out 1,50\xa0€</strong>' in _text(paid)
    with merchant_context(merchant.pk):
        payment = CounterPayment.objects.get()
    assert (payment.amount, payment.change_given, payment.recorded_by_id) == (-150, 150, clerk.pk)

    receipt = _text(client.get(f"/m/{merchant.slug}/counter/sales/{order.pk}/receipt/"))
    assert '<td colspan="2">Paid out</td><td class="num nowrap" id="receipt-paid-out">1,50\xa0€</td>' in receipt
    assert '<strong id="receipt-total">−1,50\xa0€</strong>' in receipt

    closed = client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/", {"counted_cash": "98,50"}, follow=True)
    report = _text(closed)
    assert '<td class="num" id="shift-paid-out">−1,50\xa0€</td>' in report
    assert '<td class="num" id="shift-expected"><strong>98,50\xa0€</strong></td>' in report
    assert '<span class="badge badge-success">exact</span>' in report


@pytest.mark.usefixtures("cola")
@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"bottles": "0", "deposit": "25"}, "Enter how many bottles were returned: 1 or more."),
        ({"bottles": "-6", "deposit": "25"}, "Enter how many bottles were returned as a whole number."),
        ({"bottles": "201", "deposit": "25"}, "At most 200 bottles at once; count the rest as another return."),
        (
            {"bottles": "6", "deposit": "30"},
            "Choose one of the deposits this store's products carry (0,15\xa0€, 0,25\xa0€).",
        ),
        ({"bottles": "6", "deposit": ""}, "Choose the deposit on the bottles."),
    ],
)
def test_a_bad_return_is_refused_on_the_page_and_nothing_changes(
    merchant: Merchant, shift: Shift, clerk: Any, posted: dict[str, str], message: str
) -> None:
    before = _snapshot()
    answer = _client(clerk).post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/bottles/", posted, **HTMX)
    assert answer.status_code == 400
    assert message.replace("'", "&#x27;") in _text(answer)  # as the template escapes it
    # What was typed stays in the open form.
    assert f'name="bottles" value="{posted["bottles"]}"' in _text(answer)
    # Not even an empty sale was started for it.
    assert _snapshot() == before


@pytest.mark.usefixtures("cola")
def test_a_card_is_refused_for_a_negative_total_on_the_page(merchant: Merchant, shift: Shift, clerk: Any) -> None:
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_bottles_return(order=order, bottles=2, deposit=15)
    before = _snapshot()
    answer = _client(clerk).post(f"/m/{merchant.slug}/counter/sales/{order.pk}/pay/card/", **HTMX)
    assert answer.status_code == 400
    assert "The deposit returned is 0,30\xa0€ more than the goods: a card cannot pay money out." in _text(answer)
    assert _snapshot() == before


@pytest.fixture
def theirs(other_store: Store, other_owner: Any) -> dict[str, Any]:
    _stocked(other_store, price=249, deposit=25, product__name="Fremde Cola")
    shift = shifts.shift_open(store=other_store, opened_by=other_owner, opening_cash=0)
    order = counter.counter_sale_start(shift=shift, clerk=other_owner)
    counter.counter_bottles_return(order=order, bottles=4, deposit=25)
    return {"shift": shift, "sale": order}


@pytest.mark.usefixtures("cola", "shift")
def test_another_merchants_sale_and_shift_are_404_and_nothing_changes(
    merchant: Merchant, clerk: Any, theirs: dict[str, Any]
) -> None:
    client = _client(clerk)
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/counter/sales/{theirs['sale'].pk}/pay/out/", **HTMX).status_code == 404
    bottles = f"/m/{merchant.slug}/counter/shifts/{theirs['shift'].pk}/bottles/"
    assert client.post(bottles, {"bottles": "6", "deposit": "25"}, **HTMX).status_code == 404
    assert _snapshot() == before
    with merchant_context(theirs["sale"].merchant_id):
        assert Order.objects.get(pk=theirs["sale"].pk).total == -100


@pytest.mark.usefixtures("cola")
@pytest.mark.parametrize("who", ["outsider", "other_owner"])
def test_non_members_get_404_on_bottles_and_payout(
    request: pytest.FixtureRequest, who: str, merchant: Merchant, shift: Shift, clerk: Any
) -> None:
    order = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_bottles_return(order=order, bottles=6, deposit=25)
    client = _client(request.getfixturevalue(who))
    before = _snapshot()
    assert client.post(f"/m/{merchant.slug}/counter/sales/{order.pk}/pay/out/", **HTMX).status_code == 404
    posted = {"bottles": "6", "deposit": "25"}
    assert client.post(f"/m/{merchant.slug}/counter/shifts/{shift.pk}/bottles/", posted, **HTMX).status_code == 404
    assert _snapshot() == before
