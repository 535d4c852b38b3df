"""Daily demand per series: a TSB-type smoothed level × a pooled weekday profile × a chain-wide lift.

Why this shape: most convenience-store series sell nothing on most days, so a per-series weekly
pattern or trend fitted alone is mostly noise. Each series' weekday profile is shrunk towards its
category's (by how many units it sold); the level is an exponentially weighted mean of
de-seasonalised demand over observed days only, which is TSB's demand rate (probability × size)
in one recursion (a stock-out day carries no information: it is skipped, not read as zero); the
same product's sales across all its stores give a shared lift that picks up a promotion or a
launch within a day; a product with little history starts from its category's level in its store.
Where the chain runs its promotions in calendar weeks (a weekly flyer that changes on the same
weekday), the history shows it: products' chain-wide sales step between weeks that start on that
weekday and stay level inside them. Then the lift is this promotion week's own (week to date,
pooled across stores) and the forecast drops it when the week ends, rather than carrying a
finished promotion into the next order.
A damped trend (fast level against slow) is there but weighted 0: on the tuning histories it
cost accuracy (the simulated trends are a few percent over the eight-week holdout, the noise is
not). Everything is a numpy step over days, vectorised over series: 20,000 series × 120 days
take about half a second (bench/ordering.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

METHOD = "lingshou-tsb-dow"


@dataclass(frozen=True)
class Params:
    """Tuned on simulated histories of seeds 1–3 (see ordering/forecasting/evaluate.py)."""

    alpha_fast: float = 0.03  # level for the forecast (for a series selling ``busy_units`` a day or more:
    alpha_quiet: float = 0.03  # ... down to this for one selling nothing: its few sales are mostly noise)
    busy_units: float = 5.0
    alpha_slow: float = 0.01  # longer memory; the gap between the two is the trend
    alpha_error: float = 0.01  # smoothing of the squared one-day-ahead error
    trend_weight: float = 0.0  # 0 = no trend; damped further by how much the series sells
    trend_units: float = 60.0  # units sold in the window for full trend weight
    profile_window: int = 182  # days of history for the weekday profile
    profile_units: float = 1000.0  # units in the window at which the own profile gets half weight
    new_product_days: float = 1.0  # observed days at which the own level gets half weight
    alpha_lift: float = 0.3  # how fast a product's chain-wide lift follows its sales
    lift_units: float = 20.0  # units (chain-wide, per day) at which the lift gets half its evidence
    week_units: float = 40.0  # units (chain-wide, this promotion week) at which its lift gets half its evidence
    week_contrast: float = 1.3  # weekly promotions are read from the history when weeks starting on one
    # weekday explain the sales steps this much better than weeks starting on the worst-fitting weekday
    week_evidence: float = 5.0  # ... and enough products back it (a product selling 10 a day chain-wide counts ½)


@dataclass
class Forecast:
    mean: np.ndarray  # (n_series, horizon) expected daily demand, from the day after the last column
    sigma: np.ndarray  # (n_series,) standard deviation of the one-day-ahead forecast error
    method: str
    level: np.ndarray | None = None  # (n_series,) de-seasonalised daily level
    profile: np.ndarray | None = None  # (n_series, 7) weekday multipliers, Monday first, mean 1
    observed_days: np.ndarray | None = None  # (n_series,) days with known demand
    promotion_week_start: int | None = None  # weekday (Monday 0) the chain's promotion weeks start, if it has them
    lift: np.ndarray | None = None  # (n_series,) the lift sales show on the forecast's first day (1 = usual)


def _group_mean(values: np.ndarray, weights: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Weighted mean of ``values`` (n,) or (n, k) per group, indexed back to the series."""
    if values.ndim == 1:
        total = np.bincount(group, weights=values * weights, minlength=n_groups)
        norm = np.bincount(group, weights=weights, minlength=n_groups)
        return np.divide(total, norm, out=np.zeros(n_groups), where=norm > 0)[group]
    return np.stack([_group_mean(values[:, k], weights, group, n_groups) for k in range(values.shape[1])], axis=1)


