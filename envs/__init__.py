"""Gymnasium pricing markets driven by demand kernels (single seller, oligopoly, batched).

Names are imported lazily (PEP 562), so ``import pricegym`` — which registers the
gymnasium ids through :mod:`pricegym.registration` — does not pull in the
markets, the demand layer or torch until a market is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "CompetitorConfig": "pricegym.envs.config",
    "MarketConfig": "pricegym.envs.config",
    "PricingEnv": "pricegym.envs.market",
    "OligopolyEnv": "pricegym.envs.oligopoly",
    "OpponentWrapper": "pricegym.envs.oligopoly",
    "MarketVectorEnv": "pricegym.envs.vector",
    "MultiProductEnv": "pricegym.envs.multiproduct",
    "MultiProductVectorEnv": "pricegym.envs.multiproduct_vector",
    "check_market_invariants": "pricegym.envs.checks",
    "InvariantViolation": "pricegym.envs.checks",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from pricegym.envs.checks import InvariantViolation, check_market_invariants
    from pricegym.envs.config import CompetitorConfig, MarketConfig
    from pricegym.envs.market import PricingEnv
    from pricegym.envs.multiproduct import MultiProductEnv
    from pricegym.envs.multiproduct_vector import MultiProductVectorEnv
    from pricegym.envs.oligopoly import OligopolyEnv, OpponentWrapper
    from pricegym.envs.vector import MarketVectorEnv

#: literal, so that static tools read it (tests/test_init.py checks it equals _EXPORTS)
__all__ = [
    "CompetitorConfig",
    "InvariantViolation",
    "MarketConfig",
    "MarketVectorEnv",
    "MultiProductEnv",
    "MultiProductVectorEnv",
    "OligopolyEnv",
    "OpponentWrapper",
    "PricingEnv",
    "check_market_invariants",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
