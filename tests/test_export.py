"""Exporting policies (pricegym.experiments.export) and serving them (pricegym.runtime).

For every exported algorithm the runtime's prices must equal the in-framework
agent's (``codec.to_price(agent.act(obs))``) on 1,000 random observations: on a price
grid the same price wherever the agent's choice is not a near-tie (torch and
onnxruntime may order two action scores within float32 rounding differently; see
:func:`assert_same_grid_choice`), to 1e-5 relative in a continuous range.
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


#: Two action scores closer than this (relative to the largest |score| of the row) are
#: a near-tie: torch and onnxruntime compute the same float32 network with differently
#: ordered sums (a few ulp, ~1e-6 relative), so either may rank them first.
TIE_RTOL = 1e-4


def action_scores(agent: SB3Agent, obs: np.ndarray) -> np.ndarray:
    """The (B, n_prices) scores an SB3 agent's greedy choice maximises (Q-values or logits)."""
    import torch

    model = agent.model_
    norm = agent.normalizer_.normalize_obs(obs) if agent.normalizer_ is not None else obs
    tensor, _ = model.policy.obs_to_tensor(norm)
    with torch.no_grad():
        if hasattr(model, "q_net"):
            return model.q_net(tensor).cpu().numpy()
        return model.policy.get_distribution(tensor).distribution.logits.cpu().numpy()


def assert_same_grid_choice(got: np.ndarray, expected: np.ndarray, scores: np.ndarray) -> None:
    """Grid prices equal wherever the agent's top two scores are not a near-tie.

    A disagreement is allowed only on a row whose best and second-best scores differ
    by less than ``TIE_RTOL`` (relative) — and at most on 1% of the rows, so a real
    difference between the exported graph and the agent still fails.
    """
    top2 = np.sort(scores, axis=1)[:, -2:]
    margin = (top2[:, 1] - top2[:, 0]) / np.maximum(1.0, np.abs(scores).max(axis=1))
    differ = got != expected
    assert not np.any(differ & (margin >= TIE_RTOL)), (
        f"{int(np.sum(differ & (margin >= TIE_RTOL)))} rows differ where the choice is clear"
    )
    assert differ.mean() <= 0.01, f"{int(differ.sum())} of {differ.size} rows differ"


def test_same_grid_choice_tolerates_near_ties_only():
    """The comparison's own proof: a near-tie may flip, a clear choice may not."""
    grid = np.array([1.0, 2.0, 3.0])
    scores = np.array([[0.0, 5.0, 5.0 + 1e-6], [0.0, 5.0, 6.0]] + [[0.0, 1.0, 2.0]] * 198)
    expected = grid[np.argmax(scores, axis=1)]
    tie_flipped = expected.copy()
    tie_flipped[0] = 2.0
    assert_same_grid_choice(tie_flipped, expected, scores)
    clear_flipped = expected.copy()
    clear_flipped[1] = 2.0
    with pytest.raises(AssertionError, match="choice is clear"):
        assert_same_grid_choice(clear_flipped, expected, scores)


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
        assert_same_grid_choice(got, expected, action_scores(agent, obs))
        assert set(np.unique(got)) <= set(agent.codec.grid.tolist())
        assert np.unique(got).size >= 2  # not a constant policy
    # one observation as a mapping gives the same price as its batch row (onnxruntime
    # may use another kernel for one row than for 1,000: floats to float32 rounding)
    row = {name: float(obs[7, j]) for j, name in enumerate(policy.feature_names)}
    if continuous:
        assert policy.price(row) == pytest.approx(got[7], rel=1e-6)
    else:
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
    assert_same_grid_choice(load_policy(tmp_path).prices(obs), expected, action_scores(agent, obs))


