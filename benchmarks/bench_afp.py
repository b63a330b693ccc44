"""Asker, Fershtman & Pakes (2022): synchronous vs asynchronous learning in a Bertrand duopoly.

The question: do the same myopic learners end near the competitive price when they
update every price with its counterfactual profit (synchronous), and far above it
when they update only the price they played (asynchronous), as Asker, Fershtman &
Pakes report ("Artificial Intelligence, Algorithm Design, and Pricing", AEA Papers
and Proceedings 112, 2022, 452-456; the abstract: "when future profits are not
given positive weight ... synchronous updating leads to competitive pricing, while
asynchronous can lead to pricing close to monopoly levels")?

Market (homogeneous-good Bertrand duopoly): one unit of demand per period, all of
it to the lower price, split equally at a tie; every grid price is at or below the
consumers' reservation value, so total demand is always 1. Marginal cost c = 2,
``K`` = 100 prices evenly spaced on [0.01, 10]. Competitive (Bertrand) profit is 0
(price = cost; on the grid the one-step undercut equilibria lie within two grid
steps of c); joint monopoly is both at 10, (10 − 2)/2 = 4 each.

Learners (each firm, independently): a value W(p) per price, no state, no
discounting (myopic, the paper's case of "no weight on future profits"); each
period the firm charges argmax_p W(p) (ties to the lowest index) — no random
exploration: exploration is "mechanical", through initial values drawn i.i.d.
U[10, 20], above any attainable profit (8). After the period:

- **asynchronous**: W(p_played) ← (1 − α)·W(p_played) + α·profit;
- **synchronous**: W(p) ← (1 − α)·W(p) + α·π(p, p_rival) for every grid price p
  (the exact counterfactual profit against the rival's realised price).

α = 0.1. Where these settings come from: the search tool found only the paper's
abstract, not its text; the grid, cost, initial range and α are those of a public
third-party replication notebook of the paper, taken as stated there and **not
verified against the paper**. The direction (synchronous → competitive,
asynchronous → supra-competitive) is the published claim checked here.

Sessions run vectorised over a (sessions, 2, K) array (:func:`simulate`), checked
against a plain one-session loop (:func:`simulate_reference`) on a few sessions
before any result is written. Reported per protocol: the mean price and profit
gain Δ = π/π^M (π^N = 0) over the last ``tail`` periods, with bootstrap 95% CIs
over sessions (``pricegym.experiments.stats.bootstrap_ci``), and the shares of
sessions whose final average price lies within 10% of the [c, p_max] range of
the competitive price or of the monopoly price.

Usage::

    python benchmarks/bench_afp.py                  # 1,000 sessions x 20,000 periods
    python benchmarks/bench_afp.py --sessions 50    # a quick look

Writes ``benchmarks/results/afp.json`` and ``afp.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from _bench_io import command, machine, write_json

from pricegym.experiments.stats import bootstrap_ci

__all__ = ["SETTINGS", "main", "readme_table", "simulate", "simulate_reference", "summarise"]

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "afp.json"

#: Market and learner settings (see the module docstring for their source).
SETTINGS: dict[str, Any] = {
    "cost": 2.0,
    "price_min": 0.01,
    "price_max": 10.0,
    "n_prices": 100,
    "alpha": 0.1,
    "init_low": 10.0,
    "init_high": 20.0,
}
PROTOCOLS = ("synchronous", "asynchronous")
#: "near" a benchmark: within this share of the [cost, price_max] range.
NEAR = 0.10

PUBLISHED = {
    "source": "Asker, Fershtman & Pakes (2022), AEA Papers and Proceedings 112: 452-456",
    "status": "qualitative claim from the abstract; no published number checked",
    "claim": "synchronous updating -> competitive prices; asynchronous -> close to monopoly",
}


def grid(settings: dict[str, Any] = SETTINGS) -> np.ndarray:
    """The price grid: ``n_prices`` evenly spaced prices on [price_min, price_max]."""
    return np.linspace(settings["price_min"], settings["price_max"], settings["n_prices"])


def profit_matrix(prices: np.ndarray, cost: float) -> np.ndarray:
    """π[k, j]: a firm's profit at price k against a rival at price j (unit demand)."""
    p = prices[:, None]
    q = prices[None, :]
    share = np.where(p < q, 1.0, np.where(p == q, 0.5, 0.0))
    return (p - cost) * share


def _initial_values(sessions: int, k: int, settings: dict[str, Any], seed: int) -> np.ndarray:
    """W_0 of shape (sessions, 2, k): session s draws from the s-th child of SeedSequence(seed)."""
    children = np.random.SeedSequence(seed).spawn(sessions)
    lo, hi = settings["init_low"], settings["init_high"]
    return np.stack([np.random.default_rng(c).uniform(lo, hi, size=(2, k)) for c in children])


