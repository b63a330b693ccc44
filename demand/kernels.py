"""Demand kernels: the pure-numpy fast path that markets call every step.

A fitted :class:`~pricegym.demand.base.DemandModel` compiles to a
:class:`DemandKernel` that holds only coefficients, weights and (for time-series
models) per-market state, and evaluates a whole batch of B markets at once. No
statsmodels, scikit-learn or torch call happens here.

The step protocol a market follows::

    state = kernel.initial_state(B)                 # dict of arrays, one row per market
    ctx = kernel.context(B, t=t)                    # or a MarketContext built by the env
    mu = kernel.expected(prices, ctx, state)        # (B,) expected units
    units = kernel.sample(rng, mu)                  # (B,) sampled units, from the noise model
    state = kernel.update(state, prices, ctx, units)  # time-series kernels advance their state
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

import numpy as np

from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.noise import NoiseModel
from pricegym.errors import ModelError

__all__ = ["DemandKernel", "KernelState", "RegressionKernel"]

KernelState = dict[str, np.ndarray]


class DemandKernel(ABC):
    """Batched expected and sampled demand for one seller's price.

    Attributes:
        spec: the feature layout (competitor and promotion order, products, calendar).
        noise: the sampling distribution of units around their mean.
        support: (lowest, highest) own price seen in the data the model was fitted on.
        reference: default context values: ``t`` (next period after the data),
            ``competitors`` (their means in the data), ``promotions`` (zeros).
        calendar: the fitted model's trading calendar (daily data: ``t`` counts its
            trading days), or ``None``; set by ``DemandModel.kernel()``. Markets use
            it only to name the date of a period.
        default_product: the product code of a context built without one (0, the
            panel's first product; :func:`~pricegym.demand.products.select_product`
            sets another).
        product_refs: a panel model's per-product support and reference context by
            product key (:func:`~pricegym.demand.products.product_references`), or
            ``None``; set by ``DemandModel.kernel()``.
    """

    #: Number of own-price columns the kernel takes (1 for a single seller).
    n_sellers: int = 1
    calendar: Any = None
    default_product: int = 0
    product_refs: dict[str, Any] | None = None

    def __init__(
        self,
        spec: FeatureSpec,
        noise: NoiseModel,
        support: tuple[float, float],
        reference: dict[str, Any],
    ) -> None:
        self.spec = spec
        self.noise = noise
        self.support = (float(support[0]), float(support[1]))
        self.reference: dict[str, Any] = {
            "t": float(reference["t"]),
            "competitors": np.asarray(reference["competitors"], dtype=np.float64),
            "promotions": np.asarray(reference["promotions"], dtype=np.float64),
        }

    # ---------------------------------------------------------------- context
    def context(
        self,
        batch_size: int,
        t: float | np.ndarray | None = None,
        competitors: np.ndarray | None = None,
        promotions: np.ndarray | None = None,
        product: int | np.ndarray | None = None,
    ) -> MarketContext:
        """A :class:`MarketContext` for B markets; omitted parts take reference values.

        An omitted ``product`` is :attr:`default_product`.

        Scalars and 1-D rows are broadcast to the batch. Shapes are checked here,
        once, so :meth:`expected` can stay free of checks.
        """
        b = int(batch_size)
        m = len(self.spec.competitors)
        tt = np.broadcast_to(
            np.asarray(self.reference["t"] if t is None else t, dtype=np.float64), (b,)
        )
        comp = self.reference["competitors"] if competitors is None else competitors
        promo = self.reference["promotions"] if promotions is None else promotions
        comp = _columns(comp, b, self.spec.competitors, "competitor prices")
        promo = _columns(promo, b, self.spec.promotions, "promotion flags")
        code = self.default_product if product is None else product
        prod = np.broadcast_to(np.asarray(code, np.int64), (b,))
        if m and np.any(comp <= 0):
            raise ModelError(
                f"competitor prices must be > 0, got min {comp.min()}; pass positive prices."
            )
        n_products = max(len(self.spec.products), 1)
        if np.any((prod < 0) | (prod >= n_products)):
            raise ModelError(
                f"product code {prod.max()} out of range: the model knows {n_products} "
                f"product(s) {list(self.spec.products)[:10]}; pass a code in [0, {n_products})."
            )
        return MarketContext(tt.copy(), comp.copy(), promo.copy(), prod.copy())

    # ---------------------------------------------------------------- protocol
    def initial_state(self, batch_size: int) -> KernelState:
        """Per-market state at the end of the fitted history (empty for static models)."""
        return {}

    @abstractmethod
    def expected(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        """Expected units, shape (B,), for own prices of shape (B,) or (B, 1)."""

    def sample(self, rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
        """Sampled units around ``expected`` from the kernel's noise model."""
        return self.noise.sample(rng, expected)

    def update(
        self,
        state: KernelState,
        prices: np.ndarray,
        context: MarketContext,
        units: np.ndarray,
    ) -> KernelState:
        """State after observing ``units`` at ``prices`` (static kernels: unchanged)."""
        return state

    def reset_state(
        self, state: KernelState, mask: np.ndarray, batch_size: int | None = None
    ) -> KernelState:
        """``state`` with the markets where ``mask`` is true returned to the initial state."""
        if not state:
            return state
        init = self.initial_state(mask.shape[0] if batch_size is None else batch_size)
        return {k: np.where(_expand(mask, v), init[k], v) for k, v in state.items()}

    @staticmethod
    def _own_price(prices: np.ndarray) -> np.ndarray:
        p = np.asarray(prices, dtype=np.float64)
        return p[:, 0] if p.ndim == 2 else p


