"""``pricegym fit --instrument`` and the fit report's causal section (issue 12).

The data are :func:`~pricegym.demand.synthetic.generate_confounded_history`'s: true
elasticity −2, a price that answers a demand shock the analyst does not see, and a
cost instrument of first-stage F ≈ 80 on 500 weekly rows (its default strength).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym import cli
from pricegym.demand.synthetic import Confounding, generate_confounded_history

pytest.importorskip("linearmodels")

TRUE_ELASTICITY = -2.0


def _csv(tmp_path: Path, name: str = "sales.csv", **kwargs) -> Path:
    history = generate_confounded_history(**{"n_periods": 500, "seed": 3, **kwargs})
    frame = history.frame.drop(columns=["t"]).rename(columns={"cost": "unit_cost"})
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _fit_json(capsys, *argv: str) -> dict:
    code = cli.main(["fit", *argv, "--no-backtest", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_instrument_cost_fits_the_iv_twin_and_reports_the_causal_check(tmp_path, capsys):
    path = _csv(tmp_path)
    doc = _fit_json(capsys, str(path), "--cost", "unit_cost", "--instrument", "cost")
    assert doc["model"] == "linear_iv"  # the default family's instrumented twin
    doc = _fit_json(
        capsys, str(path), "--cost", "unit_cost", "--instrument", "cost", "--model", "loglinear"
    )
    assert doc["model"] == "loglinear_iv"
    causal = doc["causal"]
    assert causal["endogenous"] == ["log_price"] and causal["instruments"] == ["cost"]
    fs = causal["first_stage"]
    # Confounding's default strength states F ≈ 80 for 500 rows; its sampling sd at that
    # size is about sqrt(2 * 80) ≈ 13, so 40 < F < 140 is ±4 sd.
    assert 40 < fs["f"] < 140 and 40 < fs["robust_f"] < 140 and not fs["weak"]
    assert 0 < fs["partial_r2"] < 1
    assert causal["endogeneity"]["pvalue"] < 0.01  # the price *is* endogenous here
    assert causal["overidentification"] is None  # one instrument: exactly identified
    iv, ordinary = causal["iv"], causal["ordinary"]
    # IV's SE is ≈ 0.15 at this size: the truth is in its interval; OLS's plim −1.24 is
    # about 5 SE away, outside it (the same numbers as tests/test_causal.py).
    assert iv["ci_low"] <= TRUE_ELASTICITY <= iv["ci_high"]
    assert not iv["ci_low"] <= ordinary["estimate"] <= iv["ci_high"]
    assert ordinary["family"] == "loglinear"
    assert causal["bias"] == pytest.approx(ordinary["estimate"] - iv["estimate"], rel=1e-12)
    assert "biased toward zero" in causal["verdict"]
    assert doc["elasticity"]["estimate"] == pytest.approx(iv["estimate"], rel=1e-12)


def test_a_column_instrument_is_loaded_and_equals_the_cost_route(tmp_path, capsys):
    path = _csv(tmp_path)
    by_cost = _fit_json(
        capsys, str(path), "--cost", "unit_cost", "--instrument", "cost", "--model", "loglinear"
    )
    by_column = _fit_json(capsys, str(path), "--instrument", "unit_cost", "--model", "loglinear")
    assert by_column["causal"]["instruments"] == ["unit_cost"]
    # the same numbers through the same code: only the name differs
    assert by_column["elasticity"]["estimate"] == pytest.approx(
        by_cost["elasticity"]["estimate"], rel=1e-12
    )


def test_two_instruments_report_the_overidentification_test(tmp_path, capsys):
    path = _csv(tmp_path)
    frame = pd.read_csv(path)
    # a second valid instrument: the cost seen through independent noise (exogenous too)
    noise = np.random.default_rng(11).normal(0.0, 0.05, len(frame))
    frame["quote"] = frame["unit_cost"] * np.exp(noise)
    frame.to_csv(path, index=False)
    doc = _fit_json(
        capsys,
        str(path),
        *("--cost", "unit_cost", "--instrument", "cost", "--instrument", "quote"),
        *("--model", "loglinear"),
    )
    over = doc["causal"]["overidentification"]
    assert over["df"] == 1  # two instruments, one endogenous price
    assert set(over) >= {"sargan", "sargan_pvalue", "hansen_j", "hansen_j_pvalue"}
    # both instruments are valid by construction, so the test should not reject at 1%
    # (fixed seed: this is one deterministic draw, not a flaky rate)
    assert over["sargan_pvalue"] > 0.01 and over["hansen_j_pvalue"] > 0.01
    assert doc["causal"]["instruments"] == ["cost", "quote"]


def test_hausman_instrument_on_a_panel_file(tmp_path, capsys):
    # three markets share one supplier cost per period, so the other markets' mean price
    # moves with the cost and not with this market's demand shock: a valid instrument
    path = _csv(tmp_path, n_periods=200, n_products=3)
    doc = _fit_json(
        capsys, str(path), "--product", "product", "--instrument", "hausman", "--model", "loglinear"
    )
    causal = doc["causal"]
    assert causal["instruments"] == ["hausman"]
    assert causal["first_stage"]["f"] > 10
    # 600 rows, F well above 10: the IV interval covers the truth (95% coverage)
    assert causal["iv"]["ci_low"] <= TRUE_ELASTICITY <= causal["iv"]["ci_high"]


def test_weak_instrument_is_said_in_the_table_and_the_warnings(tmp_path, capsys):
    path = _csv(tmp_path, n_periods=200, confounding=Confounding(cost_sd=0.005))
    code = cli.main(
        ["fit", str(path), "--instrument", "unit_cost", "--model", "loglinear", "--no-backtest"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Causal check" in out and "WEAK (< 10)" in out
    assert "WEAK INSTRUMENT" in out  # the verdict
    assert "WeakInstrumentWarning" in out


def test_model_auto_compares_the_instrumented_families_and_says_forecasts_are_not_causal(
    tmp_path, capsys
):
    path = _csv(tmp_path, n_periods=200)
    code = cli.main(
        [
            *("fit", str(path), "--instrument", "unit_cost", "--model", "auto"),
            *("--families", "linear,loglinear", "--splits", "3", "--json"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert {row["model"] for row in doc["league"]} == {"linear_iv", "loglinear_iv"}
    assert doc["best"] in ("linear_iv", "loglinear_iv")
    assert any("not a better causal estimate" in n for n in doc["notes"])
    assert doc["causal"] is not None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--dataset", "article", "--instrument", "pimin"], "bundled data sets are already"),
        (["DATA", "--instrument", "unit_cost", "--model", "tobit"], "no instrumental-variable"),
        (["DATA", "--instrument", "nope"], "nope"),
        (["DATA", "--instrument", "hausman"], "needs a panel"),
    ],
)
def test_bad_instruments_exit_2_naming_the_value_and_the_fix(tmp_path, capsys, argv, needle):
    path = _csv(tmp_path, n_periods=60)
    argv = [str(path) if a == "DATA" else a for a in argv]
    code = cli.main(["fit", *argv, "--no-backtest"])
    _, err = capsys.readouterr()
    assert code == 2
    assert needle in err and "Fix" in err


def test_an_ordinary_fit_has_no_causal_section(tmp_path, capsys):
    doc = _fit_json(capsys, str(_csv(tmp_path, n_periods=60)), "--model", "loglinear")
    assert doc["causal"] is None


def test_an_instrument_with_zeros_is_refused_in_logs_and_fits_at_its_level(tmp_path, capsys):
    """A tax that some markets do not levy (zeros) cannot be logged: the error names
    --instrument-scale level, which keeps it as recorded and recovers the truth."""
    path = _csv(tmp_path)
    frame = pd.read_csv(path)
    frame["tax"] = frame["unit_cost"] - frame["unit_cost"].min()  # cost shifted: one zero
    frame.to_csv(path, index=False)
    code = cli.main(["fit", str(path), "--instrument", "tax", "--model", "loglinear"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'tax'" in err and "<= 0" in err and "--instrument-scale level" in err
    doc = _fit_json(
        capsys,
        str(path),
        "--instrument",
        "tax",
        "--instrument-scale",
        "level",
        "--model",
        "loglinear",
    )
    assert doc["hyperparameters"]["instrument_scale"] == "level"
    assert doc["causal"]["instruments"] == ["tax"]  # the label: not log(tax)
    e = doc["elasticity"]
    # 500 rows, F ≈ 80 as in the module docstring: the IV slope's SE ≈ 0.15
    assert e["ci_low"] <= TRUE_ELASTICITY <= e["ci_high"]
    assert e["estimate"] == pytest.approx(TRUE_ELASTICITY, abs=0.45)
