"""How much less stock than min/max a history allows at all: the inventory target's ceiling.

Only for simulated histories, whose true demand distribution is known. ``policy.order_suggest``
itself is replayed with that distribution in place of a forecast: each day's
true mean (weekday pattern, trend, launch ramp) and its gamma-Poisson spread, summed over the
cover period. Promotions are the one thing a forecast of sales cannot know: they are drawn at
random, so a promotion's first day is a surprise to any forecaster. Two knowledges are replayed:

* ``"seen"``: a promotion is known from the day after it starts to the end of its week (the most
  that recorded sales can tell; Lingshou's chain lift sees it after one day's sales);
* ``"ahead"``: every promotion is known before it starts (what a planned-promotion calendar gives).

Each is swept over ``order_suggest``'s allocation of stock-out risk between lines (its service
level as ``1 - risk``, its case-risk exponent, a risk cap of 0.9), and min/max over
its safety factor, giving two curves of fill rate against inventory value. The saving at equal
fill rate is read off them from 97% to just under min/max's ceiling: the fill rate it cannot pass
at any safety factor (stock-outs before the first order can arrive, launches). Near the ceiling
min/max buys almost no fill for a great deal of stock, so a saving there says nothing about the
order rule and is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ordering.forecasting.demand import Forecast
from ordering.forecasting.evaluate import HOLDOUT, OrderRule, minmax_rule, simulate
from ordering.forecasting.history import History
from ordering.forecasting.policy import order_suggest

PROMOTION_KNOWLEDGE = ("seen", "ahead")
RISKS = (0.001, 0.002, 0.004, 0.008, 0.016)
EXPONENTS = (0.5, 0.75)
SAFETY_FACTORS = np.linspace(0.0, 24.0, 193)
LOWEST_FILL = 0.97
CEILING_MARGIN = 0.0005


def _require_truth(history: History) -> None:
    if history.expected is None or history.noise_shape is None or history.promotion is None:
        raise ValueError("the bound needs a simulated history: its true means, noise and promotions")


def known_means(history: History, day: int, days_ahead: int, *, promotions: str) -> np.ndarray:
    """(n, days_ahead) true mean demand from ``day`` on, with promotions as ``promotions`` knows them."""
    _require_truth(history)
    if promotions not in PROMOTION_KNOWLEDGE:
        raise ValueError(f"promotions must be one of {PROMOTION_KNOWLEDGE}, not {promotions!r}")
    assert history.expected is not None
    assert history.promotion is not None
    total = history.units.shape[1]
    ahead = np.minimum(day + np.arange(days_ahead), total - 1)
    means = np.nan_to_num(history.expected[:, ahead])
    if promotions == "ahead":
        return means
    promotion = history.promotion[:, ahead]
    # The simulator's promotions run in calendar weeks from its first day; one that was on
    # yesterday is known for the rest of its week, one that starts today or later is not.
    running = history.promotion[:, day - 1 : day] > 1 if day else np.zeros((len(means), 1), dtype=bool)
    same_week = (ahead // 7) == ((day - 1) // 7)
    known = np.where(running & same_week[None, :], promotion, 1.0)
    return means / promotion * known


def knowledge_rule(history: History, *, promotions: str, risk: float, exponent: float) -> OrderRule:
    """``order_suggest`` itself, each day, fed the true distribution over lead time + 1 day instead of a forecast."""
    _require_truth(history)
    assert history.noise_shape is not None
    first = history.units.shape[1] - HOLDOUT
    cover = history.lead_time_days + 1
    span = int(cover.max())
    inside = np.arange(span)[None, :] < cover[:, None]

    def rule(k: int, on_hand: np.ndarray, on_order: np.ndarray) -> np.ndarray:
        means = known_means(history, first + k, span, promotions=promotions)
        covered = means * inside
        # Gamma-Poisson demand over the cover: variance = mean + Σ mean²/shape. order_suggest
        # takes it as cover × σ², so σ is given per day over the cover.
        variance = covered.sum(axis=1) + (covered**2).sum(axis=1) / history.noise_shape
        truth = Forecast(mean=means, sigma=np.sqrt(variance / cover), method="true demand")
        return order_suggest(
            truth,
            on_hand=on_hand,
            on_order=on_order,
            case_pack=history.case_pack,
            lead_time_days=history.lead_time_days,
            days_to_next_delivery=1,
            service_level=1 - risk,
            unit_cost=history.unit_cost,
            risk_cap=0.9,
            case_risk_exponent=exponent,
        ).quantity

    return rule


def minmax_curve(history: History, factors: np.ndarray = SAFETY_FACTORS) -> np.ndarray:
    """(len(factors), 2): min/max's fill rate and inventory value at each safety factor."""
    rows = []
    for factor in factors:
        result = simulate(history, minmax_rule(history, float(factor)))
        rows.append((result["fill_rate"], result["avg_inventory_value"]))
    return np.array(rows)


def minmax_value_at(curve: np.ndarray, fill_rate: float) -> float:
    """Min/max's inventory value at ``fill_rate``, between the two safety factors around it."""
    order = np.argsort(curve[:, 0], kind="stable")
    return float(np.interp(fill_rate, curve[order, 0], curve[order, 1]))


def saving_bound(history: History, *, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """min/max's ceiling and the best saving each knowledge reaches below it (and ``policy``'s, if given)."""
    curve = minmax_curve(history)
    ceiling = float(curve[:, 0].max())
    top = ceiling - CEILING_MARGIN

    def saving(result: dict[str, Any]) -> float:
        return round(1 - result["avg_inventory_value"] / minmax_value_at(curve, result["fill_rate"]), 4)

    out: dict[str, Any] = {"minmax_ceiling": ceiling, "compared_up_to": round(top, 4)}
    for promotions in PROMOTION_KNOWLEDGE:
        points = []
        for exponent in EXPONENTS:
            for risk in RISKS:
                result = simulate(history, knowledge_rule(history, promotions=promotions, risk=risk, exponent=exponent))
                if LOWEST_FILL <= result["fill_rate"] <= top:
                    points.append({"fill_rate": result["fill_rate"], "saving": saving(result)})
        out[promotions] = {
            "best": max(points, key=lambda point: point["saving"]) if points else None,
            "points": sorted(points, key=lambda point: point["fill_rate"]),
        }
    if policy is not None:
        out["policy"] = {"fill_rate": policy["fill_rate"], "saving": saving(policy)}
    return out
