"""Cross-model matrix: how much does a pricing policy's profit depend on its demand model?

The question: a pricing policy is trained (or, for a model-based rule, computed)
in a market simulated from one fitted demand model. If the true market behaves
like another equally plausible fit of the same sales history, how much of the
profit does the policy keep? Asked on the two bundled real data sets:

* ``avocado`` — weekly price and volume of conventional Hass avocados in
  California, 2015-2018 (169 weeks); the market of the bundled experiment
  ``experiments/configs/avocado.yaml`` (12 prices on the data's range, 52-week
  seasons, unit cost $0.60, profit in million $).
* ``cigar`` — the Baltagi & Levin panel of 46 US states, 1963-1992, reduced to
  **one state**, ``--cigar-state`` (default ``"5"``, California in the data's
  alphabetical state code). Why one state: ``arimax`` models a single time series
  and refuses a panel, and a market built from a pooled panel model simulates
  only its first product (state ``"1"``) anyway, so every family is fitted to the
  same 30 years of one state. Why California: of the 46 states it has the widest
  real-price variation (coefficient of variation 0.18, max/min 1.97, driven by
  the tax rises from 1989 on, Proposition 99 among them), which is what
  identifies a price response from 30 rows. Market: 12 prices on the state's
  real-price range (1983 cents per pack), 10-year seasons (the data are yearly),
  unit cost 50 cents (about 54% of the state's mean real price 92.7, the same
  cost-to-mean-price ratio as the avocado market's $0.60 to $1.11); the
  competitor column ``pimin`` is held at its mean; profit is in cents × packs per
  capita.

Method. Nothing is rebuilt: each data set is one experiment of the runner
(:func:`pricegym.experiments.runner.run_experiment`) in tournament modes ``solo``
and ``cross_model``. The config is built from the bundled ``avocado`` experiment
(its agents and market options), with the model list replaced by ``--families``
(default linear, loglinear, poisson, arimax, neural — all five fit both data sets
in seconds). The agents are those of ``avocado.yaml``: a fixed price ($1.20; 93
cents for cigar, about the state's mean real price), ``myopic`` (the one-period
profit maximiser of the model of the market it was bound to — with unlimited
stock and static demand that is the optimal policy of its own model, so its row
is the model-based plug-in policy), UCB1 (``--ucb-episodes`` training seasons)
and PPO (``kind: sb3, algo: ppo``, ``--ppo-timesteps`` frames). Budgets and
evaluation seasons default to the YAML's (50 UCB1 seasons, 50,000 PPO frames, 10
seasons per seed), replicate seeds to 5 (the YAML has 3). For every replicate
seed each learner is trained in the market of every family; ``solo`` evaluates
it in its own market (the diagonal) and ``cross_model`` in the markets of all
the other families, with the same demand draws for every policy evaluated in a
market. This script then reads the runner's ``episodes.csv`` and, per agent,
builds the matrix rows = trained-in model × columns = evaluated-in model of

* mean profit per season,
* % of the diagonal: profit of the policy trained in model i and evaluated in j
  over the profit of the same agent trained in j, evaluated in j,
* % of the best policy in that evaluation market: over the profit of the policy
  (any agent, any training model) with the highest mean profit in market j,

each a mean over replicate seeds of per-seed values with a bootstrap interval
over the seeds (:func:`pricegym.experiments.stats.bootstrap_ci`; the seeds are
the independent units — each trains its own policies — and ratios are paired by
seed, which shares the demand draws). Its profit means are checked against the
runner's own ``cross_model.csv``. The DP optimum is not a benchmark here: the
fitted noise is log-normal, for which the DP is not defined.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_cross_model.py --jobs 2
    python benchmarks/bench_cross_model.py --datasets avocado --families linear poisson \\
        --ppo-timesteps 2000 --ucb-episodes 2 --episodes 2 --seeds 2 \\
        --out /tmp/cm.json --run-dir /tmp/cm_run                      # a quick look

Writes ``benchmarks/results/cross_model.json`` and ``cross_model.png``. The run
directories (fitted models, trained policies, episode tables) go to a temporary
folder that is deleted afterwards, or to ``--run-dir`` where they are kept, and a
rerun with the same settings resumes there.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand.io import atomic_write_bytes
from pricegym.experiments.runner import run_experiment
from pricegym.experiments.schema import load_experiment
from pricegym.experiments.stats import Estimate, bootstrap_ci

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ("avocado", "cigar")
FAMILIES = ("linear", "loglinear", "poisson", "arimax", "neural")
#: The bundled experiment whose agents and avocado market this benchmark uses.
BASE_EXPERIMENT = "avocado"
#: Cigar: the state (``product`` key) whose 30 years are fitted; 5 = California.
CIGAR_STATE = "5"
#: Cigar market: 12 prices on the state's real-price range, 10-year seasons, unit
#: cost 50 cents (1983), about 54% of California's mean real price (see above).
CIGAR_OPTIONS: dict[str, Any] = {"n_prices": 12, "horizon": 10, "cost": 50.0}
#: Cigar's fixed-price agent: about California's mean real price (92.7 cents).
CIGAR_FIXED_PRICE = 93.0
#: Replicate seeds: more than avocado.yaml's 3, because every interval is over seeds.
#: Evaluation seasons, training budgets and the experiment seed default to the YAML's.
SEEDS = 5


# ==================================================================== configs
def experiment_config(
    dataset: str,
    families: Sequence[str],
    *,
    seeds: int = SEEDS,
    episodes: int | None = None,
    ppo_timesteps: int | None = None,
    ucb_episodes: int | None = None,
    seed: int | None = None,
    cigar_state: str = CIGAR_STATE,
) -> dict[str, Any]:
    """The runner's experiment dict for ``dataset``: avocado.yaml's agents, our models.

    Budgets replace those of ``avocado.yaml`` by kind of budget: an agent trained for
    ``timesteps`` (PPO) gets ``ppo_timesteps``, one trained for ``episodes`` (UCB1)
    gets ``ucb_episodes``. ``None`` keeps the YAML's value (also for ``episodes``,
    the evaluation seasons per seed, and ``seed``, the experiment seed).
    """
    base = load_experiment(BASE_EXPERIMENT).resolved()
    cfg = copy.deepcopy(base)
    cfg["name"] = f"cross_model_{dataset}"
    if seed is not None:
        cfg["seed"] = int(seed)
    models = [{"name": f, "family": f} for f in families]
    if dataset == "avocado":
        cfg["market"] = {
            "name": "avocado",
            "data": {"dataset": "avocado"},
            "model": models,
            "options": base["market"]["options"],
        }
    elif dataset == "cigar":
        cfg["market"] = {
            "name": "cigar",
            "data": {"dataset": "cigar", "select_product": str(cigar_state)},
            "model": models,
            "options": dict(CIGAR_OPTIONS),
        }
    else:
        raise SystemExit(f"unknown data set {dataset!r}; this benchmark runs {list(DATASETS)}")
    agents = []
    for agent in base["agents"]:
        agent = copy.deepcopy(agent)
        if agent["kind"] == "fixed_price" and dataset == "cigar":
            agent["params"]["price"] = CIGAR_FIXED_PRICE
            agent["name"] = f"fixed_{CIGAR_FIXED_PRICE:g}"
        if "timesteps" in agent["train"] and ppo_timesteps is not None:
            agent["train"] = {"timesteps": int(ppo_timesteps)}
        elif "episodes" in agent["train"] and ucb_episodes is not None:
            agent["train"] = {"episodes": int(ucb_episodes)}
        agents.append(agent)
    cfg["agents"] = agents
    cfg["evaluation"] = {**base["evaluation"], "seeds": list(range(int(seeds)))}
    if episodes is not None:
        cfg["evaluation"]["episodes"] = int(episodes)
    cfg["tournament"] = {**base["tournament"], "modes": ["solo", "cross_model"]}
    cfg["output"] = {"dir": None, "parquet": False}
    return cfg


# ==================================================================== analysis
def _estimate(e: Estimate) -> dict[str, float | None]:
    def num(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {"mean": num(e.value), "low": num(e.low), "high": num(e.high)}


def per_seed_profit(episodes: pd.DataFrame, market: str) -> pd.DataFrame:
    """Mean profit per season by (policy, trained, evaluated) × seed (one column per seed).

    ``policy`` is the agent's name (the runner labels cross-model rows ``agent@market``),
    ``trained`` and ``evaluated`` the model names (market labels without ``market/``).
    """
    rows = episodes[episodes["mode"].isin(["solo", "cross_model"])]
    prefix = f"{market}/"
    table = pd.DataFrame(
        {
            "policy": rows["agent"].str.split("@").str[0],
            "trained": rows["trained_in"].str.removeprefix(prefix),
            "evaluated": rows["market"].str.removeprefix(prefix),
            "seed": rows["seed"].astype(int),
            "profit": rows["profit"].astype(float),
        }
    )
    means = table.groupby(["policy", "trained", "evaluated", "seed"], sort=True)["profit"].mean()
    return means.unstack("seed")


def cross_matrices(
    wide: pd.DataFrame,
    agents: Sequence[str],
    models: Sequence[str],
    *,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Per agent, the models × models matrix of profit, % of diagonal and % of best.

    Cell [i][j]: trained in ``models[i]``, evaluated in ``models[j]``. Every interval
    is a bootstrap interval over seeds of per-seed values (ratios paired by seed).
    """

    def ci(values: np.ndarray) -> dict[str, float | None]:
        return _estimate(bootstrap_ci(values, confidence=confidence, seed=seed))

    best: dict[str, dict[str, Any]] = {}
    for j in models:
        block = wide.xs(j, level="evaluated")
        means = block.mean(axis=1)
        top = float(means.max())
        # Policies that act alike tie exactly (e.g. every model's myopic rule charging
        # the top price); among ties prefer one trained in market j itself.
        tied = [k for k, v in means.items() if v >= top - 1e-12 * abs(top)]
        policy, trained = next((k for k in tied if k[1] == j), tied[0])
        best[j] = {
            "policy": policy,
            "trained_in": trained,
            "tied_with": [f"{p}@{t}" for p, t in tied if (p, t) != (policy, trained)],
            "per_seed": block.loc[(policy, trained)].to_numpy(dtype=float),
        }
    matrices: dict[str, Any] = {}
    transfer: dict[str, Any] = {}
    for agent in agents:
        cells: list[list[dict[str, Any]]] = []
        off_diag: list[np.ndarray] = []
        row_best: list[dict[str, Any]] = []
        for i in models:
            row, pct_best_row = [], []
            for j in models:
                x = wide.loc[(agent, i, j)].to_numpy(dtype=float)
                diag = wide.loc[(agent, j, j)].to_numpy(dtype=float)
                top = best[j]["per_seed"]
                cell: dict[str, Any] = {"profit": ci(x)}
                cell["pct_of_diagonal"] = ci(100.0 * x / diag) if np.all(diag > 0) else None
                cell["pct_of_best"] = ci(100.0 * x / top) if np.all(top > 0) else None
                row.append(cell)
                if np.all(top > 0):
                    pct_best_row.append(100.0 * x / top)
                if i != j and np.all(diag > 0):
                    off_diag.append(100.0 * x / diag)
            cells.append(row)
            row_best.append(
                {"trained_in": i, "mean_pct_of_best": ci(np.mean(pct_best_row, axis=0))}
                if len(pct_best_row) == len(models)
                else {"trained_in": i, "mean_pct_of_best": None}
            )
        matrices[agent] = cells
        entry: dict[str, Any] = {"rows_mean_pct_of_best": row_best}
        if off_diag:
            entry["off_diagonal_pct_of_diagonal"] = ci(np.mean(off_diag, axis=0))
            worst = min(
                (
                    (cells[a][b]["pct_of_diagonal"]["mean"], models[a], models[b])
                    for a in range(len(models))
                    for b in range(len(models))
                    if a != b and cells[a][b]["pct_of_diagonal"] is not None
                ),
                key=lambda t: t[0],
            )
            entry["worst_cell"] = {
                "pct_of_diagonal": worst[0],
                "trained_in": worst[1],
                "evaluated_in": worst[2],
            }
        transfer[agent] = entry
    best_out = {
        j: {
            "policy": b["policy"],
            "trained_in": b["trained_in"],
            "tied_with": b["tied_with"],
            "profit": float(np.mean(b["per_seed"])),
        }
        for j, b in best.items()
    }
    return {"matrices": matrices, "transfer": transfer, "best_in_market": best_out}


