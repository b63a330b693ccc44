"""Parametric demand truths with known optima, for synthetic markets and benchmarks.

Each truth is itself a :class:`~pricegym.demand.kernels.DemandKernel` (nothing to
fit), so a market can be driven by a known demand curve exactly as by a fitted
model. Single-seller truths (own price p, marginal cost c):

============================  ===========================  ==========================
truth                         expected units λ(p)          profit-maximising price
============================  ===========================  ==========================
:class:`LinearTruth`          max(a − b·p, 0)              (a/b + c) / 2
:class:`ExponentialTruth`     a·exp(−α·p)                  c + 1/α
:class:`ConstantElasticity`   a·p^ε  (ε < −1)              c·ε / (1 + ε)
============================  ===========================  ==========================

:class:`LogitTruth` is the multinomial logit with an outside option used by Calvano
et al. (2020): seller i's share is ``exp((a_i − p_i)/μ) / (Σ_j exp((a_j − p_j)/μ) +
exp(a_0/μ))``, times a market size.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from pricegym._validate import POSITIVE, real
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.demand.noise import NoiseModel
from pricegym.errors import ModelError

__all__ = ["ConstantElasticity", "ExponentialTruth", "LinearTruth", "LogitTruth"]


def _positive(name: str, value: float) -> float:
    return real(name, value, POSITIVE, message="{name}={value!r} must be {rule}.", error=ModelError)


def _support(support: Sequence[float]) -> tuple[float, float]:
    lo, hi = (float(support[0]), float(support[1]))
    if not (0 < lo < hi and np.isfinite(hi)):
        raise ModelError(
            f"support={tuple(support)!r} must be (p_min, p_max) with 0 < p_min < p_max; "
            "pass the price range the market may use."
        )
    return lo, hi


_REFERENCE = {"t": 0.0, "competitors": [], "promotions": []}


class _SingleSellerTruth(DemandKernel):
    """Shared parts of the single-seller truths."""

    def __init__(self, support: Sequence[float], noise: NoiseModel | None) -> None:
        super().__init__(
            FeatureSpec(), noise or NoiseModel("poisson"), _support(support), _REFERENCE
        )

    def expected(
        self,
        prices: np.ndarray,
        context: MarketContext | None = None,
        state: KernelState | None = None,
    ) -> np.ndarray:
        """Expected units λ(p), shape (B,); the context is ignored (no covariates)."""
        return self.demand(self._own_price(prices))

    @abstractmethod
    def demand(self, price: np.ndarray | float) -> np.ndarray:
        """λ(p) for an array of prices."""

    @abstractmethod
    def elasticity(self, price: np.ndarray | float) -> np.ndarray:
        """Exact own-price elasticity p·λ'(p)/λ(p)."""

    @abstractmethod
    def optimal_price(self, cost: float = 0.0) -> float:
        """The price maximising (p − cost)·λ(p) with unlimited stock (closed form)."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The truth's parameters, for reports."""


class LinearTruth(_SingleSellerTruth):
    """λ(p) = max(a − b·p, 0) with a, b > 0."""

    def __init__(
        self,
        a: float,
        b: float,
        support: Sequence[float] | None = None,
        noise: NoiseModel | None = None,
    ) -> None:
        self.a, self.b = _positive("a", a), _positive("b", b)
        super().__init__(support or (1e-3 * a / b, a / b), noise)

    def demand(self, price: np.ndarray | float) -> np.ndarray:
        return np.maximum(self.a - self.b * np.asarray(price, dtype=np.float64), 0.0)

    def elasticity(self, price: np.ndarray | float) -> np.ndarray:
        p = np.asarray(price, dtype=np.float64)
        return -self.b * p / (self.a - self.b * p)

    def optimal_price(self, cost: float = 0.0) -> float:
        return 0.5 * (self.a / self.b + float(cost))

    def params(self) -> dict[str, Any]:
        return {"form": "linear", "a": self.a, "b": self.b}


class ExponentialTruth(_SingleSellerTruth):
    """λ(p) = a·exp(−α·p): the Gallego & van Ryzin (1994) demand intensity."""

    def __init__(
        self,
        a: float,
        alpha: float,
        support: Sequence[float] | None = None,
        noise: NoiseModel | None = None,
    ) -> None:
        self.a, self.alpha = _positive("a", a), _positive("alpha", alpha)
        super().__init__(support or (0.1 / alpha, 10.0 / alpha), noise)

    def demand(self, price: np.ndarray | float) -> np.ndarray:
        return self.a * np.exp(-self.alpha * np.asarray(price, dtype=np.float64))

    def elasticity(self, price: np.ndarray | float) -> np.ndarray:
        return -self.alpha * np.asarray(price, dtype=np.float64)

    def optimal_price(self, cost: float = 0.0) -> float:
        return float(cost) + 1.0 / self.alpha

    def params(self) -> dict[str, Any]:
        return {"form": "exponential", "a": self.a, "alpha": self.alpha}


