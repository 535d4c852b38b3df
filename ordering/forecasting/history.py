"""Sales history as arrays (one row per store × product series) and its CSV form.

CSV columns: ``store,sku,date,units`` required; ``on_hand,case_pack,lead_time_days,unit_cost,
category`` optional. One row per series and day from its first to its last day (a product is
launched and delisted mid-history); dates are ISO (YYYY-MM-DD).
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

import numpy as np

REQUIRED = ("store", "sku", "date", "units")
OPTIONAL = ("on_hand", "case_pack", "lead_time_days", "unit_cost", "category")
COLUMNS = REQUIRED + OPTIONAL


class HistoryError(ValueError):
    """A CSV that cannot be read as sales history; the message names the row and column."""


@dataclass
class History:
    units: np.ndarray  # (n, days) float, NaN outside the series' life
    on_hand: np.ndarray  # (n, days) float end-of-day stock, NaN where not given
    case_pack: np.ndarray  # (n,) int
    lead_time_days: np.ndarray  # (n,) int
    unit_cost: np.ndarray  # (n,) float (1 where not given, so values are units)
    category: np.ndarray  # (n,) int
    stores: list[str]
    skus: list[str]
    store_index: np.ndarray  # (n,) int into stores
    sku_index: np.ndarray  # (n,) int into skus
    start: datetime.date
    # Known only for simulated histories (ordering/forecasting/bound.py reads them):
    expected: np.ndarray | None = None  # (n, days) true mean demand
    noise_shape: np.ndarray | None = None  # (n,) gamma shape of the day-to-day noise on that mean
    promotion: np.ndarray | None = None  # (n, days) the promotion's multiplier in that mean (1 = none)

    @property
    def alive(self) -> np.ndarray:
        """(n, days) bool: inside the series' span from its first to its last row."""
        return ~np.isnan(self.units)

    @property
    def censored(self) -> np.ndarray:
        """(n, days) bool: stock-outs, i.e. nothing on hand and nothing sold (demand unknown)."""
        return self.alive & (self.on_hand <= 0) & (self.units <= 0)


def history_write_csv(history: History, handle: IO[str]) -> int:
    """Write the history as CSV rows (only days inside each series' life); returns the row count."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    dates = [(history.start + datetime.timedelta(days=d)).isoformat() for d in range(history.units.shape[1])]
    rows = 0
    for i in range(history.units.shape[0]):
        store, sku = history.stores[history.store_index[i]], history.skus[history.sku_index[i]]
        pack, lead, cost, cat = (
            int(history.case_pack[i]),
            int(history.lead_time_days[i]),
            f"{history.unit_cost[i]:.2f}",
            int(history.category[i]),
        )
        for d in np.flatnonzero(~np.isnan(history.units[i])):
            writer.writerow(
                (store, sku, dates[d], int(history.units[i, d]), int(history.on_hand[i, d]), pack, lead, cost, cat)
            )
            rows += 1
    return rows


def _number(text: str, *, row: int, column: str, integer: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise HistoryError(f"row {row}, column {column}: {text!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise HistoryError(f"row {row}, column {column}: {text!r} must be zero or more")
    if integer and value != int(value):
        raise HistoryError(f"row {row}, column {column}: {text!r} must be a whole number")
    return value


def history_read_csv(lines: Iterable[str]) -> History:
    """Parse and validate the whole file first; raises HistoryError naming the first bad row and column."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise HistoryError("row 1: the file is empty; expected the header " + ",".join(REQUIRED))
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise HistoryError(f"row 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    position = {c: header.index(c) for c in COLUMNS if c in header}
    keys: dict[tuple[str, str], int] = {}
    records: list[tuple[int, int, float, float, float, float, float, float]] = []
    dates: list[datetime.date] = []
    nan = float("nan")
    for row_number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise HistoryError(f"row {row_number}: {len(row)} fields, the header has {len(header)}")
        store, sku = row[position["store"]].strip(), row[position["sku"]].strip()
        for column, value in (("store", store), ("sku", sku)):
            if not value:
                raise HistoryError(f"row {row_number}, column {column}: empty")
        try:
            day = datetime.date.fromisoformat(row[position["date"]].strip())
        except ValueError:
            raise HistoryError(
                f"row {row_number}, column date: {row[position['date']]!r} is not a date YYYY-MM-DD"
            ) from None
        values = {}
        for column in ("units", *OPTIONAL):
            if column in position:
                text = row[position[column]].strip()
                if text == "" and column != "units":
                    values[column] = nan
                    continue
                values[column] = _number(
                    text,
                    row=row_number,
                    column=column,
                    integer=column in ("units", "case_pack", "lead_time_days", "category"),
                )
            else:
                values[column] = nan
        if values["case_pack"] == 0:
            raise HistoryError(f"row {row_number}, column case_pack: must be at least 1")
        series = keys.setdefault((store, sku), len(keys))
        dates.append(day)
        records.append(
            (series, row_number, values["units"], values["on_hand"], values["case_pack"], values["lead_time_days"],
             values["unit_cost"], values["category"])
        )  # fmt: skip
    if not records:
        raise HistoryError("row 2: the file has a header but no rows")
    start = min(dates)
    n_days = (max(dates) - start).days + 1
    n = len(keys)
    units = np.full((n, n_days), np.nan)
    on_hand = np.full((n, n_days), np.nan)
    meta = np.full((n, 4), np.nan)
    for (series, row_number, u, oh, pack, lead, cost, cat), day in zip(records, dates, strict=True):
        d = (day - start).days
        if not np.isnan(units[series, d]):
            store, sku = next(k for k, v in keys.items() if v == series)
            raise HistoryError(
                f"row {row_number}, column date: {day.isoformat()} appears twice for store {store}, sku {sku}"
            )
        units[series, d] = u
        on_hand[series, d] = oh
        meta[series] = np.where(np.isnan([pack, lead, cost, cat]), meta[series], [pack, lead, cost, cat])
    # A series lives from its first to its last row; a missing day inside is a day without sales.
    alive_from = np.argmax(~np.isnan(units), axis=1)
    alive_to = n_days - 1 - np.argmax(~np.isnan(units[:, ::-1]), axis=1)
    span = (np.arange(n_days)[None, :] >= alive_from[:, None]) & (np.arange(n_days)[None, :] <= alive_to[:, None])
    units = np.where(span & np.isnan(units), 0.0, units)
    stores = sorted({k[0] for k in keys})
    skus = sorted({k[1] for k in keys})
    store_pos = {s: i for i, s in enumerate(stores)}
    sku_pos = {s: i for i, s in enumerate(skus)}
    ordered = sorted(keys, key=keys.__getitem__)
    return History(
        units=units,
        on_hand=on_hand,
        case_pack=np.where(np.isnan(meta[:, 0]), 1, meta[:, 0]).astype(np.int64),
        lead_time_days=np.where(np.isnan(meta[:, 1]), 1, np.maximum(meta[:, 1], 1)).astype(np.int64),
        unit_cost=np.where(np.isnan(meta[:, 2]), 1.0, meta[:, 2]),
        category=np.where(np.isnan(meta[:, 3]), 0, meta[:, 3]).astype(np.int64),
        stores=stores,
        skus=skus,
        store_index=np.array([store_pos[k[0]] for k in ordered], dtype=np.int64),
        sku_index=np.array([sku_pos[k[1]] for k in ordered], dtype=np.int64),
        start=start,
    )
