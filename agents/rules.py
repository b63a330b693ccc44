"""Rule-based sellers: fixed, cost-plus, myopic, competitor-, time-, stock-based, repeated-game.

Every rule is a :class:`~pricegym.agents.base.PricingAgent` that works as the
seller of a single-seller market (:class:`~pricegym.envs.market.PricingEnv`), as a
rival inside one (the env binds rivals to itself and shows each a mirror
observation of the same layout), and as a seller of the repeated oligopoly
(:class:`~pricegym.envs.oligopoly.OligopolyEnv`, or its single-seller view
:class:`~pricegym.envs.oligopoly.OpponentWrapper`). A rule reads what it needs
from observations through :class:`MarketView`, which :meth:`MarketAgent.bind`
builds from the env:

- single-seller layout (names from ``observation_names``): ``own_last_price`` and
  every ``competitor_price:<col>`` are price / p_max; ``time_remaining``,
  ``inventory_fraction`` and ``last_sales`` as documented on ``PricingEnv``;
- oligopoly layout: the last k rounds of all prices, own seat first and rivals in
  seat order, each coded as grid index / (m − 1) (or its position in the range for
  continuous prices); :class:`MarketView` decodes them back to prices and names
  the entries ``own_price:lag1``, ``rival_price:1:lag1``, …

A rule computes a price and returns the market's action for it (grid index or
value in [-1, 1]); prices outside the market's range are clipped into it. Rules
that need something the market does not show (a competitor, the time remaining,
a finite inventory) raise :class:`~pricegym.errors.ConfigError` at ``bind``.

=====================  ===================================================================
kind                   rule (one sentence)
=====================  ===================================================================
``fixed_price``        Always charge ``price``.
``cost_plus``          Charge unit cost × (1 + ``markup``).
``myopic``             Charge the price maximising this period's expected profit under a
                       demand model, given the competitors' last prices.
``match_lowest``       Charge the lowest competitor's last price.
``undercut``           Charge the lowest competitor's last price minus ``step``, never below
                       ``floor``.
``follow_leader``      Charge ``ratio`` × the last price of competitor number ``leader``.
``markdown``           Charge the price a schedule of (time remaining, price) breakpoints
                       gives for the time remaining.
``inventory_balancing``  Raise the price when sell-through is ahead of a linear target,
                       cut it when behind, by bounded relative steps.
``tit_for_tat``        Open at the cooperative price, then charge the lowest rival's last
                       price (never above the cooperative price).
``grim_trigger``       Charge the cooperative price until a rival undercuts it, then the
                       punishment price for the rest of the episode.
``random_price``       Charge a price drawn uniformly from the grid (or range) in
                       [``low``, ``high``].
=====================  ===================================================================
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import optimize

from pricegym._validate import NON_NEGATIVE, POSITIVE, real
from pricegym.agents.base import PricingAgent
from pricegym.agents.view import PRICE_RTOL, MarketView
from pricegym.demand import parametric
from pricegym.demand.base import DemandModel
from pricegym.demand.kernels import DemandKernel
from pricegym.errors import ConfigError, PricegymWarning

__all__ = [
    "CostPlus",
    "FixedPrice",
    "FollowLeader",
    "GrimTrigger",
    "InventoryBalancing",
    "MarkdownSchedule",
    "MarketAgent",
    "MarketView",
    "MatchLowest",
    "Myopic",
    "RandomPrice",
    "TitForTat",
    "Undercut",
    "demand_from_spec",
]

#: Number of evenly spaced prices scanned before the bounded refinement of
#: :class:`Myopic` on a continuous range (guards against local optima).
MYOPIC_SCAN = 65


# ==================================================================== base class
class MarketAgent(PricingAgent):
    """A :class:`PricingAgent` that reads its market through a :class:`MarketView`.

    :meth:`bind` accepts every pricegym market (single-seller envs through the base
    protocol's :class:`ActionCodec`, and the oligopoly and its opponent wrapper),
    sets ``self.codec`` and ``self.obs_index`` as the protocol says, and keeps the
    view in ``self.market``. Subclasses implement :meth:`_price` (the rule) and may
    extend :meth:`_check_market` (what the rule needs) and :meth:`_reset`.
    """

    def _bind(self, env: Any) -> None:
        self._check_market(self.market)

    def _check_market(self, view: MarketView) -> None:
        """Hook: raise ConfigError when ``view`` lacks what the rule needs (default: nothing)."""
        return None

    def _view(self) -> MarketView:
        self._require_bound()
        view = getattr(self, "market", None)
        if view is None:  # bound through PricingAgent.bind by a subclass override
            raise ConfigError(f"agent {self.name!r} has no market view; call agent.bind(env).")
        return view

    def _rng(self) -> np.random.Generator:
        rng = getattr(self, "rng", None)
        if rng is None:
            raise ConfigError(
                f"agent {self.name!r} has no random source yet; call agent.reset(seed) before act."
            )
        return rng

    def _cost(self, unit_cost: float | None) -> float:
        """``unit_cost`` if given, else the market's unit cost."""
        if unit_cost is not None:
            return float(unit_cost)
        cost = self._view().unit_cost
        if cost is None:
            raise ConfigError(
                f"agent {self.name!r} needs a unit cost and the market does not state one; "
                "pass unit_cost=..."
            )
        return cost

    def to_action(
        self, price: float, rounding: Literal["nearest", "down", "up"] = "nearest"
    ) -> Any:
        """The market's action for ``price`` (clipped into the market's range).

        On a grid, ``rounding`` picks the nearest grid price, the highest grid price
        ≤ ``price`` (``"down"``; the lowest grid price if none) or the lowest ≥ it
        (``"up"``; the highest if none). Returns an ``int`` (grid) or a float32 array
        of shape (1,) (continuous).
        """
        codec = self._require_bound()
        p = min(max(float(price), codec.p_min), codec.p_max)
        if codec.grid is None:
            return np.array([codec.to_action(p)], dtype=np.float32).reshape(1)
        grid = codec.grid
        tol = PRICE_RTOL * codec.p_max
        if rounding == "nearest":
            return int(codec.to_action(p))
        if rounding == "down":
            return max(int(np.searchsorted(grid, p + tol, side="right")) - 1, 0)
        return min(int(np.searchsorted(grid, p - tol, side="left")), grid.size - 1)

    def act(self, observation: np.ndarray) -> Any:
        """The action of the rule's price for ``observation``."""
        self._view()
        price, rounding = self._price(np.asarray(observation))
        return self.to_action(price, rounding)

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest", "down", "up"]]:
        """The rule: (price, how to round it onto a grid)."""
        raise NotImplementedError

    #: :meth:`policy_memory` of the rule: its deterministic memory besides the observation
    #: (``()`` for a function of the observation; None for a rule that draws random numbers).
    _memory: tuple[str, ...] | None = ()

    def policy_memory(self) -> tuple[str, ...] | None:
        """The rule's memory besides the observation (see :meth:`PricingAgent.policy_memory`)."""
        return self._memory


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    return real(
        name,
        value,
        NON_NEGATIVE if allow_zero else POSITIVE,
        message="{name}={value!r} must be {rule}; pass e.g. {name}=1.0.",
        not_a_number="{name}={value!r} must be a number.",
    )


def _money(value: float) -> str:
    """A price for messages: rounded to 6 decimals, shown as Python shows floats."""
    return repr(round(float(value), 6))


def _optional(name: str, value: Any, allow_zero: bool = True) -> float | None:
    return None if value is None else _positive(name, value, allow_zero)


# ==================================================================== simple rules
class FixedPrice(MarketAgent):
    """Always charge ``price``.

    Parameters:
        price: the price (> 0); on a grid the nearest grid price, clipped to the range.
            When the price played differs from ``price`` (not on the grid, or outside
            the range), :meth:`bind` warns with a :class:`~pricegym.errors.PricegymWarning`
            naming both prices.
        name: label for reports.
    """

    kind = "fixed_price"

    def __init__(self, price: float = 1.0, name: str | None = None) -> None:
        self.price = _positive("price", price)
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        codec = view.codec
        played = float(codec.to_price(self.to_action(self.price)).reshape(-1)[0])
        if abs(played - self.price) <= PRICE_RTOL * max(self.price, codec.p_max):
            return
        where = (
            f"grid prices {_money(codec.p_min)} .. {_money(codec.p_max)}"
            if codec.grid is not None
            else f"range [{_money(codec.p_min)}, {_money(codec.p_max)}]"
        )
        inside = codec.p_min <= self.price <= codec.p_max
        what = "is not on" if inside else "is outside"
        widen = "put it on the grid (market option prices)" if inside else "widen p_min/p_max"
        warnings.warn(
            f"fixed_price agent {self.name or self.kind!r}: price={_money(self.price)} {what} "
            f"the market's {where}; it plays {_money(played)} instead. Give a price the market "
            f"offers (e.g. price: {_money(played)}) or {widen}.",
            PricegymWarning,
            stacklevel=4,
        )

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        return self.price, "nearest"


class CostPlus(MarketAgent):
    """Charge unit cost × (1 + ``markup``).

    Parameters:
        markup: relative markup over unit cost (>= 0); 0.5 charges 150% of cost.
        unit_cost: the cost the markup applies to; ``None`` uses the market's unit cost.
        name: label for reports.
    """

    kind = "cost_plus"

    def __init__(
        self, markup: float = 0.5, unit_cost: float | None = None, name: str | None = None
    ) -> None:
        self.markup = _positive("markup", markup, allow_zero=True)
        self.unit_cost = _optional("unit_cost", unit_cost)
        self.name = name

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        return self._cost(self.unit_cost) * (1.0 + self.markup), "nearest"


class RandomPrice(MarketAgent):
    """Charge a price drawn uniformly from the grid prices in [``low``, ``high``] (or that range).

    Parameters:
        low, high: bounds of the draw; ``None`` for the market's lowest / highest price.
            On a grid with no price in [low, high] the grid price nearest to their
            midpoint is charged.
        name: label for reports.

    Draws from the agent's ``rng`` (seeded by ``reset``).
    """

    kind = "random_price"
    _memory = None  # draws a random price

    def __init__(
        self, low: float | None = None, high: float | None = None, name: str | None = None
    ) -> None:
        self.low = _optional("low", low, allow_zero=False)
        self.high = _optional("high", high, allow_zero=False)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigError(f"low={low!r} > high={high!r}; pass low <= high.")
        self.name = name

    def act(self, observation: np.ndarray) -> Any:
        codec = self._require_bound()
        rng = self._rng()
        lo = codec.p_min if self.low is None else self.low
        hi = codec.p_max if self.high is None else self.high
        if codec.grid is not None:
            tol = PRICE_RTOL * codec.p_max
            allowed = np.flatnonzero((codec.grid >= lo - tol) & (codec.grid <= hi + tol))
            if allowed.size == 0:
                return self.to_action(0.5 * (lo + hi))
            return int(allowed[rng.integers(allowed.size)])
        return self.to_action(rng.uniform(max(lo, codec.p_min), min(hi, codec.p_max)))


# ==================================================================== myopic
_FORMS = {
    "linear": ("LinearTruth", ("a", "b")),
    "exponential": ("ExponentialTruth", ("a", "alpha")),
    "constant_elasticity": ("ConstantElasticity", ("a", "elasticity")),
    "logit": ("LogitTruth", ("quality", "outside", "mu", "market_size")),
}


def demand_from_spec(spec: Any) -> DemandKernel:
    """A demand kernel from a JSON-able spec, a model, or a kernel.

    ``spec`` is one of: a :class:`DemandKernel`; a fitted
    :class:`~pricegym.demand.base.DemandModel` (its kernel); a path to a saved model
    (:meth:`DemandModel.save`); or a parametric truth as a mapping with ``form``
    (``linear``, ``exponential``, ``constant_elasticity``, ``logit``), its
    parameters as in :mod:`pricegym.demand.parametric` and optionally ``support``.
    """
    if isinstance(spec, DemandKernel):
        return spec
    if isinstance(spec, DemandModel):
        return spec.kernel()
    if isinstance(spec, str | Path):
        return DemandModel.load(spec).kernel()
    if isinstance(spec, Mapping):
        form = spec.get("form")
        if form not in _FORMS:
            raise ConfigError(
                f"demand spec form={form!r} is unknown; use one of {sorted(_FORMS)} "
                "(or pass a saved model path or a DemandKernel)."
            )
        cls_name, keys = _FORMS[form]
        known = {"form", "support", *keys}
        extra = sorted(set(spec) - known)
        if extra:
            raise ConfigError(
                f"demand spec of form {form!r} does not take {extra}; it takes {sorted(known)}."
            )
        kwargs = {k: spec[k] for k in keys if k in spec}
        if spec.get("support") is not None:
            kwargs["support"] = tuple(spec["support"])
        return getattr(parametric, cls_name)(**kwargs)
    raise ConfigError(
        f"demand={spec!r} is not a demand model: pass a DemandKernel, a fitted DemandModel, "
        "a saved model path, or a parametric spec such as {'form': 'exponential', 'a': 50, "
        "'alpha': 0.5}."
    )


def _spec_of(kernel: DemandKernel) -> dict[str, Any] | None:
    """The JSON spec that rebuilds a parametric truth (None for other kernels)."""
    params = getattr(kernel, "params", None)
    if not callable(params):
        return None
    spec = params()
    if not isinstance(spec, dict) or spec.get("form") not in _FORMS:
        return None
    spec["support"] = list(kernel.support)
    return spec


class Myopic(MarketAgent):
    """Charge the price that maximises this period's expected profit under a demand model.

    The expected profit of price p is ``(p − unit_cost)·λ(p)`` with λ the demand
    model's expected units in this period's context: the calendar period from the
    observation's time remaining, the competitors' last prices from the observation
    (the best forecast of their prices now), the model's reference promotions and
    its initial (end-of-history) state. In an oligopoly λ is this seller's expected
    units when the rivals keep their last prices (a myopic best response). On a grid
    every price is evaluated; on a continuous range :data:`MYOPIC_SCAN` evenly spaced
    prices are scanned and the best is refined with
    ``scipy.optimize.minimize_scalar(method="bounded")`` between its neighbours.
    Finite stock is ignored (that is what makes it myopic).

    Parameters:
        demand: the demand model: ``None`` for the market's own (true) demand, a
            parametric spec ``{"form": "exponential", "a": 50, "alpha": 0.5}``, a saved
            model path, a fitted DemandModel or a DemandKernel. Parametric truths and
            paths are saved with the agent; an in-memory fitted model or other kernel
            cannot be (``save`` raises ConfigError).
        unit_cost: ``None`` for the market's unit cost.
        name: label for reports.
    """

    kind = "myopic"

    def __init__(
        self, demand: Any = None, unit_cost: float | None = None, name: str | None = None
    ) -> None:
        self._kernel: DemandKernel | None = None
        if demand is not None:
            self._kernel = demand_from_spec(demand)
            if isinstance(demand, Path):
                demand = str(demand)
            elif not isinstance(demand, str | Mapping):
                demand = _spec_of(self._kernel) or demand
        self.demand = demand
        self.unit_cost = _optional("unit_cost", unit_cost)
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        kernel = self._kernel if self._kernel is not None else view.kernel
        if kernel is None:
            raise ConfigError(
                f"agent {self.name!r} (Myopic) has no demand model: the market exposes no "
                "kernel; pass demand=..."
            )
        n = int(getattr(kernel, "n_sellers", 1))
        if view.layout == "oligopoly" and n != view.n_sellers:
            raise ConfigError(
                f"demand model has n_sellers={n} but the oligopoly has {view.n_sellers} "
                "sellers; pass a model of the whole market (or demand=None for its own)."
            )
        if view.layout == "single":
            if n != 1:
                raise ConfigError(
                    f"demand model has n_sellers={n}; a single-seller market needs a "
                    "one-seller model."
                )
            cols = tuple(kernel.spec.competitors)
            if cols and cols != view.rival_names:
                raise ConfigError(
                    f"demand model's competitor columns {list(cols)} differ from the market's "
                    f"{list(view.rival_names)}; pass the model the market was built on."
                )
        self._active = kernel

    def expected_profit(self, prices: np.ndarray, observation: np.ndarray) -> np.ndarray:
        """Expected profit of each candidate price this period (shape of ``prices``)."""
        view = self._view()
        kernel = self._active
        p = np.asarray(prices, dtype=np.float64).reshape(-1)
        cost = self._cost(self.unit_cost)
        if view.layout == "oligopoly":
            rivals = view.rival_prices(observation)
            full = np.empty((p.size, view.n_sellers))
            full[:, view.seat] = p
            full[:, [i for i in range(view.n_sellers) if i != view.seat]] = rivals
            units = kernel.expected(full, kernel.context(p.size), kernel.initial_state(p.size))
            q = np.asarray(units, dtype=np.float64)[:, view.seat]
        else:
            t = None
            if view.time_index is not None and view.horizon and view.start_t is not None:
                elapsed = round((1.0 - view.time_remaining(observation)) * view.horizon)
                t = float(view.start_t) + elapsed
            comps = None
            if kernel.spec.competitors:
                comps = view.rival_prices(observation)
            ctx = kernel.context(p.size, t=t, competitors=comps)
            q = np.asarray(kernel.expected(p, ctx, kernel.initial_state(p.size)), np.float64)
        return ((p - cost) * q).reshape(np.shape(prices))

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        codec = self._require_bound()
        if codec.grid is not None:
            return float(codec.grid[int(np.argmax(self.expected_profit(codec.grid, obs)))]), (
                "nearest"
            )
        scan = np.linspace(codec.p_min, codec.p_max, MYOPIC_SCAN)
        values = self.expected_profit(scan, obs)
        i = int(np.argmax(values))
        lo, hi = scan[max(i - 1, 0)], scan[min(i + 1, scan.size - 1)]
        res = optimize.minimize_scalar(
            lambda x: -float(self.expected_profit(np.array([x]), obs)[0]),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10 * codec.p_max},
        )
        best = float(res.x) if -res.fun >= values[i] else float(scan[i])
        return best, "nearest"

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self.demand is not None and not isinstance(self.demand, str | Mapping):
            raise ConfigError(
                f"agent {self.name!r} (Myopic) holds an in-memory demand model "
                f"({type(self.demand).__name__}) that cannot be written to JSON; save the model "
                "with model.save(path) and pass demand=path (or a parametric spec)."
            )
        return {}, {}


