"""Kernel vs fitting-library prediction speed, per call and per batch of 1024.

Markets call a demand model once per step for a whole batch of markets, so the
question is: how much faster is the compiled numpy kernel than asking the fitting
library (statsmodels / torch) for the same numbers? Every family is fitted to the
same bundled data set and both paths are timed side by side in one run, on the same
inputs, and reported as ratios (wall-clock numbers on a shared machine are noisy;
ratios measured in one run are not).

Both paths start from the same inputs — own prices and a market context — and
end with expected units, so both include building the design matrix with the
model's own :class:`FeatureSpec`. Library paths timed (the cheapest honest call
of each library):

- regression families: ``results.predict(X)`` (statsmodels);
- ARIMAX: ``results.get_forecast(steps=1, exog=x)`` — one call per scenario, because
  a SARIMAX forecast takes one exogenous path at a time;
- neural: the torch module's forward under ``torch.no_grad()``.

What the numbers say: for the regression families the kernel and statsmodels do
the same matrix product, so the kernel only saves the library's call overhead;
the kernel's real gain there is that it carries no library objects into the
market's hot loop (and the markets precompute the price-independent part of the
linear predictor per episode). For ARIMAX the kernel replaces one
``get_forecast`` per market per step; for the neural model it replaces torch.

Usage: ``python benchmarks/bench_kernels.py [--dataset avocado] [--repeat 7]``.
Writes ``benchmarks/results/kernels.json`` and ``kernels.png`` (``--out`` to change) and
prints a table; ``--plot-only`` redraws the figure from an existing JSON without timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.demand.datasets import load_dataset
from pricegym.demand.io import atomic_write_bytes
from pricegym.demand.selection import DEFAULT_FAMILIES, make_model

OUT = Path(__file__).resolve().parent / "results" / "kernels.json"


def best_time(fn: Callable[[], object], repeat: int, min_time: float = 0.2) -> float:
    """Seconds per call: the median over ``repeat`` rounds of a loop of >= min_time."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= min_time / 4:
            break
        n *= 2
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t0) / n)
    return statistics.median(rounds)


def library_call(model, prices: np.ndarray, ctx) -> Callable[[], object]:
    """The fitting library's own prediction for these inputs, as a zero-arg callable."""
    family = model.family
    spec = model.spec_
    if family in ("linear", "loglinear", "poisson"):
        return lambda: model.results_.predict(spec.build_context(prices, ctx))
    if family == "arimax":

        def forecast_each() -> list:
            x = spec.build_context(prices, ctx)
            return [
                model.results_.get_forecast(steps=1, exog=x[i : i + 1]).predicted_mean
                for i in range(x.shape[0])
            ]

        return forecast_each
    if family == "neural":
        import torch

        kern = model.kernel()
        recent = kern.initial_state(len(prices), ctx.product)["lags"]
        net = model._require_results()

        def forward() -> object:
            x_all = spec.build_context(prices, ctx)
            z_raw = np.concatenate([x_all[:, 1:], np.log1p(recent / kern.unit_scale)], axis=1)
            with torch.no_grad():
                return net(torch.as_tensor(x_all[:, 0]), torch.as_tensor(z_raw)).numpy()

        return forward
    raise ValueError(family)


def _times(v: float) -> str:
    """A speed-up as a short label: ``17,217×``, ``94×``, ``2.29×``."""
    return f"{v:,.0f}×" if v >= 10 else f"{v:.2f}×"


