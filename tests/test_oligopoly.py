"""The oligopoly market: benchmarks, PettingZoo conformance, dynamics, and the opponent view."""

from __future__ import annotations

import doctest
import subprocess
import sys
import warnings
from typing import Any

import gymnasium
import numpy as np
import pytest
from conftest import LinearDuopoly
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test, parallel_seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import pricegym.envs.oligopoly as oligopoly
from pricegym.demand.parametric import LogitTruth
from pricegym.envs.equilibrium_solvers import (
    joint_profit,
    logit_monopoly_prices,
    logit_nash_prices,
    logit_profits,
    logit_shares,
    monopoly_prices,
    nash_prices,
    profit_gain,
)
from pricegym.envs.oligopoly import MarkovShocks, OligopolyEnv, OpponentWrapper
from pricegym.errors import ConfigError, ExtrapolationWarning

SHOCKS = {"transition": [[0.9, 0.1], [0.3, 0.7]], "quality": [1.1, 0.9], "cost": [1.0, 1.2]}

#: The configurations every conformance test runs on.
CONFIGS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "three_continuous": {"n_sellers": 3, "action": "continuous"},
    "sequential": {"moves": "sequential"},
    "shocks": {"shocks": SHOCKS},
    "noisy_memory3_four": {"n_sellers": 4, "memory": 3, "noise": True, "moves": "sequential"},
}

#: Markets for the equilibrium checks: (quality, outside, mu, cost).
MARKETS = {
    "baseline": ((2.0, 2.0), 0.0, 0.25, 1.0),
    "three": ((2.0, 2.0, 2.0), 0.0, 0.25, 1.0),
    "four": ((2.0,) * 4, 0.0, 0.25, 1.0),
    "asymmetric": ((2.2, 2.0, 1.8), 0.3, 0.4, (1.0, 0.9, 1.2)),
}


def rollout(env: OligopolyEnv, seed: int, steps: int) -> list[tuple]:
    """(obs, rewards, truncations, infos) of ``steps`` rounds with space-sampled actions."""
    obs, infos = env.reset(seed=seed)
    for i, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + i)
    out: list[tuple] = [(obs, infos)]
    for _ in range(steps):
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, _, truncations, infos = env.step(actions)
        out.append((obs, rewards, truncations, infos))
    return out


