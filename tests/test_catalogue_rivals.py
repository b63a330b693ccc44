"""Rival sellers in the logit catalogue market (issue 13): envs/catalogue_rivals.py."""

from __future__ import annotations

import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.agents.multiproduct_optimum import (
    catalogue_dp,
    grid_optimum,
    logit_optimal_prices,
)
from pricegym.demand.catalogue_truth import LogitCatalogueTruth
from pricegym.envs.multiproduct import STEP_KEYS, MultiProductEnv
from pricegym.envs.multiproduct_sb3 import CatalogueSB3VecEnv
from pricegym.envs.multiproduct_vector import MultiProductVectorEnv
from pricegym.errors import ConfigError

QUALITY, ALPHA, COST = [2.0, 1.5, 1.0], 1.0, [1.0, 0.8, 0.5]
TRUTH = LogitCatalogueTruth(QUALITY, ALPHA, market_size=10.0, support=(0.5, 6.0))
MARKET = {
    "n_prices": 5,
    "p_min": 1.0,
    "p_max": 5.0,
    "cost": COST,
    "salvage": [0.3, 0.2, 0.1],
    "inventory": [12, 8, 5],
    "horizon": 15,
}
FIXED = {"quality": [1.8, 0.5], "prices": [2.5, 1.5], "names": ["big", "cheap"]}
UNDERCUT = {"quality": [1.8], "rule": "undercut", "undercut": 0.25, "low": 1.2, "high": 4.0}


def test_no_rivals_keeps_the_observation_and_info_of_today():
    env = MultiProductEnv(TRUTH, **MARKET)
    assert env.config.rivals is None and env.config.n_rivals == 0
    obs, info = env.reset(seed=0)
    assert obs.shape == (10,) and set(info) == {"t", "inventory"}
    _, _, _, _, info = env.step([2, 2, 2])
    assert tuple(info) == STEP_KEYS


def test_rivals_are_appended_to_the_observation_and_reported_in_info():
    env = MultiProductEnv(TRUTH, **MARKET, rivals=FIXED)
    assert env.observation_space.shape == (12,)
    assert env.observation_names[10:] == ("rival_price:big", "rival_price:cheap")
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(info["rival_prices"], [2.5, 1.5])
    np.testing.assert_array_equal(obs[10:], [1.0, 1.0])  # fixed: high = the price
    plain = MultiProductEnv(TRUTH, **MARKET)
    plain.reset(seed=0)
    obs, _, _, _, info = env.step([1, 2, 3])
    obs0, _, _, _, info0 = plain.step([1, 2, 3])
    p = info["prices"]
    u = np.r_[np.array(QUALITY) - p, np.array(FIXED["quality"]) - np.array(FIXED["prices"])]
    share = np.exp(u) / (1.0 + np.exp(u).sum())
    np.testing.assert_allclose(info["expected_demand"], 10.0 * share[:3], rtol=1e-12)
    np.testing.assert_allclose(info["rival_expected_demand"], 10.0 * share[3:], rtol=1e-12)
    # rivals take demand from every product; the draws are the same calls (one poisson)
    assert (info["expected_demand"] < info0["expected_demand"]).all()
    np.testing.assert_array_equal(obs[:10].shape, obs0.shape)


def test_undercut_rule_follows_the_sellers_mean_price_of_the_last_period():
    env = MultiProductEnv(TRUTH, **MARKET, rivals=UNDERCUT)
    obs, info = env.reset(seed=1)
    # period 0: the seller's start prices are the grids' middle (3, 3, 3)
    np.testing.assert_allclose(info["rival_prices"], [2.75], rtol=1e-15)
    assert obs[-1] == pytest.approx(2.75 / 4.0, rel=1e-6)
    prices = []
    for a in ([0, 0, 0], [4, 4, 3], [4, 4, 4], [1, 2, 3]):
        obs, _, _, _, info = env.step(a)
        prices.append((info["prices"].copy(), info["rival_prices"].copy(), obs[-1]))
    for (p, _, o), (_, rho_next, _) in itertools.pairwise(prices):
        want = np.clip(p.mean() - 0.25, 1.2, 4.0)
        assert rho_next[0] == pytest.approx(want, rel=1e-12)
        assert o == pytest.approx(want / 4.0, rel=1e-6)
    assert prices[1][1][0] == pytest.approx(1.2)  # after (1, 1, 1): 0.75 clipped to low
    assert prices[3][1][0] == pytest.approx(4.0)  # after (5, 5, 5): 4.75 clipped to high


