"""Trading calendars: which days a daily market trades, and the trading-period clock.

A :class:`TradingCalendar` holds a weekday mask (the weekdays the market trades,
0 = Monday ... 6 = Sunday), a list of closed dates (holidays) and an origin (the
first trading date of the history). It maps trading dates to a trading-period
index ``t`` = 0, 1, 2, ... that counts trading days only, and back. A demand model
fitted on daily data uses this ``t`` as its clock, so the period after the last
Friday of a Monday–Friday history is the next Monday, a market steps through
trading days only, and Fourier seasonality of period ``len(weekdays)`` is "day of
the trading week".

The clock is numpy's business-day arithmetic (:func:`numpy.busday_count`,
:func:`numpy.busday_offset`) with the calendar's weekmask and holidays.

Saved form (the ``fitted.calendar`` block of a model JSON, read by exported
policy cards)::

    {"weekdays": [0, 1, 2, 3, 4],          # trading weekdays, 0 = Monday
     "closed": ["2024-01-15", ...],        # closed dates (ISO), on trading weekdays
     "origin": "2024-01-01",               # trading date with t = 0
     "season_period": 5,                   # trading days per week = len(weekdays)
     "source": "inferred: no Saturday or Sunday in 21 weeks of daily data"}

``date(t) = busday_offset(origin, t, weekmask, holidays=closed)`` and
``t(date) = busday_count(origin, date, weekmask, holidays=closed)``. A model file
without the block (saved before calendars existed) keeps the old meaning: for daily
data ``t`` counts calendar days since the first date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.errors import DataValidationError

__all__ = [
    "CALENDAR_CHOICES",
    "MIN_INFER_WEEKS",
    "WEEKDAY_NAMES",
    "TradingCalendar",
    "infer_calendar",
    "parse_closed_dates",
    "parse_weekdays",
]

#: Weekday abbreviations, index = numpy/pandas weekday number (0 = Monday).
WEEKDAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Values of the ``calendar`` option of :func:`~pricegym.demand.data.load_history`.
CALENDAR_CHOICES: tuple[str, ...] = ("auto", "daily", "business")
#: Weeks of daily data without a weekday that make ``calendar="auto"`` drop it.
MIN_INFER_WEEKS = 8


@dataclass(frozen=True)
class TradingCalendar:
    """The trading days of a daily market and the trading-period clock over them.

    Attributes:
        weekdays: trading weekdays, sorted, 0 = Monday ... 6 = Sunday (at least one).
        closed: closed dates (ISO ``YYYY-MM-DD``, sorted) that fall on trading weekdays.
        origin: the trading date whose period index is 0 (ISO).
        source: how the calendar was chosen, for the user (e.g. ``"inferred: ..."``).
    """

    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    closed: tuple[str, ...] = ()
    origin: str = "1970-01-01"
    source: str = "given"

    # ------------------------------------------------------------ properties
    @property
    def weekmask(self) -> list[bool]:
        """numpy's weekmask: seven booleans, Monday first."""
        return [d in self.weekdays for d in range(7)]

    @property
    def is_daily(self) -> bool:
        """True when every day trades (every weekday, no closed dates)."""
        return len(self.weekdays) == 7 and not self.closed

    @property
    def season_period(self) -> float:
        """Trading days per week: the default seasonal period of daily data."""
        return float(len(self.weekdays))

    def describe(self) -> str:
        """The weekdays in words, e.g. ``"Mon–Fri"``, ``"every day"``, ``"Mon–Sat"``."""
        days = list(self.weekdays)
        if len(days) == 7:
            text = "every day"
        elif days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            text = f"{WEEKDAY_NAMES[days[0]]}–{WEEKDAY_NAMES[days[-1]]}"
        else:
            text = ", ".join(WEEKDAY_NAMES[d] for d in days)
        if self.closed:
            text += f", {len(self.closed)} closed date{'s' if len(self.closed) != 1 else ''}"
        return text

    # ------------------------------------------------------------ the clock
    def _holidays(self) -> np.ndarray:
        return np.array(self.closed, dtype="datetime64[D]")

    def trading(self, dates: Any) -> np.ndarray:
        """Whether each date is a trading day (a trading weekday and not closed)."""
        days = np.asarray(pd.DatetimeIndex(np.atleast_1d(dates)).values, dtype="datetime64[D]")
        return np.is_busday(days, weekmask=self.weekmask, holidays=self._holidays())

    def index(self, dates: Any) -> np.ndarray:
        """Trading-period index of each trading date (float64; 0 at :attr:`origin`).

        Dates before the origin get negative indices. A non-trading date gets the
        index of the next trading day; check :meth:`trading` first to refuse them.
        """
        days = np.asarray(pd.DatetimeIndex(np.atleast_1d(dates)).values, dtype="datetime64[D]")
        origin = np.datetime64(self.origin, "D")
        return np.busday_count(
            origin, days, weekmask=self.weekmask, holidays=self._holidays()
        ).astype(np.float64)

    def date(self, t: Any) -> np.ndarray:
        """The trading date (``datetime64[D]``) of each trading-period index ``t``."""
        steps = np.asarray(np.atleast_1d(t), dtype=np.float64)
        if not np.all(np.isfinite(steps)) or np.any(steps != np.round(steps)):
            raise DataValidationError(
                f"trading-period indices must be whole numbers, got {steps[:5].tolist()}; "
                "pass integer periods t (0 = the calendar's origin)."
            )
        return np.busday_offset(
            np.datetime64(self.origin, "D"),
            steps.astype(np.int64),
            roll="forward",
            weekmask=self.weekmask,
            holidays=self._holidays(),
        )

    # ------------------------------------------------------------ io
    def to_dict(self) -> dict[str, Any]:
        """The saved form (see the module docstring)."""
        return {
            "weekdays": list(self.weekdays),
            "closed": list(self.closed),
            "origin": self.origin,
            "season_period": len(self.weekdays),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TradingCalendar:
        """Inverse of :meth:`to_dict`."""
        return cls(
            weekdays=tuple(int(x) for x in d["weekdays"]),
            closed=tuple(str(x) for x in d.get("closed", ())),
            origin=str(d["origin"]),
            source=str(d.get("source", "given")),
        )


def parse_weekdays(spec: str | Sequence[int | str]) -> tuple[int, ...]:
    """Trading weekdays from ``"Mon-Fri"``, ``"Mon,Wed,Fri"``, ``"Mon-Sat"`` or numbers.

    Ranges wrap (``"Sat-Mon"`` = Sat, Sun, Mon); names are case-insensitive, three
    letters or more (``"monday"``); numbers are 0 = Monday ... 6 = Sunday.

    Raises:
        DataValidationError: an unknown weekday or an empty mask, naming the value,
            the rule and the fix.
    """
    parts: list[str | int]
    if isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",") if p.strip()]
    else:
        parts = list(spec)
    days: set[int] = set()
    for part in parts:
        if isinstance(part, str) and re.fullmatch(r"[A-Za-z]+\s*-\s*[A-Za-z]+", part):
            first, last = (_weekday(p.strip(), spec) for p in part.split("-"))
            n = (last - first) % 7 + 1
            days.update((first + i) % 7 for i in range(n))
        else:
            days.add(_weekday(part, spec))
    if not days:
        raise DataValidationError(
            f"trading days {spec!r} name no weekday (rule: at least one trading weekday). "
            "Fix: e.g. --trading-days Mon-Fri."
        )
    return tuple(sorted(days))


