"""Camera pages: register, calibrate, slot map, events, review, alerts, pictures; roles and other merchants."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import StoreProduct
from merchants.models import DeviceKind, Merchant, Store
from merchants.tenancy import merchant_context, platform_access
from sensing.models import Camera, Frame, ReviewStatus, ShelfEvent, Slot
from sensing.services.cameras import camera_update
from tests.sensing import shelf
from tests.sensing.conftest import Registered, camera_make

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _snapshot() -> dict[str, list[tuple[object, ...]]]:
    with platform_access(reason="test: snapshot sensing rows", actor="test"):
        return {
            "cameras": list(
                Camera.objects.order_by("pk").values_list("pk", "purpose", "retention_hours", "calibration_version")
            ),
            "slots": list(Slot.objects.order_by("pk").values_list("pk", "key", "polygon", "capacity", "units")),
            "events": list(ShelfEvent.objects.order_by("pk").values_list("pk", "review", "reviewed_by")),
            "capacity": list(StoreProduct.objects.order_by("pk").values_list("pk", "shelf_capacity")),
        }


def _event(registered: Registered, *, review: str = ReviewStatus.PENDING, key: str = "s1") -> ShelfEvent:
    camera = registered.camera
    with merchant_context(camera.merchant_id):
        slot = Slot.objects.get(camera=camera, key=key)
        event = ShelfEvent(
            merchant_id=camera.merchant_id, camera=camera, slot=slot, sequence=5, kind="take", quantity=1,
            confidence=0.4, occurred_at=camera.created_at, review=review,
        )  # fmt: skip
        crop = shelf.jpeg(shelf.shelf({"s1": 4})[100:340, 140:620])
        event.before_crop.save("before.jpg", SimpleUploadedFile("b.jpg", crop), save=False)
        event.after_crop.save("after.jpg", SimpleUploadedFile("a.jpg", crop), save=False)
        event.save()
    return event


def test_an_owner_registers_a_camera_and_sees_its_token_once(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    client = _client(owner)
    response = client.post(
        f"/m/{merchant.slug}/cameras/",
        {"store": store.pk, "name": "Fridge", "purpose": "Counts drinks in the fridge.", "retention_hours": 12},
    )
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token.startswith("lsd_")
    assert token in response.content.decode()
    with merchant_context(merchant.pk):
        camera = Camera.objects.select_related("device").get(name="Fridge")
        assert camera.device.kind == DeviceKind.CAMERA
        assert (camera.purpose, camera.retention_hours) == ("Counts drinks in the fridge.", 12)
    assert token not in client.get(f"/m/{merchant.slug}/cameras/").content.decode()


def test_a_clerk_sees_cameras_but_cannot_register_or_calibrate(
    merchant: Merchant, store: Store, registered: Registered, clerk
) -> None:  # type: ignore[no-untyped-def]
    client = _client(clerk)
    page = client.get(f"/m/{merchant.slug}/cameras/")
    assert page.status_code == 200
    assert "Register a camera" not in page.content.decode()
    before = _snapshot()
    assert (
        client.post(f"/m/{merchant.slug}/cameras/", {"store": store.pk, "name": "X", "retention_hours": 1}).status_code
        == 403
    )
    assert client.get(f"/m/{merchant.slug}/cameras/{registered.camera.pk}/calibrate/").status_code == 403
    assert _snapshot() == before


def test_the_camera_page_draws_the_slot_map_and_htmx_gets_only_the_map(
    merchant: Merchant, registered: Registered, owner
) -> None:  # type: ignore[no-untyped-def]
    camera_update(merchant=merchant, camera_id=registered.camera.pk, purpose="Counts cola.", retention_hours=24)
    with merchant_context(merchant.pk):
        Slot.objects.filter(camera=registered.camera, key="s1").update(units=0)
    client = _client(owner)
    body = client.get(f"/m/{merchant.slug}/cameras/{registered.camera.pk}/").content.decode()
    assert body.count("<polygon") == 2
    assert 'class="slot-empty" points="150,110 610,110 610,330 150,330"' in body
    assert 'class="slot-stocked"' in body
    partial = client.get(f"/m/{merchant.slug}/cameras/{registered.camera.pk}/", headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="camera-live"')
    reference = client.get(f"/m/{merchant.slug}/cameras/{registered.camera.pk}/reference.jpg")
    assert reference.status_code == 200
    assert b"".join(reference.streaming_content)[:3] == b"\xff\xd8\xff"


def test_calibration_saves_slots_and_sets_shelf_capacity(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    bare = camera_make(merchant, store, name="New camera", calibrate=False)
    product = bare.products["s1"]
    slots = [
        {
            "key": "cola",
            "store_product": product.pk,
            "polygon": [[10, 10], [400, 10], [400, 300], [10, 300]],
            "capacity": 8,
            "units": 5,
        }
    ]
    response = _client(owner).post(
        f"/m/{merchant.slug}/cameras/{bare.camera.pk}/calibrate/",
        {
            "reference": SimpleUploadedFile("ref.jpg", shelf.jpeg(shelf.shelf({"s1": 4})), content_type="image/jpeg"),
            "slots": json.dumps(slots),
        },
    )
    assert response.status_code == 302
    with merchant_context(merchant.pk):
        camera = Camera.objects.get(pk=bare.camera.pk)
        assert (camera.width, camera.height, camera.calibration_version) == (1280, 720, 1)
        assert list(Slot.objects.filter(camera=camera).values_list("key", "capacity", "units")) == [("cola", 8, 5)]
        assert StoreProduct.objects.get(pk=product.pk).shelf_capacity == 8


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        (
            [{"key": "s1", "store_product": 0, "polygon": [[0, 0], [1400, 0], [1400, 100]], "capacity": 4, "units": 1}],
            "outside the 1280×720 frame",
        ),
        (
            [{"key": "s1", "store_product": 0, "polygon": [[0, 0], [10, 0]], "capacity": 4, "units": 1}],
            "at least three corners",
        ),
        (
            [{"key": "s1", "store_product": 0, "polygon": [[0, 0], [10, 0], [10, 10]], "capacity": 4, "units": 9}],
            "do not fit",
        ),
        (
            [{"key": "s1", "store_product": -1, "polygon": [[0, 0], [10, 0], [10, 10]], "capacity": 4, "units": 1}],
            "choose a product this store sells",
        ),
        ("not json", "could not be read"),
    ],
)
def test_a_bad_calibration_is_refused_with_a_message_and_nothing_changes(
    merchant: Merchant, registered: Registered, owner, slots: object, message: str
) -> None:  # type: ignore[no-untyped-def]
    if isinstance(slots, list):
        for slot in slots:
            if slot["store_product"] == 0:
                slot["store_product"] = registered.products["s1"].pk
        slots = json.dumps(slots)
    before = _snapshot()
    response = _client(owner).post(f"/m/{merchant.slug}/cameras/{registered.camera.pk}/calibrate/", {"slots": slots})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot() == before


def test_a_product_of_another_merchant_cannot_be_put_in_a_slot(
    merchant: Merchant, registered: Registered, other_registered: Registered, owner
) -> None:  # type: ignore[no-untyped-def]
    slots = [
        {
            "key": "s1",
            "store_product": other_registered.products["s1"].pk,
            "polygon": [[0, 0], [10, 0], [10, 10]],
            "capacity": 4,
            "units": 1,
        }
    ]
    before = _snapshot()
    response = _client(owner).post(
        f"/m/{merchant.slug}/cameras/{registered.camera.pk}/calibrate/", {"slots": json.dumps(slots)}
    )
    assert response.status_code == 400
    assert _snapshot() == before


def test_review_confirms_and_rejects_with_htmx(merchant: Merchant, registered: Registered, manager) -> None:  # type: ignore[no-untyped-def]
    first, second = _event(registered), _event(registered, key="s2")  # one change waits once: two slots
    client = _client(manager)
    page = client.get(f"/m/{merchant.slug}/cameras/review/").content.decode()
    assert page.count('class="event-card"') == 2
    response = client.post(
        f"/m/{merchant.slug}/cameras/events/{first.pk}/review/", {"decision": "confirm"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "confirmed" in response.content.decode()
    client.post(f"/m/{merchant.slug}/cameras/events/{second.pk}/review/", {"decision": "reject"})
    with merchant_context(merchant.pk):
        assert list(ShelfEvent.objects.order_by("pk").values_list("review", flat=True)) == ["confirmed", "rejected"]
    assert 'class="event-card"' not in client.get(f"/m/{merchant.slug}/cameras/review/").content.decode()
    crop = client.get(f"/m/{merchant.slug}/cameras/events/{first.pk}/before.jpg")
    assert b"".join(crop.streaming_content)[:3] == b"\xff\xd8\xff"


def test_camera_settings_save_the_purpose_and_give_the_retention_to_the_whole_store(
    merchant: Merchant, store: Store, registered: Registered, owner
) -> None:  # type: ignore[no-untyped-def]
    second = camera_make(merchant, store, name="Second camera", calibrate=False).camera
    response = _client(owner).post(
        f"/m/{merchant.slug}/cameras/{registered.camera.pk}/settings/",
        {"purpose": "Counts cola.", "retention_hours": 48, "apply_to_store": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/m/{merchant.slug}/cameras/{registered.camera.pk}/"
    with merchant_context(merchant.pk):
        rows = list(Camera.objects.order_by("pk").values_list("pk", "purpose", "retention_hours"))
    assert rows == [
        (registered.camera.pk, "Counts cola.", 48),
        (second.pk, Camera._meta.get_field("purpose").get_default(), 48),
    ]


def test_bad_camera_settings_or_a_bad_review_decision_are_a_400_with_a_message_and_change_nothing(
    merchant: Merchant, registered: Registered, owner
) -> None:  # type: ignore[no-untyped-def]
    event = _event(registered)
    client = _client(owner)
    before = _snapshot()
    response = client.post(
        f"/m/{merchant.slug}/cameras/{registered.camera.pk}/settings/",
        {"purpose": "Counts cola.", "retention_hours": 0, "apply_to_store": "on"},
    )
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    response = client.post(f"/m/{merchant.slug}/cameras/events/{event.pk}/review/", {"decision": "maybe"})
    assert response.status_code == 400
    assert "Choose confirm or reject." in response.content.decode()
    assert _snapshot() == before


def test_events_and_alerts_pages_list_this_merchants_rows_only(
    merchant: Merchant, registered: Registered, other_registered: Registered, owner
) -> None:  # type: ignore[no-untyped-def]
    _event(registered)
    _event(other_registered)
    client = _client(owner)
    body = client.get(f"/m/{merchant.slug}/cameras/events/").content.decode()
    assert body.count('class="event-card"') == 1
    assert "Other shelf" not in body
    assert client.get(f"/m/{merchant.slug}/cameras/alerts/").status_code == 200


def test_another_merchants_camera_ids_are_404_and_change_nothing(
    merchant: Merchant, registered: Registered, other_registered: Registered, owner, other_owner
) -> None:  # type: ignore[no-untyped-def]
    foreign_event = _event(other_registered)
    foreign = other_registered.camera.pk
    client = _client(owner)
    before = _snapshot()
    for url in (
        f"/m/{merchant.slug}/cameras/{foreign}/",
        f"/m/{merchant.slug}/cameras/{foreign}/calibrate/",
        f"/m/{merchant.slug}/cameras/{foreign}/reference.jpg",
        f"/m/{merchant.slug}/cameras/events/{foreign_event.pk}/before.jpg",
    ):
        assert client.get(url).status_code == 404, url
    slots = json.dumps(
        [
            {
                "key": "x",
                "store_product": registered.products["s1"].pk,
                "polygon": [[0, 0], [9, 0], [9, 9]],
                "capacity": 2,
                "units": 1,
            }
        ]
    )
    for url, data in (
        (f"/m/{merchant.slug}/cameras/{foreign}/calibrate/", {"slots": slots}),
        (f"/m/{merchant.slug}/cameras/{foreign}/settings/", {"purpose": "mine now", "retention_hours": 1}),
        (f"/m/{merchant.slug}/cameras/events/{foreign_event.pk}/review/", {"decision": "reject"}),
    ):
        assert client.post(url, data).status_code == 404, url
    # A face-blurred frame the other merchant's owner could pick as a reference: not for us.
    other = other_registered.camera
    with merchant_context(other.merchant_id):
        frame = Frame(
            merchant_id=other.merchant_id, camera=other, sequence=1, captured_at=other.created_at, is_redacted=True
        )
        frame.image.save("1.jpg", SimpleUploadedFile("1.jpg", shelf.jpeg(shelf.shelf({}))), save=False)
        frame.save()
    assert _client(other_owner).get(f"/m/{other.merchant.slug}/cameras/frames/{frame.pk}.jpg").status_code == 200
    assert client.get(f"/m/{merchant.slug}/cameras/frames/{frame.pk}.jpg").status_code == 404
    assert _snapshot() == before


def test_the_shopper_landing_page_names_each_cameras_purpose_and_retention(
    merchant: Merchant, store: Store, registered: Registered
) -> None:
    camera_update(
        merchant=merchant, camera_id=registered.camera.pk, purpose="Counts drinks to refill them.", retention_hours=6
    )
    body = Client().get(f"/s/{store.code}/").content.decode()
    assert "Drinks shelf" in body
    assert "Counts drinks to refill them." in body
    assert "Pictures kept at most 6 hours." in body


@pytest.mark.slow
def test_the_demo_camera_is_calibrated_on_a_generated_shelf_once(
    settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from demo.seed import accounts as merchants_demo
    from demo.seed import cameras as sensing_demo
    from demo.seed import catalog as catalog_demo

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(sensing_demo, "DEMO_MINUTES", 0.05)
    merchants_demo.demo_seed()
    catalog_demo.demo_seed()
    assert sensing_demo.demo_seed() is True
    assert sensing_demo.demo_seed() is False
    token = (tmp_path / "demo-camera" / "token").read_text()
    assert token.startswith("lsd_")
    with platform_access(reason="test", actor="test"):
        camera = Camera.objects.select_related("merchant").get()
        slots = list(Slot.objects.filter(camera=camera))
    assert camera.is_calibrated
    assert len(slots) >= 6
    from django.contrib.auth import get_user_model

    client = _client(get_user_model().objects.get(username=f"owner@{merchants_demo.MERCHANTS[0][3]}"))
    body = client.get(f"/m/{camera.merchant.slug}/cameras/{camera.pk}/").content.decode()
    assert body.count("<polygon") == len(slots)


@pytest.mark.usefixtures("registered")
def test_the_camera_list_costs_the_same_queries_for_one_camera_or_many(
    merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = _client(owner)
    url = f"/m/{merchant.slug}/cameras/"
    client.get(url)  # warm the session and the content types
    with django_assert_num_queries(QUERIES_CAMERA_LIST):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    for name in ("Second", "Third"):
        camera_make(merchant, store, name=name, calibrate=False)
    with django_assert_num_queries(QUERIES_CAMERA_LIST):
        body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert body.count("/cameras/") >= 3


# Session, user, merchant, tenancy, membership, the cameras with their cursor, review count, alerts.
QUERIES_CAMERA_LIST = 12
