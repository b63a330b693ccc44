"""Market validation on the bundled real data sets (``pricegym validate``, issue 14).

For each bundled real data set (``avocado``: 169 weeks; ``cigar``: a 46-state
panel) and each default model family, refit on the first 80% of the periods,
replay the held-out periods through the market (1,000 seeded paths, seed 0) and
score the real sales: coverage of the 50/80/95% intervals, mean PIT, CRPS skill
against a market that ignores price, and the simulated vs actual revenue. Writes
``benchmarks/results/validation.json``; ``benchmarks/report.py`` turns it into the
README table (:func:`readme_table`).

Usage: ``python benchmarks/bench_validation.py [--paths 1000] [--datasets avocado cigar]``
(needs the ``datasets`` and ``validate`` extras).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "validation.json"


def readme_table(doc: dict[str, Any]) -> str:
    """The README's table of the validation scores (``benchmarks/report.py`` calls it)."""
    lines = [
        "| data | family | held out | 50% / 80% / 95% cover | mean PIT | CRPS skill "
        "| revenue sim. vs actual | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        cov = " / ".join(f"{100 * r['coverage'][k]:.0f}%" for k in ("0.5", "0.8", "0.95"))
        lines.append(
            f"| {r['dataset']} | {r['family']} | {r['n_rows']} {r['unit']} | {cov} "
            f"| {r['pit_mean']:.2f} | {r['crps_skill']:+.2f} | {100 * r['revenue_bias']:+.1f}% "
            f"| {r['calibration']} |"
        )
    for s in doc["skipped"]:
        lines.append(f"| {s['dataset']} | {s['family']} | – | – | – | – | – | {s['reason']} |")
    lines.append("")
    lines.append(
        f"{doc['n_paths']} paths, seed {doc['seed']}, last {doc['holdout']} of the periods "
        f"held out; {doc['seconds']:.0f} s on this machine."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--datasets", nargs="+", default=["avocado", "cigar"])
    args = parser.parse_args()

    from pricegym.demand.datasets import load_dataset
    from pricegym.demand.selection import DEFAULT_FAMILIES
    from pricegym.demand.validation import validate
    from pricegym.errors import PricegymError

    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for name in args.datasets:
        history = load_dataset(name)
        for family in DEFAULT_FAMILIES:
            try:
                res = validate(history, family, "20%", n_paths=args.paths, seed=0, quiet=True)
            except PricegymError as exc:  # e.g. a family that cannot fit a panel
                skipped.append({"dataset": name, "family": family, "reason": str(exc)[:120]})
                continue
            results.append({"dataset": name, **res.to_dict()})
            print(f"{name} {family}: {res.verdict}")
    doc = {
        "n_paths": args.paths,
        "seed": 0,
        "holdout": "20%",
        "results": results,
        "skipped": skipped,
        "seconds": time.perf_counter() - start,
    }
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    print(readme_table(doc))


if __name__ == "__main__":
    main()