def _weekday(part: str | int, spec: Any) -> int:
    fix = (
        "Fix: use weekday names Mon Tue Wed Thu Fri Sat Sun (ranges like Mon-Fri, lists "
        "like Mon,Wed,Fri) or numbers 0 (Monday) to 6 (Sunday)."
    )
    if isinstance(part, int | np.integer) and not isinstance(part, bool):
        if 0 <= int(part) <= 6:
            return int(part)
    elif isinstance(part, str):
        text = part.strip().lower()
        if text.isdigit() and 0 <= int(text) <= 6:
            return int(text)
        for i, name in enumerate(WEEKDAY_NAMES):
            full = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)  # a Monday
            if len(text) >= 3 and full.day_name().lower().startswith(text):
                return i
            if text == name.lower():
                return i
    raise DataValidationError(
        f"trading days {spec!r}: {part!r} is not a weekday (rule: weekdays are Mon..Sun "
        f"or 0..6). {fix}"
    )


def parse_closed_dates(spec: str | Sequence[Any] | None) -> tuple[str, ...]:
    """Closed dates from a comma-separated list, a file (one date a line, or a CSV
    whose first column holds the dates; ``#`` comments), or a sequence of dates.

    Returns sorted, unique ISO dates.

    Raises:
        DataValidationError: a date that does not parse, naming it and the fix.
    """
    if spec is None:
        return ()
    items: list[Any]
    if isinstance(spec, str):
        path = Path(spec)
        if path.is_file():
            items = []
            for line in path.read_text(encoding="utf-8").splitlines():
                cell = line.split("#", 1)[0].split(",", 1)[0].strip()
                if cell and not cell.lower().startswith("date"):
                    items.append(cell)
        else:
            items = [p.strip() for p in spec.split(",") if p.strip()]
    else:
        items = list(spec)
    out: set[str] = set()
    for item in items:
        try:
            stamp = pd.Timestamp(item)
        except (ValueError, TypeError):
            stamp = pd.NaT
        if stamp is pd.NaT or pd.isna(stamp):
            raise DataValidationError(
                f"closed dates: {item!r} is not a date (rule: closed dates are calendar "
                "dates, YYYY-MM-DD). Fix: write it as YYYY-MM-DD, in a comma-separated "
                "list or a file with one date a line."
            )
        out.add(stamp.date().isoformat())
    return tuple(sorted(out))


def infer_calendar(dates: np.ndarray) -> TradingCalendar:
    """The calendar of daily ``dates``: weekdays absent over >= MIN_INFER_WEEKS weeks
    do not trade; otherwise every day trades. :attr:`TradingCalendar.source` says why.
    """
    days = np.asarray(pd.DatetimeIndex(dates).normalize().values, dtype="datetime64[D]")
    origin = str(days.min())
    weeks = float((days.max() - days.min()) / np.timedelta64(7, "D"))
    seen = sorted({int(d) for d in pd.DatetimeIndex(days).day_of_week})
    missing = [d for d in range(7) if d not in seen]
    if not missing:
        return TradingCalendar(origin=origin, source="inferred: every weekday has sales")
    names = [_full_name(d) for d in missing]
    absent = " or ".join(names) if len(names) <= 2 else ", ".join(names)
    if weeks >= MIN_INFER_WEEKS:
        return TradingCalendar(
            weekdays=tuple(seen),
            origin=origin,
            source=f"inferred: no {absent} in {weeks:.0f} weeks of daily data",
        )
    return TradingCalendar(
        origin=origin,
        source=(
            f"every day: no {absent} in the data, but {weeks:.0f} weeks are fewer than "
            f"the {MIN_INFER_WEEKS} weeks needed to infer a trading calendar"
        ),
    )


def _full_name(day: int) -> str:
    return (pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)).day_name()
