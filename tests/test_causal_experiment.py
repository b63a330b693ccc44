"""The whole pipeline with IV markets (issue 12): YAML → fit → cross-model tournament →
report (causal section) → export.

One experiment file fits an ordinary and an IV market to the same confounded data
(:func:`~pricegym.demand.confounded_rivals.generate_confounded_rival_history`: own
elasticity −2, cross +0.8, both prices answer the demand shock) and the cross-model
tournament prices each market with the other's policies. The ordinary model's
elasticity is biased toward zero, so its optimal price is higher; evaluated in the
IV market it loses profit, and the report says how much.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym import cli
from pricegym.demand.confounded_rivals import generate_confounded_rival_history

pytest.importorskip("linearmodels")

EXPERIMENT = """
name: iv_cross
seed: 0
market:
  name: shop
  data: {path: sales.csv}
  model:
    - {name: ordinary, family: loglinear}
    - name: iv
      family: loglinear
      instruments: [cost]
      endogenous: {comp_price: [comp_cost]}
  options: {n_prices: 6, horizon: 3, cost: 5.0}
agents:
  - {name: dp_optimum, kind: dp}
  - {name: greedy, kind: epsilon_greedy, train: {episodes: 3}}
evaluation: {episodes: 3, seeds: 1, benchmarks: [dp]}
tournament: {modes: [solo, cross_model]}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    from pricegym.experiments.runner import run_experiment

    folder = tmp_path_factory.mktemp("ivexp")
    history = generate_confounded_rival_history(n_periods=200, seed=0)
    history.frame.drop(columns=["t"]).to_csv(folder / "sales.csv", index=False)
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    run_experiment(
        folder / "experiment.yaml", folder / "run", progress=False, command=["test"], report=True
    )
    return folder / "run"


def test_cross_model_tournament_runs_ordinary_and_iv_markets(run_dir):
    cross = pd.read_csv(run_dir / "cross_model.csv")
    assert set(cross["market"]) == set(cross["trained_in"]) == {"shop/ordinary", "shop/iv"}
    assert len(cross) == 2 * 2 * 2  # agents × trained in × evaluated in
    saved = json.loads((run_dir / "models" / "iv.json").read_text())
    assert saved["family"] == "loglinear_iv"


def test_report_shows_iv_diagnostics_and_the_exact_profit_lost(run_dir):
    from pricegym.agents.dp import fixed_price_values, solve_dp
    from pricegym.experiments.report import load_run
    from pricegym.experiments.rundir import RunContext

    report = json.loads((run_dir / "report.json").read_text())
    (iv,) = report["causal"]
    assert iv["market"] == "shop/iv" and iv["family"] == "loglinear_iv"
    assert iv["endogenous"] == ["log_price", "log_competitor:comp_price"]
    assert iv["instruments_for"] == {"comp_price": ["comp_cost"]}
    for fs in iv["first_stages"].values():  # 200 rows, expected SW F ≈ 40
        assert fs["sw_f"] > 10 and not fs["weak"]
    (loss,) = iv["profit_lost"]
    assert loss["biased"] == "shop/ordinary"
    exact = loss["exact"]
    # the IV optimum is the benchmark the run computed for the IV market
    benchmarks = json.loads((run_dir / "benchmarks.json").read_text())
    assert exact["iv_optimum"] == pytest.approx(benchmarks["shop/iv"]["dp"], rel=1e-9)
    # unlimited stock: each DP policy is one price all season, so the biased policy's
    # value in the IV market is that fixed price's (another code path: fixed_price_values)
    run = load_run(run_dir)
    ctx = RunContext(run.config, run.path)
    home, away = ctx.env("shop/iv").unwrapped, ctx.env("shop/ordinary").unwrapped
    biased, own = solve_dp(away.kernel, away.config), solve_dp(home.kernel, home.config)
    (i,), (j,) = np.unique(biased.action), np.unique(own.action)
    assert i > j  # the ordinary elasticity is biased toward zero: a higher price
    fixed = fixed_price_values(home.kernel, home.config)
    assert exact["biased_policy"] == pytest.approx(fixed[i], rel=1e-9)
    assert exact["iv_optimum"] == pytest.approx(fixed[j], rel=1e-9)
    assert exact["lost"] > 0 and exact["lost_pct"] == pytest.approx(
        100 * (fixed[j] - fixed[i]) / fixed[j], rel=1e-9
    )
    dp = {t["agent"]: t for t in loss["tournament"]}["dp_optimum"]
    assert dp["own"]["avg_price"] == pytest.approx(home.prices[j], rel=1e-9)
    assert dp["biased"]["avg_price"] == pytest.approx(home.prices[i], rel=1e-9)
    page = (run_dir / "index.html").read_text()
    assert '<section id="causal">' in page and "Sanderson–Windmeijer" in page
    assert "Profit lost by pricing with the biased model shop/ordinary" in page


def test_export_a_policy_trained_in_the_iv_market(run_dir, tmp_path, capsys):
    for agent in ("greedy", "dp_optimum"):
        out = tmp_path / agent
        argv = ["export", str(run_dir), "--agent", agent, "--market", "shop/iv"]
        assert cli.main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
        card = json.loads((out / "policy.json").read_text())
        demand = card["market"]["demand_model"]
        assert demand["family"] == "loglinear_iv" and demand["name"] == "iv"
        assert demand["params"]["endogenous"] == {"comp_price": ["comp_cost"]}
        assert card["market"]["market"] == "shop/iv"
    capsys.readouterr()
    dp_card = json.loads((tmp_path / "dp_optimum" / "policy.json").read_text())
    report = json.loads((run_dir / "report.json").read_text())
    best = report["causal"][0]["profit_lost"][0]["exact"]["iv_optimum"]
    assert dp_card["table"]["expected_value"] == pytest.approx(best, rel=1e-9)