def test_fixed_rivals_optimum_is_the_logit_with_rivals_in_the_outside_option():
    truth = LogitCatalogueTruth([2.0, 1.2], ALPHA, market_size=50.0, support=(0.5, 8.0))
    cost = np.array([1.0, 0.6])
    rivals = {"quality": [1.5, 0.7], "prices": [2.4, 1.9]}
    p_star, m = logit_optimal_prices(
        truth.quality, ALPHA, cost, rival_quality=rivals["quality"], rival_prices=rivals["prices"]
    )
    p_free, m_free = logit_optimal_prices(truth.quality, ALPHA, cost)
    assert m < m_free - 0.05  # the rivals matter: a lower markup
    offsets = np.array([-0.6, -0.3, 0.0, 0.3, 0.6])
    grids = [p_star[j] + offsets for j in range(2)]
    env = MultiProductEnv(truth, prices=grids, cost=cost, noise="none", horizon=2, rivals=rivals)
    # enumerate every grid action through the env's own step (expected units, no draws)
    profit = np.empty((5, 5))
    for i in range(5):
        for j in range(5):
            env.reset(seed=0)
            profit[i, j] = env.step([i, j])[1]
    best = np.unravel_index(np.argmax(profit), profit.shape)
    assert best == (2, 2)  # the closed-form prices are the grid's best
    # at the optimum the profit is M (m − 1/α) (from m = 1 / (α s_0))
    assert profit[2, 2] == pytest.approx(50.0 * (m - 1.0 / ALPHA), rel=1e-12)
    assert np.sort(profit.ravel())[-2] < profit[2, 2] - 1e-6
    # the optimum helpers see the same folded demand
    g = grid_optimum(env)
    np.testing.assert_array_equal(g.action, [2, 2])
    assert g.profit == pytest.approx(profit[2, 2], rel=1e-12)
    # the rival-free optimum is not the best reply to the rivals
    env_free = MultiProductEnv(truth, prices=grids, cost=cost, noise="none", horizon=2)
    assert not np.allclose(grid_optimum(env_free).prices, p_free)  # p_free is off this grid
    assert grid_optimum(env_free).profit > profit[2, 2]


def test_dp_solves_fixed_rivals_and_refuses_reacting_ones():
    small = {**MARKET, "inventory": [3, 2, 2], "horizon": 4, "n_prices": 3}
    fixed = MultiProductEnv(TRUTH, **small, rivals=FIXED)
    plain = MultiProductEnv(TRUTH, **small)
    v_fixed, v_plain = catalogue_dp(fixed).start_value, catalogue_dp(plain).start_value
    assert 0 < v_fixed < v_plain  # rivals take sales away
    with pytest.raises(ConfigError, match="undercut"):
        catalogue_dp(MultiProductEnv(TRUTH, **small, rivals=UNDERCUT))
    with pytest.raises(ConfigError, match="undercut"):
        grid_optimum(MultiProductEnv(TRUTH, **small, rivals=UNDERCUT))


def _run_pair(market: dict, steps: int, seed: int, b: int = 5) -> int:
    """Step a MultiProductVectorEnv and B single envs with the same actions; compare."""
    venv = MultiProductVectorEnv(TRUTH, b, **market)
    envs = [MultiProductEnv(TRUTH, **market) for _ in range(b)]
    obs, info = venv.reset(seed=seed)
    singles = [e.reset(seed=seed + i) for i, e in enumerate(envs)]
    np.testing.assert_array_equal(obs, np.array([o for o, _ in singles]))
    np.testing.assert_array_equal(info["rival_prices"], [i["rival_prices"] for _, i in singles])
    rng = np.random.default_rng(seed)
    ended = np.zeros(b, dtype=bool)
    n_resets = 0
    for _ in range(steps):
        actions = rng.integers(0, venv.config.nvec, (b, venv.n_products))
        obs, rew, term, _, info = venv.step(actions)
        for i, env in enumerate(envs):
            if ended[i]:
                o, inf = env.reset()
                r, t = 0.0, False
                n_resets += 1
                assert not info["_rival_expected_demand"][i] and info["_rival_prices"][i]
                np.testing.assert_allclose(info["rival_prices"][i], inf["rival_prices"], rtol=1e-12)
                inf = None
            else:
                o, r, t, _, inf = env.step(actions[i])
            np.testing.assert_allclose(obs[i], o, rtol=1e-6, atol=1e-7)
            assert rew[i] == pytest.approx(r, rel=1e-12, abs=1e-12)
            assert term[i] == t
            if inf is not None:
                for key in ("demand", "sales", "inventory", "prices"):
                    np.testing.assert_array_equal(info[key][i], inf[key])  # discrete: exact
                for key in ("expected_demand", "rival_prices", "rival_expected_demand"):
                    np.testing.assert_allclose(info[key][i], inf[key], rtol=1e-12)
        ended = term.copy()
    return n_resets


@pytest.mark.parametrize("rivals", [FIXED, UNDERCUT], ids=["fixed", "undercut"])
def test_batch_equals_b_single_markets_with_rivals(rivals):
    assert _run_pair({**MARKET, "rivals": rivals}, steps=50, seed=11) >= 4
    _run_pair({**MARKET, "rivals": rivals, "noise": "none", "inventory": None}, steps=10, seed=3)


