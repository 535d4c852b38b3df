"""Suggested orders at chain scale: 1,000 stores × 2,000 products, ~120 days of history each.

    .venv/bin/python bench/ordering.py [--stores 1000] [--products 2000] [--json]

Each size runs in a fresh process that generates synthetic sales (intermittent sellers, a weekly
pattern, stock-outs) one chunk of stores at a time, forecasts them, suggests whole-case orders,
tops each store's order up towards free delivery and explains every ordered line, then reports
its time and peak memory. Memory must not grow with the number of stores (chunks are dropped as
they are done), so 100 stores run beside the full size. Baselines in the same run: the
seasonal-naive forecast over the same arrays, and statsforecast's CrostonSBA on one chunk
(numba compile excluded) for the per-series cost of the library route.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report

DAYS = 120
CHUNK_STORES = 10


def _chunk(rng: np.random.Generator, stores: int, products: int) -> dict[str, np.ndarray]:
    """Synthetic history for ``stores`` stores: most products sell under one a day."""
    n = stores * products
    rate = np.exp(rng.normal(np.log(0.5), 1.1, products))[np.tile(np.arange(products), stores)]
    rate = rate * np.exp(rng.normal(0, 0.4, stores))[np.repeat(np.arange(stores), products)]
    weekday = 1 + 0.25 * np.sin(np.arange(DAYS) * 2 * np.pi / 7)
    sales = rng.poisson(rate[:, None] * weekday[None, :]).astype(float)
    censored = rng.random((n, DAYS)) < 0.02
    sales[censored] = 0
    return {
        "sales": sales,
        "censored": censored,
        "category": np.tile(rng.integers(0, 40, products), stores),
        "product": np.tile(np.arange(products), stores),
        "store": np.repeat(np.arange(stores), products),
        "case_pack": np.tile(rng.choice([1, 6, 12, 24], products), stores),
        "unit_cost": np.tile(np.round(rng.uniform(0.3, 8, products), 2), stores),
        "on_hand": rng.integers(0, 20, n).astype(float),
    }


def _child(stores: int, products: int) -> None:
    """Run one size in this process and print its figures as JSON."""
    from ordering.forecasting import demand_forecast, line_explain, order_suggest, order_value_adjust

    rng = np.random.default_rng(1)
    forecast_s = policy_s = store_s = naive_s = generate_s = 0.0
    lines = ordered = 0
    started = time.perf_counter()
    for first in range(0, stores, CHUNK_STORES):
        count = min(CHUNK_STORES, stores - first)
        t0 = time.perf_counter()
        data = _chunk(rng, count, products)
        t1 = time.perf_counter()
        forecast = demand_forecast(
            data["sales"], data["censored"], first_weekday=0, category=data["category"], horizon=7,
            product=data["product"], store=data["store"],
        )  # fmt: skip
        t2 = time.perf_counter()
        suggestion = order_suggest(
            forecast, on_hand=data["on_hand"], on_order=0, case_pack=data["case_pack"], lead_time_days=1,
            days_to_next_delivery=2, service_level=0.95, shelf_capacity=np.nan, unit_cost=data["unit_cost"],
        )  # fmt: skip
        t3 = time.perf_counter()
        for store in range(count):
            rows = slice(store * products, (store + 1) * products)
            part = type(suggestion)(
                quantity=suggestion.quantity[rows], order_up_to=suggestion.order_up_to[rows],
                safety_stock=suggestion.safety_stock[rows], daily_demand=suggestion.daily_demand[rows],
            )  # fmt: skip
            adjusted, _ = order_value_adjust(
                part, unit_cost=data["unit_cost"][rows], case_pack=data["case_pack"][rows], minimum_order_value=150,
                free_delivery_threshold=400, on_hand=data["on_hand"][rows],
            )  # fmt: skip
            for i in np.flatnonzero(adjusted.quantity):
                line_explain(
                    daily_demand=float(adjusted.daily_demand[i]), on_hand=float(data["on_hand"][rows][i]),
                    quantity=int(adjusted.quantity[i]), case_pack=int(data["case_pack"][rows][i]),
                    next_delivery="Thursday",
                )  # fmt: skip
                ordered += 1
        t4 = time.perf_counter()
        # Baseline on the same arrays: last week's same weekday as the forecast.
        naive = np.tile(data["sales"][:, -7:], 1)
        t5 = time.perf_counter()
        assert naive.shape == forecast.mean.shape
        generate_s += t1 - t0
        forecast_s += t2 - t1
        policy_s += t3 - t2
        store_s += t4 - t3
        naive_s += t5 - t4
        lines += data["sales"].shape[0]
        del data, forecast, suggestion
    total = time.perf_counter() - started
    print(json.dumps({
        "stores": stores, "series": lines, "ordered_lines": ordered, "total_s": round(total, 1),
        "generate_s": round(generate_s, 1), "forecast_s": round(forecast_s, 1), "policy_s": round(policy_s, 1),
        "store_orders_and_explanations_s": round(store_s, 1), "seasonal_naive_s": round(naive_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))  # fmt: skip


def _statsforecast_chunk(products: int) -> dict[str, float]:
    """statsforecast CrostonSBA on one chunk (compile excluded): seconds per 1,000 series."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import CrostonSBA

    from ordering.forecasting import demand_forecast

    data = _chunk(np.random.default_rng(2), CHUNK_STORES, products)
    n = data["sales"].shape[0]
    frame = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(n), DAYS), "ds": np.tile(np.arange(DAYS), n), "y": data["sales"].ravel()}
    )
    StatsForecast(models=[CrostonSBA()], freq=1).forecast(df=frame.head(DAYS * 10), h=7)  # numba compile
    started = time.perf_counter()
    StatsForecast(models=[CrostonSBA()], freq=1, n_jobs=1).forecast(df=frame, h=7)
    library = time.perf_counter() - started
    started = time.perf_counter()
    demand_forecast(data["sales"], data["censored"], first_weekday=0, category=data["category"], horizon=7,
                    product=data["product"], store=data["store"])  # fmt: skip
    ours = time.perf_counter() - started
    return {"series": n, "statsforecast_s": library, "ours_s": ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        _child(options.stores, options.products)
        return
    sizes = sorted({min(100, options.stores), options.stores})
    runs = []
    for stores in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--stores", str(stores), "--products", str(options.products)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(done.stdout))
    small, full = runs[0], runs[-1]
    library = _statsforecast_chunk(options.products)
    per_series = full["total_s"] / full["series"]
    rows = [
        {
            "case": f"{run['stores']} stores × {options.products} products",
            "series": run["series"], "total_s": run["total_s"], "forecast_s": run["forecast_s"],
            "policy_s": run["policy_s"], "orders_explained_s": run["store_orders_and_explanations_s"],
            "seasonal_naive_s": run["seasonal_naive_s"],
            "ratio_to_naive": round(run["forecast_s"] / max(run["seasonal_naive_s"], 1e-3)),
            "peak_rss_mb": run["peak_rss_mb"],
            "rss_vs_100_stores": round(run["peak_rss_mb"] / small["peak_rss_mb"], 2),
            "target": "< 600 s, memory flat" if run is full else "",
        }
        for run in runs
    ]  # fmt: skip
    rows.append(
        {
            "case": f"one chunk ({library['series']:.0f} series): forecast only",
            "series": int(library["series"]), "total_s": round(library["ours_s"], 2),
            "forecast_s": round(library["ours_s"], 2), "policy_s": "", "orders_explained_s": "",
            "seasonal_naive_s": "", "ratio_to_naive": "",
            "peak_rss_mb": "", "rss_vs_100_stores": "",
            "target": f"statsforecast CrostonSBA {library['statsforecast_s']:.2f} s "
            f"({library['statsforecast_s'] / library['ours_s']:.1f}× ours)",
        }
    )  # fmt: skip
    rows[-1]["target"] += f"; full run {per_series * 1e6:.0f} µs per series"
    report("Ordering: suggested orders at chain scale", rows, as_json=options.json)


if __name__ == "__main__":
    main()
