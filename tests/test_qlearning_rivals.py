"""Q-learning against rivals that do not learn: compiled equals the Python loop, refusals."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from conftest import SkewedMaths, assert_same_outcome

from pricegym.agents import _qrivals
from pricegym.agents.base import PricingAgent
from pricegym.agents.qlearning import QLearningAgent, train_against
from pricegym.agents.rules import (
    CostPlus,
    FixedPrice,
    FollowLeader,
    GrimTrigger,
    MatchLowest,
    Myopic,
    RandomPrice,
    TitForTat,
    Undercut,
)
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError, PricegymWarning
from pricegym.experiments.evaluate import bind_to_seat

SMALL = {"n_prices": 5}
#: Fast schedule: greedy strategies change for a few thousand periods, then settle.
BUDGET = {"max_periods": 8000, "convergence_periods": 400}


def _greedy_rival(env: OligopolyEnv) -> QLearningAgent:
    """A fixed strategy: a greedy Q-table for seat 1 with a state-dependent argmax."""
    rival = QLearningAgent.from_market(env, seat=1)
    rival.q_ = np.random.default_rng(7).random(rival.q_.shape)
    return rival


class _Copycat(PricingAgent):
    """A batch_act policy (as SB3 policies are): the rival's last price, one or many rows."""

    kind = ""  # a test rival: not registered (the catalogue test lists registered kinds)
    batch_act = True

    def act(self, observation):
        obs = np.asarray(observation)
        idx = np.rint(obs[..., 1] * 4).astype(np.int64)  # 5 prices; the rival's last price
        return idx if obs.ndim == 2 else int(idx)


RIVALS = {
    "fixed_price": lambda env: FixedPrice(price=1.7),
    "cost_plus": lambda env: CostPlus(markup=0.6),
    "myopic": lambda env: Myopic(),
    "match_lowest": lambda env: MatchLowest(),
    "undercut": lambda env: Undercut(step=0.1),
    "follow_leader": lambda env: FollowLeader(ratio=0.95),
    "tit_for_tat": lambda env: TitForTat(),
    "grim_trigger": lambda env: GrimTrigger(),
    "greedy_qtable": _greedy_rival,
    "batch_policy": lambda env: _Copycat(),
}


def _session(env, rivals, compiled, seed=3, seat=0, memory=1, **budget):
    learner = QLearningAgent.from_market(env, seat=seat, beta=1e-3, memory=memory)
    # Around Q_0 the greedy strategy barely moves; a random start makes it change often.
    learner.q_ = 8.0 * np.random.default_rng(seed).random(learner.q_.shape)
    seats = [j for j in range(env.n_sellers) if j != seat]
    for j, rival in zip(seats, rivals, strict=True):
        bind_to_seat(rival, env, j)
    return train_against(learner, env, rivals, seed=seed, compiled=compiled, **(budget or BUDGET))


def _assert_same_session(fast, slow) -> None:
    assert fast.compiled and not slow.compiled
    assert (fast.converged, fast.periods, fast.final_state) == (
        slow.converged,
        slow.periods,
        slow.final_state,
    )
    assert fast.agent.t_ == slow.agent.t_
    np.testing.assert_array_equal(fast.agent.strategy, slow.agent.strategy)
    assert_same_outcome(fast.agent.q_, slow.agent.q_, "Q")  # 1e-12 relative


# ================================================================ equivalence
@pytest.mark.parametrize("kind", list(RIVALS))
def test_compiled_session_equals_the_python_loop_against_each_rival(kind):
    env = OligopolyEnv(**SMALL)
    fast = _session(env, [RIVALS[kind](env)], None)
    slow = _session(env, [RIVALS[kind](env)], False)
    _assert_same_session(fast, slow)
    assert fast.periods > BUDGET["convergence_periods"]  # the strategy did change
    assert fast.converged  # and settled before the cap


@pytest.mark.parametrize("ulps", [2, -2])
def test_equivalence_holds_when_one_path_rounds_exp_differently(monkeypatch, ulps):
    env = OligopolyEnv(**SMALL)
    fast = _session(env, [TitForTat()], None)
    monkeypatch.setattr(_qrivals, "math", SkewedMaths(math, ulps))
    slow = _session(env, [TitForTat()], False)
    _assert_same_session(fast, slow)


def test_three_sellers_learner_in_the_middle_seat_and_two_rounds_of_memory():
    env = OligopolyEnv(n_sellers=3, n_prices=3)
    rivals = lambda: [GrimTrigger(), Undercut(step=0.1)]  # noqa: E731
    fast = _session(env, rivals(), None, seat=1)
    slow = _session(env, rivals(), False, seat=1)
    _assert_same_session(fast, slow)
    env2 = OligopolyEnv(n_prices=3, memory=2)
    budget = {"max_periods": 3000, "convergence_periods": 300}
    fast = _session(env2, [TitForTat()], None, memory=2, **budget)
    slow = _session(env2, [TitForTat()], False, memory=2, **budget)
    _assert_same_session(fast, slow)


