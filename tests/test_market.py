"""PricingEnv: API conformance, accounting, episode ends, fast paths, rivals, guards."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import InvalidAction, ResetNeeded
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from pricegym.agents.base import PricingAgent
from pricegym.demand import (
    ArimaxKernel,
    ConstantElasticity,
    ExponentialTruth,
    LinearTruth,
    LogitTruth,
    NoiseModel,
)
from pricegym.demand.selection import make_model
from pricegym.envs.competitors import CompetitorProcess
from pricegym.envs.config import CompetitorConfig, MarketConfig
from pricegym.envs.market import PricingEnv
from pricegym.errors import ConfigError, DecisionWarning, ExtrapolationWarning, ModelFileError

TEST_ID = "pricegym_test/PricingEnv-v0"
if TEST_ID not in gym.registry:
    gym.register(TEST_ID, entry_point=PricingEnv)

ACTIONS = ("discrete", "continuous")
#: Every kernel type: parametric truths (each noise model) and each fitted family.
KERNELS = (
    "exponential",
    "linear_truth",
    "elasticity_lognormal",
    "linear",
    "loglinear",
    "poisson",
    "arimax",
    "arimax_wide",
    "neural",
    "neural_flat",
)
#: The demand path each (kernel, action kind) must use.
FAST_MODE = {
    "exponential": {"discrete": "table", "continuous": "parametric"},
    "linear_truth": {"discrete": "table", "continuous": "parametric"},
    "elasticity_lognormal": {"discrete": "table", "continuous": "parametric"},
    "linear": {"discrete": "table", "continuous": "linear"},
    "loglinear": {"discrete": "table", "continuous": "linear"},
    "poisson": {"discrete": "table", "continuous": "linear"},
    "arimax": {"discrete": "arimax", "continuous": "arimax"},
    "arimax_wide": {"discrete": "arimax", "continuous": "arimax"},
    "neural": {"discrete": "neural", "continuous": "neural"},
    "neural_flat": {"discrete": "neural", "continuous": "neural"},
}


@pytest.fixture(scope="module")
def kernels(fitted_models, weekly_history):
    """One kernel of every type (fitted families from the shared session fixture)."""
    out = {
        "exponential": ExponentialTruth(a=50.0, alpha=0.5),
        "linear_truth": LinearTruth(a=100.0, b=2.0, noise=NoiseModel("negbin", alpha=0.1)),
        "elasticity_lognormal": ConstantElasticity(
            a=500.0, elasticity=-2.0, support=(2.0, 20.0), noise=NoiseModel("lognormal", sigma=0.3)
        ),
    }
    for family in ("linear", "loglinear", "poisson", "arimax", "neural"):
        out[family] = fitted_models[family].kernel()
    out["arimax_wide"] = _wide_arimax(out["arimax"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat = make_model("neural", hidden=(), lags=2, n_bootstrap=0, max_iter=30)
        out["neural_flat"] = flat.fit(weekly_history).kernel()
    return out


def _wide_arimax(kern: ArimaxKernel) -> ArimaxKernel:
    """The fitted ARIMAX kernel with a 5-state AR(5) error (exercises the numpy filter)."""
    k = 5
    transition = np.zeros((k, k))
    transition[:, 0] = [0.4, 0.2, 0.1, -0.05, 0.05]
    transition[np.arange(k - 1), np.arange(1, k)] = 1.0
    design = np.eye(k)[0]
    gain = np.array([0.5, 0.2, 0.1, -0.05, 0.05])
    state = np.array([3.0, -1.0, 0.5, 0.2, -0.1])
    return ArimaxKernel(
        kern.spec,
        kern.coef,
        transition,
        design,
        gain,
        state,
        target=kern.target,
        smear=kern.smear,
        log_floor=kern.log_floor,
        noise=kern.noise,
        support=kern.support,
        reference=kern.reference,
    )


def rollout(env: gym.Env, seed: int, actions: list) -> dict[str, list]:
    """Play ``actions`` from ``reset(seed)``, restarting episodes; record everything."""
    obs, info = env.reset(seed=seed)
    out: dict[str, list] = {"obs": [obs], "reward": [], "flags": [], "info": []}
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out["obs"].append(obs)
        out["reward"].append(reward)
        out["flags"].append((terminated, truncated))
        out["info"].append(info)
        if terminated or truncated:
            obs, _ = env.reset()
            out["obs"].append(obs)
    return out


def random_actions(env: gym.Env, n: int, seed: int = 0) -> list:
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


# ============================================================== conformance
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", KERNELS)
def test_check_env_gymnasium_and_sb3_without_warnings(kernels, name, action):
    config = {"action": action, "horizon": 12, "inventory": 400.0, "cost": 1.0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = gym.make(TEST_ID, kernel=kernels[name], config=config)
        # render modes are checked (through the spec) once: a chart costs ~0.2 s
        gym_check_env(made.unwrapped, skip_render_check=name != "exponential")
        sb3_check_env(PricingEnv(kernels[name], config), warn=True)
    # A DecisionWarning is about the market's economics (an optimum at the edge of the
    # grid; see test_decision_warnings.py), not about conformance to the API.
    caught = [w for w in caught if not issubclass(w.category, DecisionWarning)]
    assert [str(w.message) for w in caught] == []
    assert made.unwrapped.mode == FAST_MODE[name][action]


def test_observation_layout_and_names(kernels):
    env = PricingEnv(kernels["linear"], {"horizon": 10, "inventory": 100.0})
    names = env.observation_names
    assert names == (
        "time_remaining",
        "inventory_fraction",
        "own_last_price",
        "competitor_price:competitor_price",
        "last_sales",
        "season_sin",
        "season_cos",
    )
    assert env.observation_space.shape == (len(names),)
    obs, info = env.reset(seed=3)
    comp0 = env.competitors.start[0]
    np.testing.assert_allclose(
        obs[:5],
        [1.0, 1.0, 0.5 * (env.p_min + env.p_max) / env.p_max, comp0 / env.p_max, 0.0],
        rtol=1e-6,
    )
    angle = 2 * np.pi * env.start_t / env.season_period
    np.testing.assert_allclose(obs[5:], [np.sin(angle), np.cos(angle)], atol=1e-6)
    obs, _, _, _, info = env.step(2)
    assert obs[0] == pytest.approx(0.9)
    assert obs[2] == pytest.approx(env.prices[2] / env.p_max, rel=1e-6)
    assert obs[1] == pytest.approx((100.0 - info["sales"]) / 100.0, rel=1e-6)
    assert obs[4] == pytest.approx(min(info["sales"] / env.sales_scale, 10.0), rel=1e-6)
    angle = 2 * np.pi * (env.start_t + 1) / env.season_period
    np.testing.assert_allclose(obs[5:], [np.sin(angle), np.cos(angle)], atol=1e-6)
    assert info["t"] == env.start_t


# ============================================================== accounting
def test_accounting_identities_with_known_numbers():
    truth = LinearTruth(a=100.0, b=2.0)  # support (0.05, 50): demand 80 / 60 / 40
    config = {
        "prices": [10.0, 20.0, 30.0],
        "inventory": 100.0,
        "cost": 5.0,
        "holding_cost": 0.5,
        "salvage_value": 1.0,
        "horizon": 3,
        "noise": False,
    }
    env = PricingEnv(truth, config)
    _, info = env.reset(seed=0)
    assert set(info) == {"t", "inventory", "competitor_prices"} and info["inventory"] == 100.0
    obs, reward, terminated, truncated, info = env.step(1)  # price 20: demand 60
    assert set(info) == {
        "price",
        "expected_demand",
        "demand",
        "sales",
        "lost_sales",
        "revenue",
        "cost",
        "holding_cost",
        "salvage",
        "profit",
        "inventory",
        "replenished",
        "competitor_prices",
        "t",
    }
    assert info["competitor_prices"].shape == (0,) and info["t"] == 0.0
    assert info["price"] == 20.0 and info["expected_demand"] == 60.0 and info["demand"] == 60.0
    assert info["sales"] == 60.0 and info["lost_sales"] == 0.0
    assert info["revenue"] == 1200.0 and info["cost"] == 300.0
    assert info["inventory"] == 40.0 and info["holding_cost"] == 20.0 and info["salvage"] == 0.0
    assert reward == info["profit"] == 1200.0 - 300.0 - 20.0
    assert (terminated, truncated) == (False, False)
    assert obs[1] == pytest.approx(0.4)
    # price 10: demand 80 but only 40 in stock -> 40 lost; the stock-out ends the season
    obs, reward, terminated, truncated, info = env.step(0)
    assert info["demand"] == 80.0 and info["sales"] == 40.0 and info["lost_sales"] == 40.0
    assert info["revenue"] == 400.0 and info["cost"] == 200.0 and info["inventory"] == 0.0
    assert reward == 200.0
    assert (terminated, truncated) == (True, False)
    assert obs[1] == 0.0
    with pytest.raises(ResetNeeded):
        env.step(0)


def test_season_end_salvages_leftover_stock_and_terminates():
    truth = LinearTruth(a=100.0, b=2.0)
    config = {
        "prices": [30.0, 40.0],
        "inventory": 1000.0,
        "cost": 5.0,
        "holding_cost": 0.5,
        "salvage_value": 1.0,
        "horizon": 3,
        "noise": False,
    }
    env = PricingEnv(truth, config)
    env.reset(seed=0)
    profits, flags = [], []
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(0)
        profits.append(reward)
        flags.append((terminated, truncated))
    # each period sells 40 at 30 (cost 5): 1000 profit before holding
    assert profits[:2] == [1000.0 - 0.5 * 960.0, 1000.0 - 0.5 * 920.0]
    assert info["inventory"] == 880.0 and info["salvage"] == 880.0
    assert profits[2] == 1000.0 - 0.5 * 880.0 + 880.0
    assert flags == [(False, False), (False, False), (True, False)]
    assert obs[0] == 0.0


def test_unlimited_stock_sells_all_demand():
    env = PricingEnv(ExponentialTruth(a=50.0, alpha=0.5), {"n_prices": 4, "horizon": 20})
    out = rollout(env, 0, random_actions(env, 60))
    for info in out["info"]:
        assert info["sales"] == info["demand"] and info["lost_sales"] == 0.0
        assert info["inventory"] == math.inf and info["holding_cost"] == 0.0
        assert info["revenue"] == pytest.approx(info["price"] * info["sales"], rel=1e-12)
    assert all(o[1] == 1.0 for o in out["obs"])


def test_replenishment_restocks_and_does_not_terminate_on_stock_out():
    truth = LinearTruth(a=100.0, b=2.0)
    config = {
        "prices": [30.0, 40.0],
        "inventory": 50.0,
        "replenish_every": 2,
        "replenish_to": 60.0,
        "horizon": 6,
        "noise": False,
    }
    env = PricingEnv(truth, config)
    assert env.observation_space.high[1] == pytest.approx(60.0 / 50.0)
    env.reset(seed=0)
    rows = []
    for _ in range(6):
        obs, _, terminated, truncated, info = env.step(0)
        rows.append((info["sales"], info["lost_sales"], info["replenished"], info["inventory"]))
        assert env.observation_space.contains(obs)
    assert rows == [
        (40.0, 0.0, 0.0, 10.0),
        (10.0, 30.0, 60.0, 60.0),  # stock-out, then restocked to 60 at the end of period 2
        (40.0, 0.0, 0.0, 20.0),
        (20.0, 20.0, 60.0, 60.0),
        (40.0, 0.0, 0.0, 20.0),
        (20.0, 20.0, 0.0, 0.0),  # the season's last period: no restock
    ]
    assert (terminated, truncated) == (True, False)


# ============================================================== episode ends
def test_training_cutoff_truncates_and_season_end_terminates():
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    env = PricingEnv(truth, {"horizon": 10, "max_episode_steps": 4})
    env.reset(seed=1)
    flags = [env.step(1)[2:4] for _ in range(4)]
    assert flags == [(False, False)] * 3 + [(False, True)]
    assert env.episode_length == 4
    # the season ends first: terminated, not truncated
    env = PricingEnv(truth, {"horizon": 3, "max_episode_steps": 3})
    env.reset(seed=1)
    assert [env.step(1)[2:4] for _ in range(3)][-1] == (True, False)
    # gymnasium's TimeLimit from make(..., max_episode_steps=...) truncates the same way
    made = gym.make(TEST_ID, kernel=truth, config={"horizon": 52}, max_episode_steps=5)
    made.reset(seed=0)
    flags = [made.step(0)[2:4] for _ in range(5)]
    assert flags[-1] == (False, True) and flags[:-1] == [(False, False)] * 4


# ============================================================== reproducibility
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", ["linear", "arimax", "neural", "linear_truth"])
def test_same_seed_same_trajectory_different_seed_differs(kernels, name, action):
    config = {
        "action": action,
        "horizon": 15,
        "inventory": 300.0,
        "competitor": {"kind": "random_walk", "sigma": 0.1} if name != "linear_truth" else {},
    }
    env = PricingEnv(kernels[name], config)
    actions = random_actions(env, 40)
    a, b = rollout(env, 7, actions), rollout(PricingEnv(kernels[name], config), 7, actions)
    c = rollout(env, 8, actions)
    for x, y in zip(a["obs"], b["obs"], strict=True):
        np.testing.assert_array_equal(x, y)
    assert a["reward"] == b["reward"] and a["flags"] == b["flags"]
    assert [i["demand"] for i in a["info"]] != [i["demand"] for i in c["info"]]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", KERNELS)
def test_fast_path_equals_generic_kernel_path(kernels, name, action):
    config = {"action": action, "horizon": 30, "inventory": 2000.0, "cost": 0.5}
    if kernels[name].spec.competitors:
        config["competitor"] = {"kind": "random_walk", "sigma": 0.05}
    fast = PricingEnv(kernels[name], config)
    slow = PricingEnv(kernels[name], config, fast_path=False)
    assert (fast.mode, slow.mode) == (FAST_MODE[name][action], "generic")
    actions = random_actions(fast, 80, seed=2)
    a, b = rollout(fast, 11, actions), rollout(slow, 11, actions)
    for x, y in zip(a["obs"], b["obs"], strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6)
    np.testing.assert_allclose(a["reward"], b["reward"], rtol=1e-9)
    assert a["flags"] == b["flags"]
    for x, y in zip(a["info"], b["info"], strict=True):
        assert x["expected_demand"] == pytest.approx(y["expected_demand"], rel=1e-9)
        assert x["demand"] == pytest.approx(y["demand"], rel=1e-9)  # same draws
        np.testing.assert_array_equal(x["competitor_prices"], y["competitor_prices"])


def test_continuous_action_maps_through_action_to_price():
    env = PricingEnv(ExponentialTruth(a=50.0, alpha=0.5), {"action": "continuous"})
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for a in [*rng.uniform(-1.5, 1.5, size=40), -1.0, 1.0, 0.0]:
        action = np.array([a], np.float32)
        info = env.step(action)[4]
        expected = MarketConfig.action_to_price(action, None, env.p_min, env.p_max)
        assert info["price"] == float(expected[0])  # bit for bit
        if env._done:
            env.reset()
    assert env.step(np.array([5.0], np.float32))[4]["price"] == env.p_max
    env = PricingEnv(ExponentialTruth(a=50.0, alpha=0.5), {"n_prices": 5})
    env.reset(seed=0)
    grid = MarketConfig.action_to_price(np.arange(5), env.prices, env.p_min, env.p_max)
    assert [env.step(i)[4]["price"] for i in range(5)] == grid.tolist()


def test_invalid_actions_and_step_before_reset_raise():
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    env = PricingEnv(truth, {"n_prices": 5})
    with pytest.raises(ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    for bad in (5, -1, 1.5, "x", [1, 2]):
        with pytest.raises(InvalidAction):
            env.step(bad)
    assert env.step(np.int64(4))[4]["price"] == env.prices[4]
    env = PricingEnv(truth, {"action": "continuous"})
    env.reset(seed=0)
    for bad in (np.array([np.nan], np.float32), np.zeros(2, np.float32), "x"):
        with pytest.raises(InvalidAction):
            env.step(bad)
    assert env.step(0.0)[4]["price"] == pytest.approx(0.5 * (env.p_min + env.p_max))


# ============================================================== guards
def test_price_grid_outside_support_raises_or_warns(kernels):
    kern = kernels["linear"]
    lo, hi = kern.support
    with pytest.raises(ConfigError, match=r"support.*allow_outside_support=True") as err:
        PricingEnv(kern, {"p_max": hi * 2})
    assert f"{hi * 2:g}" in str(err.value)
    with pytest.raises(ConfigError, match="allow_outside_support"):
        PricingEnv(kern, {"prices": [lo * 0.5, lo, hi]})
    with pytest.warns(ExtrapolationWarning, match=r"leaves the demand model's support"):
        env = PricingEnv(kern, {"p_max": hi * 2, "allow_outside_support": True})
    assert env.p_max == hi * 2 and env.prices[-1] == hi * 2
    # the default range is the support itself
    env = PricingEnv(kern, {})
    assert (env.p_min, env.p_max) == (lo, hi)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"cost": -1.0}, "cost=-1.0"),
        ({"p_min": 5.0, "p_max": 4.0}, "p_min=5.0 >= p_max=4.0"),
        ({"p_min": 3.0, "p_max": 3.0}, "p_min=3.0 >= p_max=3.0"),
        ({"inventory": -5.0}, "inventory=-5.0"),
        ({"horizon": 0}, "horizon=0"),
        ({"holding_cost": -0.1}, "holding_cost=-0.1"),
        ({"replenish_every": 2}, "replenish_every=2"),
        ({"n_prices": 1}, "n_prices=1"),
        ({"horizn": 5}, "Did you mean 'horizon'"),
        ({"competitor": {"kind": "walk"}}, "competitor.kind='walk'"),
    ],
)
def test_bad_config_raises_config_error_naming_field(config, field):
    with pytest.raises(ConfigError) as err:
        PricingEnv(ExponentialTruth(a=50.0, alpha=0.5, support=(1.0, 10.0)), config)
    assert field in str(err.value)


def test_bad_arguments_raise_pricegym_errors(tmp_path, kernels, fitted_models):
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    with pytest.raises(ModelFileError):
        PricingEnv(model_path=str(tmp_path / "no_such_model.json"))
    with pytest.raises(ConfigError, match="exactly one"):
        PricingEnv(truth, model_path=str(tmp_path / "m.json"))
    with pytest.raises(ConfigError, match="exactly one"):
        PricingEnv()
    with pytest.raises(ConfigError, match="not a DemandKernel"):
        PricingEnv("linear")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"n_sellers=2.*OligopolyEnv"):
        PricingEnv(LogitTruth())
    with pytest.raises(ConfigError, match="render_mode='human'"):
        PricingEnv(truth, render_mode="human")
    with pytest.raises(ConfigError, match="at most 0"):
        PricingEnv(truth, rivals=[MatchLowest()])
    with pytest.raises(ConfigError, match="not a pricing agent"):
        PricingEnv(kernels["linear"], rivals=[object()])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"competitor\.prices"):
        PricingEnv(kernels["linear"], {"competitor": {"prices": [1.0, 2.0]}})


def test_model_path_drives_the_same_market_as_the_kernel(tmp_path, fitted_models):
    model = fitted_models["arimax"]
    path = model.save(tmp_path / "arimax")
    config = {"horizon": 10, "inventory": 500.0}
    from_file = PricingEnv(model_path=str(path), config=config)
    direct = PricingEnv(model.kernel(), config)
    actions = random_actions(direct, 25)
    a, b = rollout(from_file, 5, actions), rollout(direct, 5, actions)
    assert a["reward"] == b["reward"]
    assert from_file.mode == direct.mode == "arimax"


# ============================================================== rendering
def test_render_ansi_line_and_rgb_array_chart():
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    env = PricingEnv(truth, {"n_prices": 5, "inventory": 100.0}, render_mode="ansi")
    env.reset(seed=0)
    info = env.step(1)[4]
    line = env.render()
    assert isinstance(line, str) and "\n" not in line
    assert line.startswith(f"t={info['t']:.4g} price=5.15 demand={info['demand']:.4g}")
    assert f"inventory={info['inventory']:.4g}" in line
    env = PricingEnv(truth, {"n_prices": 5, "inventory": 100.0}, render_mode="rgb_array")
    env.reset(seed=0)
    empty = env.render()
    for a in (0, 1, 2, 3, 4, 2):
        env.step(a)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.shape == (480, 640, 3) and empty.shape == frame.shape
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10  # lines, not a blank canvas
    assert not np.array_equal(frame, empty)
    with pytest.warns(UserWarning, match="without a render mode"):
        assert PricingEnv(truth).render() is None


# ============================================================== competitors
def test_competitor_processes(kernels, weekly_history):
    kern = kernels["linear"]
    rng = np.random.default_rng(0)
    fixed = CompetitorProcess(CompetitorConfig(kind="fixed", prices=(9.5,)), kern, 3)
    path = fixed.path(rng, 20)
    assert path.shape == (20, 3, 1) and np.all(path == 9.5)
    walk = CompetitorProcess(
        CompetitorConfig(kind="random_walk", prices=(10.0,), sigma=0.3, low=(8.0,), high=(12.0,)),
        kern,
        4,
    )
    walk.reset(rng)
    path = walk.path(np.random.default_rng(1), 2000)
    assert path.shape == (2000, 4, 1) and np.all(path[0] == 10.0)
    assert path.min() >= 8.0 - 1e-12 and path.max() <= 12.0 + 1e-12
    assert path.min() < 8.3 and path.max() > 11.7  # it does wander to both bounds
    steps = np.diff(np.log(path[:, 0, 0]))
    assert np.mean(np.abs(steps) > 0) > 0.99
    walk.reset(rng)
    again = np.stack([walk.step(g) for g in [np.random.default_rng(1)] for _ in range(50)])
    walk.reset(rng)
    np.testing.assert_allclose(walk.path(np.random.default_rng(1), 50), again, rtol=1e-12)
    column = weekly_history.frame["competitor_price"].to_numpy()
    replay = CompetitorProcess(
        CompetitorConfig(kind="replay", path=tuple((float(v),) for v in column)), kern, 2
    )
    replay.reset(rng)
    path = replay.path(rng, len(column) + 10)
    np.testing.assert_array_equal(path[: len(column), 0, 0], column)
    np.testing.assert_array_equal(path[len(column) :, 1, 0], column[:10])  # cycles
    with pytest.raises(ConfigError, match="low"):
        CompetitorProcess(
            CompetitorConfig(kind="random_walk", prices=(10.0,), low=(11.0,), high=(12.0,)), kern, 1
        )


def test_env_replays_and_walks_competitor_prices(kernels, weekly_history):
    kern = kernels["linear"]
    column = weekly_history.frame["competitor_price"].to_numpy()[:20]
    config = {
        "horizon": 20,
        "competitor": {"kind": "replay", "path": [[float(v)] for v in column]},
    }
    out = rollout(PricingEnv(kern, config), 0, [3] * 20)
    np.testing.assert_array_equal([i["competitor_prices"][0] for i in out["info"]], column)
    env = PricingEnv(kern, config)
    assert env.mode == "table"
    lo, hi = 9.0, 11.0
    walk = {"kind": "random_walk", "prices": [10.0], "sigma": 0.2, "low": [lo], "high": [hi]}
    env = PricingEnv(kern, {"horizon": 50, "competitor": walk})
    prices = []
    for seed in (3, 4):
        obs, info = env.reset(seed=seed)
        assert info["competitor_prices"][0] == 10.0
        for _ in range(50):
            obs, _, _, _, info = env.step(3)
            prices.append(info["competitor_prices"][0])
            # the observation shows the period's competitor price / p_max
            assert obs[3] == pytest.approx(prices[-1] / env.p_max, rel=1e-6)
    prices = np.array(prices)
    assert prices.min() >= lo and prices.max() <= hi and len(np.unique(prices)) > 90


# ============================================================== rivals
class MatchLowest(PricingAgent):
    """Matches the lowest competitor price it observes (test rival; not registered)."""

    kind = ""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def _reset(self) -> None:
        self.seen = []

    def act(self, observation: np.ndarray) -> np.ndarray:
        codec = self._require_bound()
        self.seen.append(observation.copy())
        slots = [i for n, i in self.obs_index.items() if n.startswith("competitor_price:")]
        lowest = min(float(observation[i]) for i in slots) * codec.p_max
        return codec.to_action(lowest)


class RandomRival(PricingAgent):
    """Uniformly random actions from its own seeded generator (test rival)."""

    kind = ""

    def act(self, observation: np.ndarray) -> np.ndarray:
        codec = self._require_bound()
        if codec.discrete:
            return np.int64(self.rng.integers(len(codec.grid)))
        return self.rng.uniform(-1, 1, size=1).astype(np.float32)


def test_rival_is_bound_and_sees_the_mirror_observation(kernels):
    kern = kernels["linear"]
    rival = MatchLowest()
    env = PricingEnv(kern, {"n_prices": 11, "horizon": 8, "inventory": 900.0}, rivals=[rival])
    assert env.mode == "generic"
    np.testing.assert_array_equal(rival.codec.grid, env.prices)
    assert rival.obs_index["own_last_price"] == 2
    obs, info = env.reset(seed=4)
    mid = 0.5 * (env.p_min + env.p_max)
    start = np.clip(kern.reference["competitors"][0], env.p_min, env.p_max)
    assert info["competitor_prices"][0] == start
    actions = [0, 10, 4, 4, 7, 1]
    seller_prices = [mid] + [float(env.prices[a]) for a in actions]
    rival_prices = [float(info["competitor_prices"][0])]
    for k, a in enumerate(actions):
        before = obs
        obs, _, _, _, info = env.step(a)
        # the rival matched the seller's previous price (the only competitor it sees)
        expected = env.prices[np.abs(env.prices - seller_prices[k]).argmin()]
        assert info["competitor_prices"][0] == expected
        mirror = rival.seen[k]
        assert mirror.shape == before.shape and mirror.dtype == np.float32
        assert mirror[2] == np.float32(rival_prices[k] / env.p_max)
        assert mirror[3] == np.float32(seller_prices[k] / env.p_max)
        np.testing.assert_array_equal(np.delete(mirror, [2, 3]), np.delete(before, [2, 3]))
        assert obs[3] == np.float32(expected / env.p_max)
        rival_prices.append(float(expected))


def test_continuous_rival_prices_through_the_env_mapping(kernels):
    rival = MatchLowest()
    env = PricingEnv(kernels["poisson"], {"action": "continuous", "horizon": 6}, rivals=[rival])
    assert rival.codec.grid is None and rival.codec.p_max == env.p_max
    env.reset(seed=0)
    last = 0.5 * (env.p_min + env.p_max)
    for a in (-1.0, 0.5, 1.0, 0.0):
        info = env.step(np.array([a], np.float32))[4]
        assert info["competitor_prices"][0] == pytest.approx(last, rel=1e-6)
        last = info["price"]


def test_rivals_are_seeded_from_the_env_and_misbehaving_rivals_raise(kernels):
    kern = kernels["linear"]
    config = {"n_prices": 6, "horizon": 10}
    runs = [
        rollout(PricingEnv(kern, config, rivals=[RandomRival()]), s, [2] * 10) for s in (1, 1, 2)
    ]
    comp = [[i["competitor_prices"][0] for i in r["info"]] for r in runs]
    assert comp[0] == comp[1] and comp[0] != comp[2]
    assert len(set(comp[0])) > 2

    class Broken(MatchLowest):
        def act(self, observation: np.ndarray) -> int:
            return 99

    env = PricingEnv(kern, config, rivals=[Broken()])
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=r"rivals\[0\] \(Broken\) returned action 99"):
        env.step(0)


# ============================================================== misc
@pytest.mark.parametrize("name", ["arimax", "neural", "elasticity_lognormal"])
def test_env_pickles_mid_episode_and_continues_identically(kernels, name):
    import copy
    import pickle

    env = PricingEnv(kernels[name], {"action": "continuous", "horizon": 20})
    env.reset(seed=5)
    actions = random_actions(env, 12)
    for a in actions[:6]:
        env.step(a)
    clone, twin = pickle.loads(pickle.dumps(env)), copy.deepcopy(env)
    assert clone.mode == twin.mode == env.mode
    for a in actions[6:]:
        x, y, z = env.step(a), clone.step(a), twin.step(a)
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[0], z[0])
        assert x[1:4] == y[1:4] == z[1:4]


def test_class_docstring_example_runs():
    import doctest

    import pricegym.envs.market as market

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    for test in finder.find(market.PricingEnv, "PricingEnv", globs={}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8 and result.failed == 0


def test_market_from_a_panel_model_warns_which_product_it_simulates():
    from pricegym.demand.synthetic import generate_history
    from pricegym.errors import PanelWarning

    panel = generate_history(n_periods=60, n_products=3, seed=4)
    kernel = make_model("loglinear").fit(panel).kernel()
    with pytest.warns(PanelWarning, match=r"panel of 3 products.*simulates the first, 'P1'"):
        PricingEnv(kernel, {"horizon": 5})
    single = generate_history(n_periods=60, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PanelWarning)
        PricingEnv(make_model("loglinear").fit(single).kernel(), {"horizon": 5})


@pytest.mark.parametrize(
    ("key", "value"),
    [("horizon", "x"), ("p_min", []), ("inventory", [1]), ("n_prices", True), ("prices", ["a"])],
)
def test_config_of_the_wrong_type_is_a_config_error_naming_it(key, value):
    with pytest.raises(ConfigError, match=rf"^{key}="):
        MarketConfig(**{key: value})
