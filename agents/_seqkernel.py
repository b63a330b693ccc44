"""The compiled loop of Klein's (2021) sequential-move Q-learning, used by :mod:`.sequential_q`.

Why compiled: a published run is 500,000 sequential periods per session × 1,000
sessions per price grid, each period a few scalar operations and two scans of
one Q row; in Python that is minutes per session, compiled it is milliseconds.
The algorithm, its timing and its random stream are specified in
:mod:`.sequential_q`; this module only executes them. It draws from the
session's own ``numpy.random.Generator`` (numba shares the generator's state
with Python, and its ``random()`` is numpy's ``next_double``), so a session's
uniforms are the numbers ``generator.random()`` would give, in the same order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _argmax(row: np.ndarray) -> int:  # pragma: no cover
    """First maximiser of one Q row, as ``numpy.argmax``."""
    g = 0
    v = row[0]
    for a in range(1, row.shape[0]):
        if row[a] > v:
            v = row[a]
            g = a
    return g


@njit(cache=True, nogil=True)
def learn_sequential(  # pragma: no cover  (compiled; tested through run_sequential_sessions)
    gen: np.random.Generator,
    q: np.ndarray,
    profits: np.ndarray,
    prices: np.ndarray,
    states: np.ndarray,
    last_change: np.ndarray,
    alpha: float,
    delta: float,
    beta: float,
    periods: int,
) -> None:
    """Play and learn one session of ``periods`` periods, in place.

    Args:
        gen: the session's generator; one uniform per period is drawn (after the
            one that drew ``prices[1]``, which the caller drew).
        q: (2, m, m) Q-tables, ``q[i, s, a]``: firm i's value of price a when the
            rival's current price is s; updated in place.
        profits: (2, m, m) ``profits[i, a, b]``: firm i's profit per period at own
            price a against rival price b.
        prices: int64 (2,), the current price indices; on entry ``prices[1]`` is
            firm 1's price in period 0 (``prices[0]`` is not read); on exit the
            prices after the last period.
        states: int64 (2,), out: the rival's price each firm saw at its last move.
        last_change: int64 (2,), out: the last period in which a Q update changed
            the firm's greedy price in the updated state (−1: never).
        alpha, delta: learning rate α and discount δ.
        beta: exploration decay, ε_t = exp(−βt).
        periods: T, the number of periods.

    Period t (t = 0 … T−1): firm i = t mod 2 moves, its rival j keeps its price.
    For t ≥ 2 firm i first learns from its previous move (period t − 2, own price
    a = prices[i], state s = the rival price it saw then):
    ``Q_i(s, a) ← (1 − α)·Q_i(s, a) + α·(π_i(a, s) + δ·π_i(a, p_j) + δ²·max Q_i(p_j, ·))``
    with p_j the rival's price set in period t − 1. Then it draws u: when
    u < ε_t it plays ⌊u/ε_t·m⌋ (capped at m − 1), else argmax Q_i(p_j, ·).
    """
    m = q.shape[1]
    d2 = delta * delta
    for t in range(periods):
        i = t % 2
        j = 1 - i
        pj = prices[j]
        if t >= 2:
            a = prices[i]
            s = states[i]
            row = q[i, s]
            before = _argmax(row)
            nxt = q[i, pj]
            best = nxt[0]
            for b in range(1, m):
                if nxt[b] > best:
                    best = nxt[b]
            target = profits[i, a, s] + delta * profits[i, a, pj] + d2 * best
            row[a] = (1.0 - alpha) * row[a] + alpha * target
            if _argmax(row) != before:
                last_change[i] = t
        eps = math.exp(-beta * t)
        u = gen.random()
        if u < eps:
            a = int(u * (m / eps))
            if a > m - 1:
                a = m - 1
        else:
            a = _argmax(q[i, pj])
        prices[i] = a
        states[i] = pj


def warm_up() -> None:
    """Compile (or load from numba's cache) :func:`learn_sequential`."""
    learn_sequential(
        np.random.default_rng(0),
        np.zeros((2, 2, 2)),
        np.zeros((2, 2, 2)),
        np.zeros(2, dtype=np.int64),
        np.zeros(2, dtype=np.int64),
        np.full(2, -1, dtype=np.int64),
        0.5,
        0.5,
        0.0,
        4,
    )
