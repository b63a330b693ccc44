"""What a multi-product market needs from a demand model: :class:`MultiProductDemand`.

One seller prices a catalogue of ``n_products`` products; a fitted multi-product
demand family (:mod:`pricegym.demand.multiproduct`) or a synthetic truth hands the
market an object with this shape, and the market calls :meth:`mean_units` once per
step for a whole batch of B markets.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["MultiProductDemand"]


@runtime_checkable
class MultiProductDemand(Protocol):
    """Expected units of every product of a catalogue at a batch of price vectors.

    Attributes:
        n_products: K, the number of products (columns of prices and units).
        product_names: the K product keys, in column order.
    """

    n_products: int
    product_names: tuple[str, ...]

    def mean_units(self, prices: np.ndarray, period: int | np.ndarray) -> np.ndarray:
        """Expected units, shape (B, K), at ``prices`` (B, K) in ``period`` (int or (B,))."""
        ...
