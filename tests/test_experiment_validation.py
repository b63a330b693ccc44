"""An experiment validates each fitted market on held-out history (``market.validate``).

The run writes ``validation.json`` (the scores of :func:`pricegym.demand.validation.validate`
with a seed derived from the experiment seed), the report shows a "Market validation"
section (table, verdicts, PIT histograms), validation changes no cell, and a rerun
reuses it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pricegym.errors import ConfigError
from pricegym.experiments.evaluate import derive_seeds, load_sales_history
from pricegym.experiments.runner import run_experiment
from pricegym.experiments.schema import load_experiment

CONFIG: dict[str, Any] = {
    "name": "val",
    "seed": 7,
    "market": {
        "name": "syn",
        "data": {"synthetic": {"seed": 1, "n_periods": 60, "promotions": False}},
        "model": [{"family": "poisson", "params": {"seasonality": 0}}, {"family": "linear"}],
        "options": {"n_prices": 5, "horizon": 3, "cost": 2.0},
    },
    "agents": [{"name": "myopic", "kind": "myopic"}],
    "evaluation": {"episodes": 2, "seeds": 1},
}


def _with(validate: Any) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    config["market"]["validate"] = validate
    return config


def _run(config: dict[str, Any], path: Path, report: bool = False) -> Path:
    run_experiment(config, path, progress=False, command=["pricegym", "run"], report=report)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run with the default validation and its report."""
    return _run(CONFIG, tmp_path_factory.mktemp("val") / "run", report=True)


