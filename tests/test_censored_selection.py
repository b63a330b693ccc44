"""``--model auto`` on a history with sold-out periods: censored families compete, scored fairly.

Known truth: ``stockout_history`` draws demand 60·p^-2 (elasticity -2) capped by a stock
that ignores the price; a third of the periods sell out.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym import cli
from pricegym.demand._censored_scoring import censored_metrics
from pricegym.demand._stockout import expected_sales
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.data import load_history
from pricegym.demand.noise import NoiseModel
from pricegym.demand.selection import DEFAULT_FAMILIES, compare_models, default_families

FAMILIES = ("poisson", "censored_poisson")


@pytest.fixture(scope="module")
def sold_out() -> object:
    return stockout_history(1)[0]


def _flag_only(history: object) -> object:
    frame = history.frame.assign(sold_out=history.censored.astype(int)).drop(columns="stock")  # type: ignore[attr-defined]
    return load_history(frame, stockout="sold_out")


def test_censored_families_join_the_defaults_only_when_periods_sold_out(sold_out) -> None:
    assert default_families(sold_out) == (
        *DEFAULT_FAMILIES,
        "censored_poisson",
        "censored_negbin",
        "tobit",
    )
    assert default_families(_flag_only(sold_out))[-3:] == (
        "censored_poisson",
        "censored_negbin",
        "tobit",
    )
    plain = load_history(sold_out.frame.drop(columns="stock"))
    assert default_families(plain) == DEFAULT_FAMILIES
    never = sold_out.frame.assign(stock=sold_out.frame["units"] + 1000)
    assert default_families(load_history(never, stock="stock")) == DEFAULT_FAMILIES


class _Model:
    noise_ = NoiseModel("poisson")


def test_flag_only_rule_counts_a_sold_out_period_only_below_its_sales() -> None:
    frame = pd.DataFrame(
        {"period": [0, 1, 2], "price": [1.0, 1.5, 2.0], "units": [8, 6, 8], "so": [1, 0, 1]}
    )
    history = load_history(frame, period="period", stockout="so")
    predictions = pd.DataFrame(
        {"t": history.t, "product": "all", "actual": [8.0, 6.0, 8.0], "predicted": [10, 5, 6]}
    )
    m = censored_metrics(_Model(), history, predictions)
    # errors: sold out 10 vs 8 -> 0 (demand >= 8); 5 vs 6 -> -1; sold out 6 vs 8 -> -2
    assert m["wape"] == pytest.approx(3 / 22)
    assert m["bias"] == pytest.approx(-1.0)
    assert m["mae"] == pytest.approx(1.0) and m["n"] == 3


def test_stock_rule_scores_expected_sales_under_each_periods_stock() -> None:
    frame = pd.DataFrame(
        {"period": [0, 1, 2], "price": [1.0, 1.5, 2.0], "units": [8, 6, 3], "s": [8, 9, 3]}
    )
    history = load_history(frame, period="period", stock="s")
    f = np.array([10.0, 5.0, 2.0])
    predictions = pd.DataFrame(
        {"t": history.t, "product": "all", "actual": [8.0, 6, 3], "predicted": f}
    )
    m = censored_metrics(_Model(), history, predictions)
    # oracle: E[min(Y, s)] for Y ~ Poisson(f) by summing the distribution
    from scipy import stats

    y = np.arange(400)[:, None]
    sales = np.sum(np.minimum(y, [8, 9, 3]) * stats.poisson.pmf(y, f), axis=0)
    np.testing.assert_allclose(sales, expected_sales(NoiseModel("poisson"), f, [8, 9, 3]))
    err = sales - np.array([8.0, 6.0, 3.0])
    assert m["bias"] == pytest.approx(err.mean(), rel=1e-9)
    assert m["wape"] == pytest.approx(np.abs(err).sum() / 17, rel=1e-9)


@pytest.mark.parametrize("flag", [False, True])
def test_comparison_ranks_the_censored_family_first_and_says_how(sold_out, flag) -> None:
    history = _flag_only(sold_out) if flag else sold_out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = compare_models(history, FAMILIES)
    assert comparison.best == "censored_poisson"
    el = comparison.best_model.elasticity_
    assert el.ci_low < -2.0 < el.ci_high  # the truth; the naive Poisson says about -1.4
    table = comparison.table.set_index("model")
    assert table.loc["poisson", "elasticity"] > -1.6
    assert table.loc["censored_poisson", "backtest_wape"] < table.loc["poisson", "backtest_wape"]
    note = comparison.notes[0]
    assert note.startswith("66 of 200 periods (33%)") and "censoring-aware" in note
    rule = "only a sold-out flag is mapped" if flag else "E[min(demand, stock)]"
    assert rule in note


def test_fit_auto_with_a_stock_column_keeps_the_censored_family(
    tmp_path: Path, sold_out, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "sales.csv"
    sold_out.frame[["period", "price", "units", "stock"]].rename(
        columns={"stock": "on_hand"}
    ).to_csv(csv, index=False)
    argv = ["fit", str(csv), "--stock-col", "on_hand", "--model", "auto"]
    argv += ["--families", ",".join(FAMILIES)]
    assert cli.main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["best"] == "censored_poisson"
    assert [r["model"] for r in doc["league"]] == ["censored_poisson", "poisson"]
    assert any("sales against sales" in n for n in doc["notes"])
    assert cli.main(argv) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Note: 66 of 200 periods (33%)" in text and "censoring-aware" in text
