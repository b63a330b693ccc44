"""Reports of a run directory: figures, index.html, rebuilding, and what they are built from."""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from pricegym.agents.dp import solve_dp
from pricegym.cli.report import cli_report, configure_report_parser
from pricegym.demand import ExponentialTruth
from pricegym.errors import ConfigError
from pricegym.experiments import report
from pricegym.experiments.report import (
    build_report,
    cross_model_matrix,
    head_to_head_matrix,
    league_bars,
    learning_curves,
    load_run,
    oligopoly_policy_map,
    policy_map,
    render_report,
    replay_cell,
)
from pricegym.experiments.report._output import WIDTH
from pricegym.experiments.runner import plan_cells, run_experiment

OPTIONS = {"n_prices": 6, "p_min": 0.5, "p_max": 5.0, "horizon": 8, "inventory": 6}
SINGLE: dict[str, Any] = {
    "name": "single",
    "seed": 5,
    "market": {
        "name": "mk",
        "demand": {"form": "exponential", "a": 10.0, "alpha": 1.0},
        "options": OPTIONS,
    },
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.3}},
        {"name": "ucb", "kind": "ucb1", "train": {"episodes": 5}},
        {"name": "optimum", "kind": "dp"},
    ],
    "evaluation": {"episodes": 3, "seeds": 2},
}
DUOPOLY: dict[str, Any] = {
    "name": "duo",
    "seed": 1,
    "market": {"name": "logit", "oligopoly": {"n_sellers": 2, "n_prices": 7, "horizon": 10}},
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 1.7}},
        {"name": "matcher", "kind": "match_lowest"},
    ],
    "evaluation": {"episodes": 2, "seeds": 2},
    "tournament": {"modes": ["round_robin"]},
}


def _run(config: dict[str, Any], path: Path) -> Path:
    run_experiment(config, path, progress=False, command=["pricegym", "run", "test"])
    return path


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    """A finished single-seller run (its report written by the runner)."""
    return _run(SINGLE, tmp_path_factory.mktemp("report") / "single")


@pytest.fixture(scope="module")
def duopoly(tmp_path_factory) -> Path:
    """A finished round robin of two rule-based sellers in a logit duopoly."""
    return _run(DUOPOLY, tmp_path_factory.mktemp("report") / "duo")


def _manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "report.json").read_text())


def _img_sources(run: Path) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', (run / "index.html").read_text())


# ================================================================ page and files
@pytest.mark.parametrize("name", ["single", "duopoly"])
def test_index_links_every_png_and_only_those(name, request):
    run = request.getfixturevalue(name)
    pngs = sorted(str(p.relative_to(run)) for p in (run / "figures").glob("*.png"))
    links = _img_sources(run)
    assert pngs and sorted(links) == pngs
    assert len(set(links)) == len(links)  # each figure shown once
    assert [f["file"] for f in _manifest(run)["figures"]] == links
    page = (run / "index.html").read_text()
    for target in re.findall(r'href="([^"#]+)"', page):
        assert (run / target).is_file(), target


def test_figures_drawn_and_skipped_for_a_single_seller_run(single):
    manifest = _manifest(single)
    files = {Path(f["file"]).name for f in manifest["figures"]}
    assert files == {
        "league.png",
        "price_paths__mk.png",
        "cumulative_profit__mk.png",
        "policy_map__mk.png",
    }
    skipped = {s["title"]: s["reason"] for s in manifest["skipped"]}
    assert "progress.csv" in skipped["Learning curves of ucb"]  # trained online, no log
    assert "no round robin" in skipped["Head-to-head heat map"]
    assert "no cross_model" in skipped["Cross-model matrix"]
    assert "parametric truth" in skipped["Demand-model fit"]
    assert manifest["notes"] == []  # every replayed episode equals the recorded one
    page = (single / "index.html").read_text()
    for title, reason in skipped.items():
        assert f"Not drawn — {title}: " in page
        assert reason.replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert "pricegym run test" in page  # the command line
    assert f'numpy</td><td class="txt">{np.__version__}' in page  # the versions
    assert "name: single" in page  # the resolved config
    # the league table: the DP's exact value, the two-level CIs and the few-seeds note
    assert "exact expected profit (DP)" in page and "(100.00%)" in page
    assert "two-level bootstrap confidence intervals" in page
    assert "Intervals on fewer than 5 seeds (2 seeds × 3 episodes)" in page


