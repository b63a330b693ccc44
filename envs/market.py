"""The single-seller pricing market :class:`PricingEnv` (a :class:`gymnasium.Env`).

One seller sets a price each period; demand comes from any
:class:`~pricegym.demand.kernels.DemandKernel` — a fitted regression, ARIMAX or
neural model, or a parametric truth. The step semantics are those of
:mod:`pricegym.envs.config`; the class docstring is the env's specification. The
per-kernel evaluation of demand lives in :mod:`pricegym.envs._fastpath`.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction, ResetNeeded

from pricegym.demand.kernels import DemandKernel
from pricegym.demand.optimum import OptimumCheck, optimum_check
from pricegym.demand.products import kernel_products, select_product
from pricegym.envs import render as rendering
from pricegym.envs._fastpath import make_draw, make_path
from pricegym.envs.competitors import CompetitorProcess
from pricegym.envs.config import MarketConfig
from pricegym.errors import ConfigError, DecisionWarning, ExtrapolationWarning, PanelWarning

__all__ = ["PRICE_OBS_CAP", "SALES_OBS_CAP", "PricingEnv", "Rival"]

#: Observed last sales are ``min(sales / sales_scale, SALES_OBS_CAP)``.
SALES_OBS_CAP = 10.0
#: Observed competitor prices are ``min(price / p_max, PRICE_OBS_CAP)``.
PRICE_OBS_CAP = 10.0

_HISTORY_KEYS = ("t", "price", "demand", "sales", "inventory")


@runtime_checkable
class Rival(Protocol):
    """A rule-based or learned seller inside the market: a
    :class:`~pricegym.agents.base.PricingAgent` (or any object with these methods).

    The env calls ``bind(env)`` once at construction, so the rival acts in the
    seller's own action space; each period it calls ``act`` with the rival's
    mirror observation (same layout and ``observation_names`` as the seller's; see
    *Rivals* in :class:`PricingEnv`) and turns the returned action into a price
    with the env's one action → price mapping.
    """

    def bind(self, env: Any) -> Any:
        """Adopt the market's action ↔ price codec and observation names."""

    def reset(self, seed: int | None = None) -> Any:
        """Start a new episode; ``seed`` seeds the rival's own random source."""

    def act(self, observation: np.ndarray) -> Any:
        """An action of the env's action space (a grid index or a value in [-1, 1])."""


#: The stock fraction's largest ratio: an initial stock below replenish_to / this is
#: observed relative to replenish_to (a 1e-262 start restocked to 1 would otherwise
#: observe 4e261, inf in float32).
MAX_STOCK_RATIO = 1e6


def stock_denominator(initial: float, replenish_to: float | None) -> float:
    """What the observed stock is divided by: the initial stock, unless it is 0 or
    below ``replenish_to`` / :data:`MAX_STOCK_RATIO` (then ``replenish_to``, or 1)."""
    top = replenish_to or 0.0
    if initial > 0.0 and initial * MAX_STOCK_RATIO >= top:
        return initial
    return top or 1.0


