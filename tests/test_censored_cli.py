"""``pricegym fit ... --stock-col / --stockout-col`` with the censored families."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pricegym import cli
from pricegym.demand.base import DemandModel
from pricegym.demand.censored_synthetic import stockout_history


@pytest.fixture()
def sold_out_csv(tmp_path: Path) -> Path:
    history, _ = stockout_history(1)
    frame = history.frame[["period", "price", "units", "stock"]]
    frame = frame.rename(columns={"stock": "on_hand"})
    frame.assign(sold_out=(history.censored).astype(int)).to_csv(
        tmp_path / "sales.csv", index=False
    )
    return tmp_path / "sales.csv"


def test_fit_with_stock_column_recovers_the_elasticity(
    sold_out_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    argv = [str(sold_out_csv), "--stock-col", "on_hand", "--model", "censored_poisson"]
    code = cli.main(["fit", *argv, "--no-backtest", "--json", "--out", str(out)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    el = doc["elasticity"]
    assert el["ci_low"] < -2.0 < el["ci_high"] and "66 of 200 periods censored" in el["method"]
    assert doc["data"]["censored"] == {"n": 66, "share": 0.33}
    assert DemandModel.load(out).family == "censored_poisson"
    # the flag alone marks the same periods
    flag = [str(sold_out_csv), "--stockout-col", "sold_out", "--model", "tobit"]
    code = cli.main(["fit", *flag, "--no-backtest", "--json"])
    tobit = json.loads(capsys.readouterr().out)
    assert code == 0 and tobit["information"]["n_censored"] == 66


def test_uncensored_family_reports_the_censoring_warning(
    sold_out_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["fit", str(sold_out_csv), "--stock-col", "on_hand", "--model", "poisson"])
    out = capsys.readouterr().out
    assert code == 0
    assert "CensoringWarning: 66 of 200 periods (33%)" in " ".join(out.split())


def test_stock_options_are_refused_with_a_dataset_and_bad_columns(
    sold_out_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["fit", "--dataset", "article", "--stock-col", "s"]) == 2
    assert "--stock-col" in capsys.readouterr().err
    assert cli.main(["fit", str(sold_out_csv), "--stock-col", "units"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "mapped both as the units sold and as the stock on hand" in err


def test_experiment_yaml_maps_the_stock_column(sold_out_csv: Path) -> None:
    from pricegym.experiments.evaluate import fit_model
    from pricegym.experiments.schema import parse_market

    spec = parse_market(
        {
            "data": {"path": str(sold_out_csv), "stock": "on_hand"},
            "model": {"family": "censored_negbin"},
        }
    )
    assert spec.data.load["stock"] == "on_hand"
    fitted = fit_model(spec.models[0], spec.data)
    assert fitted.family == "censored_negbin" and fitted.n_censored_ == 66
    el = fitted.elasticity()
    assert el.ci_low < -2.0 < el.ci_high
    again = parse_market({"data": spec.data.to_dict(), "model": spec.models[0].to_dict()})
    assert again.data.load == spec.data.load


def test_evaluate_logged_maps_the_stock_and_warns(
    sold_out_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "1.8", "--logged", str(sold_out_csv), "--stock-col", "on_hand"]
    code = cli.main([*argv, "--reward-family", "censored_poisson", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert any("66 of 200 periods (33%)" in w and "censored family" in w for w in doc["warnings"])
