"""Demand forecasts and suggested orders for many store × product series at once (no Django here).

The contract the ordering app builds on:

* ``demand_forecast(sales, censored, *, first_weekday, category=None, horizon=14) -> Forecast``
  ``sales`` is a float array (n_series, n_days) of daily units sold, oldest day first, NaN before
  a series' first day (not yet listed). ``censored`` is a bool array of the same shape marking
  stock-out days: demand on them is unknown, so they are left out, never read as zero.
  ``first_weekday`` is the weekday of column 0 (0 = Monday). ``category`` (n_series,) ints let a
  new product borrow the level and weekly pattern of its category. ``Forecast.mean`` is
  (n_series, horizon) expected daily demand from the day after the last column;
  ``Forecast.sigma`` (n_series,) the standard deviation of the one-day-ahead error.
* ``order_suggest(forecast, *, on_hand, on_order, case_pack, lead_time_days, days_to_next_delivery,
  service_level, shelf_capacity, unit_cost) -> Suggestion``: all (n_series,) arrays (scalars
  broadcast); shelf_capacity NaN where unknown. The order is placed now (before today's trading);
  it arrives after ``lead_time_days`` and must last ``days_to_next_delivery`` more days, so it
  covers ``lead_time_days + days_to_next_delivery`` days of demand at ``service_level`` (the
  share of delivery intervals without a stock-out; a case that lasts several intervals may carry
  more risk at its reorder point, an expensive unit a little more than a cheap one, see
  policy.py). Quantities are whole cases; ``shelf_capacity`` caps them.
* ``order_value_adjust(suggestion, *, unit_cost, case_pack, minimum_order_value,
  free_delivery_threshold, ...) -> (Suggestion, notes)``: tops the order up towards free delivery
  with the cases that run out soonest, and says when the minimum order value is not reached.
  With a ``delivery_fee``, the top-up is made only when it reaches free delivery and keeping the added
  stock (``holding_rate`` of its cost a year, for the days it comes early) costs less than that fee;
  ``Suggestion.holding_cost`` has each line's share, and ``top_up_explain`` says it on the line.
* ``line_explain(...) -> str``: one sentence per line, e.g.
  "sells 2.1 a day, 3 on hand, next delivery Thursday: 1 case of 12".

Fields and parameters may be added later; none are renamed.
"""

from ordering.forecasting.demand import Forecast, demand_forecast
from ordering.forecasting.policy import (
    Suggestion,
    line_explain,
    order_suggest,
    order_value_adjust,
    top_up_explain,
)

__all__ = [
    "Forecast",
    "Suggestion",
    "demand_forecast",
    "line_explain",
    "order_suggest",
    "order_value_adjust",
    "top_up_explain",
]
