"""The neural demand path of :class:`~pricegym.envs.vector.MarketVectorEnv`: B markets a step.

:class:`NeuralBatch` is the batched twin of :class:`~pricegym.envs._fastpath.NeuralPath`
for a fitted :class:`~pricegym.demand.mlp.MLPKernel` with deterministic competitor
prices. Before, the batched market called ``MLPKernel.expected`` every step, which
rebuilds each market's whole input vector (calendar and Fourier features, competitor
logs, standardisation, one concatenation) and runs the first layer over all of it:
profiled on the avocado model (32-32 trunk, one lag, B = 1024) that cost ~1.4 ms a
step, of which the first layer's (B, n_z) product, the feature building and the
state concatenations were ~60%, the two tanh layers ~25% and softplus / m(x) the rest.

Here, as in the single market's path, everything that depends on the period only is
computed once per episode period: ``pre_k = z_c(k) W_c + b`` (the context part of the
first layer's pre-activation, (H,)), in the same blocks of periods as the single
market so those values are bit for bit the same. A step then costs

1. ``pre = pre_k[k] + z_lags W_lags`` (a gather and one (B, n_lags) × (n_lags, H)
   product; for one lag an outer product),
2. ``tanh`` in place, then each later layer ``tanh(h W + b)`` (one BLAS product); the
   gather, lag term and first tanh run as one compiled pass, and each bias add with
   its tanh as another (:mod:`pricegym.envs._mlp_compiled`: numpy's float64 ``tanh``
   is libm's scalar one on AVX2 CPUs, ~70% of the step before; the compiled one is
   vectorised, ~4× faster, within 3 ulp of it),
3. the heads ``[level, slope] = h W_h + b_h`` (one (B, H) × (H, 2) product),
   ``softplus`` of the slope as torch computes it (identity above 20),
4. ``m(x)``: a lookup for grid prices (precomputed with the single market's float
   code, so identical); continuous prices evaluate the K tanh units on the batch,
5. ``μ = exp(log unit_scale + level − slope · m)``, in the single market's order,

into preallocated buffers. The lag buffer is the kernel's own state dict
(``{"lags": (B, n_lags), "product": (B,)}``), shifted in place each step, so the
market's resets (``MLPKernel.reset_state``) work unchanged.

Agreement with single markets: the same float64 operations, but the compiled
``tanh`` and numpy's SIMD ``exp``/``log1p`` on arrays against the single path's numpy calls on one
row and ``math`` floats, and BLAS sums over B rows in another order than one row:
``expected_demand`` agrees to rounding (measured ~1e-15 relative; the tests hold it
to 1e-12 as for the other batched paths), discrete outcomes exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pricegym.demand.mlp import SOFTPLUS_THRESHOLD
from pricegym.envs import _mlp_compiled

__all__ = ["NeuralBatch", "m_of_price"]


def m_of_price(kernel: Any, price: float) -> float:
    """The kernel's monotone price function m(x) at one price, on floats.

    The same float operations, in the same order, as
    :meth:`~pricegym.envs._fastpath.NeuralPath._m` (so a grid lookup equals the single
    market's value bit for bit).
    """
    x = (math.log(price) - float(kernel._lp_mean)) / float(kernel._lp_sd)
    cd = kernel._c / kernel._d
    m = float(kernel._a) * x - float(cd @ kernel._tanh_e)
    tanh = math.tanh
    for c_d, d, e in zip(cd.tolist(), kernel._d.tolist(), kernel._e.tolist(), strict=True):
        m += c_d * tanh(x * d + e)
    return m


class NeuralBatch:
    """Expected units of B markets of one :class:`~pricegym.demand.mlp.MLPKernel`.

    Args:
        kernel: the fitted kernel.
        batch: number of markets B.
        grid: the market's price grid (discrete prices) or ``None`` (continuous).
        blocks: the vector env's ``_blocks``: calls ``compute(t, comp)`` over the
            episode's periods in the single market's blocks and stacks the results.
        context: builds the kernel's :class:`~pricegym.demand.features.MarketContext`
            of periods ``t`` with competitor prices ``comp``.
    """

    def __init__(
        self,
        kernel: Any,
        batch: int,
        grid: np.ndarray | None,
        blocks: Callable[[Callable[[np.ndarray, np.ndarray], np.ndarray]], np.ndarray],
        context: Callable[[np.ndarray, np.ndarray], Any],
    ) -> None:
        self.kernel = kernel
        n_lags = int(kernel.n_lags)
        nc = kernel._z_mean.shape[0] - n_lags
        self._nc, self._n_lags = nc, n_lags
        self._context = context
        self._unit = float(kernel.unit_scale)
        self._log_unit = math.log(kernel.unit_scale)
        self._lag_mean = kernel._z_mean[nc:].copy()
        self._lag_sd = kernel._z_sd[nc:].copy()
        hidden = kernel._hidden
        heads = np.column_stack([kernel._level_w, kernel._slope_w])  # (H, 2)
        head_b = np.array([kernel._level_b, kernel._slope_b])
        if hidden:
            first_w, first_b = hidden[0]  # (n_z, H), (H,)
            self._first = (first_w[:nc], first_b)
            self._lag_w = np.ascontiguousarray(first_w[nc:])  # (n_lags, H)
            self._later = [
                (np.ascontiguousarray(w), np.ascontiguousarray(b, dtype=np.float64))
                for w, b in hidden[1:]
            ]
            self._heads: tuple[np.ndarray, np.ndarray] | None = (
                np.ascontiguousarray(heads),
                head_b,
            )
        else:  # no trunk: the heads read z directly
            self._first = (heads[:nc], head_b)
            self._lag_w = np.ascontiguousarray(heads[nc:])
            self._later = []
            self._heads = None
        #: the context part of the first layer (or of the heads), per episode period
        self._pre_table = np.ascontiguousarray(blocks(self._block), dtype=np.float64)
        self._grid = grid
        self._m_grid = None
        if grid is not None:
            self._m_grid = np.array([m_of_price(kernel, float(p)) for p in grid])
        self._pa = float(kernel._a)
        cd = kernel._c / kernel._d
        self._cd, self._d, self._e = cd, kernel._d.copy(), kernel._e.copy()
        self._m0 = float(cd @ kernel._tanh_e)
        self._lp_mean, self._lp_sd = float(kernel._lp_mean), float(kernel._lp_sd)
        b = int(batch)
        width = self._pre_table.shape[1]
        self._pre = np.empty((b, width))
        self._zl = np.empty((b, n_lags))
        self._acts = [np.empty((b, w.shape[1])) for w, _ in self._later]
        self._out = np.empty((b, 2))

    def _block(self, t: np.ndarray, comp: np.ndarray) -> np.ndarray:
        """``z_c W_c + b`` of periods ``t``: as ``NeuralPath._compute`` (same blocks)."""
        kern = self.kernel
        nc = self._nc
        x_all = kern.spec.build_context(np.ones(t.shape[0]), self._context(t, comp))
        zc = (x_all[:, 1:] - kern._z_mean[:nc]) / kern._z_sd[:nc]
        w_c, b = self._first
        return zc @ w_c + b

    def _m(self, price: np.ndarray) -> np.ndarray:
        """m(x) of a batch of continuous prices."""
        x = (np.log(price) - self._lp_mean) / self._lp_sd
        units = np.tanh(x[:, None] * self._d + self._e)
        return (self._pa * x - self._m0) + units @ self._cd

    def expected(
        self, k: np.ndarray, idx: np.ndarray | None, price: np.ndarray, lags: np.ndarray
    ) -> np.ndarray:
        """μ of each market at its period ``k``, grid index ``idx`` (or ``price``), ``lags``."""
        pre = self._pre
        zl = self._zl
        if self._n_lags:
            np.divide(lags, self._unit, out=zl)
            np.log1p(zl, out=zl)
            zl -= self._lag_mean
            zl /= self._lag_sd
        out = self._out
        if self._heads is None:
            np.take(self._pre_table, k, axis=0, out=pre)
            if self._n_lags == 1:
                pre += zl * self._lag_w[0]  # the outer product of one lag
            elif self._n_lags:
                pre += zl @ self._lag_w
            out[...] = pre
        else:
            # gather, lag term and tanh in one compiled pass (see _mlp_compiled)
            _mlp_compiled.first_layer(self._pre_table, k, zl, self._lag_w, pre)
            h = pre
            for (w, bias), act in zip(self._later, self._acts, strict=True):
                np.dot(h, w, out=act)
                _mlp_compiled.bias_tanh(act, bias)
                h = act
            w_h, b_h = self._heads
            np.dot(h, w_h, out=out)
            out += b_h
        level, s = out[:, 0], out[:, 1]
        # softplus as torch (and the kernel) computes it: the input itself above 20
        slope = np.where(
            s > SOFTPLUS_THRESHOLD, s, np.log1p(np.exp(np.minimum(s, SOFTPLUS_THRESHOLD)))
        )
        m = self._m_grid[idx] if idx is not None and self._m_grid is not None else self._m(price)
        eta = self._log_unit + level
        eta -= slope * m
        return np.exp(eta, out=eta)

    @staticmethod
    def observe(state: dict[str, np.ndarray], demand: np.ndarray) -> None:
        """Shift each market's lag buffer in place: ``demand`` becomes lag 1."""
        lags = state["lags"]
        if lags.shape[1] > 1:
            lags[:, 1:] = lags[:, :-1].copy()
        if lags.shape[1]:
            lags[:, 0] = demand
