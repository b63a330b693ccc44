"""Static benchmarks of a multi-seller market: Bertrand–Nash, joint monopoly, collusion index.

Every report on an oligopoly quotes three numbers: the one-shot Bertrand–Nash
prices and profits (the competitive benchmark), the prices and profits that
maximise the sellers' joint profit (the collusive benchmark), and where a
learned outcome sits between them, Calvano et al.'s profit gain

    Δ = (π − π^N) / (π^M − π^N),

0 at Nash and 1 at joint monopoly.

The solvers live in :mod:`pricegym.envs.oligopoly` (closed-form first-order
conditions for the logit market, best-response iteration and direct
maximisation for any multi-seller demand kernel); :class:`OligopolyEnv` runs
them when it is built. This module only resolves "a market" — an env, the
keyword arguments of one, or a fitted multi-seller demand kernel — and packages
the answer, so the numbers here are exactly the ones the env reports and uses
for its price grid.

>>> nash = bertrand_nash()  # the Calvano et al. (2020) baseline
>>> monopoly = joint_monopoly()
>>> [round(float(p), 4) for p in (nash.prices[0], monopoly.prices[0])]
[1.4729, 1.925]
>>> round(float(collusion_index(0.3, nash.profits[0], monopoly.profits[0])), 4)
0.6728
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pricegym.demand.kernels import DemandKernel
from pricegym.envs.equilibrium_solvers import profit_gain
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError

__all__ = [
    "MarketBenchmark",
    "as_oligopoly",
    "bertrand_nash",
    "collusion_index",
    "joint_monopoly",
]

#: What the functions here accept as a market.
Market = OligopolyEnv | Mapping[str, Any] | DemandKernel | None


@dataclass(frozen=True)
class MarketBenchmark:
    """Prices and expected profits of one benchmark outcome of a market.

    Attributes:
        kind: ``"nash"`` (Bertrand–Nash equilibrium) or ``"monopoly"`` (joint-profit maximum).
        prices: one price per seller, shape (n,), in seat order.
        profits: each seller's expected profit per round at ``prices``, shape (n,).
        joint_profit: the sum of ``profits``.
    """

    kind: str
    prices: np.ndarray
    profits: np.ndarray
    joint_profit: float

    def __post_init__(self) -> None:
        for name in ("prices", "profits"):
            value = np.array(getattr(self, name), dtype=np.float64)
            value.setflags(write=False)  # frozen means frozen, arrays included
            object.__setattr__(self, name, value)

    @property
    def n_sellers(self) -> int:
        """Number of sellers."""
        return int(self.prices.size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view: kind, prices, profits, joint_profit."""
        return {
            "kind": self.kind,
            "prices": self.prices.tolist(),
            "profits": self.profits.tolist(),
            "joint_profit": float(self.joint_profit),
        }


def as_oligopoly(market: Market = None, **params: Any) -> OligopolyEnv:
    """The :class:`OligopolyEnv` that ``market`` describes.

    ``market`` is one of:

    - an :class:`OligopolyEnv` (returned as is; ``params`` must then be empty);
    - a mapping of :class:`OligopolyEnv` keyword arguments (its config, e.g. from
      YAML), merged with ``params``;
    - a multi-seller :class:`~pricegym.demand.kernels.DemandKernel` (a fitted
      market), used as ``OligopolyEnv(kernel=market, **params)``;
    - ``None``: ``OligopolyEnv(**params)`` (the Calvano baseline when empty).

    Raises:
        ConfigError: anything else, parameters next to an env, or parameters the
            env rejects (its own message names the field).
    """
    if isinstance(market, OligopolyEnv):
        if params:
            raise ConfigError(
                f"parameters {sorted(params)} were given together with an OligopolyEnv; the "
                "env already fixes its market, so pass either the env or its parameters."
            )
        return market
    if isinstance(market, DemandKernel):
        return OligopolyEnv(kernel=market, **params)
    if isinstance(market, Mapping):
        merged = {**dict(market), **params}
        try:
            return OligopolyEnv(**merged)
        except TypeError as exc:
            raise ConfigError(
                f"market config {sorted(merged)} has a key OligopolyEnv does not take ({exc}); "
                "use its keyword arguments (n_sellers, quality, outside, mu, cost, ...)."
            ) from None
    if market is None:
        try:
            return OligopolyEnv(**params)
        except TypeError as exc:
            raise ConfigError(
                f"market parameters {sorted(params)} include one OligopolyEnv does not take "
                f"({exc}); use its keyword arguments (n_sellers, quality, outside, mu, cost, ...)."
            ) from None
    raise ConfigError(
        f"market={type(market).__name__} is not a market; pass an OligopolyEnv, a mapping of "
        "its keyword arguments, or a multi-seller DemandKernel."
    )


