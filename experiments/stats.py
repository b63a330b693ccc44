"""Statistics for league tables: bootstrap intervals across seeds, IQM, paired gaps.

Every interval here is a bootstrap interval from :func:`scipy.stats.bootstrap`
over **independent units** — seeds (or Q-learning sessions), never episodes of
one seed, because episodes that share a trained policy are not independent.
Episode-level results are first averaged within each seed; the interval is then
over the per-seed means. With a single seed there is no between-seed variation
to resample and the interval is reported as NaN (not as a zero-width interval,
which would claim a certainty the data do not have).

The tidy episode table the runner writes has one row per episode with at least
``market``, ``agent``, ``seed`` and the value columns (``profit``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pricegym.errors import DataValidationError

__all__ = [
    "Estimate",
    "bootstrap_ci",
    "iqm",
    "league_table",
    "paired_difference",
    "per_seed",
]

#: Bootstrap resamples behind every interval (scipy's default).
N_RESAMPLES = 9999


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval."""

    value: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    def __str__(self) -> str:
        if np.isnan(self.low):
            return f"{self.value:.4g} [n={self.n}, no CI]"
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def iqm(values: Sequence[float] | np.ndarray, axis: int = -1) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle 50% (25% trimmed from each end)."""
    return stats.trim_mean(np.asarray(values, dtype=np.float64), 0.25, axis=axis)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[..., np.ndarray | float] = np.mean,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
) -> Estimate:
    """``statistic`` of ``values`` with a bootstrap interval (BCa, percentile as fallback).

    ``statistic`` must accept ``axis`` (numpy reductions and :func:`iqm` do). Fewer
    than two values give a NaN interval; identical values give a zero-width one
    (there is nothing to resample).

    Raises:
        DataValidationError: a non-finite value (a NaN profit is a bug upstream, not
            something to average over).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x))[:5].tolist()
        raise DataValidationError(
            f"bootstrap_ci: values at positions {bad} are not finite "
            f"({x[bad].tolist()}); every episode must have a finite result — find the "
            "episode that produced it rather than dropping it."
        )
    value = float(statistic(x, axis=-1)) if x.size else float("nan")
    if x.size < 2:
        return Estimate(value, float("nan"), float("nan"), int(x.size), confidence)
    if np.ptp(x) == 0.0:
        return Estimate(value, value, value, int(x.size), confidence)
    rng = np.random.default_rng(seed)
    method = "BCa" if x.size >= 4 else "percentile"
    res = stats.bootstrap(
        (x,),
        statistic,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method=method,
        random_state=rng,
        vectorized=True,
    )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        # BCa degenerates when almost every resample gives the same statistic.
        res = stats.bootstrap(
            (x,),
            statistic,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
            vectorized=True,
        )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return Estimate(value, low, high, int(x.size), confidence)


def per_seed(
    episodes: pd.DataFrame, value: str, by: Sequence[str] = ("market", "agent")
) -> pd.DataFrame:
    """Mean of ``value`` per (``by`` …, seed): the independent units of every interval."""
    _require_columns(episodes, [*by, "seed", value])
    return episodes.groupby([*by, "seed"], sort=True)[value].mean().reset_index()


def league_table(
    episodes: pd.DataFrame,
    *,
    value: str = "profit",
    by: Sequence[str] = ("market", "agent"),
    optimum: dict[str, float] | None = None,
    best_fixed: dict[str, float] | None = None,
    extra: Sequence[str] = ("avg_price", "sell_through", "lost_sales"),
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (market, agent): mean and IQM of ``value`` per episode with CIs.

    Args:
        episodes: tidy episode results (see the module docstring).
        optimum: DP-optimal expected ``value`` per market, where it is defined;
            adds ``pct_of_optimum`` (mean / optimum · 100, with its CI).
        best_fixed: expected ``value`` of the best fixed price per market; with
            ``optimum`` adds ``gain_share`` — the share of the dynamic-pricing gain
            (optimum − best fixed) the agent captures, 1 for the optimum, 0 for the
            best fixed price, negative below it.
        extra: further columns averaged per row when present (no CI).

    The table is sorted by market, then mean ``value`` (best first), with ``rank``.
    """
    seeds = per_seed(episodes, value, by)
    grouped = episodes.groupby(list(by), sort=True)
    counts = grouped.size()
    extras = grouped[[c for c in extra if c in episodes.columns]].mean()
    rows = []
    for key, group in seeds.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        x = group[value].to_numpy()
        mean = bootstrap_ci(x, np.mean, confidence=confidence, seed=seed)
        mid = bootstrap_ci(x, iqm, confidence=confidence, seed=seed)
        row = dict(zip(by, key, strict=True))
        row.update(
            n_seeds=mean.n,
            n_episodes=int(counts.loc[key if len(key) > 1 else key[0]]),
            mean=mean.value,
            mean_low=mean.low,
            mean_high=mean.high,
            iqm=mid.value,
            iqm_low=mid.low,
            iqm_high=mid.high,
        )
        market = row.get("market")
        opt = None if optimum is None else optimum.get(market)
        if opt is not None and opt != 0:
            row.update(
                pct_of_optimum=100 * mean.value / opt,
                pct_low=100 * mean.low / opt,
                pct_high=100 * mean.high / opt,
            )
            fixed = None if best_fixed is None else best_fixed.get(market)
            if fixed is not None and opt > fixed:
                span = opt - fixed
                row.update(
                    gain_share=(mean.value - fixed) / span,
                    gain_share_low=(mean.low - fixed) / span,
                    gain_share_high=(mean.high - fixed) / span,
                )
        for col in extras.columns:
            row[col] = float(extras.loc[key if len(key) > 1 else key[0], col])
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    group_cols = [c for c in by if c != "agent"]
    table = table.sort_values([*group_cols, "mean"], ascending=[True] * len(group_cols) + [False])
    if group_cols:
        table["rank"] = table.groupby(group_cols).cumcount() + 1
    else:
        table["rank"] = np.arange(1, len(table) + 1)
    return table.reset_index(drop=True)


def paired_difference(
    episodes: pd.DataFrame,
    agent_a: str,
    agent_b: str,
    *,
    value: str = "profit",
    market: str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Mean of (a − b) of per-seed means, paired by seed, with its bootstrap CI.

    Pairing by seed removes the variation the two agents share (the same demand
    draws and competitor paths for the same seed), so the interval is much tighter
    than the difference of two unpaired intervals.

    Raises:
        DataValidationError: an unknown agent, or no seed that both agents played.
    """
    data = episodes if market is None else episodes[episodes["market"] == market]
    seeds = per_seed(data, value, ("agent",))
    known = set(seeds["agent"])
    for name in (agent_a, agent_b):
        if name not in known:
            raise DataValidationError(
                f"paired_difference: agent {name!r} is not in the results "
                f"(agents: {sorted(known)}); pass one of those names."
            )
    wide = seeds.pivot(index="seed", columns="agent", values=value)[[agent_a, agent_b]].dropna()
    if wide.empty:
        raise DataValidationError(
            f"paired_difference: {agent_a!r} and {agent_b!r} share no seed, so they cannot "
            "be paired; run both with the same evaluation seeds."
        )
    return bootstrap_ci(
        (wide[agent_a] - wide[agent_b]).to_numpy(), np.mean, confidence=confidence, seed=seed
    )


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"episode results lack column(s) {missing}; they have {list(frame.columns)}. "
            "Results written by the runner have market, agent, seed, episode and profit."
        )
