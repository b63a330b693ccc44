"""A seller's own inputs → the market observation an exported policy was trained on.

A deployed policy is fed what a seller knows on the morning of a trading day —
the date, the stock on hand, yesterday's price and units sold, the competitors'
prices — not the market's normalised observation. :func:`build_observation`
turns the one into the other with the constants that ``pricegym export`` stores
in the policy card's ``inputs`` block (:func:`inputs_block`), using exactly the
formulas of :class:`pricegym.envs.market.PricingEnv`'s observation (the same
floating-point operations, then float32, as the market does):

| feature                  | from the seller's inputs                              |
|--------------------------|-------------------------------------------------------|
| time_remaining           | n / T: n = trading periods left (the season clock)    |
| inventory_fraction       | stock / inventory_denominator (1 if stock unlimited)  |
| own_last_price           | last_price · (1 / p_max)                              |
| competitor_price:NAME    | min(price_NAME · (1 / p_max), 10)                     |
| last_sales               | min(last_units / sales_scale, 10)                     |
| season_sin / season_cos  | sin / cos(2π t / season_period), t = the date's period |

**The date's period** ``t`` is the model's clock: the number of trading days from
the calendar's origin (the history's first date) to the date,
``numpy.busday_count(origin, date, weekmask, holidays=closed)``, the inverse of
``date(t) = numpy.busday_offset(origin, t, weekmask, holidays=closed)`` that the
market uses. A date on which the market does not trade (a weekday off the mask or
a closed date) is refused, naming the next trading day. A market whose model has
no calendar (not fitted to daily dates) takes the period number ``t`` itself.

**The season clock** (:data:`SEASON_CLOCK`) — what "time remaining" means for a
real day:

- *season end* (``pricegym export --season-end E`` stores E in the card;
  ``pricegym price --season-end E`` overrides it): n = the trading days from the
  date to E, both included, on the card's calendar, so the season's last trading
  day has n = 1 (time remaining 1/T, as the market's last period). A date after
  E (n = 0: the season is over) and a season longer than the policy's horizon
  (n > T: time remaining above 1, never seen in training) are refused.
- *rolling horizon* (no season end given): n = T every day — the policy always
  prices as on the first day of a season of T trading days with today's stock.
  A seller without a hard season end must not be told the season is ending: a
  finite-horizon policy near its end clears stock (the DP optimum's end-of-season
  markdown), which a continuing business would regret the next morning. Stock
  still enters through ``inventory_fraction``, so the policy sells today's stock
  as if it had to last T trading days: pick T (the market's ``horizon``) near the
  restocking interval.

The DP optimum's table is indexed by the season's period k = T − n and the
stock; its prices for period k were solved with the seasonality of the trained
season's period ``start_t + k``. Neural policies read the date's own season
features.

This module imports only the standard library and numpy (``pricegym price`` runs
with numpy and onnxruntime only).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from pricegym._validate import to_float
from pricegym.errors import DataValidationError

__all__ = [
    "INPUTS_VERSION",
    "INPUT_KEYS",
    "SEASON_CLOCK",
    "InputError",
    "build_observation",
    "inputs_block",
    "parse_competitors",
    "read_inputs_file",
    "trading_period",
]

#: Version of the card's ``inputs`` block.
INPUTS_VERSION = 1
#: Keys of one seller-input record (a JSON line of ``pricegym price --inputs``).
INPUT_KEYS = ("date", "period", "stock", "last_price", "last_units", "competitors", "season_end")
#: The season clock's definition, written into every card's ``inputs`` block.
SEASON_CLOCK = {
    "season_end": (
        "time_remaining = n / horizon, n = trading days from the date to season_end, both "
        "included, on the card's calendar (the season's last trading day has n = 1); a date "
        "after season_end or n > horizon is refused"
    ),
    "rolling": (
        "no season_end: time_remaining = 1 every day (n = horizon): the policy prices each "
        "day as the first of a season of `horizon` trading days with today's stock, so it "
        "never makes an end-of-season clearance that a continuing business would regret"
    ),
    "period": (
        "t = numpy.busday_count(calendar.origin, date, weekmask, holidays=calendar.closed), "
        "the model's trading-period index of the date (its season features use t)"
    ),
}
_FORMULAS = {
    "time_remaining": "n / horizon (n: trading periods left, see season_clock)",
    "inventory_fraction": "stock / inventory_denominator (1 when inventory is null)",
    "own_last_price": "last_price * (1 / p_max)",
    "competitor_price:NAME": "min(price_NAME * (1 / p_max), price_cap)",
    "last_sales": "min(last_units / sales_scale, sales_cap)",
    "season_sin": "sin(2*pi*t / season_period)",
    "season_cos": "cos(2*pi*t / season_period)",
}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_REEXPORT = (
    "re-export it with this version of pricegym (`pricegym export RUN_DIR --agent NAME "
    "--out DIR`), which stores the input constants in the card"
)


class InputError(DataValidationError):
    """A seller input breaks the card: a closed date, negative stock, a missing competitor..."""


# ==================================================================== the card block
def inputs_block(env: Any, season_end: str | int | None = None) -> dict[str, Any]:
    """The card's ``inputs`` block for a policy trained in ``env``.

    Args:
        env: the :class:`~pricegym.envs.market.PricingEnv` (or a wrapper of it).
        season_end: the deployed season's last day (ISO date; a period number for a
            market without a calendar), or ``None`` for the rolling horizon.

    Raises:
        InputError: ``env`` is not a single-seller pricing market, or a season end
            that is not a date of the market's calendar.
    """
    base = getattr(env, "unwrapped", env)
    constants = getattr(base, "observation_constants", None)
    if not callable(constants):
        raise InputError(
            f"{type(base).__name__} has no observation constants: seller inputs are defined "
            "for single-seller pricing markets (PricingEnv) only; price this policy with "
            "observations (`pricegym price POLICY --obs JSON`)."
        )
    block: dict[str, Any] = {"version": INPUTS_VERSION, **constants()}
    block["season_end"] = None
    if season_end is not None:
        block["season_end"] = _season_end_value(block, season_end, "--season-end")
    block["season_clock"] = dict(SEASON_CLOCK)
    block["formulas"] = dict(_FORMULAS)
    return json.loads(json.dumps(block, allow_nan=False))


def _season_end_value(block: Mapping[str, Any], value: Any, where: str) -> str | int:
    if block.get("calendar") is None:
        number = _integer(value)
        if number is None:
            raise InputError(
                f"{where} {value!r}: this policy's market has no trading calendar (its model "
                "was not fitted to daily dates), so its season ends at a period number; pass "
                "an integer period of the model's clock (e.g. the market's start period + "
                "horizon - 1)."
            )
        return number
    return str(_day(value, where))


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# ==================================================================== the calendar
def _day(value: Any, where: str) -> np.datetime64:
    text = str(value).strip()
    if not _ISO.match(text):
        raise InputError(
            f"{where} {value!r} is not a date (rule: dates are written YYYY-MM-DD). Fix: e.g. "
            f"{where} 2026-12-03."
        )
    try:
        return np.datetime64(text, "D")
    except ValueError:
        raise InputError(
            f"{where} {value!r} is not a calendar date (no such day). Fix: pass a real "
            "YYYY-MM-DD date."
        ) from None


def _weekday(day: np.datetime64) -> str:
    return _WEEKDAYS[(int(day.astype(np.int64)) + 3) % 7]  # 1970-01-01 was a Thursday


class _Calendar:
    """The card's trading calendar, numpy only (as pricegym.demand.calendar counts it)."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.weekdays = tuple(int(d) for d in doc["weekdays"])
        self.weekmask = [d in self.weekdays for d in range(7)]
        self.closed = np.array(list(doc.get("closed", ())), dtype="datetime64[D]")
        self.origin = np.datetime64(str(doc["origin"]), "D")

    def describe(self) -> str:
        days = list(self.weekdays)
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            names = f"{_WEEKDAYS[days[0]][:3]}-{_WEEKDAYS[days[-1]][:3]}"
        else:
            names = ", ".join(_WEEKDAYS[d][:3] for d in days)
        extra = f", {len(self.closed)} closed dates" if len(self.closed) else ""
        return f"trading {names}{extra}"

    def is_trading(self, day: np.datetime64) -> bool:
        return bool(np.is_busday(day, weekmask=self.weekmask, holidays=self.closed))

    def next_trading(self, day: np.datetime64) -> np.datetime64:
        return np.busday_offset(
            day, 0, roll="forward", weekmask=self.weekmask, holidays=self.closed
        )

    def count(self, start: np.datetime64, end: np.datetime64) -> int:
        """Trading days in [start, end) (negative when end < start)."""
        return int(np.busday_count(start, end, weekmask=self.weekmask, holidays=self.closed))