# ============================================================ benchmarks
def test_benchmarks_live_in_equilibrium_solvers_and_oligopoly_re_exports_them():
    """The solvers moved to their own module (numpy + scipy only); the old path works."""
    import pricegym.envs.equilibrium_solvers as solvers

    for name in solvers.__all__:
        assert getattr(oligopoly, name) is getattr(solvers, name), name
        assert name in oligopoly.__all__ or name == "DemandFunction", name
    probe = (
        "import sys, pricegym.envs.equilibrium_solvers; "
        "print(sorted({'gymnasium', 'pettingzoo'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_calvano_baseline_prices_and_profits():
    pn, pm = logit_nash_prices(), logit_monopoly_prices()
    np.testing.assert_allclose(pn, [1.4729, 1.4729], atol=1e-4)
    np.testing.assert_allclose(pm, [1.9250, 1.9250], atol=1e-4)
    np.testing.assert_allclose(logit_profits(pn), [0.2229, 0.2229], atol=1e-4)
    np.testing.assert_allclose(logit_profits(pm), [0.3375, 0.3375], atol=1e-4)
    assert joint_profit(pm) == pytest.approx(2 * 0.337490, abs=1e-6)
    assert profit_gain(logit_profits(pn), logit_profits(pn), logit_profits(pm)).tolist() == [0, 0]
    assert profit_gain(logit_profits(pm), logit_profits(pn), logit_profits(pm)) == pytest.approx(1)


def test_more_sellers_lower_nash_prices_and_closed_form_monopoly():
    # n = 3: the common markup m = 1 solves m(1 − S) = μ exactly (S = 3/4), so p^M = 2.
    np.testing.assert_allclose(logit_monopoly_prices((2.0,) * 3), [2.0] * 3, atol=1e-12)
    np.testing.assert_allclose(logit_nash_prices((2.0,) * 3), [1.370163] * 3, atol=1e-6)
    np.testing.assert_allclose(logit_nash_prices((2.0,) * 4), [1.331461] * 4, atol=1e-6)
    np.testing.assert_allclose(logit_monopoly_prices((2.0,) * 4), [2.054411] * 4, atol=1e-6)


@pytest.mark.parametrize("name", list(MARKETS))
def test_nash_first_order_conditions(name):
    quality, outside, mu, cost = MARKETS[name]
    p = logit_nash_prices(quality, outside, mu, cost)
    s = logit_shares(p, quality, outside, mu)
    np.testing.assert_allclose(p - np.asarray(cost) - mu / (1 - s), 0.0, atol=1e-8)


@pytest.mark.parametrize("name", list(MARKETS))
def test_no_profitable_unilateral_deviation_from_nash(name):
    quality, outside, mu, cost = MARKETS[name]
    pn = logit_nash_prices(quality, outside, mu, cost)
    at_nash = logit_profits(pn, quality, outside, mu, cost)
    offsets = np.arange(-500, 501) * 1e-4  # ±0.05 in steps of 1e-4
    for i in range(pn.size):
        deviations = np.tile(pn, (offsets.size, 1))
        deviations[:, i] += offsets
        gains = logit_profits(deviations, quality, outside, mu, cost)[:, i] - at_nash[i]
        assert gains.max() <= 1e-12, f"seller {i} gains {gains.max()} by deviating"
        assert gains[offsets != 0].max() < 0  # strict: the best reply is unique


@pytest.mark.parametrize("name", list(MARKETS))
def test_monopoly_prices_maximise_joint_profit(name):
    quality, outside, mu, cost = MARKETS[name]
    pm = logit_monopoly_prices(quality, outside, mu, cost)
    n = pm.size
    offsets = np.linspace(-0.02, 0.02, 9 if n > 2 else 41)
    grid = np.stack(np.meshgrid(*[offsets] * n, indexing="ij"), axis=-1).reshape(-1, n)
    best = joint_profit(pm, quality, outside, mu, cost)
    assert joint_profit(pm + grid, quality, outside, mu, cost).max() <= best + 1e-14
    # Direct maximisation over all prices agrees with the equal-markup solution.
    demand = lambda p: logit_shares(p, quality, outside, mu)  # noqa: E731
    np.testing.assert_allclose(
        monopoly_prices(demand, np.broadcast_to(cost, (n,)), (0.5, 5.0)), pm, atol=1e-6
    )
    # The monopolist charges one common markup, above every Nash price.
    np.testing.assert_allclose(np.ptp(pm - np.asarray(cost)), 0.0, atol=1e-12)
    assert np.all(pm > logit_nash_prices(quality, outside, mu, cost))


def test_best_response_solver_matches_logit_nash():
    quality, outside, mu, cost = MARKETS["asymmetric"]
    demand = lambda p: logit_shares(p, quality, outside, mu)  # noqa: E731
    np.testing.assert_allclose(
        nash_prices(demand, cost, (0.5, 5.0)),
        logit_nash_prices(quality, outside, mu, cost),
        atol=1e-7,
    )


# =================================================================== grid
def test_default_env_is_the_calvano_baseline():
    env = OligopolyEnv()
    assert env.possible_agents == ["seller_0", "seller_1"]
    assert (env.n_sellers, env.memory, env.mu, env.outside, env.market_size) == (2, 1, 0.25, 0, 1)
    assert env.quality.tolist() == [2.0, 2.0] and env.cost.tolist() == [1.0, 1.0]
    pn, pm = env.nash_prices[0], env.monopoly_prices[0]
    assert pn == pytest.approx(1.4729, abs=1e-4) and pm == pytest.approx(1.9250, abs=1e-4)
    assert env.grid.size == 15
    assert env.grid[0] == pytest.approx(pn - 0.1 * (pm - pn), abs=1e-12)
    assert env.grid[-1] == pytest.approx(pm + 0.1 * (pm - pn), abs=1e-12)
    np.testing.assert_allclose(np.diff(env.grid), (env.grid[-1] - env.grid[0]) / 14, rtol=1e-12)
    assert env.action_space("seller_0") == gymnasium.spaces.Discrete(15)
    assert env.observation_space("seller_1").shape == (2,)
    np.testing.assert_allclose(env.nash_profits, 0.222927, atol=1e-6)
    np.testing.assert_allclose(env.monopoly_profits, 0.337490, atol=1e-6)


def test_asymmetric_grid_spans_lowest_nash_and_highest_monopoly_price():
    env = OligopolyEnv(quality=(2.2, 2.0, 1.8), cost=(1.0, 0.9, 1.2), n_prices=21, xi=0.0)
    assert env.n_sellers == 3 and env.grid.size == 21
    assert env.grid[0] == pytest.approx(env.nash_prices.min(), abs=1e-12)
    assert env.grid[-1] == pytest.approx(env.monopoly_prices.max(), abs=1e-12)


def test_explicit_price_grid():
    env = OligopolyEnv(prices=[1.0, 1.5, 2.0])
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"seller_0": 0, "seller_1": 2})
    assert [infos[a]["price"] for a in env.possible_agents] == [1.0, 2.0]
    assert rewards["seller_0"] == 0.0  # priced at cost
    assert rewards["seller_1"] == pytest.approx(1.0 * logit_shares([1.0, 2.0], 2.0, 0, 0.25)[1])


