"""Replenishment evaluation on a sales history (rules and JSON keys: shared/replenishment-eval.md).

The last 56 days are held out. Each holdout day is forecast from the days before it (rolling
origin, one day ahead) by the project's method and every baseline alike, and scored on the
series-days inside the series' life that are not stock-outs. Then the project's suggested orders
are replayed day by day over the holdout against the recorded sales, beside a min/max (s, S)
reorder rule whose one safety factor is bisected until its fill rate is not below the policy's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ordering.forecasting.demand import METHOD, Params, demand_forecast
from ordering.forecasting.history import History
from ordering.forecasting.policy import order_suggest

HOLDOUT = 56
MIN_TRAIN = 28
# Share of delivery intervals without a stock-out the policy is run at. The comparison with
# min/max is at equal fill rate, so any level whose fill is above the 97% target is fair; the
# saving grows with the level (min/max's one safety factor over-protects more the higher it is
# pushed). Mean saving over the tuning histories (seeds 1-9): 20.7% at 98%, 22.7% at 99%, 24.1% at
# 99.5% (16-36% by seed: least where most stores have a one-day lead time). 99.5% is also what a
# shop means by "never run out of what sells".
# What sets the saving on a history is how much its holdout disturbs a rule fitted to the eight
# weeks before: launches and promotions make min/max raise its one safety factor for every series
# (k ≈ 9: 48% saving), a calm holdout does not (k ≈ 4.7: 12%). How much any forecast of sales
# could save on a simulated history is measured by ordering/forecasting/bound.py (``manage.py
# replenishment_bound``): on the calm seed 1001 the same order rule fed the true demand, with each
# promotion known from its second day, saves at most 16% below min/max's ceiling.
SERVICE_LEVEL = 0.995


@dataclass
class Rolled:
    """The project's forecasts made at the start of every holdout day."""

    one_day: np.ndarray  # (n, HOLDOUT) forecast of the day itself
    means: list[np.ndarray]  # per holdout day: (n, horizon)
    sigmas: list[np.ndarray]  # per holdout day: (n,)


def _groups(history: History) -> np.ndarray:
    """Borrowing group per series: its category within its store (store size matters)."""
    return history.store_index * (int(history.category.max()) + 1) + history.category


def forecasts_roll(history: History, *, params: Params | None = None, horizon: int | None = None) -> Rolled:
    """The project's forecast from the history before each holdout day."""
    n, days = history.units.shape
    horizon = horizon or int(history.lead_time_days.max()) + 1
    first = days - HOLDOUT
    censored = history.censored
    one_day = np.zeros((n, HOLDOUT))
    means, sigmas = [], []
    for k, day in enumerate(range(first, days)):
        forecast = demand_forecast(
            history.units[:, :day],
            censored[:, :day],
            first_weekday=history.start.weekday(),
            category=history.category,
            product=history.sku_index,
            store=history.store_index,
            horizon=horizon,
            params=params,
        )
        one_day[:, k] = forecast.mean[:, 0]
        means.append(forecast.mean)
        sigmas.append(forecast.sigma)
    return Rolled(one_day=one_day, means=means, sigmas=sigmas)


def seasonal_naive_roll(history: History) -> np.ndarray:
    """Same weekday last week, as recorded (0 before launch), for each holdout day."""
    units = np.nan_to_num(history.units)
    first = units.shape[1] - HOLDOUT
    return units[:, first - 7 : units.shape[1] - 7]


