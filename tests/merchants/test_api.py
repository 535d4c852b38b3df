"""The API: one error shape, tokens, and 404 for every other merchant's id."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from merchants import tenancy
from merchants.models import ApiToken, Device, Invitation, Membership, Merchant, Store
from merchants.selectors import device_get_by_token
from merchants.services import api_token_create, api_token_revoke, device_create, device_revoke
from merchants.tenancy import merchant_context, platform_access
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, Any]:
    with platform_access(reason="test: count rows", actor="test"):
        return {
            "stores": Store.objects.count(),
            "devices": list(Device.objects.order_by("pk").values_list("pk", "revoked_at")),
            "members": Membership.objects.count(),
            "invitations": Invitation.objects.count(),
        }


def _bearer(user) -> APIClient:  # type: ignore[no-untyped-def]
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _routes(merchant: Merchant, store: Store, device: Device) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/v1/merchants/{merchant.pk}"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/stores/", {}),
        ("get", f"{base}/stores/{store.pk}/", {}),
        ("get", f"{base}/members/", {}),
        ("post", f"{base}/invitations/", {"email": "x@example.com", "role": "clerk"}),
        ("get", f"{base}/devices/", {}),
        ("post", f"{base}/devices/create/", {"store_id": store.pk, "name": "Cam X"}),
        ("post", f"{base}/devices/{device.pk}/revoke/", {}),
    ]


def test_every_merchant_route_is_404_for_another_merchants_owner_and_changes_nothing(
    merchant: Merchant,
    store: Store,
    owner,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    device = DeviceFactory(store=store)
    mine, theirs = _bearer(owner), _bearer(other_owner)
    for method, url, data in _routes(merchant, store, device):
        before = _counts()
        response = getattr(theirs, method)(url, data, format="json")
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found", url
        assert _counts() == before, url
    for method, url, data in _routes(merchant, store, device):
        assert getattr(mine, method)(url, data, format="json").status_code in (200, 201), url


def test_another_merchants_ids_under_my_merchant_are_404(
    merchant: Merchant,
    store: Store,  # noqa: ARG001 - fixture requested for the rows it creates
    other_store: Store,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    foreign_device = DeviceFactory(store=other_store)
    client = _bearer(owner)
    before = _counts()
    base = f"/api/v1/merchants/{merchant.pk}"
    assert client.get(f"{base}/stores/{other_store.pk}/").status_code == 404
    assert client.post(f"{base}/devices/{foreign_device.pk}/revoke/").status_code == 404
    response = client.post(f"{base}/devices/create/", {"store_id": other_store.pk, "name": "Cam"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"store": ["No such store."]}
    assert _counts() == before


def test_lists_hold_only_this_merchants_rows(
    merchant: Merchant,
    store: Store,
    other_store: Store,
    owner,
    other_owner,  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    DeviceFactory(store=store, name="Mine")
    DeviceFactory(store=other_store, name="Theirs")
    client = _bearer(owner)
    base = f"/api/v1/merchants/{merchant.pk}"
    assert [s["code"] for s in client.get(f"{base}/stores/").json()["results"]] == [store.code]
    assert [d["name"] for d in client.get(f"{base}/devices/").json()["results"]] == ["Mine"]
    assert [m["email"] for m in client.get(f"{base}/members/").json()["results"]] == [owner.email]
    assert [m["slug"] for m in client.get("/api/v1/merchants/").json()["results"]] == [merchant.slug]


def test_a_list_takes_a_pinned_number_of_queries(
    merchant: Merchant,
    store: Store,
    owner,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(20):
        DeviceFactory(store=store, name=f"Cam {n}")
    client = _bearer(owner)
    with django_assert_max_num_queries(14):
        response = client.get(f"/api/v1/merchants/{merchant.pk}/devices/")
    assert response.json()["count"] == 20


def test_a_clerk_gets_403_with_a_message_and_nothing_changes(
    merchant: Merchant,
    store: Store,
    clerk,  # type: ignore[no-untyped-def]
) -> None:
    before = _counts()
    response = _bearer(clerk).post(
        f"/api/v1/merchants/{merchant.pk}/devices/create/", {"store_id": store.pk, "name": "Cam"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "permission_denied", "message": "Only owners and managers can manage cameras and devices."}
    }
    assert _counts() == before


def test_bad_input_gets_field_errors_and_changes_nothing(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    before = _counts()
    response = _bearer(owner).post(
        f"/api/v1/merchants/{merchant.pk}/invitations/", {"email": "not-an-email", "role": "boss"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"email", "role"}
    assert _counts() == before


def test_requests_without_or_with_bad_tokens_are_401(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
    url = f"/api/v1/merchants/{merchant.pk}/"
    assert APIClient().get(url).json()["error"]["code"] == "not_authenticated"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer lsk_made-up")
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API token."


def test_a_revoked_personal_token_stops_working(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
    token, raw = api_token_create(user=owner, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me/").status_code == 200
    api_token_revoke(user=owner, token_id=token.pk)
    assert client.get("/api/v1/me/").status_code == 401
    assert ApiToken.objects.get(pk=token.pk).token_hash != raw  # only the hash is kept


def test_a_device_token_identifies_its_device_and_reaches_nothing_else(
    merchant: Merchant,
    store: Store,
    other_merchant: Merchant,
    owner,  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    device, raw = device_create(merchant=merchant, store_id=store.pk, name="Shelf 1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {raw}")
    body = client.get("/api/v1/devices/me/").json()
    assert body["device"]["id"] == device.pk
    assert body["store"]["code"] == store.code
    assert client.get(f"/api/v1/merchants/{merchant.pk}/stores/").status_code == 404  # staff API
    assert client.get(f"/api/v1/merchants/{other_merchant.pk}/").status_code == 404
    assert client.get("/api/v1/me/").status_code == 403
    device_revoke(merchant=merchant, device_id=device.pk)
    response = client.get("/api/v1/devices/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked device token."


def test_staff_cannot_use_the_device_endpoint(owner) -> None:  # type: ignore[no-untyped-def]
    assert _bearer(owner).get("/api/v1/devices/me/").status_code == 403


def test_creating_a_device_returns_its_token_once(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    response = _bearer(owner).post(
        f"/api/v1/merchants/{merchant.pk}/devices/create/", {"store_id": store.pk, "name": "Door"}, format="json"
    )
    assert response.status_code == 201
    raw = response.json()["token"]
    with merchant_context(merchant.pk):
        device = Device.objects.get(pk=response.json()["device"]["id"])
    assert raw.startswith("lsd_")
    assert raw not in str(device.__dict__)


def test_unknown_api_paths_answer_json_404() -> None:
    response = APIClient().get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such API endpoint."}}


def test_the_schema_and_its_docs_page_are_served(owner) -> None:  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/merchants/{merchant_id}/devices/create/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"<script>" not in docs.content  # no inline script: the CSP would block it


def test_the_api_throttles_with_the_same_error_shape(owner) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    UserRateThrottle.THROTTLE_RATES = rates
    try:
        client = _bearer(owner)
        statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
        response = client.get("/api/v1/me/")
    finally:
        UserRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        cache.clear()
    assert statuses == [200, 200, 200, 429]
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response


def test_a_device_token_read_in_an_api_scope_sets_its_merchant_there_and_an_unknown_one_sets_nothing(
    merchant: Merchant, store: Store, other_merchant: Merchant, other_store: Store
) -> None:
    """Inside an API request's ``scope()`` the token's merchant is set in the request's own settings (no
    context of its own); an unknown or revoked token leaves nothing set, so nothing of any shop is seen."""
    device, raw = device_create(merchant=merchant, store_id=store.pk, name="Shelf 1")
    revoked, revoked_raw = device_create(merchant=other_merchant, store_id=other_store.pk, name="Shelf 2")
    device_revoke(merchant=other_merchant, device_id=revoked.pk)

    def seen() -> tuple[dict[str, str] | None, set[str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT code FROM merchants_store")
            return tenancy.settings_in_force(), {row[0] for row in cursor.fetchall()}

    with tenancy.scope():
        found = device_get_by_token(raw=raw)
        assert found is not None
        assert found.pk == device.pk
        assert found.store.pk == store.pk
        in_force, stores = seen()
        assert in_force is not None
        assert in_force["app.merchant_id"] == str(merchant.pk)
        assert stores == {store.code}
    for unknown in (revoked_raw, "lsd_" + "x" * 40):
        with tenancy.scope():
            assert device_get_by_token(raw=unknown) is None
            in_force, stores = seen()
            assert in_force is not None
            assert not any(in_force.values())
            assert stores == set()
