"""Suggested orders: an order-up-to level per line from the forecast, then whole cases.

The level covers ``lead_time_days + days_to_next_delivery`` days of demand at the target
service level. Demand over that period is modelled as negative binomial (Poisson when the
forecast error is no wider than Poisson), not normal: for a product selling 0.2 a day a normal
quantile asks for fractional, often negative, safety stock, while the negative binomial gives
the honest "keep 2 on the shelf". The error spread comes from the forecast's own one-day errors.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from ordering.forecasting.demand import Forecast

ArrayLike = np.ndarray | float | int


@dataclass
class Suggestion:
    quantity: np.ndarray  # (n,) int units to order, a multiple of case_pack
    order_up_to: np.ndarray  # (n,) units the shelf plus incoming should reach
    safety_stock: np.ndarray  # (n,) order_up_to minus expected demand over the cover period
    daily_demand: np.ndarray  # (n,) mean expected daily demand over the cover period
    capped: np.ndarray | None = None  # (n,) bool: cut down to the shelf capacity
    topped_up: np.ndarray | None = None  # (n,) int units added towards free delivery
    holding_cost: np.ndarray | None = None  # (n,) what keeping the added units costs, in unit_cost's units


def _array(value: ArrayLike, n: int, dtype: type = float) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()


def demand_quantile(mean: np.ndarray, variance: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Smallest whole stock that meets demand of this mean/variance with probability ``level``."""
    mean = np.maximum(mean, 0.0)
    # Negative binomial needs variance > mean; at or below it Poisson is the tighter honest model.
    over = variance > mean * 1.0001 + 1e-9
    quantile = np.zeros_like(mean)
    positive = mean > 1e-9
    nb = over & positive
    if nb.any():
        p = mean[nb] / variance[nb]
        r = mean[nb] * p / (1 - p)
        quantile[nb] = stats.nbinom.ppf(level[nb], r, p)
    poisson = ~over & positive
    if poisson.any():
        quantile[poisson] = stats.poisson.ppf(level[poisson], mean[poisson])
    return quantile


def order_suggest(
    forecast: Forecast,
    *,
    on_hand: ArrayLike,
    on_order: ArrayLike,
    case_pack: ArrayLike,
    lead_time_days: ArrayLike,
    days_to_next_delivery: ArrayLike,
    service_level: ArrayLike = 0.95,
    shelf_capacity: ArrayLike = np.nan,
    unit_cost: ArrayLike = 1.0,
    cost_reference: float | None = None,
    risk_cap: float = 0.3,
    case_risk_exponent: float = 0.5,
) -> Suggestion:
    """Whole cases that bring stock plus incoming up to the level covering the period at the service level."""
    mean = forecast.mean
    n, horizon = mean.shape
    on_hand_a = np.maximum(_array(on_hand, n), 0.0)
    on_order_a = np.maximum(_array(on_order, n), 0.0)
    case = np.maximum(_array(case_pack, n, int), 1)
    lead = np.maximum(_array(lead_time_days, n, int), 0)
    interval = np.maximum(_array(days_to_next_delivery, n, int), 1)
    level = np.clip(_array(service_level, n), 0.5, 0.9999)
    capacity = _array(shelf_capacity, n)

    cover = lead + interval
    # Demand over the first k days; beyond the horizon the last day's rate continues.
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(mean, axis=1)], axis=1)

    def demand_over(days: np.ndarray) -> np.ndarray:
        inside = np.minimum(days, horizon)
        return cumulative[np.arange(n), inside] + np.maximum(days - horizon, 0) * mean[:, -1]

    expected = demand_over(cover)
    variance = cover * forecast.sigma**2
    # The service level is the share of delivery intervals without a stock-out. A case that
    # lasts m intervals is exposed to running out in only one of them, so its reorder point may
    # carry more risk: a slow seller in cases of 12 is not kept at a fast seller's level. √m
    # rather than m (measured on the tuning histories: the same fill rate for less stock, and
    # slow sellers out less often than with m).
    # Likewise a unit of an expensive product ties up more money than a cheap one's for the same
    # sales: its risk scales with its cost against the demand-weighted mean cost (or
    # ``cost_reference``). Both make the same fill rate cost less stock (a Lagrangian allocation).
    daily = expected / np.maximum(cover, 1)
    intervals_per_case = np.maximum(np.divide(case, daily * interval, out=np.full(n, 1e6), where=daily > 0), 1.0)
    cost = _array(unit_cost, n)
    reference = cost_reference or (float((cost * daily).sum() / daily.sum()) if daily.sum() > 0 else 0.0)
    relative = np.divide(cost, reference, out=np.ones(n), where=reference > 0) if reference else np.ones(n)
    level = 1 - np.clip((1 - level) * intervals_per_case**case_risk_exponent * relative, 1e-4, risk_cap)
    order_up_to = demand_quantile(expected, variance, level)
    position = on_hand_a + on_order_a
    need = np.maximum(order_up_to - position, 0.0)
    quantity = np.ceil(need / case - 1e-9).astype(np.int64) * case

    # The delivery must fit on the shelf next to what is left when it arrives.
    left_at_arrival = np.maximum(position - demand_over(lead), 0.0)
    room_cases = np.floor((capacity - left_at_arrival) / case)
    capped = ~np.isnan(room_cases) & (quantity > np.maximum(room_cases, 0) * case)
    quantity = np.where(capped, np.maximum(np.nan_to_num(room_cases), 0).astype(np.int64) * case, quantity)
    return Suggestion(
        quantity=quantity,
        order_up_to=order_up_to,
        safety_stock=order_up_to - expected,
        daily_demand=expected / cover,
        capped=capped,
        topped_up=np.zeros(n, dtype=np.int64),
    )


