"""The benches' floor endpoints (bench/floor_views.py): never in production, scoped like the real paths, and
each doing what its path must do with only the SQL it needs."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from pytest_django import Settings

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.services.stock import stock_move
from checkout.models import CartLine, Order, OrderStatus, WebhookEvent
from checkout.services.carts import cart_add, visit_start
from checkout.services.orders import order_place
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Frame
from tests.catalog.factories import StoreProductFactory
from tests.sensing import shelf
from tests.sensing.conftest import camera_make

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_floor"


@pytest.fixture(autouse=True)
def floor_urls(settings: Settings, tmp_path: Any) -> None:
    settings.ROOT_URLCONF = "bench.floor_urls"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _callbacks(patterns: list[Any]) -> list[Any]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _callbacks(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            found.append(entry.callback)
    return found


def test_production_mounts_no_floor_route(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
        monkeypatch.setenv(name, "x")
    production = importlib.import_module("config.settings.production")
    assert production.ROOT_URLCONF == "config.urls"
    with pytest.raises(Resolver404):
        resolve("/floor/webhooks/stripe/", urlconf="config.urls")
    modules = {callback.__module__ for callback in _callbacks(get_resolver("config.urls").url_patterns)}
    assert [module for module in modules if module.startswith("bench")] == []
    # The benches' own configuration has them (after every production route).
    assert resolve("/floor/webhooks/stripe/", urlconf="bench.floor_urls").func.__module__ == "bench.floor_views"


def _words(captured: CaptureQueriesContext) -> list[str]:
    """Each captured statement's first word."""
    return [query["sql"].split()[0] for query in captured.captured_queries]


def _stocked(store: Store, units: int = 20) -> StoreProduct:
    item = StoreProductFactory(store=store)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=units)
    return item


def _lines(merchant: Merchant) -> list[tuple[int, int]]:
    with merchant_context(merchant.pk):
        return list(CartLine.objects.order_by("store_product_id").values_list("store_product_id", "quantity"))


def test_the_product_floor_renders_the_real_card_and_sees_only_the_stores_merchant(
    store: Store, other_store: Store
) -> None:
    mine, theirs = _stocked(store), _stocked(other_store)
    client = Client()
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/floor/s/{store.code}/p/{mine.product.gtin}/")  # type: ignore[union-attr]
    assert page.status_code == 200
    # The store by its code (kept in the process in production, not in tests), then the product's row.
    assert _words(captured) == ["BEGIN", "WITH", "SELECT", "COMMIT", "BEGIN", "SELECT", "SELECT", "COMMIT"]
    assert mine.name in page.content.decode()
    assert 'class="price"' in page.content.decode()
    # Another merchant's product is not in this store.
    assert client.get(f"/floor/s/{store.code}/p/{theirs.product.gtin}/").status_code == 404  # type: ignore[union-attr]


def test_the_add_floor_is_the_upsert_alone_once_the_visit_is_known(
    merchant: Merchant, store: Store, other_merchant: Merchant, other_store: Store
) -> None:
    first, second, theirs = _stocked(store), _stocked(store), _stocked(other_store)
    client = Client()
    add = f"/floor/s/{store.code}/cart/add/"
    answer = client.post(add, {"item": first.pk})
    assert answer.status_code == 302
    assert answer["Location"] == f"/s/{store.code}/cart/"
    with CaptureQueriesContext(connection) as captured:
        assert client.post(add, {"item": first.pk}).status_code == 302
    # In one transaction: the merchant set once, then the cart line's upsert.
    assert _words(captured) == ["BEGIN", "SELECT", "WITH", "COMMIT"]
    assert "set_config('app.merchant_id'" in captured.captured_queries[1]["sql"]
    assert client.post(add, {"item": second.pk}).status_code == 302
    assert _lines(merchant) == [(first.pk, 2), (second.pk, 1)]
    # Another merchant's product id: refused, nothing written in either shop.
    assert client.post(add, {"item": theirs.pk}).status_code == 400
    assert _lines(merchant) == [(first.pk, 2), (second.pk, 1)]
    assert _lines(other_merchant) == []


