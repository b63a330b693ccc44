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
Writes ``benchmarks/results/kernels.json`` and prints a table.
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

import numpy as np

from pricegym.demand.datasets import load_dataset
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="avocado")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args()

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
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "dataset": args.dataset,
                "machine": {"python": platform.python_version(), "processor": platform.machine()},
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
