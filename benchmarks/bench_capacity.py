"""Oligopoly with finite inventory: capacity-aware benchmarks, and Q-learners measured on them.

The setting of Friedrich, Pásztor & Ramponi, "Learning Collusion in Episodic,
Inventory-Constrained Markets" (AAMAS 2025, arXiv:2410.18871): sellers of the
Calvano et al. (2020) logit market (a_i = 2, a_0 = 0, μ = 1/4, c = 1, two
sellers) hold stock for an episode of T rounds. pricegym plays it as
``OligopolyEnv(capacity=C, horizon=T)`` (sales = min(demand, stock left), unmet
demand lost), and benchmarks it by the static game with per-round capacity
k = C/T (:mod:`pricegym.envs.capacity_equilibrium`: the generalised Nash
equilibrium and the joint monopoly under q_i(p) ≤ k_i, from their KKT
conditions; with deterministic demand the first is an open-loop equilibrium of
the T-round game and the second its joint optimum).

Part 1 — **benchmarks against capacity**. For the 18 inventories of the authors'
published equilibrium table (their repository's
``code_equilibrium_calculations/results.csv``: columns inventory, nash, monop),
read as per-round capacity k = inventory/1000 (their solver's default demand
scale of 1000 customers per round; the file itself states neither the scale nor
the horizon, so this reading is ours), plus the unconstrained market. Every row
is checked by brute force on fine grids, independently of the KKT solver: no
own-price deviation on a 10⁻⁴ grid beats the Nash profit, and no price pair on a
refined 2-D grid beats the monopoly's joint profit (both with rationed profits
(p − c)·min(q, k)).

Part 2 — **Q-learning against the capacity-aware benchmarks**. Calvano's
Q-learners (``pricegym.agents.qlearning.run_sessions``, baseline α = 0.15,
β = 4·10⁻⁶, δ = 0.95, 15 prices, one round of memory) in the capacity market;
their state holds prices only, so they learn the stationary game with a stock of
k renewed every round. Two grids of 15 prices: 'capacity', Calvano's rule
[p^N − 0.1·gap, p^M + 0.1·gap] applied to the capacity-aware benchmarks (passed
as ``prices=``), and 'calvano', the env's default for the capacity market, which
for these capacities (monopoly unconstrained) is the unconstrained Calvano grid.
Per session: Δ =
(π − π^N)/(π^M − π^N) over the greedy limit cycle against the capacity-aware
benchmarks (Calvano's statistic), Δ of the same cycle against the unconstrained
benchmarks (what a study that ignored capacity would report), and Δ of one
episode of T = 100 rounds played by the learned greedy strategies in
``OligopolyEnv(capacity=100·k, horizon=100)``, where unsold stock carries over
(started from the session's final prices). Capacities where p^N = p^M have no
Δ and are not learned. Two learning PPO sellers were not run; one PPO seller
against a fixed capacity-aware rival (a best-response check) is
``benchmarks/bench_capacity_ppo.py``.

Usage::

    python benchmarks/bench_capacity.py             # 50 sessions per setting (~3 min, 1 core)
    python benchmarks/bench_capacity.py --quick     # 10 sessions per setting

Writes ``benchmarks/results/capacity.json`` and ``capacity.png``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from _bench_io import command, machine, write_json

from pricegym.agents.qlearning import QLearningResult, run_sessions
from pricegym.envs.capacity_equilibrium import (
    capacity_monopoly,
    capacity_nash,
    rationed_profits,
)
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.experiments.stats import bootstrap_ci

__all__ = [
    "PUBLISHED",
    "SETTINGS",
    "benchmark_row",
    "brute_force",
    "comparison",
    "episode_delta",
    "learning_row",
    "main",
    "readme_table",
]

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "capacity.json"

#: Market and learner settings (the Calvano baseline; horizon of the played episodes).
SETTINGS: dict[str, Any] = {
    "quality": 2.0,
    "outside": 0.0,
    "mu": 0.25,
    "cost": 1.0,
    "n_sellers": 2,
    "demand_scale": 1000,  # customers per round in the published table (our reading)
    "horizon": 100,  # rounds of the episodes the learned strategies play
    "learn_capacities": [None, 0.46, 0.44, 0.42, 0.40, 0.38],
    "grids": ["capacity", "calvano"],
}

#: The published equilibrium prices, as stated in the source (inventory → (nash, monop)).
PUBLISHED: dict[str, Any] = {
    "source": "Friedrich, Pásztor & Ramponi (2025), 'Learning Collusion in Episodic, "
    "Inventory-Constrained Markets', AAMAS 2025 (arXiv:2410.18871); table "
    "code_equilibrium_calculations/results.csv of github.com/pfriedric/EpisodicCollusion",
    "status": "values copied from the authors' results file; the paper's text was not "
    "available, and the file states neither horizon nor demand scale (read here as "
    "k = inventory/1000). Their model differs: integer demand (floor of 1000·share), a "
    "sold-out seller leaves the choice set (demand substitution), Gauss-Seidel GNEP "
    "solver with tolerance 1e-4.",
    "rows": {
        50: (2.723, 2.723),
        100: (2.52, 2.52),
        150: (2.385, 2.385),
        200: (2.275, 2.275),
        250: (2.173, 2.173),
        305: (2.061, 2.061),
        320: (2.029, 2.029),
        335: (1.996, 1.996),
        350: (1.961, 1.961),
        365: (1.925, 1.925),
        380: (1.885, 1.925),
        395: (1.843, 1.925),
        410: (1.795, 1.925),
        425: (1.74, 1.925),
        440: (1.693, 1.925),
        455: (1.617, 1.925),
        470: (1.471, 1.925),
        500: (1.471, 1.925),
    },
    "calvano": {
        "source": "Calvano, Calzolari, Denicolò & Pastorello (2020), AER 110(10)",
        "status": "as recalled (not re-verified here), as in the README's Calvano tables",
        "nash_price": 1.473,
        "monopoly_price": 1.925,
    },
    "learners": "the paper reports that PPO and DQN sellers learn supra-competitive prices "
    "in this market, PPO more than DQN (summaries of the paper; no number checked)",
}

AGREE_TOL = 0.002  # |pricegym − published| counted as agreement (3-decimal table, integer demand)


def _market(settings: dict[str, Any] = SETTINGS) -> tuple[Any, ...]:
    n = settings["n_sellers"]
    return ([settings["quality"]] * n, settings["outside"], settings["mu"], settings["cost"])


def brute_force(k: float | None, settings: dict[str, Any] = SETTINGS) -> dict[str, float]:
    """Grid checks of the Nash and monopoly solutions at per-round capacity ``k``.

    Nash: seller 0's best price on a 10⁻⁴ grid over [1, 3.5] against the rival's
    Nash price (rationed profits); monopoly: the best price pair on a 0.005 grid
    over [1, 3.5]², refined on a 5·10⁻⁵ grid ±0.01 around it. Reported: the most
    the grid gains over the solver's profit (≤ 0 up to rounding when the solver is
    right) and the distance of the grid's argmax from the solver's price.
    """
    q, a0, mu, c = _market(settings)
    nash, mono = capacity_nash(q, a0, mu, c, k), capacity_monopoly(q, a0, mu, c, k)

    def prof(p: np.ndarray) -> np.ndarray:
        return rationed_profits(p, q, a0, mu, c, k)

    own = np.arange(10_000, 35_001) * 1e-4
    pairs = np.column_stack([own, np.full(own.size, nash.prices[1])])
    dev = prof(pairs)[:, 0]
    at = float(prof(nash.prices)[0])

    def joint_best(lo: np.ndarray, hi: np.ndarray, step: float) -> tuple[np.ndarray, float]:
        x = np.arange(lo[0], hi[0] + step / 2, step)
        y = np.arange(lo[1], hi[1] + step / 2, step)
        grid = np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1)
        total = prof(grid).sum(axis=-1)
        i = np.unravel_index(int(np.argmax(total)), total.shape)
        return grid[i], float(total[i])

    coarse, _ = joint_best(np.array([1.0, 1.0]), np.array([3.5, 3.5]), 0.005)
    best, best_total = joint_best(coarse - 0.01, coarse + 0.01, 5e-5)
    return {
        "nash_grid_gain": float(dev.max() - at),
        "nash_argmax_gap": float(abs(own[int(np.argmax(dev))] - nash.prices[0])),
        "monopoly_grid_gain": best_total - float(prof(mono.prices).sum()),
        "monopoly_argmax_gap": float(np.max(np.abs(best - mono.prices))),
    }


def benchmark_row(
    inventory: int | None, settings: dict[str, Any] = SETTINGS, check: bool = True
) -> dict[str, Any]:
    """One row of part 1: the capacity-aware benchmarks at ``inventory`` (None: unconstrained),
    with the :func:`brute_force` check unless ``check=False``."""
    k = None if inventory is None else inventory / settings["demand_scale"]
    q, a0, mu, c = _market(settings)
    nash, mono = capacity_nash(q, a0, mu, c, k), capacity_monopoly(q, a0, mu, c, k)
    pub = PUBLISHED["rows"].get(inventory) if inventory is not None else None
    return {
        "inventory": inventory,
        "capacity": k,
        "nash_price": float(nash.prices[0]),
        "monopoly_price": float(mono.prices[0]),
        "nash_profit": float(nash.profits[0]),
        "nash_units": float(nash.units[0]),
        "monopoly_profit": float(mono.profits[0]),
        "nash_shadow_price": float(nash.shadow_prices[0]),
        "monopoly_shadow_price": float(mono.shadow_prices[0]),
        "nash_binding": bool(nash.binding[0]),
        "monopoly_binding": bool(mono.binding[0]),
        "published_nash": None if pub is None else pub[0],
        "published_monopoly": None if pub is None else pub[1],
        "brute_force": brute_force(k, settings) if check else None,
    }


def _env(k: float | None, grid: str, settings: dict[str, Any] = SETTINGS) -> OligopolyEnv:
    """The market at per-round capacity ``k`` (None: unconstrained) on ``grid``."""
    t = settings["horizon"]
    if k is None:
        return OligopolyEnv(horizon=t)
    if grid == "calvano":
        return OligopolyEnv(capacity=k * t, horizon=t)
    q, a0, mu, c = _market(settings)
    pn = float(capacity_nash(q, a0, mu, c, k).prices.min())
    pm = float(capacity_monopoly(q, a0, mu, c, k).prices.max())
    gap = pm - pn
    prices = np.linspace(pn - 0.1 * gap, pm + 0.1 * gap, 15)
    return OligopolyEnv(capacity=k * t, horizon=t, prices=prices.tolist())


def episode_delta(env: OligopolyEnv, result: QLearningResult, session: int) -> dict[str, Any]:
    """Play one episode of ``env`` with the session's greedy strategies from its final prices.

    Returns the average profit per round of each seller, Δ against ``env``'s
    benchmarks, and whether any seller sold out before the last round.
    """
    m = env.grid.size
    state = int(result.final_state[session])
    start = env.grid[[state // m, state % m]]
    agents = [result.agent(session, i) for i in range(env.n_sellers)]
    obs, _ = env.reset(seed=session, options={"prices": start})
    total = np.zeros(env.n_sellers)
    sold_out_early = False
    rounds = 0
    while env.agents:
        actions = {a: agents[i].act(obs[a]) for i, a in enumerate(env.possible_agents)}
        obs, rewards, _, _, infos = env.step(actions)
        rounds += 1
        total += [rewards[a] for a in env.possible_agents]
        if env.capacity is not None and env.horizon is not None and rounds < env.horizon:
            sold_out_early |= any(infos[a]["stock"] <= 0 for a in env.possible_agents)
    horizon = env.horizon or rounds
    profit = total / horizon
    gain = (profit - env.nash_profits) / (env.monopoly_profits - env.nash_profits)
    return {"delta": float(gain.mean()), "sold_out_early": bool(sold_out_early)}


def learning_row(
    k: float | None, grid: str, sessions: int, seed: int, settings: dict[str, Any] = SETTINGS
) -> dict[str, Any]:
    """One row of part 2: Q-learning sessions at per-round capacity ``k`` on ``grid``."""
    env = _env(k, grid, settings)
    t0 = time.perf_counter()
    res = run_sessions(env, sessions, seed=seed)
    learn_s = time.perf_counter() - t0
    unconstrained = OligopolyEnv()
    naive = (res.profits - unconstrained.nash_profits) / (
        unconstrained.monopoly_profits - unconstrained.nash_profits
    )
    episodes = [episode_delta(env, res, s) for s in range(sessions)]
    delta = bootstrap_ci(res.delta, seed=seed)
    ep = bootstrap_ci([e["delta"] for e in episodes], seed=seed)
    nv = bootstrap_ci(naive.mean(axis=1), seed=seed)
    return {
        "capacity": k,
        "grid": grid,
        "grid_range": [float(env.grid[0]), float(env.grid[-1])],
        "gap_in_grid_steps": float(
            (env.monopoly_prices[0] - env.nash_prices[0]) / (env.grid[1] - env.grid[0])
        ),
        "sessions": sessions,
        "converged": int(res.converged.sum()),
        "periods_median": float(np.median(res.periods)),
        "nash_price": float(env.nash_prices[0]),
        "monopoly_price": float(env.monopoly_prices[0]),
        "price_mean": float(res.prices.mean()),
        "delta_mean": delta.value,
        "delta_ci95": [delta.low, delta.high],
        "delta_episode_mean": ep.value,
        "delta_episode_ci95": [ep.low, ep.high],
        "delta_unconstrained_mean": nv.value,
        "delta_unconstrained_ci95": [nv.low, nv.high],
        "sold_out_early_share": float(np.mean([e["sold_out_early"] for e in episodes])),
        "learn_s": learn_s,
        "wall_s": time.perf_counter() - t0,
    }


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pricegym.demand.plot import save_figure

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    rows = [r for r in doc["benchmarks"] if r["capacity"] is not None]
    k = [r["capacity"] for r in rows]
    ax.plot(k, [r["nash_price"] for r in rows], "-", color="tab:blue", label="p^N (pricegym)")
    ax.plot(k, [r["monopoly_price"] for r in rows], "-", color="tab:red", label="p^M (pricegym)")
    ax.plot(k, [r["published_nash"] for r in rows], "o", mfc="none", color="tab:blue",
            label="p^N (published)")  # fmt: skip
    ax.plot(k, [r["published_monopoly"] for r in rows], "s", mfc="none", color="tab:red",
            label="p^M (published)")  # fmt: skip
    ax.set_xlabel("per-round capacity k (share of the market)")
    ax.set_ylabel("price")
    ax.set_title("Capacity-constrained benchmarks")
    ax.legend(fontsize=7)
    for grid, marker in zip(doc["settings"]["grids"], ("o", "s"), strict=False):
        lr = [r for r in doc["learning"] if r["grid"] == grid]
        x = [0.5 if r["capacity"] is None else r["capacity"] for r in lr]
        y = np.array([r["delta_mean"] for r in lr])
        lo = y - np.array([r["delta_ci95"][0] for r in lr])
        hi = np.array([r["delta_ci95"][1] for r in lr]) - y
        bx.errorbar(x, y, yerr=[lo, hi], fmt=marker + "-", capsize=3, label=f"Δ, {grid} grid")
        for xi, yi in zip(x, y, strict=True):
            if yi < -1.0:  # off the scale: say where it is
                bx.annotate(f"Δ = {yi:.1f}", (xi, -0.95), fontsize=7, ha="center")
    bx.set_ylim(-1.0, 1.1)
    bx.axhline(0, color="grey", lw=0.8)
    bx.set_xlabel("per-round capacity k (0.5 = unconstrained)")
    bx.set_ylabel("Δ vs capacity-aware benchmarks")
    bx.set_title("Q-learners (Calvano baseline)")
    bx.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def _agreement(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    agree, differ = [], []
    for r in doc["benchmarks"]:
        if r["published_nash"] is None:
            continue
        dn = abs(r["nash_price"] - r["published_nash"])
        dm = abs(r["monopoly_price"] - r["published_monopoly"])
        (agree if max(dn, dm) <= AGREE_TOL else differ).append(r)
    return agree, differ


def comparison(doc: dict[str, Any]) -> str:
    """Where pricegym agrees with the published values and the learners' outcome, from ``doc``."""
    agree, differ = _agreement(doc)
    free = next(r for r in doc["benchmarks"] if r["capacity"] is None)
    cal = doc["published"]["calvano"]
    parts = [
        f"Unconstrained, pricegym gives p^N = {free['nash_price']:.4f} and p^M = "
        f"{free['monopoly_price']:.4f} (Calvano et al.: {cal['nash_price']} / "
        f"{cal['monopoly_price']}, as recalled).",
        f"Against the published table pricegym agrees within {AGREE_TOL} at "
        f"{len(agree)} of {len(agree) + len(differ)} inventories",
    ]
    if differ:
        worst = ", ".join(
            f"{r['inventory']} (p^N {r['nash_price']:.3f} vs {r['published_nash']}, "
            f"p^M {r['monopoly_price']:.3f} vs {r['published_monopoly']})"
            for r in differ
        )
        parts[-1] += (
            f" and differs at {worst}: there the Nash constraint binds only a little, and "
            "the published model (integer demand, sold-out sellers leaving the choice set, "
            "a 1e-4 solver tolerance) is not pricegym's; which of these causes the gap was "
            "not established."
        )
        below = [
            r
            for r in differ
            if r["published_nash"] < free["nash_price"] and r["capacity"] < free["nash_units"]
        ]
        for r in below:
            parts[-1] += (
                f" The published p^N = {r['published_nash']} at inventory {r['inventory']} is "
                f"below the unconstrained {free['nash_price']:.4f}, whose sales "
                f"({free['nash_units'] * doc['settings']['demand_scale']:.1f} per "
                f"{doc['settings']['demand_scale']}) exceed that inventory."
            )
    else:
        parts[-1] += "."
    checks = [r["brute_force"] for r in doc["benchmarks"] if r["brute_force"] is not None]
    if checks:
        gain = max(max(c["nash_grid_gain"], c["monopoly_grid_gain"]) for c in checks)
        gap = max(max(c["nash_argmax_gap"], c["monopoly_argmax_gap"]) for c in checks)
        verdict = (
            "no brute-force grid point beats the solver"
            if gain <= 1e-9
            else "A BRUTE-FORCE GRID POINT BEATS THE SOLVER"
        )
        parts.append(
            f"On the {len(checks)} rows checked, {verdict} (best grid profit minus the "
            f"solver's: at most {gain:.1e}), and the grids' best prices are within {gap:.1e} "
            "of the solver's."
        )
    for grid in doc["settings"]["grids"]:
        lr = [r for r in doc["learning"] if r["grid"] == grid]
        base = next(r for r in lr if r["capacity"] is None)
        tight = min((r for r in lr if r["capacity"] is not None), key=lambda r: r["capacity"])
        falls = all(
            a["delta_mean"] >= b["delta_mean"] - 0.05
            for a, b in itertools.pairwise(lr)  # capacities in decreasing order
        )
        lo, hi = tight["delta_ci95"]
        if hi < 0:
            where = "below the capacity-constrained Nash profit"
        elif lo <= 0.2 and hi >= -0.2 and tight["delta_mean"] < 0.2:
            where = "close to the capacity-constrained Nash profit"
        else:
            where = "supra-competitive"
        text = (
            f"Q-learners ({grid} grid): Δ = {base['delta_mean']:.2f} unconstrained and "
            f"{tight['delta_mean']:.2f} [{lo:.2f}, {hi:.2f}] at k = {tight['capacity']:g} "
            f"({where}; mean price {tight['price_mean']:.3f} vs p^N {tight['nash_price']:.3f}), "
            + ("falling as capacity tightens" if falls else "not monotone in capacity")
            + f"; against the unconstrained benchmarks the same play would score "
            f"{tight['delta_unconstrained_mean']:.2f}."
        )
        coarse = [r for r in lr if r["capacity"] is not None and r["gap_in_grid_steps"] < 3]
        if coarse:
            ks = ", ".join(f"{r['capacity']:g}" for r in coarse)
            steps = ", ".join(f"{r['gap_in_grid_steps']:.1f}" for r in coarse)
            text += (
                f" At k = {ks} p^M − p^N spans under 3 steps of this grid ({steps}), "
                "so Δ there mostly measures the grid: its prices below the capacity-clearing "
                "price sell the same units for less."
            )
        early = [r for r in lr if r["sold_out_early_share"] > 0]
        if early:
            text += (
                " In the episode with stock carried over, sessions sold out before the end at k = "
                + ", ".join(f"{r['capacity']:g} ({r['sold_out_early_share']:.0%})" for r in early)
                + "."
            )
        else:
            text += " No learned strategy sold out before the end of an episode."
        parts.append(text)
    parts.append(
        "The published learners are PPO and DQN in the episodic game, so the Q-learning rows "
        "are a different experiment, not a check of the paper's collusion results (none of "
        "its learning numbers were checked)."
    )
    return " ".join(parts)