class PricingEnv(gym.Env[np.ndarray, np.int64 | np.ndarray]):
    """One seller pricing against demand from a demand kernel, period by period.

    ## Description

    Each step is one period (e.g. a week) of a season of ``horizon`` periods. The
    seller picks a price; competitor prices for the period come from an exogenous
    process (fixed, random walk or replayed history; see
    :class:`~pricegym.envs.competitors.CompetitorProcess`) or from rival agents;
    demand is drawn around the kernel's expected units; sales are capped by
    inventory. The full step order is the one in :mod:`pricegym.envs.config`:
    price → competitor prices → expected and drawn demand (calendar
    ``t = start_t + k``) → sales, lost sales → revenue, cost, holding cost, salvage
    at the season's last period → replenishment → kernel state update with the
    period's demand → termination / truncation.

    ## Action Space

    - ``action="discrete"`` (default): ``Discrete(n)``; action ``i`` is the price
      ``prices[i]`` of the grid ``config.price_grid(kernel.support)`` (``n_prices``
      evenly spaced prices on [p_min, p_max], or the explicit ``prices``).
    - ``action="continuous"``: ``Box(-1, 1, (1,), float32)``; action ``a`` is the
      price ``p_min + (clip(a, −1, 1) + 1)/2 · (p_max − p_min)``, so −1 is p_min,
      +1 is p_max, and actions beyond are clipped.

    Both mappings are :meth:`MarketConfig.action_to_price`, the only place actions
    become prices (the grid's prices are computed through it once; a continuous
    action evaluates the same formula on a float, bit for bit). [p_min, p_max]
    defaults to the kernel's support (the prices seen in its data); prices outside
    it raise :class:`~pricegym.errors.ConfigError` unless
    ``allow_outside_support=True``, and then warn with
    :class:`~pricegym.errors.ExtrapolationWarning` once, at construction.

    ## Observation Space

    A ``Box`` of float32, d = 4 + m (+ 2 when the kernel's spec has a
    ``season_period``), m = number of competitor columns of the kernel:

    | index   | observation              | unit / scaling                       | min | max     |
    |---------|--------------------------|--------------------------------------|-----|---------|
    | 0       | time remaining           | (T − k)/T, k = periods played        | 0   | 1       |
    | 1       | inventory fraction       | stock / initial stock (1: unlimited) | 0   | inv_max |
    | 2       | own last price           | price / p_max                        | 0   | 1       |
    | 3…2+m   | competitors' last prices | min(price / p_max, 10)               | 0   | 10      |
    | 3+m     | last sales               | min(sales / sales_scale, 10)         | 0   | 10      |
    | 4+m     | season sine (seasonal)   | sin(2π t / season_period)            | −1  | 1       |
    | 5+m     | season cosine (seasonal) | cos(2π t / season_period)            | −1  | 1       |

    ``sales_scale`` is the expected demand at p_min in the kernel's reference
    context (so last sales are about unit range); ``t`` is the calendar period about
    to be priced. ``inv_max`` = max(1, replenish_to / initial stock); with an
    initial stock of 0 — or below ``replenish_to`` / 10⁶, where the fraction would
    overflow float32 — the fraction is relative to ``replenish_to`` (or 1).
    ``observation_names`` lists the entries (``competitor_price:<column>`` for the
    competitors).

    ## Rewards

    The period's profit ``revenue − cost − holding + salvage`` with
    ``revenue = price·sales``, ``cost = unit_cost·sales``,
    ``holding = holding_cost·stock after sales`` and, at the season's last period
    only, ``salvage = salvage_value·leftover stock``. ``info`` holds ``price``,
    ``expected_demand``, ``demand``, ``sales``, ``lost_sales`` (= demand − sales),
    ``revenue``, ``cost``, ``holding_cost``, ``salvage``, ``profit``, ``inventory``
    (stock after the period, ``inf`` when unlimited; at the season's end the
    leftover stock that was salvaged), ``replenished`` (units added this period),
    ``competitor_prices`` (array of the m prices of the period) and ``t`` (calendar
    period). ``reset`` returns ``t``, ``inventory`` and ``competitor_prices``. A
    market on a model fitted to daily data also returns ``date`` (ISO date of period
    ``t``): ``t`` counts the model's trading days, so a Mon–Fri market steps from a
    Friday to the next Monday and never simulates a closed day.

    ## Starting State

    k = 0, stock = ``inventory`` (unlimited if ``None``), own last price = the
    middle of [p_min, p_max], competitors' last prices = their starting prices (a
    rival's clipped into [p_min, p_max]), last sales = 0, kernel state = its
    end-of-history state (``initial_state``).

    ## Episode End

    - Terminated: stock reaches 0 in a market without replenishment, or the season
      of ``horizon`` periods is over (time remaining is observed).
    - Truncated: ``max_episode_steps`` periods have passed without termination (a
      training cut-off; ``gymnasium.make(..., max_episode_steps=...)`` adds a
      ``TimeLimit`` wrapper that does the same from outside).
    - Stepping after the episode ended raises :class:`gymnasium.error.ResetNeeded`.

    ## Rivals

    A rival is a :class:`~pricegym.agents.base.PricingAgent` (see :class:`Rival`);
    rival j sets competitor column j (columns left over stay exogenous). The env
    calls ``rival.bind(env)`` at construction, so the rival acts in the seller's
    action space, and its action becomes a price through the same mapping as the
    seller's. Each period, before demand, rival j is shown its **mirror
    observation**: the seller's current observation (same layout, same
    ``observation_names``) with index 2 (own last price) set to the rival's own
    last price / p_max and competitor slot j set to min(seller's last price /
    p_max, 10); every other entry is the seller's (time, stock, other columns,
    last sales, season). At reset each rival is reset with a seed drawn from the
    env's ``np_random``. Rivals only act here; the env never calls ``update``.

    ## Randomness

    One source, ``self.np_random``, seeded by ``reset(seed=...)``. At reset it draws,
    in order: one seed per rival (``integers(0, 2**31 - 1, size=n_rivals)``), then
    the exogenous competitor path of the whole episode
    (``CompetitorProcess.path`` over min(horizon, max_episode_steps) periods;
    nothing for fixed or replayed prices). Each step draws the period's demand from
    the kernel's noise model, exactly as ``kernel.sample(np_random, [mu])`` would.

    ## Speed

    Action-independent parts of expected demand are precomputed in blocks of
    periods, cached across episodes when competitor prices are deterministic, and a
    step is then a few float operations and one scalar noise draw (see
    :mod:`pricegym.envs._fastpath`; :attr:`mode` names the path in use). Rivals and
    kernels without a fast path call the kernel each step. ``fast_path=False``
    forces the per-step kernel calls (``expected``, ``sample``, ``update`` on
    1-element arrays); both give the same trajectories, equal up to floating-point
    rounding of expected demand.

    ## Decision check

    At construction :attr:`optimum` holds
    :func:`~pricegym.demand.optimum.optimum_check` of the kernel over [p_min,
    p_max] at ``cost``: where the one-period, unlimited-stock expected profit
    peaks. When it peaks at an edge of the price range (profit still rising past
    it) or has no finite optimum (constant elasticity with |ε| ≤ 1), the env warns
    with :class:`~pricegym.errors.DecisionWarning`: the market's best price then
    says only that the grid's edge wins. With ``cost`` 0 the warning also says
    that profit is revenue. The check changes nothing in the dynamics.

    ## Arguments

    - ``kernel``: the demand kernel (one seller; ``kernel.n_sellers == 1``). A
      pooled panel model's kernel simulates ``config.product`` (its prices, support
      and reference context; see :func:`~pricegym.demand.products.select_product`),
      or warns with :class:`~pricegym.errors.PanelWarning` that it simulates the
      first product when none is chosen; :attr:`kernel` is the product's kernel.
    - ``config``: a :class:`~pricegym.envs.config.MarketConfig`, or a mapping for
      :meth:`MarketConfig.from_dict`, or ``None`` for the defaults.
    - ``model_path``: a saved demand model (:meth:`DemandModel.save`); its kernel
      drives the market. Pass exactly one of ``kernel`` and ``model_path``.
    - ``rivals``: rival agents, one per competitor column from the first.
    - ``render_mode``: ``None``, ``"ansi"`` (a one-line status per step) or
      ``"rgb_array"`` (a price / demand / inventory chart of the episode so far).
    - ``fast_path``: use the precomputed fast path where available (default True).

    ## Version History

    - v0: initial version.

    ## Example

    >>> from pricegym.demand import ExponentialTruth
    >>> from pricegym.envs.market import PricingEnv
    >>> truth = ExponentialTruth(a=50.0, alpha=0.5)            # support (0.2, 20)
    >>> env = PricingEnv(truth, {"n_prices": 5, "horizon": 4, "inventory": 40, "cost": 1.0})
    >>> env.action_space, env.prices.tolist()
    (Discrete(5), [0.2, 5.15, 10.1, 15.05, 20.0])
    >>> obs, info = env.reset(seed=0)
    >>> [round(float(v), 3) for v in obs]     # time left, stock, own price, sales
    [1.0, 1.0, 0.505, 0.0]
    >>> obs, reward, terminated, truncated, info = env.step(1)     # price 5.15
    >>> round(info["expected_demand"], 3), info["sales"], info["inventory"]
    (3.808, 2.0, 38.0)
    >>> round(reward, 2) == round((5.15 - 1.0) * info["sales"], 2), terminated
    (True, False)
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012
    observation_space: spaces.Box  # set in __init__; gym.Env declares a plain Space

    def __init__(
        self,
        kernel: DemandKernel | None = None,
        config: MarketConfig | Mapping[str, Any] | None = None,
        *,
        model_path: str | None = None,
        rivals: Sequence[Rival] = (),
        render_mode: str | None = None,
        fast_path: bool = True,
    ) -> None:
        self.kernel = _resolve_kernel(kernel, model_path)
        self.config = _resolve_config(config)
        kern, cfg = self.kernel, self.config
        if int(getattr(kern, "n_sellers", 1)) != 1:
            raise ConfigError(
                f"kernel has n_sellers={kern.n_sellers}: PricingEnv drives one seller; use "
                "OligopolyEnv for a market of several sellers."
            )
        self.kernel = kern = _product_kernel(kern, cfg.product)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode={render_mode!r} is not supported; use one of "
                f"{self.metadata['render_modes']} or None."
            )
        self.render_mode = render_mode

        # ------------------------------------------------------------ prices
        self.p_min, self.p_max = cfg.price_range(kern.support)
        #: The discrete price grid (``None`` for continuous prices).
        self.prices: np.ndarray | None = (
            cfg.price_grid(kern.support) if cfg.action == "discrete" else None
        )
        s_lo, s_hi = kern.support
        if self.p_min < s_lo * (1 - 1e-12) or self.p_max > s_hi * (1 + 1e-12):
            warnings.warn(
                f"price range [{self.p_min:g}, {self.p_max:g}] leaves the demand model's "
                f"support [{s_lo:g}, {s_hi:g}] (allow_outside_support=True): demand there is "
                "extrapolated from the model.",
                ExtrapolationWarning,
                stacklevel=2,
            )
        #: Where the static profit-maximising price sits in [p_min, p_max] at the unit
        #: cost (:func:`~pricegym.demand.optimum.optimum_check`); warned when at an edge.
        self.optimum: OptimumCheck = optimum_check(kern, float(cfg.cost), self.p_min, self.p_max)
        if self.optimum.at_edge:
            warnings.warn(_decision_message(self.optimum, cfg), DecisionWarning, stacklevel=2)
        if self.prices is not None:
            self.action_space: spaces.Space[Any] = spaces.Discrete(len(self.prices))
            n = len(self.prices)
            grid = MarketConfig.action_to_price(np.arange(n), self.prices, self.p_min, self.p_max)
            self._grid_prices: list[float] | None = grid.tolist()
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
            self._grid_prices = None
        self._inv_pmax = 1.0 / self.p_max

        # ------------------------------------------------------------ time and stock
        self.horizon = int(cfg.horizon)
        self.max_steps = None if cfg.max_episode_steps is None else int(cfg.max_episode_steps)
        self.episode_length = min(self.horizon, self.max_steps or self.horizon)
        self.start_t = float(kern.reference["t"] if cfg.start_t is None else cfg.start_t)
        self._calendar = getattr(kern, "calendar", None)
        # The season's trading dates, computed once: np.busday_offset per step cost
        # ~19 µs, about 70% of a fitted market's step (measured).
        self._dates: list[str] | None = None
        if self._calendar is not None and self.start_t.is_integer():
            days = self._calendar.date(self.start_t + np.arange(self.episode_length + 1))
            self._dates = np.datetime_as_string(days, unit="D").tolist()
        period = kern.spec.season_period
        self.season_period = float(period) if period else None
        self._inventory0 = None if cfg.inventory is None else float(cfg.inventory)
        self._replenish_every = None if cfg.replenish_every is None else int(cfg.replenish_every)
        self._replenish_to = (
            self._inventory0 if cfg.replenish_to is None else float(cfg.replenish_to)
        )
        inv_max = 1.0
        self._inv_denom = 1.0
        if self._inventory0 is not None:
            top = max(self._inventory0, self._replenish_to or 0.0)
            self._inv_denom = stock_denominator(self._inventory0, self._replenish_to)
            inv_max = max(1.0, top / self._inv_denom)
        self._cost, self._holding = float(cfg.cost), float(cfg.holding_cost)
        self._salvage = float(cfg.salvage_value)

        # ------------------------------------------------------------ competitors
        self.competitors = CompetitorProcess(cfg.competitor, kern, 1)
        m = self.competitors.n_competitors
        self.rivals = list(rivals)
        if len(self.rivals) > m:
            raise ConfigError(
                f"rivals: {len(self.rivals)} given, but the demand model has {m} competitor "
                f"column(s) {list(self.competitors.names)}; each rival sets one column, so pass "
                f"at most {m}."
            )
        self._start_comp = self.competitors.start.copy()
        for j, rival in enumerate(self.rivals):
            if not all(callable(getattr(rival, f, None)) for f in ("bind", "reset", "act")):
                raise ConfigError(
                    f"rivals[{j}]={rival!r} is not a pricing agent: it lacks bind(env), "
                    "reset(seed) or act(observation) -> action; pass a PricingAgent "
                    "(pricegym.agents)."
                )
            self._start_comp[j] = min(max(self._start_comp[j], self.p_min), self.p_max)

        # ------------------------------------------------------------ observation
        self.sales_scale = _sales_scale(kern, self.p_min)
        self.observation_names: tuple[str, ...] = (
            "time_remaining",
            "inventory_fraction",
            "own_last_price",
            *(f"competitor_price:{c}" for c in self.competitors.names),
            "last_sales",
            *(("season_sin", "season_cos") if self.season_period else ()),
        )
        low = [0.0] * (4 + m)
        high = [1.0, inv_max, 1.0, *([PRICE_OBS_CAP] * m), SALES_OBS_CAP]
        if self.season_period:
            low += [-1.0, -1.0]
            high += [1.0, 1.0]
        self.observation_space = spaces.Box(
            np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32
        )

        # ------------------------------------------------------------ demand
        use_fast = fast_path and not self.rivals
        self._path = make_path(
            kern,
            self.prices,
            (self.p_min, self.p_max),
            self.start_t,
            self._start_comp,
            fast=use_fast,
        )
        self._draw = make_draw(kern, cfg.noise, fast=fast_path)
        self._random_path = self.competitors.kind == "random_walk" and m > 0
        if not self._random_path:
            self._set_competitor_path(np.random.default_rng(0))  # draws nothing

        # ------------------------------------------------------------ rivals see the env
        for rival in self.rivals:
            rival.bind(self)

        # ------------------------------------------------------------ episode
        self._k = 0
        self._done = True
        self._inventory = self._inventory0
        self._last_price = 0.5 * (self.p_min + self.p_max)
        self._last_sales = 0.0
        self._last_obs = np.zeros(0, np.float32)
        self._rival_last = self._start_comp[: len(self.rivals)].tolist()
        self._status: dict[str, Any] = {}
        self._history: dict[str, list[float]] = {k: [] for k in _HISTORY_KEYS}

    # ================================================================ properties
    @property
    def mode(self) -> str:
        """How demand is evaluated: ``"table"``, ``"linear"``, ``"arimax"``,
        ``"neural"`` (fast paths) or ``"generic"`` (a kernel call per step)."""
        return self._path.mode

    def observation_constants(self) -> dict[str, Any]:
        """The constants that turn a seller's own inputs into this market's observation.

        Stored in an exported policy's card (``inputs`` block) and read by
        :func:`pricegym.seller_inputs.build_observation`, which applies the
        Observation Space formulas with them: ``horizon``, ``start_t``, ``p_min``,
        ``p_max``, ``prices`` (the grid; ``None`` if continuous), ``inventory``
        (initial stock; ``None``: unlimited), ``inventory_denominator`` and
        ``inventory_max_fraction`` (stock / denominator is observed, at most that),
        ``replenish_every``/``replenish_to``, ``sales_scale``, ``sales_cap``,
        ``price_cap``, ``season_period`` (``None``: no season features),
        ``competitors`` (column names in observation order) and ``calendar`` (the
        model's trading calendar, :meth:`TradingCalendar.to_dict`, or ``None``).
        """
        cal = self._calendar
        return {
            "horizon": self.horizon,
            "start_t": self.start_t,
            "p_min": float(self.p_min),
            "p_max": float(self.p_max),
            "prices": None if self.prices is None else [float(p) for p in self.prices],
            "inventory": self._inventory0,
            "inventory_denominator": float(self._inv_denom),
            "inventory_max_fraction": float(self.observation_space.high[1]),
            "replenish_every": self._replenish_every,
            "replenish_to": self._replenish_to if self._replenish_every is not None else None,
            "sales_scale": float(self.sales_scale),
            "sales_cap": SALES_OBS_CAP,
            "price_cap": PRICE_OBS_CAP,
            "season_period": self.season_period,
            "competitors": list(self.competitors.names),
            "calendar": None if cal is None else cal.to_dict(),
        }

    def _set_competitor_path(self, rng: np.random.Generator) -> None:
        """Draw the exogenous competitor prices of an episode, shape (episode_length, m)."""
        proc = self.competitors
        proc.reset(rng)
        path = proc.path(rng, self.episode_length)[:, 0, :]
        if self.rivals:
            path[:, : len(self.rivals)] = self._start_comp[: len(self.rivals)]
        path.setflags(write=False)
        self._comp_path = path
        self._comp_obs = np.minimum(path * self._inv_pmax, PRICE_OBS_CAP).tolist()
        self._path.set_competitors(path)

    # ================================================================ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a season (see Starting State and Randomness in the class docstring)."""
        super().reset(seed=seed)
        rng = self.np_random
        if self.rivals:
            seeds = rng.integers(0, 2**31 - 1, size=len(self.rivals))
            for rival, s in zip(self.rivals, seeds, strict=True):
                rival.reset(seed=int(s))
            self._rival_last = self._start_comp[: len(self.rivals)].tolist()
        if self._random_path:
            self._set_competitor_path(rng)
        self._path.reset()
        self._k = 0
        self._done = False
        self._inventory = self._inventory0
        self._last_price = 0.5 * (self.p_min + self.p_max)
        self._last_sales = 0.0
        inv = math.inf if self._inventory0 is None else self._inventory0
        self._status = {"t": self.start_t, "inventory": inv}
        if self.render_mode == "rgb_array":
            self._history = {k: [] for k in _HISTORY_KEYS}
        comp_obs = np.minimum(self._start_comp * self._inv_pmax, PRICE_OBS_CAP).tolist()
        obs = self._observation(comp_obs)
        info = {"t": self.start_t, "inventory": inv, "competitor_prices": self._start_comp.copy()}
        if self._calendar is not None:
            info["date"] = self._date(self.start_t)
        return obs, info

    def _date(self, t: float) -> str | None:
        """ISO trading date of period ``t`` (``None`` for a period that is not whole)."""
        if not float(t).is_integer():
            return None
        k = int(t - self.start_t)
        if self._dates is not None and 0 <= k < len(self._dates):
            return self._dates[k]
        assert self._calendar is not None  # both callers check it first
        return str(self._calendar.date(t)[0])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play one period at the price ``action`` maps to (see the class docstring)."""
        if self._done:
            raise ResetNeeded(
                "step() called on a finished (or never started) episode; call reset() first."
            )
        k = self._k
        # 1. action -> price
        i, price = self._action_price(action)
        # 2. competitor prices of the period
        if self.rivals:
            comp, comp_obs = self._rival_prices(k)
        else:
            comp, comp_obs = self._comp_path[k], self._comp_obs[k]
        # 3. expected and drawn demand
        mu = self._path.expected(k, i, price, comp)
        demand = self._draw(self._np_random, mu)  # type: ignore[arg-type]
        # 4.-6. sales, money, stock
        inv = self._inventory
        last_period = k == self.horizon - 1
        replenished = 0.0
        if inv is None:
            sales, lost, holding, salvage, inv_out = demand, 0.0, 0.0, 0.0, math.inf
        else:
            sales = demand if demand < inv else inv
            lost = demand - sales
            inv = inv - sales
            holding = self._holding * inv
            salvage = self._salvage * inv if last_period else 0.0
            every = self._replenish_every
            if every is not None and not last_period and (k + 1) % every == 0:
                # a stocked market: replenish_to defaults to the (given) inventory
                assert self._replenish_to is not None
                replenished = max(0.0, self._replenish_to - inv)
                inv += replenished
            self._inventory = inv_out = inv
        revenue = price * sales
        cost = self._cost * sales
        profit = revenue - cost - holding + salvage
        # 7. kernel state
        self._path.observe(demand)
        # 8. episode end
        self._k = k + 1
        terminated = last_period or (
            inv is not None and self._replenish_every is None and inv <= 0.0
        )
        truncated = (not terminated) and self.max_steps is not None and k + 1 >= self.max_steps
        self._done = terminated or truncated
        self._last_price, self._last_sales = price, sales
        info = {
            "price": price,
            "expected_demand": mu,
            "demand": demand,
            "sales": sales,
            "lost_sales": lost,
            "revenue": revenue,
            "cost": cost,
            "holding_cost": holding,
            "salvage": salvage,
            "profit": profit,
            "inventory": inv_out,
            "replenished": replenished,
            "competitor_prices": comp.copy(),
            "t": self.start_t + k,
        }
        if self._calendar is not None:
            info["date"] = self._date(self.start_t + k)
        if self.render_mode is not None:
            self._record(info)
        return self._observation(comp_obs), profit, terminated, truncated, info

    def _action_price(self, action: Any) -> tuple[int, float]:
        """(grid index or -1, price) of an action; InvalidAction outside the action space."""
        grid = self._grid_prices
        if grid is not None:
            try:
                i = operator.index(action)
            except TypeError:
                arr = np.asarray(action)
                if arr.size != 1 or arr.dtype.kind not in "iu":
                    raise InvalidAction(
                        f"action {action!r} is not a price index; pass an integer in "
                        f"[0, {len(grid)}) (e.g. env.action_space.sample())."
                    ) from None
                i = int(arr.reshape(-1)[0])
            if not 0 <= i < len(grid):
                raise InvalidAction(
                    f"action {action!r} is not a price index in [0, {len(grid)}); "
                    "sample actions from env.action_space."
                )
            return i, grid[i]
        if type(action) is np.ndarray and action.shape == (1,):
            a = float(action[0])
        else:
            try:
                arr = np.asarray(action, dtype=np.float64)
            except (TypeError, ValueError):
                arr = np.array([np.nan, np.nan])
            if arr.size != 1:
                raise InvalidAction(
                    f"action {action!r} is not one number in [-1, 1]; pass an array of shape "
                    "(1,) (e.g. env.action_space.sample())."
                )
            a = float(arr.reshape(-1)[0])
        # MarketConfig.action_to_price on one float (same operations, bit for bit; the
        # numpy call costs ~10 µs on a 1-element array, most of a step's budget).
        a = -1.0 if a < -1.0 else 1.0 if a > 1.0 else a
        price = self.p_min + 0.5 * (a + 1.0) * (self.p_max - self.p_min)
        if not math.isfinite(price):
            raise InvalidAction(f"action {action!r} is not a finite number in [-1, 1].")
        return -1, price

    def _rival_prices(self, k: int) -> tuple[np.ndarray, list[float]]:
        """Competitor prices of period k with the rivals' columns set by their actions."""
        comp = self._comp_path[k].copy()
        seller = min(self._last_price * self._inv_pmax, PRICE_OBS_CAP)
        for j, rival in enumerate(self.rivals):
            mirror = self._last_obs.copy()
            mirror[2] = self._rival_last[j] * self._inv_pmax
            mirror[3 + j] = seller
            action = rival.act(mirror)
            try:
                _, price = self._action_price(action)
            except InvalidAction:
                raise ConfigError(
                    f"rivals[{j}] ({type(rival).__name__}) returned action {action!r}, which is "
                    f"not in the market's action space {self.action_space}; a rival acts in the "
                    "seller's action space (the env bound it with rival.bind(env))."
                ) from None
            comp[j] = price
            self._rival_last[j] = price
        return comp, np.minimum(comp * self._inv_pmax, PRICE_OBS_CAP).tolist()

    def _observation(self, comp_obs: list[float]) -> np.ndarray:
        k = self._k
        inv = self._inventory
        sales_obs = self._last_sales / self.sales_scale
        values = [
            (self.horizon - k) / self.horizon,
            1.0 if inv is None else inv / self._inv_denom,
            self._last_price * self._inv_pmax,
            *comp_obs,
            sales_obs if sales_obs < SALES_OBS_CAP else SALES_OBS_CAP,
        ]
        if self.season_period:
            angle = 2.0 * math.pi * (self.start_t + k) / self.season_period
            values += [math.sin(angle), math.cos(angle)]
        obs = np.array(values, dtype=np.float32)
        if self.rivals:
            self._last_obs = obs.copy()
        return obs

    # ================================================================ rendering
    def _record(self, info: dict[str, Any]) -> None:
        self._status = info
        if self.render_mode == "rgb_array":
            for key in _HISTORY_KEYS:
                self._history[key].append(info[key])

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: the last period's status line; ``"rgb_array"``: the episode chart."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render mode; create the env with "
                "render_mode='ansi' or 'rgb_array'."
            )
            return None
        if self.render_mode == "ansi":
            return rendering.ansi_line(self._status)
        h = self._history
        return rendering.episode_chart(
            h["t"],
            h["price"],
            h["demand"],
            h["sales"],
            h["inventory"],
            p_min=self.p_min,
            p_max=self.p_max,
            title=f"PricingEnv: {type(self.kernel).__name__}",
        )


