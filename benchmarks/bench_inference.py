"""Inference latency of an exported policy: pricegym.runtime vs SB3 ``predict``, side by side.

The question: does serving an exported policy (``policy.onnx`` under
onnxruntime, through :func:`pricegym.runtime.load_policy`) cost more or less per
price than asking the trained stable-baselines3 model? For each policy (PPO on
the Markdown grid, SAC on the continuous Markdown range, both with the packaged
64×64 ReLU networks and VecNormalize, trained briefly: latency does not depend on
how well the weights price) and each batch size (1 and 1024 observations), the
three paths are timed in the same round, interleaved, so a busy machine slows
all alike:

- ``runtime``: ``policy.prices(batch)`` — validation against the card, the ONNX
  graph (normalisation, network, action-to-price mapping), numpy out;
- ``runtime_price``: ``policy.price(mapping)`` for batch size 1 — the service
  path with a named-feature mapping;
- ``sb3_predict``: ``model.predict(normalizer.normalize_obs(batch),
  deterministic=True)`` — the SB3 model's own deterministic action, without the
  price mapping (so the comparison favours SB3 slightly).

Each cell is the median latency over rounds (each round times ``reps`` calls;
microseconds per call), with the range of the round medians. torch and
onnxruntime are held to one thread each, as a small pricing service would run.
Before timing, the runtime's prices are checked against the agent's on the
timed observations (exact on the grid, 1e-5 relative in the range).

Usage: ``python benchmarks/bench_inference.py [--rounds 7] [--reps 200]``.
Writes ``benchmarks/results/inference.json`` and ``inference.png`` (``--out`` to change)
and prints a table; ``--plot-only`` redraws the figure from an existing JSON without
timing.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import gymnasium as gym
import numpy as np
import torch

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.sb3 import SB3Agent
from pricegym.demand.io import atomic_write_bytes
from pricegym.experiments.export import export_policy
from pricegym.runtime import load_policy

RESULTS = Path(__file__).resolve().parent / "results" / "inference.json"
MARKET = "pricegym/Markdown-v0"
POLICIES = {
    "ppo (grid)": ("ppo", {}, {"n_envs": 4, "n_steps": 16, "batch_size": 32, "n_epochs": 2}),
    "sac (continuous)": ("sac", {"action": "continuous"}, {"n_envs": 4, "learning_starts": 64}),
}
BATCHES = (1, 1024)


def _train(algo: str, market: dict[str, Any], hp: dict[str, Any]) -> SB3Agent:
    agent = SB3Agent(algo, hyperparams={**hp, "eval_freq": 0, "checkpoint_freq": 0}, seed=0)
    agent.train(gym.make(MARKET, **market), total_timesteps=2048)
    return agent.bind(gym.make(MARKET, **market))


def _sb3_predict(model: Any, norm: Any, obs: np.ndarray) -> Any:
    return model.predict(norm.normalize_obs(obs), deterministic=True)


def _time(fn: Any, reps: int) -> float:
    """Microseconds per call of ``fn`` over ``reps`` calls (after one warm-up call)."""
    fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps * 1e6


def bench(rounds: int, reps: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, (algo, market, hp) in POLICIES.items():
            agent = _train(algo, market, hp)
            env = gym.make(MARKET, **market)
            out = Path(tmp) / algo
            export_policy(agent, out, market=env)
            policy = load_policy(out)
            space = env.observation_space
            rng = np.random.default_rng(0)
            for b in BATCHES:
                obs = rng.uniform(space.low, space.high, size=(b, space.shape[0]))
                obs = obs.astype(np.float32)
                expected = np.asarray(agent.codec.to_price(agent.act(obs)), np.float64)
                got = policy.prices(obs)
                if agent.codec.grid is not None:
                    np.testing.assert_array_equal(got, expected.reshape(-1))
                else:
                    np.testing.assert_allclose(got, expected.reshape(-1), rtol=1e-5)
                model, norm = agent.model_, agent.normalizer_
                paths: dict[str, Any] = {
                    "runtime": functools.partial(policy.prices, obs),
                    "sb3_predict": functools.partial(_sb3_predict, model, norm, obs),
                }
                if b == 1:
                    mapping = dict(zip(policy.feature_names, obs[0].tolist(), strict=True))
                    paths["runtime_price"] = functools.partial(policy.price, mapping)
                n = max(1, reps // (1 if b == 1 else 20))
                times: dict[str, list[float]] = {k: [] for k in paths}
                for _ in range(rounds):
                    for key, fn in paths.items():
                        times[key].append(_time(fn, n))
                for key, values in times.items():
                    rows.append(
                        {
                            "policy": label,
                            "batch": b,
                            "path": key,
                            "us_per_call": float(np.median(values)),
                            "us_range": [float(min(values)), float(max(values))],
                            "us_per_observation": float(np.median(values)) / b,
                            "calls_per_round": n,
                        }
                    )
    return {
        "rows": rows,
        "rounds": rounds,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "onnxruntime": __import__("onnxruntime").__version__,
            "threads": 1,
        },
    }


#: Plot order, colours and legend labels of the timed paths.
_PATH_STYLE = {
    "runtime": ("tab:blue", "pricegym.runtime: policy.prices(batch)"),
    "runtime_price": ("tab:cyan", "pricegym.runtime: policy.price(mapping)"),
    "sb3_predict": ("tab:gray", "SB3 model.predict (no price mapping)"),
}


def plot(doc: dict[str, Any], path: Path) -> None:
    """Bars (log scale) of µs per call per policy and batch size, one bar per timed path.

    Whiskers span the round medians' range; each group is labelled with SB3 ÷ runtime.
    Drawn from the JSON document alone; written atomically as PNG to ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc.get("rows", [])
    groups = list(dict.fromkeys((r["policy"], int(r["batch"])) for r in rows))
    paths = [p for p in _PATH_STYLE if any(r["path"] == p for r in rows)]
    paths += [p for p in dict.fromkeys(r["path"] for r in rows) if p not in paths]
    by = {(r["policy"], int(r["batch"]), r["path"]): r for r in rows}
    fig, ax = plt.subplots(figsize=(10, 5.4))
    width = 0.8 / max(1, len(paths))
    seen: set[str] = set()
    for g, (policy, batch) in enumerate(groups):
        here = [p for p in paths if (policy, batch, p) in by]
        for j, name in enumerate(here):
            r = by[policy, batch, name]
            x = g + (j - (len(here) - 1) / 2) * width
            v = float(r["us_per_call"])
            lo, hi = r.get("us_range") or [v, v]
            color, label = _PATH_STYLE.get(name, ("tab:olive", name))
            ax.bar(
                x,
                v,
                width * 0.95,
                yerr=[[max(0.0, v - float(lo))], [max(0.0, float(hi) - v)]],
                color=color,
                alpha=0.85,
                capsize=3,
                error_kw={"elinewidth": 0.8},
                label=None if name in seen else label,
            )
            seen.add(name)
            text = f"{v:,.0f} µs"
            if batch > 1:
                text += f"\n{float(r.get('us_per_observation', v / batch)):.2f} µs/obs"
            ax.annotate(
                text,
                (x, max(v, float(hi))),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
        rt, sb = by.get((policy, batch, "runtime")), by.get((policy, batch, "sb3_predict"))
        if rt and sb:
            ratio = float(sb["us_per_call"]) / float(rt["us_per_call"])
            ax.annotate(
                f"SB3 ÷ runtime = {ratio:.1f}×",
                (g, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -4),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=8,
                fontweight="bold",
            )
    ax.set_yscale("log")
    values = [float(x) for r in rows for x in (r.get("us_range") or [r["us_per_call"]])] or [1.0]
    ax.set_ylim(min(values) / 3, max(values) * 12)
    ax.set_xticks(
        range(len(groups)),
        [
            f"{policy}\nbatch of {batch:,} observation{'s' if batch > 1 else ''}"
            for policy, batch in groups
        ],
        fontsize=8,
    )
    ax.set_ylabel("µs per call (median of rounds, log)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(paths))
    machine = doc.get("machine", {})
    ax.set_title(
        f"Exported policy latency: ONNX runtime vs SB3 predict\nmedian of "
        f"{doc.get('rounds', '?')} interleaved rounds, whiskers min–max; "
        f"{machine.get('threads', '?')} thread, onnxruntime {machine.get('onnxruntime', '?')}, "
        f"torch {machine.get('torch', '?')}",
        fontsize=10,
    )
    fig.tight_layout()
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the PNG from the JSON at --out; no timing"
    )
    args = parser.parse_args(argv)
    png = args.out.with_suffix(".png")
    if args.plot_only:
        loaded: dict[str, Any] = json.loads(args.out.read_text())
        plot(loaded, png)
        print(f"wrote {png}")
        return loaded
    result = bench(args.rounds, args.reps)
    text = json.dumps(result, indent=2) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, text.encode("utf-8"))
    plot(result, png)
    by = {(r["policy"], r["batch"], r["path"]): r["us_per_call"] for r in result["rows"]}
    print(f"{'policy':18} {'batch':>5} {'runtime µs':>11} {'price() µs':>11} {'SB3 µs':>9} ratio")
    for label in POLICIES:
        for b in BATCHES:
            rt, sb = by[(label, b, "runtime")], by[(label, b, "sb3_predict")]
            single = by.get((label, b, "runtime_price"))
            single_s = f"{single:11.1f}" if single is not None else f"{'-':>11}"
            print(f"{label:18} {b:5d} {rt:11.1f} {single_s} {sb:9.1f} {sb / rt:5.1f}x")
    return result


if __name__ == "__main__":
    main()
