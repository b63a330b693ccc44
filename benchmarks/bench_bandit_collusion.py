"""Hansen, Misra & Pai (2021): two UCB sellers on a noisy linear duopoly, swept over noise.

The published finding (Hansen, Misra & Pai, "Frontiers: Algorithmic Collusion:
Supra-competitive Prices via Independent Algorithms", Marketing Science 40(1),
2021, 1-12; the abstract): sellers whose bandit algorithms ignore the rival's
price end at the static Nash price when the signal-to-noise ratio (SNR) of their
price experiments is low, and at supra-competitive prices — possibly the joint
monopoly price — when it is high, because the two algorithms end up running
correlated experiments. The search tool found the abstract only, not the paper's
text, so its market parameters, algorithm variant and numbers are **not** used
or checked here; the settings below are ours and the check is the direction.

Market (:class:`~pricegym.demand.linear_oligopoly.LinearOligopolyTruth`):
q_i = a − b·p_i + c·p_j + σ·ε_i with a = 1, b = 1, c = 0.5, zero cost, so
p^N = a/(2b − c) = 2/3 and p^M = a/(2(b − c)) = 1 exactly (closed forms, checked
against the env's numerical solvers). Each seller chooses among 9 prices
1/2, 7/12, …, 7/6 (step 1/12; p^N and p^M are grid points, and the grid's
one-shot Nash equilibrium is p^N: the best reply to 2/3 is 2/3). SNR =
b·(p^M − p^N)/σ: the fall in own expected demand from the Nash to the monopoly
price, in noise standard deviations.

Sellers: each runs UCB1 on its own profit (no rival prices in its model: the
misspecification of the paper), ``mean + scale·sqrt(2 ln n / n_k)``, through
:class:`~pricegym.agents.batched_bandits.BatchUCB1` — many runs as one array,
checked before any result is written to play exactly what two
:class:`~pricegym.agents.bandits.UCB1` agents play in
``OligopolyEnv(kernel=LinearOligopolyTruth(...), noise=True)`` with the same
seeds (:func:`simulate_reference`). Run r's noise comes from the env generator
of seed ``seed + r`` (reset draws the starting prices, then one (1, 2) normal
per round), so the vectorised runs *are* the env's runs.

Two bonus scales: 0.2 (about a quarter of the range of expected profits on the
grid, 0.10-0.83) and 0.73 (that whole range, UCB1's textbook scale for rewards in
an interval of that width).

Reported per (scale, σ): over the last ``tail`` periods each run's average price
p̄ (both sellers), its profit gain Δ = (π̄ − π^N)/(π^M − π^N) from expected profits,
and whether it ended **near monopoly** (p̄ ≥ p^M − (p^M − p^N)/3, the top third of
[p^N, p^M] or above) or **near Nash** (p̄ ≤ p^N + (p^M − p^N)/3, the bottom
third or below); also the share of all periods in which the two sellers charged
the same price (the correlated experiments). Intervals: bootstrap 95% over runs
(``pricegym.experiments.stats.bootstrap_ci``).

Usage::

    python benchmarks/bench_bandit_collusion.py              # 500 runs x 50,000 periods
    python benchmarks/bench_bandit_collusion.py --quick      # 60 runs x 10,000 periods

Writes ``benchmarks/results/bandit_collusion.json`` and ``bandit_collusion.png``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from _bench_io import command, machine, write_json
from gymnasium.utils import seeding

from pricegym.agents.bandits import UCB1
from pricegym.agents.batched_bandits import BatchUCB1
from pricegym.demand.linear_oligopoly import LinearOligopolyTruth
from pricegym.envs.equilibrium_solvers import monopoly_prices, nash_prices
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.experiments.evaluate import bind_to_seat
from pricegym.experiments.stats import bootstrap_ci

__all__ = [
    "SETTINGS",
    "benchmarks",
    "grid",
    "main",
    "readme_table",
    "simulate",
    "simulate_reference",
    "summarise",
]

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "bandit_collusion.json"

#: Market and learner settings (ours; see the module docstring).
SETTINGS: dict[str, Any] = {
    "intercept": 1.0,
    "own_slope": 1.0,
    "cross_slope": 0.5,
    "cost": 0.0,
    "price_min": 0.5,
    "price_step": 1.0 / 12.0,
    "n_prices": 9,
    "scales": [0.2, 0.73],
    "sigmas": [0.0, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
}

PUBLISHED = {
    "source": "Hansen, Misra & Pai (2021), Marketing Science 40(1): 1-12",
    "status": "qualitative claim from the abstract; no published number checked",
    "claim": "low SNR -> static Nash prices; high SNR -> supra-competitive prices "
    "(joint monopoly possible), through correlated experiments",
}


def grid(settings: dict[str, Any] = SETTINGS) -> np.ndarray:
    """The common price grid: ``n_prices`` prices from ``price_min`` in steps of ``price_step``."""
    return settings["price_min"] + settings["price_step"] * np.arange(settings["n_prices"])


def kernel(sigma: float, settings: dict[str, Any] = SETTINGS) -> LinearOligopolyTruth:
    """The market's demand truth with noise σ, its support the grid's range."""
    g = grid(settings)
    return LinearOligopolyTruth(
        settings["intercept"],
        settings["own_slope"],
        settings["cross_slope"],
        n_sellers=2,
        sigma=sigma,
        support=(float(g[0]), float(g[-1])),
    )


def benchmarks(settings: dict[str, Any] = SETTINGS) -> dict[str, Any]:
    """Exact Nash and monopoly prices and profits, with the numerical solvers' check."""
    k = kernel(0.0, settings)
    cost = settings["cost"]
    pn, pm = k.nash_prices(cost), k.monopoly_prices(cost)

    def demand(p: np.ndarray) -> np.ndarray:
        return k.expected(p)

    bounds = k.support
    numeric_n = nash_prices(demand, [cost, cost], bounds)
    numeric_m = monopoly_prices(demand, [cost, cost], bounds, x0=numeric_n)
    profit = lambda p: float(((p - cost) * k.expected(p)[0])[0])  # noqa: E731
    return {
        "nash_price": float(pn[0]),
        "monopoly_price": float(pm[0]),
        "nash_profit": profit(pn),
        "monopoly_profit": profit(pm),
        "numeric_nash_price": float(numeric_n[0]),
        "numeric_monopoly_price": float(numeric_m[0]),
        "snr_signal": settings["own_slope"] * float(pm[0] - pn[0]),
    }