# ==================================================================== competitor-based
class MatchLowest(MarketAgent):
    """Charge the lowest competitor's last price.

    Parameters:
        name: label for reports.

    Needs at least one competitor (a competitor column, or a rival seat).
    """

    kind = "match_lowest"

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        view.require("rivals", self)

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        return float(self._view().rival_prices(obs).min()), "nearest"


class Undercut(MarketAgent):
    """Charge the lowest competitor's last price minus ``step``, never below ``floor``.

    Parameters:
        step: the undercut in money units (>= 0). On a grid the highest grid price
            ≤ lowest − step is charged, so a positive step always undercuts when
            the grid allows it.
        floor: the lowest price ever charged; ``None`` for the market's unit cost
            (never sell at a loss). On a grid the price is the lowest grid price
            ≥ floor when the undercut would go below it.
        name: label for reports.
    """

    kind = "undercut"

    def __init__(
        self, step: float = 0.05, floor: float | None = None, name: str | None = None
    ) -> None:
        self.step = _positive("step", step, allow_zero=True)
        self.floor = _optional("floor", floor)
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        view.require("rivals", self)

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["down", "up"]]:
        floor = self._cost(self.floor)
        target = float(self._view().rival_prices(obs).min()) - self.step
        if target < floor * (1.0 + PRICE_RTOL):
            return floor, "up"
        codec = self._require_bound()
        if codec.grid is not None:
            tol = PRICE_RTOL * codec.p_max
            below = codec.grid[(codec.grid <= target + tol) & (codec.grid >= floor - tol)]
            if below.size == 0:
                return floor, "up"
        return target, "down"


