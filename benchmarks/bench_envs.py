"""Market step speed against Gymnasium's classic-control yardstick, side by side.

The question: is a pricing market as cheap to step as the environments RL code is
tuned on? Every env is timed in the same run, interleaved round by round (so a
busy machine slows all of them alike), and reported as steps per second and as
the ratio to the yardstick measured in the same round (median over rounds, with
the range). Time is the process's CPU time (``time.process_time``) with numpy's
BLAS held to one thread, so that other jobs on a shared machine do not count
against an env (single-threaded code on an idle machine: CPU time = wall time);
``--wall`` times with ``time.perf_counter`` instead.

- single envs, each made with ``gymnasium.make`` (so each carries the same
  ``TimeLimit`` / ``OrderEnforcing`` / ``PassiveEnvChecker`` wrappers):
  ``CartPole-v1`` and :class:`~pricegym.envs.market.PricingEnv` driven by the
  fitted linear, log-linear, Poisson-regression, ARIMAX and neural models, with
  discrete and continuous prices;
- batched envs with 1024 markets: gymnasium's ``CartPoleVectorEnv(num_envs=1024)``
  and :class:`~pricegym.envs.vector.MarketVectorEnv` (env-steps per second =
  markets × batch steps per second), when that module is importable.

Each env plays uniformly random actions drawn beforehand (the same for every
round) and restarts finished episodes, as a training loop would. Markets: a
52-week season, 10 grid prices or a continuous price, unlimited stock, demand
models fitted on the bundled ``avocado`` data (their support is the price range;
log-normal noise; seasonal features), made with ``max_episode_steps=500`` like
CartPole-v1. The table's ``path`` column is the env's demand path
(``PricingEnv.mode``; see :mod:`pricegym.envs._fastpath`).

Goals (issue 3): single market at least as fast as CartPole with the linear or
ARIMAX model, at least half as fast with the neural one; the batched market at
least 0.8× ``CartPoleVectorEnv`` for linear/ARIMAX. Issue 16: the registered ids
with Poisson demand (``Monopoly-v0``, ``Markdown-v0``, made with
``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``) at least 1×,
the batched neural market at least 0.5× ``CartPoleVectorEnv`` (its own per-period path,
:mod:`pricegym.envs._neural_batch`; ``--families neural`` times only that family
beside both yardsticks).

Usage: ``python benchmarks/bench_envs.py [--dataset avocado] [--rounds 7]
[--families neural]``.
Writes ``benchmarks/results/envs.json`` and ``envs.png`` (``--out`` to change) and prints
a table; ``--plot-only`` redraws the figure from an existing JSON without timing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from threadpoolctl import threadpool_limits

from pricegym.demand.datasets import load_dataset
from pricegym.demand.noise import NoiseModel
from pricegym.demand.selection import make_model
from pricegym.envs.market import PricingEnv

OUT = Path(__file__).resolve().parent / "results" / "envs.json"
#: A local id: the benchmark needs no registration from the package.
BENCH_ID = "pricegym_bench/PricingEnv-v0"
FAMILIES = ("linear", "loglinear", "poisson", "arimax", "neural")
#: Minimum ratio to the yardstick each family must reach (issue 3).
GOALS = {
    "single": {"linear": 1.0, "arimax": 1.0, "neural": 0.5},
    "batched": {"linear": 0.8, "arimax": 0.8, "neural": 0.5},
}
#: Registered ids timed through gymnasium.make_vec, and their goal (issue 16 item 1).
REGISTERED = ("pricegym/Monopoly-v0", "pricegym/Markdown-v0")
REGISTERED_GOAL = 1.0
HORIZON = 52
#: The markets' TimeLimit, as CartPole-v1's (it never binds: seasons end first).
CUTOFF = 500
N_ACTIONS = 4096
#: The clock the runners read (set from --wall in main).
clock: Callable[[], float] = time.process_time


def single_runner(env: gym.Env, seed: int) -> Callable[[int], float]:
    """``run(n)`` plays n steps of random actions and returns the seconds taken."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(N_ACTIONS)]
    env.reset(seed=seed)

    def run(n: int) -> float:
        step, reset = env.step, env.reset
        t0 = clock()
        for j in range(n):
            _, _, terminated, truncated, _ = step(actions[j % N_ACTIONS])
            if terminated or truncated:
                reset()
        return clock() - t0

    return run