def test_export_from_saved_agent_path_with_market_id(tmp_path):
    agent = SB3Agent("dqn", hyperparams={**SMALL, **SMALL_BY_ALGO["dqn"]}, seed=0)
    agent.train(make_market(False), total_timesteps=200)
    saved = agent.save(tmp_path / "agent")
    out = tmp_path / "export"
    export_policy(saved, out, market=DISCRETE)
    env = make_market(False)
    agent.bind(env)
    obs = random_observations(env, 300, seed=5)
    expected = agent.codec.grid[agent.act(obs)]
    assert_same_grid_choice(load_policy(out).prices(obs), expected, action_scores(agent, obs))


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
    from pricegym.cli.export import cli_export, configure_export_parser
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
    assert_same_grid_choice(load_policy(out).prices(obs), expected, action_scores(agent, obs))
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


def test_cli_exports_a_saved_agent_in_a_fresh_process(tmp_path):
    """`pricegym export AGENT.json --market ID` in a process that imported no agent module."""
    import subprocess
    import sys

    agent = DPAgent(name="optimum").bind(make_market(False))
    saved = agent.save(tmp_path / "agents" / "dp")
    out = tmp_path / "x"
    command = [sys.executable, "-m", "pricegym", "export", str(saved), "--market", DISCRETE]
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(out / "policy.json")
    card = json.loads((out / "policy.json").read_text())
    assert card["kind"] == "dp_table" and card["agent"]["name"] == "optimum"
    np.testing.assert_array_equal(card["table"]["price"], agent.solution_.price)


# ==================================================================== markets and refusals
def test_refused_export_leaves_no_folder(tmp_path):
    out = tmp_path / "nested" / "out"
    with pytest.raises(ConfigError, match="registered id"):
        export_policy(FixedPrice(price=2.0), out, market="pricegym/Nowhere-v0")
    with pytest.raises(ConfigError, match="market="):
        export_policy(FixedPrice(price=2.0), out)
    assert not out.exists() and not out.parent.exists()


def dp_states(env: gym.Env, agent: DPAgent) -> tuple[np.ndarray, np.ndarray]:
    """One observation per (period k, stock x) of the DP table, and (k, x) of each row.

    time_remaining = (T - k)/T and inventory_fraction = x/scale as the env computes
    them (float32); the other entries, which the DP ignores, are the box's midpoints.
    """
    sol = agent.solution_
    names = list(env.unwrapped.observation_names)
    space = env.observation_space
    k, x = np.meshgrid(np.arange(sol.horizon), np.arange(sol.max_inventory + 1), indexing="ij")
    k, x = k.ravel(), x.ravel()
    obs = np.tile((space.low + space.high) / 2, (k.size, 1)).astype(space.dtype)
    obs[:, names.index("time_remaining")] = (sol.horizon - k) / sol.horizon
    obs[:, names.index("inventory_fraction")] = x / sol.inventory_scale
    return obs, np.stack([k, x], axis=1)


def test_dp_table_prices_every_state_as_the_agent(tmp_path):
    env = gym.make(DISCRETE, horizon=6, inventory=8)
    agent = DPAgent().bind(env)
    export_policy(agent, tmp_path, market=env)
    obs, kx = dp_states(env, agent)
    assert obs.shape[0] == 6 * 9
    got = load_policy(tmp_path).prices(obs)
    acted = np.array([agent.codec.to_price(agent.act(o)) for o in obs], dtype=np.float64)
    np.testing.assert_array_equal(got, acted)
    np.testing.assert_array_equal(got, agent.solution_.price[kx[:, 0], kx[:, 1]])
    assert np.unique(got).size >= 2  # the optimum marks down: not one price everywhere


#: Two markets (one synthetic history, a Poisson GLM and a linear model of it) whose DP
#: optima and trained bandits differ; tiny budgets.
TWO_MARKETS = {
    "name": "two",
    "seed": 3,
    "market": {
        "data": {"synthetic": {"seed": 1, "n_periods": 40, "promotions": False}},
        "model": [
            {"family": "poisson"},
            {"name": "iv", "family": "linear", "params": {"noise": "poisson"}},
        ],
        "options": {"n_prices": 6, "horizon": 3, "inventory": 250, "cost": 5.0},
    },
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 10.0}},
        {"name": "greedy", "kind": "epsilon_greedy", "train": {"episodes": 2}},
        {"name": "optimum", "kind": "dp"},
        {"name": "ucb", "kind": "ucb1"},  # learns online, never trained: nothing to export
    ],
    "evaluation": {"episodes": 2, "seeds": 2},
}
MARKET_NAMES = ["synthetic/poisson", "synthetic/iv"]


