"""stable-baselines3 agents (pricegym.agents.sb3): YAML hyper-parameters, training paths,
determinism, save/load, action masks, and (slow) learning to near the DP optimum."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecNormalize

from pricegym.agents.base import PricingAgent, make_agent
from pricegym.agents.sb3 import (
    ALGORITHMS,
    SB3Agent,
    load_hyperparams,
)
from pricegym.demand import ExponentialTruth
from pricegym.envs.market import PricingEnv
from pricegym.envs.vector import MarketVectorEnv, SB3VecEnv
from pricegym.errors import ConfigError, NotFittedError

#: A small markdown market (the solve_dp docstring's): Poisson demand 10·exp(−p), 10
#: prices on [0.5, 5], 16 periods, 4 units. DP optimum 13.078; the best fixed price
#: earns 12.308 (94.1% of it), so dynamic pricing matters.
TRUTH = ExponentialTruth(a=10.0, alpha=1.0)
MARKET = {"n_prices": 10, "p_min": 0.5, "p_max": 5.0, "horizon": 16, "inventory": 4}
CONTINUOUS = {"action": "continuous", "p_min": 0.5, "p_max": 5.0, "horizon": 16, "inventory": 4}

#: Only sizes are overridden: everything else comes from the packaged YAML defaults.
SMALL = {"n_envs": 4, "eval_freq": 0, "checkpoint_freq": 0}
SMALL_BY_ALGO = {
    "ppo": {"n_steps": 16, "batch_size": 32, "n_epochs": 2},
    "maskable_ppo": {"n_steps": 16, "batch_size": 32, "n_epochs": 2},
    "a2c": {},
    "dqn": {"learning_starts": 64},
    "sac": {"learning_starts": 64},
    "td3": {"learning_starts": 64},
}
CASES = [
    ("ppo", MARKET, None),
    ("ppo", CONTINUOUS, None),
    ("a2c", MARKET, None),
    ("dqn", MARKET, None),
    ("sac", CONTINUOUS, None),
    ("td3", CONTINUOUS, None),
    ("maskable_ppo", MARKET, "markdown"),
]
STEPS = 320


def small_agent(algo: str, seed: int = 0, mask=None, **extra) -> SB3Agent:
    return SB3Agent(
        algo, hyperparams={**SMALL, **SMALL_BY_ALGO[algo], **extra}, action_mask=mask, seed=seed
    )


def random_observations(env: PricingEnv, n: int = 200, seed: int = 0) -> np.ndarray:
    """Observations spread over the observation box (sales capped at 2: the seen range)."""
    space = env.observation_space
    high = np.minimum(space.high, 2.0)
    rng = np.random.default_rng(seed)
    return rng.uniform(space.low, high, size=(n, space.shape[0])).astype(np.float32)


class Recorder(BaseCallback):
    """Records the training env's type, torch's thread count and MaskablePPO's actions/masks."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()
        self.venv_types: list[type] = []
        self.violations = 0
        self.checked = 0

    def _on_training_start(self) -> None:
        env = self.training_env
        while isinstance(env, VecEnvWrapper):
            env = env.venv
        self.venv_types.append(type(env))

    def _on_step(self) -> bool:
        self.threads.add(torch.get_num_threads())
        masks = self.locals.get("action_masks")
        if masks is not None:
            actions = np.asarray(self.locals["actions"]).reshape(-1)
            self.violations += int((~masks[np.arange(actions.size), actions]).sum())
            self.checked += actions.size
        return True


