"""``pricegym fit --model auto`` time and accuracy: torch's default threads vs one, side by side.

The auto league (:func:`~pricegym.demand.selection.compare_models` over
:data:`~pricegym.demand.selection.DEFAULT_FAMILIES`: every family fitted to the
whole history, then backtested on the same rolling-origin folds) on a bundled data
set (``--dataset``, default ``avocado``), in two ways, each in a fresh Python
interpreter (as ``pricegym fit`` runs) and interleaved over ``--repeats``:

- ``before``: the neural fit with torch's default intra-op threads (what
  ``NeuralDemand`` did before :func:`~pricegym.demand._torch_threads.one_torch_thread`);
- ``after``: the neural fit on one torch thread (the package's behaviour now).

Reported per variant: the median wall and CPU seconds of the league (imports
excluded: the child times ``compare_models`` alone), the speed-up of ``after``
over ``before``, and each family's backtest WAPE, which must not get worse (the
thread count does not change the maths at these sizes: the WAPEs are recorded
and compared). The 1-minute load average before every run is recorded; on a
shared machine wall times scatter with it.

A second part times the neural fit on large synthetic panels (constant elasticity
-2, daily, Poisson; ``--panel-rows``, default 10⁵ and 10⁶ rows from 100 products):
full-batch L-BFGS (the default) at the smallest size and mini-batch Adam
(``batch_size=4096, epochs=10``) at every size, each reported as seconds per 10⁵
training rows, with the fitted elasticity against the truth. One torch thread,
``n_bootstrap=0`` (the point fit alone).

Usage::

    python benchmarks/bench_fit.py              # ~3 min on 2 cores when idle
    python benchmarks/bench_fit.py --repeats 1 --panel-rows 100000 --out /tmp/fit.json

Writes ``benchmarks/results/fit.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "fit.json"
VARIANTS = ("before", "after")

#: One league in a fresh interpreter: argv = data set, variant. ``before`` swaps the
#: neural model's one-thread context for a no-op (torch's default threads).
_CHILD = """
import contextlib, json, sys, time, warnings
from pricegym.demand import neural
from pricegym.demand.datasets import load_dataset
from pricegym.demand.selection import compare_models

if __name__ == "__main__":
    dataset, variant = sys.argv[1], sys.argv[2]
    if variant == "before":
        neural.one_torch_thread = contextlib.nullcontext
    import torch
    history = load_dataset(dataset)
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare_models(history)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    table = result.table
    wape = {str(r.model): float(r.backtest_wape) for r in table.itertuples() if r.status == "ok"}
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "best": result.best, "wape": wape,
                      "rows": int(len(history.units)), "torch_threads": torch.get_num_threads()}))
"""


def run_once(dataset: str, variant: str) -> dict[str, Any]:
    """One league as ``variant`` in a fresh interpreter."""
    load = round(os.getloadavg()[0], 2)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, dataset, variant],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"league as {variant!r} failed:\n{child.stderr[-3000:]}")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    return {"variant": variant, "load_1min": load, **out}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per variant, the speed-up, and the backtest WAPEs side by side."""
    by = {v: [r for r in runs if r["variant"] == v] for v in VARIANTS}
    rows = []
    for v in VARIANTS:
        rows.append(
            {
                "variant": v,
                "wall_s": statistics.median(r["wall_s"] for r in by[v]),
                "wall_min": min(r["wall_s"] for r in by[v]),
                "wall_max": max(r["wall_s"] for r in by[v]),
                "cpu_s": statistics.median(r["cpu_s"] for r in by[v]),
                "best": by[v][0]["best"],
                "wape": by[v][0]["wape"],
            }
        )
    before, after = rows
    wapes = {
        f: {"before": before["wape"][f], "after": after["wape"].get(f)} for f in before["wape"]
    }
    worse = [f for f, w in wapes.items() if w["after"] is None or w["after"] > w["before"] + 1e-9]
    loads = [r["load_1min"] for r in runs]
    return {
        "by_variant": rows,
        "speedup_wall": before["wall_s"] / after["wall_s"],
        "speedup_cpu": before["cpu_s"] / after["cpu_s"],
        "backtest_wape": wapes,
        "wape_worse": worse,
        "same_best": before["best"] == after["best"],
        "load_min": min(loads),
        "load_max": max(loads),
    }


