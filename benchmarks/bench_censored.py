"""Stock-out censoring against known truth: bias and CI coverage of naive vs censored fits.

The question: when 20-40% of the periods sold out, how far off is a demand fit that
takes the capped sales as demand, and do the censored likelihoods
(:mod:`pricegym.demand.censored`) recover the true elasticity with honest intervals?

Histories (:func:`pricegym.demand.censored_synthetic.stockout_history`): 200 periods,
log-uniform prices on [1, 3], demand ``60 · p^-2`` (elasticity -2) drawn Poisson,
negative binomial (alpha 0.1) or log-normal (sigma 0.3), capped by a stock that
ignores the price (``Poisson(30)``; log-normal around 30 for continuous sales).
Per data-generating process, ``REPLICATIONS`` histories (seeds 0, 1, ...), each fitted
with the naive family (sales as demand), the naive family on the periods that did not
sell out (sold-out periods dropped: selection on the outcome, also biased), and the
censored families. Coverage: share of replications whose 95% interval holds -2.

Run: ``python benchmarks/bench_censored.py`` → ``benchmarks/results/censored.json``
(about two minutes on 2 cores); ``--quick`` runs 20 replications (3 off-policy) and
writes nothing. The off-policy part: ``OPE_REPLICATIONS`` histories of ``OPE_PERIODS``
periods, the value of a fixed price by DM/IPW/SNIPW/DR
(:func:`pricegym.experiments.offpolicy.evaluate_logged`, known propensities) with the
naive and the censored Poisson reward model, against the truth under the logged stocks.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand import make_model
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.io import atomic_write_bytes

REPLICATIONS = 200
QUICK_REPLICATIONS = 20
#: Off-policy part: histories of OPE_PERIODS periods, a fixed price, known propensities.
OPE_REPLICATIONS = 30
OPE_PERIODS = 500
OPE_PRICE = 1.8
#: The history of tests/test_censored.py, reported one by one.
EXAMPLE_SEED = 1
TRUE_ELASTICITY = -2.0
OUT = Path(__file__).parent / "results" / "censored.json"

#: data-generating process → (naive family, censored families)
CONFIGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "poisson": ("poisson", ("censored_poisson", "censored_negbin")),
    "negbin": ("poisson", ("censored_poisson", "censored_negbin")),
    "lognormal": ("loglinear", ("tobit",)),
}


def _fit(family: str, history):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the naive fits' CensoringWarning, by design
        model = make_model(family).fit(history)
    return model, time.perf_counter() - start


def offpolicy(reps: int) -> dict[str, Any]:
    """DM/IPW/SNIPW/DR of a fixed price on logged sales capped by stock, vs the truth
    under the logged stocks ``mean_i p · E[min(Y(p), s_i)]``, naive vs censored model."""
    from pricegym.demand._stockout import expected_sales
    from pricegym.demand.noise import NoiseModel
    from pricegym.experiments.offpolicy import evaluate_logged

    errors: dict[tuple[str, str], list[float]] = {}
    covered: dict[tuple[str, str], list[bool]] = {}
    truths = []
    for seed in range(reps):
        history, _ = stockout_history(seed, n_periods=OPE_PERIODS)
        mu = np.full(history.n_rows, 60.0 * OPE_PRICE**-2.0)
        stock = history.column("stock")
        truth = float(np.mean(OPE_PRICE * expected_sales(NoiseModel("poisson"), mu, stock)))
        truths.append(truth)
        density = 1.0 / (history.price * np.log(3.0))  # log-uniform on [1, 3]
        for family in ("poisson", "censored_poisson"):
            model, _ = _fit(family, history)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = evaluate_logged(
                    OPE_PRICE,
                    history,
                    reward_model=model,
                    propensities=density,
                    n_resamples=200,
                    seed=seed,
                )
            for _, r in result.table.iterrows():
                key = (family, str(r["estimator"]))
                errors.setdefault(key, []).append(float(r["value"]) - truth)
                covered.setdefault(key, []).append(bool(r["ci_low"] <= truth <= r["ci_high"]))
    rows = []
    for (family, estimator), errs in errors.items():
        e = np.asarray(errs)
        rows.append(
            {
                "reward_model": family,
                "estimator": estimator,
                "bias": float(e.mean()),
                "bias_se": float(e.std(ddof=1) / math.sqrt(e.size)),
                "rmse": float(np.sqrt(np.mean(e**2))),
                "coverage_95": float(np.mean(covered[(family, estimator)])),
            }
        )
    return {
        "replications": reps,
        "periods": OPE_PERIODS,
        "price": OPE_PRICE,
        "truth_mean": float(np.mean(truths)),
        "rows": rows,
    }


def readme_table(doc: dict[str, Any]) -> str:
    """The README's table (``benchmarks/report.py``): bias and coverage per DGP and model."""
    lines = [
        "| demand drawn | model | sold out | mean elasticity | bias (s.e.) | RMSE | "
        "95% CI covers -2 | mean CI width |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        share = doc["censored_share"][r["dgp"]]["mean"]
        lines.append(
            f"| {r['dgp']} | {r['model']} | {share:.0%} | {r['mean_estimate']:.3f} | "
            f"{r['bias']:+.3f} ({r['bias_se']:.3f}) | {r['rmse']:.3f} | "
            f"{r['coverage_95']:.1%} | {r['mean_ci_width']:.3f} |"
        )
    by_dgp: dict[str, list[str]] = {}
    shares = {}
    for e in doc["examples"]:
        shares[e["dgp"]] = e["censored_share"]
        by_dgp.setdefault(e["dgp"], []).append(
            f"{e['model']} {e['estimate']:.2f} [{e['ci_low']:.2f}, {e['ci_high']:.2f}]"
        )
    ex = "; ".join(
        f"{dgp} demand ({shares[dgp]:.0%} sold out): {', '.join(fits)}"
        for dgp, fits in by_dgp.items()
    )
    ope = doc["offpolicy"]
    ope_lines = [
        "| reward model | estimator | bias (s.e.) | RMSE | 95% CI covers |",
        "|---|---|---|---|---|",
    ]
    for r in ope["rows"]:
        ope_lines.append(
            f"| {r['reward_model']} | {r['estimator']} | {r['bias']:+.2f} ({r['bias_se']:.2f}) "
            f"| {r['rmse']:.2f} | {r['coverage_95']:.0%} |"
        )
    ope_text = (
        f"\n\nOff-policy evaluation on the same kind of logged sales ({ope['replications']} "
        f"histories of {ope['periods']} periods, Poisson demand, known log-uniform logging "
        f"density): a fixed price {ope['price']:g}, whose true revenue per period under the "
        f"logged stocks is {ope['truth_mean']:.2f} on average:\n\n" + "\n".join(ope_lines)
    )
    return (
        "\n".join(lines)
        + f"\n\n{doc['replications']} histories per row; truth: {doc['truth']}; stock "
        f"{doc['stock']}. One history (seed {doc['example_seed']}, the one "
        f"`tests/test_censored.py` asserts on), elasticity [95% CI]: {ex}."
        + ope_text
        + "\n\nDM's interval holds only the spread over periods, not the model's parameter "
        "error, hence its low coverage. Written by `benchmarks/bench_censored.py`."
    )


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    reps = QUICK_REPLICATIONS if quick else REPLICATIONS
    rows = []
    examples = []
    shares: dict[str, list[float]] = {}
    start = time.perf_counter()
    for noise, (naive, censored) in CONFIGS.items():
        records: dict[str, list[dict[str, float]]] = {}
        for seed in range(reps):
            history, _ = stockout_history(seed, noise=noise)
            shares.setdefault(noise, []).append(float(history.censored.mean()))
            kept = history.take(np.flatnonzero(~history.censored))
            fits = [(f"{naive} (sales as demand)", naive, history)]
            fits.append((f"{naive} (sold-out periods dropped)", naive, kept))
            fits += [(family, family, history) for family in censored]
            for label, family, data in fits:
                model, seconds = _fit(family, data)
                el = model.elasticity_
                if seed == EXAMPLE_SEED:
                    examples.append(
                        {
                            "dgp": noise,
                            "model": label,
                            "censored_share": float(history.censored.mean()),
                            "estimate": el.estimate,
                            "ci_low": el.ci_low,
                            "ci_high": el.ci_high,
                        }
                    )
                records.setdefault(label, []).append(
                    {
                        "estimate": el.estimate,
                        "covered": float(el.ci_low <= TRUE_ELASTICITY <= el.ci_high),
                        "width": el.ci_high - el.ci_low,
                        "seconds": seconds,
                        "converged": float(getattr(model, "converged_", True)),
                        "at_bound": float(getattr(model, "at_bound_", False)),
                    }
                )
        for label, recs in records.items():
            frame = pd.DataFrame(recs)
            err = frame["estimate"].to_numpy() - TRUE_ELASTICITY
            rows.append(
                {
                    "dgp": noise,
                    "model": label,
                    "mean_estimate": float(frame["estimate"].mean()),
                    "bias": float(err.mean()),
                    "bias_se": float(err.std(ddof=1) / math.sqrt(err.size)),
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "coverage_95": float(frame["covered"].mean()),
                    "mean_ci_width": float(frame["width"].mean()),
                    "fit_ms": float(1000 * frame["seconds"].median()),
                    "not_converged": int((frame["converged"] == 0).sum()),
                    "alpha_at_bound": int(frame["at_bound"].sum()),
                }
            )
        print(f"{noise}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    doc = {
        "question": "elasticity bias and 95% CI coverage of naive vs censored demand fits",
        "truth": "mu = 60 p^-2 (elasticity -2), p log-uniform on [1, 3], 200 periods",
        "stock": "Poisson(30) per period (log-normal, sd 0.2, around 30 for lognormal demand)",
        "noise": {"negbin_alpha": 0.1, "lognormal_sigma": 0.3},
        "replications": reps,
        "censored_share": {
            k: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v))}
            for k, v in shares.items()
        },
        "rows": rows,
        "offpolicy": offpolicy(3 if quick else OPE_REPLICATIONS),
        "example_seed": EXAMPLE_SEED,
        "examples": examples,
        "wall_s": time.perf_counter() - start,
    }
    table = pd.DataFrame(rows).drop(columns=["mean_estimate"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(json.dumps(doc["censored_share"]))
    ope = pd.DataFrame(doc["offpolicy"]["rows"])
    print(ope.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if quick:
        print("--quick: nothing written")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(OUT, (json.dumps(doc, indent=2) + "\n").encode())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
