"""Simulated shop history for evaluation: demand the way convenience stores see it, and a shop's
own (imperfect) reordering, so ``on_hand`` and the stock-outs in the file are consistent.

Demand per store × product and day = base rate (log-normal: most products sell well under one a
day) × store size × category weekday pattern × a slow trend × chain-wide promotions (1.5–3× for a
week) × gamma noise, drawn Poisson (so negative binomial overall). Some products launch mid-history
(ramping up over two weeks) and some are delisted. Stock: the shop reorders by a min/max rule of
its own with a mis-set level per series and the odd forgotten order; deliveries come in whole
cases after the store's lead time; demand beyond the shelf is lost, which is what leaves
stock-out days (nothing on hand, nothing sold) in the history.
"""

from __future__ import annotations

import datetime

import numpy as np

from ordering.forecasting.history import History

CATEGORIES = 8
START = datetime.date(2025, 1, 6)  # a Monday


def history_simulate(*, stores: int, products: int, days: int, seed: int) -> History:
    """A reproducible history of ``stores × products`` series over ``days`` days for ``seed``."""
    rng = np.random.default_rng(seed)
    # Per category: a weekday pattern (Monday first), weekend-heavy for some, weekday-heavy for others.
    weekday_shape = np.exp(rng.normal(0, 0.12, (CATEGORIES, 7)))
    weekend = rng.uniform(-0.2, 0.5, CATEGORIES)
    weekday_shape[:, 4:6] *= (1 + weekend)[:, None]
    weekday_shape /= weekday_shape.mean(axis=1, keepdims=True)

    category_of = rng.integers(0, CATEGORIES, products)
    base_rate = np.exp(rng.normal(np.log(0.5), 1.1, products))
    unit_cost = np.round(np.exp(rng.normal(np.log(1.6), 0.6, products)), 2)
    # Fast sellers come in bigger cases.
    case_pack = np.where(base_rate > 3, rng.choice([12, 24], products), rng.choice([1, 6, 6, 12], products))
    launch = np.where(rng.random(products) < 0.15, rng.integers(days // 5, max(days - 30, days // 5 + 1), products), 0)
    delist = np.where(
        rng.random(products) < 0.08, rng.integers(days // 3, max(days - 14, days // 3 + 1), products), days
    )
    delist = np.maximum(delist, launch + 14)
    # Chain-wide promotions: a product's promotion weeks apply in every store.
    promo = np.ones((products, days))
    for p in range(products):
        for start in np.flatnonzero(rng.random(days // 7) < 0.04) * 7:
            promo[p, start : start + 7] = rng.uniform(1.5, 3.0)

    store_size = np.exp(rng.normal(0, 0.4, stores))
    store_lead = rng.choice([1, 1, 1, 2, 3], stores)

    n = stores * products
    store_of = np.repeat(np.arange(stores), products)
    sku_of = np.tile(np.arange(products), stores)
    rate = base_rate[sku_of] * store_size[store_of] * np.exp(rng.normal(0, 0.3, n))
    growth = rng.normal(0, 0.35, n)  # relative change per year
    noise_shape = rng.uniform(1.5, 6.0, n)  # gamma shape: lower is more erratic
    lead = store_lead[store_of]
    pack = case_pack[sku_of]
    first, last = launch[sku_of], delist[sku_of]

    # The shop's own rule: reorder level over lead time + 1 day, set by eye (too low for some),
    # order up to a few days more, re-estimated monthly from what it sold.
    level_factor = rng.uniform(0.5, 2.0, n)
    extra_days = rng.uniform(2, 6, n)
    estimate = rate * np.exp(rng.normal(0, 0.25, n))
    on_hand = np.ceil(estimate * (lead + 1 + extra_days)) + pack
    pipeline = np.zeros((n, days + 4))

    units = np.full((n, days), np.nan)
    expected = np.full((n, days), np.nan)
    stock = np.full((n, days), np.nan)
    rows = np.arange(n)
    weekday = (START.weekday() + np.arange(days)) % 7
    for day in range(days):
        alive = (day >= first) & (day < last)
        age = day - first
        ramp = np.clip(0.4 + 0.6 * age / 14, 0.4, 1.0) * (first > 0) + (first == 0)
        mean = (
            rate
            * weekday_shape[category_of[sku_of], weekday[day]]
            * np.maximum(1 + growth * day / 365, 0.2)
            * promo[sku_of, day]
            * ramp
        )
        expected[alive, day] = mean[alive]
        demand = rng.poisson(mean * rng.gamma(noise_shape, 1 / noise_shape))
        on_hand = on_hand + pipeline[:, day]
        sold = np.minimum(demand, on_hand)
        on_hand = on_hand - sold
        units[alive, day] = sold[alive]
        stock[alive, day] = on_hand[alive]
        if day % 28 == 27:
            window = units[:, day - 27 : day + 1]
            seen = np.nansum(window, axis=1)
            count = (~np.isnan(window)).sum(axis=1)
            estimate = np.where(count > 7, 0.5 * estimate + 0.5 * seen / np.maximum(count, 1), estimate)
        reorder_level = estimate * (lead + 1) * level_factor
        position = on_hand + pipeline[:, day + 1 : day + 4].sum(axis=1)
        forgot = rng.random(n) < 0.06
        order = alive & (position <= reorder_level) & ~forgot
        target = reorder_level + estimate * extra_days
        quantity = np.where(order, np.ceil(np.maximum(target - position, 1) / pack) * pack, 0)
        pipeline[rows, np.minimum(day + lead, days + 3)] += quantity
        # A new product gets a first delivery the day before launch.
        on_hand = np.where(day + 1 == first, np.ceil(estimate * (lead + 1 + extra_days)) + pack, on_hand)

    return History(
        units=units,
        on_hand=stock,
        case_pack=pack.astype(np.int64),
        lead_time_days=lead.astype(np.int64),
        unit_cost=unit_cost[sku_of],
        category=category_of[sku_of].astype(np.int64),
        stores=[f"S{s:03d}" for s in range(stores)],
        skus=[f"SKU{p:05d}" for p in range(products)],
        store_index=store_of.astype(np.int64),
        sku_index=sku_of.astype(np.int64),
        start=START,
        expected=expected,
        noise_shape=noise_shape,
        promotion=promo[sku_of],
    )