def test_figures_drawn_for_an_oligopoly_round_robin(duopoly):
    manifest = _manifest(duopoly)
    files = {Path(f["file"]).name for f in manifest["figures"]}
    assert files == {
        "league.png",
        "price_paths__logit.png",
        "cumulative_profit__logit.png",
        "policy_map__logit.png",
        "head_to_head__logit.png",
    }
    skipped = {s["title"] for s in manifest["skipped"]}
    assert skipped == {
        "Learning curves",
        "Cross-model matrix",
        "Demand-model fit",
        "Held-out PIT histograms",
    }
    assert manifest["notes"] == []
    page = (duopoly / "index.html").read_text()
    assert "Round robin (head_to_head.csv)" in page and "Nash prices" in page


def test_an_oligopoly_with_shocks_says_which_benchmarks_its_lines_and_delta_use(duopoly, tmp_path):
    shocks = {"transition": [[0.9, 0.1], [0.3, 0.7]], "quality": [1.1, 0.9], "cost": [1, 1.2]}
    config = copy.deepcopy(DUOPOLY)
    config["market"]["oligopoly"]["shocks"] = shocks
    shocked = _run(config, tmp_path / "shocked")
    for run, expected in ((shocked, True), (duopoly, False)):
        captions = {Path(f["file"]).name: f["caption"] for f in _manifest(run)["figures"]}
        for name in ("price_paths__logit.png", "cumulative_profit__logit.png"):
            assert ("each regime has its own" in captions[name]) is expected
        page = (run / "index.html").read_text()
        assert ("logit, regime 1" in page) is expected
        assert ("Δ compares each round with the benchmarks of the regime" in page) is expected


@pytest.mark.parametrize("name", ["single", "duopoly"])
def test_each_png_is_an_image_of_its_recorded_size(name, request):
    run = request.getfixturevalue(name)
    for fig in _manifest(run)["figures"]:
        image = imread(run / fig["file"])
        assert image.shape[:2] == (fig["height"], fig["width"]), fig["file"]
        assert image.shape[2] in (3, 4)
        assert fig["width"] == (800 if fig["section"] == "demand" else WIDTH)
        assert np.ptp(image[..., :3]) > 0.5  # something is drawn, not a blank canvas
        tag = f'src="{fig["file"]}" width="{fig["width"]}" height="{fig["height"]}"'
        assert tag in (run / "index.html").read_text()


def test_rebuilding_gives_identical_html_and_removes_stale_figures(single):
    written_by_runner = (single / "index.html").read_bytes()
    stale = single / "figures" / "old_figure.png"
    shutil.copy(single / "figures" / "league.png", stale)
    first = build_report(single)
    assert first == single / "index.html"
    assert not stale.exists()
    html_1, manifest_1 = first.read_bytes(), (single / "report.json").read_bytes()
    build_report(single)
    assert (single / "index.html").read_bytes() == html_1 == written_by_runner
    assert (single / "report.json").read_bytes() == manifest_1
    assert not list((single / "figures").glob(".*.tmp"))  # atomic writes leave nothing behind


# ================================================================ the data behind the figures
def test_league_bars_equal_summary_csv(single, duopoly):
    summary = pd.read_csv(single / "summary.csv")
    bars = league_bars(summary)
    assert set(bars["metric"]) == {"pct_of_optimum"}  # the DP optimum is defined here
    assert bars["agent"].tolist() == summary["agent"].tolist()
    np.testing.assert_array_equal(bars["value"], summary["pct_of_optimum"])
    np.testing.assert_array_equal(bars["low"], summary["pct_low"])
    np.testing.assert_array_equal(bars["high"], summary["pct_high"])
    olig = pd.read_csv(duopoly / "summary.csv")
    bars = league_bars(olig)
    assert set(bars["metric"]) == {"delta"}
    np.testing.assert_array_equal(bars["value"], olig["delta"])
    np.testing.assert_array_equal(bars["high"], olig["delta_high"])
    # without a benchmark the bars are mean profit
    plain = league_bars(summary.drop(columns=["pct_of_optimum", "pct_low", "pct_high"]))
    np.testing.assert_array_equal(plain["value"], summary["mean"])
    assert set(plain["metric"]) == {"mean"}