# ============================================================ conformance
@pytest.mark.parametrize("name", list(CONFIGS))
def test_pettingzoo_parallel_api_and_seed_tests(name):
    config = CONFIGS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(OligopolyEnv(**config, horizon=60), num_cycles=100)
        parallel_seed_test(lambda: OligopolyEnv(**config, horizon=60), num_cycles=100)


class RandomRival:
    """A rival that samples its action space, seeded through ``reset``."""

    def __init__(self, space: gymnasium.spaces.Space) -> None:
        self.space = space
        self.seeds: list[int] = []

    def reset(self, seed: int) -> None:
        self.seeds.append(seed)
        self.space.seed(seed)

    def act(self, observation: np.ndarray) -> Any:
        return self.space.sample()


class Matcher:
    """A rival that copies the learner's last grid price (the next entry of its observation)."""

    def __init__(self, n_prices: int) -> None:
        self.m = n_prices

    def act(self, observation: np.ndarray) -> int:
        return round(float(observation[1]) * (self.m - 1))


def _make_wrapper(render_mode: str | None = None, **config: Any) -> OpponentWrapper:
    env = OligopolyEnv(**config, render_mode=render_mode)
    return OpponentWrapper(env, RandomRival(env.action_space("seller_1")))


@pytest.fixture
def registered_wrappers():
    """Test-only ids (outside the pricegym namespace) so check_env can test render modes."""
    ids = {}
    for name, config in CONFIGS.items():
        env_id = f"oligopoly-test/{name}-v0"
        gymnasium.register(id=env_id, entry_point=_make_wrapper, kwargs=config)
        ids[name] = env_id
    yield ids
    for env_id in ids.values():
        del gymnasium.registry[env_id]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_wrapper_passes_gymnasium_and_sb3_env_checkers(name, registered_wrappers):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make(registered_wrappers[name], render_mode="ansi").unwrapped
        check_env(env)
        sb3_check_env(env, warn=True)
    assert env.observation_space is env.env.observation_space("seller_0")
    assert env.action_space is env.env.action_space("seller_0")


# =============================================================== dynamics
@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_seed_same_trajectory(name):
    a = rollout(OligopolyEnv(**CONFIGS[name]), seed=7, steps=200)
    b = rollout(OligopolyEnv(**CONFIGS[name]), seed=7, steps=200)
    for x, y in zip(a, b, strict=True):
        assert gymnasium.utils.env_checker.data_equivalence(x, y, exact=True)
    c = rollout(OligopolyEnv(**CONFIGS[name]), seed=8, steps=200)
    assert not gymnasium.utils.env_checker.data_equivalence(a, c, exact=True)


