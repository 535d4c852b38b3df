"""Exit passes: signed, short-lived, single use; checked by the clerk's page or a door reader."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import MovementKind
from catalog.services.stock import stock_move
from checkout import exit_pass
from checkout.models import ExitPass, Order
from checkout.services.carts import cart_add, visit_start
from checkout.services.exit_passes import exit_pass_token, exit_pass_use
from checkout.services.orders import order_place
from checkout.services.payments import webhook_event_process
from merchants.models import DeviceKind, Merchant, Store
from merchants.services import device_create
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _paid_order(store: Store, **product: Any) -> Order:
    item = StoreProductFactory(store=store, price=300, **product)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    obj = {
        "id": f"pi_{order.pk}",
        "amount_received": order.total,
        "currency": "eur",
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
    }
    webhook_event_process(
        event={"id": f"evt_paid_{order.pk}", "type": "payment_intent.succeeded", "data": {"object": obj}}
    )
    with merchant_context(store.merchant.pk):
        return Order.objects.select_related("store").get(pk=order.pk)


def test_a_pass_works_once(store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    order = _paid_order(store)
    token = exit_pass_token(order=order)
    assert token is not None
    assert exit_pass_use(merchant_id=store.merchant_id, token=token, used_by=clerk).status == "ok"
    second = exit_pass_use(merchant_id=store.merchant_id, token=token)
    assert second.status == "used"
    assert second.message.startswith("Already used at")


def test_a_forged_or_altered_pass_is_invalid(store: Store) -> None:
    order = _paid_order(store)
    token = exit_pass_token(order=order)
    assert token is not None
    header, payload, signature = token.split(".")
    altered = f"{header}.{payload[:-2]}AA.{signature}"
    assert exit_pass_use(merchant_id=store.merchant_id, token=altered).status == "invalid"
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = jwt.encode(
        {"iss": "lingshou", "jti": "x", "m": store.merchant_id, "o": order.pk, "s": store.code, "exp": 9999999999},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
    )
    assert exit_pass_use(merchant_id=store.merchant_id, token=forged).status == "invalid"
    assert exit_pass_use(merchant_id=store.merchant_id, token="nonsense").status == "invalid"


def test_an_expired_pass_is_refused_with_a_message(store: Store) -> None:
    order = _paid_order(store)
    with merchant_context(store.merchant.pk):
        issued = ExitPass.objects.get(order=order)
    token = exit_pass.sign(
        jti=str(issued.jti),
        merchant_id=store.merchant_id,
        order_id=order.pk,
        store=store.code,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    result = exit_pass_use(merchant_id=store.merchant_id, token=token)
    assert (result.status, result.message) == ("invalid", "This exit pass has expired. Show the receipt to the clerk.")


def test_a_pass_of_another_shop_is_invalid_here(store: Store, other_store: Store) -> None:
    order = _paid_order(other_store)
    token = exit_pass_token(order=order)
    assert exit_pass_use(merchant_id=store.merchant_id, token=token or "").status == "invalid"


def test_an_age_restricted_order_needs_a_clerk_first_and_who_checked_is_kept(
    merchant: Merchant, store: Store, clerk
) -> None:  # type: ignore[no-untyped-def]
    order = _paid_order(store, product__is_age_restricted=True, product__minimum_age=18)
    token = exit_pass_token(order=order) or ""
    client = Client()
    client.force_login(clerk)
    response = client.post(f"/m/{merchant.slug}/exit/", {"token": token})
    assert response.status_code == 409
    assert "Age check needed" in response.content.decode()
    client.post(f"/m/{merchant.slug}/exit/", {"action": "age_ok", "order": order.pk})
    with merchant_context(merchant.pk):
        checked = Order.objects.get(pk=order.pk)
    assert (checked.age_checked_by_id, checked.age_checked_at is not None) == (clerk.pk, True)
    ok = client.post(f"/m/{merchant.slug}/exit/", {"token": token})
    assert ok.status_code == 200
    assert "Paid" in ok.content.decode()


def test_the_clerk_page_refuses_another_merchants_order(merchant: Merchant, other_store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    order = _paid_order(other_store, product__is_age_restricted=True, product__minimum_age=18)
    client = Client()
    client.force_login(clerk)
    assert client.post(f"/m/{merchant.slug}/exit/", {"action": "age_ok", "order": order.pk}).status_code == 404
    with merchant_context(other_store.merchant.pk):
        assert Order.objects.get(pk=order.pk).age_checked_at is None


def test_a_door_reader_checks_passes_and_reports_offline_uses(
    merchant: Merchant, store: Store, other_store: Store
) -> None:
    door, raw = device_create(merchant=merchant, store_id=store.pk, name="Door", kind="door")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Device {raw}")
    first, second = _paid_order(store), _paid_order(store)
    foreign = _paid_order(other_store)
    key = APIClient().get("/api/v1/exit-passes/public-key/").json()
    assert key["algorithm"] == "EdDSA"
    assert "BEGIN PUBLIC KEY" in key["public_key_pem"]
    check = api.post(
        "/api/v1/devices/exit-passes/check/", {"token": exit_pass_token(order=first)}, format="json"
    ).json()
    assert check["status"] == "ok"
    assert check["order_id"] == first.pk
    # Offline: the reader let the second shopper out (twice, a duplicate) and a foreign pass; it reports later.
    reports = [
        {"token": exit_pass_token(order=second), "used_at": "2026-11-22T10:00:00Z"},
        {"token": exit_pass_token(order=second), "used_at": "2026-11-22T10:00:05Z"},
        {"token": exit_pass_token(order=foreign), "used_at": "2026-11-22T10:01:00Z"},
    ]
    answers = api.post("/api/v1/devices/exit-passes/used/", reports, format="json").json()
    assert [a["status"] for a in answers] == ["ok", "used", "invalid"]
    with merchant_context(other_store.merchant.pk):
        assert ExitPass.objects.get(order=foreign).used_at is None
    assert door.pk


def test_a_door_opens_only_for_passes_of_its_own_store(merchant: Merchant, store: Store) -> None:
    second_store = StoreFactory(merchant=merchant, name="Lindenstraße 7", code="LINDEN7")
    _, raw = device_create(merchant=merchant, store_id=second_store.pk, name="Door", kind=DeviceKind.DOOR)
    door = APIClient()
    door.credentials(HTTP_AUTHORIZATION=f"Device {raw}")
    online, offline = _paid_order(store), _paid_order(store)
    check = door.post("/api/v1/devices/exit-passes/check/", {"token": exit_pass_token(order=online)}, format="json")
    assert check.status_code == 200
    assert check.json() == {
        "status": "invalid",
        "message": "This pass is for the store Lindenstraße 5, not this one.",
        "order_id": None,
    }
    reports = [{"token": exit_pass_token(order=offline), "used_at": "2026-11-22T10:00:00Z"}]
    answers = door.post("/api/v1/devices/exit-passes/used/", reports, format="json").json()
    assert [a["status"] for a in answers] == ["invalid"]
    with merchant_context(merchant.pk):
        assert list(ExitPass.objects.filter(order__in=[online, offline]).values_list("used_at", flat=True)) == [
            None,
            None,
        ]
    # The passes still open their own store's door.
    assert (
        exit_pass_use(merchant_id=merchant.pk, store_id=store.pk, token=exit_pass_token(order=online) or "").status
        == "ok"
    )


def test_a_camera_token_is_refused_on_the_door_endpoints(merchant: Merchant, store: Store) -> None:
    _, raw = device_create(merchant=merchant, store_id=store.pk, name="Shelf", kind=DeviceKind.CAMERA)
    camera = APIClient()
    camera.credentials(HTTP_AUTHORIZATION=f"Device {raw}")
    order = _paid_order(store)
    token = exit_pass_token(order=order)
    check = camera.post("/api/v1/devices/exit-passes/check/", {"token": token}, format="json")
    used = camera.post(
        "/api/v1/devices/exit-passes/used/", [{"token": token, "used_at": "2026-11-22T10:00:00Z"}], format="json"
    )
    message = (
        "Only devices of the kind 'Exit door reader' may use this endpoint; this one is of the kind 'Shelf camera'."
    )
    for response in (check, used):
        assert response.status_code == 403
        assert response.json() == {"error": {"code": "not_a_door", "message": message}}
    with merchant_context(merchant.pk):
        assert ExitPass.objects.get(order=order).used_at is None
