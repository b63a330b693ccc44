"""Gymnasium pricing markets driven by demand kernels (single seller, oligopoly, batched).

Names are imported lazily (PEP 562), so ``import pricegym`` — which registers the
gymnasium ids through :mod:`pricegym.envs.registration` — does not pull in the
markets, the demand layer or torch until a market is used.
"""

from __future__ import annotations

from pricegym._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
