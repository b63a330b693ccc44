"""The catalogue market (issue 13): MultiProductEnv, its batched twin, the registered ids."""

from __future__ import annotations

import doctest
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.error import InvalidAction, ResetNeeded
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import pricegym.envs.multiproduct as multiproduct
from pricegym.demand.catalogue_truth import LogitCatalogueTruth
from pricegym.demand.data import load_history
from pricegym.demand.logit_shares import LogitShares
from pricegym.envs.multiproduct import MultiProductEnv
from pricegym.envs.multiproduct_registration import CATALOGUE_ENV_IDS
from pricegym.envs.multiproduct_vector import MultiProductVectorEnv
from pricegym.errors import ConfigError, DecisionWarning, ExtrapolationWarning
from pricegym.registration import ENV_IDS

QUALITY, ALPHA, COST = [2.0, 1.5, 1.0], 1.0, [1.0, 0.8, 0.5]
TRUTH = LogitCatalogueTruth(QUALITY, ALPHA, market_size=10.0, support=(0.5, 6.0))
#: small stocks so that markets sell out and autoreset within a few dozen steps
MARKET = {
    "n_prices": 5,
    "p_min": 1.0,
    "p_max": 5.0,
    "cost": COST,
    "salvage": [0.3, 0.2, 0.1],
    "inventory": [12, 8, 5],
    "horizon": 15,
}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A LogitShares fitted to 300 periods of the truth's Poisson sales (M = 2000), saved."""
    truth = LogitCatalogueTruth(QUALITY, ALPHA, market_size=2000.0, support=(1.0, 5.0))
    rng = np.random.default_rng(7)
    prices = rng.uniform(1.0, 5.0, (300, 3))
    units = rng.poisson(truth.mean_units(prices))
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(300), 3),
            "sku": np.tile(list(truth.product_names), 300),
            "price": prices.ravel(),
            "units": units.ravel().astype(float),
        }
    )
    history = load_history(frame, period="week", product="sku")
    model = LogitShares(market_size=2000.0).fit(history)
    return str(model.save(tmp_path_factory.mktemp("catalogue") / "logit.json"))


def _kwargs(env_id: str, model_path: str) -> dict:
    return {"model_path": model_path, "cost": COST} if "Fitted" in env_id else {}


