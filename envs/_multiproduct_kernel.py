"""The compiled step of the batched catalogue market (used by :mod:`.multiproduct_vector`).

Why compiled: a step of B catalogue markets is a handful of float operations per
market and product, but in numpy it is ~25 array passes over (B, K) arrays plus
the K Poisson draws per market, which must come from each market's own generator
in its single env's order (numpy's ``random_poisson`` for product 0, then 1, ...,
as ``np_random.poisson(mu)`` on the (K,) means). :func:`step_markets` does all of
it in one loop over the markets, with numpy's Poisson algorithm as compiled in
:mod:`pricegym.envs._poisson` (the same doubles in the same order; its per-mean
constants precomputed for the market's table of means), and writes the same
quantities the single env computes, with the same formulas:
:class:`~pricegym.envs.multiproduct.MultiProductEnv` is the specification and the
tests hold the two to it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from pricegym.envs import _poisson as _p

# PCG64 on a state held in local variables while a market makes its K draws (halves the
# cost of a draw against reading and writing the state row each time: 134 -> 69 µs for
# 1024 x 3 draws, measured), with the same operations, hence the same doubles
_next = _p._pcg_step


@njit(inline="always")
def _draw(s_hi, s_lo, i_hi, i_lo, c, e, lg):  # pragma: no cover
    """:func:`pricegym.envs._poisson._draw` (numpy's ``random_poisson``) on a local state.

    Returns (draw, new state hi, new state lo); the same branches and operations.
    """
    lm = c[e, 0]
    if not lm > 0.0:
        return 0.0, s_hi, s_lo
    if lm >= 10.0:  # random_poisson_ptrs
        loglam = c[e, 1]
        b = c[e, 2]
        a = c[e, 3]
        log_invalpha = c[e, 4]
        vr = c[e, 5]
        two_a = c[e, 6]
        while True:
            u, s_hi, s_lo = _next(s_hi, s_lo, i_hi, i_lo)
            u = u - 0.5
            v, s_hi, s_lo = _next(s_hi, s_lo, i_hi, i_lo)
            us = 0.5 - abs(u)
            k = math.floor((two_a / us + b) * u + lm + 0.43)
            if us >= 0.07 and v <= vr:
                return float(k), s_hi, s_lo
            if k < 0 or (us < 0.013 and v > us):
                continue
            g = lg[int(k)] if k < lg.size else _p._loggam(k + 1)
            if (math.log(v) + log_invalpha - math.log(a / (us * us) + b)) <= (-lm + k * loglam - g):
                return float(k), s_hi, s_lo
    enlam = c[e, 7]  # random_poisson_mult
    x = 0
    prod = 1.0
    while True:
        u, s_hi, s_lo = _next(s_hi, s_lo, i_hi, i_lo)
        prod *= u
        if prod > enlam:
            x += 1
        else:
            return float(x), s_hi, s_lo


@njit(cache=True, nogil=True, error_model="numpy")
def step_markets(  # pragma: no cover  (compiled; tested through the batch)
    st: np.ndarray,
    lg: np.ndarray,
    consts: np.ndarray,
    table_mu: np.ndarray,
    n_vectors: int,
    poisson: bool,
    actions: np.ndarray,
    strides: np.ndarray,
    nvec: np.ndarray,
    price_table: np.ndarray,
    cost: np.ndarray,
    salvage: np.ndarray,
    inv0: np.ndarray,
    mid: np.ndarray,
    pmax: np.ndarray,
    scale: np.ndarray,
    cap: float,
    horizon: int,
    block_of: np.ndarray,
    k_done: np.ndarray,
    stock: np.ndarray,
    last_price: np.ndarray,
    last_sales: np.ndarray,
    resetting: np.ndarray,
    prices: np.ndarray,
    mu: np.ndarray,
    demand: np.ndarray,
    sales: np.ndarray,
    lost: np.ndarray,
    inventory: np.ndarray,
    t_out: np.ndarray,
    scalars: np.ndarray,
    terminated: np.ndarray,
    obs: np.ndarray,
) -> int:
    """Advance B markets one period in place (resetting ones are reset instead).

    ``table_mu`` holds the means of every grid price vector (``n_vectors`` rows, product
    0's index slowest, ``strides``) per block of periods, ``block_of[t]`` the block of
    period t. State in/out: ``k_done`` (B,) periods played, ``stock``, ``last_price``,
    ``last_sales`` (B, K); ``st`` the PCG64 states. Outputs: ``prices``, ``mu``,
    ``demand``, ``sales`` (B, K), ``scalars`` (B, 4) = revenue, cost, salvage,
    profit; ``lost``, ``inventory`` (B, K) lost sales and stock after the period;
    ``t_out`` (B,) the period played (0 for a market resetting); ``terminated`` (B,);
    ``obs`` (B, 1 + 3K) float32.

    Returns −1, or (nothing changed) the flat index r·K + j of the first action
    outside its grid (``nvec[j]`` = ``strides``-free grid sizes, checked here so that
    the Python side need not pass over the actions).
    """
    b, k = actions.shape
    for r in range(b):
        if not resetting[r]:
            for j in range(k):
                if actions[r, j] < 0 or actions[r, j] >= nvec[j]:
                    return r * k + j
    any_unlimited = False
    for j in range(k):
        if not np.isfinite(inv0[j]):
            any_unlimited = True
    for r in range(b):
        if resetting[r]:
            k_done[r] = 0
            for j in range(k):
                stock[r, j] = inv0[j]
                last_price[r, j] = mid[j]
                last_sales[r, j] = 0.0
                prices[r, j] = 0.0
                mu[r, j] = 0.0
                demand[r, j] = 0.0
                sales[r, j] = 0.0
                lost[r, j] = 0.0
                inventory[r, j] = inv0[j]
            t_out[r] = 0.0
            for c in range(4):
                scalars[r, c] = 0.0
            terminated[r] = False
        else:
            cell = block_of[k_done[r]] * n_vectors
            for j in range(k):
                cell += actions[r, j] * strides[j]
            revenue = 0.0
            paid = 0.0
            s_hi, s_lo, i_hi, i_lo = st[r, 0], st[r, 1], st[r, 2], st[r, 3]
            for j in range(k):
                p = price_table[j, actions[r, j]]
                m = table_mu[cell, j]
                if poisson:
                    d, s_hi, s_lo = _draw(s_hi, s_lo, i_hi, i_lo, consts, cell * k + j, lg)
                else:
                    d = m
                s = min(d, stock[r, j])
                stock[r, j] = stock[r, j] - s
                prices[r, j] = p
                mu[r, j] = m
                demand[r, j] = d
                sales[r, j] = s
                lost[r, j] = d - s
                inventory[r, j] = stock[r, j]
                last_price[r, j] = p
                last_sales[r, j] = s
                revenue += p * s
                paid += cost[j] * s
            t_out[r] = k_done[r]
            if poisson:
                st[r, 0] = s_hi
                st[r, 1] = s_lo
            k_done[r] += 1
            last = k_done[r] >= horizon
            salv = 0.0
            sold_out = not any_unlimited
            for j in range(k):
                if np.isfinite(inv0[j]):
                    if last:
                        salv += salvage[j] * stock[r, j]
                    if stock[r, j] > 0:
                        sold_out = False
            scalars[r, 0] = revenue
            scalars[r, 1] = paid
            scalars[r, 2] = salv
            scalars[r, 3] = revenue - paid + salv
            terminated[r] = last or sold_out
        obs[r, 0] = (horizon - k_done[r]) / horizon
        for j in range(k):
            if np.isfinite(inv0[j]):
                obs[r, 1 + j] = stock[r, j] / inv0[j] if inv0[j] > 0 else 0.0
            else:
                obs[r, 1 + j] = 1.0
            obs[r, 1 + k + j] = last_price[r, j] / pmax[j]
            obs[r, 1 + 2 * k + j] = min(last_sales[r, j] / scale[j], cap)
    return -1