def _money(value: float) -> str:
    return f"{value:.2f}"


def _about(amount: float, money: Callable[[float], str]) -> str:
    """An estimate in money; below the smallest coin, says so rather than "0,00"."""
    return f"about {money(amount)}" if round(amount) >= 1 else f"less than {money(1)}"


# What a unit of stock costs the shop to keep for a year, as a share of what it paid: the money tied up,
# shelf and cooler space, and the risk that it spoils or does not sell. A quarter is the figure usually
# taken for small shops. A top-up towards free delivery buys stock earlier than needed; it is proposed
# only while that costs less than the delivery fee it saves.
HOLDING_RATE_PER_YEAR = 0.25


def order_value_adjust(
    suggestion: Suggestion,
    *,
    unit_cost: ArrayLike,
    case_pack: ArrayLike,
    minimum_order_value: float,
    free_delivery_threshold: float | None,
    delivery_fee: float = 0.0,
    holding_rate: float = HOLDING_RATE_PER_YEAR,
    on_hand: ArrayLike = 0.0,
    on_order: ArrayLike = 0.0,
    shelf_capacity: ArrayLike = np.nan,
    money: Callable[[float], str] = _money,
) -> tuple[Suggestion, list[str]]:
    """Top the order up to free delivery with the cases that run out soonest, when keeping them costs less
    than the delivery fee saved; say when the minimum order value is missed.

    A case added now would otherwise come with the delivery at which its line runs low: it is held for
    the days the line lasts with what it has, at ``holding_rate`` of its cost a year. The top-up is all
    or nothing: stock that does not reach free delivery saves no fee. ``Suggestion.holding_cost`` keeps
    each line's share, in the currency's units like ``unit_cost``.
    """
    quantity = suggestion.quantity.astype(np.int64).copy()
    n = quantity.shape[0]
    cost = _array(unit_cost, n)
    case = np.maximum(_array(case_pack, n, int), 1)
    stock = np.maximum(_array(on_hand, n), 0.0) + np.maximum(_array(on_order, n), 0.0)
    capacity = _array(shelf_capacity, n)
    demand = suggestion.daily_demand
    value = float((quantity * cost).sum())
    notes: list[str] = []
    added = np.zeros(n, dtype=np.int64)
    holding = np.zeros(n)

    def about(amount: float) -> str:
        return _about(amount, money)

    if free_delivery_threshold and 0 < value < free_delivery_threshold and delivery_fee > 0:
        # Days each line lasts with what it will have; one more case goes to the line that runs
        # out first, so the top-up is stock the shop needs soonest, never a slow seller's case.
        heap = [
            ((stock[i] + quantity[i]) / demand[i], i)
            for i in range(n)
            if demand[i] > 0
            and cost[i] > 0
            and (np.isnan(capacity[i]) or stock[i] + quantity[i] + case[i] <= capacity[i])
        ]
        heapq.heapify(heap)
        topped = quantity.copy()
        total = value
        while heap and total < free_delivery_threshold:
            lasts, i = heapq.heappop(heap)
            topped[i] += case[i]
            added[i] += case[i]
            total += float(case[i] * cost[i])
            holding[i] += case[i] * cost[i] * holding_rate * lasts / 365
            if np.isnan(capacity[i]) or stock[i] + topped[i] + case[i] <= capacity[i]:
                heapq.heappush(heap, ((stock[i] + topped[i]) / demand[i], i))
        cases = int((added // case).sum())
        extra = float((added * cost).sum())
        kept = float(holding.sum())
        plural = "s" if cases != 1 else ""
        if total < free_delivery_threshold:
            notes.append(
                f"below free delivery at {money(free_delivery_threshold)}: not enough lines have room for more, "
                f"so the {money(delivery_fee)} delivery fee applies"
            )
        elif kept >= delivery_fee:
            notes.append(
                f"free delivery at {money(free_delivery_threshold)} would take {cases} more case{plural} "
                f"({money(extra)}); keeping them until they sell would cost {about(kept)}, more than the "
                f"{money(delivery_fee)} delivery fee it saves, so none were added"
            )
        else:
            quantity, value = topped, total
            notes.append(
                f"added {cases} case{plural} ({money(extra)}) of the lines that run out soonest to reach free "
                f"delivery at {money(free_delivery_threshold)}: saves the {money(delivery_fee)} delivery fee, "
                f"and keeping the extra stock until it sells costs {about(kept)} "
                f"({holding_rate * 100:g} % a year of its cost)"
            )
        if quantity is not topped:
            added[:] = 0
            holding[:] = 0
    if value == 0:
        notes.append("nothing to order")
    elif value < minimum_order_value:
        notes.append(
            f"order value {money(value)} is below the minimum order value {money(minimum_order_value)}: "
            "the wholesaler will not deliver it as it is"
        )
    return replace(suggestion, quantity=quantity, topped_up=added, holding_cost=holding), notes


def top_up_explain(
    *, cases: int, holding_cost: float, top_up_holding_cost: float, delivery_fee: float, money: Callable[[float], str]
) -> str:
    """How a line's top-up towards free delivery was judged: "1 case of them for free delivery: about 0,05 € to
    keep until it sells (the whole top-up about 0,26 €), below the 14,90 € delivery fee it saves"."""

    def about(amount: float) -> str:
        return _about(amount, money)

    kept = f"{about(holding_cost)} to keep until {'they sell' if cases != 1 else 'it sells'}"
    # Other lines share the top-up: the fee is weighed against all of it, and the line says so.
    whole = f" (the whole top-up {about(top_up_holding_cost)})" if top_up_holding_cost > holding_cost + 0.5 else ""
    return (
        f"{cases} case{'s' if cases != 1 else ''} of them for free delivery: {kept}{whole}, below the "
        f"{money(delivery_fee)} delivery fee it saves"
    )


def _amount(value: float) -> str:
    return f"{value:.1f}" if value >= 0.05 else "less than 0.1"


def line_explain(
    *,
    daily_demand: float,
    on_hand: float,
    quantity: int,
    case_pack: int,
    next_delivery: str | datetime.date,
    on_order: float = 0,
    capped: bool = False,
    shelf_capacity: float | None = None,
    chain_lift: float = 1.0,
    promotion: str = "",
    top_up: str = "",
) -> str:
    """One sentence: "sells 2.1 a day, 3 on hand, next delivery Thursday: 1 case of 12".

    ``chain_lift`` of 1.3 or more (a promotion or a launch seen across the merchant's stores) is said,
    and so is a planned ``promotion`` ("promotion Thursday to Sunday, 2× expected").
    """
    day = next_delivery.strftime("%A") if isinstance(next_delivery, datetime.date) else next_delivery
    stock = f"{int(on_hand)} on hand" + (f", {int(on_order)} on order" if on_order else "")
    if quantity <= 0:
        order = "nothing to order"
    elif case_pack <= 1:
        order = f"{quantity} unit{'s' if quantity != 1 else ''}"
    else:
        cases = quantity // case_pack
        order = f"{cases} case{'s' if cases != 1 else ''} of {case_pack}"
    if capped and shelf_capacity is not None:
        order += f" (the shelf holds {int(shelf_capacity)})"
    if top_up:
        order += f", {top_up}"
    lifted = f" ({chain_lift:.1f}× the usual across your stores)" if chain_lift >= 1.3 else ""
    if promotion:
        lifted += f", {promotion}"
    return f"sells {_amount(daily_demand)} a day{lifted}, {stock}, next delivery {day}: {order}"
