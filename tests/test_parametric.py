"""Parametric truths: closed-form optima and elasticities agree with brute force."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.demand.parametric import (
    ConstantElasticity,
    ExponentialTruth,
    LinearTruth,
    LogitTruth,
)
from pricegym.errors import ModelError

TRUTHS = [
    LinearTruth(a=100.0, b=4.0),
    ExponentialTruth(a=50.0, alpha=0.2),
    ConstantElasticity(a=1000.0, elasticity=-2.5, support=(1.0, 20.0)),
]


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda k: k.params()["form"])
def test_closed_form_optimum_matches_grid_search(truth):
    cost = 2.0
    grid = np.linspace(cost, 60.0, 2_000_001)
    profit = (grid - cost) * truth.demand(grid)
    assert truth.optimal_price(cost) == pytest.approx(grid[np.argmax(profit)], abs=1e-4)


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda k: k.params()["form"])
def test_elasticity_matches_numerical_derivative(truth):
    p = np.array([3.0, 7.0, 11.0])
    h = 1e-6
    numeric = (np.log(truth.demand(p * (1 + h))) - np.log(truth.demand(p * (1 - h)))) / (
        np.log1p(h) - np.log1p(-h)
    )
    np.testing.assert_allclose(truth.elasticity(p), numeric, rtol=1e-6)


@pytest.mark.parametrize("truth", TRUTHS, ids=lambda k: k.params()["form"])
def test_truth_is_a_batched_kernel(truth):
    prices = np.linspace(*truth.support, 7)
    ctx = truth.context(7)
    mu = truth.expected(prices, ctx, truth.initial_state(7))
    np.testing.assert_array_equal(mu, truth.demand(prices))
    units = truth.sample(np.random.default_rng(0), mu)
    assert units.shape == (7,) and np.all(units >= 0)


def test_logit_is_the_calvano_baseline():
    logit = LogitTruth()
    p = np.array([[1.47293, 1.47293], [1.92498, 1.92498], [1.5, 1.8]])
    q = logit.expected(p)
    assert q.shape == (3, 2)
    # Shares from the formula, computed independently.
    u = np.exp((2.0 - p) / 0.25)
    np.testing.assert_allclose(q, u / (u.sum(axis=1, keepdims=True) + 1.0), rtol=1e-12)
    assert np.all(q.sum(axis=1) < 1.0)
    assert q[2, 0] > q[2, 1]  # the cheaper seller sells more
    h = 1e-6
    up = logit.expected(p * np.array([1 + h, 1.0]))[:, 0]
    down = logit.expected(p * np.array([1 - h, 1.0]))[:, 0]
    numeric = (np.log(up) - np.log(down)) / (np.log1p(h) - np.log1p(-h))
    np.testing.assert_allclose(logit.own_elasticity(p)[:, 0], numeric, rtol=1e-6)


def test_logit_is_stable_for_extreme_prices():
    q = LogitTruth(mu=0.01).expected(np.array([[0.0, 50.0]]))
    assert np.all(np.isfinite(q)) and q[0, 0] == pytest.approx(1.0)


def test_bad_parameters_raise():
    with pytest.raises(ModelError, match="alpha=-1"):
        ExponentialTruth(a=1.0, alpha=-1)
    with pytest.raises(ModelError, match="no finite optimal price"):
        ConstantElasticity(a=1.0, elasticity=-0.5, support=(1, 2)).optimal_price(1.0)
    with pytest.raises(ModelError, match="one price per seller"):
        LogitTruth().expected(np.ones((2, 3)))
    with pytest.raises(ModelError, match="p_min < p_max"):
        LinearTruth(a=1, b=1, support=(2.0, 1.0))
