"""The report stage: the episode table, the league tables and :class:`RunResult`.

A private module of :mod:`pricegym.experiments.runner` (which re-exports its public
names). :func:`_report` reads every finished cell file and
writes ``seeds.json``, ``episodes.csv`` (and ``.parquet``), ``summary.csv`` and,
where they apply, ``head_to_head.csv`` (round robin) and ``cross_model.csv``,
with :func:`pricegym.experiments.stats.league_table`. Pandas is imported inside
the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError
from pricegym.experiments.rundir import STAGES, _price_ranges, grid_edge, read_cell
from pricegym.experiments.runner._files import (
    _atomic_csv,
    _atomic_parquet,
    _has,
    _write_json,
)

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.rundir import Cell
    from pricegym.experiments.schema import ExperimentConfig


#: Columns of episodes.csv, in order.
EPISODE_COLUMNS: tuple[str, ...] = (
    "mode",
    "market",
    "agent",
    "kind",
    "opponent",
    "trained_in",
    "seed",
    "episode",
    "profit",
    "revenue",
    "units",
    "avg_price",
    "sell_through",
    "lost_sales",
    "steps",
    "delta",
)


@dataclass
class RunResult:
    """What :func:`run_experiment` produced.

    Attributes:
        run_dir: the run directory.
        summary: the league table (summary.csv).
        episodes: the tidy episode table (episodes.csv).
        benchmarks: per market, the DP optimum / best fixed price or Nash / monopoly.
        computed: cells computed in this call, by stage.
        skipped: cells found finished and skipped, by stage.
    """

    run_dir: Path
    summary: pd.DataFrame
    episodes: pd.DataFrame
    benchmarks: dict[str, Any]
    computed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def _exact_values(episodes: pd.DataFrame, optimum: Mapping[str, float]) -> dict[Any, float]:
    """The exact expected profit of the rows that know it: the DP optimum's own rows.

    A ``dp`` agent playing its own market alone (mode ``solo``) solved exactly the
    problem whose value the benchmark ``dp`` is, so that value is its expected profit
    per episode, without sampling error. Keyed by (mode, market, agent).
    """
    rows = episodes[(episodes["mode"] == "solo") & (episodes["kind"] == "dp")]
    keys = rows[["mode", "market", "agent"]].drop_duplicates().itertuples(index=False)
    return {tuple(k): float(optimum[k[1]]) for k in keys if k[1] in optimum}


def _report(
    config: ExperimentConfig,
    run_dir: Path,
    plan: Mapping[str, Sequence[Cell]],
    benchmarks: Mapping[str, Any],
) -> tuple[Any, Any]:
    """Assemble the episode table and the league tables from the cell files."""
    import pandas as pd

    from pricegym.experiments.stats import league_table  # scipy, pandas, numpy

    rows: list[dict[str, Any]] = []
    seeds: dict[str, Any] = {
        "experiment_seed": config.seed,
        "replicates": list(config.evaluation.seeds),
        "cells": {},
    }
    for stage in STAGES:
        for cell in plan[stage]:
            result = read_cell(cell.path(run_dir))
            if result is None:
                raise ConfigError(
                    f"cell {cell.id} has no result; rerun the experiment to complete it."
                )
            rows += result.get("rows", [])
            seeds["cells"][cell.id] = {"key": cell.to_dict(), **result.get("seeds", {})}
    _write_json(run_dir / "seeds.json", seeds)
    episodes = pd.DataFrame(rows)
    for col in EPISODE_COLUMNS:
        if col not in episodes.columns:
            episodes[col] = float("nan") if col == "delta" else None
    episodes = episodes[list(EPISODE_COLUMNS)]
    episodes = episodes.sort_values(
        ["mode", "market", "agent", "opponent", "seed", "episode"],
        na_position="first",
        kind="stable",
    ).reset_index(drop=True)
    _atomic_csv(episodes, run_dir / "episodes.csv")
    parquet = config.output.parquet
    if parquet or (parquet is None and _has("pyarrow")):
        _atomic_parquet(episodes, run_dir / "episodes.parquet")
    optimum = {m: b["dp"] for m, b in benchmarks.items() if b.get("dp") is not None}
    fixed = {m: b["best_fixed"] for m, b in benchmarks.items() if b.get("best_fixed") is not None}
    level = config.evaluation.confidence
    summary = league_table(
        episodes,
        by=("mode", "market", "agent"),
        optimum=optimum,
        best_fixed=fixed,
        exact=_exact_values(episodes, optimum),
        confidence=level,
        seed=config.seed,
    )
    oligo = episodes[episodes["delta"].notna()]
    if not oligo.empty:
        delta = league_table(
            oligo,
            value="delta",
            by=("mode", "market", "agent"),
            extra=(),
            confidence=level,
            seed=config.seed,
        )
        delta = delta[["mode", "market", "agent", "mean", "mean_low", "mean_high"]].rename(
            columns={"mean": "delta", "mean_low": "delta_low", "mean_high": "delta_high"}
        )
        summary = summary.merge(delta, on=["mode", "market", "agent"], how="left")
    if optimum:
        summary["dp_optimum"] = summary["market"].map(optimum)
        summary["best_fixed"] = summary["market"].map(fixed)
    ranges = _price_ranges(benchmarks)
    if ranges and "avg_price" in summary.columns:
        summary["grid_edge"] = [
            grid_edge(price, *ranges[m]) if m in ranges else ""
            for m, price in zip(summary["market"], summary["avg_price"], strict=True)
        ]
    _atomic_csv(summary, run_dir / "summary.csv")
    robin = episodes[episodes["mode"] == "round_robin"]
    if not robin.empty:
        h2h = league_table(
            robin,
            by=("market", "opponent", "agent"),
            extra=("avg_price", "delta"),
            confidence=level,
            seed=config.seed,
        )
        _atomic_csv(h2h, run_dir / "head_to_head.csv")
    cross = episodes[
        episodes["mode"].isin(["cross_model", "solo"]) & episodes["trained_in"].notna()
    ]
    if "cross_model" in config.tournament.modes and not cross.empty:
        cross = cross.assign(agent=cross["agent"].str.split("@").str[0])
        matrix = league_table(
            cross,
            by=("trained_in", "market", "agent"),
            optimum=optimum,
            best_fixed=fixed,
            confidence=level,
            seed=config.seed,
        )
        _atomic_csv(matrix, run_dir / "cross_model.csv")
    return summary, episodes
