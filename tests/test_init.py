"""``pricegym init NAME``: a commented starter experiment that runs, and ``pricegym run
--help`` saying where the bundled experiment files are."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pricegym import cli
from pricegym.experiments.schema import bundled_experiments, load_experiment


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_help_says_where_the_bundled_files_are_and_how_to_copy_one(capsys):
    code, out, _ = run(capsys, "run", "--help")
    assert code == 0
    text = " ".join(out.split())
    folder = next(
        line.split("(YAML files in ", 1)[1] for line in out.splitlines() if "YAML files in" in line
    )
    folder = Path(folder.rstrip(")"))
    assert sorted(p.stem for p in folder.glob("*.yaml")) == bundled_experiments()
    assert "pricegym init NAME --from quickstart" in text
    assert "pricegym run NAME.yaml" in text
    assert "docs/experiment-schema.md" in text


def test_init_writes_a_commented_starter_that_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", "mine")
    assert code == 0, err
    path = tmp_path / "mine.yaml"
    assert "pricegym run mine.yaml" in out
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 8  # the other choices of each section are written out
    assert "model_path" in text and "docs/experiment-schema.md" in text
    config = load_experiment(path)
    assert config.name == "mine" and config.output.dir == "runs/mine"
    code, out, err = run(capsys, "run", "mine.yaml", "--no-report")
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "runs" / "mine" / "summary.csv")
    assert sorted(summary["agent"]) == ["fixed", "myopic", "optimum", "ucb"]
    bench = json.loads((tmp_path / "runs" / "mine" / "benchmarks.json").read_text())["article"]
    assert bench["dp"] > bench["best_fixed"] > 0  # a market where dynamic pricing pays
    assert summary["dp_optimum"].tolist() == pytest.approx([bench["dp"]] * 4, rel=1e-12)


def test_init_never_overwrites_a_file(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\n", encoding="utf-8")
    code, _, err = run(capsys, "init", "mine", "--dir", str(tmp_path))
    assert code == 2
    assert "already exists" in err and str(path) in err and "Fix:" in err
    assert path.read_text(encoding="utf-8") == "name: mine\n"


def test_init_from_a_bundled_experiment_renames_it(tmp_path, capsys):
    code, _, err = run(capsys, "init", "big", "--from", "quickstart", "--dir", str(tmp_path))
    assert code == 0, err
    config = load_experiment(tmp_path / "big.yaml")
    original = load_experiment("quickstart")
    assert config.name == "big" and config.output.dir == "runs/big"
    assert [a.to_dict() for a in config.agents] == [a.to_dict() for a in original.agents]
    assert config.market == original.market
    assert "# The README's first experiment" in (tmp_path / "big.yaml").read_text()


def test_init_refuses_an_unknown_bundled_name_and_a_bad_name(tmp_path, capsys):
    code, _, err = run(capsys, "init", "x", "--from", "quickstrat", "--dir", str(tmp_path))
    assert code == 2 and "'quickstrat' is not a bundled experiment" in err
    assert "quickstart" in err
    code, _, err = run(capsys, "init", "my run", "--dir", str(tmp_path))
    assert code == 2 and "must be a label" in err
    assert list(tmp_path.iterdir()) == []


def test_init_example_writes_the_walk_through_files(tmp_path, capsys):
    code, out, err = run(capsys, "init", "shop", "--example", "--dir", str(tmp_path))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml", "shop_sales.csv"]
    sales = pd.read_csv(tmp_path / "shop_sales.csv")
    assert list(sales.columns) == [
        "day",
        "our_price",
        "units_sold",
        "rival_price",
        "temp_c",
        "rain_mm",
    ]
    assert len(sales) == 148 and "148 trading days" in out
    days = pd.to_datetime(sales["day"])
    assert days.dt.day_of_week.max() == 4  # Monday-Friday only
    fit = ["fit", str(tmp_path / "shop_sales.csv"), "--date", "day", "--price", "our_price"]
    fit += ["--units", "units_sold", "--competitor", "rival_price", "--model", "loglinear"]
    code, _, err = run(capsys, *fit, "--out", str(tmp_path / "shop_model.json"))
    assert code == 0, err
    config = load_experiment(tmp_path / "shop.yaml")
    assert config.name == "shop" and config.output.dir == "runs/shop"
    assert config.market.source == "model" and config.market.options["cost"] == 1.9
    assert [a.kind for a in config.agents] == ["fixed_price", "myopic", "ucb1", "dp"]
    assert "pricegym fit shop_sales.csv" in (tmp_path / "shop.yaml").read_text()


def test_init_example_writes_nothing_when_either_file_exists(tmp_path, capsys):
    (tmp_path / "shop.yaml").write_text("name: shop\n", encoding="utf-8")
    code, _, err = run(capsys, "init", "shop", "--example", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err and "shop.yaml" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml"]
    code, _, err = run(capsys, "init", "shop", "--example", "--from", "quickstart")
    assert code == 2 and "--example" in err and "give one" in err