def trading_period(card_inputs: Mapping[str, Any], date: Any) -> int:
    """The model's trading-period index ``t`` of a trading ``date`` (ISO string).

    Raises:
        InputError: not a YYYY-MM-DD date, or a day the market does not trade (the
            message names the next trading day).
    """
    cal = _Calendar(card_inputs["calendar"])
    day = _day(date, "date")
    if not cal.is_trading(day):
        nxt = cal.next_trading(day)
        why = "a closed date of" if day in cal.closed else "not a trading weekday of"
        raise InputError(
            f"date {day} ({_weekday(day)}) is {why} this policy's market ({cal.describe()}): "
            f"the market does not trade then, so there is no price to set. The next trading "
            f"day is {nxt} ({_weekday(nxt)}); pass --date {nxt}."
        )
    return cal.count(cal.origin, day)


# ==================================================================== the observation
def _number(name: str, value: Any, *, minimum: float | None = 0.0) -> float:
    if isinstance(value, bool):
        value = None
    number = to_float(value)
    if number is None:
        raise InputError(f"{name} = {value!r} is not a number; pass a real value.")
    if not math.isfinite(number):
        raise InputError(f"{name} = {value!r} is not a finite number; pass a real value.")
    if minimum is not None and number < minimum:
        raise InputError(
            f"{name} = {value} is negative (rule: {name} >= {minimum:g}); pass the real "
            f"{name.replace('_', ' ')}, 0 or more."
        )
    return number


