"""Croston, SBA and TSB for intermittent demand, vectorised over series (rows) and stepped over days.

Each takes ``y`` (n_series, n_days), oldest first, NaN for days to skip (before launch or censored
by a stock-out: they neither count as a zero nor advance the interval), and returns the flat
forecast per series for the next day. They follow the textbook recursions (Croston 1972;
Syntetos & Boylan 2005; Teunter, Syntetos & Babai 2011) so they can be checked by hand, and are
the project's own so they run on millions of series without per-series compilation.
"""

from __future__ import annotations

import numpy as np


def croston(y: np.ndarray, *, alpha: float = 0.1) -> np.ndarray:
    """Croston's forecast z / p: smoothed demand size over smoothed interval between demands."""
    size = np.full(y.shape[0], np.nan)
    interval = np.full(y.shape[0], np.nan)
    since = np.ones(y.shape[0])  # days since the last demand, counting today
    for day in range(y.shape[1]):
        value = y[:, day]
        seen = ~np.isnan(value)
        demand = seen & (value > 0)
        first = demand & np.isnan(size)
        later = demand & ~first
        # The first demand initialises both; later ones smooth them.
        size[first] = value[first]
        interval[first] = since[first]
        size[later] += alpha * (value[later] - size[later])
        interval[later] += alpha * (since[later] - interval[later])
        since = np.where(demand, 1.0, since + seen)
    return np.where(np.isnan(size), 0.0, size / np.where(np.isnan(interval), 1.0, interval))


def sba(y: np.ndarray, *, alpha: float = 0.1) -> np.ndarray:
    """Syntetos–Boylan approximation: Croston with its known upward bias removed (× 1 − α/2)."""
    return (1 - alpha / 2) * croston(y, alpha=alpha)


def tsb(y: np.ndarray, *, alpha_demand: float = 0.1, alpha_probability: float = 0.1) -> np.ndarray:
    """TSB: smoothed probability of a sale (updated every observed day) times smoothed size."""
    seen = ~np.isnan(y)
    sold = seen & (y > 0)
    # Start from the series' own averages, as Teunter et al. suggest.
    counts = seen.sum(axis=1)
    probability = np.divide(sold.sum(axis=1), counts, out=np.zeros(y.shape[0]), where=counts > 0)
    sold_count = sold.sum(axis=1)
    size = np.divide(np.where(sold, y, 0.0).sum(axis=1), sold_count, out=np.zeros(y.shape[0]), where=sold_count > 0)
    for day in range(y.shape[1]):
        value = y[:, day]
        is_seen = seen[:, day]
        is_sold = sold[:, day]
        probability = np.where(is_seen, probability + alpha_probability * (is_sold - probability), probability)
        size = np.where(is_sold, size + alpha_demand * (value - size), size)
    return probability * size