def panel_part(sizes: list[int], batch_size: int, epochs: int) -> list[dict[str, Any]]:
    """Seconds per 10⁵ rows of the neural fit on synthetic panels of ``sizes`` rows."""
    import warnings

    from pricegym.demand.neural import NeuralDemand
    from pricegym.demand.synthetic import DemandTruth, generate_history

    rows = []
    for size in sizes:
        products = 100
        history = generate_history(
            DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
            n_periods=size // products,
            n_products=products,
            freq="D",
            noise="poisson",
            seed=0,
        )
        fits = [("minibatch", {"batch_size": batch_size, "epochs": epochs})]
        if size == min(sizes):
            fits.insert(0, ("full-batch L-BFGS", {}))
        for name, params in fits:
            t0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = NeuralDemand(n_bootstrap=0, **params).fit(history)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            row = {
                "rows": int(model.n_train_),
                "fit": name,
                **params,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "s_per_1e5_rows": wall / (model.n_train_ / 1e5),
                "elasticity": float(model.elasticity_.estimate),
                "true_elasticity": -2.0,
                "in_sample_wape": float(model.in_sample_["wape"]),
                "load_1min": round(os.getloadavg()[0], 2),
            }
            rows.append(row)
            print(
                f"  {name:<18} {row['rows']:>9,} rows: {wall:6.1f} s "
                f"({row['s_per_1e5_rows']:.2f} s per 1e5 rows), elasticity "
                f"{row['elasticity']:.3f}",
                flush=True,
            )
    return rows


def readme_table(doc: dict[str, Any]) -> str:
    """The README table of ``fit.json``; every number comes from ``doc``."""
    lines = [
        "| neural fit | league wall s (min–max) | league CPU s | best family | "
        + " | ".join(f"{f} WAPE" for f in doc["backtest_wape"])
        + " |",
        "|---|---|---|---|" + "---|" * len(doc["backtest_wape"]),
    ]
    names = {"before": "torch default threads (before)", "after": "one torch thread (now)"}
    for r in doc["by_variant"]:
        wape = " | ".join(f"{r['wape'][f]:.4f}" for f in doc["backtest_wape"])
        lines.append(
            f"| {names[r['variant']]} | {r['wall_s']:.1f} ({r['wall_min']:.1f}–{r['wall_max']:.1f})"
            f" | {r['cpu_s']:.1f} | {r['best']} | {wape} |"
        )
    worse = ", ".join(doc["wape_worse"]) or "none"
    table = (
        "\n".join(lines)
        + f"\n\n`compare_models` (what `pricegym fit --model auto` runs) on `{doc['dataset']}` "
        f"({doc['rows']} rows), {doc['repeats']} interleaved run(s) per variant in fresh "
        f"interpreters, median: {doc['speedup_wall']:.1f}× faster in wall time, "
        f"{doc['speedup_cpu']:.1f}× in CPU time; families with a worse backtest WAPE: {worse}. "
        f"1-minute load average {doc['load_min']:.2f}–{doc['load_max']:.2f} on "
        f"{doc['machine']['cpus']} cores; written by `benchmarks/bench_fit.py`."
    )
    if doc.get("panel"):
        lines = [
            "| neural fit | training rows | wall s | s per 10⁵ rows | elasticity (truth −2) "
            "| in-sample WAPE |",
            "|---|---|---|---|---|---|",
        ]
        for r in doc["panel"]:
            what = (
                r["fit"]
                if r["fit"] != "minibatch"
                else (f"mini-batch Adam ({r['batch_size']:,} rows, {r['epochs']} epochs)")
            )
            lines.append(
                f"| {what} | {r['rows']:,} | {r['wall_s']:.1f} | {r['s_per_1e5_rows']:.2f} "
                f"| {r['elasticity']:.3f} | {r['in_sample_wape']:.3f} |"
            )
        table += (
            "\n\n" + "\n".join(lines) + "\n\nSynthetic daily panels of 100 products "
            "(constant elasticity −2, Poisson sales), default network (32-32, one lag), "
            "one torch thread, no bootstrap."
        )
    return table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--dataset", default="avocado")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--panel-rows", type=int, nargs="*", default=[100_000, 1_000_000], help="0 to skip"
    )
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats} must be >= 1")
    import pricegym

    start = time.perf_counter()
    doc: dict[str, Any] = {
        "benchmark": "fit",
        "command": " ".join(["python", "benchmarks/bench_fit.py", *sys.argv[1:]]),
        "dataset": args.dataset,
        "repeats": args.repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "pricegym": pricegym.__version__,
        },
        "runs": [],
    }
    for r in range(args.repeats):
        for variant in VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS)):
            run = run_once(args.dataset, variant)
            doc["runs"].append(run)
            print(
                f"  {variant:<6} {run['wall_s']:6.1f} s wall, {run['cpu_s']:6.1f} CPU s "
                f"(load {run['load_1min']:.2f})",
                flush=True,
            )
    doc["rows"] = doc["runs"][0]["rows"]
    doc.update(summarise(doc["runs"]))
    sizes = [n for n in args.panel_rows if n > 0]
    if sizes:
        from pricegym.demand._torch_threads import one_torch_thread

        with one_torch_thread():
            doc["panel"] = panel_part(sizes, args.batch_size, args.epochs)
    doc["wall_s"] = round(time.perf_counter() - start, 1)
    from pricegym.demand.io import atomic_write_bytes

    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2) + "\n").encode())
    print(readme_table(doc))
    print(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