def check_against_runner(wide: pd.DataFrame, run_dir: Path, market: str) -> dict[str, float | int]:
    """Our per-cell mean profit against the runner's ``cross_model.csv`` (must agree)."""
    table = pd.read_csv(run_dir / "cross_model.csv")
    prefix = f"{market}/"
    worst, n = 0.0, 0
    for r in table.itertuples(index=False):
        key = (r.agent, r.trained_in.removeprefix(prefix), r.market.removeprefix(prefix))
        ours = float(wide.loc[key].mean())
        worst = max(worst, abs(ours - float(r.mean)) / max(abs(float(r.mean)), 1e-12))
        n += 1
    if n != len(wide) or worst > 1e-9:
        raise SystemExit(
            f"{run_dir}: the matrix disagrees with the runner's cross_model.csv "
            f"({n} rows there, {len(wide)} here; worst relative gap {worst:.3g}); not writing"
        )
    return {"rows": n, "max_relative_gap": worst}


def model_facts(run_dir: Path, models: Sequence[str]) -> dict[str, Any]:
    """Each fitted model's elasticity at the mean price and in-sample fit (from models/)."""
    out = {}
    for name in models:
        saved = json.loads((run_dir / "models" / f"{name}.json").read_text(encoding="utf-8"))
        fitted = saved.get("fitted", {})
        el = fitted.get("elasticity") or {}
        out[name] = {
            "elasticity": {k: el.get(k) for k in ("estimate", "ci_low", "ci_high", "price")},
            "in_sample": fitted.get("in_sample"),
        }
    return out