@pytest.fixture(scope="module")
def two_markets(tmp_path_factory):
    from pricegym.experiments.runner import run_experiment

    run_dir = tmp_path_factory.mktemp("two") / "run"
    run_experiment(TWO_MARKETS, run_dir, progress=False, command=["test"], report=False)
    return run_dir


def cli(*argv: str) -> tuple[int, str, str]:
    """``pricegym export ARGV`` through the real entry point: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from pricegym import cli as pricegym_cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = pricegym_cli.main(["export", *argv])
    return code, out.getvalue(), err.getvalue()


def test_run_export_honours_market(two_markets, tmp_path):
    from pricegym.agents.base import PricingAgent

    policies = two_markets / "policies"
    saved = {
        m: PricingAgent.load(policies / f"solo__greedy__{m.replace('/', '_')}__seed0.json")
        for m in MARKET_NAMES
    }
    counts = {m: a._get_state()[1]["counts"].tolist() for m, a in saved.items()}
    values = {m: a._get_state()[1]["means"].tolist() for m, a in saved.items()}
    assert values["synthetic/iv"] != values["synthetic/poisson"]  # the test can tell them apart
    for market in MARKET_NAMES:
        out = tmp_path / market.replace("/", "_")
        code, stdout, _ = cli(
            str(two_markets), "--agent", "greedy", "--market", market, "--out", str(out)
        )
        assert code == 0 and stdout.strip() == str(out / "policy.json")
        card = json.loads((out / "policy.json").read_text())
        assert card["kind"] == "params" and card["agent"]["kind"] == "epsilon_greedy"
        assert card["arrays"]["counts"] == counts[market]
        assert card["arrays"]["means"] == values[market]
        assert card["market"]["market"] == market and card["market"]["seed"] == 0
        rows = card["scores"]["rows"]
        assert [(r["mode"], r["market"], r["agent"]) for r in rows] == [("solo", market, "greedy")]
    # --seed picks the replicate
    out = tmp_path / "seed1"
    assert (
        cli(
            str(two_markets),
            "--agent",
            "greedy",
            "--market",
            "synthetic/iv",
            "--seed",
            "1",
            "--out",
            str(out),
        )[0]
        == 0
    )
    card = json.loads((out / "policy.json").read_text())
    seed1 = PricingAgent.load(policies / "solo__greedy__synthetic_iv__seed1.json")
    assert card["market"]["seed"] == 1
    assert card["arrays"]["means"] == seed1._get_state()[1]["means"].tolist()
    assert card["arrays"]["means"] != values["synthetic/iv"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["--agent", "greedy", "--market", "nonsense"],
            r"market='nonsense' is not a market of agent 'greedy' in this run \(its markets: "
            r"\['synthetic/poisson', 'synthetic/iv'\]\)",
        ),
        (
            ["--agent", "greedy"],
            r"agent 'greedy' has a policy in each of the markets \['synthetic/poisson', "
            r"'synthetic/iv'\]; which one to export is ambiguous: pass --market",
        ),
        (
            ["--agent", "optimum"],
            r"agent 'optimum' has a policy in each of the markets .*ambiguous",
        ),
        (
            ["--agent", "optimum", "--market", "synthetic/nope"],
            r"market='synthetic/nope' is not a market .*\['synthetic/poisson', 'synthetic/iv'\]",
        ),
        (
            ["--agent", "greedy", "--market", "synthetic/iv", "--seed", "7"],
            r"seed=7 is not a replicate of agent 'greedy' there \(its seeds: \[0, 1\]\)",
        ),
        (
            ["--agent", "ucb", "--market", "synthetic/iv"],
            r"agent 'ucb' \(ucb1\) learns while it plays, but the run did not train it",
        ),
        (
            ["--agent", "ppo", "--market", "synthetic/iv"],
            r"no agent 'ppo' in this run \(its agents: \['fixed', 'greedy', 'optimum', 'ucb'\]",
        ),
        # no --agent: the one trained agent (greedy), whose market is then ambiguous
        ([], r"agent 'greedy' has a policy in each of the markets .*ambiguous"),
    ],
    ids=[
        "unknown-market",
        "ambiguous",
        "ambiguous-dp",
        "unknown-market-dp",
        "unknown-seed",
        "untrained-learner",
        "unknown-agent",
        "only-trained-agent",
    ],
)
def test_run_export_refusals_write_nothing(two_markets, tmp_path, argv, says):
    import re

    out = tmp_path / "out"
    code, stdout, stderr = cli(str(two_markets), *argv, "--out", str(out))
    assert code == 2 and stdout == ""
    assert re.search(says, stderr), stderr
    assert not out.exists()


def test_run_export_of_the_dp_optimum(two_markets, tmp_path):
    from pricegym.experiments.rundir import RunContext
    from pricegym.experiments.schema import load_experiment

    ctx = RunContext(load_experiment(two_markets / "config.yaml"), two_markets)
    optima = {m: DPAgent().bind(ctx.env(m)) for m in MARKET_NAMES}
    tables = {m: a.solution_.price for m, a in optima.items()}
    assert not np.array_equal(tables["synthetic/iv"], tables["synthetic/poisson"])
    for market in MARKET_NAMES:
        out = tmp_path / market.replace("/", "_")
        code, _, stderr = cli(
            str(two_markets), "--agent", "optimum", "--market", market, "--out", str(out)
        )
        assert code == 0, stderr
        card = json.loads((out / "policy.json").read_text())
        assert card["kind"] == "dp_table" and card["agent"]["name"] == "optimum"
        assert card["market"]["market"] == market and card["market"]["trained_in_run"] is False
        np.testing.assert_array_equal(card["table"]["price"], tables[market])
        rows = card["scores"]["rows"]
        assert [(r["market"], r["agent"]) for r in rows] == [(market, "optimum")]
        # every (period, stock) state: the runtime's price is the DP agent's
        agent, env = optima[market], ctx.env(market)
        obs, kx = dp_states(env, agent)
        assert obs.shape[0] == 3 * 251
        got = load_policy(out).prices(obs)
        acted = np.array([agent.codec.to_price(agent.act(o)) for o in obs], dtype=np.float64)
        np.testing.assert_array_equal(got, acted)
        np.testing.assert_array_equal(got, tables[market][kx[:, 0], kx[:, 1]])


def test_run_export_of_an_untrained_rule(two_markets, tmp_path):
    out = tmp_path / "fixed"
    assert (
        cli(str(two_markets), "--agent", "fixed", "--market", "synthetic/iv", "--out", str(out))[0]
        == 0
    )
    card = json.loads((out / "policy.json").read_text())
    assert card["kind"] == "params" and card["agent"]["params"] == {"price": 10.0}
    assert card["market"]["market"] == "synthetic/iv" and card["market"]["seed"] is None


def test_market_names_a_base_market_or_a_rival_arena():
    from pathlib import Path

    from pricegym.experiments.export import _pick_market

    run = Path("runs/x")
    assert _pick_market(run, "q", ["M"], None) == "M"
    assert _pick_market(run, "q", ["M", "M vs r"], "M") == "M"  # the exact arena wins
    assert _pick_market(run, "q", ["M vs r", "N vs r"], "N") == "N vs r"
    assert _pick_market(run, "q", ["M vs r", "M vs s"], "M vs s") == "M vs s"
    with pytest.raises(ConfigError, match=r"once per rival: \['M vs r', 'M vs s'\]"):
        _pick_market(run, "q", ["M vs r", "M vs s"], "M")
