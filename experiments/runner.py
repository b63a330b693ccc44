"""Run an experiment: fit → train → evaluate → tournament → report, resumable and parallel.

:func:`run_experiment` takes a validated :class:`~pricegym.experiments.schema.ExperimentConfig`
(or anything :func:`~pricegym.experiments.schema.load_experiment` reads) and writes
a run directory. The work is split into independent **cells** — one agent (or a
pair, in a round robin) × one market × one replicate seed — and each cell is the
pure function :func:`run_cell` of (resolved config, cell key, run directory):

- its seeds come from :func:`~pricegym.experiments.evaluate.derive_seeds` over the
  experiment seed and the cell's key, never from the order cells run in, so
  ``jobs=1``, ``jobs=N`` and the Ray backend give identical results;
- evaluation episodes of every agent in the same market use the same env seeds
  (paired comparisons);
- each finished cell is written to ``cells/<stage>/<id>.json`` atomically (temp
  file + rename) by the driver; a rerun skips every cell whose file exists, and
  ``force=True`` recomputes everything.

Stages: **fit** (demand models fitted once, saved to ``models/``; benchmarks: DP
optimum, best fixed price, Nash and monopoly), **train** (one cell per agent that
has a training budget × training market × seed; the trained policy is saved to
``policies/``), **evaluate** (solo cells), **tournament** (vs_rules, round_robin,
cross_model cells), **report** (episodes.csv / .parquet, summary.csv, and where
they apply head_to_head.csv and cross_model.csv).

The run directory::

    resolved.json, config.yaml   the resolved experiment (every default filled in)
    command.txt                  the command line
    versions.json                Python and package versions
    seeds.json                   the experiment seed and every cell's derived seeds
    benchmarks.json              DP optimum / best fixed price, or Nash / monopoly, per market
    models/                      fitted demand models (JSON + .npz)
    policies/                    trained agents (JSON + .npz, or the agent's own format)
    cells/                       one JSON result per finished cell
    logs/run.log                 what ran, when, and how long it took
    episodes.csv (.parquet)      tidy episode results, one row per episode
    summary.csv                  the league table (experiments.stats.league_table)

Training hooks (duck-typed, so every agent kind meets the same runner): an agent
with a ``train`` method is trained by calling it with the market env and the
budget (``timesteps``/``total_timesteps``, ``episodes``, ``seed`` — whichever it
accepts); any other agent that ``learns`` is trained online for ``episodes``
episodes (or ``ceil(periods / horizon)``) with ``update`` after every step;
an agent with an ``explore`` flag explores while it trains and plays as configured
afterwards; an agent class with ``from_market(env, seat=..., **params)`` is built
from its oligopoly (Q-learning's initial table). Two Q-learners of the same
hyper-parameters in a round robin are trained together with
:func:`pricegym.agents.qlearning.run_sessions` (vectorised; the online loop
gives the same algorithm, far slower). A Q-learner with a ``periods`` budget
against sellers that do not learn (a round robin with a rule or a saved policy, or
its ``vs_rules`` training) is trained in one session by
:func:`pricegym.agents.qlearning.train_against` with the same convergence rule:
compiled against deterministic rules and fixed strategies, in Python after a time
estimate (refused above ``train.max_python_seconds``) against the others.

Ray (``backend="ray"``): the same :func:`run_cell` runs as a Ray task
(``ray.init(address=...)``); it needs the optional extra ``pip install
"pricegym[ray]"`` and, on a multi-machine cluster, a run directory on a shared
file system (cells read fitted models and trained policies from it). The Ray path
could not be exercised on the machine this was written on (Ray is not installed
there).

The work is split by job into private modules; every name (public or private) is
re-exported here, so import from this module, not from them::

    _runner_cells    Cell, plan_cells, RunContext, cell_agent, eval_seeds (the plan,
                     and what a cell is built from)
    _runner_compute  run_cell and the train / evaluate / round-robin cells, the
                     training hooks above
    _runner_exec     where cells run: the spawn process pool, Ray, progress bars,
                     one BLAS/torch thread per cell
    _runner_files    the run directory's files: read_cell, atomic JSON / CSV /
                     Parquet writes, resolved.json and inputs.json checks, run.log
    _runner_fit      the fit stage: demand models, benchmarks, agent checks
    _runner_results  the report stage's tables (episodes, summary, head_to_head,
                     cross_model) and RunResult

This module puts them together (:func:`run_experiment`) and holds the ``pricegym
run`` and ``pricegym evaluate`` command-line arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments._runner_cells import (
    STAGES,
    Cell,
    RunContext,
    cell_agent,
    eval_seeds,
    needs_training,
    plan_cells,
)
from pricegym.experiments._runner_cells import _model_path as _model_path
from pricegym.experiments._runner_compute import _DEFAULT_CONVERGENCE as _DEFAULT_CONVERGENCE
from pricegym.experiments._runner_compute import _call_train as _call_train
from pricegym.experiments._runner_compute import _check_same_layout as _check_same_layout
from pricegym.experiments._runner_compute import _episodes_for as _episodes_for
from pricegym.experiments._runner_compute import _eval_cell as _eval_cell
from pricegym.experiments._runner_compute import _exploring as _exploring
from pricegym.experiments._runner_compute import _horizon as _horizon
from pricegym.experiments._runner_compute import _qlearning_selfplay as _qlearning_selfplay
from pricegym.experiments._runner_compute import _round_robin_cell as _round_robin_cell
from pricegym.experiments._runner_compute import _rows as _rows
from pricegym.experiments._runner_compute import _same_hyperparameters as _same_hyperparameters
from pricegym.experiments._runner_compute import _save as _save
from pricegym.experiments._runner_compute import _train_cell as _train_cell
from pricegym.experiments._runner_compute import _train_oligopoly as _train_oligopoly
from pricegym.experiments._runner_compute import _train_single as _train_single
from pricegym.experiments._runner_compute import run_cell
from pricegym.experiments._runner_exec import _connect_ray as _connect_ray
from pricegym.experiments._runner_exec import _execute as _execute
from pricegym.experiments._runner_exec import _execute_pool as _execute_pool
from pricegym.experiments._runner_exec import _execute_ray as _execute_ray
from pricegym.experiments._runner_exec import _import_ray as _import_ray
from pricegym.experiments._runner_exec import _limit_threads as _limit_threads
from pricegym.experiments._runner_exec import _Pool as _Pool
from pricegym.experiments._runner_exec import _progress as _progress
from pricegym.experiments._runner_exec import _torch_threads as _torch_threads
from pricegym.experiments._runner_exec import _worker_init as _worker_init
from pricegym.experiments._runner_files import _MARKER as _MARKER
from pricegym.experiments._runner_files import _PACKAGES as _PACKAGES
from pricegym.experiments._runner_files import _atomic_csv as _atomic_csv
from pricegym.experiments._runner_files import _atomic_parquet as _atomic_parquet
from pricegym.experiments._runner_files import _comparable as _comparable
from pricegym.experiments._runner_files import _has as _has
from pricegym.experiments._runner_files import _input_digests as _input_digests
from pricegym.experiments._runner_files import _prepare_dir as _prepare_dir
from pricegym.experiments._runner_files import _run_log as _run_log
from pricegym.experiments._runner_files import _strict as _strict
from pricegym.experiments._runner_files import _versions as _versions
from pricegym.experiments._runner_files import _write_json as _write_json
from pricegym.experiments._runner_files import read_cell
from pricegym.experiments._runner_fit import _check_agents_fit as _check_agents_fit
from pricegym.experiments._runner_fit import _check_benchmarks as _check_benchmarks
from pricegym.experiments._runner_fit import _check_rivals_possible as _check_rivals_possible
from pricegym.experiments._runner_fit import _fit as _fit
from pricegym.experiments._runner_fit import _fresh as _fresh
from pricegym.experiments._runner_results import EPISODE_COLUMNS as EPISODE_COLUMNS
from pricegym.experiments._runner_results import RunResult
from pricegym.experiments._runner_results import _report as _report
from pricegym.experiments.workers import WorkerPool

# `NAME as NAME` above: re-exported beside __all__ (what tests, the report and the
# benchmarks import from this module, private helpers included)
__all__ = [
    "STAGES",
    "Cell",
    "RunContext",
    "RunResult",
    "cell_agent",
    "cli_run",
    "configure_evaluate_parser",
    "configure_run_parser",
    "eval_seeds",
    "needs_training",
    "plan_cells",
    "read_cell",
    "run_cell",
    "run_experiment",
]

_log = logging.getLogger("pricegym.experiments")


def run_experiment(
    config: Any,
    run_dir: str | Path | None = None,
    jobs: int = 1,
    force: bool = False,
    backend: str = "process",
    *,
    address: str | None = None,
    progress: bool | None = None,
    command: Sequence[str] | None = None,
    report: bool = True,
) -> RunResult:
    """Run (or resume) an experiment and write its run directory.

    Args:
        config: an :class:`ExperimentConfig`, or anything :func:`load_experiment`
            reads (a YAML path, a bundled name, a dict).
        run_dir: the run directory (default: ``output.dir``, else ``runs/<name>``).
        jobs: cells run at once (``jobs > 1``: a :class:`~pricegym.experiments.workers.WorkerPool`).
        force: recompute every cell (and refit the models) instead of resuming.
        backend: ``"process"`` or ``"ray"`` (the optional extra ``pricegym[ray]``).
        address: the Ray cluster to join (``None``: start a local Ray).
        progress: show progress bars (``None``: when stderr is a terminal).
        command: the command line to record (default ``sys.argv``).
        report: draw the figures and ``index.html`` at the end (``pricegym report``
            can draw them later from the saved results).

    Returns:
        A :class:`RunResult` with the league table and the episode table.

    Raises:
        ConfigError: an invalid config, a run directory holding another experiment
            (without ``force``), ``jobs < 1``, an unknown backend, Ray missing, or no Ray
            cluster at ``address`` (checked before the run directory is made).
    """
    from pricegym.experiments.schema import load_experiment

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs={jobs!r} must be an integer >= 1. Fix: e.g. --jobs 2.")
    if backend not in ("process", "ray"):
        raise ConfigError(f"backend={backend!r} is unknown. Fix: use 'process' or 'ray'.")
    if address is not None and backend != "ray":
        raise ConfigError(
            f"address={address!r} is only used with backend 'ray'. Fix: add --backend ray."
        )
    if backend == "ray":
        _import_ray()
        if address is not None:
            _connect_ray(address, jobs)  # before the run directory: a bad address leaves none
    cfg = load_experiment(config)
    directory = cfg.run_dir(run_dir)
    resolved = cfg.resolved()
    _prepare_dir(directory, resolved, _input_digests(cfg), force)
    import yaml

    from pricegym.demand.io import atomic_write_bytes

    atomic_write_bytes(
        directory / "config.yaml", yaml.safe_dump(resolved, sort_keys=False).encode()
    )
    atomic_write_bytes(
        directory / "command.txt",
        (shlex.join(command if command is not None else sys.argv) + "\n").encode(),
    )
    _write_json(directory / "versions.json", _versions())
    plan = plan_cells(cfg)
    computed: dict[str, int] = {}
    skipped: dict[str, int] = {}
    pool = WorkerPool(jobs)
    if backend == "process" and jobs > 1:
        pool.start()  # the workers' imports overlap the fitting below
    with _run_log(directory), contextlib.closing(pool):
        _log.info("run %s: %s cells", cfg.name, {s: len(c) for s, c in plan.items()})
        benchmarks = _fit(cfg, directory, force, progress)
        for stage in STAGES:
            computed[stage], skipped[stage] = _execute(
                plan[stage],
                resolved,
                directory,
                stage=stage,
                pool=pool,
                backend=backend,
                address=address,
                force=force,
                show=progress,
                compute=run_cell,
            )
        summary, episodes = _report(cfg, directory, plan, benchmarks)
        _log.info("report written: %d episodes, %d league rows", len(episodes), len(summary))
        if report:
            _build_figures(directory)
    return RunResult(directory, summary, episodes, benchmarks, computed, skipped)


def _build_figures(run_dir: Path) -> None:
    """Figures and index.html of the run (see :mod:`pricegym.experiments.report`)."""
    from pricegym.experiments.report import build_report

    build_report(run_dir)


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


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def cli_run(args: argparse.Namespace) -> int:
    """``pricegym run [CONFIG|NAME] [--jobs N] [--force] [--out DIR] [--backend B --address A]``.

    Runs (or resumes) the experiment, prints the league table and returns 0; errors
    are :class:`~pricegym.errors.PricegymError` for the CLI's exit code 2.
    """
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
    from pricegym.experiments._runner_results import decision_notes

    for note in decision_notes(result.benchmarks, s):
        console.print(Text(f"Note: {note}"))
    if "few_seeds" in s.columns and s["few_seeds"].any():
        from pricegym.experiments.stats import few_seeds_note

        console.print(Text(few_seeds_note(s)))
    ran = sum(result.computed.values())
    kept = sum(result.skipped.values())
    console.print(
        Text(
            f"{ran} cells computed, {kept} reused; results in {result.run_dir} "
            "(summary.csv, episodes.csv)."
        )
    )


# The evaluate command's arguments live here, beside the run command's, because this
# module is cheap to import and the CLI builds every parser on each start.
def configure_evaluate_parser(parser: Any) -> None:
    """Arguments of ``pricegym evaluate POLICY --market CONFIG_OR_NAME --episodes N --seed S``."""
    parser.add_argument(
        "policy",
        metavar="POLICY",
        help="a saved agent (.json written by agent.save) or an agent kind (e.g. fixed_price)",
    )
    parser.add_argument(
        "--market",
        metavar="CONFIG_OR_NAME",
        help="a registered env id, a bundled experiment name or an experiment YAML (its market; "
        "required unless --logged)",
    )
    parser.add_argument(
        "--episodes", type=int, default=10, metavar="N", help="episodes (default 10)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    parser.add_argument(
        "--rival",
        action="append",
        metavar="KIND",
        help="a rule-based rival's kind (repeatable; the other seats of an oligopoly)",
    )
    parser.add_argument(
        "--train-episodes",
        type=int,
        default=None,
        metavar="N",
        help="first train an online learner (a bandit) for N episodes (default: 20 for a new "
        "one given by its kind, 0 for a saved policy)",
    )
    parser.add_argument(
        "--learn-online",
        action="store_true",
        help="keep learning (and exploring) during the evaluation episodes; default: frozen, "
        "bandits play their greedy price",
    )
    parser.add_argument("--out", metavar="CSV", help="write the episode table to this CSV file")
    from pricegym.experiments.offpolicy_cli import configure_logged_arguments

    configure_logged_arguments(parser)
