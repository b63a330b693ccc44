"""The compiled inner loop of Calvano Q-learning (one session), used by :mod:`.qlearning`.

Why compiled and hand-written: a published experiment is ~2·10^6 sequential
periods per session × 1,000 sessions, and each period is a handful of scalar
operations on two random Q entries. In numpy even the best vectorisation over
sessions costs 25–45 library calls per period (measured: 747 s for the
baseline's 1,000 sessions on 2 cores); compiled with numba a period costs tens
of nanoseconds per seller. No RL library runs tabular learning over
independent sessions, so this loop is ours.

The algorithm and its random streams are specified in :mod:`.qlearning`; this
module only executes them. It draws from the session's own
``numpy.random.Generator`` (numba shares the generator's state with Python, and
its ``random()`` is numpy's ``next_double``), so a session's uniforms are the
same numbers, in the same order, as ``generator.random(n)`` period by period.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _leader(row: np.ndarray) -> tuple[int, float]:  # pragma: no cover
    """(first argmax, as ``numpy.argmax``; max) of one Q row."""
    g = 0
    v = row[0]
    for a in range(1, row.shape[0]):
        if row[a] > v:
            v = row[a]
            g = a
    return g, v


@njit(cache=True, nogil=True)
def row_leaders(q: np.ndarray, greedy: np.ndarray, best: np.ndarray) -> None:  # pragma: no cover
    """Fill ``greedy`` (first argmax, as ``numpy.argmax``) and ``best`` (max) of every Q row.

    ``q`` has shape (n, N, m); ``greedy`` and ``best`` shape (n, N).
    """
    n, n_states, _ = q.shape
    for i in range(n):
        for s in range(n_states):
            greedy[i, s], best[i, s] = _leader(q[i, s])


@njit(cache=True, nogil=True)
def learn_session(  # pragma: no cover  (compiled; tested through run_sessions)
    gen: np.random.Generator,
    q: np.ndarray,
    greedy: np.ndarray,
    best: np.ndarray,
    scaled_profits: np.ndarray,
    status: np.ndarray,
    keep: float,
    discount: float,
    beta: float,
    n_prof: int,
    tail: int,
    patience: int,
    stop: int,
) -> None:
    """Learn one session in place from period ``status[0]`` until convergence or period ``stop``.

    Args:
        gen: the session's generator; n uniforms are drawn per period.
        q: (n, N, m) Q-tables, updated in place.
        greedy, best: (n, N) first argmax and max of every Q row, kept exact.
        scaled_profits: (n, m^n) α·profit of each seller at each price profile.
        status: int64 [t, state, quiet], updated in place: the next period, the
            current state, and the periods since a greedy price last changed.
        keep: 1 − α.  discount: α·δ.  beta: exploration decay.
        n_prof: m^n price profiles.  tail: m^(n(k−1)), the memory kept on a shift.
        patience: converged when ``quiet`` reaches it.  stop: run no period ≥ stop.

    Per period: seller i draws u_i; it explores when u_i < ε_t = exp(−βt) and
    then plays ⌊u_i/ε_t·m⌋ (capped at m − 1), else its greedy price. Each
    played Q entry becomes ``((1 − α)·Q + α·π) + α·δ·max Q_i(s')`` with the
    maximum read before any update of the period; then the row's leader is
    re-scanned and ``quiet`` is reset if any seller's greedy price moved.
    """
    n, _, m = q.shape
    acts = np.empty(n, dtype=np.int64)
    t, state, quiet = status[0], status[1], status[2]
    while t < stop and quiet < patience:
        eps = math.exp(-beta * t)
        profile = 0
        for i in range(n):
            u = gen.random()
            if u < eps:
                a = int(u * (m / eps))
                if a > m - 1:
                    a = m - 1
            else:
                a = greedy[i, state]
            acts[i] = a
            profile = profile * m + a
        nxt = (state % tail) * n_prof + profile
        changed = False
        for i in range(n):
            a = acts[i]
            target = q[i, state, a] * keep
            target += scaled_profits[i, profile]
            target += best[i, nxt] * discount
            q[i, state, a] = target
            g, v = _leader(q[i, state])
            if g != greedy[i, state]:
                changed = True
                greedy[i, state] = g
            best[i, state] = v
        quiet = 0 if changed else quiet + 1
        state = nxt
        t += 1
    status[0], status[1], status[2] = t, state, quiet


@njit(cache=True, nogil=True)
def learn_against(  # pragma: no cover  (compiled; tested through train_against)
    gen: np.random.Generator,
    q: np.ndarray,
    greedy: np.ndarray,
    best: np.ndarray,
    scaled_profits: np.ndarray,
    actions: np.ndarray,
    moves: np.ndarray,
    modes: np.ndarray,
    status: np.ndarray,
    keep: float,
    discount: float,
    beta: float,
    seat: int,
    n_prof: int,
    tail: int,
    patience: int,
    stop: int,
) -> None:
    """One Q-learner in seat ``seat`` against n − 1 rivals given as automata, in place.

    Args:
        gen: the session's generator; one uniform is drawn per period (the learner's).
        q: (N, m) the learner's Q-table, updated in place.
        greedy, best: (N,) first argmax and max of every row of ``q``, kept exact.
        scaled_profits: (m^n,) α·profit of the learner at each price profile.
        actions, moves: (n, C, N) rival j in mode c and state s plays
            ``actions[j, c, s]`` and moves to mode ``moves[j, c, s]`` (row ``seat``
            is not read).
        modes: (n,) each rival's current mode, updated in place.
        status: int64 [t, state, quiet], as in :func:`learn_session`.
        keep: 1 − α.  discount: α·δ.  beta: exploration decay.  seat: the learner's seat.
        n_prof: m^n.  tail: m^(n(k−1)).  patience, stop: as in :func:`learn_session`.

    Per period the sellers are visited in seat order: the learner draws u, explores
    when u < ε_t = exp(−βt) with price ⌊u/ε_t·m⌋ (capped at m − 1), else plays its
    greedy price; each rival plays its automaton's action for the current state and
    mode. The learner's entry becomes ``((1 − α)·Q + α·π) + α·δ·max Q(s')`` and
    ``quiet`` counts the periods since its greedy price in any state last moved.
    """
    m = q.shape[1]
    n = actions.shape[0]
    t, state, quiet = status[0], status[1], status[2]
    while t < stop and quiet < patience:
        eps = math.exp(-beta * t)
        profile = 0
        mine = 0
        for j in range(n):
            if j == seat:
                u = gen.random()
                if u < eps:
                    a = int(u * (m / eps))
                    if a > m - 1:
                        a = m - 1
                else:
                    a = greedy[state]
                mine = a
            else:
                c = modes[j]
                a = actions[j, c, state]
                modes[j] = moves[j, c, state]
            profile = profile * m + a
        nxt = (state % tail) * n_prof + profile
        target = q[state, mine] * keep
        target += scaled_profits[profile]
        target += best[nxt] * discount
        q[state, mine] = target
        g, v = _leader(q[state])
        if g != greedy[state]:
            greedy[state] = g
            quiet = 0
        else:
            quiet += 1
        best[state] = v
        state = nxt
        t += 1
    status[0], status[1], status[2] = t, state, quiet


def warm_up_against() -> None:
    """Compile (or load from numba's cache) :func:`learn_against`."""
    q = np.zeros((4, 2))
    gen = np.random.default_rng(0)
    table = np.zeros((2, 1, 4), dtype=np.int64)
    learn_against(
        gen,
        q,
        np.zeros(4, dtype=np.int64),
        np.zeros(4),
        np.zeros(4),
        table,
        table,
        np.zeros(2, dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        0.5,
        0.5,
        0.0,
        0,
        4,
        1,
        1,
        0,
    )


def warm_up() -> None:
    """Compile (or load from numba's cache) both loops, e.g. before forking worker processes."""
    q = np.zeros((2, 4, 2))
    greedy = np.zeros((2, 4), dtype=np.int64)
    best = np.zeros((2, 4))
    row_leaders(q, greedy, best)
    status = np.zeros(3, dtype=np.int64)
    gen = np.random.default_rng(0)
    learn_session(gen, q, greedy, best, np.zeros((2, 4)), status, 0.5, 0.5, 0.0, 4, 1, 1, 0)
