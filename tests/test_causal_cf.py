"""Control functions of ARIMAX (``arimax_cf``) and the neural family (``neural_cf``), issue 12.

The data are :func:`~pricegym.demand.synthetic.generate_confounded_history`'s: true
elasticity −2 (constant), a log price that answers a demand shock the analyst does
not see (sd 0.2), and a log-cost instrument of pass-through 1 and sd 0.1.

The tolerance of the recovery test comes from the first stage's strength and the
sample size: the instrumented slope's asymptotic standard error is
``σ_u / (√n · π · σ_z)`` with σ_u² = shock variance + Poisson noise in logs (≈ 1 / mean
units = 0.01), i.e. 0.1 at n = 500; 4 SE (0.4) bounds the estimate's error, while
the ordinary estimate's bias (plim −2 + 0.76) is 7.6 SE, so the test can tell them
apart. The first-stage F to expect is ``n R²/(1 − R²)`` ≈ 118 at n = 500.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from pricegym.demand.base import DemandModel
from pricegym.demand.data import load_history
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import Confounding, generate_confounded_history

pytest.importorskip("linearmodels")

TRUTH = -2.0
#: ARIMAX in logs of units and price: the structural equation of a constant-elasticity truth
ARIMAX = {"target": "log", "price_transform": "log", "seasonality": 0}
#: a small net (one thread, as the family runs): 20 two-stage refits, the family's default
NEURAL = {"hidden": (8,), "price_units": 2, "max_iter": 100, "seasonality": 0}
FAMILIES = {"arimax_cf": ARIMAX, "neural_cf": NEURAL}


def _tolerance(conf: Confounding, n: int, mean_units: float = 100.0) -> float:
    sigma_u = math.sqrt(conf.shock_sd**2 + 1.0 / mean_units)
    return 4.0 * sigma_u / (math.sqrt(n) * conf.pass_through * conf.cost_sd)


@pytest.fixture(scope="module")
def confounded():
    return generate_confounded_history(n_periods=500, seed=3)


@pytest.fixture(scope="module")
def fitted(confounded):
    out = {}
    for family, params in FAMILIES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[family] = make_model(family, instruments=["cost"], **params).fit(confounded)
    return out


@pytest.mark.parametrize("family", list(FAMILIES))
def test_control_function_recovers_the_elasticity_the_ordinary_fit_misses(fitted, family):
    model, conf = fitted[family], Confounding()
    causal = model.causal_
    assert causal["iv"]["family"] == family
    assert causal["ordinary"]["family"] == family.removesuffix("_cf")
    fs = causal["first_stage"]
    # F ≈ 118 expected, sampling sd ≈ sqrt(2·118) ≈ 15: 60..180 is ±4 sd; never weak
    assert 60 < fs["f"] < 180 and 60 < fs["robust_f"] < 180 and not fs["weak"]
    assert fs["partial_r2"] == pytest.approx(conf.partial_r2(), abs=0.08)
    ordinary, e = causal["ordinary"], model.elasticity()
    # the ordinary interval excludes the truth; the ordinary estimate is outside the CF's
    assert not ordinary["ci_low"] <= TRUTH <= ordinary["ci_high"]
    assert not e.ci_low <= ordinary["estimate"] <= e.ci_high
    assert ordinary["estimate"] == pytest.approx(TRUTH + conf.ols_bias(), abs=0.15)
    # the control function recovers the truth within 4 asymptotic SEs (0.4, see the top)
    assert abs(e.estimate - TRUTH) < _tolerance(conf, 500)
    assert e.ci_low < e.estimate < e.ci_high and "stage" in e.method  # both stages resampled
    assert causal["endogeneity"]["pvalue"] < 0.01 and "bootstrap" in causal["endogeneity"]["test"]
    assert causal["overidentification"] is None  # one instrument
    assert "biased toward zero" in causal["verdict"]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_weak_instrument_warns(family):
    from pricegym.demand.iv import WeakInstrumentWarning

    # cost_sd 0.005: expected F = 200 · 2.5e-5 / 0.0425 ≈ 0.1, far below 10
    weak = generate_confounded_history(
        confounding=Confounding(cost_sd=0.005), n_periods=200, seed=3
    )
    params = FAMILIES[family] | ({"n_boot": 0} if family == "arimax_cf" else {"n_bootstrap": 0})
    with pytest.warns(WeakInstrumentWarning, match="first-stage F"):
        model = make_model(family, instruments=["cost"], **params).fit(weak)
    assert model.causal_["first_stage"]["weak"]
    assert model.causal_["verdict"].startswith("WEAK INSTRUMENT")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_kernel_is_the_structural_response_and_round_trips(fitted, family, tmp_path):
    model = fitted[family]
    prices = np.array([8.0, 10.0, 12.0])
    kernel_units = model.expected_units(prices)
    # the library's prediction with the control at zero (times the level factor)
    np.testing.assert_allclose(model.library_expected_units(prices), kernel_units, rtol=1e-9)
    loaded = DemandModel.load(model.save(tmp_path / f"{family}.json"))
    assert type(loaded) is type(model) and loaded.results_ is None
    np.testing.assert_allclose(loaded.expected_units(prices), kernel_units, rtol=1e-12)
    e, le = model.elasticity(), loaded.elasticity()
    assert (le.estimate, le.ci_low, le.ci_high) == pytest.approx(
        (e.estimate, e.ci_low, e.ci_high), rel=1e-9
    )
    assert loaded.causal_ == json.loads(json.dumps(model.causal_))
    table = loaded.params_table()
    assert table["term"].tolist() == model.params_table()["term"].tolist()


def test_arimax_level_correction_restores_the_average_structural_function(fitted):
    model = fitted["arimax_cf"]
    # smearing over the structural residuals ρ v̂ + ê: the level exceeds exp(x'β + Z a)
    # by about exp(var(ρ v̂ + e) / 2), and the elasticity is β_log p itself
    assert 1.0 < model.smear_ < 1.1
    assert model.elasticity_.estimate == pytest.approx(model.coef_[model.spec_.price_index])


def test_neural_level_factor_is_the_mean_of_the_control_term(fitted):
    model = fitted["neural_cf"]
    rho = float(model.params_["control"])
    assert model.scale_ == pytest.approx(float(np.mean(np.exp(rho * model.control_))))
    assert model.control_.mean() == pytest.approx(0.0, abs=1e-9)  # standardised
    assert rho > 0  # a busy week raises both the price and demand: positive control


def test_arimax_bootstrap_gls_is_the_likelihood_optimum_and_the_filter_is_statsmodels():
    """The replicates' two pieces, checked against statsmodels on the original data:
    the innovation matrix reproduces the Kalman filter's forecast errors (with missing
    periods), and GLS with the SARIMA parameters fixed reproduces SARIMAX's β̂, ρ̂."""
    from pricegym.demand.iv_arimax import innovation_matrix

    full = generate_confounded_history(n_periods=300, seed=8)
    keep = np.setdiff1d(np.arange(300), [40, 41, 150, 220])  # four missing periods
    history = full.take(keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_model("arimax_cf", instruments=["cost"], n_boot=0, order=(1, 0, 1), **ARIMAX)
        model._fit_for_backtest(history)  # both stages, no diagnostics or ordinary twin
    res = model.results_
    fr = res.filter_results
    exog = np.asarray(res.model.exog)
    y = np.asarray(res.model.endog).reshape(-1)
    observed = np.isfinite(y)
    assert observed.sum() == 296 and observed.size == 300
    gains = np.asarray(fr.kalman_gain[:, 0, :]).T
    lmat = innovation_matrix(model.transition_, model.design_, gains, observed)
    k1 = exog.shape[1]
    resid = (y - exog @ np.asarray(res.params)[:k1])[observed]
    np.testing.assert_allclose(lmat @ resid, fr.forecasts_error[0, observed], rtol=1e-9, atol=1e-9)
    sf = np.sqrt(fr.forecasts_error_cov[0, 0, observed])
    white = lmat @ np.column_stack([exog[observed], y[observed]]) / sf[:, None]
    gls, *_ = np.linalg.lstsq(white[:, :-1], white[:, -1], rcond=None)
    # GLS is the exact optimum over β at the fitted ARMA parameters: it can only raise the
    # likelihood; statsmodels' optimiser stops near it, along the intercept–log-price ridge
    # (log price ≈ 2.3 far from 0 makes the two nearly collinear), within a fraction of an SE
    mle = np.asarray(res.params)
    assert res.model.loglike(np.concatenate([gls, mle[k1:]])) >= res.llf - 1e-8
    np.testing.assert_allclose(gls, mle[:k1], atol=0.1)


# ------------------------------------------------------------------ backtest leakage
N, LAST = 300, 30  # the last backtest fold's 30 periods (5 folds x 300 // 10)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_backtest_folds_refit_the_first_stage_without_held_out_periods(family):
    frame = generate_confounded_history(n_periods=N, seed=5).frame.drop(columns=["t"])
    poisoned = frame.copy()
    poisoned.loc[poisoned.index[-LAST:], "cost"] = np.random.default_rng(9).uniform(1, 20, LAST)
    load = {"date": "date", "cost": "cost"}
    clean, dirty = load_history(frame, **load), load_history(poisoned, **load)
    params = {"n_boot": 0} if family == "arimax_cf" else {"n_bootstrap": 0, "max_iter": 40}
    params = FAMILIES[family] | params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = (make_model(family, instruments=["cost"], **params) for _ in range(2))
        a._fit_for_backtest(clean)  # the folds' own fit: both stages, no diagnostics
        b._fit_for_backtest(dirty)
        # the poison matters to a fit that sees it (sanity: the check can fail) ...
        assert abs(a.elasticity_.estimate - b.elasticity_.estimate) > 1e-3
        bt_a, bt_b = a.backtest(n_splits=5), b.backtest(n_splits=5)
    assert bt_a.test_size == LAST
    # ... and no fold trains on the last fold's periods: same rows, same code, one machine
    np.testing.assert_allclose(
        bt_a.predictions["predicted"], bt_b.predictions["predicted"], rtol=1e-8
    )


def test_instrument_maps_arimax_and_neural_to_their_twins_in_cli_and_yaml():
    from pricegym.cli._causal import instrumented_families
    from pricegym.demand.iv import IV_FAMILIES
    from pricegym.experiments.schema._iv import instrumented_model

    assert IV_FAMILIES["arimax"] == "arimax_cf" and IV_FAMILIES["neural"] == "neural_cf"
    assert instrumented_families("neural", None, ["cost"])[0] == "neural_cf"
    assert instrumented_model(["cost"], "market.model", "arimax", {}) == (
        "arimax_cf",
        {"instruments": ["cost"]},
    )


def test_cli_fit_instrument_with_arimax_reports_the_causal_check(tmp_path, capsys):
    from pricegym import cli

    history = generate_confounded_history(n_periods=200, seed=3)
    path = tmp_path / "sales.csv"
    history.frame.drop(columns=["t"]).to_csv(path, index=False)
    argv = ["fit", str(path), "--instrument", "cost", "--model", "arimax", "--no-backtest"]
    code = cli.main([*argv, "--json"])  # the table form renders the same document
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["model"] == "arimax_cf"
    causal = doc["causal"]
    assert causal["iv"]["family"] == "arimax_cf" and causal["ordinary"]["family"] == "arimax"
    assert causal["first_stage"]["f"] > 10 and causal["weak_threshold"] == 10.0
    assert causal["endogeneity"]["pvalue"] < 0.05
    assert causal["verdict"].startswith("the ordinary estimate")