class ConstantElasticity(_SingleSellerTruth):
    """λ(p) = a·p^ε with ε < 0 (a finite optimal price needs ε < −1)."""

    def __init__(
        self, a: float, elasticity: float, support: Sequence[float], noise: NoiseModel | None = None
    ) -> None:
        self.a = _positive("a", a)
        e = float(elasticity)
        if not (np.isfinite(e) and e < 0):
            raise ModelError(f"elasticity={elasticity!r} must be finite and < 0.")
        self.epsilon = e
        super().__init__(support, noise)

    def demand(self, price: np.ndarray | float) -> np.ndarray:
        return self.a * np.asarray(price, dtype=np.float64) ** self.epsilon

    def elasticity(self, price: np.ndarray | float) -> np.ndarray:
        return np.full(np.shape(price), self.epsilon)

    def optimal_price(self, cost: float = 0.0) -> float:
        if self.epsilon >= -1:
            raise ModelError(
                f"with elasticity {self.epsilon} >= -1 revenue rises with price without "
                "bound; there is no finite optimal price. Use an elasticity below -1."
            )
        return float(cost) * self.epsilon / (1.0 + self.epsilon)

    def params(self) -> dict[str, Any]:
        return {"form": "constant_elasticity", "a": self.a, "elasticity": self.epsilon}


class LogitTruth(DemandKernel):
    """Multinomial logit demand for n sellers with an outside option.

    ``units_i = market_size · exp((a_i − p_i)/μ) / (Σ_j exp((a_j − p_j)/μ) + exp(a_0/μ))``.
    Defaults are the Calvano et al. (2020) baseline: two sellers, a_i = 2, a_0 = 0,
    μ = 1/4, market size 1.

    ``expected(prices)`` takes prices of shape (B, n) and returns units of shape (B, n).
    """

    def __init__(
        self,
        quality: Sequence[float] = (2.0, 2.0),
        outside: float = 0.0,
        mu: float = 0.25,
        market_size: float = 1.0,
        support: Sequence[float] = (1.0, 2.5),
        noise: NoiseModel | None = None,
    ) -> None:
        q = np.asarray(quality, dtype=np.float64)
        if q.ndim != 1 or q.size < 1 or not np.all(np.isfinite(q)):
            raise ModelError(f"quality={quality!r} must be a non-empty list of finite numbers.")
        self.quality = q
        self.outside = float(outside)
        self.mu = _positive("mu", mu)
        self.market_size = _positive("market_size", market_size)
        self.n_sellers = int(q.size)
        super().__init__(
            FeatureSpec(), noise or NoiseModel("poisson"), _support(support), _REFERENCE
        )

    def shares(self, prices: np.ndarray) -> np.ndarray:
        """Market shares, shape (B, n), for prices of shape (B, n) (or (n,))."""
        p = np.atleast_2d(np.asarray(prices, dtype=np.float64))
        if p.shape[-1] != self.n_sellers:
            raise ModelError(
                f"prices have {p.shape[-1]} columns but the market has {self.n_sellers} "
                "sellers; pass one price per seller."
            )
        u = (self.quality[None, :] - p) / self.mu
        u0 = self.outside / self.mu
        top = np.maximum(u.max(axis=1, keepdims=True), u0)  # stabilise the exponentials
        e = np.exp(u - top)
        return e / (e.sum(axis=1, keepdims=True) + np.exp(u0 - top))

    def expected(
        self,
        prices: np.ndarray,
        context: MarketContext | None = None,
        state: KernelState | None = None,
    ) -> np.ndarray:
        """Expected units per seller, shape (B, n)."""
        return self.market_size * self.shares(prices)

    def own_elasticity(self, prices: np.ndarray) -> np.ndarray:
        """Exact own-price elasticities −p_i(1 − s_i)/μ, shape (B, n)."""
        p = np.atleast_2d(np.asarray(prices, dtype=np.float64))
        return -p * (1.0 - self.shares(p)) / self.mu

    def params(self) -> dict[str, Any]:
        """The truth's parameters, for reports."""
        return {
            "form": "logit",
            "quality": self.quality.tolist(),
            "outside": self.outside,
            "mu": self.mu,
            "market_size": self.market_size,
        }
