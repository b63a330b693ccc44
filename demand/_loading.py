"""Loading a sales history: :func:`load_history` reads the source, maps the columns
(rule 1), parses dates or period numbers onto the history's clock (rule 9) and the
trading calendar of daily data (rule 10), and applies the rules of
:mod:`pricegym.demand._rules`.

Private: import :func:`load_history` from :mod:`pricegym.demand.data`.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand._csv import SEPARATORS, read_csv, separator_name
from pricegym.demand._history import FREQUENCIES, SalesHistory
from pricegym.demand._rules import (
    _ROLE_TEXT,
    _ROW_CONVENTION,
    _check_cells,
    _check_duplicates,
    _check_price_varies,
    _check_stock,
    _drop_note,
    _fmt_timestamp,
    _fmt_value,
    _product_keys,
    _Role,
    _row_rule_message,
    _rows_text,
    _s,
    _Violation,
)
from pricegym.demand.calendar import (
    CALENDAR_CHOICES,
    TradingCalendar,
    infer_calendar,
    parse_closed_dates,
    parse_weekdays,
)
from pricegym.errors import DataValidationError, PricegymError, PricegymWarning

__all__ = ["load_history"]

#: Median spacing of consecutive dates, in days, that infers each frequency.
_SPACING_DAYS: dict[str, tuple[float, float]] = {
    "D": (0.5, 1.5),
    "W": (6.5, 7.5),
    "M": (27.5, 31.5),
    "Q": (88.0, 93.0),
    "Y": (360.0, 370.0),
}
_FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "yearly"}
_PERIOD_WORDS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
#: Canonical column names; a competitor or promotion column may not take one of them.
_CANONICAL = ("date", "period", "t", "price", "units", "cost", "product", "stock", "stockout")
#: Dates written day.month.year (time of day allowed after a space or T).
_DOTTED_DATE = r"\d{1,2}\.\d{1,2}\.\d{2,4}(?:[ T].*)?"
#: The first two numbers of dates written with slashes (01/02/2024).
_SLASHED_DATE = r"^(\d{1,2})/(\d{1,2})/\d{2,4}(?:[ T].*)?$"


def load_history(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    date: str | None = None,
    period: str | None = None,
    price: str = "price",
    units: str = "units",
    cost: str | None = None,
    competitors: Sequence[str] = (),
    promotions: Sequence[str] = (),
    product: str | None = None,
    instruments: Sequence[str] = (),
    stock: str | None = None,
    stockout: str | None = None,
    drop_invalid: bool = False,
    freq: str | None = None,
    name: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    calendar: str | TradingCalendar = "auto",
    trading_days: str | Sequence[int | str] | None = None,
    closed_dates: str | Sequence[Any] | None = None,
) -> SalesHistory:
    """Load and validate a sales history from a CSV/Parquet file or a DataFrame.

    Every keyword that names a column gives the column's name *in the source*; the
    result uses the canonical names of :mod:`pricegym.demand.data` (competitor and
    promotion columns keep their names). Columns that are not mapped are left out.

    Args:
        source: a path to a ``.csv`` or ``.parquet``/``.pq`` file, or a DataFrame.
        date: column of calendar dates (any format :func:`pandas.to_datetime` reads
            consistently; ISO ``YYYY-MM-DD`` is safest).
        period: column of integer period numbers, instead of ``date``. When neither
            is given, a column named ``date`` (dates), ``period`` or ``week``
            (integers, or dates if they are not numbers) is used, matched ignoring
            case; otherwise the call raises and says which option to pass.
        price: column of the own price.
        units: column of units sold.
        cost: column of unit cost; ``None`` means no cost column.
        competitors: columns of competitor prices (a single name may be a str).
        promotions: columns of numeric promotion / feature flags.
        product: column of the product / market key of a panel (kept as str;
            integer-valued numbers are written without a decimal point).
        instruments: columns of instruments (finite numbers: a cost shifter, a
            rival market's price ...), kept under their names for the
            instrumental-variable families (:mod:`pricegym.demand.iv`).
        stock: column of the stock on hand in each period (units available to sell);
            a period whose units reach it is censored (sold out).
        stockout: column of a 0/1 flag, 1 when the product sold out in the period
            (censored). With ``stock`` too, a period is censored when either says so.
        drop_invalid: drop rows that break a row-level rule (2-5 below) instead
            of raising; the count, the counts per rule and the first dropped rows
            go to :attr:`SalesHistory.notes` and a
            :class:`~pricegym.errors.PricegymWarning` with the same text.
        freq: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` for dated data; by
            default inferred from the median spacing of consecutive dates within
            products (1, 7, ~30.4, ~91, ~365 days; if the median matches none because
            many periods are missing, the smallest spacing). Not allowed with ``period``:
            integer periods have no calendar frequency (:attr:`SalesHistory.freq`
            is ``None``).
        name: label for the source in messages and :attr:`SalesHistory.source`
            (default: the file path, or ``"<DataFrame>"``).
        sep: field separator of a CSV file (``\\t`` or ``tab`` for a tab); by
            default detected: the first of ``,`` ``;`` tab ``|`` that splits every
            one of the first records like the header.
        decimal: decimal mark of a CSV file, ``"."`` or ``","``; by default ``.``
            for a ``,``-separated file and read from the cells otherwise (``9,99``
            means decimal commas, ``9.99`` decimal points; ``1.234,5`` is 1234.5).
            A file that mixes both marks, or whose only marked numbers are like
            ``1,234`` (decimal or thousands?), is refused with a message naming
            the cell and the options. How a file that is not plain ``,``/``.`` was
            read is said in :attr:`SalesHistory.notes`. See
            :mod:`pricegym.demand._csv` for the exact rules.
        calendar: the trading calendar of daily data (see
            :mod:`pricegym.demand.calendar`): ``"auto"`` (default) drops the weekdays
            that never occur in at least 8 weeks of daily data (no Saturday or Sunday
            → Monday–Friday) and otherwise trades every day; ``"daily"`` trades every
            day; ``"business"`` Monday–Friday; or a ready
            :class:`~pricegym.demand.calendar.TradingCalendar`.
        trading_days: the trading weekdays instead (``"Mon-Fri"``, ``"Mon-Sat"``,
            ``"Mon,Wed,Fri"``, or numbers 0 = Monday); not with ``calendar="daily"``
            or ``"business"``.
        closed_dates: dates the market is closed (holidays): a comma-separated
            list, a file with one date a line, or a sequence of dates.
            ``calendar``, ``trading_days`` and ``closed_dates`` apply to daily data
            only.

    Returns:
        The validated history, sorted by (product, t). Its ``t`` is 0 at the
        earliest period of the whole history and counts periods of ``freq``: days,
        weeks, calendar months, quarters or years between dates (gaps allowed), or
        ``period - min(period)`` for integer periods. For daily data ``t`` counts the
        trading days of :attr:`SalesHistory.calendar` (every day, or e.g. Monday–Friday
        without closed dates), so the period after a Friday is the next Monday.

    Raises:
        DataValidationError: when one of these rules is broken (rule numbers are
            those used in the notes):

            1. every mapped column exists (the message lists the available columns
               and suggests the closest name);
            2. price, units, cost, competitor, promotion, instrument and period
               values are finite numbers;
            3. no mapped column has an empty / NaN cell;
            4. price > 0, competitor prices > 0, cost >= 0;
            5. units >= 0;
            6. at most one row per period within a product;
            7. (not an error) rows out of time order are sorted, with a note;
            8. the own price takes at least two values;
            9. every date parses, and dates lie on the frequency's grid (whole
               weeks apart for weekly data, the same day of the month for monthly
               data, ...), so ``t`` is an integer; period numbers are whole;
            10. daily data has sales on trading days only (not on a weekday the
               calendar does not trade, nor on a closed date); calendar options
               are valid and given for daily data only;
            11. stock >= 0 and stock-out flags are 0 or 1 (row-level, like rule 4),
               and no period sells more units than its stock (always raises).

            Rules 2-5 and the range checks of rule 11 are row-level:
            ``drop_invalid=True`` drops such rows. The others always raise.
            Messages give row numbers as CSV line numbers (header = row 1),
            listing the first 5 rows and the total count.
        PricegymError: reading Parquet without ``pyarrow`` installed.

    Example:
        >>> frame = pd.DataFrame({"week": [1, 2, 3], "avgprc": [2.0, 1.8, 2.1],
        ...                       "totqty": [10, 14, 9]})
        >>> history = load_history(frame, price="avgprc", units="totqty")
        >>> history.frame.columns.tolist(), history.t.tolist()
        (['period', 't', 'price', 'units'], [0.0, 1.0, 2.0])
    """
    raw, label, rownum, notes, parsed = _read_source(source, name, sep, decimal)
    if len(raw) == 0:
        raise DataValidationError(
            f"{label}: has no data rows (only a header, or nothing). Fix: load a file or "
            "DataFrame with at least two periods of sales."
        )
    roles = _map_columns(
        raw,
        label,
        notes,
        date,
        period,
        price,
        units,
        cost,
        competitors,
        promotions,
        product,
        instruments,
        stock,
        stockout,
    )
    if not isinstance(source, pd.DataFrame):  # a file: say which of its columns are not used
        mapped = {role.source for role in roles}
        unused = [str(c) for c in raw.columns if c not in mapped]
        if unused:
            notes.append(
                f"columns not used: {', '.join(unused)} (only mapped columns enter the model; "
                "map a 0/1 flag with --promotion COL, a rival's price with --competitor COL)"
            )

    # ---- rules 2-5: row by row
    values: dict[str, np.ndarray] = {}
    violations: list[_Violation] = []
    for role in roles:
        violations.extend(_check_cells(raw[role.source], role, values, parsed.get(role.source)))
    keep = np.ones(len(raw), dtype=bool)
    if violations:
        violations.sort(key=lambda v: v.rule)
        if not drop_invalid:
            raise DataValidationError(_row_rule_message(raw, label, rownum, roles, violations))
        for v in violations:
            keep[v.positions] = False
        note = _drop_note(raw, rownum, roles, violations, keep)
        notes.append(note)
        warnings.warn(f"{label}: {note}", PricegymWarning, stacklevel=2)
        if not keep.any():
            raise DataValidationError(
                f"{label}: every one of the {len(raw)} rows broke a row-level rule, so "
                "drop_invalid=True left nothing. " + note
            )
    kept = np.flatnonzero(keep)
    rownum = rownum[kept]
    if "stock" in values:  # rule 11: sales never exceed the stock on hand
        _check_stock(label, roles, values["units"][kept], values["stock"][kept], rownum)

    # ---- the canonical frame (rule 9 for dates, whole period numbers)
    time_role = roles[0]
    columns: dict[str, Any] = {}
    if time_role.kind == "date":
        if freq is not None:
            freq = _check_freq(freq, label)
        times = _parse_dates(
            raw[time_role.source].iloc[kept], label, time_role.source, rownum, notes
        )
        columns["date"] = times
    else:
        if freq is not None:
            raise DataValidationError(
                f"{label}: freq={freq!r} was given with integer periods "
                f"(period={time_role.source!r}); a frequency describes calendar dates, "
                "so integer periods have none. Fix: drop freq=, or map a column of "
                "calendar dates with date=... to use a calendar frequency."
            )
        times = _whole_periods(values["period"][kept], label, time_role.source, rownum)
        columns["period"] = times
    columns["t"] = np.zeros(len(kept))
    for role in roles[1:]:
        if role.kind != "product":
            columns[role.name] = values[role.name][kept]
    product_role = next((r for r in roles if r.kind == "product"), None)
    if product_role is not None:
        keys = _product_keys(raw[product_role.source].iloc[kept])
        columns["product"] = keys
        codes = pd.factorize(keys)[0]
    else:
        codes = np.zeros(len(kept), dtype=np.int64)
    frame = pd.DataFrame(columns)

    # ---- rule 6: duplicates; rule 7: sort
    order_key = times.view(np.int64) if time_role.kind == "date" else times
    _check_duplicates(
        frame, label, time_role, product_role, codes, order_key, rownum, raw.iloc[kept], roles
    )
    order = np.lexsort((order_key, codes))
    moved = int(np.count_nonzero(order != np.arange(len(order))))
    if moved:
        frame = frame.iloc[order].reset_index(drop=True)
        codes, rownum = codes[order], rownum[order]
        by = "product, then " if product_role is not None else ""
        notes.append(
            f"{moved} of {len(order)} rows were out of order and have been sorted by "
            f"{by}{time_role.kind}."
        )

    # ---- rule 8: the price varies
    _check_price_varies(label, roles[1].source, frame["price"].to_numpy())

    # ---- the clock: freq and t (rule 9: dates on the grid)
    if time_role.kind == "date":
        dates = frame["date"].to_numpy()
        inferred = freq is None
        if freq is None:
            freq = _infer_freq(dates, codes, label, time_role.source)
        frame["t"] = _clock(dates, freq, label, time_role.source, rownum, inferred)
    else:
        frame["t"] = (frame["period"] - frame["period"].min()).astype(np.float64)
    trading: TradingCalendar | None = None
    if time_role.kind == "date" and freq == "D":
        trading = _trading_calendar(
            frame["date"].to_numpy(), calendar, trading_days, closed_dates, label, rownum
        )
        frame["t"] = trading.index(frame["date"].to_numpy())
    else:
        _check_no_calendar(calendar, trading_days, closed_dates, label, freq)

    competitor_names = tuple(r.name for r in roles if r.kind == "competitor")
    promotion_names = tuple(r.name for r in roles if r.kind == "promotion")
    return SalesHistory(
        frame=frame,
        competitors=competitor_names,
        promotions=promotion_names,
        freq=freq,
        source=label,
        notes=tuple(notes),
        calendar=trading,
        instruments=tuple(r.name for r in roles if r.kind == "instrument"),
    )


# ------------------------------------------------------------------ calendar
def _trading_calendar(
    dates: np.ndarray,
    calendar: str | TradingCalendar,
    trading_days: str | Sequence[int | str] | None,
    closed_dates: str | Sequence[Any] | None,
    label: str,
    rownum: np.ndarray,
) -> TradingCalendar:
    """Rule 10: the trading calendar of daily ``dates``, every date a trading day."""
    origin = str(np.datetime64(dates.min(), "D"))
    closed = parse_closed_dates(closed_dates)
    if isinstance(calendar, TradingCalendar):
        if trading_days is not None:
            raise DataValidationError(
                f"{label}: trading_days={trading_days!r} was given with a ready "
                "TradingCalendar (rule: one source of trading weekdays). Fix: drop one."
            )
        weekdays, source = calendar.weekdays, calendar.source
        closed = tuple(sorted(set(closed) | set(calendar.closed)))
    else:
        choice = str(calendar).lower()
        if choice not in CALENDAR_CHOICES:
            raise DataValidationError(
                f"{label}: calendar={calendar!r} is not a calendar pricegym knows (rule: "
                f"one of {list(CALENDAR_CHOICES)}). Fix: use --calendar auto (infer from the "
                "data), daily (every day), business (Mon–Fri), or --trading-days Mon-Sat."
            )
        if trading_days is not None:
            if choice != "auto":
                raise DataValidationError(
                    f"{label}: calendar={choice!r} and trading_days={trading_days!r} both "
                    "say which weekdays trade (rule: give one). Fix: drop --calendar, or "
                    "drop --trading-days."
                )
            weekdays, source = parse_weekdays(trading_days), "given (trading days)"
        elif choice == "daily":
            weekdays, source = tuple(range(7)), "given (daily)"
        elif choice == "business":
            weekdays, source = (0, 1, 2, 3, 4), "given (business days)"
        else:
            inferred = infer_calendar(dates)
            weekdays, source = inferred.weekdays, inferred.source
    mask = [d in weekdays for d in range(7)]
    closed = tuple(c for c in closed if mask[pd.Timestamp(c).day_of_week])
    result = TradingCalendar(weekdays=weekdays, closed=closed, origin=origin, source=source)
    off = np.flatnonzero(~result.trading(dates))
    if len(off):
        closed_set = set(closed)

        def describe(p: int) -> str:
            day = pd.Timestamp(dates[p])
            why = "a closed date" if day.date().isoformat() in closed_set else day.day_name()
            return f"{_fmt_timestamp(day)}, {why}"

        rows = _rows_text(off, rownum, describe)
        raise DataValidationError(
            f"{label}: {len(off)} row{_s(len(off))} fall on days the trading calendar "
            f"({result.describe()}, {source}) does not trade ({_ROW_CONVENTION}): {rows} "
            "(rule 10: daily sales lie on trading days). Fix: pass --calendar daily (or "
            "--trading-days with these weekdays), or remove those dates from the closed "
            "dates."
        )
    if not result.trading(np.datetime64(origin, "D"))[0]:  # pragma: no cover - checked above
        raise DataValidationError(f"{label}: the first date {origin} is not a trading day.")
    return result


def _check_no_calendar(
    calendar: str | TradingCalendar,
    trading_days: Any,
    closed_dates: Any,
    label: str,
    freq: str | None,
) -> None:
    """Rule 10: calendar options are for daily data only (``auto``/``daily`` are no-ops)."""
    given = []
    if isinstance(calendar, TradingCalendar) or str(calendar).lower() not in ("auto", "daily"):
        if not isinstance(calendar, TradingCalendar) and str(calendar).lower() != "business":
            raise DataValidationError(
                f"{label}: calendar={calendar!r} is not a calendar pricegym knows (rule: "
                f"one of {list(CALENDAR_CHOICES)}). Fix: use auto, daily or business."
            )
        given.append(f"calendar={calendar!r}")
    if trading_days is not None:
        given.append(f"trading_days={trading_days!r}")
    if closed_dates is not None:
        given.append("closed_dates")
    if given:
        what = "integer periods" if freq is None else f"{_FREQ_WORDS[freq]} data"
        raise DataValidationError(
            f"{label}: {', '.join(given)} given for {what} (rule 10: a trading calendar "
            "describes daily data). Fix: drop the calendar options, or load daily dates."
        )


# ------------------------------------------------------------------ reading
def _read_source(
    source: Any, name: str | None, sep: str | None, decimal: str | None
) -> tuple[pd.DataFrame, str, np.ndarray, list[str], dict[Any, np.ndarray]]:
    """The raw table, its label for messages, each row's number (header = row 1), notes,
    and the numbers of CSV text columns that mostly hold numbers in the file's dialect
    (see :func:`pricegym.demand._csv.read_csv`)."""
    if isinstance(source, pd.DataFrame):
        label = name or "<DataFrame>"
        if sep is not None or decimal is not None:
            raise DataValidationError(
                f"{label}: sep= and decimal= describe how a CSV file is written; a DataFrame "
                "has no separator or decimal mark. Fix: drop them."
            )
        return source, label, np.arange(len(source), dtype=np.int64) + 2, [], {}
    if not isinstance(source, str | os.PathLike):
        raise DataValidationError(
            f"{name or '<source>'}: a sales history must be a file path (str or Path) or a "
            f"pandas DataFrame, got {type(source).__name__}. Fix: pass the path of a "
            ".csv/.parquet file or a DataFrame."
        )
    path = Path(source)
    label = name or str(path)
    if not path.is_file():
        raise DataValidationError(
            f"{label}: file not found (looked for {path.resolve()}). Fix: check the path."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw, rownum, notes, parsed = read_csv(path, label, sep, decimal)
        return raw, label, rownum, notes, parsed
    if sep is not None or decimal is not None:
        given = " and ".join(
            f"{k}={v!r}" for k, v in (("sep", sep), ("decimal", decimal)) if v is not None
        )
        raise DataValidationError(
            f"{label}: {given} describe{'s' if ' and ' not in given else ''} how a CSV file "
            f"is written, but this is a {suffix or 'suffix-less'} file. Fix: drop {given}."
        )
    if suffix in (".parquet", ".pq"):
        try:
            raw = pd.read_parquet(path)
        except ImportError as exc:
            raise PricegymError(
                f"{label}: reading Parquet needs pyarrow, which is not installed. Fix: "
                'pip install "pricegym[parquet]", or convert the file to CSV.'
            ) from exc
        except (OSError, ValueError) as exc:
            raise DataValidationError(
                f"{label}: cannot be read as a Parquet file ({exc}). Fix: check that "
                "the file is a complete Parquet file, or export the data as CSV."
            ) from exc
        return raw, label, np.arange(len(raw), dtype=np.int64) + 2, [], {}
    raise DataValidationError(
        f"{label}: unsupported file type {suffix or '(no suffix)'!r}; sales histories are "
        "read from .csv, .parquet or .pq files. Fix: rename or convert the file, or load "
        "it yourself and pass a DataFrame."
    )


# ------------------------------------------------------------------ mapping
def _map_columns(
    raw: pd.DataFrame,
    label: str,
    notes: list[str],
    date: str | None,
    period: str | None,
    price: str,
    units: str,
    cost: str | None,
    competitors: Sequence[str] | str,
    promotions: Sequence[str] | str,
    product: str | None,
    instruments: Sequence[str] | str = (),
    stock: str | None = None,
    stockout: str | None = None,
) -> list[_Role]:
    """Rule 1: resolve every role to a source column; time first, then price, units, ..."""
    if len(raw.columns) == 1:
        _check_one_column(raw.columns[0], label)
    if date is not None and period is not None:
        raise DataValidationError(
            f"{label}: both date={date!r} and period={period!r} were given; a history has "
            "one clock. Fix: pass date= for calendar dates or period= for integer periods."
        )
    if date is not None:
        roles = [_Role("date", date, "date")]
    elif period is not None:
        roles = [_Role("period", period, "period")]
    else:
        roles = [_detect_time_column(raw, label, notes)]
    roles += [_Role("price", price, "price"), _Role("units", units, "units")]
    if cost is not None:
        roles.append(_Role("cost", cost, "cost"))
    for kind, names in (
        ("competitor", competitors),
        ("promotion", promotions),
        ("instrument", instruments),
    ):
        for column in (names,) if isinstance(names, str) else tuple(names):
            roles.append(_Role(column, column, kind))
    if product is not None:
        roles.append(_Role("product", product, "product"))
    for kind, mapped in (("stock", stock), ("stockout", stockout)):
        if mapped is not None:
            roles.append(_Role(kind, mapped, kind))

    available = list(raw.columns)
    for role in roles:
        if role.source not in available:
            raise DataValidationError(_missing_column_message(label, role, available))
        if int(np.count_nonzero(raw.columns == role.source)) > 1:
            raise DataValidationError(
                f"{label}: column {role.source!r} appears more than once in the source, so "
                f"{_ROLE_TEXT[role.kind][0]} is ambiguous. Fix: give the columns unique names."
            )
    seen: dict[Any, _Role] = {}
    for role in roles:
        if role.source in seen:
            first = seen[role.source]
            raise DataValidationError(
                f"{label}: column {role.source!r} is mapped both as "
                f"{_ROLE_TEXT[first.kind][0]} and as {_ROLE_TEXT[role.kind][0]}; a column "
                "has one role. Fix: map each role to a different column."
            )
        seen[role.source] = role
        if role.kind in ("competitor", "promotion", "instrument") and role.name in _CANONICAL:
            raise DataValidationError(
                f"{label}: the {role.kind} column {role.name!r} would clash with the "
                f"canonical column of that name (canonical columns: {list(_CANONICAL)}). "
                "Fix: rename that column in the source (e.g. to "
                f"'{role.kind}_{role.name}')."
            )
    return roles


def _check_one_column(name: Any, label: str) -> None:
    """Raise if the only column's name looks like a header split by another separator."""
    for sep in SEPARATORS:
        if sep != "," and sep in str(name):
            shown = separator_name(sep)
            option = "tab" if sep == "\t" else repr(sep)
            raise DataValidationError(
                f"{label}: has a single column {str(name)!r}, which looks like the header of "
                f"a {shown}-separated file read with another separator. Fix: pass "
                f"sep={sep!r} (CLI: --sep {option}), or omit sep= to detect it."
            )


def _detect_time_column(raw: pd.DataFrame, label: str, notes: list[str]) -> _Role:
    """The auto-detected clock: a column called date, period or week (any case)."""
    by_lower: dict[str, Any] = {}
    for column in raw.columns:
        by_lower.setdefault(str(column).lower(), column)
    for candidate in ("date", "period", "week"):
        if candidate not in by_lower:
            continue
        column = by_lower[candidate]
        series = raw[column]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        kind = "date" if candidate == "date" or not numeric else "period"
        if column != kind:
            notes.append(
                f"column {column!r} was used as the {kind} (auto-detected); pass date=... "
                "or period=... to choose another column."
            )
        return _Role(kind, column, kind)
    shown = [str(c) for c in raw.columns[:30]]
    raise DataValidationError(
        f"{label}: no date or period column: none of the columns {shown} is called "
        "'date', 'period' or 'week' (rule 1: a history needs a clock). Fix: pass "
        "date='<column>' (CLI: --date) for calendar dates, or period='<column>' "
        "(CLI: --period) for integer period numbers."
    )


def _missing_column_message(label: str, role: _Role, available: list[Any]) -> str:
    """Rule 1's message: the role, the column asked for, the columns there are, a guess."""
    what, keyword, option = _ROLE_TEXT[role.kind]
    names = [str(c) for c in available]
    asked = str(role.source)
    guesses = [n for n in names if n.lower() == asked.lower()]
    guesses += difflib.get_close_matches(asked, names, n=3, cutoff=0.6)
    guesses += difflib.get_close_matches(asked.lower(), [n.lower() for n in names], n=1)
    lower_to_name = {n.lower(): n for n in names}
    guesses = [lower_to_name.get(g.lower(), g) for g in guesses]
    guess = next(iter(dict.fromkeys(guesses)), None)
    shown = names[:30] + (["..."] if len(names) > 30 else [])
    plural = keyword in ("competitors", "promotions", "instruments")
    target = repr(guess) if guess else "'<column>'"
    value = f"[..., {target}]" if plural else target
    hint = f" Did you mean {guess!r}?" if guess else ""
    return (
        f"{label}: missing column {role.source!r} for {what} (rule 1: every mapped column "
        f"must exist). Available columns: {shown}.{hint} Fix: pass {keyword}={value} "
        f"(CLI: {option} {guess or '<column>'}) naming the column that holds {what}."
    )


# -------------------------------------------------------------- table rules
def _parse_dates(
    series: pd.Series,
    label: str,
    source: Any,
    rownum: np.ndarray,
    notes: list[str] | None = None,
) -> np.ndarray:
    """Rule 9: every date parses. Returns datetime64[ns] (time zones dropped, wall time kept).

    Day and month are ordered as :func:`_day_first` decides; its note goes to ``notes``.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
    elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise DataValidationError(
            f"{label}: column {source!r} is mapped to the dates but holds numbers such as "
            f"{_fmt_value(series.iloc[0])} (row {rownum[0]}), not dates (rule 9: dates must "
            f"be calendar dates). Fix: pass period={source!r} (CLI: --period {source}) to "
            "use them as integer period numbers, or write them as dates (YYYY-MM-DD)."
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pandas' "could not infer format"
            day_first, note = _day_first(series, source)
            if note and notes is not None:
                notes.append(note)
            try:
                parsed = pd.to_datetime(series, errors="coerce", dayfirst=day_first)
                if parsed.isna().any():  # the format inferred from the first row failed
                    iso = pd.to_datetime(series, errors="coerce", format="ISO8601")
                    parsed = iso if iso.isna().sum() < parsed.isna().sum() else parsed
            except (TypeError, ValueError, OverflowError):
                parsed = pd.to_datetime(
                    pd.Series([_one_date(v) for v in series], index=series.index)
                )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    bad = np.flatnonzero(parsed.isna().to_numpy(dtype=bool))
    if len(bad):
        good = parsed.dropna()
        example = f", like the other rows' {_fmt_timestamp(good.iloc[0])}" if len(good) else ""
        rows = _rows_text(bad, rownum, lambda p: _fmt_value(series.iloc[p]))
        raise DataValidationError(
            f"{label}: {len(bad)} date{_s(len(bad))} in column {source!r} cannot be parsed "
            f"({_ROW_CONVENTION}): {rows} (rule 9: dates must be calendar dates in one "
            f"consistent format{example}). Fix: correct these cells (YYYY-MM-DD is safest), "
            "or pass period=... if the column holds integer period numbers."
        )
    try:
        return parsed.to_numpy(dtype="datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError) as exc:
        raise DataValidationError(
            f"{label}: dates in column {source!r} fall outside the years 1677-2262 that "
            f"pandas can represent ({exc}). Fix: correct the dates."
        ) from exc


def _day_first(series: pd.Series, source: Any) -> tuple[bool, str | None]:
    """Whether text dates put the day first, and a note when the file does not say.

    Dotted dates (``31.01.2024``) are day first, as everywhere they are written. For
    slashed dates (``01/02/2024``) a first number above 12 means day first and a
    second one above 12 month first; when no date settles it they are read month
    first, as pandas reads them, and the note says so. Other formats: month first
    where it matters (pandas' default), no note.
    """
    cells = series.dropna()
    if cells.empty or not cells.map(lambda v: isinstance(v, str)).all():
        return False, None
    cells = cells.str.strip()
    if cells.str.fullmatch(_DOTTED_DATE).all():
        return True, (
            f"dates in column {str(source)!r} such as {cells.iloc[0]!r} were read day first "
            "(DD.MM.YYYY, as dotted dates are written)."
        )
    parts = cells.str.extract(_SLASHED_DATE)
    if parts.isna().to_numpy().any():
        return False, None
    first, second = parts[0].astype(int), parts[1].astype(int)
    if (first > 12).any() and not (second > 12).any():
        example = cells[first > 12].iloc[0]
        return True, (
            f"dates in column {str(source)!r} were read day first (DD/MM/YYYY), as "
            f"{example!r} shows."
        )
    if not (first > 12).any() and not (second > 12).any():
        return False, (
            f"dates in column {str(source)!r} such as {cells.iloc[0]!r} were read month first "
            "(MM/DD/YYYY); no date has a number above 12 that settles the order. If they "
            "are DD/MM/YYYY, write them as YYYY-MM-DD."
        )
    return False, None


def _one_date(value: Any) -> pd.Timestamp:
    """One cell as a naive timestamp, NaT if it does not parse."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return pd.NaT
    if stamp is pd.NaT:
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _whole_periods(numbers: np.ndarray, label: str, source: Any, rownum: np.ndarray) -> np.ndarray:
    """Rule 9 for integer periods: every period number is a whole number. Returns int64."""
    bad = np.flatnonzero(numbers != np.round(numbers))
    if len(bad):
        rows = _rows_text(bad, rownum, lambda p: _fmt_value(numbers[p]))
        raise DataValidationError(
            f"{label}: {len(bad)} period number{_s(len(bad))} in column {source!r} "
            f"{'are' if len(bad) != 1 else 'is'} not whole ({_ROW_CONVENTION}): {rows} "
            "(rule 9: period numbers are integers, one per period). Fix: correct these "
            "cells, or map a column of calendar dates with date=... instead."
        )
    return numbers.astype(np.int64)


def _check_freq(freq: str, label: str) -> str:
    """A user-given frequency code, upper-cased; raise if it is not one of FREQUENCIES."""
    code = str(freq).upper()
    if code not in FREQUENCIES:
        raise DataValidationError(
            f"{label}: freq={freq!r} is not a frequency pricegym knows; use one of "
            f"{list(FREQUENCIES)} (daily, weekly, monthly, quarterly, yearly)."
        )
    return code


def _infer_freq(dates: np.ndarray, codes: np.ndarray, label: str, source: Any) -> str:
    """The frequency whose spacing matches the median gap between a product's dates."""
    days = (dates - dates.min()) / np.timedelta64(1, "D")
    same = codes[1:] == codes[:-1]  # rows are sorted by (product, date)
    gaps = np.diff(days)[same]
    fix = f"pass freq= one of {list(FREQUENCIES)} (CLI: --freq)"
    if gaps.size == 0:
        raise DataValidationError(
            f"{label}: cannot infer the frequency of the dates in column {source!r}: no "
            f"product has two dates. Fix: {fix}."
        )
    median = float(np.median(gaps))
    for spacing in (median, float(gaps.min())):  # the smallest gap if missing periods
        for code, (low, high) in _SPACING_DAYS.items():  # pushed the median off
            if low <= spacing <= high:
                return code
    raise DataValidationError(
        f"{label}: cannot infer the frequency of the dates in column {source!r}: the "
        f"median gap between consecutive dates is {median:g} days, which is not daily (1), "
        "weekly (7), monthly (~30.4), quarterly (~91) or yearly (~365). Fix: "
        f"{fix}, or aggregate the data to a regular frequency."
    )


def _clock(
    dates: np.ndarray, freq: str, label: str, source: Any, rownum: np.ndarray, inferred: bool
) -> np.ndarray:
    """Rule 9: ``t`` in periods of ``freq`` since the earliest date; raise if not whole."""
    origin = dates.min()
    stamps = pd.DatetimeIndex(dates)
    if freq in ("D", "W"):
        step = np.timedelta64(1 if freq == "D" else 7, "D").astype("timedelta64[ns]")
        delta = (dates - origin).astype("timedelta64[ns]")
        t = delta / step
        on_grid = (delta % step) == np.timedelta64(0, "ns")
        grid = (
            f"dates of {_FREQ_WORDS[freq]} data must be whole {_PERIOD_WORDS[freq]}s apart"
            f"{' (the same weekday)' if freq == 'W' else ''}"
        )
    else:
        months = np.asarray(stamps.year) * 12 + np.asarray(stamps.month) - 1
        per = {"M": 1, "Q": 3, "Y": 12}[freq]
        index = months // per
        t = (index - index.min()).astype(np.float64)
        on_grid = _same_point_in_period(stamps, months % per)
        grid = (
            f"every date of {_FREQ_WORDS[freq]} data must fall at the same point of its "
            f"{_PERIOD_WORDS[freq]} (the same day, or every month end)"
        )
    off = np.flatnonzero(~on_grid)
    if len(off):
        first = _fmt_timestamp(pd.Timestamp(origin))

        def describe(p: int) -> str:
            when = _fmt_timestamp(pd.Timestamp(dates[p]))
            if freq in ("D", "W"):
                return f"{when} is {t[p]:.3g} {_PERIOD_WORDS[freq]}s after {first}"
            return when

        rows = _rows_text(off, rownum, describe)
        guessed = (
            f" The {_FREQ_WORDS[freq]} frequency was inferred from the median gap between "
            "dates; if many periods are missing, pass the true frequency with freq=."
            if inferred
            else ""
        )
        raise DataValidationError(
            f"{label}: {len(off)} date{_s(len(off))} in column {source!r} "
            f"{'lies' if len(off) == 1 else 'lie'} off the "
            f"{_FREQ_WORDS[freq]} grid that starts at {first} ({_ROW_CONVENTION}): {rows} "
            f"(rule 9: {grid}, so that the period index t is a whole number; gaps are "
            "fine). Fix: align these dates to the grid (e.g. all products on the same "
            "weekday or month day), or pass the right freq= (CLI: --freq)." + guessed
        )
    return np.asarray(t, dtype=np.float64)


def _same_point_in_period(stamps: pd.DatetimeIndex, within: np.ndarray) -> np.ndarray:
    """True where a date sits where most dates sit: same month of the period, same day
    (a shorter month's last day counts for a late day such as the 31st), midnight."""
    midnight = np.asarray(stamps == stamps.normalize(), dtype=bool)
    values, counts = np.unique(within, return_counts=True)
    month_ok = within == values[np.argmax(counts)]
    day = np.asarray(stamps.day)
    month_end = np.asarray(stamps.is_month_end, dtype=bool)
    days, day_counts = np.unique(day, return_counts=True)
    if month_end.sum() >= day_counts.max():
        day_ok = month_end
    else:
        anchor = days[np.argmax(day_counts)]
        day_ok = (day == anchor) | (month_end & (day < anchor))
    return midnight & month_ok & day_ok
