"""Gallego & van Ryzin (1994): the DP optimum against the closed form, and agents against both.

Two questions.

1. **Does the DP converge to the closed form?** For exponential demand
   λ(p) = a·e^{−αp} (a Poisson process) with x units and time t, Gallego & van
   Ryzin give the optimal expected revenue J*(x, t) in closed form and the fluid
   bound J^D(x, t) ≥ J*(x, t). Cutting t into n periods of constant price and
   solving the discrete problem by backward induction
   (:func:`~pricegym.agents.dp.discretised_gallego_van_ryzin`) must give values
   V_n ≤ J* that rise towards J* as the periods shrink (n = 1, 2, 4, …, 256). With
   n = 1 the seller holds one price all season, so V_1 is the best fixed price's
   exact value; the dynamic-pricing gain is J*/V_1 − 1. Cross-checks: V_1 equals
   the best of :func:`~pricegym.agents.dp.fixed_price_values` on the 16-period
   discretisation (a price held over 16 periods is one price held all season), and
   a continuous-price search of p·E[min(N, x)], N ~ Poisson(λ(p)·t), with
   ``scipy.optimize.minimize_scalar`` agrees with it to the grid's resolution.

2. **How close do the rule-based agents come on ``pricegym/Markdown-v0``?** (the
   same demand with a = 10, α = 1, 15 prices on [0.5, 4], 10 units, 20 periods.)
   The exact DP optimum and the best fixed price come from
   :func:`~pricegym.agents.dp.solve_dp` / ``fixed_price_values``; each agent plays
   ``EPISODES`` seasons under each of ``SEEDS`` seeds with
   :func:`~pricegym.experiments.evaluate.evaluate` (the same demand draws for
   every agent), and its % of the optimum and its share of the gain over the best
   fixed price, (profit − fixed)/(optimum − fixed), get 95% bootstrap intervals
   over the per-seed means (:func:`~pricegym.experiments.stats.bootstrap_ci`). For
   agents whose policy depends only on the period (the DP agent, fixed prices, the
   markdown schedule, myopic = one price here) the exact value from
   :func:`~pricegym.agents.dp.evaluate_policy` is reported beside the simulation,
   and the simulation's interval must contain it.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_gvr.py

Writes ``benchmarks/results/gvr.json`` and ``gvr.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from scipy import optimize, stats

import pricegym  # noqa: F401  (registers the pricegym/ ids)
from pricegym.agents.base import PricingAgent
from pricegym.agents.dp import (
    DPAgent,
    discretised_gallego_van_ryzin,
    evaluate_policy,
    fixed_price_values,
    gallego_van_ryzin,
    solve_dp,
)
from pricegym.agents.rules import FixedPrice, InventoryBalancing, MarkdownSchedule, Myopic
from pricegym.demand.io import atomic_write_bytes
from pricegym.demand.parametric import ExponentialTruth
from pricegym.experiments.evaluate import evaluate
from pricegym.experiments.stats import bootstrap_ci

RESULTS = Path(__file__).resolve().parent / "results"
#: Demand intensity λ(p) = A·e^{−ALPHA·p} per unit time (Markdown-v0's, per period).
A, ALPHA = 10.0, 1.0
#: (label, inventory x, λ*·t): expected demand at the revenue-maximising price 1/α
#: over the season, against the stock.
SETTINGS = (("scarce", 5, 20.0), ("balanced", 10, 10.0), ("ample", 20, 10.0))
PERIODS = tuple(2**k for k in range(9))  # 1 … 256
#: Price grid of the discretised problems (the library's default).
N_PRICES = 601
ENV_ID = "pricegym/Markdown-v0"
SEEDS, EPISODES = 30, 300


def continuous_fixed_price(x: int, t: float) -> tuple[float, float]:
    """Best single price over [0, ∞) for the whole season, by direct search.

    Revenue p·E[min(N, x)] with N ~ Poisson(λ(p)·t), E[min(N, x)] = Σ_{j<x} P(N > j).
    """

    def neg(p: float) -> float:
        mu = A * math.exp(-ALPHA * p) * t
        return -p * float(np.sum(stats.poisson.sf(np.arange(x), mu)))

    scan = np.linspace(0.01, 10.0 / ALPHA, 2000)
    i = int(np.argmin([neg(p) for p in scan]))
    res = optimize.minimize_scalar(
        neg,
        bounds=(scan[max(i - 1, 0)], scan[min(i + 1, scan.size - 1)]),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.x), float(-res.fun)


def convergence() -> list[dict[str, Any]]:
    """Closed form, fluid bound, DP values by n and the best fixed price, per setting."""
    out = []
    for label, x, lam_t in SETTINGS:
        t = lam_t * math.e / A
        gvr = gallego_van_ryzin(A, ALPHA, x, t)
        values = []
        for n in PERIODS:
            sol = discretised_gallego_van_ryzin(A, ALPHA, x, t, n, n_prices=N_PRICES)
            values.append(sol.expected_value)
        values_arr = np.array(values)
        gap = (gvr.value - values_arr) / gvr.value
        # n = 1 is the best fixed price; check it against fixed_price_values on n = 16.
        sixteen = discretised_gallego_van_ryzin(A, ALPHA, x, t, 16, n_prices=N_PRICES)
        lo, hi = sixteen.prices[0], sixteen.prices[-1]
        truth = ExponentialTruth(A * t / 16, ALPHA, support=(lo, hi))
        cfg = {"n_prices": N_PRICES, "horizon": 16, "inventory": x, "noise": True}
        fixed16 = fixed_price_values(truth, cfg)
        p_cont, v_cont = continuous_fixed_price(x, t)
        slope = float(np.polyfit(np.log(PERIODS[-4:]), np.log(gap[-4:]), 1)[0])
        out.append(
            {
                "setting": label,
                "inventory": x,
                "lambda_star_t": lam_t,
                "a": A,
                "alpha": ALPHA,
                "t": t,
                "closed_form": gvr.value,
                "fluid_bound": gvr.fluid_bound,
                "optimal_price_at_start": gvr.price,
                "fluid_price": gvr.fluid_price,
                "periods": list(PERIODS),
                "dp_values": values_arr.tolist(),
                "relative_gap": gap.tolist(),
                "gap_slope_last4": slope,
                "best_fixed_value": float(values_arr[0]),
                "best_fixed_price": float(sixteen.prices[int(np.argmax(fixed16))]),
                "best_fixed_value_16_periods": float(fixed16.max()),
                "best_fixed_continuous": {"price": p_cont, "value": v_cont},
                "dynamic_gain_pct": 100.0 * (gvr.value / values_arr[0] - 1.0),
                "checks": {
                    "dp_below_closed_form": bool(np.all(values_arr <= gvr.value + 1e-9)),
                    "closed_form_below_fluid": bool(gvr.value <= gvr.fluid_bound + 1e-12),
                    "dp_nondecreasing_in_n": bool(np.all(np.diff(values_arr) >= -1e-9)),
                    "fixed_equals_one_period_dp": bool(
                        abs(fixed16.max() - values_arr[0]) <= 1e-9 * values_arr[0]
                    ),
                    "grid_fixed_within_1e-4_of_continuous": bool(
                        0 <= v_cont - values_arr[0] <= 1e-4 * v_cont
                    ),
                },
            }
        )
        print(
            f"{label:>8}: J* = {gvr.value:.5f}, fluid {gvr.fluid_bound:.5f}, "
            f"V_1 = {values[0]:.5f}, V_256 = {values[-1]:.5f} (gap {gap[-1]:.2e}), "
            f"gain {out[-1]['dynamic_gain_pct']:.2f}%",
            flush=True,
        )
    return out


def _schedule_actions(agent: PricingAgent, env: Any, horizon: int) -> np.ndarray:
    """The action a time-only agent takes in each period (observation = that period's)."""
    obs, _ = env.reset(seed=0)
    agent.bind(env)
    agent.reset(seed=0)
    names = list(env.unwrapped.observation_names)
    acts = []
    for k in range(horizon):
        o = np.array(obs, copy=True)
        o[names.index("time_remaining")] = (horizon - k) / horizon
        acts.append(int(agent.act(o)))
    return np.array(acts)


def markdown_market(seeds: int, episodes: int) -> dict[str, Any]:
    """DP optimum, best fixed price and the rule-based agents on ``pricegym/Markdown-v0``."""
    env = gym.make(ENV_ID)
    base = env.unwrapped
    kernel, config = base.kernel, base.config
    horizon = int(config.horizon)
    sol = solve_dp(kernel, config)
    fixed = fixed_price_values(kernel, config)
    optimum, best = sol.expected_value, int(np.argmax(fixed))
    v_fixed = float(fixed[best])
    agents: list[tuple[PricingAgent, str]] = [
        (DPAgent(name="DP optimum (played)"), "dp"),
        (FixedPrice(price=float(sol.prices[best]), name="best fixed price"), "schedule"),
        (MarkdownSchedule(name="markdown schedule (linear p_max → p_min)"), "schedule"),
        (InventoryBalancing(name="inventory balancing"), "none"),
        (Myopic(name="myopic"), "schedule"),
    ]
    rows = []
    for agent, exact_kind in agents:
        t0 = time.perf_counter()
        per_seed = np.array(
            [
                evaluate(agent, ENV_ID, episodes=episodes, seed=1000 + s)["profit"].mean()
                for s in range(seeds)
            ]
        )
        wall = time.perf_counter() - t0
        exact = None
        if exact_kind == "dp":
            exact = optimum
        elif exact_kind == "schedule":
            actions = _schedule_actions(agent, gym.make(ENV_ID), horizon)
            exact = evaluate_policy(kernel, config, actions).expected_value
        profit = bootstrap_ci(per_seed, seed=1)
        pct = bootstrap_ci(100.0 * per_seed / optimum, seed=1)
        share = bootstrap_ci(100.0 * (per_seed - v_fixed) / (optimum - v_fixed), seed=1)
        row = {
            "agent": agent.name,
            "kind": agent.kind,
            "params": {k: v for k, v in agent.params.items() if k != "name"}
            if hasattr(agent, "params")
            else {},
            "profit_mean": profit.value,
            "profit_ci95": [profit.low, profit.high],
            "pct_of_optimum": pct.value,
            "pct_ci95": [pct.low, pct.high],
            "share_of_gain_pct": share.value,
            "share_ci95": [share.low, share.high],
            "exact_value": exact,
            "exact_in_ci": None if exact is None else bool(profit.low <= exact <= profit.high),
            "training_steps": 0,
            "wall_s": wall,
        }
        rows.append(row)
        print(
            f"{agent.name:<42} {profit}  {pct.value:6.2f}% of optimum, share of gain "
            f"{share.value:7.2f}%  exact {exact}  ({wall:.1f} s)",
            flush=True,
        )
    return {
        "env_id": ENV_ID,
        "market": {
            "demand": "Poisson, mean 10·exp(−p) per period",
            "prices": sol.prices.tolist(),
            "horizon": horizon,
            "inventory": int(config.inventory),
        },
        "dp_optimum": optimum,
        "fixed_price_values": fixed.tolist(),
        "best_fixed_price": float(sol.prices[best]),
        "best_fixed_value": v_fixed,
        "best_fixed_pct_of_optimum": 100.0 * v_fixed / optimum,
        "seeds": seeds,
        "episodes_per_seed": episodes,
        "rows": rows,
    }


def plot(doc: dict[str, Any], path: Path) -> None:
    """Left: relative gap of the n-period DP to J* (log-log). Right: agents, % of optimum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for s in doc["convergence"]:
        ax.loglog(
            s["periods"],
            s["relative_gap"],
            "o-",
            label=f"{s['setting']}: x = {s['inventory']}, λ*t = {s['lambda_star_t']:g}",
        )
    n = np.array(PERIODS, dtype=float)
    ref = doc["convergence"][0]["relative_gap"][-1] * n[-1] / n
    ax.loglog(n, ref, "k:", lw=1, label="∝ 1/n")
    ax.set_xlabel("periods n (period length t/n)")
    ax.set_ylabel("(J* − V_n) / J*")
    ax.set_title("Discretised DP → Gallego–van Ryzin closed form")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    rows = doc["markdown"]["rows"]
    y = np.arange(len(rows))
    pct = np.array([r["pct_of_optimum"] for r in rows])
    err = np.array(
        [
            [r["pct_of_optimum"] - r["pct_ci95"][0], r["pct_ci95"][1] - r["pct_of_optimum"]]
            for r in rows
        ]
    ).T
    bx.barh(y, pct, xerr=err, color="tab:blue", alpha=0.8)
    bx.axvline(
        doc["markdown"]["best_fixed_pct_of_optimum"],
        color="tab:red",
        ls="--",
        label="best fixed price (exact)",
    )
    bx.set_yticks(y, [r["agent"] for r in rows], fontsize=8)
    bx.set_xlabel("% of the DP optimum (95% CI over seeds)")
    bx.set_xlim(min(30.0, pct.min() - 5), 101)
    bx.set_title(f"{doc['markdown']['env_id']}")
    bx.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def readme_table(doc: dict[str, Any]) -> str:
    """README tables: closed form vs DP by n per setting; the Markdown-v0 league."""
    conv = doc["convergence"]
    header = [
        "",
        *[f"{s['setting']} (x = {s['inventory']}, λ*t = {s['lambda_star_t']:g})" for s in conv],
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("fluid bound J^D", [f"{s['fluid_bound']:.4f}" for s in conv])
    row("closed form J* (G&vR 1994)", [f"{s['closed_form']:.4f}" for s in conv])
    for i, n in enumerate(conv[0]["periods"]):
        if n in (1, 4, 16, 64, 256):
            row(
                f"DP, {n} period{'s' if n > 1 else ''} (gap to J*)",
                [f"{s['dp_values'][i]:.4f} ({100 * s['relative_gap'][i]:.2g}%)" for s in conv],
            )
    row(
        "best fixed price (value)",
        [f"{s['best_fixed_price']:.3f} ({s['best_fixed_value']:.4f})" for s in conv],
    )
    row("dynamic-pricing gain J*/V_fixed − 1", [f"{s['dynamic_gain_pct']:.2f}%" for s in conv])
    md = doc["markdown"]
    lines2 = [
        "| policy | profit per season [95% CI] | exact | % of optimum | share of gain over best "
        "fixed | training steps | wall s |",
        "|---|---|---|---|---|---|---|",
        f"| DP optimum (exact) | {md['dp_optimum']:.3f} | {md['dp_optimum']:.3f} | 100% | 100% "
        "| 0 | |",
        f"| best fixed price {md['best_fixed_price']:g} (exact) | {md['best_fixed_value']:.3f} | "
        f"{md['best_fixed_value']:.3f} | {md['best_fixed_pct_of_optimum']:.2f}% | 0% | 0 | |",
    ]
    for r in md["rows"]:
        exact = "" if r["exact_value"] is None else f"{r['exact_value']:.3f}"
        lines2.append(
            f"| {r['agent']} | {r['profit_mean']:.3f} [{r['profit_ci95'][0]:.3f}, "
            f"{r['profit_ci95'][1]:.3f}] | {exact} | {r['pct_of_optimum']:.2f}% "
            f"[{r['pct_ci95'][0]:.2f}, {r['pct_ci95'][1]:.2f}] | {r['share_of_gain_pct']:.1f}% "
            f"[{r['share_ci95'][0]:.1f}, {r['share_ci95'][1]:.1f}] | {r['training_steps']} | "
            f"{r['wall_s']:.1f} |"
        )
    return (
        "\n".join(lines)
        + f"\n\nDemand λ(p) = {A:g}·e^(−{ALPHA:g}p), Poisson; the n-period DP holds one price per "
        f"period on a {N_PRICES}-price grid, so V_n ≤ J* ≤ J^D; the gap shrinks ∝ 1/n (fitted "
        f"slope {conv[0]['gap_slope_last4']:.2f} over n = 32…256 for the scarce setting).\n\n"
        + "\n".join(lines2)
        + f"\n\n`{md['env_id']}`: {md['seeds']} seeds × {md['episodes_per_seed']} seasons per "
        "policy (the same demand draws for every policy); CIs are bootstrap intervals over seed "
        "means; “exact” is the policy's value by the DP recursion where the policy depends on "
        f"the period only. Wall time {doc['wall_s']:.0f} s on {doc['machine']['cpus']} cores; "
        "written by `benchmarks/bench_gvr.py`."
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--episodes", type=int, default=EPISODES, help="seasons per seed")
    parser.add_argument("--out", type=Path, default=RESULTS / "gvr.json")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    conv = convergence()
    bad = [(s["setting"], k) for s in conv for k, ok in s["checks"].items() if not ok]
    if bad:
        raise SystemExit(f"cross-checks failed: {bad}; not writing results")
    md = markdown_market(args.seeds, args.episodes)
    doc: dict[str, Any] = {
        "paper": "Gallego & van Ryzin (1994), Management Science 40(8), §2.3 and §3.1.1",
        "convergence": conv,
        "markdown": md,
        "wall_s": time.perf_counter() - t0,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "command": " ".join(["python", "benchmarks/bench_gvr.py", *sys.argv[1:]]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(doc, args.out.with_suffix(".png"))
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
