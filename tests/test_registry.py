"""The registered ids: conformance, make/make_vec, and what each preset promises."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import SyncVectorEnv
from scipy import stats
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import pricegym
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import DemandTruth, generate_history
from pricegym.envs.market import PricingEnv
from pricegym.envs.multiproduct_registration import CATALOGUE_ENV_IDS
from pricegym.envs.vector import MarketVectorEnv
from pricegym.errors import ConfigError, DecisionWarning, ModelFileError
from pricegym.registration import ENV_IDS, register_envs

# the catalogue markets (MultiProductEnv) have their own tests: test_multiproduct_env.py
PRICEGYM_IDS = sorted(
    k for k in gym.registry if k.startswith("pricegym/") and k not in CATALOGUE_ENV_IDS
)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A fitted log-linear model saved to disk (for pricegym/Fitted-v0)."""
    history = generate_history(DemandTruth(trend=0.0), n_periods=80, noise="poisson", seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_model("loglinear").fit(history)
    return str(model.save(tmp_path_factory.mktemp("fitted") / "model.json"))


def _kwargs(env_id: str, model_path: str) -> dict:
    return {"model_path": model_path} if env_id == "pricegym/Fitted-v0" else {}


# ==================================================================== registration
def test_import_registers_every_id_idempotently():
    assert PRICEGYM_IDS == sorted(ENV_IDS)
    specs = {k: gym.registry[k] for k in PRICEGYM_IDS}
    assert register_envs() == []
    importlib.reload(pricegym)
    assert {k: gym.registry[k] for k in PRICEGYM_IDS} == specs
    for spec in specs.values():
        assert spec.vector_entry_point == "pricegym.registration:make_market_vector_env"


def test_import_pricegym_stays_light():
    code = (
        "import sys, pricegym, gymnasium as gym; "
        "assert 'pricegym/Markdown-v0' in gym.registry; "
        "heavy = [m for m in ('torch', 'pricegym.envs.market', 'stable_baselines3') "
        "if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


# ==================================================================== conformance
@pytest.mark.parametrize("env_id", PRICEGYM_IDS)
def test_gymnasium_and_sb3_checkers_pass_without_warnings(env_id, model_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(env_id, **_kwargs(env_id, model_path))
        check_env(env.unwrapped)
        sb3_check_env(gym.make(env_id, **_kwargs(env_id, model_path)), warn=True)
    # A DecisionWarning is about the market's economics (an optimum at the edge of the
    # grid; see test_decision_warnings.py), not about conformance to the API.
    caught = [w for w in caught if not issubclass(w.category, DecisionWarning)]
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("env_id", PRICEGYM_IDS)
def test_make_and_make_vec(env_id, model_path):
    kw = _kwargs(env_id, model_path)
    env = gym.make(env_id, **kw)
    assert isinstance(env.unwrapped, PricingEnv)
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", **kw)
    assert isinstance(venv, MarketVectorEnv) and venv.num_envs == 3
    assert isinstance(gym.make_vec(env_id, num_envs=2, **kw), MarketVectorEnv)  # the default
    sync = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync", **kw)
    assert isinstance(sync, SyncVectorEnv)
    assert venv.single_observation_space == env.observation_space
    assert venv.single_action_space == env.action_space
    # the two vectorisations are the same markets
    o1, _ = venv.reset(seed=3)
    o2, _ = sync.reset(seed=3)
    np.testing.assert_array_equal(o1, o2)
    venv.action_space.seed(0)
    for _ in range(8):
        action = venv.action_space.sample()
        r1, r2 = venv.step(action), sync.step(action)
        for a, b in zip(r1[:4], r2[:4], strict=True):
            np.testing.assert_array_equal(a, b)


def test_make_vec_passes_time_limit_and_autoreset_mode():
    venv = gym.make_vec(
        "pricegym/Monopoly-v0",
        num_envs=2,
        max_episode_steps=5,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    assert venv.metadata["autoreset_mode"] is gym.vector.AutoresetMode.SAME_STEP
    venv.reset(seed=0)
    for _ in range(4):
        _, _, term, trunc, _ = venv.step([5, 5])
        assert not (term | trunc).any()
    _, _, term, trunc, info = venv.step([5, 5])
    assert trunc.all() and not term.any() and "final_obs" in info


# ==================================================================== errors
def test_fitted_needs_a_model_file(tmp_path):
    with pytest.raises(ModelFileError):
        gym.make("pricegym/Fitted-v0", model_path=str(tmp_path / "missing.json"))
    with pytest.raises(ModelFileError):
        gym.make_vec("pricegym/Fitted-v0", num_envs=2, model_path=str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="model_path"):
        gym.make("pricegym/Fitted-v0")
    with pytest.raises(ConfigError, match="Fitted-v0"):
        gym.make("pricegym/Monopoly-v0", model_path="model.json")


def test_settings_change_a_preset_and_typos_are_caught():
    env = gym.make("pricegym/Markdown-v0", inventory=25.0, demand={"a": 12.0})
    assert env.unwrapped.config.inventory == 25.0 and env.unwrapped.kernel.a == 12.0
    with pytest.raises(ConfigError, match="horizon"):
        gym.make("pricegym/Markdown-v0", horizn=10)
    with pytest.raises(ConfigError, match="unknown"):
        gym.make("pricegym/Monopoly-v0", demand={"slope": 3.0})


# ==================================================================== what the presets promise
def test_monopoly_optimum_is_price_six():
    env = gym.make("pricegym/Monopoly-v0").unwrapped
    grid = env.prices
    mu = env.kernel.expected(grid, env.kernel.context(grid.size))
    profit = (grid - env.config.cost) * mu
    assert grid[int(np.argmax(profit))] == 6.0 and profit.max() == pytest.approx(160.0)


def _markdown_dp(env) -> tuple[np.ndarray, float, np.ndarray]:
    """Optimal and fixed-price values of the finite-stock market (exact DP over stock)."""
    grid = env.prices
    lam = env.kernel.expected(grid, env.kernel.context(grid.size))
    c, horizon = int(env.config.inventory), env.horizon
    d = np.arange(c + 1)
    pmf = stats.poisson.pmf(d[None, :], lam[:, None])  # (prices, demand)
    # sales = min(demand, stock): P(sales = s | stock x) for s < x, and the tail at x
    value = np.zeros(c + 1)
    fixed = np.zeros((grid.size, c + 1))
    policy = np.zeros((horizon, c + 1), dtype=int)
    for t in range(horizon - 1, -1, -1):
        q = np.zeros((grid.size, c + 1))
        qf = np.zeros((grid.size, c + 1))
        for x in range(1, c + 1):
            probs = np.concatenate([pmf[:, :x], 1.0 - pmf[:, :x].sum(1, keepdims=True)], axis=1)
            s = np.arange(x + 1)
            q[:, x] = probs @ (s * 0 + value[x - s]) + (probs * grid[:, None]) @ s
            qf[:, x] = (probs * (fixed[:, x - s])).sum(1) + (probs * grid[:, None]) @ s
        policy[t] = q.argmax(axis=0)
        value = q.max(axis=0)
        fixed = qf
    return value, fixed[:, c].max(), policy


def test_markdown_dynamic_pricing_beats_every_fixed_price():
    env = gym.make("pricegym/Markdown-v0").unwrapped
    value, best_fixed, policy = _markdown_dp(env)
    optimum = value[int(env.config.inventory)]
    # 27.872: this independent DP's value, equal to solve_dp's (27.872061; the README's
    # "DP optimum (exact)" rows quote it)
    assert optimum == pytest.approx(27.872, abs=1e-3)
    assert best_fixed / optimum <= 0.96
    # the batched market agrees with the DP: play its policy in 4000 markets
    b = 4000
    venv = gym.make_vec("pricegym/Markdown-v0", num_envs=b)
    obs, _ = venv.reset(seed=0)
    total, alive = np.zeros(b), np.ones(b, dtype=bool)
    stock0, horizon = env.config.inventory, env.horizon
    while alive.any():
        k = np.rint(horizon * (1.0 - obs[:, 0])).astype(int).clip(0, horizon - 1)
        x = np.rint(obs[:, 1] * stock0).astype(int)
        obs, reward, term, trunc, _ = venv.step(policy[k, x])
        total += np.where(alive, reward, 0.0)
        alive &= ~(term | trunc)
    se = total.std() / np.sqrt(b)
    assert abs(total.mean() - optimum) < 4 * se


def test_duopoly_rival_best_responds_to_the_last_price():
    env = gym.make("pricegym/Duopoly-v0").unwrapped
    grid, kernel, cost = env.prices, env.kernel, env.config.cost
    assert env.observation_names[3] == "competitor_price:rival"
    env.reset(seed=0)
    for action in (0, 14, 7, 3):
        env.step(action)
        _, _, _, _, info = env.step(action)
        ctx = kernel.context(grid.size, competitors=np.full((grid.size, 1), grid[action]))
        best = grid[int(np.argmax((grid - cost) * kernel.expected(grid, ctx)))]
        assert info["competitor_prices"][0] == best
