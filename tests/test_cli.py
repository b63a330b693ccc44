"""The ``pricegym`` command line: fit, demo, errors and exit codes.

Most tests call :func:`pricegym.cli.main` in-process and read stdout/stderr with
``capsys``; two smoke tests run the installed program in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pricegym
import pricegym.errors
from pricegym import cli
from pricegym.cli._common import DEFAULT_MODEL
from pricegym.demand.base import DemandModel
from pricegym.demand.selection import DEFAULT_FAMILIES

ARTICLE = Path(__file__).parent / "data" / "article.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``pricegym ARGV`` in-process; return (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    """Run a ``--json`` command that must succeed; stdout must be exactly one JSON document."""
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # raises if anything but one JSON document is on stdout


@pytest.fixture()
def negative_price_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("week,price,units\n1,10,5\n2,-9.5,6\n3,9,7\n4,8.5,8\n5,8,9\n")
    return path


# ---------------------------------------------------------------- program


def test_version_is_the_package_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"pricegym {pricegym.__version__}\n"


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("fit", "demo", "demand"):
        assert command in out


def test_no_command_prints_help_and_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "fit" in err


def test_command_registry_matches_the_parser():
    parser = cli.build_parser()
    help_text = parser.format_help()
    assert [c.name for c in cli.COMMANDS] == [
        "fit",
        "demand",
        "demo",
        "run",
        "init",
        "evaluate",
        "validate",
        "report",
        "export",
        "price",
    ]
    assert all(c.name in help_text for c in cli.COMMANDS)


def test_python_dash_m_fit_json_smoke():
    proc = subprocess.run(
        [sys.executable, "-m", "pricegym", "fit", str(ARTICLE), "--period", "week", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"] == "linear"


def test_console_script_reports_errors_with_exit_2(negative_price_csv):
    script = Path(sys.executable).with_name("pricegym")
    if not script.exists():
        pytest.skip("the pricegym console script is not installed next to this interpreter")
    proc = subprocess.run(
        [str(script), "fit", str(negative_price_csv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


# ---------------------------------------------------------------- fit: the article example


def test_article_linear_fit_is_exact_ols(capsys):
    doc = run_json(capsys, "fit", str(ARTICLE), "--period", "week", "--model", "linear")
    frame = pd.read_csv(ARTICLE)
    p, q = frame["price"].to_numpy(float), frame["units"].to_numpy(float)
    (a, b), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(p), p]), q, rcond=None)
    assert doc["model"] == "linear"
    assert doc["params"]["intercept"] == pytest.approx(a, rel=1e-9)
    assert doc["params"]["price"] == pytest.approx(b, rel=1e-9)
    el = doc["elasticity"]
    assert el["estimate"] == pytest.approx(b * p.mean() / q.mean(), rel=1e-9)
    assert el["price"] == pytest.approx(p.mean(), rel=1e-12)
    assert el["level"] == 0.95
    assert el["ci_low"] <= el["estimate"] <= el["ci_high"]
    assert doc["support"] == {"min": 840.0, "max": 1000.0}
    assert doc["n_obs"] == 8
    assert doc["data"]["n_rows"] == 8


def test_article_too_short_for_backtest_still_fits(capsys):
    doc = run_json(capsys, "fit", str(ARTICLE), "--period", "week")
    assert doc["metrics"]["backtest"] is None
    assert set(doc["metrics"]["in_sample"]) >= {"mae", "rmse", "wape", "bias"}
    assert "backtest skipped" in doc["backtest_skipped"]
    assert "too few rows" in doc["backtest_skipped"]
    assert doc["backtest_skipped"] in doc["notes"]


def test_article_backtest_runs_with_fewer_splits(capsys):
    doc = run_json(capsys, "fit", str(ARTICLE), "--splits", "2")
    bt = doc["metrics"]["backtest"]
    assert bt["n_splits"] == 2
    assert bt["n"] == 4  # 2 folds x 2 periods
    assert doc["backtest_skipped"] is None


def test_human_report_shows_parameters_metrics_elasticity_support(capsys):
    code, out, err = run(capsys, "fit", str(ARTICLE), "--period", "week")
    assert code == 0, err
    for text in ("Parameters", "intercept", "price", "95% CI", "MAE", "RMSE", "WAPE", "bias"):
        assert text in out
    assert "Elasticity at the mean price 916.2: -4.99" in out
    assert "840 to 1000" in out
    assert "backtest skipped" in out


def test_out_saves_a_model_that_loads_with_the_same_params(capsys, tmp_path):
    target = tmp_path / "models" / "article.json"
    doc = run_json(capsys, "fit", str(ARTICLE), "--period", "week", "--out", str(target))
    assert doc["saved"] == str(target)
    assert target.is_file() and target.with_suffix(".npz").is_file()
    model = DemandModel.load(target)
    table = model.params_table()
    loaded = dict(zip(table["term"], table["estimate"], strict=True))
    assert loaded == pytest.approx(doc["params"], rel=1e-12)
    assert model.elasticity_.estimate == pytest.approx(doc["elasticity"]["estimate"], rel=1e-12)
    assert model.support_ == (840.0, 1000.0)


def test_no_backtest_flag(capsys):
    doc = run_json(capsys, "fit", "--dataset", "article", "--no-backtest")
    assert doc["metrics"]["backtest"] is None
    assert "--no-backtest" in doc["backtest_skipped"]


# ---------------------------------------------------------------- fit: mapping and notes


def test_column_mapping_options(capsys, tmp_path):
    rng = np.random.default_rng(4)
    n = 40
    price = np.round(rng.uniform(8, 12, n), 2)
    rival = np.round(rng.uniform(9, 11, n), 2)
    units = np.round(200 - 12 * price + 3 * rival + rng.normal(0, 2, n), 1)
    frame = pd.DataFrame(
        {
            "day": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "avgprc": price,
            "totqty": units,
            "rival": rival,
        }
    ).iloc[::-1]
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    doc = run_json(
        capsys,
        "fit",
        str(path),
        "--date",
        "day",
        "--price",
        "avgprc",
        "--units",
        "totqty",
        "--competitor",
        "rival",
        "--freq",
        "D",
    )
    assert doc["params"]["price"] == pytest.approx(-12, abs=1.0)
    assert doc["params"]["competitor:rival"] == pytest.approx(3, abs=1.5)
    assert doc["data"]["freq"] == "D"
    assert any("sorted" in note for note in doc["notes"])  # rows were reversed


def test_drop_invalid_goes_to_the_notes(capsys, negative_price_csv):
    code, out, err = run(capsys, "fit", str(negative_price_csv), "--drop-invalid", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n_obs"] == 4
    assert any("dropped 1 of 5 rows" in note for note in doc["notes"])
    # the loader's warning repeats the note: reported once (the optimum check's own
    # DecisionWarning on these 4 rows is a separate matter)
    assert [w for w in doc["warnings"] if not w.startswith("DecisionWarning")] == []


def test_select_product_of_a_panel(capsys):
    doc = run_json(capsys, "fit", "--dataset", "cigar", "--select-product", "1", "--no-backtest")
    assert doc["n_obs"] == 30
    assert any("selected product '1'" in note for note in doc["notes"])


# ---------------------------------------------------------------- fit: errors


def test_validation_error_exit_2_names_row_and_rule(capsys, negative_price_csv):
    code, out, err = run(capsys, "fit", str(negative_price_csv))
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "row 3" in err  # the header is row 1
    assert "prices must be > 0" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(capsys, negative_price_csv, where):
    argv = ["fit", str(negative_price_csv)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback" in err
    assert "DataValidationError" in err
    assert "error: " in err


def test_unknown_model_suggests_the_closest_name(capsys):
    code, _, err = run(capsys, "fit", str(ARTICLE), "--model", "linaer")
    assert code == 2
    assert "unknown model 'linaer'" in err
    assert "Did you mean 'linear'?" in err


def test_missing_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "fit", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "file not found" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit"], "either a DATA file or --dataset"),
        (["fit", str(ARTICLE), "--dataset", "article"], "either a DATA file or --dataset"),
        (["fit", "--dataset", "avocado", "--price", "x"], "--price"),
        (["fit", "--dataset", "avocad"], "Did you mean 'avocado'?"),
        (["fit", "--dataset", "article", "--model", "auto", "--no-backtest"], "--no-backtest"),
        (["fit", "--dataset", "article", "--families", "linear"], "--model auto"),
        (["fit", "--dataset", "avocado", "--model", "auto", "--families", "lin"], "unknown model"),
    ],
)
def test_inconsistent_options_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_argparse_usage_error_exit_2(capsys):
    code, _, err = run(capsys, "fit", str(ARTICLE), "--splits", "0")
    assert code == 2
    assert "--splits" in err


def _daily_csv(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` days of sales (log-log demand, elasticity -1.5) written as a CSV file."""
    rng = np.random.default_rng(seed)
    price = rng.uniform(8.0, 12.0, n).round(2)
    units = rng.poisson(np.exp(6.5 - 1.5 * np.log(price)))
    dates = pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "price": price, "units": units}).to_csv(path, index=False)
    return path


