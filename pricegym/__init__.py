"""pricegym: a reinforcement-learning pricing simulator.

Fit demand models to a seller's sales history (:mod:`pricegym.demand`), compile
them to fast numpy kernels, and drive pricing markets with them. Importing the
package registers its gymnasium ids (``pricegym/Monopoly-v0``, ``Markdown-v0``,
``Duopoly-v0``, ``Fitted-v0``; see :mod:`pricegym.envs.registration`) without
importing the markets themselves, so ``import pricegym`` stays light.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pricegym.envs.registration import ENV_IDS, register_envs

try:
    __version__ = version("pricegym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

register_envs()

__all__ = ["ENV_IDS", "__version__", "register_envs"]