def bertrand_nash(market: Market = None, **params: Any) -> MarketBenchmark:
    """The Bertrand–Nash equilibrium of ``market`` (see :func:`as_oligopoly` for what it takes).

    For the logit market the prices solve every seller's first-order condition
    ``p_i = c_i + μ/(1 − s_i(p))`` (unique equilibrium); for a demand kernel they
    come from best-response iteration within the kernel's support (both in
    :mod:`pricegym.envs.oligopoly`). Profits are expected profits per round in
    the market's base regime (without Markov shocks applied); each regime's are
    ``env.regime_nash_prices`` / ``regime_nash_profits`` of :func:`as_oligopoly`.
    """
    env = as_oligopoly(market, **params)
    profits = np.asarray(env.nash_profits, dtype=np.float64)
    return MarketBenchmark("nash", env.nash_prices, profits, float(profits.sum()))


def joint_monopoly(market: Market = None, **params: Any) -> MarketBenchmark:
    """The prices maximising the sellers' joint profit in ``market``, and the profits there.

    For the logit market the joint optimum has one common markup solving
    ``m·(1 − S(m)) = μ`` (exact root); for a demand kernel it is found by direct
    maximisation from the Nash prices (both in :mod:`pricegym.envs.oligopoly`).
    Profits are per seller, expected per round, in the base regime (each regime's:
    ``env.regime_monopoly_prices`` / ``regime_monopoly_profits``).
    """
    env = as_oligopoly(market, **params)
    profits = np.asarray(env.monopoly_profits, dtype=np.float64)
    return MarketBenchmark("monopoly", env.monopoly_prices, profits, float(profits.sum()))


def collusion_index(
    profit: np.ndarray | float,
    nash: MarketBenchmark | np.ndarray | float,
    monopoly: MarketBenchmark | np.ndarray | float,
) -> np.ndarray:
    """Calvano et al.'s profit gain Δ = (π − π^N)/(π^M − π^N), element-wise.

    ``profit`` is any array of profits (per seller in the last axis, or already
    averaged); ``nash`` and ``monopoly`` are benchmarks (their per-seller
    ``profits`` are used, broadcast against ``profit``'s last axis) or profit
    values broadcastable against ``profit``. Δ = 0 at the Nash profit, 1 at the
    monopoly profit, negative below Nash. Under Markov shocks pass the regime
    benchmarks averaged over the same rounds as ``profit`` (the mean of the env's
    ``nash_profit`` / ``monopoly_profit`` infos), not the base regime's
    :func:`bertrand_nash` / :func:`joint_monopoly`, which misplace Δ (a pair
    holding the base monopoly price scores Δ > 1 when the high-demand regime
    dominates).

    Raises:
        ConfigError: π^M = π^N for some seller (Δ is undefined).
    """
    pn = nash.profits if isinstance(nash, MarketBenchmark) else np.asarray(nash, np.float64)
    pm = (
        monopoly.profits
        if isinstance(monopoly, MarketBenchmark)
        else np.asarray(monopoly, np.float64)
    )
    if np.any(pm == pn):
        raise ConfigError(
            f"the monopoly profit {np.asarray(pm).tolist()} equals the Nash profit "
            f"{np.asarray(pn).tolist()} for some seller, so the collusion index is undefined; "
            "check that the benchmarks belong to the same market."
        )
    return np.asarray(profit_gain(profit, pn, pm))
