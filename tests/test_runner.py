"""The experiment runner: run directory, determinism, resume after a crash, tournaments."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from pricegym.agents.dp import fixed_price_values, solve_dp
from pricegym.cli.run import cli_run, configure_run_parser
from pricegym.demand import ExponentialTruth
from pricegym.envs.oligopoly import logit_monopoly_prices, logit_nash_prices
from pricegym.errors import ConfigError
from pricegym.experiments import runner
from pricegym.experiments.runner import (
    EPISODE_COLUMNS,
    plan_cells,
    run_experiment,
)
from pricegym.experiments.schema import load_experiment

OPTIONS = {"n_prices": 6, "p_min": 0.5, "p_max": 5.0, "horizon": 8, "inventory": 6}
SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 5,
    "market": {"demand": {"form": "exponential", "a": 10.0, "alpha": 1.0}, "options": OPTIONS},
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.3}},
        {"name": "ucb", "kind": "ucb1", "train": {"episodes": 5}},
        {"name": "optimum", "kind": "dp"},
    ],
    "evaluation": {"episodes": 3, "seeds": 2},
}
N_CELLS = 2 + 6  # ucb trained per seed; 3 agents x 2 seeds evaluated


def run(config: Any, run_dir: Path, **kwargs: Any) -> runner.RunResult:
    """A run without figures (test_report.py covers them; quickstart draws them here)."""
    kwargs.setdefault("report", False)
    return run_experiment(config, run_dir, progress=False, command=["test"], **kwargs)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One uninterrupted run of SMALL (the reference every other run is compared with)."""
    return run(SMALL, tmp_path_factory.mktemp("runs") / "reference")