def _periods_left(block: Mapping[str, Any], date: Any, t: int, season_end: Any) -> tuple[int, str]:
    """(n, how): trading periods left including today, and which clock gave it."""
    horizon = int(block["horizon"])
    end = block.get("season_end") if season_end is None else season_end
    if end is None:
        return horizon, "rolling"
    end_value = _season_end_value(block, end, "season_end")
    if block.get("calendar") is None:
        n = int(end_value) - t + 1
        shown, last = f"period {t}", f"period {end_value}"
    else:
        cal = _Calendar(block["calendar"])
        day, stop = _day(date, "date"), np.datetime64(str(end_value), "D")
        n = cal.count(day, stop + np.timedelta64(1, "D"))
        shown, last = f"{day}", f"{stop}"
    if n <= 0:
        raise InputError(
            f"date {shown} is after the season end {last}: the season is over, so the policy "
            "has no period left to price. Fix: pass a later --season-end (or none, for the "
            "rolling horizon), or a date on or before the season end."
        )
    if n > horizon:
        raise InputError(
            f"{n} trading periods from {shown} to the season end {last} (both included), but "
            f"the policy was trained on a season of {horizon}: it never saw time_remaining "
            f"above 1. Fix: pass a date at most {horizon} trading periods before the season "
            "end, drop --season-end (rolling horizon), or export a policy trained with a "
            "longer horizon."
        )
    return n, "season_end"


