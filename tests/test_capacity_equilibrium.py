"""Capacity-constrained Nash and joint monopoly of the logit market (envs/capacity_equilibrium).

The KKT solutions are checked against an independent oracle: brute-force search on
fine price grids of the rationed profits (p − c)·min(q, k), with the logit shares
written out again here.
"""

from __future__ import annotations

import numpy as np
import pytest

from pricegym.envs.capacity_equilibrium import (
    capacity_clearing_prices,
    capacity_monopoly,
    capacity_nash,
    rationed_profits,
)
from pricegym.envs.equilibrium_solvers import logit_monopoly_prices, logit_nash_prices
from pricegym.errors import ModelError


def _profits(p, a, c, k, mu=0.25, a0=0.0):
    """Rationed profits, (..., n), from the logit formula (independent of the module)."""
    e = np.exp((np.asarray(a) - p) / mu)
    q = e / (e.sum(axis=-1, keepdims=True) + np.exp(a0 / mu))
    return (p - np.asarray(c)) * np.minimum(q, np.asarray(k))


def _nash_by_grid(prices, a, c, k, step=1e-4):
    """Per seller: (best grid profit − profit at ``prices``, |grid argmax − price|)."""
    own = np.arange(1.0, 4.0, step)
    out = []
    for i in range(len(prices)):
        p = np.tile(prices, (own.size, 1))
        p[:, i] = own
        dev = _profits(p, a, c, k)[:, i]
        at = _profits(np.asarray(prices), a, c, k)[i]
        out.append((dev.max() - at, abs(own[np.argmax(dev)] - prices[i])))
    return out


def _monopoly_by_grid(a, c, k):
    """Best joint profit and its prices: a 0.01 grid, then 1e-4 around its best point."""
    best = None
    lo, hi, step = np.array([1.0, 1.0]), np.array([3.5, 3.5]), 0.01
    for _ in range(2):
        x = np.arange(lo[0], hi[0] + step / 2, step)
        y = np.arange(lo[1], hi[1] + step / 2, step)
        g = np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1)
        total = _profits(g, a, c, k).sum(axis=-1)
        i = np.unravel_index(np.argmax(total), total.shape)
        best = (float(total[i]), g[i])
        lo, hi, step = g[i] - 0.02, g[i] + 0.02, 1e-4
    return best


def test_capacity_that_does_not_bind_gives_the_calvano_benchmarks():
    for cap in (None, 0.5, np.inf, [0.48, 1.0]):
        nash, mono = capacity_nash(capacity=cap), capacity_monopoly(capacity=cap)
        assert np.abs(nash.prices - 1.4729).max() < 1e-4
        assert np.abs(mono.prices - 1.9250).max() < 1e-4
        np.testing.assert_allclose(nash.prices, logit_nash_prices(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(mono.prices, logit_monopoly_prices(), rtol=0, atol=1e-12)
        assert not nash.binding.any() and not mono.binding.any()
        assert np.all(nash.shadow_prices == 0.0)


def test_binding_symmetric_nash_is_the_capacity_clearing_price():
    # s_i = κ for both sellers: exp(x)/(2 exp(x) + 1) = κ, so p = a − μ·ln(κ / (1 − 2κ))
    for kappa in (0.44, 0.40, 0.30):
        nash = capacity_nash(capacity=kappa)
        exact = 2.0 - 0.25 * np.log(kappa / (1 - 2 * kappa))
        np.testing.assert_allclose(nash.prices, exact, rtol=0, atol=1e-10)
        np.testing.assert_allclose(nash.units, kappa, rtol=0, atol=1e-10)
        assert nash.binding.all() and np.all(nash.shadow_prices > 0)


@pytest.mark.parametrize(
    ("quality", "cost", "capacity"),
    [
        ([2.0, 2.0], [1.0, 1.0], [0.44, 0.44]),  # Nash binds, monopoly (sales 0.365) does not
        ([2.0, 2.0], [1.0, 1.0], [0.30, 0.30]),  # both bind: Nash = monopoly
        ([2.0, 2.0], [1.0, 1.0], [0.30, np.inf]),  # one seller constrained
        ([2.2, 1.9], [1.1, 0.9], [0.25, 0.35]),  # asymmetric market
    ],
)
def test_kkt_solutions_match_brute_force_on_fine_grids(quality, cost, capacity):
    nash = capacity_nash(quality, cost=cost, capacity=capacity)
    for gain, gap in _nash_by_grid(nash.prices, quality, cost, capacity):
        assert gain <= 1e-9  # no grid deviation beats the equilibrium profit
        assert gap <= 2e-4  # and the best grid price is the equilibrium price, to the step
    mono = capacity_monopoly(quality, cost=cost, capacity=capacity)
    total, prices = _monopoly_by_grid(quality, cost, capacity)
    ours = _profits(mono.prices, quality, cost, capacity).sum()
    assert total <= ours + 1e-9
    assert np.abs(prices - mono.prices).max() <= 2e-4
    # feasibility and complementary slackness
    for b in (nash, mono):
        assert np.all(b.units <= np.asarray(capacity) + 1e-10)
        assert np.all(b.shadow_prices >= 0)
        finite = np.isfinite(np.asarray(capacity, dtype=float))
        slack = np.asarray(capacity)[finite] - b.units[finite]
        assert np.all(b.shadow_prices[finite] * slack < 1e-9)
        assert np.all(b.shadow_prices[~finite] == 0.0)


def test_three_sellers_nash_matches_brute_force():
    quality, cost, capacity = [2.0, 2.0, 2.0], 1.0, [0.2, 0.3, 0.25]
    nash = capacity_nash(quality, cost=cost, capacity=capacity)
    for gain, gap in _nash_by_grid(nash.prices, quality, [1.0] * 3, capacity):
        assert gain <= 1e-9 and gap <= 2e-4


def test_prices_rise_as_capacity_binds_and_nash_meets_monopoly():
    ks = [0.50, 0.46, 0.42, 0.38, 0.36, 0.30, 0.20]
    pn = np.array([capacity_nash(capacity=k).prices[0] for k in ks])
    pm = np.array([capacity_monopoly(capacity=k).prices[0] for k in ks])
    assert np.all(np.diff(pn) > 0)
    assert np.all(np.diff(pm) >= -1e-12)
    assert np.all(pm >= pn - 1e-12)
    # at or below the unconstrained monopoly's sales (0.3649) both clear the capacity
    np.testing.assert_allclose(pn[ks.index(0.36) :], pm[ks.index(0.36) :], rtol=0, atol=1e-9)


def test_capacity_clearing_price_sells_exactly_the_capacity():
    rival = 1.8
    p = capacity_clearing_prices([1.0, rival], capacity=[0.4, np.inf])
    assert p[1] == -np.inf
    q = _profits(np.array([p[0], rival]), [2.0, 2.0], [0.0, 0.0], np.inf) / np.array([p[0], rival])
    assert q[0] == pytest.approx(0.4, abs=1e-12)


def test_rationed_profits_cap_sales():
    p = np.array([[1.2, 1.9], [1.9, 1.9]])
    np.testing.assert_allclose(
        rationed_profits(p, capacity=0.3), _profits(p, [2.0, 2.0], 1.0, 0.3), rtol=1e-13
    )


@pytest.mark.parametrize("bad", [0.0, -1.0, [0.3, 0.2, 0.1], float("nan")])
def test_bad_capacity_is_refused_naming_the_value(bad):
    with pytest.raises(ModelError, match="capacity"):
        capacity_nash(capacity=bad)