class FollowLeader(MarketAgent):
    """Charge ``ratio`` × the last price of competitor number ``leader``.

    Parameters:
        leader: which competitor leads: an index into the competitors in observation
            order (0 = the first competitor column, or the first rival seat), or a
            competitor column / seat name (e.g. ``"seller_1"``). A rival inside a
            PricingEnv sees the seller in its own competitor slot, so ``leader=0`` on
            the first rival follows the seller.
        ratio: relative price to the leader (> 0); 0.98 prices 2% below it.
        name: label for reports.
    """

    kind = "follow_leader"

    def __init__(self, leader: int | str = 0, ratio: float = 1.0, name: str | None = None) -> None:
        if isinstance(leader, bool) or not isinstance(leader, int | str):
            raise ConfigError(f"leader={leader!r} must be a competitor index or name.")
        if isinstance(leader, int) and leader < 0:
            raise ConfigError(f"leader={leader!r} must be >= 0 (0 = the first competitor).")
        self.leader = leader
        self.ratio = _positive("ratio", ratio)
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        view.require("rivals", self)
        names = list(view.rival_names)
        if isinstance(self.leader, str):
            if self.leader not in names:
                raise ConfigError(
                    f"leader={self.leader!r} is not one of the market's competitors {names}."
                )
            self._slot = names.index(self.leader)
        else:
            if self.leader >= len(names):
                raise ConfigError(
                    f"leader={self.leader} but the market has {len(names)} competitor(s) "
                    f"{names}; use an index in [0, {len(names)})."
                )
            self._slot = self.leader

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        return self.ratio * float(self._view().rival_prices(obs)[self._slot]), "nearest"