def test_data_markets_are_validated_by_default_and_the_setting_is_resolved() -> None:
    spec = load_experiment(CONFIG).market
    assert spec.validation == {"holdout": "20%", "paths": 1000}
    resolved = load_experiment(CONFIG).resolved()
    assert resolved["market"]["validate"] == {"holdout": "20%", "paths": 1000}
    assert load_experiment(resolved).resolved() == resolved
    assert load_experiment(_with(False)).market.validation is None
    assert load_experiment(_with(False)).resolved()["market"]["validate"] is False
    assert load_experiment(_with({"holdout": 12})).market.validation == {
        "holdout": 12,
        "paths": 1000,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"holdout": "100%"}, r"market\.validate\.holdout = '100%'.*strictly between"),
        ({"paths": 10}, r"market\.validate\.paths = 10: must be >= 100"),
        ({"hold_out": 3}, r"unknown key 'hold_out'.*Did you mean 'holdout'"),
        ("yes", r"market\.validate = 'yes': must be a mapping"),
    ],
)
def test_bad_validation_settings_name_the_key_and_the_rule(value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_experiment(_with(value))


def test_validation_is_refused_for_a_market_without_history() -> None:
    config = {
        "market": {"demand": {"form": "exponential", "a": 10.0, "alpha": 1.0}, "validate": {}},
        "agents": [{"name": "m", "kind": "myopic"}],
    }
    with pytest.raises(ConfigError, match=r"market from market\.demand has none"):
        load_experiment(config)
    config["market"]["validate"] = False  # off is always allowed
    assert load_experiment(config).market.validation is None


def test_validation_json_holds_each_market_scored_with_its_derived_seed(run: Path) -> None:
    from pricegym.demand.base import DemandModel
    from pricegym.demand.validation import validate

    document = json.loads((run / "validation.json").read_text())
    assert document["settings"] == {"holdout": "20%", "paths": 1000}
    assert list(document["markets"]) == ["syn/poisson", "syn/linear"]
    entry = document["markets"]["syn/poisson"]
    assert entry["status"] == "ok" and entry["family"] == "poisson"
    assert entry["seed"] == derive_seeds(7, ("validate", "syn/poisson"), 1)[0]
    r = entry["result"]
    # 60 weeks: the last ceil(0.2 * 60) = 12 held out, one row each
    assert (r["n_train_periods"], r["n_holdout_periods"], r["n_rows"]) == (48, 12, 12)
    assert sum(r["pit_counts"]) == 12 and len(r["rows"]["pit"]) == 12
    assert set(r["coverage"]) == {"0.5", "0.8", "0.95"}
    # the same scores as validating the saved model's family directly with that seed
    history = load_sales_history(load_experiment(CONFIG).market.data)
    model = DemandModel.load(run / "models" / "poisson.json")
    direct = validate(history, model, "20%", n_paths=1000, seed=entry["seed"], quiet=True)
    assert [direct.coverage[p] for p in (0.5, 0.8, 0.95)] == [
        r["coverage"][k] for k in ("0.5", "0.8", "0.95")
    ]
    assert list(direct.pit_counts) == r["pit_counts"]
    assert r["crps"] == pytest.approx(direct.crps, rel=1e-9)
    assert r["revenue_bias"] == pytest.approx(direct.revenue_bias, rel=1e-9, abs=1e-12)


def test_the_report_has_a_validation_section_with_table_and_pit_figure(run: Path) -> None:
    page = (run / "index.html").read_text()
    section = page[page.index('<section id="validation">') :]
    section = section[: section.index("</section>")]
    assert "<h2>Market validation</h2>" in section
    assert section.count('<td class="txt">syn/') == 2  # one table row per market
    assert "50% / 80% / 95% cover" in section and "revenue bias" in section
    assert 'src="figures/validation_pit.png"' in section
    manifest = json.loads((run / "report.json").read_text())
    pit = [f for f in manifest["figures"] if f["section"] == "validation"]
    assert [f["file"] for f in pit] == ["figures/validation_pit.png", "figures/validation_band.png"]
    for figure in ("validation_pit.png", "validation_band.png"):
        assert (run / "figures" / figure).stat().st_size > 0
    assert pit[1]["height"] == 40 + 240 * 2  # one panel per market


def test_validation_changes_no_cell_and_a_rerun_reuses_it(run: Path, tmp_path: Path) -> None:
    off = _run(_with(False), tmp_path / "off")
    assert not (off / "validation.json").exists()
    assert (off / "summary.csv").read_bytes() == (run / "summary.csv").read_bytes()
    assert (off / "episodes.csv").read_bytes() == (run / "episodes.csv").read_bytes()
    # turning validation on in that run directory reuses every cell
    result = run_experiment(CONFIG, off, progress=False, command=["x"], report=False)
    assert sum(result.computed.values()) == 0
    assert (off / "validation.json").read_bytes() == (run / "validation.json").read_bytes()
    log = (off / "logs" / "run.log").read_text()
    assert log.count("validated syn/poisson") == 1
    run_experiment(CONFIG, off, progress=False, command=["x"], report=False)
    assert (off / "logs" / "run.log").read_text().count("validated syn/poisson") == 1  # reused
    other = run_experiment(_with({"holdout": 6, "paths": 200}), off, progress=False, report=False)
    assert sum(other.computed.values()) == 0
    document = json.loads((off / "validation.json").read_text())
    assert document["settings"] == {"holdout": 6, "paths": 200}
    assert document["markets"]["syn/linear"]["result"]["n_rows"] == 6
    # a hold-out that leaves one period to train on: said, and the run goes on
    run_experiment(_with({"holdout": 59}), off, progress=False, command=["x"], report=False)
    entry = json.loads((off / "validation.json").read_text())["markets"]["syn/poisson"]
    assert entry["status"] == "failed" and "leaves 1 to train on" in entry["reason"]
    from pricegym.experiments.report import render_report

    render_report(off)
    page = (off / "index.html").read_text()
    assert "syn/poisson: not validated — " in page and "leaves 1 to train on" in page


def test_header_warns_about_a_market_that_is_not_calibrated(run: Path) -> None:
    from pricegym.experiments.report._run import load_run
    from pricegym.experiments.report._validation import validation_notes

    data = load_run(run)
    expected = [
        m
        for m, e in data.validation["markets"].items()  # type: ignore[index]
        if e["result"]["calibration"] not in ("calibrated", "too few rows")
    ]
    notes = validation_notes(data)
    assert [n.split()[1] for n in notes] == expected
    assert all("on held-out history" in n for n in notes)
    page = (run / "index.html").read_text()
    assert all(n.replace("'", "&#x27;") in page for n in notes)
    assert np.isfinite(data.validation["markets"]["syn/poisson"]["result"]["crps"])  # type: ignore[index]


def test_a_market_fitted_to_a_stock_column_is_validated_against_capped_sales(
    tmp_path: Path,
) -> None:
    from pricegym.demand.censored_synthetic import stockout_history

    history, _ = stockout_history(1, n_periods=80)
    csv = tmp_path / "sales.csv"
    history.frame[["period", "price", "units", "stock"]].to_csv(csv, index=False)
    config = {
        "name": "stock",
        "market": {
            "data": {"path": str(csv), "stock": "stock"},
            "model": {"family": "censored_poisson"},
            "options": {"n_prices": 5, "horizon": 3, "cost": 0.5},
        },
        "agents": [{"name": "myopic", "kind": "myopic"}],
        "evaluation": {"episodes": 1, "seeds": 1},
    }
    path = _run(config, tmp_path / "run")
    (entry,) = json.loads((path / "validation.json").read_text())["markets"].values()
    r = entry["result"]
    assert entry["status"] == "ok" and r["n_rows"] == 16
    stock = history.column("stock")[64:]
    assert np.all(np.asarray(r["rows"]["high95"]) <= stock)  # capped paths
    assert "capped at each period's stock before scoring" in r["verdict"]


def test_pricegym_run_prints_one_validation_line_per_market(run: Path) -> None:
    from pricegym.experiments.runner._validate import validation_lines

    lines = validation_lines(run)
    document = json.loads((run / "validation.json").read_text())
    assert [line.split()[1] for line in lines] == list(document["markets"])
    r = document["markets"]["syn/poisson"]["result"]
    assert lines[0].startswith(f"Validation: syn/poisson (poisson) is {r['calibration']} on ")
    cover = "/".join(f"{r['coverage'][k]:.0%}" for k in ("0.5", "0.8", "0.95"))
    assert f"the last 12 periods: 50/80/95% intervals cover {cover}" in lines[0]