def cell_seconds(run_dir: Path) -> dict[str, Any]:
    """Cells and their summed compute seconds per stage (train: also per agent)."""
    out: dict[str, Any] = {}
    for stage_dir in sorted((run_dir / "cells").iterdir()):
        docs = [json.loads(p.read_text(encoding="utf-8")) for p in stage_dir.glob("*.json")]
        entry: dict[str, Any] = {
            "cells": len(docs),
            "seconds": sum(float(d.get("seconds", 0.0)) for d in docs),
        }
        if stage_dir.name == "train":
            per: dict[str, float] = {}
            for d in docs:
                name = d["key"]["agents"][0]
                per[name] = per.get(name, 0.0) + float(d.get("seconds", 0.0))
            entry["seconds_by_agent"] = per
        out[stage_dir.name] = entry
    return out


def run_dataset(
    dataset: str, args: argparse.Namespace, root: Path, command: list[str]
) -> dict[str, Any]:
    """Run one data set's experiment and turn its episode table into the matrices."""
    cfg = experiment_config(
        dataset,
        args.families,
        seeds=args.seeds,
        episodes=args.episodes,
        ppo_timesteps=args.ppo_timesteps,
        ucb_episodes=args.ucb_episodes,
        seed=args.seed,
        cigar_state=args.cigar_state,
    )
    config = load_experiment(cfg)
    run_dir = root / dataset
    t0 = time.perf_counter()
    run_experiment(config, run_dir=run_dir, jobs=args.jobs, command=command, report=False)
    wall = time.perf_counter() - t0
    market = config.market.name
    models = [m.name for m in config.market.models]
    agents = [a.name for a in config.agents]
    wide = per_seed_profit(pd.read_csv(run_dir / "episodes.csv"), market)
    level = config.evaluation.confidence
    result = cross_matrices(wide, agents, models, confidence=level, seed=args.seed)
    benchmarks = json.loads((run_dir / "benchmarks.json").read_text(encoding="utf-8"))
    first = next(iter(benchmarks.values()), {})
    print(f"{dataset}: {wall:.0f} s", flush=True)
    for agent in agents:
        t = result["transfer"][agent].get("off_diagonal_pct_of_diagonal")
        if t is not None:
            print(f"  {agent:<12} off-diagonal {t['mean']:.1f}% of diagonal", flush=True)
    return {
        "market": config.market.to_dict(),
        "models": models,
        "agents": {a.name: a.to_dict() for a in config.agents},
        "evaluation": config.evaluation.to_dict(),
        "experiment_seed": config.seed,
        "fitted_models": model_facts(run_dir, models),
        "dp_benchmark": {"dp": first.get("dp"), "note": first.get("note")},
        **result,
        "runner_check": check_against_runner(wide, run_dir, market),
        "cells": cell_seconds(run_dir),
        "wall_s": wall,
    }


