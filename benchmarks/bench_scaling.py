"""How training speed depends on the demand model, and experiment time on the processes.

Two questions, each answered with ratios measured side by side in the same run
(the machine is shared and noisy: no wall-clock number is a goal here).

1. **Training frames per second per demand-model family.** One market per family of
   :data:`~pricegym.demand.selection.DEFAULT_FAMILIES` (linear, loglinear, poisson,
   arimax, neural): the family's model is fitted with its default settings to the
   bundled ``avocado`` history, saved, and loaded as ``pricegym/Fitted-v0``
   (``gymnasium.make(..., model_path=...)``). :class:`~pricegym.agents.sb3.SB3Agent`
   PPO with our YAML defaults (``agents/hyperparams/ppo.yaml``, the entry of that
   id, else ``default``: 128 batched markets through the SB3 VecEnv adapter, the
   periodic evaluation callback included, as a user gets it) trains
   ``--timesteps`` frames on each; frames/s = frames trained / wall seconds of the
   whole ``train`` call. The yardstick is SB3's PPO with its default settings on
   ``CartPole-v1`` in 8 ``DummyVecEnv`` copies (``sb3_default_fps`` of
   ``benchmarks/bench_training.py``), timed before and after the families; each
   family's ratio is to the mean of the two, with the range over the two. A short
   untimed training first absorbs one-off start-up costs. The same is also
   reported on process CPU time (less sensitive to other jobs on the machine).
2. **Experiment wall time against the number of processes.** A bundled experiment
   (``--experiment``, default ``markdown``) is scaled down through its resolved dict
   (``--seeds`` replicate seeds, every training budget times ``--budget-scale``) so
   that one process needs ~30–60 s, then run with
   :func:`~pricegym.experiments.runner.run_experiment` at each of ``--jobs`` process
   counts (default 1, 2, 4, … up to ``os.cpu_count()``), ``--repeats`` times (the
   order reversed on every other repeat), each in a fresh Python interpreter (as
   ``pricegym run`` would be: one process starts as cold as its workers) and a fresh
   temporary run directory, with the figures off (``report=False``). Reported: the
   median of ``run_experiment``'s own wall seconds, speed-up over one process,
   parallel efficiency (speed-up / processes), and the CPU seconds of all the run's
   processes (the work done, which other jobs on the machine do not inflate). The
   runner promises that every cell is a pure function of the config and the cell
   key, so ``summary.csv`` and ``episodes.csv`` must be byte-identical whatever the
   number of processes; the check is recorded as a boolean. Fitting runs before the
   cells and is serial, the spawned workers pay their own imports, and stages run
   one after the other, so the speed-up is bounded by the cells of each stage
   (recorded per stage).

Part 1 runs torch and numpy's BLAS on one thread; part 2's cells do too (the
runner's own setting). The JSON is rewritten after each part, so an interrupted
run keeps what finished.

Usage::

    python benchmarks/bench_scaling.py            # ~4-7 min on 2 cores (more when busy)
    python benchmarks/bench_scaling.py --families linear --timesteps 4096 \\
        --cartpole-frames 16384 --budget-scale 0.05 --seeds 2 --repeats 1 \\
        --out /tmp/scaling.json                               # a quick look

Writes ``benchmarks/results/scaling.json`` and ``scaling.png`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import copy
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
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from threadpoolctl import threadpool_limits

import pricegym
from pricegym.agents.sb3 import SB3Agent
from pricegym.demand.datasets import load_dataset
from pricegym.demand.io import atomic_write_bytes
from pricegym.demand.selection import DEFAULT_FAMILIES, make_model
from pricegym.experiments.rundir import plan_cells
from pricegym.experiments.schema import load_experiment

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "scaling.json"
ENV_ID = "pricegym/Fitted-v0"
YARDSTICK = "CartPole-v1"
#: Training-budget keys of an experiment's agents that ``--budget-scale`` multiplies.
BUDGET_KEYS = ("timesteps", "episodes", "periods")
#: Files of a run directory that must not depend on the number of processes.
COMPARED = ("summary.csv", "episodes.csv")


def _sibling(name: str) -> ModuleType:
    """``benchmarks/bench_<name>.py`` as a module (this folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", HERE / f"bench_{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmarks/bench_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _write(doc: dict[str, Any], path: Path) -> None:
    atomic_write_bytes(path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())


# ==================================================================== part 1: frames/s
def fit_markets(families: Sequence[str], dataset: str, folder: Path) -> dict[str, dict[str, Any]]:
    """Fit each family (default settings) to ``dataset``; save it to ``folder``.

    Returns, per family, the saved model's path, the fitting seconds and the
    warnings the fit raised (fits are left to warn; the benchmark does not judge them).
    """
    history = load_dataset(dataset)
    out = {}
    for family in families:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = make_model(family).fit(history)
        fit_s = time.perf_counter() - t0
        path = model.save(folder / f"{family}.json")
        texts = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        out[family] = {"path": str(path), "fit_s": round(fit_s, 2), "fit_warnings": texts}
        print(f"  fitted {family:<9} in {fit_s:5.1f} s", flush=True)
    return out


def train_fps(model_path: str, timesteps: int, seed: int) -> dict[str, Any]:
    """Frames/s of PPO with our defaults on ``pricegym/Fitted-v0`` with the saved model."""
    env = gym.make(ENV_ID, model_path=model_path)
    agent = SB3Agent("ppo", seed=seed)
    load = _load()
    t0, c0 = time.perf_counter(), time.process_time()
    agent.train(env, timesteps, progress_bar=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    frames = int(agent.num_timesteps_)
    return {
        "mode": str(env.unwrapped.mode),
        "observations": int(env.observation_space.shape[0]),
        "frames": frames,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "fps": frames / wall,
        "fps_cpu": frames / cpu,
        "load_1min": load[0],
    }


def cartpole_fps(frames: int) -> dict[str, Any]:
    """SB3-default PPO on 8 ``DummyVecEnv`` CartPoles (bench_training's yardstick)."""
    sb3_default_fps = _sibling("training").sb3_default_fps
    load = _load()
    c0 = time.process_time()
    result = dict(sb3_default_fps(lambda: gym.make(YARDSTICK), frames))
    cpu = time.process_time() - c0  # the whole call: model construction included (~1%)
    # SB3 trains whole rollouts (8 × 2048 frames): count the frames it trained, not those asked
    # for (``sb3_default_fps`` divides the requested number).
    result["fps"] = result["frames"] / result["wall_s"]
    result.update({"cpu_s": round(cpu, 3), "fps_cpu": result["frames"] / cpu, "load_1min": load[0]})
    return result


def training_part(args: argparse.Namespace, doc: dict[str, Any]) -> dict[str, Any]:
    """Part 1: fit, warm up, time CartPole, every family, CartPole again."""
    hp = SB3Agent("ppo").resolve_hyperparams(ENV_ID)
    part: dict[str, Any] = {
        "dataset": args.dataset,
        "env_id": ENV_ID,
        "algo": "ppo",
        "hyperparams": hp,
        "timesteps": args.timesteps,
        "seed": args.seed,
        "yardstick": {"env_id": YARDSTICK, "algo": "SB3 PPO defaults", "n_envs": 8},
        "families": [],
    }
    doc["training"] = part
    with tempfile.TemporaryDirectory(prefix="bench_scaling_models_") as folder:
        print(f"Part 1: PPO frames/s on {ENV_ID} fitted to {args.dataset!r}", flush=True)
        fitted = fit_markets(args.families, args.dataset, Path(folder))
        warmup = 2 * int(hp["n_envs"]) * int(hp["n_steps"])
        t0 = time.perf_counter()
        train_fps(fitted[args.families[0]]["path"], warmup, args.seed)
        part["warmup"] = {"frames": warmup, "wall_s": round(time.perf_counter() - t0, 2)}
        before = cartpole_fps(args.cartpole_frames)
        print(
            f"  SB3-default PPO, {YARDSTICK} x8 (before): {before['fps']:,.0f} frames/s", flush=True
        )
        rows = []
        for family in args.families:
            timing = train_fps(fitted[family]["path"], args.timesteps, args.seed)
            row = {"family": family, **fitted[family], **timing}
            del row["path"]
            rows.append(row)
            print(
                f"  {family:<9} ({row['mode']}): {row['frames']:,} frames in {row['wall_s']:.1f} s"
                f" = {row['fps']:,.0f} frames/s (CPU time: {row['fps_cpu']:,.0f})",
                flush=True,
            )
        after = cartpole_fps(args.cartpole_frames)
        print(
            f"  SB3-default PPO, {YARDSTICK} x8 (after):  {after['fps']:,.0f} frames/s", flush=True
        )
    base = 0.5 * (before["fps"] + after["fps"])
    base_cpu = 0.5 * (before["fps_cpu"] + after["fps_cpu"])
    for row in rows:
        pair = (row["fps"] / before["fps"], row["fps"] / after["fps"])
        row.update(
            {
                "ratio": row["fps"] / base,
                "ratio_min": min(pair),
                "ratio_max": max(pair),
                "ratio_cpu": row["fps_cpu"] / base_cpu,
            }
        )
    part["yardstick"].update({"before": before, "after": after, "fps": base, "fps_cpu": base_cpu})
    part["families"] = rows
    return part


# ==================================================================== part 2: processes
def scale_down(
    resolved: dict[str, Any], seeds: int, episodes: int | None, budget_scale: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A smaller copy of a resolved experiment, and what changed (old → new)."""
    cfg = copy.deepcopy(resolved)
    ev = cfg["evaluation"]
    changes: dict[str, Any] = {"evaluation.seeds": [ev["seeds"], list(range(seeds))]}
    ev["seeds"] = list(range(seeds))
    if episodes is not None:
        changes["evaluation.episodes"] = [ev["episodes"], episodes]
        ev["episodes"] = episodes
    for agent in cfg["agents"]:
        for key in BUDGET_KEYS:
            if key in agent.get("train", {}):
                old = agent["train"][key]
                agent["train"][key] = max(1, round(old * budget_scale))
                changes[f"agents.{agent['name']}.train.{key}"] = [old, agent["train"][key]]
    return cfg, changes


def default_jobs() -> list[int]:
    """1, 2, 4, … up to the machine's cores, and the core count itself (always 1 and 2)."""
    cpus = os.cpu_count() or 1
    jobs = {1, 2, cpus}
    n = 4
    while n < cpus:
        jobs.add(n)
        n *= 2
    return sorted(jobs)


#: What each run executes in a fresh interpreter: ``run_experiment`` on the config in
#: argv[1], run directory argv[2], argv[3] processes; prints its own wall time as JSON.
_CHILD = """
import json, sys, time
from pathlib import Path
from pricegym.experiments.runner import run_experiment

if __name__ == "__main__":
    config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    result = run_experiment(
        config, sys.argv[2], jobs=int(sys.argv[3]), force=True, report=False, progress=False,
        command=["benchmarks/bench_scaling.py", "--jobs", sys.argv[3]],
    )
    wall = time.perf_counter() - t0
    print(json.dumps({"run_experiment_s": wall, "computed": result.computed}))
"""


def run_once(config: dict[str, Any], jobs: int) -> dict[str, Any]:
    """One full run in a fresh interpreter and temporary directory: times and digests.

    A fresh interpreter per run, as ``pricegym run`` would be, so that one process
    does not inherit the imports and warm caches of this script while ``jobs``
    workers start cold. ``wall_s`` is ``run_experiment``'s own time (imports of the
    cells included, interpreter start-up not); ``process_s`` the whole child.
    """
    with tempfile.TemporaryDirectory(prefix="bench_scaling_run_") as folder:
        run_dir = Path(folder) / "run"
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        load = _load()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(config_path), str(run_dir), str(jobs)],
            capture_output=True,
            text=True,
            check=False,
        )
        process_s = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the child and its (waited-for) workers: the work done, whatever
        # else runs on the machine
        cpu_s = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
        if child.returncode != 0:
            raise RuntimeError(
                f"run_experiment with jobs={jobs} failed (exit {child.returncode}):\n"
                f"{child.stderr[-3000:]}"
            )
        reported = json.loads(child.stdout.strip().splitlines()[-1])
        cell_s: dict[str, float] = {}
        for stage_dir in sorted((run_dir / "cells").iterdir()):
            cells = [json.loads(p.read_text()) for p in stage_dir.glob("*.json")]
            cell_s[stage_dir.name] = round(sum(c.get("seconds", 0.0) for c in cells), 2)
        digests = {
            name: hashlib.sha256((run_dir / name).read_bytes()).hexdigest() for name in COMPARED
        }
    return {
        "jobs": jobs,
        "wall_s": round(reported["run_experiment_s"], 2),
        "process_s": round(process_s, 2),
        "cpu_s": round(cpu_s, 2),
        "cell_seconds": cell_s,
        "computed": reported["computed"],
        "sha256": digests,
        "load_1min": load[0],
    }


def processes_part(args: argparse.Namespace, doc: dict[str, Any], out: Path) -> dict[str, Any]:
    """Part 2: the scaled-down experiment at each process count."""
    resolved = load_experiment(args.experiment).resolved()
    small, changes = scale_down(resolved, args.seeds, args.episodes, args.budget_scale)
    cfg = load_experiment(small)  # validates the changes
    part: dict[str, Any] = {
        "experiment": args.experiment,
        "changes": changes,
        "budget_scale": args.budget_scale,
        "config": cfg.resolved(),
        "cells": {stage: len(cells) for stage, cells in plan_cells(cfg).items()},
        "jobs": args.jobs,
        "repeats": args.repeats,
        "runs": [],
    }
    doc["processes"] = part
    print(
        f"Part 2: experiment {args.experiment!r} scaled down ({part['cells']} cells) at "
        f"{args.jobs} processes, {args.repeats} repeat(s)",
        flush=True,
    )
    for r in range(args.repeats):
        order = args.jobs if r % 2 == 0 else list(reversed(args.jobs))
        for jobs in order:
            run = {"repeat": r, **run_once(cfg.resolved(), jobs)}
            part["runs"].append(run)
            print(f"  jobs={jobs}: {run['wall_s']:.1f} s", flush=True)
            _write(doc, out)
    one = statistics.median(x["wall_s"] for x in part["runs"] if x["jobs"] == 1)
    part["by_jobs"] = []
    for jobs in args.jobs:
        runs = [x for x in part["runs"] if x["jobs"] == jobs]
        walls = [x["wall_s"] for x in runs]
        wall = statistics.median(walls)
        part["by_jobs"].append(
            {
                "jobs": jobs,
                "wall_s": wall,
                "wall_min": min(walls),
                "wall_max": max(walls),
                "speedup": one / wall,
                "efficiency": one / wall / jobs,
                # the cells' own seconds summed: more than with one process means each cell
                # ran slower (worker start-up, contention), not that the work stayed serial
                "cell_seconds": statistics.median(sum(x["cell_seconds"].values()) for x in runs),
                "cpu_s": statistics.median(x["cpu_s"] for x in runs),
            }
        )
    same = {name: len({x["sha256"][name] for x in part["runs"]}) == 1 for name in COMPARED}
    part["identical"] = same
    part["identical_results"] = all(same.values())
    return part


# ==================================================================== report
def plot(doc: dict[str, Any], path: Path) -> None:
    """Left: frames/s per family with the CartPole yardstick. Right: wall time vs processes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    tr = doc.get("training")
    if tr and tr["families"]:
        rows, yard = tr["families"], tr["yardstick"]
        x = np.arange(len(rows))
        ax.bar(x, [r["fps"] for r in rows], color="tab:blue", alpha=0.8, label="wall time")
        ax.plot(x, [r["fps_cpu"] for r in rows], "o", color="tab:orange", label="CPU time")
        ax.axhline(yard["fps"], color="tab:red", ls="--", label=f"SB3-default PPO, {YARDSTICK} ×8")
        ax.axhspan(
            min(yard["before"]["fps"], yard["after"]["fps"]),
            max(yard["before"]["fps"], yard["after"]["fps"]),
            color="tab:red",
            alpha=0.15,
        )
        for i, r in enumerate(rows):
            ax.annotate(f"{r['ratio']:.1f}×", (i, r["fps"]), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [f"{r['family']}\n({r['mode']})" for r in rows], fontsize=8)
        ax.set_ylabel("training frames / s")
        ax.set_title(f"PPO (pricegym defaults) on {tr['env_id']}, {tr['dataset']}")
        top = max(yard["fps"], *(r["fps"] for r in rows), *(r["fps_cpu"] for r in rows))
        ax.set_ylim(0, 1.3 * top)
        ax.legend(fontsize=7, loc="upper center", ncol=3)
        ax.grid(alpha=0.3, axis="y")
    pr = doc.get("processes")
    if pr and pr.get("by_jobs"):
        jobs = np.array([b["jobs"] for b in pr["by_jobs"]], dtype=float)
        walls = np.array([b["wall_s"] for b in pr["by_jobs"]])
        bx.plot(
            [x["jobs"] for x in pr["runs"]], [x["wall_s"] for x in pr["runs"]], ".", color="0.5"
        )
        bx.plot(jobs, walls, "o-", color="tab:blue", label="measured (median)")
        bx.plot(jobs, walls[0] / jobs, "k:", label="ideal: T(1) / n")
        for b in pr["by_jobs"]:
            bx.annotate(
                f"{b['speedup']:.2f}×, {100 * b['efficiency']:.0f}%",
                (b["jobs"], b["wall_s"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
        bx.set_xscale("log", base=2)
        bx.set_xlim(jobs[0] / 1.3, jobs[-1] * 1.6)
        bx.set_ylim(0, 1.15 * max(x["wall_s"] for x in pr["runs"]))
        bx.set_xticks(jobs, [str(int(j)) for j in jobs])
        bx.set_xlabel("processes (jobs)")
        bx.set_ylabel("wall s")
        same = "identical" if pr["identical_results"] else "DIFFERENT"
        bx.set_title(f"experiment {pr['experiment']!r} (scaled down): results {same}")
        bx.legend(fontsize=8)
        bx.grid(alpha=0.3, which="both")
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def readme_table(doc: dict[str, Any]) -> str:
    """Markdown tables of ``scaling.json``; every number comes from ``doc``."""
    parts = []
    tr = doc.get("training")
    if tr and tr["families"]:
        yard = tr["yardstick"]
        lines = [
            "| market | demand path | fit s | frames | frames/s | × CartPole (range) "
            "| × CartPole, CPU time |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in tr["families"]:
            lines.append(
                f"| {tr['env_id']}, {r['family']} | {r['mode']} | {r['fit_s']:.1f} "
                f"| {r['frames']:,} | {r['fps']:,.0f} | {r['ratio']:.2f}× "
                f"({r['ratio_min']:.2f}–{r['ratio_max']:.2f}) | {r['ratio_cpu']:.2f}× |"
            )
        lines.append(
            f"| {YARDSTICK}, SB3-default PPO, {yard['n_envs']} DummyVecEnv | – | – "
            f"| {yard['before']['frames']:,} + {yard['after']['frames']:,} | {yard['fps']:,.0f} "
            f"({yard['before']['fps']:,.0f} before, {yard['after']['fps']:,.0f} after) "
            "| yardstick | yardstick |"
        )
        hp = tr["hyperparams"]
        parts.append(
            "\n".join(lines)
            + f"\n\nPPO with pricegym's YAML defaults ({hp['n_envs']} batched markets, n_steps "
            f"{hp['n_steps']}, batch {hp['batch_size']}, {hp['n_epochs']} epochs, evaluation "
            f"every {hp['eval_freq']:,} frames included), models fitted to `{tr['dataset']}`; "
            f"torch threads: {doc['machine']['torch_threads']}; seed {tr['seed']}."
        )
    pr = doc.get("processes")
    if pr and pr.get("by_jobs"):
        lines = [
            "| processes | wall s (min–max) | speed-up vs 1 | efficiency | CPU s, all processes "
            "| cell s, summed |",
            "|---|---|---|---|---|---|",
        ]
        for b in pr["by_jobs"]:
            lines.append(
                f"| {b['jobs']} | {b['wall_s']:.1f} ({b['wall_min']:.1f}–{b['wall_max']:.1f}) "
                f"| {b['speedup']:.2f}× | {100 * b['efficiency']:.0f}% | {b['cpu_s']:.1f} "
                f"| {b['cell_seconds']:.1f} |"
            )
        cells = ", ".join(f"{n} {stage}" for stage, n in pr["cells"].items() if n)
        n_seeds = len(pr["config"]["evaluation"]["seeds"])
        same = "identical" if pr["identical_results"] else "**not identical**"
        parts.append(
            "\n".join(lines)
            + f"\n\nExperiment `{pr['experiment']}` scaled down ({n_seeds} seeds, training "
            f"budgets × {pr['budget_scale']:g}; cells: {cells}), "
            f"{pr['repeats']} run(s) per process count, median; `summary.csv` and "
            f"`episodes.csv` {same} across process counts. CPU s: user + system seconds of "
            "the run's processes (more than with one process: work added by the workers, "
            "such as their imports); cell s: the cells' own wall seconds summed (more, with "
            "CPU s flat: the processes waited for cores)."
        )
    m = doc["machine"]
    parts.append(
        f"Total wall {doc['wall_s']:.0f} s on {m['cpus']} cores (load average "
        f"{m['load_avg_start'][0]:.2f} at the start, {m['load_avg_end'][0]:.2f} at the end); "
        "written by `benchmarks/bench_scaling.py`."
        if "load_avg_end" in m
        else f"Incomplete run, {doc['wall_s']:.0f} s on {m['cpus']} cores; written by "
        "`benchmarks/bench_scaling.py`."
    )
    return "\n\n".join(parts)


# ==================================================================== main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="JSON path (PNG beside it)")
    parser.add_argument("--skip", choices=("training", "processes"), default=None)
    g = parser.add_argument_group("part 1: training frames/s")
    g.add_argument(
        "--families",
        nargs="+",
        default=list(DEFAULT_FAMILIES),
        help=f"demand-model families (default: {' '.join(DEFAULT_FAMILIES)})",
    )
    g.add_argument("--dataset", default="avocado")
    g.add_argument("--timesteps", type=int, default=100_000, help="frames per family")
    g.add_argument(
        "--cartpole-frames",
        type=int,
        default=32_768,
        help="per yardstick run (SB3 trains whole rollouts of 16,384)",
    )
    g.add_argument("--seed", type=int, default=0)
    g = parser.add_argument_group("part 2: processes")
    g.add_argument("--experiment", default="markdown", help="bundled name or YAML path")
    g.add_argument("--seeds", type=int, default=4, help="replicate seeds of the experiment")
    g.add_argument("--episodes", type=int, default=None, help="evaluation episodes (default: keep)")
    g.add_argument("--budget-scale", type=float, default=0.2, help="× every training budget")
    g.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=default_jobs(),
        help=f"process counts (default here: {' '.join(map(str, default_jobs()))})",
    )
    g.add_argument("--repeats", type=int, default=2, help="runs per process count")
    args = parser.parse_args(argv)
    for name in ("timesteps", "cartpole_frames", "seeds", "repeats", "episodes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')}={value} must be >= 1")
    if not args.budget_scale > 0:
        parser.error(f"--budget-scale={args.budget_scale} must be > 0")
    if min(args.jobs) < 1:
        parser.error(f"--jobs {args.jobs}: every process count must be >= 1")
    args.jobs = sorted(set(args.jobs) | {1})  # the speed-up is against one process
    torch.set_num_threads(1)

    start = time.perf_counter()
    doc: dict[str, Any] = {
        "benchmark": "scaling",
        "command": " ".join(["python", "benchmarks/bench_scaling.py", *sys.argv[1:]]),
        "complete": False,
        "wall_s": 0.0,
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_start": _load(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "gymnasium": gym.__version__,
            "stable_baselines3": stable_baselines3.__version__,
            "pricegym": pricegym.__version__,
        },
    }
    png = args.out.with_suffix(".png")
    with threadpool_limits(limits=1):
        if args.skip != "training":
            training_part(args, doc)
            doc["wall_s"] = time.perf_counter() - start
            _write(doc, args.out)
            plot(doc, png)
        if args.skip != "processes":
            processes_part(args, doc, args.out)
    doc["complete"] = True
    doc["wall_s"] = time.perf_counter() - start
    doc["machine"]["load_avg_end"] = _load()
    _write(doc, args.out)
    plot(doc, png)
    print(readme_table(doc))
    print(f"wrote {args.out} and {png}")
    return doc


if __name__ == "__main__":
    main()
