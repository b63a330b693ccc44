"""Shared machinery of the experiment schema (:mod:`pricegym.experiments.schema`).

The vocabulary every section uses (:data:`MODES`, :data:`BENCHMARKS`,
:data:`TRAIN_KEYS`), the one error format (``path = value: rule. Fix: ...``, with
a did-you-mean for unknown keys), :class:`_Section` (a mapping read at a key path
with typed getters), the checks of integers, labels and file paths, and the
imports that register agent kinds, environments and demand-model families.
"""

from __future__ import annotations

import difflib
import importlib.util  # noqa: F401  (the registry loaders call importlib.util)
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.schema import _keys

#: Tournament modes, in the order the runner plays them.
MODES: tuple[str, ...] = ("solo", "vs_rules", "round_robin", "cross_model")
#: Benchmarks a report can quote: single-seller (dp, best_fixed) and oligopoly (nash, monopoly).
BENCHMARKS: tuple[str, ...] = ("dp", "best_fixed", "nash", "monopoly")
#: Keys of ``agents[i].train`` (declared in :mod:`._keys`).
TRAIN_KEYS: tuple[str, ...] = _keys.keys("agents[].train")

#: Modules whose import registers agent kinds (those that exist are imported).
_AGENT_MODULES: tuple[str, ...] = (
    "pricegym.agents.rules",
    "pricegym.agents.bandits",
    "pricegym.agents.dp",
    "pricegym.agents.qlearning",
    "pricegym.agents.sb3",
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# ==================================================================== errors
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error(path: str, value: Any, rule: str, fix: str) -> ConfigError:
    """The one message format: ``path = value: rule. Fix: fix.``"""
    return ConfigError(f"{path} = {_show(value)}: {rule}. Fix: {fix.rstrip('.')}.")


def _unknown(path: str, key: Any, known: Iterable[str]) -> ConfigError:
    """An unknown key: where it belongs if another section takes it, else a did-you-mean."""
    known = sorted(known)
    where = f"{path}.{key}" if path else str(key)
    homes = _keys.sections_with(str(key), besides=_keys.normalize(path))
    if 1 <= len(homes) <= 3:  # a key of another section (not a lookalike to rename to)
        spots = " or ".join(f"{h}.{key}" if h else str(key) for h in homes)
        return ConfigError(
            f"{where}: unknown key {key!r} in {_keys.describe(path)}; it is a key of "
            f"{spots}. Known keys here: {known}. Fix: move it to {spots}."
        )
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    fix = f"rename it to {close[0]!r}" if close else "remove it or use one of the known keys"
    return ConfigError(f"{where}: unknown key {key!r}.{hint} Known keys here: {known}. Fix: {fix}.")


def _wrap(exc: PricegymError, path: str, keys: Iterable[str] = ()) -> ConfigError:
    """Prefix a library error with the key path (narrowed to the key it names, if any)."""
    msg = str(exc)
    if msg.startswith(path):
        return ConfigError(msg)
    for key in sorted(keys, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(str(key))}\s*=", msg):
            return ConfigError(f"{path}.{key}: {msg}")
    return ConfigError(f"{path}: {msg}")


class _Section:
    """A mapping read at a key path: unknown keys refused, typed getters."""

    def __init__(self, data: Any, path: str, known: Sequence[str], what: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise _error(
                path, data, f"must be a mapping ({what})", f"write {path} as key: value lines"
            )
        for key in data:
            if key not in known:
                raise _unknown(path, key, known)
        self.data, self.path = dict(data), path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def get_int(
        self, key: str, default: int | None, minimum: int = 0, example: int = 1
    ) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        return _int(value, self.at(key), minimum, example)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _error(self.at(key), value, "must be true or false", f"write {key}: true")
        return value

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise _error(
                self.at(key), value, "must be a non-empty string", f"quote it: {key}: 'text'"
            )
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise _error(self.at(key), value, "must be a mapping", f"write {key}: {{name: value}}")
        return {str(k): v for k, v in value.items()}


def _int(value: Any, path: str, minimum: int, example: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        ok, value = True, int(value)
    if not ok:
        raise _error(path, value, "must be an integer", f"write a whole number, e.g. {example}")
    if value < minimum:
        raise _error(path, value, f"must be >= {minimum}", f"use e.g. {max(example, minimum)}")
    return int(value)


def _label(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _error(
            path,
            value,
            "must be a label of letters, digits and . _ - (it names files and table rows)",
            "e.g. name: ppo_small",
        )
    return value


def _file(value: Any, path: str, base: Path | None, what: str) -> str:
    if not isinstance(value, str | Path) or not str(value):
        raise _error(path, value, f"must be the path of {what}", "give a file path")
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.is_file():
        raise _error(
            path,
            str(value),
            f"{what} {str(p)!r} does not exist",
            "check the path (relative paths are read from the experiment file's folder)",
        )
    return str(p.resolve())


# ==================================================================== registries
def _load_agent_kinds() -> None:
    """Import the agent modules that exist, so that every kind is registered."""
    import importlib

    for module in _AGENT_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def _load_registrations() -> None:
    import importlib

    for module in ("pricegym.registration",):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def _load_families() -> None:
    # importing them registers the families (torch, statsmodels, scipy, pandas)
    import pricegym.demand.arimax
    import pricegym.demand.neural
    import pricegym.demand.regression  # noqa: F401