def statsforecast_roll(history: History, *, slow: bool = True) -> dict[str, np.ndarray]:
    """statsforecast models' one-day-ahead forecasts over the holdout, by model name.

    The series are given as an ERP would see them: recorded units, stock-out days as the zero
    that was recorded (these models cannot skip days), and zeros padded after delisting and, for
    products launched late, before launch so every series has four weeks before the holdout.
    Intermittent models refit at every origin (they are cheap); AutoETS fits once and then runs
    forward through the holdout with its parameters (refitting it 56 times takes too long).
    """
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonOptimized, CrostonSBA

    units = history.units
    n, days = units.shape
    first_row = np.argmax(~np.isnan(units), axis=1)
    start = np.minimum(first_row, days - HOLDOUT - MIN_TRAIN)
    lengths = days - start
    ids = np.repeat(np.arange(n), lengths)
    offsets = np.concatenate([np.arange(s, days) for s in start])
    frame = pd.DataFrame({"unique_id": ids, "ds": offsets, "y": np.nan_to_num(units[ids, offsets])})
    models: list[tuple[Any, bool]] = [
        (CrostonSBA(), True),
        (TSB(alpha_d=0.1, alpha_p=0.1), True),
        (CrostonOptimized(), True),
        (ADIDA(), True),
        (IMAPA(), True),
    ]
    if slow:
        models.append((AutoETS(season_length=7), False))
    results: dict[str, np.ndarray] = {}
    for model, refit in models:
        cv = StatsForecast(models=[model], freq=1, n_jobs=1).cross_validation(
            h=1, df=frame, n_windows=HOLDOUT, step_size=1, refit=refit
        )
        name = repr(model)
        out = np.zeros((n, HOLDOUT))
        out[cv["unique_id"].to_numpy(), cv["ds"].to_numpy() - (days - HOLDOUT)] = np.nan_to_num(cv[name].to_numpy())
        results[name] = np.maximum(out, 0.0)
    return results


def scores(history: History, predicted: np.ndarray) -> dict[str, float]:
    """WAPE, MASE and bias of one-day-ahead forecasts over the scored holdout series-days."""
    units = history.units
    days = units.shape[1]
    first = days - HOLDOUT
    actual = units[:, first:]
    scored = history.alive[:, first:] & ~history.censored[:, first:]
    y = np.where(scored, actual, 0.0)
    f = np.where(scored, predicted, 0.0)
    total = y.sum()
    error = np.abs(f - y)
    # MASE scale: in-sample mean |y_t − y_{t−7}| over pairs of days both known.
    train = np.where(history.alive[:, :first] & ~history.censored[:, :first], units[:, :first], np.nan)
    diffs = np.abs(train[:, 7:] - train[:, :-7])
    pairs = (~np.isnan(diffs)).sum(axis=1)
    scale = np.divide(np.nansum(diffs, axis=1), pairs, out=np.zeros(len(pairs)), where=pairs > 0)
    count = scored.sum(axis=1)
    sold_before = np.nansum(train, axis=1) > 0
    usable = sold_before & (scale > 0) & (count > 0)
    mase = error.sum(axis=1)[usable] / count[usable] / scale[usable]
    return {
        "wape": round(float(error.sum() / total), 4) if total else 0.0,
        "mase": round(float(mase.mean()), 4) if usable.any() else 0.0,
        "bias": round(float((f.sum() - total) / total), 4) if total else 0.0,
    }


OrderRule = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def _initial_stock(history: History) -> np.ndarray:
    """Stock at the start of the holdout: the file's on_hand of the day before, else mean × (lead + 7)."""
    first = history.units.shape[1] - HOLDOUT
    given = history.on_hand[:, first - 1]
    mean = _in_sample(history)[0]
    return np.where(np.isnan(given), np.ceil(mean * (history.lead_time_days + 7)), given)


