"""Suggested orders: order-up-to levels, whole cases, shelf capacity, order value and the sentence."""

import datetime
import itertools

import numpy as np
import pytest

from ordering.forecasting import (
    Forecast,
    Suggestion,
    line_explain,
    order_suggest,
    order_value_adjust,
    top_up_explain,
)
from ordering.forecasting.policy import demand_quantile


def flat(rate: float | list[float], *, horizon: int = 14) -> Forecast:
    """A forecast of ``rate`` a day with a Poisson-wide error (so demand over k days is Poisson)."""
    rates = np.atleast_1d(np.asarray(rate, dtype=float))
    return Forecast(mean=np.repeat(rates[:, None], horizon, axis=1), sigma=np.sqrt(rates), method="test")


def suggest(forecast: Forecast, **overrides: object):
    arguments: dict[str, object] = {
        "on_hand": 3, "on_order": 0, "case_pack": 1, "lead_time_days": 1, "days_to_next_delivery": 1,
        "service_level": 0.95, "shelf_capacity": np.nan, "unit_cost": 1.0,
    }  # fmt: skip
    arguments.update(overrides)
    return order_suggest(forecast, **arguments)  # type: ignore[arg-type]


def test_order_up_to_covers_lead_time_and_next_delivery_at_the_service_level():
    # 2 a day over 1 + 1 days is Poisson(4); its 95% quantile is 8; 3 on hand → order 5 units.
    result = suggest(flat(2.0))
    assert result.order_up_to.tolist() == [8.0]
    assert result.quantity.tolist() == [5]
    assert result.daily_demand.tolist() == [pytest.approx(2.0)]
    assert result.safety_stock.tolist() == [pytest.approx(4.0)]
    # What is already on order counts.
    assert suggest(flat(2.0), on_order=5).quantity.tolist() == [0]
    # A longer lead time covers more days: Poisson(2·(3+1)=8) at 95% is 13.
    assert suggest(flat(2.0), lead_time_days=3).order_up_to.tolist() == [13.0]


def test_quantities_are_whole_cases():
    # Case of 6 lasts three deliveries, so the reorder point carries √3 × 5% ≈ 8.7% risk:
    # Poisson(4) at 91.3% is 7; 3 on hand → 4 needed → one case of 6.
    result = suggest(flat(2.0), case_pack=6)
    assert result.order_up_to.tolist() == [7.0]
    assert result.quantity.tolist() == [6]
    many = suggest(flat([0.2, 1.0, 3.0, 8.0, 20.0]), case_pack=[6, 12, 6, 24, 10], on_hand=0)
    assert np.all(many.quantity % np.array([6, 12, 6, 24, 10]) == 0)
    assert np.all(many.quantity >= many.order_up_to)


def test_shelf_capacity_caps_the_order():
    # 3 on hand, 2 sold before the delivery arrives: 1 left, so a shelf of 6 has no room for a
    # case of 6 while a shelf of 8 has room for one.
    tight = suggest(flat(2.0), case_pack=6, shelf_capacity=6)
    assert tight.quantity.tolist() == [0]
    assert tight.capped is not None
    assert tight.capped.tolist() == [True]
    roomy = suggest(flat(2.0), case_pack=6, shelf_capacity=8)
    assert roomy.quantity.tolist() == [6]
    assert roomy.capped is not None
    assert roomy.capped.tolist() == [False]
    unknown = suggest(flat(20.0), case_pack=6, shelf_capacity=np.nan)
    assert unknown.quantity[0] > 30


def test_higher_service_level_never_orders_less():
    rng = np.random.default_rng(7)
    rates = rng.gamma(0.7, 2.0, 500)
    forecast = Forecast(
        mean=np.repeat(rates[:, None], 14, axis=1), sigma=np.sqrt(rates) * rng.uniform(1, 2, 500), method="test"
    )
    common = {
        "on_hand": rng.integers(0, 20, 500), "on_order": 0, "case_pack": rng.choice([1, 6, 12], 500),
        "lead_time_days": rng.integers(1, 4, 500), "days_to_next_delivery": 2, "shelf_capacity": np.nan,
        "unit_cost": rng.uniform(0.5, 5, 500),
    }  # fmt: skip
    levels = [order_suggest(forecast, service_level=level, **common) for level in (0.8, 0.9, 0.95, 0.99)]  # type: ignore[arg-type]
    for lower, higher in itertools.pairwise(levels):
        assert np.all(higher.order_up_to >= lower.order_up_to)
        assert np.all(higher.quantity >= lower.quantity)
    assert levels[-1].quantity.sum() > levels[0].quantity.sum()


