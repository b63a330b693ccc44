"""Regression families: exact OLS, panels, and refusals that explain themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand import LinearDemand, LogLinearDemand, PoissonDemand, load_history
from pricegym.demand.datasets import ARTICLE_PRICES, ARTICLE_UNITS, load_dataset
from pricegym.demand.features import FeatureSpec
from pricegym.demand.synthetic import generate_history
from pricegym.errors import DataValidationError, ModelError


def test_article_example_is_the_exact_ols_line():
    history = load_dataset("article")
    model = LinearDemand().fit(history)
    p, q = np.asarray(ARTICLE_PRICES, float), np.asarray(ARTICLE_UNITS, float)
    slope = np.sum((p - p.mean()) * (q - q.mean())) / np.sum((p - p.mean()) ** 2)
    intercept = q.mean() - slope * p.mean()
    np.testing.assert_allclose(model.coef_, [intercept, slope], rtol=1e-10)
    assert model.spec_.names == ["intercept", "price"]
    assert model.elasticity_.estimate == pytest.approx(slope * p.mean() / q.mean(), rel=1e-8)
    assert model.support_ == (840.0, 1000.0)


def test_panel_gets_product_fixed_effects():
    history = load_dataset("cigar")
    model = LogLinearDemand().fit(history)
    names = model.spec_.names
    assert sum(n.startswith("product:") for n in names) == 45  # 46 states, one baseline
    assert "log_competitor:pimin" in names
    el = model.elasticity_
    assert el.ci_high < 0 and el.ci_low < el.estimate < el.ci_high
    # Predictions for a named product use that product's fixed effect.
    a = model.expected_units([100.0], product=history.products[0])
    b = model.expected_units([100.0], product=history.products[5])
    assert a[0] != b[0]
    with pytest.raises(ModelError, match="not one the model was fitted on"):
        model.expected_units([100.0], product="Atlantis")


def test_loglinear_refuses_zero_sales_and_points_to_poisson():
    frame = pd.DataFrame(
        {"period": range(12), "price": np.linspace(5, 8, 12), "units": [3, 0, 2] * 4}
    )
    history = load_history(frame)
    with pytest.raises(DataValidationError, match=r"units = 0.*PoissonDemand"):
        LogLinearDemand().fit(history)
    PoissonDemand().fit(history)  # handles zeros


def test_collinear_regressors_are_refused():
    frame = pd.DataFrame(
        {"period": range(20), "price": np.linspace(5, 8, 20), "units": np.arange(20) + 5.0}
    )
    frame["twin"] = frame["price"] * 2  # a competitor that is exactly the own price x 2
    history = load_history(frame, competitors=["twin"])
    with pytest.raises(ModelError, match="collinear"):
        LinearDemand().fit(history)


def test_unknown_competitor_names_the_columns():
    history = generate_history(seed=2)
    with pytest.raises(ModelError, match=r"\['rival'\].*competitor_price"):
        LinearDemand(competitors=["rival"]).fit(history)


def test_too_few_rows_names_the_requirement():
    frame = pd.DataFrame({"period": range(3), "price": [1.0, 2.0, 3.0], "units": [3, 2, 1]})
    with pytest.raises(DataValidationError, match="too few rows"):
        LinearDemand().fit(load_history(frame))


def test_poisson_standard_errors_are_scaled_for_overdispersion():
    history = generate_history(noise="negbin", dispersion=0.3, seed=4)
    model = PoissonDemand().fit(history)
    assert model.results_.scale > 5  # Pearson chi2/df picks up the extra variance
    assert model.noise_.kind == "negbin"
    assert model.noise_.alpha == pytest.approx(0.3, rel=0.35)


def test_feature_spec_layout_and_round_trip():
    spec = FeatureSpec(
        price_transform="log",
        competitors=("c",),
        promotions=("promo",),
        products=("a", "b", "c"),
        trend=True,
        fourier=2,
        season_period=52.0,
    )
    assert spec.names == [
        "intercept", "log_price", "log_competitor:c", "promo:promo", "product:b",
        "product:c", "trend", "sin1", "cos1", "sin2", "cos2",
    ]  # fmt: skip
    x = spec.build(
        np.array([2.0, 4.0]),
        np.array([[3.0], [5.0]]),
        np.array([[1.0], [0.0]]),
        np.array([13.0, 26.0]),
        np.array([2, 0]),
    )
    assert x.shape == (2, 11)
    np.testing.assert_allclose(x[0, :7], [1, np.log(2), np.log(3), 1, 0, 1, 13])
    np.testing.assert_allclose(x[1, 7:], [np.sin(np.pi), np.cos(np.pi), 0, 1], atol=1e-12)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ModelError, match="seasonal period"):
        FeatureSpec(fourier=1)


def test_model_may_ignore_columns_the_data_has(weekly_history):
    """competitors=False / promotions=False: the reference context drops those columns."""
    model = LinearDemand(competitors=False, promotions=False).fit(weekly_history)
    assert model.spec_.names[:2] == ["intercept", "price"]
    assert model.reference_["competitors"] == [] and model.reference_["promotions"] == []
    assert model.expected_units([10.0]).shape == (1,)


def _underdispersed_weeks() -> pd.DataFrame:
    """8 weeks of binomial sales (variance ≈ half the mean; Pearson χ²/df = 0.12)."""
    price = [0.90, 0.95, 1.00, 1.05, 1.10, 0.98, 0.93, 1.07]
    units = [70, 59, 43, 32, 26, 44, 58, 29]
    return pd.DataFrame({"period": range(8), "price": price, "units": units})


def test_poisson_dispersion_is_floored_at_one_so_intervals_never_beat_ml():
    """Quasi-Poisson with χ²/df < 1 would give intervals narrower than maximum likelihood
    ([−5.61, −4.49] here); the floor gives statsmodels' ML GLM interval [−6.67, −3.43]."""
    import statsmodels.api as sm

    frame = _underdispersed_weeks()
    model = PoissonDemand().fit(load_history(frame))
    x = sm.add_constant(np.log(frame["price"].to_numpy()))
    ml = sm.GLM(frame["units"].to_numpy(float), x, family=sm.families.Poisson()).fit()
    ml_low, ml_high = np.asarray(ml.conf_int())[1]
    el = model.elasticity_
    assert (el.ci_low, el.ci_high) == pytest.approx((ml_low, ml_high), rel=1e-8)
    assert (el.ci_low, el.ci_high) == pytest.approx((-6.671, -3.430), abs=1e-3)
    assert model.dispersion_ == pytest.approx(0.1199, abs=5e-4)  # raw Pearson χ²/df
    assert model.results_.scale == 1.0
    assert "χ²/df = 0.12 < 1" in el.method and "floored at 1" in el.method
    table = model.params_table()
    np.testing.assert_allclose(table["std_err"], ml.bse, rtol=1e-8)