def test_rival_observations_are_the_envs_observations():
    env = OligopolyEnv(n_sellers=3, n_prices=4, memory=2)
    n, m, k = 3, 4, 2
    agent = QLearningAgent(n_prices=m, n_sellers=n, memory=k, seat=2)
    obs = _qrivals.rival_observations(2, n, m, k)
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = rng.integers(m, size=(k, n))
        seen, _ = env.reset(options={"prices": env.grid[idx]})
        state = agent.state_index(seen["seller_2"])
        np.testing.assert_array_equal(obs[state], seen["seller_2"])


def test_automaton_of_grim_trigger_has_its_three_memories():
    env = OligopolyEnv(**SMALL)
    rival = bind_to_seat(GrimTrigger(), env, 1)
    rival.reset(seed=0)
    obs = _qrivals.rival_observations(1, 2, 5, 1)
    actions, moves = _qrivals.rival_automaton(rival, obs, 5)
    coop, punish = (
        int(rival.to_action(env.monopoly_prices[1])),
        int(rival.to_action(env.nash_prices[1])),
    )
    assert actions.shape == moves.shape == (3, 25)  # opening, watching, triggered
    assert (actions[0] == coop).all() and (moves[0] == 1).all()
    learner_price = np.arange(25) // 5  # seat 0's last price in each state
    undercut = env.grid[learner_price] < env.grid[coop] * (1 - 1e-6)
    np.testing.assert_array_equal(actions[1], np.where(undercut, punish, coop))
    np.testing.assert_array_equal(moves[1], np.where(undercut, 2, 1))
    assert (actions[2] == punish).all() and (moves[2] == 2).all()
    assert (rival._opening, rival.triggered) == (True, False)  # memory restored


# ================================================================ Python sessions
def test_random_rival_plays_in_python_with_a_time_estimate():
    env = OligopolyEnv(**SMALL)
    with pytest.warns(PricegymWarning, match=r"periods/s.*takes up to"):
        r = _session(env, [RandomPrice()], None, max_periods=6000, convergence_periods=10**6)
    assert not r.compiled and "policy_memory() is None" in r.reason
    assert r.periods == 6000 and r.agent.t_ == 6000 and r.periods_per_second > 0
    with pytest.warns(PricegymWarning, match="runs in Python"):
        again = _session(env, [RandomPrice()], None, max_periods=6000, convergence_periods=10**6)
    np.testing.assert_array_equal(again.agent.q_, r.agent.q_)  # seeded rival


def test_a_python_session_over_the_time_limit_is_refused_with_the_estimate():
    env = OligopolyEnv(**SMALL)
    learner = QLearningAgent.from_market(env, beta=4e-6)
    before = learner.q_.copy()
    rival = bind_to_seat(RandomPrice(), env, 1)
    with pytest.raises(ConfigError, match=r"periods/s.*1,000,000,000.* h .*max_python_seconds"):
        train_against(learner, env, [rival], max_periods=10**9, seed=0)
    np.testing.assert_array_equal(learner.q_, before)  # nothing half-learned
    assert learner.t_ == 0


def test_a_state_space_too_large_to_tabulate_plays_in_python_with_the_same_outcome(
    monkeypatch,
):
    env = OligopolyEnv(**SMALL)
    fast = _session(env, [Undercut(step=0.1)], None)
    monkeypatch.setattr(_qrivals, "MAX_AUTOMATON_STATES", 24)  # the market has 25
    slow = _session(env, [Undercut(step=0.1)], None)
    assert "25 states" in slow.reason
    _assert_same_session(fast, slow)
    with pytest.raises(ConfigError, match="compiled=True, but the learner has 25 states"):
        _session(env, [Undercut(step=0.1)], True)


class _Liar(FixedPrice):
    """Declares no memory but alternates its price (a bug the check must catch)."""

    kind = ""  # a test rival: not registered

    def __init__(self, price: float = 1.7, name: str | None = None) -> None:
        super().__init__(price, name)
        self._flip = False

    def act(self, observation):
        self._flip = not self._flip
        return 0 if self._flip else 4


def test_a_rival_that_hides_memory_is_not_compiled():
    env = OligopolyEnv(**SMALL)
    with pytest.warns(PricegymWarning, match="depend on more than it declares"):
        r = _session(env, [_Liar()], None, max_periods=6000, convergence_periods=10**6)
    assert not r.compiled
    with pytest.raises(ConfigError, match=r"compiled=True, but .* declares"):
        _session(env, [_Liar()], True)


def test_bad_arguments_raise():
    env = OligopolyEnv(**SMALL)
    learner = QLearningAgent.from_market(env)
    rival = bind_to_seat(FixedPrice(1.7), env, 1)
    with pytest.raises(ConfigError, match="2 rival"):
        train_against(learner, env, [rival, rival], max_periods=10)
    with pytest.raises(ConfigError, match="max_periods=0"):
        train_against(learner, env, [rival], max_periods=0)
    with pytest.raises(ConfigError, match="15 prices, the market has 2 and 5"):
        train_against(QLearningAgent(), env, [rival], max_periods=10)
    short = QLearningAgent.from_market(env, memory=2)
    short.q_ = short.q_[:25]
    with pytest.raises(ConfigError, match=r"shape \(25, 5\), but memory=2 .* \(625, 5\)"):
        train_against(short, env, [rival], max_periods=10)
    with pytest.raises(ConfigError, match="must be a QLearningAgent"):
        train_against(rival, env, [rival], max_periods=10)