def _check_invariants(env: OligopolyEnv, trajectory: list[tuple]) -> None:
    obs0, _ = trajectory[0]
    for agent, o in obs0.items():
        assert env.observation_space(agent).contains(o)
    for obs, rewards, _, infos in trajectory[1:]:
        for agent in env.possible_agents:
            info = infos[agent]
            assert env.observation_space(agent).contains(obs[agent])
            assert rewards[agent] == (info["price"] - info["unit_cost"]) * info["quantity"]
            assert np.isfinite(rewards[agent])
            assert info["quantity"] >= 0 and info["expected_quantity"] > 0
            assert env.p_lo - 1e-12 <= info["price"] <= env.p_hi + 1e-12
            if not env.noise:
                assert info["quantity"] == info["expected_quantity"]
        total = sum(infos[a]["expected_quantity"] for a in env.possible_agents)
        assert total < env.market_size  # the outside good keeps a positive share


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 4),
    action=st.sampled_from(["discrete", "continuous"]),
    moves=st.sampled_from(["simultaneous", "sequential"]),
    memory=st.integers(1, 3),
    noise=st.booleans(),
    shocks=st.booleans(),
    mu=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_invariants_on_random_rollouts(n, action, moves, memory, noise, shocks, mu, seed):
    env = OligopolyEnv(
        n,
        mu=mu,
        action=action,
        moves=moves,
        memory=memory,
        noise=noise,
        shocks=SHOCKS if shocks else None,
        horizon=30,
    )
    trajectory = rollout(env, seed=seed, steps=30)
    _check_invariants(env, trajectory)
    assert all(trajectory[-1][2].values()) and env.agents == []


def test_expected_units_are_the_logit_demand_and_noise_samples_around_them():
    env = OligopolyEnv(n_sellers=3, quality=(2.0, 2.1, 1.9), mu=0.3, market_size=50.0)
    env.reset(seed=0, options={"prices": env.grid[[3, 5, 7]]})
    _, _, _, _, infos = env.step({"seller_0": 3, "seller_1": 5, "seller_2": 7})
    expected = 50.0 * logit_shares(env.grid[[3, 5, 7]], (2.0, 2.1, 1.9), 0.0, 0.3)
    got = [infos[a]["quantity"] for a in env.possible_agents]
    np.testing.assert_allclose(got, expected, rtol=1e-14)

    noisy = OligopolyEnv(
        n_sellers=3, quality=(2.0, 2.1, 1.9), mu=0.3, market_size=50.0, noise=True, horizon=None
    )
    noisy.reset(seed=1)
    actions = {"seller_0": 3, "seller_1": 5, "seller_2": 7}
    units = np.array(
        [[i["quantity"] for i in noisy.step(actions)[4].values()] for _ in range(4000)]
    )
    assert np.all(units == np.round(units))  # Poisson counts
    se = np.sqrt(expected / units.shape[0])
    assert np.all(np.abs(units.mean(axis=0) - expected) < 4 * se)


def test_observations_are_seat_centred_and_remember_k_rounds():
    env = OligopolyEnv(n_sellers=3, memory=2)
    m = env.grid.size - 1
    env.reset(seed=0, options={"prices": env.grid[[0, 1, 2]]})
    obs, *_ = env.step({"seller_0": 14, "seller_1": 7, "seller_2": 0})
    np.testing.assert_allclose(obs["seller_0"], np.array([14, 7, 0, 0, 1, 2]) / m, atol=1e-7)
    np.testing.assert_allclose(obs["seller_1"], np.array([7, 14, 0, 1, 0, 2]) / m, atol=1e-7)
    np.testing.assert_allclose(obs["seller_2"], np.array([0, 14, 7, 2, 0, 1]) / m, atol=1e-7)
    assert np.array_equal(env.state(), obs["seller_0"])


