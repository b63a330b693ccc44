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