def weekday_profile(x: np.ndarray, weekday: np.ndarray, group: np.ndarray, n_groups: int, params: Params) -> np.ndarray:
    """(n, 7) weekday multipliers (mean 1): each series' own, shrunk towards its group's by units sold."""
    window = x[:, -params.profile_window :]
    days = weekday[-params.profile_window :]
    sums = np.zeros((x.shape[0], 7))
    counts = np.zeros((x.shape[0], 7))
    seen = ~np.isnan(window)
    filled = np.where(seen, window, 0.0)
    for d in range(7):
        sums[:, d] = filled[:, days == d].sum(axis=1)
        counts[:, d] = seen[:, days == d].sum(axis=1)
    per_day = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    units = sums.sum(axis=1)
    mean = per_day.sum(axis=1) / np.maximum((counts > 0).sum(axis=1), 1)
    own = np.divide(per_day, mean[:, None], out=np.ones_like(per_day), where=mean[:, None] > 0)
    own = np.where(counts > 0, own, 1.0)
    # The group's profile weights each series by its units, so big sellers shape it.
    pooled = _group_mean(own, units, group, n_groups)
    pooled = np.where(pooled.sum(axis=1, keepdims=True) > 0, pooled, 1.0)
    weight = (units / (units + params.profile_units))[:, None]
    profile = weight * own + (1 - weight) * pooled
    profile = np.maximum(profile, 0.05)
    return profile / profile.mean(axis=1, keepdims=True)


def promotion_week_start(
    x: np.ndarray, weekday: np.ndarray, profile: np.ndarray, product_ids: np.ndarray, params: Params
) -> int | None:
    """The weekday the chain's promotion weeks start on, or None when sales show no such calendar.

    Each product's chain-wide daily sales (de-seasonalised, on a log scale) are cut into weeks
    starting on each weekday in turn; where promotions run in calendar weeks, the weeks that start
    on the promotion weekday hold whole promotions, so their means spread the most. Without
    weekly promotions every cut spreads alike (noise), and no weekday is returned.
    """
    window = x[:, -params.profile_window :]
    days = window.shape[1]
    if days < 28:
        return None
    week_days = weekday[-days:]
    n_products = int(product_ids.max()) + 1
    seen = ~np.isnan(window)
    level = np.where(seen, window, 0.0) / profile[:, week_days]
    # Sums over each product's stores: a (products × series) indicator times the (series × days) arrays.
    rows = len(product_ids)
    of_product = sparse.csr_matrix((np.ones(rows), (product_ids, np.arange(rows))), shape=(n_products, rows))
    total = of_product @ level
    count = of_product @ seen.astype(float)
    stores = np.bincount(product_ids, minlength=n_products)[:, None]
    known = count > 0
    rate = np.divide(total, count, out=np.zeros_like(total), where=known) * stores
    # A chain whose refunds outweigh its sales in the window has no rate to take a log of: NaN, left out below.
    with np.errstate(invalid="ignore"):
        log_rate = np.where(known, np.log1p(rate), np.nan)
    sold = known.any(axis=1)
    if not sold.any():
        return None
    with np.errstate(invalid="ignore"):
        centred = log_rate[sold] - np.nanmean(log_rate[sold], axis=1, keepdims=True)
        volume = np.nanmean(np.where(known[sold], rate[sold], np.nan), axis=1)
    weight = volume / (volume + 10.0)  # busy products' steps are signal, a slow one's are noise
    if weight.sum() < params.week_evidence:
        return None  # a few products' steps can line up on any weekday by chance
    spread = np.zeros(7)
    for start in range(7):
        first = int(np.argmax(week_days == start))
        weeks = (days - first) // 7
        cut = centred[:, first : first + 7 * weeks].reshape(len(centred), weeks, 7)
        filled = (~np.isnan(cut)).sum(axis=2)
        means = np.divide(np.nansum(cut, axis=2), filled, out=np.zeros(filled.shape), where=filled > 0)
        spread[start] = float(np.average((means**2).sum(axis=1) / max(weeks, 1), weights=weight + 1e-12))
    best = int(np.argmax(spread))
    if spread.min() <= 0 or spread[best] < params.week_contrast * spread.min():
        return None
    return best