def test_continuous_actions_map_to_the_grid_range():
    env = OligopolyEnv(action="continuous")
    assert env.action_space("seller_0") == gymnasium.spaces.Box(-1, 1, (1,), np.float32)
    env.reset(seed=0)
    obs, *_, infos = env.step({"seller_0": np.array([-1.0]), "seller_1": np.array([0.0])})
    assert infos["seller_0"]["price"] == env.p_lo
    assert infos["seller_1"]["price"] == pytest.approx(0.5 * (env.p_lo + env.p_hi), abs=1e-12)
    np.testing.assert_allclose(obs["seller_0"], [0.0, 0.5])
    *_, infos = env.step({"seller_0": np.array([3.0]), "seller_1": np.array([1.0])})
    assert infos["seller_0"]["price"] == infos["seller_1"]["price"] == env.p_hi  # clipped


def test_sequential_moves_change_only_the_movers_price():
    env = OligopolyEnv(n_sellers=3, moves="sequential", horizon=None)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    last = np.array([env._p[0, i] for i in range(3)])  # prices before round 0
    for t in range(30):
        mover = t % 3
        obs_turn = [env.state()[3]]  # seller 0's wait before the round
        assert obs_turn[0] == ((0 - t) % 3) / 2
        actions = {a: int(rng.integers(15)) for a in env.agents}
        obs, _, _, _, infos = env.step(actions)
        now = np.array([infos[a]["price"] for a in env.possible_agents])
        others = np.arange(3) != mover
        np.testing.assert_array_equal(now[others], last[others])
        assert now[mover] == env.grid[actions[f"seller_{mover}"]]
        assert [infos[a]["moved"] for a in env.possible_agents] == (~others).tolist()
        # The next mover sees wait 0; the others count the rounds until their turn.
        for i, a in enumerate(env.possible_agents):
            assert obs[a][3] == pytest.approx(((i - (t + 1)) % 3) / 2)
        last = now
    # Non-movers may omit their actions; the mover may not.
    env.reset(seed=0)
    env.step({"seller_0": 1})
    with pytest.raises(ValueError, match="seller_1"):
        env.step({"seller_0": 1})


def test_markov_shocks_switch_regimes_with_the_given_probabilities():
    env = OligopolyEnv(shocks=SHOCKS, horizon=None)
    env.reset(seed=0, options={"regime": 0})
    assert env.obs_dim == 4
    transitions = np.zeros((2, 2))
    regime = 0
    for _ in range(20_000):
        obs, _, _, _, infos = env.step({"seller_0": 4, "seller_1": 4})
        assert infos["seller_0"]["regime"] == regime
        nxt = int(np.argmax(obs["seller_0"][2:]))
        assert obs["seller_0"][2:].sum() == 1.0
        transitions[regime, nxt] += 1
        regime = nxt
    freq = transitions / transitions.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(freq, SHOCKS["transition"], atol=0.02)


def test_shocks_scale_quality_and_cost_and_their_benchmarks():
    env = OligopolyEnv(shocks=SHOCKS)
    env.reset(seed=0, options={"regime": 1, "prices": [env.grid[4]] * 2})
    infos = env.step({"seller_0": 4, "seller_1": 4})[4]
    info = infos["seller_0"]
    assert info["regime"] == 1 and info["unit_cost"] == pytest.approx(1.2)
    p = np.array([env.grid[4]] * 2)
    assert info["quantity"] == pytest.approx(logit_shares(p, 1.8, 0.0, 0.25)[0], rel=1e-12)
    assert info["nash_price"] == pytest.approx(logit_nash_prices((1.8, 1.8), 0, 0.25, 1.2)[0])
    assert info["monopoly_price"] == pytest.approx(
        logit_monopoly_prices((1.8, 1.8), 0, 0.25, 1.2)[0]
    )
    # Without an explicit initial distribution the regime starts from the stationary one.
    assert MarkovShocks(**SHOCKS).initial == pytest.approx((0.75, 0.25))


