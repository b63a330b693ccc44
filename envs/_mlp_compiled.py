"""Compiled pieces of the batched neural market's trunk (used by :mod:`._neural_batch`).

Why: profiled on the avocado model (32-32 trunk, one lag, B = 1024, one BLAS
thread), ``np.tanh`` over the two (1024, 32) activations was ~70% of a batched
neural step (~470 µs each: numpy has no SIMD float64 tanh for AVX2 CPUs and calls
libm's scalar ``tanh``, ~15 ns an element), against ~75 µs for the (1024, 32) ×
(32, 32) BLAS product. This module's :func:`tanh` is written to be vectorised by
LLVM (AVX2 on such CPUs): ~4 ns an element, and with the gather of the context
part, the lag term and the bias add fused into the same pass, no extra sweep over
the activations.

The tanh is Cephes' (``tanh.c``: the rational approximation below |x| = 0.625,
``1 − 2/(e^{2|x|} + 1)`` above with Cephes' ``exp.c`` Padé form and an exact
power of two), rearranged so that one division serves both branches and every
lane takes the same path. Measured against numpy's (libm's) ``tanh`` on 3.1
million points spread over [−25, 25]: at most 3 ulp apart, mean 0.5 ulp
(``tests/test_neural_batch.py`` holds it to 4 ulp). A batched market's expected
demand therefore still agrees with a single market's to ~1e-15 relative, inside
the 1e-12 the batched-market tests hold it to. Same inputs → the same bits on one
machine (no fast-math, so no reassociation or contraction).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["bias_tanh", "first_layer", "tanh"]

# Cephes tanh.c: tanh(x) = x + x·s·P(s)/Q(s), s = x², for |x| < 0.625 (Q monic)
_P0, _P1, _P2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_Q0, _Q1, _Q2 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3
# Cephes exp.c: e^r = 1 + 2·r·P(r²) / (Q(r²) − r·P(r²)) on |r| <= ln 2 / 2
_EP0, _EP1, _EP2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1
_EQ0, _EQ1 = 3.00198505138664455042e-6, 2.52448340349684104192e-3
_EQ2, _EQ3 = 2.27265548208155028766e-1, 2.00000000000000000009e0
_C1, _C2 = 6.93145751953125e-1, 1.42860682030941723212e-6  # ln 2 in two parts
_LOG2E = 1.4426950408889634073599
#: above this |x|, tanh(x) is ±1 in float64 (1 − tanh(20) ≈ 8e-18 rounds away)
_SATURATE = 20.0


@njit(inline="always")
def _tanh(x):  # pragma: no cover  (compiled; tested against np.tanh)
    z = abs(x)
    # |x| < 0.625: numerator and denominator of x + x·s·P(s)/Q(s)
    s = x * x
    qs = ((s + _Q0) * s + _Q1) * s + _Q2
    ns = x * qs + x * s * ((_P0 * s + _P1) * s + _P2)
    # |x| >= 0.625: tanh|x| = (E − 1)/(E + 1), E = e^{2|x|} = 2^n · (Q + rP)/(Q − rP)
    y = 2.0 * min(z, _SATURATE)
    px = math.floor(_LOG2E * y + 0.5)
    n = int(px)
    r = y - px * _C1
    r = r - px * _C2
    rr = r * r
    pp = r * ((_EP0 * rr + _EP1) * rr + _EP2)
    qe = ((_EQ0 * rr + _EQ1) * rr + _EQ2) * rr + _EQ3
    p2 = 1.0  # 2^n, 0 <= n <= 58, as exact products (no bit casts: they do not vectorise)
    if n & 1:
        p2 *= 2.0
    if n & 2:
        p2 *= 4.0
    if n & 4:
        p2 *= 16.0
    if n & 8:
        p2 *= 256.0
    if n & 16:
        p2 *= 65536.0
    if n & 32:
        p2 *= 4294967296.0
    num = p2 * (qe + pp)
    den = qe - pp
    nb = num - den
    if x < 0.0:
        nb = -nb
    db = num + den
    small = z < 0.625
    return (ns if small else nb) / (qs if small else db)


@njit(cache=True, nogil=True, error_model="numpy")
def tanh(a: np.ndarray) -> None:  # pragma: no cover  (compiled)
    """``np.tanh(a, out=a)`` for a C-contiguous float64 array, to 3 ulp (module docstring)."""
    f = a.reshape(-1)
    for j in range(f.size):
        f[j] = _tanh(f[j])


@njit(cache=True, nogil=True, error_model="numpy")
def first_layer(  # pragma: no cover  (compiled; tested through the batch)
    table: np.ndarray, k: np.ndarray, zl: np.ndarray, lag_w: np.ndarray, out: np.ndarray
) -> None:
    """``out = tanh(table[k] + zl @ lag_w)`` row by row, the lags summed in order.

    ``table`` (periods, H): the context part of the first layer per period; ``k`` (B,)
    each market's period; ``zl`` (B, n_lags) standardised lags; ``lag_w`` (n_lags, H).
    """
    h = table.shape[1]
    n_lags = zl.shape[1]
    for r in range(k.size):
        row = table[k[r]]
        o = out[r]
        for j in range(h):
            o[j] = row[j]
        for i in range(n_lags):
            z = zl[r, i]
            w = lag_w[i]
            for j in range(h):
                o[j] += z * w[j]
        for j in range(h):
            o[j] = _tanh(o[j])


@njit(cache=True, nogil=True, error_model="numpy")
def bias_tanh(act: np.ndarray, bias: np.ndarray) -> None:  # pragma: no cover  (compiled)
    """``act = tanh(act + bias)`` in place, ``act`` (B, H) and ``bias`` (H,)."""
    for r in range(act.shape[0]):
        o = act[r]
        for j in range(o.size):
            o[j] = _tanh(o[j] + bias[j])
