"""The PPO best-response check of ``benchmarks/bench_capacity_ppo.py`` on a tiny budget.

Checks the exact best reply and that one row and the README text are well-formed;
one 800-frame rollout is far too short to learn, so PPO's numbers are checked only
for range, not for quality.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_capacity_ppo.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_capacity_ppo", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_best_reply_to_the_nash_rival_is_nash_when_unconstrained():
    bp = _bench()
    env = bp._env(None, 100)
    # the unconstrained 'capacity' grid holds p^N at index 1 (ξ = 0.1, 15 prices)
    rival = 1
    br = bp.best_reply(env, None, rival)
    assert br["index"] in (1, 2)  # the grid points either side of p^N = 1.4729
    assert abs(br["price"] - 1.4729) < env.grid[1] - env.grid[0]


def test_ppo_row_and_readme_text_are_well_formed_on_a_tiny_budget():
    bp = _bench()
    row = bp.ppo_row(0.40, seed=0, frames=800, horizon=100)
    assert row["frames"] == 800 and row["rounds"] == 100
    # no play of the episode beats the LP bound, and the bound is at least the static reply
    assert row["profit_mean"] <= row["episode_bound_profit"] + 1e-9
    assert row["episode_bound_profit"] >= row["best_reply_profit"] - 1e-12
    assert row["delta"] <= row["episode_bound_delta"] + 1e-9
    assert abs(row["rival_price"] - row["nash_price"]) < 0.01
    doc = {
        "settings": {**bp.SETTINGS, "frames": 800},
        "ppo_overrides": bp.PPO_OVERRIDES,
        "rows": [row],
        "wall_s": 1.0,
    }
    text = bp.readme_table(doc)
    assert text.count("\n| 0.4 | 0 |") == 1 and "best-response check" in text
    assert all(math.isfinite(row[key]) for key in ("price_mean", "profit_mean", "delta"))
