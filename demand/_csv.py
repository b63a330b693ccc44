"""Reading sales CSV files as people export them: the field separator and decimal mark.

A spreadsheet set to a language that writes ``9,99`` for nine-ninety-nine exports
CSV files separated by ``;`` (``date;price;units`` / ``2024-01-01;9,99;12``).
:func:`read_csv` detects such a file and reads its numbers correctly, or refuses
with a message that names the dialect and the options to pass; it never guesses a
number silently.

Separator
    Unless given, the separator is the first of ``,`` ``;`` tab ``|`` that splits
    the header into at least two columns and every record of the first lines into
    as many fields (``,`` is preferred whenever it does); if none does, the one
    that splits the most records like the header, ``,`` if no candidate splits the
    header at all.

Decimal mark
    A ``,``-separated file uses decimal points, as always. For another separator
    the decimal mark is read from the cells, unless given:

    * a cell such as ``9,99``, ``0,5``, ``0,125`` or ``1.234,5`` is written with a
      decimal comma; a cell such as ``9.99`` or ``1,234.5`` with a decimal point;
    * ``1,234`` or ``1.234`` (one to three digits, one separator, three digits) is
      ambiguous: a decimal mark or a thousands separator;
    * cells of both kinds: refused (the message shows one of each); only ambiguous
      cells: refused (the message shows one, read both ways); otherwise the mark
      the cells show, and decimal points when no cell has either mark.

    A column becomes numeric when every non-empty cell is a number written with
    the file's mark (the other mark may group thousands: with decimal commas
    ``1.234,5`` is 1234.5, and the note says so). A column in which most cells are
    such numbers keeps its other cells (``n/a``, ``10.49`` in a decimal-comma file)
    as text, and a mapped column reports exactly those as not numbers. Dates, keys
    and labels stay text (``01.02.2024`` is never a number).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.errors import DataValidationError

__all__ = ["DECIMAL_MARKS", "SEPARATORS", "looks_decimal_comma", "read_csv"]

#: Field separators tried, in order of preference.
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
#: Decimal marks a file may use.
DECIMAL_MARKS: tuple[str, ...] = (".", ",")
#: How much of the file the separator is detected from.
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 50
#: Ways to write a tab on a command line.
_TAB_WORDS = {"\\t": "\t", "tab": "\t", "TAB": "\t"}

_SIGN = r"[+-]?"
#: A decimal comma: 9,99  0,5  ,5  0,125  12,3456  1.234,5  (not 1,234: ambiguous)
_COMMA = re.compile(
    _SIGN + r"(?:\d{1,3}(?:\.\d{3})+,\d+|(?:0|\d{4,})?,\d+|\d{1,3},(?:\d{1,2}|\d{4,}))"
)
#: '.' grouping thousands, so the decimal mark is ',': 1.234.567
_DOT_GROUPS = re.compile(_SIGN + r"[1-9]\d{0,2}(?:\.\d{3}){2,}")
#: A decimal point: 9.99  0.5  .5  0.125  12.3456  1,234.5  (not 1.234: ambiguous)
_POINT = re.compile(
    _SIGN + r"(?:\d{1,3}(?:,\d{3})+\.\d+|(?:0|\d{4,})?\.\d+|\d{1,3}\.(?:\d{1,2}|\d{4,}))"
)
#: ',' grouping thousands, so the decimal mark is '.': 1,234,567
_COMMA_GROUPS = re.compile(_SIGN + r"[1-9]\d{0,2}(?:,\d{3}){2,}")
#: One to three digits, one mark, three digits: a decimal or a thousands separator.
_AMBIGUOUS = re.compile(_SIGN + r"[1-9]\d{0,2}[.,]\d{3}")
#: A number as written with decimal commas (and optional '.' thousands groups).
_COMMA_NUMBER = re.compile(_SIGN + r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?|" + _SIGN + r",\d+")
#: A number as written with decimal points (and optional ',' thousands groups).
_POINT_NUMBER = re.compile(_SIGN + r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|" + _SIGN + r"\.\d+")
_BOOLEANS = {"true": True, "false": False}


def looks_decimal_comma(cell: Any) -> bool:
    """Whether a cell is a number written with a decimal comma (``9,99``, ``1.234,5``)."""
    if not isinstance(cell, str):
        return False
    cell = cell.strip()
    return bool(_COMMA.fullmatch(cell) or _DOT_GROUPS.fullmatch(cell))


def separator_name(sep: str) -> str:
    """``comma``, ``';'``, ``tab`` ... for messages (as in "comma-separated")."""
    return {",": "comma", "\t": "tab"}.get(sep, repr(sep))


def check_sep(sep: str, label: str) -> str:
    """A user-given separator (``\\t`` and ``tab`` mean a tab); raise if it is not one character."""
    sep = _TAB_WORDS.get(sep, sep)
    if not isinstance(sep, str) or len(sep) != 1 or sep in '"\r\n' or sep.isalnum():
        raise DataValidationError(
            f"{label}: sep={sep!r} is not a field separator; a separator is one character "
            "that is not a letter, digit or quote. Fix: pass one such as , ; | or tab, e.g. "
            "sep=';' (CLI: --sep ';'), or omit it to detect it."
        )
    return sep


def check_decimal(decimal: str, label: str) -> str:
    """A user-given decimal mark; raise unless it is ``.`` or ``,``."""
    if decimal not in DECIMAL_MARKS:
        raise DataValidationError(
            f"{label}: decimal={decimal!r} is not a decimal mark; use '.' (9.99) or ',' "
            "(9,99), e.g. decimal=',' (CLI: --decimal ','), or omit it to detect it."
        )
    return decimal


def read_csv(
    path: Path, label: str, sep: str | None = None, decimal: str | None = None
) -> tuple[pd.DataFrame, np.ndarray, list[str], dict[Any, np.ndarray]]:
    """The raw table of a CSV file, each row's line number (header = 1), notes, ``parsed``.

    ``sep`` and ``decimal`` are detected when ``None`` (see the module docstring);
    a note says how a file that is not plain ``,``/``.`` was read. ``parsed`` holds,
    for a text column in which most cells are numbers in the file's dialect, those
    numbers (NaN for the other cells): a mapped numeric column reads its values
    there, so the other cells are reported as not numbers.

    Raises:
        DataValidationError: the file cannot be parsed, the options are not a
            separator / decimal mark, or its decimal mark is mixed or ambiguous.
    """
    detected_sep = sep is None
    sep = _sniff_separator(path) if sep is None else check_sep(sep, label)
    decimal = None if decimal is None else check_decimal(decimal, label)
    try:
        if sep == "," and decimal in (None, "."):
            # only empty cells are missing: 'NA', 'n/a', 'null' ... stay text and are
            # reported as they are written, never turned into NaN behind the user's back
            raw = pd.read_csv(path, keep_default_na=False, na_values=[""])
            return raw, line_numbers(path, len(raw), sep), [], {}
        text = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"{label}: cannot be read as a {separator_name(sep)}-separated file with a header "
            f"row ({exc}). Fix: save it as UTF-8 CSV with one header line"
            + (", or pass the separator with sep= (CLI: --sep)." if detected_sep else ".")
        ) from exc
    rownum = line_numbers(path, len(text), sep)
    detected_decimal = decimal is None
    if decimal is None:
        decimal = _detect_decimal(text, label, sep, rownum)
    raw, grouped, parsed = _convert(text, decimal)
    how = f"read as {separator_name(sep)}-separated"
    if decimal == ",":
        how += " with decimal commas"
    elif sep != ",":
        how += " with decimal points"
    if grouped:
        mark = "." if decimal == "," else ","
        cell, value = grouped
        how += f"; {mark!r} was read as a thousands separator (e.g. {cell!r} as {value:g})"
    detected = [
        name
        for name, found in (("sep", detected_sep), ("decimal", detected_decimal))
        if found and not (name == "decimal" and sep == ",")
    ]
    if detected:
        how += (
            f" ({' and '.join(detected)} detected from the file; to read it otherwise, pass "
            f"{', '.join(d + '=' for d in detected)} (CLI: "
            f"{', '.join('--' + d for d in detected)}))"
        )
    return raw, rownum, [how + "."], parsed


def line_numbers(path: Path, n_rows: int, sep: str = ",") -> np.ndarray:
    """The line on which each data row of a CSV file starts (header = line 1).

    Blank lines are skipped as :func:`pandas.read_csv` skips them, and quoted
    fields may span lines. Falls back to ``position + 2`` if the two readers
    disagree on the number of rows.
    """
    fallback = np.arange(n_rows, dtype=np.int64) + 2
    starts: list[int] = []
    header_seen = False
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=sep)
            previous_end = 0
            for record in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if header_seen:
                    starts.append(start)
                header_seen = True
    except (csv.Error, OSError):
        return fallback
    return np.asarray(starts, dtype=np.int64) if len(starts) == n_rows else fallback


# ------------------------------------------------------------------ detection
def _sniff_separator(path: Path) -> str:
    """The separator of the module docstring, from the file's first records."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            sample = handle.read(_SNIFF_CHARS)
    except OSError:
        return ","
    if len(sample) == _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole records only
    best: tuple[float, int] = (-1.0, 0)
    choice = ","
    for sep in SEPARATORS:
        try:
            records = [
                r
                for r in csv.reader(sample.splitlines(), delimiter=sep)
                if r and not (len(r) == 1 and not r[0].strip())
            ][:_SNIFF_RECORDS]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        alike = sum(len(r) == width for r in records) / len(records)
        if alike == 1.0:
            return sep
        if (alike, width) > best:
            best, choice = (alike, width), sep
    return choice


