"""Per-kernel evaluation of one market's demand, step by step (the env's hot path).

A :class:`~pricegym.envs.market.PricingEnv` step should cost about as much as a
classic-control step (~10 µs), but a kernel call on a batch of one market costs
10–50 µs: numpy's per-call overhead on 1-element arrays dominates. So, for the
kernels pricegym ships, the action-independent part of expected demand is
precomputed per block of :data:`BLOCK` periods in one batched call, and the
per-step remainder runs on Python floats. Hand-written for that speed; the
numbers are the kernel's own (no library call can do this on scalars faster).

Every path has the same small interface, used by the env:

- :meth:`DemandPath.set_competitors` — the exogenous competitor prices of the
  episode, shape (n_periods, m); drops precomputed blocks.
- :meth:`DemandPath.reset` — kernel state back to its end-of-history state.
- :meth:`DemandPath.expected` — expected units of period ``k`` at grid index ``i``
  (``-1`` for a continuous price) and price ``price`` with competitor prices ``comp``.
- :meth:`DemandPath.observe` — advance the kernel state with the period's demand.

Paths and the kernels they serve:

====================  ==========================================  =================================
path                  kernel                                      precomputed per block of periods
====================  ==========================================  =================================
:class:`TablePath`    any stateless kernel, discrete prices       μ(period, grid price)
:class:`LinearPath`   plain RegressionKernel, continuous          price-free part of η
:class:`ArimaxPath`   :class:`ArimaxKernel`                       x'β (grid) or price-free part
:class:`NeuralPath`   :class:`MLPKernel`                          context part of the first layer
:class:`TruthPath`    parametric single-seller truth, continuous  nothing: λ(p) on a float
:class:`GenericPath`  anything else, ``fast_path=False``, rivals  nothing: a kernel call per step
====================  ==========================================  =================================

Each fast path reproduces ``kernel.expected`` / ``kernel.update`` up to
floating-point rounding. :func:`make_path` verifies that on two periods at
construction (at every test price, through ``observe``) and falls back to
:class:`GenericPath` when it does not hold — e.g. for a subclass that changes the
kernel's formula.

:func:`make_draw` returns the scalar demand draw that consumes the generator
exactly as ``kernel.sample(rng, np.array([mu]))`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from pricegym.demand.features import MarketContext
from pricegym.demand.kernels import DemandKernel, RegressionKernel
from pricegym.demand.mlp import MLPKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.parametric import ConstantElasticity, ExponentialTruth, LinearTruth
from pricegym.demand.statespace import ArimaxKernel

__all__ = [
    "BLOCK",
    "SMALL_STATE",
    "ArimaxPath",
    "DemandPath",
    "GenericPath",
    "LinearPath",
    "NeuralPath",
    "TablePath",
    "TruthPath",
    "make_draw",
    "make_path",
]

#: Periods per block of precomputed, action-independent quantities.
BLOCK = 64
#: Largest ARIMAX state filtered on Python floats (a larger one uses numpy).
SMALL_STATE = 4
#: Relative tolerance of the construction-time check of a fast path against the kernel.
SELF_CHECK_RTOL = 1e-9

_TRUTHS = (ConstantElasticity, ExponentialTruth, LinearTruth)

Draw = Callable[[np.random.Generator, float], float]


# ==================================================================== base
class DemandPath:
    """Expected demand of one market, one kernel call per step (the reference path).

    Args:
        kernel: the demand kernel (one seller).
        grid: the discrete price grid, or ``None`` for continuous prices.
        start_t: calendar period of step 0.
        promotions: promotion flags of every period, shape (1, q).
    """

    mode = "generic"

    def __init__(
        self, kernel: DemandKernel, grid: np.ndarray | None, start_t: float, promotions: np.ndarray
    ) -> None:
        self.kernel = kernel
        self.grid = grid
        self.start_t = float(start_t)
        self.promotions = promotions
        self.stateful = type(kernel).update is not DemandKernel.update or bool(
            kernel.initial_state(1)
        )
        self._comp = np.empty((0, len(kernel.spec.competitors)))
        self.reset()

    def context(self, t: np.ndarray, comp: np.ndarray) -> MarketContext:
        """The kernel context of periods ``t`` (calendar) with competitor prices ``comp``."""
        n = t.shape[0]
        promo = np.broadcast_to(self.promotions, (n, self.promotions.shape[1]))
        return MarketContext(t, comp, promo, np.full(n, self.kernel.default_product, np.int64))

    def set_competitors(self, path: np.ndarray) -> None:
        """Exogenous competitor prices of the episode's periods, shape (n_periods, m)."""
        self._comp = path

    def reset(self) -> None:
        """Kernel state back to the end of the fitted history."""
        self._state = self.kernel.initial_state(1)

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        """Expected units of period ``k`` at ``price`` (grid index ``i``, or -1)."""
        ctx = self.context(np.array([self.start_t + k]), comp.reshape(1, -1))
        p = np.array([price])
        self._ctx, self._p = ctx, p
        return float(self.kernel.expected(p, ctx, self._state)[0])

    def observe(self, demand: float) -> None:
        """Advance the kernel state with the period's demand (after :meth:`expected`)."""
        if self.stateful:
            self._state = self.kernel.update(self._state, self._p, self._ctx, np.array([demand]))


