"""The README's walk-through ("From your sales file to tomorrow's price") runs end to end.

Every ``pricegym`` line of the section's ``bash`` blocks runs, in order, in one fresh
directory, as a new user would type it: init → fit and compare → fit and save →
experiment → report → export → price for tomorrow. Each line's output is checked
against what the README shows (the facts that do not depend on the machine: the
inferred calendar, the unused columns, the warnings, the saved cost, the league
table's winner, the prices); a line without a check fails the test, so the section
cannot gain an untested command.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## From your sales file to tomorrow's price"


def walkthrough_commands() -> list[list[str]]:
    """The ``pricegym`` lines of the walk-through's bash blocks, split as a shell would."""
    text = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "pricegym":
                commands.append(words[1:])
    return commands


def _check_init(out: str) -> None:
    assert "wrote shop_sales.csv (148 trading days of a shop's sales) and shop.yaml." in out


def _check_fit_auto(out: str) -> None:
    assert "calendar: Mon–Fri (inferred: no Saturday or Sunday in 30 weeks" in out
    assert "columns not used: temp_c, rain_mm" in out
    assert "optimum at the lower edge of the price grid" in out  # no cost: revenue
    assert "Profit = revenue here: no unit cost was given." in out


def _check_fit_save(out: str) -> None:
    assert "Unit cost: 1.9 (--unit-cost)" in out
    assert "Profit-maximising price (one period, unlimited stock): 3.651, inside" in out
    assert "Saved the model to shop_model.json" in out


def _check_run(out: str) -> None:
    assert "15 cells computed, 0 reused; results in runs/shop" in out
    rows = [line for line in out.splitlines() if line.startswith("│ shop")]
    assert rows and "optimum" in rows[0], out[-3000:]  # the DP optimum ranks first


def _check_report(out: str) -> None:
    assert "report: runs/shop/index.html" in out


def _check_export(out: str) -> None:
    assert out.strip().endswith("shop_policy/policy.json")


def _check_price_today(out: str) -> None:
    assert float(out.split()[-1]) == pytest.approx(4.29, abs=1e-9)


def _check_price_json(out: str) -> None:
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["date"] == "2025-10-27"
    assert doc["price"] == pytest.approx(3.69, abs=1e-9)  # the markdown two days before the end


#: (first words of a command, its check), in the README's order
CHECKS = [
    (["init"], _check_init),
    (["fit", "shop_sales.csv", "--model", "auto"], _check_fit_auto),
    (["fit", "shop_sales.csv", "--model", "loglinear"], _check_fit_save),
    (["run", "shop.yaml"], _check_run),
    (["report", "runs/shop"], _check_report),
    (["export", "runs/shop"], _check_export),
    (["price", "shop_policy", "--date", "2025-10-01"], _check_price_today),
    (["price", "shop_policy", "--date", "2025-10-27"], _check_price_json),
]


def _check_for(args: list[str]):
    matches = [check for prefix, check in CHECKS if args[: len(prefix)] == prefix]
    assert len(matches) == 1, f"README walk-through line without exactly one check: {args}"
    return matches[0]


def test_every_walkthrough_command_has_a_check():
    commands = walkthrough_commands()
    assert len(commands) == len(CHECKS)
    for args in commands:
        _check_for(args)


def test_walkthrough_runs_as_printed(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    for args in walkthrough_commands():
        done = subprocess.run(
            [sys.executable, "-m", "pricegym", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        assert done.returncode == 0, f"pricegym {shlex.join(args)}:\n{done.stderr[-3000:]}"
        _check_for(args)(done.stdout + done.stderr)
