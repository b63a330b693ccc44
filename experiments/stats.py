"""Statistics for league tables: two-level bootstrap intervals, IQM, paired gaps.

An agent's results come in two levels: **replicate seeds** (a seed fixes the
training run and the evaluation draws) and **episodes** within a seed. Episodes of
one seed share a trained policy, so they are not independent of each other across
seeds; seeds are. A league-table interval must therefore carry both kinds of
variation: the between-seed spread (training luck) and the episode noise.

:func:`hierarchical_bootstrap_ci` resamples seeds, then episodes within each
resampled seed, with the seed level shrunk so that the episode noise is not
counted twice (a plain seeds-then-episodes bootstrap counts it once in the spread
of the seed means and once more in the resampled episodes). The resampling's
variance of the mean is then the one-way random-effects (ANOVA) estimate
``(σ̂_b² + σ̂_w²·mean(1/E_s)) / S`` with the between-seed variance ``σ̂_b²`` floored
at 0, and the interval is its percentile interval.

Coverage of the nominal 95% interval, measured over 3,000 replications of the DP
policy in a markdown market whose exact value the DP knows (no between-seed
spread; ``tests/test_stats.py`` checks the 2 × 50 case):

=====================  =====  =====  =====  =====  =====  =====
seeds × episodes       1×50   2×50   3×30   5×20   10×10  20×3
=====================  =====  =====  =====  =====  =====  =====
two-level (this)       93.4%  95.6%  95.3%  95.7%  95.4%  95.5%
seed means, percentile –      50.8%  74.0%  84.1%  90.3%  92.5%
plain two-level        93.5%  96.7%  97.3%  97.9%  98.2%  98.1%
=====================  =====  =====  =====  =====  =====  =====

(the seed-means interval, used before, is as narrow as the range of two numbers at
2 seeds). Where seeds truly differ (training luck), the between-seed variance is
estimated from S − 1 degrees of freedom and the interval shares the small-sample
narrowness of every bootstrap: with σ_b² = 2.2 × σ_w²/E (normal, 20 episodes per
seed) it covered 85% at 2 seeds, 90% at 5, 91% at 10 and 95% at 20. With one seed
only the episodes are resampled: the interval is then about that one seed's policy
and says nothing about training luck. With fewer than :data:`FEW_SEEDS` seeds the
between-seed spread is barely estimable, so the league table says on which seeds ×
episodes each interval rests (``ci_basis``, ``few_seeds``).

:func:`paired_difference` applies the same resampling to per-episode differences
of two agents; :func:`bootstrap_ci` is the plain :func:`scipy.stats.bootstrap`
interval over independent values.

The tidy episode table the runner writes has one row per episode with at least
``market``, ``agent``, ``seed`` and the value columns (``profit``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pricegym.errors import DataValidationError

__all__ = [
    "FEW_SEEDS",
    "Estimate",
    "bootstrap_ci",
    "few_seeds_note",
    "hierarchical_bootstrap_ci",
    "iqm",
    "league_table",
    "paired_difference",
    "per_seed",
]

#: Bootstrap resamples behind every interval (scipy's default).
N_RESAMPLES = 9999
#: Below this many replicate seeds the league table flags its intervals as resting on
#: few seeds (the between-seed spread, i.e. training luck, is barely estimable).
FEW_SEEDS = 5
#: Largest number of episode draws held in memory at once by the two-level bootstrap.
_CHUNK = 1 << 22


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


#: The smallest dynamic-pricing gain (optimum − best fixed price), relative to the
#: optimum, for which ``gain_share`` is reported.
GAIN_SPAN_RTOL = 1e-3


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
    x = _finite_values(values, "bootstrap_ci")
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


def hierarchical_bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    statistic: Callable[..., np.ndarray | float] = np.mean,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
) -> Estimate:
    """``statistic`` of the per-group means with a two-level bootstrap interval.

    ``values`` are episode results and ``groups`` their replicate seeds (same
    length). The estimate is ``statistic`` over the S seed means ȳ_s (``np.mean``:
    the mean of the seed means; ``statistic`` must accept ``axis``). Each of the
    ``n_resamples`` replicates draws S seeds with replacement and, for each drawn
    seed s, ``E_s`` of its episodes with replacement, and builds the seed mean

        ȳ + c·(ȳ_s − ȳ) + mean of the drawn residuals (y − ȳ_s)·√(E_s / (E_s − 1))

    where ȳ is the mean of the seed means and ``c² = σ̂_b² / v_B``: ``v_B`` is the
    spread of the seed means (divisor S) and ``σ̂_b² = max(0, s_B² − σ̂_w²·mean(1/E_s))``
    the between-seed variance (``s_B²``: the seed means' variance, divisor S − 1;
    ``σ̂_w²``: the pooled within-seed variance). The replicates' variance of the mean
    is so the random-effects estimate ``(σ̂_b² + σ̂_w²·mean(1/E_s)) / S``; the interval
    is their ``confidence`` percentile interval. With one seed c = 0 (episodes only);
    with one episode per seed c² = S / (S − 1) (seeds only). ``Estimate.n`` is S.

    Fewer than two values give a NaN interval; identical values a zero-width one.
    Seeded and reproducible: the same inputs and ``seed`` give the same interval.

    Raises:
        DataValidationError: a non-finite value, or ``groups`` of another length.
    """
    # scipy.stats.bootstrap resamples independent observations and has no notion of
    # clusters, so the two levels (seeds, then episodes within a seed) are drawn here.
    # A plain two-level resampling overstates the variance (the episode noise enters
    # once through the spread of the seed means, once through the episode draws); the
    # shrink factor c takes the first out, the √(E/(E−1)) unbiases the second.
    x = _finite_values(values, "hierarchical_bootstrap_ci")
    g = np.asarray(groups).ravel()
    if g.size != x.size:
        raise DataValidationError(
            f"hierarchical_bootstrap_ci: {x.size} values but {g.size} group labels; "
            "pass one seed label per episode value."
        )
    if x.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, confidence)
    _, codes = np.unique(g, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    x, codes = x[order], codes[order]
    sizes = np.bincount(codes)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    means = np.bincount(codes, weights=x) / sizes
    n_seeds = int(sizes.size)
    value = float(statistic(means, axis=-1))
    if x.size < 2:
        return Estimate(value, float("nan"), float("nan"), n_seeds, confidence)
    if np.ptp(x) == 0.0:
        return Estimate(value, value, value, n_seeds, confidence)
    grand = float(means.mean())
    resid = x - means[codes]
    dof = sizes - 1
    inflate = np.sqrt(sizes / np.maximum(dof, 1))
    scaled = resid * inflate[codes]
    within = float((resid**2).sum() / dof.sum()) if dof.sum() > 0 else 0.0
    if n_seeds < 2:
        shrink = 0.0
    else:
        between = max(0.0, float(means.var(ddof=1)) - within * float(np.mean(1.0 / sizes)))
        spread = float(means.var(ddof=0))
        shrink = float(np.sqrt(between / spread)) if spread > 0 else 0.0
    rng = np.random.default_rng(seed)
    most = int(sizes.max())
    equal = bool(sizes.min() == most)
    chunk = max(1, _CHUNK // (n_seeds * most))
    stats_ = []
    for start in range(0, n_resamples, chunk):
        r = min(chunk, n_resamples - start)
        drawn = rng.integers(0, n_seeds, size=(r, n_seeds))
        level = grand + shrink * (means[drawn] - grand)
        if most > 1 and equal:
            pick = rng.integers(0, most, size=(r, n_seeds, most))
            level = level + np.take(scaled, offsets[drawn][..., None] + pick).mean(axis=-1)
        elif most > 1:  # seeds of different sizes: E_max draws per seed, the extra masked
            n = sizes[drawn][..., None]
            pick = (rng.random((r, n_seeds, most)) * n).astype(np.int64)
            noise = np.take(scaled, offsets[drawn][..., None] + pick)
            level = level + np.where(np.arange(most) < n, noise, 0.0).sum(axis=-1) / n[..., 0]
        stats_.append(np.asarray(statistic(level, axis=-1), dtype=np.float64))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.concatenate(stats_), [alpha, 1.0 - alpha])
    return Estimate(value, float(low), float(high), n_seeds, confidence)


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
    exact: Mapping[Any, float] | None = None,
    extra: Sequence[str] = ("avg_price", "sell_through", "lost_sales"),
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (market, agent): mean and IQM of ``value`` per episode with CIs.

    Args:
        episodes: tidy episode results (see the module docstring).
        optimum: DP-optimal expected ``value`` per market, where it is defined;
            adds ``pct_of_optimum`` (mean / optimum · 100, with its CI). The optimum is
            exact (no sampling error), so the CI is the mean's CI scaled.
        best_fixed: expected ``value`` of the best fixed price per market; with
            ``optimum`` adds ``gain_share`` — the share of the dynamic-pricing gain
            (optimum − best fixed) the agent captures, 1 for the optimum, 0 for the
            best fixed price, negative below it. Left out (shown "–") when that gain
            is below :data:`GAIN_SPAN_RTOL` of the optimum: a share of nearly
            nothing is noise divided by nearly zero.
        exact: the exact expected ``value`` of a row's policy where it is known (the
            DP optimum's own row: its value function at the start state), keyed by the
            row's ``by`` values (a tuple, or the bare value when ``by`` has one column);
            adds ``exact`` and, with ``optimum``, ``exact_pct``. The sampled mean and
            its CI stay beside it, so a reader sees how far sampling moved the mean.
        extra: further columns averaged per row when present (no CI).

    Intervals come from :func:`hierarchical_bootstrap_ci` over the row's episodes
    grouped by seed (mean: of the seed means; IQM: of the seed means); ``ci_basis``
    says on what they rest (``"2 seeds × 50 episodes"``) and ``few_seeds`` flags rows
    with fewer than :data:`FEW_SEEDS` seeds. The table is sorted by market, then mean
    ``value`` (best first), with ``rank``.
    """
    _require_columns(episodes, [*by, "seed", value])
    grouped = episodes.groupby(list(by), sort=True)
    extras = grouped[[c for c in extra if c in episodes.columns]].mean()
    rows = []
    for key, group in grouped:
        key = key if isinstance(key, tuple) else (key,)
        x, seeds = group[value].to_numpy(), group["seed"].to_numpy()
        mean = hierarchical_bootstrap_ci(x, seeds, np.mean, confidence=confidence, seed=seed)
        mid = hierarchical_bootstrap_ci(x, seeds, iqm, confidence=confidence, seed=seed)
        row = dict(zip(by, key, strict=True))
        row.update(
            n_seeds=mean.n,
            n_episodes=int(x.size),
            ci_basis=_basis(group["seed"].value_counts().to_numpy()),
            few_seeds=bool(mean.n < FEW_SEEDS),
            mean=mean.value,
            mean_low=mean.low,
            mean_high=mean.high,
            iqm=mid.value,
            iqm_low=mid.low,
            iqm_high=mid.high,
        )
        market = row.get("market")
        opt = None if optimum is None or market is None else optimum.get(market)
        known = None if exact is None else exact.get(key if len(key) > 1 else key[0])
        if known is not None:
            row["exact"] = float(known)
        if opt is not None and opt != 0:
            row.update(
                pct_of_optimum=100 * mean.value / opt,
                pct_low=100 * mean.low / opt,
                pct_high=100 * mean.high / opt,
            )
            if known is not None:
                row["exact_pct"] = 100 * float(known) / opt
            fixed = None if best_fixed is None or market is None else best_fixed.get(market)
            if fixed is not None and opt - fixed > GAIN_SPAN_RTOL * abs(opt):
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


