"""League-table statistics: intervals over seeds, IQM, paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pricegym.errors import DataValidationError
from pricegym.experiments.stats import (
    bootstrap_ci,
    iqm,
    league_table,
    paired_difference,
    per_seed,
)


def _episodes(rng: np.random.Generator, agents: dict[str, float], n_seeds: int = 20, n_ep: int = 5):
    rows = []
    for seed in range(n_seeds):
        shared = rng.normal(0, 5)  # what every agent meets under this seed
        for agent, mu in agents.items():
            for ep in range(n_ep):
                rows.append(
                    {
                        "market": "m",
                        "agent": agent,
                        "seed": seed,
                        "episode": ep,
                        "profit": mu + shared + rng.normal(0, 1),
                        "avg_price": 2.0,
                    }
                )
    return pd.DataFrame(rows)


def test_iqm_is_the_25pct_trimmed_mean():
    x = np.array([0.0, 1, 2, 3, 4, 5, 6, 100])
    assert iqm(x) == pytest.approx(np.mean([2, 3, 4, 5]))


def test_bootstrap_ci_covers_the_normal_theory_interval_of_a_large_sample():
    x = np.random.default_rng(0).normal(10.0, 2.0, size=400)
    est = bootstrap_ci(x)
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    assert est.value == pytest.approx(x.mean())
    # BCa and t intervals agree to a few percent of their width for n = 400.
    assert est.low == pytest.approx(x.mean() - half, abs=0.1 * half)
    assert est.high == pytest.approx(x.mean() + half, abs=0.1 * half)
    assert est.n == 400


def test_bootstrap_ci_is_reproducible_and_handles_degenerate_samples():
    x = np.random.default_rng(1).normal(size=30)
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    one = bootstrap_ci([5.0])
    assert one.value == 5.0 and np.isnan(one.low) and np.isnan(one.high)
    same = bootstrap_ci([2.0, 2.0, 2.0])
    assert (same.low, same.value, same.high) == (2.0, 2.0, 2.0)


def test_bootstrap_ci_refuses_non_finite_values_naming_the_position():
    with pytest.raises(DataValidationError, match=r"positions \[2\]"):
        bootstrap_ci([1.0, 2.0, np.nan])


def test_intervals_are_over_seeds_not_episodes():
    eps = _episodes(np.random.default_rng(2), {"a": 100.0}, n_seeds=10, n_ep=50)
    seeds = per_seed(eps, "profit")
    assert seeds.shape == (10, 4)
    table = league_table(eps)
    assert table.loc[0, "n_seeds"] == 10 and table.loc[0, "n_episodes"] == 500
    est = bootstrap_ci(seeds["profit"].to_numpy())
    assert table.loc[0, "mean_low"] == pytest.approx(est.low)
    # Between-seed spread (sd 5) dominates: an episode-level interval would be far too narrow.
    assert table.loc[0, "mean_high"] - table.loc[0, "mean_low"] > 2.0


def test_league_table_ranks_and_scales_by_optimum_and_best_fixed_price():
    eps = _episodes(np.random.default_rng(3), {"dp": 100.0, "fixed": 90.0, "rl": 97.0})
    table = league_table(eps, optimum={"m": 100.0}, best_fixed={"m": 90.0})
    assert table["agent"].tolist() == ["dp", "rl", "fixed"]
    assert table["rank"].tolist() == [1, 2, 3]
    rl = table.set_index("agent").loc["rl"]
    assert rl["pct_of_optimum"] == pytest.approx(rl["mean"])  # optimum is 100
    assert rl["gain_share"] == pytest.approx((rl["mean"] - 90.0) / 10.0)
    assert rl["gain_share_low"] < rl["gain_share"] < rl["gain_share_high"]
    assert rl["avg_price"] == pytest.approx(2.0)


def test_paired_difference_is_tighter_than_unpaired_and_centred_on_the_gap():
    eps = _episodes(np.random.default_rng(4), {"a": 101.0, "b": 100.0}, n_seeds=30)
    diff = paired_difference(eps, "a", "b")
    assert diff.low < 1.0 < diff.high
    assert diff.high - diff.low < 1.0  # the shared seed effect (sd 5) cancels
    unpaired = league_table(eps).set_index("agent")
    assert (unpaired.loc["a", "mean_high"] - unpaired.loc["a", "mean_low"]) > 2 * (
        diff.high - diff.low
    )


def test_paired_difference_errors_name_the_agent_and_the_fix():
    eps = _episodes(np.random.default_rng(5), {"a": 1.0, "b": 2.0}, n_seeds=3)
    with pytest.raises(DataValidationError, match="'c' is not in the results"):
        paired_difference(eps, "a", "c")
    with pytest.raises(DataValidationError, match="lack column"):
        league_table(eps.drop(columns="seed"))