# ==================================================================== spec and conformance
def test_class_docstring_example_runs():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    for test in finder.find(multiproduct.MultiProductEnv, "MultiProductEnv", globs={}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 8 and result.failed == 0


def test_every_pricegym_id_is_a_single_seller_or_a_catalogue_market():
    ids = sorted(k for k in gym.registry if k.startswith("pricegym/"))
    assert ids == sorted({*ENV_IDS, *CATALOGUE_ENV_IDS})
    for env_id in CATALOGUE_ENV_IDS:
        spec = gym.registry[env_id]
        assert spec.vector_entry_point.endswith(
            "multiproduct_registration:make_catalogue_vector_env"
        )


@pytest.mark.parametrize("env_id", sorted(CATALOGUE_ENV_IDS))
def test_gymnasium_and_sb3_checkers_pass_without_warnings(env_id, model_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(env_id, **_kwargs(env_id, model_path))
        check_env(env.unwrapped)
        sb3_check_env(gym.make(env_id, **_kwargs(env_id, model_path)), warn=True)
    assert [str(w.message) for w in caught] == []
    assert isinstance(env.unwrapped, MultiProductEnv)
    assert env.action_space == gym.spaces.MultiDiscrete([7, 7, 7])
    assert env.observation_space.shape == (10,)


@pytest.mark.parametrize("env_id", sorted(CATALOGUE_ENV_IDS))
def test_make_vec_entry_point_equals_a_sync_vector_env(env_id, model_path):
    kw = _kwargs(env_id, model_path)
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", **kw)
    sync = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync", **kw)
    assert isinstance(venv, MultiProductVectorEnv) and isinstance(sync, SyncVectorEnv)
    assert venv.single_action_space == sync.single_action_space
    assert venv.single_observation_space == sync.single_observation_space
    o1, _ = venv.reset(seed=3)
    o2, _ = sync.reset(seed=3)
    np.testing.assert_array_equal(o1, o2)
    venv.action_space.seed(0)
    for _ in range(30):  # 20-period seasons: crosses an autoreset
        action = venv.action_space.sample()
        r1, r2 = venv.step(action), sync.step(action)
        np.testing.assert_allclose(r1[0], r2[0], rtol=0, atol=1e-6)  # float32 obs
        np.testing.assert_allclose(r1[1], r2[1], rtol=1e-12)
        np.testing.assert_array_equal(r1[2], r2[2])
        np.testing.assert_array_equal(r1[3], r2[3])


def test_fitted_catalogue_market_has_the_truths_grid_optimum(model_path):
    from pricegym.agents.multiproduct_optimum import grid_optimum

    fitted = gym.make("pricegym/FittedCatalogue-v0", model_path=model_path, cost=COST).unwrapped
    truth = MultiProductEnv(
        LogitCatalogueTruth(QUALITY, ALPHA, market_size=2000.0, support=(1.0, 5.0)),
        prices=fitted.config.grids,
        cost=COST,
    )
    # the fitted alpha is within ~0.01 of 1 (SE ~0.004 on 900 product-periods)
    assert fitted.demand.alpha_ == pytest.approx(ALPHA, abs=0.03)
    a, b = grid_optimum(fitted), grid_optimum(truth)
    np.testing.assert_array_equal(a.action, b.action)
    assert a.profit == pytest.approx(b.profit, rel=0.03)


# ==================================================================== batch = B single markets
class _Growing:
    """The truth with demand growing 5% a period: every period has its own means."""

    n_products = TRUTH.n_products
    product_names = TRUTH.product_names
    support_ = TRUTH.support_

    def mean_units(self, prices, period=0):
        growth = 1.0 + 0.05 * np.asarray(period, dtype=float)
        return TRUTH.mean_units(prices) * np.reshape(growth, (-1, 1))


def _run_pair(market: dict, steps: int, seed: int, b: int = 6, demand=TRUTH):
    """Step a MultiProductVectorEnv and B single envs (seeds s + i) with the same actions."""
    venv = MultiProductVectorEnv(demand, b, **market)
    envs = [MultiProductEnv(demand, **market) for _ in range(b)]
    obs, info = venv.reset(seed=seed)
    singles = [e.reset(seed=seed + i) for i, e in enumerate(envs)]
    np.testing.assert_array_equal(obs, np.array([o for o, _ in singles]))
    rng = np.random.default_rng(seed)
    ended = np.zeros(b, dtype=bool)
    n_resets = 0
    for _ in range(steps):
        actions = rng.integers(0, venv.config.nvec, (b, venv.n_products))
        obs, rew, term, trunc, info = venv.step(actions)
        assert not trunc.any()
        for i, env in enumerate(envs):
            if ended[i]:  # NEXT_STEP: this step resets market i and ignores its action
                o, _ = env.reset()
                r, t, inf = 0.0, False, None
                n_resets += 1
                assert not info["_sales"][i] and info["_t"][i] and info["t"][i] == 0
            else:
                o, r, t, _, inf = env.step(actions[i])
            np.testing.assert_allclose(obs[i], o, rtol=1e-6, atol=1e-7)
            assert rew[i] == pytest.approx(r, rel=1e-12, abs=1e-12)
            assert term[i] == t
            if inf is not None:
                for key in ("demand", "sales", "inventory", "prices"):
                    np.testing.assert_array_equal(info[key][i], inf[key])  # discrete: exact
                np.testing.assert_allclose(
                    info["expected_demand"][i], inf["expected_demand"], rtol=1e-12
                )
        ended = term.copy()
    return n_resets


def test_batch_equals_b_single_markets_through_sell_outs_and_autoresets():
    assert _run_pair(MARKET, steps=60, seed=11) >= 6  # several autoresets happened


def test_batch_equals_single_markets_with_unlimited_stock_and_without_noise():
    _run_pair({**MARKET, "inventory": None}, steps=20, seed=5)
    _run_pair({**MARKET, "noise": "none"}, steps=20, seed=5)


def test_batch_equals_single_markets_with_period_dependent_demand_on_both_paths(monkeypatch):
    import pricegym.envs.multiproduct_vector as vector

    venv = MultiProductVectorEnv(_Growing(), 2, **MARKET)
    assert venv._table_mu is not None and venv._table_mu.shape == (15, 125, 3)  # 15 blocks
    assert MultiProductVectorEnv(TRUTH, 2, **MARKET)._table_mu.shape == (1, 125, 3)
    _run_pair(MARKET, steps=40, seed=2, demand=_Growing())
    monkeypatch.setattr(vector, "TABLE_MAX", 0)  # no table: mean_units every step, numpy
    assert MultiProductVectorEnv(TRUTH, 2, **MARKET)._table_mu is None
    assert _run_pair(MARKET, steps=60, seed=11) >= 6
    _run_pair(MARKET, steps=40, seed=2, demand=_Growing())
    _run_pair({**MARKET, "noise": "none", "inventory": None}, steps=20, seed=5)


def test_batch_equals_single_markets_with_large_means():
    # means of 100+ units: numpy's PTRS branch (lambda >= 10) in the compiled draws
    big = LogitCatalogueTruth(QUALITY, ALPHA, market_size=400.0, support=(0.5, 6.0))
    assert big.mean_units([1.0, 1.0, 1.0]).min() > 40
    _run_pair({**MARKET, "inventory": [900, 700, 500]}, steps=30, seed=4, demand=big)


def test_same_seed_same_trajectory_and_another_seed_differs():
    def run(seed):
        venv = MultiProductVectorEnv(TRUTH, 4, **MARKET)
        venv.reset(seed=seed)
        out = [venv.step(np.full((4, 3), 2))[1] for _ in range(10)]
        return np.array(out)

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


# ==================================================================== market invariants
def test_sales_stock_and_reward_invariants_over_a_season():
    env = MultiProductEnv(TRUTH, **MARKET)
    obs, info = env.reset(seed=0)
    stock0 = np.array(MARKET["inventory"], dtype=float)
    sold = np.zeros(3)
    cost = np.array(COST)
    done, k = False, 0
    while not done:
        obs, r, done, _, info = env.step([0, 0, 0])  # lowest prices: sells out fast
        k += 1
        assert env.observation_space.contains(obs)
        assert (info["sales"] <= info["demand"]).all()
        assert (info["sales"] <= stock0 - sold).all()
        np.testing.assert_array_equal(info["lost_sales"], info["demand"] - info["sales"])
        sold += info["sales"]
        np.testing.assert_array_equal(info["inventory"], stock0 - sold)  # conserved
        assert info["revenue"] == pytest.approx(float(info["prices"] @ info["sales"]))
        expected = float((info["prices"] - cost) @ info["sales"]) + info["salvage"]
        assert r == pytest.approx(expected) and info["profit"] == r
        np.testing.assert_allclose(obs[1:4], info["inventory"] / stock0, rtol=1e-6)
    assert k < MARKET["horizon"] and (info["inventory"] == 0).all()  # sold out: terminated
    assert info["salvage"] == 0.0
    with pytest.raises(ResetNeeded):
        env.step([0, 0, 0])


def test_salvage_is_paid_on_leftovers_at_the_seasons_end_only():
    env = MultiProductEnv(TRUTH, **{**MARKET, "horizon": 2})
    env.reset(seed=0)
    _, _, done, _, info = env.step([4, 4, 4])
    assert not done and info["salvage"] == 0.0
    _, _, done, _, info = env.step([4, 4, 4])
    assert done
    assert info["salvage"] == pytest.approx(float(np.array(MARKET["salvage"]) @ info["inventory"]))


def test_poisson_demand_has_the_models_mean():
    venv = MultiProductVectorEnv(TRUTH, 2000, **{**MARKET, "inventory": None})
    venv.reset(seed=0)
    _, _, _, _, info = venv.step(np.full((2000, 3), 2))
    mu = TRUTH.mean_units([3.0, 3.0, 3.0])[0]
    # sample mean of 2000 Poisson draws: SE = sqrt(mu / 2000) <= 0.04; 5 SE
    np.testing.assert_allclose(info["demand"].mean(axis=0), mu, atol=5 * np.sqrt(mu.max() / 2000))


# ==================================================================== errors that teach
def test_bad_actions_and_settings_raise_with_the_value_and_the_fix():
    env = MultiProductEnv(TRUTH, **MARKET)
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=r"\[5, 0, 0\].*outside the price grids"):
        env.step([5, 0, 0])
    with pytest.raises(InvalidAction, match="3 integer grid indices"):
        env.step([0.5, 1, 1])
    with pytest.raises(ConfigError, match=r"cost=\[1.0, 2.0\].*one per product \(3"):
        MultiProductEnv(TRUTH, cost=[1.0, 2.0])
    with pytest.raises(ConfigError, match="increasing order"):
        MultiProductEnv(TRUTH, prices=[3.0, 2.0])
    with pytest.raises(ConfigError, match="outside the demand model's support"):
        MultiProductEnv(TRUTH, prices=[1.0, 8.0])
    with pytest.warns(ExtrapolationWarning, match="extrapolated"):
        MultiProductEnv(TRUTH, prices=[1.0, 8.0], allow_outside_support=True)
    with pytest.raises(ConfigError, match="whole units"):
        MultiProductEnv(TRUTH, inventory=2.5)
    with pytest.raises(ConfigError, match="not a multi-product demand model"):
        MultiProductEnv(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="NEXT_STEP"):
        MultiProductVectorEnv(TRUTH, 2, autoreset_mode=AutoresetMode.SAME_STEP)
    venv = MultiProductVectorEnv(TRUTH, 2, **MARKET)
    venv.reset(seed=0)
    with pytest.raises(InvalidAction, match="market 1, product 'p2'"):
        venv.step([[0, 0, 0], [0, 0, 9]])
    with pytest.raises(ConfigError, match="model_path"):
        gym.make("pricegym/FittedCatalogue-v0")
    with pytest.raises(ConfigError, match="unknown"):
        gym.make("pricegym/LogitCatalogue-v0", horizn=3)


def test_per_product_grids_and_a_one_product_catalogue():
    env = MultiProductEnv(TRUTH, prices=[[1.0, 2.0], [1.5, 2.5, 3.5], [2.0]], cost=0.5)
    assert env.action_space == gym.spaces.MultiDiscrete([2, 3, 1])
    env.reset(seed=0)
    _, _, _, _, info = env.step([1, 2, 0])
    np.testing.assert_array_equal(info["prices"], [2.0, 3.5, 2.0])
    single = MultiProductEnv(LogitCatalogueTruth([1.0], 1.0, support=(1, 3)), n_prices=3)
    check_env(single, skip_render_check=True)
    assert single.observation_space.shape == (4,)


def test_an_optimum_at_the_grids_edge_warns_and_names_the_product():
    import itertools

    # the logit optimum is 2.93 / 2.73 / 2.43: a grid topping out at 2.0 cuts it off
    with pytest.warns(DecisionWarning, match=r"'p0' at its highest price 2.*'p1' at its"):
        MultiProductEnv(TRUTH, prices=[1.0, 1.5, 2.0], cost=COST)
    with pytest.warns(DecisionWarning, match="unit cost 0"):
        MultiProductVectorEnv(TRUTH, 2, prices=[4.0, 5.0, 6.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MultiProductEnv(TRUTH, **MARKET)  # optimum inside the grid: silent
    cfg = MultiProductEnv(TRUTH, prices=[[1.0, 2.0], [1.0, 2.0, 3.0], [1.0]]).config
    expected = list(itertools.product(range(2), range(3), range(1)))
    assert cfg.all_actions().tolist() == [list(a) for a in expected]


def test_experiments_accept_a_catalogue_market():
    """Experiments run catalogue markets (tests/test_catalogue_experiment.py runs one end to
    end); the spec says so, and one-product agents are refused when the run binds them."""
    from pricegym.experiments.schema import load_experiment

    doc = {
        "name": "unit",
        "market": {"env": "pricegym/LogitCatalogue-v0"},
        "agents": [{"name": "myopic", "kind": "catalogue_myopic"}],
        "evaluation": {"benchmarks": ["dp", "best_fixed"]},
    }
    market = load_experiment(doc).market
    assert market.is_catalogue and market.n_products == 3 and market.action == "discrete"
    assert not load_experiment(
        {**doc, "market": {"env": "pricegym/Markdown-v0"}}
    ).market.is_catalogue


def test_fitted_loglog_system_with_a_trend_drives_the_registered_market(tmp_path):
    from pricegym.demand.multiproduct import LogLogSystem

    rng = np.random.default_rng(3)
    n = 120
    elast = np.array([[-3.0, 0.4, 0.3], [0.3, -3.0, 0.2], [0.3, 0.3, -2.8]])
    prices = rng.uniform(1.0, 3.0, (n, 3))
    t = np.arange(n)[:, None]
    units = rng.poisson(
        np.exp(np.log([900.0, 700.0, 500.0]) + np.log(prices) @ elast.T + 0.004 * t)
    )
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(n), 3),
            "sku": np.tile(["a", "b", "c"], n),
            "price": prices.ravel(),
            "units": units.ravel().astype(float),
        }
    )
    model = LogLogSystem(trend=True).fit(load_history(frame, period="week", product="sku"))
    np.testing.assert_allclose(model.elasticity_.estimate, elast, atol=0.15)
    path = str(model.save(tmp_path / "loglog.json"))
    kw = {"model_path": path, "cost": 1.2, "horizon": 6, "n_prices": 5}
    # with these cross effects the joint optimum prices product b above its data range:
    # the market says so (the support caps the grid at b's highest price seen, 2.92)
    with pytest.warns(DecisionWarning, match="'b' at its highest price 2.918"):
        env = gym.make("pricegym/FittedCatalogue-v0", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecisionWarning)
        check_env(env.unwrapped)  # (its render check makes the env again)
        venv = gym.make_vec("pricegym/FittedCatalogue-v0", num_envs=3, **kw)
        sync = gym.make_vec(
            "pricegym/FittedCatalogue-v0", num_envs=3, vectorization_mode="sync", **kw
        )
    assert venv._table_mu.shape[0] == 6  # the trend: one block per period
    np.testing.assert_array_equal(venv.reset(seed=1)[0], sync.reset(seed=1)[0])
    for a in np.random.default_rng(0).integers(0, 5, (8, 3, 3)):
        r1, r2 = venv.step(a), sync.step(a)
        np.testing.assert_allclose(r1[1], r2[1], rtol=1e-12)
        np.testing.assert_array_equal(r1[2], r2[2])
