"""Endogenous competitor prices over many seeds: bias, interval coverage, profit lost (issue 12).

The data are :func:`~pricegym.demand.confounded_rivals.generate_confounded_rival_history`
(own elasticity −2, cross-price elasticity +0.8, both prices answer the same demand
shock; 300 weekly rows per seed). Three fits per seed, all ``loglinear``-family:

- ``ordinary``: least squares (both prices exogenous);
- ``iv_own``: ``loglinear_iv`` with the own price instrumented by its cost and the
  competitor price left exogenous (what pricegym did before ``endogenous=``);
- ``iv_both``: ``loglinear_iv`` with ``endogenous={"comp_price": ["comp_cost"]}``.

Per fit: the own and cross estimates, whether their 95% intervals cover the truth,
and the exact profit lost in the ``iv_both`` market (DP, ``MARKET`` settings) by
pricing with that fit's DP-optimal policy (0 for ``iv_both`` itself).

Usage::

    python benchmarks/bench_causal_rivals.py   # benchmarks/results/causal_rivals.json, .png
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.agents.dp import evaluate_policy, solve_dp
from pricegym.demand.confounded_rivals import (
    RivalConfounding,
    generate_confounded_rival_history,
)
from pricegym.demand.io import atomic_write_bytes
from pricegym.demand.selection import make_model

OUT = Path(__file__).resolve().parent / "results" / "causal_rivals.json"
#: The market of the profit comparison (unlimited stock: the DP policy is one price).
MARKET = {"n_prices": 15, "horizon": 4, "cost": 5.0}
FITS: dict[str, tuple[str, dict[str, Any]]] = {
    "ordinary": ("loglinear", {}),
    "iv_own": ("loglinear_iv", {"instruments": ["cost"]}),
    "iv_both": (
        "loglinear_iv",
        {"instruments": ["cost"], "endogenous": {"comp_price": ["comp_cost"]}},
    ),
}
TERMS = {"own": "log_price", "cross": "log_competitor:comp_price"}


def one_seed(seed: int, n_periods: int) -> dict[str, Any]:
    conf = RivalConfounding()
    truth = {"own": conf.elasticity, "cross": conf.cross_elasticity}
    history = generate_confounded_rival_history(conf, n_periods=n_periods, seed=seed)
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (family, params) in FITS.items():
            models[name] = make_model(family, **params).fit(history)
    row: dict[str, Any] = {"seed": seed}
    market = models["iv_both"]
    best = solve_dp(market, MARKET)
    for name, model in models.items():
        table = model.params_table().set_index("term")
        est = {}
        for key, term in TERMS.items():
            r = table.loc[term]
            est[key] = {
                "estimate": float(r["estimate"]),
                "covers": bool(r["ci_low"] <= truth[key] <= r["ci_high"]),
            }
        policy = solve_dp(model, MARKET)
        value = evaluate_policy(market, MARKET, policy.action).expected_value
        lost = float(best.expected_value - value)
        est["price"] = float(best.prices[int(np.unique(policy.action)[0])])
        est["lost_pct"] = 100.0 * lost / float(best.expected_value)
        row[name] = est
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    conf = RivalConfounding()
    truth = {"own": conf.elasticity, "cross": conf.cross_elasticity}
    out: dict[str, Any] = {}
    for name in FITS:
        s: dict[str, Any] = {}
        for key in TERMS:
            est = np.array([r[name][key]["estimate"] for r in rows])
            s[key] = {
                "mean": float(est.mean()),
                "bias": float(est.mean() - truth[key]),
                "rmse": float(np.sqrt(np.mean((est - truth[key]) ** 2))),
                "coverage": float(np.mean([r[name][key]["covers"] for r in rows])),
            }
        lost = np.array([r[name]["lost_pct"] for r in rows])
        s["lost_pct_mean"] = float(lost.mean())
        s["lost_pct_max"] = float(lost.max())
        out[name] = s
    return out


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = RivalConfounding()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    for name, marker in zip(FITS, "osD", strict=True):
        own = [r[name]["own"]["estimate"] for r in rows]
        cross = [r[name]["cross"]["estimate"] for r in rows]
        ax.scatter(own, cross, marker=marker, label=name, alpha=0.7)
    ax.axvline(conf.elasticity, color="k", lw=0.8)
    ax.axhline(conf.cross_elasticity, color="k", lw=0.8)
    ax.set_xlabel("own-price elasticity (truth −2)")
    ax.set_ylabel("cross-price elasticity (truth 0.8)")
    ax.set_title(f"{len(rows)} seeds × 300 rows, both prices endogenous")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--periods", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = [one_seed(s, args.periods) for s in range(args.seeds)]
    doc = {
        "what": "bias, 95% CI coverage and profit lost with an endogenous competitor price",
        "truth": {
            "own": RivalConfounding().elasticity,
            "cross": RivalConfounding().cross_elasticity,
        },
        "ols_population_bias": dict(
            zip(("own", "cross"), RivalConfounding().ols_bias(), strict=True)
        ),
        "n_periods": args.periods,
        "market": MARKET,
        "summary": summarise(rows),
        "rows": rows,
        "seconds": time.perf_counter() - start,
        "machine": platform.platform(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
    plot(rows, args.out.with_suffix(".png"))
    print(json.dumps(doc["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