GenericPath = DemandPath


class _BlockPath(DemandPath):
    """A path that precomputes per-period quantities in blocks of :data:`BLOCK` periods.

    Blocks are cached until :meth:`set_competitors` gives a new competitor path, so
    a market with deterministic competitor prices computes them once for all
    episodes.
    """

    def set_competitors(self, path: np.ndarray) -> None:
        self._comp = path
        self._blocks: dict[int, list[Any]] = {}
        self._rows: list[Any] = []
        self._start, self._end = 0, 0

    def _load(self, k: int) -> None:
        b = k // BLOCK
        rows = self._blocks.get(b)
        k0, k1 = b * BLOCK, min((b + 1) * BLOCK, self._comp.shape[0])
        if k >= k1:
            raise IndexError(f"period {k} is beyond the competitor path of {k1} periods")
        if rows is None:
            t = self.start_t + np.arange(k0, k1, dtype=np.float64)
            rows = self._blocks[b] = self._compute(t, self._comp[k0:k1])
        self._start, self._end, self._rows = k0, k1, rows

    def _row(self, k: int) -> Any:
        if not self._start <= k < self._end:
            self._load(k)
        return self._rows[k - self._start]

    def _compute(self, t: np.ndarray, comp: np.ndarray) -> list[Any]:
        """Per-period precomputed values for calendar periods ``t`` (each subclass's own)."""
        raise NotImplementedError(f"{type(self).__name__} must define _compute")


# ==================================================================== stateless
class TablePath(_BlockPath):
    """Stateless kernel, discrete prices: a table of μ over periods × grid prices."""

    mode = "table"

    def _compute(self, t: np.ndarray, comp: np.ndarray) -> list[Any]:
        grid = self.grid
        assert grid is not None
        n, rows = grid.shape[0], t.shape[0]
        ctx = self.context(np.repeat(t, n), np.repeat(comp, n, axis=0))
        mu = self.kernel.expected(np.tile(grid, rows), ctx, self.kernel.initial_state(rows * n))
        return np.asarray(mu, np.float64).reshape(rows, n).tolist()

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        return self._row(k)[i]

    def observe(self, demand: float) -> None:
        return None


class LinearPath(_BlockPath):
    """Plain :class:`RegressionKernel`, continuous prices: η = base_k + β_p·f(price)."""

    mode = "linear"

    def __init__(self, kernel: Any, *args: Any) -> None:
        spec = kernel.spec
        self._level = spec.price_transform == "level"
        self._beta = float(kernel.coef[spec.price_index])
        self._log_link = kernel.link == "log"
        self._scale = float(kernel.scale)
        super().__init__(kernel, *args)

    def _compute(self, t: np.ndarray, comp: np.ndarray) -> list[Any]:
        kern: Any = self.kernel
        x = kern.spec.build_context(np.ones(t.shape[0]), self.context(t, comp))
        x[:, kern.spec.price_index] = 0.0
        return (x @ kern.coef).tolist()

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        f = price if self._level else math.log(price)
        eta = self._row(k) + self._beta * f
        if self._log_link:
            return self._scale * math.exp(eta)
        return eta if eta > 0.0 else 0.0

    def observe(self, demand: float) -> None:
        return None


