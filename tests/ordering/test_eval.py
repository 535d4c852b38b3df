"""The evaluation: its JSON keys, the replay's sanity on a small simulated history, CSV errors."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ordering.forecasting.evaluate import HOLDOUT, minmax_rule, replenishment_evaluate, scores, simulate
from ordering.forecasting.history import COLUMNS, HistoryError, history_read_csv, history_write_csv
from ordering.forecasting.simulate import history_simulate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def history():
    return history_simulate(stores=3, products=40, days=150, seed=11)


@pytest.fixture(scope="module")
def result(history):
    return replenishment_evaluate(history, baselines=False)


def test_simulated_history_is_intermittent_censored_and_consistent(history):
    alive = history.alive
    assert history.units.shape == (120, 150)
    assert ((history.units == 0) & alive).sum() / alive.sum() > 0.3  # many days without a sale
    assert history.censored.sum() > 0  # stock-outs: nothing on hand, nothing sold
    assert np.all(history.on_hand[alive] >= 0)
    assert (~alive[:, 0]).sum() > 0
    assert (~alive[:, -1]).sum() > 0


def test_eval_reports_every_key_of_the_spec(result):
    assert set(result) == {"series", "holdout_days", "forecast", "baselines", "policy", "minmax", "seconds"}
    assert result["series"] == 120
    assert result["holdout_days"] == HOLDOUT
    assert set(result["forecast"]) == {"method", "wape", "mase", "bias"}
    assert set(result["baselines"]["seasonal_naive"]) == {"wape", "mase", "bias"}
    keys = {"fill_rate", "stockout_days", "avg_days_of_cover", "avg_inventory_value", "orders"}
    assert set(result["policy"]) == keys
    assert keys <= set(result["minmax"])
    json.dumps(result)


def test_policy_replay_is_sane_and_minmax_is_tuned_to_its_fill_rate(result):
    policy, minmax = result["policy"], result["minmax"]
    assert policy["fill_rate"] >= 0.95
    assert minmax["fill_rate"] >= policy["fill_rate"]
    assert policy["orders"] > 0
    assert policy["stockout_days"] >= 0
    assert 0 < policy["avg_days_of_cover"] < 30
    # At a fill rate not below the policy's, min/max holds more stock.
    assert policy["avg_inventory_value"] < minmax["avg_inventory_value"]
    assert result["forecast"]["wape"] < result["baselines"]["seasonal_naive"]["wape"]


def test_replay_loses_demand_without_stock_and_counts_stock_outs(history):
    nothing = simulate(history, lambda _k, on_hand, _on_order: np.zeros(on_hand.shape[0], dtype=np.int64))
    plenty = simulate(history, minmax_rule(history, 6.0))
    assert nothing["orders"] == 0
    assert nothing["fill_rate"] < plenty["fill_rate"]
    assert nothing["stockout_days"] > plenty["stockout_days"]


def test_scores_leave_stock_out_days_out(history):
    actual = np.nan_to_num(history.units[:, -HOLDOUT:])
    perfect = scores(history, actual)
    assert perfect == {"wape": 0.0, "mase": 0.0, "bias": 0.0}
    # Forecasting wildly on stock-out days changes nothing: they are not scored.
    noisy = actual + np.where(history.censored[:, -HOLDOUT:], 50.0, 0.0)
    assert scores(history, noisy) == perfect


def test_csv_round_trip(history):
    handle = io.StringIO()
    history_write_csv(history, handle)
    back = history_read_csv(io.StringIO(handle.getvalue()))
    order = np.lexsort((back.sku_index, back.store_index))
    assert np.array_equal(np.isnan(back.units[order]), np.isnan(history.units))
    assert np.array_equal(np.nan_to_num(back.units[order]), np.nan_to_num(history.units))
    assert back.case_pack[order].tolist() == history.case_pack.tolist()
    assert handle.getvalue().splitlines()[0] == ",".join(COLUMNS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("store,sku,date\nS1,A,2025-01-01\n", "row 1: missing column units"),
        ("store,date\nS1,2025-01-01\n", "row 1: missing columns sku, units"),
        ("store,sku,date,units\nS1,A,2025-01-01,2\nS1,A,2025-01-02,two\n", "row 3, column units: 'two' is not a number"),
        ("store,sku,date,units\nS1,A,01.01.2025,2\n", "row 2, column date: '01.01.2025' is not a date YYYY-MM-DD"),
        ("store,sku,date,units\nS1,A,2025-01-01,-1\n", "row 2, column units: '-1' must be zero or more"),
        ("store,sku,date,units,case_pack\nS1,A,2025-01-01,1,2.5\n", "row 2, column case_pack: '2.5' must be a whole number"),
        ("store,sku,date,units\nS1,A,2025-01-01\n", "row 2: 3 fields, the header has 4"),
        ("store,sku,date,units\n,A,2025-01-01,1\n", "row 2, column store: empty"),
        ("store,sku,date,units\nS1,A,2025-01-01,1\nS1,A,2025-01-01,2\n",
         "row 3, column date: 2025-01-01 appears twice for store S1, sku A"),
        ("", "row 1: the file is empty; expected the header store,sku,date,units"),
    ],
)  # fmt: skip
def test_csv_errors_name_row_and_column(text, message):
    with pytest.raises(HistoryError) as error:
        history_read_csv(io.StringIO(text))
    assert str(error.value) == message


def test_eval_command_stops_on_a_bad_csv_and_prints_nothing_else(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("store,sku,date,units\nS1,A,2025-01-01,x\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"bad.csv: row 2, column units: 'x' is not a number"):
        call_command("replenishment_eval", str(path), "--json", stdout=out)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="needs at least 84"):
        call_command("replenishment_eval", str(_short_history(tmp_path)), stdout=out)


def _short_history(tmp_path: Path) -> Path:
    path = tmp_path / "short.csv"
    path.write_text("store,sku,date,units\n" + "".join(f"S1,A,2025-01-{d:02d},1\n" for d in range(1, 31)))
    return path


def test_eval_command_exits_non_zero_with_the_message(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("store,sku,units\nS1,A,1\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "replenishment_eval", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "row 1: missing column date" in done.stderr
    assert done.stdout == ""


@pytest.mark.slow  # statsforecast compiles its models with numba on first use
def test_simulate_then_evaluate_commands(tmp_path):
    path = tmp_path / "h.csv"
    out = io.StringIO()
    call_command(
        "sales_simulate", str(path), "--stores", "2", "--products", "15", "--days", "120", "--seed", "5", stdout=out
    )
    assert out.getvalue().startswith("wrote ")
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    out = io.StringIO()
    call_command("replenishment_eval", str(path), "--json", "--fast", stdout=out)
    result = json.loads(out.getvalue())
    assert result["series"] == 30
    assert "seasonal_naive" in result["baselines"]
    # statsforecast's intermittent models, named by their model names.
    assert {"CrostonSBA", "TSB", "ADIDA", "IMAPA"} <= set(result["baselines"])


def test_figures_by_lead_time_add_up_to_the_whole(history, result):
    split = replenishment_evaluate(history, baselines=False, by_lead_time=True)
    # The standard keys are the same figures; the breakdown is one more key.
    assert {key: split[key] for key in ("policy", "minmax")} == {key: result[key] for key in ("policy", "minmax")}
    parts = split["by_lead_time"]
    assert set(parts) == {str(days) for days in np.unique(history.lead_time_days)}
    assert sum(part["series"] for part in parts.values()) == 120
    for name in ("policy", "minmax"):
        total = sum(part[name]["avg_inventory_value"] for part in parts.values())
        assert total == pytest.approx(split[name]["avg_inventory_value"], abs=0.05)
    for part in parts.values():
        expected = 1 - part["policy"]["avg_inventory_value"] / part["minmax"]["avg_inventory_value"]
        assert part["saving"] == pytest.approx(expected, abs=1e-4)
        assert 0 < part["policy"]["fill_rate"] <= 1