def _fmt(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def readme_table(doc: dict[str, Any]) -> str:
    """Markdown tables of ``capacity.json``; every number comes from ``doc``."""
    lines = [
        "| inventory (k) | p^N | p^N published | p^M | p^M published | λ^N / λ^M "
        "| π^N | π^M | grid check: gain / price gap |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["benchmarks"]:
        bf = r["brute_force"] or dict.fromkeys(
            ("nash_grid_gain", "monopoly_grid_gain", "nash_argmax_gap", "monopoly_argmax_gap"),
            float("nan"),
        )
        inv = (
            "∞ (unconstrained)"
            if r["inventory"] is None
            else f"{r['inventory']} ({r['capacity']:g})"
        )
        gain = max(bf["nash_grid_gain"], bf["monopoly_grid_gain"])
        gap = max(bf["nash_argmax_gap"], bf["monopoly_argmax_gap"])
        lines.append(
            f"| {inv} | {r['nash_price']:.4f} | {_fmt(r['published_nash'], 3)} "
            f"| {r['monopoly_price']:.4f} | {_fmt(r['published_monopoly'], 3)} "
            f"| {r['nash_shadow_price']:.3f} / {r['monopoly_shadow_price']:.3f} "
            f"| {r['nash_profit']:.4f} | {r['monopoly_profit']:.4f} | {gain:.1e} / {gap:.1e} |"
        )
    s = doc["settings"]
    lines += [
        "",
        f"Logit market a = {s['quality']:g}, a_0 = {s['outside']:g}, μ = {s['mu']:g}, c = "
        f"{s['cost']:g}, {s['n_sellers']} symmetric sellers; k = inventory/"
        f"{s['demand_scale']} is the per-round capacity (share of the market); λ is the "
        "shadow price of capacity in the KKT solution (0: slack). Published values, as "
        f"stated in the source ({doc['published']['source']}): {doc['published']['status']}",
        "",
        "| grid | k | sessions (converged) | p^N / p^M | mean price | Δ [95% CI] "
        "| Δ, one episode T = 100 [95% CI] | Δ vs unconstrained benchmarks | sold out early |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["learning"]:
        k = "∞" if r["capacity"] is None else f"{r['capacity']:g}"
        lo, hi = r["delta_ci95"]
        elo, ehi = r["delta_episode_ci95"]
        lines.append(
            f"| {r['grid']} [{r['grid_range'][0]:.3f}, {r['grid_range'][1]:.3f}] | {k} "
            f"| {r['sessions']} ({r['converged']}) | {r['nash_price']:.4f} / "
            f"{r['monopoly_price']:.4f} | {r['price_mean']:.4f} | {r['delta_mean']:.3f} "
            f"[{lo:.3f}, {hi:.3f}] | {r['delta_episode_mean']:.3f} [{elo:.3f}, {ehi:.3f}] "
            f"| {r['delta_unconstrained_mean']:.3f} | {r['sold_out_early_share']:.0%} |"
        )
    lines += [
        "",
        "Calvano Q-learners (α = 0.15, β = 4e-6, δ = 0.95, 15 prices, memory 1) learn the "
        "game with a stock of k renewed every round; Δ is over each session's greedy limit "
        "cycle against the capacity-aware benchmarks; 'one episode' replays the learned "
        f"strategies for {s['horizon']} rounds in `OligopolyEnv(capacity={s['horizon']}·k, "
        f"horizon={s['horizon']})`, where unsold stock carries over. Grids: 'capacity' is "
        "Calvano's rule around the capacity-aware p^N, p^M; 'calvano' is the env's default, "
        "here the unconstrained 15-price grid. Two learning PPO sellers were not run; one PPO "
        "seller against a fixed rival is measured below. "
        f"Wall {doc['wall_s']:.0f} s; written by `benchmarks/bench_capacity.py`.",
        "",
        comparison(doc),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quick", action="store_true", help="10 sessions per setting")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions = 10
    t0 = time.perf_counter()
    bench = [benchmark_row(None)] + [benchmark_row(inv) for inv in PUBLISHED["rows"]]
    for r in bench:
        print(
            f"inventory {r['inventory']}: p^N {r['nash_price']:.4f} ({r['published_nash']}), "
            f"p^M {r['monopoly_price']:.4f} ({r['published_monopoly']})",
            flush=True,
        )
    learning = []
    for grid in SETTINGS["grids"]:
        for k in SETTINGS["learn_capacities"]:
            row = learning_row(k, grid, args.sessions, args.seed)
            learning.append(row)
            print(
                f"{grid} grid, k {k}: Δ {row['delta_mean']:.3f}, episode "
                f"{row['delta_episode_mean']:.3f}, price {row['price_mean']:.4f} "
                f"({row['converged']}/{row['sessions']} converged, {row['wall_s']:.0f} s)",
                flush=True,
            )
    doc: dict[str, Any] = {
        "benchmark": "capacity",
        "published": {**PUBLISHED, "rows": {str(k): v for k, v in PUBLISHED["rows"].items()}},
        "settings": SETTINGS,
        "seed": args.seed,
        "benchmarks": bench,
        "learning": learning,
        "wall_s": time.perf_counter() - t0,
        "machine": machine(),
        "command": command("bench_capacity.py"),
    }
    _plot(doc, args.out.with_suffix(".png"))
    write_json(args.out, doc)
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
