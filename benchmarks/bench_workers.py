"""Experiment wall time: one process against 2 reusable warm workers, side by side.

One bundled experiment (``--experiment``, default ``markdown``) scaled through its
resolved dict (``--seeds`` replicate seeds, every training budget times
``--budget-scale``; the default makes one process need >= 60 s) is run with
:func:`~pricegym.experiments.runner.run_experiment` in three ways, each in a fresh
Python interpreter (as ``pricegym run`` would be) and a fresh run directory, with
the figures off:

- ``serial``: ``jobs=1``, every cell in the driver;
- ``cold``: ``jobs=2`` with the pool the runner had before
  :class:`~pricegym.experiments.workers.WorkerPool` (spawned workers, each importing
  torch, stable-baselines3 and every agent kind in its first cell);
- ``warm``: ``jobs=2`` with the runner's :class:`WorkerPool` (workers forked from a
  fork server that imported those modules once, started before the fitting).

The three run ``--repeats`` times in interleaved order (reversed on every other
repeat), so that a change in the machine's load hits all of them alike. Reported per
variant: the median of ``run_experiment``'s own wall seconds, the speed-up over
``serial`` (the ratio of medians, with the range over the repeats' paired ratios),
and the CPU seconds of all the run's processes (driver, fork server and workers,
every one waited for: the work done, which other jobs on the machine do not
inflate). ``summary.csv`` and ``episodes.csv`` must be byte-identical across the
variants (recorded as booleans). The machine is shared: the 1-minute load average is
recorded before every run, and a load above the core count makes wall-time ratios
unreliable (the JSON says so under ``warnings``).

Usage::

    python benchmarks/bench_workers.py                 # ~6 min on 2 cores (3 x 2 runs)
    python benchmarks/bench_workers.py --quick         # CI size: ~1 min, ratios not meaningful

Writes ``benchmarks/results/workers.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "workers.json"
VARIANTS = ("serial", "cold", "warm")
#: Files of a run directory that must not depend on how the cells were run.
COMPARED = ("summary.csv", "episodes.csv")

#: One run in a fresh interpreter: argv = config JSON, run dir, variant. ``cold`` swaps
#: the runner's pool for the pre-WorkerPool one (spawn, no preload); every variant
#: stops the fork server at the end so that its CPU time is counted.
_CHILD = """
import functools, json, sys, time
from pathlib import Path
from pricegym.experiments import runner, workers

if __name__ == "__main__":
    config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    variant = sys.argv[3]
    if variant == "cold":
        runner.WorkerPool = functools.partial(workers.WorkerPool, preload=False, method="spawn")
    t0 = time.perf_counter()
    result = runner.run_experiment(
        config, sys.argv[2], jobs=1 if variant == "serial" else 2, force=True, report=False,
        progress=False, command=["benchmarks/bench_workers.py", variant],
    )
    wall = time.perf_counter() - t0
    workers.stop_fork_server()
    print(json.dumps({"run_experiment_s": wall, "computed": result.computed}))
