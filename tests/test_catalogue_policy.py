"""Exported catalogue policies (issue 13): a price vector per (period, stock), JSON + .npz."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from pricegym.agents.catalogue_policy import CataloguePricePolicy
from pricegym.agents.multiproduct_optimum import catalogue_dp, grid_optimum
from pricegym.demand.catalogue_truth import LogitCatalogueTruth
from pricegym.envs.multiproduct import MultiProductEnv
from pricegym.errors import ConfigError, ModelFileError

TRUTH = LogitCatalogueTruth([2.0, 1.5, 1.0], 1.0, market_size=10.0, support=(0.5, 6.0))
MARKET = {"n_prices": 4, "p_min": 1.5, "p_max": 4.5, "cost": [1.0, 0.8, 0.5],
          "inventory": [6, 5, 4], "horizon": 8}  # fmt: skip


def test_dp_policy_round_trips_and_plays_the_dps_prices(tmp_path):
    env = MultiProductEnv(TRUTH, **MARKET)
    dp = catalogue_dp(env)
    policy = CataloguePricePolicy.from_dp(dp, env)
    path = policy.save(tmp_path / "policy.json")
    loaded = CataloguePricePolicy.load(path)
    assert loaded.max_stock == (6, 5, 4) and loaded.horizon == 8
    np.testing.assert_array_equal(loaded.actions, dp.policy)
    # play a season with the loaded policy's prices: the env posts exactly them
    _, info = env.reset(seed=1)
    stock, done, k = info["inventory"], False, 0
    while not done:
        prices = loaded.prices(k, stock)
        action = dp.action(k, stock)
        np.testing.assert_array_equal(prices, env.action_to_prices(action))
        _, _, done, _, info = env.step(action)
        np.testing.assert_array_equal(info["prices"], prices)
        stock, k = info["inventory"], k + 1
    card = json.loads(path.read_text())
    assert card["format"] == "pricegym.catalogue-policy" and card["products"] == ["p0", "p1", "p2"]


def test_unlimited_stock_policy_is_the_grid_optimum_every_period():
    env = gym.make("pricegym/LogitCatalogue-v0").unwrapped
    policy = CataloguePricePolicy.from_grid_optimum(env)
    assert policy.max_stock is None and policy.horizon == 20
    for t in (0, 19):
        np.testing.assert_array_equal(policy.prices(t), grid_optimum(env).prices)


def test_bad_queries_and_altered_files_are_refused(tmp_path):
    env = MultiProductEnv(TRUTH, **MARKET)
    policy = CataloguePricePolicy.from_dp(catalogue_dp(env), env)
    with pytest.raises(ConfigError, match="periods 0 … 7"):
        policy.prices(8, [1, 1, 1])
    with pytest.raises(ConfigError, match=r"'p2' is 9.*0 … 4 units"):
        policy.prices(0, [1, 1, 9])
    with pytest.raises(ConfigError, match="finite stock"):
        policy.prices(0)
    path = policy.save(tmp_path / "p.json")
    npz = path.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:-8] + b"corrupt!")
    with pytest.raises(ModelFileError, match="sha256"):
        CataloguePricePolicy.load(path)
