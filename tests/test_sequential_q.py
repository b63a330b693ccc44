"""Klein (2021) sequential-move Q-learning: classifier, market, kernel = env oracle, outcomes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pricegym.agents.sequential_q import (
    OUTCOMES,
    SequentialQConfig,
    _learn_one,
    classify_cycle,
    cycle_prices,
    limit_cycle,
    market_profits,
    maskin_tirole_profits,
    play_in_env,
    run_sequential_sessions,
    wilson_interval,
)
from pricegym.demand.linear_oligopoly import LinearOligopolyTruth
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError


# ------------------------------------------------------------ classifier on constructed paths
@pytest.mark.parametrize(
    ("moves", "kind"),
    [
        ([3], "fixed_point"),
        ([3, 3], "fixed_point"),
        ([4, 2, 4, 2], "fixed_point"),  # asymmetric constant pair (4, 2)
        ([6, 5, 4, 3, 2, 1], "edgeworth"),  # undercut step by step, reset 1 -> 6
        ([6, 5, 4, 3, 2, 2], "edgeworth"),  # match at the bottom, then reset
        ([5, 4, 3, 5, 4, 3], "edgeworth"),  # two copies of one cycle
        ([2, 1, 5, 3], "edgeworth"),  # a rotation: the reset need not come last
        ([6, 4, 5, 3], "other_cycle"),  # two resets per cycle
        ([3, 4, 5, 2], "other_cycle"),  # two raises in a row
    ],
)
def test_classify_cycle_on_constructed_paths(moves: list[int], kind: str) -> None:
    assert classify_cycle(moves) == kind


@pytest.mark.parametrize("bad", [[], [[1, 2]], [0.5, 1.0]])
def test_classify_cycle_refuses_what_is_not_a_move_sequence(bad: list) -> None:
    with pytest.raises(ConfigError, match="price indices"):
        classify_cycle(bad)


def test_limit_cycle_follows_an_undercut_then_reset_strategy() -> None:
    # both firms: undercut by one step, at the bottom (index 1) reset to the top (3)
    g = np.array([[3, 3, 1, 2], [3, 3, 1, 2]])
    moves, first = limit_cycle(g, mover=0, rival=3)
    assert moves.tolist() == [2, 1, 3, 2, 1, 3] and first == 0
    assert classify_cycle(moves) == "edgeworth"
    own = cycle_prices(moves, first)
    assert own.shape == (6, 2)
    # the mover's price changes, the other holds
    assert own[:3].tolist() == [[2, 3], [2, 1], [3, 1]]
    # a strategy pair with a focal price: from any start both end at index 2
    focal = np.array([[2, 2, 2, 2], [2, 2, 2, 2]])
    moves, _ = limit_cycle(focal, mover=1, rival=0)
    assert moves.tolist() == [2, 2] and classify_cycle(moves) == "fixed_point"


# ------------------------------------------------------------ market
def test_maskin_tirole_profits_split_the_market_at_ties() -> None:
    grid, pi = maskin_tirole_profits(6)
    assert grid.shape == (7,) and pi.shape == (2, 7, 7)
    assert grid[3] == 0.5
    assert pi[0, 3, 4] == pytest.approx(0.25, abs=1e-15)  # monopoly price, rival above
    assert pi[0, 3, 3] == pytest.approx(0.125, abs=1e-15)  # tie: half the market
    assert pi[0, 4, 3] == 0.0 and np.all(pi[:, 0] == 0.0)
    np.testing.assert_array_equal(pi[0], pi[1])
    with pytest.raises(ConfigError, match="k=1"):
        maskin_tirole_profits(1)


def test_market_profits_of_an_env_are_its_rewards() -> None:
    env = OligopolyEnv(
        kernel=LinearOligopolyTruth(),
        cost=0.0,
        prices=np.linspace(0.3, 1.05, 5),
        moves="sequential",
    )
    grid, pi = market_profits(env)
    env.reset(seed=0, options={"prices": [grid[1], grid[4]]})
    _, reward, *_ = env.step({"seller_0": 2})  # seller 0 at grid[2], seller 1 at grid[4]
    assert reward["seller_0"] == pytest.approx(pi[0, 2, 4], abs=1e-12)
    assert reward["seller_1"] == pytest.approx(pi[1, 4, 2], abs=1e-12)
    with pytest.raises(ConfigError, match="n_sellers=3"):
        market_profits(OligopolyEnv(n_sellers=3, n_prices=5))


# ------------------------------------------------------------ kernel = env oracle
def test_compiled_sessions_equal_the_env_oracle() -> None:
    env = OligopolyEnv(
        kernel=LinearOligopolyTruth(),
        cost=0.0,
        prices=np.linspace(0.3, 1.05, 7),
        moves="sequential",
        horizon=None,
    )
    _, table = market_profits(env)
    cfg = SequentialQConfig(periods=1500, final_epsilon=1e-2)
    for session in range(2):
        q_env, played, _ = play_in_env(env, cfg, seed=5, session=session, n_sessions=2)
        child = np.random.SeedSequence(5).spawn(2)[session]
        q, prices, _ = _learn_one(table, cfg, child)
        np.testing.assert_allclose(q, q_env, rtol=0, atol=1e-12)
        # the last two periods' movers: firm (T-1) % 2 set played[-1], the other played[-2]
        assert prices[(cfg.periods - 1) % 2] == played[-1]
        assert prices[cfg.periods % 2] == played[-2]


# ------------------------------------------------------------ learning with a known answer
def test_myopic_learners_learn_the_best_response_and_end_competitive() -> None:
    # δ = 0: Q(s, a) → π(a, s), so the greedy strategy is the one-shot best response;
    # on k = 6 it undercuts down to 1/6 and matches there: the competitive fixed point.
    grid, pi = maskin_tirole_profits(6)
    cfg = SequentialQConfig(alpha=0.3, delta=0.0, periods=20_000, final_epsilon=0.1)
    res = run_sequential_sessions(pi, cfg, n_sessions=3, seed=0, grid=grid)
    best_response = pi[0].argmax(axis=0)  # for every rival price s
    for s in range(3):
        np.testing.assert_array_equal(res.strategies[s, 0], best_response)
        np.testing.assert_array_equal(res.strategies[s, 1], best_response)
    assert res.outcome.tolist() == [0, 0, 0]
    np.testing.assert_allclose(res.prices, 1 / 6, atol=1e-12)
    np.testing.assert_allclose(res.delta, (1 / 6) * (5 / 6) / 2 / 0.125, atol=1e-12)


def test_coarse_grid_finds_fixed_points_and_fine_grid_cycles() -> None:
    # Klein's baseline (500,000 periods): 16 sessions per grid, about 2 s.
    shares = {}
    for k in (6, 24):
        grid, pi = maskin_tirole_profits(k)
        res = run_sequential_sessions(pi, n_sessions=16, seed=2021, grid=grid)
        assert res.monopoly_profit == pytest.approx(0.125, abs=1e-15)
        assert np.all(res.delta > 0.0) and np.all(res.delta <= 1.0 + 1e-12)
        shares[k] = {kind: res.share(kind)[0] for kind in OUTCOMES}
    assert shares[6]["fixed_point"] >= 4  # collusive fixed points on the coarse grid
    assert shares[24]["edgeworth"] >= 12  # Edgeworth cycles on the fine grid
    assert shares[24]["fixed_point"] < shares[6]["fixed_point"]


def test_sessions_are_reproducible_and_independent_of_batch_size() -> None:
    _, pi = maskin_tirole_profits(6)
    cfg = SequentialQConfig(periods=20_000)
    a = run_sequential_sessions(pi, cfg, n_sessions=3, seed=7)
    b = run_sequential_sessions(pi, cfg, n_sessions=5, seed=7)
    np.testing.assert_array_equal(a.strategies, b.strategies[:3])
    np.testing.assert_array_equal(a.outcome, b.outcome[:3])
    summary = a.summary()
    assert summary["sessions"] == 3
    assert sum(summary[kind]["count"] for kind in OUTCOMES) == 3


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("field", "value"),
    [("alpha", 0.0), ("delta", 1.0), ("final_epsilon", 0.0), ("periods", 2)],
)
def test_bad_config_is_refused_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        SequentialQConfig(**{field: value})


def test_bad_tables_and_counts_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"\(2, m, m\)"):
        run_sequential_sessions(np.zeros((3, 4, 4)))
    _, pi = maskin_tirole_profits(6)
    with pytest.raises(ConfigError, match="n_sessions"):
        run_sequential_sessions(pi, n_sessions=0)
    with pytest.raises(ConfigError, match="grid"):
        run_sequential_sessions(pi, n_sessions=1, grid=[0.0, 1.0])


def test_wilson_interval_brackets_the_share() -> None:
    lo, hi = wilson_interval(30, 100)
    assert lo < 0.3 < hi
    assert (lo, hi) == pytest.approx((0.2189, 0.3958), abs=1e-4)


# ------------------------------------------------------------ the benchmark's own code
def _bench() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_klein.py"
    spec = importlib.util.spec_from_file_location("_bench_klein", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_reference_check_and_readme_table() -> None:
    bench = _bench()
    ref = bench.reference_check(seed=1, periods=400, sessions=1)
    assert ref["identical"] and ref["max_abs_q_difference"] <= 1e-12
    results = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "klein.json"
    doc = json.loads(results.read_text())
    table = bench.readme_table(doc)
    assert "as stated in the source (Klein, T. (2021)" in table
    assert table.count("| klein |") == len(bench.KLEIN_GRIDS)
    # the verdict flips when the coarse grid stops producing fixed points
    doc["rows"][0]["fixed_point"].update(share=0.2, share_ci95=[0.15, 0.25])
    assert "does NOT find collusive fixed points" in bench.comparison(doc)
