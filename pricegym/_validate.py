"""Parameter checks declared once, for every layer (as scikit-learn's
``utils/_param_validation``): a constraint says what a value must be, a check
coerces the value to it or raises.

- :class:`Interval`: the finite reals between two bounds, each end open or closed,
  with the rule's text for messages (``"finite and > 0"``);
- :func:`real`: a number inside an :class:`Interval`, as a ``float``;
- :func:`integer`: a Python or numpy integer (never a ``bool``) at least a minimum;
- :func:`choice`: one of a tuple of strings, suggesting the closest on a typo.

The error type and the message stay the caller's: a module declares its message
template once (``"{name}={value!r} must be {rule}; {fix}."``) and passes it with
the error class, so each family keeps its own wording, as its tests pin it. A
template may use ``{name}``, ``{value}`` (the value as given: ``{value!r}`` for its
``repr``), the constraint's ``{rule}`` / ``{bounds}`` and any keyword the caller
adds (``fix=...``).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pricegym.errors import ConfigError, PricegymError

__all__ = ["NON_NEGATIVE", "POSITIVE", "REAL", "Interval", "choice", "integer", "real", "to_float"]

Closed = Literal["both", "left", "right", "neither"]


@dataclass(frozen=True)
class Interval:
    """The finite reals from ``low`` to ``high`` (±inf: no bound on that side).

    ``closed`` names the ends that belong to it, as scikit-learn's ``Interval``:
    ``"both"`` (the default), ``"left"``, ``"right"`` or ``"neither"``. NaN and ±inf
    are never inside.

    >>> 0.0 in Interval(0.0, closed="neither"), Interval(0.0, 1.0).rule
    (False, 'finite and >= 0 and <= 1')
    """

    low: float = -math.inf
    high: float = math.inf
    closed: Closed = "both"

    def __contains__(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        above = v >= self.low if self.closed in ("both", "left") else v > self.low
        below = v <= self.high if self.closed in ("both", "right") else v < self.high
        return above and below

    @property
    def bounds(self) -> str:
        """The bounds in words: ``">= 0 and <= 1"``, ``"> 0"``; ``""`` with none."""
        parts = []
        if math.isfinite(self.low):
            parts.append(f"{'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}")
        if math.isfinite(self.high):
            parts.append(f"{'<=' if self.closed in ('both', 'right') else '<'} {self.high:g}")
        return " and ".join(parts)

    @property
    def rule(self) -> str:
        """The whole rule in words: ``"finite and > 0"``, or ``"finite"`` with no bound."""
        return f"finite and {self.bounds}" if self.bounds else "finite"


#: any finite x; x > 0; x >= 0
REAL = Interval()
POSITIVE = Interval(0.0, closed="neither")
NON_NEGATIVE = Interval(0.0, closed="left")


def to_float(value: Any, *, convert: bool = True) -> float | None:
    """``float(value)``, or None where that fails (TypeError / ValueError).

    ``convert=False`` takes only what already is a number (``int``, ``float``, a
    numpy number; ``bool`` is an ``int``): a string such as ``"3"`` gives None.
    """
    if not convert and not isinstance(value, int | float | np.number):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def real(
    name: str,
    value: Any,
    within: Interval = REAL,
    *,
    message: str,
    not_a_number: str | None = None,
    error: type[PricegymError] = ConfigError,
    convert: bool = True,
    **fields: Any,
) -> float:
    """``value`` as a float inside ``within``, or ``error`` with ``message``.

    Args:
        message: the template (see the module docstring) for a value outside.
        not_a_number: the template where ``value`` is no number at all; default
            ``message``.
        convert: as :func:`to_float` (False: a string is not a number).
        fields: more template fields (``fix=...``).
    """
    v = to_float(value, convert=convert)
    if v is None and not_a_number is not None:
        raise error(not_a_number.format(name=name, value=value, **fields))
    if v is None or v not in within:
        text = message.format(
            name=name, value=value, rule=within.rule, bounds=within.bounds, **fields
        )
        raise error(text)
    return v


def integer(
    name: str,
    value: Any,
    minimum: int,
    fix: str,
    *,
    message: str = "{name}={value!r} must be an integer >= {minimum}; {fix}.",
    error: type[PricegymError] = ConfigError,
) -> int:
    """``value`` as an ``int``: a Python or numpy integer (not a ``bool``) >= ``minimum``,
    or ``error`` with ``message`` (fields ``name``, ``value``, ``minimum``, ``fix``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise error(message.format(name=name, value=value, minimum=minimum, fix=fix))
    return int(value)


def choice(
    name: str,
    value: Any,
    options: tuple[str, ...],
    note: str = "",
    *,
    error: type[PricegymError] = ConfigError,
) -> str:
    """``value`` if it is one of ``options``; else ``error`` listing them, with the
    closest as ``Did you mean ...?`` (or ``note`` where none is close)."""
    if value not in options:
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else note
        raise error(f"{name}={value!r} is unknown; use one of {list(options)}.{hint}")
    return str(value)