# ==================================================================== output
def plot(doc: dict[str, Any], path: Path) -> None:
    """One annotated heat map per data set and agent: % of the best policy (% of diagonal)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(doc["datasets"])
    n_agents = max(len(doc["datasets"][d]["agents"]) for d in names)
    fig, axes = plt.subplots(
        len(names), n_agents, figsize=(3.6 * n_agents, 3.5 * len(names)), squeeze=False
    )
    values = [
        c["pct_of_best"]["mean"]
        for d in names
        for m in doc["datasets"][d]["matrices"].values()
        for row in m
        for c in row
        if c["pct_of_best"] is not None
    ]
    vmin = min(values) if values else 0.0
    image = None
    for r, name in enumerate(names):
        ds = doc["datasets"][name]
        models = ds["models"]
        for c in range(n_agents):
            ax = axes[r][c]
            agents = list(ds["matrices"])
            if c >= len(agents):
                ax.axis("off")
                continue
            agent = agents[c]
            cells = ds["matrices"][agent]
            grid = np.array(
                [
                    [np.nan if x["pct_of_best"] is None else x["pct_of_best"]["mean"] for x in row]
                    for row in cells
                ]
            )
            image = ax.imshow(grid, cmap="RdYlGn", vmin=vmin, vmax=100.0)
            for i, row in enumerate(cells):
                for j, x in enumerate(row):
                    best = "–" if x["pct_of_best"] is None else f"{x['pct_of_best']['mean']:.0f}"
                    diag = x["pct_of_diagonal"]
                    text = best if i == j or diag is None else f"{best}\n({diag['mean']:.0f})"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7)
            ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(range(len(models)), models if c == 0 else [], fontsize=7)
            ax.set_title(f"{name}: {agent}", fontsize=9)
            if c == 0:
                ax.set_ylabel("trained in", fontsize=8)
            ax.set_xlabel("evaluated in", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="% of best policy")
    fig.suptitle(
        "Profit as % of the best policy in the evaluation market "
        "(in brackets: % of the same agent trained there)",
        fontsize=10,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _fmt_ci(e: dict[str, Any] | None, digits: int = 1, unit: str = "%") -> str:
    if e is None or e["mean"] is None:
        return "–"
    if e["low"] is None:
        return f"{e['mean']:.{digits}f}{unit}"
    return f"{e['mean']:.{digits}f}{unit} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]"


def _fmt_profit(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:#.4g}"


def readme_table(doc: dict[str, Any]) -> str:
    """README tables: transfer per agent and data set; PPO's matrix per data set."""
    names = list(doc["datasets"])
    # Agents by position: the same roles in every data set (the fixed price differs).
    n_agents = max(len(doc["datasets"][d]["matrices"]) for d in names)
    header = ["agent", *[f"{d}: off-diagonal % of diagonal [95% CI]; worst cell" for d in names]]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for k in range(n_agents):
        labels, cells = [], []
        for d in names:
            agents = list(doc["datasets"][d]["matrices"])
            if k >= len(agents):
                cells.append("–")
                continue
            labels.append(agents[k])
            t = doc["datasets"][d]["transfer"][agents[k]]
            if "off_diagonal_pct_of_diagonal" not in t:
                cells.append("–")
                continue
            w = t["worst_cell"]
            cells.append(
                f"{_fmt_ci(t['off_diagonal_pct_of_diagonal'])}; {w['pct_of_diagonal']:.1f}% "
                f"({w['trained_in']} → {w['evaluated_in']})"
            )
        lines.append(f"| {' / '.join(dict.fromkeys(labels))} | " + " | ".join(cells) + " |")
    parts = ["\n".join(lines)]
    focus = doc["focus_agent"]
    for d in names:
        ds = doc["datasets"][d]
        if focus not in ds["matrices"]:
            continue
        models = ds["models"]
        head = [f"{d}, {focus}: trained in ↓ / evaluated in →", *models]
        rows = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for i, row in enumerate(ds["matrices"][focus]):
            out = []
            for j, c in enumerate(row):
                pd_ = c["pct_of_diagonal"]
                pb = c["pct_of_best"]
                diag = "" if i == j or pd_ is None else f"{pd_['mean']:.1f}% of diag, "
                best = "–" if pb is None else f"{pb['mean']:.1f}% of best"
                out.append(f"{_fmt_profit(c['profit']['mean'])} ({diag}{best})")
            rows.append(f"| {models[i]} | " + " | ".join(out) + " |")
        best_line = "; ".join(
            f"{m}: {b['policy']}@{b['trained_in']} {_fmt_profit(b['profit'])}"
            + (f" (tied with {len(b['tied_with'])} more)" if b["tied_with"] else "")
            for m, b in ds["best_in_market"].items()
        )
        elast = ", ".join(
            f"{m} {f['elasticity']['estimate']:.2f}"
            for m, f in ds["fitted_models"].items()
            if f["elasticity"].get("estimate") is not None
        )
        data = ds["market"]["data"]
        which = f" (state {data['select_product']})" if "select_product" in data else ""
        opts = ds["market"]["options"]
        parts.append(
            "\n".join(rows)
            + f"\n\n`{d}`{which}: {opts.get('n_prices')} prices, {opts.get('horizon')}-period "
            f"seasons, unit cost {opts.get('cost'):g}; mean profit per season over "
            f"{len(ds['evaluation']['seeds'])} seed(s) × {ds['evaluation']['episodes']} seasons. "
            f"Best policy per evaluation market: {best_line}. Own-price elasticity at the mean "
            f"price by model: {elast}."
        )
    ppo = next(
        (
            a
            for d in names
            for a in doc["datasets"][d]["agents"].values()
            if a["name"] == focus and "timesteps" in a["train"]
        ),
        None,
    )
    budget = f" ({focus}: {ppo['train']['timesteps']:,} frames per market and seed)" if ppo else ""
    parts.append(
        "Rows: the model a policy was trained in (the myopic rule: the model it optimises); "
        "columns: the model of the market it is evaluated in. “% of diag” is its profit over "
        "that of the same agent trained in the evaluation market, “% of best” over the best "
        "policy there; means over seeds of per-seed ratios, CIs bootstrap over seeds"
        f"{budget}. Wall time {doc['wall_s']:.0f} s on {doc['machine']['cpus']} cores "
        f"({doc['jobs']} jobs); written by `benchmarks/bench_cross_model.py`."
    )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument(
        "--families", nargs="+", default=list(FAMILIES), help="demand-model families (≥ 2)"
    )
    parser.add_argument("--cigar-state", default=CIGAR_STATE, help="cigar state code (product)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"replicate seeds ({SEEDS})")
    yaml_default = f"default: {BASE_EXPERIMENT}.yaml's"
    parser.add_argument(
        "--episodes", type=int, help=f"evaluation seasons per seed ({yaml_default}, 10)"
    )
    parser.add_argument(
        "--ppo-timesteps", type=int, help=f"PPO frames per market and seed ({yaml_default}, 50k)"
    )
    parser.add_argument(
        "--ucb-episodes", type=int, help=f"UCB1 training seasons ({yaml_default}, 50)"
    )
    parser.add_argument("--seed", type=int, help=f"experiment seed ({yaml_default}, 4)")
    parser.add_argument("--jobs", type=int, default=2, help="cells run in parallel")
    parser.add_argument("--focus-agent", default="ppo", help="agent whose matrix the README shows")
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="keep the run directories here (resumable)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "cross_model.json")
    args = parser.parse_args(argv)
    if len(set(args.families)) < 2:
        parser.error("--families: the cross-model matrix needs at least two model families")
    import torch

    # The runner fits the models in this process without limiting torch's threads;
    # one thread keeps the neural fit fast on a busy machine and its bits reproducible.
    torch.set_num_threads(1)
    command = [
        "python",
        "benchmarks/bench_cross_model.py",
        *(sys.argv[1:] if argv is None else argv),
    ]
    t0 = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="pricegym_cross_model_") as tmp:
        root = args.run_dir if args.run_dir is not None else Path(tmp)
        datasets = {d: run_dataset(d, args, root, command) for d in args.datasets}
        versions = json.loads((root / args.datasets[0] / "versions.json").read_text())
    doc: dict[str, Any] = {
        "question": "how much does a pricing policy's profit depend on the demand model it "
        "was trained on?",
        "datasets": datasets,
        "focus_agent": args.focus_agent,
        "jobs": args.jobs,
        "wall_s": time.perf_counter() - t0,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "torch_threads_driver": 1,
            "load_average_at_start": load,
        },
        "versions": versions,
        "command": " ".join(command),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(doc, args.out.with_suffix(".png"))
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(args.out, text.encode())
    print(readme_table(doc))
    return doc


if __name__ == "__main__":
    main()