def test_shocks_give_each_regime_its_benchmark_profits():
    env = OligopolyEnv(shocks=SHOCKS)
    assert env.regime_nash_prices.shape == env.regime_monopoly_profits.shape == (2, 2)
    for r, (q, c) in enumerate(zip(SHOCKS["quality"], SHOCKS["cost"], strict=True)):
        pn = logit_nash_prices((2 * q, 2 * q), 0, 0.25, c)
        pm = logit_monopoly_prices((2 * q, 2 * q), 0, 0.25, c)
        nash = logit_profits(pn, 2 * q, 0, 0.25, c)
        monopoly = logit_profits(pm, 2 * q, 0, 0.25, c)
        np.testing.assert_allclose(env.regime_nash_prices[r], pn, rtol=1e-12)
        np.testing.assert_allclose(env.regime_nash_profits[r], nash, rtol=1e-12)
        np.testing.assert_allclose(env.regime_monopoly_profits[r], monopoly, rtol=1e-12)
        # Each round's infos carry the benchmark profits of the regime that governed it.
        _, infos = env.reset(seed=0, options={"regime": r})
        assert infos["seller_1"]["nash_profit"] == env.regime_nash_profits[r, 1]
        info = env.step({"seller_0": 4, "seller_1": 4})[4]["seller_0"]
        assert info["regime"] == r
        assert info["nash_profit"] == pytest.approx(nash[0], rel=1e-12)
        assert info["monopoly_profit"] == pytest.approx(monopoly[0], rel=1e-12)
    # The base market (every factor 1) is no regime here, and its profits differ.
    assert not np.isclose(env.nash_profits, env.regime_nash_profits).all(axis=1).any()
    # Without shocks there is one regime: the base market, bit for bit.
    plain = OligopolyEnv()
    np.testing.assert_array_equal(plain.regime_nash_profits, [plain.nash_profits])
    np.testing.assert_array_equal(plain.regime_monopoly_prices, [plain.monopoly_prices])


def test_horizon_truncates_and_removes_every_seller():
    env = OligopolyEnv(horizon=3)
    env.reset(seed=0)
    for t in range(3):
        _, _, terminations, truncations, infos = env.step({"seller_0": 0, "seller_1": 0})
        assert not any(terminations.values())
        assert all(truncations.values()) == (t == 2)
        assert infos["seller_0"]["round"] == t + 1
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"seller_0": 0, "seller_1": 0})


def test_reset_options_fix_the_starting_state():
    env = OligopolyEnv(memory=2)
    obs, infos = env.reset(seed=0, options={"prices": [[env.grid[2], env.grid[5]]] * 2})
    np.testing.assert_allclose(obs["seller_1"], np.array([5, 2, 5, 2]) / 14, atol=1e-7)
    assert infos["seller_1"]["price"] == env.grid[5]
    assert infos["seller_0"]["nash_price"] == pytest.approx(1.4729, abs=1e-4)
    with pytest.raises(ConfigError, match="grid"):
        env.reset(options={"prices": [1.5, 1.6]})
    with pytest.raises(ConfigError, match="regime"):
        env.reset(options={"regime": 1})


def test_invalid_actions_raise():
    env = OligopolyEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        env.step({"seller_0": 15, "seller_1": 0})
    with pytest.raises(ValueError, match="integer"):
        env.step({"seller_0": 1.5, "seller_1": 0})
    with pytest.raises(ValueError, match="seller_1"):
        env.step({"seller_0": 0})


def test_render_ansi():
    env = OligopolyEnv(render_mode="ansi")
    env.reset(seed=0, options={"prices": [env.grid[0], env.grid[14]]})
    assert env.render().startswith("round      0 regime 0 | seller_0 p=1.4277")
    env.step({"seller_0": 1, "seller_1": 1})
    line = env.render()
    assert line.startswith("round      1 regime 0 | seller_0 p=1.4665 q=0.4721 π=0.2202")
    with pytest.warns(UserWarning, match="render_mode"):
        assert OligopolyEnv().render() is None


def test_docstring_example_runs():
    assert doctest.testmod(oligopoly).failed == 0


# ====================================================== any demand kernel


