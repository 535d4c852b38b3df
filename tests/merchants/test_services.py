"""Store creation and its validation: bad input changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from merchants.models import Merchant, Store
from merchants.services import store_create
from merchants.tenancy import merchant_context

pytestmark = pytest.mark.django_db


def test_a_store_gets_a_readable_unique_code(merchant: Merchant) -> None:
    first = store_create(merchant=merchant, name="One", timezone_name="Europe/Berlin")
    second = store_create(merchant=merchant, name="Two", timezone_name="Europe/Berlin")
    assert first.code != second.code
    assert len(first.code) == 6
    assert not set(first.code) & set("01IO")  # nothing to misread on a poster


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone_name", "Mars/Olympus", "not a known time zone"),
        ("currency", "euro", "three-letter ISO 4217"),
        ("opening_hours", {"monday": [["07:00", "22:00"]]}, "not a weekday"),
        ("opening_hours", {"mon": [["7am", "22:00"]]}, "not an interval"),
        ("opening_hours", {"mon": [["09:00", "09:00"]]}, "not an interval"),
    ],
)
def test_bad_store_input_is_refused_with_a_message_and_nothing_is_written(
    merchant: Merchant, field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        store_create(merchant=merchant, name="Bad", **{field: value})  # type: ignore[arg-type]
    with merchant_context(merchant.pk):
        assert not Store.objects.exists()


def test_a_duplicate_store_name_is_refused(merchant: Merchant) -> None:
    store_create(merchant=merchant, name="Same")
    with pytest.raises(ValidationError, match="already has a store with that name"):
        store_create(merchant=merchant, name="Same")
    with merchant_context(merchant.pk):
        assert Store.objects.count() == 1


def test_overnight_opening_hours_are_accepted(merchant: Merchant) -> None:
    store = store_create(merchant=merchant, name="Late", opening_hours={"fri": [["18:00", "02:00"]]})
    assert store.opening_hours == {"fri": [["18:00", "02:00"]]}


def test_a_store_found_by_code_is_remembered_for_a_few_seconds_only(
    store: Store, settings, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from merchants import selectors

    selectors._stores_by_code.clear()
    settings.SHOPPER_STORE_CACHE_SECONDS = 60
    first = selectors.store_get_by_code(code=store.code.lower())
    with django_assert_num_queries(0):
        again = selectors.store_get_by_code(code=store.code)
    assert (again.pk, again.merchant.pk) == (store.pk, store.merchant_id)
    again.name = "changed by a caller"
    assert selectors.store_get_by_code(code=store.code).name == first.name  # callers get copies
    # Once the time is up the database is asked again and sees a closed store.
    with merchant_context(store.merchant.pk):
        Store.objects.filter(pk=store.pk).update(is_active=False)
    code = store.code
    selectors._stores_by_code[code] = (0.0, selectors._stores_by_code[code][1])
    with pytest.raises(Http404):
        selectors.store_get_by_code(code=code)
    # Unknown codes are never remembered (nothing to fill memory with).
    with pytest.raises(Http404):
        selectors.store_get_by_code(code="NOPE")
    assert "NOPE" not in selectors._stores_by_code
    selectors._stores_by_code.clear()
