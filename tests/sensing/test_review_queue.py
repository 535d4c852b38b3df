"""Cameras speak the shop's language: products, not slot keys; slots in natural order; a repeated unsure change
queued once; bulk confirm and reject, all or nothing, for the merchant's own events only."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant
from merchants.services import api_token_create
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Alert, AlertKind, ReviewStatus, ShelfEvent, Slot
from sensing.selectors import natural_key
from sensing.services import processing
from sensing.services.events import shelf_event_queue, shelf_event_repeat
from sensing.services.processing import camera_process
from sensing.services.review import shelf_event_review
from tests.sensing import shelf
from tests.sensing.conftest import Registered, oracle_events, scene_frames, upload

pytestmark = pytest.mark.django_db

Scenes = list[tuple[dict[str, int], str | None]]

# A flickering shelf: one can of s1 is taken, put back, and taken again.
FLICKER: Scenes = (
    [({"s1": 4, "s2": 4}, None)] * 2
    + [({"s1": 4, "s2": 4}, "s1")] * 2
    + [({"s1": 3, "s2": 4}, None)] * 6
    + [({"s1": 3, "s2": 4}, "s1")] * 2
    + [({"s1": 4, "s2": 4}, None)] * 6
    + [({"s1": 4, "s2": 4}, "s1")] * 2
    + [({"s1": 3, "s2": 4}, None)] * 6
)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _unsure(
    registered: Registered, key: str = "s1", *, kind: str = "take", quantity: int = 1, at: Any = None
) -> ShelfEvent:
    camera = registered.camera
    with merchant_context(camera.merchant_id):
        return ShelfEvent(
            merchant_id=camera.merchant_id, camera=camera, slot=Slot.objects.get(camera=camera, key=key), sequence=1,
            kind=kind, quantity=quantity, confidence=0.4, occurred_at=at or timezone.now(), review=ReviewStatus.PENDING,
        )  # fmt: skip


def _queued(registered: Registered, key: str = "s1", **kwargs: Any) -> ShelfEvent:
    event = _unsure(registered, key, **kwargs)
    with merchant_context(event.merchant_id):
        assert shelf_event_queue(event=event)
    return event


def _rows() -> list[tuple[Any, ...]]:
    with platform_access(reason="test: snapshot events", actor="test"):
        return list(
            ShelfEvent.objects.order_by("pk").values_list("pk", "review", "reviewed_by", "reviewed_at", "times_seen")
        )


def test_slot_keys_sort_as_people_count() -> None:
    assert sorted(["s10", "s2", "S1", "shelf", "s1a", "s1"], key=natural_key) == [
        "S1",
        "s1",
        "s1a",
        "s2",
        "s10",
        "shelf",
    ]


def test_a_repeat_of_a_pending_change_counts_on_it_and_a_decided_one_queues_anew(registered: Registered) -> None:
    first = timezone.now() - timedelta(minutes=10)
    queued = _queued(registered, at=first)
    for minutes in (5, 2):
        repeat = _unsure(registered, at=first + timedelta(minutes=minutes))
        with merchant_context(repeat.merchant_id):
            assert shelf_event_repeat(event=repeat) is True
    # An earlier sighting arriving late does not move the last one back.
    late = _unsure(registered, at=first + timedelta(minutes=1))
    with merchant_context(late.merchant_id):
        assert shelf_event_repeat(event=late) is True
        queued.refresh_from_db()
    assert (queued.times_seen, queued.occurred_at, queued.last_seen_at) == (4, first, first + timedelta(minutes=5))
    # Another slot, kind or quantity is another change.
    for other in (_unsure(registered, "s2"), _unsure(registered, kind="put_back"), _unsure(registered, quantity=2)):
        with merchant_context(other.merchant_id):
            assert shelf_event_repeat(event=other) is False
    # Once decided, the same change seen again waits as a new event.
    shelf_event_review(merchant=registered.camera.merchant, event_id=queued.pk, user=None, is_confirmed=True)  # type: ignore[arg-type]
    again = _unsure(registered)
    with merchant_context(again.merchant_id):
        assert shelf_event_repeat(event=again) is False
        assert shelf_event_queue(event=again) is True
        assert list(
            ShelfEvent.objects.filter(camera=registered.camera).order_by("pk").values_list("review", "times_seen")
        ) == [(ReviewStatus.CONFIRMED, 4), (ReviewStatus.PENDING, 1)]


def test_a_flickering_shelf_queues_its_repeated_take_once(
    registered: Registered, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    frames = scene_frames(FLICKER)
    found = oracle_events(registered, frames)
    assert [(slot, kind, quantity) for slot, kind, quantity, _ in found] == [
        ("s1", "take", 1),
        ("s1", "put_back", 1),
        ("s1", "take", 1),
    ]
    monkeypatch.setattr(processing, "REVIEW_BELOW_CONFIDENCE", 1.01)  # every change is unsure here
    for sequence, (data, captured_at) in enumerate(frames):
        assert upload(registered.client(), sequence, data, captured_at=captured_at).status_code == 202
    camera = registered.camera
    with django_capture_on_commit_callbacks(execute=True):
        assert camera_process(merchant_id=camera.merchant_id, camera_id=camera.pk) == len(FLICKER)
    with merchant_context(camera.merchant_id):
        events = list(ShelfEvent.objects.filter(camera=camera).order_by("pk"))
    assert [(e.kind, e.quantity, e.review, e.times_seen) for e in events] == [
        ("take", 1, ReviewStatus.PENDING, 2),
        ("put_back", 1, ReviewStatus.PENDING, 1),
    ]
    # The row is the first sighting; its last sighting is as much later as the repeat came.
    take = events[0]
    assert take.sequence == found[0][3]
    assert take.last_seen_at - take.occurred_at == frames[found[2][3]][1] - frames[found[0][3]][1]


@pytest.mark.django_db(transaction=True)
def test_two_writers_queueing_the_same_change_at_once_leave_one_row_seen_twice(registered: Registered) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            event = _unsure(registered)
            barrier.wait()
            with merchant_context(event.merchant_id):
                outcomes.append(shelf_event_queue(event=event))
                time.sleep(0.3)  # the first writer holds its row uncommitted while the second inserts
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == [False, True]
    with merchant_context(registered.camera.merchant_id):
        assert list(ShelfEvent.objects.values_list("review", "times_seen")) == [(ReviewStatus.PENDING, 2)]


def test_the_queue_names_products_and_says_how_often_a_change_was_seen(
    merchant: Merchant, registered: Registered, owner: Any, clerk: Any
) -> None:
    event = _queued(registered)
    with merchant_context(merchant.pk):
        ShelfEvent.objects.filter(pk=event.pk).update(times_seen=3)
    name = registered.products["s1"].name
    body = _client(owner).get(f"/m/{merchant.slug}/cameras/review/").content.decode()
    assert f'<strong class="event-product">{name}</strong>' in body
    assert "Seen 3 times, last at" in body
    assert "slot s1" not in body
    assert f'name="event" value="{event.pk}" form="bulk-review"' in body
    assert "Confirm selected" in body
    clerk_body = _client(clerk).get(f"/m/{merchant.slug}/cameras/review/").content.decode()
    assert name in clerk_body
    assert 'form="bulk-review"' not in clerk_body
    assert "Confirm selected" not in clerk_body
    # A decision swapped in by htmx names the product too.
    decided = _client(owner).post(
        f"/m/{merchant.slug}/cameras/events/{event.pk}/review/", {"decision": "reject"}, HTTP_HX_REQUEST="true"
    )
    assert f"{name}: taken ×1 rejected." in decided.content.decode()


def test_alerts_name_the_product_and_slots_sort_naturally(
    merchant: Merchant, registered: Registered, owner: Any
) -> None:
    camera = registered.camera
    with merchant_context(merchant.pk):
        s1 = Slot.objects.get(camera=camera, key="s1")
        Slot.objects.create(
            merchant=merchant, camera=camera, key="s10", store_product=registered.products["s2"],
            polygon=shelf.slot_polygon("s1"), capacity=4, units=1,
        )  # fmt: skip
        Alert.objects.create(
            merchant=merchant, camera=camera, slot=s1, kind=AlertKind.STOCK_OUT, started_at=timezone.now()
        )
        Alert.objects.create(merchant=merchant, camera=camera, kind=AlertKind.BLURRED, started_at=timezone.now())
    client = _client(owner)
    name = registered.products["s1"].name
    for url in (
        f"/m/{merchant.slug}/cameras/alerts/",
        f"/m/{merchant.slug}/cameras/",
        f"/m/{merchant.slug}/cameras/{camera.pk}/",
    ):
        body = client.get(url).content.decode()
        assert f"<strong>{name}</strong>" in body, url
        assert "whole camera view" in body, url
        assert "slot s1" not in body, url
    page = client.get(f"/m/{merchant.slug}/cameras/{camera.pk}/").content.decode()
    assert page.index("<tr><td>s1</td>") < page.index("<tr><td>s2</td>") < page.index("<tr><td>s10</td>")
    _token, raw = api_token_create(user=owner, name="test")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    rows = api.get(f"/api/v1/merchants/{merchant.pk}/stores/{camera.store_id}/sensing/alerts/").json()["results"]
    assert [(a["kind"], a["slot"], a["store_product_id"], a["product"]) for a in rows] == [
        ("blurred", None, None, None),
        ("stock_out", "s1", registered.products["s1"].pk, name),
    ]


def test_the_owner_confirms_several_events_at_once(merchant: Merchant, registered: Registered, owner: Any) -> None:
    first, second = _queued(registered, "s1"), _queued(registered, "s2")
    third = _queued(registered, "s1", kind="put_back")
    response = _client(owner).post(
        f"/m/{merchant.slug}/cameras/review/decide/",
        {"decision": "confirm", "event": [first.pk, second.pk]},
        follow=True,
    )
    assert response.redirect_chain == [(f"/m/{merchant.slug}/cameras/review/", 302)]
    assert "Confirmed 2 events." in response.content.decode()
    with merchant_context(merchant.pk):
        rows = dict(ShelfEvent.objects.values_list("pk", "review"))
        decided_by = set(ShelfEvent.objects.filter(pk__in=[first.pk, second.pk]).values_list("reviewed_by", flat=True))
    assert rows == {first.pk: "confirmed", second.pk: "confirmed", third.pk: "pending"}
    assert decided_by == {owner.pk}
    # Sent twice (a double click): nothing more happens, and nothing fails.
    again = _client(owner).post(
        f"/m/{merchant.slug}/cameras/review/decide/",
        {"decision": "confirm", "event": [first.pk, second.pk]},
        follow=True,
    )
    assert "Nothing left to decide: those events were already confirmed." in again.content.decode()


def test_a_manager_rejects_in_bulk_and_a_clerk_may_not(
    merchant: Merchant, registered: Registered, manager: Any, clerk: Any
) -> None:
    events = [_queued(registered, "s1"), _queued(registered, "s2")]
    form = {"decision": "reject", "event": [e.pk for e in events]}
    before = _rows()
    assert _client(clerk).post(f"/m/{merchant.slug}/cameras/review/decide/", form).status_code == 403
    assert _rows() == before
    assert _client(manager).post(f"/m/{merchant.slug}/cameras/review/decide/", form).status_code == 302
    with merchant_context(merchant.pk):
        assert set(ShelfEvent.objects.values_list("review", flat=True)) == {"rejected"}


def test_an_event_of_another_merchant_in_the_batch_is_404_and_nothing_changes(
    merchant: Merchant, registered: Registered, other_registered: Registered, owner: Any, other_owner: Any
) -> None:
    mine, theirs = _queued(registered), _queued(other_registered)
    before = _rows()
    client = _client(owner)
    response = client.post(
        f"/m/{merchant.slug}/cameras/review/decide/", {"decision": "confirm", "event": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 404
    assert _rows() == before
    # And their owner cannot decide ours from their dashboard or ours.
    other = _client(other_owner)
    other_slug = other_registered.camera.merchant.slug
    for slug in (other_slug, merchant.slug):
        assert (
            other.post(f"/m/{slug}/cameras/review/decide/", {"decision": "reject", "event": [mine.pk]}).status_code
            == 404
        )
    assert _rows() == before


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"decision": "confirm"}, 400, "Select at least one event."),
        ({"decision": "confirm", "event": ["x1"]}, 400, "Tick the events and choose confirm or reject."),
        ({"decision": "maybe", "event": ["{first}"]}, 400, "Tick the events and choose confirm or reject."),
        (
            {"decision": "confirm", "event": ["{first}", "{rejected}"]},
            409,
            "1 of the selected events was already decided otherwise (or never needed a review); nothing was changed.",
        ),
    ],
)
def test_a_refused_bulk_decision_says_why_and_changes_nothing(
    merchant: Merchant, registered: Registered, owner: Any, form: dict[str, Any], status: int, message: str
) -> None:
    first, rejected = _queued(registered, "s1"), _queued(registered, "s2")
    shelf_event_review(merchant=merchant, event_id=rejected.pk, user=owner, is_confirmed=False)
    ids = {"first": first.pk, "rejected": rejected.pk}
    data = {**form, **({"event": [value.format(**ids) for value in form["event"]]} if "event" in form else {})}
    before = _rows()
    response = _client(owner).post(f"/m/{merchant.slug}/cameras/review/decide/", data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert _rows() == before