def demand_forecast(
    sales: np.ndarray,
    censored: np.ndarray,
    *,
    first_weekday: int,
    category: np.ndarray | None = None,
    horizon: int = 14,
    product: np.ndarray | None = None,
    store: np.ndarray | None = None,
    params: Params | None = None,
    planned_lift: np.ndarray | None = None,
) -> Forecast:
    """Expected daily demand for ``horizon`` days after the history, and the one-day error's spread.

    ``product`` (n_series,) ids the same product in several stores: its chain-wide sales of the
    last days say at once when it is on promotion or just launched. ``store`` (n_series,) makes a
    new product borrow its category's level in its own store rather than across stores.
    ``planned_lift`` (n_series, horizon) is what known promotions are expected to do on each
    forecast day (1 = nothing planned); a day takes the larger of it and the lift the sales show.
    """
    params = params or Params()
    sales = np.asarray(sales, dtype=float)
    n, days = sales.shape
    x = np.where(np.asarray(censored, dtype=bool), np.nan, sales)
    weekday = (first_weekday + np.arange(days)) % 7
    category_ids = np.zeros(n, dtype=np.int64) if category is None else np.unique(category, return_inverse=True)[1]
    n_categories = int(category_ids.max()) + 1 if n else 1
    if store is None:
        group, n_groups = category_ids, n_categories
    else:
        group = np.unique(np.stack([np.asarray(store), category_ids]), axis=1, return_inverse=True)[1].ravel()
        n_groups = int(group.max()) + 1 if n else 1
    product_ids = np.arange(n) if product is None else np.unique(product, return_inverse=True)[1].ravel()
    n_products = int(product_ids.max()) + 1 if n else 1

    profile = weekday_profile(x, weekday, category_ids, n_categories, params) if days else np.ones((n, 7))
    rows = np.arange(n)
    # Busy series follow changes faster: their days carry more signal than noise.
    window = x[:, -params.profile_window :]
    seen_days = (~np.isnan(window)).sum(axis=1)
    daily = np.divide(np.nansum(window, axis=1), seen_days, out=np.zeros(n), where=seen_days > 0)
    busy = daily / (daily + params.busy_units)
    alpha_level = params.alpha_quiet + (params.alpha_fast - params.alpha_quiet) * busy
    decay_fast, decay_slow = 1 - alpha_level, 1 - params.alpha_slow
    num_fast = np.zeros(n)
    den_fast = np.zeros(n)
    num_slow = np.zeros(n)
    den_slow = np.zeros(n)
    error_sq = np.zeros(n)
    error_den = np.zeros(n)
    momentum = np.ones(n_products)
    week_start = (
        promotion_week_start(x, weekday, profile, product_ids, params) if product is not None and days else None
    )
    week_sold = np.zeros(n_products)
    week_usual = np.zeros(n_products)
    for day in range(days):
        value = x[:, day]
        seen = ~np.isnan(value)
        factor = profile[rows, weekday[day]]
        # One-day-ahead error of what this forecast would have said, before learning the day.
        has_level = den_fast > 0
        base = np.divide(num_fast, den_fast, out=np.zeros(n), where=has_level)
        lift = momentum[product_ids]
        predicted = base * lift * factor
        scored = seen & has_level
        error_sq = np.where(scored, (1 - params.alpha_error) * error_sq + (value - predicted) ** 2, error_sq)
        error_den = np.where(scored, (1 - params.alpha_error) * error_den + 1, error_den)
        deseasonalised = np.where(seen, value, 0.0) / factor
        # The product's sales across its stores today against their usual level: a shared lift
        # (a promotion, a launch running in) that is pooled, shrunk to 1 when few units back it.
        if product is not None:
            sold = np.bincount(product_ids, weights=np.where(scored, deseasonalised, 0.0), minlength=n_products)
            usual = np.bincount(product_ids, weights=np.where(scored, base, 0.0), minlength=n_products)
            if week_start is None:
                ratio = (sold + params.lift_units) / (usual + params.lift_units)
                momentum = (1 - params.alpha_lift) * momentum + params.alpha_lift * ratio
            else:
                # A promotion week's lift is level: everything sold since the week began says it.
                if weekday[day] == week_start:
                    week_sold[:] = 0.0
                    week_usual[:] = 0.0
                week_sold += sold
                week_usual += usual
                momentum = (week_sold + params.week_units) / (week_usual + params.week_units)
            deseasonalised = deseasonalised / lift
        # Bias-corrected exponential means over observed days only: skipped days change nothing.
        num_fast = np.where(seen, decay_fast * num_fast + deseasonalised, num_fast)
        den_fast = np.where(seen, decay_fast * den_fast + 1, den_fast)
        num_slow = np.where(seen, decay_slow * num_slow + deseasonalised, num_slow)
        den_slow = np.where(seen, decay_slow * den_slow + 1, den_slow)

    observed = (~np.isnan(x)).sum(axis=1).astype(float)
    fast = np.divide(num_fast, den_fast, out=np.zeros(n), where=den_fast > 0)
    slow = np.divide(num_slow, den_slow, out=np.zeros(n), where=den_slow > 0)
    # Mean age (in observed days) of each exponential mean; the level moved (fast − slow) over
    # the gap between them. Trusted in proportion to units sold, damped, and at most ±50%.
    age_fast = (1 - alpha_level) / alpha_level
    age_slow = (1 - params.alpha_slow) / params.alpha_slow
    recent_units = np.nansum(x[:, -params.profile_window :], axis=1)
    trust = params.trend_weight * recent_units / (recent_units + params.trend_units)
    slope = trust * (fast - slow) / np.maximum(age_slow - age_fast, 1.0) * np.minimum(observed / age_slow, 1.0)

    # New products: the group's level (series with a long history) until their own accumulates.
    established = observed >= 28
    group_level = _group_mean(slow, established.astype(float), group, n_groups)
    fallback = _group_mean(slow, np.ones(n), group, n_groups)
    group_level = np.where(
        np.bincount(group, weights=established, minlength=n_groups)[group] > 0, group_level, fallback
    )
    own_weight = observed / (observed + params.new_product_days)
    level = own_weight * fast + (1 - own_weight) * group_level

    steps = age_fast[:, None] + 1 + np.arange(horizon)[None, :]
    trend = slope[:, None] * steps * own_weight[:, None]
    path = np.clip(level[:, None] + trend, 0.5 * level[:, None], 1.5 * level[:, None])
    future_weekday = (first_weekday + days + np.arange(horizon)) % 7
    lift = np.broadcast_to(momentum[product_ids][:, None], (n, horizon))
    if week_start is not None:
        # This week's promotion ends with the week; what the next one brings is not known yet.
        next_week = np.cumsum(future_weekday == week_start) > 0
        lift = np.where(next_week[None, :], 1.0, lift)
    seen_lift = lift[:, 0].copy() if horizon else np.ones(n)  # what the sales show, before any plan
    if planned_lift is not None:
        lift = np.maximum(lift, np.asarray(planned_lift, dtype=float).reshape(n, horizon))
    path = path * lift
    mean = np.maximum(path * profile[:, future_weekday], 0.0)

    # Error spread: the series' own where it has a week of it, never below Poisson for the level
    # (a slow seller's few errors understate its spread); a new product's is wider than Poisson.
    own_sigma = np.sqrt(np.divide(error_sq, error_den, out=np.zeros(n), where=error_den > 0))
    poisson = np.sqrt(np.maximum(mean[:, 0] if horizon else level, 0.0))
    sigma = np.where(error_den >= 7, np.maximum(own_sigma, poisson), 1.2 * poisson)
    return Forecast(
        mean=mean,
        sigma=sigma,
        method=METHOD,
        level=level,
        profile=profile,
        observed_days=observed,
        promotion_week_start=week_start,
        lift=seen_lift,
    )