def test_league_figure_draws_those_bars(single, monkeypatch):
    captured = []
    monkeypatch.setattr(
        report._Output, "save", lambda self, fig, name, *a: captured.append((name, fig))
    )
    run = load_run(single)
    report._fig_league(run, report._Output(single))
    [(name, fig)] = captured
    assert name == "league"
    widths = [p.get_width() for p in fig.axes[0].patches]
    np.testing.assert_allclose(widths, run.summary["pct_of_optimum"], rtol=0, atol=0)
    ax = fig.axes[0]
    labels = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    tops = [round(p.get_y() + p.get_height() / 2) for p in ax.patches]
    assert [labels[y] for y in tops] == run.summary["agent"].tolist()  # bar i is agent i
    assert tops == sorted(tops, reverse=True)  # rank 1 at the top


def test_replay_reproduces_every_recorded_episode(single):
    run = load_run(single)
    episodes = run.episodes
    assert episodes is not None
    seed = run.config.evaluation.seeds[0]
    cells = [c for c in plan_cells(run.config)["evaluate"] if c.seed == seed]
    assert len(cells) == 3
    for cell in cells:
        replay = replay_cell(run, cell)
        assert replay["episode"].nunique() == 3
        assert (replay["units"] >= 0).all() and (replay["inventory"] >= 0).all()
        assert (replay.groupby("episode")["units"].sum() <= OPTIONS["inventory"]).all()
        got = replay.groupby("episode")["profit"].sum()
        rows = episodes[(episodes["agent"] == cell.agents[0]) & (episodes["seed"] == seed)]
        np.testing.assert_allclose(got.to_numpy(), rows["profit"].to_numpy(), rtol=1e-12)
        last = replay.groupby("episode").tail(1)
        np.testing.assert_allclose(last["cum_profit"].to_numpy(), got.to_numpy(), rtol=1e-12)
        if cell.agents[0] == "fixed":
            np.testing.assert_allclose(replay["price"], 2.3)


def test_policy_map_of_the_dp_agent_is_its_table(single):
    from pricegym.experiments.evaluate import build_env
    from pricegym.experiments.rundir import Cell, RunContext, cell_agent

    run = load_run(single)
    ctx = RunContext(run.config, run.path)
    env = build_env(run.config.market, ExponentialTruth(a=10.0, alpha=1.0))
    agent = cell_agent(
        ctx, run.config.agent("optimum"), Cell("evaluate", "solo", ("optimum",), "mk", 0)
    )
    agent.bind(env)
    obs, _ = env.reset(seed=0)
    stocks = [1, 2, 3, 4, 5, 6]
    got = policy_map(agent, obs, stocks)
    table = solve_dp(ExponentialTruth(a=10.0, alpha=1.0), OPTIONS).price  # (T, X + 1)
    np.testing.assert_array_equal(got, table[:, stocks].T)
    assert got.shape == (6, OPTIONS["horizon"])
    # markdown: with less stock the optimal price is never lower (same period)
    assert (np.diff(got, axis=0) <= 0).all()
    fixed = cell_agent(
        ctx, run.config.agent("fixed"), Cell("evaluate", "solo", ("fixed",), "mk", 0)
    )
    fixed.bind(env)
    np.testing.assert_allclose(policy_map(fixed, obs, stocks), 2.3)
    with pytest.raises(ConfigError, match=r"axis='competitor'.*no competitor price"):
        policy_map(fixed, obs, [1.0], axis="competitor")


def test_oligopoly_policy_map_known_answers():
    from pricegym.agents.rules import FixedPrice, MatchLowest
    from pricegym.envs.oligopoly import OligopolyEnv
    from pricegym.experiments.evaluate import bind_to_seat

    env = OligopolyEnv(n_prices=7, horizon=10)
    grid = np.asarray(env.grid)
    matcher = bind_to_seat(MatchLowest(), env, 0)
    got = oligopoly_policy_map(matcher, grid)
    np.testing.assert_allclose(got, np.broadcast_to(grid, (7, 7)))  # row: own, column: rival
    fixed = bind_to_seat(FixedPrice(price=float(grid[3])), env, 0)
    np.testing.assert_allclose(oligopoly_policy_map(fixed, grid), grid[3])
    with pytest.raises(ConfigError, match="not bound to an oligopoly seat"):
        oligopoly_policy_map(FixedPrice(price=1.0), grid)


