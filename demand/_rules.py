"""The row and table rules of :func:`~pricegym.demand.data.load_history` and their
messages: cells are finite numbers, not empty and in range (rules 2-5), one row a
period (6), the price varies (8), stock is consistent (11), plus the formatting
every loading message shares (row numbers as CSV lines, cells as the source shows
them).

Private to :mod:`pricegym.demand.data` (the rule numbers are those of
``load_history``'s docstring).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand._csv import looks_decimal_comma
from pricegym.errors import DataValidationError

#: How many offending rows a message lists before it gives only the count.
_MAX_LISTED = 5
_ROW_CONVENTION = "row numbers count the header as row 1, like CSV line numbers"
#: Most labels a column may hold to be suggested as the product key of duplicates.
_MAX_KEY_LABELS = 50
#: Labels such a suggestion lists before "...".
_MAX_KEY_SHOWN = 10
#: Words in a column name that mark integers as a key (a store or product number).
_KEY_WORDS = ("product", "item", "sku", "article", "store", "shop", "market", "region", "id")


@dataclass(frozen=True)
class _Role:
    """One mapped column: its canonical name, its name in the source, and its kind."""

    name: str
    source: Any
    kind: str  # "date" | "period" | "price" | "units" | "cost" | "competitor" | ...


#: kind -> (what the column holds, keyword of load_history, CLI option)
_ROLE_TEXT: dict[str, tuple[str, str, str]] = {
    "date": ("the dates", "date", "--date"),
    "period": ("the integer period numbers", "period", "--period"),
    "price": ("the own price", "price", "--price"),
    "units": ("the units sold", "units", "--units"),
    "cost": ("the unit cost", "cost", "--cost"),
    "competitor": ("a competitor price", "competitors", "--competitor"),
    "promotion": ("a promotion flag", "promotions", "--promotion"),
    "instrument": ("an instrument", "instruments", "--instrument"),
    "product": ("the product key", "product", "--product"),
    "stock": ("the stock on hand", "stock", "--stock-col"),
    "stockout": ("the 0/1 stock-out flag", "stockout", "--stockout-col"),
}


@dataclass(frozen=True)
class _Violation:
    """Rows of one column that break one row-level rule (rules 2-5)."""

    rule: int  # rule number, for ordering
    what: str  # short name of the problem, used in counts
    text: str  # the rule itself
    role: _Role
    positions: np.ndarray  # positions in the source frame
    numbers: np.ndarray | None = None  # parsed values at ``positions`` (range rules)


# ------------------------------------------------------------- row-level rules
def _check_cells(
    series: pd.Series,
    role: _Role,
    values: dict[str, np.ndarray],
    parsed: np.ndarray | None = None,
) -> list[_Violation]:
    """Rules 2-5 for one column; numeric columns' float values go into ``values``.

    ``parsed``: the column's numbers as the CSV reader read them in the file's
    dialect (NaN where a cell is not such a number, e.g. ``10.49`` in a
    decimal-comma file); used instead of parsing the text again.
    """
    missing = _missing_mask(series)
    found: list[_Violation] = []
    if missing.any():
        found.append(
            _Violation(
                3,
                "empty cell",
                "mapped columns may not have empty or NaN cells",
                role,
                np.flatnonzero(missing),
            )
        )
    if role.kind in ("date", "product"):
        return found
    source = _to_float(series) if parsed is None else parsed
    numbers = np.array(source, dtype=np.float64)  # a writable copy
    bad = ~missing & ~np.isfinite(numbers)
    if bad.any():
        found.append(
            _Violation(
                2,
                "not a number",
                f"{_ROLE_TEXT[role.kind][0]} must be a finite number",
                role,
                np.flatnonzero(bad),
            )
        )
    numbers[missing | bad] = np.nan
    values[role.name] = numbers
    ok = np.isfinite(numbers)
    limits = {
        "price": (4, "price <= 0", "prices must be > 0", numbers <= 0),
        "competitor": (4, "competitor price <= 0", "competitor prices must be > 0", numbers <= 0),
        "cost": (4, "cost < 0", "unit costs must be >= 0", numbers < 0),
        "units": (5, "negative units", "units sold must be >= 0", numbers < 0),
        "stock": (11, "stock < 0", "stock on hand must be >= 0", numbers < 0),
        "stockout": (
            11,
            "stock-out flag not 0/1",
            "stock-out flags are 0 (in stock) or 1 (sold out)",
            (numbers != 0) & (numbers != 1),
        ),
    }
    if role.kind in limits:
        rule, what, text, broken = limits[role.kind]
        broken = ok & broken
        if broken.any():
            rows = np.flatnonzero(broken)
            found.append(_Violation(rule, what, text, role, rows, numbers[rows]))
    return found


def _missing_mask(series: pd.Series) -> np.ndarray:
    """True for NaN/None/NaT cells and for strings that are empty or only whitespace."""
    missing = series.isna().to_numpy(dtype=bool)
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        blank = series.map(lambda v: isinstance(v, str) and not v.strip())
        missing = missing | blank.to_numpy(dtype=bool)
    return missing


def _to_float(series: pd.Series) -> np.ndarray:
    """The column as float64; NaN where a cell is not a number (found, never fixed)."""
    if pd.api.types.is_bool_dtype(series) or (
        pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_complex_dtype(series)
    ):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return np.full(len(series), np.nan)  # dates, timedeltas, categories of text ...
    try:
        parsed = pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError):
        parsed = pd.Series([_one_float(v) for v in series], dtype=np.float64)
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def _one_float(value: Any) -> float:
    """One cell as a float, NaN if it is not a plain number or numeric string."""
    if isinstance(value, bool | int | float | np.number | str):
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return math.nan
    return math.nan


def _row_rule_message(
    raw: pd.DataFrame,
    label: str,
    rownum: np.ndarray,
    roles: list[_Role],
    violations: list[_Violation],
) -> str:
    """Rules 2-5's message: one line per (rule, column), then the fix."""
    n_bad = len(np.unique(np.concatenate([v.positions for v in violations])))
    lines = [
        f"{label}: {n_bad} row{_s(n_bad)} break{'' if n_bad != 1 else 's'} row-level "
        f"validation rules ({_ROW_CONVENTION}):"
    ]
    for v in violations:
        shown: dict[int, Any]
        if v.numbers is not None:  # a range rule: show the number that was read
            shown = dict(zip(v.positions.tolist(), v.numbers.tolist(), strict=True))
        else:  # show the cell as it is in the source
            shown = {int(p): raw[v.role.source].iloc[p] for p in v.positions[:_MAX_LISTED]}

        def describe(p: int, shown: dict[int, Any] = shown) -> str:
            return _fmt_value(shown[p])

        rows = _rows_text(v.positions, rownum, describe)
        lines.append(
            f"  - {v.what} in column {_column_text(v.role)}: {rows} (rule {v.rule}: {v.text})"
        )
    example = next(r for r in roles if r.kind == violations[0].role.kind)
    keyword = _ROLE_TEXT[example.kind][1]
    lines.append(
        "Fix: correct these cells in the source, map the right column (e.g. "
        f"{keyword}=...) if this one holds something else, or pass drop_invalid=True "
        "(CLI: --drop-invalid) to drop the offending rows."
    )
    commas = [
        raw[v.role.source].iloc[p]
        for v in violations
        if v.rule == 2
        for p in v.positions[:_MAX_LISTED]
        if looks_decimal_comma(raw[v.role.source].iloc[p])
    ]
    if commas:
        lines[-1] += (
            f" Cells such as {commas[0].strip()!r} are numbers written with a decimal comma: "
            "pass decimal=',' (CLI: --decimal ',') to read them as such."
        )
    return "\n".join(lines)