def test_slow_sellers_get_a_discrete_stock_not_a_normal_quantile():
    # 0.1 a day over two days: a normal quantile would ask for 0.2 + 1.645·0.45 ≈ 0.9 units;
    # the honest answer at 95% is one unit on the shelf.
    level = demand_quantile(np.array([0.2]), np.array([0.2]), np.array([0.95]))
    assert level.tolist() == [1.0]
    # Overdispersed demand (variance 4× mean) needs more than Poisson at the same level.
    assert demand_quantile(np.array([4.0]), np.array([16.0]), np.array([0.95]))[0] > 8


def cents(value: float) -> str:
    return f"{value / 100:.2f} €"


def test_free_delivery_top_up_adds_cases_of_the_lines_that_run_out_first_when_keeping_them_costs_less_than_the_fee():
    suggestion = Suggestion(
        quantity=np.array([6, 0, 0]), order_up_to=np.zeros(3), safety_stock=np.zeros(3),
        daily_demand=np.array([1.0, 2.0, 0.1]),
    )  # fmt: skip
    adjusted, notes = order_value_adjust(
        suggestion, unit_cost=200, case_pack=6, minimum_order_value=3000, free_delivery_threshold=4000,
        delivery_fee=500, on_hand=np.array([10, 2, 1]), money=cents,
    )  # fmt: skip
    # The second line lasts one day, so its cases come first until the order passes 40 €.
    assert adjusted.quantity.tolist() == [6, 18, 0]
    assert adjusted.topped_up is not None
    assert adjusted.topped_up.tolist() == [0, 18, 0]
    # Each case of 12 € is kept for the days the line lasts without it: 1, 4 and 7 days, at 25 % a year.
    held = 1200 * 0.25 * (1 + 4 + 7) / 365
    assert adjusted.holding_cost is not None
    assert adjusted.holding_cost.tolist() == pytest.approx([0, held, 0])
    assert notes == [
        "added 3 cases (36.00 €) of the lines that run out soonest to reach free delivery at 40.00 €: saves the "
        "5.00 € delivery fee, and keeping the extra stock until it sells costs about 0.10 € (25 % a year of its cost)"
    ]


def test_no_top_up_when_keeping_the_stock_costs_more_than_the_delivery_fee():
    # A slow seller: the case that would reach free delivery lasts 160 days on the shelf.
    suggestion = Suggestion(
        quantity=np.array([6]), order_up_to=np.zeros(1), safety_stock=np.zeros(1), daily_demand=np.array([0.1])
    )
    adjusted, notes = order_value_adjust(
        suggestion, unit_cost=1000, case_pack=6, minimum_order_value=0, free_delivery_threshold=10000,
        delivery_fee=100, on_hand=10, money=cents,
    )  # fmt: skip
    assert adjusted.quantity.tolist() == [6]
    assert adjusted.topped_up is not None
    assert adjusted.topped_up.tolist() == [0]
    assert notes == [
        "free delivery at 100.00 € would take 1 more case (60.00 €); keeping them until they sell would cost "
        "about 6.58 €, more than the 1.00 € delivery fee it saves, so none were added"
    ]
    # The same case against a fee of 10 €: worth it.
    topped, _ = order_value_adjust(
        suggestion, unit_cost=1000, case_pack=6, minimum_order_value=0, free_delivery_threshold=10000,
        delivery_fee=1000, on_hand=10, money=cents,
    )  # fmt: skip
    assert topped.quantity.tolist() == [12]


def test_no_top_up_without_a_delivery_fee_to_save():
    suggestion = Suggestion(
        quantity=np.array([6]), order_up_to=np.zeros(1), safety_stock=np.zeros(1), daily_demand=np.array([1.0])
    )
    adjusted, notes = order_value_adjust(
        suggestion, unit_cost=200, case_pack=6, minimum_order_value=0, free_delivery_threshold=4000, on_hand=2
    )
    assert adjusted.quantity.tolist() == [6]
    assert notes == []


def test_minimum_order_value_not_reached_is_said():
    suggestion = Suggestion(
        quantity=np.array([6, 0]), order_up_to=np.zeros(2), safety_stock=np.zeros(2), daily_demand=np.array([1.0, 0.5])
    )
    adjusted, notes = order_value_adjust(
        suggestion, unit_cost=2.0, case_pack=6, minimum_order_value=30, free_delivery_threshold=None
    )
    assert adjusted.quantity.tolist() == [6, 0]
    assert notes == [
        "order value 12.00 is below the minimum order value 30.00: the wholesaler will not deliver it as it is"
    ]
    _, nothing = order_value_adjust(
        Suggestion(quantity=np.zeros(2, dtype=int), order_up_to=np.zeros(2), safety_stock=np.zeros(2),
                   daily_demand=np.zeros(2)),
        unit_cost=2.0, case_pack=6, minimum_order_value=30, free_delivery_threshold=40,
    )  # fmt: skip
    assert nothing == ["nothing to order"]