# ==================================================================== time and stock
class MarkdownSchedule(MarketAgent):
    """Charge the price a schedule of (time remaining, price) breakpoints gives at the time left.

    Parameters:
        breakpoints: pairs ``(time_remaining, price)`` with time remaining in [0, 1]
            (1 = start of the season, 0 = its end); the prices must not rise as time
            runs out (a markdown never marks up). ``None`` is a linear decline from the
            market's highest price at the start to its lowest at the end.
        interpolation: ``"linear"`` interpolates between breakpoints (constant beyond
            the first and last); ``"step"`` charges the price of the breakpoint with
            the smallest time remaining ≥ the current one (from the moment time
            remaining falls to f, charge its price), and the first breakpoint's price
            before that.
        name: label for reports.

    On a grid the nearest grid price is charged, which keeps the path monotone.
    Needs ``time_remaining`` in the observation.
    """

    kind = "markdown"

    def __init__(
        self,
        breakpoints: Sequence[Sequence[float]] | None = None,
        interpolation: Literal["linear", "step"] = "linear",
        name: str | None = None,
    ) -> None:
        if interpolation not in ("linear", "step"):
            raise ConfigError(f"interpolation={interpolation!r} must be 'linear' or 'step'.")
        self.interpolation = interpolation
        self.breakpoints: list[list[float]] | None = None
        if breakpoints is not None:
            try:
                pts = sorted(((float(f), float(p)) for f, p in breakpoints), key=lambda x: -x[0])
            except (TypeError, ValueError):
                raise ConfigError(
                    f"breakpoints={breakpoints!r} must be pairs (time_remaining, price)."
                ) from None
            if not pts:
                raise ConfigError("breakpoints is empty; give at least one (time, price) pair.")
            for f, p in pts:
                if not (0.0 <= f <= 1.0) or not (math.isfinite(p) and p > 0):
                    raise ConfigError(
                        f"breakpoint ({f}, {p}): time remaining must be in [0, 1] and the "
                        "price finite and > 0."
                    )
            fs = [f for f, _ in pts]
            if len(set(fs)) != len(fs):
                raise ConfigError(f"breakpoints repeat a time remaining: {fs}; use each once.")
            prices = [p for _, p in pts]
            if any(b > a for a, b in itertools.pairwise(prices)):
                raise ConfigError(
                    f"breakpoint prices {prices} (from the start of the season to its end) rise "
                    "somewhere; a markdown schedule must not increase as time runs out."
                )
            self.breakpoints = [[f, p] for f, p in pts]
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        view.require("time", self)

    def schedule_price(self, time_remaining: float) -> float:
        """The schedule's price at ``time_remaining`` (before rounding onto a grid)."""
        codec = self._require_bound()
        pts = self.breakpoints or [[1.0, codec.p_max], [0.0, codec.p_min]]
        r = float(time_remaining)
        if self.interpolation == "linear":
            fs = np.array([f for f, _ in pts][::-1])
            ps = np.array([p for _, p in pts][::-1])
            return float(np.interp(r, fs, ps))
        chosen = pts[0][1]
        for f, p in pts:  # time remaining descending; 1e-6 absorbs float32 observations
            if f >= r - 1e-6:
                chosen = p
        return float(chosen)

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        return self.schedule_price(self._view().time_remaining(obs)), "nearest"


