"""Oligopoly pricing: N sellers with cross-price demand, as a PettingZoo ``ParallelEnv``.

This module holds two things that belong together:

- :class:`OligopolyEnv`, the repeated pricing game (by default the Calvano,
  Calzolari, Denicolò & Pastorello 2020 market), with optional Markov-switching
  shocks (:class:`MarkovShocks`);
- :class:`OpponentWrapper`, a single-agent ``gymnasium.Env`` view of the game in
  which every other seller follows a fixed policy.

The benchmarks of the market (Bertrand–Nash and joint-monopoly prices, profits,
Calvano et al.'s profit gain Δ) are in :mod:`pricegym.envs.equilibrium_solvers`;
they are re-exported here, so ``from pricegym.envs.oligopoly import nash_prices``
keeps working.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import gymnasium
import numpy as np
from gymnasium import logger, spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from pricegym._validate import REAL, Interval, choice, integer, real
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.parametric import LogitTruth
from pricegym.envs.capacity_equilibrium import capacity_monopoly, capacity_nash
from pricegym.envs.equilibrium_solvers import (
    DemandFunction,
    joint_profit,
    logit_monopoly_prices,
    logit_nash_prices,
    logit_profits,
    logit_shares,
    monopoly_prices,
    nash_prices,
    profit_gain,
)
from pricegym.errors import ConfigError, ExtrapolationWarning, ModelError

__all__ = [
    "MarkovShocks",
    "OligopolyEnv",
    "OpponentWrapper",
    "joint_profit",
    "logit_monopoly_prices",
    "logit_nash_prices",
    "logit_profits",
    "logit_shares",
    "monopoly_prices",
    "nash_prices",
    "profit_gain",
]

#: A rival's policy: an object with ``act(observation) -> action`` (and optionally
#: ``reset(seed)``), or a plain callable ``policy(observation) -> action``.
Policy = Any


# ================================================================= shocks
@dataclass(frozen=True)
class MarkovShocks:
    """Markov-switching regimes of demand (quality) and cost.

    In regime r every seller's quality is ``quality[r]·a_i`` and its marginal cost
    ``cost[r]·c_i``. The regime of the next round is drawn from row r of
    ``transition`` after each round. Every regime has its own Bertrand–Nash and
    joint-monopoly benchmarks (``OligopolyEnv.regime_*``), and the profit gain Δ
    compares each round with those of its regime (:func:`profit_gain`).

    Attributes:
        transition: R×R row-stochastic matrix, ``transition[r][s]`` = P(next = s | now = r).
        quality: one factor per regime multiplying every seller's quality (default all 1).
        cost: one factor per regime multiplying every seller's marginal cost (default all 1).
        initial: distribution of the regime at reset (default: the stationary distribution).
    """

    transition: Sequence[Sequence[float]]
    quality: Sequence[float] | None = None
    cost: Sequence[float] | None = None
    initial: Sequence[float] | None = None

    def __post_init__(self) -> None:
        try:
            p = np.asarray(self.transition, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"shocks.transition={self.transition!r} is not a numeric matrix; pass an R×R "
                "list of lists whose rows sum to 1."
            ) from exc
        if p.ndim != 2 or p.shape[0] != p.shape[1] or p.shape[0] < 1:
            raise ConfigError(
                f"shocks.transition has shape {p.shape}; it must be square R×R (one row and "
                "one column per regime)."
            )
        rows = p.sum(axis=1)
        if not (np.all(np.isfinite(p)) and np.all(p >= 0) and np.allclose(rows, 1.0, atol=1e-9)):
            raise ConfigError(
                f"shocks.transition={p.tolist()} is not row-stochastic (row sums "
                f"{rows.tolist()}); every entry must be >= 0 and every row sum to 1."
            )
        r = p.shape[0]
        object.__setattr__(self, "transition", tuple(map(tuple, p.tolist())))
        for name in ("quality", "cost"):
            value = getattr(self, name)
            f = np.ones(r) if value is None else np.asarray(value, dtype=np.float64)
            if f.shape != (r,) or not np.all(np.isfinite(f)) or np.any(f <= 0):
                raise ConfigError(
                    f"shocks.{name}={value!r} must hold {r} finite factor(s) > 0; give one "
                    "factor per regime (per row of shocks.transition)."
                )
            object.__setattr__(self, name, tuple(f.tolist()))
        if self.initial is None:
            init = self._stationary(p)
        else:
            init = np.asarray(self.initial, dtype=np.float64)
            if (
                init.shape != (r,)
                or not np.all(np.isfinite(init))
                or np.any(init < 0)
                or not np.isclose(init.sum(), 1.0, atol=1e-9)
            ):
                raise ConfigError(
                    f"shocks.initial={self.initial!r} must be a distribution over the {r} "
                    "regimes (entries >= 0 summing to 1), or omitted for the stationary one."
                )
        object.__setattr__(self, "initial", tuple(init.tolist()))

    @staticmethod
    def _stationary(p: np.ndarray) -> np.ndarray:
        """A stationary distribution π = π·P (least squares with Σπ = 1)."""
        r = p.shape[0]
        lhs = np.vstack([p.T - np.eye(r), np.ones((1, r))])
        rhs = np.concatenate([np.zeros(r), [1.0]])
        pi = np.clip(np.linalg.lstsq(lhs, rhs, rcond=None)[0], 0.0, None)
        return pi / pi.sum()

    @property
    def n_regimes(self) -> int:
        """Number of regimes R."""
        return len(self.transition)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MarkovShocks:
        """Build from a mapping with the attribute names as keys (e.g. parsed YAML)."""
        known = [f.name for f in fields(cls)]
        for key in d:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"shocks has unknown key {key!r}; use {known}.{hint}")
        if "transition" not in d:
            raise ConfigError(
                "shocks needs 'transition', the R×R matrix of regime switching probabilities."
            )
        return cls(**dict(d))


# ===================================================================== env
class OligopolyEnv(ParallelEnv):
    """N sellers repeatedly set prices in a market with cross-price demand.

    Every round each seller ``seller_i`` chooses a price; seller i then sells
    q_i units and earns ``(p_i − c_i)·q_i``. By default demand is the multinomial
    logit with an outside option of Calvano, Calzolari, Denicolò & Pastorello
    (2020, AER), ``q_i = market_size·exp((a_i − p_i)/μ) / (Σ_j exp((a_j − p_j)/μ)
    + exp(a_0/μ))``; any multi-seller :class:`~pricegym.demand.kernels.DemandKernel`
    (``n_sellers > 1``, ``expected(prices (B, n)) -> (B, n)``) can replace it.
    ``OligopolyEnv()`` is the Calvano baseline: two sellers, a_i = 2, a_0 = 0,
    μ = 1/4, c_i = 1, market size 1, a grid of 15 prices, one round of memory.

    ## Action Space

    ``action="discrete"`` (default): ``Discrete(m)``, the index of a price on the
    grid ``prices``. Unless the grid is given, it is ``m = n_prices`` evenly
    spaced prices on ``[p^N − ξ(p^M − p^N), p^M + ξ(p^M − p^N)]``, where p^N and
    p^M are the Bertrand–Nash and joint-monopoly prices (computed, not looked up;
    with asymmetric sellers the lowest p^N and the highest p^M).

    ``action="continuous"``: ``Box(-1, 1, (1,), float32)``; action a is the price
    ``p_lo + (a + 1)/2·(p_hi − p_lo)`` with [p_lo, p_hi] the grid's range, a
    clipped to [-1, 1].

    ## Observation Space

    ``Box(0, 1, (k·N + s + R + v,), float32)`` for memory k, N sellers, s = 1 with
    sequential moves (else 0), R shock regimes (0 without shocks) and v = N + 1
    with ``capacity`` (else 0). Each seller
    sees the market from its own seat: its own price first, then its rivals in
    seat order. A price is coded as its grid index divided by m − 1 (discrete
    actions; ``round(x·(m−1))`` recovers the index) or as ``(p − p_lo)/(p_hi −
    p_lo)`` (continuous actions).

    | index               | meaning                                         | unit  | bounds |
    |---------------------|-------------------------------------------------|-------|--------|
    | 0                   | own price, last round                           | coded | [0, 1] |
    | 1 … N−1             | rivals' prices, last round, in seat order       | coded | [0, 1] |
    | ℓ·N … ℓ·N+N−1       | the same, ℓ+1 rounds ago (ℓ = 1 … k−1)          | coded | [0, 1] |
    | k·N (sequential)    | rounds until this seller moves, divided by N−1  | –     | [0, 1] |
    | k·N+s … k·N+s+R−1   | one-hot regime that governs the coming round    | –     | {0, 1} |
    | k·N+s … k·N+s+N−1   | (capacity) stock left / capacity: own, rivals   | –     | [0, 1] |
    | k·N+s+N (capacity)  | rounds left in the episode / horizon            | –     | [0, 1] |

    For seller i "rival in seat order" means sellers 0 … i−1, i+1 … N−1.
    :meth:`state` is seller 0's observation, a complete description of the state.

    ## Moves

    ``moves="simultaneous"``: every seller's action sets its price each round.
    ``moves="sequential"`` (alternating, Maskin–Tirole): in round t (t = 0 after
    reset) only seller ``t mod N`` changes its price; the other sellers keep
    their last price and their actions, if passed, are ignored. Everyone earns
    the profit of every round.

    ## Rewards

    Each seller's profit ``(p_i − c_i)·q_i`` of the round, where q_i is the
    expected units (``noise=False``, the Calvano market) or units sampled from
    the kernel's noise model (``noise=True``). ``infos[agent]`` holds ``price``,
    ``quantity``, ``expected_quantity``, ``unit_cost``, ``profit``, ``round``,
    ``regime``, ``moved`` and the current regime's ``nash_price``,
    ``monopoly_price``, ``nash_profit`` and ``monopoly_profit`` for that seller
    (the benchmarks of the round just played; at reset, of the coming round); the
    reward equals ``(price − unit_cost)·quantity`` exactly.

    ## Inventory

    ``capacity`` (units per seller, for the whole episode) gives every seller a
    stock at reset. A seller sells ``min(demand, stock left)``; the demand it
    cannot serve is lost (it does not go to rivals), and its stock falls by what
    it sold. ``quantity`` is then the units sold; ``infos`` add ``demand`` (units
    demanded before rationing) and ``stock`` (units left after the round). The
    benchmarks become the capacity-constrained ones of
    :mod:`pricegym.envs.capacity_equilibrium` with the per-round capacity
    k_i = capacity_i / horizon (the static game whose equilibrium played every
    round exhausts no stock early; see that module). The default price grid is
    the unconstrained market's, its top raised to the capacity monopoly price
    where that is higher: ``m`` prices on [p^N_u − ξ·g, max(p^M_u, p^M) + ξ·g]
    with g = p^M_u − p^N_u (capacity can close the gap between the constrained
    p^N and p^M, which then cannot span a grid). Needs the logit market (no
    ``kernel``), no ``shocks``, and a ``horizon``. Without ``capacity`` (the
    default) nothing here applies.

    ## Benchmarks

    ``nash_prices``, ``monopoly_prices``, ``nash_profits``, ``monopoly_profits``
    (shape (N,), expected profit per round) are those of the base market (every
    shock factor 1); they set the price grid. ``regime_nash_prices``,
    ``regime_monopoly_prices``, ``regime_nash_profits`` and
    ``regime_monopoly_profits`` (shape (R, N), R = 1 and equal to the base market
    without shocks) are each regime's, in that regime's market (quality and cost
    scaled). Like the base ones they are continuous optima, not grid prices; a
    regime's may lie outside the grid (then no grid play reaches Δ = 1 there).
    The profit gain Δ of an episode compares the average profit with the average
    of the regime benchmarks over the rounds played (:func:`profit_gain`).

    ## Starting State

    The last k rounds of prices are drawn uniformly (grid indices or continuous
    prices) from the env's ``np_random``, and the regime from ``shocks.initial``.
    ``reset(options={"prices": ..., "regime": r})`` fixes them instead: prices of
    shape (N,) (repeated over the k rounds) or (k, N) (most recent round first),
    on the grid for discrete actions. Other option keys are ignored.

    ## Episode End

    The repeated game has no natural end: there is no termination. After
    ``horizon`` rounds every seller is truncated and removed from ``agents``;
    ``horizon=None`` plays forever. With ``capacity`` the episode is a selling
    season whose time left is observed: after ``horizon`` rounds, or once every
    seller has sold out, every seller is *terminated* (a real end).

    ## Arguments

    - ``n_sellers``: N ≥ 2 (default 2, or the length of ``quality``/``cost``).
    - ``quality`` (a_i; scalar or one per seller, default 2), ``outside`` (a_0,
      default 0), ``mu`` (μ > 0, default 1/4), ``cost`` (c_i ≥ 0, default 1),
      ``market_size`` (> 0, default 1): the logit market.
    - ``kernel``: a multi-seller demand kernel used instead of the logit (then the
      four logit parameters must not be given); its Nash and monopoly prices are
      found numerically within its support, and a grid outside the support needs
      ``extrapolate=True`` (which warns).
    - ``n_prices`` (m ≥ 2, default 15), ``xi`` (ξ ≥ 0, default 0.1), or an explicit
      increasing grid ``prices``.
    - ``action``: ``"discrete"`` or ``"continuous"``; ``memory``: k ≥ 1;
      ``moves``: ``"simultaneous"`` or ``"sequential"``.
    - ``shocks``: :class:`MarkovShocks` (or a mapping of its fields).
    - ``horizon``: rounds per episode (default 1000) or None.
    - ``capacity``: None (default, unlimited) or each seller's stock for the
      episode (> 0; scalar or one per seller); see *Inventory*.
    - ``noise``: sample units instead of using expected units (default False).
    - ``render_mode``: None or ``"ansi"`` (a one-line summary of the last round).

    Bad values raise :class:`~pricegym.errors.ConfigError` naming the field.

    ## Example

    >>> env = OligopolyEnv()
    >>> [round(float(p), 4) for p in (env.nash_prices[0], env.monopoly_prices[0])]
    [1.4729, 1.925]
    >>> obs, infos = env.reset(seed=0)
    >>> obs["seller_0"].shape, env.action_space("seller_0")
    ((2,), Discrete(15))
    >>> obs, rewards, terminations, truncations, infos = env.step({"seller_0": 13, "seller_1": 13})
    >>> round(infos["seller_0"]["price"], 4), round(rewards["seller_0"], 4), obs["seller_1"]
    (1.9314, 0.3375, array([0.9285714, 0.9285714], dtype=float32))

    ## Version History

    - v0: initial release (``pricegym/oligopoly_v0``); the optional ``capacity``
      (finite inventory) was added later and leaves markets without it unchanged.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - PettingZoo reads it as a class attribute
        "name": "oligopoly_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
        "render_fps": 4,
    }

    def __init__(
        self,
        n_sellers: int | None = None,
        *,
        quality: float | Sequence[float] | None = None,
        outside: float | None = None,
        mu: float | None = None,
        cost: float | Sequence[float] = 1.0,
        market_size: float | None = None,
        kernel: DemandKernel | None = None,
        n_prices: int | None = None,
        xi: float = 0.1,
        prices: Sequence[float] | None = None,
        action: Literal["discrete", "continuous"] = "discrete",
        memory: int = 1,
        moves: Literal["simultaneous", "sequential"] = "simultaneous",
        shocks: MarkovShocks | Mapping[str, Any] | None = None,
        horizon: int | None = 1000,
        noise: bool = False,
        extrapolate: bool = False,
        render_mode: str | None = None,
        capacity: float | Sequence[float] | None = None,
    ) -> None:
        n = self._resolve_sellers(n_sellers, quality, cost, kernel)
        self.n_sellers = n
        self.cost = _per_seller("cost", cost, n, low=0.0)
        self.kernel = kernel
        if kernel is None:
            self.quality = _per_seller("quality", 2.0 if quality is None else quality, n)
            self.outside = _number(
                "outside", 0.0 if outside is None else outside, "pass a0, e.g. 0"
            )
            self.mu = _number("mu", 0.25 if mu is None else mu, "pass e.g. mu=0.25", 0.0, True)
            self.market_size = _number(
                "market_size", 1.0 if market_size is None else market_size, "e.g. 1", 0.0, True
            )
        else:
            # no logit parameters when a kernel gives the demand (the logit-only
            # methods are never reached then; typed as the logit case they serve)
            self.quality, self.outside, self.mu, self.market_size = None, None, None, None  # type: ignore[assignment]
            logit = {"quality": quality, "outside": outside, "mu": mu, "market_size": market_size}
            given = [k for k, v in logit.items() if v is not None]
            if given:
                raise ConfigError(
                    f"{given} were given together with kernel={type(kernel).__name__}; the "
                    "kernel defines demand, so drop them or drop kernel= to use the logit."
                )
        self.memory = integer("memory", memory, 1, "use memory=1 to observe the last round")
        self.horizon = (
            None
            if horizon is None
            else integer("horizon", horizon, 1, "pass a number of rounds, or None for no cut-off")
        )
        self.xi = _number("xi", xi, "xi widens the [p^N, p^M] range; use e.g. 0.1", 0.0)
        self.noise = bool(noise)
        kind = choice("action", action, ("discrete", "continuous"))
        self.action_type: Literal["discrete", "continuous"] = (
            "discrete" if kind == "discrete" else "continuous"
        )
        self.moves = choice(
            "moves", moves, ("simultaneous", "sequential"), " Alternating moves are 'sequential'."
        )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode={render_mode!r} is not supported; use None or 'ansi'.")
        self.render_mode = render_mode
        if isinstance(shocks, Mapping):
            shocks = MarkovShocks.from_dict(shocks)
        elif shocks is not None and not isinstance(shocks, MarkovShocks):
            raise ConfigError(
                f"shocks={shocks!r} must be a MarkovShocks, a mapping of its fields, or None."
            )
        self.shocks = shocks
        self.capacity = self._capacity(capacity, n)

        # The market of each regime, its benchmarks, and the price grid.
        n_regimes = 1 if shocks is None else shocks.n_regimes
        q_scale = np.ones(n_regimes) if shocks is None else np.asarray(shocks.quality)
        c_scale = np.ones(n_regimes) if shocks is None else np.asarray(shocks.cost)
        if kernel is not None and np.any(q_scale != 1.0):
            raise ConfigError(
                f"shocks.quality={q_scale.tolist()} scales the logit quality, but demand comes "
                f"from kernel={type(kernel).__name__}; use cost shocks only, or the logit."
            )
        self._costs = self.cost[None, :] * c_scale[:, None]  # (R, N)
        self.nash_prices, self.monopoly_prices = self._benchmarks(self.cost, 1.0)
        self.grid = self._grid(n_prices, prices, extrapolate)
        self.p_lo, self.p_hi = float(self.grid[0]), float(self.grid[-1])
        refs = [self._benchmarks(self._costs[r], q_scale[r]) for r in range(n_regimes)]
        self.regime_nash_prices = np.array([r[0] for r in refs])  # (R, N)
        self.regime_monopoly_prices = np.array([r[1] for r in refs])
        if kernel is None:
            self._kernels: list[DemandKernel] = [
                LogitTruth(
                    self.quality * q_scale[r],
                    self.outside,
                    self.mu,
                    self.market_size,
                    support=(self.p_lo, self.p_hi),
                )
                for r in range(n_regimes)
            ]
        else:
            self._kernels = [kernel] * n_regimes
        self._context = self._kernels[0].context(1)
        self.nash_profits = self._profits(self.nash_prices)
        self.monopoly_profits = self._profits(self.monopoly_prices)
        # Each regime's benchmark profits, in that regime's market: Δ compares with them.
        self.regime_nash_profits, self.regime_monopoly_profits = (
            np.array([self._profits(p[r], self._costs[r], q_scale[r]) for r in range(n_regimes)])
            for p in (self.regime_nash_prices, self.regime_monopoly_prices)
        )

        # Agents and spaces (one object per agent, returned by every call).
        self.possible_agents = [f"seller_{i}" for i in range(n)]
        self.agents: list[str] = []
        self._seat = {a: i for i, a in enumerate(self.possible_agents)}
        self._n_regimes = n_regimes
        self._seq = int(self.moves == "sequential")
        self._stock_at = self.memory * n + self._seq + (0 if shocks is None else n_regimes)
        self.obs_dim = self._stock_at + (0 if self.capacity is None else n + 1)
        self.observation_spaces = {
            a: spaces.Box(0.0, 1.0, (self.obs_dim,), np.float32) for a in self.possible_agents
        }
        self.action_spaces: dict[str, spaces.Space[Any]]
        if self.action_type == "discrete":
            self.action_spaces = {a: spaces.Discrete(self.grid.size) for a in self.possible_agents}
        else:
            self.action_spaces = {
                a: spaces.Box(-1.0, 1.0, (1,), np.float32) for a in self.possible_agents
            }
        self.state_space = self.observation_spaces[self.possible_agents[0]]
        seats = np.arange(n)
        self._perm = np.array([[i, *np.delete(seats, i)] for i in seats])  # own seat first
        self._cum = None if shocks is None else np.cumsum(np.asarray(shocks.transition), axis=1)
        self._np_random: np.random.Generator | None = None
        self.np_random_seed: int | None = None
        self._t = 0
        self._regime = 0
        self._u = np.zeros((self.memory, n))  # coded prices in [0, 1], most recent first
        self._p = np.zeros((self.memory, n))
        self._kstate: dict[str, np.ndarray] = {}
        self._last: dict[str, np.ndarray] | None = None
        self._stock = None if self.capacity is None else self.capacity.copy()

    # ------------------------------------------------------------ construction
    def _capacity(self, capacity: Any, n: int) -> np.ndarray | None:
        """The per-seller stock for an episode, or None; ConfigError where it cannot apply."""
        if capacity is None:
            return None
        stock = _per_seller("capacity", capacity, n, low=0.0)
        if np.any(stock <= 0):
            raise ConfigError(
                f"capacity={capacity!r} must be > 0 units for every seller (a seller without "
                "stock cannot sell); give the stock each seller holds for the episode."
            )
        problems = [
            (self.horizon is None, "horizon=None", "pass horizon=T, the rounds of a season"),
            (self.kernel is not None, "a demand kernel", "use the logit market (no kernel=)"),
            (self.shocks is not None, "Markov shocks", "drop shocks="),
        ]
        for bad, what, fix in problems:
            if bad:
                raise ConfigError(
                    f"capacity={capacity!r} (stock for an episode) cannot be combined with "
                    f"{what}: the capacity benchmarks are those of the logit market over a "
                    f"season of horizon rounds; {fix}."
                )
        return stock

    @staticmethod
    def _resolve_sellers(
        n_sellers: int | None,
        quality: float | Sequence[float] | None,
        cost: float | Sequence[float],
        kernel: DemandKernel | None,
    ) -> int:
        implied: dict[str, int] = {}
        if kernel is not None:
            if not isinstance(kernel, DemandKernel) or int(kernel.n_sellers) < 2:
                raise ConfigError(
                    f"kernel={type(kernel).__name__} (n_sellers="
                    f"{getattr(kernel, 'n_sellers', None)}) must be a DemandKernel with "
                    "n_sellers > 1 whose expected(prices (B, n)) returns (B, n); a single-seller "
                    "kernel belongs in PricingEnv."
                )
            implied["kernel"] = int(kernel.n_sellers)
        for name, value in (("quality", quality), ("cost", cost)):
            if value is not None and np.ndim(value) == 1:
                implied[name] = int(np.shape(value)[0])
        if n_sellers is not None:
            implied = {
                "n_sellers": integer(
                    "n_sellers", n_sellers, 2, "use PricingEnv for a single seller"
                ),
                **implied,
            }
        if len(set(implied.values())) > 1:
            raise ConfigError(
                f"the number of sellers is inconsistent: {implied}; give quality and cost one "
                "value per seller (or a scalar) and n_sellers to match."
            )
        n = next(iter(implied.values()), 2)
        if n < 2:
            raise ConfigError(
                f"{next(iter(implied))} implies n_sellers={n}; an oligopoly needs at least 2 "
                "sellers (use PricingEnv for one)."
            )
        return n

    def _demand(self, quality_scale: float) -> DemandFunction:
        if self.kernel is None:
            a = self.quality * quality_scale
            return lambda p: self.market_size * logit_shares(p, a, self.outside, self.mu)
        kernel, ctx = self.kernel, self.kernel.context(1)
        return lambda p: kernel.expected(p, ctx, kernel.initial_state(p.shape[0]))

    def _benchmarks(self, cost: np.ndarray, quality_scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(Nash prices, monopoly prices) of the market with these costs and quality scale."""
        if self.capacity is not None:
            assert self.horizon is not None  # checked in _capacity
            args = (self.quality, self.outside, self.mu, cost, self.capacity / self.horizon)
            return (
                capacity_nash(*args, market_size=self.market_size).prices,
                capacity_monopoly(*args, market_size=self.market_size).prices,
            )
        if self.kernel is None:
            a = self.quality * quality_scale
            return (
                logit_nash_prices(a, self.outside, self.mu, cost),
                logit_monopoly_prices(a, self.outside, self.mu, cost),
            )
        demand, bounds = self._demand(1.0), self.kernel.support
        try:
            pn = nash_prices(demand, cost, bounds)
        except ModelError as exc:
            raise ConfigError(f"kernel={type(self.kernel).__name__}: {exc}") from exc
        return pn, monopoly_prices(demand, cost, bounds, x0=pn)

    def _profits(
        self, prices: np.ndarray, cost: np.ndarray | None = None, quality_scale: float = 1.0
    ) -> np.ndarray:
        """Expected profits per seller at one price vector (default: in the base market)."""
        q = self._demand(quality_scale)(np.asarray(prices, dtype=np.float64)[None, :])[0]
        return (prices - (self.cost if cost is None else cost)) * q

    def _grid(
        self, n_prices: int | None, prices: Sequence[float] | None, extrapolate: bool
    ) -> np.ndarray:
        if prices is not None:
            grid = np.asarray(prices, dtype=np.float64)
            if grid.ndim != 1 or grid.size < 2:
                raise ConfigError(
                    f"prices={prices!r} must be a 1-D list of at least 2 prices; pass the grid "
                    "the sellers may choose from."
                )
            if not (np.all(np.isfinite(grid)) and grid[0] > 0 and np.all(np.diff(grid) > 0)):
                raise ConfigError(
                    f"prices={grid.tolist()} must be finite, > 0 and strictly increasing; "
                    "sort the grid and drop duplicates."
                )
            if n_prices is not None and n_prices != grid.size:
                raise ConfigError(
                    f"n_prices={n_prices!r} but prices has {grid.size} entries; give one of them."
                )
        else:
            m = integer(
                "n_prices",
                15 if n_prices is None else n_prices,
                2,
                "use e.g. the Calvano grid of 15",
            )
            pn, pm = float(self.nash_prices.min()), float(self.monopoly_prices.max())
            gap = pm - pn
            lo, hi = pn - self.xi * gap, pm + self.xi * gap
            if self.capacity is not None:
                # the unconstrained market's range, raised to the capacity monopoly price:
                # capacity can close the Nash–monopoly gap, and the grid must stay usable
                pn = float(logit_nash_prices(self.quality, self.outside, self.mu, self.cost).min())
                pu = logit_monopoly_prices(self.quality, self.outside, self.mu, self.cost).max()
                gap = float(pu) - pn
                lo, hi = pn - self.xi * gap, max(float(pu), pm) + self.xi * gap
            if not (lo > 0 and hi > lo):
                raise ConfigError(
                    f"xi={self.xi} gives the price range [{lo:.6g}, {hi:.6g}] from p^N={pn:.6g} "
                    f"and p^M={pm:.6g}; it must be positive and non-empty. Use a smaller xi, "
                    "or pass prices= explicitly."
                )
            grid = np.linspace(lo, hi, m)
        if self.kernel is not None:
            s_lo, s_hi = self.kernel.support
            if grid[0] < s_lo or grid[-1] > s_hi:
                message = (
                    f"the price grid [{grid[0]:.6g}, {grid[-1]:.6g}] leaves the kernel's "
                    f"support [{s_lo:.6g}, {s_hi:.6g}] (the prices seen in its data)"
                )
                if not extrapolate:
                    raise ConfigError(
                        f"{message}; pass prices= inside the support, or extrapolate=True to "
                        "allow it explicitly."
                    )
                warnings.warn(message + ".", ExtrapolationWarning, stacklevel=3)
        return grid

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box:
        """The observation space of ``agent`` (the same object on every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """The action space of ``agent`` (the same object on every call)."""
        return self.action_spaces[agent]

    @property
    def np_random(self) -> np.random.Generator:
        """The env's one random source, seeded by ``reset(seed=...)``."""
        if self._np_random is None:
            self._np_random, self.np_random_seed = seeding.np_random()
        return self._np_random

    # ---------------------------------------------------------------- dynamics
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start a new episode; see *Starting State*."""
        if seed is not None or self._np_random is None:
            self._np_random, self.np_random_seed = seeding.np_random(seed)
        options = options or {}
        rng, k, n = self.np_random, self.memory, self.n_sellers
        if options.get("prices") is not None:
            self._u, self._p = self._code_prices(options["prices"])
        elif self.action_type == "discrete":
            idx = rng.integers(self.grid.size, size=(k, n))
            self._u, self._p = idx / (self.grid.size - 1), self.grid[idx]
        else:
            self._u = rng.random((k, n))
            self._p = self.p_lo + self._u * (self.p_hi - self.p_lo)
        if options.get("regime") is not None:
            r = options["regime"]
            if not (isinstance(r, int | np.integer) and 0 <= r < self._n_regimes):
                raise ConfigError(
                    f"options['regime']={r!r} must be an integer in [0, {self._n_regimes})."
                )
            self._regime = int(r)
        elif self.shocks is not None:
            self._regime = int(rng.choice(self._n_regimes, p=np.asarray(self.shocks.initial)))
        else:
            self._regime = 0
        self._t = 0
        self._kstate = self._kernels[self._regime].initial_state(1)
        self._last = None
        if self.capacity is not None:
            self._stock = self.capacity.copy()
        self.agents = self.possible_agents[:]
        r = self._regime
        infos = {
            a: {
                "price": float(self._p[0, i]),
                "regime": r,
                "nash_price": float(self.regime_nash_prices[r, i]),
                "monopoly_price": float(self.regime_monopoly_prices[r, i]),
                "nash_profit": float(self.regime_nash_profits[r, i]),
                "monopoly_profit": float(self.regime_monopoly_profits[r, i]),
            }
            for i, a in enumerate(self.possible_agents)
        }
        return self._observations(), infos

    def _code_prices(self, value: Any) -> tuple[np.ndarray, np.ndarray]:
        """Given prices (N,) or (k, N) as (coded, prices) arrays of shape (k, N)."""
        k, n = self.memory, self.n_sellers
        p = np.asarray(value, dtype=np.float64)
        if p.shape == (n,):
            p = np.broadcast_to(p, (k, n))
        if p.shape != (k, n) or not np.all(np.isfinite(p)):
            raise ConfigError(
                f"options['prices'] has shape {p.shape}; pass ({n},) or ({k}, {n}) finite prices."
            )
        if self.action_type == "discrete":
            idx = np.abs(p[..., None] - self.grid).argmin(axis=-1)
            if not np.allclose(self.grid[idx], p, rtol=1e-9, atol=1e-12):
                raise ConfigError(
                    f"options['prices']={p.tolist()} are not all on the price grid "
                    f"{np.round(self.grid, 6).tolist()}; pick grid prices."
                )
            return idx / (self.grid.size - 1), self.grid[idx]
        if np.any(p < self.p_lo - 1e-12) or np.any(p > self.p_hi + 1e-12):
            raise ConfigError(
                f"options['prices']={p.tolist()} must lie in [{self.p_lo}, {self.p_hi}]."
            )
        u = np.clip((p - self.p_lo) / (self.p_hi - self.p_lo), 0.0, 1.0)
        return u, self.p_lo + u * (self.p_hi - self.p_lo)

    def _decode(self, agent: str, action: Any) -> tuple[float, float]:
        """(coded price, price) of ``agent``'s action."""
        if self.action_type == "discrete":
            a = np.asarray(action)
            if a.size != 1 or a.dtype.kind not in "iu":
                raise ValueError(
                    f"action {action!r} of {agent} must be an integer index into the "
                    f"{self.grid.size}-price grid."
                )
            i = int(a.reshape(-1)[0])
            if not 0 <= i < self.grid.size:
                raise ValueError(
                    f"action {i} of {agent} is outside Discrete({self.grid.size}); "
                    f"use 0 … {self.grid.size - 1}."
                )
            return i / (self.grid.size - 1), float(self.grid[i])
        a = np.asarray(action, dtype=np.float64)
        if a.size != 1 or not np.isfinite(a).all():
            raise ValueError(f"action {action!r} of {agent} must be one finite number in [-1, 1].")
        u = min(max(0.5 * (float(a.reshape(-1)[0]) + 1.0), 0.0), 1.0)
        return u, self.p_lo + u * (self.p_hi - self.p_lo)

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one round; see *Moves*, *Rewards* and *Episode End*."""
        if not self.agents:
            raise RuntimeError("the episode is over (or never started); call reset() first.")
        n, r = self.n_sellers, self._regime
        u, p = self._u[0].copy(), self._p[0].copy()
        movers = range(n) if not self._seq else (self._t % n,)
        for i in movers:
            agent = self.possible_agents[i]
            if agent not in actions:
                raise ValueError(
                    f"actions has no entry for {agent!r}, which moves this round; pass "
                    f"{{agent: action}} for {self.agents}."
                )
            u[i], p[i] = self._decode(agent, actions[agent])
        kernel = self._kernels[r]
        prices = p[None, :]
        expected = kernel.expected(prices, self._context, self._kstate)
        units = kernel.sample(self.np_random, expected) if self.noise else expected
        self._kstate = kernel.update(self._kstate, prices, self._context, units)
        expected, units = expected[0], units[0]
        demand = units
        if self._stock is not None:  # lost sales: sell what is in stock
            units = np.minimum(units, self._stock)
            self._stock = self._stock - units
        cost = self._costs[r]
        profit = (p - cost) * units
        self._u[1:], self._p[1:] = self._u[:-1], self._p[:-1]
        self._u[0], self._p[0] = u, p
        self._t += 1
        if self._cum is not None:
            self._regime = min(
                int(np.searchsorted(self._cum[r], self.np_random.random(), side="right")),
                self._n_regimes - 1,
            )
        done = self.horizon is not None and self._t >= self.horizon
        season_over = self._stock is not None and (done or not np.any(self._stock > 0))
        agents = self.possible_agents
        moved = np.zeros(n, dtype=bool)
        moved[list(movers)] = True
        rewards = {a: float(profit[i]) for i, a in enumerate(agents)}
        infos = {
            a: {
                "price": float(p[i]),
                "quantity": float(units[i]),
                "expected_quantity": float(expected[i]),
                "unit_cost": float(cost[i]),
                "profit": rewards[a],
                "round": self._t,
                "regime": r,
                "moved": bool(moved[i]),
                "nash_price": float(self.regime_nash_prices[r, i]),
                "monopoly_price": float(self.regime_monopoly_prices[r, i]),
                "nash_profit": float(self.regime_nash_profits[r, i]),
                "monopoly_profit": float(self.regime_monopoly_profits[r, i]),
            }
            for i, a in enumerate(agents)
        }
        if self._stock is not None:
            for i, a in enumerate(agents):
                infos[a]["demand"] = float(demand[i])
                infos[a]["stock"] = float(self._stock[i])
        self._last = {"prices": p, "units": units, "profit": profit, "regime": np.array(r)}
        if done or season_over:
            self.agents = []
        return (
            self._observations(),
            rewards,
            dict.fromkeys(agents, season_over),
            dict.fromkeys(agents, done and not season_over),
            infos,
        )

    def _observations(self) -> dict[str, np.ndarray]:
        n, k = self.n_sellers, self.memory
        obs = np.zeros((n, self.obs_dim), dtype=np.float32)
        obs[:, : k * n] = self._u[:, self._perm].transpose(1, 0, 2).reshape(n, k * n)
        if self._seq:
            obs[:, k * n] = ((np.arange(n) - self._t) % n) / (n - 1)
        if self.shocks is not None:
            obs[:, k * n + self._seq + self._regime] = 1.0
        if self._stock is not None and self.capacity is not None and self.horizon is not None:
            at = self._stock_at
            obs[:, at : at + n] = (self._stock / self.capacity)[self._perm]
            obs[:, at + n] = (self.horizon - self._t) / self.horizon
        return {a: obs[i] for i, a in enumerate(self.possible_agents)}

    def state(self) -> np.ndarray:
        """The global state: seller 0's observation (all prices in seat order, turn, regime)."""
        return self._observations()[self.possible_agents[0]]

    # ------------------------------------------------------------------ render
    def render(self) -> str | None:
        """``"ansi"``: one line with the round, regime, and each seller's price, units, profit."""
        if self.render_mode is None:
            logger.warn("render() was called with render_mode=None; pass render_mode='ansi'.")
            return None
        if self._last is None:
            sellers = " | ".join(
                f"{a} p={self._p[0, i]:.4f}" for i, a in enumerate(self.possible_agents)
            )
            return f"round {self._t:>6} regime {self._regime} | {sellers}"
        last = self._last
        sellers = " | ".join(
            f"{a} p={last['prices'][i]:.4f} q={last['units'][i]:.4f} π={last['profit'][i]:.4f}"
            for i, a in enumerate(self.possible_agents)
        )
        return f"round {self._t:>6} regime {int(last['regime'])} | {sellers}"

    def close(self) -> None:
        """Nothing to release."""


# ================================================================= wrapper
class OpponentWrapper(gymnasium.Env):
    """A single seller's view of an :class:`OligopolyEnv` whose rivals follow fixed policies.

    The learner sits at ``seat`` (index or agent name, default seller 0); each
    rival follows its policy: an object with ``act(observation) -> action``
    (its ``reset(seed)``, if present, is called at every reset with a seed drawn
    from this env's ``np_random``) or a callable ``policy(observation) ->
    action``. Rivals see their own observations from the ParallelEnv (their own
    price first), so one rule works at any seat. A frozen stable-baselines3
    model is a policy as ``lambda obs: model.predict(obs, deterministic=True)[0]``.

    The observation and action spaces, rewards and episode ends are the
    learner's in the oligopoly; ``info`` is the learner's info plus
    ``rival_prices`` (agent → price). ``opponents`` is one policy for every
    rival, a sequence with one per rival in seat order, or a mapping from
    rival name to policy.

    ## Version History

    - v0: initial release.
    """

    def __init__(
        self,
        env: OligopolyEnv,
        opponents: Policy | Sequence[Policy] | Mapping[str, Policy],
        seat: int | str = 0,
    ) -> None:
        self.env = env
        agents = list(env.possible_agents)
        if isinstance(seat, str):
            if seat not in agents:
                raise ConfigError(f"seat={seat!r} is not one of the sellers {agents}.")
            self.learner = seat
        elif isinstance(seat, int | np.integer) and 0 <= seat < len(agents):
            self.learner = agents[int(seat)]
        else:
            raise ConfigError(
                f"seat={seat!r} must be a seller name or an index in [0, {len(agents)})."
            )
        self.rivals = [a for a in agents if a != self.learner]
        if isinstance(opponents, Mapping):
            if set(opponents) != set(self.rivals):
                raise ConfigError(
                    f"opponents has keys {sorted(opponents)}, but the rivals are {self.rivals}; "
                    "give one policy per rival."
                )
            chosen = [opponents[a] for a in self.rivals]
        elif isinstance(opponents, Sequence) and not isinstance(opponents, str):
            if len(opponents) != len(self.rivals):
                raise ConfigError(
                    f"opponents has {len(opponents)} policies for {len(self.rivals)} rivals "
                    f"{self.rivals}; give one per rival, or a single policy for all."
                )
            chosen = list(opponents)
        else:
            chosen = [opponents] * len(self.rivals)
        self._act: dict[str, Callable[[np.ndarray], Any]] = {}
        for rival, policy in zip(self.rivals, chosen, strict=True):
            act = getattr(policy, "act", None)
            if callable(act):
                self._act[rival] = act
            elif callable(policy):
                self._act[rival] = policy
            else:
                raise ConfigError(
                    f"the policy for {rival} ({policy!r}) has no act(observation) method and is "
                    "not callable; pass an agent or a function observation -> action."
                )
        self._policies = list({id(p): p for p in chosen}.values())
        self.observation_space = env.observation_space(self.learner)
        self.action_space = env.action_space(self.learner)
        self.metadata = {"render_modes": list(env.metadata["render_modes"]), "render_fps": 4}
        self.render_mode = env.render_mode
        self._obs: dict[str, np.ndarray] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the oligopoly (with ``seed``) and every rival policy that has ``reset``."""
        super().reset(seed=seed)
        self._obs, infos = self.env.reset(seed=seed, options=options)
        for policy in self._policies:
            reset = getattr(policy, "reset", None)
            if callable(reset):
                reset(int(self.np_random.integers(2**31)))
        return self._obs[self.learner], infos[self.learner]

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """The learner plays ``action``; each rival plays its policy's action."""
        actions = {self.learner: action}
        for rival, act in self._act.items():
            actions[rival] = act(self._obs[rival])
        self._obs, rewards, terminations, truncations, infos = self.env.step(actions)
        info = dict(infos[self.learner])
        info["rival_prices"] = {a: infos[a]["price"] for a in self.rivals}
        me = self.learner
        return self._obs[me], rewards[me], terminations[me], truncations[me], info

    def render(self) -> str | None:
        """The oligopoly's rendering."""
        return self.env.render()

    def close(self) -> None:
        """Close the oligopoly."""
        self.env.close()


# ================================================================= helpers
def _number(
    name: str, value: Any, fix: str, low: float | None = None, strict: bool = False
) -> float:
    """``value`` as a finite float (> low if strict, else >= low), or a ConfigError."""
    within = REAL if low is None else Interval(low, closed="neither" if strict else "left")
    return real(name, value, within, message="{name}={value!r} must be {rule}; {fix}.", fix=fix)


def _per_seller(name: str, value: Any, n: int, low: float | None = None) -> np.ndarray:
    """A scalar or one finite value (>= low) per seller, as an (n,) array."""
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        v = np.array([np.nan])
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ConfigError(
            f"{name}={value!r} has {v.size} values for {n} sellers; give one per seller or a "
            "scalar for all."
        )
    if not np.all(np.isfinite(v)) or (low is not None and np.any(v < low)):
        rule = "finite" if low is None else f"finite and >= {low:g}"
        raise ConfigError(
            f"{name}={value!r} must be {rule} for every seller; correct the offending entry."
        )
    return v
