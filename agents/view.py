"""How an agent sees its market: the action ↔ price codec and the observation reader.

:class:`ActionCodec` maps actions to prices with the env's own formula
(``MarketConfig.action_to_price``) and back. :class:`MarketView` is built once,
when an agent is bound to a market (:meth:`PricingAgent.bind`), from any pricegym
env: a single-seller :class:`~pricegym.envs.market.PricingEnv` (or a wrapper or
test double of one), an :class:`~pricegym.envs.oligopoly.OligopolyEnv` (seat 0) or
an :class:`~pricegym.envs.oligopoly.OpponentWrapper` (the learner's seat). It
reads prices back from observations in money units and names every entry:

- single-seller layout (names from ``observation_names``): ``own_last_price`` and
  every ``competitor_price:<col>`` are price / p_max; ``time_remaining``,
  ``inventory_fraction`` and ``last_sales`` as documented on ``PricingEnv``;
- oligopoly layout: the last k rounds of all prices, own seat first and rivals in
  seat order, each coded as grid index / (m − 1) (or its position in the range for
  continuous prices), named ``own_price:lag1``, ``rival_price:1:lag1``, …
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from pricegym.envs.config import MarketConfig
from pricegym.errors import ConfigError

__all__ = ["ActionCodec", "MarketView"]

#: Relative tolerance when comparing prices read from float32 observations
#: (float32 keeps ~7 significant digits).
PRICE_RTOL = 1e-6


@dataclass(frozen=True)
class ActionCodec:
    """Actions ↔ prices for one market's action space (the env's own mapping).

    Build it with :meth:`from_env` from any pricegym single-seller env (it reads
    ``env.unwrapped.prices`` for a discrete grid, or ``p_min``/``p_max`` for a
    continuous ``Box(-1, 1)``), or directly from a grid or a range.
    """

    grid: np.ndarray | None
    p_min: float
    p_max: float

    @classmethod
    def from_grid(cls, prices: np.ndarray) -> ActionCodec:
        """A discrete market whose action ``i`` is ``prices[i]``."""
        grid = np.asarray(prices, dtype=np.float64)
        return cls(grid, float(grid.min()), float(grid.max()))

    @classmethod
    def from_range(cls, p_min: float, p_max: float) -> ActionCodec:
        """A continuous market whose action ``a`` in [-1, 1] maps linearly onto [p_min, p_max]."""
        if not p_min < p_max:
            raise ConfigError(f"need p_min < p_max, got p_min={p_min}, p_max={p_max}.")
        return cls(None, float(p_min), float(p_max))

    @classmethod
    def from_env(cls, env: Any) -> ActionCodec:
        """The codec of a pricegym env (discrete grid or continuous range)."""
        base = getattr(env, "unwrapped", env)
        space = getattr(env, "action_space", None)
        if isinstance(space, spaces.Discrete):
            return cls.from_grid(np.asarray(base.prices))
        return cls.from_range(float(base.p_min), float(base.p_max))

    @property
    def discrete(self) -> bool:
        """Whether actions are grid indices."""
        return self.grid is not None

    def to_price(self, action: Any) -> np.ndarray:
        """Prices of actions (the same formula as ``MarketConfig.action_to_price``)."""
        return MarketConfig.action_to_price(action, self.grid, self.p_min, self.p_max)

    def to_action(self, price: Any) -> np.ndarray:
        """The action whose price is nearest to ``price`` (grid) or maps to it (range)."""
        p = np.asarray(price, dtype=np.float64)
        if self.grid is not None:
            return np.abs(p[..., None] - self.grid).argmin(axis=-1).astype(np.int64)
        a = 2.0 * (p - self.p_min) / (self.p_max - self.p_min) - 1.0
        return np.clip(a, -1.0, 1.0).astype(np.float32)


@dataclass
class MarketView:
    """What an agent knows about the market it is bound to, and how to read its observations.

    Build it with :meth:`from_env`. Prices are read back from observations in
    money units: single-seller entries are multiplied by ``price_scale`` (the env's
    p_max), oligopoly entries are decoded from the grid / range coding.

    Attributes:
        layout: ``"single"`` (PricingEnv-like) or ``"oligopoly"``.
        codec: the action ↔ price mapping.
        names: observation entry names (index = position).
        price_scale: multiplier of single-seller price entries (p_max).
        own_index: position of the own last price (None if absent).
        rival_indices: positions of the rivals' / competitors' last prices.
        rival_names: the competitor columns (single) or rival seats (oligopoly).
        time_index, inventory_index, sales_index: positions of ``time_remaining``,
            ``inventory_fraction``, ``last_sales`` (None if absent).
        unit_cost: the market's unit cost for this seller (None if unknown).
        horizon: periods per season (None if unknown or endless).
        start_t: calendar period of the first step (single-seller markets).
        inventory: the stock that ``inventory_fraction`` is relative to (None: unlimited).
        sales_scale: the units that ``last_sales`` = 1 stands for.
        kernel: the market's demand kernel (None if not known).
        seat: this seller's seat in an oligopoly (0 in single-seller markets).
        n_sellers: sellers in the market (1 + competitors for a single-seller market).
        nash_price, monopoly_price: the oligopoly's benchmark prices for this seat.
    """

    layout: Literal["single", "oligopoly"]
    codec: ActionCodec
    names: tuple[str, ...]
    price_scale: float = 1.0
    own_index: int | None = None
    rival_indices: tuple[int, ...] = ()
    rival_names: tuple[str, ...] = ()
    time_index: int | None = None
    inventory_index: int | None = None
    sales_index: int | None = None
    unit_cost: float | None = None
    horizon: int | None = None
    start_t: float | None = None
    inventory: float | None = None
    sales_scale: float = 1.0
    kernel: Any = None
    seat: int = 0
    n_sellers: int = 1
    nash_price: float | None = None
    monopoly_price: float | None = None
    _grid: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_env(cls, env: Any) -> MarketView:
        """The view of a pricegym env (or a wrapper of one).

        Recognises an :class:`~pricegym.envs.oligopoly.OligopolyEnv` (seat 0), an
        :class:`~pricegym.envs.oligopoly.OpponentWrapper` (the learner's seat) and any
        single-seller env with ``observation_names`` and ``prices`` or
        ``p_min``/``p_max`` (PricingEnv, its wrappers, or a test double).
        """
        olig, seat = _find_oligopoly(env)
        if olig is not None:
            return cls._from_oligopoly(olig, seat)
        base = getattr(env, "unwrapped", env)
        if isinstance(getattr(env, "action_space", None), spaces.MultiDiscrete):
            raise ConfigError(
                f"cannot bind to {type(base).__name__}: it is a catalogue market (one price per "
                "product, a MultiDiscrete action); one-product agents cannot price it. Use a "
                "catalogue agent (catalogue_fixed_price, catalogue_cost_plus, catalogue_myopic, "
                "catalogue_markdown, catalogue_thompson) or sb3 with ppo / a2c."
            )
        try:
            codec = ActionCodec.from_env(env)
        except AttributeError as exc:
            raise ConfigError(
                f"cannot bind to {type(env).__name__}: it exposes neither a price grid "
                "(`prices`) nor a price range (`p_min`/`p_max`); bind agents to a pricegym "
                "PricingEnv, OligopolyEnv or OpponentWrapper."
            ) from exc
        names = tuple(str(n) for n in getattr(base, "observation_names", ()))
        index = {n: i for i, n in enumerate(names)}
        comps = [(n, i) for n, i in index.items() if n.startswith("competitor_price:")]
        config = getattr(base, "config", None)
        cost = getattr(config, "cost", getattr(base, "unit_cost", None))
        inv0 = getattr(config, "inventory", getattr(base, "inventory", None))
        if config is not None and inv0 is not None and not inv0:
            # PricingEnv: a market that starts empty reports stock relative to replenish_to.
            inv0 = getattr(config, "replenish_to", None) or 1.0
        horizon = getattr(base, "horizon", getattr(config, "horizon", None))
        return cls(
            layout="single",
            codec=codec,
            names=names,
            price_scale=float(getattr(base, "p_max", codec.p_max)),
            own_index=index.get("own_last_price"),
            rival_indices=tuple(i for _, i in comps),
            rival_names=tuple(n.split(":", 1)[1] for n, _ in comps),
            time_index=index.get("time_remaining"),
            inventory_index=index.get("inventory_fraction"),
            sales_index=index.get("last_sales"),
            unit_cost=None if cost is None else float(cost),
            horizon=None if horizon is None else int(horizon),
            start_t=getattr(base, "start_t", None),
            inventory=None if inv0 is None else float(inv0),
            sales_scale=float(getattr(base, "sales_scale", 1.0)),
            kernel=getattr(base, "kernel", None),
            seat=0,
            n_sellers=1 + len(comps),
        )

    @classmethod
    def _from_oligopoly(cls, olig: Any, seat: int) -> MarketView:
        n, k = int(olig.n_sellers), int(olig.memory)
        grid = np.asarray(olig.grid, dtype=np.float64)
        discrete = olig.action_type == "discrete"
        codec = (
            ActionCodec.from_grid(grid)
            if discrete
            else ActionCodec.from_range(olig.p_lo, olig.p_hi)
        )
        names: list[str] = []
        for lag in range(1, k + 1):
            names.append(f"own_price:lag{lag}")
            names += [f"rival_price:{r}:lag{lag}" for r in range(1, n)]
        if olig.moves == "sequential":
            names.append("turn")
        if olig.shocks is not None:
            names += [f"regime:{r}" for r in range(olig.shocks.n_regimes)]
        costs = np.asarray(olig.cost, dtype=np.float64)
        rivals = [f"seller_{i}" for i in range(n) if i != seat]
        kernel = olig.kernel
        if kernel is None:
            from pricegym.demand.parametric import LogitTruth  # pandas: unloaded unless needed

            kernel = LogitTruth(
                olig.quality,
                olig.outside,
                olig.mu,
                olig.market_size,
                support=(olig.p_lo, olig.p_hi),
            )
        return cls(
            layout="oligopoly",
            codec=codec,
            names=tuple(names),
            own_index=0,
            rival_indices=tuple(range(1, n)),
            rival_names=tuple(rivals),
            unit_cost=float(costs[seat]),
            horizon=olig.horizon,
            kernel=kernel,
            seat=seat,
            n_sellers=n,
            nash_price=float(olig.nash_prices[seat]),
            monopoly_price=float(olig.monopoly_prices[seat]),
            _grid=grid if discrete else None,
        )

    # ------------------------------------------------------------ reading
    def _price(self, obs: np.ndarray, idx: Sequence[int]) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float64)[list(idx)]
        if self.layout == "single":
            return x * self.price_scale
        if self._grid is not None:
            m = self._grid.size
            return self._grid[np.clip(np.rint(x * (m - 1)).astype(np.int64), 0, m - 1)]
        return self.codec.p_min + np.clip(x, 0.0, 1.0) * (self.codec.p_max - self.codec.p_min)

    def own_price(self, obs: np.ndarray) -> float:
        """This seller's price last period (money units)."""
        if self.own_index is None:
            raise ConfigError("the market's observation has no own_last_price entry.")
        return float(self._price(obs, [self.own_index])[0])

    def rival_prices(self, obs: np.ndarray) -> np.ndarray:
        """The competitors' (rivals') prices last period, in observation order."""
        return self._price(obs, self.rival_indices)

    def time_remaining(self, obs: np.ndarray) -> float:
        """Fraction of the season still to come, in [0, 1]."""
        if self.time_index is None:
            raise ConfigError("the market's observation has no time_remaining entry.")
        return float(obs[self.time_index])

    def periods_remaining(self, obs: np.ndarray) -> int:
        """Periods still to be priced, including the current one."""
        if self.horizon is None:
            raise ConfigError("the market has no finite horizon.")
        return round(self.time_remaining(obs) * self.horizon)

    def inventory_fraction(self, obs: np.ndarray) -> float:
        """Stock / initial stock."""
        if self.inventory_index is None:
            raise ConfigError("the market's observation has no inventory_fraction entry.")
        return float(obs[self.inventory_index])

    def last_sales(self, obs: np.ndarray) -> float | None:
        """Units sold last period, read back from ``last_sales`` (None if not observed).

        The observation is float32 ``sales / sales_scale``; a value within 1e-4 of an
        integer is returned as that integer (count data round-trips exactly).
        """
        if self.sales_index is None:
            return None
        units = float(obs[self.sales_index]) * self.sales_scale
        near = round(units)
        return float(near) if abs(units - near) <= 1e-4 * max(1.0, abs(units)) else units

    # ------------------------------------------------------------ requirements
    def require(self, what: str, agent: Any) -> None:
        """Raise a ConfigError when the market lacks ``what`` the agent needs."""
        missing = {
            "rivals": not self.rival_indices,
            "time": self.time_index is None,
            "inventory": self.inventory_index is None or self.inventory is None,
            "own_price": self.own_index is None,
            "horizon": self.horizon is None,
        }[what]
        if not missing:
            return
        fix = {
            "rivals": "a market with at least one competitor column (or an oligopoly seat)",
            "time": "a single-seller market, whose observation has time_remaining",
            "inventory": "a market with a finite inventory (inventory=...)",
            "own_price": "a market whose observation has the own last price",
            "horizon": "a market with a finite season (horizon=...)",
        }[what]
        raise ConfigError(
            f"agent {agent.name!r} ({type(agent).__name__}) needs {fix}; the {self.layout} "
            f"market it was bound to has observations {list(self.names)}."
        )


def _find_oligopoly(env: Any) -> tuple[Any, int]:
    """(the OligopolyEnv behind ``env``, this seller's seat) or (None, 0)."""
    from pricegym.envs.oligopoly import OligopolyEnv, OpponentWrapper  # scipy, pandas, PettingZoo

    seen: list[Any] = []
    e = env
    while e is not None and not any(e is s for s in seen) and len(seen) < 32:
        seen.append(e)
        if isinstance(e, OpponentWrapper):
            return e.env, list(e.env.possible_agents).index(e.learner)
        if isinstance(e, OligopolyEnv):
            return e, 0
        e = getattr(e, "env", None)
    return None, 0