class InventoryBalancing(MarketAgent):
    """Raise the price when sell-through is ahead of a linear target, cut it when behind.

    Sell-through is ``1 − inventory_fraction`` (share of the initial stock sold);
    its target after a share e = 1 − time_remaining of the season is
    ``target_sell_through · e``. With gap = sell-through − target, the price moves from
    the own last price by the relative step ``clip(gain·gap, −max_step, max_step)``
    when ``|gap| > deadband`` and stays put otherwise. On a grid a move is at least
    one grid step in its direction (else small moves would round back to the same
    price), and the price stays on the grid.

    Parameters:
        target_sell_through: share of the initial stock to have sold by the season's
            end, in (0, 1].
        gain: relative price change per unit of sell-through gap (> 0).
        max_step: the largest relative price change per period, in (0, 1).
        deadband: gaps of at most this size leave the price unchanged (>= 0).
        name: label for reports.

    Needs a finite inventory and ``time_remaining`` and ``own_last_price`` in the observation.
    """

    kind = "inventory_balancing"

    def __init__(
        self,
        target_sell_through: float = 1.0,
        gain: float = 2.0,
        max_step: float = 0.1,
        deadband: float = 0.02,
        name: str | None = None,
    ) -> None:
        self.target_sell_through = _positive("target_sell_through", target_sell_through)
        if self.target_sell_through > 1.0:
            raise ConfigError(
                f"target_sell_through={target_sell_through!r} must be in (0, 1] (a share of "
                "the initial stock)."
            )
        self.gain = _positive("gain", gain)
        self.max_step = _positive("max_step", max_step)
        if self.max_step >= 1.0:
            raise ConfigError(f"max_step={max_step!r} must be < 1 (a relative price change).")
        self.deadband = _positive("deadband", deadband, allow_zero=True)
        self.name = name

    def _check_market(self, view: MarketView) -> None:
        view.require("inventory", self)
        view.require("time", self)
        view.require("own_price", self)

    def gap(self, observation: np.ndarray) -> float:
        """Sell-through minus its target (> 0: ahead of target, selling too fast)."""
        view = self._view()
        sold = 1.0 - view.inventory_fraction(observation)
        elapsed = 1.0 - view.time_remaining(observation)
        return sold - self.target_sell_through * elapsed

    def act(self, observation: np.ndarray) -> Any:
        codec = self._require_bound()
        view = self._view()
        obs = np.asarray(observation)
        own = view.own_price(obs)
        gap = self.gap(obs)
        if abs(gap) <= self.deadband:
            return self.to_action(own)
        change = float(np.clip(self.gain * gap, -self.max_step, self.max_step))
        target = own * (1.0 + change)
        if codec.grid is None:
            return self.to_action(target)
        here = int(codec.to_action(own))
        if change > 0:
            return max(self.to_action(target, "up"), min(here + 1, codec.grid.size - 1))
        return min(self.to_action(target, "down"), max(here - 1, 0))


