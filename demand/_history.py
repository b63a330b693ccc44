"""The validated sales history itself: :class:`SalesHistory` (its columns, its views,
its panel helpers) and the calendar constants it shares with loading.

Private: import :class:`SalesHistory`, :data:`FREQUENCIES` and
:data:`SEASON_PERIODS` from :mod:`pricegym.demand.data`, whose docstring is the
contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand._rules import _check_price_varies, _fmt_timestamp
from pricegym.demand.calendar import TradingCalendar
from pricegym.errors import DataValidationError, PricegymError

__all__ = ["FREQUENCIES", "SEASON_PERIODS", "SalesHistory"]

#: Length of one year (or one week for daily data) in periods, by frequency code.
SEASON_PERIODS: dict[str, float] = {"D": 7.0, "W": 365.25 / 7.0, "M": 12.0, "Q": 4.0}

#: Calendar frequencies of a dated history: daily, weekly, monthly, quarterly, yearly.
FREQUENCIES: tuple[str, ...] = ("D", "W", "M", "Q", "Y")


@dataclass(frozen=True)
class SalesHistory:
    """A validated sales history (see :mod:`pricegym.demand.data` for the columns).

    Build one with :func:`~pricegym.demand.data.load_history` (CSV, Parquet or
    DataFrame) or a bundled data set; the constructor itself does not validate.

    Attributes:
        frame: the canonical table, sorted by ``product`` (if any) then ``t``.
        competitors: names of the competitor-price columns.
        promotions: names of the promotion-flag columns.
        freq: ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` for dated data, ``None``
            for integer periods.
        source: where the data came from (a file path, a data-set name, ``"<DataFrame>"``).
        notes: what loading did to the data (sorted, dropped rows ...), for the user.
        calendar: the :class:`~pricegym.demand.calendar.TradingCalendar` of daily
            data (``t`` counts its trading days); ``None`` for other frequencies and
            integer periods.
        instruments: names of the instrument columns (finite numbers), for the
            instrumental-variable families of :mod:`pricegym.demand.iv`.
    """

    frame: pd.DataFrame
    competitors: tuple[str, ...] = ()
    promotions: tuple[str, ...] = ()
    freq: str | None = None
    source: str = "<DataFrame>"
    notes: tuple[str, ...] = field(default_factory=tuple)
    calendar: TradingCalendar | None = None
    instruments: tuple[str, ...] = ()

    # ------------------------------------------------------------------ views
    @property
    def n_rows(self) -> int:
        """Number of rows (observations)."""
        return len(self.frame)

    @property
    def is_panel(self) -> bool:
        """True when the history has a ``product`` key with more than one value."""
        return "product" in self.frame.columns and self.frame["product"].nunique() > 1

    @property
    def products(self) -> tuple[str, ...]:
        """The product keys in order of first appearance (``("all",)`` without a key)."""
        if "product" not in self.frame.columns:
            return ("all",)
        return tuple(pd.unique(self.frame["product"]))

    @property
    def price(self) -> np.ndarray:
        """Own prices as a float64 array."""
        return self.frame["price"].to_numpy(dtype=np.float64)

    @property
    def units(self) -> np.ndarray:
        """Units sold as a float64 array."""
        return self.frame["units"].to_numpy(dtype=np.float64)

    @property
    def t(self) -> np.ndarray:
        """Period index (0 at the first period) as a float64 array."""
        return self.frame["t"].to_numpy(dtype=np.float64)

    @property
    def season_period(self) -> float | None:
        """Periods per seasonal cycle implied by :attr:`freq` (``None`` if not seasonal).

        For daily data: the trading days per week of :attr:`calendar` (5 for
        Monday–Friday, 7 when every day trades).
        """
        if self.freq == "D" and self.calendar is not None:
            return self.calendar.season_period
        return SEASON_PERIODS.get(self.freq) if self.freq else None

    @property
    def price_range(self) -> tuple[float, float]:
        """Lowest and highest own price in the data: a fitted model's support."""
        p = self.price
        return float(p.min()), float(p.max())

    def product_codes(self, products: Sequence[str] | None = None) -> np.ndarray:
        """Integer code of each row's product in ``products`` (default: :attr:`products`)."""
        keys = tuple(products) if products is not None else self.products
        if "product" not in self.frame.columns:
            return np.zeros(self.n_rows, dtype=np.int64)
        lookup = {k: i for i, k in enumerate(keys)}
        unknown = sorted(set(self.frame["product"]) - set(lookup))
        if unknown:
            raise DataValidationError(
                f"{self.source}: product(s) {unknown[:5]} are not among the products the "
                f"model was fitted on {list(keys)[:10]}; predict only for fitted products "
                "or refit on data that includes them."
            )
        return self.frame["product"].map(lookup).to_numpy(dtype=np.int64)

    @property
    def has_stock(self) -> bool:
        """True when the history maps a ``stock`` or ``stockout`` column."""
        return "stock" in self.frame.columns or "stockout" in self.frame.columns

    @property
    def censored(self) -> np.ndarray:
        """Boolean array: the period sold out (``units >= stock``, or ``stockout == 1``),
        so its units are a lower bound of demand; all False without stock columns."""
        out = np.zeros(self.n_rows, dtype=bool)
        if "stock" in self.frame.columns:
            out |= self.units >= self.column("stock")
        if "stockout" in self.frame.columns:
            out |= self.column("stockout") == 1.0
        return out

    def column(self, name: str) -> np.ndarray:
        """One numeric column as a float64 array."""
        return self.frame[name].to_numpy(dtype=np.float64)

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        """Several numeric columns as a float64 array of shape (n_rows, len(names))."""
        if not names:
            return np.zeros((self.n_rows, 0))
        return self.frame[list(names)].to_numpy(dtype=np.float64)

    def take(self, rows: np.ndarray | Sequence[int], note: str | None = None) -> SalesHistory:
        """A history with only the given row positions (clock ``t`` is unchanged)."""
        frame = self.frame.iloc[np.asarray(rows)].reset_index(drop=True)
        notes = self.notes + ((note,) if note else ())
        return replace(self, frame=frame, notes=notes)

    def for_product(self, key: str) -> SalesHistory:
        """The rows of one product of a panel, with the ``product`` column kept."""
        if "product" not in self.frame.columns:
            raise DataValidationError(
                f"{self.source}: has no product column, so product {key!r} cannot be "
                "selected; omit the product selection or map a product column."
            )
        mask = (self.frame["product"] == key).to_numpy()
        if not mask.any():
            raise DataValidationError(
                f"{self.source}: product {key!r} not found; available products: "
                f"{list(self.products)[:20]}."
            )
        return self.take(np.flatnonzero(mask), note=f"selected product {key!r}")

    def periods(self) -> np.ndarray:
        """The distinct values of ``t`` in increasing order."""
        return np.unique(self.t)

    @property
    def time_column(self) -> str:
        """``"date"`` for a dated history, ``"period"`` for integer periods."""
        return "date" if "date" in self.frame.columns else "period"

    # ------------------------------------------------------------ requirements
    def require_rows(self, n: int, model: str, per_product: bool = True) -> None:
        """Raise unless the history (every product of a panel) has at least ``n`` rows.

        Args:
            n: the fewest rows ``model`` can be fitted on.
            model: the model's name, used in the message.
            per_product: count the rows of each product of a panel (models with
                per-product dynamics); ``False`` counts all rows (pooled models).

        Raises:
            DataValidationError: "too few rows for the chosen model", with the rows
                the history has (for a panel: the smallest product's count), ``n``
                and the fix (more data or a simpler model).
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise PricegymError(f"require_rows: n must be a non-negative integer, got {n!r}.")
        if per_product and self.is_panel:
            counts = self.frame.groupby("product", sort=False).size()
            have = int(counts.min())
            where = (
                f"product {counts.idxmin()!r} has only {have} rows "
                f"(the fewest of {len(counts)} products)"
            )
        else:
            have = self.n_rows
            where = f"the history has {have} rows"
        if have < n:
            raise DataValidationError(
                f"{self.source}: too few rows for the chosen model {model!r}: {where}, but "
                f"{model} needs at least {n}. Fix: supply a longer history (more periods) "
                "or choose a simpler model."
            )

    def require_price_variation(self) -> None:
        """Raise unless the own price takes at least two values (rule 8 of :func:`load_history`).

        Useful after subsetting (:meth:`take`, :meth:`for_product`): a product whose
        price never moved identifies no price effect even if the whole panel does.

        Raises:
            DataValidationError: "the price never varies", with the price and the fix.
        """
        _check_price_varies(self.source, "price", self.price)

    # ----------------------------------------------------------------- report
    def to_dict_summary(self) -> dict[str, Any]:
        """A JSON-ready summary for reports.

        Keys: ``source``, ``n_rows``, ``products`` (list; ``["all"]`` without a
        product key), ``n_products``, ``freq``, ``time_column``, ``date_range``
        (``[first, last]`` as ISO dates or integer periods; ``None`` if empty),
        ``price_range`` (``[min, max]``; ``None`` if empty), ``competitors``,
        ``promotions``, ``instruments``, ``notes``, ``calendar`` (the saved form of
        :class:`~pricegym.demand.calendar.TradingCalendar`, or ``None``); with stock
        columns also ``censored`` (``n`` and ``share`` of sold-out periods).
        """
        column = self.time_column
        date_range: list[Any] | None = None
        price_range: list[float] | None = None
        if self.n_rows:
            first, last = self.frame[column].min(), self.frame[column].max()
            if column == "date":
                date_range = [_fmt_timestamp(first), _fmt_timestamp(last)]
            else:
                date_range = [int(first), int(last)]
            price_range = list(self.price_range)
        products = list(self.products)
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "products": products,
            "n_products": len(products),
            "freq": self.freq,
            "time_column": column,
            "date_range": date_range,
            "price_range": price_range,
            "competitors": list(self.competitors),
            "promotions": list(self.promotions),
            "instruments": list(self.instruments),
            "notes": list(self.notes),
            "calendar": None if self.calendar is None else self.calendar.to_dict(),
        } | (
            {"censored": {"n": int(self.censored.sum()), "share": float(self.censored.mean())}}
            if self.has_stock and self.n_rows
            else {}
        )
