"""The clerk's exit check page: paid (with the items to compare with the bag), already used and not valid, each
unmistakable; another merchant's pass is not valid and reveals nothing of its order."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind
from catalog.services.stock import stock_move
from checkout import exit_pass
from checkout.models import ExitPass, Order
from checkout.services.carts import cart_set, visit_start
from checkout.services.exit_passes import exit_pass_token
from checkout.services.orders import order_place
from checkout.services.payments import webhook_event_process
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.query_counts import signed_in

pytestmark = pytest.mark.django_db


def paid_order(store: Store, lines: list[tuple[str, int, int]], **product: Any) -> Order:
    """An order of (name, price, quantity) lines, paid through the webhook as Stripe would."""
    visit = visit_start(store=store)
    for name, price, quantity in lines:
        item = StoreProductFactory(store=store, price=price, product__name=name, **product)
        stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
        cart_set(visit=visit, store_product_id=item.pk, quantity=quantity)
    order = order_place(visit=visit)
    intent = {
        "id": f"pi_{order.pk}",
        "amount_received": order.total,
        "currency": "eur",
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
    }
    webhook_event_process(
        event={"id": f"evt_paid_{order.pk}", "type": "payment_intent.succeeded", "data": {"object": intent}}
    )
    with merchant_context(store.merchant_id):
        return Order.objects.select_related("store").get(pk=order.pk)


def _token(order: Order) -> str:
    token = exit_pass_token(order=order)
    assert token is not None
    return token


def _title(body: str) -> str:
    found = re.search(r'<h2 id="pass-result-title">([^<]*)</h2>', body)
    assert found is not None, body
    return found.group(1)


def _state(body: str) -> str:
    found = re.search(r'class="card pass-result (pass-[a-z_]+)"', body)
    assert found is not None, body
    return found.group(1)


def _used_at(order: Order) -> Any:
    with merchant_context(order.merchant_id):
        return ExitPass.objects.get(order=order).used_at


def _check(client: Client, merchant: Merchant, token: str) -> tuple[int, str]:
    response = client.post(f"/m/{merchant.slug}/exit/", {"token": token})
    return response.status_code, response.content.decode()


def test_a_paid_pass_is_green_paid_and_lists_the_items_and_their_count(merchant: Merchant, store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Quellwerk Cola", 249, 2), ("Knusperwerk Chips", 199, 1)])

    status, body = _check(signed_in(clerk), merchant, _token(order))

    assert status == 200
    assert (_title(body), _state(body)) == ("Paid", "pass-ok")
    assert '<p class="pass-result-message">Paid. Have a nice day.</p>' in body
    items = re.findall(r'<li><span class="pass-items-qty">(\d+) ×</span> ([^<]*)</li>', body)
    assert items == [("2", "Quellwerk Cola"), ("1", "Knusperwerk Chips")]
    assert f"<strong>3 items</strong> in the bag · order {order.number} · 6,97\xa0€" in body
    assert _used_at(order) is not None


def test_a_second_scan_is_amber_already_used_at_the_stores_time(merchant: Merchant, store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Quellwerk Cola", 249, 1)])
    client = signed_in(clerk)
    _check(client, merchant, _token(order))

    status, body = _check(client, merchant, _token(order))

    used_at = timezone.localtime(_used_at(order), ZoneInfo("Europe/Berlin"))
    assert status == 409
    assert (_title(body), _state(body)) == ("Already used", "pass-used")
    assert f'<p class="pass-result-message">Already used at {used_at:%H:%M}.</p>' in body
    assert "pass-items" not in body  # the bag is compared once, when the pass lets the shopper out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("altered", "This is not a valid exit pass."),
        ("expired", "This exit pass has expired. Show the receipt to the clerk."),
        ("nonsense", "This is not a valid exit pass."),
        ("empty", "This is not a valid exit pass."),
    ],
)
def test_a_pass_that_is_not_one_is_red_not_valid(
    merchant: Merchant, store: Store, clerk, make: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Quellwerk Cola", 249, 1)])
    header, claims, signature = _token(order).split(".")
    if make == "altered":
        # Another order's number in the claims, the original signature: what a forger would try.
        decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        decoded["o"] += 1
        forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
        token = f"{header}.{forged}.{signature}"
    elif make == "expired":
        with merchant_context(merchant.pk):
            issued = ExitPass.objects.get(order=order)
        token = exit_pass.sign(
            jti=str(issued.jti),
            merchant_id=merchant.pk,
            order_id=order.pk,
            store=store.code,
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    elif make == "nonsense":
        token = "4006381333931"  # a product's barcode scanned by mistake
    else:
        token = "   "

    status, body = _check(signed_in(clerk), merchant, token)

    assert status == 409
    assert (_title(body), _state(body)) == ("Not valid", "pass-invalid")
    assert f'<p class="pass-result-message">{message}</p>' in body
    assert _used_at(order) is None


def test_another_merchants_pass_is_not_valid_and_reveals_nothing(merchant: Merchant, other_store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    theirs = paid_order(other_store, [("Späti Spezialbier", 389, 2)])

    status, body = _check(signed_in(clerk), merchant, _token(theirs))

    assert status == 409
    assert (_title(body), _state(body)) == ("Not valid", "pass-invalid")
    assert '<p class="pass-result-message">This pass is from another shop.</p>' in body
    for secret in ("Späti Spezialbier", theirs.number, "7,78", other_store.code, other_store.name, "Späti am Park"):
        assert secret not in body
    assert _used_at(theirs) is None  # still good at its own shop's door


def test_a_refunded_order_is_not_paid(merchant: Merchant, store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Quellwerk Cola", 249, 1)])
    token = _token(order)
    with merchant_context(merchant.pk):
        Order.objects.filter(pk=order.pk).update(status="refunded")

    status, body = _check(signed_in(clerk), merchant, token)

    assert status == 409
    assert (_title(body), _state(body)) == ("Not paid", "pass-not_paid")
    assert _used_at(order) is None


def test_an_age_check_is_amber_and_asks_for_the_id_then_the_pass_is_paid(
    merchant: Merchant, store: Store, clerk
) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Kiezbräu Pils", 129, 2)], product__is_age_restricted=True, product__minimum_age=16)
    client = signed_in(clerk)

    status, body = _check(client, merchant, _token(order))
    assert status == 409
    assert (_title(body), _state(body)) == ("Age check needed", "pass-age_check")
    assert "I have seen the ID: the shopper is old enough" in body

    client.post(f"/m/{merchant.slug}/exit/", {"action": "age_ok", "order": order.pk})
    status, body = _check(client, merchant, _token(order))
    assert (status, _title(body)) == (200, "Paid")
    assert re.findall(r'<span class="pass-items-qty">(\d+) ×</span> ([^<]*)</li>', body) == [("2", "Kiezbräu Pils")]


@pytest.mark.parametrize("order_id", ["abc", "-1", "99999999999999999999999", ""])
def test_a_bad_order_for_the_age_check_is_404_not_500(merchant: Merchant, clerk, order_id: str) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(clerk).post(f"/m/{merchant.slug}/exit/", {"action": "age_ok", "order": order_id})
    assert response.status_code == 404


def test_only_staff_of_the_merchant_may_check_passes(
    merchant: Merchant, store: Store, other_owner, outsider, manager
) -> None:  # type: ignore[no-untyped-def]
    order = paid_order(store, [("Quellwerk Cola", 249, 1)])
    token = _token(order)

    assert signed_in(other_owner).post(f"/m/{merchant.slug}/exit/", {"token": token}).status_code == 404
    assert signed_in(outsider).post(f"/m/{merchant.slug}/exit/", {"token": token}).status_code == 404
    anonymous = Client().post(f"/m/{merchant.slug}/exit/", {"token": token})
    assert (anonymous.status_code, anonymous["Location"].startswith("/accounts/login/")) == (302, True)
    assert _used_at(order) is None  # none of them used it up

    status, body = _check(signed_in(manager), merchant, token)
    assert (status, _title(body)) == (200, "Paid")


def test_the_page_offers_the_camera_scanner_for_passes_under_its_csp(merchant: Merchant, clerk) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(clerk).get(f"/m/{merchant.slug}/exit/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-scanner-mode="pass"' in body
    assert 'data-scanner-field="pass-token"' in body
    assert '<input id="pass-token" name="token"' in body
    script_src = next(
        part for part in response["Content-Security-Policy"].split(";") if part.strip().startswith("script-src")
    )
    assert "'wasm-unsafe-eval'" in script_src
    assert "'unsafe-eval'" not in script_src.replace("'wasm-unsafe-eval'", "")
