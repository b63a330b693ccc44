"""The sales-history contract: load, validate and hold a seller's sales data.

A :class:`SalesHistory` is the only way data enters a demand model. It holds a
validated :class:`pandas.DataFrame` with canonical column names:

========================  ==========================================================
column                    meaning
========================  ==========================================================
``date`` or ``period``    calendar date (datetime64) or integer period number
``t``                     float period index on the history's clock: 0 at the first
                          period, +1 per period (weeks for weekly data, ...)
``price``                 own price, > 0
``units``                 units sold, >= 0
``cost``                  unit cost (optional)
competitor columns        competitor prices, > 0, original names kept
promotion columns         promotion / feature flags (numeric, usually 0/1)
instrument columns        instruments: numbers that move the price but not demand
                          (see :mod:`pricegym.demand.iv`), original names kept
``product``               product / market key of a panel (optional, str)
``stock``                 stock on hand for the period, >= 0 and >= units (optional)
``stockout``              1 when the product sold out in the period, else 0 (optional)
========================  ==========================================================

A period is **censored** (:attr:`SalesHistory.censored`) when its units reached the
stock (``units >= stock``) or its stock-out flag is 1: the units sold are then a lower
bound of demand, which the censored families of :mod:`pricegym.demand.censored` use.

Rows are sorted by (product, t). Nothing is dropped silently: every change made
while loading (sorting, dropping invalid rows the user opted out of) is listed in
:attr:`SalesHistory.notes`.

Loading
-------
:func:`load_history` reads a CSV file, a Parquet file or a DataFrame, maps the
source's column names onto the canonical ones and checks the rules listed in its
docstring. A broken rule raises :class:`~pricegym.errors.DataValidationError`
whose message names the source, the rows, the column, the offending values, the
rule and the fix.

**Row numbers** in messages count like the lines of a CSV file: the header is
row 1 and the first data row is row 2. For a CSV file the number is the line to
open in an editor (blank lines, which the reader skips, are counted). DataFrames
and Parquet files are numbered the same way by position, as if they had been
written with ``to_csv(index=False)``.

The code is in three private modules: :mod:`~pricegym.demand._history`
(:class:`SalesHistory`), :mod:`~pricegym.demand._loading` (:func:`load_history`:
reading, column mapping, dates and the trading calendar) and
:mod:`~pricegym.demand._rules` (the row and table rules and their messages); this
module is where their public names are imported from.
"""

from __future__ import annotations

from pricegym.demand._history import FREQUENCIES, SEASON_PERIODS, SalesHistory
from pricegym.demand._loading import load_history

__all__ = ["FREQUENCIES", "SEASON_PERIODS", "SalesHistory", "load_history"]
