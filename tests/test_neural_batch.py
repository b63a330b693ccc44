"""Batched neural markets (envs/_neural_batch.py) equal B single markets, to a stated tolerance.

The reference is gymnasium's ``SyncVectorEnv`` over ``PricingEnv`` s with the same
seeds (the single market's own neural fast path). Discrete outcomes (grid prices,
terminations, autoresets, stock-outs) must be identical; expected demand, draws
and the money made from them agree to ``PATH_RTOL`` (1e-12 relative, float32
observations 4 ulp), also with the batch's exp/log moved 1-2 ulp.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from conftest import SkewedMaths, assert_same_outcome
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import DemandTruth, generate_history
from pricegym.envs import _mlp_compiled, _neural_batch
from pricegym.envs._neural_batch import NeuralBatch, m_of_price
from pricegym.envs.market import PricingEnv
from pricegym.envs.vector import MarketVectorEnv

#: (hidden widths, lags): the default shape, two lags through a one-layer trunk, and
#: no trunk at all (the heads read z)
SHAPES = {"32-32, 1 lag": ((32, 32), 1), "8, 2 lags": ((8,), 2), "no trunk, 0 lags": ((), 0)}

CONFIGS = {
    "grid-stock": {"n_prices": 6, "horizon": 12, "inventory": 300.0},
    "continuous": {"action": "continuous", "horizon": 12, "max_episode_steps": 9},
    "replay": {
        "n_prices": 5,
        "horizon": 10,
        "competitor": {"kind": "replay", "path": [[9.0], [11.0]]},
    },
}


@pytest.fixture(scope="module")
def kernels():
    """Neural kernels fitted on two years of weekly sales with a competitor and a season."""
    history = generate_history(
        DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
        n_periods=104,
        noise="poisson",
        seed=3,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: more threads only spin
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {
                name: make_model("neural", hidden=hidden, lags=lags, n_bootstrap=0, max_iter=40)
                .fit(history)
                .kernel()
                for name, (hidden, lags) in SHAPES.items()
            }
    finally:
        torch.set_num_threads(before)


def _pair(kernel, config, b, mode=AutoresetMode.NEXT_STEP):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        venv = MarketVectorEnv(kernel, config, num_envs=b, autoreset_mode=mode)
        sync = SyncVectorEnv([lambda: PricingEnv(kernel, config)] * b, autoreset_mode=mode)
    return venv, sync


def _info_gap(mine: dict, ref: dict) -> float:
    assert set(mine) == set(ref)
    gap = 0.0
    for key, value in ref.items():
        if key == "final_obs":
            for a, b in zip(mine[key], value, strict=True):
                assert (a is None) == (b is None)
                if b is not None:
                    gap = max(gap, assert_same_outcome(a, b, key))
        elif key == "final_info":
            gap = max(gap, _info_gap(mine[key], value))
        else:
            gap = max(gap, assert_same_outcome(mine[key], value, key))
    return gap


def _run_both(venv, sync, n_steps: int, seed: int = 5) -> tuple[np.ndarray, float]:
    """Same seeds and actions in both; every step equal; (episode ends per market, gap)."""
    o1, i1 = venv.reset(seed=seed)
    o2, i2 = sync.reset(seed=seed)
    gap = max(assert_same_outcome(o1, o2, "observation"), _info_gap(i1, i2))
    venv.action_space.seed(seed)
    ends = np.zeros(venv.num_envs, dtype=int)
    for _ in range(n_steps):
        action = venv.action_space.sample()
        r1, r2 = venv.step(action), sync.step(action)
        for a, b, name in zip(
            r1[:4], r2[:4], ("obs", "reward", "terminated", "truncated"), strict=True
        ):
            gap = max(gap, assert_same_outcome(a, b, name))
        gap = max(gap, _info_gap(r1[4], r2[4]))
        ends += r1[2] | r1[3]
    return ends, gap


# ==================================================================== equality
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_batched_neural_markets_equal_single_markets(kernels, shape, config):
    venv, sync = _pair(kernels[shape], CONFIGS[config], 5)
    assert venv.mode == "neural" and sync.envs[0].unwrapped.mode == "neural"
    ends, gap = _run_both(venv, sync, n_steps=30)
    assert ends.min() >= 2, "every market should have been autoreset at least twice"
    assert gap < 1e-12


@pytest.mark.parametrize("ulps", [1, -2])
def test_tolerance_holds_with_the_batch_maths_skewed(kernels, monkeypatch, ulps):
    """exp/log/log1p of the batch moved against the single markets' (as AVX-512 vs libm)."""
    monkeypatch.setattr(_neural_batch, "np", SkewedMaths(np, ulps))
    venv, sync = _pair(kernels["32-32, 1 lag"], CONFIGS["continuous"], 4)
    ends, gap = _run_both(venv, sync, n_steps=25)
    assert ends.min() >= 2 and 0.0 < gap < 1e-12