class Counter:
    """Wraps runner.run_cell: counts calls and optionally raises at call ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls, self.fail_at = 0, fail_at
        self.inner = runner.run_cell

    def __call__(self, *args: Any) -> dict[str, Any]:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("simulated crash")
        return self.inner(*args)


# ================================================================ run directory
def test_run_directory_holds_everything(small_run):
    d = small_run.run_dir
    for name in (
        "resolved.json",
        "config.yaml",
        "command.txt",
        "versions.json",
        "seeds.json",
        "benchmarks.json",
        "episodes.csv",
        "summary.csv",
        "logs/run.log",
    ):
        assert (d / name).is_file(), name
    assert yaml.safe_load((d / "config.yaml").read_text()) == load_experiment(SMALL).resolved()
    assert (d / "command.txt").read_text().strip() == "test"
    versions = json.loads((d / "versions.json").read_text())
    assert versions["numpy"] == np.__version__ and versions["pricegym"]
    assert len(list((d / "cells").rglob("*.json"))) == N_CELLS
    policies = sorted(p.name for p in (d / "policies").glob("*.json"))
    assert policies == ["solo__ucb__exponential__seed0.json", "solo__ucb__exponential__seed1.json"]
    assert small_run.computed == {"train": 2, "evaluate": 6, "tournament": 0}


def test_episode_table_is_tidy_and_consistent(small_run):
    episodes = pd.read_csv(small_run.run_dir / "episodes.csv")
    assert tuple(episodes.columns) == EPISODE_COLUMNS
    assert len(episodes) == 3 * 2 * 3
    assert set(episodes["agent"]) == {"fixed", "ucb", "optimum"}
    assert set(episodes["seed"]) == {0, 1} and set(episodes["episode"]) == {0, 1, 2}
    assert (episodes["steps"] <= OPTIONS["horizon"]).all()
    assert (episodes["units"] <= OPTIONS["inventory"]).all()
    np.testing.assert_allclose(episodes["sell_through"], episodes["units"] / 6.0)
    fixed = episodes[episodes["agent"] == "fixed"]
    # 2.3 is on the grid linspace(0.5, 5, 6) = 0.5, 1.4, 2.3, 3.2, 4.1, 5.0.
    np.testing.assert_allclose(fixed["avg_price"], 2.3)
    np.testing.assert_allclose(fixed["revenue"], 2.3 * fixed["units"])
    np.testing.assert_allclose(fixed["profit"], fixed["revenue"])  # no cost in this market
    if (d := small_run.run_dir / "episodes.parquet").is_file():
        pd.testing.assert_frame_equal(pd.read_parquet(d), small_run.episodes)


def test_benchmarks_and_league_table(small_run):
    truth = ExponentialTruth(a=10.0, alpha=1.0)
    bench = small_run.benchmarks["exponential"]
    assert bench["dp"] == pytest.approx(solve_dp(truth, OPTIONS).expected_value, rel=1e-12)
    assert bench["best_fixed"] == pytest.approx(fixed_price_values(truth, OPTIONS).max(), rel=1e-12)
    assert bench["dp"] > bench["best_fixed"]
    summary = pd.read_csv(small_run.run_dir / "summary.csv")
    assert list(summary["rank"]) == [1, 2, 3]
    assert set(summary["mode"]) == {"solo"}
    assert (summary["n_seeds"] == 2).all() and (summary["n_episodes"] == 6).all()
    np.testing.assert_allclose(summary["pct_of_optimum"], 100 * summary["mean"] / bench["dp"])
    np.testing.assert_allclose(summary["dp_optimum"], bench["dp"])
    # the DP optimum's row shows its exact expected profit beside the sampled mean
    by_agent = summary.set_index("agent")
    assert by_agent.loc["optimum", "exact"] == pytest.approx(bench["dp"], rel=1e-12)
    assert by_agent.loc["optimum", "exact_pct"] == pytest.approx(100.0, rel=1e-12)
    assert by_agent[["exact", "exact_pct"]].drop(index="optimum").isna().all().all()
    assert (summary["ci_basis"] == "2 seeds × 3 episodes").all() and summary["few_seeds"].all()
    episodes = small_run.episodes
    for _, row in summary.iterrows():
        mean = episodes[episodes["agent"] == row["agent"]]["profit"].mean()
        assert row["mean"] == pytest.approx(mean)


def test_seeds_are_derived_per_cell_and_paired_across_agents(small_run):
    seeds = json.loads((small_run.run_dir / "seeds.json").read_text())
    assert seeds["experiment_seed"] == 5 and seeds["replicates"] == [0, 1]
    env_seeds: dict[tuple[str, int], list[int]] = {}
    for cell in seeds["cells"].values():
        if cell["key"]["stage"] == "evaluate":
            env_seeds[(cell["key"]["agents"][0], cell["key"]["seed"])] = cell["env"]
    for s in (0, 1):
        assert env_seeds[("fixed", s)] == env_seeds[("ucb", s)] == env_seeds[("optimum", s)]
    assert env_seeds[("fixed", 0)] != env_seeds[("fixed", 1)]
    assert len(set(env_seeds[("fixed", 0)])) == 3


# ================================================================ determinism
def test_same_summary_twice(small_run, tmp_path):
    reference = (small_run.run_dir / "summary.csv").read_bytes()
    again = run(SMALL, tmp_path / "again")
    assert (again.run_dir / "summary.csv").read_bytes() == reference


@pytest.mark.slow  # two spawned workers each import torch / SB3 (~5-20 s on 2 busy cores)
def test_same_summary_with_two_jobs(small_run, tmp_path):
    parallel = run(SMALL, tmp_path / "jobs2", jobs=2)
    assert (parallel.run_dir / "summary.csv").read_bytes() == (
        small_run.run_dir / "summary.csv"
    ).read_bytes()
    assert (parallel.run_dir / "episodes.csv").read_bytes() == (
        small_run.run_dir / "episodes.csv"
    ).read_bytes()


@pytest.mark.slow
def test_ray_backend_gives_the_process_pool_numbers(small_run, tmp_path):
    pytest.importorskip("ray")
    result = run(SMALL, tmp_path / "ray", jobs=2, backend="ray")
    assert (result.run_dir / "summary.csv").read_bytes() == (
        small_run.run_dir / "summary.csv"
    ).read_bytes()


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "not-an-address"])
def test_ray_address_nobody_answers_is_refused_before_the_run_folder(tmp_path, address):
    """A wrong --address fails in seconds (ray.init alone retries for minutes), names
    the address and `ray start --head`, and leaves no half-made run folder."""
    pytest.importorskip("ray")
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = address.format(port=port)
    with pytest.raises(ConfigError, match="address=") as err:
        run(SMALL, tmp_path / "ray", backend="ray", address=address)
    assert address in str(err.value)
    assert "ray start --head" in str(err.value) or "host:port" in str(err.value)
    assert not (tmp_path / "ray").exists()


def test_ray_backend_without_ray_says_how_to_install(tmp_path):
    try:
        import ray  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ray is installed")
    with pytest.raises(ConfigError, match=r'pip install "pricegym\[ray\]"'):
        run(SMALL, tmp_path / "ray", backend="ray")


# ================================================================ resume
def test_crash_midway_then_resume_recomputes_only_missing_cells(small_run, tmp_path, monkeypatch):
    crashing = Counter(fail_at=5)
    monkeypatch.setattr(runner, "run_cell", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(SMALL, tmp_path / "resumed")
    finished = list((tmp_path / "resumed" / "cells").rglob("*.json"))
    assert len(finished) == 4  # 2 train cells + 2 evaluation cells completed before the crash
    assert not (tmp_path / "resumed" / "summary.csv").exists()

    resuming = Counter()
    monkeypatch.setattr(runner, "run_cell", resuming)
    result = run(SMALL, tmp_path / "resumed")
    assert resuming.calls == N_CELLS - 4
    assert result.skipped == {"train": 2, "evaluate": 2, "tournament": 0}
    reference = (small_run.run_dir / "summary.csv").read_bytes()
    assert (result.run_dir / "summary.csv").read_bytes() == reference

    # Lose two cell files (a crash between the cell and its file): only they are recomputed.
    for path in sorted((tmp_path / "resumed" / "cells" / "evaluate").glob("*.json"))[:2]:
        path.unlink()
    again = Counter()
    monkeypatch.setattr(runner, "run_cell", again)
    run(SMALL, tmp_path / "resumed")
    assert again.calls == 2
    assert (result.run_dir / "summary.csv").read_bytes() == reference

    # --force recomputes everything, with the same numbers.
    forced = Counter()
    monkeypatch.setattr(runner, "run_cell", forced)
    result = run(SMALL, tmp_path / "resumed", force=True)
    assert forced.calls == N_CELLS
    assert (result.run_dir / "summary.csv").read_bytes() == reference


def test_torn_cell_file_is_recomputed(small_run, tmp_path, monkeypatch):
    run(SMALL, tmp_path / "torn")
    victim = sorted((tmp_path / "torn" / "cells" / "evaluate").glob("*.json"))[0]
    victim.write_text('{"rows": [')
    counter = Counter()
    monkeypatch.setattr(runner, "run_cell", counter)
    run(SMALL, tmp_path / "torn")
    assert counter.calls == 1
    assert json.loads(victim.read_text())["rows"]


def test_run_directory_of_another_experiment_is_refused(small_run, tmp_path):
    other = copy.deepcopy(SMALL)
    other["seed"] = 6
    with pytest.raises(ConfigError, match="different experiment") as info:
        run(other, small_run.run_dir)
    assert "--force" in str(info.value)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a pricegym run directory"):
        run(SMALL, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="jobs"):
        run(SMALL, tmp_path / "x", jobs=0)
    with pytest.raises(ConfigError, match="backend"):
        run(SMALL, tmp_path / "x", backend="dask")
    with pytest.raises(ConfigError, match="--backend ray"):
        run(SMALL, tmp_path / "x", address="ray://h:1")


# ================================================================ CLI
def test_cli_run_reuses_the_run_and_prints_the_table(small_run, tmp_path, capsys, monkeypatch):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    parser = argparse.ArgumentParser()
    configure_run_parser(parser)
    args = parser.parse_args([str(path), "--out", str(small_run.run_dir), "--jobs", "2"])
    assert (args.jobs, args.force, args.backend, args.address) == (2, False, "process", None)
    counter = Counter()
    monkeypatch.setattr(runner, "run_cell", counter)
    assert cli_run(args) == 0
    assert counter.calls == 0
    out = capsys.readouterr().out
    assert "League table" in out and "optimum" in out and "0 cells computed, 8 reused" in out
    assert "2 seeds × 3 episodes" in out and "Intervals on fewer than 5 seeds" in out
    assert "exact (DP)" in out and "(100.0%)" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["--jobs", "0"])


def test_round_robin_under_shocks_reports_each_regimes_benchmarks(tmp_path):
    from pricegym.envs.oligopoly import OligopolyEnv

    shocks = {"transition": [[0.95, 0.05], [0.3, 0.7]], "quality": [1.1, 0.9], "cost": [1, 1.2]}
    config = {
        "name": "shocked",
        "market": {"name": "shocked", "oligopoly": {"horizon": 50, "shocks": shocks}},
        "agents": [{"name": "tft", "kind": "tit_for_tat"}],
        "evaluation": {"episodes": 2, "seeds": 2},
        "tournament": {"modes": ["round_robin"]},
    }
    result = run(config, tmp_path / "shocked")
    bench = json.loads((result.run_dir / "benchmarks.json").read_text())["shocked"]
    env = OligopolyEnv(horizon=50, shocks=shocks)
    assert [r["regime"] for r in bench["regimes"]] == [0, 1]
    for r, entry in enumerate(bench["regimes"]):
        np.testing.assert_allclose(entry["nash_profits"], env.regime_nash_profits[r], rtol=1e-12)
        np.testing.assert_allclose(
            entry["monopoly_prices"], env.regime_monopoly_prices[r], rtol=1e-12
        )
    np.testing.assert_allclose(bench["nash_profits"], env.nash_profits, rtol=1e-12)
    # Tit-for-tat holds the base monopoly price: below each regime's joint monopoly
    # (Δ < 1), though against the base market's benchmarks it would score Δ > 1.
    delta = pd.read_csv(result.run_dir / "episodes.csv")["delta"]
    assert len(delta) == 2 * 2 * 2 and ((delta > 0.85) & (delta < 1.0)).all()
    from pricegym.experiments.report import _benchmarks_html, load_run

    page = _benchmarks_html(load_run(result.run_dir))  # the report's benchmarks table
    assert "shocked, regime 0" in page and "shocked, regime 1" in page


# ================================================================ tournaments
def test_oligopoly_round_robin_known_answers(tmp_path):
    nash = float(logit_nash_prices()[0])
    monopoly = float(logit_monopoly_prices()[0])
    config = {
        "name": "robin",
        "market": {"oligopoly": {"prices": [1.3, nash, 1.7, monopoly, 2.1], "horizon": 6}},
        "agents": [
            {"name": "nash", "kind": "fixed_price", "params": {"price": nash}},
            {"name": "monopoly", "kind": "fixed_price", "params": {"price": monopoly}},
            {
                "name": "q",
                "kind": "qlearning",
                "params": {"beta": 2e-3},
                "train": {"periods": 600, "convergence_periods": 50},
            },
        ],
        "evaluation": {"episodes": 2, "seeds": 2},
        "tournament": {"modes": ["round_robin"]},
    }
    cfg = load_experiment(config)
    assert len(plan_cells(cfg)["tournament"]) == 6 * 2  # 3 self-pairs + 3 pairs, 2 seeds
    result = run(config, tmp_path / "robin")
    h2h = pd.read_csv(result.run_dir / "head_to_head.csv")
    pair = h2h.set_index(["agent", "opponent"])
    assert pair.loc[("nash", "nash"), "delta"] == pytest.approx(0.0, abs=1e-12)
    assert pair.loc[("monopoly", "monopoly"), "delta"] == pytest.approx(1.0, abs=1e-12)
    # Undercutting a monopoly-pricing rival pays: Nash earns more against it than at Nash.
    assert pair.loc[("nash", "monopoly"), "mean"] > pair.loc[("nash", "nash"), "mean"]
    summary = result.summary.set_index("agent")
    assert {"delta", "delta_low", "delta_high"} <= set(result.summary.columns)
    assert summary.loc["q", "n_episodes"] == 2 * 2 * 4  # 4 seats: vs nash, monopoly, q (x2)
    policies = list((result.run_dir / "policies").glob("*.json"))
    assert len(policies) == 2 * 4  # q vs q: both seats; q vs each rule: one seat; 2 seeds


def test_vs_rules_and_cross_model(tmp_path):
    config = {
        "name": "cross",
        "market": {
            "data": {"synthetic": {"seed": 1, "n_periods": 40, "promotions": False}},
            "model": [{"family": "poisson"}, {"family": "loglinear"}],
            "options": {"n_prices": 4, "horizon": 4, "cost": 2.0},
        },
        "agents": [
            {"name": "myopic", "kind": "myopic"},
            {"name": "greedy", "kind": "epsilon_greedy", "train": {"episodes": 3}},
        ],
        "evaluation": {"episodes": 2, "seeds": 1},
        "tournament": {
            "modes": ["solo", "vs_rules", "cross_model"],
            "rivals": [{"name": "under", "kind": "undercut", "params": {"step": 0.2}}],
        },
    }
    result = run(config, tmp_path / "cross")
    markets = set(result.summary["market"])
    assert markets == {
        "synthetic/poisson",
        "synthetic/loglinear",
        "synthetic/poisson vs under",
        "synthetic/loglinear vs under",
    }
    cross = result.episodes[result.episodes["mode"] == "cross_model"]
    assert set(cross["agent"]) == {
        "myopic@synthetic/poisson",
        "myopic@synthetic/loglinear",
        "greedy@synthetic/poisson",
        "greedy@synthetic/loglinear",
    }
    assert (cross["trained_in"] != cross["market"]).all()
    matrix = pd.read_csv(result.run_dir / "cross_model.csv")
    assert len(matrix) == 2 * 2 * 2  # agents x trained_in x evaluated_in
    # Trained in its own market, the policy is the solo policy: the diagonal is the solo row.
    solo = result.summary[result.summary["mode"] == "solo"].set_index(["market", "agent"])
    diag = matrix[matrix["trained_in"] == matrix["market"]].set_index(["market", "agent"])
    for key, row in diag.iterrows():
        assert row["mean"] == pytest.approx(solo.loc[key, "mean"])
    vs = result.summary[result.summary["mode"] == "vs_rules"]
    assert vs["pct_of_optimum"].isna().all()  # no DP optimum against a reacting rival
    # Greedy is trained separately against the rival (train_against_rivals) and alone.
    assert result.computed["train"] == 2 * 2


def test_quickstart_reduced(tmp_path):
    """The README's experiment with tiny budgets: every agent kind of it runs end to end."""
    resolved = load_experiment("quickstart").resolved()
    resolved["evaluation"].update(episodes=2, seeds=[0])
    for agent in resolved["agents"]:
        if agent["kind"] == "sb3":
            agent["params"]["hyperparams"] = {"n_envs": 4, "n_steps": 16, "batch_size": 64}
            agent["params"]["hyperparams"]["eval_freq"] = 0
            agent["train"] = {"timesteps": 128}
        elif agent["train"]:
            agent["train"] = {"episodes": 2}
    result = run(resolved, tmp_path / "quickstart", report=True)
    assert (result.run_dir / "index.html").is_file()
    assert sorted((result.run_dir / "figures").glob("*.png"))
    summary = result.summary.set_index("agent")
    assert set(summary.index) == {a["name"] for a in resolved["agents"]}
    dp = result.benchmarks["article"]["dp"]
    assert summary.loc["dp_optimum", "pct_of_optimum"] == pytest.approx(100, abs=3)
    assert summary.loc["myopic", "mean"] < dp
    assert (result.run_dir / "policies" / "solo__ppo__article__seed0.zip").is_file()