class TruthPath(DemandPath):
    """A single-seller parametric truth (no covariates), continuous prices: λ(price)
    from the truth's own ``demand`` on a float (no context to build)."""

    mode = "parametric"
    kernel: LinearTruth | ExponentialTruth | ConstantElasticity  # fast_path_for's _TRUTHS

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        return float(self.kernel.demand(price))

    def observe(self, demand: float) -> None:
        return None


# ==================================================================== ARIMAX
class ArimaxPath(_BlockPath):
    """:class:`ArimaxKernel`: x'β per block, the error state filtered per step.

    ``yhat = x'β + a·Z``; μ = max(yhat, 0) or smear·exp(yhat); after the period
    ``a ← a T' + (y − yhat) K`` (see :class:`ArimaxKernel`). The state runs on a
    Python float for one state (an AR(1) or white-noise error), on a list of floats
    up to :data:`SMALL_STATE` states and in numpy beyond; the float paths do the
    kernel's operations in the kernel's order.
    """

    mode = "arimax"
    kernel: ArimaxKernel  # the kernel fast_path_for chose this path for

    def __init__(self, kernel: Any, *args: Any) -> None:
        spec = kernel.spec
        self._level = spec.price_transform == "level"
        self._beta = float(kernel.coef[spec.price_index])
        self._log_target = kernel.target == "log"
        self._smear = float(kernel.smear)
        self._log_floor = float(kernel.log_floor)
        k = kernel.k_states
        self._storage = "scalar" if k == 1 else "list" if k <= SMALL_STATE else "numpy"
        if self._storage == "scalar":
            self._z: Any = float(kernel.design[0])
            self._t_rows: Any = float(kernel.transition[0, 0])
            self._gain: Any = float(kernel.gain[0])
        elif self._storage == "list":
            self._z = kernel.design.tolist()
            self._t_rows = kernel.transition.tolist()
            self._gain = kernel.gain.tolist()
        else:
            self._z = kernel.design.copy()
            self._t_rows = np.ascontiguousarray(kernel.transition.T)
            self._gain = kernel.gain.copy()
        self._yhat = 0.0
        super().__init__(kernel, *args)

    def reset(self) -> None:
        state = self.kernel.state
        storage = self._storage
        self._a: Any = (
            float(state[0])
            if storage == "scalar"
            else state.tolist()
            if storage == "list"
            else state.copy()
        )

    def _compute(self, t: np.ndarray, comp: np.ndarray) -> list[Any]:
        kern: Any = self.kernel
        spec, coef = kern.spec, kern.coef
        if self.grid is not None:
            n = self.grid.shape[0]
            ctx = self.context(np.repeat(t, n), np.repeat(comp, n, axis=0))
            xb = spec.build_context(np.tile(self.grid, t.shape[0]), ctx) @ coef
            return xb.reshape(t.shape[0], n).tolist()
        x = spec.build_context(np.ones(t.shape[0]), self.context(t, comp))
        x[:, spec.price_index] = 0.0
        return (x @ coef).tolist()

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        row = self._row(k)
        if i >= 0:
            xb = row[i]
        else:
            xb = row + self._beta * (price if self._level else math.log(price))
        a, storage = self._a, self._storage
        if storage == "scalar":
            yhat = xb + a * self._z
        elif storage == "list":
            za = 0.0
            for ai, zi in zip(a, self._z, strict=False):
                za += ai * zi
            yhat = xb + za
        else:
            yhat = xb + float(a @ self._z)
        self._yhat = yhat
        if self._log_target:
            return self._smear * math.exp(yhat)
        return yhat if yhat > 0.0 else 0.0

    def observe(self, demand: float) -> None:
        if self._log_target:
            y = math.log(demand if demand > self._log_floor else self._log_floor)
        else:
            y = demand
        innov = y - self._yhat
        a, storage = self._a, self._storage
        if storage == "scalar":
            self._a = a * self._t_rows + innov * self._gain
        elif storage == "list":
            new = []
            for row, g in zip(self._t_rows, self._gain, strict=False):
                v = 0.0
                for tij, aj in zip(row, a, strict=False):
                    v += tij * aj
                new.append(v + innov * g)
            self._a = new
        else:
            self._a = a @ self._t_rows + innov * self._gain


