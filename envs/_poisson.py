"""numpy's Poisson sampler compiled over per-market PCG64 states (used by :mod:`.vector`).

Why hand-written and compiled: a batch of B markets must draw market i's demand
from market i's own generator, exactly as ``rng.poisson(λ_i)`` would (so that
the batch equals B single markets), and no numpy call draws from B generators
at once. :class:`~pricegym.envs.vector.MarketVectorEnv` keeps each market's
``PCG64`` state (the 128-bit LCG state and increment, as four ``uint64``) in one
array; this module steps those states itself (numpy's ``pcg64_next64`` and
``next_double``: the 128-bit multiply-add, the XSL-RR output, the top 53 bits)
and turns the doubles into Poisson draws with numpy's own algorithm
(``random_poisson`` in ``numpy/random/src/distributions/distributions.c``: the
multiplication method below λ = 10, Hörmann's transformed rejection PTRS from 10
up), the same operations in the same order, consuming exactly the doubles numpy
would. Drawing from the states directly (instead of from look-ahead buffers of
doubles refilled by one generator call per market) removes the refills and the
cache and TLB misses of B buffers 8 KiB apart; a batch whose means come from a
fixed table computes the per-mean constants once (:func:`ptrs_constants`), and
``log Γ(k + 1)`` is tabulated: a draw is ~40 ns where it was ~110 ns.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# PCG64 (``numpy/random/src/pcg64/pcg64.h``): state ← state · MUL + inc (mod 2¹²⁸),
# output = rotr64(hi ^ lo, hi >> 58). Constants are uint64 so numba keeps the
# arithmetic in wrapping unsigned 64-bit integers (a mixed int64 would go float).
_MUL_HI = np.uint64(2549297995355413924)
_MUL_LO = np.uint64(4865540595714422341)
_M32 = np.uint64(0xFFFFFFFF)
_S11, _S32, _S58, _S63, _S64 = (np.uint64(x) for x in (11, 32, 58, 63, 64))
_ONE, _ZERO = np.uint64(1), np.uint64(0)
_TWO_M53 = 1.0 / 9007199254740992.0

#: numpy's ``random_loggam`` coefficients.
_LOGGAM_A = np.array(
    [
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.39243221690590e00,
    ]
)


@njit(cache=True, nogil=True, error_model="numpy")
def _loggam(x: float) -> float:  # pragma: no cover  (compiled; tested through the batch)
    """numpy's ``random_loggam(x)``, the same operations."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM_A[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_A[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453e00 + (x0 - 0.5) * math.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(inline="always")
def _pcg_step(s_hi, s_lo, i_hi, i_lo):  # pragma: no cover  (compiled)
    """One PCG64 step on a state held in local variables: (numpy's ``next_double``, new
    state hi, new state lo), for kernels that keep the state in registers across draws."""
    # the high 64 bits of s_lo · MUL_LO, from 32-bit halves
    a_lo = s_lo & _M32
    a_hi = s_lo >> _S32
    b_lo = _MUL_LO & _M32
    b_hi = _MUL_LO >> _S32
    t = a_lo * b_lo
    t = a_hi * b_lo + (t >> _S32)
    w1 = t & _M32
    w2 = t >> _S32
    t = a_lo * b_hi + w1
    hi = a_hi * b_hi + w2 + (t >> _S32)
    hi = hi + s_hi * _MUL_LO + s_lo * _MUL_HI
    lo = s_lo * _MUL_LO
    lo2 = lo + i_lo
    hi = hi + i_hi + (_ONE if lo2 < lo else _ZERO)
    x = hi ^ lo2
    rot = hi >> _S58
    out = (x >> rot) | (x << ((_S64 - rot) & _S63))
    return np.float64(out >> _S11) * _TWO_M53, hi, lo2


@njit(inline="always")
def _next_double(st: np.ndarray, r: int) -> float:  # pragma: no cover  (compiled)
    """numpy's ``next_double`` of PCG64 state row ``st[r]`` (state hi, lo, inc hi, lo)."""
    u, hi, lo = _pcg_step(st[r, 0], st[r, 1], st[r, 2], st[r, 3])
    st[r, 0] = hi
    st[r, 1] = lo
    return u


@njit(cache=True, nogil=True, error_model="numpy")
def doubles(st: np.ndarray, r: int, out: np.ndarray) -> None:  # pragma: no cover  (compiled)
    """Fill ``out`` with the next doubles of state row r, as ``Generator.random(out=out)``."""
    for j in range(out.size):
        out[j] = _next_double(st, r)


