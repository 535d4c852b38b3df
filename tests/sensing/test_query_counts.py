"""Query counts of the camera pages and the sensing list endpoints, pinned for 1 row and for 20 rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from sensing.models import Alert, AlertKind, EventKind, ReviewStatus, ShelfEvent, Slot
from tests.query_counts import Case, Request, Shop, bearer, case_counted, query_cases, signed_in
from tests.sensing import shelf
from tests.sensing.conftest import camera_make

pytestmark = pytest.mark.django_db


def _slots(shop: Shop) -> list[Slot]:
    """The two slots of a calibrated camera of the shop."""
    camera = camera_make(shop.merchant, shop.store).camera
    with merchant_context(camera.merchant_id):
        return list(Slot.objects.filter(camera=camera).order_by("key"))


def _events(shop: Shop, rows: int, *, review: str) -> list[str]:
    """Rows events on the camera's two slots, each with its before and after crop; their ids. Each is another change
    (slot and quantity): one change waits for review once."""
    slots = _slots(shop)
    crop = shelf.jpeg(shelf.shelf({"s1": 4})[100:340, 140:620])
    now = timezone.now()
    ids = []
    with merchant_context(shop.merchant.pk):
        for n in range(rows):
            event = ShelfEvent(
                merchant=shop.merchant, camera=slots[0].camera, slot=slots[n % 2], sequence=n + 1,
                kind=EventKind.TAKE, quantity=n // 2 + 1, confidence=0.4, occurred_at=now - timedelta(minutes=n),
                review=review,
            )  # fmt: skip
            event.before_crop.save("before.jpg", SimpleUploadedFile("b.jpg", crop), save=False)
            event.after_crop.save("after.jpg", SimpleUploadedFile("a.jpg", crop), save=False)
            event.save()
            ids.append(str(event.pk))
    return ids


def _alerts(shop: Shop, rows: int) -> None:
    """Rows alerts on the camera's two slots, every other one still open (one open per slot and kind)."""
    slots = _slots(shop)
    kinds = list(AlertKind)
    now = timezone.now()
    with merchant_context(shop.merchant.pk):
        for n in range(rows):
            is_open, index = n % 2 == 0, n // 2
            Alert.objects.create(
                merchant=shop.merchant, camera=slots[0].camera, slot=slots[index // len(kinds) % 2],
                kind=kinds[index % len(kinds)], started_at=now - timedelta(hours=n + 1),
                ended_at=None if is_open else now - timedelta(hours=n, minutes=30),
            )  # fmt: skip


def _page(shop: Shop, name: str, shown: list[str] | None = None) -> Request:
    return Request(signed_in(shop.owner), reverse(f"sensing:{name}", kwargs={"slug": shop.merchant.slug}), shown or [])


def _api(shop: Shop, name: str) -> Request:
    kwargs = {"merchant_id": shop.merchant.pk, "store_id": shop.store.pk}
    return Request(bearer(shop.owner), reverse(f"sensing:{name}", kwargs=kwargs))


def cameras_page(rows: int, shop: Shop) -> Request:
    names = [f"Shelf {n}" for n in range(rows)]
    for name in names:
        camera_make(shop.merchant, shop.store, name=name, calibrate=False)
    return _page(shop, "cameras", names)


def camera_events_page(rows: int, shop: Shop) -> Request:
    ids = _events(shop, rows, review=ReviewStatus.ACCEPTED)
    return _page(shop, "camera_events", [f'id="event-{pk}"' for pk in ids])


def camera_review_page(rows: int, shop: Shop) -> Request:
    ids = _events(shop, rows, review=ReviewStatus.PENDING)
    return _page(shop, "camera_review", [f'id="review-{pk}"' for pk in ids])


def camera_alerts_page(rows: int, shop: Shop) -> Request:
    _alerts(shop, rows)
    return _page(shop, "camera_alerts", ["Drinks shelf"])


def shelf_event_list_api(rows: int, shop: Shop) -> Request:
    _events(shop, rows, review=ReviewStatus.ACCEPTED)
    return _api(shop, "api_sensing_events")


def alert_list_api(rows: int, shop: Shop) -> Request:
    _alerts(shop, rows)
    return _api(shop, "api_sensing_alerts")


# Measured. A page pays about a dozen for the session, sign-in, merchant, tenancy, membership and
# navigation; an API call about half as many for the token, the merchant and the store.
CASES = query_cases(
    Case("cameras page", cameras_page, 14),
    Case("camera events page", camera_events_page, 10),
    Case("camera review page", camera_review_page, 10),
    Case("camera alerts page", camera_alerts_page, 11),
    Case("shelf event list api", shelf_event_list_api, 11),
    Case("alert list api", alert_list_api, 11),
)


@pytest.mark.parametrize(("case", "rows"), CASES)
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)