# ==================================================================== repeated games
class TitForTat(MarketAgent):
    """Open at the cooperative price, then charge the lowest rival's last price (never above it).

    The first period of every episode is the opening move (the last prices an
    oligopoly shows at reset were drawn at random, not chosen by the rivals).

    Parameters:
        cooperative_price: ``None`` for the oligopoly's joint-monopoly price of this
            seat (the market's highest price in a single-seller market).
        name: label for reports.
    """

    kind = "tit_for_tat"
    _memory = ("_opening",)

    def __init__(self, cooperative_price: float | None = None, name: str | None = None) -> None:
        self.cooperative_price = _optional("cooperative_price", cooperative_price, False)
        self.name = name
        self._opening = True

    def _check_market(self, view: MarketView) -> None:
        view.require("rivals", self)

    def _reset(self) -> None:
        self._opening = True

    def _cooperative(self) -> float:
        view = self._view()
        if self.cooperative_price is not None:
            return self.cooperative_price
        return view.monopoly_price if view.monopoly_price is not None else view.codec.p_max

    def _price(self, obs: np.ndarray) -> tuple[float, Literal["nearest"]]:
        coop = self._cooperative()
        if self._opening:
            self._opening = False
            return coop, "nearest"
        return min(coop, float(self._view().rival_prices(obs).min())), "nearest"


