"""Exporting policies (pricegym.experiments.export) and serving them (pricegym.runtime).

For every exported algorithm the runtime's prices must equal the in-framework
agent's (``codec.to_price(agent.act(obs))``) on 1,000 random observations: exactly
on a price grid, to 1e-5 relative in a continuous range.
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("onnx", reason="the [onnx] extra")
pytest.importorskip("onnxruntime", reason="the [onnx] extra")

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.dp import DPAgent
from pricegym.agents.rules import FixedPrice
from pricegym.agents.sb3 import SB3Agent
from pricegym.errors import ConfigError
from pricegym.experiments.export import export_policy
from pricegym.runtime import PolicyFileError, load_policy

DISCRETE = "pricegym/Markdown-v0"
CONTINUOUS = {"action": "continuous"}
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
    ("ppo", False),
    ("ppo", True),
    ("a2c", False),
    ("a2c", True),
    ("dqn", False),
    ("sac", True),
    ("td3", True),
]
STEPS = 320
N_OBS = 1000


def make_market(continuous: bool) -> gym.Env:
    return gym.make(DISCRETE, **(CONTINUOUS if continuous else {}))


def random_observations(env: gym.Env, n: int = N_OBS, seed: int = 0) -> np.ndarray:
    """Observations spread over the whole observation box (what the card allows)."""
    space = env.observation_space
    rng = np.random.default_rng(seed)
    return rng.uniform(space.low, space.high, size=(n, space.shape[0])).astype(np.float32)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{'cont' if c[1] else 'grid'}")
def exported(request, tmp_path_factory):
    algo, continuous = request.param
    env = make_market(continuous)
    agent = SB3Agent(algo, hyperparams={**SMALL, **SMALL_BY_ALGO[algo]}, seed=3)
    agent.train(make_market(continuous), total_timesteps=STEPS)
    agent.bind(env)
    out = tmp_path_factory.mktemp(f"{algo}{int(continuous)}")
    card = export_policy(agent, out, market=env, scores={"mean_profit": 1.5})
    return agent, env, out, card, continuous


def test_runtime_prices_equal_the_agents(exported):
    agent, env, out, _, continuous = exported
    obs = random_observations(env)
    expected = np.asarray(agent.codec.to_price(agent.act(obs)), dtype=np.float64).reshape(-1)
    policy = load_policy(out)
    got = policy.prices(obs)
    assert got.shape == (N_OBS,) and got.dtype == np.float64
    if continuous:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=0.0)
        lo, hi = policy.price_bounds
        assert lo == 0.5 and hi == 4.0
        assert np.all((got >= lo) & (got <= hi))
        assert np.unique(got).size >= 50  # the policy's prices vary over the observations
    else:
        np.testing.assert_array_equal(got, expected)
        assert set(np.unique(got)) <= set(agent.codec.grid.tolist())
        assert np.unique(got).size >= 2  # not a constant policy
    # one observation as a mapping gives the same price as its batch row
    row = {name: float(obs[7, j]) for j, name in enumerate(policy.feature_names)}
    assert policy.price(row) == got[7]


def test_card_records_spec_normalisation_and_hash(exported):
    agent, env, out, card_path, continuous = exported
    card = json.loads(card_path.read_text())
    assert card["format"] == "pricegym.policy" and card["kind"] == "onnx"
    assert card["algo"] == agent.algo
    names = list(env.unwrapped.observation_names)
    assert card["observation"]["names"] == names
    assert set(card["observation"]["meaning"]) == set(names)
    assert card["observation"]["high"] == [float(v) for v in env.observation_space.high]
    norm = card["observation"]["normalization"]
    np.testing.assert_allclose(norm["mean"], agent.normalizer_.obs_rms.mean)
    assert norm["baked_into_graph"] is True
    if continuous:
        assert card["action"] == {**card["action"], "kind": "continuous", "p_min": 0.5}
    else:
        assert card["action"]["prices"] == agent.codec.grid.tolist()
    assert card["price_bounds"] == [0.5, 4.0]
    assert card["scores"] == {"mean_profit": 1.5}
    assert card["market"]["config"]["horizon"] == 20
    import hashlib

    digest = hashlib.sha256((out / "policy.onnx").read_bytes()).hexdigest()
    assert card["onnx"]["sha256"] == digest
    for pkg in ("torch", "stable_baselines3", "onnx", "numpy"):
        assert card["versions"][pkg]


def test_tampered_onnx_is_refused(exported, tmp_path):
    _, _, out, _, _ = exported
    for name in ("policy.json", "policy.onnx"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    blob = bytearray((tmp_path / "policy.onnx").read_bytes())
    blob[-1] ^= 0xFF
    (tmp_path / "policy.onnx").write_bytes(bytes(blob))
    with pytest.raises(PolicyFileError, match="sha256"):
        load_policy(tmp_path)


def test_maskable_ppo_exports_without_mask(tmp_path):
    env = make_market(False)
    hp = {**SMALL, **SMALL_BY_ALGO["maskable_ppo"]}
    agent = SB3Agent("maskable_ppo", hyperparams=hp, action_mask="markdown", seed=1)
    agent.train(make_market(False), total_timesteps=STEPS)
    agent.bind(env)
    card = json.loads(export_policy(agent, tmp_path, market=env).read_text())
    assert card["masked"] is True
    obs = random_observations(env, 200)
    # the unmasked greedy choice: SB3's predict without masks
    model = agent.model_
    raw, _ = model.predict(agent.normalizer_.normalize_obs(obs), deterministic=True)
    expected = agent.codec.grid[np.asarray(raw, dtype=np.int64)]
    np.testing.assert_array_equal(load_policy(tmp_path).prices(obs), expected)


def test_export_from_saved_agent_path_with_market_id(tmp_path):
    agent = SB3Agent("dqn", hyperparams={**SMALL, **SMALL_BY_ALGO["dqn"]}, seed=0)
    agent.train(make_market(False), total_timesteps=200)
    saved = agent.save(tmp_path / "agent")
    out = tmp_path / "export"
    export_policy(saved, out, market=DISCRETE)
    env = make_market(False)
    agent.bind(env)
    obs = random_observations(env, 300, seed=5)
    np.testing.assert_array_equal(load_policy(out).prices(obs), agent.codec.grid[agent.act(obs)])


def test_unbound_agent_without_market_is_refused(tmp_path):
    agent = FixedPrice(price=2.0)
    with pytest.raises(ConfigError, match="market="):
        export_policy(agent, tmp_path)


def test_dp_table_served_by_runtime(tmp_path):
    env = make_market(False)
    agent = DPAgent().bind(env)
    card = json.loads(export_policy(agent, tmp_path, market=env).read_text())
    assert card["kind"] == "dp_table"
    assert np.shape(card["table"]["price"]) == (20, 11)
    obs = random_observations(env, N_OBS, seed=2)
    # the agent's act takes one observation at a time
    expected = np.array([agent.codec.to_price(agent.act(o)) for o in obs], dtype=np.float64)
    np.testing.assert_array_equal(load_policy(tmp_path).prices(obs), expected)


def test_rule_agent_exports_params_the_runtime_declines(tmp_path):
    env = make_market(False)
    agent = FixedPrice(price=2.0).bind(env)
    card = json.loads(export_policy(agent, tmp_path, market=env).read_text())
    assert card["kind"] == "params"
    assert card["agent"]["kind"] == "fixed_price" and card["agent"]["params"]["price"] == 2.0
    with pytest.raises(PolicyFileError, match="make_agent"):
        load_policy(tmp_path)


RUN = {
    "name": "export",
    "seed": 2,
    "market": {
        "demand": {"form": "exponential", "a": 10.0, "alpha": 1.0},
        "options": {"n_prices": 6, "p_min": 0.5, "p_max": 5.0, "horizon": 8, "inventory": 6},
    },
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.3}},
        {
            "name": "dqn",
            "kind": "sb3",
            "params": {"algo": "dqn", "hyperparams": {**SMALL, **SMALL_BY_ALGO["dqn"]}},
            "train": {"timesteps": 200},
        },
    ],
    "evaluation": {"episodes": 2, "seeds": 1},
}


def test_cli_export_from_run_dir(tmp_path, capsys):
    import argparse

    from pricegym.agents.base import PricingAgent
    from pricegym.experiments.export import cli_export, configure_export_parser
    from pricegym.experiments.runner import run_experiment

    run_dir = tmp_path / "run"
    run_experiment(RUN, run_dir, progress=False, command=["test"], report=False)
    parser = configure_export_parser(argparse.ArgumentParser())
    out = tmp_path / "policy"
    assert cli_export(parser.parse_args([str(run_dir), "--agent", "dqn", "--out", str(out)])) == 0
    assert capsys.readouterr().out.strip() == str(out / "policy.json")
    card = json.loads((out / "policy.json").read_text())
    assert card["algo"] == "dqn" and card["market"]["experiment"] == "export"
    assert card["action"]["prices"] == np.linspace(0.5, 5.0, 6).tolist()
    rows = card["scores"]["rows"]
    assert len(rows) == 1 and rows[0]["agent"] == "dqn" and rows[0]["n_seeds"] == 1
    # one seed: the interval is over its episodes, and the row says so
    assert rows[0]["mean_low"] <= rows[0]["mean"] <= rows[0]["mean_high"]
    assert rows[0]["ci_basis"] == "1 seed × 2 episodes"
    # the exported policy prices as the run's saved agent does
    agent = PricingAgent.load(next((run_dir / "policies").glob("*dqn*.json")))
    env = gym.make(DISCRETE, n_prices=6, p_min=0.5, p_max=5.0, horizon=8, inventory=6)
    obs = random_observations(env, 500, seed=9)
    expected = np.linspace(0.5, 5.0, 6)[agent.act(obs)]
    np.testing.assert_array_equal(load_policy(out).prices(obs), expected)
    with pytest.raises(ConfigError, match="trained agents: \\['dqn'\\]"):
        cli_export(parser.parse_args([str(run_dir), "--agent", "ppo", "--out", str(out)]))


def test_qlearning_exports_greedy_strategy_table(tmp_path):
    from pricegym.agents.qlearning import QLearningAgent
    from pricegym.envs.oligopoly import OligopolyEnv, OpponentWrapper

    env = OligopolyEnv(n_prices=5)
    agent = QLearningAgent.from_market(env)
    agent.q_[3, 4] += 1e6  # make state 3's greedy price the top one
    view = OpponentWrapper(env, [lambda obs: 0], seat=0)
    agent.bind(view)
    card = json.loads(export_policy(agent, tmp_path, market=view).read_text())
    assert card["kind"] == "params" and card["agent"]["kind"] == "qlearning"
    strategy = card["arrays"]["strategy"]
    assert len(strategy) == 25 and strategy[3] == 4
    assert strategy == np.asarray(agent.strategy).tolist()
    assert np.shape(card["arrays"]["q"]) == (25, 5)
    assert card["action"]["prices"] == agent.codec.grid.tolist() and len(agent.codec.grid) == 5


def test_export_without_normalisation(tmp_path):
    env = make_market(True)
    hp = {**SMALL, **SMALL_BY_ALGO["td3"], "normalize": False}
    agent = SB3Agent("td3", hyperparams=hp, seed=4)
    agent.train(make_market(True), total_timesteps=200)
    assert agent.normalizer_ is None
    agent.bind(env)
    card = json.loads(export_policy(agent, tmp_path, market=env).read_text())
    assert card["observation"]["normalization"] is None
    obs = random_observations(env, 500, seed=8)
    expected = np.asarray(agent.codec.to_price(agent.act(obs)), dtype=np.float64).reshape(-1)
    np.testing.assert_allclose(load_policy(tmp_path).prices(obs), expected, rtol=1e-5, atol=0)


def test_unknown_market_id_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"pricegym/Nowhere-v0.*registered id"):
        export_policy(FixedPrice(price=2.0), tmp_path, market="pricegym/Nowhere-v0")