def vector_runner(env: Any, seed: int) -> Callable[[int], float]:
    """``run(n)`` plays n batch steps (autoreset by the env) and returns the seconds taken."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(64)]
    env.reset(seed=seed)

    def run(n: int) -> float:
        step = env.step
        t0 = clock()
        for j in range(n):
            step(actions[j % 64])
        return clock() - t0

    return run


def calibrate(run: Callable[[int], float], seconds: float) -> int:
    """Steps that take about ``seconds``."""
    n = 64
    while (elapsed := run(n)) < seconds / 4:
        n *= 2
    return max(1, int(n * seconds / elapsed))


def measure(
    runners: dict[str, tuple[Callable[[int], float], int]], rounds: int, seconds: float, base: str
) -> dict[str, dict[str, float]]:
    """Interleaved rounds: steps/s per env (median) and median ratio to ``base``."""
    counts = {name: calibrate(run, seconds) for name, (run, _) in runners.items()}
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, (run, per_step) in runners.items():
            rates[name].append(counts[name] * per_step / run(counts[name]))
    out = {}
    for name, values in rates.items():
        ratios = [v / b for v, b in zip(values, rates[base], strict=True)]
        out[name] = {
            "steps_per_s": statistics.median(values),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    return out


def _short_name(env: str) -> str:
    """Row label: the env name without its class prefix and batch suffix."""
    for prefix in ("PricingEnv ", "MarketVectorEnv "):
        if env.startswith(prefix):
            env = env[len(prefix) :]
    return env.split(" B=")[0]


def plot(doc: dict[str, Any], path: Path) -> None:
    """Ratio to the yardstick per env row: single envs (left), batched envs (right).

    Horizontal bars (median over rounds) with min–max whiskers, the goal of a row as
    a marker, bars coloured by goal met / missed / no goal, and a line at 1×. Drawn
    from the JSON document alone; written atomically as PNG to ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = doc.get("rows", [])
    kinds = [k for k in ("single", "batched") if any(r.get("kind") == k for r in rows)]
    kinds = kinds or ["single"]
    color_of = {True: "tab:green", False: "tab:red", None: "tab:blue"}
    heights = [max(1, sum(r.get("kind") == k for r in rows)) for k in kinds]
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(6.8 * len(kinds), 1.6 + 0.36 * max(heights)), squeeze=False
    )
    for ax, kind in zip(axes[0], kinds, strict=True):
        sub = [r for r in rows if r.get("kind") == kind]
        if not sub:
            ax.text(0.5, 0.5, doc.get("note") or "no rows", ha="center", wrap=True)
            ax.set_axis_off()
            continue
        base = sub[0]  # the yardstick is measured first and has ratio 1
        y = np.arange(len(sub))[::-1]
        ratio = np.array([float(r["ratio"]) for r in sub])
        has_range = all("ratio_min" in r and "ratio_max" in r for r in sub)
        err = None
        if has_range:
            err = np.array(
                [
                    [max(0.0, float(r["ratio"]) - float(r["ratio_min"])) for r in sub],
                    [max(0.0, float(r["ratio_max"]) - float(r["ratio"])) for r in sub],
                ]
            )
        colors = [
            "tab:gray" if r is base else color_of.get(r.get("met") if r.get("goal") else None)
            for r in sub
        ]
        ax.barh(
            y,
            ratio,
            xerr=err,
            color=colors,
            alpha=0.85,
            error_kw={"ecolor": "k", "elinewidth": 0.8, "capsize": 2.5},
        )
        for yi, r in zip(y, sub, strict=True):
            if r.get("goal") is not None:
                ax.plot(float(r["goal"]), yi, marker="D", color="k", ms=5, mfc="gold", zorder=3)
            sps = float(r["steps_per_s"])
            rate = f"{sps / 1e6:.2f} M" if sps >= 1e6 else f"{sps / 1e3:.0f} k"
            right = max(float(r["ratio"]), float(r.get("ratio_max", r["ratio"])))
            ax.annotate(
                f"{float(r['ratio']):.2f}×  ({rate} steps/s)",
                (right, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
        ax.axvline(1.0, color="k", lw=0.9, ls="--")
        names = []
        for r in sub:
            name = r["env"] if r is base else _short_name(r["env"])
            names.append(f"{name} [{r['mode']}]" if r.get("mode") else name)
        ax.set_yticks(y, names, fontsize=8)
        top = max(float(r.get("ratio_max", r["ratio"])) for r in sub)
        ax.set_xlim(0, max(1.2, top) * 1.4)
        ax.set_xlabel(f"steps/s ÷ {base['env']} steps/s in the same round")
        what = "single env (gymnasium.make)" if kind == "single" else "batched markets"
        ax.set_title(f"{what} vs {base['env']}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles = [
        Patch(color="tab:gray", label="yardstick (1×)"),
        Patch(color="tab:green", label="goal met"),
        Patch(color="tab:red", label="goal missed"),
        Patch(color="tab:blue", label="no goal"),
        Line2D([], [], marker="D", color="k", mfc="gold", ls="", label="goal (issue 3)"),
    ]
    if any("ratio_min" in r for r in rows):
        handles.append(Line2D([], [], color="k", lw=0.8, label="min–max over rounds"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    machine = doc.get("machine", {})
    fig.suptitle(
        f"Env step speed, ratio to Gymnasium's CartPole (median of {doc.get('rounds', '?')} "
        f"interleaved rounds, {doc.get('clock', '?')} clock; horizon {doc.get('horizon', '?')}, "
        f"data {doc.get('dataset', '?')!r}; numpy {machine.get('numpy', '?')}, "
        f"gymnasium {machine.get('gymnasium', '?')})",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    from pricegym.demand.plot import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no half-written PNG
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="avocado")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.4, help="per env per round")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--wall", action="store_true", help="time wall-clock, not CPU")
    parser.add_argument(
        "--families", nargs="+", choices=FAMILIES, default=list(FAMILIES), help="models to time"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="results JSON (PNG beside it)")
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the PNG from the JSON at --out; no timing"
    )
    args = parser.parse_args()
    if args.plot_only:
        png = args.out.with_suffix(".png")
        plot(json.loads(args.out.read_text()), png)
        print(f"wrote {png}")
        return
    global clock
    clock = time.perf_counter if args.wall else time.process_time
    with threadpool_limits(limits=1):
        run(args)


def run(args: argparse.Namespace) -> None:
    """Fit, time, print and write the results (see the module docstring)."""

    load_before = os.getloadavg()  # the machine's load: a busy one widens the ranges
    history = load_dataset(args.dataset)
    families = tuple(getattr(args, "families", FAMILIES))
    kernels = {}
    for family in families:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kernels[family] = make_model(family).fit(history).kernel()
    if BENCH_ID not in gym.registry:
        gym.register(BENCH_ID, entry_point=PricingEnv)

    # ------------------------------------------------------------ single envs
    runners: dict[str, tuple[Callable[[int], float], int]] = {
        "CartPole-v1": (single_runner(gym.make("CartPole-v1"), 0), 1)
    }
    modes = {}
    for family in families:
        for action in ("discrete", "continuous"):
            env = gym.make(
                BENCH_ID,
                kernel=kernels[family],
                config={"action": action, "horizon": HORIZON},
                max_episode_steps=CUTOFF,
            )
            name = f"PricingEnv {family} {action}"
            modes[name] = env.unwrapped.mode
            runners[name] = (single_runner(env, 0), 1)
    single = measure(runners, args.rounds, args.seconds, "CartPole-v1")

    # ------------------------------------------------------------ batched envs
    batched: dict[str, dict[str, float]] = {}
    batched_note = ""
    try:
        from pricegym.envs.vector import MarketVectorEnv

        vec_runners = {
            f"CartPoleVectorEnv B={args.batch}": (
                vector_runner(CartPoleVectorEnv(num_envs=args.batch), 0),
                args.batch,
            )
        }
        for family in families:
            for action in ("discrete", "continuous"):
                venv = MarketVectorEnv(
                    kernels[family],
                    {"action": action, "horizon": HORIZON},
                    num_envs=args.batch,
                )
                name = f"MarketVectorEnv {family} {action} B={args.batch}"
                modes[name] = str(getattr(venv, "mode", ""))
                vec_runners[name] = (vector_runner(venv, 0), args.batch)
                if family == "neural":  # before issue 16: MLPKernel.expected every step
                    venv = MarketVectorEnv(
                        kernels[family],
                        {"action": action, "horizon": HORIZON},
                        num_envs=args.batch,
                        fast_path=False,
                    )
                    name = f"MarketVectorEnv neural-kernel-call {action} B={args.batch}"
                    modes[name] = str(getattr(venv, "mode", ""))
                    vec_runners[name] = (vector_runner(venv, 0), args.batch)
        # The same linear model with Poisson noise (as count data gets): batched markets
        # reproduce each market's own Poisson stream exactly, which costs speed.
        if "linear" in kernels:
            counts = copy.copy(kernels["linear"])
            counts.noise = NoiseModel("poisson")
            venv = MarketVectorEnv(counts, {"horizon": HORIZON}, num_envs=args.batch)
            name = f"MarketVectorEnv linear+poisson-noise discrete B={args.batch}"
            modes[name] = str(getattr(venv, "mode", ""))
            vec_runners[name] = (vector_runner(venv, 0), args.batch)
        # The registered ids as users make them (issue 16): Poisson demand from a
        # parametric truth, gymnasium.make_vec through their vector_entry_point.
        # Duopoly-v0 is left out: its rival is a Python agent, so it runs as single
        # envs in a SyncVectorEnv (the "sync" path) and has no batched speed to show.
        if not getattr(args, "no_registered", False):
            import pricegym  # noqa: F401  (registers the ids)

            for env_id in REGISTERED:
                venv = gym.make_vec(env_id, args.batch, vectorization_mode="vector_entry_point")
                name = f"make_vec {env_id} B={args.batch}"
                modes[name] = str(getattr(venv.unwrapped, "mode", ""))
                vec_runners[name] = (vector_runner(venv, 0), args.batch)
        batched = measure(vec_runners, args.rounds, args.seconds, next(iter(vec_runners)))
    except Exception as exc:  # the batched env is another module's; report why it is missing
        batched_note = f"MarketVectorEnv not measured: {type(exc).__name__}: {exc}"

    # ------------------------------------------------------------ report
    rows = []
    for kind, table in (("single", single), ("batched", batched)):
        for name, r in table.items():
            family = next((f for f in FAMILIES if f" {f} " in name), None)
            goal = GOALS[kind].get(family) if family else None
            if kind == "batched" and any(f" {i} " in name for i in REGISTERED):
                goal = REGISTERED_GOAL
            rows.append(
                {
                    "kind": kind,
                    "env": name,
                    "mode": modes.get(name, ""),
                    "steps_per_s": r["steps_per_s"],
                    "ratio": r["ratio"],
                    "ratio_min": r["ratio_min"],
                    "ratio_max": r["ratio_max"],
                    "goal": goal,
                    "met": None if goal is None else bool(r["ratio"] >= goal),
                }
            )
    print(f"{'env':46s} {'path':8s} {'steps/s':>12s} {'ratio':>7s} {'(min-max)':>13s} goal")
    for r in rows:
        goal = "" if r["goal"] is None else f">={r['goal']:.1f} {'met' if r['met'] else 'MISSED'}"
        print(
            f"{r['env']:46s} {r['mode']:8s} {r['steps_per_s']:12,.0f} {r['ratio']:7.2f} "
            f"({r['ratio_min']:.2f}-{r['ratio_max']:.2f})  {goal}"
        )
    if batched_note:
        print(batched_note)
    out: Path = getattr(args, "out", OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "dataset": args.dataset,
        "horizon": HORIZON,
        "batch": args.batch,
        "rounds": args.rounds,
        "clock": "wall" if args.wall else "cpu",
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "numpy": np.__version__,
            "gymnasium": gym.__version__,
            "cpus": os.cpu_count(),
            # 1-minute load average at the start and the end of the run
            "load": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "rows": rows,
        "note": batched_note,
    }
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(out)  # atomic
    png = out.with_suffix(".png")
    plot(document, png)
    print(f"wrote {out} and {png}")


if __name__ == "__main__":
    main()
