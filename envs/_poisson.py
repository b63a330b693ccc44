"""numpy's Poisson sampler compiled over per-market look-ahead buffers (used by :mod:`.vector`).

Why hand-written and compiled: a batch of B markets must draw market i's demand
from market i's own generator, exactly as ``rng.poisson(λ_i)`` would (so that
the batch equals B single markets), and no numpy call draws from B generators
at once. :class:`~pricegym.envs.vector.MarketVectorEnv` keeps a look-ahead
buffer of each market's uniform doubles; this module turns them into Poisson
draws with numpy's own algorithm (``random_poisson`` in
``numpy/random/src/distributions/distributions.c``: the multiplication method
below λ = 10, Hörmann's transformed rejection PTRS from 10 up), the same
operations in the same order, consuming exactly the doubles numpy would. A
numpy transcription over arrays ran at a third of the speed of the log-normal
markets; compiled, a draw is a few tens of nanoseconds.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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


@njit(cache=True, nogil=True, error_model="numpy")
def poisson_rows(  # pragma: no cover  (compiled; tested through the batch)
    flat: np.ndarray,
    base: np.ndarray,
    pos: np.ndarray,
    chunk: int,
    lam: np.ndarray,
    out: np.ndarray,
    start: int,
) -> int:
    """Draw ``out[r] ~ Poisson(lam[r])`` for markets r = start, start + 1, … from their buffers.

    Market r's unread doubles are ``flat[base[r] + pos[r] : base[r] + chunk]``;
    ``pos[r]`` advances by the doubles a draw consumes. A mean that is not > 0
    gives 0 and consumes nothing (as ``rng.poisson(max(λ, 0))``). Returns the
    first market whose buffer ran out before its draw was done (its ``pos`` is
    left unchanged, so the caller refills it and calls again from there), or
    ``lam.size`` when every market is drawn.
    """
    for r in range(start, lam.size):
        lm = lam[r]
        p = pos[r]
        end = chunk
        at = base[r]
        if not lm > 0.0:
            out[r] = 0.0
            continue
        if lm >= 10.0:  # random_poisson_ptrs
            slam = math.sqrt(lm)
            loglam = math.log(lm)
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)
            done = False
            while p + 2 <= end:
                u = flat[at + p] - 0.5
                v = flat[at + p + 1]
                p += 2
                us = 0.5 - abs(u)
                k = math.floor((2 * a / us + b) * u + lm + 0.43)
                if us >= 0.07 and v <= vr:
                    done = True
                    break
                if k < 0 or (us < 0.013 and v > us):
                    continue
                if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
                    -lm + k * loglam - _loggam(k + 1)
                ):
                    done = True
                    break
            if not done:
                return r
            out[r] = k
        else:  # random_poisson_mult
            enlam = math.exp(-lm)
            x = 0
            prod = 1.0
            done = False
            while p < end:
                prod *= flat[at + p]
                p += 1
                if prod > enlam:
                    x += 1
                else:
                    done = True
                    break
            if not done:
                return r
            out[r] = x
        pos[r] = p
    return lam.size
