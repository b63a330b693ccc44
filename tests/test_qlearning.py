"""Vectorised Calvano Q-learning: exact against a per-session reference, seeded, and the agent."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pricegym.agents.base import PricingAgent, make_agent
from pricegym.agents.qlearning import (
    QLearningAgent,
    QLearningConfig,
    exploration_rate,
    initial_q,
    profit_table,
    run_sessions,
)
from pricegym.envs.equilibrium_solvers import logit_profits
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError

#: A small market and a fast schedule: greedy strategies change a few times, then settle.
SMALL = {"n_prices": 5}
FAST = QLearningConfig(beta=1e-3, convergence_periods=600, max_periods=8000)


def reference(env: OligopolyEnv, cfg: QLearningConfig, seed: int, n_sessions: int) -> list:
    """Calvano's algorithm written plainly, one session and one seller at a time.

    Uses the documented random streams (session i: child i of SeedSequence(seed);
    its first draw is the initial state, then n uniforms per period) and the
    documented evaluation order ((1 − α)·Q + α·π) + α·δ·max Q(s').
    """
    profits = profit_table(env)
    n, m, k = env.n_sellers, env.grid.size, cfg.memory
    n_states, n_prof = m ** (n * k), m**n
    flat = profits.reshape(-1, n)
    out = []
    for child in np.random.SeedSequence(seed).spawn(n_sessions):
        gen = np.random.Generator(np.random.PCG64(child))
        q = np.tile(initial_q(profits, cfg.delta)[:, None, :], (1, n_states, 1))
        state, t, quiet = int(gen.integers(n_states)), 0, 0
        while t < cfg.max_periods and quiet < cfg.convergence_periods:
            u, eps = gen.random(n), math.exp(-cfg.beta * t)
            acts = [
                min(int(u[i] * (m / eps)), m - 1) if u[i] < eps else int(q[i, state].argmax())
                for i in range(n)
            ]
            profile = 0
            for a in acts:
                profile = profile * m + a
            nxt = (state % n_prof ** (k - 1)) * n_prof + profile
            changed = False
            for i in range(n):
                before = q[i, state].argmax()
                target = q[i, state, acts[i]] * (1.0 - cfg.alpha)
                target += cfg.alpha * flat[profile, i]
                target += q[i, nxt].max() * (cfg.alpha * cfg.delta)
                q[i, state, acts[i]] = target
                changed |= bool(q[i, state].argmax() != before)
            quiet = 0 if changed else quiet + 1
            state, t = nxt, t + 1
        out.append(
            {
                "converged": quiet >= cfg.convergence_periods,
                "periods": t,
                "q": q,
                "state": state,
            }
        )
    return out


# ============================================================ building blocks
def test_profit_table_holds_every_price_profile():
    env = OligopolyEnv()
    table = profit_table(env)
    assert table.shape == (15, 15, 2)
    for a0, a1 in [(0, 0), (3, 11), (14, 2)]:
        expected = logit_profits(env.grid[[a0, a1]])
        np.testing.assert_allclose(table[a0, a1], expected, rtol=1e-14)
    assert profit_table({"n_sellers": 3, "n_prices": 4}).shape == (4, 4, 4, 3)


@pytest.mark.parametrize("market", [{}, {"n_sellers": 3, "n_prices": 6, "cost": [1.0, 1.1, 0.9]}])
def test_initial_q_is_the_discounted_payoff_against_uniform_rivals(market):
    env = OligopolyEnv(**market)
    n, m, delta = env.n_sellers, env.grid.size, 0.95
    q0 = initial_q(profit_table(env), delta)
    assert q0.shape == (n, m)
    for i in range(n):
        for a in range(m):
            total = 0.0
            for rivals in itertools.product(range(m), repeat=n - 1):
                profile = list(rivals)
                profile.insert(i, a)
                total += logit_profits(env.grid[profile], cost=env.cost)[i]
            assert q0[i, a] == pytest.approx(total / ((1 - delta) * m ** (n - 1)), rel=1e-12)


def test_exploration_schedule():
    assert exploration_rate(0, 4e-6) == 1.0
    t = np.array([0, 1000, 250_000, 10**6])
    np.testing.assert_allclose(exploration_rate(t, 4e-6), np.exp(-4e-6 * t), rtol=1e-15)
    assert exploration_rate(math.log(2) / 4e-6, 4e-6) == pytest.approx(0.5, rel=1e-12)
    assert exploration_rate(5, 0.0) == 1.0


def test_config_validation():
    assert QLearningConfig() == QLearningConfig(0.15, 4e-6, 0.95, 1, 100_000, 10**9)
    for bad, match in [
        ({"alpha": 0.0}, "alpha"),
        ({"delta": 1.0}, "delta"),
        ({"beta": -1.0}, "beta"),
        ({"memory": 0}, "memory"),
        ({"convergence_periods": 1.5}, "convergence_periods"),
    ]:
        with pytest.raises(ConfigError, match=match):
            QLearningConfig(**bad)
    with pytest.raises(ConfigError, match="unknown key"):
        QLearningConfig.from_dict({"alpah": 0.1})


# ================================================================== learning
def test_shapes_of_the_result():
    r = run_sessions(SMALL, 4, {"max_periods": 50}, seed=0)
    n_states = 5**2
    assert r.q.shape == (4, 2, n_states, 5)
    assert r.strategies.shape == (4, 2, n_states) and r.strategies.dtype == np.uint8
    assert r.converged.shape == r.periods.shape == r.final_state.shape == r.delta.shape == (4,)
    assert r.prices.shape == r.profits.shape == r.profit_gain.shape == (4, 2)
    np.testing.assert_array_equal(r.strategies, r.q.argmax(axis=-1))
    assert not r.converged.any() and (r.periods == 50).all()
    assert r.summary()["sessions"] == 4
    assert run_sessions(SMALL, 2, {"max_periods": 5}, keep_q=False).q is None


def test_one_update_step_equals_a_hand_computation():
    env = OligopolyEnv(**SMALL)
    cfg = QLearningConfig(max_periods=1)
    r = run_sessions(env, 3, cfg, seed=11)
    profits, m = profit_table(env), 5
    q0 = initial_q(profits, cfg.delta)
    for s, child in enumerate(np.random.SeedSequence(11).spawn(3)):
        gen = np.random.Generator(np.random.PCG64(child))
        state = int(gen.integers(25))
        u = gen.random(2)  # ε_0 = 1: both sellers explore, price ⌊u·m⌋
        acts = (u * m).astype(int)
        nxt = acts[0] * m + acts[1]
        assert r.final_state[s] == nxt and r.periods[s] == 1
        for i in range(2):
            hand = (1 - cfg.alpha) * q0[i, acts[i]] + cfg.alpha * (
                profits[acts[0], acts[1], i] + cfg.delta * q0[i].max()
            )
            assert r.q[s, i, state, acts[i]] == pytest.approx(hand, rel=1e-14)
            untouched = np.ones((25, m), dtype=bool)
            untouched[state, acts[i]] = False
            assert np.array_equal(r.q[s, i][untouched], np.broadcast_to(q0[i], (25, m))[untouched])


@pytest.mark.parametrize(
    ("market", "memory"),
    [(SMALL, 1), ({"n_prices": 3, "n_sellers": 3}, 1), ({"n_prices": 2}, 2)],
    ids=["duopoly", "three_sellers", "memory_two"],
)
def test_matches_the_plain_reference_implementation_exactly(market, memory):
    env = OligopolyEnv(**market)
    cfg = QLearningConfig(beta=1e-3, convergence_periods=600, max_periods=5000, memory=memory)
    ref = reference(env, cfg, seed=5, n_sessions=3)
    r = run_sessions(env, 3, cfg, seed=5)
    for s, want in enumerate(ref):
        assert r.converged[s] == want["converged"] and r.periods[s] == want["periods"]
        assert r.final_state[s] == want["state"]
        np.testing.assert_array_equal(r.q[s], want["q"])
    assert r.periods.max() > cfg.convergence_periods  # greedy strategies did change


def test_same_seed_identical_and_different_seeds_differ():
    a = run_sessions(SMALL, 4, FAST, seed=3)
    b = run_sessions(SMALL, 4, FAST, seed=3)
    c = run_sessions(SMALL, 4, FAST, seed=4)
    for name in ("q", "periods", "strategies", "final_state", "prices", "delta"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.q, c.q)


def test_outcome_independent_of_window_jobs_and_batch_size():
    a = run_sessions(SMALL, 4, FAST, seed=8)
    for other in (
        run_sessions(SMALL, 4, FAST, seed=8, window=7),
        run_sessions(SMALL, 4, FAST, seed=8, n_jobs=2),
    ):
        np.testing.assert_array_equal(a.q, other.q)
        np.testing.assert_array_equal(a.periods, other.periods)
    # Session i only uses its own stream: a batch of 6 starts with the batch of 4.
    bigger = run_sessions(SMALL, 6, FAST, seed=8)
    np.testing.assert_array_equal(a.q, bigger.q[:4])


def test_convergence_is_detected_when_strategies_stop_changing():
    env = OligopolyEnv(**SMALL)
    cfg = QLearningConfig(beta=1e-3, convergence_periods=600, max_periods=20_000)
    r = run_sessions(env, 3, cfg, seed=2)
    assert r.converged.all()
    patience = cfg.convergence_periods
    for s in np.flatnonzero(r.periods > patience):
        last = int(r.periods[s]) - patience  # strategies are final after `last` periods...
        at = run_sessions(env, s + 1, {**vars(cfg), "max_periods": last}, seed=2)
        before = run_sessions(env, s + 1, {**vars(cfg), "max_periods": last - 1}, seed=2)
        assert not at.converged[s] and not before.converged[s]
        np.testing.assert_array_equal(at.strategies[s], r.strategies[s])
        # ...and not one period earlier: the last change happened in period `last`.
        assert not np.array_equal(before.strategies[s], r.strategies[s])
        # A converged session stopped learning: a longer cap leaves it untouched.
    longer = run_sessions(env, 3, {**vars(cfg), "max_periods": 40_000}, seed=2)
    np.testing.assert_array_equal(longer.q, r.q)


def test_limit_cycle_outcome_matches_greedy_play_in_the_env():
    env = OligopolyEnv(**SMALL, horizon=None)
    r = run_sessions(env, 4, FAST, seed=8)
    assert sorted(r.cycle_length.tolist()) == [1, 1, 1, 7]  # a long cycle, too
    m = env.grid.size
    for s in range(4):
        agents = [r.agent(s, i) for i in range(2)]
        state = int(r.final_state[s])
        obs, _ = env.reset(seed=0, options={"prices": env.grid[[state // m, state % m]]})
        prices, profits = [], []
        for _ in range(60):  # 25 states: the path is in its cycle after 25 rounds
            actions = {f"seller_{i}": agents[i].act(obs[f"seller_{i}"]) for i in range(2)}
            obs, rewards, _, _, infos = env.step(actions)
            prices.append([infos[f"seller_{i}"]["price"] for i in range(2)])
            profits.append([rewards[f"seller_{i}"] for i in range(2)])
        length = int(r.cycle_length[s])
        tail_prices, tail_profits = np.array(prices[-length:]), np.array(profits[-length:])
        np.testing.assert_allclose(tail_prices.mean(axis=0), r.prices[s], rtol=1e-12)
        np.testing.assert_allclose(tail_profits.mean(axis=0), r.profits[s], rtol=1e-12)
        # The cycle repeats with period `length` and with no shorter period.
        assert np.array_equal(prices[-length:], prices[-2 * length : -length])
        gain = (r.profits[s] - env.nash_profits) / (env.monopoly_profits - env.nash_profits)
        np.testing.assert_allclose(r.profit_gain[s], gain, rtol=1e-12)
        assert r.delta[s] == pytest.approx(gain.mean(), rel=1e-12)


def test_bad_arguments_raise():
    with pytest.raises(ConfigError, match="n_sessions"):
        run_sessions(SMALL, 0)
    with pytest.raises(ConfigError, match="continuous"):
        run_sessions({"action": "continuous"}, 2)
    with pytest.raises(ConfigError, match="simultaneous"):
        run_sessions({"moves": "sequential"}, 2)
    with pytest.raises(ConfigError, match="max_q_bytes"):
        run_sessions({"n_sellers": 3}, 10, {"memory": 2})
    with pytest.raises(ConfigError, match="QLearningConfig"):
        run_sessions(SMALL, 2, config=3)


# ===================================================================== agent
def test_greedy_agent_save_load_gives_identical_actions(tmp_path):
    r = run_sessions(SMALL, 2, FAST, seed=6)
    agent = r.agent(1, 1, name="q-seat1")
    np.testing.assert_array_equal(agent.strategy, r.strategies[1, 1])
    path = agent.save(tmp_path / "q")
    loaded = PricingAgent.load(path)
    assert isinstance(loaded, QLearningAgent) and loaded.kind == "qlearning"
    assert loaded.name == "q-seat1" and loaded.params == agent.params
    np.testing.assert_array_equal(loaded.q_, agent.q_)
    assert loaded.t_ == agent.t_ == int(r.periods[1])
    m = 5
    for own, rival in itertools.product(range(m), repeat=2):
        obs = np.array([own, rival], dtype=np.float32) / (m - 1)  # seat 1 sees itself first
        assert loaded.act(obs) == agent.act(obs) == r.strategies[1, 1, rival * m + own]


def test_agent_plays_and_learns_in_the_env():
    env = OligopolyEnv(**SMALL, horizon=200)
    learner = QLearningAgent.from_market(env, seat=0, explore=True, beta=0.0, alpha=0.5)
    rival = make_agent("qlearning", n_prices=5, seat=1)
    rival.q_ = learner.q_.copy()
    learner.reset(seed=0)
    rival.reset(seed=1)
    obs, _ = env.reset(seed=0)
    before = learner.q_.copy()
    s, a = learner.state_index(obs["seller_0"]), learner.act(obs["seller_0"])
    rival_action = rival.act(obs["seller_1"])
    nxt, rewards, *_ = env.step({"seller_0": a, "seller_1": rival_action})
    learner.update(obs["seller_0"], a, rewards["seller_0"], nxt["seller_0"], False)
    s2 = learner.state_index(nxt["seller_0"])
    hand = 0.5 * before[s, a] + 0.5 * (rewards["seller_0"] + 0.95 * before[s2].max())
    assert learner.q_[s, a] == pytest.approx(hand, rel=1e-14) and learner.t_ == 1
    assert np.count_nonzero(learner.q_ != before) == 1
    # β = 0 keeps ε = 1: a seeded learner's random prices repeat under the same seed.
    learner.reset(seed=3)
    first = [learner.act(obs["seller_0"]) for _ in range(20)]
    learner.reset(seed=3)
    assert [learner.act(obs["seller_0"]) for _ in range(20)] == first
    assert len(set(first)) > 1


def test_agent_errors():
    with pytest.raises(ConfigError, match="no Q-table"):
        QLearningAgent().act(np.zeros(2))
    with pytest.raises(ConfigError, match="seat"):
        QLearningAgent(seat=2)
    agent = QLearningAgent.from_market(SMALL)
    with pytest.raises(ConfigError, match="memory"):
        agent.act(np.zeros(1))
    r = run_sessions(SMALL, 1, {"max_periods": 3}, keep_q=False)
    with pytest.raises(ConfigError, match="keep_q"):
        r.agent(0, 0)


# ============================================================== slow: Calvano
@pytest.mark.slow
def test_calvano_baseline_sessions_converge_between_nash_and_monopoly():
    # The paper's baseline settings (β = 4e-6, convergence after 100,000 unchanged
    # periods), 100 sessions (~2·10^6 periods each, ~15 s compiled).
    # benchmarks/bench_qlearning.py runs 1,000: Δ = 0.851 [0.844, 0.858].
    cfg = QLearningConfig()
    r = run_sessions(None, 100, cfg, seed=2020, n_jobs=2, keep_q=False)
    assert r.converged.all()
    assert (r.periods > cfg.convergence_periods).all()
    price = r.prices.mean()
    assert r.nash_prices[0] < price < r.monopoly_prices[0], price
    # Calvano et al. report Δ ≈ 0.85; across sessions Δ has s.d. ≈ 0.12, so the mean of
    # 100 has s.e. ≈ 0.012: ±0.05 is a tolerance of ~4 standard errors.
    assert abs(r.delta.mean() - 0.85) < 0.05, r.delta.mean()


def test_result_save_load_round_trip_without_pickle(tmp_path):
    r = run_sessions(SMALL, 3, FAST, seed=2)
    path = r.save(tmp_path / "sessions")
    assert path.suffix == ".json" and path.with_suffix(".npz").is_file()
    back = type(r).load(path)
    assert back.config == r.config and back.seed == 2 and back.seconds == r.seconds
    for name in ("q", "strategies", "periods", "converged", "delta", "prices", "grid"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))
        assert getattr(back, name).dtype == getattr(r, name).dtype
    assert back.summary() == r.summary()
    agent = back.agent(1, 0)
    np.testing.assert_array_equal(agent.strategy, r.strategies[1, 0])
    lean = run_sessions(SMALL, 2, FAST, seed=2, keep_q=False)
    assert type(r).load(lean.save(tmp_path / "lean")).q is None


def test_result_load_refuses_other_files(tmp_path):
    from pricegym.errors import ModelFileError

    agent_file = QLearningAgent.from_market(SMALL).save(tmp_path / "agent")
    with pytest.raises(ModelFileError, match="Q-learning result"):
        run_sessions(SMALL, 1, {"max_periods": 5}, seed=0).load(agent_file)