def test_like_keeps_the_rivals_and_sb3_adapter_steps():
    env = MultiProductEnv(TRUTH, **MARKET, rivals=UNDERCUT)
    venv = MultiProductVectorEnv.like(env, 3)
    assert venv.config.rivals.to_dict() == env.config.rivals.to_dict()
    sb3 = CatalogueSB3VecEnv(venv)
    sb3.seed(0)
    obs = sb3.reset()
    assert obs.shape == (3, 11)
    for _ in range(20):
        obs, rew, _, _ = sb3.step(np.zeros((3, 3), dtype=np.int64))
        assert obs.shape == (3, 11) and rew.shape == (3,)
        assert sb3.observation_space.contains(obs[0])


@pytest.mark.parametrize("rivals", [FIXED, UNDERCUT], ids=["fixed", "undercut"])
def test_gymnasium_and_sb3_checkers_pass_with_rivals(rivals):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make("pricegym/LogitCatalogue-v0", rivals=rivals)
        check_env(env.unwrapped)
        sb3_check_env(gym.make("pricegym/LogitCatalogue-v0", rivals=rivals), warn=True)
    assert [str(w.message) for w in caught] == []
    assert env.observation_space.shape == (10 + len(rivals["quality"]),)
    vec = gym.make_vec(
        "pricegym/LogitCatalogue-v0", num_envs=2, vectorization_mode="vector_entry_point",
        rivals=rivals,
    )  # fmt: skip
    assert isinstance(vec, MultiProductVectorEnv) and vec.config.n_rivals == len(rivals["quality"])


def test_bad_rivals_raise_with_the_value_and_the_fix():
    class _NotLogit:
        n_products = 3
        product_names = ("p0", "p1", "p2")
        support_ = TRUTH.support_

        def mean_units(self, prices, period=0):
            return TRUTH.mean_units(prices)

    with pytest.raises(ConfigError, match="LogitCatalogueTruth"):
        MultiProductEnv(_NotLogit(), **MARKET, rivals=FIXED)
    with pytest.raises(ConfigError, match="needs prices"):
        MultiProductEnv(TRUTH, **MARKET, rivals={"quality": [1.0]})
    with pytest.raises(ConfigError, match=r"\['speed'\]"):
        MultiProductEnv(TRUTH, **MARKET, rivals={**FIXED, "speed": 1})
    with pytest.raises(ConfigError, match="rule='walk'"):
        MultiProductEnv(TRUTH, **MARKET, rivals={**FIXED, "rule": "walk"})
    with pytest.raises(ConfigError, match="one per rival"):
        MultiProductEnv(TRUTH, **MARKET, rivals={"quality": [1.0, 2.0], "prices": [1, 2, 3]})
    with pytest.raises(ConfigError, match="0 < low"):
        MultiProductEnv(TRUTH, **MARKET, rivals={**UNDERCUT, "low": 0.0})
    with pytest.raises(ConfigError, match="seller's product names"):
        MultiProductEnv(TRUTH, **MARKET, rivals={**FIXED, "names": ["p0", "x"]})
    with pytest.raises(ConfigError, match="both"):
        logit_optimal_prices(QUALITY, ALPHA, COST, rival_quality=[1.0])


def test_myopic_agent_and_experiment_benchmarks_see_fixed_rivals():
    from pricegym.agents.catalogue_rules import CatalogueView
    from pricegym.experiments.catalogue import _parts

    env = MultiProductEnv(TRUTH, **MARKET, rivals=FIXED)
    view = CatalogueView.from_env(env)
    p = np.array([[2.0, 3.0, 4.0]])
    env.reset(seed=0)
    np.testing.assert_allclose(
        view.demand.mean_units(p), env.config.rivals.units(TRUTH, p, [FIXED["prices"]])[0],
        rtol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(_parts(env)[0].mean_units(p), view.demand.mean_units(p))
    with pytest.raises(ConfigError, match="undercut"):
        _parts(MultiProductEnv(TRUTH, **MARKET, rivals=UNDERCUT))


def test_dp_with_fixed_rivals_earns_its_value_in_the_rival_market():
    small = {**MARKET, "inventory": [3, 2, 2], "horizon": 4, "n_prices": 3}
    env = MultiProductEnv(TRUTH, **small, rivals=FIXED)
    dp = catalogue_dp(env)
    b = 4000
    venv = MultiProductVectorEnv.like(env, b)
    _, info = venv.reset(seed=123)
    stock, total = info["inventory"], np.zeros(b)
    alive = np.ones(b, dtype=bool)
    for t in range(small["horizon"]):
        actions = np.array([dp.action(t, s) for s in stock])
        _, rew, term, _, info = venv.step(actions)
        total += np.where(alive, rew, 0.0)
        stock = info["inventory"]
        alive &= ~term
    se = total.std(ddof=1) / np.sqrt(b)
    assert se < 0.02 * dp.start_value
    assert abs(total.mean() - dp.start_value) < 4 * se  # Monte Carlo of the DP's own policy