def test_any_multi_seller_kernel_drives_the_market():
    env = OligopolyEnv(kernel=LinearDuopoly(), cost=1.0)
    # Nash: p = (alpha + beta·c)/(2beta − gamma) = 4; monopoly: (alpha/(beta − gamma) + c)/2 = 5.5.
    np.testing.assert_allclose(env.nash_prices, [4.0, 4.0], atol=1e-7)
    np.testing.assert_allclose(env.monopoly_prices, [5.5, 5.5], atol=1e-6)
    np.testing.assert_allclose(env.grid[[0, -1]], [3.85, 5.65], atol=1e-6)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"seller_0": 0, "seller_1": 14})
    p0, p1 = env.grid[0], env.grid[14]
    assert rewards["seller_0"] == pytest.approx((p0 - 1) * (10 - 2 * p0 + p1), rel=1e-12)
    assert infos["seller_1"]["quantity"] == pytest.approx(10 - 2 * p1 + p0, rel=1e-12)


def test_cost_shocks_on_a_kernel_give_each_regime_its_benchmark_profits():
    shocks = {"transition": [[0.5, 0.5], [0.5, 0.5]], "cost": [1.0, 1.5]}
    env = OligopolyEnv(kernel=LinearDuopoly(), cost=1.0, shocks=shocks)
    # Regime 1 (c = 1.5): Nash p = (alpha + beta·c)/(2beta − gamma) = 13/3, monopoly
    # (alpha/(beta − gamma) + c)/2 = 5.75; symmetric sales 10 − p.
    np.testing.assert_allclose(env.regime_nash_prices[1], 13 / 3, atol=1e-7)
    np.testing.assert_allclose(
        env.regime_nash_profits[1], (13 / 3 - 1.5) * (10 - 13 / 3), rtol=1e-7
    )
    np.testing.assert_allclose(env.regime_monopoly_profits[1], 4.25 * 4.25, rtol=1e-7)
    np.testing.assert_array_equal(env.regime_nash_profits[0], env.nash_profits)


def test_logit_kernel_and_logit_parameters_agree():
    via_kernel = OligopolyEnv(kernel=LogitTruth(support=(1.0, 2.5)))
    np.testing.assert_allclose(via_kernel.grid, OligopolyEnv().grid, atol=1e-7)


def test_grid_outside_a_kernels_support_needs_the_explicit_option():
    with pytest.raises(ConfigError, match="extrapolate=True"):
        OligopolyEnv(kernel=LinearDuopoly(), prices=[0.5, 4.0, 6.0])
    with pytest.warns(ExtrapolationWarning, match="support"):
        env = OligopolyEnv(kernel=LinearDuopoly(), prices=[0.5, 4.0, 6.0], extrapolate=True)
    assert env.grid.tolist() == [0.5, 4.0, 6.0]


# ================================================================ wrapper
def test_wrapper_plays_rivals_from_their_own_observations():
    env = OligopolyEnv(n_sellers=3, horizon=50)
    wrapper = OpponentWrapper(env, [Matcher(15), lambda obs: 0], seat=1)
    assert wrapper.learner == "seller_1" and wrapper.rivals == ["seller_0", "seller_2"]
    obs, info = wrapper.reset(seed=0, options={"prices": env.grid[[3, 9, 5]]})
    np.testing.assert_allclose(obs, np.array([9, 3, 5]) / 14, atol=1e-7)
    obs, reward, terminated, truncated, info = wrapper.step(12)
    # seller_0 matched seller_1's previous price (index 9); seller_2 always plays 0.
    assert info["rival_prices"] == {"seller_0": env.grid[9], "seller_2": env.grid[0]}
    assert info["price"] == env.grid[12]
    assert reward == (info["price"] - 1.0) * info["quantity"]
    assert (terminated, truncated) == (False, False)
    np.testing.assert_allclose(obs, np.array([12, 9, 0]) / 14, atol=1e-7)
    for _ in range(49):
        *_, truncated, info = wrapper.step(12)
    assert truncated and info["round"] == 50


