"""Catalogue markets (issue 13): batched step speed beside CartPole, and PPO against the optimum.

Two questions, answered in one run:

1. **Speed.** Is the batched catalogue market as cheap to step as the vector env
   RL code is tuned on? :class:`~pricegym.envs.multiproduct_vector.MultiProductVectorEnv`
   with 1024 markets of ``pricegym/LogitCatalogue-v0`` (K = 3, unlimited stock) and
   ``pricegym/LogitCatalogueStock-v0`` (K = 3, finite stock), and the same market
   without its table (``TABLE_MAX = 0``: a ``mean_units`` call and numpy passes per
   step), are timed interleaved round by round with gymnasium's
   ``CartPoleVectorEnv(num_envs=1024)`` (so a busy machine slows all alike), each
   playing uniformly random actions drawn beforehand. Env-steps/s = markets ×
   batch steps/s; the ratio to CartPole is taken within each round (median and
   range over rounds). CPU time (``time.process_time``) with BLAS on one thread.
   Goal (issue 13): ≥ 0.5× for K = 3.
2. **Learning against a known answer.** SB3's PPO (hyper-parameters from
   ``agents/hyperparams/ppo.yaml``: ``default`` ← the id's entry; only the frame
   budget is set here) is trained on each id through
   :class:`~pricegym.envs.multiproduct_sb3.CatalogueSB3VecEnv`, once per training
   seed, and its deterministic policy is valued by Monte Carlo on ``--episodes``
   seasons (the same evaluation seed for every policy: paired demand draws). The
   known answers, from :mod:`pricegym.agents.multiproduct_optimum`: without stock
   limits, ``horizon ×`` the best grid price vector's expected profit
   (enumeration; the continuous logit optimum, equal markups, is reported beside
   it); with stock, the exact DP over (period, stock vector), whose own policy is
   run through the same Monte Carlo as a check of the evaluator, and the fluid LP
   upper bound. Baselines: the myopic policy (always the unlimited-stock grid
   optimum). PPO's value is estimated **paired**: a reference policy whose value
   is known exactly (the DP with stock, the myopic optimum without) plays the
   same seasons, and PPO's value = that exact value + the mean paired
   difference (a control variate: the same demand draws cancel, the standard
   error falls several-fold; the plain Monte Carlo mean is recorded beside it).
   Reported: % of the optimum per seed, the mean over training seeds with a 95%
   bootstrap interval (percentile below 4 seeds, read as a spread).

Usage: ``python benchmarks/bench_multiproduct.py [--quick]``. ``--quick`` (CI size:
fewer rounds, one training seed, a smaller frame budget) writes
``results/multiproduct_quick.json``; the full run writes
``results/multiproduct.json``, which the README's ``bench:multiproduct`` table is
made from (``python benchmarks/report.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from threadpoolctl import threadpool_limits

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.multiproduct_optimum import (
    catalogue_dp,
    expected_step_profit,
    fluid_lp_bound,
    grid_optimum,
    logit_optimal_prices,
)
from pricegym.envs import multiproduct_vector
from pricegym.experiments.stats import bootstrap_ci

RESULTS = Path(__file__).resolve().parent / "results"
IDS = ("pricegym/LogitCatalogue-v0", "pricegym/LogitCatalogueStock-v0")
BATCH = 1024
GOAL = 0.5


# ==================================================================== speed
def _runner(env: Any, seed: int) -> Callable[[int], float]:
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(64)]
    env.reset(seed=seed)

    def run(n: int) -> float:
        step = env.step
        t0 = time.process_time()
        for j in range(n):
            step(actions[j % 64])
        return time.process_time() - t0

    run(8)  # compile / warm up
    return run


def speed(rounds: int, seconds: float) -> list[dict[str, Any]]:
    """Interleaved rounds of batch steps; env-steps/s and the within-round ratio to CartPole."""
    runners: dict[str, Callable[[int], float]] = {
        f"CartPoleVectorEnv B={BATCH}": _runner(CartPoleVectorEnv(num_envs=BATCH), 0)
    }
    for env_id in IDS:
        venv = gym.make_vec(env_id, num_envs=BATCH, vectorization_mode="vector_entry_point")
        runners[f"{env_id.split('/')[1]} B={BATCH} (table)"] = _runner(venv, 0)
    saved = multiproduct_vector.TABLE_MAX
    multiproduct_vector.TABLE_MAX = 0
    try:
        venv = gym.make_vec(IDS[1], num_envs=BATCH, vectorization_mode="vector_entry_point")
    finally:
        multiproduct_vector.TABLE_MAX = saved
    runners[f"{IDS[1].split('/')[1]} B={BATCH} (no table)"] = _runner(venv, 0)
    counts = {}
    for name, run in runners.items():
        n = 16
        while (elapsed := run(n)) < seconds / 4:
            n *= 2
        counts[name] = max(1, int(n * seconds / elapsed))
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            rates[name].append(BATCH * counts[name] / run(counts[name]))
    base = next(iter(runners))
    rows = []
    for name, values in rates.items():
        ratios = [v / b for v, b in zip(values, rates[base], strict=True)]
        goal = GOAL if "(table)" in name else None
        rows.append(
            {
                "env": name,
                "steps_per_s": statistics.median(values),
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "goal": goal,
                "met": None if goal is None else bool(statistics.median(ratios) >= goal),
            }
        )
    return rows


# ==================================================================== evaluation
def season_profits(
    env_id: str, act: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], n: int, seed: int
) -> np.ndarray:
    """Profit of ``n`` seasons (one per market, seeds seed … seed + n − 1) under ``act``.

    ``act(obs, period, stock)`` → actions (n, K); a market's profit stops at its end.
    """
    venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    obs, info = venv.reset(seed=seed)
    stock = info["inventory"]
    k = np.zeros(n, dtype=np.int64)
    total, live = np.zeros(n), np.ones(n, dtype=bool)
    while live.any():
        obs, r, term, trunc, info = venv.step(act(obs, k, stock))
        total += np.where(live, r, 0.0)
        live &= ~(term | trunc)
        stock = np.where(live[:, None], info["inventory"], venv.unwrapped.config.inventory)
        k = np.where(live, k + 1, 0)
    return total


def known_answers(env_id: str) -> dict[str, Any]:
    """Optimum, baselines and the policies that reach them, for one id."""
    env = gym.make(env_id).unwrapped
    cfg = env.config
    best = grid_optimum(env)
    truth = env.demand
    p_star, m = logit_optimal_prices(truth.quality, truth.alpha, cfg.cost)
    out: dict[str, Any] = {
        "grid_optimum_prices": best.prices.tolist(),
        "grid_optimum_per_period": best.profit,
        "logit_optimum_prices": p_star.tolist(),
        "logit_markup": m,
        "logit_optimum_per_period": float(expected_step_profit(truth, p_star[None], cfg.cost)[0]),
        "horizon": cfg.horizon,
    }
    myopic = best.action

    def act_myopic(obs: np.ndarray, k: np.ndarray, stock: np.ndarray) -> np.ndarray:
        return np.tile(myopic, (len(obs), 1))

    policies: dict[str, Callable[..., np.ndarray]] = {"myopic": act_myopic}
    if cfg.finite_stock:
        t0 = time.perf_counter()
        dp = catalogue_dp(env)
        out["dp_seconds"] = time.perf_counter() - t0
        out["optimum"] = dp.start_value
        out["optimum_kind"] = "exact DP over (period, stock vector)"
        out["lp_bound"] = fluid_lp_bound(env)["bound"]
        out["myopic_exact"] = _fixed_value(env, myopic)

        def act_dp(obs: np.ndarray, k: np.ndarray, stock: np.ndarray) -> np.ndarray:
            idx = np.clip(np.round(stock).astype(np.int64), 0, None)
            return dp.policy[(np.minimum(k, cfg.horizon - 1), *idx.T)]

        policies["dp"] = act_dp
    else:
        out["optimum"] = cfg.horizon * best.profit
        out["optimum_kind"] = "horizon x best grid price vector (enumeration)"
        out["lp_bound"] = fluid_lp_bound(env)["bound"]
        out["myopic_exact"] = out["optimum"]
    return {"answers": out, "policies": policies}


def _fixed_value(env: Any, action: np.ndarray) -> float:
    from pricegym.envs.multiproduct import MultiProductEnv

    cfg = env.config
    one = MultiProductEnv(
        env.demand,
        prices=[[g[a]] for g, a in zip(cfg.grids, action, strict=True)],
        cost=cfg.cost,
        salvage=cfg.salvage,
        inventory=cfg.inventory,
        horizon=cfg.horizon,
    )
    return catalogue_dp(one).start_value


# ==================================================================== PPO
def train_ppo(env_id: str, frames: int, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    """PPO with the YAML's hyper-parameters on the batched market; (model, vecnormalize, hp)."""
    import torch
    from stable_baselines3.common.vec_env import VecNormalize

    from pricegym.agents.sb3 import _build, _normalize_settings, load_hyperparams
    from pricegym.envs.multiproduct_sb3 import CatalogueSB3VecEnv

    hp = load_hyperparams("ppo", env_id)
    torch.set_num_threads(int(hp.get("torch_threads", 1)))
    venv = gym.make_vec(env_id, num_envs=int(hp["n_envs"]), vectorization_mode="vector_entry_point")
    sb3 = CatalogueSB3VecEnv(venv)
    sb3.seed(seed)
    norm = _normalize_settings(hp)
    env = VecNormalize(sb3, gamma=float(hp["gamma"]), **norm) if norm else sb3
    # SB3Agent's own builder: the YAML's values become PPO's arguments as in training
    model = _build("ppo", hp, env, sb3.observation_space, sb3.action_space, seed, "cpu", 0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=frames)
    hp = {**hp, "frames": frames, "train_seconds": time.perf_counter() - t0}
    return model, (env if norm else None), hp


