"""Hansen, Misra & Pai (2021) reproduction on a reduced configuration (the benchmark's code).

Loads ``benchmarks/bench_bandit_collusion.py`` as a module (as ``benchmarks/report.py``
does) and checks its batched sellers against the UCB1 agents in OligopolyEnv, and
the published direction on fewer runs and periods than the script's defaults.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_bandit_collusion.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_bandit_collusion", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exact_benchmarks_of_the_linear_duopoly():
    b = _bench().benchmarks()
    assert b["nash_price"] == pytest.approx(2 / 3, rel=1e-12)
    assert b["monopoly_price"] == pytest.approx(1.0, rel=1e-12)
    assert b["nash_profit"] == pytest.approx(4 / 9, rel=1e-12)
    assert b["monopoly_profit"] == pytest.approx(0.5, rel=1e-12)
    assert abs(b["numeric_nash_price"] - 2 / 3) < 1e-7
    assert abs(b["numeric_monopoly_price"] - 1.0) < 1e-6


def test_batched_sellers_play_the_env_agents_runs():
    bc = _bench()
    for sigma in (0.0, 0.3):
        fast = bc.simulate(sigma, 0.2, 2, 400, seed=7)
        for r in range(2):  # discrete outcomes (price indices): compared exactly
            np.testing.assert_array_equal(fast[r], bc.simulate_reference(sigma, 0.2, r, 400, 7))


@pytest.mark.slow
def test_supra_competitive_at_high_snr_competitive_at_low_snr():
    # 60 runs x 10,000 periods per noise level (~5 s in all). The full run (500 runs x 50,000
    # periods, scale 0.2) gives near-monopoly shares of about 45% at SNR 33 and 0% at SNR 0.33.
    bc = _bench()
    bench = bc.benchmarks()
    rows = {
        sigma: bc.summarise(sigma, 0.2, bc.simulate(sigma, 0.2, 60, 10_000, 2021), 1000, bench)
        for sigma in (0.0, 0.01, 1.0)
    }
    # noiseless: both sellers play identical deterministic sequences, every run ends near p^M
    assert rows[0.0]["same_price_share"] == 1.0 and rows[0.0]["near_monopoly_share"] == 1.0
    high, low = rows[0.01], rows[1.0]
    # SNR 33 vs 0.33: near-monopoly shares ~48% vs ~0% (s.e. of a share of 60 runs <= 6.5%)
    assert high["near_monopoly_share"] > low["near_monopoly_share"] + 0.25
    assert low["near_nash_share"] > 0.8
    assert high["delta_ci95"][0] > low["delta_ci95"][1]
    assert high["same_price_share"] > low["same_price_share"] + 0.2  # correlated experiments
