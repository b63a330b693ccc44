"""Thompson sampling over price vectors: a demand model against one arm per vector (issue 13).

On ``pricegym/LogitCatalogue-v0`` (3 products × 7 prices = 343 price vectors,
unlimited stock, 20-period seasons) each learner plays ``--seasons`` seasons in a
row, learning online, for each of ``--seeds`` seeds (season s of seed r resets the
market and the agent with seed 1000·r + s, the same for both learners):

- ``model``: :class:`~pricegym.agents.catalogue_bandit.CatalogueThompson` (a Poisson
  regression per product on all prices, quadratic, Laplace posterior; one draw →
  the joint optimum of the grid);
- ``per_vector``: Thompson sampling with one arm per price vector: product j's mean
  units under vector a ~ Gamma(1 + units, 0.1 + periods) (a conjugate Gamma-Poisson
  posterior per arm and product, prior mean 10 units), the vector with the highest
  sampled profit ``Σ_j (p_j − c_j) μ_aj`` is posted;
- ``random``: a uniformly random vector (the floor).

Measured per period: the *expected* profit of the posted vector under the true
logit (no demand noise in the score), as a share of the best grid vector's
(9.2267). Reported: the mean share over periods 1–200, 201–600 and 601–end, per
seed and over seeds (min–max), and the cumulative regret in units of one period's
optimum. Output: ``results/catalogue_thompson.json`` and ``.png``.

Usage: ``python benchmarks/bench_catalogue_thompson.py [--seeds 5] [--seasons 50]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.catalogue_bandit import CatalogueThompson
from pricegym.agents.multiproduct_optimum import expected_step_profit, grid_optimum

RESULTS = Path(__file__).resolve().parent / "results"
ENV_ID = "pricegym/LogitCatalogue-v0"
WINDOWS = ((0, 200), (200, 600), (600, None))


def _model_run(env: Any, seed: int, seasons: int) -> np.ndarray:
    agent = CatalogueThompson().bind(env)
    earned = []
    for s in range(seasons):
        agent.reset(1000 * seed + s)
        obs, _ = env.reset(seed=1000 * seed + s)
        done = False
        while not done:
            a = agent.act(obs)
            nxt, r, done, _, info = env.step(a)
            agent.update(obs, a, r, nxt, done, info)
            earned.append(info["prices"])
            obs = nxt
    return np.array(earned)


def _per_vector_run(env: Any, seed: int, seasons: int) -> np.ndarray:
    cfg = env.config
    acts = cfg.all_actions()
    prices = cfg.price_table()[np.arange(cfg.n_products), acts]
    n = np.zeros(len(acts))
    units = np.zeros((len(acts), cfg.n_products))
    earned = []
    for s in range(seasons):
        rng = np.random.default_rng(1000 * seed + s)
        env.reset(seed=1000 * seed + s)
        done = False
        while not done:
            mu = rng.gamma(1.0 + units, 1.0 / (0.1 + n[:, None]))
            a = int(np.argmax(((prices - cfg.cost) * mu).sum(axis=1)))
            _, _, done, _, info = env.step(acts[a])
            n[a] += 1
            units[a] += info["sales"]
            earned.append(info["prices"])
    return np.array(earned)


def _random_run(env: Any, seed: int, seasons: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cfg = env.config
    return cfg.price_table()[np.arange(cfg.n_products), cfg.all_actions()][
        rng.integers(0, int(np.prod(cfg.nvec)), seasons * cfg.horizon)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seasons", type=int, default=50)
    args = parser.parse_args(argv)
    env = gym.make(ENV_ID).unwrapped
    opt = grid_optimum(env).profit
    learners = {"model": _model_run, "per_vector": _per_vector_run, "random": _random_run}
    curves: dict[str, list[list[float]]] = {k: [] for k in learners}
    seconds: dict[str, float] = dict.fromkeys(learners, 0.0)
    for seed in range(args.seeds):
        for name, run in learners.items():
            start = time.process_time()
            posted = run(env, seed, args.seasons)
            seconds[name] += time.process_time() - start
            share = expected_step_profit(env.demand, posted, env.config.cost) / opt
            curves[name].append(share.tolist())
    summary: dict[str, Any] = {}
    for name, runs in curves.items():
        arr = np.array(runs)
        windows = {}
        for lo, hi in WINDOWS:
            per_seed = arr[:, lo:hi].mean(axis=1)
            label = f"{lo + 1}-{hi if hi is not None else arr.shape[1]}"
            windows[label] = {
                "mean": float(per_seed.mean()),
                "min": float(per_seed.min()),
                "max": float(per_seed.max()),
                "per_seed": per_seed.round(5).tolist(),
            }
        regret = (1.0 - arr).sum(axis=1)
        summary[name] = {
            "share_of_optimum": windows,
            "regret_periods": {
                "mean": float(regret.mean()),
                "min": float(regret.min()),
                "max": float(regret.max()),
            },
            "cpu_seconds": round(seconds[name], 2),
        }
    out = {
        "benchmark": "catalogue_thompson",
        "env": ENV_ID,
        "n_vectors": int(np.prod(env.config.nvec)),
        "periods": args.seasons * env.config.horizon,
        "seeds": args.seeds,
        "grid_optimum_per_period": opt,
        "results": summary,
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "catalogue_thompson.json").write_text(json.dumps(out, indent=1) + "\n")
    _figure(curves, env.config.horizon, RESULTS / "catalogue_thompson.png")
    for name, s in summary.items():
        w = s["share_of_optimum"]
        print(name, {k: round(v["mean"], 4) for k, v in w.items()}, s["regret_periods"])
    return 0


def _figure(curves: dict[str, list[list[float]]], horizon: int, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for name, runs in curves.items():
        arr = np.array(runs)
        seasons = arr.reshape(arr.shape[0], -1, horizon).mean(axis=2)  # (seeds, seasons)
        x = np.arange(1, seasons.shape[1] + 1)
        ax.plot(x, seasons.mean(axis=0), label=name)
        ax.fill_between(x, seasons.min(axis=0), seasons.max(axis=0), alpha=0.2)
    ax.set_xlabel("season (20 periods)")
    ax.set_ylabel("expected profit / best grid vector")
    ax.set_title("Thompson sampling over 343 price vectors: a demand model vs one arm each")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path)


if __name__ == "__main__":
    raise SystemExit(main())