class GrimTrigger(MarketAgent):
    """Charge the cooperative price until a rival undercuts it, then the punishment price forever.

    "Undercut" means a rival's last price below the cooperative price as charged
    (after rounding onto the grid), by more than a relative 1e-6. The trigger is
    checked from the second period of an episode on (the prices shown at reset are
    not the rivals' choices) and, once pulled, holds until the next ``reset``.

    Parameters:
        cooperative_price: ``None`` for the oligopoly's joint-monopoly price of this
            seat (the market's highest price in a single-seller market).
        punishment_price: ``None`` for the oligopoly's Bertrand–Nash price of this seat
            (the market's lowest price in a single-seller market).
        name: label for reports.
    """

    kind = "grim_trigger"
    _memory = ("_opening", "triggered")

    def __init__(
        self,
        cooperative_price: float | None = None,
        punishment_price: float | None = None,
        name: str | None = None,
    ) -> None:
        self.cooperative_price = _optional("cooperative_price", cooperative_price, False)
        self.punishment_price = _optional("punishment_price", punishment_price, False)
        self.name = name
        self._opening = True
        self.triggered = False

    def _check_market(self, view: MarketView) -> None:
        view.require("rivals", self)

    def _reset(self) -> None:
        self._opening = True
        self.triggered = False

    def _prices(self) -> tuple[float, float]:
        view = self._view()
        coop = self.cooperative_price
        if coop is None:
            coop = view.monopoly_price if view.monopoly_price is not None else view.codec.p_max
        punish = self.punishment_price
        if punish is None:
            punish = view.nash_price if view.nash_price is not None else view.codec.p_min
        return coop, punish

    def act(self, observation: np.ndarray) -> Any:
        view = self._view()
        coop, punish = self._prices()
        coop_action = self.to_action(coop)
        charged = float(view.codec.to_price(coop_action).reshape(-1)[0])
        if self._opening:
            self._opening = False
        elif not self.triggered:
            lowest = float(view.rival_prices(np.asarray(observation)).min())
            self.triggered = lowest < charged * (1.0 - PRICE_RTOL)
        return self.to_action(punish) if self.triggered else coop_action
