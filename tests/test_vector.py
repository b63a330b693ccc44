"""MarketVectorEnv: B markets in one batch equal B PricingEnvs, and the SB3 adapter.

The reference for every equality is gymnasium's own ``SyncVectorEnv`` over
``PricingEnv`` s (or SB3's ``DummyVecEnv`` for the adapter) with the same seeds.
"""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import PATH_RTOL, SkewedMaths, assert_same_outcome
from gymnasium.error import InvalidAction, ResetNeeded
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import pricegym  # noqa: F401  (registers the ids)
from pricegym.demand import ExponentialTruth, LinearTruth
from pricegym.demand.noise import NoiseModel
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import DemandTruth, generate_history
from pricegym.envs import _fastpath
from pricegym.envs import vector as vector_module
from pricegym.envs._streams import _MarketStreams
from pricegym.envs.market import PricingEnv
from pricegym.envs.vector import STEP_KEYS, MarketVectorEnv, SB3VecEnv
from pricegym.errors import ConfigError
from pricegym.registration import market_setup

NEXT, SAME = AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP


# ==================================================================== helpers
@pytest.fixture(scope="module")
def fitted():
    """Fitted kernels with a competitor column, a season and Poisson / NB2 noise."""
    history = generate_history(
        DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
        n_periods=104,
        noise="poisson",
        seed=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "loglinear": make_model("loglinear").fit(history).kernel(),
            "arimax": make_model("arimax", order=(1, 0, 0)).fit(history).kernel(),
            # 5 states: filtered with matrix products (single env: a BLAS dot)
            "arimax-5": make_model("arimax", order=(5, 0, 1)).fit(history).kernel(),
        }


def _sync(kernel, config, b, mode=NEXT):
    def make():
        return PricingEnv(kernel, config)

    return SyncVectorEnv([make] * b, autoreset_mode=mode)


def _assert_info_equal(mine: dict, ref: dict) -> float:
    """``info`` dicts equal key by key (:func:`assert_same_outcome`); return the largest gap."""
    assert set(mine) == set(ref)
    gap = 0.0
    for key, value in ref.items():
        if key == "final_obs":
            for a, b in zip(mine[key], value, strict=True):
                assert (a is None) == (b is None), key
                if b is not None:
                    gap = max(gap, assert_same_outcome(a, b, key))
        elif key == "final_info":
            gap = max(gap, _assert_info_equal(mine[key], value))
        else:
            gap = max(gap, assert_same_outcome(mine[key], value, key))
    return gap


_STEP_NAMES = ("observation", "reward", "terminated", "truncated")


def _assert_step_equal(r1: tuple, r2: tuple) -> float:
    """Two ``step`` results (obs, reward, terminated, truncated, info) equal; the largest gap."""
    pairs = zip(r1[:4], r2[:4], _STEP_NAMES, strict=True)
    gaps = [assert_same_outcome(a, b, name) for a, b, name in pairs]
    return max(*gaps, _assert_info_equal(r1[4], r2[4]))


def _run_both(venv, sync, n_steps, seed=7, gaps=None):
    """Step both with the same random actions; assert equal outcomes; return episode ends.

    The largest relative gap of a continuous quantity is appended to ``gaps`` if given.
    """
    o1, i1 = venv.reset(seed=seed)
    o2, i2 = sync.reset(seed=seed)
    gap = max(assert_same_outcome(o1, o2, "observation"), _assert_info_equal(i1, i2))
    space = venv.action_space
    space.seed(seed)
    ends = np.zeros(venv.num_envs, dtype=int)
    for _ in range(n_steps):
        action = space.sample()
        r1, r2 = venv.step(action), sync.step(action)
        gap = max(gap, _assert_step_equal(r1, r2))
        ends += r1[2] | r1[3]
    if gaps is not None:
        gaps.append(gap)
    return ends


