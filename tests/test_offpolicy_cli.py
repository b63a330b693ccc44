"""``pricegym evaluate POLICY --logged FILE``: a fixed price, a saved agent in its market.

Logged weekly sales: competitor price c uniform on {3, 4, 5}, the seller's price uniform
on the grid {2, 3, 4, 5} independently of c (so grid frequencies are the propensities),
Poisson demand 200 p^-2 c, unit cost 1. The fixed price 3's true value per period is
(3 − 1) · 200 · 4 / 9 = 177.78 exactly (E[c] = 4).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pricegym.agents.rules import FixedPrice
from pricegym.cli import main

TRUTH = 2.0 * 200.0 * 4.0 / 9.0


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 600
    c = rng.choice([3.0, 4.0, 5.0], n)
    p = rng.choice([2.0, 3.0, 4.0, 5.0], n)
    units = rng.poisson(200 * p**-2.0 * c)
    folder = tmp_path_factory.mktemp("logged")
    path = folder / "sales.csv"
    frame = pd.DataFrame({"week": np.arange(n), "price": p, "units": units, "rival": c})
    frame.to_csv(path, index=False)
    return folder, path


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_fixed_price_on_the_grid_recovers_the_true_value(sales, capsys):
    _, path = sales
    common = ["--logged", str(path), "--period", "week", "--competitor", "rival"]
    doc = _json(capsys, "evaluate", "3", *common, "--grid", "2,3,4,5", "--unit-cost", "1",
                "--resamples", "300", "--json")  # fmt: skip
    est = {row["estimator"]: row for row in doc["estimates"]}
    assert doc["propensity"].startswith("estimated from the data")
    assert doc["n_rows"] == 600 and doc["grid"] == [2.0, 3.0, 4.0, 5.0]
    for name in ("dm", "snipw", "dr"):
        # DM: poisson family correctly specified; SNIPW/DR: ~150 rows at price 3.
        # Tolerance 5% of the value (~2.5 standard errors of SNIPW here).
        assert abs(est[name]["value"] - TRUTH) < 0.05 * TRUTH, name
    assert doc["ess"] > 100 and doc["warnings"] == []


def test_saved_agent_bound_to_its_market_drops_the_first_period(sales, capsys):
    folder, path = sales
    agent = FixedPrice(price=3.0).save(folder / "fixed3.json")
    doc = _json(capsys, "evaluate", str(agent), "--market", "pricegym/Monopoly-v0",
                "--logged", str(path), "--period", "week", "--competitor", "rival",
                "--grid", "policy", "--unit-cost", "1", "--resamples", "300", "--json")  # fmt: skip
    assert doc["n_rows"] == 599 and doc["n_dropped"] == 1
    assert list(doc["dropped_reasons"].values()) == [1]
    # the market's grid 1..10 holds every logged price; the agent plays 3 every period
    assert doc["grid"] == [float(g) for g in range(1, 11)]
    dr = next(r for r in doc["estimates"] if r["estimator"] == "dr")
    assert abs(dr["value"] - TRUTH) < 0.05 * TRUTH


def test_far_price_warns_and_text_output_says_it(sales, capsys):
    _, path = sales
    assert main(["evaluate", "9", "--logged", str(path), "--period", "week",
                 "--grid", "2,3,4,5,9", "--resamples", "200"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Warning: the importance weights' effective sample size is 0.0" in out
    assert "outside the logged price range" in out
    assert "Propensities: estimated from the data" in out


def test_agent_without_market_and_no_market_at_all_are_refused(sales, capsys):
    _, path = sales
    assert main(["evaluate", "fixed_price", "--logged", str(path), "--period", "week"]) == 2
    assert "needs the market it was trained for" in capsys.readouterr().err
    assert main(["evaluate", "fixed_price"]) == 2
    assert "--logged FILE" in capsys.readouterr().err


def test_exported_dp_policy_outside_the_logged_prices_says_so(sales, capsys):
    import gymnasium as gym

    from pricegym.agents.dp import DPAgent
    from pricegym.experiments.export import export_policy

    folder, path = sales
    agent = DPAgent()
    agent.bind(gym.make("pricegym/Monopoly-v0"))
    out = export_policy(agent, folder / "dp", market="pricegym/Monopoly-v0")
    doc = _json(capsys, "evaluate", str(out), "--logged", str(path), "--period", "week",
                "--competitor", "rival", "--grid", "policy", "--unit-cost", "2",
                "--resamples", "200", "--json")  # fmt: skip
    # Monopoly-v0's optimum (demand 100 - 10p, cost 2) is 6: above every logged price
    assert doc["policy"].endswith("(dp_table)")
    assert doc["outside_range"] == doc["n_rows"] == 599 and doc["ess"] == 0.0
    assert any("outside the logged price range" in w for w in doc["warnings"])
    assert not any("weights average" in w for w in doc["warnings"])  # support, not propensity