#: Columns of a row of :func:`ptrs_constants`.
_N_CONST = 8
#: ``_loggam(k + 1)`` tabulated for k < this (PTRS's slow test; larger k compute it).
_LOGGAM_TABLE = 4096


@njit(cache=True, nogil=True, error_model="numpy")
def ptrs_constants(lam: np.ndarray) -> np.ndarray:  # pragma: no cover  (compiled)
    """Per-mean constants of numpy's Poisson draw, one row per entry of ``lam``.

    Row: ``(λ, log λ, b, a, log(1/α), v_r, 2a, e^{-λ})`` computed with the same
    operations as ``random_poisson_ptrs`` / ``random_poisson_mult`` (so a draw from
    them is the draw from λ); a batch whose means come from a fixed table (the
    markets' price grid) computes them once instead of once per draw.
    """
    c = np.zeros((lam.size, _N_CONST))
    for r in range(lam.size):
        lm = lam[r]
        c[r, 0] = lm
        if lm >= 10.0:
            slam = math.sqrt(lm)
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            c[r, 1] = math.log(lm)
            c[r, 2] = b
            c[r, 3] = a
            c[r, 4] = math.log(1.1239 + 1.1328 / (b - 3.4))
            c[r, 5] = 0.9277 - 3.6224 / (b - 2)
            c[r, 6] = 2 * a
        elif lm > 0.0:
            c[r, 7] = math.exp(-lm)
    return c


@njit(cache=True, nogil=True, error_model="numpy")
def loggam_table() -> np.ndarray:  # pragma: no cover  (compiled)
    """``_loggam(k + 1)`` for k = 0 … ``_LOGGAM_TABLE`` − 1 (the same function's values)."""
    out = np.empty(_LOGGAM_TABLE)
    for k in range(_LOGGAM_TABLE):
        out[k] = _loggam(k + 1.0)
    return out


@njit(inline="always")
def _draw(
    st: np.ndarray, r: int, c: np.ndarray, e: int, lg: np.ndarray
) -> float:  # pragma: no cover
    """numpy's ``random_poisson`` with the constants row ``c[e]``, from state row r."""
    lm = c[e, 0]
    if not lm > 0.0:
        return 0.0
    if lm >= 10.0:  # random_poisson_ptrs
        loglam = c[e, 1]
        b = c[e, 2]
        a = c[e, 3]
        log_invalpha = c[e, 4]
        vr = c[e, 5]
        two_a = c[e, 6]
        while True:
            u = _next_double(st, r) - 0.5
            v = _next_double(st, r)
            us = 0.5 - abs(u)
            k = math.floor((two_a / us + b) * u + lm + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            g = lg[int(k)] if k < lg.size else _loggam(k + 1)
            if (math.log(v) + log_invalpha - math.log(a / (us * us) + b)) <= (-lm + k * loglam - g):
                return k
    # random_poisson_mult
    enlam = c[e, 7]
    x = 0
    prod = 1.0
    while True:
        prod *= _next_double(st, r)
        if prod > enlam:
            x += 1
        else:
            return x


@njit(cache=True, nogil=True, error_model="numpy")
def poisson_states(  # pragma: no cover  (compiled; tested through the batch)
    st: np.ndarray, lam: np.ndarray, out: np.ndarray, lg: np.ndarray
) -> None:
    """Draw ``out[r] ~ Poisson(lam[r])`` from PCG64 state row ``st[r]``, for every market r.

    ``st`` is ``(B, 4)`` uint64, advanced in place by the doubles each draw consumes.
    A mean that is not > 0 gives 0 and consumes nothing (as ``rng.poisson(max(λ, 0))``).
    ``lg`` is :func:`loggam_table`.
    """
    c = ptrs_constants(lam)
    for r in range(lam.size):
        out[r] = _draw(st, r, c, r, lg)


@njit(cache=True, nogil=True, error_model="numpy")
def poisson_entries(  # pragma: no cover  (compiled; tested through the batch)
    st: np.ndarray, entry: np.ndarray, consts: np.ndarray, out: np.ndarray, lg: np.ndarray
) -> None:
    """As :func:`poisson_states` with market r's mean the table entry ``entry[r]``.

    ``consts`` is :func:`ptrs_constants` of the table; an entry < 0 draws nothing
    and gives 0 (a market that is resetting).
    """
    for r in range(entry.size):
        e = entry[r]
        out[r] = 0.0 if e < 0 else _draw(st, r, consts, e, lg)