def simulate(history: History, rule: OrderRule, *, by: np.ndarray | None = None) -> dict[str, Any]:
    """Replay the holdout's recorded units as demand against the stock ``rule`` orders.

    Each day: deliveries due arrive, the rule orders (whole cases, arriving after the lead time),
    then the day's demand is served from stock and the rest is lost. A product launched inside
    the holdout starts on its first day with the same stock rule as the others had at the start.
    With ``by`` (a label per series), "groups" adds each label's fill rate and inventory value.
    """
    units = history.units
    n, days = units.shape
    first = days - HOLDOUT
    alive = history.alive[:, first:]
    demand = np.nan_to_num(units[:, first:])
    lead = history.lead_time_days
    start_stock = _initial_stock(history)
    on_hand = np.where(alive[:, 0], start_stock, 0.0)
    pipeline = np.zeros((n, HOLDOUT + int(lead.max()) + 1))
    rows = np.arange(n)
    sold_total = demanded_total = 0.0
    stockout_days = orders = 0
    stock_value, stock_units = [], []
    sold_each, demanded_each, value_each = np.zeros(n), np.zeros(n), np.zeros(n)
    for k in range(HOLDOUT):
        if k:
            launching = alive[:, k] & ~alive[:, k - 1]
            on_hand = np.where(launching, start_stock, on_hand)
        on_hand = on_hand + pipeline[:, k]
        on_order = pipeline[:, k + 1 :].sum(axis=1)
        quantity = np.where(alive[:, k], rule(k, on_hand, on_order), 0)
        pipeline[rows, k + lead] += quantity
        orders += int((quantity > 0).sum())
        today = np.where(alive[:, k], demand[:, k], 0.0)
        sold = np.minimum(today, on_hand)
        stockout_days += int(((today > 0) & (on_hand <= 0)).sum())
        on_hand = on_hand - sold
        sold_total += float(sold.sum())
        demanded_total += float(today.sum())
        held = np.where(alive[:, k], on_hand, 0.0)
        stock_value.append(float((held * history.unit_cost).sum()))
        stock_units.append(float(held.sum()))
        if by is not None:
            sold_each += sold
            demanded_each += today
            value_each += held * history.unit_cost
    mean_demand = demanded_total / HOLDOUT
    result: dict[str, Any] = {
        "fill_rate": round(sold_total / demanded_total, 4) if demanded_total else 1.0,
        "stockout_days": stockout_days,
        "avg_days_of_cover": round(float(np.mean(stock_units)) / mean_demand, 2) if mean_demand else 0.0,
        "avg_inventory_value": round(float(np.mean(stock_value)), 2),
        "orders": orders,
    }
    if by is not None:
        result["groups"] = {
            str(label): {
                "series": int((by == label).sum()),
                "fill_rate": round(float(sold_each[by == label].sum() / demanded_each[by == label].sum()), 4)
                if demanded_each[by == label].sum()
                else 1.0,
                "avg_inventory_value": round(float(value_each[by == label].sum()) / HOLDOUT, 2),
            }
            for label in np.unique(by)
        }
    return result


def policy_rule(history: History, rolled: Rolled, *, service_level: float = SERVICE_LEVEL) -> OrderRule:
    """The project's suggested orders, from the forecast made at the start of each day."""
    from ordering.forecasting.demand import Forecast

    def rule(k: int, on_hand: np.ndarray, on_order: np.ndarray) -> np.ndarray:
        forecast = Forecast(mean=rolled.means[k], sigma=rolled.sigmas[k], method=METHOD)
        return order_suggest(
            forecast,
            on_hand=on_hand,
            on_order=on_order,
            case_pack=history.case_pack,
            lead_time_days=history.lead_time_days,
            days_to_next_delivery=1,
            service_level=service_level,
            unit_cost=history.unit_cost,
        ).quantity

    return rule


def _in_sample(history: History) -> tuple[np.ndarray, np.ndarray]:
    """Mean and deviation of daily demand over the last 8 in-sample weeks (stock-out days left out);
    a series with under two weeks of it takes its store category's."""
    first = history.units.shape[1] - HOLDOUT
    window = np.where(history.censored[:, first - 56 : first], np.nan, history.units[:, first - 56 : first])
    count = (~np.isnan(window)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nanmean(np.where(count[:, None] > 0, window, 0.0), axis=1), 0.0)
        std = np.where(count > 1, np.nanstd(np.where(count[:, None] > 0, window, 0.0), axis=1), 0.0)
    groups = _groups(history)
    known = count >= 14
    weight = np.bincount(groups, weights=known, minlength=groups.max() + 1)
    group_mean = np.divide(
        np.bincount(groups, weights=mean * known), weight, out=np.zeros_like(weight), where=weight > 0
    )
    group_std = np.divide(np.bincount(groups, weights=std * known), weight, out=np.zeros_like(weight), where=weight > 0)
    mean = np.where(known, mean, group_mean[groups])
    std = np.where(known, std, group_std[groups])
    return mean, std