def test_auto_on_a_short_history_uses_fewer_folds_and_says_so(capsys):
    # article: 8 weeks. 5 folds of 1 week would train first on 3 rows, too few for
    # every family; 4 folds leave 4, enough for the three regressions.
    doc = run_json(capsys, "fit", "--dataset", "article", "--model", "auto")
    assert doc["metrics"]["backtest"]["n_splits"] == 4
    assert doc["metrics"]["backtest"]["test_size"] == 1
    status = {row["model"]: row["status"] for row in doc["league"]}
    assert [m for m, s in status.items() if s == "ok"] == ["linear", "poisson", "loglinear"]
    assert status["arimax"].startswith("skipped: fits the whole history, but cannot be")
    assert "ArimaxDemand needs at least 8 rows (that window has 6)" in status["arimax"]
    assert "NeuralDemand needs at least 11" in status["neural"]
    assert doc["best"] == "linear"
    assert any(
        "The backtest uses 4 folds of 1 period instead (first training window 4 periods)" in n
        for n in doc["notes"]
    )


def test_auto_on_12_days_prints_the_fold_note(capsys, tmp_path):
    path = _daily_csv(tmp_path / "days.csv", 12)
    code, out, err = run(capsys, "fit", str(path), "--model", "auto", "--families", "linear,arimax")
    assert code == 0, err
    assert "Note: the history has 12 periods, too few for 5 rolling-origin folds" in out
    assert "backtest (4 folds x 1)" in out