# ==================================================================== neural
class NeuralPath(_BlockPath):
    """:class:`~pricegym.demand.neural.MLPKernel`: the context part of the first layer per
    block; per step the lag part, the rest of the trunk, the heads and m(x).

    With ``z = [context, lags]`` standardised, the first layer's pre-activation is
    ``z_c W_c + b + z_l W_l``. Per period the block holds ``M_k = [z_c W_c + b; W_l]``
    (1 + n_lags rows), so a step computes it as one product ``[1, z_l] @ M_k``. The
    later layers and the two heads carry their bias as an extra weight row applied
    to the activation with a constant 1 appended, written in place into
    preallocated buffers: a (32, 32) trunk costs six numpy calls per step. m(x) of
    the grid prices is precomputed; a continuous price evaluates it on floats.
    """

    kernel: MLPKernel  # the kernel fast_path_for chose this path for

    mode = "neural"

    def __init__(self, kernel: Any, *args: Any) -> None:
        n_lags = kernel.n_lags
        nc = kernel._z_mean.shape[0] - n_lags
        self._nc = nc
        self._unit = float(kernel.unit_scale)
        self._log_unit = math.log(kernel.unit_scale)
        self._lag_mean = kernel._z_mean[nc:].tolist()
        self._lag_sd = kernel._z_sd[nc:].tolist()
        hidden = kernel._hidden
        heads = np.column_stack([kernel._level_w, kernel._slope_w])
        head_b = np.array([[kernel._level_b, kernel._slope_b]])
        if hidden:
            first = hidden[0][0]  # (n_z, H)
            self._first = (first[:nc], hidden[0][1])
            later = [np.vstack([w, b]) for w, b in hidden[1:]] + [np.vstack([heads, head_b])]
            self._later = [np.ascontiguousarray(w) for w in later]
            self._lag_w = first[nc:]
        else:
            self._first = (heads[:nc], head_b[0])
            self._later = []
            self._lag_w = heads[nc:]
        self._n_lags = n_lags
        self._buffers()
        # m(x) = a·x + Σ (c/d)·tanh(d·x + e) − Σ (c/d)·tanh(e)
        self._pa = float(kernel._a)
        cd = kernel._c / kernel._d
        self._units = list(zip(cd.tolist(), kernel._d.tolist(), kernel._e.tolist(), strict=True))
        self._m0 = float(cd @ kernel._tanh_e)
        self._lp_mean, self._lp_sd = float(kernel._lp_mean), float(kernel._lp_sd)
        grid = args[0]
        self._m_grid = None if grid is None else [self._m(float(p)) for p in grid]
        super().__init__(kernel, *args)

    def _buffers(self) -> None:
        """Preallocated work arrays (views into them do not survive a copy: rebuilt)."""
        if self._later:
            widths = [self._lag_w.shape[1]] + [w.shape[1] for w in self._later[:-1]]
            # activations with a constant 1 appended; the views are where tanh writes
            self._acts = [np.ones(w + 1) for w in widths]
            self._views = [h[:-1] for h in self._acts]
        else:
            self._acts, self._views = [], []
        # (weights, where the activation goes, the activation) of each hidden layer after
        # the first; the heads' weights are self._later[-1]
        self._chain = list(zip(self._later[:-1], self._views[1:], self._acts[1:], strict=True))
        self._zin = np.ones(1 + self._n_lags)
        self._pre = np.empty(self._lag_w.shape[1])
        self._out = np.empty(2)

    def __getstate__(self) -> dict[str, Any]:
        skip = ("_acts", "_views", "_chain", "_zin", "_pre", "_out")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._buffers()

    def reset(self) -> None:
        lags = self.kernel.initial_lags
        self._lags = lags[self.kernel.default_product].tolist()

    def _m(self, price: float) -> float:
        """The monotone price function m(x) of the kernel, on floats."""
        x = (math.log(price) - self._lp_mean) / self._lp_sd
        m = self._pa * x - self._m0
        tanh = math.tanh
        for cd, d, e in self._units:
            m += cd * tanh(x * d + e)
        return m

    def _compute(self, t: np.ndarray, comp: np.ndarray) -> list[Any]:
        kern: Any = self.kernel
        nc = self._nc
        x_all = kern.spec.build_context(np.ones(t.shape[0]), self.context(t, comp))
        zc = (x_all[:, 1:] - kern._z_mean[:nc]) / kern._z_sd[:nc]
        w_c, b = self._first
        pre = zc @ w_c + b  # (rows, width)
        lag = np.broadcast_to(self._lag_w, (t.shape[0], *self._lag_w.shape))
        return list(np.ascontiguousarray(np.concatenate([pre[:, None, :], lag], axis=1)))

    def expected(self, k: int, i: int, price: float, comp: np.ndarray) -> float:
        m_k = self._row(k)
        zin, lags = self._zin, self._lags
        if len(lags) == 1:
            zin[1] = (math.log1p(lags[0] / self._unit) - self._lag_mean[0]) / self._lag_sd[0]
        else:
            for j, (lag, mean, sd) in enumerate(
                zip(lags, self._lag_mean, self._lag_sd, strict=True), start=1
            ):
                zin[j] = (math.log1p(lag / self._unit) - mean) / sd
        if self._acts:
            h = self._acts[0]
            np.tanh(np.dot(zin, m_k, out=self._pre), out=self._views[0])
            for w, view, nxt in self._chain:
                np.tanh(np.dot(h, w, out=view), out=view)
                h = nxt
            level, s = np.dot(h, self._later[-1], out=self._out).tolist()
        else:
            level, s = np.dot(zin, m_k, out=self._out).tolist()
        # softplus as torch (and the kernel) computes it: identity above 20
        slope = s if s > 20.0 else math.log1p(math.exp(s))
        m = self._m_grid[i] if i >= 0 and self._m_grid is not None else self._m(price)
        return math.exp(self._log_unit + level - slope * m)

    def observe(self, demand: float) -> None:
        lags = self._lags
        if lags:
            lags.insert(0, demand)
            lags.pop()


