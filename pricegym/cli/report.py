"""``pricegym report RUN_DIR``: rebuild a run's figures and index.html
(:mod:`pricegym.experiments.report`)."""

from __future__ import annotations

import argparse


# ==================================================================== CLI
def configure_report_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym report RUN_DIR``."""
    parser.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run directory written by `pricegym run` (e.g. runs/quickstart)",
    )


def cli_report(args: argparse.Namespace) -> int:
    """``pricegym report RUN_DIR``: rebuild the figures and index.html from the saved results.

    Prints where the page is, the figures drawn and the ones skipped with the
    reason; returns 0. A directory that is not a finished run raises
    :class:`~pricegym.errors.ConfigError` (exit code 2 from the CLI).
    """
    import sys

    from pricegym.experiments.report import render_report

    report = render_report(args.run_dir)
    lines = [f"report: {report.index}", f"{len(report.figures)} figure(s):"]
    lines += [f"  {f.file}  {f.title}" for f in report.figures]
    if report.skipped:
        lines.append(f"{len(report.skipped)} not drawn:")
        lines += [f"  {s.title}: {s.reason}" for s in report.skipped]
    lines += [f"note: {n}" for n in report.notes]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
