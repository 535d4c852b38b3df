"""The inventory target's ceiling: true demand with promotions seen or known ahead, against min/max."""

import datetime
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ordering.forecasting.bound import (
    CEILING_MARGIN,
    LOWEST_FILL,
    knowledge_rule,
    known_means,
    minmax_curve,
    minmax_value_at,
    saving_bound,
)
from ordering.forecasting.evaluate import HOLDOUT, forecasts_roll, policy_rule, simulate
from ordering.forecasting.history import History, history_read_csv, history_write_csv
from ordering.forecasting.simulate import history_simulate


@pytest.fixture(scope="module")
def history():
    return history_simulate(stores=3, products=40, days=150, seed=11)


def _one_series(promotion: np.ndarray) -> History:
    days = len(promotion)
    return History(
        units=np.zeros((1, days)),
        on_hand=np.full((1, days), 5.0),
        case_pack=np.array([1]),
        lead_time_days=np.array([1]),
        unit_cost=np.array([1.0]),
        category=np.array([0]),
        stores=["S"],
        skus=["P"],
        store_index=np.array([0]),
        sku_index=np.array([0]),
        start=datetime.date(2025, 1, 6),
        expected=promotion[None, :].copy(),
        noise_shape=np.array([3.0]),
        promotion=promotion[None, :].copy(),
    )


def test_a_promotion_is_seen_from_its_second_day_to_the_end_of_its_week():
    # A usual rate of 1; a 2× promotion in the second week, then a 3× one in the third.
    promotion = np.ones(28)
    promotion[7:14] = 2.0
    promotion[14:21] = 3.0
    history = _one_series(promotion)
    assert known_means(history, 7, 3, promotions="seen")[0].tolist() == [1, 1, 1]  # starts today: a surprise
    assert known_means(history, 8, 3, promotions="seen")[0].tolist() == [2, 2, 2]
    assert known_means(history, 13, 3, promotions="seen")[0].tolist() == [2, 1, 1]  # next week's is not known
    assert known_means(history, 15, 2, promotions="seen")[0].tolist() == [3, 3]
    assert known_means(history, 21, 2, promotions="seen")[0].tolist() == [1, 1]
    assert known_means(history, 7, 3, promotions="ahead")[0].tolist() == [2, 2, 2]
    assert known_means(history, 13, 3, promotions="ahead")[0].tolist() == [2, 3, 3]


def test_the_bound_needs_a_simulated_history_and_a_known_knowledge(history):
    with pytest.raises(ValueError, match="one of"):
        known_means(history, 100, 2, promotions="guessed")
    handle = io.StringIO()
    history_write_csv(history, handle)
    from_csv = history_read_csv(io.StringIO(handle.getvalue()))
    with pytest.raises(ValueError, match="simulated history"):
        knowledge_rule(from_csv, promotions="seen", risk=0.002, exponent=0.5)


def test_knowing_promotions_ahead_orders_more_the_day_before_they_start_and_the_same_elsewhere(history):
    days = history.units.shape[1]
    first = days - HOLDOUT
    day = next(d for d in range(first, days - 1) if d % 7 == 6 and (history.promotion[:, d + 1] > 1).any())
    k = day - first
    n = history.units.shape[0]
    empty = np.zeros(n)
    seen = knowledge_rule(history, promotions="seen", risk=0.002, exponent=0.5)(k, empty, empty)
    ahead = knowledge_rule(history, promotions="ahead", risk=0.002, exponent=0.5)(k, empty, empty)
    starting = (history.promotion[:, day + 1] > 1) & (history.promotion[:, day] == 1)
    calm = (history.promotion[:, day : day + 4] == 1).all(axis=1)
    assert ahead[starting].sum() > seen[starting].sum()
    assert np.array_equal(ahead[calm], seen[calm])
    assert (ahead % history.case_pack == 0).all()


def test_saving_bound_compares_below_the_minmax_ceiling(history):
    policy = simulate(history, policy_rule(history, forecasts_roll(history)))
    result = saving_bound(history, policy=policy)
    curve = minmax_curve(history)
    assert result["minmax_ceiling"] == curve[:, 0].max()
    assert result["compared_up_to"] == round(result["minmax_ceiling"] - CEILING_MARGIN, 4)
    for knowledge in ("seen", "ahead"):
        points = result[knowledge]["points"]
        assert points, knowledge
        assert all(LOWEST_FILL <= p["fill_rate"] <= result["compared_up_to"] for p in points)
        assert [p["fill_rate"] for p in points] == sorted(p["fill_rate"] for p in points)
        assert result[knowledge]["best"]["saving"] == max(p["saving"] for p in points)
    # True demand known ahead holds less stock than min/max at the same fill rate.
    assert result["ahead"]["best"]["saving"] > 0
    expected = 1 - policy["avg_inventory_value"] / minmax_value_at(curve, policy["fill_rate"])
    assert result["policy"]["saving"] == round(expected, 4)


def test_minmax_value_is_read_between_the_safety_factors_around_a_fill_rate():
    curve = np.array([[0.90, 100.0], [0.98, 200.0], [0.95, 150.0]])
    assert minmax_value_at(curve, 0.965) == pytest.approx(175.0)
    assert minmax_value_at(curve, 0.95) == pytest.approx(150.0)


def test_bound_command():
    out = io.StringIO()
    call_command("replenishment_bound", "--stores", "3", "--products", "30", "--days", "120", "--seed", "5", "--json",
                 stdout=out)  # fmt: skip
    result = json.loads(out.getvalue())
    assert result["seed"] == 5
    assert result["series"] == 90
    assert {"minmax_ceiling", "compared_up_to", "seen", "ahead", "policy"} <= set(result)
    text = io.StringIO()
    call_command(
        "replenishment_bound", "--stores", "3", "--products", "30", "--days", "120", "--seed", "5", stdout=text
    )
    assert "true demand, promotions seen" in text.getvalue()
    with pytest.raises(CommandError, match="at least 84"):
        call_command("replenishment_bound", "--days", "60")