#: exp/log of one code path moved against the other's, as numpy's AVX-512 kernels differ
#: from libm on some CPUs: (module whose maths is skewed, ulps). Every test comparing the
#: batched market with single markets runs under each, and must pass under each.
SKEWS = {
    "native": None,
    "batch+1ulp": ("batch", 1),
    "batch-2ulp": ("batch", -2),
    "single+2ulp": ("single", 2),
}


@pytest.fixture(params=list(SKEWS))
def maths(request, monkeypatch):
    """This CPU's maths, or one path's exp/log skewed by 1-2 ulp (:class:`SkewedMaths`)."""
    skew = SKEWS[request.param]
    if skew is not None:
        side, ulps = skew
        if side == "batch":
            monkeypatch.setattr(vector_module, "np", SkewedMaths(np, ulps))
        else:
            monkeypatch.setattr(_fastpath, "math", SkewedMaths(math, ulps))
    return request.param


CASES = {
    # finite stock: stock-outs and season ends at different steps, autoresets
    "markdown": (
        ExponentialTruth(a=10.0, alpha=1.0),
        {"n_prices": 15, "p_min": 0.5, "p_max": 4.0, "horizon": 12, "inventory": 10.0},
    ),
    # Poisson means above 10 (numpy's PTRS branch), holding cost and salvage
    "large-demand": (
        ExponentialTruth(a=400.0, alpha=0.5),
        {
            "n_prices": 6,
            "horizon": 9,
            "inventory": 900.0,
            "cost": 1.0,
            "holding_cost": 0.05,
            "salvage_value": 0.4,
        },
    ),
    # continuous prices, log-normal noise, a training cut-off (truncation)
    "continuous-lognormal": (
        LinearTruth(a=100.0, b=10.0, noise=NoiseModel("lognormal", sigma=0.2)),
        {"action": "continuous", "p_min": 1.0, "p_max": 9.0, "horizon": 20, "max_episode_steps": 7},
    ),
    # NB2 noise (one generator call per market) with replenishment
    "negbin-replenish": (
        LinearTruth(a=100.0, b=10.0, noise=NoiseModel("negbin", alpha=0.3)),
        {
            "n_prices": 8,
            "p_min": 1.0,
            "p_max": 9.0,
            "horizon": 10,
            "inventory": 150.0,
            "replenish_every": 3,
            "replenish_to": 200.0,
        },
    ),
    # Poisson with replenishment, holding cost and a training cut-off: the compiled
    # whole-step path (envs/_table_step.py) with every branch of its stock code
    "poisson-replenish-cutoff": (
        LinearTruth(a=100.0, b=10.0, noise=NoiseModel("poisson")),
        {
            "n_prices": 8,
            "p_min": 1.0,
            "p_max": 9.0,
            "horizon": 10,
            "inventory": 150.0,
            "replenish_every": 3,
            "replenish_to": 200.0,
            "holding_cost": 0.1,
            "salvage_value": 0.5,
            "max_episode_steps": 7,
        },
    ),
    "no-noise": (
        LinearTruth(a=100.0, b=10.0),
        {"n_prices": 5, "p_min": 1.0, "p_max": 9.0, "horizon": 6, "noise": False},
    ),
}


# ==================================================================== equality with single envs
@pytest.mark.parametrize("mode", [NEXT, SAME])
@pytest.mark.parametrize("case", sorted(CASES))
def test_batch_equals_single_envs(case, mode, maths):
    kernel, config = CASES[case]
    venv = MarketVectorEnv(kernel, config, num_envs=6, autoreset_mode=mode)
    ends = _run_both(venv, _sync(kernel, config, 6, mode), n_steps=40)
    assert ends.min() >= 2, "every market should have been autoreset at least twice"


def test_poisson_table_markets_take_the_compiled_step():
    # the cases above that must run through table_poisson_period (and so prove it equal)
    for case in ("markdown", "large-demand", "poisson-replenish-cutoff"):
        kernel, config = CASES[case]
        venv = MarketVectorEnv(kernel, config, num_envs=2)
        assert venv._fused and venv._fused_period, case
    kernel, config = CASES["no-noise"]
    assert not MarketVectorEnv(kernel, config, num_envs=2)._fused


