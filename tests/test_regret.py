"""Regret-rate reproduction: the parametric learners, the slope fits, and a short run.

Loads ``benchmarks/bench_regret.py`` as a module (as ``benchmarks/report.py`` does).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pricegym.agents.batched_parametric import BatchCILS, BatchGreedyIntercept
from pricegym.errors import ConfigError

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_regret.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_regret", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_greedy_with_known_slope_prices_at_the_optimum_without_noise():
    g = BatchGreedyIntercept(3, slope=1.0, p_min=0.5, p_max=1.5, cost=0.2, start=0.5)
    np.testing.assert_array_equal(g.act(), [0.5] * 3)
    g.update(g.act(), 2.0 - g.act())  # λ(p) = 2 − p exactly
    np.testing.assert_allclose(g.intercept_, [2.0] * 3, rtol=1e-12)
    np.testing.assert_allclose(g.act(), [(2.0 + 0.2) / 2] * 3, rtol=1e-12)  # (a/b + m)/2


def test_cils_least_squares_equals_polyfit_and_deviation_is_forced():
    rng = np.random.default_rng(0)
    c = BatchCILS(4, 0.5, 1.5, kappa=0.5)
    seen_p, seen_d = [], []
    for _ in range(300):
        p = c.act()
        d = 2.0 - p + rng.normal(0, 0.3, size=4)
        c.update(p, d)
        seen_p.append(p)
        seen_d.append(d)
    p_arr, d_arr = np.array(seen_p), np.array(seen_d)
    for r in range(4):
        slope, intercept = np.polyfit(p_arr[:, r], d_arr[:, r], 1)
        assert c.slope_[r] == pytest.approx(-slope, rel=1e-8)
        assert c.intercept_[r] == pytest.approx(intercept, rel=1e-8)
    # every charged price from t = 2 on is at least κ·t^(−1/4) from the mean before it
    for t in range(2, 300):
        gap = np.abs(p_arr[t] - p_arr[:t].mean(axis=0))
        assert np.all(gap >= 0.5 * t**-0.25 - 1e-12), t
    assert np.all((p_arr >= 0.5) & (p_arr <= 1.5))


def test_bad_learner_settings_are_rejected():
    with pytest.raises(ConfigError, match="slope"):
        BatchGreedyIntercept(2, slope=0.0, p_min=0.5, p_max=1.5)
    with pytest.raises(ConfigError, match="kappa"):
        BatchCILS(2, 0.5, 1.5, kappa=-1.0)
    with pytest.raises(ConfigError, match="price range"):
        BatchCILS(2, 1.5, 0.5)


def test_slope_and_decade_ratio_on_known_curves():
    br = _bench()
    h = np.unique(np.round(10 ** np.arange(2.0, 5.01, 0.25)).astype(int)).astype(float)
    rng = np.random.default_rng(1)
    sqrt_curves = 3.0 * np.sqrt(h)[None, :] * rng.uniform(0.8, 1.2, size=(30, 1))
    fit = br.fit_slope(sqrt_curves, h)
    assert fit["slope"] == pytest.approx(0.5, abs=1e-12)  # a per-seed factor leaves 0.5
    assert fit["low"] <= 0.5 <= fit["high"] or fit["high"] - fit["low"] < 1e-9
    assert br.decade_ratio(sqrt_curves, h)["ratio"] == pytest.approx(math.sqrt(10), rel=1e-3)
    log_curves = 5.0 * np.log(h)[None, :] + rng.normal(0, 0.01, size=(30, h.size))
    assert br.decade_ratio(log_curves, h)["ratio"] == pytest.approx(1.0, abs=0.01)
    assert br.fit_slope(log_curves, h)["slope"] < 0.2


def test_refined_grids_have_k_of_t_prices_inside_the_range():
    br = _bench()
    for horizon, k in ((1000, 4), (100_000, 10)):  # ⌈(T/ln T)^(1/4)⌉
        grid = br.kl_prices(horizon, 5, np.random.default_rng(0))
        assert grid.shape == (5, k)
        assert np.all((grid >= 0.5) & (grid <= 1.5))
        np.testing.assert_allclose(np.diff(grid, axis=1), 1.0 / k, rtol=1e-12)


@pytest.mark.slow
def test_log_t_and_sqrt_t_rates_on_a_short_run():
    # 40 seeds, T up to 10^4 (~10 s). Measured: UCB1 on the 3-price grid slope 0.32, decade
    # ratio 1.45; greedy with the slope known 0.09 / 0.84; CILS 0.51 [0.45, 0.59] / 3.08.
    br = _bench()
    h = np.unique(np.round(10 ** np.arange(2.0, 4.01, 0.25)).astype(int))
    fit = h >= 1000
    out = {}
    for i, name in enumerate(("ucb1_grid3", "greedy_known_slope", "cils")):
        regret = br.regret_paths(name, 40, int(h[-1]), h, 2012 + i)
        assert regret.shape == (40, h.size) and np.all(np.diff(regret, axis=1) >= 0)
        out[name] = (br.fit_slope(regret[:, fit], h[fit]), br.decade_ratio(regret, h))
    for name in ("ucb1_grid3", "greedy_known_slope"):  # log T: slope well below 0.5, ratio ~1
        slope, ratio = out[name]
        assert slope["high"] < 0.45 and ratio["ratio"] < 2.0, (name, slope, ratio)
    slope, ratio = out["cils"]  # √T: slope CI around 0.5, ratio near √10
    assert 0.35 < slope["slope"] < 0.65
    assert slope["low"] <= 0.55 and slope["high"] >= 0.45  # the CI meets [0.45, 0.55]
    assert ratio["ratio"] > 2.0


def test_inventory_lp_rate_is_the_papers_bound():
    assert _bench().lp_rate() == pytest.approx(10.1, rel=1e-12)


@pytest.mark.slow
def test_inventory_ts_update_loses_less_than_ts_fixed():
    # 100 seeds at T = 1000 (~5 s): measured regret vs the LP bound ~70 (update), ~350 (fixed)
    br = _bench()
    h = np.array([1000])
    update = br.regret_inventory("inventory_ts_update", 100, h, 1)[:, 0]
    fixed = br.regret_inventory("inventory_ts_fixed", 100, h, 1)[:, 0]
    se = math.sqrt(update.var() / 100 + fixed.var() / 100)
    assert fixed.mean() - update.mean() > 4 * se, (update.mean(), fixed.mean(), se)
    assert 0 < update.mean() < 200
