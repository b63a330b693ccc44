"""Stock-outs in market validation and off-policy evaluation: said, and scored honestly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pricegym.demand import load_history
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.validation import validate
from pricegym.experiments.offpolicy import OffPolicyWarning, evaluate_logged


def test_validation_caps_simulated_demand_at_the_stock() -> None:
    history, _ = stockout_history(1)
    result = validate(history, "censored_poisson", 0.25, n_paths=200, quiet=True)
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
        uncapped = validate(flagged, "censored_poisson", 0.25, n_paths=200, quiet=True)
    assert "no stock column is mapped" in uncapped.verdict
    assert uncapped.revenue_simulated > result.revenue_simulated


def test_offpolicy_evaluation_warns_about_sold_out_logged_periods() -> None:
    history, _ = stockout_history(1)
    with pytest.warns(OffPolicyWarning, match=r"66 of 200 periods \(33%\).*capped by the stock"):
        result = evaluate_logged(1.8, history, n_resamples=200)
    assert any("fitted as if the capped sales were demand" in w for w in result.warnings)
    from pricegym.demand import make_model

    model = make_model("censored_poisson").fit(history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        censored = evaluate_logged(1.8, history, reward_model=model, n_resamples=200)
    assert any("a censored family" in w for w in censored.warnings)
