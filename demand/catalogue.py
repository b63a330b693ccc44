"""A catalogue panel in wide form: one row per period, one column per product.

The multi-product families (:mod:`pricegym.demand.multiproduct`,
:mod:`pricegym.demand.logit_shares`) explain the units of product j by the prices of
*all* products of the period, so they need the panel pivoted: ``prices[t, k]`` is
product k's price in period t. :func:`catalogue` builds that from a validated
:class:`~pricegym.demand.data.SalesHistory` with a ``product`` key (loaded with
``load_history(..., product=COL)``), so the row-level rules (prices > 0, units ≥ 0,
no duplicate product-periods ...) are the data contract's, and adds the rules of a
catalogue:

- the chosen products exist in the panel (an unknown one is named, with the list);
- the panel is balanced: every chosen product has a row in every period (a missing
  product-period is named; the fix is to drop those periods or fill them);
- at least two products (a single product is the single-product families' job).

Row-level columns keep their meaning per product: a competitor price on product j's
row is the rival's price *of product j*, so competitors and instruments come out as
``(T, K, m)`` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pricegym.demand.data import SalesHistory
from pricegym.errors import DataValidationError

__all__ = ["Catalogue", "catalogue"]


@dataclass(frozen=True)
class Catalogue:
    """A balanced catalogue panel in wide form (see the module docstring).

    Attributes:
        products: the K product keys, in column order.
        t: (T,) the periods (the history's clock, 0 at its first period).
        prices: (T, K) prices.
        units: (T, K) units sold.
        competitors: (T, K, m) competitor prices of each product's row.
        competitor_names: the m competitor column names.
        instruments: (T, K, r) instrument columns (``cost`` first when present).
        instrument_names: the r instrument names.
        source: where the data came from, for messages.
    """

    products: tuple[str, ...]
    t: np.ndarray
    prices: np.ndarray
    units: np.ndarray
    competitors: np.ndarray
    competitor_names: tuple[str, ...]
    instruments: np.ndarray
    instrument_names: tuple[str, ...]
    source: str

    @property
    def n_products(self) -> int:
        """K, the number of products."""
        return len(self.products)

    @property
    def n_periods(self) -> int:
        """T, the number of periods."""
        return len(self.t)

    def instrument(self, name: str) -> np.ndarray:
        """One instrument as a (T, K) array.

        Raises:
            DataValidationError: ``name`` is not an instrument of the catalogue.
        """
        if name not in self.instrument_names:
            raise DataValidationError(
                f"{self.source}: instrument {name!r} is not in the catalogue (its instruments: "
                f"{list(self.instrument_names)}). Fix: map it when loading "
                "(load_history(..., instruments=[...]) or cost=COL for 'cost')."
            )
        return self.instruments[:, :, self.instrument_names.index(name)]


def catalogue(history: SalesHistory, products: Sequence[str] | None = None) -> Catalogue:
    """The wide form of a panel ``history`` for the products ``products`` (default all).

    Raises:
        DataValidationError: no product key, fewer than two products, an unknown
            product, or a product missing in some period (each message names the
            value, the rule and the fix).
    """
    if "product" not in history.frame.columns:
        raise DataValidationError(
            f"{history.source}: a multi-product demand system needs a product key (one row "
            "per product and period), but the history has no product column. Fix: "
            "load_history(..., product=COL) (CLI: --product COL)."
        )
    available = tuple(str(p) for p in history.products)
    chosen = available if products is None else tuple(str(p) for p in products)
    unknown = [p for p in chosen if p not in available]
    if unknown:
        raise DataValidationError(
            f"{history.source}: product(s) {unknown} are not in the panel (rule: every "
            f"product of the catalogue must have rows); its products are {list(available)[:30]}"
            f"{' …' if len(available) > 30 else ''}. Fix: choose among them (keys are strings)."
        )
    if len(set(chosen)) != len(chosen):
        raise DataValidationError(
            f"products={list(chosen)} lists a product twice; list each product once."
        )
    if len(chosen) < 2:
        raise DataValidationError(
            f"{history.source}: products={list(chosen)}: a multi-product demand system needs "
            "at least two products (rule: K >= 2). Fix: choose more products, or fit one "
            "product with the single-product families (pricegym fit --model loglinear)."
        )
    frame = history.frame[history.frame["product"].astype(str).isin(chosen)]
    periods = np.unique(frame["t"].to_numpy(dtype=np.float64))
    keys = frame["product"].astype(str).to_numpy()
    t = frame["t"].to_numpy(dtype=np.float64)
    col = {p: k for k, p in enumerate(chosen)}
    ki = np.array([col[p] for p in keys], dtype=np.int64)
    ti = np.searchsorted(periods, t)
    present = np.zeros((len(periods), len(chosen)), dtype=bool)
    present[ti, ki] = True
    if not present.all():
        missing = np.argwhere(~present)
        shown = ", ".join(
            f"product {chosen[k]!r} at t = {periods[i]:g}" for i, k in missing[:5].tolist()
        )
        raise DataValidationError(
            f"{history.source}: the catalogue is not balanced: {len(missing)} product-period(s) "
            f"have no row ({shown}{', …' if len(missing) > 5 else ''}). Rule: every product "
            "needs a row in every period, because each product's demand depends on the "
            "prices of all products in the period. Fix: drop those periods, choose the "
            "products that are always sold (products=[...]), or fill the missing rows."
        )
    shape = (len(periods), len(chosen))

    def wide(values: np.ndarray) -> np.ndarray:
        out = np.empty(shape + values.shape[1:], dtype=np.float64)
        out[ti, ki] = values
        return out

    inst_names = (("cost",) if "cost" in frame.columns else ()) + tuple(history.instruments)
    sub = frame.reset_index(drop=True)
    return Catalogue(
        products=chosen,
        t=periods,
        prices=wide(sub["price"].to_numpy(dtype=np.float64)),
        units=wide(sub["units"].to_numpy(dtype=np.float64)),
        competitors=wide(sub[list(history.competitors)].to_numpy(dtype=np.float64)),
        competitor_names=tuple(history.competitors),
        instruments=wide(sub[list(inst_names)].to_numpy(dtype=np.float64)),
        instrument_names=inst_names,
        source=history.source,
    )