def _noise_streams(runs: int, seed: int) -> list[np.random.Generator]:
    """Run r's generator: the env's ``np_random`` after ``reset(seed=seed + r)``."""
    out = []
    for r in range(runs):
        rng, _ = seeding.np_random(seed + r)
        rng.integers(SETTINGS["n_prices"], size=(1, 2))  # the env's starting prices
        out.append(rng)
    return out


def simulate(
    sigma: float,
    scale: float,
    runs: int,
    periods: int,
    seed: int = 0,
    settings: dict[str, Any] = SETTINGS,
    chunk: int = 2000,
) -> np.ndarray:
    """Price indices charged, shape (runs, periods, 2), every run at once."""
    g = grid(settings)
    k = kernel(sigma, settings)
    cost = settings["cost"]
    sellers = [BatchUCB1(runs, g.size, scale) for _ in range(2)]
    streams = _noise_streams(runs, seed)
    out = np.empty((runs, periods, 2), dtype=np.int8)
    z = np.zeros((runs, 0, 2))
    for t in range(periods):
        if t % chunk == 0:
            n = min(chunk, periods - t)
            z = np.stack([s.standard_normal((n, 2)) for s in streams])
        a = np.stack([s.act() for s in sellers], axis=1)  # (runs, 2)
        out[:, t] = a
        p = g[a]
        units = k.expected(p) + k.sigma * z[:, t % chunk]  # GaussianNoise.sample's sum
        profit = (p - cost) * units
        for i, s in enumerate(sellers):
            s.update(a[:, i], profit[:, i])
    return out


def simulate_reference(
    sigma: float, scale: float, run: int, periods: int, seed: int = 0
) -> np.ndarray:
    """Run ``run`` played by two :class:`UCB1` agents in an :class:`OligopolyEnv` (the oracle)."""
    g = grid()
    env = OligopolyEnv(
        kernel=kernel(sigma), prices=g.tolist(), cost=SETTINGS["cost"], noise=True, horizon=None
    )
    agents = [bind_to_seat(UCB1(scale=scale), env, i) for i in range(2)]
    obs, _ = env.reset(seed=seed + run)
    for agent in agents:
        agent.reset(seed=run)
    out = np.empty((periods, 2), dtype=np.int8)
    names = env.possible_agents
    for t in range(periods):
        actions = {n: agent.act(obs[n]) for n, agent in zip(names, agents, strict=True)}
        out[t] = [actions[n] for n in names]
        nxt, rewards, term, _, infos = env.step(actions)
        for n, agent in zip(names, agents, strict=True):
            agent.update(obs[n], actions[n], rewards[n], nxt[n], term[n], infos[n])
        obs = nxt
    return out