def test_same_step_autoreset_equals_single_markets(kernels):
    venv, sync = _pair(kernels["8, 2 lags"], CONFIGS["grid-stock"], 4, AutoresetMode.SAME_STEP)
    ends, _ = _run_both(venv, sync, n_steps=30)
    assert ends.min() >= 2


# ==================================================================== the path itself
def test_random_walk_competitors_keep_the_kernel_call(kernels):
    """A random competitor path has no per-period table: the batch calls the kernel."""
    config = {"n_prices": 6, "horizon": 10, "competitor": {"kind": "random_walk", "sigma": 0.1}}
    venv, sync = _pair(kernels["32-32, 1 lag"], config, 3)
    assert venv.mode == "kernel"
    ends, gap = _run_both(venv, sync, n_steps=22)
    assert ends.min() >= 2 and gap < 1e-12


def test_expected_units_equal_the_kernel_for_any_lags(kernels):
    """NeuralBatch.expected = MLPKernel.expected at each market's period and lag buffer."""
    kernel = kernels["8, 2 lags"]
    venv, _ = _pair(kernel, CONFIGS["continuous"], 64)
    batch = venv._neural
    rng = np.random.default_rng(0)
    k = rng.integers(0, venv.episode_length, 64)
    lo, hi = kernel.support
    price = rng.uniform(lo, hi, 64)
    lags = rng.gamma(2.0, kernel.unit_scale / 2.0, (64, 2))
    mine = batch.expected(k, None, price, lags.copy())
    ctx = venv._context(venv.start_t + k.astype(np.float64), venv._path[k])
    state = {"lags": lags, "product": np.zeros(64, np.int64)}
    ref = kernel.expected(price, ctx, state)
    np.testing.assert_allclose(mine, ref, rtol=1e-12)
    assert np.ptp(mine) > 0.1 * np.mean(mine)  # the prices and lags matter


def test_grid_m_is_the_single_market_value_bit_for_bit(kernels):
    kernel = kernels["32-32, 1 lag"]
    venv, sync = _pair(kernel, CONFIGS["grid-stock"], 2)
    single = sync.envs[0].unwrapped._path
    assert venv._neural._m_grid.tolist() == single._m_grid
    assert m_of_price(kernel, 9.5) == single._m(9.5)
    assert math.isfinite(m_of_price(kernel, 9.5))


def test_lag_buffer_shifts_in_place():
    state = {"lags": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "product": np.zeros(2, np.int64)}
    lags = state["lags"]
    NeuralBatch.observe(state, np.array([7.0, 8.0]))
    assert state["lags"] is lags
    np.testing.assert_array_equal(lags, [[7.0, 1.0, 2.0], [8.0, 4.0, 5.0]])


def test_compiled_tanh_is_within_4_ulp_of_numpy():
    """The trunk's compiled tanh (envs/_mlp_compiled.py) against np.tanh (libm), both
    branches (|x| below and above 0.625), saturation, signs and zero."""
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.normal(0.0, 1.0, 200_000),
            rng.uniform(-0.7, 0.7, 100_000),
            rng.uniform(-30.0, 30.0, 50_000),
            [0.0, -0.0, 0.625, -0.625, 0.6249999999999999, 20.0, 19.5, 1e-300, -1e-10],
        ]
    )
    mine = x.copy()
    _mlp_compiled.tanh(mine)
    ref = np.tanh(x)
    ulps = np.abs(mine - ref) / np.spacing(np.maximum(np.abs(ref), 1e-300))
    assert ulps.max() <= 4.0
    assert np.all(np.sign(mine) == np.sign(ref)) and np.all(np.abs(mine) <= 1.0)
    # the fused passes compute the same function
    act = rng.normal(0.0, 2.0, (7, 5))
    bias = rng.normal(0.0, 1.0, 5)
    fused = act.copy()
    _mlp_compiled.bias_tanh(fused, bias)
    np.testing.assert_allclose(fused, np.tanh(act + bias), rtol=4 * 2.0**-52, atol=0)
    table = rng.normal(0.0, 1.0, (4, 5))
    k = np.array([3, 0, 1, 3, 2, 2, 0])
    zl, lag_w, out = rng.normal(size=(7, 2)), rng.normal(size=(2, 5)), np.empty((7, 5))
    _mlp_compiled.first_layer(table, k, zl, lag_w, out)
    np.testing.assert_allclose(out, np.tanh(table[k] + zl @ lag_w), rtol=1e-14, atol=1e-15)