@pytest.mark.parametrize("family", ["loglinear", "arimax", "arimax-5"])
@pytest.mark.parametrize(
    "config",
    [
        {"n_prices": 6, "horizon": 15, "inventory": 300.0},
        {"action": "continuous", "horizon": 15},
        {"n_prices": 6, "horizon": 15, "competitor": {"kind": "random_walk", "sigma": 0.1}},
        {
            "n_prices": 6,
            "horizon": 15,
            "competitor": {"kind": "replay", "path": [[9.0], [11.0], [10.0]]},
        },
    ],
    ids=["grid-stock", "continuous", "random-walk", "replay"],
)
def test_fitted_kernels_equal_single_envs(fitted, family, config, maths):
    kernel = fitted[family]
    venv = MarketVectorEnv(kernel, config, num_envs=4)
    # with random-walk competitors the batch evaluates demand in one kernel call per
    # step (single envs: per block), and a large ARIMAX state is filtered with matrix
    # products: expected demand may differ in the last bits, sampled demand does not
    ends = _run_both(venv, _sync(kernel, config, 4), n_steps=35)
    assert ends.min() >= 2
    expected_mode = {"loglinear": "table", "arimax": "arimax", "arimax-5": "arimax"}[family]
    if "competitor" in config and config["competitor"]["kind"] == "random_walk":
        expected_mode = "kernel"
    elif config.get("action") == "continuous" and family == "loglinear":
        expected_mode = "linear"
    assert venv.mode == expected_mode


def test_rival_markets_equal_single_envs(maths):
    kernel, config, rivals = market_setup("duopoly", horizon=5)
    venv = MarketVectorEnv(kernel, config, num_envs=3, rivals=rivals)
    assert venv.mode == "sync"
    sync = SyncVectorEnv(
        [lambda: PricingEnv(kernel, config, rivals=market_setup("duopoly")[2])] * 3
    )
    ends = _run_both(venv, sync, n_steps=12)
    assert ends.min() >= 2


def test_seeds_list_none_and_partial_reset(maths):
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=4)
    sync = _sync(kernel, config, 4)
    seeds = [11, 12, 3, 11]  # markets 0 and 3 share a seed, hence a trajectory
    o1, _ = venv.reset(seed=seeds)
    o2, _ = sync.reset(seed=seeds)
    assert_same_outcome(o1, o2, "observation")
    _run_both_from_here(venv, sync, 10)
    # reseeding with None continues every market's stream, as PricingEnv does
    o1, i1 = venv.reset()
    o2, i2 = sync.reset()
    assert_same_outcome(o1, o2, "observation")
    _run_both_from_here(venv, sync, 10)
    mask = np.array([True, False, True, False])
    o1, i1 = venv.reset(seed=5, options={"reset_mask": mask})
    o2, i2 = sync.reset(seed=5, options={"reset_mask": mask.copy()})
    assert_same_outcome(o1, o2, "observation")
    _assert_info_equal(i1, i2)
    np.testing.assert_array_equal(i1["_t"], mask)
    _run_both_from_here(venv, sync, 10)


def _run_both_from_here(venv, sync, n):
    rng = np.random.default_rng(n)
    for _ in range(n):
        action = rng.integers(0, venv.single_action_space.n, venv.num_envs)
        r1, r2 = venv.step(action), sync.step(action)
        _assert_step_equal(r1, r2)