def summarise(
    sigma: float,
    scale: float,
    played: np.ndarray,
    tail: int,
    bench: dict[str, Any],
    seed: int = 0,
    settings: dict[str, Any] = SETTINGS,
) -> dict[str, Any]:
    """The JSON row of one (scale, σ) from the played indices (runs, periods, 2)."""
    g = grid(settings)
    k = kernel(0.0, settings)
    last = played[:, -tail:].astype(np.intp)
    p = g[last]  # (runs, tail, 2)
    profit = (p - settings["cost"]) * k.expected(p.reshape(-1, 2)).reshape(p.shape)
    pn, pm = bench["nash_price"], bench["monopoly_price"]
    price_r = p.mean(axis=(1, 2))
    delta_r = (profit.mean(axis=(1, 2)) - bench["nash_profit"]) / (
        bench["monopoly_profit"] - bench["nash_profit"]
    )
    third = (pm - pn) / 3.0
    eps = 1e-9  # grid averages that sit exactly on a boundary count as inside
    price = bootstrap_ci(price_r, seed=seed)
    delta = bootstrap_ci(delta_r, seed=seed)
    same = played[..., 0] == played[..., 1]
    step = max(1, played.shape[1] // 200)
    return {
        "scale": scale,
        "sigma": sigma,
        "snr": None if sigma == 0 else bench["snr_signal"] / sigma,
        "runs": int(played.shape[0]),
        "periods": int(played.shape[1]),
        "tail": tail,
        "price_mean": price.value,
        "price_ci95": [price.low, price.high],
        "delta_mean": delta.value,
        "delta_ci95": [delta.low, delta.high],
        "near_monopoly_share": float(np.mean(price_r >= pm - third - eps)),
        "near_nash_share": float(np.mean(price_r <= pn + third + eps)),
        "same_price_share": float(same.mean()),
        "price_path_mean": g[played.astype(np.intp)].mean(axis=(0, 2))[::step].tolist(),
    }


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pricegym.demand.plot import save_figure

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for scale, ls in zip(doc["settings"]["scales"], ("-", "--"), strict=False):
        rows = [r for r in doc["rows"] if r["scale"] == scale and r["snr"] is not None]
        snr = [r["snr"] for r in rows]
        ax.plot(
            snr,
            [r["near_monopoly_share"] for r in rows],
            "o" + ls,
            color="tab:red",
            label=f"near monopoly (scale {scale:g})",
        )
        ax.plot(
            snr,
            [r["near_nash_share"] for r in rows],
            "s" + ls,
            color="tab:blue",
            label=f"near Nash (scale {scale:g})",
        )
    ax.set_xscale("log")
    ax.set_xlabel("signal-to-noise ratio b·(p^M − p^N)/σ")
    ax.set_ylabel("share of runs")
    ax.set_title("Two UCB1 sellers, linear duopoly (Hansen, Misra & Pai 2021 setting)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def comparison(doc: dict[str, Any]) -> str:
    """Where pricegym agrees with the published direction, worded from ``doc`` only."""
    parts = []
    agree_all = True
    for scale in doc["settings"]["scales"]:
        rows = [r for r in doc["rows"] if r["scale"] == scale and r["snr"] is not None]
        hi = max(rows, key=lambda r: r["snr"])
        lo_rows = [r for r in rows if r["snr"] < 1.0]
        lo = min(lo_rows, key=lambda r: r["near_monopoly_share"]) if lo_rows else rows[-1]
        agree = (
            hi["near_monopoly_share"] > lo["near_monopoly_share"] + 0.1
            and hi["delta_ci95"][0] > lo["delta_ci95"][1]
            and lo["near_nash_share"] > 0.5
        )
        agree_all &= agree
        parts.append(
            f"scale {scale:g}: at SNR {hi['snr']:.3g} {hi['near_monopoly_share']:.0%} of runs end "
            f"near monopoly (Δ = {hi['delta_mean']:.2f}), at SNR {lo['snr']:.3g} "
            f"{lo['near_monopoly_share']:.0%} (Δ = {lo['delta_mean']:.2f}, "
            f"{lo['near_nash_share']:.0%} near Nash)"
        )
    verdict = (
        "pricegym agrees with the published direction (supra-competitive prices at high SNR, "
        "vanishing at low SNR)."
        if agree_all
        else "pricegym does NOT reproduce the published direction for every scale."
    )
    return "; ".join(parts) + ": " + verdict + " The paper's own numbers were not checked."


def readme_table(doc: dict[str, Any]) -> str:
    """Markdown table of ``bandit_collusion.json``; every number comes from ``doc``."""
    b = doc["benchmarks"]
    lines = [
        "| bonus scale | σ | SNR | runs | mean price [95% CI] | Δ [95% CI] | near monopoly "
        "| near Nash | same price |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        lo, hi = r["price_ci95"]
        dlo, dhi = r["delta_ci95"]
        snr = "∞" if r["snr"] is None else f"{r['snr']:.3g}"
        lines.append(
            f"| {r['scale']:g} | {r['sigma']:g} | {snr} | {r['runs']} | {r['price_mean']:.3f} "
            f"[{lo:.3f}, {hi:.3f}] | {r['delta_mean']:.2f} [{dlo:.2f}, {dhi:.2f}] "
            f"| {r['near_monopoly_share']:.0%} | {r['near_nash_share']:.0%} "
            f"| {r['same_price_share']:.0%} |"
        )
    s, r0 = doc["settings"], doc["rows"][0]
    ref = doc["reference_check"]
    lines += [
        "",
        f"q_i = {s['intercept']:g} − {s['own_slope']:g}·p_i + {s['cross_slope']:g}·p_j + σ·ε, "
        f"cost {s['cost']:g}: p^N = {b['nash_price']:.4f}, p^M = {b['monopoly_price']:.4f} "
        f"(closed form; the numerical solvers give {b['numeric_nash_price']:.6f} / "
        f"{b['numeric_monopoly_price']:.6f}); {s['n_prices']} prices from {s['price_min']:g} in "
        f"steps of {s['price_step']:.4g}; UCB1 on own profit, averages over the last "
        f"{r0['tail']:,} of {r0['periods']:,} periods; SNR = b·(p^M − p^N)/σ; 'near' = the "
        "top (bottom) third of [p^N, p^M] or beyond; 'same price' = share of periods both "
        f"charged the same price. Settings are ours, not the paper's (source: "
        f"{doc['published']['source']}). Batched UCB1 = two UCB1 agents in OligopolyEnv on "
        f"{ref['runs']} runs × {ref['periods']:,} periods: {ref['identical']}. Wall "
        f"{doc['wall_s']:.0f} s; written by `benchmarks/bench_bandit_collusion.py`.",
        "",
        f"Published finding, as stated in the source ({doc['published']['source']}, "
        f"abstract): {doc['published']['claim']}.",
        "",
        comparison(doc),
    ]
    below = [r for r in doc["rows"] if r["delta_ci95"][1] < 0]
    if below:
        snrs = sorted({r["snr"] for r in below if r["snr"] is not None})
        lines.append(
            f"At SNR {', '.join(f'{x:.3g}' for x in snrs)} Δ is below 0 (less than the Nash "
            "profit): the sellers have not settled and still try prices on both sides of "
            "p^N, so the noisiest rows measure exploration as much as an outcome."
        )
    return "\n".join(lines)


def reference_check(seed: int, runs: int = 2, periods: int = 1500) -> dict[str, Any]:
    """Batched UCB1 against two UCB1 agents in the env, at a low and a high noise."""
    identical = all(
        np.array_equal(
            simulate(sigma, scale, runs, periods, seed)[r],
            simulate_reference(sigma, scale, r, periods, seed),
        )
        for sigma in (0.01, 1.0)
        for scale in SETTINGS["scales"]
        for r in range(runs)
    )
    return {"runs": 2 * len(SETTINGS["scales"]) * runs, "periods": periods, "identical": identical}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--periods", type=int, default=50_000)
    parser.add_argument("--tail", type=int, default=5000, help="periods averaged at the end")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--quick", action="store_true", help="60 runs x 10,000 periods")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.periods, args.tail = 60, 10_000, 1000
    t0 = time.perf_counter()
    bench = benchmarks()
    ref = reference_check(args.seed)
    print(f"batched UCB1 plays the env agents' runs exactly: {ref['identical']}")
    if not ref["identical"]:
        raise SystemExit("the batched UCB1 disagrees with the UCB1 agents; not writing results")
    rows = []
    for scale in SETTINGS["scales"]:
        for sigma in SETTINGS["sigmas"]:
            t1 = time.perf_counter()
            played = simulate(sigma, scale, args.runs, args.periods, args.seed)
            row = summarise(sigma, scale, played, args.tail, bench, args.seed)
            row["wall_s"] = time.perf_counter() - t1
            rows.append(row)
            snr = math.inf if row["snr"] is None else row["snr"]
            print(
                f"scale {scale:g} σ {sigma:<6g} SNR {snr:8.3g}: price {row['price_mean']:.3f}, "
                f"Δ {row['delta_mean']:.2f}, near M {row['near_monopoly_share']:.0%}, near N "
                f"{row['near_nash_share']:.0%}, same {row['same_price_share']:.0%} "
                f"({row['wall_s']:.0f} s)",
                flush=True,
            )
    doc: dict[str, Any] = {
        "benchmark": "bandit_collusion",
        "published": PUBLISHED,
        "settings": SETTINGS,
        "benchmarks": bench,
        "seed": args.seed,
        "reference_check": ref,
        "rows": rows,
        "wall_s": time.perf_counter() - t0,
        "machine": machine(),
        "command": command("bench_bandit_collusion.py"),
    }
    _plot(doc, args.out.with_suffix(".png"))
    write_json(args.out, doc)
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
