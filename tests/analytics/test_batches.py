"""Facts applied in batches: the same cells as one at a time, each fact once under duplicate delivery and concurrent
drains, a batch in its own merchant's context only, and a store's rebuild still exclusive with a batch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from analytics.models import AppliedFact, FactsDue, PendingFact, ProductDay, SalesHour
from analytics.selectors.consistency import rollups_mismatches
from analytics.services.batches import fact_pend, facts_drain
from analytics.services.facts import fact_apply, facts_apply, store_lock
from catalog.models import ProductLookup, StoreProduct
from catalog.services.signals import product_lookup_record
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.analytics.conftest import code, phone_order, refund, stocked

pytestmark = pytest.mark.django_db


def cells(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with merchant_context(store.merchant_id):
        hours = list(SalesHour.objects.filter(store=store).order_by("pk").values_list(
            "local_date", "hour", "channel", "payment_method", "net_sales", "tax", "refunds", "transactions", "units"
        ))  # fmt: skip
        days = list(ProductDay.objects.filter(store=store).order_by("pk").values_list(
            "store_product_id", "local_date", "units", "net_sales", "refunds", "refunded_units", "price_lookups"
        ))  # fmt: skip
    return sorted(hours), sorted(days)


def facts_of(store: Store, cola: StoreProduct, crisps: StoreProduct) -> list[tuple[str, int]]:
    """Three orders on the same products (the same cells), two refunds of one, and two lookups."""
    first = phone_order(store, [(cola, 2), (crisps, 1)])
    second = phone_order(store, [(cola, 1)])
    third = phone_order(store, [(crisps, 3)])
    part = refund(first, 100)
    rest = refund(first, first.total - 100)
    product_lookup_record(store=store, code=code(cola), store_product=cola)
    product_lookup_record(store=store, code=code(cola), store_product=cola)
    with merchant_context(store.merchant_id):
        lookups = list(ProductLookup.objects.values_list("pk", flat=True))
    return [
        ("order", first.pk), ("order", second.pk), ("order", third.pk), ("refund", part.pk), ("refund", rest.pk),
        *(("lookup", pk) for pk in lookups),
    ]  # fmt: skip


def test_a_batch_adds_the_same_cells_as_one_fact_at_a_time(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    facts = facts_of(store, cola, crisps)
    with transaction.atomic():
        assert [fact_apply(merchant=store.merchant, kind=kind, key=key) for kind, key in facts] == [True] * 7
        one_at_a_time = cells(store)
        transaction.set_rollback(True)
    assert cells(store) == ([], [])
    assert facts_apply(merchant=store.merchant, facts=facts) == 7
    assert cells(store) == one_at_a_time
    hours, days = one_at_a_time
    # Several facts per cell in one statement: three orders, two refunds (to the cent), two lookups.
    assert [sum(row[i] for row in hours) for i in (4, 5, 6, 7, 8)] == [418 + 186 + 209 + 558, 172, 697, 3, 7]
    assert {row[0]: [sum(r[i] for r in days if r[0] == row[0]) for i in range(2, 7)] for row in days} == {
        cola.pk: [3, 627, 498, 2, 2],
        crisps.pk: [4, 744, 199, 1, 0],
    }
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0


def test_a_fact_delivered_again_in_a_later_batch_or_twice_in_one_counts_once(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    facts = facts_of(store, cola, crisps)
    assert facts_apply(merchant=store.merchant, facts=facts[:3] + facts[:1]) == 3
    before = cells(store)
    assert facts_apply(merchant=store.merchant, facts=facts[:3]) == 0
    assert cells(store) == before
    assert facts_apply(merchant=store.merchant, facts=facts) == 4
    with merchant_context(store.merchant_id):
        assert AppliedFact.objects.count() == 7
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0


def test_pending_facts_mark_the_merchant_once_and_a_drain_applies_them_and_clears_the_mark(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    facts = facts_of(store, cola, crisps)
    marks = [fact_pend(merchant_id=store.merchant_id, kind=kind, key=key) for kind, key in facts]
    # Only the first marks (and enqueues a drain); a duplicate delivery records nothing new.
    assert marks == [True] + [False] * 6
    assert fact_pend(merchant_id=store.merchant_id, kind="order", key=facts[0][1]) is False
    with merchant_context(store.merchant_id):
        assert PendingFact.objects.count() == 7
    assert facts_drain(merchant=store.merchant, limit=4) == (4, 4)
    with merchant_context(store.merchant_id):
        assert not FactsDue.objects.exists()  # deleted before the read: the next fact marks anew
        assert PendingFact.objects.count() == 3
    assert fact_pend(merchant_id=store.merchant_id, kind="order", key=facts[0][1]) is True
    assert facts_drain(merchant=store.merchant) == (4, 3)  # the fact delivered again is already applied
    assert facts_drain(merchant=store.merchant) == (0, 0)
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0


def test_a_batch_applies_only_its_own_merchants_facts_in_that_merchants_context(
    store: Store, other_store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    mine = facts_of(store, cola, crisps)
    foreign_item = stocked(other_store, 20, price=349)
    foreign = phone_order(other_store, [(foreign_item, 2)])
    # The other merchant's order, slipped into this merchant's batch: invisible in its context, not applied.
    assert facts_apply(merchant=store.merchant, facts=[*mine, ("order", foreign.pk)]) == 7
    assert fact_pend(merchant_id=store.merchant_id, kind="order", key=foreign.pk) is True
    assert facts_drain(merchant=store.merchant) == (1, 0)
    with merchant_context(other_store.merchant_id):
        assert not AppliedFact.objects.exists()
        assert not SalesHour.objects.exists()
        assert not ProductDay.objects.exists()
    with merchant_context(store.merchant_id):
        assert not AppliedFact.objects.filter(key=foreign.pk, kind="order").exists()
    # Its own merchant's drain does not see this merchant's pending facts either.
    fact_pend(merchant_id=store.merchant_id, kind="order", key=mine[0][1])
    assert facts_drain(merchant=other_store.merchant) == (0, 0)
    with merchant_context(store.merchant_id):
        assert PendingFact.objects.count() == 1
    assert facts_apply(merchant=other_store.merchant, facts=[("order", foreign.pk)]) == 1
    assert rollups_mismatches(merchant=other_store.merchant, store=other_store)[0] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_of_the_same_facts_apply_each_once(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    facts = facts_of(store, cola, crisps)
    merchant = Merchant.objects.get(pk=store.merchant_id)
    for kind, key in facts:
        fact_pend(merchant_id=merchant.pk, kind=kind, key=key)
    results: list[Any] = []
    start = threading.Barrier(4)

    def drain(number: int) -> None:
        try:
            start.wait()
            # Two drain the pending rows (each takes rows the other does not), two apply every fact at once.
            if number % 2:
                results.append(facts_drain(merchant=merchant, limit=3).applied)
            else:
                results.append(facts_apply(merchant=merchant, facts=facts))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(result, int) for result in results), results
    facts_drain(merchant=merchant)  # what the two drains left (none took more than 3)
    assert sum(results) <= 7
    with merchant_context(store.merchant_id):
        assert AppliedFact.objects.count() == 7
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_batch_waits_for_a_rebuild_of_its_store_and_then_adds_nothing_the_rebuild_counted(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    from django.db import connections

    from analytics.services.rebuild import rollups_rebuild

    facts = facts_of(store, cola, crisps)
    merchant = Merchant.objects.get(pk=store.merchant_id)
    done: list[Any] = []
    rebuilding = connections.create_connection("default")
    rebuilding.set_autocommit(False)
    with rebuilding.cursor() as cursor:
        store_lock(cursor, store.pk, exclusive=True)  # what a rebuild holds while it recomputes

        def batch() -> None:
            try:
                done.append(facts_apply(merchant=merchant, facts=facts))
            finally:
                connection.close()

        worker = threading.Thread(target=batch)
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive()  # waiting on the store's lock
        assert done == []
    rebuilding.rollback()
    rebuilding.close()
    worker.join(timeout=30)
    assert done == [7]
    # A real rebuild now recomputes the same cells; a batch after it applies nothing twice.
    with transaction.atomic():
        assert rollups_rebuild(merchant=merchant, store=store).facts == 7
    assert facts_apply(merchant=merchant, facts=facts) == 0
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_fact_recorded_while_a_drain_deletes_the_mark_is_read_by_that_drain(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    from django.db import transaction

    facts = facts_of(store, cola, crisps)
    merchant = Merchant.objects.get(pk=store.merchant_id)
    assert fact_pend(merchant_id=merchant.pk, kind=facts[0][0], key=facts[0][1]) is True
    recorded, release = threading.Event(), threading.Event()
    marks: list[bool] = []

    def record() -> None:
        try:
            with transaction.atomic():  # the fact's transaction, held open after it found the mark there
                marks.append(fact_pend(merchant_id=merchant.pk, kind=facts[1][0], key=facts[1][1]))
                recorded.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    fact = threading.Thread(target=record)
    fact.start()
    assert recorded.wait(timeout=30)
    drained: list[Any] = []

    def drain() -> None:
        try:
            drained.append(facts_drain(merchant=merchant))
        finally:
            connection.close()

    drainer = threading.Thread(target=drain)
    drainer.start()
    drainer.join(timeout=2)
    assert drainer.is_alive()  # deleting the mark waits for the fact's transaction
    release.set()
    fact.join(timeout=30)
    drainer.join(timeout=30)
    # The fact found the mark (no drain of its own enqueued), and the drain under way read it.
    assert marks == [False]
    assert drained == [(2, 2)]


def test_the_sweep_drains_a_merchant_whose_drain_was_lost_and_the_next_fact_marks_again(
    store: Store, cola: StoreProduct, crisps: StoreProduct
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from analytics.tasks import PENDING_STALE, facts_sweep

    facts = facts_of(store, cola, crisps)
    for kind, key in facts:
        fact_pend(merchant_id=store.merchant_id, kind=kind, key=key)
    # The drain enqueued by the first fact never ran (a broker that lost it): the mark stays, so no fact enqueues.
    assert fact_pend(merchant_id=store.merchant_id, kind="order", key=facts[0][1]) is False
    with merchant_context(store.merchant_id):
        PendingFact.objects.update(created_at=timezone.now() - PENDING_STALE - timedelta(seconds=1))
    assert facts_sweep() == 7
    with merchant_context(store.merchant_id):
        assert not PendingFact.objects.exists()
        assert not FactsDue.objects.exists()
        assert AppliedFact.objects.count() == 7
    assert fact_pend(merchant_id=store.merchant_id, kind="order", key=facts[0][1]) is True
    assert rollups_mismatches(merchant=store.merchant, store=store)[0] == 0