def test_head_to_head_and_cross_model_matrices():
    h2h = pd.DataFrame(
        {
            "market": ["m", "m", "m", "m", "x"],
            "agent": ["a", "a", "b", "b", "a"],
            "opponent": ["a", "b", "a", "b", "a"],
            "mean": [1.0, 2.0, 3.0, 4.0, 9.0],
        }
    )
    m = head_to_head_matrix(h2h, "m")
    assert m.index.tolist() == ["a", "b"] and m.columns.tolist() == ["a", "b"]
    np.testing.assert_array_equal(m.to_numpy(), [[1.0, 2.0], [3.0, 4.0]])
    cross = pd.DataFrame(
        {
            "trained_in": ["p", "p", "q", "q", "p"],
            "market": ["p", "q", "p", "q", "p"],
            "agent": ["a", "a", "a", "a", "b"],
            "mean": [100.0, 90.0, 80.0, 120.0, 7.0],
        }
    )
    mean, rel = cross_model_matrix(cross, "a")
    np.testing.assert_array_equal(mean.to_numpy(), [[100.0, 90.0], [80.0, 120.0]])
    np.testing.assert_allclose(rel.to_numpy(), [[100.0, 75.0], [80.0, 100.0]])


def test_learning_curves_from_sb3_logs(single, tmp_path):
    """A run whose training cells left SB3 logs gets learning curves from them."""
    run_dir = tmp_path / "with_logs"
    shutil.copytree(single, run_dir)
    cells = sorted((run_dir / "cells" / "train").glob("*.json"))
    assert len(cells) == 2  # ucb, two replicate seeds
    for i, cell in enumerate(cells):
        logs = run_dir / "logs" / "train" / cell.stem
        (logs / "eval").mkdir(parents=True)
        pd.DataFrame(
            {
                "time/total_timesteps": [8, 16, 24],
                "rollout/ep_rew_mean": [5.0 + i, 7.0 + i, 9.0 + i],
                "train/loss": [1.0, 0.5, 0.2],
            }
        ).to_csv(logs / "progress.csv", index=False)
        np.savez(
            logs / "eval" / "evaluations.npz",
            timesteps=np.array([16, 24]),
            results=np.array([[6.0, 8.0], [10.0, 12.0]]),
        )
    curves = learning_curves(run_dir)
    assert set(curves["agent"]) == {"ucb"} and set(curves["market"]) == {"mk"}
    train = curves[(curves["source"] == "train") & (curves["seed"] == 0)]
    evals = curves[(curves["source"] == "eval") & (curves["seed"] == 1)]
    assert train["timesteps"].tolist() == [8, 16, 24]
    assert train["profit"].tolist() == [5.0, 7.0, 9.0]
    assert evals["profit"].tolist() == [7.0, 11.0]  # the mean of each evaluation's episodes
    result = render_report(run_dir)
    assert "figures/learning_curves__mk.png" in [f.file for f in result.figures]
    assert not any(s.title.startswith("Learning curves") for s in result.skipped)
    assert learning_curves(single).empty


# ================================================================ errors and CLI
def test_not_a_run_directory_raises_config_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match=r"nowhere.*does not exist.*Fix: .*pricegym run"):
        build_report(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        ConfigError,
        match=r"empty.*not a pricegym run directory.*no "
        r"resolved\.json.*Fix: pass the directory",
    ):
        build_report(empty)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        build_report(afile)
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "resolved.json").write_text("{}")
    with pytest.raises(
        ConfigError,
        match=r"no summary\.csv: the run has not finished.*"
        r"pricegym run CONFIG --out",
    ):
        build_report(unfinished)
    assert not (empty / "index.html").exists() and not (unfinished / "figures").exists()


def test_cli_report_rebuilds_and_lists_figures(single, capsys):
    parser = argparse.ArgumentParser()
    configure_report_parser(parser)
    args = parser.parse_args([str(single)])
    assert cli_report(args) == 0
    text = capsys.readouterr().out
    assert f"report: {single / 'index.html'}" in text
    for fig in _manifest(single)["figures"]:
        assert fig["file"] in text
    assert "Demand-model fit: the market's demand is a parametric truth" in text
    with pytest.raises(ConfigError, match="not a pricegym run directory"):
        cli_report(parser.parse_args([str(single / "figures")]))
