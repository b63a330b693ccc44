"""Validating a market on a censored history: simulated sales are capped by the stock.

Known truth: ``stockout_history`` (Poisson demand 60·p^-2 capped by a stock that
ignores the price, a third of the periods sold out). The censored Poisson market is
the true model, so, with its simulated demand capped at each held-out period's stock
(sales = min(demand, stock)), its intervals cover their levels; with a sold-out flag
only (nothing to cap with) the same market is scored demand against sales and looks
too high.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from pricegym import cli
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.data import load_history
from pricegym.demand.validation import validate


def _flag_only(history):
    frame = history.frame.assign(sold_out=history.censored.astype(int)).drop(columns="stock")
    return load_history(frame, stockout="sold_out")


def test_capped_simulations_calibrate_the_true_market_and_uncapped_ones_do_not() -> None:
    history, _ = stockout_history(2, n_periods=600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capped = validate(history, "censored_poisson", 0.5, n_paths=400, seed=0, quiet=True)
        flag = validate(_flag_only(history), "censored_poisson", 0.5, n_paths=400, seed=0)
    assert capped.n_rows == 300 and int(history.censored[300:].sum()) > 90
    # 300 held-out periods: each level within twice its binomial tolerance (±2.5% at 95%)
    for p in (0.5, 0.8, 0.95):
        assert abs(capped.coverage[p] - p) <= 2 * capped.tolerance[p], (p, capped.coverage)
    assert abs(capped.revenue_bias) < 0.03 and abs(capped.pit_mean - 0.5) < 0.04
    assert (capped.rows["high95"] <= history.column("stock")[300:]).all()
    # uncapped demand against capped sales: too high, said in the verdict
    assert flag.coverage[0.95] < 0.85 and flag.revenue_bias > 0.1 and flag.pit_mean < 0.42
    assert "no stock column is mapped" in flag.verdict


def test_cli_validates_a_model_file_on_a_stock_column_with_capped_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history, _ = stockout_history(1)
    csv = tmp_path / "sales.csv"
    frame = history.frame[["period", "price", "units", "stock"]].rename(
        columns={"stock": "on_hand"}
    )
    frame.to_csv(csv, index=False)
    model = tmp_path / "m.json"
    fit = ["fit", str(csv), "--stock-col", "on_hand", "--model", "censored_poisson"]
    assert cli.main([*fit, "--no-backtest", "--out", str(model)]) == 0
    capsys.readouterr()
    argv = ["validate", str(model), str(csv), "--stock-col", "on_hand", "--paths", "200"]
    assert cli.main([*argv, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["family"] == "censored_poisson" and result["n_rows"] == 40
    assert "15 of 40 periods (38%) held out sold out" in result["verdict"]
    assert "capped at each period's stock before scoring" in result["verdict"]
    assert cli.main(argv) == 0
    assert "sales are compared with sales" in " ".join(capsys.readouterr().out.split())
