"""An exported catalogue pricing policy: period and stock in, one price per product out.

:class:`CataloguePricePolicy` holds a table of grid actions indexed by (period,
stock of each product), the form of the exact DP's policy
(:func:`~pricegym.agents.multiproduct_optimum.catalogue_dp`), with the market's
price grids, so that :meth:`~CataloguePricePolicy.prices` returns the price
vector to post without the market, the demand model or any RL library. With
unlimited stock the table has no stock axes (the per-period optimum of
:func:`~pricegym.agents.multiproduct_optimum.grid_optimum`). Saved as JSON + .npz
(format ``pricegym.catalogue-policy``, sha256-checked, never pickle) with
:func:`~pricegym.demand.io.write_model_files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.demand.io import read_model_files, write_model_files
from pricegym.errors import ConfigError, ModelFileError

__all__ = ["FORMAT", "CataloguePricePolicy"]

FORMAT = "pricegym.catalogue-policy"


class CataloguePricePolicy:
    """Price vectors by (period, stock vector) on a catalogue market's grids.

    Args:
        actions: (T, *(stock_j + 1), K) grid indices; (T, K) when stock is unlimited.
        grids: the K price grids (increasing).
        product_names: the K product keys.
        source: how the table was made (e.g. ``"exact DP"``), for the policy card.

    Raises:
        ConfigError: shapes that do not fit together, or an index off its grid.
    """

    def __init__(
        self,
        actions: np.ndarray,
        grids: Sequence[Sequence[float]],
        product_names: Sequence[str],
        source: str = "",
    ) -> None:
        a = np.asarray(actions, dtype=np.int64)
        k = len(grids)
        if a.ndim < 2 or a.shape[-1] != k or len(product_names) != k:
            raise ConfigError(
                f"actions of shape {a.shape} for {k} grids and products {list(product_names)}: "
                "the last axis holds one grid index per product."
            )
        self.grids = tuple(np.asarray(g, dtype=np.float64) for g in grids)
        sizes = np.array([g.size for g in self.grids])
        if (a < 0).any() or (a >= sizes).any():
            raise ConfigError("actions hold grid indices outside their grids; rebuild the table.")
        self.actions = a
        self.product_names = tuple(str(p) for p in product_names)
        self.source = source

    @property
    def horizon(self) -> int:
        """T, the periods of a season."""
        return int(self.actions.shape[0])

    @property
    def max_stock(self) -> tuple[int, ...] | None:
        """The largest stock per product the table covers (None: unlimited stock)."""
        shape = self.actions.shape[1:-1]
        return tuple(int(n) - 1 for n in shape) if shape else None

    @classmethod
    def from_dp(cls, dp: Any, env: Any) -> CataloguePricePolicy:
        """The policy table of a :class:`~pricegym.agents.multiproduct_optimum.CatalogueDP`."""
        base = getattr(env, "unwrapped", env)
        return cls(dp.policy, base.config.grids, base.product_names, "exact DP")

    @classmethod
    def from_grid_optimum(cls, env: Any) -> CataloguePricePolicy:
        """The per-period optimum of every period (unlimited stock; a trend may move it)."""
        # scipy: only for the grid solve
        from pricegym.agents.multiproduct_optimum import grid_optimum

        base = getattr(env, "unwrapped", env)
        table = np.stack([grid_optimum(base, t).action for t in range(base.config.horizon)])
        return cls(table, base.config.grids, base.product_names, "per-period grid optimum")

    def action(self, period: int, stock: Sequence[float] | None = None) -> np.ndarray:
        """The grid indices (K,) to play in ``period`` (0-based) with ``stock`` (K,).

        Raises:
            ConfigError: a period outside 0 … T − 1, a missing stock for a finite-stock
                table, or a stock outside 0 … the table's maximum.
        """
        t = int(period)
        if not 0 <= t < self.horizon:
            raise ConfigError(
                f"period={period!r}: the policy covers periods 0 … {self.horizon - 1} of a season."
            )
        top = self.max_stock
        if top is None:
            return self.actions[t].copy()
        if stock is None or len(stock) != len(top):
            raise ConfigError(
                f"stock={stock!r}: this policy was made for finite stock; pass one stock level "
                f"per product {list(self.product_names)}."
            )
        idx = [round(float(s)) for s in stock]
        bad = [j for j, (s, m) in enumerate(zip(idx, top, strict=True)) if not 0 <= s <= m]
        if bad:
            j = bad[0]
            raise ConfigError(
                f"stock of {self.product_names[j]!r} is {stock[j]!r}: the table covers 0 … "
                f"{top[j]} units (the starting stock it was solved for); re-solve for more."
            )
        return self.actions[(t, *idx)].copy()

    def prices(self, period: int, stock: Sequence[float] | None = None) -> np.ndarray:
        """The prices (K,) to post in ``period`` with ``stock`` (see :meth:`action`)."""
        a = self.action(period, stock)
        return np.array([g[i] for g, i in zip(self.grids, a, strict=True)])

    def save(self, path: str | Path) -> Path:
        """Write the policy as JSON (card: products, grids, horizon, stock) + .npz (table)."""
        doc = {
            "products": list(self.product_names),
            "grids": [g.tolist() for g in self.grids],
            "horizon": self.horizon,
            "max_stock": None if self.max_stock is None else list(self.max_stock),
            "source": self.source,
            "usage": "prices(period, stock) -> one price per product, in 'products' order",
        }
        return write_model_files(path, doc, {"actions": self.actions}, fmt=FORMAT)

    @classmethod
    def load(cls, path: str | Path) -> CataloguePricePolicy:
        """Read a policy written by :meth:`save` (checked: format, sha256, no pickle).

        Raises:
            ModelFileError: not such a file, altered arrays, or a card that does not
                match its table.
        """
        doc, arrays = read_model_files(path, fmt=FORMAT)
        try:
            policy = cls(arrays["actions"], doc["grids"], doc["products"], doc.get("source", ""))
        except (KeyError, ConfigError) as exc:
            raise ModelFileError(
                f"{str(path)!r}: the policy card and its table do not fit ({exc}); save it again."
            ) from None
        if policy.max_stock != (None if doc["max_stock"] is None else tuple(doc["max_stock"])):
            raise ModelFileError(f"{str(path)!r}: max_stock does not match the table; save again.")
        return policy