# ==================================================================== every algorithm
@pytest.mark.parametrize(("algo", "market", "mask"), CASES)
def test_each_algorithm_trains_from_yaml_defaults(algo, market, mask):
    env = PricingEnv(TRUTH, market)
    agent = small_agent(algo, mask=mask).bind(env)
    assert agent.train(env, STEPS) is agent
    defaults = load_hyperparams(algo)
    used = agent.hyperparams_
    for key, value in defaults.items():  # everything not overridden is the YAML's
        if key not in SMALL and key not in SMALL_BY_ALGO[algo]:
            assert used[key] == value, key
    assert agent.num_timesteps_ >= STEPS
    assert isinstance(agent.model_, ALGORITHMS[algo])
    obs, _ = env.reset(seed=0)
    action = agent.act(obs)
    batch = agent.act(random_observations(env, 50))
    if market is MARKET:
        assert isinstance(action, int) and 0 <= action < 10
        assert batch.shape == (50,) and batch.dtype == np.int64
        assert ((batch >= 0) & (batch < 10)).all()
    else:
        assert action.shape == (1,) and action.dtype == np.float32
        assert -1.0 <= float(action[0]) <= 1.0
        assert batch.shape == (50, 1) and (np.abs(batch) <= 1.0).all()
    assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype))
    # deterministic act: the same observation, the same action
    np.testing.assert_array_equal(agent.act(random_observations(env, 50)), batch)
    with pytest.raises(ConfigError, match="vectors of 4 entries"):
        agent.act(np.zeros(7, np.float32))


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_same_seed_same_training_same_actions(algo):
    market = CONTINUOUS if algo == "sac" else MARKET
    env = PricingEnv(TRUTH, market)
    obs = random_observations(env)
    a = small_agent(algo, seed=3).train(PricingEnv(TRUTH, market), STEPS)
    b = small_agent(algo, seed=3).train(PricingEnv(TRUTH, market), STEPS)
    c = small_agent(algo, seed=4).train(PricingEnv(TRUTH, market), STEPS)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    wa, wb, wc = (dict(x.model_.policy.state_dict()) for x in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)  # the seed matters


def test_device_auto_is_resolved_like_sb3_does():
    # "auto" is SB3's own device value (cpu here): it trains, with the cpu agent's weights.
    cpu = SB3Agent("ppo", hyperparams={**SMALL, **SMALL_BY_ALGO["ppo"]}, seed=3)
    auto = SB3Agent("ppo", hyperparams={**SMALL, **SMALL_BY_ALGO["ppo"]}, seed=3, device="auto")
    for agent in (cpu, auto):
        agent.train(PricingEnv(TRUTH, MARKET), STEPS)
    wa, wb = (dict(x.model_.policy.state_dict()) for x in (cpu, auto))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


# ==================================================================== save / load
@pytest.mark.parametrize(("algo", "market", "mask"), [CASES[0], CASES[4], CASES[6]])
def test_save_load_identical_actions(algo, market, mask, tmp_path):
    env = PricingEnv(TRUTH, market)
    agent = small_agent(algo, mask=mask, seed=2).train(env, STEPS)
    agent.name = "under-test"
    assert isinstance(agent.normalizer_, VecNormalize)  # the YAML normalises observations
    assert agent.normalizer_.obs_rms.count > STEPS  # with statistics of the training markets
    obs = random_observations(env, 200, seed=9)
    path = agent.save(tmp_path / "agent")
    assert path == tmp_path / "agent.json"
    for suffix in (".json", ".npz", ".zip"):
        assert path.with_suffix(suffix).is_file()
    doc = json.loads(path.read_text())
    assert doc["kind"] == "sb3" and doc["params"]["algo"] == algo
    assert doc["state"]["vec_normalize"]["norm_obs"] is True
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:  # no pickle inside
        assert "obs_mean" in arrays and any(k.startswith("policy/") for k in arrays.files)
    for loaded in (PricingAgent.load(path), SB3Agent.load(path)):
        assert isinstance(loaded, SB3Agent) and loaded.name == "under-test"
        assert loaded.params == agent.params
        np.testing.assert_array_equal(
            loaded.normalizer_.obs_rms.mean, agent.normalizer_.obs_rms.mean
        )
        np.testing.assert_array_equal(loaded.normalizer_.obs_rms.var, agent.normalizer_.obs_rms.var)
        np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
        assert loaded.act(obs[0]) == agent.act(obs[0]) or np.array_equal(
            loaded.act(obs[0]), agent.act(obs[0])
        )


def test_save_load_without_normalisation(tmp_path):
    env = PricingEnv(TRUTH, MARKET)
    agent = small_agent("a2c", normalize=False).train(env, STEPS)
    assert agent.normalizer_ is None
    loaded = PricingAgent.load(agent.save(tmp_path / "plain"))
    assert loaded.normalizer_ is None and loaded.hyperparams_["normalize"] is False
    obs = random_observations(env)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))


