"""optimum_check: whether a demand model's profit-maximising price lies inside the prices
tried, against demand curves whose optimum is known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand import ConstantElasticity, LinearTruth, load_history, optimum_check
from pricegym.demand.regression import PoissonDemand
from pricegym.errors import ModelError


def test_inelastic_constant_elasticity_has_no_finite_optimum() -> None:
    truth = ConstantElasticity(a=100.0, elasticity=-0.6, support=(1.0, 5.0))
    check = optimum_check(truth, cost=0.5)
    assert check.verdict == "no_finite_optimum"
    assert check.at_edge
    assert check.price == 5.0
    assert check.elasticity == pytest.approx(-0.6, abs=1e-12)
    assert "demand is inelastic over the data" in check.message
    assert "the model recommends the highest price it is allowed to try (5)" in check.message
    assert "profit keeps rising beyond the data's range [1, 5]" in check.message
    assert "the model cannot tell you the optimal price" in check.message


def test_elastic_constant_elasticity_with_cost_is_interior() -> None:
    # (p − c)·a·p^ε peaks at c·ε/(1 + ε) = 2·(−3)/(−2) = 3.
    truth = ConstantElasticity(a=100.0, elasticity=-3.0, support=(1.0, 5.0))
    check = optimum_check(truth, cost=2.0)
    assert check.verdict == "interior"
    assert not check.at_edge
    assert check.message == ""
    assert check.price == pytest.approx(3.0, abs=(5.0 - 1.0) / 1000)  # scan step
    assert check.beyond_price is None


def test_linear_demand_with_optimum_beyond_p_max_is_upper_edge() -> None:
    # λ = 100 − 10p: (p − 0.5)·λ peaks at (10 + 0.5)/2 = 5.25 > p_max = 4.
    truth = LinearTruth(a=100.0, b=10.0, support=(1.0, 4.0))
    check = optimum_check(truth, cost=0.5)
    assert check.verdict == "upper_edge"
    assert check.price == 4.0
    assert check.profit == pytest.approx((4.0 - 0.5) * 60.0, rel=1e-12)
    assert check.beyond_price == pytest.approx(5.25, abs=6.0 / 1000)
    assert "upper edge" in check.message and "(4)" in check.message
    assert "peak near 5.25" in check.message


def test_linear_demand_with_optimum_below_p_min_is_lower_edge() -> None:
    truth = LinearTruth(a=100.0, b=10.0, support=(6.0, 9.0))
    check = optimum_check(truth)  # revenue peaks at a/(2b) = 5 < 6
    assert check.verdict == "lower_edge"
    assert check.price == 6.0
    assert "lowest price it is allowed to try (6)" in check.message
    assert "Profit = revenue here: no unit cost was given." in check.message


def test_fitted_poisson_model_uses_its_log_price_coefficient() -> None:
    rng = np.random.default_rng(0)
    price = rng.uniform(1.0, 3.0, 200)
    units = rng.poisson(200.0 * price**-0.5)
    history = load_history(pd.DataFrame({"period": np.arange(200), "price": price, "units": units}))
    model = PoissonDemand().fit(history)
    check = optimum_check(model, cost=0.2)
    assert check.elasticity == pytest.approx(float(model.elasticity_.estimate), abs=1e-12)
    assert check.verdict == "no_finite_optimum"
    assert check.p_max == pytest.approx(float(price.max()), abs=1e-12)


def test_bad_cost_and_range_are_refused() -> None:
    truth = LinearTruth(a=100.0, b=10.0, support=(1.0, 4.0))
    with pytest.raises(ModelError, match="cost=-1"):
        optimum_check(truth, cost=-1.0)
    with pytest.raises(ModelError, match="0 < p_min < p_max"):
        optimum_check(truth, p_min=3.0, p_max=2.0)


def test_optimum_exactly_at_the_edge_with_profit_falling_past_it_is_interior() -> None:
    # (p − 1)·500·p^−2 peaks at 1·(−2)/(−1) = 2 = p_min: a real answer, not an edge.
    truth = ConstantElasticity(a=500.0, elasticity=-2.0, support=(2.0, 20.0))
    check = optimum_check(truth, cost=1.0)
    assert check.verdict == "interior"
    assert check.price == 2.0
