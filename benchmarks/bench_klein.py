"""Klein (2021): sequential Q-learning — fixed points on a coarse grid, cycles on a fine one.

The published finding (Klein, T. (2021), "Autonomous algorithmic collusion:
Q-learning under sequential pricing", RAND Journal of Economics 52(3): 538-558;
the abstract, whose stored text the search tool found): in simulated sequential
competition, independent Q-learners "converge to collusive equilibria when the
set of discrete prices is limited. When this set increases, the algorithm
considered increasingly converges to supra-competitive asymmetric cycles." The
paper's text was not available here, so its shares of runs and profitability
numbers are **not** checked; the claims checked are these two directions.

Market (Klein's, after Maskin & Tirole 1988;
:func:`~pricegym.agents.sequential_q.maskin_tirole_profits`): two firms,
homogeneous goods, market demand D(p) = 1 − p, zero cost, the lower price takes
the market and a tie splits it; prices {0, 1/k, …, 1}; firms move in turn and
each price is held for two periods. Competitive profit π^N = 0
(Bertrand at zero cost), joint monopoly π^M = 1/8 per firm (both at 1/2, a grid
price for even k), so Δ = π/π^M, Klein's profitability. On the grid the
one-shot game also has the symmetric equilibrium at the lowest positive price
1/k, whose Δ = 4(1/k)(1 − 1/k) (0.556 for k = 6, 0.160 for k = 24) is reported as
the grid's competitive reference: a coarse grid makes even competition profitable.

Learners (:mod:`pricegym.agents.sequential_q`): state = the rival's current
price, the two-period update Q(s, a) ← (1 − α)Q + α(π_t + δπ_{t+1} + δ² max Q(s')),
Q_0 = 0, ε_t = (1 − θ)^t with ε_T = 10⁻⁶, α = 0.3, δ = 0.95, T = 500,000 periods.
These are Klein's baseline as we know it from the paper (a public third-party
replication uses the same numbers); not re-verified against its text here.

Outcome per session: greedy play from the final state until a (mover, rival
price) pair repeats; the limit cycle is a **fixed point** (constant price pair),
an **Edgeworth cycle** (every move undercuts or matches the rival except one
reset per cycle) or **another cycle**. Shares with Wilson 95% intervals
(``scipy.stats.binomtest``), Δ with bootstrap 95% intervals over sessions
(``pricegym.experiments.stats.bootstrap_ci``).

Also run, labelled as *not* Klein's market: the same learners on the linear
differentiated duopoly q_i = 1 − p_i + 0.5 p_j (cost 0; p^N = 2/3, p^M = 1) played
in ``OligopolyEnv(kernel=LinearOligopolyTruth(...), moves="sequential")``, on 5
and 25 prices from 1/2 to 7/6 (both benchmarks on the grid). Before any result
is written, the compiled loop is checked against :func:`play_in_env`, the same
algorithm stepping that env in Python.

Usage::

    python benchmarks/bench_klein.py            # 1,000 / 500 sessions per grid (about 5 min)
    python benchmarks/bench_klein.py --quick    # 60 sessions per grid

Writes ``benchmarks/results/klein.json`` and ``klein.png``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from _bench_io import command, machine, write_json

from pricegym.agents.sequential_q import (
    OUTCOMES,
    SequentialQConfig,
    _learn_one,
    cycle_prices,
    market_profits,
    maskin_tirole_profits,
    play_in_env,
    run_sequential_sessions,
    wilson_interval,
)
from pricegym.demand.linear_oligopoly import LinearOligopolyTruth
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.experiments.stats import bootstrap_ci

__all__ = ["PUBLISHED", "comparison", "main", "readme_table"]

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "klein.json"

#: Klein's market: k (grid {0, 1/k, ..., 1}) -> sessions by default.
KLEIN_GRIDS = {6: 1000, 12: 500, 24: 1000, 48: 500}
#: The linear duopoly (not Klein's market): number of prices on [1/2, 7/6] -> sessions.
LINEAR_GRIDS = {5: 300, 25: 300}
COARSE, FINE = 6, 24

PUBLISHED = {
    "source": (
        'Klein, T. (2021), "Autonomous algorithmic collusion: Q-learning under sequential '
        'pricing", RAND Journal of Economics 52(3): 538-558'
    ),
    "status": (
        "qualitative claims from the abstract (stored text found by the search tool); the "
        "paper's shares of runs and profitability numbers could not be checked here"
    ),
    "claims": [
        "limited set of discrete prices: convergence to collusive equilibria",
        "more prices: increasingly convergence to supra-competitive asymmetric cycles",
    ],
    "settings_status": (
        "alpha 0.3, delta 0.95, T = 500,000, epsilon_T = 1e-6, Q_0 = 0, grid {0, 1/k, ..., 1}, "
        "k = 6 baseline: as we know them from the paper (a public third-party replication uses "
        "the same numbers), not re-verified against its text"
    ),
}


def _linear_env(n_prices: int, horizon: int | None = None) -> OligopolyEnv:
    kernel = LinearOligopolyTruth(1.0, 1.0, 0.5, support=(0.5, 7 / 6))
    grid = 0.5 + np.arange(n_prices) * (2 / 3) / (n_prices - 1)
    return OligopolyEnv(kernel=kernel, cost=0.0, prices=grid, moves="sequential", horizon=horizon)


def _example(res: Any, code: int) -> dict[str, Any] | None:
    """The first session with outcome ``code``: its cycle as per-period price pairs."""
    hits = np.flatnonzero(res.outcome == code)
    if hits.size == 0:
        return None
    s = int(hits[0])
    own = cycle_prices(res.cycles[s], int(res.first_mover[s]))
    return {"session": s, "moves": res.cycles[s].tolist(), "prices": res.grid[own].tolist()}


def _row(
    market: str, label: str, res: Any, seed: int, competitive_delta: float | None
) -> dict[str, Any]:
    s = res.summary()
    d = bootstrap_ci(res.delta, seed=seed)
    fixed = res.outcome == OUTCOMES.index("fixed_point")
    fixed_prices = res.prices[fixed].mean(axis=1) if fixed.any() else np.array([])
    monopoly_price = 0.5 if market == "klein" else 1.0
    row: dict[str, Any] = {
        "market": market,
        "grid": label,
        "n_prices": s["n_prices"],
        "sessions": s["sessions"],
        "delta_mean": d.value,
        "delta_ci95": [d.low, d.high],
        "price_mean": s["price_mean"],
        "competitive_delta": competitive_delta,
        "stable_last_10pct_share": s["stable_last_10pct_share"],
        "fixed_point_at_monopoly_share": (
            float(np.mean(np.isclose(fixed_prices, monopoly_price))) if fixed.any() else None
        ),
        "fixed_point_price_mean": float(fixed_prices.mean()) if fixed.any() else None,
        "seconds": s["seconds"],
        "examples": {kind: _example(res, c) for c, kind in enumerate(OUTCOMES)},
    }
    for kind in OUTCOMES:
        row[kind] = s[kind]
    cycles = res.outcome != OUTCOMES.index("fixed_point")
    n = int(cycles.sum())
    row["cycle"] = {
        "count": n,
        "share": n / res.n_sessions,
        "share_ci95": list(wilson_interval(n, res.n_sessions)),
        "delta_mean": float(res.delta[cycles].mean()) if n else None,
    }
    return row


def reference_check(seed: int, periods: int = 2000, sessions: int = 2) -> dict[str, Any]:
    """The compiled loop against :func:`play_in_env` on the linear market (Q to 1e-12)."""
    env = _linear_env(7, horizon=None)
    _, table = market_profits(env)
    cfg = SequentialQConfig(periods=periods, final_epsilon=1e-2)
    worst, same = 0.0, True
    for session in range(sessions):
        q_env, played, _ = play_in_env(env, cfg, seed=seed, session=session, n_sessions=sessions)
        child = np.random.SeedSequence(seed).spawn(sessions)[session]
        q, prices, _ = _learn_one(table, cfg, child)
        worst = max(worst, float(np.abs(q - q_env).max()))
        same &= bool(prices[(periods - 1) % 2] == played[-1] and prices[periods % 2] == played[-2])
    return {
        "sessions": sessions,
        "periods": periods,
        "max_abs_q_difference": worst,
        "identical": bool(same and worst <= 1e-12),
    }


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pricegym.demand.plot import save_figure

    rows = [r for r in doc["rows"] if r["market"] == "klein"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ks = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    colors = {"fixed_point": "tab:blue", "edgeworth": "tab:red", "other_cycle": "tab:grey"}
    for kind in OUTCOMES:
        share = np.array([r[kind]["share"] for r in rows])
        lo = np.array([r[kind]["share_ci95"][0] for r in rows])
        hi = np.array([r[kind]["share_ci95"][1] for r in rows])
        ax.bar(ks, share, bottom=bottom, color=colors[kind], label=kind.replace("_", " "))
        ax.errorbar(
            ks, bottom + share, yerr=[share - lo, hi - share], fmt="none", ecolor="k", lw=0.8
        )
        bottom += share
    ax.set_xticks(ks, [f"k={r['n_prices'] - 1}\n({r['sessions']})" for r in rows])
    ax.set_ylabel("share of sessions (Wilson 95% CI)")
    ax.set_title("Limit cycle of greedy play")
    ax.legend(fontsize=8, loc="lower left")
    for ax, key, k in ((axes[1], "fixed_point", COARSE), (axes[2], "edgeworth", FINE)):
        row = next(r for r in rows if r["n_prices"] == k + 1)
        ex = row["examples"][key]
        if ex is None:
            ax.set_title(f"k={k}: no {key.replace('_', ' ')}")
            continue
        p = np.asarray(ex["prices"])
        reps = max(1, 24 // p.shape[0])
        p = np.tile(p, (reps, 1))
        t = np.arange(p.shape[0])
        ax.step(t, p[:, 0], where="post", label="firm 0")
        ax.step(t, p[:, 1], where="post", ls="--", label="firm 1")
        ax.axhline(0.5, color="grey", ls=":", lw=0.8, label="monopoly price")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("period (greedy play after learning)")
        ax.set_ylabel("price")
        ax.set_title(f"k={k}, session {ex['session']}: {key.replace('_', ' ')}")
        ax.legend(fontsize=8)
    fig.suptitle("Klein (2021) sequential Q-learning in the Maskin–Tirole duopoly", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def _fmt_share(r: dict[str, Any], kind: str) -> str:
    x = r[kind]
    lo, hi = x["share_ci95"]
    return f"{x['share']:.1%} [{lo:.1%}, {hi:.1%}]"


def readme_table(doc: dict[str, Any]) -> str:
    """Markdown table of ``klein.json``; every number comes from ``doc``."""
    lines = [
        "| market | prices | sessions | fixed point [95% CI] | Edgeworth cycle [95% CI] "
        "| other cycle | Δ [95% CI] | Δ fixed / cycle | grid-competitive Δ "
        "| fixed points at p^M | stable last 10% |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        lo, hi = r["delta_ci95"]
        fd = r["fixed_point"]["delta_mean"]
        cd = r["cycle"]["delta_mean"]
        comp = r["competitive_delta"]
        at_m = r["fixed_point_at_monopoly_share"]
        lines.append(
            f"| {r['market']} | {r['grid']} | {r['sessions']} | {_fmt_share(r, 'fixed_point')} "
            f"| {_fmt_share(r, 'edgeworth')} | {r['other_cycle']['share']:.1%} "
            f"| {r['delta_mean']:.3f} [{lo:.3f}, {hi:.3f}] "
            f"| {'—' if fd is None else f'{fd:.3f}'} / {'—' if cd is None else f'{cd:.3f}'} "
            f"| {'—' if comp is None else f'{comp:.3f}'} "
            f"| {'—' if at_m is None else f'{at_m:.0%}'} "
            f"| {r['stable_last_10pct_share']:.0%} |"
        )
    c = doc["config"]
    ref = doc["reference_check"]
    lines += [
        "",
        f"klein = Klein's market: homogeneous goods, D(p) = 1 − p, cost 0, prices {{0, 1/k, …, "
        f"1}}; Δ = π/π^M (π^N = 0, π^M = 1/8 per firm); grid-competitive Δ = both at 1/k. "
        f"linear = q_i = 1 − p_i + 0.5 p_j, cost 0, prices evenly on [1/2, 7/6] (p^N = 2/3, "
        f"p^M = 1 on the grid), not Klein's market. Learners: α = {c['alpha']:g}, δ = "
        f"{c['delta']:g}, {c['periods']:,} periods, ε_T = {c['final_epsilon']:g}, Q_0 = 0; "
        "outcome = the limit cycle of greedy play after learning; 'stable last 10%' = neither "
        "firm's greedy price changed in the last 10% of periods. Settings as we know them from "
        "the paper (a public third-party replication uses the same numbers), not re-verified "
        "against its text. "
        f"Compiled loop = Python loop stepping OligopolyEnv(moves='sequential') on "
        f"{ref['sessions']} sessions × {ref['periods']:,} periods: {ref['identical']}. Wall "
        f"{doc['wall_s']:.0f} s; written by `benchmarks/bench_klein.py`.",
        "",
        "Updates per Q entry, T/2/m² (T/2 moves per firm over m × m entries): "
        + ", ".join(
            f"{r['grid']}: {c['periods'] / 2 / r['n_prices'] ** 2:,.0f}"
            for r in doc["rows"]
            if r["market"] == "klein"
        )
        + ". The same T on every grid (as we understand the paper's baseline) leaves the "
        "finest grids with the fewest updates per entry, mostly in the exploration phase, so "
        "their shares say the least about settled play.",
        "",
        "Published finding, as stated in the source (" + doc["published"]["source"] + ", "
        "abstract): with a limited set of discrete prices the Q-learners converge to collusive "
        "equilibria; with more prices, increasingly to supra-competitive asymmetric cycles. "
        "The paper's shares of runs and profitability numbers could not be checked here.",
        "",
        comparison(doc),
    ]
    return "\n".join(lines)


def comparison(doc: dict[str, Any]) -> str:
    """Where pricegym agrees with the published directions, worded from ``doc`` only."""
    klein = {r["n_prices"] - 1: r for r in doc["rows"] if r["market"] == "klein"}
    coarse, fine = klein[COARSE], klein[FINE]
    cf, ff = coarse["fixed_point"], fine["fixed_point"]
    fc = fine["cycle"]
    collusive_fixed = (
        cf["delta_mean"] is not None and cf["delta_mean"] > coarse["competitive_delta"]
    )
    claim1 = cf["share_ci95"][0] > 0.5 and collusive_fixed
    claim2 = ff["share_ci95"][1] < cf["share_ci95"][0] and (
        fc["delta_mean"] is not None and fc["delta_mean"] > fine["competitive_delta"]
    )
    ks = sorted(klein)
    fixed_by_k = [klein[k]["fixed_point"]["share"] for k in ks]
    rises = [
        (a, b)
        for a, b in itertools.pairwise(ks)
        if klein[b]["fixed_point"]["share"] > klein[a]["fixed_point"]["share"]
    ]
    parts = [
        f"k = {COARSE}: {cf['share']:.0%} of sessions end at a fixed point (Δ = "
        f"{cf['delta_mean']:.3f} there, against {coarse['competitive_delta']:.3f} for the grid's "
        f"competitive prices; {coarse['fixed_point_at_monopoly_share']:.0%} of them at the "
        f"monopoly price) — "
        + (
            "pricegym agrees that a coarse grid gives collusive fixed points."
            if claim1
            else "pricegym does NOT find collusive fixed points in most sessions here."
        ),
        f"k = {FINE}: {ff['share']:.1%} fixed points and {fc['share']:.1%} cycles "
        f"({fine['edgeworth']['share']:.1%} Edgeworth cycles by our classifier, Δ = "
        f"{fc['delta_mean']:.3f} against {fine['competitive_delta']:.3f} competitive) — "
        + (
            "pricegym agrees that more prices give supra-competitive cycles."
            if claim2
            else "pricegym does NOT reproduce the shift to supra-competitive cycles."
        ),
        "Over k = "
        + ", ".join(str(k) for k in ks)
        + " the fixed-point share is "
        + ", ".join(f"{x:.1%}" for x in fixed_by_k)
        + (" (falling with k)." if not rises else "; it does not fall at every step: "),
    ]
    for a, b in rises:
        la, ha = klein[a]["fixed_point"]["share_ci95"]
        lb, hb = klein[b]["fixed_point"]["share_ci95"]
        overlap = lb <= ha and la <= hb
        parts[-1] += (
            f"from k = {a} to k = {b} it rises, [{la:.1%}, {ha:.1%}] to [{lb:.1%}, {hb:.1%}] "
            + ("(the intervals overlap)." if overlap else "(the intervals do not overlap).")
        )
    lin = [r for r in doc["rows"] if r["market"] == "linear"]
    if lin:
        parts.append(
            "On the linear differentiated market (not Klein's): "
            + "; ".join(
                f"{r['grid']}: {r['fixed_point']['share']:.0%} fixed points, "
                f"{r['cycle']['share']:.0%} cycles, Δ = {r['delta_mean']:.3f}"
                for r in lin
            )
            + "."
        )
    return " ".join(parts)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 sessions per grid")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    ref = reference_check(args.seed)
    print(f"compiled loop = env oracle: {ref}", flush=True)
    if not ref["identical"]:
        raise SystemExit("the compiled loop disagrees with the env oracle; not writing results")
    cfg = SequentialQConfig()
    rows = []
    for k, sessions in KLEIN_GRIDS.items():
        grid, table = maskin_tirole_profits(k)
        n = 60 if args.quick else sessions
        t1 = time.perf_counter()
        res = run_sequential_sessions(
            table, cfg, n, seed=args.seed + k, grid=grid, nash_profit=0.0, monopoly_profit=0.125
        )
        competitive = (1 / k) * (1 - 1 / k) / 2 / 0.125
        row = _row("klein", f"k={k}", res, args.seed, competitive)
        row["wall_s"] = time.perf_counter() - t1
        rows.append(row)
        print(
            f"klein k={k}: fixed {row['fixed_point']['share']:.3f} edgeworth "
            f"{row['edgeworth']['share']:.3f} other {row['other_cycle']['share']:.3f} Δ "
            f"{row['delta_mean']:.3f} ({row['wall_s']:.0f} s)",
            flush=True,
        )
    for m, sessions in LINEAR_GRIDS.items():
        env = _linear_env(m)
        grid, table = market_profits(env)
        n = 60 if args.quick else sessions
        t1 = time.perf_counter()
        res = run_sequential_sessions(
            table,
            cfg,
            n,
            seed=args.seed + 1000 + m,
            grid=grid,
            nash_profit=float(env.nash_profits.mean()),
            monopoly_profit=float(env.monopoly_profits.mean()),
        )
        row = _row("linear", f"{m} on [1/2, 7/6]", res, args.seed, 0.0)
        row["wall_s"] = time.perf_counter() - t1
        rows.append(row)
        print(
            f"linear m={m}: fixed {row['fixed_point']['share']:.3f} cycles "
            f"{row['cycle']['share']:.3f} Δ {row['delta_mean']:.3f} ({row['wall_s']:.0f} s)",
            flush=True,
        )
    doc: dict[str, Any] = {
        "benchmark": "klein",
        "published": PUBLISHED,
        "config": {**cfg.__dict__, "beta": cfg.beta},
        "seed": args.seed,
        "reference_check": ref,
        "rows": rows,
        "wall_s": time.perf_counter() - t0,
        "machine": machine(),
        "command": command("bench_klein.py"),
    }
    _plot(doc, args.out.with_suffix(".png"))
    write_json(args.out, doc)
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
