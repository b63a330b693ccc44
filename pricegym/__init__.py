"""pricegym: a reinforcement-learning pricing simulator.

Fit demand models to a seller's sales history (:mod:`pricegym.demand`), compile
them to fast numpy kernels, and drive pricing markets with them. The package's
gymnasium ids (``pricegym/Monopoly-v0``, ``Markdown-v0``, ``Duopoly-v0``,
``Fitted-v0``; see :mod:`pricegym.registration`) are registered as soon as
both pricegym and gymnasium are imported, in either order, without ``import
pricegym`` importing gymnasium itself: a service that only serves exported
policies (:mod:`pricegym.runtime`) needs neither gymnasium nor torch.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("pricegym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["ENV_IDS", "__version__", "register_envs"]


def register_envs() -> list[str]:
    """Register pricegym's gymnasium ids (idempotent); see :mod:`pricegym.registration`."""
    # gymnasium: see the module docstring
    from pricegym.registration import register_envs as _register

    return _register()


def __getattr__(name: str) -> Any:
    if name == "ENV_IDS":
        from pricegym.registration import ENV_IDS  # gymnasium, as above

        return ENV_IDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _RegisterWhenGymnasiumLoads(importlib.abc.MetaPathFinder):
    """One-shot import hook: registers the ids right after ``gymnasium`` finishes importing."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("gymnasium")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_register(module: Any) -> None:
            exec_module(module)
            register_envs()

        spec.loader.exec_module = exec_and_register  # type: ignore[method-assign]
        return spec


if "gymnasium" in sys.modules:
    register_envs()
else:
    sys.meta_path.insert(0, _RegisterWhenGymnasiumLoads())