def test_sb3_zip_is_sb3s_own_format(tmp_path):
    """The .zip loads with SB3's PPO.load and acts as the agent does on normalised inputs."""
    env = PricingEnv(TRUTH, MARKET)
    agent = small_agent("ppo", seed=1).train(env, STEPS)
    path = agent.save(tmp_path / "agent")
    model = PPO.load(path.with_suffix(".zip"), device="cpu")  # our own file: trusted
    obs = random_observations(env)
    sb3_actions, _ = model.predict(agent.normalizer_.normalize_obs(obs), deterministic=True)
    np.testing.assert_array_equal(sb3_actions, agent.act(obs))
    doc = json.loads(path.read_text())
    import hashlib

    digest = hashlib.sha256(path.with_suffix(".zip").read_bytes()).hexdigest()
    assert doc["state"]["sb3_zip_sha256"] == digest


def test_loaded_agent_trains_on(tmp_path):
    env = PricingEnv(TRUTH, MARKET)
    agent = small_agent("ppo", seed=1).train(env, STEPS)
    loaded = PricingAgent.load(agent.save(tmp_path / "a"))
    before = {k: v.clone() for k, v in loaded.model_.policy.state_dict().items()}
    loaded.train(env, STEPS)
    after = loaded.model_.policy.state_dict()
    assert loaded.num_timesteps_ >= STEPS
    assert not all(torch.equal(before[k], after[k]) for k in before)
    # the normalisation statistics carried over and kept counting
    assert loaded.normalizer_.obs_rms.count > agent.normalizer_.obs_rms.count


# ==================================================================== hyper-parameters
def test_yaml_scheme_default_entry_and_overrides(tmp_path):
    default = load_hyperparams("ppo")
    assert default["n_envs"] >= 8 and default["policy"] == "MlpPolicy"
    over = load_hyperparams("ppo", overrides={"n_steps": 8, "learning_rate": "1e-4"})
    assert over["n_steps"] == 8 and over["learning_rate"] == pytest.approx(1e-4)
    assert {k: v for k, v in over.items() if k not in ("n_steps", "learning_rate")} == {
        k: v for k, v in default.items() if k not in ("n_steps", "learning_rate")
    }
    file = tmp_path / "ppo.yaml"
    file.write_text(
        "default: {n_envs: 2, n_steps: 8, gamma: 0.9}\nmy/Market-v0: {n_steps: 4, batch_size: 8}\n"
    )
    assert load_hyperparams("ppo", "other/Env-v0", path=file) == {
        "n_envs": 2,
        "n_steps": 8,
        "gamma": 0.9,
        "policy": "MlpPolicy",
    }
    entry = load_hyperparams("ppo", "my/Market-v0", {"gamma": 1.0}, path=file)
    assert entry == {
        "n_envs": 2,
        "n_steps": 4,
        "batch_size": 8,
        "gamma": 1.0,
        "policy": "MlpPolicy",
    }
    # an agent picks the entry of the env id it is given
    agent = SB3Agent("ppo", env_id="my/Market-v0", hyperparams_file=str(file))
    assert agent.resolve_hyperparams()["n_steps"] == 4
    # schedules and activations become SB3 objects
    trained = small_agent("ppo", learning_rate="lin_1.0e-3").train(PricingEnv(TRUTH, MARKET), 64)
    assert isinstance(trained.model_.learning_rate, LinearSchedule)
    assert trained.model_.learning_rate(1.0) == pytest.approx(1e-3)
    assert trained.model_.policy.activation_fn is torch.nn.ReLU  # the YAML's activation


