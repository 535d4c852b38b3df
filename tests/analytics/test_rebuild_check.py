"""analytics_rebuild recomputes what the facts applied one by one made; analytics_check finds any cell that differs."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from analytics.models import AppliedFact, ProductDay, SalesHour
from analytics.services.facts import facts_sweep
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.analytics.history import History, history_make
from tests.analytics.test_facts import hours, product_days

pytestmark = pytest.mark.django_db

EVERYTHING = 24 * 3650  # hours back: the sweep applies the whole history


@pytest.fixture
def history(store: Store, clerk: Any) -> History:
    made = history_make(store, clerk)
    assert facts_sweep(hours=EVERYTHING, settle_seconds=0, limit=1000) == 11
    return made


def _check(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("analytics_check", *args, stdout=out)
    except SystemExit as exit:
        return out.getvalue(), int(exit.code or 0)
    return out.getvalue(), 0


def test_the_history_lands_where_its_clock_says(history: History) -> None:
    days = product_days(history.store)
    cola, crisps = history.cola.pk, history.crisps.pk
    # Written off at 10:00 on the 10th, delivered at 10:30 on the 11th (Berlin): 14 h, then 10.5 h at zero.
    assert days[(crisps, date(2026, 6, 10))]["minutes_out_of_stock"] == 840
    assert days[(crisps, date(2026, 6, 11))]["minutes_out_of_stock"] == 630
    # The camera saw the cola's slot empty from 22:00 to 04:00 local: 2 h on the 11th, 4 h on the 12th.
    assert days[(cola, date(2026, 6, 11))] == {"minutes_shelf_empty": 120, "price_lookups": 1, "refunds": 71}
    assert days[(cola, date(2026, 6, 12))] == {
        "minutes_shelf_empty": 240, "price_lookups": 1, "units": 1, "net_sales": 209,
        "refunds": 427, "refunded_units": 2,
    }  # fmt: skip


def test_a_rebuild_gives_back_exactly_what_the_facts_made_one_by_one(history: History) -> None:
    incremental = (hours(history.store), product_days(history.store))
    out = StringIO()
    call_command("analytics_rebuild", stdout=out)
    assert (hours(history.store), product_days(history.store)) == incremental
    assert "rebuilt 1 stores: 11 facts" in out.getvalue()
    # From a day on: the cells of earlier days stay, the later ones come back the same.
    with merchant_context(history.store.merchant_id):
        SalesHour.objects.filter(local_date__gte=date(2026, 6, 11)).update(net_sales=0)
        ProductDay.objects.update(minutes_out_of_stock=1)
    call_command("analytics_rebuild", "--store", str(history.store.pk), "--since", "2026-06-11", stdout=out)
    days = product_days(history.store)
    assert days[(history.crisps.pk, date(2026, 6, 11))]["minutes_out_of_stock"] == 630
    assert days[(history.crisps.pk, date(2026, 6, 10))]["minutes_out_of_stock"] == 1  # before --since: untouched
    assert hours(history.store) == incremental[0]
    with merchant_context(history.store.merchant_id):
        assert AppliedFact.objects.count() == 11


def test_the_check_prints_zero_then_finds_a_tampered_cell(history: History) -> None:
    assert _check() == ("0 mismatching cells\n", 0)
    with merchant_context(history.store.merchant_id):
        cell = SalesHour.objects.get(local_date=date(2026, 6, 10), hour=12)
        SalesHour.objects.filter(pk=cell.pk).update(net_sales=cell.net_sales + 1)
    out, status = _check()
    assert status == 1
    assert out.splitlines()[0] == "1 mismatching cells"
    assert "hour=12" in out
    assert "net_sales 605 (raw facts: 604)" in out
    assert _check("--since", "2026-06-11") == ("0 mismatching cells\n", 0)


def test_the_check_sees_a_fact_not_applied_and_a_cell_no_fact_explains(history: History) -> None:
    with merchant_context(history.store.merchant_id):
        AppliedFact.objects.filter(kind="lookup").delete()
        ProductDay.objects.filter(price_lookups__gt=0).update(price_lookups=0)
        SalesHour.objects.create(
            merchant=history.store.merchant, store=history.store, local_date=date(2026, 6, 1), hour=3,
            channel="shopper", payment_method="online_card", units=1,
        )  # fmt: skip
    out, status = _check("--store", str(history.store.pk))
    assert (out.splitlines()[0], status) == ("3 mismatching cells", 1)
    call_command("analytics_rebuild", "--store", str(history.store.pk), stdout=StringIO())
    assert _check() == ("0 mismatching cells\n", 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "999999"], "No store with id 999999."),
        (["--since", "2026-13-01"], "--since '2026-13-01' is not a date; give it as YYYY-MM-DD."),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(args: list[str], message: str) -> None:
    for command in ("analytics_rebuild", "analytics_check"):
        with pytest.raises(CommandError, match=message.replace("(", r"\(")):
            call_command(command, *args, stdout=StringIO())