def test_same_seed_same_trajectory_other_seed_differs():
    kernel, config = CASES["large-demand"]

    def rollout(seed):
        venv = MarketVectorEnv(kernel, config, num_envs=5)
        venv.reset(seed=seed)
        out = []
        for t in range(25):
            out.append(venv.step(np.full(5, t % 6))[1])
        return np.array(out)

    a, b, c = rollout(1), rollout(1), rollout(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # markets of one batch have their own streams: same prices, different sales
    assert len({tuple(col) for col in a.T}) == 5


# ==================================================================== gymnasium semantics
def test_spaces_shapes_and_dtypes():
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=3)
    assert venv.metadata["autoreset_mode"] is NEXT
    assert venv.action_space == gym.spaces.MultiDiscrete([15, 15, 15])
    assert venv.single_observation_space.shape == (4,)
    assert venv.observation_space.shape == (3, 4)
    obs, info = venv.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (3, 4)
    obs, reward, term, trunc, info = venv.step([1, 2, 3])
    assert venv.observation_space.contains(obs)
    assert reward.dtype == np.float64 and reward.shape == (3,)
    assert term.dtype == np.bool_ and trunc.dtype == np.bool_
    assert set(info) == {*STEP_KEYS, *("_" + k for k in STEP_KEYS)}
    assert info["competitor_prices"].shape == (3, 0)
    np.testing.assert_array_equal(info["price"], [0.75, 1.0, 1.25])
    np.testing.assert_array_equal(reward, info["profit"])
    np.testing.assert_array_equal(info["revenue"], info["price"] * info["sales"])
    cont = MarketVectorEnv(*CASES["continuous-lognormal"], num_envs=2)
    assert cont.action_space == gym.spaces.Box(-1.0, 1.0, (2, 1), np.float32)


def test_next_step_autoreset_semantics():
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=2)
    first, _ = venv.reset(seed=0)
    # the lowest price sells the 10 units at once in market 0 (λ(0.5) ≈ 6.1/period
    # would take ~2 periods); market 1 prices high and keeps stock
    for _ in range(10):
        obs, reward, term, trunc, info = venv.step([0, 14])
        if term[0]:
            break
    assert term[0] and not term[1] and obs[0, 1] == 0.0
    # next step: market 0 restarts and ignores its action (even an invalid one)
    obs, reward, term, trunc, info = venv.step(np.array([99, 14]))
    np.testing.assert_array_equal(obs[0], first[0])
    assert reward[0] == 0.0 and not term[0] and not trunc[0]
    assert info["_price"].tolist() == [False, True] and info["price"][0] == 0.0
    assert info["_t"].tolist() == [True, True] and info["inventory"][0] == 10.0
    with pytest.raises(InvalidAction):
        venv.step(np.array([99, 14]))


def test_same_step_final_observation_is_last_observation(maths):
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=3, autoreset_mode=SAME)
    single = [PricingEnv(kernel, config) for _ in range(3)]
    venv.reset(seed=4)
    for i, env in enumerate(single):
        env.reset(seed=4 + i)
    finals = 0
    for t in range(30):
        action = np.array([t % 15, 3, 14])
        obs, reward, term, _, info = venv.step(action)
        for i, env in enumerate(single):
            o, r, te, tr, _ = env.step(int(action[i]))
            assert_same_outcome(np.float64(r), reward[i], "reward")
            assert te == term[i]
            if te or tr:
                finals += 1
                assert_same_outcome(info["final_obs"][i], o, "final_obs")
                assert info["final_info"]["_sales"][i]
                o, _ = env.reset()
            assert_same_outcome(obs[i], o, "observation")
    assert finals >= 3


def test_disabled_autoreset_needs_explicit_reset():
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=2, autoreset_mode="Disabled")
    venv.reset(seed=0)
    for _ in range(12):
        _, _, term, trunc, _ = venv.step([0, 0])
        if (term | trunc).any():
            break
    done = term | trunc
    with pytest.raises(ResetNeeded):
        venv.step([0, 0])
    venv.reset(options={"reset_mask": done})
    venv.step([0, 0])


