"""The owner edits a store and adds one: validated tax ids and hours, owners only, other merchants get 404."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from core.models import OutboxMessage
from merchants.forms import hours_parse
from merchants.models import Merchant, Store
from merchants.services import StoreSettings, store_update
from merchants.tax_ids import tax_number_validator, vat_id_normalize, vat_id_validator
from merchants.tenancy import merchant_context, platform_access

pytestmark = pytest.mark.django_db

WEEK = {f"hours_{day}": "07:00–22:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"hours_sun": ""}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**changes: str) -> dict[str, str]:
    return {
        "name": "Lindenstraße 5",
        "street": "Lindenstraße 5",
        "postal_code": "10969",
        "city": "Berlin",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "vat_id": "",
        "tax_number": "",
        "receipt_footer": "",
        **WEEK,
        **changes,
    }


def _stores() -> list[tuple[Any, ...]]:
    with platform_access(reason="test: snapshot stores", actor="test"):
        return list(
            Store.objects.order_by("pk").values_list(
                "pk", "merchant_id", "name", "street", "city", "timezone", "opening_hours", "vat_id", "tax_number",
                "receipt_footer", "share_with_wholesaler", "currency",
            )
        )  # fmt: skip


@pytest.mark.parametrize("value", ["DE123456788", "DE298765435", "ATU12345678", "NL123456789B01", "FR40303265045"])
def test_vat_ids_of_eu_countries_are_accepted(value: str) -> None:
    vat_id_validator(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("DE123456789", "DE123456789 is not a valid German VAT id: its check digit is wrong."),
        ("DE12345678", "DE12345678 is not a DE VAT id (for example DE123456788)."),
        ("DE023456788", "DE023456788 is not a DE VAT id (for example DE123456788)."),
        ("AT12345678", "AT12345678 is not a AT VAT id (for example ATU12345678)."),
        ("US123456789", "US123456789 does not start with an EU country code (DE, AT, NL, …)."),
        ("de123456788", "Write the VAT id without spaces, like DE123456788."),
    ],
)
def test_a_wrong_vat_id_says_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        vat_id_validator(value)
    assert caught.value.messages == [message]


def test_vat_ids_are_written_as_people_copy_them() -> None:
    assert vat_id_normalize(" de 123.456-788 ") == "DE123456788"


@pytest.mark.parametrize("value", ["21/815/08150", "2181508150", "181/815/08155", "2893081508152"])
def test_german_tax_numbers_are_accepted(value: str) -> None:
    tax_number_validator(value)


@pytest.mark.parametrize("value", ["21/815/0815", "21-815-08150", "12345678901234"])
def test_a_wrong_tax_number_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a tax number: 10, 11 or 13 digits"):
        tax_number_validator(value)


def test_opening_hours_are_read_as_people_write_them() -> None:
    assert hours_parse("7:00-13:00, 15.00 – 2:00") == [["07:00", "13:00"], ["15:00", "02:00"]]
    assert hours_parse("06:00–24:00") == [["06:00", "24:00"]]
    assert hours_parse("") == hours_parse("closed") == []
    for bad in ("7am-10pm", "25:00-26:00", "24:00-06:00", "09:00-09:00", "07:60-08:00"):
        with pytest.raises(ValidationError, match="is not opening hours like 07:00–22:00"):
            hours_parse(bad)


def test_the_owner_edits_every_setting_of_a_store(merchant: Merchant, store: Store, owner: Any) -> None:
    client = _client(owner)
    url = f"/m/{merchant.slug}/stores/{store.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="Lindenstraße 5"' in page.content.decode()
    response = client.post(
        url,
        _form(
            name="Linden Kiosk",
            street="Lindenstraße 7",
            vat_id="de 298 765 435",
            tax_number="29/123/45678",
            receipt_footer="Danke für Ihren Einkauf!",
            share_with_wholesaler="on",
            hours_fri="07:00-13:00, 15:00-02:00",
        ),
        follow=True,
    )
    assert response.redirect_chain == [(f"/m/{merchant.slug}/stores/", 302)]
    assert "Linden Kiosk saved." in response.content.decode()
    with merchant_context(merchant.pk):
        saved = Store.objects.get(pk=store.pk)
    assert (saved.name, saved.street, saved.vat_id, saved.tax_number, saved.receipt_footer) == (
        "Linden Kiosk",
        "Lindenstraße 7",
        "DE298765435",
        "29/123/45678",
        "Danke für Ihren Einkauf!",
    )
    assert saved.share_with_wholesaler is True
    assert saved.opening_hours == {
        "mon": [["07:00", "22:00"]], "tue": [["07:00", "22:00"]], "wed": [["07:00", "22:00"]],
        "thu": [["07:00", "22:00"]], "fri": [["07:00", "13:00"], ["15:00", "02:00"]], "sat": [["07:00", "22:00"]],
        "sun": [],
    }  # fmt: skip
    assert (saved.code, saved.currency) == (store.code, store.currency)  # neither is editable


def test_sharing_with_the_wholesaler_is_off_until_the_owner_ticks_it(merchant: Merchant, owner: Any) -> None:
    client = _client(owner)
    response = client.post(f"/m/{merchant.slug}/stores/new/", _form(name="Neu", currency="EUR"))
    assert response.status_code == 302
    with merchant_context(merchant.pk):
        assert Store.objects.get(name="Neu").share_with_wholesaler is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vat_id": "DE123456789"}, "DE123456789 is not a valid German VAT id: its check digit is wrong."),
        ({"tax_number": "12/34"}, "12/34 is not a tax number: 10, 11 or 13 digits, like 21/815/08150."),
        ({"hours_mon": "7am to 10pm"}, "&#x27;7am to 10pm&#x27; is not opening hours like 07:00–22:00."),
        ({"timezone": "Mars/Olympus"}, "Select a valid choice. Mars/Olympus is not one of the available choices."),
        ({"country": "Germany"}, "Use the two-letter country code, such as DE."),
        ({"name": ""}, "This field is required."),
        ({"name": "Parkweg"}, "This merchant already has a store with that name."),
    ],
)
def test_bad_settings_show_the_page_with_the_error_and_change_nothing(
    merchant: Merchant, store: Store, owner: Any, changes: dict[str, str], message: str
) -> None:
    with merchant_context(merchant.pk):
        Store.objects.create(merchant=merchant, name="Parkweg", code="PARKWEG1")
    before = _stores()
    response = _client(owner).post(f"/m/{merchant.slug}/stores/{store.pk}/", _form(**changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Nothing was saved: correct the fields marked below." in body
    assert _stores() == before


def test_the_owner_adds_a_store_with_its_own_code(merchant: Merchant, store: Store, owner: Any) -> None:
    response = _client(owner).post(
        f"/m/{merchant.slug}/stores/new/",
        _form(name="Bahnhof", street="Bahnhofsplatz 2", postal_code="10557", currency="EUR", vat_id="DE123456788"),
        follow=True,
    )
    with merchant_context(merchant.pk):
        added = Store.objects.get(name="Bahnhof")
    assert f"Bahnhof added. Its shopper code is {added.code}." in response.content.decode()
    assert (added.address, added.timezone, added.currency, added.vat_id) == (
        "Bahnhofsplatz 2, 10557 Berlin",
        "Europe/Berlin",
        "EUR",
        "DE123456788",
    )
    assert added.code != store.code
    # A bad new store: the page again, and no store.
    before = _stores()
    refused = _client(owner).post(f"/m/{merchant.slug}/stores/new/", _form(name="Dritte", currency="XXX"))
    assert refused.status_code == 400
    assert "Select a valid choice. XXX is not one of the available choices." in refused.content.decode()
    assert _stores() == before


@pytest.mark.parametrize("role", ["manager", "clerk"])
def test_only_the_owner_edits_or_adds_stores(
    role: str, merchant: Merchant, store: Store, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(role))
    before = _stores()
    edit, new = f"/m/{merchant.slug}/stores/{store.pk}/", f"/m/{merchant.slug}/stores/new/"
    for url in (edit, new):
        assert client.get(url).status_code == 403
        refused = client.post(url, _form(name="Taken over", currency="EUR"))
        assert refused.status_code == 403
        assert "Only the owner can change the shop&#x27;s settings." in refused.content.decode()
    assert _stores() == before
    # The stores list offers them neither.
    listing = client.get(f"/m/{merchant.slug}/stores/").content.decode()
    assert edit not in listing
    assert new not in listing


def test_another_merchants_store_is_404_and_unchanged(
    merchant: Merchant, store: Store, other_store: Store, owner: Any, other_owner: Any
) -> None:
    before = _stores()
    client = _client(owner)
    # Their store under our slug, and our store under their slug.
    assert client.get(f"/m/{merchant.slug}/stores/{other_store.pk}/").status_code == 404
    assert client.post(f"/m/{merchant.slug}/stores/{other_store.pk}/", _form(name="Mine now")).status_code == 404
    other = _client(other_owner)
    for url in (f"/m/{merchant.slug}/stores/{store.pk}/", f"/m/{merchant.slug}/stores/new/"):
        assert other.get(url).status_code == 404
        assert other.post(url, _form(name="Mine now", currency="EUR")).status_code == 404
    assert _stores() == before


def test_the_service_refuses_another_merchants_store(merchant: Merchant, other_store: Store) -> None:
    before = _stores()
    with pytest.raises(Store.DoesNotExist):
        store_update(merchant=merchant, store_id=other_store.pk, settings=StoreSettings(name="Mine now"))
    assert _stores() == before


def test_only_a_new_time_zone_enqueues_the_rebuild_of_the_stores_rollups(
    merchant: Merchant, store: Store, django_capture_on_commit_callbacks: Any
) -> None:
    same = StoreSettings(name=store.name, timezone="Europe/Berlin", city="Berlin")
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = store_update(merchant=merchant, store_id=store.pk, settings=same)
    assert (outcome.is_timezone_changed, callbacks) == (False, [])
    moved = StoreSettings(name=store.name, timezone="Europe/Lisbon", city="Lisboa", country="PT")
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = store_update(merchant=merchant, store_id=store.pk, settings=moved)
    assert outcome.is_timezone_changed is True
    # Through the outbox: a row of the change's own transaction, published after commit (or by the relay).
    assert len(callbacks) == 1
    message = OutboxMessage.objects.get(pk=callbacks[0].keywords["message_id"])
    assert (message.task, message.args) == ("analytics.tasks.store_rollups_rebuild", [merchant.pk, store.pk])


def test_the_rebuild_recounts_the_stores_days_in_its_new_time_zone(
    merchant: Merchant, store: Store, clerk: Any
) -> None:
    from analytics.services.facts import facts_sweep
    from analytics.tasks import store_rollups_rebuild
    from tests.analytics.history import history_make
    from tests.analytics.test_facts import product_days

    history = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    cola = history.cola.pk
    # Order d: 22:30 UTC on 11 June, which is 00:30 on the 12th in Berlin.
    assert product_days(store)[(cola, date(2026, 6, 12))]["units"] == 1
    store_update(
        merchant=merchant, store_id=store.pk, settings=StoreSettings(name=store.name, timezone="UTC", city="Berlin")
    )
    assert store_rollups_rebuild(merchant.pk, store.pk) == 11
    days = product_days(store)
    assert days[(cola, date(2026, 6, 11))]["units"] == 1  # 22:30 on the 11th in UTC
    assert "units" not in days[(cola, date(2026, 6, 12))]
    # Another merchant's id pair rebuilds nothing.
    assert store_rollups_rebuild(merchant.pk + 1000, store.pk) == 0


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_new_time_zone_saved_on_the_page_has_a_real_worker_recount_the_days(
    merchant: Merchant, store: Store, owner: Any, clerk: Any
) -> None:
    from analytics.services.facts import facts_sweep
    from tests.analytics.history import history_make
    from tests.analytics.test_facts import product_days
    from tests.worker import celery_worker, wait_for

    history = history_make(store, clerk)
    facts_sweep(hours=24 * 3650, settle_seconds=0, limit=1000)
    cola = history.cola.pk
    assert "units" not in product_days(store).get((cola, date(2026, 6, 11)), {})
    with celery_worker(queues="analytics") as worker:
        response = _client(owner).post(f"/m/{merchant.slug}/stores/{store.pk}/", _form(timezone="UTC"), follow=True)
        assert "Its analytics are being recounted in the new time zone" in response.content.decode()
        # Order d, paid at 22:30 UTC on 11 June, moves from Berlin's 12th to the 11th.
        assert wait_for(lambda: product_days(store).get((cola, date(2026, 6, 11)), {}).get("units") == 1), worker.stderr
    assert "units" not in product_days(store)[(cola, date(2026, 6, 12))]