def ppo_policy(model: Any, norm: Any) -> Callable[..., np.ndarray]:
    def act(obs: np.ndarray, k: np.ndarray, stock: np.ndarray) -> np.ndarray:
        x = norm.normalize_obs(obs) if norm is not None else obs
        return model.predict(x, deterministic=True)[0]

    return act


# ==================================================================== main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size (1 seed, short runs)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="PPO training seeds")
    parser.add_argument("--frames", type=int, default=None, help="PPO frames per seed")
    parser.add_argument("--episodes", type=int, default=None, help="evaluation seasons")
    parser.add_argument("--eval-seed", type=int, default=2026)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 9)
    seeds = args.seeds or (1 if args.quick else 3)
    frames = args.frames or (100_000 if args.quick else 1_000_000)
    episodes = args.episodes or (1000 if args.quick else 10_000)
    out = args.out or RESULTS / ("multiproduct_quick.json" if args.quick else "multiproduct.json")
    warnings.simplefilter("error", RuntimeWarning)
    started = time.perf_counter()
    with threadpool_limits(1):
        rows = [] if args.skip_speed else speed(rounds, 0.4 if args.quick else 1.0)
    for r in rows:
        goal = (
            "" if r["goal"] is None else f"goal >= {r['goal']}: {'met' if r['met'] else 'MISSED'}"
        )
        print(
            f"{r['env']:44s} {r['steps_per_s']:14,.0f} steps/s  {r['ratio']:.2f}x "
            f"({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) {goal}"
        )
    learning = []
    for env_id in IDS:
        known = known_answers(env_id)
        ans = known["answers"]
        opt = ans["optimum"]
        mc = {
            name: season_profits(env_id, act, episodes, args.eval_seed)
            for name, act in known["policies"].items()
        }
        entry: dict[str, Any] = {"env": env_id, **ans, "baselines": {}}
        for name, values in mc.items():
            se = float(values.std(ddof=1) / np.sqrt(values.size))
            entry["baselines"][name] = {"mean": float(values.mean()), "se": se}
        # paired estimate: a reference policy with an exact value (the DP, or the myopic
        # grid optimum without stock) plays the same seasons, so PPO's value is that exact
        # value plus the mean paired difference, with a much smaller standard error
        ref = "dp" if "dp" in mc else "myopic"
        ref_exact = opt if ref == "dp" else ans["myopic_exact"]
        entry["paired_reference"] = ref
        seeds_out = []
        for seed in range(seeds):
            model, norm, hp = train_ppo(env_id, frames, seed)
            values = season_profits(env_id, ppo_policy(model, norm), episodes, args.eval_seed)
            diff = values - mc[ref]
            mean = float(ref_exact + diff.mean())
            se = float(diff.std(ddof=1) / np.sqrt(values.size))
            seeds_out.append(
                {
                    "seed": seed,
                    "mean": mean,
                    "se": se,
                    "mc_mean": float(values.mean()),
                    "mc_se": float(values.std(ddof=1) / np.sqrt(values.size)),
                    "pct_of_optimum": 100 * mean / opt,
                    "frames": frames,
                    "train_seconds": hp["train_seconds"],
                }
            )
            print(
                f"{env_id} PPO seed {seed}: {mean:.3f} ± {1.96 * se:.3f} (paired with {ref}) = "
                f"{100 * mean / opt:.2f}% of {opt:.3f}; plain MC {values.mean():.3f} "
                f"({hp['train_seconds']:.0f} s)"
            )
        est = bootstrap_ci([s["pct_of_optimum"] for s in seeds_out], seed=0)
        hp.pop("frames")
        hp.pop("train_seconds")
        entry["ppo"] = {
            "seeds": seeds_out,
            "pct_mean": est.value,
            "pct_low": est.low,
            "pct_high": est.high,
            "hyperparams": hp,
        }
        learning.append(entry)
        base = ", ".join(f"{k} {100 * v['mean'] / opt:.1f}%" for k, v in entry["baselines"].items())
        print(f"{env_id}: optimum {opt:.3f} ({ans['optimum_kind']}); MC {base}")
    doc = {
        "quick": args.quick,
        "batch": BATCH,
        "rounds": rounds,
        "clock": "cpu",
        "speed": rows,
        "learning": learning,
        "episodes": episodes,
        "eval_seed": args.eval_seed,
        "wall_seconds": time.perf_counter() - started,
        "load_average": list(os.getloadavg()),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "numpy": np.__version__,
            "gymnasium": gym.__version__,
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(out)  # atomic
    print(f"wrote {out}")
    return 0


def readme_table(doc: dict[str, Any]) -> str:
    """The README's ``bench:multiproduct`` section from ``multiproduct.json``."""
    lines = ["| env | steps/s | vs CartPoleVectorEnv (min–max) | goal |", "|---|---|---|---|"]
    for r in doc["speed"]:
        goal = "" if r["goal"] is None else f"≥ {r['goal']:.1f}× {'met' if r['met'] else 'missed'}"
        lines.append(
            f"| {r['env']} | {r['steps_per_s']:,.0f} | {r['ratio']:.2f}× "
            f"({r['ratio_min']:.2f}–{r['ratio_max']:.2f}) | {goal} |"
        )
    lines += [
        "",
        "| market | optimum (season) | fluid LP bound | myopic (exact) | DP policy (MC check) "
        "| PPO, % of optimum [95% CI over seeds] | seeds × frames |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in doc["learning"]:
        opt = e["optimum"]
        b = e["baselines"]
        dp = f"{100 * b['dp']['mean'] / opt:.2f}%" if "dp" in b else "–"
        ppo = e["ppo"]
        ci = (
            f"[{ppo['pct_low']:.2f}, {ppo['pct_high']:.2f}]"
            if np.isfinite(ppo["pct_low"])
            else "(one seed)"
        )
        seeds = ", ".join(f"{s['pct_of_optimum']:.2f}" for s in ppo["seeds"])
        lines.append(
            f"| `{e['env']}` | {opt:.3f} ({e['optimum_kind']}) | {e['lp_bound']:.3f} | "
            f"{100 * e['myopic_exact'] / opt:.1f}% | {dp} | {ppo['pct_mean']:.2f}% {ci} "
            f"(seeds: {seeds}) | {len(ppo['seeds'])} × {ppo['seeds'][0]['frames']:,} |"
        )
    lines.append(
        f"\nK = 3 products, 1024 markets per batch, CPU time, median of {doc['rounds']} "
        f"interleaved rounds; policies valued on {doc['episodes']:,} Monte Carlo seasons "
        f"(evaluation seed {doc['eval_seed']}, the same for every policy); PPO's value is "
        "paired with the policy whose value is exact (DP with stock, myopic without): exact "
        "value + mean paired difference. Wall time "
        f"{doc['wall_seconds']:.0f} s (load average {doc['load_average'][0]:.1f} on a shared "
        "machine); written by `benchmarks/bench_multiproduct.py`."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
