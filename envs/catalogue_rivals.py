"""Rival sellers in a logit catalogue market: :class:`CatalogueRivals`.

R rival products join the choice set of a
:class:`~pricegym.demand.catalogue_truth.LogitCatalogueTruth`: rival r has its own
quality ``δ_r`` and the seller's price sensitivity α, so with seller prices p (K,)
and rival prices ρ (R,) the ``M`` shoppers of a period split as

    units_j = M · exp(q_j − α p_j) / (1 + Σ_k exp(q_k − α p_k) + Σ_r exp(δ_r − α ρ_r)),

the seller's products competing with the rivals' and the outside option (utility 0).
The rivals are price-setting rules, not learners, and they post their prices at
the start of a period, before the seller (so the seller observes this period's
rival prices). Two rules, both deterministic (a market with rivals draws exactly
what one without draws: the K Poisson demands of the seller's products a period):

- ``"fixed"``: ρ_r = ``prices[r]`` every period;
- ``"undercut"``: ρ_r = clip(mean of the seller's prices of the previous period
  − ``undercut[r]``, ``low[r]``, ``high[r]``) (``undercut`` 0 matches, < 0 prices
  above); in period 0 the "previous" prices are the seller's starting last prices
  (each grid's middle price), as in the observation.

With fixed rival prices the rivals only enlarge the outside option: the seller's
shares are those of a rival-free logit with qualities ``q_j − ln(1 + R_0)``,
``R_0 = Σ_r exp(δ_r − α ρ_r)`` (:meth:`CatalogueRivals.folded`), so every known
answer of :mod:`pricegym.agents.multiproduct_optimum` (closed-form optimum, grid
optimum, DP, LP bound) applies to it. With the undercut rule the rivals react
to the seller and those answers do not apply (they raise).

A random-walk rule is not offered: it would need a second per-market random draw
each period, and the batched market's draws are held equal to the single ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pricegym.errors import ConfigError

__all__ = ["RIVAL_RULES", "RIVAL_STEP_KEYS", "CatalogueRivals"]

#: The rival price rules.
RIVAL_RULES = ("fixed", "undercut")
#: ``info`` keys a market with rivals adds to a step's: (R,) arrays.
RIVAL_STEP_KEYS = ("rival_prices", "rival_expected_demand")


def _per_rival(name: str, value: Any, r: int) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(r, float(v))
    if v.shape != (r,) or not np.isfinite(v).all():
        raise ConfigError(
            f"rivals {name}={np.asarray(value).tolist()!r}: give one finite number, or one per "
            f"rival ({r} rivals, in the order of quality)."
        )
    return v


@dataclass(frozen=True)
class CatalogueRivals:
    """R rival products and their price rule (see the module).

    Build with :meth:`build`; attributes (R,) arrays: ``quality`` δ_r, ``prices``
    (the fixed prices; for ``"undercut"`` the period-0 prices are computed), ``undercut``,
    ``low``, ``high`` (the price bounds; observed prices are ``ρ / high``); ``rule``;
    ``names`` (default ``"r0"``, ``"r1"``, ...).
    """

    quality: np.ndarray
    rule: str
    prices: np.ndarray
    undercut: np.ndarray
    low: np.ndarray
    high: np.ndarray
    names: tuple[str, ...]

    @property
    def n_rivals(self) -> int:
        """R."""
        return self.quality.size

    @classmethod
    def build(
        cls,
        spec: CatalogueRivals | Mapping[str, Any],
        demand: Any,
        grids: Sequence[np.ndarray],
    ) -> CatalogueRivals:
        """Validate ``spec`` (a ``CatalogueRivals`` or a dict of :meth:`from_dict`'s keys).

        ``spec`` keys: ``quality`` (R,), ``rule`` (``"fixed"``, default, or
        ``"undercut"``), ``prices`` (fixed: required, > 0), ``undercut`` (scalar or (R,),
        default 0), ``low``/``high`` (bounds, default the fixed prices for ``"fixed"``
        and the seller's lowest and highest grid price for ``"undercut"``),
        ``names``.

        Raises:
            ConfigError: a demand that is not a logit catalogue truth, an unknown key
                or rule, values of the wrong shape, non-positive prices or bounds.
        """
        from pricegym.demand.catalogue_truth import LogitCatalogueTruth

        if not isinstance(demand, LogitCatalogueTruth):
            raise ConfigError(
                f"rivals with demand={demand!r}: rival products join a known logit choice set. "
                "Rule: rivals need a LogitCatalogueTruth (its α prices the rivals' products). "
                "Fix: use LogitCatalogueTruth, or rivals=None."
            )
        if isinstance(spec, CatalogueRivals):
            spec = spec.to_dict()
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"rivals={spec!r}: give a dict such as {{'quality': [1.0], 'prices': [2.5]}} "
                "or a CatalogueRivals."
            )
        known = {"quality", "rule", "prices", "undercut", "low", "high", "names"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ConfigError(f"rivals settings {unknown} are unknown; use {sorted(known)}.")
        if "quality" not in spec:
            raise ConfigError("rivals need 'quality': one quality δ_r per rival product.")
        q = np.asarray(spec["quality"], dtype=np.float64).reshape(-1)
        if q.size < 1 or not np.isfinite(q).all():
            raise ConfigError(
                f"rivals quality={np.asarray(spec['quality']).tolist()!r}: give one finite "
                "quality per rival (R >= 1), or rivals=None for none."
            )
        r = q.size
        rule = spec.get("rule", "fixed")
        if rule not in RIVAL_RULES:
            raise ConfigError(f"rivals rule={rule!r}: use one of {list(RIVAL_RULES)}.")
        g_low = float(min(g[0] for g in grids))
        g_high = float(max(g[-1] for g in grids))
        if rule == "fixed":
            if spec.get("prices") is None:
                raise ConfigError("rivals rule='fixed' needs prices: one price per rival.")
            prices = _per_rival("prices", spec["prices"], r)
            low = _per_rival("low", spec.get("low", prices), r)
            high = _per_rival("high", spec.get("high", prices), r)
        else:
            low = _per_rival("low", spec.get("low", g_low), r)
            high = _per_rival("high", spec.get("high", g_high), r)
            prices = _per_rival("prices", spec.get("prices", low), r)
        undercut = _per_rival("undercut", spec.get("undercut", 0.0), r)
        if not ((low > 0).all() and (high >= low).all()):
            raise ConfigError(
                f"rivals low={low.tolist()}, high={high.tolist()}: need 0 < low <= high per rival."
            )
        if rule == "fixed" and ((prices < low) | (prices > high)).any():
            raise ConfigError(
                f"rivals prices={prices.tolist()} lie outside [low, high] = "
                f"[{low.tolist()}, {high.tolist()}]; widen the bounds or leave them out."
            )
        names = spec.get("names")
        names = tuple(f"r{i}" for i in range(r)) if names is None else tuple(map(str, names))
        if len(names) != r or len(set(names)) != r:
            raise ConfigError(f"rivals names={list(names)!r}: give {r} distinct names.")
        clash = sorted(set(names) & set(demand.product_names))
        if clash:
            raise ConfigError(f"rivals names {clash} are the seller's product names; rename.")
        return cls(q, rule, prices, undercut, low, high, names)

    def to_dict(self) -> dict[str, Any]:
        """The settings, JSON-ready (``build(d, ...)`` rebuilds them)."""
        return {
            "quality": self.quality.tolist(),
            "rule": self.rule,
            "prices": self.prices.tolist(),
            "undercut": self.undercut.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "names": list(self.names),
        }

    def next_prices(self, seller_last: np.ndarray) -> np.ndarray:
        """Rival prices (B, R) of the period after the seller posted ``seller_last`` (B, K)."""
        p = np.asarray(seller_last, dtype=np.float64)
        if self.rule == "fixed":
            return np.broadcast_to(self.prices, (p.shape[0], self.n_rivals)).copy()
        ref = p.mean(axis=1, keepdims=True)
        return np.clip(ref - self.undercut[None, :], self.low, self.high)

    def units(
        self, demand: Any, prices: np.ndarray, rival_prices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected units (B, K) of the seller's products and (B, R) of the rivals'."""
        from pricegym.demand.logit_shares import logit_shares

        p = np.asarray(prices, dtype=np.float64)
        rho = np.asarray(rival_prices, dtype=np.float64)
        u = np.concatenate(
            [demand.quality - demand.alpha * p, self.quality - demand.alpha * rho], axis=1
        )
        mu = demand.market_size * logit_shares(u)
        k = p.shape[1]
        return mu[:, :k], mu[:, k:]

    def folded(self, demand: Any, rival_prices: np.ndarray | None = None) -> Any:
        """The rival-free logit with the same seller units at fixed ``rival_prices`` (R,).

        Qualities ``q_j − ln(1 + Σ_r exp(δ_r − α ρ_r))`` (default ρ: ``prices``).
        """
        from pricegym.demand.catalogue_truth import LogitCatalogueTruth

        rho = self.prices if rival_prices is None else np.asarray(rival_prices, np.float64)
        shift = np.log1p(np.exp(self.quality - demand.alpha * rho).sum())
        return LogitCatalogueTruth(
            demand.quality - shift,
            demand.alpha,
            demand.market_size,
            support=demand.support_,
            product_names=demand.product_names,
        )
