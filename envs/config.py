"""Typed configuration of a single-seller pricing market, loadable from YAML or a dict.

:class:`MarketConfig` is the one description of a market that the single env
(:class:`~pricegym.envs.market.PricingEnv`) and the batched env
(:class:`~pricegym.envs.vector.MarketVectorEnv`) share, so both run the same
dynamics. The period-by-period semantics, in the order they happen in a step:

1. The action becomes a price (:meth:`MarketConfig.action_to_price` is the only
   place this mapping lives): a discrete action ``i`` is ``prices[i]`` of the grid;
   a continuous action ``a`` in [-1, 1] is ``p_min + (a + 1)/2·(p_max − p_min)``,
   clipped to [p_min, p_max].
2. Competitor prices for the period are drawn (exogenous path or rival agents).
3. Expected demand ``mu = kernel.expected(price, context, state)`` with calendar
   ``t = start_t + k`` (k = periods since reset); demand is a draw from the
   kernel's noise model (or ``mu`` itself when ``noise=False``).
4. ``sales = min(demand, inventory)``; ``lost_sales = demand − sales``.
5. ``revenue = price·sales``; ``cost = unit_cost·sales``; inventory falls by sales;
   ``holding = holding_cost·inventory_after_sales``; at the last period of the
   season the leftover stock is sold at ``salvage_value`` per unit
   (``salvage``); ``profit = revenue − cost − holding + salvage`` is the reward.
6. Replenishment (if configured) raises inventory to ``replenish_to`` after every
   ``replenish_every`` periods.
7. The kernel state advances with the period's demand (time-series models).
8. ``terminated`` when inventory is exhausted without replenishment, or the
   season of ``horizon`` periods is over (time remaining is in the observation);
   ``truncated`` when ``max_episode_steps`` periods have passed and the episode
   did not terminate (a training cut-off).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pricegym.errors import ConfigError

__all__ = ["CompetitorConfig", "MarketConfig"]


@dataclass(frozen=True)
class CompetitorConfig:
    """An exogenous competitor price process (one column per competitor of the model).

    Attributes:
        kind: ``"fixed"`` (constant ``prices``; default: the model's reference, i.e.
            the mean competitor price in the data), ``"random_walk"`` (log random
            walk from ``prices`` with step s.d. ``sigma``, reflected into
            [``low``, ``high``]), or ``"replay"`` (the rows of ``path`` in order,
            cycling; e.g. the history's competitor column).
        prices: starting / fixed prices, one per competitor column.
        sigma: s.d. of the log step of the random walk.
        low, high: bounds of the random walk (default ±50% around ``prices``).
        path: replayed prices, shape (n_periods, n_competitors).
    """

    kind: Literal["fixed", "random_walk", "replay"] = "fixed"
    prices: tuple[float, ...] | None = None
    sigma: float = 0.05
    low: tuple[float, ...] | None = None
    high: tuple[float, ...] | None = None
    path: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "random_walk", "replay"):
            raise ConfigError(
                f"competitor.kind={self.kind!r} is unknown; use 'fixed', 'random_walk' or 'replay'."
            )
        if not (np.isfinite(self.sigma) and self.sigma >= 0):
            raise ConfigError(f"competitor.sigma={self.sigma!r} must be finite and >= 0.")
        if self.kind == "replay" and not self.path:
            raise ConfigError(
                "competitor.kind='replay' needs competitor.path (rows of competitor prices); "
                "pass e.g. the history's competitor column."
            )
        for name in ("prices", "low", "high"):
            value = getattr(self, name)
            if value is not None and any(not (np.isfinite(v) and v > 0) for v in value):
                raise ConfigError(f"competitor.{name}={value!r}: every price must be > 0.")
        if self.path is not None:
            arr = np.asarray(self.path, dtype=np.float64)
            if arr.ndim != 2 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ConfigError(
                    "competitor.path must be a table (rows = periods, columns = competitors) "
                    f"of prices > 0; got shape {arr.shape} with min {np.nanmin(arr):g}."
                )


#: MarketConfig's numeric settings, and whether each may be None.
_NUMBERS = {
    "n_prices": False,
    "p_min": True,
    "p_max": True,
    "cost": False,
    "horizon": False,
    "inventory": True,
    "replenish_every": True,
    "replenish_to": True,
    "holding_cost": False,
    "salvage_value": False,
    "start_t": True,
    "max_episode_steps": True,
}


@dataclass(frozen=True)
class MarketConfig:
    """A single-seller market (see the module docstring for the step semantics).

    Attributes:
        action: ``"discrete"`` (a grid of prices) or ``"continuous"`` (``Box(-1, 1)``).
        n_prices: size of the evenly spaced grid on [p_min, p_max] (discrete only).
        prices: an explicit price grid, overriding ``n_prices`` (discrete only).
        p_min, p_max: the price range; default the demand model's support (the
            prices seen in its data).
        allow_outside_support: permit prices outside the model's support; needed
            to widen the range, and even then it warns.
        cost: unit cost of goods sold, >= 0.
        horizon: season length T in periods, >= 1.
        inventory: initial stock; ``None`` for unlimited supply.
        replenish_every: periods between replenishments (``None``: never).
        replenish_to: order-up-to level at replenishment (default: ``inventory``).
        holding_cost: cost per unit of stock carried over each period, >= 0.
        salvage_value: value per unit left at the end of the season, >= 0.
        start_t: calendar period of the first step on the model's clock (default:
            the period after its data).
        competitor: the exogenous competitor price process.
        noise: sample demand from the model's noise (True) or use expected demand.
        max_episode_steps: training cut-off → ``truncated``; ``None`` for none.
        product: the product (key, e.g. ``'5'``) of a pooled panel model to simulate;
            ``None`` simulates the panel's first product (and the market warns).
            See :func:`~pricegym.demand.products.select_product`.
    """

    action: Literal["discrete", "continuous"] = "discrete"
    n_prices: int = 10
    prices: tuple[float, ...] | None = None
    p_min: float | None = None
    p_max: float | None = None
    allow_outside_support: bool = False
    cost: float = 0.0
    horizon: int = 52
    inventory: float | None = None
    replenish_every: int | None = None
    replenish_to: float | None = None
    holding_cost: float = 0.0
    salvage_value: float = 0.0
    start_t: float | None = None
    competitor: CompetitorConfig = field(default_factory=CompetitorConfig)
    noise: bool = True
    max_episode_steps: int | None = None
    product: str | None = None

    def __post_init__(self) -> None:
        def bad(name: str, rule: str, fix: str) -> ConfigError:
            return ConfigError(f"{name}={getattr(self, name)!r}: {rule}; {fix}.")

        if self.action not in ("discrete", "continuous"):
            raise bad("action", "must be 'discrete' or 'continuous'", "pick one of the two")
        for name, optional in _NUMBERS.items():  # types first: the rules below compare numbers
            v = getattr(self, name)
            if v is None and optional:
                continue
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
                raise bad(
                    name,
                    "must be a number" + (" or None" if optional else ""),
                    f"pass a number (default: {getattr(MarketConfig, name)!r})",
                )
        if self.action == "discrete" and self.prices is None and self.n_prices < 2:
            raise bad("n_prices", "a price grid needs at least 2 prices", "use n_prices >= 2")
        if self.prices is not None:
            try:
                grid = np.asarray(self.prices, dtype=np.float64)
            except (TypeError, ValueError):
                raise bad("prices", "must be a list of numbers", "fix the grid") from None
            if grid.ndim != 1 or grid.size < 1 or np.any(~np.isfinite(grid)) or np.any(grid <= 0):
                raise bad("prices", "must be a non-empty list of prices > 0", "fix the grid")
            if np.any(np.diff(grid) <= 0):
                raise bad("prices", "must be strictly increasing", "sort and de-duplicate it")
        for name in ("p_min", "p_max"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v > 0):
                raise bad(name, "must be a finite price > 0", "pass a positive price")
        if self.p_min is not None and self.p_max is not None and self.p_min >= self.p_max:
            raise ConfigError(
                f"p_min={self.p_min!r} >= p_max={self.p_max!r}: the price range is empty; "
                "pass p_min < p_max."
            )
        for name in ("cost", "holding_cost", "salvage_value"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise bad(name, "must be finite and >= 0", "pass a non-negative amount")
        if int(self.horizon) != self.horizon or self.horizon < 1:
            raise bad("horizon", "must be an integer >= 1 period", "e.g. horizon=52 for a year")
        if self.inventory is not None and not (np.isfinite(self.inventory) and self.inventory >= 0):
            raise bad("inventory", "must be >= 0 (or None for unlimited)", "pass a stock level")
        if self.replenish_every is not None:
            if self.inventory is None:
                raise ConfigError(
                    f"replenish_every={self.replenish_every!r} needs a finite inventory; "
                    "set inventory or drop replenish_every."
                )
            if int(self.replenish_every) != self.replenish_every or self.replenish_every < 1:
                raise bad("replenish_every", "must be an integer >= 1", "e.g. 4")
        if self.replenish_to is not None and not (
            np.isfinite(self.replenish_to) and self.replenish_to >= 0
        ):
            raise bad("replenish_to", "must be >= 0", "pass an order-up-to level")
        if self.product is not None and (
            isinstance(self.product, bool) or not isinstance(self.product, str | int)
        ):
            raise bad("product", "must be a product key of the panel", "write e.g. product: '5'")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise bad("max_episode_steps", "must be >= 1 or None", "drop it for no cut-off")

    # ---------------------------------------------------------------- prices
    def price_range(self, support: tuple[float, float]) -> tuple[float, float]:
        """[p_min, p_max] after defaulting to the model's ``support`` and checking it.

        Raises:
            ConfigError: a price outside the support without ``allow_outside_support``.
        """
        lo = float(self.p_min) if self.p_min is not None else float(support[0])
        hi = float(self.p_max) if self.p_max is not None else float(support[1])
        if self.prices is not None:
            lo, hi = min(lo, float(self.prices[0])), max(hi, float(self.prices[-1]))
            if self.p_min is None and self.p_max is None:
                lo, hi = float(self.prices[0]), float(self.prices[-1])
        s_lo, s_hi = support
        outside = lo < s_lo * (1 - 1e-12) or hi > s_hi * (1 + 1e-12)
        if outside and not self.allow_outside_support:
            raise ConfigError(
                f"price range [{lo:g}, {hi:g}] leaves the demand model's support "
                f"[{s_lo:g}, {s_hi:g}] (the prices seen in its data), where demand is "
                "extrapolated; narrow p_min/p_max/prices, or set allow_outside_support=True "
                "to widen it on purpose."
            )
        if lo >= hi:
            raise ConfigError(f"price range [{lo:g}, {hi:g}] is empty; pass p_min < p_max.")
        return lo, hi

    def price_grid(self, support: tuple[float, float]) -> np.ndarray:
        """The discrete price grid (explicit ``prices`` or ``n_prices`` evenly spaced)."""
        if self.prices is not None:
            self.price_range(support)
            return np.asarray(self.prices, dtype=np.float64)
        lo, hi = self.price_range(support)
        return np.linspace(lo, hi, int(self.n_prices))

    @staticmethod
    def action_to_price(
        action: np.ndarray, grid: np.ndarray | None, lo: float, hi: float
    ) -> np.ndarray:
        """Prices for actions — the one place actions become prices.

        Discrete: ``grid[action]``. Continuous: ``lo + (clip(a, -1, 1) + 1)/2·(hi − lo)``.
        """
        if grid is not None:
            return grid[np.asarray(action, dtype=np.int64)]
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        return lo + 0.5 * (a + 1.0) * (hi - lo)

    # ---------------------------------------------------------------- io
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "market") -> MarketConfig:
        """Build from a mapping (e.g. parsed YAML); unknown keys get a did-you-mean."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{where}: expected a mapping of settings, got {type(data).__name__}."
            )
        known = {f.name for f in dataclasses.fields(cls)}
        values = dict(data)
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"{where}.{key}: unknown setting.{hint} Known settings: {sorted(known)}."
                )
        comp = values.get("competitor")
        if isinstance(comp, Mapping):
            ckeys = {f.name for f in dataclasses.fields(CompetitorConfig)}
            for key in comp:
                if key not in ckeys:
                    close = difflib.get_close_matches(str(key), sorted(ckeys), n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ConfigError(f"{where}.competitor.{key}: unknown setting.{hint}")
            cvals = dict(comp)
            for key in ("prices", "low", "high"):
                if cvals.get(key) is not None:
                    cvals[key] = tuple(float(v) for v in _as_sequence(cvals[key], key))
            if cvals.get("path") is not None:
                cvals["path"] = tuple(
                    tuple(float(v) for v in _as_sequence(r, "path")) for r in cvals["path"]
                )
            values["competitor"] = CompetitorConfig(**cvals)
        if values.get("prices") is not None:
            values["prices"] = tuple(float(v) for v in _as_sequence(values["prices"], "prices"))
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}; check the setting types.") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> MarketConfig:
        """Load from a YAML file holding the settings (optionally under a ``market:`` key)."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"market config {str(p)!r} does not exist; pass a YAML file path.")
        data = yaml.safe_load(p.read_text()) or {}
        if isinstance(data, Mapping) and "market" in data and isinstance(data["market"], Mapping):
            data = data["market"]
        return cls.from_dict(data, where=str(p))

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready representation (inverse of :meth:`from_dict`)."""
        return dataclasses.asdict(self)


def _as_sequence(value: Any, name: str) -> Sequence[Any] | np.ndarray:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise ConfigError(f"{name}={value!r} must be a list.")
    return value
