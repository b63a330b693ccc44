"""OligopolyEnv with finite inventory (``capacity=``): stock accounting, observations,
episode ends, capacity-aware benchmarks, and the unchanged default market."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from pricegym.agents.qlearning import profit_table
from pricegym.envs.capacity_equilibrium import capacity_monopoly, capacity_nash, rationed_profits
from pricegym.envs.oligopoly import MarkovShocks, OligopolyEnv
from pricegym.errors import ConfigError


def _play(env, seed, rounds=None, policy=None):
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = []
    while env.agents and (rounds is None or len(out) < rounds):
        actions = (
            policy(len(out))
            if policy is not None
            else {a: int(rng.integers(env.grid.size)) for a in env.agents}
        )
        out.append((obs, *env.step(actions)))
        obs = out[-1][1]
    return out


def test_default_market_has_no_inventory_and_a_capacity_that_never_binds_changes_nothing():
    plain = OligopolyEnv(horizon=50)
    assert plain.capacity is None and plain.obs_dim == 2
    ample = OligopolyEnv(horizon=50, capacity=1e6)  # far above 50 rounds of demand
    assert ample.obs_dim == 2 + 3
    np.testing.assert_array_equal(ample.grid, plain.grid)
    a, b = _play(plain, 3), _play(ample, 3)
    assert len(a) == len(b) == 50
    for (o1, _, r1, _, _, i1), (o2, _, r2, _, _, i2) in zip(a, b, strict=True):
        for agent in plain.possible_agents:
            np.testing.assert_array_equal(o1[agent], o2[agent][:2])  # prices: the same coding
            assert r1[agent] == r2[agent]  # min(units, huge stock) is units, exactly
            assert "stock" not in i1[agent] and "stock" in i2[agent]
    assert all(a[-1][4].values())  # the plain market is truncated at its horizon …
    assert all(b[-1][3].values()) and not any(b[-1][4].values())  # … a season terminates


@pytest.mark.parametrize("noise", [False, True])
def test_stock_accounting_under_random_play(noise):
    cap, horizon = np.array([12.0, 30.0]), 40
    env = OligopolyEnv(capacity=cap, horizon=horizon, market_size=2.0, noise=noise)
    stock = cap.copy()
    for t, (_, obs, rewards, _, _, infos) in enumerate(_play(env, 11)):
        for i, agent in enumerate(env.possible_agents):
            info = infos[agent]
            assert 0.0 <= info["quantity"] <= info["demand"] + 1e-12
            assert info["quantity"] <= stock[i] + 1e-12  # sells only what it holds
            stock[i] -= info["quantity"]
            assert info["stock"] == pytest.approx(stock[i], abs=1e-9)  # conserved
            assert rewards[agent] == (info["price"] - info["unit_cost"]) * info["quantity"]
            if not noise:
                assert info["demand"] == info["expected_quantity"]
        o = obs["seller_1"]  # seen from seat 1: own stock first, then seller 0, then time
        assert o[2] == pytest.approx(stock[1] / cap[1], abs=1e-6)
        assert o[3] == pytest.approx(stock[0] / cap[0], abs=1e-6)
        assert o[4] == pytest.approx((horizon - t - 1) / horizon, abs=1e-6)
    assert stock[0] == pytest.approx(0.0, abs=1e-9)  # 40 rounds of demand exceed 12 units


def test_the_season_ends_early_when_every_seller_has_sold_out():
    env = OligopolyEnv(capacity=1.0, horizon=100)  # ~0.5 units a round at low prices
    steps = _play(env, 0, policy=lambda t: {"seller_0": 0, "seller_1": 0})
    assert len(steps) == 3  # 0.5 + 0.5 sells out in round 2 or 3 (rationed)
    last = steps[-1]
    assert all(last[3].values()) and not any(last[4].values())
    assert env.agents == []
    assert all(last[5][a]["stock"] == 0.0 for a in env.possible_agents)


def test_capacity_market_passes_the_pettingzoo_checks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(OligopolyEnv(capacity=20.0, horizon=60), num_cycles=100)
        parallel_seed_test(lambda: OligopolyEnv(capacity=20.0, horizon=60), num_cycles=100)


def test_benchmarks_are_the_per_round_capacity_ones_and_the_grid_spans_them():
    env = OligopolyEnv(capacity=[44.0, 60.0], horizon=100)
    k = np.array([0.44, 0.60])
    np.testing.assert_allclose(env.nash_prices, capacity_nash(capacity=k).prices, rtol=1e-14)
    np.testing.assert_allclose(
        env.monopoly_prices, capacity_monopoly(capacity=k).prices, rtol=1e-14
    )
    assert env.nash_prices[0] > OligopolyEnv().nash_prices[0] + 0.05  # capacity raises p^N
    np.testing.assert_array_equal(env.grid, OligopolyEnv().grid)  # monopoly not constrained
    _, infos = env.reset(seed=0)
    assert infos["seller_0"]["nash_price"] == env.nash_prices[0]
    # the Q-learners' profit table rations every round's sales to capacity / horizon
    table = profit_table(env)
    i, j = 0, 14
    expected = rationed_profits(env.grid[[i, j]], capacity=k)
    np.testing.assert_allclose(table[i, j], expected, rtol=1e-13)


def test_tight_capacity_keeps_a_usable_default_grid():
    env = OligopolyEnv(capacity=30.0, horizon=100)  # k = 0.3 binds Nash and monopoly alike
    assert env.nash_prices[0] == pytest.approx(env.monopoly_prices[0], abs=1e-9)
    base = OligopolyEnv()
    step = 0.1 * (base.monopoly_prices[0] - base.nash_prices[0])
    assert env.grid[0] == base.grid[0]  # the unconstrained bottom …
    assert env.grid[-1] == pytest.approx(env.monopoly_prices[0] + step, rel=1e-12)  # … raised top
    assert env.grid.size == 15


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": 10.0, "horizon": None}, "horizon"),
        ({"capacity": 0.0}, "> 0"),
        ({"capacity": [1.0, 2.0, 3.0]}, "3 values for 2 sellers"),
        ({"capacity": 10.0, "shocks": MarkovShocks([[0.9, 0.1], [0.1, 0.9]])}, "shocks"),
    ],
)
def test_bad_capacity_settings_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        OligopolyEnv(**kwargs)