def _competitor_values(block: Mapping[str, Any], competitors: Any) -> list[float]:
    names = [str(n) for n in block.get("competitors", [])]
    given = dict(competitors or {})
    if not isinstance(competitors, Mapping | type(None)):
        raise InputError(
            f"competitors = {competitors!r}: pass a mapping of competitor name to price, "
            f"e.g. {{{', '.join(repr(n) + ': 3.79' for n in names)}}}."
        )
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InputError(
            f"unknown competitors {unknown}: this policy's market has the competitors {names} "
            "(the model's competitor columns); rename or drop them."
        )
    missing = [n for n in names if n not in given]
    if missing:
        raise InputError(
            f"missing competitor prices {missing}: the policy reads every competitor's last "
            f'price; pass --competitor {missing[0]}=PRICE (JSON: "competitors": '
            f'{{"{missing[0]}": PRICE}}).'
        )
    return [_number(f"competitor {n!r} price", given[n]) for n in names]


def build_observation(
    card: Mapping[str, Any],
    date: Any = None,
    stock: Any = None,
    last_price: Any = None,
    last_units: Any = None,
    competitors: Mapping[str, Any] | None = None,
    season_end: Any = None,
    *,
    period: Any = None,
) -> dict[str, float]:
    """The market observation of the seller's inputs, ``{feature: value}`` in card order.

    Args:
        card: a policy card (``policy.json``) with an ``inputs`` block.
        date: the trading day to price (ISO ``YYYY-MM-DD``); for a market without a
            calendar pass ``period`` instead.
        stock: units on hand before today's sales (ignored, and may be ``None``, when
            the market's stock is unlimited).
        last_price: the seller's price on the previous trading day (> 0).
        last_units: units sold on the previous trading day (>= 0).
        competitors: each competitor's price on the previous trading day, by the
            model's competitor column name.
        season_end: the season's last day (overrides the card's); ``None`` uses the
            card's, and a card without one the rolling horizon (see the module).
        period: the model's period index ``t``, for a market without a calendar.

    Returns:
        The observation, each value rounded to float32 as the market's is.

    Raises:
        InputError: a card without the input constants (exported before they were
            stored), a closed date, a date after the season end, a negative stock,
            a missing or unknown competitor, a value outside what the policy saw.
    """
    block = _block(card)
    horizon = int(block["horizon"])
    # the date's period t on the model's clock
    if block.get("calendar") is not None:
        if date is None:
            raise InputError(
                'no date given: pass the trading day to price, --date YYYY-MM-DD (JSON: "date").'
            )
        if period is not None:
            raise InputError(
                f"period={period!r} with date={date!r}: this policy's market has a calendar, "
                "so the date gives the period; drop period."
            )
        t = trading_period(block, date)
    else:
        given = period if period is not None else date
        t_value = _integer(given)
        if t_value is None:
            raise InputError(
                f"period {given!r}: this policy's market has no trading calendar (its model "
                "was not fitted to daily dates); pass the model's period number, --period N "
                '(JSON: "period").'
            )
        t = t_value
    n, _ = _periods_left(block, date, t, season_end)
    k = horizon - n
    # stock
    if block.get("inventory") is None:
        fraction = 1.0
        if stock is not None:
            _number("stock", stock)
    else:
        if stock is None:
            raise InputError(
                "no stock given: this policy's market has finite stock; pass the units on "
                'hand, --stock S (JSON: "stock").'
            )
        units = _number("stock", stock)
        denominator = float(block["inventory_denominator"])
        top = float(block["inventory_max_fraction"]) * denominator
        if units > top * (1 + 1e-12):
            raise InputError(
                f"stock = {stock!r} is above the most the policy was trained with ({top:g} "
                f"units: the market's initial stock {block['inventory']:g}"
                f"{' and restocking level' if block.get('replenish_to') else ''}). Fix: pass "
                "the real stock on hand, or export a policy trained with a larger inventory."
            )
        fraction = units / denominator
    # prices and sales
    p_max = float(block["p_max"])
    inv_pmax = 1.0 / p_max
    price = _number("last_price", last_price)
    if price <= 0:
        raise InputError(
            f"last_price = {last_price!r}: a price is positive; pass yesterday's price."
        )
    if price > p_max * (1 + 1e-12):
        raise InputError(
            f"last_price = {last_price!r} is above the highest price the policy knows "
            f"({p_max:g}, the market's p_max): own_last_price would exceed 1, never seen in "
            f"training. Fix: pass a price in [{float(block['p_min']):g}, {p_max:g}], or export "
            "a policy trained on a market with a wider price range."
        )
    sales = _number("last_units", last_units)
    price_cap, sales_cap = float(block["price_cap"]), float(block["sales_cap"])
    comp = [min(v * inv_pmax, price_cap) for v in _competitor_values(block, competitors)]
    sales_obs = sales / float(block["sales_scale"])
    values = [
        (horizon - k) / horizon,
        fraction,
        price * inv_pmax,
        *comp,
        sales_obs if sales_obs < sales_cap else sales_cap,
    ]
    period_len = block.get("season_period")
    if period_len:
        angle = 2.0 * math.pi * float(t) / float(period_len)
        values += [math.sin(angle), math.cos(angle)]
    names = _names(card)
    if len(names) != len(values):
        raise InputError(
            f"the card's observation has {len(names)} features {names}, its inputs block "
            f"builds {len(values)}: the card is inconsistent; {_REEXPORT}."
        )
    rounded = np.array(values, dtype=np.float32).astype(np.float64)
    return {name: float(v) for name, v in zip(names, rounded, strict=True)}


