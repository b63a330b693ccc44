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
optimum, best fixed price, Nash and monopoly; then each market fitted to data is
validated on held-out history into ``validation.json``, see
:mod:`~pricegym.experiments.runner._validate`), **train** (one cell per agent that
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
    validation.json              each fitted market scored on held-out history (market.validate)
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
file system (cells read fitted models and trained policies from it).
``tests/test_runner.py`` runs it on a local Ray instance and checks it gives the
process pool's numbers; ``benchmarks/bench_ray_cluster.py`` on a two-node cluster
(byte-identical results, cells on both nodes, each cell's node in ``run.log``).

The work is split by job into private modules; the public names are re-exported here
(``__all__``), and tests import private helpers from their own module. What a run
directory holds — :class:`Cell`, :func:`plan_cells`, :class:`RunContext`,
``read_cell``, ``cell_agent``, ``eval_seeds``, ``decision_notes`` — is in
:mod:`pricegym.experiments.rundir`, which the report imports too::

    _compute          run_cell and the train / evaluate / round-robin cells, the
                      training hooks above
    _exec             where cells run: the WorkerPool (experiments.workers), Ray, progress bars,
                      one BLAS/torch thread per cell
    _files            the run directory's files: atomic JSON / CSV /
                      Parquet writes, resolved.json and inputs.json checks, run.log
    _fit              the fit stage: demand models, benchmarks, agent checks
    _validate         held-out validation of the fitted markets (validation.json)
    _results          the report stage's tables (episodes, summary, head_to_head,
                      cross_model) and RunResult

This module puts them together (:func:`run_experiment`) and holds the ``pricegym
run`` and ``pricegym evaluate`` command-line arguments.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.rundir import STAGES, Cell, RunContext, plan_cells
from pricegym.experiments.runner._compute import run_cell
from pricegym.experiments.runner._exec import _connect_ray, _execute, _import_ray
from pricegym.experiments.runner._files import (
    _input_digests,
    _prepare_dir,
    _run_log,
    _versions,
    _write_json,
)
from pricegym.experiments.runner._fit import _fit
from pricegym.experiments.runner._results import EPISODE_COLUMNS, RunResult, _report
from pricegym.experiments.runner._validate import _validate
from pricegym.experiments.schema import load_experiment
from pricegym.experiments.workers import WorkerPool

__all__ = [
    "EPISODE_COLUMNS",
    "Cell",
    "RunContext",
    "RunResult",
    "plan_cells",
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

    from pricegym.demand.io import atomic_write_bytes  # numpy

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
        _validate(cfg, directory, force)
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
    # report: ~60 ms of imports, paid only when figures are built (not with report=False)
    from pricegym.experiments.report import build_report

    build_report(run_dir)
