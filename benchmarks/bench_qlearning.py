"""Calvano et al. (2020) baseline: S Q-learning sessions to convergence, timed.

The question: how long does the compiled Q-learner (``agents/_qkernel.py``) take to run the
published baseline — two sellers, logit demand (a_i = 2, a_0 = 0, μ = 1/4,
c = 1), 15 prices on [p^N − 0.1(p^M − p^N), p^M + 0.1(p^M − p^N)], one round of
memory, α = 0.15, β = 4·10⁻⁶, δ = 0.95, convergence after 100,000 periods
without a change of any greedy strategy — and does it reproduce the published
outcome (average profit gain Δ ≈ 0.85, prices between Nash and monopoly)?

Reported: wall-clock and CPU seconds (the CPU time of the worker processes is
the fairer number on a shared machine), sessions converged, periods to
convergence, the average price over the limit cycles, Δ with a bootstrap 95%
confidence interval over sessions (``scipy.stats.bootstrap``, BCa), and the Nash
and monopoly prices of the continuous game.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_qlearning.py                # 1000 sessions, 2 jobs
    python benchmarks/bench_qlearning.py --sessions 100 --beta 4e-5      # a quick look

Writes ``benchmarks/results/qlearning.json`` (``--out`` to change) and prints a
summary. Runs with a ``--beta`` other than the paper's are labelled as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from pricegym.agents.qlearning import QLearningConfig, run_sessions
from pricegym.demand.io import atomic_write_bytes

OUT = Path(__file__).resolve().parent / "results" / "qlearning.json"
#: Calvano et al. (2020), baseline: average profit gain.
PUBLISHED_DELTA = 0.85


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


_START = time.perf_counter()
_LAST = [0.0]


def report_progress(done: int, total: int) -> None:
    """Print progress at most every 30 s (runs in each worker process)."""
    now = time.perf_counter() - _START
    if now - _LAST[0] >= 30 or done == total:
        _LAST[0] = now
        print(
            f"  [pid {os.getpid()}] sessions {done:>5}/{total}  {now:7.1f} s",
            flush=True,
        )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions S (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--cap", type=int, default=10**9, help="periods before giving up (paper: 10^9)"
    )
    parser.add_argument("--beta", type=float, default=4e-6, help="exploration decay (paper 4e-6)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    config = QLearningConfig(beta=args.beta, max_periods=args.cap)
    print(
        f"Calvano baseline: {args.sessions} sessions, {args.jobs} job(s), β={args.beta:g}, "
        f"cap {args.cap:,} periods, seed {args.seed}",
        flush=True,
    )
    load0 = os.getloadavg()[0]
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    result = run_sessions(
        None,
        args.sessions,
        config,
        seed=args.seed,
        n_jobs=args.jobs,
        keep_q=False,
        progress=report_progress,
    )
    wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0

    conv = result.converged
    sel = conv if conv.any() else np.ones_like(conv)
    delta = result.delta[sel]
    if delta.size > 1 and np.ptp(delta) > 0:
        ci = stats.bootstrap(
            (delta,), np.mean, confidence_level=0.95, rng=np.random.default_rng(args.seed)
        ).confidence_interval
        delta_ci = [float(ci.low), float(ci.high)]
    else:
        delta_ci = [float(delta.mean())] * 2
    periods = result.periods[sel]
    doc = {
        "benchmark": "qlearning_calvano_baseline",
        "paper_settings": args.beta == 4e-6 and args.cap >= 10**9,
        "sessions": args.sessions,
        "jobs": args.jobs,
        "seed": args.seed,
        "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        # On a shared machine the wall time includes waiting for a core; each worker's
        # CPU time (≈ cpu_seconds / jobs) is what an idle machine would need per core.
        "cpu_seconds_per_job": cpu / args.jobs,
        "converged": int(conv.sum()),
        "periods_mean": float(periods.mean()),
        "periods_median": float(np.median(periods)),
        "periods_max": int(result.periods.max()),
        "price_mean": float(result.prices[sel].mean()),
        "profit_gain_mean": float(delta.mean()),
        "profit_gain_ci95": delta_ci,
        "profit_gain_published": PUBLISHED_DELTA,
        "cycle_length_mean": float(result.cycle_length[sel].mean()),
        "share_cycle_length_1": float((result.cycle_length[sel] == 1).mean()),
        "nash_price": float(result.nash_prices[0]),
        "monopoly_price": float(result.monopoly_prices[0]),
        "goal": "1000 sessions to convergence in < 300 s on 2 cores",
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1min_start": load0,
            "load_average_1min_end": os.getloadavg()[0],
        },
    }
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2) + "\n").encode())

    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s; converged {doc['converged']}/{args.sessions}; "
        f"periods mean {doc['periods_mean']:,.0f}, median {doc['periods_median']:,.0f}, "
        f"max {doc['periods_max']:,}"
    )
    print(
        f"average price {doc['price_mean']:.4f} (Nash {doc['nash_price']:.4f}, monopoly "
        f"{doc['monopoly_price']:.4f}); Δ = {doc['profit_gain_mean']:.3f} "
        f"[{delta_ci[0]:.3f}, {delta_ci[1]:.3f}] (published ≈ {PUBLISHED_DELTA})"
    )
    print(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