def _detect_decimal(text: pd.DataFrame, label: str, sep: str, rownum: np.ndarray) -> str:
    """The decimal mark of the module docstring; raise if the cells mix or leave it open."""
    if sep == ",":
        return "."
    first: dict[str, tuple[str, Any, int] | None] = {"comma": None, "point": None, "open": None}
    for column in text.columns:
        cells = text[column].dropna()
        cells = cells[cells.map(lambda v: isinstance(v, str))].str.strip()
        unsure = cells.str.fullmatch(_AMBIGUOUS.pattern)
        kinds = {
            "open": unsure,
            "comma": ~unsure
            & (cells.str.fullmatch(_COMMA.pattern) | cells.str.fullmatch(_DOT_GROUPS.pattern)),
            "point": ~unsure
            & (cells.str.fullmatch(_POINT.pattern) | cells.str.fullmatch(_COMMA_GROUPS.pattern)),
        }
        for kind, mask in kinds.items():
            if first[kind] is None and mask.any():
                at = cells.index[mask.to_numpy().argmax()]
                first[kind] = (cells.loc[at], column, int(rownum[at]))
    looks = f"the file looks {separator_name(sep)}-separated"
    options = f"--sep {sep!r}" if sep != "\t" else "--sep tab"
    comma, point, unsure = first["comma"], first["point"], first["open"]
    if comma and point:
        raise DataValidationError(
            f"{label}: {looks}, but its numbers mix decimal commas ({_where(comma)}) and "
            f"decimal points ({_where(point)}), so neither reading is safe. Fix: write "
            f"every number with one decimal mark, or choose one with decimal=',' or "
            f"decimal='.' (CLI: {options} --decimal ',' or {options} --decimal '.'); "
            "cells written the other way are then reported as not numbers."
        )
    if comma:
        return ","
    if point:
        return "."
    if unsure:
        cell = unsure[0]
        digits = cell.replace(",", "").replace(".", "")
        as_decimal = cell.replace(",", ".")
        raise DataValidationError(
            f"{label}: {looks}, and its numbers can be read two ways: {_where(unsure)} is "
            f"{float(as_decimal):g} if {cell[-4]!r} is a decimal mark, or {int(digits)} if it "
            "separates thousands, and no cell settles which. Fix: pass decimal=',' for "
            f"decimal commas or decimal='.' for decimal points (CLI: {options} --decimal ',' "
            f"or {options} --decimal '.')."
        )
    return "."