# ==================================================================== helpers


def _resolve_kernel(kernel: DemandKernel | None, model_path: str | None) -> DemandKernel:
    if (kernel is None) == (model_path is None):
        raise ConfigError(
            f"kernel={type(kernel).__name__ if kernel is not None else None}, "
            f"model_path={model_path!r}: pass exactly one of them (a DemandKernel, or the path "
            "of a model saved with DemandModel.save)."
        )
    if model_path is not None:
        from pricegym.demand.base import DemandModel  # lazy: fitting libraries stay unloaded

        return DemandModel.load(model_path).kernel()
    if not isinstance(kernel, DemandKernel):
        raise ConfigError(
            f"kernel={kernel!r} is not a DemandKernel; pass model.kernel() of a fitted "
            "DemandModel or a parametric truth such as ExponentialTruth."
        )
    return kernel


def _product_kernel(kernel: DemandKernel, product: str | int | None) -> DemandKernel:
    """The kernel for ``config.product`` of a panel model; warns when a panel's is unchosen."""
    if product is not None:
        return select_product(kernel, product)
    products = kernel_products(kernel)
    if len(products) > 1:
        shown = ", ".join(repr(p) for p in products[:5]) + (", …" if len(products) > 5 else "")
        warnings.warn(
            f"the demand model was fitted on a panel of {len(products)} products "
            f"({shown}); this market simulates the first, {products[0]!r} (the model's "
            "reference product); the others are not simulated. To simulate another, "
            "choose it with the market option product (YAML: market.options.product: "
            f"{products[-1]!r}).",
            PanelWarning,
            stacklevel=3,
        )
    return kernel