def test_unknown_hyperparameters_fail_with_did_you_mean(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown hyper-parameter 'n_step'.*Did you mean 'n_steps'"
    ):
        SB3Agent("ppo", hyperparams={"n_step": 8})
    with pytest.raises(ConfigError, match="Did you mean 'net_arch'"):
        SB3Agent("ppo", hyperparams={"policy_kwargs": {"netarch": [8]}})
    with pytest.raises(ConfigError, match="Did you mean 'relu'"):
        SB3Agent("dqn", hyperparams={"policy_kwargs": {"activation_fn": "rellu"}})
    with pytest.raises(ConfigError, match="Did you mean 'buffer_size'"):
        SB3Agent("dqn", hyperparams={"bufer_size": 10})
    with pytest.raises(ConfigError, match=r"SB3Agent\(seed=...\)"):
        SB3Agent("ppo", hyperparams={"seed": 1})
    with pytest.raises(ConfigError, match="Did you mean 'ppo'"):
        SB3Agent("pp0")
    with pytest.raises(ConfigError, match="n_envs=0 must be an integer >= 1"):
        SB3Agent("ppo", hyperparams={"n_envs": 0})
    with pytest.raises(ConfigError, match="lin_<start>"):
        SB3Agent("ppo", hyperparams={"learning_rate": "fast"})
    with pytest.raises(ConfigError, match="action_noise applies to sac and td3"):
        SB3Agent("ppo", hyperparams={"action_noise": {"kind": "normal", "sigma": 0.1}})
    with pytest.raises(ConfigError, match="Did you mean 'clip_obs'"):
        SB3Agent("ppo", hyperparams={"normalize": {"clip_ob": 5.0}})
    with pytest.raises(ConfigError, match="does not take parameter"):
        make_agent("sb3", algorithm="ppo")
    missing = tmp_path / "none.yaml"
    with pytest.raises(ConfigError, match="does not exist"):
        SB3Agent("ppo", hyperparams_file=str(missing))
    # SB3's own checks surface as ConfigError naming the values
    with pytest.raises(ConfigError, match="rejected the ppo hyper-parameters"):
        small_agent("ppo", batch_size=1).train(PricingEnv(TRUTH, MARKET), 64)


def test_wrong_market_or_untrained_agent_is_refused():
    env = PricingEnv(TRUTH, MARKET)
    with pytest.raises(NotFittedError, match="has not been trained"):
        small_agent("ppo").act(np.zeros(4, np.float32))
    with pytest.raises(ConfigError, match=r"needs continuous prices.*action='continuous'"):
        small_agent("sac").train(env, 64)
    with pytest.raises(ConfigError, match="needs a discrete price grid"):
        small_agent("dqn").train(PricingEnv(TRUTH, CONTINUOUS), 64)
    trained = small_agent("ppo").train(env, 64)
    with pytest.raises(ConfigError, match="trained on observations"):
        trained.bind(PricingEnv(TRUTH, {**MARKET, "n_prices": 5}))


# ==================================================================== training paths
def test_training_runs_on_batched_markets_with_one_torch_thread(tmp_path):
    torch.set_num_threads(2)
    try:
        rec = Recorder()
        agent = small_agent(
            "ppo", eval_freq=64, n_eval_envs=2, n_eval_episodes=2, checkpoint_freq=128
        )
        agent.train(PricingEnv(TRUTH, MARKET), 256, callback=rec, log_dir=tmp_path)
        assert rec.venv_types == [SB3VecEnv] and rec.threads == {1}
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(1)
    rows = (tmp_path / "progress.csv").read_text().strip().splitlines()
    assert len(rows) >= 2 and "time/fps" in rows[0]
    assert list(tmp_path.glob("events.out.tfevents.*"))  # TensorBoard
    with np.load(tmp_path / "eval" / "evaluations.npz") as ev:
        assert ev["results"].shape[1] == 2 and len(ev["timesteps"]) >= 2
    checkpoints = sorted((tmp_path / "checkpoints").glob("agent_*_steps.json"))
    assert [p.name for p in checkpoints] == ["agent_128_steps.json", "agent_256_steps.json"]
    assert isinstance(PricingAgent.load(checkpoints[0]), SB3Agent)
    assert (tmp_path / "best.json").is_file() and (tmp_path / "best.zip").is_file()
    assert not list(tmp_path.rglob("*.pkl"))  # no pickled VecNormalize anywhere


def test_other_vectorisations():
    import gymnasium as gym

    rec = Recorder()
    small_agent("ppo").train(PricingEnv(TRUTH, MARKET), 64, vectorize="dummy", callback=rec)
    small_agent("ppo").train(gym.make("CartPole-v1"), 64, callback=rec)
    batched = MarketVectorEnv(TRUTH, MARKET, num_envs=2, autoreset_mode="SameStep")
    agent = small_agent("ppo").train(batched, 96, callback=rec)
    assert rec.venv_types == [DummyVecEnv, DummyVecEnv, SB3VecEnv]
    assert agent.model_.n_envs == 2
    with pytest.raises(ConfigError, match="cannot be batched"):
        small_agent("ppo").train(gym.make("CartPole-v1"), 64, vectorize="batched")