def test_auto_on_40_days_keeps_five_folds(capsys, tmp_path):
    path = _daily_csv(tmp_path / "days.csv", 40)
    doc = run_json(
        capsys, "fit", str(path), "--model", "auto", "--families",
        "linear,loglinear,poisson,arimax",
    )  # fmt: skip
    assert [row["status"] for row in doc["league"]] == ["ok"] * 4
    assert (doc["metrics"]["backtest"]["n_splits"], doc["metrics"]["backtest"]["test_size"]) == (
        5,
        4,
    )
    assert not any("rolling-origin folds" in note for note in doc["notes"])


def test_auto_when_nothing_fits_names_every_family(capsys, tmp_path):
    path = _daily_csv(tmp_path / "five.csv", 5)
    code, out, err = run(capsys, "fit", str(path), "--model", "auto")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (
        f"error: {path}: no model family could be fitted and backtested on this history "
        "(5 rows, 5 periods). Each family's reason:"
    )
    families = [line.split(":")[0] for line in lines[1:-1]]
    assert families == [f"  - {name}" for name in DEFAULT_FAMILIES]
    assert "LinearDemand needs at least 4 rows (that window has 3)" in lines[1]
    assert "the history has 5 rows, but NeuralDemand needs at least 11" in lines[5]
    assert lines[-1].endswith("(CLI: --model linear --no-backtest).")
    assert "Traceback" not in err


