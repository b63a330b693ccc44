"""Every command and Python example of the README runs as printed and gives a sensible result.

A new user types the README's lines in a clean directory; so does this test. The
``pricegym`` lines of the "Using it" block run in order in one fresh directory
(after the quick start's ``pricegym run``, which ``export runs/quickstart`` needs),
with the files the README says are the user's own — ``sales.csv``, a spreadsheet's
``export.csv``, ``my_experiment.yaml`` and a saved agent ``agents/dqn.json`` —
written first, and the bundled runs the export lines read (``quickstart``,
``avocado``) run first. Each line's result is checked, not only its
exit code. A README line without a check here fails the test, so a new command
cannot be added to the README untested.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.synthetic import DemandTruth, generate_history

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def readme_commands() -> list[list[str]]:
    """The ``pricegym`` lines of the README's "Using it" block, split as a shell would."""
    section = README.read_text(encoding="utf-8").split("## Using it", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "pricegym":
            commands.append(words[1:])
    return commands


def _pricegym(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}  # warnings shown: a bundled run must not warn
    return subprocess.run(
        [sys.executable, "-m", "pricegym", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _write_user_files(folder: Path) -> None:
    """``sales.csv`` with the README's column names, and a small experiment of one's own."""
    history = generate_history(
        DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
        n_periods=120,
        freq="D",
        noise="poisson",
        seed=5,
    )
    frame = history.frame.rename(
        columns={
            "date": "day",
            "price": "avgprc",
            "units": "totqty",
            "competitor_price": "pimin",
        }
    )
    frame[["day", "avgprc", "totqty", "pimin"]].to_csv(folder / "sales.csv", index=False)
    # a spreadsheet's export: ';'-separated, decimal commas, a short history (30 days)
    short = history.frame[["date", "price", "units"]].head(30)
    short.to_csv(folder / "export.csv", sep=";", decimal=",", index=False, float_format="%.2f")
    (folder / "my_experiment.yaml").write_text(
        """\
name: mine
seed: 0
market:
  name: sales
  data: {path: sales.csv, date: day, price: avgprc, units: totqty, competitors: [pimin]}
  model: {family: loglinear}
  options: {n_prices: 7, horizon: 10, inventory: 600, cost: 4}
agents:
  - {name: fixed, kind: fixed_price, params: {price: 10}}
  - {name: myopic, kind: myopic}
  - {name: dp_optimum, kind: dp}
evaluation: {episodes: 10, seeds: 2, benchmarks: [dp, best_fixed]}
tournament: {modes: [solo]}
""",
        encoding="utf-8",
    )


def _save_dqn(folder: Path) -> None:
    """``agents/dqn.json``: a DQN trained briefly in Markdown-v0 and saved (``agent.save``)."""
    import gymnasium as gym

    import pricegym  # noqa: F401  (registers the ids)
    from pricegym.agents.sb3 import SB3Agent

    hyper = {"n_envs": 1, "eval_freq": 0, "checkpoint_freq": 0, "learning_starts": 64}
    agent = SB3Agent("dqn", hyperparams=hyper, seed=0)
    agent.train(gym.make("pricegym/Markdown-v0"), total_timesteps=300)
    (folder / "agents").mkdir()
    agent.save(folder / "agents" / "dqn")
    assert (folder / "agents" / "dqn.json").exists()


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the output:\n{text[-3000:]}"
    return float(match.group(1).replace(",", ""))


# -------------------------------------------------------------------- one check per command
def _check_fit_auto(out: str, folder: Path) -> None:
    for family in ("linear", "loglinear", "poisson", "arimax", "neural"):
        assert re.search(rf"\b{family}\b", out), f"family {family} is not ranked:\n{out}"


def _check_fit_export(out: str, folder: Path) -> None:
    assert "decimal commas" in out, out
    for family in ("linear", "loglinear", "poisson"):
        assert re.search(rf"\b{family}\b", out), f"family {family} is not ranked:\n{out}"


def _check_fit_json(out: str, folder: Path) -> None:
    fit = json.loads(out)
    assert fit["model"] == "loglinear"
    assert -3.0 < fit["elasticity"]["estimate"] < 0.0


def _check_fit_own_file(out: str, folder: Path) -> None:
    assert json.loads((folder / "model.json").read_text())["family"] == "arimax"


def _check_plot(out: str, folder: Path) -> None:
    assert (folder / "demand.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _check_run(out_dir: str):
    def check(out: str, folder: Path) -> None:
        summary = pd.read_csv(folder / out_dir / "summary.csv")
        assert len(summary) >= 2 and np.isfinite(summary["mean"]).all()
        assert (folder / out_dir / "index.html").exists()

    return check


def _check_report(out: str, folder: Path) -> None:
    assert (folder / "runs/mine/index.html").stat().st_size > 1000


def _check_evaluate(out: str, folder: Path) -> None:
    # Monopoly-v0: demand 100 − 10p, cost 2, 52 periods; the best price 6 earns 52·4·40
    optimum = 52 * 4.0 * 40.0
    profit = _number(r"mean profit per episode (-?[\d,.]+)", out)
    assert profit > 0.8 * optimum, f"{profit} per episode, optimum {optimum}"


def _check_evaluate_logged(out: str, folder: Path) -> None:
    # sales.csv is a correctly specified log-log market: the model (DM) and the data
    # (DR, with estimated propensities) agree within 10% at a price inside the data
    dm = _number(r"│\s+dm │\s+([\d.]+)", out)
    dr = _number(r"│\s+dr │\s+([\d.]+)", out)
    assert abs(dm - dr) < 0.1 * dm, out
    assert "Propensities: estimated from the data" in out


def _check_export(out: str, folder: Path) -> None:
    card = json.loads((folder / "policy/policy.json").read_text())
    assert (folder / "policy/policy.onnx").stat().st_size > 0
    assert card["observation"]["names"][:2] == ["time_remaining", "inventory_fraction"]


def _check_export_dp(out: str, folder: Path) -> None:
    card = json.loads((folder / "dp/policy.json").read_text())
    assert card["kind"] == "dp_table" and card["agent"]["name"] == "dp_optimum"


def _check_export_market(out: str, folder: Path) -> None:
    card = json.loads((folder / "ppo/policy.json").read_text())
    assert card["market"]["market"] == "avocado/poisson" and card["kind"] == "onnx"


def _check_export_saved(out: str, folder: Path) -> None:
    card = json.loads((folder / "dqn/policy.json").read_text())
    assert card["algo"] == "dqn" and (folder / "dqn/policy.onnx").stat().st_size > 0


def _check_price(out: str, folder: Path) -> None:
    price = _number(r"([\d.]+)", out)
    assert 840.0 <= price <= 1000.0, out  # the quickstart's price grid


CHECKS = {
    "fit --dataset avocado --model auto": _check_fit_auto,
    "fit --dataset cigar --model loglinear --json": _check_fit_json,
    "fit sales.csv": _check_fit_own_file,
    "fit export.csv": _check_fit_export,
    "demand plot": _check_plot,
    "run markdown --jobs 2": _check_run("runs/markdown"),
    "run my_experiment.yaml": _check_run("runs/mine"),
    "run markdown --backend ray": _check_run("runs/markdown"),
    "report runs/mine": _check_report,
    "evaluate ucb1": _check_evaluate,
    "evaluate 9.5 --logged sales.csv": _check_evaluate_logged,
    "export runs/quickstart --agent ppo": _check_export,
    "export runs/quickstart --agent dp_optimum": _check_export_dp,
    "export runs/avocado": _check_export_market,
    "export agents/dqn.json": _check_export_saved,
    "price policy/": _check_price,
}


def _check_for(args: list[str]):
    line = " ".join(args)
    found = [check for prefix, check in CHECKS.items() if line.startswith(prefix)]
    assert len(found) == 1, f"README line `pricegym {line}` has {len(found)} checks in this test"
    return found[0]


def test_every_readme_command_has_a_check():
    commands = readme_commands()
    assert len(commands) == len(CHECKS)
    for args in commands:
        _check_for(args)


#: Said when a bundled experiment's own fixed price is off the market's grid: a config
#: we ship must not warn about itself.
OFF_GRID = "is not on the market's grid"


def test_readme_commands_run_as_printed(tmp_path):
    _write_user_files(tmp_path)
    _save_dqn(tmp_path)
    for bundled in (["run"], ["run", "avocado"]):  # the runs the export lines read
        done = _pricegym(bundled, tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        assert OFF_GRID not in done.stderr, done.stderr[-3000:]
    for args in readme_commands():
        check = _check_for(args)
        if "--address" in args and "RAY_ADDRESS" not in os.environ:
            # no Ray cluster on a test machine: the command must say how to start one
            result = _pricegym(args, tmp_path, timeout=300)
            assert result.returncode == 2, result.stderr[-3000:]
            assert "ray start --head" in result.stderr, result.stderr[-3000:]
            continue
        result = _pricegym(args, tmp_path)
        line = "pricegym " + " ".join(args)
        assert result.returncode == 0, f"`{line}` failed:\n{result.stderr[-3000:]}"
        if args[:2] == ["run", "markdown"]:  # bundled; the user's own config may warn
            assert OFF_GRID not in result.stderr, f"`{line}`:\n{result.stderr[-3000:]}"
        check(result.stdout, tmp_path)


def test_readme_python_examples_run(tmp_path):
    _write_user_files(tmp_path)
    outputs = []
    for code in _blocks("python"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert result.returncode == 0, f"{code}\n{result.stderr[-3000:]}"
        outputs.append(result.stdout)
    # the first example's comment: "dp ≈ 27.7, fixed_price ≈ 26.2"
    assert abs(_number(r"dp\s+([\d.]+)", outputs[0]) - 27.7) < 0.5
    assert abs(_number(r"fixed_price\s+([\d.]+)", outputs[0]) - 26.2) < 0.5