def test_agent_that_cannot_play_the_market_fails_before_any_cell(tmp_path, monkeypatch):
    config = copy.deepcopy(SMALL)
    config["agents"].append({"name": "matcher", "kind": "match_lowest"})
    counter = Counter()
    monkeypatch.setattr(runner, "run_cell", counter)
    with pytest.raises(ConfigError) as info:
        run(config, tmp_path / "bad")
    message = str(info.value)
    assert message.startswith("agents[3] ('matcher', kind 'match_lowest') cannot play market")
    assert "competitor" in message
    assert counter.calls == 0


def test_changed_data_file_is_not_silently_reused(tmp_path):
    csv = tmp_path / "sales.csv"
    rows = [(1, 2.0, 10), (2, 1.8, 14), (3, 2.1, 9), (4, 1.9, 12), (5, 2.2, 8), (6, 1.7, 15)]
    csv.write_text("week,price,units\n" + "".join(f"{w},{p},{u}\n" for w, p, u in rows))
    config = {
        "name": "file",
        "market": {
            "data": {"path": str(csv)},
            "model": {"family": "loglinear"},
            "options": {"n_prices": 3, "horizon": 3},
        },
        "agents": [{"name": "fixed", "kind": "fixed_price", "params": {"price": 2.0}}],
        "evaluation": {"episodes": 1, "seeds": 1},
    }
    first = run(config, tmp_path / "run")
    assert (first.run_dir / "models" / "loglinear.json").is_file()
    csv.write_text(csv.read_text().replace("6,1.7,15", "6,1.7,16"))
    with pytest.raises(ConfigError, match="changed since the cells") as info:
        run(config, tmp_path / "run")
    assert str(csv) in str(info.value) and "--force" in str(info.value)
    run(config, tmp_path / "run", force=True)


