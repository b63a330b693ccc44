"""Bertrand–Nash and joint-monopoly benchmarks, and the collusion index Δ."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest
from conftest import LinearDuopoly

import pricegym.agents.equilibrium as equilibrium
from pricegym.agents.equilibrium import (
    MarketBenchmark,
    as_oligopoly,
    bertrand_nash,
    collusion_index,
    joint_monopoly,
)
from pricegym.demand.parametric import LogitTruth
from pricegym.envs.equilibrium_solvers import logit_profits, logit_shares
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError

#: Logit markets: OligopolyEnv keyword arguments.
MARKETS = {
    "calvano": {},
    "three": {"n_sellers": 3},
    "asymmetric_costs": {"cost": [1.0, 1.2]},
    "asymmetric_three": {
        "quality": [2.2, 2.0, 1.8],
        "outside": 0.3,
        "mu": 0.4,
        "cost": [1, 0.9, 1.2],
    },
}


def logit_args(env: OligopolyEnv) -> tuple:
    return env.quality, env.outside, env.mu, env.cost, env.market_size


def own_profit_derivative(env: OligopolyEnv, prices: np.ndarray) -> np.ndarray:
    """Exact dπ_i/dp_i of the logit market: M·s_i·(1 − (p_i − c_i)(1 − s_i)/μ)."""
    s = logit_shares(prices, env.quality, env.outside, env.mu)
    return env.market_size * s * (1.0 - (prices - env.cost) * (1.0 - s) / env.mu)


# ====================================================================== Nash
@pytest.mark.parametrize("name", list(MARKETS))
def test_first_order_conditions_hold_at_nash(name):
    env = OligopolyEnv(**MARKETS[name])
    nash = bertrand_nash(env)
    assert np.max(np.abs(own_profit_derivative(env, nash.prices))) < 1e-8
    np.testing.assert_allclose(
        nash.profits, logit_profits(nash.prices, *logit_args(env)), rtol=1e-14
    )
    assert nash.joint_profit == pytest.approx(nash.profits.sum(), rel=1e-14)


@pytest.mark.parametrize("name", list(MARKETS))
def test_no_seller_gains_by_a_unilateral_deviation(name):
    env = OligopolyEnv(**MARKETS[name])
    nash = bertrand_nash(env)
    for i in range(env.n_sellers):
        # 4001 prices over a wide range plus 2001 within ±1e-3 of the equilibrium price.
        wide = np.linspace(env.cost[i], nash.prices[i] + 3.0, 4001)
        near = nash.prices[i] + np.linspace(-1e-3, 1e-3, 2001)
        trial = np.concatenate([wide, near])
        profiles = np.tile(nash.prices, (trial.size, 1))
        profiles[:, i] = trial
        gains = logit_profits(profiles, *logit_args(env))[:, i] - nash.profits[i]
        assert gains.max() <= 1e-13, f"seller {i} gains {gains.max():.3e} by deviating"


def test_calvano_baseline_values():
    # Calvano et al. (2020): p^N ≈ 1.4729, p^M ≈ 1.9249 (1.92498 to five digits).
    nash, monopoly = bertrand_nash(), joint_monopoly()
    np.testing.assert_allclose(nash.prices, [1.4729, 1.4729], atol=5e-5)
    np.testing.assert_allclose(monopoly.prices, [1.92498, 1.92498], atol=5e-6)
    np.testing.assert_allclose(nash.profits, [0.22293, 0.22293], atol=5e-6)
    np.testing.assert_allclose(monopoly.profits, [0.33749, 0.33749], atol=5e-6)
    assert monopoly.joint_profit == pytest.approx(0.674981, abs=1e-6)
    assert nash.n_sellers == monopoly.n_sellers == 2


def test_three_sellers_and_asymmetric_costs():
    three = bertrand_nash(n_sellers=3)
    assert three.prices.shape == (3,) and np.ptp(three.prices) < 1e-12
    # More rivals → tougher competition: the symmetric Nash price falls below the duopoly's.
    assert three.prices[0] < bertrand_nash().prices[0]
    asym = bertrand_nash(cost=[1.0, 1.2])
    assert asym.prices[1] > asym.prices[0] and asym.profits[1] < asym.profits[0]
    mono = joint_monopoly(cost=[1.0, 1.2])
    # The multi-product monopolist sets one common markup.
    assert (mono.prices - [1.0, 1.2]) == pytest.approx(np.full(2, mono.prices[0] - 1.0), abs=1e-12)
    assert mono.joint_profit > asym.joint_profit


# ================================================================== monopoly
@pytest.mark.parametrize("name", list(MARKETS))
def test_monopoly_prices_maximise_joint_profit(name):
    env = OligopolyEnv(**MARKETS[name])
    mono = joint_monopoly(env)
    best = logit_profits(mono.prices, *logit_args(env)).sum()
    assert mono.joint_profit == pytest.approx(best, rel=1e-14)
    rng = np.random.default_rng(0)
    n = env.n_sellers
    # Random perturbations at three scales, and a fine grid along each coordinate.
    for scale in (1e-4, 1e-2, 0.3):
        trial = mono.prices + scale * rng.standard_normal((5000, n))
        assert logit_profits(trial, *logit_args(env)).sum(axis=1).max() <= best + 1e-14
    for i in range(n):
        line = np.tile(mono.prices, (4001, 1))
        line[:, i] += np.linspace(-1.0, 1.0, 4001)
        assert logit_profits(line, *logit_args(env)).sum(axis=1).max() <= best + 1e-14
    # And the joint first-order conditions: the gradient of joint profit vanishes.
    h = 1e-6
    grad = [
        (
            logit_profits(mono.prices + h * e, *logit_args(env)).sum()
            - logit_profits(mono.prices - h * e, *logit_args(env)).sum()
        )
        / (2 * h)
        for e in np.eye(n)
    ]
    assert np.max(np.abs(grad)) < 1e-8


def test_monopoly_beats_a_fine_two_dimensional_grid():
    mono = joint_monopoly()
    p = np.linspace(1.0, 3.0, 801)
    grid = np.stack(np.meshgrid(p, p, indexing="ij"), axis=-1)
    assert logit_profits(grid).sum(axis=-1).max() <= mono.joint_profit + 1e-14


# ============================================================ fitted markets
def test_a_fitted_multi_seller_kernel_market():
    kernel = LinearDuopoly()
    env = as_oligopoly(kernel, cost=1.0)  # the kernel is a market in its own right
    assert env.kernel is kernel
    nash, mono = bertrand_nash(env), joint_monopoly(env)
    # Closed forms: Nash p = (α + β·c)/(2β − γ) = 4, monopoly p = (α/(β − γ) + c)/2 = 5.5.
    np.testing.assert_allclose(nash.prices, [4.0, 4.0], atol=1e-8)
    np.testing.assert_allclose(mono.prices, [5.5, 5.5], atol=1e-6)
    np.testing.assert_allclose(nash.profits, [3.0 * 6.0] * 2, atol=1e-7)
    # The kernel's own-price first-order condition q_i − β(p_i − c) = 0 holds.
    q = kernel.expected(nash.prices[None, :])[0]
    assert np.max(np.abs(q - kernel.beta * (nash.prices - 1.0))) < 1e-8


def test_logit_kernel_matches_the_closed_form():
    via_kernel = bertrand_nash(LogitTruth(support=(1.0, 2.5)))
    np.testing.assert_allclose(via_kernel.prices, bertrand_nash().prices, atol=1e-8)
    mono_kernel = joint_monopoly(LogitTruth(support=(1.0, 2.5)))
    np.testing.assert_allclose(mono_kernel.prices, joint_monopoly().prices, atol=1e-5)


def test_markets_given_as_env_mapping_or_parameters_agree():
    env = OligopolyEnv(cost=[1.0, 1.1])
    a = bertrand_nash(env)
    b = bertrand_nash({"cost": [1.0, 1.1]})
    c = bertrand_nash(cost=[1.0, 1.1])
    d = bertrand_nash({"cost": 5.0}, cost=[1.0, 1.1])  # parameters override the mapping
    for other in (b, c, d):
        np.testing.assert_array_equal(a.prices, other.prices)
    assert as_oligopoly(env) is env


@pytest.mark.parametrize(
    ("market", "params", "match"),
    [
        (OligopolyEnv(), {"cost": 2.0}, "either the env or its parameters"),
        ({"colour": "red"}, {}, "does not take"),
        (None, {"colour": "red"}, "does not take"),
        (3.5, {}, "is not a market"),
        ({"mu": -1.0}, {}, "mu"),
    ],
)
def test_bad_markets_raise_config_errors(market, params, match):
    with pytest.raises(ConfigError, match=match):
        bertrand_nash(market, **params)


# =========================================================== collusion index
def test_collusion_index_is_vectorised_and_anchored():
    nash, mono = bertrand_nash(), joint_monopoly()
    profits = np.array([[0.22292666, 0.33749046], [0.3, 0.25], [0.1, 0.4]])
    got = collusion_index(profits, nash, mono)
    expected = (profits - nash.profits) / (mono.profits - nash.profits)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(got[0], [0.0, 1.0], atol=1e-7)
    assert got[2, 0] < 0  # below Nash
    assert collusion_index(nash.profits, nash, mono) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert collusion_index(mono.joint_profit, nash.joint_profit, mono.joint_profit) == 1.0
    with pytest.raises(ConfigError, match="undefined"):
        collusion_index(0.3, 0.2, 0.2)


def test_benchmark_is_frozen():
    nash = bertrand_nash()
    with pytest.raises(dataclasses.FrozenInstanceError):
        nash.joint_profit = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        nash.prices[0] = 0.0
    assert nash.to_dict()["kind"] == "nash"
    assert isinstance(MarketBenchmark("nash", [1.0], [2.0], 2.0).prices, np.ndarray)


def test_docstring_example_runs():
    assert doctest.testmod(equilibrium).failed == 0