def _european_csv(path: Path, n: int = 12) -> Path:
    """A spreadsheet export: ';'-separated, decimal commas (date;price;units / ...;9,99;12)."""
    rng = np.random.default_rng(3)
    price = rng.uniform(8.0, 12.0, n).round(2)
    units = rng.poisson(np.exp(6.5 - 1.5 * np.log(price)))
    dates = pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    lines = ["date;price;units"]
    lines += [
        f"{d};{p:.2f};{u}".replace(".", ",") for d, p, u in zip(dates, price, units, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_reads_a_spreadsheet_export_and_says_how(capsys, tmp_path):
    path = _european_csv(tmp_path / "export.csv")
    code, out, err = run(capsys, "fit", str(path), "--no-backtest")
    assert code == 0, err
    assert "fitted to " + str(path) + ": 12 rows, daily" in out
    assert "read as ';'-separated with decimal commas" in out
    doc = run_json(capsys, "fit", str(path), "--sep", ";", "--decimal", ",", "--no-backtest")
    assert doc["notes"][0] == "read as ';'-separated with decimal commas."
    low, high = doc["support"]["min"], doc["support"]["max"]
    assert 8.0 <= low < high <= 12.0  # 9,99 read as 9.99, not 999 or 9


@pytest.mark.parametrize(
    ("content", "options", "parts"),
    [
        (  # mixed marks
            "date;price;units\n2024-01-01;9,99;12\n2024-01-02;10.49;9\n",
            (),
            ["the file looks ';'-separated, but its numbers mix decimal commas ('9,99'",
             "(CLI: --sep ';' --decimal ',' or --sep ';' --decimal '.')"],
        ),
        (  # a number that reads two ways
            "date;price;units\n2024-01-01;1,234;12\n2024-01-02;1,100;9\n",
            (),
            ["'1,234' in column 'price', row 2 is 1.234 if ',' is a decimal mark, or 1234",
             "--sep ';' --decimal ','"],
        ),
        (  # the separator given wrong
            "date;price;units\n2024-01-01;9,99;12\n2024-01-02;10,49;9\n",
            ("--sep", ","),
            ["has a single column 'date;price;units', which looks like the header of a "
             "';'-separated file", "pass sep=';' (CLI: --sep ';')"],
        ),
        (
            "date;price;units\n2024-01-01;9,99;12\n2024-01-02;10,49;9\n",
            ("--decimal", "x"),
            ["decimal='x' is not a decimal mark"],
        ),
        (  # two products per date, no --product
            "date,product,price,units\n"
            + "".join(f"2024-01-0{d},{p},{9 + d / 10},5\n" for p in "ab" for d in range(1, 8)),
            (),
            ["duplicate periods: 14 rows share a date (column 'date') with another row",
             "Fix: column 'product' holds 2 products (a, b): pass --product product to fit "
             "each, or filter to one (--product product --select-product a)"],
        ),
    ],
)  # fmt: skip
def test_files_as_people_export_them_exit_2_with_the_fix(capsys, tmp_path, content, options, parts):
    path = tmp_path / "sales.csv"
    path.write_text(content)
    code, out, err = run(capsys, "fit", str(path), *options)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}: ")
    for part in parts:
        assert part in err
    assert "Traceback" not in err


def test_csv_dialect_options_mean_nothing_with_a_dataset(capsys):
    code, _, err = run(capsys, "fit", "--dataset", "article", "--sep", ";")
    assert code == 2
    assert "--sep" in err and "bundled data sets are already mapped" in err


# ---------------------------------------------------------------- fit: real data


def test_auto_league_with_regression_and_arimax(capsys, tmp_path):
    families = "linear,loglinear,poisson,arimax"
    target = tmp_path / "best.json"
    doc = run_json(
        capsys, "fit", "--dataset", "avocado", "--model", "auto", "--families", families,
        "--out", str(target),
    )  # fmt: skip
    league = doc["league"]
    assert doc["model"] == "auto"
    assert [row["model"] for row in league if row["status"] == "ok"] == [
        row["model"] for row in sorted(league, key=lambda r: r["backtest_wape"])
    ]
    assert doc["best"] == league[0]["model"]
    assert doc["metrics"]["backtest"]["wape"] == pytest.approx(league[0]["backtest_wape"])
    assert DemandModel.load(target).family == doc["best"]


@pytest.mark.slow
def test_avocado_auto_compares_every_family(capsys):
    doc = run_json(capsys, "fit", "--dataset", "avocado", "--model", "auto")
    ok = [row for row in doc["league"] if row["status"] == "ok"]
    assert len(ok) >= 3
    assert {row["model"] for row in doc["league"]} == {
        "linear",
        "loglinear",
        "poisson",
        "arimax",
        "neural",
    }
    el = doc["elasticity"]
    assert el["estimate"] < 0
    assert el["ci_high"] < 0
    assert doc["best"] == ok[0]["model"]


def test_cigar_panel_default_model(capsys):
    doc = run_json(capsys, "fit", "--dataset", "cigar")
    assert doc["model"] == DEFAULT_MODEL == "linear"
    assert doc["data"]["n_products"] == 46
    el = doc["elasticity"]
    assert el["estimate"] < 0
    assert el["ci_high"] < 0
    assert doc["metrics"]["backtest"]["n_splits"] == 5


# ---------------------------------------------------------------- demo


def test_demo_falls_back_to_synthetic_data(capsys, monkeypatch):
    monkeypatch.setattr(cli.demo, "_package_available", lambda package: False)
    code, out, err = run(capsys, "demo", "--families", "linear,loglinear,poisson")
    assert code == 0, err
    assert "synthetic" in out
    assert 'pip install "pricegym[datasets]"' in out
    for column in ("model", "backtest WAPE", "MAE", "bias", "elasticity [95% CI]", "AIC"):
        assert column in out
    verdict = [line for line in out.splitlines() if line.startswith("Verdict:")]
    assert len(verdict) == 1
    assert "demand is elastic" in out  # the synthetic truth has elasticity -2


def test_demo_json_on_a_bundled_data_set(capsys):
    doc = run_json(capsys, "demo", "--dataset", "avocado", "--families", "linear,poisson")
    assert doc["synthetic"] is False
    assert doc["dataset"] == "avocado"
    assert {row["model"] for row in doc["league"]} == {"linear", "poisson"}
    assert doc["verdict"].startswith(f"Verdict: {doc['best']} forecasts best")


# ---------------------------------------------------------------- evaluate


def test_readme_evaluate_ucb1_trains_the_new_bandit_first_and_earns_near_the_optimum(capsys):
    """The README's command, as printed: a new UCB1 is trained online (20 episodes, the
    stated default) on seeds apart from the evaluation's, then plays greedy. Measured:
    8,312 per episode, 99.9% of the DP optimum (8,320); an untrained bandit charged
    price 1, below the unit cost 2, and lost 4,677 per episode."""
    import gymnasium as gym

    from pricegym.experiments.evaluate import single_benchmarks

    argv = "evaluate ucb1 --market pricegym/Monopoly-v0 --episodes 20 --seed 0".split()
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "trained online for 20 episodes (1,040 periods)" in out
    assert "learning frozen" in out
    mean = float(out.split("mean profit per episode ")[1].split()[0])
    dp = single_benchmarks(gym.make("pricegym/Monopoly-v0"))["dp"]
    assert mean > 0 and mean / dp > 0.97, (mean, dp)
    assert f"{100 * mean / dp:.1f}% of the DP optimum" in out


def test_evaluate_says_what_it_did_with_learners_and_refuses_what_cannot_work(capsys):
    market = ("--market", "pricegym/Monopoly-v0", "--episodes", "2")
    with pytest.warns(pricegym.errors.PricegymWarning, match="learned nothing"):
        code, out, _ = run(capsys, "evaluate", "ucb1", *market, "--train-episodes", "0")
    assert code == 0 and "trained online" not in out
    mean = float(out.split("mean profit per episode ")[1].split()[0])
    assert mean < 0  # untrained: the first price, 1, below the unit cost 2
    code, out, _ = run(capsys, "evaluate", "ucb1", *market, "--learn-online")
    assert code == 0 and "(1,040 periods)" in out and "learning online" in out
    code, out, _ = run(capsys, "evaluate", "fixed_price", *market)
    assert code == 0 and "trained" not in out and "Evaluated with" not in out
    code, _, err = run(capsys, "evaluate", "fixed_price", *market, "--train-episodes", "3")
    assert code == 2 and "not an online learner" in err


_WARN_SCRIPT = """
import sys, warnings
from pricegym import cli
from pricegym.errors import DecisionWarning

def warn(args):
    warnings.warn("the optimum 9.0 is at the grid's top\\nFix: widen it.", DecisionWarning)
    warnings.warn("a library's note", RuntimeWarning)
    return 0

cli.COMMANDS = (cli.Command("warn", "warns", lambda p: p, warn),)
before = warnings.formatwarning
code = cli.main(sys.argv[1:])
assert warnings.formatwarning is before, "main left its warning format behind"
sys.exit(code)
"""


@pytest.mark.parametrize("debug", [False, True])
def test_pricegym_warnings_read_like_errors_and_others_keep_python_format(debug):
    """Unrecorded warnings on stderr: pricegym's as ``warning: Category: text`` (no
    source line), others (and all with --debug) in Python's ``file:line: Category``."""
    argv = ["warn", *(["--debug"] if debug else [])]
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", _WARN_SCRIPT, *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    plain = "warning: DecisionWarning: the optimum 9.0 is at the grid's top\nFix: widen it.\n"
    assert (plain in proc.stderr) is not debug
    assert ("<string>:7: DecisionWarning: the optimum 9.0" in proc.stderr) is debug
    assert "<string>:8: RuntimeWarning: a library's note" in proc.stderr
