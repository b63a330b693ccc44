"""Control functions of ARIMAX and the neural family on the confounded truth (issue 12).

The question: over many draws of :func:`~pricegym.demand.synthetic.generate_confounded_history`
(true elasticity −2, a price that answers an unseen demand shock, a cost instrument
of first-stage F ≈ 118 at 500 rows), how far are ``arimax_cf`` and ``neural_cf`` from
the truth, how often do their bootstrap 95% intervals cover it, and how often do the
ordinary fits' intervals cover it?

Seeds 0..reps−1, nothing selected. ARIMAX in logs (``target="log"``,
``price_transform="log"``, AR(1) errors, 199 residual-block replicates); the neural
net small (``hidden=(8,)``, 2 price units, 20 two-stage refits, the family default).

Usage::

    python benchmarks/bench_cf.py --reps 30      # writes benchmarks/results/cf_coverage.json
    python benchmarks/bench_cf.py --reps 20 --families neural_cf   # adds to the same file
                                                 # when reps and rows match
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.demand.io import atomic_write_bytes
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import Confounding, generate_confounded_history

OUT = Path(__file__).resolve().parent / "results" / "cf_coverage.json"
TRUTH = -2.0
FAMILIES: dict[str, dict[str, Any]] = {
    "arimax_cf": {"target": "log", "price_transform": "log", "seasonality": 0},
    "neural_cf": {"hidden": (8,), "price_units": 2, "max_iter": 100, "seasonality": 0},
}


def _summary(rows: list[dict[str, float]], key: str) -> dict[str, float]:
    est = np.array([r[f"{key}_estimate"] for r in rows])
    covered = np.array([r[f"{key}_low"] <= TRUTH <= r[f"{key}_high"] for r in rows])
    width = np.array([r[f"{key}_high"] - r[f"{key}_low"] for r in rows])
    return {
        "mean": float(est.mean()),
        "bias": float(est.mean() - TRUTH),
        "sd": float(est.std(ddof=1)) if est.size > 1 else float("nan"),
        "rmse": float(np.sqrt(np.mean((est - TRUTH) ** 2))),
        "coverage": float(covered.mean()),
        "mean_ci_width": float(width.mean()),
    }


def run(reps: int, n_periods: int, families: list[str]) -> dict[str, Any]:
    conf = Confounding()
    out: dict[str, Any] = {
        "truth": TRUTH,
        "n_periods": n_periods,
        "reps": reps,
        "confounding": repr(conf),
        "expected_first_stage_f": conf.expected_first_stage_f(n_periods),
        "ordinary_plim": TRUTH + conf.ols_bias(),
        "families": {},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for family in families:
        rows, start = [], time.process_time()
        for seed in range(reps):
            history = generate_confounded_history(n_periods=n_periods, seed=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_model(family, instruments=["cost"], **FAMILIES[family]).fit(history)
            e, o = model.elasticity_, model.causal_["ordinary"]
            rows.append(
                {
                    "seed": seed,
                    "cf_estimate": e.estimate,
                    "cf_low": e.ci_low,
                    "cf_high": e.ci_high,
                    "ordinary_estimate": o["estimate"],
                    "ordinary_low": o["ci_low"],
                    "ordinary_high": o["ci_high"],
                    "f": model.first_stage_["f"],
                }
            )
            print(family, seed, f"{e.estimate:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]", flush=True)
        out["families"][family] = {
            "params": {
                k: list(v) if isinstance(v, tuple) else v for k, v in FAMILIES[family].items()
            },
            "cf": _summary(rows, "cf"),
            "ordinary": _summary(rows, "ordinary"),
            "mean_first_stage_f": float(np.mean([r["f"] for r in rows])),
            "cpu_seconds_per_fit": (time.process_time() - start) / max(reps, 1),
            "rows": rows,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--n-periods", type=int, default=500)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    doc = run(args.reps, args.n_periods, args.families.split(","))
    if args.out.exists():  # families run separately share one file (same reps and rows)
        old = json.loads(args.out.read_text())
        if (old.get("reps"), old.get("n_periods")) == (doc["reps"], doc["n_periods"]):
            doc["families"] = {**old["families"], **doc["families"]}
    atomic_write_bytes(args.out, (json.dumps(doc, indent=1) + "\n").encode())
    for family, res in doc["families"].items():
        print(family, json.dumps({k: res[k] for k in ("cf", "ordinary")}))


if __name__ == "__main__":
    main()
