"""Experiments whose market is a saved demand model (``market.model_path``, or the
registered ``pricegym/Fitted-v0`` with ``options.model_path``): loading, refusals,
input digests, and the demand figure of their report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pricegym.demand import LinearDemand
from pricegym.errors import ConfigError
from pricegym.experiments.runner import run_experiment
from pricegym.experiments.schema import load_experiment

OPTIONS = {"prices": [8.0, 10.0, 12.0], "horizon": 4}
AGENTS = [{"name": "fixed", "kind": "fixed_price", "params": {"price": 10.0}}]


@pytest.fixture()
def saved(tmp_path, weekly_history) -> Path:
    """A linear model fitted to the weekly history, saved as ``models/linear.json`` + .npz."""
    return LinearDemand().fit(weekly_history).save(tmp_path / "models" / "linear.json")


def _write(folder: Path, market: dict[str, Any], name: str = "exp") -> Path:
    path = folder / f"{name}.yaml"
    config = {
        "name": name,
        "market": market,
        "agents": AGENTS,
        "evaluation": {"episodes": 1, "seeds": 1},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _demand_figures(run_dir: Path) -> list[str]:
    manifest = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    return [f["file"] for f in manifest["figures"] if f["section"] == "demand"]


def test_market_model_path_is_read_from_the_experiment_files_folder(saved, tmp_path):
    path = _write(tmp_path, {"model_path": "models/linear.json", "options": OPTIONS})
    config = load_experiment(path)
    market = config.market
    assert market.source == "model"
    assert market.name == "linear"
    assert [m.file for m in market.models] == [str(saved.resolve())]
    assert market.has_competitors is True  # the weekly history has a competitor column
    resolved = config.resolved()["market"]
    assert resolved["model_path"] == str(saved.resolve())
    assert "model" not in resolved and "data" not in resolved
    again = load_experiment(config.resolved())
    assert again.market == market


def test_market_model_path_runs_records_its_digest_and_draws_the_demand_figure(
    saved, tmp_path, weekly_history
):
    import hashlib

    path = _write(tmp_path, {"model_path": "models/linear.json", "options": OPTIONS})
    run_dir = tmp_path / "run"
    result = run_experiment(path, run_dir, progress=False)
    inputs = json.loads((run_dir / "inputs.json").read_text(encoding="utf-8"))
    json_file = str(saved.resolve())
    assert inputs[json_file] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert str(saved.resolve().with_suffix(".npz")) in inputs
    assert _demand_figures(run_dir) == ["figures/demand_fit__linear.png"]
    row = result.summary.to_dict("records")
    assert [(r["market"], r["agent"], r["avg_price"]) for r in row] == [("linear", "fixed", 10.0)]
    # the model played is the saved one: no model was fitted into the run directory
    assert not (run_dir / "models").exists() or not any((run_dir / "models").iterdir())
    # a changed model file is detected on rerun, as a changed data file is
    LinearDemand().fit(weekly_history.take(range(100))).save(saved)
    with pytest.raises(ConfigError, match="changed since the cells") as info:
        run_experiment(path, run_dir, progress=False)
    assert json_file in str(info.value)


def test_fitted_env_with_options_model_path_draws_the_demand_figure(saved, tmp_path):
    market = {
        "env": "pricegym/Fitted-v0",
        "options": {"model_path": "models/linear.json", **OPTIONS},
    }
    path = _write(tmp_path, market, name="fitted")
    config = load_experiment(path)
    assert config.market.options["model_path"] == str(saved.resolve())
    run_dir = tmp_path / "run"
    run_experiment(path, run_dir, progress=False)
    inputs = json.loads((run_dir / "inputs.json").read_text(encoding="utf-8"))
    assert str(saved.resolve()) in inputs
    assert _demand_figures(run_dir) == ["figures/demand_fit__linear.png"]


@pytest.mark.parametrize("other", ["data", "model"])
def test_model_path_with_data_or_model_is_refused_naming_both(saved, other):
    market: dict[str, Any] = {"model_path": str(saved), "options": OPTIONS}
    market[other] = {"dataset": "article"} if other == "data" else {"family": "poisson"}
    with pytest.raises(ConfigError) as info:
        load_experiment({"market": market, "agents": AGENTS})
    message = str(info.value)
    assert message.startswith("market"), message
    assert "unknown key" not in message, message
    assert "market.model_path" in message and f"market.{other}" in message, message
    assert "Fix:" in message


def test_model_path_to_a_missing_file_names_the_resolved_path(tmp_path):
    path = _write(tmp_path, {"model_path": "nowhere.json", "options": OPTIONS})
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith("market.model_path = 'nowhere.json'"), message
    assert str(tmp_path / "nowhere.json") in message


def test_a_key_of_another_section_is_not_renamed_to_a_lookalike():
    market = {"demand": {"form": "exponential", "a": 10.0, "alpha": 1.0}, "horizon": 8}
    with pytest.raises(ConfigError) as info:
        load_experiment({"market": market, "agents": AGENTS})
    message = str(info.value)
    assert message.startswith("market.horizon: unknown key 'horizon'"), message
    assert "market.options.horizon" in message, message
    assert "rename" not in message, message