def test_cross_model_refuses_markets_with_other_price_grids():
    from pricegym.demand.parametric import ExponentialTruth
    from pricegym.envs.market import PricingEnv
    from pricegym.experiments.rundir import Cell
    from pricegym.experiments.runner._compute import _check_same_layout

    truth = ExponentialTruth(a=50.0, alpha=0.5)
    home = PricingEnv(truth, {"n_prices": 4, "horizon": 5, "prices": [1.0, 2.0, 3.0, 4.0]})
    same = PricingEnv(truth, {"n_prices": 4, "horizon": 5, "prices": [1.0, 2.0, 3.0, 4.0]})
    other = PricingEnv(truth, {"n_prices": 4, "horizon": 5, "prices": [1.0, 2.0, 3.0, 5.0]})
    assert home.action_space == other.action_space  # same Discrete(4): not enough
    cell = Cell("tournament", "cross_model", ("a",), "b", 0, trained_in="a")
    _check_same_layout(home, same, "a", cell)  # the same grid passes
    with pytest.raises(ConfigError, match="price grids") as err:
        _check_same_layout(home, other, "a", cell)
    assert "market.options.prices" in str(err.value) and "[1.0, 5.0]" in str(err.value)


def test_thompson_default_runs_in_a_market_of_counts(tmp_path):
    """Default Thompson sampling (likelihood 'auto') in a market selling ~90 units a period
    picks Poisson and the run completes (Bernoulli failed at the first update)."""
    doc = {
        "name": "counts",
        "seed": 0,
        "market": {
            "demand": {"form": "linear", "a": 100.0, "b": 10.0},
            "options": {"n_prices": 10, "p_min": 1.0, "p_max": 10.0, "horizon": 8, "cost": 2.0},
        },
        "agents": [{"name": "ts", "kind": "thompson", "train": {"episodes": 2}}],
        "evaluation": {"episodes": 2, "seeds": 1},
    }
    result = run(doc, tmp_path / "run")
    assert result.episodes["profit"].gt(0).all() and len(result.episodes) == 2
    (policy,) = (tmp_path / "run" / "policies").glob("*.json")
    saved = json.loads(policy.read_text())
    assert saved["params"]["likelihood"] == "auto" and saved["state"]["likelihood"] == "poisson"