def test_a_top_up_that_cannot_reach_free_delivery_adds_nothing():
    # The shelf holds one more case, which would not reach free delivery: it would save no fee.
    suggestion = Suggestion(
        quantity=np.array([6]), order_up_to=np.zeros(1), safety_stock=np.zeros(1), daily_demand=np.array([1.0])
    )
    adjusted, notes = order_value_adjust(
        suggestion, unit_cost=200, case_pack=6, minimum_order_value=0, free_delivery_threshold=10000,
        delivery_fee=500, on_hand=2, shelf_capacity=14, money=cents,
    )  # fmt: skip
    assert adjusted.quantity.tolist() == [6]
    assert adjusted.topped_up is not None
    assert adjusted.topped_up.tolist() == [0]
    assert notes == [
        "below free delivery at 100.00 €: not enough lines have room for more, so the 5.00 € delivery fee applies"
    ]


def test_a_topped_up_line_says_how_its_top_up_was_judged():
    sentence = line_explain(
        daily_demand=2.0, on_hand=2, quantity=24, case_pack=12, next_delivery="Friday",
        top_up=top_up_explain(cases=1, holding_cost=3.3, top_up_holding_cost=9.9, delivery_fee=1490, money=cents),
    )  # fmt: skip
    assert sentence == (
        "sells 2.0 a day, 2 on hand, next delivery Friday: 2 cases of 12, 1 case of them for free delivery: "
        "about 0.03 € to keep until it sells (the whole top-up about 0.10 €), below the 14.90 € delivery fee it saves"
    )
    # The only line topped up: its cost is the whole top-up's.
    assert top_up_explain(cases=2, holding_cost=9.9, top_up_holding_cost=9.9, delivery_fee=1490, money=cents) == (
        "2 cases of them for free delivery: about 0.10 € to keep until they sell, below the 14.90 € delivery fee "
        "it saves"
    )


def test_explanation_sentences():
    assert (
        line_explain(daily_demand=2.14, on_hand=3, quantity=12, case_pack=12, next_delivery="Thursday")
        == "sells 2.1 a day, 3 on hand, next delivery Thursday: 1 case of 12"
    )
    assert (
        line_explain(daily_demand=0.3, on_hand=14, on_order=6, quantity=0, case_pack=6,
                     next_delivery=datetime.date(2026, 11, 27))
        == "sells 0.3 a day, 14 on hand, 6 on order, next delivery Friday: nothing to order"
    )  # fmt: skip
    assert (
        line_explain(daily_demand=7.0, on_hand=0, quantity=24, case_pack=12, next_delivery="Monday", capped=True,
                     shelf_capacity=30)
        == "sells 7.0 a day, 0 on hand, next delivery Monday: 2 cases of 12 (the shelf holds 30)"
    )  # fmt: skip
    assert (
        line_explain(daily_demand=0.01, on_hand=1, quantity=5, case_pack=1, next_delivery="Tuesday")
        == "sells less than 0.1 a day, 1 on hand, next delivery Tuesday: 5 units"
    )
    assert (
        line_explain(daily_demand=5.2, on_hand=3, quantity=24, case_pack=12, next_delivery="Friday", chain_lift=2.14)
        == "sells 5.2 a day (2.1× the usual across your stores), 3 on hand, next delivery Friday: 2 cases of 12"
    )
    # A small lift is noise, not news.
    assert "usual" not in line_explain(
        daily_demand=5.2, on_hand=3, quantity=24, case_pack=12, next_delivery="Friday", chain_lift=1.2
    )


def test_store_without_history_gets_no_order_and_no_error():
    from ordering.forecasting import demand_forecast

    empty = np.full((3, 30), np.nan)
    forecast = demand_forecast(empty, np.zeros_like(empty, dtype=bool), first_weekday=0, horizon=5)
    assert forecast.mean.tolist() == [[0.0] * 5] * 3
    result = order_suggest(
        forecast, on_hand=0, on_order=0, case_pack=6, lead_time_days=1, days_to_next_delivery=2, service_level=0.95,
        shelf_capacity=np.nan, unit_cost=1.0,
    )  # fmt: skip
    assert result.quantity.tolist() == [0, 0, 0]
