"""The linear oligopoly truth: closed-form benchmarks, Gaussian noise, and its env."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.demand.linear_oligopoly import (
    GaussianNoise,
    LinearOligopolyTruth,
    linear_monopoly_prices,
    linear_nash_prices,
)
from pricegym.envs.equilibrium_solvers import monopoly_prices, nash_prices
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ModelError


def test_symmetric_closed_forms():
    # p^N = (a + b m)/(2b − (n−1)c), p^M = (a + (b − (n−1)c) m)/(2(b − (n−1)c))
    a, b, c, m = 1.0, 1.0, 0.5, 0.0
    np.testing.assert_allclose(linear_nash_prices(a, b, c), [2 / 3, 2 / 3], rtol=1e-12)
    np.testing.assert_allclose(linear_monopoly_prices(a, b, c), [1.0, 1.0], rtol=1e-12)
    a, b, c, m, n = 3.0, 2.0, 0.4, 0.5, 3
    pn = (a + b * m) / (2 * b - (n - 1) * c)
    pm = (a + (b - (n - 1) * c) * m) / (2 * (b - (n - 1) * c))
    np.testing.assert_allclose(linear_nash_prices(a, b, c, n, m), [pn] * 3, rtol=1e-12)
    np.testing.assert_allclose(linear_monopoly_prices(a, b, c, n, m), [pm] * 3, rtol=1e-12)


def test_asymmetric_costs_equal_numerical_solvers():
    k = LinearOligopolyTruth(3.0, 1.0, 0.2, n_sellers=3, support=(1.0, 3.0))
    cost = [0.1, 0.3, 0.5]

    def demand(p: np.ndarray) -> np.ndarray:
        return k.expected(p)

    pn = nash_prices(demand, cost, k.support)
    np.testing.assert_allclose(k.nash_prices(cost), pn, atol=1e-7)
    pm = monopoly_prices(demand, cost, k.support, x0=pn)
    np.testing.assert_allclose(k.monopoly_prices(cost), pm, atol=1e-6)
    # the joint profit is higher at the monopoly prices, each seller's FOC holds at Nash
    joint = lambda p: float(((p - np.asarray(cost)) * k.expected(p)[0]).sum())  # noqa: E731
    assert joint(k.monopoly_prices(cost)) > joint(k.nash_prices(cost))


def test_expected_and_sampled_units():
    k = LinearOligopolyTruth(1.0, 1.0, 0.5, sigma=0.2, support=(0.5, 1.2))
    np.testing.assert_allclose(k.expected(np.array([[0.5, 1.0]])), [[1.0, 0.25]], rtol=1e-12)
    mean = np.full((20_000, 2), 0.6)
    draws = k.sample(np.random.default_rng(0), mean)
    assert draws.shape == (20_000, 2)
    # mean within 4 s.e. (0.2/sqrt(40000) = 0.001), s.d. within 2%
    assert abs(draws.mean() - 0.6) < 0.004
    assert abs(draws.std() - 0.2) < 0.004
    np.testing.assert_array_equal(GaussianNoise(0.0).sample(np.random.default_rng(1), mean), mean)


def test_bad_parameters_name_the_rule():
    with pytest.raises(ModelError, match="own slope b=1 must exceed"):
        LinearOligopolyTruth(1.0, 1.0, 0.5, n_sellers=3)
    with pytest.raises(ModelError, match="not positive"):
        LinearOligopolyTruth(1.0, 1.0, 0.5, support=(0.1, 2.0))
    assert LinearOligopolyTruth().support == (0.25, 1.1)  # the default support is valid
    with pytest.raises(ModelError, match="sigma"):
        LinearOligopolyTruth(sigma=-1.0)
    with pytest.raises(ModelError, match="columns"):
        LinearOligopolyTruth(support=(0.5, 1.0)).expected(np.ones((2, 3)))


def test_oligopoly_env_plays_the_truth():
    grid = 0.5 + np.arange(9) / 12
    k = LinearOligopolyTruth(sigma=0.1, support=(0.5, 7 / 6))
    env = OligopolyEnv(kernel=k, prices=grid.tolist(), cost=0.0, noise=True, horizon=None)
    np.testing.assert_allclose(env.nash_prices, [2 / 3] * 2, atol=1e-7)
    np.testing.assert_allclose(env.monopoly_prices, [1.0] * 2, atol=1e-6)
    env.reset(seed=3)
    _, rewards, _, _, infos = env.step({"seller_0": 2, "seller_1": 6})
    # expected units 1 − 2/3 + 0.5·1 = 5/6 and 1 − 1 + 1/3 = 1/3; reward = price × units
    assert infos["seller_0"]["expected_quantity"] == pytest.approx(5 / 6, rel=1e-12)
    assert infos["seller_1"]["expected_quantity"] == pytest.approx(1 / 3, rel=1e-12)
    for i, name in enumerate(env.possible_agents):
        assert rewards[name] == pytest.approx(grid[[2, 6][i]] * infos[name]["quantity"], rel=1e-12)
