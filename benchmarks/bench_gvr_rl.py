"""Deep RL on the Gallego & van Ryzin market: how close do our SB3 defaults come to the optimum?

The question: on ``pricegym/Markdown-v0`` — Poisson demand with mean 10·e^(−p) per
period (the Gallego & van Ryzin (1994) exponential intensity, see
``benchmarks/bench_gvr.py``), 15 prices on [0.5, 4], 10 units, 20 periods, no
salvage — how much of the exact DP optimum do stable-baselines3 agents trained with
**our** defaults earn, how much does that vary between training seeds, and what
does it cost in training frames and wall time?

Method, top to bottom:

1. **Baselines** (exact, no simulation): the DP optimum on the market's 15-price
   grid (:func:`~pricegym.agents.dp.solve_dp`), the best fixed price
   (:func:`~pricegym.agents.dp.fixed_price_values`), the same two on a
   ``FINE_PRICES``-price grid of [0.5, 4] (spacing 0.005; 3501 prices change the
   DP value by ~1e-5 and the best fixed price's by ~1e-5: the best continuous-price
   policy, which a continuous agent really faces),
   and the closed form J* of :func:`~pricegym.agents.dp.gallego_van_ryzin`
   (continuous time, unbounded prices; the market restricts both, so
   J* ≥ the fine-grid DP ≥ the grid DP).
2. **Agents**: :class:`~pricegym.agents.sb3.SB3Agent` with the hyper-parameters of
   ``agents/hyperparams/<algo>.yaml`` (``default`` ← the ``pricegym/Markdown-v0``
   entry where there is one; nothing is set here but the number of training
   frames, a CLI option per algorithm, and the seed). PPO and DQN price on the
   15-price grid; SAC and TD3 on the same market with continuous prices
   (``gymnasium.make(ENV_ID, action="continuous")``: an action a ∈ [−1, 1] is the
   price 0.5 + (a + 1)/2·3.5). Each algorithm is trained once per training seed
   0 … ``--seeds``−1; torch runs on one thread (SB3Agent's ``torch_threads`` while
   training, ``torch.set_num_threads(1)`` here for evaluation). The training wall
   time includes the periodic ``EvalCallback`` our defaults switch on
   (``eval_freq``; 64 seasons, a small share of the time).
3. **Evaluation of the deterministic policy** after training.
   *Discrete agents* — exactly: the expected season profit by forward enumeration
   of the finite state distribution, with the evaluator
   ``exact_value`` of ``benchmarks/bench_training.py`` (imported, not copied;
   checked in this run: the DP policy enumerates to ``solve_dp``'s value to 1e-9).
   *Continuous agents* — exact enumeration does not apply (the last price is
   continuous, so states do not merge), so Monte Carlo with
   :func:`~pricegym.experiments.evaluate.evaluate` on ``--episodes`` seasons with
   the same ``--eval-seed`` for every agent (paired demand draws; the standard
   error of each mean is recorded). For the first seed of each discrete algorithm
   the same Monte Carlo runs beside the exact value, as a check of the method.
4. **Summary per algorithm**: per seed, % of the grid DP optimum and the share of
   the dynamic-pricing gain captured, (profit − best fixed)/(optimum − best
   fixed); their means with 95% bootstrap intervals over **training seeds**
   (:func:`~pricegym.experiments.stats.bootstrap_ci`; percentile below 4 seeds,
   where with 3 seeds the interval is close to the range of the seeds — read it
   as a spread, not as a calibrated interval); frames, training seconds per seed
   and frames/s.

Honest caveats: every agent is scored against the **15-price grid** optimum, so a
continuous-price agent can exceed 100% (by at most the fine-grid row's margin,
~0.1%); its Monte Carlo value also carries sampling noise (its s.e. is in the
JSON: ~0.1–0.3% of the optimum with 1000 seasons). SAC and TD3 use
γ = 0.99 from their YAML (γ = 1 is the season's objective). The frame budgets are
far below ``n_timesteps`` of the YAMLs (PPO's Markdown entry: 2M) so that the
whole run takes minutes; the answer is "at this cost", not "at convergence".
Same seeds and options give the same numbers (SB3Agent trains deterministically);
wall times and frames/s depend on the machine and its load (recorded).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_gvr_rl.py
    python benchmarks/bench_gvr_rl.py --algos ppo dqn --seeds 5 --ppo-steps 500000
    python benchmarks/bench_gvr_rl.py --seeds 2 --ppo-steps 5000 --dqn-steps 3000 \\
        --sac-steps 3000 --td3-steps 3000 --episodes 100 --out /tmp/gvr_rl.json  # smoke

Writes ``benchmarks/results/gvr_rl.json`` (rewritten after each algorithm, so an
interrupted run keeps what finished) and ``gvr_rl.png``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch

import pricegym
from pricegym.agents.dp import DPAgent, fixed_price_values, gallego_van_ryzin, solve_dp
from pricegym.agents.sb3 import SB3Agent
from pricegym.demand.io import atomic_write_bytes
from pricegym.experiments.evaluate import evaluate
from pricegym.experiments.stats import bootstrap_ci

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ENV_ID = "pricegym/Markdown-v0"
#: Demand intensity λ(p) = A·e^{−ALPHA·p} per period (Markdown-v0's; its config gives the rest).
A, ALPHA = 10.0, 1.0
#: Prices of the fine grid on [p_min, p_max] standing in for continuous prices.
FINE_PRICES = 701
#: Algorithm → the market's action kind and the default training frames (sized so the
#: whole run, 3 seeds each, takes ~7 minutes on 2 idle cores, ~12 at a load of 6).
ALGOS: dict[str, dict[str, Any]] = {
    "ppo": {"action": "discrete", "steps": 300_000},
    "dqn": {"action": "discrete", "steps": 100_000},
    "sac": {"action": "continuous", "steps": 30_000},
    "td3": {"action": "continuous", "steps": 30_000},
}
SEEDS, EPISODES, EVAL_SEED = 3, 1000, 2024
#: Seed of the bootstrap resampling (bench_gvr.py's).
CI_SEED = 1


def _bench_training() -> ModuleType:
    """``benchmarks/bench_training.py`` as a module (for its exact evaluator)."""
    spec = importlib.util.spec_from_file_location("_bench_training", HERE / "bench_training.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {HERE / 'bench_training.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ExactValue = Callable[[Callable[[np.ndarray], np.ndarray], Any, Any], float]


def baselines(exact_value: ExactValue) -> tuple[dict[str, Any], Any, Any]:
    """Exact baselines of the market; also its discrete env and DP solution.

    Checks the imported evaluator on the DP policy (must give ``solve_dp``'s value).
    """
    base = gym.make(ENV_ID).unwrapped
    kernel, config = base.kernel, base.config
    sol = solve_dp(kernel, config)
    optimum = sol.expected_value
    fixed = fixed_price_values(kernel, config)
    best = int(np.argmax(fixed))
    dp_agent = DPAgent(sol).bind(base)
    check = exact_value(lambda o: np.array([dp_agent.act(r) for r in o]), base, sol)
    if abs(check - optimum) > 1e-9 * optimum:
        raise SystemExit(f"exact evaluator disagrees with solve_dp: {check} vs {optimum}")
    fine = gym.make(ENV_ID, n_prices=FINE_PRICES).unwrapped
    fine_sol = solve_dp(fine.kernel, fine.config)
    fine_fixed = fixed_price_values(fine.kernel, fine.config)
    gvr = gallego_van_ryzin(A, ALPHA, int(config.inventory), float(config.horizon))
    v_fixed = float(fixed[best])

    def pct(v: float) -> float:
        return 100.0 * v / optimum

    def share(v: float) -> float:
        return 100.0 * (v - v_fixed) / (optimum - v_fixed)

    doc = {
        "dp_optimum": optimum,
        "dp_policy_enumerated": check,
        "fixed_price_values": fixed.tolist(),
        "best_fixed_price": float(sol.prices[best]),
        "best_fixed_value": v_fixed,
        "best_fixed_pct_of_optimum": pct(v_fixed),
        "fine_grid": {
            "n_prices": FINE_PRICES,
            "dp_value": fine_sol.expected_value,
            "dp_pct_of_optimum": pct(fine_sol.expected_value),
            "dp_share_of_gain_pct": share(fine_sol.expected_value),
            "best_fixed_price": float(fine_sol.prices[int(np.argmax(fine_fixed))]),
            "best_fixed_value": float(fine_fixed.max()),
            "best_fixed_pct_of_optimum": pct(float(fine_fixed.max())),
        },
        "gallego_van_ryzin": {
            "a": A,
            "alpha": ALPHA,
            "inventory": gvr.inventory,
            "t": gvr.horizon,
            "closed_form": gvr.value,
            "closed_form_pct_of_optimum": pct(gvr.value),
            "fluid_bound": gvr.fluid_bound,
            "price_at_start": gvr.price,
        },
        "checks": {
            "exact_evaluator_matches_dp": True,
            "grid_dp_le_fine_dp_le_closed_form": bool(
                optimum <= fine_sol.expected_value + 1e-9 and fine_sol.expected_value <= gvr.value
            ),
        },
    }
    print(
        f"{ENV_ID}: DP optimum {optimum:.4f} (enumerated DP policy {check:.4f}); best fixed "
        f"price {sol.prices[best]:g} earns {v_fixed:.4f} ({pct(v_fixed):.2f}%); "
        f"{FINE_PRICES}-price DP {fine_sol.expected_value:.4f} "
        f"({pct(fine_sol.expected_value):.2f}%); G&vR J* {gvr.value:.4f} ({pct(gvr.value):.2f}%)",
        flush=True,
    )
    return doc, base, sol


def _interval(est: Any) -> list[float | None]:
    """[low, high] of a bootstrap estimate; [None, None] (JSON null) without an interval."""
    return [None, None] if math.isnan(est.low) else [est.low, est.high]


def _mc(agent: SB3Agent, market: gym.Env, episodes: int, seed: int) -> tuple[float, float, float]:
    """Monte Carlo season profit: (mean, standard error, wall seconds)."""
    t0 = time.perf_counter()
    profit = evaluate(agent, market, episodes=episodes, seed=seed)["profit"].to_numpy()
    return (
        float(profit.mean()),
        float(profit.std(ddof=1) / math.sqrt(profit.size)),
        time.perf_counter() - t0,
    )


def run_algo(
    algo: str,
    steps: int,
    seeds: int,
    args: argparse.Namespace,
    base: Any,
    sol: Any,
    exact_value: ExactValue,
    ref: dict[str, Any],
) -> dict[str, Any]:
    """Train ``algo`` once per training seed, evaluate each policy, summarise over seeds."""
    action = ALGOS[algo]["action"]
    kwargs = {"action": "continuous"} if action == "continuous" else {}
    optimum, v_fixed = ref["dp_optimum"], ref["best_fixed_value"]
    per_seed = []
    hyperparams = SB3Agent(algo).resolve_hyperparams(ENV_ID)
    for seed in range(seeds):
        agent = SB3Agent(algo, seed=seed, name=f"{algo}-{seed}")
        t0 = time.perf_counter()
        agent.train(gym.make(ENV_ID, **kwargs), steps, progress_bar=False)
        train_s = time.perf_counter() - t0
        frames = int(agent.num_timesteps_)
        row: dict[str, Any] = {"seed": seed, "frames": frames, "train_s": train_s}
        if action == "discrete":
            t0 = time.perf_counter()
            value = exact_value(agent.act, base, sol)
            row.update(evaluation="exact", eval_s=time.perf_counter() - t0)
            if seed == 0:  # the Monte Carlo method, checked against the exact value
                mean, se, wall = _mc(agent, gym.make(ENV_ID), args.episodes, args.eval_seed)
                row["mc_check"] = {
                    "mc_mean": mean,
                    "mc_se": se,
                    "eval_s": wall,
                    # a policy that sells out at once has (almost) no variance: no check
                    "z": (mean - value) / se if se > 0 else None,
                    "exact_in_mc_ci95": bool(abs(mean - value) <= 1.96 * se) if se > 0 else None,
                }
        else:
            value, se, wall = _mc(agent, gym.make(ENV_ID, **kwargs), args.episodes, args.eval_seed)
            row.update(evaluation="monte_carlo", mc_se=se, eval_s=wall)
            row["pct_of_fine_optimum"] = 100.0 * value / ref["fine_grid"]["dp_value"]
        row.update(
            value=value,
            pct_of_optimum=100.0 * value / optimum,
            share_of_gain_pct=100.0 * (value - v_fixed) / (optimum - v_fixed),
        )
        per_seed.append(row)
        print(
            f"  {algo} seed {seed}: {frames:,d} frames in {train_s:.1f} s "
            f"({frames / train_s:,.0f}/s); {row['evaluation']} {value:.4f} = "
            f"{row['pct_of_optimum']:.2f}% of optimum, share of gain "
            f"{row['share_of_gain_pct']:.1f}%"
            + (
                f"; MC check {row['mc_check']['mc_mean']:.4f} ± "
                f"{1.96 * row['mc_check']['mc_se']:.4f}"
                if "mc_check" in row
                else ""
            ),
            flush=True,
        )
    value = bootstrap_ci([r["value"] for r in per_seed], seed=CI_SEED)
    pct = bootstrap_ci([r["pct_of_optimum"] for r in per_seed], seed=CI_SEED)
    share = bootstrap_ci([r["share_of_gain_pct"] for r in per_seed], seed=CI_SEED)
    train_s = np.array([r["train_s"] for r in per_seed])
    frames = np.array([r["frames"] for r in per_seed])
    return {
        "algo": algo,
        "action": action,
        "evaluation": per_seed[0]["evaluation"],
        "hyperparams": hyperparams,
        "timesteps": steps,
        "frames_mean": float(frames.mean()),
        "seeds": seeds,
        "per_seed": per_seed,
        "value_mean": value.value,
        "value_ci95": _interval(value),
        "pct_of_optimum": pct.value,
        "pct_ci95": _interval(pct),
        "share_of_gain_pct": share.value,
        "share_ci95": _interval(share),
        "train_s_mean": float(train_s.mean()),
        "fps": float(frames.sum() / train_s.sum()),
        "eval_s_total": float(sum(r["eval_s"] for r in per_seed)),
    }


def plot(doc: dict[str, Any], path: Path) -> None:
    """% of the grid DP optimum per algorithm: mean, 95% CI over seeds, seeds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, ref = doc["rows"], doc["baselines"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    x = np.arange(len(rows))
    pct = np.array([r["pct_of_optimum"] for r in rows])
    err = np.array(
        [
            [m - (lo if lo is not None else m), (hi if hi is not None else m) - m]
            for m, (lo, hi) in ((r["pct_of_optimum"], r["pct_ci95"]) for r in rows)
        ]
    ).T.reshape(2, len(rows))
    colors = ["tab:blue" if r["action"] == "discrete" else "tab:green" for r in rows]
    ax.bar(x, pct, yerr=err, color=colors, alpha=0.75, capsize=4)
    for i, r in enumerate(rows):
        seeds = [s["pct_of_optimum"] for s in r["per_seed"]]
        ax.plot(np.full(len(seeds), x[i]), seeds, "k.", ms=5)
    ax.axhline(100.0, color="k", lw=1, label=f"DP optimum, 15-price grid ({ref['dp_optimum']:.3f})")
    ax.axhline(
        ref["fine_grid"]["dp_pct_of_optimum"],
        color="tab:gray",
        ls=":",
        label=f"DP optimum, {ref['fine_grid']['n_prices']}-price grid (≈ continuous)",
    )
    ax.axhline(
        ref["best_fixed_pct_of_optimum"],
        color="tab:red",
        ls="--",
        label=f"best fixed price {ref['best_fixed_price']:g}",
    )
    labels = [
        f"{r['algo'].upper()} ({r['action']})\n{r['frames_mean'] / 1e3:.0f}k frames, "
        f"{r['train_s_mean']:.0f} s"
        for r in rows
    ]
    ax.set_xticks(x, labels, fontsize=8)
    lows = [s["pct_of_optimum"] for r in rows for s in r["per_seed"]]
    lo = min(90.0, ref["best_fixed_pct_of_optimum"] - 2.0, min(lows, default=90.0) - 2.0)
    ax.set_ylim(lo, max(101.0, max(lows, default=0.0) + 0.5))
    ax.set_ylabel("% of the DP optimum (mean, 95% CI over training seeds)")
    ax.set_title(f"{doc['env_id']}: SB3 agents with pricegym's defaults", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def _ci(value: float, ci: list[float | None], digits: int) -> str:
    if ci[0] is None or ci[1] is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def readme_table(doc: dict[str, Any]) -> str:
    """README table: the exact baselines, then each algorithm over its training seeds."""
    ref = doc["baselines"]
    fine, gvr = ref["fine_grid"], ref["gallego_van_ryzin"]
    grid = f"{len(doc['prices'])}-price grid"
    span = f"continuous [{doc['market']['p_min']:g}, {doc['market']['p_max']:g}]"
    lines = [
        "| policy | prices | evaluation | training frames | train s / seed | frames/s "
        "| % of DP optimum [95% CI] | share of gain over best fixed [95% CI] | per seed % |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| DP optimum | {grid} | exact ({ref['dp_optimum']:.3f}) | 0 | | | 100% | 100% | |",
        f"| best fixed price {ref['best_fixed_price']:g} | {grid} | exact "
        f"({ref['best_fixed_value']:.3f}) | 0 | | | {ref['best_fixed_pct_of_optimum']:.2f}% "
        "| 0% | |",
        f"| DP optimum | {fine['n_prices']}-price grid (≈ continuous) | exact "
        f"({fine['dp_value']:.3f}) | 0 | | | {fine['dp_pct_of_optimum']:.2f}% "
        f"| {fine['dp_share_of_gain_pct']:.1f}% | |",
        f"| G&vR closed form J* | continuous time, any price | closed form "
        f"({gvr['closed_form']:.3f}) | | | | {gvr['closed_form_pct_of_optimum']:.2f}% | | |",
    ]
    for r in doc["rows"]:
        seeds = ", ".join(f"{s['pct_of_optimum']:.2f}" for s in r["per_seed"])
        ev = "exact" if r["evaluation"] == "exact" else f"MC, {doc['episodes']} seasons"
        lines.append(
            f"| {r['algo'].upper()} (SB3Agent defaults) | "
            f"{grid if r['action'] == 'discrete' else span} | {ev} "
            f"| {r['frames_mean']:,.0f} | {r['train_s_mean']:.1f} | {r['fps']:,.0f} "
            f"| {_ci(r['pct_of_optimum'], r['pct_ci95'], 2)}% "
            f"| {_ci(r['share_of_gain_pct'], r['share_ci95'], 1)}% | {seeds} |"
        )
    missing = [a for a in doc["algos"] if a not in {r["algo"] for r in doc["rows"]}]
    checks = [
        r["per_seed"][0]["mc_check"]
        for r in doc["rows"]
        if r["per_seed"][0].get("mc_check", {}).get("exact_in_mc_ci95") is not None
    ]
    machine = doc["machine"]
    note = (
        f"\n\n`{doc['env_id']}`, {doc['seeds']} training seed{'s' * (doc['seeds'] != 1)} per "
        "algorithm; CIs are "
        "bootstrap intervals over training seeds (percentile intervals below 4 seeds, "
        "about the seeds' range; BCa from 4). "
        "Discrete agents are valued exactly (enumerated state distribution); continuous "
        f"ones by {doc['episodes']} Monte Carlo seasons (seed {doc['eval_seed']}, the same "
        f"for every agent), against the {grid}'s optimum, so they can exceed 100% "
        f"by up to {fine['dp_pct_of_optimum'] - 100:.2f} points."
    )
    if checks:
        inside = sum(c["exact_in_mc_ci95"] for c in checks)
        note += (
            f" Check of the Monte Carlo method on the discrete agents' first seed: the exact "
            f"value lies inside the MC 95% interval in {inside} of {len(checks)} cases."
        )
    note += (
        f" Wall time {doc['wall_s']:.0f} s on {machine['cpus']} cores (load "
        f"{machine['load_avg_before'][0]:.1f} → {machine['load_avg_after'][0]:.1f}), torch "
        f"{machine['torch']} on {machine['torch_threads']} thread; written by "
        "`benchmarks/bench_gvr_rl.py`."
    )
    if missing:
        note += f" Partial run: {', '.join(missing)} not finished."
    return "\n".join(lines) + note


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--algos", nargs="+", choices=list(ALGOS), default=list(ALGOS), help="in this order"
    )
    for algo, spec in ALGOS.items():
        parser.add_argument(
            f"--{algo}-steps", type=int, default=spec["steps"], help="training frames per seed"
        )
    parser.add_argument("--seeds", type=int, default=SEEDS, help="training seeds 0 … n−1")
    parser.add_argument(
        "--episodes", type=int, default=EPISODES, help="Monte Carlo seasons per policy"
    )
    parser.add_argument("--eval-seed", type=int, default=EVAL_SEED)
    parser.add_argument("--out", type=Path, default=RESULTS / "gvr_rl.json")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.episodes < 2:
        parser.error("--seeds must be >= 1 and --episodes >= 2")
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    load_before = os.getloadavg()
    exact_value: ExactValue = _bench_training().exact_value
    ref, base, sol = baselines(exact_value)
    budgets = {a: int(getattr(args, f"{a}_steps")) for a in args.algos}
    doc: dict[str, Any] = {
        "benchmark": "gvr_rl",
        "question": "how close do SB3 agents with pricegym's defaults come to the exact DP "
        "optimum of the Gallego & van Ryzin market, over training seeds, and at what cost?",
        "env_id": ENV_ID,
        "market": {k: v for k, v in base.config.to_dict().items() if v is not None},
        "demand": {"form": "exponential", "a": A, "alpha": ALPHA, "noise": "poisson"},
        "prices": base.prices.tolist(),
        "baselines": ref,
        "algos": list(args.algos),
        "budgets": budgets,
        "seeds": args.seeds,
        "episodes": args.episodes,
        "eval_seed": args.eval_seed,
        "rows": [],
        "complete": False,
        "command": " ".join(
            ["python", "benchmarks/bench_gvr_rl.py", *(sys.argv[1:] if argv is None else argv)]
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write() -> None:
        doc["wall_s"] = time.perf_counter() - t_start
        doc["machine"] = {
            "cpus": os.cpu_count(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "stable_baselines3": stable_baselines3.__version__,
            "gymnasium": gym.__version__,
            "pricegym": pricegym.__version__,
        }
        atomic_write_bytes(
            args.out, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
        )
        if doc["rows"]:
            plot(doc, args.out.with_suffix(".png"))

    for algo in args.algos:
        print(f"{algo}: {budgets[algo]:,d} frames × {args.seeds} seeds", flush=True)
        row = run_algo(algo, budgets[algo], args.seeds, args, base, sol, exact_value, ref)
        doc["rows"].append(row)
        print(
            f"{algo}: {_ci(row['pct_of_optimum'], row['pct_ci95'], 2)}% of optimum, share of "
            f"gain {_ci(row['share_of_gain_pct'], row['share_ci95'], 1)}%, "
            f"{row['train_s_mean']:.1f} s/seed, {row['fps']:,.0f} frames/s",
            flush=True,
        )
        write()
    doc["complete"] = True
    write()
    print(readme_table(doc))
    print(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