def _event(order: Order, *, merchant_id: int | None = None, event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_floor_{order.pk}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": f"pi_floor_{order.pk}",
                    "object": "payment_intent",
                    "amount_received": order.total,
                    "currency": order.currency.lower(),
                    "metadata": {"merchant_id": str(merchant_id or order.merchant_id), "order_id": str(order.pk)},
                }
            },
        }
    ).encode()


def _post(client: Client, payload: bytes, secret: str = SECRET) -> Any:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
    return client.post(
        "/floor/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={digest}",
    )


def _pending(store: Store, *items: StoreProduct) -> Order:
    visit = visit_start(store=store)
    for item in items:
        cart_add(visit=visit, store_product_id=item.pk, quantity=2)
    return order_place(visit=visit)


def _state(order: Order) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The order's status, its products' on hand, and its sale movements (product, quantity)."""
    with merchant_context(order.merchant_id):
        status = Order.objects.get(pk=order.pk).status
        products = list(order.lines.order_by("store_product_id").values_list("store_product_id", flat=True))
        on_hand = list(StoreProduct.objects.filter(pk__in=products).order_by("pk").values_list("on_hand", flat=True))
        sold = list(
            StockMovement.objects.filter(kind=MovementKind.SALE, reference=f"checkout.order:{order.pk}")
            .order_by("store_product_id")
            .values_list("store_product_id", "quantity")
        )
    return status, on_hand, sold


def test_the_webhook_floor_pays_once_with_its_movements_and_only_in_the_events_merchant(
    store: Store, other_store: Store
) -> None:
    one, two, theirs = _stocked(store), _stocked(store), _stocked(other_store)
    order, other_order = _pending(store, one, two), _pending(other_store, theirs)
    client = Client()
    assert _post(client, _event(order, event_id="evt_bad"), secret="whsec_wrong").status_code == 400
    with CaptureQueriesContext(connection) as captured:
        answer = _post(client, _event(order))
    assert answer.status_code == 200
    # The event claimed, the merchant set, the order paid with its movements in one statement.
    assert _words(captured) == ["BEGIN", "INSERT", "SELECT", "WITH", "COMMIT"]
    assert answer.json() == {"received": True, "applied": True}
    assert _state(order) == (OrderStatus.PAID, [18, 18], [(one.pk, -2), (two.pk, -2)])
    # Redelivered: nothing more.
    assert _post(client, _event(order)).json() == {"received": True, "applied": False}
    assert _state(order) == (OrderStatus.PAID, [18, 18], [(one.pk, -2), (two.pk, -2)])
    # An event naming this merchant with the other merchant's order id: that order is out of its reach.
    answer = _post(client, _event(other_order, merchant_id=store.merchant_id, event_id="evt_cross"))
    assert answer.json() == {"received": True, "applied": False}
    assert _state(other_order) == (OrderStatus.PENDING, [20], [])
    with platform_access(reason="test: events recorded", actor="test"):
        assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == ["evt_cross", f"evt_floor_{order.pk}"]


def test_the_ingest_floor_stores_the_frame_once_for_the_devices_own_camera(
    merchant: Merchant, store: Store, other_merchant: Merchant, other_store: Store
) -> None:
    registered = camera_make(merchant, store, calibrate=False)
    camera_make(other_merchant, other_store, name="Other shelf", calibrate=False)
    data = shelf.jpeg(shelf.shelf({"s1": 4}))
    client = Client()

    def upload(token: str, sequence: int) -> Any:
        return client.post(
            "/floor/sensing/frames",
            {
                "sequence": sequence,
                "captured_at": timezone.now().isoformat(),
                "image": SimpleUploadedFile("f.jpg", data, content_type="image/jpeg"),
            },
            HTTP_AUTHORIZATION=f"Device {token}",
        )

    with CaptureQueriesContext(connection) as captured:
        assert upload(registered.token, 7).status_code == 202
    # The token's row revealed, the device read, the merchant set, the frame inserted for the device's camera.
    assert _words(captured) == ["BEGIN", "SELECT", "SELECT", "SELECT", "INSERT", "COMMIT"]
    assert upload(registered.token, 7).status_code == 200  # the same frame again: stored once
    assert upload("lsd_unknown", 8).status_code == 401
    with platform_access(reason="test: frames stored", actor="test"):
        frames = list(Frame.objects.values_list("merchant_id", "camera_id", "sequence", "size"))
    assert frames == [(merchant.pk, registered.camera.pk, 7, len(data))]