"""


def _sibling(name: str) -> ModuleType:
    """``benchmarks/bench_<name>.py`` as a module (this folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", HERE / f"bench_{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmarks/bench_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_once(config: dict[str, Any], variant: str) -> dict[str, Any]:
    """One full run of ``config`` as ``variant`` in a fresh interpreter: times, digests."""
    with tempfile.TemporaryDirectory(prefix="bench_workers_") as folder:
        run_dir = Path(folder) / "run"
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        load = _load()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(config_path), str(run_dir), variant],
            capture_output=True,
            text=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if child.returncode != 0:
            raise RuntimeError(
                f"run_experiment as {variant!r} failed (exit {child.returncode}):\n"
                f"{child.stderr[-3000:]}"
            )
        cpu_s = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
        reported = json.loads(child.stdout.strip().splitlines()[-1])
        cell_s = 0.0
        for path in (run_dir / "cells").rglob("*.json"):
            cell_s += json.loads(path.read_text()).get("seconds", 0.0)
        digests = {n: hashlib.sha256((run_dir / n).read_bytes()).hexdigest() for n in COMPARED}
    return {
        "variant": variant,
        "wall_s": round(reported["run_experiment_s"], 2),
        "cpu_s": round(cpu_s, 2),
        "cell_seconds": round(cell_s, 2),
        "computed": reported["computed"],
        "sha256": digests,
        "load_1min": load,
    }


def summarise(runs: list[dict[str, Any]], cpus: int) -> dict[str, Any]:
    """Per-variant medians, speed-ups over ``serial``, identity of results, warnings."""
    by: dict[str, list[dict[str, Any]]] = {
        v: [r for r in runs if r["variant"] == v] for v in VARIANTS
    }
    serial = statistics.median(r["wall_s"] for r in by["serial"])
    rows = []
    for v in VARIANTS:
        walls = [r["wall_s"] for r in by[v]]
        # paired ratios: each repeat's serial run against the same repeat's run of v
        pairs = [s["wall_s"] / r["wall_s"] for s, r in zip(by["serial"], by[v], strict=True)]
        rows.append(
            {
                "variant": v,
                "jobs": 1 if v == "serial" else 2,
                "wall_s": statistics.median(walls),
                "wall_min": min(walls),
                "wall_max": max(walls),
                "speedup": serial / statistics.median(walls),
                "speedup_min": min(pairs),
                "speedup_max": max(pairs),
                "cpu_s": statistics.median(r["cpu_s"] for r in by[v]),
                "cell_seconds": statistics.median(r["cell_seconds"] for r in by[v]),
            }
        )
    same = {n: len({r["sha256"][n] for r in runs}) == 1 for n in COMPARED}
    loads = [r["load_1min"] for r in runs]
    warnings = []
    if max(loads) > cpus:
        warnings.append(
            f"the 1-minute load average reached {max(loads):.2f} on {cpus} cores during the "
            "runs: other jobs shared the CPUs, so the wall-time ratios understate (or "
            "scatter) the speed-up; the CPU seconds are the steadier measure"
        )
    if serial < 60:
        warnings.append(
            f"one process took {serial:.0f} s (< 60 s): a fixed start-up weighs more "
            "than in the >= 60 s experiment the goal is stated for"
        )
    return {
        "by_variant": rows,
        "identical": same,
        "identical_results": all(same.values()),
        "load_min": min(loads),
        "load_max": max(loads),
        "warnings": warnings,
    }


def readme_table(doc: dict[str, Any]) -> str:
    """The README table of ``workers.json``; every number comes from ``doc``."""
    names = {
        "serial": "1 process",
        "cold": "2 workers, spawned cold (before)",
        "warm": "2 workers, `WorkerPool` (warm, reused)",
    }
    lines = [
        "| run | wall s (min–max) | speed-up vs 1 (range) | efficiency | CPU s, all processes |",
        "|---|---|---|---|---|",
    ]
    for r in doc["by_variant"]:
        lines.append(
            f"| {names[r['variant']]} | {r['wall_s']:.1f} ({r['wall_min']:.1f}–"
            f"{r['wall_max']:.1f}) | {r['speedup']:.2f}× ({r['speedup_min']:.2f}–"
            f"{r['speedup_max']:.2f}) | {100 * r['speedup'] / r['jobs']:.0f}% "
            f"| {r['cpu_s']:.1f} |"
        )
    cells = ", ".join(f"{n} {stage}" for stage, n in doc["cells"].items() if n)
    same = "byte-identical" if doc["identical_results"] else "**not identical**"
    text = (
        "\n".join(lines)
        + f"\n\nExperiment `{doc['experiment']}` scaled ({doc['seeds']} seeds, training "
        f"budgets × {doc['budget_scale']:g}; cells: {cells}), {doc['repeats']} interleaved "
        f"run(s) per variant, median; `summary.csv` and `episodes.csv` {same} across the "
        f"three. 1-minute load average {doc['load_min']:.2f}–{doc['load_max']:.2f} on "
        f"{doc['machine']['cpus']} cores; total wall {doc['wall_s']:.0f} s; written by "
        "`benchmarks/bench_workers.py`."
    )
    for w in doc["warnings"]:
        text += f"\n\n**Warning:** {w}."
    return text


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--experiment", default="markdown", help="bundled name or YAML path")
    parser.add_argument("--seeds", type=int, default=8, help="replicate seeds")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="x every training budget")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant")
    parser.add_argument(
        "--quick", action="store_true", help="CI size: 2 seeds, budgets x 0.1, 1 repeat"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget_scale, args.repeats = 2, 0.1, 1
    for name in ("seeds", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}={getattr(args, name)} must be >= 1")
    if not args.budget_scale > 0:
        parser.error(f"--budget-scale={args.budget_scale} must be > 0")

    from pricegym.experiments.runner import plan_cells
    from pricegym.experiments.schema import load_experiment

    scale_down = _sibling("scaling").scale_down
    resolved = load_experiment(args.experiment).resolved()
    config, changes = scale_down(resolved, args.seeds, None, args.budget_scale)
    cfg = load_experiment(config)
    import pricegym

    cpus = os.cpu_count() or 1
    start = time.perf_counter()
    doc: dict[str, Any] = {
        "benchmark": "workers",
        "command": " ".join(["python", "benchmarks/bench_workers.py", *sys.argv[1:]]),
        "experiment": args.experiment,
        "seeds": args.seeds,
        "budget_scale": args.budget_scale,
        "changes": changes,
        "cells": {stage: len(c) for stage, c in plan_cells(cfg).items()},
        "repeats": args.repeats,
        "machine": {
            "cpus": cpus,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "pricegym": pricegym.__version__,
        },
        "runs": [],
    }
    print(f"experiment {args.experiment!r} scaled: {doc['cells']} cells", flush=True)
    for r in range(args.repeats):
        order = VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS))
        for variant in order:
            run = {"repeat": r, **run_once(cfg.resolved(), variant)}
            doc["runs"].append(run)
            print(
                f"  {variant:<6} {run['wall_s']:6.1f} s wall, {run['cpu_s']:6.1f} CPU s "
                f"(load {run['load_1min']:.2f})",
                flush=True,
            )
    doc["runs"].sort(key=lambda x: (x["variant"], x["repeat"]))
    doc.update(summarise(doc["runs"], cpus))
    doc["wall_s"] = round(time.perf_counter() - start, 1)
    from pricegym.demand.io import atomic_write_bytes

    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2) + "\n").encode())
    print(readme_table(doc))
    print(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