def test_errors_name_the_fix():
    kernel, config = CASES["markdown"]
    with pytest.raises(ConfigError, match="num_envs"):
        MarketVectorEnv(kernel, config, num_envs=0)
    with pytest.raises(ConfigError, match="autoreset_mode"):
        MarketVectorEnv(kernel, config, num_envs=2, autoreset_mode="sometimes")
    with pytest.raises(ConfigError, match="render_mode"):
        MarketVectorEnv(kernel, config, num_envs=2, render_mode="rgb_array")
    venv = MarketVectorEnv(kernel, config, num_envs=2)
    with pytest.raises(ResetNeeded):
        venv.step([0, 0])
    venv.reset(seed=0)
    with pytest.raises(InvalidAction, match=r"\[0, 15\)"):
        venv.step([0, 15])
    with pytest.raises(InvalidAction, match="shape"):
        venv.step([0, 1, 2])
    with pytest.raises(ConfigError, match="seed"):
        venv.reset(seed=[1, 2, 3])


def test_time_limit_truncates_like_gymnasium_make(maths):
    kernel, config = CASES["markdown"]
    config = {**config, "inventory": 1000.0}
    venv = MarketVectorEnv(kernel, config, num_envs=2, max_episode_steps=4)
    envs = [gym.wrappers.TimeLimit(PricingEnv(kernel, config), 4) for _ in range(2)]
    sync = SyncVectorEnv([lambda e=e: e for e in envs])
    ends = _run_both(venv, sync, n_steps=12)
    np.testing.assert_array_equal(ends, [2, 2])


def test_render_ansi_one_line_per_market():
    kernel, config = CASES["markdown"]
    venv = MarketVectorEnv(kernel, config, num_envs=2, render_mode="ansi")
    venv.reset(seed=0)
    venv.step([0, 4])
    lines = venv.render()
    assert len(lines) == 2
    assert lines[1].startswith("t=0 price=1.5 ")


# ==================================================================== the exact Poisson sampler
def test_vectorised_poisson_reproduces_numpy_streams():
    b = 64
    streams = _MarketStreams(b, "pcg")
    seeds = list(range(100, 100 + b))
    streams.seed(list(range(b)), seeds)
    reference = [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]
    rng = np.random.default_rng(0)
    for _ in range(150):
        lam = np.where(rng.random(b) < 0.5, rng.uniform(0, 12, b), rng.uniform(5, 2000, b))
        lam[rng.random(b) < 0.1] = 0.0
        drawn = streams.poisson(lam)
        expected = [g.poisson(x) for g, x in zip(reference, lam.tolist(), strict=True)]
        np.testing.assert_array_equal(drawn, expected)
    # and each generator stands where numpy's would: rewound to the market's position
    for i in (0, 17, 63):
        assert streams.generator(i).random() == reference[i].random()


def test_poisson_generator_handoff_and_far_tail_keep_the_streams():
    # The compiled sampler steps each market's PCG64 state itself: handing a generator
    # out between draws (as a reset's competitor path does) writes the state back, and
    # the next draw reads it again; far-tail means (1e6) loop as long as numpy's would.
    b = 16
    streams = _MarketStreams(b, "pcg")
    seeds = list(range(7, 7 + b))
    streams.seed(list(range(b)), seeds)
    reference = [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]
    rng = np.random.default_rng(1)
    for step in range(60):
        lam = rng.choice([0.0, 0.5, 3.0, 9.5, 10.0, 40.0, 1e6], b)
        drawn = streams.poisson(lam)
        expected = [g.poisson(x) for g, x in zip(reference, lam.tolist(), strict=True)]
        np.testing.assert_array_equal(drawn, expected)
        i = step % b
        assert streams.generator(i).random() == reference[i].random()
    for i in range(b):
        assert streams.generator(i).random() == reference[i].random()


def test_poisson_table_entries_equal_the_plain_draws():
    # poisson_entries with the table's precomputed constants draws what poisson does
    b = 32
    table = np.array([0.0, -1.0, 0.3, 7.0, 10.0, 55.0, 900.0])
    plain, tabled = _MarketStreams(b, "pcg"), _MarketStreams(b, "pcg")
    for s in (plain, tabled):
        s.seed(list(range(b)), list(range(b)))
    constants = tabled.poisson_constants(table)
    rng = np.random.default_rng(2)
    for _ in range(50):
        entry = rng.integers(-1, table.size, b)
        lam = np.where(entry < 0, 0.0, table[entry])
        np.testing.assert_array_equal(tabled.poisson_entries(entry, constants), plain.poisson(lam))


