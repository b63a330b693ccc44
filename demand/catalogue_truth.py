"""A known multi-product demand: :class:`LogitCatalogueTruth` (a multinomial logit catalogue).

``market_size`` shoppers arrive each period; each buys one of the K products or
nothing. Product j's mean utility is ``quality[j] − alpha · p_j`` (the outside
option's is 0), so the expected units are

    mean_units(p)[j] = M · exp(q_j − α p_j) / (1 + Σ_k exp(q_k − α p_k)),

the same formula as :func:`pricegym.demand.logit_shares.logit_shares` (it is
called here), with every parameter known. It is a
:class:`~pricegym.demand.multiproduct_protocol.MultiProductDemand`, so it drives
a :class:`~pricegym.envs.multiproduct.MultiProductEnv` as a fitted multi-product
model does, and its joint optimum has a closed form
(:func:`pricegym.agents.multiproduct_optimum.logit_optimal_prices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pricegym.demand.logit_shares import logit_elasticities, logit_shares
from pricegym.demand.multiproduct import check_prices
from pricegym.errors import ConfigError

__all__ = ["LogitCatalogueTruth"]


class LogitCatalogueTruth:
    """Multinomial logit demand of a K-product catalogue with known parameters.

    Args:
        quality: (K,) product qualities ``q_j`` (mean utility at price 0).
        alpha: price sensitivity α > 0 (one for all products).
        market_size: potential buyers per period M > 0.
        support: (K, 2) or (2,) price range per product that the market may use
            (the prices "seen in the data"; a market's default grid spans it).
        product_names: the K product keys (default ``"p0"``, ``"p1"``, ...).

    Raises:
        ConfigError: a non-finite quality, α <= 0, M <= 0, a support that is not
            0 < low < high per product, or names of the wrong length.
    """

    family = "logit_catalogue_truth"

    def __init__(
        self,
        quality: Sequence[float],
        alpha: float,
        market_size: float = 100.0,
        support: Sequence[float] | Sequence[Sequence[float]] = (0.5, 10.0),
        product_names: Sequence[str] | None = None,
    ) -> None:
        q = np.asarray(quality, dtype=np.float64).reshape(-1)
        if q.size < 1 or not np.isfinite(q).all():
            raise ConfigError(
                f"quality={list(quality)!r}: give one finite quality per product (K >= 1)."
            )
        if not (np.isfinite(alpha) and alpha > 0):
            raise ConfigError(
                f"alpha={alpha!r}: the price sensitivity must be a finite number > 0 (demand "
                "falls with price)."
            )
        if not (np.isfinite(market_size) and market_size > 0):
            raise ConfigError(f"market_size={market_size!r} must be a finite number > 0.")
        k = q.size
        sup = np.asarray(support, dtype=np.float64)
        if sup.shape == (2,):
            sup = np.tile(sup, (k, 1))
        if sup.shape != (k, 2) or not (np.isfinite(sup).all() and (0 < sup[:, 0]).all()):
            raise ConfigError(
                f"support={np.asarray(support).tolist()!r}: give (low, high) for all products "
                f"or one pair per product (shape ({k}, 2)), with 0 < low < high."
            )
        if not (sup[:, 0] < sup[:, 1]).all():
            raise ConfigError(f"support={sup.tolist()!r}: every low must be below its high.")
        names = tuple(f"p{j}" for j in range(k)) if product_names is None else product_names
        names = tuple(str(n) for n in names)
        if len(names) != k or len(set(names)) != k:
            raise ConfigError(
                f"product_names={list(names)!r}: give {k} distinct names, one per quality."
            )
        self.quality = q
        self.alpha = float(alpha)
        self.market_size = float(market_size)
        self.support_ = sup
        self.n_products = k
        self.product_names = names

    def __repr__(self) -> str:
        return (
            f"LogitCatalogueTruth(quality={self.quality.tolist()}, alpha={self.alpha:g}, "
            f"market_size={self.market_size:g})"
        )

    def mean_units(self, prices: Any, period: int | np.ndarray = 0) -> np.ndarray:
        """Expected units (B, K) at ``prices`` (B, K) (or (K,)); ``period`` is ignored."""
        p = check_prices(prices, self.n_products, self.product_names)
        return self.market_size * logit_shares(self.quality - self.alpha * p)

    def elasticities(self, prices: Any) -> np.ndarray:
        """``d ln q_j / d ln p_k`` (B, K, K) at ``prices``: own −αp_j(1−s_j), cross αp_k s_k."""
        p = check_prices(prices, self.n_products, self.product_names)
        return logit_elasticities(self.alpha, p, logit_shares(self.quality - self.alpha * p))

    def to_dict(self) -> dict[str, Any]:
        """The parameters, JSON-ready (``LogitCatalogueTruth(**d)`` rebuilds it)."""
        return {
            "quality": self.quality.tolist(),
            "alpha": self.alpha,
            "market_size": self.market_size,
            "support": self.support_.tolist(),
            "product_names": list(self.product_names),
        }