def plot(doc: dict[str, Any], path: Path) -> None:
    """Left: library / kernel speed-up per family and batch size (log). Right: µs per call.

    Drawn from the JSON document alone; written atomically as PNG to ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc.get("rows", [])
    families = list(dict.fromkeys(r["family"] for r in rows))
    batches = sorted({int(r["batch"]) for r in rows})
    by = {(r["family"], int(r["batch"])): r for r in rows}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x = np.arange(len(families))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.8))

    width = 0.8 / max(1, len(batches))
    speedups = [float(r["speedup"]) for r in rows] or [1.0]
    for j, b in enumerate(batches):
        pos = x + (j - (len(batches) - 1) / 2) * width
        vals = [float(by[f, b]["speedup"]) if (f, b) in by else np.nan for f in families]
        ax.bar(
            pos,
            vals,
            width * 0.95,
            color=colors[j % len(colors)],
            label=f"B = {b:,} market{'s' if b > 1 else ''} per call",
        )
        for px, v in zip(pos, vals, strict=True):
            if np.isfinite(v):
                ax.annotate(
                    _times(v),
                    (px, v),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
    ax.axhline(1.0, color="k", lw=0.9, ls="--", label="1× (library as fast as kernel)")
    ax.set_yscale("log")
    ax.set_ylim(min(0.3, min(speedups) / 2), max(speedups) * 6)
    ax.set_xticks(x, families)
    ax.set_xlabel("demand model family")
    ax.set_ylabel("speed-up = library µs / kernel µs (log)")
    ax.set_title("Kernel speed-up over the fitting library")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    # right: absolute time per call, kernel (solid) vs library (hatched), per batch size
    slots = [(b, what) for b in batches for what in ("kernel_us", "library_us")]
    width = 0.8 / max(1, len(slots))
    times = [float(r[k]) for r in rows for k in ("kernel_us", "library_us")] or [1.0]
    for j, (b, what) in enumerate(slots):
        pos = x + (j - (len(slots) - 1) / 2) * width
        vals = [float(by[f, b][what]) if (f, b) in by else np.nan for f in families]
        lib = what == "library_us"
        bx.bar(
            pos,
            vals,
            width * 0.95,
            color=colors[batches.index(b) % len(colors)],
            alpha=0.45 if lib else 0.95,
            hatch="//" if lib else None,
            edgecolor="k" if lib else None,
            linewidth=0.4,
            label=f"{'library' if lib else 'kernel'}, B = {b:,}",
        )
    bx.set_yscale("log")
    bx.set_ylim(min(times) / 2, max(times) * 3)
    bx.set_xticks(x, families)
    bx.set_xlabel("demand model family")
    bx.set_ylabel("µs per call (median of rounds, log)")
    bx.set_title("Time per prediction call (inputs → expected units)")
    bx.grid(axis="y", alpha=0.3)
    bx.legend(fontsize=8, ncol=2, loc="upper left")

    machine = doc.get("machine", {})
    fig.suptitle(
        f"Demand kernels vs statsmodels / torch — data set {doc.get('dataset', '?')!r}, "
        f"Python {machine.get('python', '?')} on {machine.get('processor', '?')}",
        fontsize=10,
    )
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="avocado")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=OUT, help="results JSON (PNG beside it)")
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the PNG from the JSON at --out; no timing"
    )
    args = parser.parse_args()
    png = args.out.with_suffix(".png")
    if args.plot_only:
        plot(json.loads(args.out.read_text()), png)
        print(f"wrote {png}")
        return

    history = load_dataset(args.dataset)
    rng = np.random.default_rng(0)
    rows = []
    for family in DEFAULT_FAMILIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_model(family).fit(history)
        kern = model.kernel()
        lo, hi = model.support_
        for b in (1, args.batch):
            prices = rng.uniform(lo, hi, size=b)
            ctx = kern.context(b)
            state = kern.initial_state(b)
            t_kernel = best_time(
                lambda k=kern, p=prices, c=ctx, s=state: k.expected(p, c, s), args.repeat
            )
            t_lib = best_time(library_call(model, prices, ctx), max(3, args.repeat // 2))
            rows.append(
                {
                    "family": family,
                    "batch": b,
                    "kernel_us": t_kernel * 1e6,
                    "library_us": t_lib * 1e6,
                    "speedup": t_lib / t_kernel,
                }
            )
            print(
                f"{family:10s} B={b:5d}  kernel {t_kernel * 1e6:10.1f} us   "
                f"library {t_lib * 1e6:12.1f} us   x{t_lib / t_kernel:8.1f}",
                flush=True,
            )
    doc = {
        "dataset": args.dataset,
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "rows": rows,
    }
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2) + "\n").encode())
    plot(doc, png)
    print(f"wrote {args.out} and {png}")


if __name__ == "__main__":
    main()