def test_poisson_overdispersion_still_widens_the_intervals():
    history = generate_history(noise="negbin", dispersion=0.3, seed=4)
    model = PoissonDemand().fit(history)
    assert model.dispersion_ == pytest.approx(model.results_.scale, rel=1e-12)
    assert model.dispersion_ > 5
    assert "quasi-Poisson" in model.elasticity_.method


def test_poisson_dispersion_survives_save_and_load(tmp_path):
    model = PoissonDemand().fit(load_history(_underdispersed_weeks()))
    loaded = PoissonDemand.load(model.save(tmp_path / "m.json"))
    assert loaded.dispersion_ == pytest.approx(model.dispersion_, rel=1e-12)
    assert loaded.elasticity_ == model.elasticity_


def test_poisson_information_is_the_poisson_likelihood_whatever_the_dispersion():
    """AIC/BIC/llf are the ML Poisson ones (statsmodels' llf at scale χ²/df is not)."""
    import statsmodels.api as sm

    history = generate_history(noise="negbin", dispersion=0.3, seed=4)
    model = PoissonDemand(competitors=False, promotions=False, seasonality=0).fit(history)
    x = sm.add_constant(np.log(history.price))
    ml = sm.GLM(history.units, x, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(model.coef_, ml.params, rtol=1e-6)
    info = model.information()
    assert info["llf"] == pytest.approx(ml.llf, rel=1e-8)
    assert info["aic"] == pytest.approx(ml.aic, rel=1e-8)
    assert info["bic"] == pytest.approx(ml.bic_llf, rel=1e-8)
