"""Stock-outs in market validation and off-policy evaluation: said, and scored honestly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pricegym.demand import CensoredPoissonDemand, load_history
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.validation import validate
from pricegym.experiments.offpolicy import OffPolicyWarning, evaluate_logged


def test_validation_caps_simulated_demand_at_the_stock() -> None:
    history, _ = stockout_history(1)
    result = validate(history, CensoredPoissonDemand(), 0.25, n_paths=200, quiet=True)
    test = history.take(np.arange(150, 200))
    stock = test.column("stock")
    assert np.all(result.rows["high95"].to_numpy() <= stock)
    sold_out = int(test.censored.sum())
    assert f"Stock-outs: {sold_out} of 50 periods" in result.verdict
    assert "capped at each period's stock" in result.verdict
    # the censored market is calibrated on sales: 95% intervals cover within tolerance
    assert abs(result.coverage[0.95] - 0.95) <= result.tolerance[0.95] + 0.05
    # a flag only: nothing to cap with, and the verdict says what that does to the scores
    flag = history.frame.assign(sold_out=history.censored.astype(int)).drop(columns="stock")
    flagged = load_history(flag, stockout="sold_out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        uncapped = validate(flagged, CensoredPoissonDemand(), 0.25, n_paths=200, quiet=True)
    assert "no stock column is mapped" in uncapped.verdict
    assert uncapped.revenue_simulated > result.revenue_simulated


def test_offpolicy_values_a_policy_under_the_logged_stock() -> None:
    """Known truth: Poisson demand 60 p^-2, known log-uniform logging density, a fixed
    price 1.8; the value under each period's logged stock s_i is mean 1.8 E[min(Y, s_i)]."""
    from pricegym.demand import make_model
    from pricegym.demand._stockout import expected_sales
    from pricegym.demand.noise import NoiseModel

    history, _ = stockout_history(0, n_periods=500)
    stock = history.column("stock")
    truth = float(np.mean(1.8 * expected_sales(NoiseModel("poisson"), 60 * 1.8**-2.0, stock)))
    density = 1.0 / (history.price * np.log(3.0))
    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for family in ("poisson", "censored_poisson"):
            model = make_model(family).fit(history)
            result = evaluate_logged(
                1.8, history, reward_model=model, propensities=density, n_resamples=200
            )
            values[family] = result.table.set_index("estimator")
    # the naive model's demand is biased low, so its DM is (~8% measured over 30 seeds)
    assert values["poisson"].loc["dm", "value"] < truth - 1.5
    # the censored model's expected sales under the stock are right; DR is right for both
    assert values["censored_poisson"].loc["dm", "value"] == pytest.approx(truth, abs=0.8)
    for family in values:
        dr = values[family].loc["dr"]
        assert dr["ci_low"] <= truth <= dr["ci_high"]


def test_offpolicy_evaluation_warns_about_sold_out_logged_periods() -> None:
    history, _ = stockout_history(1)
    with pytest.warns(OffPolicyWarning, match=r"66 of 200 periods \(33%\).*capped by the stock"):
        result = evaluate_logged(1.8, history, n_resamples=200)
    assert any("fitted as if the capped sales were demand" in w for w in result.warnings)
    assert any("expected sales min(demand, stock)" in w for w in result.warnings)
    flag = history.frame.assign(sold_out=history.censored.astype(int)).drop(columns="stock")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flagged = evaluate_logged(1.8, load_history(flag, stockout="sold_out"), n_resamples=200)
    assert any("no stock column to cap it" in w for w in flagged.warnings)
    from pricegym.demand import make_model

    model = make_model("censored_poisson").fit(history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        censored = evaluate_logged(1.8, history, reward_model=model, n_resamples=200)
    assert any("a censored family" in w for w in censored.warnings)


@pytest.mark.parametrize(
    "noise", [("poisson", 0.0, 0.0), ("negbin", 0.3, 0.0), ("lognormal", 0.0, 0.4)]
)
def test_expected_sales_equal_the_summed_distribution(noise: tuple[str, float, float]) -> None:
    from scipy import integrate, stats

    from pricegym.demand._stockout import expected_sales
    from pricegym.demand.noise import NoiseModel

    model = NoiseModel(noise[0], alpha=noise[1], sigma=noise[2])
    mu = np.array([5.0, 20.0, 30.0, 50.0])
    stock = np.array([3.0, 20.0, 27.5, 400.0])
    got = expected_sales(model, mu, stock)
    if model.kind == "lognormal":
        oracle = []
        for m, s in zip(mu, stock, strict=True):
            dist = stats.lognorm(model.sigma, scale=m * np.exp(-(model.sigma**2) / 2))
            below, _ = integrate.quad(lambda y, d=dist: y * d.pdf(y), 0, s)
            oracle.append(below + s * dist.sf(s))
    else:
        y = np.arange(2000.0)[:, None]
        if model.kind == "poisson":
            pmf = stats.poisson.pmf(y, mu)
        else:
            r = 1 / model.alpha
            pmf = stats.nbinom.pmf(y, r, r / (r + mu))
        oracle = np.sum(np.minimum(y, stock) * pmf, axis=0)
    np.testing.assert_allclose(got, oracle, rtol=1e-8)
    np.testing.assert_array_equal(expected_sales(model, mu, None), mu)
