"""Regenerate the README's benchmark tables from ``benchmarks/results/*.json``.

Every number in the README's benchmark and results sections comes from a JSON file
written by a script in this folder; this script only formats them. Each table
lives between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` markers, and a
results file that is missing leaves its table untouched (and says so).

Usage: ``python benchmarks/report.py`` (or ``make report``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def kernels(doc: dict[str, Any]) -> str:
    """Kernel vs fitting library, per call (B = 1) and per batch."""
    rows = [
        [
            r["family"],
            str(r["batch"]),
            f"{r['kernel_us']:,.1f}",
            f"{r['library_us']:,.1f}",
            f"{r['speedup']:,.1f}×",
        ]
        for r in doc["rows"]
    ]
    return (
        _table(["family", "markets B", "kernel µs", "library µs", "library / kernel"], rows)
        + f"\n\nData set: `{doc['dataset']}`; written by `benchmarks/bench_kernels.py`."
    )


def envs(doc: dict[str, Any]) -> str:
    """Env steps per second against Gymnasium's CartPole yardsticks."""
    rows = []
    for r in doc["rows"]:
        goal = ""
        if r["goal"] is not None:
            goal = f"≥ {r['goal']:.1f}× {'met' if r['met'] else 'missed'}"
        rows.append(
            [
                r["env"],
                r["mode"] or "–",
                f"{r['steps_per_s']:,.0f}",
                f"{r['ratio']:.2f}× ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})",
                goal,
            ]
        )
    return (
        _table(["env", "path", "steps/s", "vs yardstick (min–max)", "goal"], rows)
        + f"\n\nData set `{doc['dataset']}`, {doc['horizon']}-period seasons, "
        f"{doc['clock']} time, median of {doc['rounds']} interleaved rounds; written by "
        "`benchmarks/bench_envs.py`."
    )


#: results file stem → formatter of its README table.
SECTIONS: dict[str, Callable[[dict[str, Any]], str]] = {"kernels": kernels, "envs": envs}


def render(text: str, results: Path = RESULTS) -> tuple[str, list[str]]:
    """``text`` with every known section replaced; also the names of sections skipped."""
    skipped = []
    for name, fmt in SECTIONS.items():
        path = results / f"{name}.json"
        pattern = re.compile(rf"(<!-- bench:{name} -->\n)(.*?)(<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            skipped.append(f"{name} (no markers in README)")
            continue
        if not path.is_file():
            skipped.append(f"{name} ({path.name} missing; run its benchmark)")
            continue
        body = fmt(json.loads(path.read_text()))
        text = pattern.sub(lambda m, b=body: m.group(1) + b + "\n" + m.group(3), text)
    return text, skipped


def main() -> int:
    new, skipped = render(README.read_text())
    README.write_text(new)
    for s in skipped:
        print(f"skipped: {s}", file=sys.stderr)
    print(f"updated {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
