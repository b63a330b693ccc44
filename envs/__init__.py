"""Gymnasium pricing markets driven by demand kernels (single seller, oligopoly, batched).

Names are imported lazily (PEP 562), so ``import pricegym`` — which registers the
gymnasium ids through :mod:`pricegym.envs.registration` — does not pull in the
markets, the demand layer or torch until a market is used.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → module that defines it
_EXPORTS = {
    "CompetitorConfig": "pricegym.envs.config",
    "MarketConfig": "pricegym.envs.config",
    "PricingEnv": "pricegym.envs.market",
    "OligopolyEnv": "pricegym.envs.oligopoly",
    "OpponentWrapper": "pricegym.envs.oligopoly",
    "MarketVectorEnv": "pricegym.envs.vector",
    "check_market_invariants": "pricegym.envs.checks",
    "InvariantViolation": "pricegym.envs.checks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pricegym.envs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