def _resolve_config(config: MarketConfig | Mapping[str, Any] | None) -> MarketConfig:
    if config is None:
        return MarketConfig()
    if isinstance(config, MarketConfig):
        return config
    if isinstance(config, Mapping):
        return MarketConfig.from_dict(config)
    raise ConfigError(
        f"config={config!r} must be a MarketConfig, a mapping of its settings, or None."
    )


def _decision_message(check: OptimumCheck, cfg: MarketConfig) -> str:
    """The market's DecisionWarning: the check's message and what stock changes about it."""
    text = f"market [{check.p_min:g}, {check.p_max:g}], unit cost {check.cost:g}: {check.message}"
    if check.cost == 0:
        text += " Give the unit cost with the market option cost (YAML: market.options.cost)."
    if check.verdict == "lower_edge" and cfg.inventory is not None:
        text += (
            " This is the one-period optimum with unlimited stock; with finite stock the "
            "optimal prices can be higher (see where the DP optimum's prices sit)."
        )
    return text


def _sales_scale(kernel: DemandKernel, p_min: float) -> float:
    """Expected demand at ``p_min`` in the reference context (1 if not positive)."""
    ctx = kernel.context(1)
    mu = float(kernel.expected(np.array([p_min]), ctx, kernel.initial_state(1))[0])
    return mu if math.isfinite(mu) and mu > 0 else 1.0
