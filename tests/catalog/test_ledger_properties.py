"""Property test: any sequence of ledger operations keeps on-hand equal to the sum of movements."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from catalog.models import AdjustmentReason, MovementKind, StoreProduct
from catalog.selectors import ledger_violations
from catalog.services.stock import Move, StockError, stock_adjust, stock_move, stock_moves
from merchants.tenancy import merchant_context
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# 1,000 sequences in CI (LINGSHOU_HYPOTHESIS_EXAMPLES=1000 in .ci/run), fewer on a laptop.
EXAMPLES = int(os.environ.get("LINGSHOU_HYPOTHESIS_EXAMPLES", "150"))


class Ledger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = StoreFactory()
        self.merchant = self.store.merchant
        self.items = [StoreProductFactory(store=self.store) for _ in range(3)]
        self.expected = {item.pk: 0 for item in self.items}

    def _pk(self, index: int) -> int:
        return self.items[index % len(self.items)].pk

    @rule(index=st.integers(0, 2), units=st.integers(1, 30))
    def receive(self, index: int, units: int) -> None:
        stock_move(merchant=self.merchant, store_product_id=self._pk(index), kind=MovementKind.RECEIPT, quantity=units)
        self.expected[self._pk(index)] += units

    @rule(index=st.integers(0, 2), units=st.integers(1, 5))
    def sell(self, index: int, units: int) -> None:
        stock_move(merchant=self.merchant, store_product_id=self._pk(index), kind=MovementKind.SALE, quantity=-units)
        self.expected[self._pk(index)] -= units  # a sale may go below zero (flagged)

    @rule(index=st.integers(0, 2), units=st.integers(1, 3))
    def refund(self, index: int, units: int) -> None:
        stock_move(merchant=self.merchant, store_product_id=self._pk(index), kind=MovementKind.REFUND, quantity=units)
        self.expected[self._pk(index)] += units

    @rule(
        index=st.integers(0, 2),
        units=st.integers(-10, 10).filter(bool),
        reason=st.sampled_from(AdjustmentReason.values),
    )
    def adjust(self, index: int, units: int, reason: str) -> None:
        pk = self._pk(index)
        try:
            stock_adjust(merchant=self.merchant, store_product_id=pk, quantity=units, reason=reason)
        except StockError:
            # Refused only when it takes stock away and would leave it below zero.
            assert units < 0
            assert self.expected[pk] + units < 0
            return
        assert units > 0 or self.expected[pk] + units >= 0
        self.expected[pk] += units

    @rule(indexes=st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True))
    def sell_basket(self, indexes: list[int]) -> None:
        stock_moves(merchant=self.merchant, kind=MovementKind.SALE, moves=[Move(self._pk(i), -1) for i in indexes])
        for i in indexes:
            self.expected[self._pk(i)] -= 1

    @invariant()
    def on_hand_is_the_sum_of_movements(self) -> None:
        with merchant_context(self.merchant.pk):
            actual = dict(StoreProduct.objects.filter(pk__in=self.expected).values_list("pk", "on_hand"))
            assert ledger_violations(merchant=self.merchant) == []
        assert actual == self.expected


Ledger.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_ledger_sequences = Ledger.TestCase
