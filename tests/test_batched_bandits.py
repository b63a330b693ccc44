"""Batched bandits: BatchUCB1 plays what UCB1 plays; BatchPoissonThompson learns the best price."""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.agents.bandits import UCB1
from pricegym.agents.batched_bandits import BatchPoissonThompson, BatchUCB1
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError
from pricegym.experiments.evaluate import bind_to_seat


def test_batch_ucb1_chooses_what_the_agent_chooses():
    # The same reward stream (reward = f(arm) + noise of period t) drives one UCB1 agent per
    # run and the batch; the chosen indices (discrete) must agree exactly.
    env = OligopolyEnv(n_prices=6)
    runs, periods, k = 3, 600, 6
    means = np.linspace(0.2, 0.5, k)
    noise = np.random.default_rng(0).normal(0.0, 0.3, size=(runs, periods))
    batch = BatchUCB1(runs, k, scale=0.4)
    agents = [bind_to_seat(UCB1(scale=0.4), env, 0) for _ in range(runs)]
    obs = np.zeros(2, dtype=np.float32)
    for t in range(periods):
        arms = batch.act()
        for r, agent in enumerate(agents):
            assert agent.act(obs) == arms[r], (t, r)
        rewards = means[arms] + noise[:, t]
        batch.update(arms, rewards)
        for r, agent in enumerate(agents):
            agent.update(obs, int(arms[r]), float(rewards[r]), obs, False, {"quantity": 1.0})
    np.testing.assert_array_equal(batch.counts_, np.stack([a.counts_ for a in agents]))
    np.testing.assert_allclose(batch.means_, np.stack([a.means_ for a in agents]), rtol=1e-12)


def test_batch_thompson_finds_the_best_price():
    # Poisson demand 10·exp(−p) on prices 0.5 … 3, cost 0: profit p·10·e^{−p} peaks at p = 1.
    prices = np.linspace(0.5, 3.0, 6)
    rate = 10.0 * np.exp(-prices)
    rng = np.random.default_rng(1)
    ts = BatchPoissonThompson(prices, runs=50, cost=0.0, prior_a=1.0, prior_b=0.1, rng=rng)
    best, late = int(np.argmax(prices * rate)), []
    for t in range(2000):
        arms = ts.act()
        ts.update(arms, rng.poisson(rate[arms]).astype(float))
        if t >= 1500:
            late.append(arms == best)
    # profits 3.03, 3.68, 3.35, ...: over the last 500 periods the best price (1.0) is charged
    # in more than 80% of run-periods (measured 0.9)
    assert np.mean(late) > 0.8, np.mean(late)
    assert ts.t_ == 2000


def test_bad_sizes_are_rejected():
    with pytest.raises(ConfigError, match="runs"):
        BatchUCB1(0, 3, 1.0)
    with pytest.raises(ConfigError, match="scale"):
        BatchUCB1(2, 3, 0.0)
    with pytest.raises(ConfigError, match="prior_b"):
        BatchPoissonThompson(np.ones(3), 2, 0.0, 1.0, -1.0, np.random.default_rng(0))


def test_inventory_lp_mix_equals_linprog():
    from scipy.optimize import linprog

    from pricegym.agents.batched_bandits import inventory_lp_mix

    rng = np.random.default_rng(0)
    runs = 200
    v, d = rng.uniform(1, 50, (runs, 4)), rng.uniform(0, 1, (runs, 4))
    c = rng.uniform(0.01, 1.2, runs)
    x = inventory_lp_mix(v, d, c)
    assert np.all(x >= 0) and np.all(x.sum(axis=1) <= 1 + 1e-12)
    assert np.all((d * x).sum(axis=1) <= c + 1e-12)
    for r in range(runs):
        res = linprog(-(v[r] * d[r]), A_ub=np.vstack([d[r], np.ones(4)]), b_ub=[c[r], 1.0])
        assert (v[r] * d[r] * x[r]).sum() == pytest.approx(-res.fun, rel=1e-9, abs=1e-12)
    # Ferreira et al.'s instance: the 3:1 mix of 39.9 and 44.9 at rate 1/4, 10.1 per period
    p, q = np.array([[29.9, 34.9, 39.9, 44.9]]), np.array([[0.8, 0.6, 0.3, 0.1]])
    mix = inventory_lp_mix(p, q, np.array([0.25]))
    np.testing.assert_allclose(mix, [[0, 0, 0.75, 0.25]], atol=1e-12)
    assert float((p * q * mix).sum()) == pytest.approx(10.1, rel=1e-12)


def test_inventory_thompson_never_oversells():
    from pricegym.agents.batched_bandits import BatchInventoryThompson

    prices, probs = np.array([29.9, 34.9, 39.9, 44.9]), np.array([0.8, 0.6, 0.3, 0.1])
    rng = np.random.default_rng(2)
    ts = BatchInventoryThompson(prices, 30, 25, 100, "update", rng)
    sold = np.zeros(30)
    for _ in range(100):
        arms = ts.act()
        priced = arms < 4
        assert np.all(arms[ts.stock_ <= 0] == 4)  # sold out: the shut-off price
        sales = (priced & (rng.random(30) < probs[np.minimum(arms, 3)])).astype(float)
        ts.update(arms, sales)
        sold += sales
    assert np.all(ts.stock_ >= 0) and np.all(sold <= 25)
    np.testing.assert_allclose(ts.stock_ + sold, 25.0)
    with pytest.raises(ConfigError, match="inventory_rate"):
        BatchInventoryThompson(prices, 2, 5, 10, "sometimes", rng)
