"""Endogenous competitor prices (issue 12): instruments for them, order condition, diagnostics.

The data are :func:`~pricegym.demand.confounded_rivals.generate_confounded_rival_history`'s:
own elasticity −2, cross-price elasticity +0.8, and both prices answer the same demand
shock, so the ordinary log-log regression is off by the population bias
``RivalConfounding().ols_bias()`` = (+0.432, +0.432): own −1.57, cross +1.23.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pricegym import cli
from pricegym.demand.confounded_rivals import (
    RivalConfounding,
    generate_confounded_rival_history,
)
from pricegym.errors import ConfigError, ModelError

pytest.importorskip("linearmodels")

OWN, CROSS = -2.0, 0.8
RIVALS = {"comp_price": ["comp_cost"]}


@pytest.fixture(scope="module")
def history():
    return generate_confounded_rival_history(n_periods=800, seed=3)


def test_ordinary_regression_is_biased_by_the_stated_amount(history):
    x = np.column_stack(
        [np.ones(history.n_rows), np.log(history.price), np.log(history.column("comp_price"))]
    )
    coef, *_ = np.linalg.lstsq(x, np.log(history.units), rcond=None)
    own_bias, cross_bias = RivalConfounding().ols_bias()
    assert (own_bias, cross_bias) == pytest.approx((0.4324, 0.4324), abs=1e-4)
    # 800 rows: the OLS coefficients' sd is ≈ 0.03; Poisson noise in logs adds none
    # (independent of the prices), rounding to cents < 0.01: 0.1 is > 3 sd.
    assert coef[1] == pytest.approx(OWN + own_bias, abs=0.1)
    assert coef[2] == pytest.approx(CROSS + cross_bias, abs=0.1)


@pytest.mark.parametrize("family", ["loglinear_iv", "poisson_cf"])
def test_iv_recovers_the_cross_price_elasticity_that_ordinary_regression_misses(
    family, history, tmp_path
):
    from pricegym.demand.base import DemandModel
    from pricegym.demand.selection import make_model

    extra = {"n_boot": 49} if family == "poisson_cf" else {}
    model = make_model(family, instruments=["cost"], endogenous=RIVALS, **extra).fit(history)
    causal = model.causal_
    assert causal["endogenous"] == ["log_price", "log_competitor:comp_price"]
    assert causal["exogenous_prices"] == [] and causal["instruments_for"] == RIVALS
    cross = causal["cross"]["comp_price"]
    assert cross["endogenous"] and cross["kind"] == "elasticity"
    # 800 rows, each price's SW F ≈ 150: the IV SEs are ≈ 0.09 (cross) and ≈ 0.11 (own),
    # so 0.3 is ≈ 3 SE; the ordinary estimates are ≈ 0.43 (≈ 4-5 SE) off and outside
    # the IV intervals.
    iv, ordinary = cross["iv"], cross["ordinary"]
    assert iv["estimate"] == pytest.approx(CROSS, abs=0.3)
    assert iv["ci_low"] <= CROSS <= iv["ci_high"]
    assert not (iv["ci_low"] <= ordinary["estimate"] <= iv["ci_high"])
    assert ordinary["estimate"] == pytest.approx(CROSS + 0.432, abs=0.1)
    e = model.elasticity()
    assert e.estimate == pytest.approx(OWN, abs=0.35) and e.ci_low <= OWN <= e.ci_high
    stages = causal["first_stages"]
    assert list(stages) == causal["endogenous"]
    for fs in stages.values():
        assert fs["sw_f"] > 50 and fs["f"] > 50 and not fs["weak"]
        assert 0 < fs["shea_partial_r2"] < 1 and fs["k"] == 2
    assert causal["endogeneity"]["df"] == 2 and causal["endogeneity"]["pvalue"] < 0.01
    assert causal["overidentification"] is None  # two instruments, two prices
    assert "cross-price elasticity of comp_price" in causal["verdict"]
    loaded = DemandModel.load(model.save(tmp_path / f"{family}.json"))
    prices, comp = np.array([8.0, 10.0, 12.0]), np.array([[8.0], [10.0], [12.0]])
    np.testing.assert_allclose(
        loaded.expected_units(prices, competitors=comp),
        model.expected_units(prices, competitors=comp),
        rtol=1e-9,
    )
    # the market's demand is the structural one: raising the rival's price by 10% raises
    # expected units by 1.1 ** (IV cross elasticity), at any own price
    up = model.expected_units(prices, competitors=1.1 * comp) / model.expected_units(
        prices, competitors=comp
    )
    np.testing.assert_allclose(up, 1.1 ** iv["estimate"], rtol=1e-9)
    assert loaded.causal_["endogenous"] == causal["endogenous"]


def test_competitor_treated_as_exogenous_is_said_so(history):
    from pricegym.demand.selection import make_model

    model = make_model("loglinear_iv", instruments=["cost"]).fit(history)
    assert model.causal_["endogenous"] == ["log_price"]
    assert model.causal_["exogenous_prices"] == ["comp_price"]
    assert not model.causal_["cross"]["comp_price"]["endogenous"]


def test_order_condition_and_bad_declarations_are_refused(history):
    from pricegym.demand.selection import make_model

    cases = [
        ({"comp_price": ["cost"]}, "order condition"),  # one instrument, two prices
        ({"comp_price": ["hausman"]}, "hausman"),
        ({"other": ["comp_cost"]}, "not terms of the model"),
        ({"comp_price": []}, "non-empty list"),
        (["comp_price"], "must map"),
    ]
    for endogenous, needle in cases:
        with pytest.raises(ModelError, match=needle) as info:
            make_model("loglinear_iv", instruments=["cost"], endogenous=endogenous).fit(history)
        assert "Fix" in str(info.value)


def test_sanderson_windmeijer_f_sees_instruments_that_move_prices_only_together():
    """Two instruments that move both prices in the same proportion: each price's own
    first-stage F is large, but the instruments cannot tell the prices apart (rank one),
    which only the conditional (SW) F shows."""
    from pricegym.demand.iv import first_stage, first_stages

    rng = np.random.default_rng(0)
    n = 600
    exog = np.ones((n, 1))
    z = rng.normal(size=(n, 2))
    common = z @ [1.0, 0.5]
    shock = rng.normal(size=n)
    d = np.column_stack(
        [common + shock + rng.normal(size=n), 2.0 * common + shock + rng.normal(size=n)]
    )
    y = d @ [-1.0, 0.5] + shock + rng.normal(size=n)
    stages = first_stages(d, ["p", "q"], exog, z, ["a", "b"], y)
    for fs in stages.values():
        assert fs["f"] > 100  # relevant one by one
        assert fs["sw_f"] < 10 and fs["weak"]  # but not apart from each other
    # the same statistic by the libraries: linearmodels' 2SLS of p on q (instruments z),
    # then statsmodels' F test of z in the OLS of its residual, on L − m + 1 = 1 df
    import pandas as pd
    import statsmodels.api as sm
    from linearmodels.iv import IV2SLS

    resid = IV2SLS(d[:, 0], exog, pd.DataFrame({"q": d[:, 1]}), z).fit().resids
    ols = sm.OLS(np.asarray(resid), np.column_stack([exog, z])).fit()
    rss_u, rss_r = ols.ssr, float(np.sum((resid - resid.mean()) ** 2))
    oracle = ((rss_r - rss_u) / 1) / (rss_u / ols.df_resid)
    assert stages["p"]["sw_f"] == pytest.approx(oracle, rel=1e-8)
    # one endogenous price: the SW F is the ordinary first-stage F
    one = first_stages(d[:, :1], ["p"], exog, z, ["a", "b"], y)["p"]
    assert one["sw_f"] == pytest.approx(first_stage(d[:, 0], exog, z, ["a", "b"], y)["f"], rel=1e-8)
    with pytest.raises(ModelError, match="order condition"):
        first_stages(d, ["p", "q"], exog, z[:, :1], ["a"], y)


def _csv(tmp_path: Path) -> Path:
    history = generate_confounded_rival_history(n_periods=400, seed=5)
    path = tmp_path / "rivals.csv"
    history.frame.drop(columns=["t"]).to_csv(path, index=False)
    return path


def test_cli_instrument_for_states_the_endogenous_prices(tmp_path, capsys):
    path = _csv(tmp_path)
    argv = ["fit", str(path), "--instrument", "cost", "--model", "loglinear", "--no-backtest"]
    # no --competitor: the endogenous competitor column is loaded by --instrument-for
    code = cli.main([*argv, "--instrument-for", "comp_price=comp_cost", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    causal = json.loads(out)["causal"]
    assert causal["endogenous"] == ["log_price", "log_competitor:comp_price"]
    assert causal["instruments_for"] == RIVALS
    assert set(causal["first_stages"]) == set(causal["endogenous"])
    assert json.loads(out)["hyperparameters"]["endogenous"] == RIVALS
    code = cli.main([*argv, "--instrument-for", "comp_price=comp_cost"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "instruments for comp_price" in out and "Sanderson–Windmeijer" in out
    assert "first stage of log_competitor:comp_price" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--instrument-for", "comp_price"], "is not COMP=INSTRUMENT"),
        (["--instrument-for", "comp_price=cost"], "order condition"),
    ],
)
def test_cli_bad_instrument_for_exits_2_with_the_fix(tmp_path, capsys, extra, needle):
    path = _csv(tmp_path)
    code = cli.main(["fit", str(path), "--instrument", "cost", "--no-backtest", *extra])
    _, err = capsys.readouterr()
    assert code == 2 and needle in err and "Fix" in err


def test_cli_instrument_for_needs_an_own_price_instrument():
    import argparse

    from pricegym.cli._causal import endogenous_of

    args = argparse.Namespace(instrument=None, instrument_for=["comp_price=comp_cost"])
    with pytest.raises(ConfigError, match="own price has no instrument") as info:
        endogenous_of(args)
    assert "--instrument cost" in str(info.value)
    args = argparse.Namespace(instrument=["cost"], instrument_for=["c=a,b", "c=b,d"])
    assert endogenous_of(args) == {"c": ("a", "b", "d")}  # one price given twice: merged


def test_yaml_endogenous_loads_the_columns_and_fits_the_twin(tmp_path):
    from pricegym.experiments.evaluate import fit_model
    from pricegym.experiments.schema import parse_market

    path = _csv(tmp_path)
    spec = parse_market(
        {
            "data": {"path": str(path)},
            "model": {"family": "loglinear", "instruments": ["cost"], "endogenous": RIVALS},
        }
    )
    (model,) = spec.models
    assert model.family == "loglinear_iv"
    assert model.params == {"instruments": ["cost"], "endogenous": RIVALS}
    assert spec.data.load["competitors"] == ["comp_price"]
    assert spec.data.load["instruments"] == ["comp_cost"]
    fitted = fit_model(model, spec.data)
    assert fitted.causal_["endogenous"] == ["log_price", "log_competitor:comp_price"]
    again = parse_market({"data": spec.data.to_dict(), "model": [m.to_dict() for m in spec.models]})
    assert again.models == spec.models and again.data.load == spec.data.load
    for bad, needle in (
        ({"family": "loglinear", "endogenous": RIVALS}, "no instruments"),
        ({"family": "loglinear", "instruments": ["cost"], "endogenous": ["x"]}, "must map"),
        (
            {"family": "loglinear", "instruments": ["cost"], "endogenous": {"c": ["hausman"]}},
            "hausman",
        ),
    ):
        with pytest.raises(ConfigError, match="endogenous") as info:
            parse_market({"data": {"path": str(path)}, "model": bad})
        assert needle in str(info.value)
