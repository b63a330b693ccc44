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

Writes ``benchmarks/results/qlearning.json`` and ``qlearning.png`` (``--out`` to change)
and prints a summary; ``--plot-only`` redraws the figure from an existing JSON without
running. Runs with a ``--beta`` other than the paper's are labelled as such.

``--vs-rules`` instead measures one Q-learner against rivals that do not learn (the
Calvano market, baseline α, β, δ), periods per second side by side in one run:
*before* — the experiment runner's online episode loop (``_train_oligopoly``, what a
round-robin cell against a rule ran until this was compiled); *Python* — the same
session as :func:`~pricegym.agents.qlearning.train_against` plays it in Python (the
fallback for rivals that cannot be compiled); *compiled* — ``train_against``'s numba
loop. Convergence is switched off so every path plays its whole budget; the hours the
paper's cap of 10⁹ periods would take at each speed are printed too. Writes
``benchmarks/results/qlearning_vs_rules.json``::

    OMP_NUM_THREADS=1 python benchmarks/bench_qlearning.py --vs-rules
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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


def plot(doc: dict[str, Any], path: Path) -> None:
    """Three panels: prices (Nash, average, monopoly), Δ with its CI vs the published 0.85,
    and the run's seconds against the goal. Drawn from the JSON document alone; written
    atomically as PNG to ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx, cx) = plt.subplots(
        1, 3, figsize=(14, 4.4), gridspec_kw={"width_ratios": [2.2, 1.2, 1.6]}
    )
    converged, sessions = doc.get("converged"), doc.get("sessions")
    on = "converged sessions" if converged else "all sessions"

    # ---- prices on one axis
    nash, mono, mean = doc.get("nash_price"), doc.get("monopoly_price"), doc.get("price_mean")
    marks = [
        (nash, "Nash $p^N$", "tab:blue", "o"),
        (mono, "monopoly $p^M$", "tab:red", "o"),
        (mean, f"average price\n({on})", "k", "D"),
    ]
    marks = [m for m in marks if m[0] is not None]
    ax.axhline(0, color="grey", lw=1)
    for i, (v, label, color, marker) in enumerate(marks):
        ax.plot(v, 0, marker=marker, color=color, ms=10, ls="")
        ax.annotate(
            f"{label}\n{v:.4f}",
            (v, 0),
            xytext=(0, 14 if i % 2 == 0 else -30),
            textcoords="offset points",
            ha="center",
            va="bottom" if i % 2 == 0 else "top",
            fontsize=9,
            color=color,
        )
    if nash is not None and mono is not None:
        ax.axvspan(nash, mono, color="tab:orange", alpha=0.12, label="between Nash and monopoly")
        pad = 0.25 * (mono - nash)
        ax.set_xlim(nash - pad, mono + pad)
        if mean is not None:
            share = (mean - nash) / (mono - nash)
            ax.set_title(
                f"Prices: average at {share:.0%} of the way from Nash to monopoly", fontsize=10
            )
        ax.legend(fontsize=8, loc="lower left")
    else:
        ax.set_title("Prices", fontsize=10)
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.set_xlabel("price (both sellers, symmetric game)")

    # ---- profit gain Δ
    published = doc.get("profit_gain_published")
    if doc.get("profit_gain_mean") is not None:
        d = float(doc["profit_gain_mean"])
        lo, hi = doc.get("profit_gain_ci95") or [d, d]
        bx.errorbar(
            [0],
            [d],
            yerr=[[d - float(lo)], [float(hi) - d]],
            fmt="o",
            color="k",
            ms=8,
            capsize=8,
            label="this run, 95% bootstrap CI",
        )
        bx.annotate(
            f"Δ = {d:.3f}\n[{float(lo):.3f}, {float(hi):.3f}]",
            (0, d),
            xytext=(14, -22),
            textcoords="offset points",
            fontsize=9,
        )
    if published is not None:
        bx.axhline(float(published), color="tab:green", ls="--", label=f"published ≈ {published:g}")
    bx.axhline(0, color="tab:blue", lw=0.8, ls=":", label="Nash (Δ = 0)")
    bx.axhline(1, color="tab:red", lw=0.8, ls=":", label="monopoly (Δ = 1)")
    bx.set_xlim(-1, 1)
    bx.set_xticks([])
    bx.set_ylim(-0.05, 1.1)
    bx.set_ylabel(f"average profit gain Δ ({on})")
    bx.set_title("Profit gain vs Calvano et al. (2020)", fontsize=10)
    bx.legend(fontsize=7.5, loc="lower center")
    bx.grid(axis="y", alpha=0.3)

    # ---- time
    bars = [
        (key, label)
        for key, label in (
            ("wall_seconds", "wall clock"),
            ("cpu_seconds_per_job", "CPU per job"),
            ("cpu_seconds", "CPU, all jobs"),
        )
        if doc.get(key) is not None
    ]
    vals = [float(doc[k]) for k, _ in bars]
    y = np.arange(len(bars))[::-1]
    cx.barh(y, vals, color=["tab:blue", "tab:cyan", "tab:gray"][: len(bars)], alpha=0.85)
    for yi, v in zip(y, vals, strict=True):
        cx.annotate(f"{v:.0f} s", (v, yi), xytext=(3, 0), textcoords="offset points", va="center")
    cx.set_yticks(y, [b[1] for b in bars])
    top = max(vals, default=1.0)
    found = re.search(r"<\s*([\d.]+)\s*s", str(doc.get("goal", "")))
    if found:
        goal_s = float(found.group(1))
        cx.axvline(goal_s, color="tab:green", ls="--", label=f"goal < {goal_s:g} s")
        top = max(top, goal_s)
        cx.legend(fontsize=8, loc="lower right")
    cx.set_xlim(0, top * 1.2)
    cx.set_xlabel("seconds")
    periods = doc.get("periods_median")
    cx.set_title(
        f"{converged if converged is not None else '?'}/{sessions} sessions converged"
        + (f" (median {periods / 1e6:.2f} M periods)" if periods else ""),
        fontsize=10,
    )
    cx.grid(axis="x", alpha=0.3)

    cfg = doc.get("config", {})
    machine = doc.get("machine", {})
    paper = "paper settings" if doc.get("paper_settings") else "NOT the paper's settings"
    fig.suptitle(
        f"Calvano et al. (2020) baseline, Q-learning ({paper}): α = {cfg.get('alpha', '?')}, "
        f"β = {cfg.get('beta', '?')}, δ = {cfg.get('delta', '?')}, "
        f"{sessions} sessions, {doc.get('jobs', '?')} jobs on {machine.get('cpus', '?')} cores",
        fontsize=10,
    )
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


#: Rivals of ``--vs-rules`` (YAML-style kind and params; greedy_q is a random greedy Q-table).
VS_RULES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("fixed_price", {"price": 1.7}),
    ("undercut", {"step": 0.05}),
    ("myopic", {}),
    ("tit_for_tat", {}),
    ("grim_trigger", {}),
    ("greedy_q", {}),
    ("random_price", {}),
)
VS_RULES_OUT = OUT.with_name("qlearning_vs_rules.json")


def _timed(fn: Any) -> tuple[Any, float, float]:
    """(fn(), wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def vs_rules(
    python_periods: int, compiled_periods: int, seed: int, out: Path = VS_RULES_OUT
) -> dict[str, Any]:
    """Periods/s of Q-learning against each rival of :data:`VS_RULES`, before and after."""
    import warnings

    from pricegym.agents.base import make_agent
    from pricegym.agents.qlearning import QLearningAgent, train_against
    from pricegym.envs.oligopoly import OligopolyEnv
    from pricegym.errors import PricegymWarning
    from pricegym.experiments.evaluate import bind_to_seat
    from pricegym.experiments.runner._compute import _train_oligopoly

    env = OligopolyEnv()  # Calvano: 15 prices, horizon 1000
    never = 10**12  # convergence off: every path plays its budget

    def rival(kind: str, params: dict[str, Any]) -> Any:
        if kind == "greedy_q":
            agent = QLearningAgent.from_market(env, seat=1)
            agent.q_ = np.random.default_rng(seed).random(agent.q_.shape)
            return agent
        return bind_to_seat(make_agent(kind, **params), env, 1)

    # Warm up (imports, numba's cache, the env) so that no path pays a first call.
    warm = QLearningAgent.from_market(env, seat=0)
    _train_oligopoly(
        [bind_to_seat(warm, env, 0), rival("fixed_price", {"price": 1.7})],
        [True, False],
        env,
        [{"periods": 1000}, {}],
        seed,
    )
    for compiled in (False, None):
        train_against(
            QLearningAgent.from_market(env, seat=0),
            env,
            [rival("fixed_price", {"price": 1.7})],
            max_periods=1000,
            compiled=compiled,
        )

    rows = []
    for kind, params in VS_RULES:
        row: dict[str, Any] = {"rival": kind, "params": params}
        # before: the runner's online episode loop (play_oligopoly + update)
        learner = QLearningAgent.from_market(env, seat=0)
        budget = {"periods": python_periods}
        _, wall, cpu = _timed(
            lambda learner=learner, kind=kind, params=params, budget=budget: _train_oligopoly(
                [bind_to_seat(learner, env, 0), rival(kind, params)],
                [True, False],
                env,
                [budget, {}],
                seed,
            )
        )
        row["before"] = {"periods": learner.t_, "wall_s": wall, "cpu_s": cpu}
        # after, in Python (compiled=False) and compiled (when the rival allows it)
        for label, periods, compiled in (
            ("python", python_periods, False),
            ("compiled", compiled_periods, None),
        ):
            learner = QLearningAgent.from_market(env, seat=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PricegymWarning)
                result, wall, cpu = _timed(
                    lambda learner=learner, kind=kind, params=params, p=periods, c=compiled: (
                        train_against(
                            learner,
                            env,
                            [rival(kind, params)],
                            max_periods=p,
                            convergence_periods=never,
                            seed=seed,
                            compiled=c,
                            max_python_seconds=1e9,
                        )
                        if c is False or kind != "random_price"
                        else None
                    )
                )
            if result is None:  # random_price: no compiled loop (it would refuse 1e9 periods)
                row[label] = None
                continue
            row[label] = {
                "periods": result.periods,
                "wall_s": wall,
                "cpu_s": cpu,
                "compiled": result.compiled,
                "loop_periods_per_s": result.periods_per_second,
            }
        for label in ("before", "python", "compiled"):
            if row[label] is not None:
                r = row[label]
                r["periods_per_s"] = r["periods"] / r["wall_s"]
                r["periods_per_cpu_s"] = r["periods"] / max(r["cpu_s"], 1e-9)
                r["hours_for_1e9"] = 1e9 / r["periods_per_cpu_s"] / 3600
        if row["compiled"] is not None:
            row["speedup_vs_before"] = (
                row["compiled"]["periods_per_cpu_s"] / row["before"]["periods_per_cpu_s"]
            )
        rows.append(row)
        fmt = "{:>13} {:>13} {:>13}"
        cells = [
            "—" if row[k] is None else f"{row[k]['periods_per_cpu_s']:,.0f}"
            for k in ("before", "python", "compiled")
        ]
        print(f"  {kind:<13} " + fmt.format(*cells), flush=True)

    doc = {
        "benchmark": "qlearning_vs_rules_periods_per_second",
        "market": "Calvano baseline (2 sellers, 15 prices, logit), alpha 0.15, beta 4e-6",
        "python_periods": python_periods,
        "compiled_periods": compiled_periods,
        "seed": seed,
        "note": (
            "periods_per_cpu_s is periods / CPU seconds of this (single-threaded) process, "
            "the fairer number on a shared machine; compiled includes building and checking "
            "the rival's automaton; convergence is off, so each path plays its whole budget."
        ),
        "rows": rows,
        "machine": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
        },
    }
    atomic_write_bytes(out, (json.dumps(doc, indent=2) + "\n").encode())
    print(f"wrote {out}")
    return doc


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions S (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--cap", type=int, default=10**9, help="periods before giving up (paper: 10^9)"
    )
    parser.add_argument("--beta", type=float, default=4e-6, help="exploration decay (paper 4e-6)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"default {OUT.name} ({VS_RULES_OUT.name})"
    )
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the PNG from the JSON at --out; no run"
    )
    parser.add_argument(
        "--vs-rules",
        action="store_true",
        help="measure Q-learning against rule rivals (periods/s before and after); no sessions",
    )
    parser.add_argument(
        "--python-periods", type=int, default=30_000, help="--vs-rules: periods of the slow paths"
    )
    parser.add_argument(
        "--compiled-periods", type=int, default=50_000_000, help="--vs-rules: compiled periods"
    )
    args = parser.parse_args(argv)
    if args.vs_rules:
        print(
            "Q-learning vs rivals, periods per CPU second:\n"
            f"  {'rival':<13} {'before':>13} {'python':>13} {'compiled':>13}",
            flush=True,
        )
        out = VS_RULES_OUT if args.out == OUT else args.out
        return vs_rules(args.python_periods, args.compiled_periods, args.seed, out)
    png = args.out.with_suffix(".png")
    if args.plot_only:
        loaded: dict[str, Any] = json.loads(args.out.read_text())
        plot(loaded, png)
        print(f"wrote {png}")
        return loaded

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
    plot(doc, png)

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
    print(f"wrote {args.out} and {png}")
    return doc


if __name__ == "__main__":
    main()
