"""Bad input to the API and the webhook answers a clear 4xx in the API's error shape and changes nothing.

Each case was answered 500 (or wrongly accepted) before the validation layer (core.inputs).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe
from django.test import Client
from django.utils import timezone
from pytest_django import Settings
from rest_framework.test import APIClient

from catalog.models import CountSession, MovementKind, StoreProduct
from catalog.services.stock import stock_move
from checkout.choices import OrderStatus
from checkout.models import Order, WebhookEvent
from merchants.models import Merchant, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Frame
from tests.catalog.factories import StoreProductFactory
from tests.checkout.test_shopper_pages import _shopper
from tests.core.test_bad_inputs_pages import _snapshot
from tests.core.test_inputs import _jpeg_claiming
from tests.sensing import shelf
from tests.sensing.conftest import Registered, camera_make, upload

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_lingshou_inputs"


def _bearer(user: Any) -> APIClient:
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def item(store: Store) -> StoreProduct:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola")
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=10)
    return item


@pytest.fixture
def registered(merchant: Merchant, store: Store) -> Registered:
    return camera_make(merchant, store)


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        (
            "adjustments/",
            {"item_id": "{item}", "quantity": 2**63, "reason": "damaged"},
            "quantity",
            "Quantity must be at most 2147483647.",
        ),
        (
            "adjustments/",
            {"item_id": "{item}", "quantity": 10**20, "reason": "damaged"},
            "quantity",
            "Quantity must be at most 2147483647.",
        ),
        (
            "adjustments/",
            {"item_id": 2**64, "quantity": 1, "reason": "damaged"},
            "item_id",
            f"Item id must be at most {2**63 - 1}.",
        ),
        (
            "assortment/{item}/price/",
            {"price": "1e30"},
            "price",
            "'1e30' is more than the largest amount Lingshou keeps (21474836.47).",
        ),
        (
            "assortment/{item}/price/",
            {"price": "99999999999"},
            "price",
            "'99999999999' is more than the largest amount Lingshou keeps (21474836.47).",
        ),
    ],
)
def test_an_api_number_beyond_its_column_is_a_400_naming_the_field(owner, merchant: Merchant, store: Store, item: StoreProduct, path: str, body: dict[str, Any], field: str, message: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    base = f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}/"
    body = {key: item.pk if value == "{item}" else value for key, value in body.items()}
    before = _snapshot()
    response = _bearer(owner).post(base + path.format(item=item.pk), body, format="json")
    assert response.status_code == 400
    assert _error(response)["fields"] == {field: [message]}
    assert _snapshot() == before


def test_a_count_of_1e12_through_the_api_is_a_400(owner, merchant: Merchant, store: Store, item: StoreProduct) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    client = _bearer(owner)
    base = f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}/counts/"
    count = client.post(base, {"note": "shelf"}, format="json").json()
    response = client.post(f"{base}{count['id']}/lines/", {"item_id": item.pk, "counted": 10**12}, format="json")
    assert response.status_code == 400
    assert _error(response)["fields"] == {"counted": ["Counted must be at most 2147483647."]}


@pytest.mark.parametrize("path", ["products/", "stores/{store}/assortment/", "stores/{store}/stock/"])
def test_a_nul_byte_in_an_api_search_is_cleaned(owner, merchant: Merchant, store: Store, item: StoreProduct, path: str) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - item gives the search something to find  # fmt: skip
    url = f"/api/v1/merchants/{merchant.pk}/" + path.format(store=store.pk)
    response = _bearer(owner).get(url, {"q": "quellwerk\x00", "status": "low\x00"})
    assert response.status_code == 200, response.content[:300]


def test_a_count_posted_as_an_empty_multipart_body_is_refused(owner, merchant: Merchant, store: Store) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    response = _bearer(owner).generic(
        "POST",
        f"/api/v1/merchants/{merchant.pk}/stores/{store.pk}/counts/",
        b"",
        content_type="multipart/form-data; boundary=lingshou",
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "parse_error"
    with merchant_context(merchant.pk):
        assert not CountSession.objects.exists()


def test_a_frame_whose_header_claims_20000_pixels_square_is_refused_before_decoding(registered: Registered) -> None:
    response = upload(registered.client(), 1, _jpeg_claiming(20000, 20000))
    assert response.status_code == 400
    assert _error(response)["code"] == "too_many_pixels"
    with platform_access(reason="test", actor="test"):
        assert not Frame.objects.exists()


def test_a_frame_sequence_of_2_to_the_63_is_a_400(registered: Registered) -> None:
    response = upload(registered.client(), 2**63, shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4})))
    assert response.status_code == 400
    assert _error(response)["fields"] == {"sequence": [f"Sequence must be at most {2**63 - 1}."]}


def test_an_upload_with_1500_form_fields_gets_the_apis_error_shape(registered: Registered) -> None:
    fields = {f"field{i}": "x" for i in range(1500)} | {"sequence": 1, "captured_at": timezone.now().isoformat()}
    response = registered.client().post("/api/v1/sensing/frames", fields, format="multipart")
    assert response.status_code == 400
    assert _error(response) == {
        "code": "too_many_fields",
        "message": "The request has more form fields than the server accepts.",
    }


def test_a_content_length_that_is_no_number_is_not_a_500(registered: Registered) -> None:
    response = registered.client().post("/api/v1/sensing/frames", {}, format="multipart", CONTENT_LENGTH="lots")
    assert response.status_code == 400


def _webhook(settings: Settings, event: dict[str, Any]) -> Any:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET, timestamp=int(time.time()))
    return Client().post("/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "The event's data is not an object."),
        ({"object": None}, "The event's data.object is not an object."),
        (
            {"object": {"id": "pi_1", "metadata": {"merchant_id": "{merchant}", "order_id": "abc"}}},
            "metadata.order_id 'abc' is not a whole number.",
        ),
        (
            {"object": {"id": "pi_1", "metadata": {"merchant_id": "{merchant}", "order_id": str(2**63)}}},
            f"metadata.order_id {2**63} is out of range.",
        ),
        (
            {"object": {"id": "pi_1", "metadata": {"merchant_id": "x", "order_id": "{order}"}}},
            "metadata.merchant_id 'x' is not a whole number.",
        ),
        (
            {
                "object": {
                    "id": "pi_1",
                    "amount_received": "lots",
                    "metadata": {"merchant_id": "{merchant}", "order_id": "{order}"},
                }
            },
            "amount_received 'lots' is not a whole number.",
        ),
        (
            {"object": {"metadata": {"merchant_id": "{merchant}", "order_id": "{order}"}}},
            "The event's object has no id.",
        ),
    ],
)
def test_a_signed_event_of_the_wrong_shape_is_refused_and_not_marked_processed(settings: Settings, store: Store, item: StoreProduct, data: Any, message: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    client, visit = _shopper(store, [(item, 1)])
    del client
    from checkout.services.orders import order_place

    order = order_place(visit=visit)
    text = json.dumps(data).replace("{merchant}", str(store.merchant_id)).replace("{order}", str(order.pk))
    event = {"id": "evt_bad_shape", "type": "payment_intent.succeeded", "data": json.loads(text)}
    response = _webhook(settings, event)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "bad_event", "message": message}}
    with platform_access(reason="test", actor="test"):
        assert not WebhookEvent.objects.filter(pk="evt_bad_shape").exists()
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