def test_wrapper_seeds_rival_policies_deterministically():
    def run(seed):
        env = OligopolyEnv(action="continuous", horizon=20)
        rival = RandomRival(env.action_space("seller_1"))
        wrapper = OpponentWrapper(env, {"seller_1": rival})
        wrapper.reset(seed=seed)
        prices = [wrapper.step(np.array([0.0]))[4]["rival_prices"]["seller_1"] for _ in range(20)]
        return rival.seeds, prices

    assert run(5) == run(5)
    assert run(5)[1] != run(6)[1]


@pytest.mark.parametrize(
    ("opponents", "seat", "match"),
    [
        ([lambda o: 0], 0, "one per rival"),
        ({"seller_2": lambda o: 0}, 0, "rivals"),
        (42, 0, "act"),
        (lambda o: 0, 3, "seat=3"),
        (lambda o: 0, "buyer", "seat='buyer'"),
    ],
)
def test_wrapper_rejects_bad_opponents(opponents, seat, match):
    with pytest.raises(ConfigError, match=match):
        OpponentWrapper(OligopolyEnv(n_sellers=3), opponents, seat=seat)


# ========================================================= configuration
@pytest.mark.parametrize(
    ("kwargs", "value", "fix"),
    [
        ({"n_sellers": 1}, "n_sellers=1", "PricingEnv"),
        ({"quality": [2.0]}, "n_sellers=1", "PricingEnv"),
        ({"mu": 0.0}, "mu=0.0", "mu=0.25"),
        ({"mu": -0.25}, "mu=-0.25", "mu=0.25"),
        ({"memory": 0}, "memory=0", "memory=1"),
        ({"xi": -0.1}, "xi=-0.1", "e.g. 0.1"),
        ({"xi": 5.0}, "xi=5.0", "smaller xi"),
        ({"n_sellers": 3, "quality": [2.0, 2.0]}, "'quality': 2", "one value per seller"),
        ({"quality": [2.0, 2.0], "cost": [1.0, 1.0, 1.0]}, "'cost': 3", "one value per seller"),
        ({"cost": -1.0}, "cost=-1.0", "correct the offending entry"),
        ({"n_prices": 1}, "n_prices=1", "15"),
        ({"prices": [1.5, 1.2, 1.8]}, r"prices=\[1.5, 1.2, 1.8\]", "sort the grid"),
        ({"prices": [1.2, 1.5], "n_prices": 15}, "n_prices=15", "give one of them"),
        ({"action": "discret"}, "action='discret'", "Did you mean 'discrete'"),
        ({"moves": "alternating"}, "moves='alternating'", "Alternating moves are 'sequential'"),
        ({"horizon": 0}, "horizon=0", "None for no cut-off"),
        ({"render_mode": "human"}, "render_mode='human'", "use None or 'ansi'"),
        ({"shocks": {"transition": [[0.9, 0.2], [0.5, 0.5]]}}, "row sums", "every row sum to 1"),
        ({"shocks": {"transition": [[0.5, 0.5]]}}, r"shape \(1, 2\)", "square"),
        ({"shocks": {"transition": [[1.2, -0.2], [0, 1]]}}, "-0.2", "every entry must be >= 0"),
        (
            {"shocks": {"transition": [[1.0]], "quality": [1.0, 2.0]}},
            "shocks.quality",
            "per regime",
        ),
        ({"shocks": {"transition": [[1.0]], "costs": [1.0]}}, "'costs'", "Did you mean 'cost'"),
        ({"kernel": LinearDuopoly(), "mu": 0.3}, "'mu'", "drop them"),
        ({"kernel": LogitTruth(quality=[2.0])}, "n_sellers=1", "PricingEnv"),
        (
            {"kernel": LinearDuopoly(), "shocks": {"transition": [[1]], "quality": [1.2]}},
            "shocks.quality",
            "cost shocks only",
        ),
    ],
)
def test_bad_configuration_names_field_value_and_fix(kwargs, value, fix):
    with pytest.raises(ConfigError, match=value) as error:
        OligopolyEnv(**kwargs)
    assert fix in str(error.value)