# ================================================================ in experiments
def run(config: dict, run_dir) -> Any:
    """A run without figures or progress output."""
    from pricegym.experiments.runner import run_experiment

    return run_experiment(config, run_dir, progress=False, command=["test"], report=False)


def _robin(rival: dict, train: dict, modes=("round_robin",), rivals=()) -> dict:
    return {
        "name": "qrivals",
        "market": {"oligopoly": {"n_prices": 5, "horizon": 50}},
        "agents": [
            rival,
            {"name": "q", "kind": "qlearning", "params": {"beta": 1e-3}, "train": train},
        ],
        "evaluation": {"episodes": 1, "seeds": 1},
        "tournament": {"modes": list(modes), "rivals": list(rivals)},
    }


def _policy(run_dir, pattern: str) -> QLearningAgent:
    (path,) = (run_dir / "policies").glob(pattern + ".json")
    return QLearningAgent.load(path)


def test_round_robin_against_a_rule_is_one_converged_session(tmp_path):
    budget = 10**7  # the old episode loop played all of it, at ~17k periods/s (10 min)
    rule = {"name": "tft", "kind": "tit_for_tat"}
    result = run(_robin(rule, {"periods": budget, "convergence_periods": 2000}), tmp_path / "r")
    trained = _policy(result.run_dir, "round_robin__tft__q__*")
    assert 2000 < trained.t_ < budget  # stopped at convergence
    (cell,) = [
        json.loads(p.read_text())
        for p in (result.run_dir / "cells" / "tournament").glob("*.json")
        if p.name.startswith("round_robin-tft-q-")
    ]
    env = OligopolyEnv(n_prices=5, horizon=50)
    again = QLearningAgent.from_market(env, seat=1, beta=1e-3)
    rival = bind_to_seat(TitForTat(), env, 0)
    r = train_against(
        again,
        env,
        [rival],
        max_periods=budget,
        convergence_periods=2000,
        seed=cell["seeds"]["train"],
    )
    assert r.compiled and r.converged and r.periods == trained.t_
    np.testing.assert_array_equal(trained.strategy, again.strategy)
    np.testing.assert_array_equal(trained.q_, again.q_)  # the same code path, saved and loaded


def test_vs_rules_training_in_an_oligopoly_is_one_converged_session(tmp_path):
    budget = 10**7
    config = _robin(
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 1.7}, "modes": ["solo"]},
        {"periods": budget, "convergence_periods": 2000},
        modes=("vs_rules",),
        rivals=[{"name": "grim", "kind": "grim_trigger"}],
    )
    config["agents"] = config["agents"][1:]
    result = run(config, tmp_path / "v")
    trained = _policy(result.run_dir, "vs_rules__q__*")
    assert 2000 < trained.t_ < budget


def test_round_robin_against_a_random_rival_is_refused_with_the_estimate(tmp_path):
    rule = {"name": "rnd", "kind": "random_price"}
    with pytest.raises(ConfigError, match=r"periods/s.*max_python_seconds"):
        run(_robin(rule, {"periods": 10**9}), tmp_path / "x")


def test_round_robin_of_two_different_q_learners_is_refused_with_the_estimate(tmp_path):
    q2 = {
        "name": "q2",
        "kind": "qlearning",
        "params": {"alpha": 0.3, "beta": 1e-3},
        "train": {"periods": 10**9},
    }
    with pytest.raises(ConfigError, match=r"episode loop.*periods/s.*max_python_seconds"):
        run(_robin(q2, {"periods": 10**9}), tmp_path / "y")


def test_timing_the_first_episodes_does_not_change_the_training(monkeypatch):
    from pricegym.experiments.evaluate import derive_seeds, play_oligopoly
    from pricegym.experiments.runner import _compute

    monkeypatch.setattr(_compute, "_PROBE_PERIODS", 60)  # 3 of 25 episodes
    env = OligopolyEnv(n_prices=5, horizon=20)

    def pair():
        a = QLearningAgent.from_market(env, seat=0, beta=1e-2, explore=True)
        b = QLearningAgent.from_market(env, seat=1, alpha=0.3, beta=1e-2, explore=True)
        return a, b

    split = pair()
    _compute._train_oligopoly(list(split), [True, True], env, [{"periods": 500}] * 2, 9)
    whole = pair()
    play_oligopoly(
        list(whole),
        env,
        derive_seeds(9, ("env",), 25),
        [derive_seeds(9, ("agent", i), 25) for i in range(2)],
        learn=True,
    )
    for mine, ref in zip(split, whole, strict=True):
        assert mine.t_ == ref.t_ == 500
        np.testing.assert_array_equal(mine.q_, ref.q_)