# ==================================================================== choice
def _fast_class(kernel: DemandKernel, grid: np.ndarray | None) -> type[DemandPath] | None:
    """The fast path written for this kernel type, or None."""
    cls = type(kernel)
    if cls is ArimaxKernel:
        return ArimaxPath
    stateless = cls.update is DemandKernel.update and not kernel.initial_state(1)
    if stateless and grid is not None:
        return TablePath
    plain_regression = (
        isinstance(kernel, RegressionKernel)
        and type(kernel).expected is RegressionKernel.expected
        and type(kernel).linear_predictor is RegressionKernel.linear_predictor
    )
    if stateless and plain_regression:
        return LinearPath
    if stateless and isinstance(kernel, _TRUTHS):
        return TruthPath
    if cls is MLPKernel:
        return NeuralPath
    return None


def _agrees(path: DemandPath, prices: np.ndarray, comp: np.ndarray) -> bool:
    """Whether ``path`` gives the kernel's expected units over two periods at ``prices``.

    Period 0 from the initial state, then ``observe`` of a demand, then period 1 —
    against ``kernel.expected`` / ``kernel.update`` on the batch of all prices.
    """
    kern = path.kernel
    n = prices.shape[0]
    two = np.vstack([comp, comp])
    t = path.start_t + np.arange(2, dtype=np.float64)
    state = kern.initial_state(n)
    ctx0 = path.context(np.repeat(t[:1], n), np.repeat(two[:1], n, axis=0))
    ctx1 = path.context(np.repeat(t[1:], n), np.repeat(two[1:], n, axis=0))
    exact0 = np.asarray(kern.expected(prices, ctx0, state), np.float64)
    units = np.floor(exact0) + 1.0
    exact1 = np.asarray(kern.expected(prices, ctx1, kern.update(state, prices, ctx0, units)))
    fast0, fast1 = np.empty(n), np.empty(n)
    path.set_competitors(two)
    for j, p in enumerate(prices):
        i = j if path.grid is not None else -1
        path.reset()
        fast0[j] = path.expected(0, i, float(p), two[0])
        path.observe(float(units[j]))
        fast1[j] = path.expected(1, i, float(p), two[1])
    path.reset()
    return bool(
        np.allclose(fast0, exact0, rtol=SELF_CHECK_RTOL, atol=1e-300)
        and np.allclose(fast1, exact1, rtol=SELF_CHECK_RTOL, atol=1e-300)
    )


