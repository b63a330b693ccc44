"""Synthetic histories: determinism, the analytic elasticity, and unbiased noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.synthetic import (
    FORMS,
    DemandTruth,
    PriceProcess,
    default_truth,
    generate_history,
)
from pricegym.errors import ConfigError


def test_same_seed_same_frame_different_seed_different_frame() -> None:
    options = {"n_periods": 60, "n_products": 2, "noise": "negbin"}
    first = generate_history(seed=7, **options)
    again = generate_history(seed=7, **options)
    other = generate_history(seed=8, **options)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert first.notes == again.notes
    assert not first.frame["price"].equals(other.frame["price"])
    assert not first.frame["units"].equals(other.frame["units"])


def test_history_is_validated_and_shaped_as_documented() -> None:
    history = generate_history(n_periods=30, n_products=3)
    assert history.frame.columns.tolist() == [
        "date",
        "t",
        "price",
        "units",
        "competitor_price",
        "promo",
        "product",
    ]
    assert history.products == ("P1", "P2", "P3")
    assert history.competitors == ("competitor_price",)
    assert history.promotions == ("promo",)
    assert history.freq == "W" and history.source == "synthetic"
    np.testing.assert_array_equal(history.for_product("P2").t, np.arange(30.0))
    assert history.frame["date"].iloc[0] == pd.Timestamp("2020-01-06")
    units = history.units
    np.testing.assert_array_equal(units, np.round(units))  # Poisson counts
    assert history.notes[0].startswith("synthetic: 3 product(s) x 30 periods (W), noise=poisson")

    bare = generate_history(n_periods=12, competitor=False, promotions=False, freq="M")
    assert bare.frame.columns.tolist() == ["date", "t", "price", "units"]
    assert bare.freq == "M" and bare.t.tolist() == list(range(12))


@pytest.mark.parametrize("form", FORMS)
def test_analytic_elasticity_matches_numeric_derivative(form: str) -> None:
    truth = DemandTruth(form=form, trend=0.01, seasonality=0.2, season_period=12.0)
    price = np.array([6.0, 8.5, 10.0, 11.0, 13.0])
    competitor = np.array([9.0, 10.0, 12.0, 8.0, 11.0])
    promo = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    t = np.array([0.0, 3.0, 7.5, 20.0, 40.0])
    # central difference of log mean in log price: truncation error ~ h^2 * (third
    # derivative) ~ 1e-10 and rounding error ~ 1e-16 / h ~ 1e-11, far inside 1e-6
    h = 1e-5

    def log_mean(p: np.ndarray) -> np.ndarray:
        return np.log(truth.mean_units(p, competitor, promo, t))

    numeric = (log_mean(price * np.exp(h)) - log_mean(price * np.exp(-h))) / (2 * h)
    analytic = truth.elasticity(price, competitor, promo, t)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-6)
    assert truth.elasticity(truth.reference_price) == pytest.approx(-2.0)  # default parameter


def test_linear_elasticity_is_nan_where_demand_is_exhausted() -> None:
    truth = DemandTruth(form="linear", own_price=-10.0)  # demand hits 0 at price 20
    assert truth.mean_units(25.0) == 0.0
    assert np.isnan(truth.elasticity(25.0))
    assert truth.elasticity(15.0) == pytest.approx(-10.0 * 15.0 / 50.0)


@pytest.mark.parametrize(
    ("noise", "dispersion"), [("poisson", None), ("negbin", 0.2), ("lognormal", 0.3)]
)
def test_units_average_to_the_true_mean(noise: str, dispersion: float | None) -> None:
    truth = default_truth("D", scale=50.0, trend=0.0)  # no growth over 20 000 periods
    history = generate_history(
        truth, n_periods=20_000, freq="D", noise=noise, dispersion=dispersion, seed=3
    )
    frame = history.frame
    mean = truth.mean_units(frame["price"], frame["competitor_price"], frame["promo"], frame["t"])
    variance = {
        "poisson": mean,
        "negbin": mean + 0.2 * mean**2,
        "lognormal": mean**2 * (np.exp(0.3**2) - 1.0),
    }[noise]
    # Given the prices, the units are independent draws with these means and variances,
    # so mean(units) - mean(mean) has standard error sqrt(sum(variance)) / n. Four
    # standard errors: a correct sampler fails this test with probability ~6e-5.
    standard_error = np.sqrt(variance.sum()) / len(mean)
    assert abs(frame["units"].mean() - mean.mean()) < 4 * standard_error
    assert standard_error < 0.01 * mean.mean()  # and the test has power: a 1 % bias fails


def test_promotions_are_15_percent_price_cuts() -> None:
    process = PriceProcess(step_probability=0.0, jitter_sd=0.0, discount_probability=0.2)
    history = generate_history(n_periods=200, price_process=process, seed=1)
    promo = history.frame["promo"].to_numpy() == 1
    assert 0 < promo.sum() < 200
    np.testing.assert_allclose(history.price[~promo], 10.0)
    np.testing.assert_allclose(history.price[promo], 8.5)


def test_competitor_price_is_an_ar1_around_its_level() -> None:
    process = PriceProcess(competitor_level=12.0, competitor_ar=0.8, competitor_sd=0.05)
    history = generate_history(n_periods=20_000, freq="D", price_process=process, trend=0.0, seed=2)
    deviation = np.log(history.column("competitor_price") / 12.0)
    autocorrelation = np.corrcoef(deviation[:-1], deviation[1:])[0, 1]
    # the lag-1 sample autocorrelation of an AR(1) has standard error about
    # sqrt((1 - phi^2) / n) = 0.0042 here; the tolerance is four of them
    assert autocorrelation == pytest.approx(0.8, abs=0.017)
    # the level's log mean: stationary sd 0.05 / sqrt(1 - 0.64) = 0.083, effective sample
    # size n (1 - phi) / (1 + phi) = 2222, standard error 0.0018; four of them
    assert abs(deviation.mean()) < 0.0071


def test_trend_and_seasonality_arguments_replace_the_truth() -> None:
    history = generate_history(n_periods=10, trend=0.0, seasonality=0.0)
    assert "trend=0.0, seasonality=0.0" in history.notes[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": "poisson", "dispersion": 0.3}, "dispersion has no meaning for Poisson"),
        ({"noise": "gamma"}, "noise='gamma' is not one of"),
        ({"n_periods": 1}, "n_periods=1 must be an integer >= 2"),
        ({"freq": "H"}, "freq='H' is not one of"),
    ],
)
def test_bad_settings_raise_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_history(**kwargs)  # type: ignore[arg-type]


def test_bad_truth_raises() -> None:
    with pytest.raises(ConfigError, match="form='logit' is not one of"):
        DemandTruth(form="logit")
    with pytest.raises(ConfigError, match=r"seasonality=1.5 must be in \[0, 1\)"):
        DemandTruth(seasonality=1.5)
