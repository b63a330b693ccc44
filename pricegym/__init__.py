"""pricegym: a reinforcement-learning pricing simulator.

Fit demand models to a seller's sales history (:mod:`pricegym.demand`), compile
them to fast numpy kernels, and drive pricing markets with them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pricegym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
