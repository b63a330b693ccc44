"""When an answer cannot support a decision, pricegym says so (issue 11 §2).

A new analyst fits demand on their own sales file, which has no cost column: the
fit, the market, the runner's results, the league table and the report must say
when the profit-maximising price sits at the edge of the prices tried (or does not
exist), and that profit is revenue when no cost was given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym import cli


def _sales_csv(path: Path, elasticity: float, cost: float | None = None, seed: int = 0) -> Path:
    """104 weeks of Poisson sales with constant elasticity at prices 1…3."""
    rng = np.random.default_rng(seed)
    price = rng.uniform(1.0, 3.0, 104).round(2)
    frame = pd.DataFrame(
        {
            "week": np.arange(104),
            "price": price,
            "units": rng.poisson(200.0 * price**elasticity),
        }
    )
    if cost is not None:
        frame["cost"] = cost
    frame.to_csv(path, index=False)
    return path


def _fit_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code = cli.main(["fit", *argv, "--model", "poisson", "--no-backtest", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


# ---------------------------------------------------------------- fit
def test_fit_of_inelastic_demand_without_cost_warns_no_finite_optimum(capsys, tmp_path):
    doc = _fit_json(capsys, str(_sales_csv(tmp_path / "s.csv", -0.6)))
    assert doc["optimum"]["verdict"] == "no_finite_optimum"
    assert doc["optimum"]["price"] == pytest.approx(doc["support"]["max"], abs=1e-12)
    assert doc["cost"] == {"value": 0.0, "given": False, "source": None}
    [warning] = [w for w in doc["warnings"] if w.startswith("DecisionWarning")]
    assert "demand is inelastic over the data" in warning
    assert "the model recommends the highest price it is allowed to try" in warning
    assert "profit keeps rising beyond the data's range" in warning
    assert "Profit = revenue here: no unit cost was given." in warning


def test_fit_human_report_names_missing_cost_and_the_missing_optimum(capsys, tmp_path):
    path = _sales_csv(tmp_path / "s.csv", -0.6)
    code = cli.main(["fit", str(path), "--model", "poisson", "--no-backtest"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Unit cost: not given — profit = revenue" in out
    assert "Profit-maximising price (one period, unlimited stock): none" in out
    assert "DecisionWarning: no finite optimum" in " ".join(out.split())


def test_fit_of_elastic_demand_with_unit_cost_is_interior_without_warning(capsys, tmp_path):
    # (p − 1)·a·p^−3 peaks at 1·(−3)/(−2) = 1.5 (the fitted elasticity is close to −3).
    doc = _fit_json(capsys, str(_sales_csv(tmp_path / "s.csv", -3.0)), "--unit-cost", "1")
    e = doc["optimum"]["elasticity"]
    assert e == pytest.approx(-3.0, abs=0.1)
    assert doc["optimum"]["verdict"] == "interior"
    assert doc["optimum"]["price"] == pytest.approx(e / (1 + e), abs=2.0 / 1000)
    assert doc["cost"] == {"value": 1.0, "given": True, "source": "--unit-cost"}
    assert not [w for w in doc["warnings"] if "DecisionWarning" in w]


def test_fit_takes_the_cost_column_mean_when_mapped(capsys, tmp_path):
    path = _sales_csv(tmp_path / "s.csv", -3.0, cost=1.0)
    doc = _fit_json(capsys, str(path), "--cost", "cost")
    assert doc["cost"]["value"] == pytest.approx(1.0, abs=1e-12)
    assert doc["cost"]["given"] is True
    assert doc["optimum"]["verdict"] == "interior"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--unit-cost", "-1"], "'-1' is not a unit cost"),
        (["--unit-cost", "abc"], "'abc' is not a unit cost"),
        (["--unit-cost", "1", "--cost", "cost"], "two unit costs were given"),
    ],
)
def test_bad_unit_cost_exits_2(capsys, tmp_path, extra, message):
    path = _sales_csv(tmp_path / "s.csv", -3.0, cost=1.0)
    code = cli.main(["fit", str(path), "--no-backtest", *extra])
    assert code == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- market
def test_market_on_inelastic_demand_warns_and_keeps_the_check():
    from pricegym.demand import ConstantElasticity
    from pricegym.envs.market import PricingEnv
    from pricegym.errors import DecisionWarning

    truth = ConstantElasticity(a=100.0, elasticity=-0.6, support=(1.0, 5.0))
    with pytest.warns(DecisionWarning, match="no finite optimum") as record:
        env = PricingEnv(truth, {"n_prices": 5, "horizon": 4})
    text = str(record[0].message)
    assert "market [1, 5], unit cost 0" in text
    assert "the model recommends the highest price it is allowed to try (5)" in text
    assert "market.options.cost" in text
    assert env.optimum.verdict == "no_finite_optimum"
    assert env.optimum.price == 5.0


def test_market_with_interior_optimum_does_not_warn_and_charges_the_cost():
    import warnings

    from pricegym.demand import ConstantElasticity
    from pricegym.envs.market import PricingEnv
    from pricegym.errors import DecisionWarning

    truth = ConstantElasticity(a=100.0, elasticity=-3.0, support=(1.0, 5.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecisionWarning)
        env = PricingEnv(truth, {"n_prices": 5, "horizon": 4, "cost": 2.0})
    assert env.optimum.verdict == "interior"
    assert env.optimum.price == pytest.approx(3.0, abs=4.0 / 1000)
    env.reset(seed=0)
    _, reward, *_, info = env.step(2)  # price 3
    assert info["price"] == 3.0
    assert reward == pytest.approx((3.0 - 2.0) * info["sales"], rel=1e-12)


def test_market_whose_linear_optimum_lies_beyond_p_max_warns_upper_edge():
    from pricegym.demand import LinearTruth
    from pricegym.envs.market import PricingEnv
    from pricegym.errors import DecisionWarning

    truth = LinearTruth(a=100.0, b=10.0, support=(1.0, 4.0))  # optimum (10 + 0.5)/2 = 5.25
    with pytest.warns(DecisionWarning, match="upper edge of the price grid"):
        env = PricingEnv(truth, {"n_prices": 4, "cost": 0.5})
    assert env.optimum.verdict == "upper_edge"
    assert env.optimum.beyond_price == pytest.approx(5.25, abs=6.0 / 1000)


# ---------------------------------------------------------------- runner and league table
def _experiment(elasticity: float, options: dict) -> dict:
    return {
        "name": "decision",
        "seed": 1,
        "market": {
            "name": "shop",
            "demand": {
                "form": "constant_elasticity",
                "a": 100.0,
                "elasticity": elasticity,
                "support": [1.0, 5.0],
            },
            "options": {"n_prices": 5, "horizon": 4, **options},
        },
        "agents": [
            {"name": "fixed_3", "kind": "fixed_price", "params": {"price": 3.0}},
            {"name": "optimum", "kind": "dp"},
        ],
        "evaluation": {"episodes": 2, "seeds": 2},
    }


def _run(config: dict, run_dir: Path):
    from pricegym.experiments.runner import run_experiment

    return run_experiment(config, run_dir, progress=False, command=["test"], report=False)


def test_run_without_cost_on_inelastic_demand_says_so_in_results_and_league_table(tmp_path, capsys):
    from pricegym.cli.run import _print_summary
    from pricegym.errors import DecisionWarning

    with pytest.warns(DecisionWarning, match="no finite optimum"):
        result = _run(_experiment(-0.6, {}), tmp_path / "run")
    bench = json.loads((tmp_path / "run" / "benchmarks.json").read_text())["shop"]
    assert bench["cost"] == {"value": 0.0, "given": False}
    assert bench["optimum"]["verdict"] == "no_finite_optimum"
    assert bench["optimum"]["price"] == 5.0
    summary = pd.read_csv(tmp_path / "run" / "summary.csv").set_index("agent")
    assert summary.loc["optimum", "avg_price"] == pytest.approx(5.0, abs=1e-12)
    assert summary.loc["optimum", "grid_edge"] == "top"
    assert pd.isna(summary.loc["fixed_3", "grid_edge"])  # 3 is inside [1, 5]
    _print_summary(result)
    out = " ".join(capsys.readouterr().out.split())
    assert "at grid edge" in out and "top price" in out
    assert "market shop: cost: not given — profit = revenue" in out
    assert "market shop: no finite optimum: demand is inelastic over the data" in out


def test_run_with_yaml_cost_charges_it_and_has_no_decision_notes(tmp_path):
    import warnings

    from pricegym.errors import DecisionWarning
    from pricegym.experiments.rundir import decision_notes

    with warnings.catch_warnings():
        warnings.simplefilter("error", DecisionWarning)
        result = _run(_experiment(-3.0, {"cost": 2.0}), tmp_path / "run")
    bench = result.benchmarks["shop"]
    assert bench["cost"] == {"value": 2.0, "given": True}
    assert bench["optimum"]["verdict"] == "interior"
    assert decision_notes(result.benchmarks, result.summary) == []
    ep = result.episodes
    np.testing.assert_allclose(ep["profit"], ep["revenue"] - 2.0 * ep["units"], rtol=1e-9)
    # the DP optimum plays the interior optimum 3 = 2·(−3)/(−2) (grid 1, 2, 3, 4, 5)
    dp = result.summary.set_index("agent").loc["optimum"]
    assert dp["avg_price"] == pytest.approx(3.0, abs=1e-12)
    assert dp["grid_edge"] == ""


def test_every_agent_at_the_grid_edge_is_said():
    from pricegym.experiments.rundir import decision_notes, grid_edge

    assert grid_edge(5.0, 1.0, 5.0) == "top"
    assert grid_edge(4.97, 1.0, 5.0) == "top"  # within 1% of the range
    assert grid_edge(4.9, 1.0, 5.0) == ""
    assert grid_edge(1.0, 1.0, 5.0) == "bottom"
    bench = {
        "shop": {
            "cost": {"value": 0.5, "given": True},
            "optimum": {"p_min": 1.0, "p_max": 5.0, "at_edge": False, "message": ""},
        }
    }
    summary = pd.DataFrame({"market": ["shop", "shop"], "grid_edge": ["top", "top"]})
    [note] = decision_notes(bench, summary)
    assert "every agent's average price sits at the top of the price grid (5)" in note


def test_unit_cost_given_to_fit_travels_with_the_saved_model(tmp_path, capsys):
    """``fit --unit-cost C --out`` stores C; a YAML market and Fitted-v0 built from the
    file charge it (profit != revenue, no 'cost: not given' note); options.cost wins."""
    import gymnasium as gym

    import pricegym  # noqa: F401  (registers the ids)
    from pricegym.demand.base import DemandModel
    from pricegym.experiments.schema import load_experiment

    model_path = tmp_path / "m.json"
    code = cli.main(
        [
            "fit",
            "--dataset",
            "avocado",
            "--no-backtest",
            "--unit-cost",
            "0.4",
            "--out",
            str(model_path),
        ]
    )
    assert code == 0
    capsys.readouterr()
    saved = DemandModel.load(model_path).unit_cost_
    assert saved == {"value": 0.4, "source": "pricegym fit (--unit-cost)"}
    base = {"name": "c", "agents": [{"name": "f", "kind": "fixed_price", "params": {"price": 1.1}}]}
    spec = load_experiment({**base, "market": {"model_path": str(model_path)}}).market
    assert spec.options["cost"] == 0.4
    given = {"model_path": str(model_path), "options": {"cost": 0.1}}
    assert load_experiment({**base, "market": given}).market.options["cost"] == 0.1
    env = gym.make("pricegym/Fitted-v0", model_path=str(model_path))
    assert env.unwrapped.config.cost == 0.4
    assert (
        gym.make("pricegym/Fitted-v0", model_path=str(model_path), cost=0.2).unwrapped.config.cost
        == 0.2
    )