def simulate(
    protocol: str,
    sessions: int,
    periods: int,
    seed: int = 0,
    settings: dict[str, Any] = SETTINGS,
) -> np.ndarray:
    """Price indices played, shape (sessions, periods, 2), all sessions at once.

    Raises:
        ValueError: unknown ``protocol`` (use 'synchronous' or 'asynchronous').
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} must be one of {PROTOCOLS}.")
    prices = grid(settings)
    pi = profit_matrix(prices, settings["cost"])
    alpha = settings["alpha"]
    w = _initial_values(sessions, prices.size, settings, seed)
    rows = np.arange(sessions)
    out = np.empty((sessions, periods, 2), dtype=np.int16)
    for t in range(periods):
        a = w.argmax(axis=2)  # (S, 2): first maximiser
        out[:, t] = a
        a0, a1 = a[:, 0], a[:, 1]
        if protocol == "synchronous":
            w *= 1.0 - alpha
            w[:, 0] += alpha * pi[:, a1].T
            w[:, 1] += alpha * pi[:, a0].T
        else:
            for i, (own, rival) in enumerate(((a0, a1), (a1, a0))):
                w[rows, i, own] = (1.0 - alpha) * w[rows, i, own] + alpha * pi[own, rival]
    return out


def simulate_reference(
    protocol: str, session: int, sessions: int, periods: int, seed: int = 0
) -> np.ndarray:
    """One session in a plain Python loop (the oracle :func:`simulate` is checked against)."""
    prices = grid()
    cost, alpha = SETTINGS["cost"], SETTINGS["alpha"]
    w = _initial_values(sessions, prices.size, SETTINGS, seed)[session].copy()
    out = np.empty((periods, 2), dtype=np.int16)
    for t in range(periods):
        a = [int(np.argmax(w[0])), int(np.argmax(w[1]))]
        out[t] = a
        for i in range(2):
            rival = prices[a[1 - i]]
            for k in range(prices.size) if protocol == "synchronous" else [a[i]]:
                share = 1.0 if prices[k] < rival else (0.5 if prices[k] == rival else 0.0)
                w[i, k] = (1.0 - alpha) * w[i, k] + alpha * (prices[k] - cost) * share
    return out


def summarise(
    protocol: str, played: np.ndarray, tail: int, seed: int = 0, settings: dict[str, Any] = SETTINGS
) -> dict[str, Any]:
    """The JSON row of one protocol from the played indices (sessions, periods, 2)."""
    prices = grid(settings)
    cost = settings["cost"]
    pi = profit_matrix(prices, cost)
    last = played[:, -tail:].astype(np.intp)
    p = prices[last]  # (S, tail, 2)
    profit = pi[last[..., 0], last[..., 1]] + pi[last[..., 1], last[..., 0]]  # industry
    monopoly_profit = (prices[-1] - cost) / 2.0  # per firm, both at the top price
    price_s = p.mean(axis=(1, 2))
    delta_s = profit.mean(axis=1) / 2.0 / monopoly_profit
    span = prices[-1] - cost
    price = bootstrap_ci(price_s, seed=seed)
    delta = bootstrap_ci(delta_s, seed=seed)
    changes = (np.diff(played[:, -tail:], axis=1) != 0).any(axis=(1, 2))
    return {
        "protocol": protocol,
        "sessions": int(played.shape[0]),
        "periods": int(played.shape[1]),
        "tail": tail,
        "price_mean": price.value,
        "price_ci95": [price.low, price.high],
        "price_median": float(np.median(price_s)),
        "delta_mean": delta.value,
        "delta_ci95": [delta.low, delta.high],
        "near_competitive_share": float(np.mean(price_s <= cost + NEAR * span)),
        "near_monopoly_share": float(np.mean(price_s >= prices[-1] - NEAR * span)),
        "still_changing_share": float(changes.mean()),
        "price_path_median": np.median(prices[played].mean(axis=2), axis=0).tolist()[
            :: max(1, played.shape[1] // 200)
        ],
    }


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pricegym.demand.plot import save_figure

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for row, color in zip(doc["rows"], ("tab:blue", "tab:red"), strict=True):
        path_ = np.asarray(row["price_path_median"])
        step = max(1, row["periods"] // 200)
        ax.plot(np.arange(path_.size) * step, path_, color=color, label=row["protocol"])
    s = doc["settings"]
    ax.axhline(s["cost"], color="grey", ls="--", lw=0.8, label="cost (competitive)")
    ax.axhline(s["price_max"], color="grey", ls=":", lw=0.8, label="monopoly price")
    ax.set_xlabel("period")
    ax.set_ylabel("median over sessions of the mean price")
    ax.set_title("Asker, Fershtman & Pakes (2022) duopoly: synchronous vs asynchronous")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def comparison(doc: dict[str, Any]) -> str:
    """Where pricegym agrees with the published direction, worded from ``doc`` only."""
    by = {r["protocol"]: r for r in doc["rows"]}
    s, a = by["synchronous"], by["asynchronous"]
    separated = s["price_ci95"][1] < a["price_ci95"][0]
    agree = separated and s["near_competitive_share"] > 0.5 and a["delta_mean"] > 0.5
    return (
        f"Synchronous learners end at a mean price {s['price_mean']:.2f} (Δ = "
        f"{s['delta_mean']:.3f}, {s['near_competitive_share']:.0%} of sessions near the "
        f"competitive price), asynchronous at {a['price_mean']:.2f} (Δ = {a['delta_mean']:.3f}, "
        f"{a['near_monopoly_share']:.0%} near the monopoly price): "
        + (
            "pricegym agrees with the published direction."
            if agree
            else "pricegym does NOT reproduce the published direction here."
        )
        + " The paper's own numbers were not available to compare with."
    )


def readme_table(doc: dict[str, Any]) -> str:
    """Markdown table of ``afp.json``; every number comes from ``doc``."""
    lines = [
        "| protocol | sessions | mean price [95% CI] | median price | Δ = π/π^M [95% CI] "
        "| near competitive | near monopoly | still changing |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        lo, hi = r["price_ci95"]
        dlo, dhi = r["delta_ci95"]
        lines.append(
            f"| {r['protocol']} | {r['sessions']} | {r['price_mean']:.3f} [{lo:.3f}, {hi:.3f}] "
            f"| {r['price_median']:.3f} | {r['delta_mean']:.3f} [{dlo:.3f}, {dhi:.3f}] "
            f"| {r['near_competitive_share']:.0%} | {r['near_monopoly_share']:.0%} "
            f"| {r['still_changing_share']:.0%} |"
        )
    s = doc["settings"]
    r0 = doc["rows"][0]
    lines += [
        "",
        f"Homogeneous Bertrand duopoly, unit demand, cost {s['cost']:g}, {s['n_prices']} prices "
        f"on [{s['price_min']:g}, {s['price_max']:g}] (competitive profit 0, monopoly "
        f"{(s['price_max'] - s['cost']) / 2:g} per firm); myopic greedy learners, α = "
        f"{s['alpha']:g}, initial values U[{s['init_low']:g}, {s['init_high']:g}]; averages over "
        f"the last {r0['tail']:,} of {r0['periods']:,} periods; 'near' = within "
        f"{NEAR:.0%} of [cost, max price]. Settings from a third-party replication, not verified "
        f"against the paper (source: {doc['published']['source']}). Vectorised learner = plain "
        f"loop on {doc['reference_check']['sessions']} sessions: "
        f"{doc['reference_check']['identical']}. Wall {doc['wall_s']:.0f} s; written by "
        "`benchmarks/bench_afp.py`.",
        "",
        comparison(doc),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--periods", type=int, default=20_000)
    parser.add_argument("--tail", type=int, default=1000, help="periods averaged at the end")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    check_n, check_t = 3, 3000
    identical = all(
        np.array_equal(
            simulate(p, check_n, check_t, args.seed)[s],
            simulate_reference(p, s, check_n, check_t, args.seed),
        )
        for p in PROTOCOLS
        for s in range(check_n)
    )
    print(f"vectorised learner plays the plain loop's sessions exactly: {identical}")
    if not identical:
        raise SystemExit(
            "the vectorised learner disagrees with the plain loop; not writing results"
        )
    rows = []
    for protocol in PROTOCOLS:
        t1 = time.perf_counter()
        played = simulate(protocol, args.sessions, args.periods, args.seed)
        row = summarise(protocol, played, args.tail, args.seed)
        row["wall_s"] = time.perf_counter() - t1
        rows.append(row)
        print(
            f"{protocol:>12}: price {row['price_mean']:.3f} {row['price_ci95']}, Δ "
            f"{row['delta_mean']:.3f}, near comp {row['near_competitive_share']:.0%}, near mono "
            f"{row['near_monopoly_share']:.0%} ({row['wall_s']:.0f} s)",
            flush=True,
        )
    doc: dict[str, Any] = {
        "benchmark": "afp",
        "published": PUBLISHED,
        "settings": SETTINGS,
        "near": NEAR,
        "seed": args.seed,
        "reference_check": {
            "sessions": check_n * len(PROTOCOLS),
            "periods": check_t,
            "identical": identical,
        },
        "rows": rows,
        "wall_s": time.perf_counter() - t0,
        "machine": machine(),
        "command": command("bench_afp.py"),
    }
    _plot(doc, args.out.with_suffix(".png"))
    write_json(args.out, doc)
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
