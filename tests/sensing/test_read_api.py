"""Owners' read API of what the shelf cameras saw: events and alerts, filtered, another merchant never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context
from sensing.models import Alert, AlertKind, EventKind, ReviewStatus, ShelfEvent, Slot
from tests.sensing.conftest import Registered, camera_make

pytestmark = pytest.mark.django_db


def _bearer(user) -> APIClient:  # type: ignore[no-untyped-def]
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _seen(registered: Registered) -> dict[str, list[int]]:
    """Two events and two alerts on the camera: a take an hour ago, a restock to review now."""
    now = timezone.now()
    camera = registered.camera
    with merchant_context(camera.merchant_id):
        slots = {slot.key: slot for slot in Slot.objects.filter(camera=camera)}
        events = [
            ShelfEvent.objects.create(
                merchant_id=camera.merchant_id, camera=camera, slot=slots["s1"], sequence=1, kind=EventKind.TAKE,
                quantity=2, confidence=0.95, occurred_at=now - timedelta(hours=1),
            ),
            ShelfEvent.objects.create(
                merchant_id=camera.merchant_id, camera=camera, slot=slots["s2"], sequence=2, kind=EventKind.RESTOCK,
                quantity=6, confidence=0.4, occurred_at=now, review=ReviewStatus.PENDING,
            ),
        ]  # fmt: skip
        alerts = [
            Alert.objects.create(
                merchant_id=camera.merchant_id, camera=camera, slot=slots["s1"], kind=AlertKind.STOCK_OUT,
                started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1),
            ),
            Alert.objects.create(
                merchant_id=camera.merchant_id, camera=camera, kind=AlertKind.OFFLINE, started_at=now,
            ),
        ]  # fmt: skip
    return {"events": [e.pk for e in events], "alerts": [a.pk for a in alerts]}


def _url(store: Store, what: str) -> str:
    return f"/api/v1/merchants/{store.merchant_id}/stores/{store.pk}/sensing/{what}/"


@pytest.mark.usefixtures("owner")
def test_events_newest_first_with_their_product_and_filters(
    registered: Registered,
    store: Store,
    clerk,  # type: ignore[no-untyped-def]
) -> None:
    ids = _seen(registered)
    client = _bearer(clerk)  # reading needs no more than the clerk's role
    body = client.get(_url(store, "events")).json()
    assert body["count"] == 2
    newest, older = body["results"]
    assert (newest["id"], older["id"]) == (ids["events"][1], ids["events"][0])
    assert (newest["kind"], newest["quantity"], newest["review"]) == ("restock", 6, "pending")
    assert (older["slot"], older["store_product_id"]) == ("s1", registered.products["s1"].pk)
    assert older["product"] == registered.products["s1"].name
    assert older["camera_id"] == registered.camera.pk
    only_pending = client.get(_url(store, "events"), {"review": "pending"}).json()
    assert [e["id"] for e in only_pending["results"]] == [ids["events"][1]]
    since = (timezone.now() - timedelta(minutes=30)).isoformat()
    assert [e["id"] for e in client.get(_url(store, "events"), {"since": since}).json()["results"]] == [
        ids["events"][1]
    ]
    takes = client.get(_url(store, "events"), {"kind": "take", "camera": registered.camera.pk}).json()
    assert [e["id"] for e in takes["results"]] == [ids["events"][0]]


def test_alerts_open_or_ended(registered: Registered, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    ids = _seen(registered)
    client = _bearer(owner)
    every = client.get(_url(store, "alerts")).json()["results"]
    assert [(a["id"], a["kind"], a["slot"], a["is_open"]) for a in every] == [
        (ids["alerts"][1], "offline", None, True),
        (ids["alerts"][0], "stock_out", "s1", False),
    ]
    assert [a["id"] for a in client.get(_url(store, "alerts"), {"open": "true"}).json()["results"]] == [
        ids["alerts"][1]
    ]
    assert [a["id"] for a in client.get(_url(store, "alerts"), {"open": "false"}).json()["results"]] == [
        ids["alerts"][0]
    ]


@pytest.mark.parametrize(
    ("what", "query", "field"),
    [
        ("events", {"kind": "stolen"}, "kind"),
        ("events", {"since": "yesterday"}, "since"),
        ("events", {"camera": "x"}, "camera"),
        ("alerts", {"open": "maybe"}, "open"),
    ],
)
@pytest.mark.usefixtures("registered")
def test_a_bad_filter_is_a_400_naming_the_field(
    store: Store,
    owner,
    what: str,
    query: dict,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    response = _bearer(owner).get(_url(store, what), query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_another_merchant_is_never_seen(
    registered: Registered,
    store: Store,
    owner,  # type: ignore[no-untyped-def]
    other_merchant: Merchant,
    other_store: Store,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    _seen(registered)
    theirs = camera_make(other_merchant, other_store, name="Their shelf")
    _seen(theirs)
    mine = _bearer(owner)
    for what in ("events", "alerts"):
        # Their store under my merchant, my store under theirs, their merchant with my token: 404.
        assert (
            mine.get(f"/api/v1/merchants/{store.merchant_id}/stores/{other_store.pk}/sensing/{what}/").status_code
            == 404
        )
        assert mine.get(_url(other_store, what)).status_code == 404
        assert _bearer(other_owner).get(_url(store, what)).status_code == 404
        # Their camera named as a filter in my store: 404, and my own lists hold only my camera's rows.
        assert mine.get(_url(store, what), {"camera": theirs.camera.pk}).status_code == 404
        rows = mine.get(_url(store, what)).json()["results"]
        assert {row["camera_id"] for row in rows} == {registered.camera.pk}
