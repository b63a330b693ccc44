"""Reusable warm workers: started once, heavy modules preloaded, same bytes as one process."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pricegym.errors import ConfigError
from pricegym.experiments import runner, workers
from pricegym.experiments.runner import run_experiment
from pricegym.experiments.workers import WorkerPool, start_method

OPTIONS = {"n_prices": 6, "p_min": 0.5, "p_max": 5.0, "horizon": 8, "inventory": 6}
#: Two trained kinds (a bandit and PPO: torch in the workers), a rule and the DP.
SMALL: dict[str, Any] = {
    "name": "workers",
    "seed": 3,
    "market": {"demand": {"form": "exponential", "a": 10.0, "alpha": 1.0}, "options": OPTIONS},
    "agents": [
        {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.3}},
        {"name": "ucb", "kind": "ucb1", "train": {"episodes": 5}},
        {"name": "ppo", "kind": "sb3", "params": {"algo": "ppo"}, "train": {"timesteps": 512}},
        {"name": "optimum", "kind": "dp"},
    ],
    "evaluation": {"episodes": 3, "seeds": 2},
}
HEAVY = ("torch", "torch._dynamo", "stable_baselines3", "pricegym.agents.sb3")


def loaded(names: tuple[str, ...]) -> tuple[int, list[bool]]:
    """In a worker: its pid and which of ``names`` were imported before this task."""
    return os.getpid(), [n in sys.modules for n in names]


def run(config: Any, run_dir: Path, **kwargs: Any) -> runner.RunResult:
    return run_experiment(config, run_dir, progress=False, command=["test"], report=False, **kwargs)


def _cells(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every cell result of a run, without its wall seconds (the one timing field)."""
    import json

    out = {}
    for path in sorted((run_dir / "cells").rglob("*.json")):
        doc = json.loads(path.read_text())
        doc.pop("seconds")
        out[str(path.relative_to(run_dir))] = doc
    return out


# ================================================================ arguments
@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_bad_jobs_is_refused_with_the_value(jobs):
    with pytest.raises(ConfigError, match=f"jobs={jobs!r} must be an integer >= 1"):
        WorkerPool(jobs)


def test_fork_is_refused_and_the_platform_methods_named():
    with pytest.raises(ConfigError, match=r"method='fork'.*Fix: leave method unset"):
        WorkerPool(2, method="fork")


def test_forkserver_is_the_default_where_the_platform_has_it():
    import multiprocessing

    expected = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    assert start_method() == expected == WorkerPool(2).method


# ================================================================ workers
def test_cold_spawned_workers_are_reused_and_closing_twice_is_harmless():
    with WorkerPool(2, preload=False, method="spawn") as pool:
        pids = {pool.get().submit(os.getpid).result() for _ in range(8)}
        assert len(pids) <= 2 and os.getpid() not in pids
    pool.close()
    assert pool._pool is None


@pytest.mark.skipif(start_method() != "forkserver", reason="no fork server on this platform")
@pytest.mark.slow  # the fork server imports torch, SB3 and every agent kind once (~5 s)
def test_warm_workers_start_with_torch_and_every_agent_kind_loaded():
    workers.stop_fork_server()  # a fresh server: this test sees its own preload
    with WorkerPool(2) as pool:
        answers = [pool.get().submit(loaded, HEAVY).result() for _ in range(6)]
    assert len({pid for pid, _ in answers}) <= 2
    assert all(all(flags) for _, flags in answers), answers


@pytest.mark.slow  # one serial run and one over 2 warm workers (~5-15 s on 2 busy cores)
def test_warm_workers_write_the_bytes_of_one_process(tmp_path):
    serial = run(SMALL, tmp_path / "serial", jobs=1)
    pooled = run(SMALL, tmp_path / "pooled", jobs=2)
    assert serial.computed == pooled.computed == {"train": 4, "evaluate": 8, "tournament": 0}
    for name in ("summary.csv", "episodes.csv", "seeds.json", "benchmarks.json"):
        assert (pooled.run_dir / name).read_bytes() == (serial.run_dir / name).read_bytes(), name
    assert _cells(pooled.run_dir) == _cells(serial.run_dir)
    # saved policies: the same arrays (an .npz's zip headers carry the time it was written)
    policies = sorted(p.relative_to(serial.run_dir) for p in serial.run_dir.rglob("*.npz"))
    assert policies
    for rel in policies:
        with np.load(serial.run_dir / rel) as a, np.load(pooled.run_dir / rel) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{rel}: {key}")
