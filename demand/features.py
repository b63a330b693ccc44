"""Design matrices shared by every demand model family and its kernel.

A :class:`FeatureSpec` says which terms a model uses — own price (level or log),
competitor prices, promotion flags, product fixed effects, a linear trend and
Fourier seasonality — and builds the matrix from either a :class:`SalesHistory`
(when fitting) or a :class:`MarketContext` plus prices (when simulating). Using one
builder for both is what makes a kernel's predictions equal the fitting library's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from pricegym.demand.data import SalesHistory
from pricegym.errors import ModelError

__all__ = ["FeatureSpec", "MarketContext"]

Transform = Literal["level", "log"]


@dataclass(frozen=True)
class MarketContext:
    """Everything besides own price that demand depends on, for a batch of B markets.

    Attributes:
        t: period index on the fitted history's clock, shape (B,). The period after
            the last observation of a history with periods 0..T-1 is T.
        competitors: competitor prices, shape (B, m), columns in the model's order.
        promotions: promotion flags, shape (B, q), columns in the model's order.
        product: integer product code (index into the model's products), shape (B,).
    """

    t: np.ndarray
    competitors: np.ndarray
    promotions: np.ndarray
    product: np.ndarray

    @property
    def batch_size(self) -> int:
        """Number of markets B."""
        return int(self.t.shape[0])

    def take(self, rows: np.ndarray | slice) -> MarketContext:
        """The context of a subset of the markets."""
        return MarketContext(
            self.t[rows], self.competitors[rows], self.promotions[rows], self.product[rows]
        )


@dataclass(frozen=True)
class FeatureSpec:
    """Which terms enter a demand model's linear predictor, in a fixed column order.

    Columns, in order: ``intercept``; own price (``price`` or ``log_price``);
    one per competitor (``competitor:NAME`` or ``log_competitor:NAME``); one per
    promotion (``promo:NAME``); a fixed effect per product after the first
    (``product:KEY``); ``trend`` (= t); ``sin1``, ``cos1``, ... ``sinK``, ``cosK``
    with period ``season_period``.

    Attributes:
        price_transform: ``"level"`` or ``"log"``; applies to competitor prices too.
        competitors: competitor-price column names.
        promotions: promotion-flag column names.
        products: product keys; a fixed effect is added for each after the first.
        intercept: include a constant column.
        trend: include a linear time trend.
        fourier: number of Fourier harmonic pairs for seasonality (0 for none).
        season_period: periods per seasonal cycle (required when ``fourier > 0``).
    """

    price_transform: Transform = "level"
    competitors: tuple[str, ...] = ()
    promotions: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    intercept: bool = True
    trend: bool = False
    fourier: int = 0
    season_period: float | None = None

    def __post_init__(self) -> None:
        if self.price_transform not in ("level", "log"):
            raise ModelError(
                f"price_transform={self.price_transform!r} is not allowed; use 'level' or 'log'."
            )
        if self.fourier < 0:
            raise ModelError(f"fourier={self.fourier} must be >= 0 harmonics.")
        if self.fourier > 0 and not self.season_period:
            raise ModelError(
                f"fourier={self.fourier} needs a seasonal period, but the data has none "
                "(integer periods or yearly data); set fourier=0 or load dated data."
            )

    # ---------------------------------------------------------------- names
    @property
    def price_name(self) -> str:
        """Name of the own-price column."""
        return "price" if self.price_transform == "level" else "log_price"

    @property
    def names(self) -> list[str]:
        """Column names in matrix order."""
        pre = "competitor:" if self.price_transform == "level" else "log_competitor:"
        out = ["intercept"] if self.intercept else []
        out.append(self.price_name)
        out += [pre + c for c in self.competitors]
        out += ["promo:" + p for p in self.promotions]
        out += ["product:" + k for k in self.products[1:]]
        if self.trend:
            out.append("trend")
        for k in range(1, self.fourier + 1):
            out += [f"sin{k}", f"cos{k}"]
        return out

    @property
    def price_index(self) -> int:
        """Position of the own-price column."""
        return 1 if self.intercept else 0

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return len(self.names)

    # ---------------------------------------------------------------- build
    def build(
        self,
        price: np.ndarray,
        competitors: np.ndarray,
        promotions: np.ndarray,
        t: np.ndarray,
        product: np.ndarray,
    ) -> np.ndarray:
        """The design matrix, shape (B, n_features), for B rows of inputs.

        Args:
            price: own prices, shape (B,), all > 0.
            competitors: shape (B, len(competitors)), all > 0.
            promotions: shape (B, len(promotions)).
            t: period index, shape (B,).
            product: integer product codes, shape (B,).
        """
        b = price.shape[0]
        cols: list[np.ndarray] = []
        if self.intercept:
            cols.append(np.ones((b, 1)))
        if self.price_transform == "log":
            cols.append(np.log(price)[:, None])
            if self.competitors:
                cols.append(np.log(competitors))
        else:
            cols.append(price[:, None])
            if self.competitors:
                cols.append(competitors)
        if self.promotions:
            cols.append(promotions)
        if len(self.products) > 1:
            cols.append((product[:, None] == np.arange(1, len(self.products))[None, :]) * 1.0)
        if self.trend:
            cols.append(t[:, None])
        if self.fourier:
            assert self.season_period is not None  # __post_init__: required when fourier > 0
            angle = (2.0 * np.pi / float(self.season_period)) * t[:, None]
            k = np.arange(1, self.fourier + 1)[None, :]
            trig = np.empty((b, 2 * self.fourier))
            trig[:, 0::2] = np.sin(angle * k)
            trig[:, 1::2] = np.cos(angle * k)
            cols.append(trig)
        return np.concatenate(cols, axis=1).astype(np.float64, copy=False)

    def build_context(self, price: np.ndarray, context: MarketContext) -> np.ndarray:
        """The design matrix for own prices ``price`` (B,) in ``context``."""
        return self.build(
            price, context.competitors, context.promotions, context.t, context.product
        )

    def context_from_history(self, history: SalesHistory) -> MarketContext:
        """The :class:`MarketContext` of every row of ``history`` (B = n_rows)."""
        return MarketContext(
            t=history.t,
            competitors=history.matrix(self.competitors),
            promotions=history.matrix(self.promotions),
            product=history.product_codes(self.products or None)
            if len(self.products) > 1
            else np.zeros(history.n_rows, dtype=np.int64),
        )

    def from_history(self, history: SalesHistory) -> np.ndarray:
        """The design matrix of every row of ``history``."""
        return self.build_context(history.price, self.context_from_history(history))

    # ---------------------------------------------------------------- io
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        d = asdict(self)
        for key in ("competitors", "promotions", "products"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            price_transform=d["price_transform"],
            competitors=tuple(d["competitors"]),
            promotions=tuple(d["promotions"]),
            products=tuple(d["products"]),
            intercept=bool(d["intercept"]),
            trend=bool(d["trend"]),
            fourier=int(d["fourier"]),
            season_period=None if d["season_period"] is None else float(d["season_period"]),
        )