def make_path(
    kernel: DemandKernel,
    grid: np.ndarray | None,
    price_range: tuple[float, float],
    start_t: float,
    competitors: np.ndarray,
    fast: bool = True,
) -> DemandPath:
    """The fastest path that reproduces ``kernel`` (see the module docstring).

    Args:
        kernel: the demand kernel.
        grid: discrete price grid, or ``None`` for continuous prices.
        price_range: (p_min, p_max), the prices a continuous path is checked at.
        start_t: calendar period of step 0.
        competitors: starting competitor prices, shape (m,) (used by the check).
        fast: ``False`` forces :class:`GenericPath`.
    """
    promo = np.asarray(kernel.reference["promotions"], np.float64).reshape(1, -1)
    cls = _fast_class(kernel, grid) if fast else None
    if cls is not None:
        try:
            path = cls(kernel, grid, start_t, promo)
            lo, hi = price_range
            prices = grid if grid is not None else np.array([lo, 0.5 * (lo + hi), hi])
            if _agrees(path, np.asarray(prices, np.float64), competitors.reshape(1, -1)):
                return path
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            pass  # kernel internals differ from what the path reads: use the kernel itself
    return GenericPath(kernel, grid, start_t, promo)


# ==================================================================== noise
def make_draw(kernel: DemandKernel, noise: bool, fast: bool = True) -> Draw:
    """``draw(rng, mu) -> units``: the period's demand around expected units ``mu``.

    With ``noise=False`` demand is ``max(mu, 0)``. Otherwise it is exactly
    ``kernel.sample(rng, np.array([mu]))[0]`` — the same draws from ``rng`` — on a
    Python float when the kernel samples with a plain :class:`NoiseModel` (Poisson,
    NB2 as a gamma–Poisson mixture, log-normal); ``fast=False`` or a kernel with its
    own ``sample`` calls ``kernel.sample``. The draw is a module-level function (or a
    ``functools.partial`` of one), so an env holding it pickles.
    """
    if not noise:
        return _no_noise
    model = kernel.noise
    own_sample = type(kernel).sample is not DemandKernel.sample
    if not fast or own_sample or type(model) is not NoiseModel:
        return partial(_kernel_draw, kernel)
    if model.kind == "poisson" or (model.kind == "negbin" and model.alpha <= 0):
        return _poisson_draw
    if model.kind == "negbin":
        return partial(_negbin_draw, 1.0 / model.alpha, model.alpha)
    return partial(_lognormal_draw, model.sigma, 0.5 * model.sigma**2)


def _no_noise(rng: np.random.Generator, mu: float) -> float:
    return mu if mu > 0.0 else 0.0


def _kernel_draw(kernel: DemandKernel, rng: np.random.Generator, mu: float) -> float:
    return float(kernel.sample(rng, np.array([mu]))[0])


def _poisson_draw(rng: np.random.Generator, mu: float) -> float:
    return float(rng.poisson(mu if mu > 0.0 else 0.0))


def _negbin_draw(shape: float, alpha: float, rng: np.random.Generator, mu: float) -> float:
    return float(rng.poisson(rng.gamma(shape, alpha * (mu if mu > 0.0 else 0.0))))


def _lognormal_draw(sigma: float, shift: float, rng: np.random.Generator, mu: float) -> float:
    return (mu if mu > 0.0 else 0.0) * math.exp(sigma * rng.standard_normal() - shift)
