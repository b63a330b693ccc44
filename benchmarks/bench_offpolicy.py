"""Off-policy evaluation against known truth: bias, RMSE and CI coverage over replications.

The question: on logged sales from a known seller, do DM, IPW, SNIPW and DR
(:func:`pricegym.experiments.offpolicy.evaluate_logged`) estimate a new policy's
value, with known and with estimated propensities, and with a right and a wrong
demand model?

Market (as ``tests/test_offpolicy.py``): competitor price c uniform on {3, 4, 5},
Poisson demand 200 · p^-2 · c, unit cost 1, reward = profit per period. Logging
policy: log p ~ N(log 0.9c, 0.15²). Target: π(c) = 0.8c (20% under the rival, 11%
under the seller's usual price). True value V = mean_c q(0.8c, c) exactly; kernel
IPW estimates the smoothed V_h (gaussian kernel, Silverman bandwidth, Gauss-Hermite
quadrature), kernel DR ``V_h + E[q̂(π) − q̂_h(π)]`` (V itself when the model is right);
every bias and coverage here is against V, the value a pricing team cares about, and
V_h − V is given beside it.

Settings: ``REPLICATIONS`` logged histories of ``N`` periods per configuration:
propensities known (the true density) or estimated (log-normal OLS), reward model
poisson (correct) or linear (misspecified). Coverage: share of replications whose
95% bootstrap CI holds V.

Run: ``python benchmarks/bench_offpolicy.py`` → ``benchmarks/results/offpolicy.json``
(a few minutes on 2 cores).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pricegym.demand import make_model
from pricegym.demand.data import load_history
from pricegym.demand.io import atomic_write_bytes
from pricegym.experiments.offpolicy import default_bandwidth, evaluate_logged

REPLICATIONS = 100
N = 500
RESAMPLES = 1000
COMPS = np.array([3.0, 4.0, 5.0])
OUT = Path(__file__).parent / "results" / "offpolicy.json"


def q(p, c):
    return (np.asarray(p, float) - 1.0) * 200.0 * np.asarray(p, float) ** -2.0 * c


def smoothed(h):
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / math.sqrt(2 * math.pi)
    return float(np.mean([np.sum(w * q(0.8 * c + h * x, c)) for c in COMPS]))


def draw(seed):
    rng = np.random.default_rng(seed)
    c = rng.choice(COMPS, size=N)
    z = rng.standard_normal(N)
    p = 0.9 * c * np.exp(0.15 * z)
    ps = np.exp(-(z**2) / 2) / (math.sqrt(2 * math.pi) * 0.15 * p)
    units = rng.poisson(200.0 * p**-2.0 * c).astype(float)
    frame = pd.DataFrame({"period": np.arange(N), "price": p, "units": units, "rival": c})
    return load_history(frame, competitors=["rival"]), ps


def main() -> int:
    truth = float(np.mean([q(0.8 * c, c) for c in COMPS]))
    configs = [
        ("known", "poisson"),
        ("estimated", "poisson"),
        ("known", "linear"),
        ("estimated", "linear"),
    ]
    rows = []
    start = time.perf_counter()
    for propensity, family in configs:
        values: dict[str, list[float]] = {}
        covered: dict[str, list[bool]] = {}
        hs = []
        for seed in range(REPLICATIONS):
            history, ps = draw(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_model(family).fit(history)
                result = evaluate_logged(
                    lambda h: 0.8 * h.frame["rival"].to_numpy(),
                    history,
                    reward_model=model,
                    unit_cost=1.0,
                    propensities=ps if propensity == "known" else None,
                    n_resamples=RESAMPLES,
                    seed=seed,
                )
            hs.append(result.bandwidth)
            for _, r in result.table.iterrows():
                values.setdefault(r["estimator"], []).append(r["value"] - truth)
                covered.setdefault(r["estimator"], []).append(
                    bool(r["ci_low"] <= truth <= r["ci_high"])
                )
        for name, errors in values.items():
            e = np.asarray(errors)
            rows.append(
                {
                    "propensities": propensity,
                    "reward_model": family,
                    "estimator": name,
                    "bias": float(e.mean()),
                    "bias_se": float(e.std(ddof=1) / math.sqrt(e.size)),
                    "rmse": float(np.sqrt(np.mean(e**2))),
                    "coverage_95": float(np.mean(covered[name])),
                }
            )
        print(f"{propensity}/{family}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    h0 = default_bandwidth(draw(0)[0].price)
    doc = {
        "question": "bias / RMSE / 95% CI coverage of off-policy estimates vs known truth",
        "market": "c ~ U{3,4,5}; units ~ Poisson(200 p^-2 c); cost 1; log p ~ N(log 0.9c, 0.15^2)",
        "target": "pi(c) = 0.8 c",
        "true_value": truth,
        "smoothed_value_at_median_h": smoothed(float(np.median(hs))),
        "bandwidth_median": float(np.median(hs)),
        "bandwidth_seed0": h0,
        "replications": REPLICATIONS,
        "periods": N,
        "resamples": RESAMPLES,
        "rows": rows,
        "wall_s": time.perf_counter() - start,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(OUT, (json.dumps(doc, indent=2) + "\n").encode())
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"V = {truth:.3f}, V_h = {doc['smoothed_value_at_median_h']:.3f}; wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