def _columns(values: Any, b: int, names: tuple[str, ...], what: str) -> np.ndarray:
    """``values`` as a (b, len(names)) float array: a row is broadcast to every market."""
    arr = np.asarray(values, dtype=np.float64)
    k = len(names)
    if arr.ndim <= 1 and arr.size == k:
        arr = arr.reshape(1, k)
    if arr.ndim != 2 or arr.shape[1] != k or arr.shape[0] not in (1, b):
        raise ModelError(
            f"{what} have shape {arr.shape}, but the model needs ({b}, {k}) for columns "
            f"{list(names)} (or one row of {k} values for every market); pass them in that "
            "order."
        )
    return np.broadcast_to(arr, (b, k))


def _expand(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask.reshape((-1,) + (1,) * (like.ndim - 1))


class RegressionKernel(DemandKernel):
    """Kernel of a regression model: expected units from a linear predictor.

    ``eta = X @ coef`` with X from the :class:`FeatureSpec`; then

    - ``link="identity"``: units = max(eta, 0) (a linear model can predict negative
      demand far from its data; a market cannot sell negative units);
    - ``link="log"``: units = ``scale`` · exp(eta) (``scale`` = 1 for a GLM with log
      link; the smearing factor E[exp(residual)] for a model of log units).
    """

    def __init__(
        self,
        spec: FeatureSpec,
        coef: np.ndarray,
        link: Literal["identity", "log"],
        noise: NoiseModel,
        support: tuple[float, float],
        reference: dict[str, Any],
        scale: float = 1.0,
    ) -> None:
        super().__init__(spec, noise, support, reference)
        self.coef = np.asarray(coef, dtype=np.float64)
        if self.coef.shape != (spec.n_features,):
            raise ModelError(
                f"coefficient vector has shape {self.coef.shape}, but the feature spec "
                f"has {spec.n_features} columns {spec.names}; the model file is inconsistent."
            )
        self.link = link
        self.scale = float(scale)

    def linear_predictor(self, prices: np.ndarray, context: MarketContext) -> np.ndarray:
        """``X @ coef`` for own prices (B,) in ``context``."""
        return self.spec.build_context(self._own_price(prices), context) @ self.coef

    def elasticity(self, prices: np.ndarray, context: MarketContext) -> np.ndarray:
        """Exact own-price elasticity d log E[units] / d log p, shape (B,).

        With price coefficient b: level price and identity link gives b·p/eta; log
        price and identity link b/eta; level price and log link b·p; log price and
        log link b (constant elasticity).
        """
        p = self._own_price(prices)
        b = self.coef[self.spec.price_index]
        dlink = b * p if self.spec.price_transform == "level" else np.full_like(p, b)
        if self.link == "log":
            return dlink
        return dlink / self.linear_predictor(prices, context)

    def expected(
        self, prices: np.ndarray, context: MarketContext, state: KernelState | None = None
    ) -> np.ndarray:
        eta = self.linear_predictor(prices, context)
        if self.link == "identity":
            return np.maximum(eta, 0.0)
        return self.scale * np.exp(eta)