def _where(found: tuple[str, Any, int]) -> str:
    cell, column, row = found
    return f"{cell!r} in column {str(column)!r}, row {row}"


# ------------------------------------------------------------------ conversion
def _convert(
    text: pd.DataFrame, decimal: str
) -> tuple[pd.DataFrame, tuple[str, float] | None, dict[Any, np.ndarray]]:
    """Numbers and booleans of an all-text table, the first grouped number, and ``parsed``.

    A column whose non-empty cells are all numbers in the file's dialect becomes
    numeric (all true/false: boolean). A column in which most cells are such numbers
    stays text, and its numbers go into ``parsed`` (float64, NaN for the other
    cells), so that a mapped column reports those cells as not numbers instead of
    reading ``10.49`` in a decimal-comma file with the other mark. Any other
    column stays text.
    """
    columns: dict[Any, pd.Series] = {}
    grouped: tuple[str, float] | None = None
    parsed: dict[Any, np.ndarray] = {}
    pattern, group = (_COMMA_NUMBER, ".") if decimal == "," else (_POINT_NUMBER, ",")
    for column in text.columns:
        cells = text[column]
        columns[column] = cells
        present = cells.dropna().astype(str).str.strip()
        if present.empty:
            continue
        if present.str.lower().isin(list(_BOOLEANS)).all():
            columns[column] = cells.map(
                lambda v: _BOOLEANS[v.strip().lower()] if isinstance(v, str) else v
            )
            continue
        fits = present.str.fullmatch(pattern.pattern)
        if 2 * int(fits.sum()) <= len(present):
            continue  # text: dates, keys, labels
        plain = present[fits].str.replace(group, "", regex=False)
        if decimal == ",":
            plain = plain.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(plain)
        if grouped is None:
            has_group = present[fits].str.contains(group, regex=False)
            if has_group.any():
                at = has_group.to_numpy().argmax()
                grouped = (present[fits].iloc[at], float(numbers.iloc[at]))
        if fits.all():
            columns[column] = numbers.reindex(cells.index)
        else:
            parsed[column] = numbers.reindex(cells.index).to_numpy(dtype=np.float64)
    return pd.DataFrame(columns, index=text.index), grouped, parsed
