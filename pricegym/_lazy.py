"""Lazy package exports (PEP 562), shared by the sub-packages' ``__init__`` modules.

The sub-packages re-export their public names without importing the modules that
define them, so that ``import pricegym.envs`` does not load torch, statsmodels or
stable-baselines3 until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` that import ``exports[name]`` on first use."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*exports, "__all__"])

    return __getattr__, __dir__