# ==================================================================== action masks
def test_maskable_ppo_never_picks_a_masked_price():
    env = PricingEnv(TRUTH, MARKET)
    rec = Recorder()
    agent = small_agent("maskable_ppo", mask="markdown").bind(env)
    agent.train(env, 640, callback=rec)
    assert rec.checked >= 640 and rec.violations == 0  # in training rollouts
    prices = env.prices
    venv = MarketVectorEnv(TRUTH, MARKET, num_envs=64)
    obs, _ = venv.reset(seed=0)
    last, done = np.full(64, np.inf), np.zeros(64, dtype=bool)
    for _ in range(MARKET["horizon"]):
        actions = agent.act(obs)
        live = ~done
        assert (prices[actions][live] <= last[live] * (1 + 1e-12)).all()  # never a price rise
        obs, _, terminated, truncated, info = venv.step(actions)
        last = np.where(live, info["price"], last)
        done |= terminated | truncated
    # on arbitrary observations the chosen price is always one the rule allows
    observations = random_observations(env, 500)
    masks = agent.action_masks(observations)
    chosen = agent.act(observations)
    assert masks[np.arange(500), chosen].all()
    assert masks.sum(axis=1).min() >= 1 and masks.sum() < masks.size  # something is masked


def test_price_range_mask():
    env = PricingEnv(TRUTH, MARKET)
    agent = small_agent("maskable_ppo", mask={"rule": "price_range", "low": 2.0, "high": 3.5})
    agent.train(env, 320)
    chosen = env.prices[agent.act(random_observations(env, 300))]
    assert ((chosen >= 2.0) & (chosen <= 3.5)).all()
    with pytest.raises(ConfigError, match="MaskablePPO only"):
        SB3Agent("ppo", action_mask="markdown")
    with pytest.raises(ConfigError, match="MaskablePPO only"):
        SB3Agent("maskable_ppo")
    with pytest.raises(ConfigError, match="Did you mean 'markdown'"):
        SB3Agent("maskable_ppo", action_mask="markdwn")
    with pytest.raises(ConfigError, match="Did you mean 'high'"):
        SB3Agent("maskable_ppo", action_mask={"rule": "price_range", "hihg": 3.0})


# ==================================================================== learning (slow)
def _policy_value(agent: SB3Agent, n: int = 4000, seed: int = 12345) -> tuple[float, float]:
    """Monte Carlo season profit of the deterministic policy: (mean, standard error)."""
    venv = MarketVectorEnv(TRUTH, MARKET, num_envs=n)
    obs, _ = venv.reset(seed=seed)
    total, done = np.zeros(n), np.zeros(n, dtype=bool)
    for _ in range(MARKET["horizon"]):
        obs, reward, terminated, truncated, _ = venv.step(agent.act(obs))
        total += np.where(done, 0.0, reward)
        done |= terminated | truncated
    assert done.all()
    return float(total.mean()), float(total.std(ddof=1) / math.sqrt(n))


@pytest.mark.slow
def test_ppo_reaches_95_percent_of_the_dp_optimum(capsys):
    from pricegym.agents.dp import fixed_price_values, solve_dp

    optimum = solve_dp(TRUTH, MARKET).expected_value
    best_fixed = float(fixed_price_values(TRUTH, MARKET).max())
    assert best_fixed <= 0.96 * optimum  # dynamic pricing must matter in this market
    agent = SB3Agent("ppo", seed=0).train(PricingEnv(TRUTH, MARKET), 120_000)
    mean, se = _policy_value(agent)
    share, fixed_share = mean / optimum, best_fixed / optimum
    with capsys.disabled():
        print(
            f"\nPPO (YAML defaults, 120k frames): {mean:.3f} ± {1.96 * se:.3f} = "
            f"{100 * share:.1f}% of the DP optimum {optimum:.3f}; best fixed price "
            f"{100 * fixed_share:.1f}%; beats the best fixed price: {mean - 1.96 * se > best_fixed}"
        )
    assert mean >= 0.95 * optimum


def test_module_docstring_example_runs():
    import doctest

    import pricegym.agents.sb3 as sb3_module

    result = doctest.testmod(sb3_module)
    assert result.attempted >= 4 and result.failed == 0