# ==================================================================== stable-baselines3
def _dummy(kernel, config, b, seed):
    envs = DummyVecEnv([lambda: PricingEnv(kernel, config)] * b)
    envs.seed(seed)
    return envs


def test_sb3_adapter_matches_dummy_vec_env(maths):
    kernel, config = CASES["continuous-lognormal"]
    config = {**config, "inventory": 200.0}
    mine = SB3VecEnv(kernel=kernel, config=config, num_envs=4, info_keys=("sales", "price"))
    mine.seed(3)
    ref = _dummy(kernel, config, 4, 3)
    assert_same_outcome(mine.reset(), ref.reset(), "observation")
    rng = np.random.default_rng(0)
    terminals = truncations = 0
    for _ in range(30):
        action = rng.uniform(-1, 1, (4, 1)).astype(np.float32)
        o1, r1, d1, i1 = mine.step(action)
        o2, r2, d2, i2 = ref.step(action)
        assert_same_outcome(o1, o2, "observation")
        assert_same_outcome(r1, r2, "reward")
        assert r1.dtype == np.float32
        assert_same_outcome(d1, d2, "done")
        for a, b in zip(i1, i2, strict=True):
            assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
            assert_same_outcome(np.float64(a["sales"]), np.float64(b["sales"]), "sales")
            assert_same_outcome(np.float64(a["price"]), np.float64(b["price"]), "price")
            if "terminal_observation" in b:
                terminals += 1
                truncations += b["TimeLimit.truncated"]
                assert_same_outcome(a["terminal_observation"], b["terminal_observation"], "final")
            else:
                assert "terminal_observation" not in a
    assert truncations >= 2 and terminals - truncations >= 2  # cut-offs and stock-outs


def test_sb3_adapter_attributes_and_vecnormalize():
    venv = SB3VecEnv(gym.make_vec("pricegym/Monopoly-v0", num_envs=4, autoreset_mode=SAME))
    assert venv.get_attr("horizon") == [52] * 4
    assert venv.get_attr("p_max", indices=[1, 2]) == [10.0, 10.0]
    obs = venv.env_method("reset", seed=3)
    assert len(obs) == 4 and all(o is obs[0] for o in obs)  # one batched env, one result
    assert obs[0][0].shape == (4, 4)
    venv.set_attr("render_mode", None)
    with pytest.raises(ConfigError, match="all"):
        venv.set_attr("render_mode", None, indices=[0])
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 4
    norm = VecNormalize(venv)
    norm.seed(0)
    obs = norm.reset()
    for _ in range(60):
        obs, *_ = norm.step(np.full(4, 5))
    assert obs.shape == (4, 4) and np.all(np.abs(obs) <= 10.0)
    assert norm.obs_rms.count > 240
    with pytest.raises(ConfigError, match="SAME_STEP"):
        SB3VecEnv(MarketVectorEnv(*CASES["markdown"], num_envs=2))


def test_sb3_ppo_runs_on_the_batched_markets():
    from stable_baselines3 import PPO

    venv = VecNormalize(
        SB3VecEnv(gym.make_vec("pricegym/Markdown-v0", num_envs=8, autoreset_mode=SAME))
    )
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(512)
    assert model.num_timesteps == 512
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (8,) and np.all((action >= 0) & (action < 15))


