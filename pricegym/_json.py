"""One JSON helper for everything pricegym writes (model and agent files, run cells,
policy cards, ``--json`` output).

:func:`jsonable` turns numpy and pandas values into plain Python (recursively, through
dicts, lists, tuples and sets), so ``json.dumps`` can write them; ``strict=True``
also maps NaN, ±inf, ``pd.NA`` and ``NaT`` to ``None`` for files written with
``allow_nan=False`` (strict JSON). It imports neither numpy nor pandas: it
recognises their values by their methods and type names, so the dependency-light
runtime and the CLI can use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["jsonable"]

#: type names of pandas' missing-value scalars (pd.NA, pd.NaT), matched by name so
#: that this module does not import pandas
_MISSING_TYPES = frozenset({"NAType", "NaTType"})
_PLAIN = (str, bytes, int, float, bool, type(None))


def jsonable(
    value: Any, *, strict: bool = False, fallback: Callable[[Any], Any] | None = None
) -> Any:
    """A copy of ``value`` that ``json.dumps`` writes.

    - dict → dict with ``str`` keys; list, tuple and set → list (a set in its
      iteration order); numpy arrays → nested lists; numpy scalars, 0-d arrays and
      other objects with ``.item()`` → the Python scalar;
    - ``strict``: a non-finite float, ``pd.NA`` or ``pd.NaT`` → ``None``
      (otherwise floats are kept, NaN included);
    - any other object is returned as it is, or as ``fallback(value)`` when a
      ``fallback`` is given (``str`` writes a readable text for anything).
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v, strict=strict, fallback=fallback) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, strict=strict, fallback=fallback) for v in value]
    if type(value).__name__ == "ndarray":
        return jsonable(value.tolist(), strict=strict, fallback=fallback)
    if type(value).__name__ in _MISSING_TYPES:
        return None if strict else value
    if type(value) not in _PLAIN and callable(getattr(value, "item", None)):
        value = value.item()  # numpy scalars (np.float64 is a float subclass: still converted)
    if isinstance(value, float):
        return value if (math.isfinite(value) or not strict) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return fallback(value) if fallback is not None else value
