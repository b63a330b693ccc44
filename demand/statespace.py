"""The numpy kernel of :class:`~pricegym.demand.arimax.ArimaxDemand` (no statsmodels needed).

:class:`ArimaxKernel` runs the fitted regression-with-SARIMA-errors as a
state-space filter for B markets at once. It lives apart from the statsmodels
model so that markets can run a saved ARIMAX model without importing statsmodels.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.demand.noise import NoiseModel
from pricegym.errors import ModelError

__all__ = ["ArimaxKernel"]

Target = Literal["units", "log"]
_TARGETS: tuple[str, ...] = ("units", "log")


class ArimaxKernel(DemandKernel):
    """Batched one-step forecasts and Kalman updates of a regression with SARIMA errors.

    State space (statsmodels' SARIMAX form, no measurement error, no state intercept)::

        y_t      = x_t'β + Z α_t                       (observation)
        α_{t+1}  = T α_t + R η_t                       (transition)

    Each market carries ``a`` = its predicted state a_{t|t-1} (a row of shape
    (k_states,)); with row vectors, as implemented:

    - one-step forecast of the model's target: ``yhat = X β + a Z'``;
    - expected units: ``max(yhat, 0)`` for ``target="units"`` (a market cannot sell
      negative units) or ``smear · exp(yhat)`` for ``target="log"``, where ``smear`` =
      mean of exp(one-step in-sample residuals) is Duan's smearing estimate of
      E[exp(innovation)];
    - :meth:`update` after observing units: ``y`` = units, or log(max(units,
      ``log_floor``)) for the log target; ``a ← a T' + (y − yhat) K'``;
    - :meth:`advance` without an observation (a pure forecast step): ``a ← a T'``.

    ``K`` is the Kalman gain in statsmodels' convention, which includes the
    transition: K = T P Z' F⁻¹ with F = Z P Z', P the predicted state covariance.
    P (hence K) does not depend on the data, only on the SARIMA parameters and the
    number of filtered periods, and the Riccati recursion converges geometrically to
    its steady state (for pure autoregressions it is exactly constant once the
    longest lag has been observed). The kernel uses the gain for the first period
    after the sample, computed from P_{T+1|T}; with a converged filter this is the
    steady-state gain, and the constant-gain recursion equals statsmodels' exact
    filter to within the filter's convergence (see ``ArimaxDemand.gain_drift_``).

    Args:
        spec: feature layout of x.
        coef: β, shape (n_features,).
        transition: T, shape (k_states, k_states).
        design: Z, shape (k_states,).
        gain: K, shape (k_states,).
        state: a_{T+1|T}, the predicted state after the fitted sample, shape (k_states,).
        target: ``"units"`` or ``"log"``.
        smear: Duan's factor (1.0 for ``target="units"``).
        log_floor: floor applied to observed units before taking logs (log target).
        noise, support, reference: see :class:`~pricegym.demand.kernels.DemandKernel`.
    """

    def __init__(
        self,
        spec: FeatureSpec,
        coef: np.ndarray,
        transition: np.ndarray,
        design: np.ndarray,
        gain: np.ndarray,
        state: np.ndarray,
        *,
        target: Target,
        smear: float,
        log_floor: float,
        noise: NoiseModel,
        support: tuple[float, float],
        reference: dict[str, Any],
    ) -> None:
        super().__init__(spec, noise, support, reference)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.transition = np.asarray(transition, dtype=np.float64)
        self.design = np.asarray(design, dtype=np.float64)
        self.gain = np.asarray(gain, dtype=np.float64)
        self.state = np.asarray(state, dtype=np.float64)
        k = self.state.shape[0] if self.state.ndim == 1 else -1
        shapes_ok = (
            self.coef.shape == (spec.n_features,)
            and k > 0
            and self.transition.shape == (k, k)
            and self.design.shape == (k,)
            and self.gain.shape == (k,)
        )
        if not shapes_ok:
            raise ModelError(
                f"inconsistent ARIMAX kernel arrays: coef {self.coef.shape} for "
                f"{spec.n_features} features {spec.names}, transition "
                f"{self.transition.shape}, design {self.design.shape}, gain "
                f"{self.gain.shape}, state {self.state.shape}; the model file is "
                "corrupt or from another version: refit and re-save the model."
            )
        if target not in _TARGETS:
            raise ModelError(f"target={target!r} is not allowed; use one of {list(_TARGETS)}.")
        self.target: Target = target
        self.smear = float(smear)
        self.log_floor = float(log_floor)
        self._transition_t = np.ascontiguousarray(self.transition.T)

    @property
    def k_states(self) -> int:
        """Dimension of the state vector of one market."""
        return int(self.state.shape[0])

    def initial_state(self, batch_size: int) -> KernelState:
        """``{"a": a_{T+1|T}}`` repeated for each of ``batch_size`` markets, shape (B, k_states)."""
        return {"a": np.tile(self.state, (int(batch_size), 1))}

    def forecast(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        """One-step forecast of the target (units or log units), ``X β + a Z'``, shape (B,)."""
        p = self._own_price(prices)
        a = self.initial_state(p.shape[0])["a"] if state is None else state["a"]
        return self.spec.build_context(p, context) @ self.coef + a @ self.design

    def to_units(self, yhat: np.ndarray) -> np.ndarray:
        """Expected units from a forecast of the target (clip at 0, or smear·exp)."""
        if self.target == "units":
            return np.maximum(yhat, 0.0)
        return self.smear * np.exp(yhat)

    def expected(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        return self.to_units(self.forecast(prices, context, state))

    def update(
        self,
        state: KernelState,
        prices: np.ndarray,
        context: MarketContext,
        units: np.ndarray,
    ) -> KernelState:
        """Filter step after observing ``units``: ``a ← a T' + (y − X β − a Z') K'``."""
        y = np.asarray(units, dtype=np.float64)
        if self.target == "log":
            y = np.log(np.maximum(y, self.log_floor))
        innovation = y - self.forecast(prices, context, state)
        return {"a": state["a"] @ self._transition_t + innovation[:, None] * self.gain}

    def advance(self, state: KernelState, steps: int = 1) -> KernelState:
        """State ``steps`` periods later without observations: ``a ← a (T')^steps``."""
        a = state["a"]
        for _ in range(int(steps)):
            a = a @ self._transition_t
        return {"a": a}


# ============================================================================ model