@pytest.mark.slow
def test_sb3_ppo_learns_the_monopoly_price():
    """Monopoly-v0's optimum is the constant price 6 (grid index 5): PPO finds it."""
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    venv = VecNormalize(
        SB3VecEnv(gym.make_vec("pricegym/Monopoly-v0", num_envs=16, autoreset_mode=SAME))
    )
    venv.seed(0)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=64,
        batch_size=256,
        n_epochs=4,
        learning_rate=3e-3,
        seed=0,
        device="cpu",
    )
    model.learn(20_000)
    obs = venv.reset()
    chosen = []
    for _ in range(52):
        action, _ = model.predict(obs, deterministic=True)
        chosen.append(action)
        obs, *_ = venv.step(action)
    counts = np.bincount(np.concatenate(chosen), minlength=10)
    assert counts[5] / counts.sum() >= 0.9


def test_docstring_example_runs():
    import doctest

    import pricegym.envs.vector as module

    result = doctest.testmod(module)
    assert result.attempted >= 5 and result.failed == 0


# ==================================================================== the cross-path tolerance
@pytest.mark.parametrize("skew", ["batch+1ulp", "batch-2ulp", "single+2ulp"])
def test_tolerance_absorbs_skewed_maths(skew, monkeypatch):
    """With one path's exp/log 1-2 ulp off, continuous values differ, within PATH_RTOL.

    The gaps are real (a bit-for-bit comparison would fail, as on AVX-512 CPUs), yet
    orders of magnitude inside the tolerance; discrete outcomes stay identical (the
    equivalence tests above pass under every skew).
    """
    side, ulps = SKEWS[skew]
    if side == "batch":
        monkeypatch.setattr(vector_module, "np", SkewedMaths(np, ulps))
    else:
        monkeypatch.setattr(_fastpath, "math", SkewedMaths(math, ulps))
    kernel, config = CASES["continuous-lognormal"]
    gaps: list[float] = []
    _run_both(MarketVectorEnv(kernel, config, num_envs=6), _sync(kernel, config, 6), 40, gaps=gaps)
    assert 0.0 < gaps[0] < 1e-3 * PATH_RTOL[np.dtype(np.float64)]


def test_skewed_maths_is_the_stated_number_of_ulps():
    x = np.array([0.3, 1.0, 7.5])
    np.testing.assert_array_equal(SkewedMaths(np, 1).exp(x), np.nextafter(np.exp(x), np.inf))
    down = np.nextafter(np.nextafter(np.log(x), -np.inf), -np.inf)
    np.testing.assert_array_equal(SkewedMaths(np, -2).log(x), down)
    assert SkewedMaths(math, 2).exp(1.0) == math.nextafter(math.nextafter(math.e, 2e308), 2e308)
    assert SkewedMaths(np, 1).sqrt is np.sqrt  # everything else is the real module's


def test_same_outcome_rejects_real_differences():
    """The tolerance is not vacuous: 1e-10 relative fails, as does any change of a count."""
    x = np.array([12.25, 3.5, 0.125])
    assert assert_same_outcome(x * (1 + 1e-14), x) > 0.0
    with pytest.raises(AssertionError):
        assert_same_outcome(x * (1 + 1e-10), x)
    counts = np.array([3.0, 0.0, 17.0])
    with pytest.raises(AssertionError, match="discrete"):
        assert_same_outcome(np.nextafter(counts, np.inf), counts)
    with pytest.raises(AssertionError):
        assert_same_outcome(np.array([1, 2]), np.array([1, 3]))
    with pytest.raises(AssertionError, match="dtype"):
        assert_same_outcome(x.astype(np.float32), x)


def test_per_market_seeds_expands_an_int_and_refuses_a_wrong_length_list():
    """One rule for the single- and multi-product batched markets' ``reset(seed=...)``."""
    from pricegym.envs._streams import per_market_seeds

    assert per_market_seeds(None, 3) == [None, None, None]
    assert per_market_seeds(np.int64(7), 3) == [7, 8, 9]
    assert per_market_seeds([1, None, 4], 3) == [1, None, 4]
    with pytest.raises(ConfigError, match=r"seed has 2 entries but there are 3 markets"):
        per_market_seeds([1, 2], 3)
