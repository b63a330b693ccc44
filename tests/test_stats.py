"""League-table statistics: two-level intervals (seeds, then episodes), IQM, paired gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pricegym.agents.dp import solve_dp
from pricegym.demand.parametric import ExponentialTruth
from pricegym.errors import DataValidationError
from pricegym.experiments.stats import (
    FEW_SEEDS,
    bootstrap_ci,
    few_seeds_note,
    hierarchical_bootstrap_ci,
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


def test_intervals_carry_the_between_seed_spread():
    eps = _episodes(np.random.default_rng(2), {"a": 100.0}, n_seeds=10, n_ep=50)
    seeds = per_seed(eps, "profit")
    assert seeds.shape == (10, 4)
    table = league_table(eps)
    row = table.loc[0]
    assert row["n_seeds"] == 10 and row["n_episodes"] == 500
    assert row["ci_basis"] == "10 seeds × 50 episodes" and not row["few_seeds"]
    assert row["mean"] == pytest.approx(seeds["profit"].mean(), rel=1e-12)
    # Between-seed spread (sd 5) dominates: an episode-level interval (±0.09) would be far
    # too narrow; the two-level one is as wide as the seed means' t interval, to 25%.
    s_b = seeds["profit"].std(ddof=1)
    t_half = stats.t.ppf(0.975, 9) * s_b / np.sqrt(10)
    z_half = stats.norm.ppf(0.975) * s_b / np.sqrt(10)
    half = (row["mean_high"] - row["mean_low"]) / 2
    assert 0.75 * z_half < half < 1.25 * t_half


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


def test_gain_share_is_left_out_when_dynamic_pricing_gains_nearly_nothing():
    """Optimum 100 and best fixed price 100 − 1e-9: a share of that gap is noise / ~0
    (it showed −8e12 on a market whose stock always sells out); a 1% gap keeps it."""
    eps = _episodes(np.random.default_rng(5), {"dp": 100.0, "rl": 97.0}, n_seeds=5)
    tiny = league_table(eps, optimum={"m": 100.0}, best_fixed={"m": 100.0 - 1e-9})
    assert "gain_share" not in tiny.columns or tiny["gain_share"].isna().all()
    assert tiny["pct_of_optimum"].notna().all()
    kept = league_table(eps, optimum={"m": 100.0}, best_fixed={"m": 99.0})
    assert kept["gain_share"].notna().all()


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


# ==================================================================== two-level bootstrap
# A markdown market whose exact expected profit the DP knows: 4 units, 16 periods,
# Poisson demand 10·exp(−p) on 10 prices in [0.5, 5]; the DP policy is simulated here in
# numpy, vectorised over episodes (the market's own dynamics: sales = min(demand, stock)).
_MARKDOWN = {"n_prices": 10, "p_min": 0.5, "p_max": 5.0, "horizon": 16, "inventory": 4}


@pytest.fixture(scope="module")
def markdown_dp():
    return solve_dp(ExponentialTruth(10.0, 1.0), _MARKDOWN)


def _dp_profits(sol, rng: np.random.Generator, n: int) -> np.ndarray:
    stock = np.full(n, sol.inventory)
    profit = np.zeros(n)
    for k in range(sol.horizon):
        a = sol.action[k, stock]
        sold = np.minimum(rng.poisson(sol.expected_demand[k, a]), stock)
        profit += sol.prices[a] * sold
        stock -= sold
    return profit


def test_two_level_interval_covers_the_exact_dp_value_93_to_97_percent(markdown_dp):
    """1,000 replications of 2 seeds × 50 episodes of the DP policy: its 95% interval covers
    the DP's exact value in 93–97% of them (96.1% here; an interval over the two seed means
    alone, the previous method, covers it in 51.2%)."""
    exact = markdown_dp.expected_value
    reps, n_seeds, n_ep = 1000, 2, 50
    profits = _dp_profits(markdown_dp, np.random.default_rng(2026), reps * n_seeds * n_ep)
    # the simulation is the market: its grand mean is the exact value to 4 standard errors
    se = profits.std() / np.sqrt(profits.size)
    assert abs(profits.mean() - exact) < 4 * se
    groups = np.repeat(np.arange(n_seeds), n_ep)
    covered = 0
    for i, y in enumerate(profits.reshape(reps, n_seeds * n_ep)):
        est = hierarchical_bootstrap_ci(y, groups, seed=i, n_resamples=999)
        covered += est.low <= exact <= est.high
    assert 0.93 <= covered / reps <= 0.97


def test_league_table_interval_covers_the_dp_value_where_seed_means_did_not(markdown_dp):
    """2 seeds × 50 episodes whose mean is 101.85% of the DP optimum: the interval over
    the two seed means was [100.32, 103.38], excluding the truth; the two-level one covers
    it, and the DP's row shows its exact value beside the sampled mean."""
    exact = markdown_dp.expected_value
    profits = _dp_profits(markdown_dp, np.random.default_rng(4), 100)
    eps = pd.DataFrame(
        {
            "market": "m",
            "agent": "dp",
            "seed": np.repeat([0, 1], 50),
            "episode": np.tile(np.arange(50), 2),
            "profit": profits,
        }
    )
    row = league_table(eps, optimum={"m": exact}, exact={("m", "dp"): exact}).iloc[0]
    assert row["pct_of_optimum"] == pytest.approx(101.85, abs=0.01)
    assert row["pct_low"] < 100.0 < row["pct_high"]
    assert (row["pct_low"], row["pct_high"]) == pytest.approx((98.57, 104.98), abs=0.01)
    assert row["exact"] == exact and row["exact_pct"] == 100.0
    assert row["ci_basis"] == "2 seeds × 50 episodes" and row["few_seeds"]
    assert "2 seeds × 50 episodes" in few_seeds_note(pd.DataFrame([row]))


