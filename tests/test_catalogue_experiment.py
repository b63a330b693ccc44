"""Experiments on a catalogue market (issue 13): schema, benchmarks, runner, report, end to end."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import pricegym  # noqa: F401  (registers the ids)
from pricegym.agents.catalogue_rules import CatalogueFixedPrice
from pricegym.agents.multiproduct_optimum import catalogue_dp, grid_optimum
from pricegym.errors import ConfigError
from pricegym.experiments.catalogue import (
    best_fixed_vector,
    catalogue_benchmarks,
    elasticity_matrix,
    play_catalogue_episodes,
)
from pricegym.experiments.schema import load_experiment

STOCK = "pricegym/LogitCatalogueStock-v0"


def _small(**kw):
    return gym.make(STOCK, n_prices=5, horizon=6, inventory=[5, 4, 3], **kw).unwrapped


def test_elasticity_matrix_equals_the_logits_closed_form():
    env = gym.make("pricegym/LogitCatalogue-v0").unwrapped
    p = np.array([3.0, 2.5, 2.5])
    np.testing.assert_allclose(
        elasticity_matrix(env.demand, p), env.demand.elasticities(p[None])[0], atol=1e-8
    )


def test_best_fixed_vector_is_exact_against_simulation():
    """The exact season value of every fixed vector (min(Poisson, stock) per product)
    agrees with 4,000 simulated seasons of the best one within 4 standard errors, and
    no other vector simulates better than it by more than that."""
    env = _small(salvage=0.2)
    action, value = best_fixed_vector(env)
    venv = gym.make_vec(
        STOCK, num_envs=4000, vectorization_mode="vector_entry_point",
        n_prices=5, horizon=6, inventory=[5, 4, 3], salvage=0.2,
    )  # fmt: skip
    venv.reset(seed=0)
    total = np.zeros(4000)
    live = np.ones(4000, dtype=bool)
    for _ in range(6):
        _, r, term, _, _ = venv.step(np.tile(action, (4000, 1)))
        total += np.where(live, r, 0.0)
        live &= ~term
    se = total.std() / np.sqrt(4000)
    assert abs(total.mean() - value) < 4 * se
    # the DP, which may change prices, earns at least as much
    assert catalogue_dp(env).start_value >= value - 1e-9
    # unlimited stock: the best fixed vector is the grid optimum, T times
    free = gym.make("pricegym/LogitCatalogue-v0").unwrapped
    act, val = best_fixed_vector(free)
    best = grid_optimum(free)
    np.testing.assert_array_equal(act, best.action)
    assert val == pytest.approx(20 * best.profit, rel=1e-12)


def test_catalogue_benchmarks_and_episode_rows():
    env = _small()
    b = catalogue_benchmarks(env)
    assert b["dp"] == pytest.approx(catalogue_dp(env).start_value, rel=1e-12)
    assert len(b["best_fixed_price"]) == 3 and b["products"] == ["premium", "standard", "basic"]
    assert np.asarray(b["elasticity"]["matrix"]).shape == (3, 3)
    agent = CatalogueFixedPrice(b["best_fixed_price"]).bind(env)
    rows = play_catalogue_episodes(agent, env, [0, 1], [0, 0])
    assert [r["steps"] for r in rows] == [r["steps"] for r in rows] and len(rows) == 2
    for r in rows:
        assert r["units"] <= 12 and 0 <= r["sell_through"] <= 1
        assert r["avg_price"] == pytest.approx(np.mean(b["best_fixed_price"]))
    free = gym.make("pricegym/LogitCatalogue-v0").unwrapped
    assert catalogue_benchmarks(free)["dp"] == pytest.approx(20 * grid_optimum(free).profit)


EXPERIMENT = {
    "name": "catalogue",
    "seed": 3,
    "market": {"env": STOCK, "options": {"horizon": 6, "inventory": [5, 4, 3], "n_prices": 5}},
    "agents": [
        {"name": "fixed", "kind": "catalogue_fixed_price", "params": {"prices": [3, 3, 2.25]}},
        {"name": "myopic", "kind": "catalogue_myopic"},
        {"name": "markdown", "kind": "catalogue_markdown"},
        {"name": "ts", "kind": "catalogue_thompson", "train": {"episodes": 10}},
        {
            "name": "ppo",
            "kind": "sb3",
            "params": {
                "algo": "ppo",
                "hyperparams": {
                    "n_envs": 8,
                    "n_steps": 6,
                    "batch_size": 48,
                    "n_epochs": 1,
                    "eval_freq": 0,
                    "checkpoint_freq": 0,
                },
            },
            "train": {"timesteps": 480},
        },
    ],
    "evaluation": {"episodes": 5, "seeds": 2, "benchmarks": ["dp", "best_fixed"]},
    "tournament": {"modes": ["solo"]},
}


def test_a_small_catalogue_experiment_runs_end_to_end(tmp_path):
    from pricegym.experiments.runner import run_experiment

    cfg = load_experiment(EXPERIMENT)
    assert cfg.market.is_catalogue and cfg.market.n_products == 3
    result = run_experiment(cfg, tmp_path / "run", progress=False, command=["test"])
    run = tmp_path / "run"
    summary = pd.read_csv(run / "summary.csv")
    assert sorted(summary["agent"]) == ["fixed", "markdown", "myopic", "ppo", "ts"]
    bench = json.loads((run / "benchmarks.json").read_text())[cfg.market.name]
    env = _small()
    assert bench["dp"] == pytest.approx(catalogue_dp(env).start_value, rel=1e-9)
    assert bench["best_fixed"] == pytest.approx(best_fixed_vector(env)[1], rel=1e-9)
    assert bench["cost"]["value"] == [1.0, 0.8, 0.5]
    np.testing.assert_allclose(summary["dp_optimum"], bench["dp"], rtol=1e-9)
    episodes = result.episodes
    assert len(episodes) == 5 * 2 * 5 and (episodes["steps"] <= 6).all()
    assert (episodes["units"] <= 12).all()
    # no agent beats the exact optimum on average by more than the episode noise allows
    means = episodes.groupby("agent")["profit"].mean()
    assert (means < bench["dp"] * 1.25).all()
    figures = {p.name for p in (run / "figures").iterdir()}
    for product in ("premium", "standard", "basic"):
        assert f"price_paths__{cfg.market.name}__{product}.png" in figures
    page = (run / "index.html").read_text(encoding="utf-8")
    assert "Cross-price elasticities" in page and "units of premium" in page
    assert "replayed episode" not in page  # every replay matched episodes.csv


def test_one_product_agents_are_refused_in_a_catalogue_experiment(tmp_path):
    from pricegym.experiments.runner import run_experiment

    bad = {**EXPERIMENT, "agents": [{"name": "m", "kind": "myopic"}]}
    with pytest.raises(ConfigError, match="catalogue market"):
        run_experiment(bad, tmp_path / "run", progress=False, command=["test"])
