"""The stock ledger: on-hand always equals the sum of movements, whatever runs at once."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from catalog.models import MovementKind, StockMovement, StoreProduct
from catalog.selectors import ledger_violations
from catalog.services.stock import Move, StockError, stock_adjust, stock_move, stock_moves
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _on_hand(merchant: Merchant, item: StoreProduct) -> int:
    with merchant_context(merchant.pk):
        return StoreProduct.objects.get(pk=item.pk).on_hand


def test_a_movement_moves_on_hand_and_is_kept(merchant: Merchant, store: Store, owner) -> None:  # type: ignore[no-untyped-def]
    item = StoreProductFactory(store=store)
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=24, created_by=owner)
    movement = stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.SALE, quantity=-3)
    assert _on_hand(merchant, item) == 21
    assert movement.on_hand_after == 21
    assert movement.is_flagged_negative is False


def test_a_sale_may_go_below_zero_and_is_flagged(merchant: Merchant, store: Store) -> None:
    item = StoreProductFactory(store=store)
    movement = stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.SALE, quantity=-2)
    assert movement.on_hand_after == -2
    assert movement.is_flagged_negative is True
    assert _on_hand(merchant, item) == -2


def test_an_adjustment_below_zero_is_refused_and_changes_nothing(merchant: Merchant, store: Store) -> None:
    item = StoreProductFactory(store=store)
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=2)
    with pytest.raises(StockError, match="Only 2 on hand"):
        stock_adjust(merchant=merchant, store_product_id=item.pk, quantity=-3, reason="theft")
    assert _on_hand(merchant, item) == 2
    with merchant_context(merchant.pk):
        assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "quantity", "reason", "message"),
    [
        (MovementKind.ADJUSTMENT, -1, "", "Give a reason"),
        (MovementKind.SALE, 2, "", "removes stock"),
        (MovementKind.RECEIPT, -2, "", "adds stock"),
        (MovementKind.ADJUSTMENT, 0, "other", "other than zero"),
        (MovementKind.ADJUSTMENT, 1, "because", "Unknown reason"),
    ],
)
def test_bad_movements_get_a_message_and_change_nothing(
    merchant: Merchant, store: Store, kind: str, quantity: int, reason: str, message: str
) -> None:
    item = StoreProductFactory(store=store)
    with pytest.raises(ValidationError, match=message):
        stock_move(merchant=merchant, store_product_id=item.pk, kind=kind, quantity=quantity, reason=reason)
    assert _on_hand(merchant, item) == 0
    with merchant_context(merchant.pk):
        assert not StockMovement.objects.exists()


def test_a_multi_line_change_is_all_or_nothing(merchant: Merchant, store: Store) -> None:
    a, b = StoreProductFactory(store=store), StoreProductFactory(store=store)
    stock_move(merchant=merchant, store_product_id=a.pk, kind=MovementKind.RECEIPT, quantity=5)
    with pytest.raises(StockError):
        stock_moves(
            merchant=merchant, kind=MovementKind.WRITE_OFF, reason="damaged", moves=[Move(a.pk, -1), Move(b.pk, -1)]
        )
    assert (_on_hand(merchant, a), _on_hand(merchant, b)) == (5, 0)


def test_another_merchants_product_cannot_be_moved(merchant: Merchant, other_store: Store) -> None:
    foreign = StoreProductFactory(store=other_store)
    with pytest.raises(StockError, match="No such product"):
        stock_move(merchant=merchant, store_product_id=foreign.pk, kind=MovementKind.RECEIPT, quantity=5)
    assert _on_hand(other_store.merchant, foreign) == 0


@pytest.mark.django_db(transaction=True)
def test_a_thousand_concurrent_random_movements_keep_on_hand_equal_to_the_sum(merchant: Merchant) -> None:
    stores = [StoreFactory(merchant=merchant) for _ in range(2)]
    items = [StoreProductFactory(store=store) for store in stores for _ in range(5)]
    for item in items:
        stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=20)
    choices = [
        (MovementKind.SALE, -1, ""),
        (MovementKind.SALE, -3, ""),
        (MovementKind.REFUND, 1, ""),
        (MovementKind.RECEIPT, 12, ""),
        (MovementKind.ADJUSTMENT, -2, "theft"),
        (MovementKind.ADJUSTMENT, 1, "found"),
        (MovementKind.WRITE_OFF, -1, "expired"),
        (MovementKind.SHELF_CORRECTION, -1, ""),
    ]
    threads, per_thread = 10, 100
    applied = [0] * threads
    refused = [0] * threads
    errors: list[BaseException] = []

    def work(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(per_thread):
                kind, quantity, reason = rng.choice(choices)
                if rng.random() < 0.2:  # multi-line changes over overlapping products, random order
                    lines = rng.sample(items, 3)
                    try:
                        stock_moves(merchant=merchant, kind=MovementKind.SALE, moves=[Move(i.pk, -1) for i in lines])
                        applied[n] += 1
                    except StockError:
                        refused[n] += 1
                    continue
                try:
                    stock_move(
                        merchant=merchant,
                        store_product_id=rng.choice(items).pk,
                        kind=kind,
                        quantity=quantity,
                        reason=reason,
                    )
                    applied[n] += 1
                except StockError:
                    refused[n] += 1  # an adjustment that would go below zero
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sum(applied) + sum(refused) == threads * per_thread
    assert ledger_violations(merchant=merchant) == []
    with merchant_context(merchant.pk):
        # An adjustment that takes stock away may not leave it below zero; none slipped through.
        assert not StockMovement.objects.filter(
            kind__in=["adjustment", "write_off"], quantity__lt=0, on_hand_after__lt=0
        ).exists()
        assert StockMovement.objects.exclude(kind="receipt").count() >= sum(applied)


def test_adding_stock_is_allowed_while_on_hand_is_below_zero(merchant: Merchant, store: Store) -> None:
    item = StoreProductFactory(store=store)
    stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.SALE, quantity=-2)
    movement = stock_adjust(merchant=merchant, store_product_id=item.pk, quantity=1, reason="found")
    assert movement.on_hand_after == -1
    assert _on_hand(merchant, item) == -1
