"""``pricegym run [CONFIG|NAME]``: run or resume an experiment
(:mod:`pricegym.experiments.runner`) and print its league table."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pricegym.cli._common import _positive_int as _jobs  # --jobs N: an integer >= 1

if TYPE_CHECKING:
    from pricegym.experiments.runner import RunResult


def _configure_run(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.schema import bundled_experiments
    from pricegym.experiments.starter import bundled_dir

    configure_run_parser(parser)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        f"bundled experiments: {', '.join(bundled_experiments())}\n"
        f"  (YAML files in {bundled_dir()})\n"
        "your own experiment:\n"
        "  pricegym init NAME                     write NAME.yaml, a commented starter\n"
        "  pricegym init NAME --from quickstart   or a copy of a bundled one\n"
        "  pricegym init NAME --example           or the README walk-through's CSV + YAML\n"
        "  pricegym run NAME.yaml                 run it\n"
        "every key of the file: docs/experiment-schema.md\n"
        "  (or python -m pricegym.experiments.schema_doc)"
    )


# ==================================================================== CLI
def configure_run_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym run``."""
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        metavar="CONFIG|NAME",
        help="experiment YAML file or bundled name (default: quickstart)",
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N", help="cells run in parallel (default 1)"
    )
    parser.add_argument(
        "--force", action="store_true", help="recompute every cell instead of resuming"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="run directory (default: output.dir or runs/NAME)",
    )
    parser.add_argument(
        "--backend",
        choices=("process", "ray"),
        default="process",
        help="where cells run (default: process)",
    )
    parser.add_argument(
        "--address", metavar="ADDR", default=None, help="Ray cluster address (with --backend ray)"
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="skip the figures and index.html (draw them later with `pricegym report RUN_DIR`)",
    )


def cli_run(args: argparse.Namespace) -> int:
    """``pricegym run [CONFIG|NAME] [--jobs N] [--force] [--out DIR] [--backend B --address A]``.

    Runs (or resumes) the experiment, prints the league table and returns 0; errors
    are :class:`~pricegym.errors.PricegymError` for the CLI's exit code 2.
    """
    from pricegym.experiments.runner import run_experiment

    result = run_experiment(
        args.config,
        run_dir=args.out,
        jobs=args.jobs,
        force=args.force,
        backend=args.backend,
        address=args.address,
        report=not args.no_report,
    )
    _print_summary(result)
    return 0


def _print_summary(result: RunResult) -> None:
    """The league table as a rich table on stdout (columns that apply to the markets)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 140)
    s = result.summary

    def num(v: Any, fmt: str | None = None) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "–"
        if fmt is None:  # large amounts with thousands separators, the rest 4 digits
            fmt = "{:,.0f}" if abs(v) >= 1e4 else "{:.4g}"
        return fmt.format(v)

    def ci(r: Any, key: str, fmt: str | None = None) -> str:
        return f"{num(r[key], fmt)} [{num(r[key + '_low'], fmt)}, {num(r[key + '_high'], fmt)}]"

    columns: list[tuple[str, Callable[[Any], str]]] = []
    if s["mode"].nunique() > 1:
        columns.append(("mode", lambda r: str(r["mode"])))
    columns += [
        ("market", lambda r: str(r["market"])),
        ("rank", lambda r: str(r["rank"])),
        ("agent", lambda r: str(r["agent"])),
        ("profit/episode [95% CI]", lambda r: ci(r, "mean")),
        ("IQM", lambda r: num(r["iqm"])),
    ]
    if "pct_of_optimum" in s.columns:
        columns.append(
            (
                "% of DP optimum [95% CI]",
                lambda r: (
                    f"{num(r.get('pct_of_optimum'), '{:.1f}%')} "
                    f"[{num(r.get('pct_low'), '{:.1f}')}, {num(r.get('pct_high'), '{:.1f}')}]"
                ),
            )
        )
    if "exact" in s.columns:
        columns.append(
            (
                "exact (DP)",
                lambda r: (
                    num(r.get("exact"))
                    + (f" ({num(r.get('exact_pct'), '{:.1f}%')})" if "exact_pct" in r else "")
                ),
            )
        )
    if "gain_share" in s.columns:
        columns.append(("gain share", lambda r: num(r.get("gain_share"), "{:.2f}")))
    if "delta" in s.columns:
        columns.append(("Δ (collusion) [95% CI]", lambda r: ci(r, "delta", "{:.3f}")))
    columns.append(("avg price", lambda r: num(r.get("avg_price"))))
    edge = s["grid_edge"] if "grid_edge" in s.columns else None
    if edge is not None and edge.map(lambda e: isinstance(e, str) and e != "").any():
        columns.append(
            (
                "at grid edge",
                lambda r: f"{r['grid_edge']} price" if isinstance(r.get("grid_edge"), str) else "",
            )
        )
    if s["sell_through"].notna().any():
        columns.append(("sell-through", lambda r: num(r.get("sell_through"), "{:.0%}")))
    if "ci_basis" in s.columns:
        columns.append(("CI over", lambda r: str(r["ci_basis"])))
    table = Table(title=f"League table — {result.run_dir}")
    for title, _ in columns:
        table.add_column(title, justify="left" if title in ("mode", "market", "agent") else "right")
    for _, r in s.iterrows():
        table.add_row(*(Text(fn(r)) for _, fn in columns))
    console.print(table)
    from pricegym.experiments.rundir import decision_notes

    for note in decision_notes(result.benchmarks, s):
        console.print(Text(f"Note: {note}"))
    if "few_seeds" in s.columns and s["few_seeds"].any():
        from pricegym.experiments.stats import few_seeds_note

        console.print(Text(few_seeds_note(s)))
    from pricegym.experiments.runner._validate import validation_lines

    for line in validation_lines(result.run_dir):
        console.print(Text(line))
    ran = sum(result.computed.values())
    kept = sum(result.skipped.values())
    console.print(
        Text(
            f"{ran} cells computed, {kept} reused; results in {result.run_dir} "
            "(summary.csv, episodes.csv)."
        )
    )
