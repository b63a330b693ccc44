"""The numpy kernel of :class:`~pricegym.demand.neural.NeuralDemand` (no torch needed).

:class:`MLPKernel` is the fitted monotone network's forward pass in numpy for B
markets at once; its state is each market's buffer of recent units. It lives
apart from the torch model so that markets can run a saved neural model without
importing torch. The model and its equations are documented in
:mod:`pricegym.demand.neural`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.demand.noise import NoiseModel
from pricegym.errors import ModelError

__all__ = ["MAX_SHARPNESS", "MIN_SHARPNESS", "SOFTPLUS_THRESHOLD", "MLPKernel", "softplus"]

#: torch's ``softplus`` returns its input unchanged above this value; the kernel does too.
SOFTPLUS_THRESHOLD = 20.0
#: Bounds of the sharpness d_k of the tanh units of m, per standard deviation of log price.
MIN_SHARPNESS, MAX_SHARPNESS = 0.25, 4.0


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` as torch computes it: ``x`` itself above :data:`SOFTPLUS_THRESHOLD`."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > SOFTPLUS_THRESHOLD, x, np.log1p(np.exp(np.minimum(x, SOFTPLUS_THRESHOLD))))


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def _sharpness(rate: np.ndarray) -> np.ndarray:
    """d = MIN_SHARPNESS + (MAX_SHARPNESS − MIN_SHARPNESS)·sigmoid(rate)."""
    return MIN_SHARPNESS + (MAX_SHARPNESS - MIN_SHARPNESS) / (1.0 + np.exp(-rate))


# ============================================================================ kernel


class MLPKernel(DemandKernel):
    """Batched numpy forward pass of a fitted :class:`NeuralDemand`.

    Per market: ``x`` = standardised log own price; ``z`` = standardised
    ``[log competitors, promotions, product dummies, trend, Fourier terms,
    log1p(lags / unit_scale)]``; ``h`` = the tanh trunk of ``z``;
    ``μ = unit_scale · exp(level(h) − softplus(slope(h)) · m(x))``
    (see the module docstring).

    State: ``{"lags": (B, n_lags), "product": (B,)}``. Column ``k`` of ``lags`` holds
    the units of ``k + 1`` periods ago (column 0 the most recent). ``product`` is the
    product whose end-of-history units the buffer started from; :meth:`reset_state`
    restores those. :meth:`initial_state` takes each market's product code (default 0,
    the context's default), and :meth:`expected` refuses a state whose ``product``
    differs from the context's, so a panel market never runs on another product's
    history by accident. ``state=None`` means the initial state of the context's
    products.

    Args:
        spec: feature layout (``price_transform="log"``, no intercept; column 0 is the
            log own price, the rest are the context part of ``z``).
        params: the torch module's parameters by name (``hidden.{i}.weight`` (out, in),
            ``hidden.{i}.bias``, ``level.weight`` (1, H), ``level.bias``,
            ``slope.weight``, ``slope.bias``, ``price_logits`` (K + 1,), ``price_rate``,
            ``price_shift`` (K,)).
        scalers: ``z_mean``, ``z_sd`` (n_z,), ``log_price_mean``, ``log_price_sd``,
            ``unit_scale`` (scalars).
        initial_lags: units at the end of the history, shape (n_products, n_lags).
        noise, support, reference: see :class:`~pricegym.demand.kernels.DemandKernel`.
    """

    def __init__(
        self,
        spec: FeatureSpec,
        params: Mapping[str, np.ndarray],
        scalers: Mapping[str, np.ndarray],
        initial_lags: np.ndarray,
        *,
        noise: NoiseModel,
        support: tuple[float, float],
        reference: dict[str, Any],
    ) -> None:
        super().__init__(spec, noise, support, reference)
        try:
            arrays = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
            n_layers = sum(1 for k in arrays if k.startswith("hidden.") and k.endswith(".weight"))
            self._hidden = [
                (np.ascontiguousarray(arrays[f"hidden.{i}.weight"].T), arrays[f"hidden.{i}.bias"])
                for i in range(n_layers)
            ]
            self._level_w = arrays["level.weight"].reshape(-1)
            self._level_b = float(arrays["level.bias"].reshape(-1)[0])
            self._slope_w = arrays["slope.weight"].reshape(-1)
            self._slope_b = float(arrays["slope.bias"].reshape(-1)[0])
            weights = _softmax(arrays["price_logits"].reshape(-1))
            self._a, self._c = float(weights[0]), weights[1:]
            self._d = _sharpness(arrays["price_rate"].reshape(-1))
            self._e = arrays["price_shift"].reshape(-1)
            self._tanh_e = np.tanh(self._e)
            self._z_mean = np.asarray(scalers["z_mean"], dtype=np.float64).reshape(-1)
            self._z_sd = np.asarray(scalers["z_sd"], dtype=np.float64).reshape(-1)
            self._lp_mean = float(np.asarray(scalers["log_price_mean"]).reshape(-1)[0])
            self._lp_sd = float(np.asarray(scalers["log_price_sd"]).reshape(-1)[0])
            self.unit_scale = float(np.asarray(scalers["unit_scale"]).reshape(-1)[0])
        except (KeyError, IndexError) as exc:
            raise ModelError(
                f"MLPKernel: weight or scaler {exc} is missing; the model file is corrupt or "
                "from another version: refit and re-save the model."
            ) from None
        self.initial_lags = np.asarray(initial_lags, dtype=np.float64)
        n_products = max(len(spec.products), 1)
        n_ctx = spec.n_features - 1
        width = self._hidden[-1][0].shape[1] if self._hidden else self._z_mean.shape[0]
        n_z = self._z_mean.shape[0]
        ok = (
            self.initial_lags.ndim == 2
            and self.initial_lags.shape[0] == n_products
            and n_z == n_ctx + self.initial_lags.shape[1]
            and self._z_sd.shape == (n_z,)
            and all(
                w.shape == (n_in, b.shape[0])
                for (w, b), n_in in zip(
                    self._hidden, [n_z] + [w.shape[1] for w, _ in self._hidden], strict=False
                )
            )
            and self._level_w.shape == (width,)
            and self._slope_w.shape == (width,)
            and self._c.shape == self._d.shape == self._e.shape
            and self._lp_sd > 0
            and self.unit_scale > 0
        )
        if not ok:
            raise ModelError(
                f"inconsistent MLPKernel arrays: initial_lags {self.initial_lags.shape} for "
                f"{n_products} product(s), z scalers {self._z_mean.shape} for {n_ctx} context "
                f"features {spec.names[1:]} plus lags, layers "
                f"{[w.shape for w, _ in self._hidden]}, heads {self._level_w.shape}; the model "
                "file is corrupt or from another version: refit and re-save the model."
            )

    @property
    def n_lags(self) -> int:
        """Number of recent units each market remembers."""
        return int(self.initial_lags.shape[1])

    # ---------------------------------------------------------------- state
    def initial_state(
        self, batch_size: int, product: int | np.ndarray | None = None
    ) -> KernelState:
        """Each market's product's last ``n_lags`` units in the fitted history.

        Args:
            batch_size: number of markets B.
            product: product code per market (scalar or (B,)); default
                :attr:`default_product`.
        """
        code = self.default_product if product is None else product
        prod = np.broadcast_to(np.asarray(code, np.int64), (int(batch_size),)).copy()
        n_products = self.initial_lags.shape[0]
        if np.any((prod < 0) | (prod >= n_products)):
            raise ModelError(
                f"product code {prod.max()} out of range: the model knows {n_products} "
                f"product(s); pass codes in [0, {n_products})."
            )
        return {"lags": self.initial_lags[prod].copy(), "product": prod}

    def reset_state(
        self, state: KernelState, mask: np.ndarray, batch_size: int | None = None
    ) -> KernelState:
        """Markets where ``mask`` is true restart from their own product's initial lags."""
        prod = state["product"]
        init = self.initial_lags[prod]
        return {"lags": np.where(mask[:, None], init, state["lags"]), "product": prod.copy()}

    def update(
        self,
        state: KernelState,
        prices: np.ndarray,
        context: MarketContext,
        units: np.ndarray,
    ) -> KernelState:
        """Shift the buffer: ``units`` become lag 1, lag k becomes lag k + 1, the oldest drops."""
        lags = state["lags"]
        y = np.asarray(units, dtype=np.float64).reshape(-1, 1)
        shifted = np.concatenate([y, lags[:, :-1]], axis=1) if self.n_lags else lags
        return {"lags": shifted, "product": state["product"]}

    # ---------------------------------------------------------------- forward
    def _inputs(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None
    ) -> tuple[np.ndarray, np.ndarray]:
        p = self._own_price(prices)
        if state is None:
            state = self.initial_state(p.shape[0], context.product)
        elif self.initial_lags.shape[0] > 1 and not np.array_equal(
            state["product"], context.product
        ):
            raise ModelError(
                "MLPKernel: the state's products "
                f"{np.asarray(state['product'])[:5].tolist()} differ from the context's "
                f"{context.product[:5].tolist()}; build the state with "
                "initial_state(B, product=context.product)."
            )
        x_all = self.spec.build_context(p, context)
        lag_features = np.log1p(np.asarray(state["lags"], dtype=np.float64) / self.unit_scale)
        z_raw = np.concatenate([x_all[:, 1:], lag_features], axis=1)
        x = (x_all[:, 0] - self._lp_mean) / self._lp_sd
        return x, (z_raw - self._z_mean) / self._z_sd

    def _heads(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = z
        for w_t, b in self._hidden:
            h = np.tanh(h @ w_t + b)
        return h @ self._level_w + self._level_b, softplus(h @ self._slope_w + self._slope_b)

    def log_expected(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        """``log μ``, shape (B,)."""
        x, z = self._inputs(prices, context, state)
        level, slope = self._heads(z)
        bends = (np.tanh(x[:, None] * self._d + self._e) - self._tanh_e) / self._d
        m = self._a * x + bends @ self._c
        return math.log(self.unit_scale) + level - slope * m

    def expected(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        return np.exp(self.log_expected(prices, context, state))

    def elasticity(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        """Exact ``∂ log μ / ∂ log p = −s(z)·m'(x)/sd(log p)`` per market (always <= 0)."""
        x, z = self._inputs(prices, context, state)
        _, slope = self._heads(z)
        sech2 = 1.0 - np.tanh(x[:, None] * self._d + self._e) ** 2
        return -slope * (self._a + sech2 @ self._c) / self._lp_sd


# ============================================================================ torch module