def test_two_level_variance_is_the_random_effects_estimate():
    """The resampling's spread equals the one-way ANOVA estimate of Var(grand mean),
    (σ̂_b² + σ̂_w²/E)/S, with σ̂_b² floored at 0 — when seeds differ and when they do not."""
    rng = np.random.default_rng(7)
    for sd_seed in (0.0, 2.0):
        n_seeds, n_ep = 8, 30
        y = (rng.normal(0, sd_seed, n_seeds)[:, None] + rng.normal(0, 3.0, (n_seeds, n_ep))).ravel()
        groups = np.repeat(np.arange(n_seeds), n_ep)
        m = y.reshape(n_seeds, n_ep).mean(axis=1)
        within = y.reshape(n_seeds, n_ep).var(axis=1, ddof=1).mean()
        between = max(0.0, m.var(ddof=1) - within / n_ep)
        sd = np.sqrt((between + within / n_ep) / n_seeds)
        est = hierarchical_bootstrap_ci(y, groups, seed=1)
        assert est.value == pytest.approx(m.mean(), rel=1e-12)
        assert (est.high - est.low) / (2 * stats.norm.ppf(0.975)) == pytest.approx(sd, rel=0.06)


def test_two_level_interval_edge_cases():
    rng = np.random.default_rng(8)
    y = rng.normal(10.0, 2.0, 200)
    # one seed: the episodes are resampled (an interval about that seed's policy)
    one = hierarchical_bootstrap_ci(y, np.zeros(200), seed=0)
    half = stats.norm.ppf(0.975) * y.std(ddof=1) / np.sqrt(200)
    assert one.n == 1 and (one.high - one.low) / 2 == pytest.approx(half, rel=0.06)
    # one episode per seed: the seed means, with the unbiased variance
    seeds_only = hierarchical_bootstrap_ci(y, np.arange(200), seed=0)
    assert (seeds_only.high - seeds_only.low) / 2 == pytest.approx(half, rel=0.06)
    # seeded: reproducible, and another seed gives other resamples
    groups = np.repeat(np.arange(4), 50)
    a = hierarchical_bootstrap_ci(y, groups, seed=3)
    assert a == hierarchical_bootstrap_ci(y, groups, seed=3)
    assert a != hierarchical_bootstrap_ci(y, groups, seed=4)
    # seeds of different sizes
    uneven = hierarchical_bootstrap_ci(y, np.r_[np.zeros(20), np.ones(80), np.full(100, 2)])
    assert uneven.n == 3 and uneven.low < uneven.value < uneven.high
    # degenerate samples
    single = hierarchical_bootstrap_ci([5.0], [0])
    assert single.value == 5.0 and np.isnan(single.low) and np.isnan(single.high)
    same = hierarchical_bootstrap_ci([2.0, 2.0, 2.0, 2.0], [0, 0, 1, 1])
    assert (same.low, same.value, same.high) == (2.0, 2.0, 2.0)
    with pytest.raises(DataValidationError, match=r"positions \[1\]"):
        hierarchical_bootstrap_ci([1.0, np.inf], [0, 1])
    with pytest.raises(DataValidationError, match="3 values but 2 group labels"):
        hierarchical_bootstrap_ci([1.0, 2.0, 3.0], [0, 1])
    assert FEW_SEEDS == 5


def test_paired_difference_pairs_episodes_and_covers_the_gap_on_two_seeds():
    """2 seeds × 30 episodes, a true gap of 1: pairing the two seed means gave
    1.257 [1.073, 1.441]; pairing episodes and resampling seeds then episodes covers 1."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(2):
        for ep in range(30):
            common = rng.normal(0, 5)  # the demand draws both agents meet in this episode
            for agent, mu in (("a", 101.0), ("b", 100.0)):
                profit = mu + common + rng.normal(0, 1)
                rows.append(
                    {"market": "m", "agent": agent, "seed": seed, "episode": ep, "profit": profit}
                )
    eps = pd.DataFrame(rows)
    diff = paired_difference(eps, "a", "b")
    wide = eps.pivot_table(index=["seed", "episode"], columns="agent", values="profit")
    gaps = (wide["a"] - wide["b"]).to_numpy()
    same = hierarchical_bootstrap_ci(gaps, wide.index.get_level_values("seed").to_numpy())
    assert diff == same and diff.n == 2
    # 1.257: the mean of this seeded sample's 60 gaps (1.2573; seed means 1.0733, 1.4414)
    assert diff.value == pytest.approx(1.257, abs=1e-3)
    assert diff.low < 1.0 < diff.high
    assert (diff.low, diff.high) == pytest.approx((0.918, 1.643), abs=1e-3)