def _block(card: Mapping[str, Any]) -> Mapping[str, Any]:
    block = card.get("inputs") if isinstance(card, Mapping) else None
    if not isinstance(block, Mapping):
        versions = card.get("versions", {}) if isinstance(card, Mapping) else {}
        made = versions.get("pricegym") if isinstance(versions, Mapping) else None
        by = f" (exported by pricegym {made})" if made else ""
        raise InputError(
            f"this policy card{by} has no seller-input constants (its 'inputs' block: "
            "horizon, calendar, sales_scale, ...), so a date, stock and last price cannot be "
            f"turned into its observation; {_REEXPORT}. Or pass the observation itself "
            "(`pricegym price POLICY --obs JSON`)."
        )
    if block.get("version") != INPUTS_VERSION:
        raise InputError(
            f"the card's inputs block has version {block.get('version')!r}, this pricegym "
            f"reads {INPUTS_VERSION}; {_REEXPORT}."
        )
    return block


def _names(card: Mapping[str, Any]) -> list[str]:
    return [str(n) for n in card["observation"]["names"]]


# ==================================================================== parsing
def parse_competitors(items: Any) -> dict[str, float]:
    """``["rival=3.79", ...]`` (``--competitor NAME=P``, repeatable) → ``{name: price}``."""
    out: dict[str, float] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"--competitor {item!r}: write NAME=PRICE, e.g. --competitor rival_price=3.79."
            )
        if name.strip() in out:
            raise InputError(f"--competitor {name.strip()!r} is given twice; give it once.")
        out[name.strip()] = _number(f"competitor {name.strip()!r} price", value)
    return out


def read_inputs_file(path: Any) -> list[dict[str, Any]]:
    """Seller-input records from a JSON-lines file (one object a line; blank lines skipped).

    Raises:
        InputError: a line that is not a JSON object or has an unknown key, naming the
            file and the line number.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--inputs {str(path)!r} cannot be read: {exc}.") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc}); write one JSON object a line.") from None
        if not isinstance(record, dict):
            raise InputError(
                f"{where}: a JSON {type(record).__name__}, not an object; write e.g. "
                '{"date": "2026-12-03", "stock": 120, "last_price": 3.99, "last_units": 80}.'
            )
        unknown = sorted(set(record) - set(INPUT_KEYS))
        if unknown:
            raise InputError(f"{where}: unknown keys {unknown}; the keys are {list(INPUT_KEYS)}.")
        records.append({"line": number, **record})
    return records