def _drop_note(
    raw: pd.DataFrame,
    rownum: np.ndarray,
    roles: list[_Role],
    violations: list[_Violation],
    keep: np.ndarray,
) -> str:
    """The note recorded when ``drop_invalid=True`` removed rows."""
    dropped = np.flatnonzero(~keep)
    counts: dict[str, int] = {}
    for v in violations:
        key = f"rule {v.rule} {v.what}"
        counts[key] = counts.get(key, 0) + len(v.positions)
    by_rule = ", ".join(f"{key}: {count}" for key, count in counts.items())

    def describe(position: int) -> str:
        return ", ".join(f"{r.source}={_fmt_value(raw[r.source].iloc[position])}" for r in roles)

    return (
        f"dropped {len(dropped)} of {len(raw)} rows that broke row-level rules "
        f"(drop_invalid=True); by rule: {by_rule}; dropped rows: "
        f"{_rows_text(dropped, rownum, describe)}."
    )


def _product_keys(series: pd.Series) -> np.ndarray:
    """Product keys as str; integer-valued numbers lose the ``.0`` a CSV reader adds."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = series.to_numpy(dtype=np.float64)
        if np.all(numbers == np.round(numbers)):
            return numbers.astype(np.int64).astype(str).astype(object)
    return series.astype(str).to_numpy(dtype=object)


def _check_duplicates(
    frame: pd.DataFrame,
    label: str,
    time_role: _Role,
    product_role: _Role | None,
    codes: np.ndarray,
    order_key: np.ndarray,
    rownum: np.ndarray,
    raw: pd.DataFrame,
    roles: Sequence[_Role],
) -> None:
    """Rule 6: one row per period within each product (across products is fine).

    Without a product column, an unmapped column of a few labels that tells every
    duplicate apart (see :func:`_key_columns`) is named in the fix.
    """
    keys = pd.DataFrame({"product": codes, "time": order_key})
    duplicated = keys.duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return
    where_duplicated = np.flatnonzero(duplicated)
    groups = keys[duplicated].groupby(["product", "time"], sort=False).indices
    shown = []
    for within in list(groups.values())[:_MAX_LISTED]:
        positions = where_duplicated[within]
        first = positions[0]
        where = f"{time_role.kind} {_fmt_value(frame[time_role.kind].iloc[first])}"
        if product_role is not None:
            where += f" of product {frame['product'].iloc[first]!r}"
        rows = ", ".join(str(rownum[p]) for p in positions)
        shown.append(f"{where} in rows {rows}")
    more = f", ... ({len(groups)} repeated periods in total)" if len(groups) > _MAX_LISTED else ""
    n_rows = int(np.count_nonzero(duplicated))
    keys = _key_columns(raw, roles, order_key) if product_role is None else []
    if keys:
        column, labels = keys[0]
        shown_labels = ", ".join(labels[:_MAX_KEY_SHOWN]) + (
            ", ..." if len(labels) > _MAX_KEY_SHOWN else ""
        )
        also = f" (so would {', '.join(repr(str(c)) for c, _ in keys[1:])})" if keys[1:] else ""
        fix = (
            f"column {str(column)!r} holds {len(labels)} products ({shown_labels}): pass "
            f"--product {column} to fit each, or filter to one (--product {column} "
            f"--select-product {labels[0]}); in Python load_history(..., "
            f"product={str(column)!r}), then history.for_product({labels[0]!r}). Every "
            f"duplicate is told apart by that column{also}."
        )
    elif product_role is None:
        fix = (
            "aggregate to one row per period (e.g. sum the units and average the price), "
            "or, if the rows belong to different products or markets, map their key with "
            "product=... (CLI: --product)."
        )
    else:
        fix = "aggregate to one row per period and product (e.g. sum units, average price)."
    raise DataValidationError(
        f"{label}: duplicate periods: {n_rows} rows share a {time_role.kind} (column "
        f"{time_role.source!r}) with another row"
        f"{' of the same product' if product_role is not None else ''} ({_ROW_CONVENTION}): "
        f"{'; '.join(shown)}{more} (rule 6: one row per period within a product; "
        f"duplicates are never dropped). Fix: {fix}"
    )


def _key_columns(
    raw: pd.DataFrame, roles: Sequence[_Role], order_key: np.ndarray
) -> list[tuple[Any, list[str]]]:
    """Unmapped columns that look like a product key and explain every duplicate period.

    A candidate holds text (or integers, when its name says key, e.g. ``store_id``),
    has no empty cell, takes 2 to :data:`_MAX_KEY_LABELS` labels with at least two
    rows per label on average, and with the period makes every row unique. Returns
    (column, labels in order of first appearance), fewest labels first.
    """
    mapped = {r.source for r in roles}
    found: list[tuple[Any, list[str]]] = []
    for column in raw.columns:
        if column in mapped:
            continue
        series = raw[column]
        textual = pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
        integral = pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series)
        named = any(word in str(column).lower() for word in _KEY_WORDS)
        if not (textual or (integral and named)) or _missing_mask(series).any():
            continue
        labels = _product_keys(series)
        distinct = [str(v) for v in pd.unique(labels)]
        if not 2 <= len(distinct) <= min(_MAX_KEY_LABELS, len(series) // 2):
            continue
        if pd.DataFrame({"key": labels, "time": order_key}).duplicated().any():
            continue
        found.append((column, distinct))
    return sorted(found, key=lambda item: len(item[1]))


def _check_stock(
    label: str, roles: Sequence[_Role], units: np.ndarray, stock: np.ndarray, rownum: np.ndarray
) -> None:
    """Rule 11: no period sells more units than its stock on hand."""
    over = np.flatnonzero(units > stock)
    if not len(over):
        return
    unit_col = next(r for r in roles if r.kind == "units")
    stock_col = next(r for r in roles if r.kind == "stock")
    rows = _rows_text(
        over, rownum, lambda p: f"{_fmt_value(units[p])} sold, stock {_fmt_value(stock[p])}"
    )
    raise DataValidationError(
        f"{label}: {len(over)} row{_s(len(over))} sell{'s' if len(over) == 1 else ''} more "
        f"units (column {_column_text(unit_col)}) than the stock on hand (column "
        f"{_column_text(stock_col)}) "
        f"({_ROW_CONVENTION}): {rows} (rule 11: units sold <= stock; a period that sold "
        "its whole stock is censored). Fix: correct these cells, map the column that holds "
        "the stock available for sale in the period (opening stock plus deliveries) with "
        "stock=... (CLI: --stock-col), or give only a 0/1 sold-out flag with stockout=... "
        "(CLI: --stockout-col)."
    )


def _check_price_varies(label: str, source: Any, prices: np.ndarray) -> None:
    """Rule 8: the own price takes at least two values."""
    if len(prices) and np.unique(prices).size > 1:
        return
    seen = (
        f"all {len(prices)} rows have price {_fmt_value(prices[0])}"
        if len(prices)
        else ("there are no rows")
    )
    raise DataValidationError(
        f"{label}: the price never varies: {seen} (column {source!r}). Rule 8: the own "
        "price must take at least two different values, otherwise no price effect can "
        "be identified. Fix: use a history that spans price changes (a longer period or "
        "more products), or check that price=... maps the own-price column."
    )


# --------------------------------------------------------------- formatting
def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _column_text(role: _Role) -> str:
    """``'price'``, or ``'price' (source column 'avgprc')`` when the names differ."""
    if role.name == role.source:
        return repr(role.name)
    return f"{role.name!r} (source column {role.source!r})"


def _rows_text(positions: np.ndarray, rownum: np.ndarray, describe: Callable[[int], str]) -> str:
    """``row 4 (value), row 9 (value), ... [12 rows in total]`` for the first 5 rows."""
    shown = ", ".join(f"row {rownum[p]} ({describe(int(p))})" for p in positions[:_MAX_LISTED])
    n = len(positions)
    more = f", ... and {n - _MAX_LISTED} more" if n > _MAX_LISTED else ""
    return f"{shown}{more} [{n} row{_s(n)} in total]"


def _fmt_timestamp(value: Any) -> str:
    """A timestamp as ``YYYY-MM-DD`` at midnight, full ISO otherwise."""
    stamp = pd.Timestamp(value)
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def _fmt_value(value: Any) -> str:
    """A cell for a message: strings quoted, whole floats without ``.0``, NaN as 'empty'."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "empty"
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return _fmt_timestamp(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "empty"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)