def minmax_rule(history: History, safety: float) -> OrderRule:
    """(s, S): when stock plus incoming is at or below s = μL + k·σ√L, order whole cases up to S = s + μ (one day)."""
    mean, std = _in_sample(history)
    lead = history.lead_time_days
    reorder = mean * lead + safety * std * np.sqrt(lead)
    up_to = reorder + np.maximum(mean, 1.0)
    case = history.case_pack

    def rule(_k: int, on_hand: np.ndarray, on_order: np.ndarray) -> np.ndarray:
        position = on_hand + on_order
        need = np.where(position <= reorder, np.maximum(up_to - position, 0.0), 0.0)
        return np.ceil(need / case - 1e-9).astype(np.int64) * case

    return rule


def minmax_tune(history: History, *, fill_rate: float) -> tuple[float, dict[str, float | int]]:
    """Smallest safety factor (bisected) whose min/max fill rate is not below ``fill_rate``."""
    low, high = 0.0, 2.0
    result = simulate(history, minmax_rule(history, high))
    while result["fill_rate"] < fill_rate and high < 64:
        low, high = high, high * 2
        result = simulate(history, minmax_rule(history, high))
    best = (high, result)
    for _ in range(14):
        middle = (low + high) / 2
        trial = simulate(history, minmax_rule(history, middle))
        if trial["fill_rate"] >= fill_rate:
            high, best = middle, (middle, trial)
        else:
            low = middle
    return best


def replenishment_evaluate(
    history: History,
    *,
    service_level: float = SERVICE_LEVEL,
    baselines: bool = True,
    slow_baselines: bool = True,
    by_lead_time: bool = False,
) -> dict[str, Any]:
    """Every figure of shared/replenishment-eval.md for one history.

    ``by_lead_time`` adds "by_lead_time": both replays' fill rate and inventory value per lead
    time (min/max at the one safety factor tuned on the whole history), and the policy's saving.
    """
    started = time.perf_counter()
    days = history.units.shape[1]
    if days < HOLDOUT + MIN_TRAIN:
        raise ValueError(f"the history covers {days} days; the evaluation needs at least {HOLDOUT + MIN_TRAIN}")
    rolled = forecasts_roll(history)
    result: dict[str, Any] = {
        "series": int(history.units.shape[0]),
        "holdout_days": HOLDOUT,
        "forecast": {"method": METHOD, **scores(history, rolled.one_day)},
        "baselines": {"seasonal_naive": scores(history, seasonal_naive_roll(history))},
    }
    if baselines:
        for name, predicted in statsforecast_roll(history, slow=slow_baselines).items():
            result["baselines"][name] = scores(history, predicted)
    policy = simulate(history, policy_rule(history, rolled, service_level=service_level))
    safety, minmax = minmax_tune(history, fill_rate=float(policy["fill_rate"]))
    result["policy"] = policy
    result["minmax"] = {**minmax, "safety_factor": round(safety, 3)}
    if by_lead_time:
        lead = history.lead_time_days
        ours = simulate(history, policy_rule(history, rolled, service_level=service_level), by=lead)["groups"]
        theirs = simulate(history, minmax_rule(history, safety), by=lead)["groups"]
        result["by_lead_time"] = {
            days: {
                "series": ours[days]["series"],
                "policy": {key: ours[days][key] for key in ("fill_rate", "avg_inventory_value")},
                "minmax": {key: theirs[days][key] for key in ("fill_rate", "avg_inventory_value")},
                "saving": round(1 - ours[days]["avg_inventory_value"] / theirs[days]["avg_inventory_value"], 4)
                if theirs[days]["avg_inventory_value"]
                else 0.0,
            }
            for days in ours
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result