def few_seeds_note(table: pd.DataFrame) -> str:
    """A sentence for under a league table whose rows rest on fewer than FEW_SEEDS seeds
    (empty when none does)."""
    if "few_seeds" not in table.columns or not table["few_seeds"].any():
        return ""
    bases = sorted(set(table.loc[table["few_seeds"].astype(bool), "ci_basis"]))
    return (
        f"Intervals on fewer than {FEW_SEEDS} seeds ({', '.join(bases)}): the between-seed "
        "spread (training luck) is barely estimable from so few seeds, so these intervals "
        "mostly reflect the episode noise; run more seeds (evaluation.seeds) to include it."
    )


def _basis(per_seed_counts: np.ndarray) -> str:
    """``"2 seeds × 50 episodes"`` (``"3 seeds × 10–20 episodes"`` when they differ)."""
    s = int(per_seed_counts.size)
    lo, hi = int(per_seed_counts.min()), int(per_seed_counts.max())
    eps = f"{lo}" if lo == hi else f"{lo}–{hi}"
    return f"{s} seed{'s' if s != 1 else ''} × {eps} episode{'s' if hi != 1 else ''}"


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
    """Mean of (a − b) per episode, paired by seed and episode, with its two-level CI.

    Episode i of seed s meets the same demand draws and competitor paths whichever
    agent plays it (the runner and :func:`~pricegym.experiments.evaluate.evaluate`
    derive env seeds from the seed and episode, never from the agent), so the
    per-episode difference removes the variation the two agents share and the
    interval is much tighter than the difference of two unpaired intervals. The
    differences are resampled by seed, then episode, as in the league table
    (:func:`hierarchical_bootstrap_ci`; ``Estimate.n`` is the number of seeds).
    Without an ``episode`` column the per-seed means are paired instead.

    Raises:
        DataValidationError: an unknown agent, or no seed that both agents played.
    """
    data = episodes if market is None else episodes[episodes["market"] == market]
    keys = ["seed", "episode"] if "episode" in data.columns else ["seed"]
    _require_columns(data, ["agent", *keys, value])
    known = set(data["agent"])
    for name in (agent_a, agent_b):
        if name not in known:
            raise DataValidationError(
                f"paired_difference: agent {name!r} is not in the results "
                f"(agents: {sorted(known)}); pass one of those names."
            )
    cells = data.groupby(["agent", *keys], sort=True)[value].mean()
    wide = cells.unstack("agent")[[agent_a, agent_b]].dropna()
    if wide.empty:
        raise DataValidationError(
            f"paired_difference: {agent_a!r} and {agent_b!r} share no seed, so they cannot "
            "be paired; run both with the same evaluation seeds."
        )
    gap = (wide[agent_a] - wide[agent_b]).to_numpy()
    groups = wide.index.get_level_values("seed").to_numpy()
    return hierarchical_bootstrap_ci(gap, groups, np.mean, confidence=confidence, seed=seed)


def _finite_values(values: Sequence[float] | np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x))[:5].tolist()
        raise DataValidationError(
            f"{where}: values at positions {bad} are not finite "
            f"({x[bad].tolist()}); every episode must have a finite result — find the "
            "episode that produced it rather than dropping it."
        )
    return x


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"episode results lack column(s) {missing}; they have {list(frame.columns)}. "
            "Results written by the runner have market, agent, seed, episode and profit."
        )
