"""The exact optimum of a single-seller market: finite-horizon dynamic programming.

:func:`solve_dp` computes, by backward induction, the policy that maximises a
seller's expected season profit in a :class:`~pricegym.envs.market.PricingEnv`
with a known, stateless demand kernel, finite integer inventory and a discrete
price grid. It follows the env's step semantics (:mod:`pricegym.envs.config`)
exactly, so its value is the expected return of an episode under the optimal
policy, and no agent can beat it in expectation. :class:`DPAgent` plays the
solution. :func:`evaluate_policy` runs the same recursion for any given policy
(a fixed price, a schedule, a table), which gives every other agent's exact
expected profit on the same footing.

The recursion, with k = periods played (0 ≤ k < T), x = stock, demand D of
period k a count from the kernel's noise model with mean ``mu[k, p]`` (its
expected units at price p, calendar t = start_t + k, competitor prices of the
market's deterministic path), sales S = min(D, x)::

    V[T, x] = 0
    Q[k, x, p] = (p − c)·E[S] − h·E[x − S] + 1{k = T−1}·v·E[x − S] + E[V[k+1, R_k(x − S)]]
    V[k, x] = max_p Q[k, x, p]

with unit cost c, holding cost h, salvage value v (last period only) and
``R_k(y) = max(y, replenish_to)`` after a replenishment period, else y. The pmf
of D is Poisson or NB2 (``scipy.stats``); the probability of D ≥ x is lumped into
"sells out" (S = x). With unlimited stock the optimum is the myopic price
``argmax_p (p − c)·mu[k, p]`` in every period.

:func:`gallego_van_ryzin` is the closed-form continuous-time optimum of Gallego
& van Ryzin (1994) for exponential demand, and :func:`discretised_gallego_van_ryzin`
the DP of the same problem cut into periods, which converges to it from below.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal, special, stats

from pricegym.agents.base import PricingAgent
from pricegym.demand.base import DemandModel
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.parametric import ExponentialTruth
from pricegym.envs.competitors import CompetitorProcess
from pricegym.envs.config import MarketConfig
from pricegym.errors import ConfigError, ModelError, ModelFileError, PricegymWarning

__all__ = [
    "MAX_CELLS",
    "DPAgent",
    "DPSolution",
    "GvRSolution",
    "discretised_gallego_van_ryzin",
    "evaluate_policy",
    "fixed_price_values",
    "gallego_van_ryzin",
    "solve_dp",
]

#: Default limit on the value table's size (T + 1)·(X + 1) (memory and time guard).
MAX_CELLS = 5_000_000
#: Demand counts whose probability P(D ≥ s) is below this at every price are dropped
#: from the expectation (their mass, < 1e-15 in total, is negligible).
_PMF_TOL = 1e-16
#: Largest (X + 1)·d_max matrix the continuation builds directly (else FFT convolution).
_DIRECT_LIMIT = 250_000
#: Relative tolerance within which two prices' values are a tie (lowest index wins).
_TIE_RTOL = 1e-12


# ==================================================================== results


@dataclass(frozen=True)
class DPSolution:
    """The value of a policy (optimal or given) in a single-seller market, by (period, stock).

    Attributes:
        prices: the price grid, shape (n,); actions index it.
        value: V[k, x], expected profit from period k (k periods played) to the
            season's end with x units in stock, shape (T + 1, X + 1); V[T] = 0. With
            unlimited stock X = 0 and column 0 is the value.
        action: the policy's grid index per (k, x), shape (T, X + 1).
        expected_demand: expected units per (period, grid price), shape (T, n).
        inventory: initial stock x0 (``None``: unlimited).
        inventory_scale: the env's denominator of the observed inventory fraction
            (stock = fraction · scale).
        optimal: whether ``action`` is the DP optimum (False: a policy evaluated by
            :func:`evaluate_policy`).
    """

    prices: np.ndarray
    value: np.ndarray
    action: np.ndarray
    expected_demand: np.ndarray
    inventory: int | None
    inventory_scale: float = 1.0
    optimal: bool = True

    def __post_init__(self) -> None:
        for name in ("prices", "value", "action", "expected_demand"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def horizon(self) -> int:
        """Season length T in periods."""
        return int(self.action.shape[0])

    @property
    def max_inventory(self) -> int:
        """Largest stock X in the tables (0 when unlimited)."""
        return int(self.value.shape[1] - 1)

    @property
    def price(self) -> np.ndarray:
        """The policy's price per (k, x), shape (T, X + 1)."""
        return self.prices[self.action]

    @property
    def expected_value(self) -> float:
        """Expected season profit from the starting state, V[0, x0]."""
        return float(self.value[0, self.inventory or 0])

    def stock_index(self, stock: float | np.ndarray) -> np.ndarray:
        """Table column of a stock level (rounded, clipped to [0, X]; 0 when unlimited)."""
        if self.inventory is None:
            return np.zeros(np.shape(stock), dtype=np.int64)
        return np.clip(np.rint(stock), 0, self.max_inventory).astype(np.int64)


@dataclass(frozen=True)
class GvRSolution:
    """Gallego & van Ryzin (1994) exponential-demand benchmark (see :func:`gallego_van_ryzin`).

    Attributes:
        value: J*(x, t), the optimal expected revenue.
        fluid_bound: J^D(x, t), the deterministic (fluid) upper bound, >= value.
        price: the optimal price at (x, t), J*(x, t) − J*(x − 1, t) + 1/α.
        fluid_price: the fluid problem's constant price max(1/α, log(a·t/x)/α).
        lambda_star: a/e, the revenue-maximising intensity (price 1/α).
    """

    a: float
    alpha: float
    inventory: int
    horizon: float
    value: float
    fluid_bound: float
    price: float
    fluid_price: float
    lambda_star: float


# ==================================================================== market description


@dataclass(frozen=True)
class _Market:
    """Everything the recursion needs, validated once."""

    prices: np.ndarray
    mu: np.ndarray  # (T, n) expected units
    noise: NoiseModel
    inventory: int | None
    max_stock: int
    cost: float
    holding: float
    salvage: float
    replenish_every: int | None
    replenish_to: int
    scale: float


def _as_kernel(kernel_or_model: Any) -> DemandKernel:
    if isinstance(kernel_or_model, DemandKernel):
        return kernel_or_model
    if isinstance(kernel_or_model, DemandModel):
        return kernel_or_model.kernel()
    raise ModelError(
        f"{type(kernel_or_model).__name__} is neither a DemandKernel nor a fitted DemandModel; "
        "pass model.kernel(), a fitted model, or a parametric truth such as ExponentialTruth."
    )


def _as_config(config: MarketConfig | Mapping[str, Any] | None) -> MarketConfig:
    if config is None:
        return MarketConfig()
    if isinstance(config, MarketConfig):
        return config
    if isinstance(config, Mapping):
        return MarketConfig.from_dict(config)
    raise ConfigError(f"config={config!r} must be a MarketConfig, a mapping of settings or None.")


def _whole(name: str, value: float) -> int:
    if float(value) != math.floor(float(value)):
        raise ConfigError(
            f"{name}={value!r}: the DP counts stock in whole units (demand is a count); "
            f"pass an integer, e.g. {name}={math.floor(float(value))}."
        )
    return int(value)


def _depends_on_history(kernel: DemandKernel, prices: np.ndarray, ctx: Any) -> bool:
    """Whether the kernel's state after a period depends on that period's demand or price."""
    state = kernel.initial_state(2)
    a = kernel.update(state, np.array([prices[0], prices[0]]), ctx, np.array([0.0, 0.0]))
    b = kernel.update(state, np.array([prices[0], prices[-1]]), ctx, np.array([0.0, 7.0]))
    return any(not np.array_equal(a[k], b[k]) for k in a)


def _market(
    kernel_or_model: Any, config: MarketConfig | Mapping[str, Any] | None, max_cells: int
) -> _Market:
    kern = _as_kernel(kernel_or_model)
    cfg = _as_config(config)
    if int(getattr(kern, "n_sellers", 1)) != 1:
        raise ModelError(
            f"{type(kern).__name__} has n_sellers={kern.n_sellers}: solve_dp optimises one "
            "seller; for several sellers use the oligopoly equilibria (Nash / joint monopoly)."
        )
    if cfg.action != "discrete":
        raise ConfigError(
            f"action={cfg.action!r}: the DP optimises over a discrete price grid; use "
            "action='discrete' with n_prices (e.g. n_prices=50) or an explicit prices list."
        )
    if not cfg.noise:
        raise ConfigError(
            "noise=False makes demand the real number mu, but the DP counts stock in whole "
            "units; keep noise=True with a Poisson or negative binomial noise model."
        )
    noise = kern.noise
    if type(kern).sample is not DemandKernel.sample or type(noise) is not NoiseModel:
        raise ModelError(
            f"{type(kern).__name__} samples demand with its own sample() or noise object, whose "
            "probabilities the DP cannot know; use a kernel with a Poisson or negative binomial "
            "NoiseModel."
        )
    if noise.kind == "lognormal":
        raise ModelError(
            f"noise kind 'lognormal' (sigma={noise.sigma:g}) gives continuous demand, but the DP "
            "counts stock in whole units; fit the model with noise='poisson' or 'negbin'."
        )
    m = len(kern.spec.competitors)
    if cfg.competitor.kind == "random_walk" and m:
        raise ConfigError(
            "competitor.kind='random_walk' makes competitor prices random, so the optimum "
            "depends on them and not only on (period, stock); use competitor kind 'fixed' or "
            "'replay' for the DP benchmark."
        )
    horizon = int(cfg.horizon)
    if cfg.max_episode_steps is not None and cfg.max_episode_steps < horizon:
        warnings.warn(
            f"max_episode_steps={cfg.max_episode_steps} < horizon={horizon}: episodes are cut "
            "off before the season ends, while the DP value is the whole season's.",
            PricegymWarning,
            stacklevel=3,
        )
    inventory = None if cfg.inventory is None else _whole("inventory", cfg.inventory)
    replenish_to = inventory or 0
    if cfg.replenish_to is not None:
        replenish_to = _whole("replenish_to", cfg.replenish_to)
    max_stock = 0 if inventory is None else max(inventory, replenish_to)
    cells = (horizon + 1) * (max_stock + 1)
    if cells > max_cells:
        raise ConfigError(
            f"inventory={cfg.inventory!r} with horizon={horizon}: the value table has "
            f"(T + 1)·(X + 1) = {horizon + 1}·{max_stock + 1} = {cells:,} cells, above the limit "
            f"max_cells={max_cells:,}; count stock in larger units (e.g. packs), shorten the "
            "horizon, or raise max_cells."
        )
    grid = cfg.price_grid(kern.support)
    n = grid.shape[0]

    # Expected demand per (period, grid price): the env's reference context at calendar
    # t = start_t + k with the competitor prices of its deterministic path.
    start_t = float(kern.reference["t"] if cfg.start_t is None else cfg.start_t)
    process = CompetitorProcess(cfg.competitor, kern, 1)
    path = process.path(np.random.default_rng(0), horizon)[:, 0, :]  # draws nothing here
    stateful = type(kern).update is not DemandKernel.update or bool(kern.initial_state(1))
    if stateful and _depends_on_history(
        kern, grid, kern.context(2, t=start_t, competitors=path[0])
    ):
        raise ModelError(
            f"{type(kern).__name__} carries a state that depends on past demand (e.g. ARIMAX "
            "errors with AR/MA terms, or a neural model with lagged units), so the optimum "
            "depends on more than (period, stock) and a DP over them cannot be exact; use a "
            "parametric truth or a regression family (linear, log-linear, Poisson) for the DP "
            "benchmark, or a neural model with lags=0."
        )
    if stateful:  # state evolves without regard to demand: follow it period by period
        state = kern.initial_state(n)
        rows = []
        for k in range(horizon):
            ctx = kern.context(n, t=start_t + k, competitors=path[k])
            rows.append(np.asarray(kern.expected(grid, ctx, state), np.float64).reshape(n))
            state = kern.update(state, grid, ctx, np.zeros(n))
        mu = np.array(rows).reshape(horizon, n)
    else:
        ctx = kern.context(
            horizon * n, t=np.repeat(start_t + np.arange(horizon), n), competitors=path.repeat(n, 0)
        )
        mu = kern.expected(np.tile(grid, horizon), ctx, kern.initial_state(horizon * n))
        mu = np.asarray(mu, np.float64).reshape(horizon, n)
    if not np.all(np.isfinite(mu)):
        raise ModelError(
            f"{type(kern).__name__} gives non-finite expected demand on the price grid "
            f"[{grid[0]:g}, {grid[-1]:g}]; narrow the price range to the model's support."
        )
    every = None if cfg.replenish_every is None else int(cfg.replenish_every)
    scale = 1.0 if inventory is None else float(inventory or (cfg.replenish_to or 1.0))
    return _Market(
        prices=grid,
        mu=np.maximum(mu, 0.0),
        noise=noise,
        inventory=inventory,
        max_stock=max_stock,
        cost=float(cfg.cost),
        holding=float(cfg.holding_cost),
        salvage=float(cfg.salvage_value),
        replenish_every=every,
        replenish_to=replenish_to,
        scale=scale,
    )


# ==================================================================== recursion


def _demand_tables(noise: NoiseModel, mu: np.ndarray, max_stock: int) -> tuple[np.ndarray, ...]:
    """pmf[p, s] for s < d_max and sf[p, s] = P(D > s) for s < X, for means ``mu`` (n,)."""
    s = np.arange(max(max_stock, 1), dtype=np.float64)
    if noise.kind == "negbin" and noise.alpha > 0:
        size = 1.0 / noise.alpha
        dist = stats.nbinom(size, size / (size + mu[:, None]))
    else:
        dist = stats.poisson(mu[:, None])
    sf = dist.sf(s[None, :])
    # P(D >= s) = sf[s - 1]; counts beyond the last one with P(D >= s) > tol are dropped.
    d_max = 1 + int(np.count_nonzero(sf.max(axis=0)[:-1] > _PMF_TOL)) if max_stock > 1 else 1
    pmf = dist.pmf(s[None, :d_max])
    return pmf, sf


def _continuation(pmf: np.ndarray, v_next: np.ndarray, lag: np.ndarray | None) -> np.ndarray:
    """C[x, p] = sum_{s<x} pmf[p, s]·V[x − s] for every stock x and price p, shape (X + 1, n).

    Direct (``lag`` = the (X + 1) × d_max table of x − s): the matrix of V[x − s],
    zero where s >= x, times pmf'. When that matrix would be large (heavy-tailed
    demand, big stock; ``lag`` is None), the same sum is the convolution of each pmf
    row with V (V[0] zeroed so that s = x drops out), done by FFT in O(n·X·log X).
    """
    if lag is not None:
        return np.where(lag > 0, v_next[np.maximum(lag, 0)], 0.0) @ pmf.T
    vz = v_next.copy()
    vz[0] = 0.0
    return signal.fftconvolve(pmf, vz[None, :], axes=1)[:, : v_next.shape[0]].T


def _continuation_each(pmf: np.ndarray, v_next: np.ndarray, lag: np.ndarray | None) -> np.ndarray:
    """:func:`_continuation` with each price's own next-period values: ``v_next`` is (X + 1, n),
    C[x, p] = sum_{s<x} pmf[p, s]·V[x − s, p]."""
    size = v_next.shape[0]
    if lag is not None and lag.size * pmf.shape[0] <= 8 * _DIRECT_LIMIT:
        lagged = np.where((lag > 0)[:, :, None], v_next[np.maximum(lag, 0)], 0.0)  # (X+1, d, n)
        return np.einsum("xsp,ps->xp", lagged, pmf)
    vz = v_next.T.copy()
    vz[:, 0] = 0.0
    return signal.fftconvolve(pmf, vz, axes=1)[:, :size].T


def _best(q: np.ndarray) -> np.ndarray:
    """Row-wise argmax; values within a relative 1e-12 of the row's best count as ties,
    which go to the lowest grid index (so rounding noise never decides between equals)."""
    top = q.max(axis=1, keepdims=True)
    return np.argmax(q >= top - _TIE_RTOL * np.maximum(np.abs(top), 1.0), axis=1)


def _backward(market: _Market, policy: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Value table and action table: optimal when ``policy`` is None, else the policy's value.

    Vectorised over stock and prices, one period at a time (no loop over stock):
    expected sales E[min(D, x)] = sum_{s<x} P(D > s) by a cumulative sum, the
    continuation by :func:`_continuation`; a period costs O(X·d_max·n), d_max the
    demand counts with non-negligible probability. Demand tables are reused while
    the expected demand repeats from period to period.
    """
    mu, prices = market.mu, market.prices
    horizon = mu.shape[0]
    xs = market.max_stock
    value = np.zeros((horizon + 1, xs + 1))
    action = np.zeros((horizon, xs + 1), dtype=np.int64)
    margin = prices - market.cost
    if market.inventory is None:  # unlimited stock: profit (p − c)·mu, no holding or salvage
        q = margin[None, :] * mu
        action[:, 0] = _best(q) if policy is None else policy[:, 0]
        gain = q[np.arange(horizon), action[:, 0]]
        value[:-1, 0] = np.cumsum(gain[::-1])[::-1]
        return value, action

    stock = np.arange(xs + 1)
    tables = _PeriodTables(market)
    for k in range(horizon - 1, -1, -1):
        v_next = tables.restocked(value[k + 1], k)
        pmf, reward, sells_out, lag = tables(k)
        q = reward + _continuation(pmf, v_next, lag) + sells_out * v_next[0]  # (X + 1, n)
        act = _best(q) if policy is None else policy[k]
        action[k] = act
        value[k] = q[stock, act]
    return value, action


class _PeriodTables:
    """Per-period tables of the backward recursion, reused while expected demand repeats.

    ``tables(k)`` = (pmf (n, d_max), reward (X + 1, n), sells_out (X + 1, n), lag):
    expected sales E[min(D, x)] = sum_{s<x} P(D > s) by a cumulative sum, P(D >= x)
    ("sells out"), the period's reward with holding cost (and salvage in the last
    period), and the lag table of :func:`_continuation` (None: use the FFT).
    """

    def __init__(self, market: _Market) -> None:
        self.market = market
        self.stock = np.arange(market.max_stock + 1)
        self._cache: tuple[bytes, tuple[Any, ...]] | None = None

    def restocked(self, v_next: np.ndarray, k: int) -> np.ndarray:
        """Next period's values seen from period k, after a replenishment between them."""
        m = self.market
        every = m.replenish_every
        if every is not None and k < m.mu.shape[0] - 1 and (k + 1) % every == 0:
            return v_next[np.maximum(self.stock, m.replenish_to)]
        return v_next

    def __call__(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        m = self.market
        xs, n = m.max_stock, m.prices.shape[0]
        key = m.mu[k].tobytes()
        if self._cache is None or self._cache[0] != key:
            pmf, sf = _demand_tables(m.noise, m.mu[k], xs)
            # E[min(D, x)] = sum_{s<x} P(D > s); P(D >= x) = sf[x − 1] ("sells out")
            sales = np.vstack([np.zeros(n), np.cumsum(sf[:, :xs].T, axis=0)])
            sells_out = np.vstack([np.ones(n), sf[:, :xs].T])
            d_max = pmf.shape[1]
            direct = (xs + 1) * d_max <= _DIRECT_LIMIT
            lag = self.stock[:, None] - np.arange(d_max)[None, :] if direct else None
            self._cache = (key, (pmf, sales, sells_out, lag))
        pmf, sales, sells_out, lag = self._cache[1]
        carry = m.holding - (m.salvage if k == m.mu.shape[0] - 1 else 0.0)
        reward = (m.prices - m.cost + carry)[None, :] * sales - carry * self.stock[:, None]
        return pmf, reward, sells_out, lag


def solve_dp(
    kernel_or_model: DemandKernel | DemandModel,
    config: MarketConfig | Mapping[str, Any] | None = None,
    *,
    max_cells: int = MAX_CELLS,
) -> DPSolution:
    """The optimal pricing policy and its value for one seller with a known demand model.

    Args:
        kernel_or_model: the demand (a stateless kernel, a fitted model, or a
            parametric truth) with Poisson or negative binomial noise.
        config: the market (:class:`MarketConfig` or a mapping): a discrete price
            grid, horizon T, integer ``inventory`` (or ``None``: unlimited, then the
            myopic price each period is optimal), cost, holding cost, salvage value,
            replenishment, fixed or replayed competitor prices, calendar start.
        max_cells: limit on (T + 1)·(X + 1), the size of the value table.

    Returns:
        A :class:`DPSolution` with V[k, x], the optimal grid index and price per
        (k, x), and ``expected_value`` = V[0, inventory], the expected return of an
        episode of ``PricingEnv(kernel, config)`` under the optimal policy. Ties
        between prices (values equal to a relative 1e-12) go to the lowest grid index.

    Raises:
        ModelError: a kernel with demand-dependent state (ARIMAX errors, lagged
            neural inputs), several sellers, lognormal or custom noise.
        ConfigError: a continuous price action, ``noise=False``, non-integer
            inventory, random-walk competitors, or a table above ``max_cells``.

    Example: a markdown market (4 units, 16 periods) where dynamic pricing pays 6%:

    >>> from pricegym.demand import ExponentialTruth
    >>> truth = ExponentialTruth(a=10.0, alpha=1.0)     # Poisson demand, mean 10·exp(−p)
    >>> market = {"n_prices": 10, "p_min": 0.5, "p_max": 5.0, "horizon": 16, "inventory": 4}
    >>> sol = solve_dp(truth, market)
    >>> round(sol.expected_value, 3), round(float(fixed_price_values(truth, market).max()), 3)
    (13.078, 12.308)
    >>> sol.price[0, 1:].tolist(), sol.price[15, 1:].tolist()   # stock 1..4: first, last period
    ([5.0, 4.5, 4.0, 3.5], [2.0, 1.5, 1.5, 1.5])
    """
    market = _market(kernel_or_model, config, max_cells)
    value, action = _backward(market, None)
    return DPSolution(
        market.prices, value, action, market.mu, market.inventory, market.scale, optimal=True
    )


def evaluate_policy(
    kernel_or_model: DemandKernel | DemandModel,
    config: MarketConfig | Mapping[str, Any] | None,
    actions: int | np.ndarray,
    *,
    max_cells: int = MAX_CELLS,
) -> DPSolution:
    """The exact expected profit of a given policy, by the recursion of :func:`solve_dp`.

    Args:
        actions: a grid index (a fixed price), an array of T indices (a price
            schedule by period), or a table of shape (T, X + 1) (a price per period
            and stock, e.g. another solution's ``action``).

    Returns:
        A :class:`DPSolution` with ``optimal=False`` whose ``value`` is the policy's
        expected profit-to-go and ``expected_value`` its expected season profit.
    """
    market = _market(kernel_or_model, config, max_cells)
    horizon, n = market.mu.shape
    shape = (horizon, market.max_stock + 1)
    arr = np.asarray(actions)
    if arr.ndim == 0:
        table = np.full(shape, int(arr))
    elif arr.shape == (horizon,):
        table = np.repeat(arr.astype(np.int64)[:, None], shape[1], axis=1)
    elif arr.shape == shape:
        table = arr.astype(np.int64)
    else:
        raise ConfigError(
            f"actions of shape {arr.shape}: pass one grid index, {horizon} indices (one per "
            f"period), or a table of shape {shape} (period × stock)."
        )
    if np.any((table < 0) | (table >= n)) or not np.all(arr == np.rint(arr)):
        raise ConfigError(f"actions must be integer grid indices in [0, {n}); got {arr!r}.")
    value, action = _backward(market, table)
    return DPSolution(
        market.prices, value, action, market.mu, market.inventory, market.scale, optimal=False
    )


def fixed_price_values(
    kernel_or_model: DemandKernel | DemandModel,
    config: MarketConfig | Mapping[str, Any] | None = None,
    *,
    max_cells: int = MAX_CELLS,
) -> np.ndarray:
    """Exact expected season profit of charging each grid price all season, shape (n,)."""
    market = _market(kernel_or_model, config, max_cells)
    mu = market.mu
    if market.inventory is None:  # unlimited stock: the sum of (p − c)·mu, summed as _backward
        q = (market.prices - market.cost)[None, :] * mu
        return np.cumsum(q[::-1], axis=0)[-1]
    # Every price's value recursion at once: column i is "price i all season", so the
    # work is that of one policy evaluation, not one per price (O(n²) before).
    tables = _PeriodTables(market)
    value = np.zeros((market.max_stock + 1, market.prices.shape[0]))
    for k in range(mu.shape[0] - 1, -1, -1):
        v_next = tables.restocked(value, k)
        pmf, reward, sells_out, lag = tables(k)
        value = reward + _continuation_each(pmf, v_next, lag) + sells_out * v_next[0][None, :]
    return value[market.inventory]


# ==================================================================== Gallego & van Ryzin


def _check_gvr(a: float, alpha: float, inventory: int, horizon: float) -> None:
    for name, v in (("a", a), ("alpha", alpha)):
        if not (np.isfinite(v) and v > 0):
            raise ConfigError(f"{name}={v!r} must be finite and > 0.")
    if not (np.isfinite(horizon) and horizon >= 0):
        raise ConfigError(f"horizon={horizon!r} must be a finite time >= 0.")
    if int(inventory) != inventory or inventory < 0:
        raise ConfigError(f"inventory={inventory!r} must be a whole number of units >= 0.")


def _gvr_value(lam_t: float, x: int, alpha: float) -> float:
    """(1/α)·log Σ_{i=0}^{x} (λ*t)^i / i!, computed as a log-sum-exp."""
    if x <= 0 or lam_t <= 0:
        return 0.0
    i = np.arange(x + 1, dtype=np.float64)
    return float(special.logsumexp(i * math.log(lam_t) - special.gammaln(i + 1.0)) / alpha)


def gallego_van_ryzin(a: float, alpha: float, inventory: int, horizon: float) -> GvRSolution:
    """Closed-form optimum of Gallego & van Ryzin (1994) for exponential demand.

    Demand is a Poisson process of intensity λ(p) = a·e^{−αp} per unit time, the
    seller has ``inventory`` = x units, ``horizon`` = t time to sell them, no cost
    and no salvage value. Gallego & van Ryzin (1994), "Optimal dynamic pricing of
    inventories with stochastic demand over finite horizons", Management Science
    40(8), §2.3, eqs. (9)–(10) (stated there for α = 1; general α by measuring
    price in units of 1/α), give the optimal expected revenue and price::

        J*(x, t) = (1/α)·log( Σ_{i=0}^{x} (λ* t)^i / i! ),   λ* = a·e^{−1}
        p*(x, t) = J*(x, t) − J*(x − 1, t) + 1/α

    and §3.1.1, eq. (11), the deterministic (fluid) problem, an upper bound
    J^D(x, t) >= J*(x, t) (their Theorem 2)::

        J^D(x, t) = λ* t/α                 if x >= λ* t  (price 1/α, stock left over)
                  = (x/α)·log(a t / x)     otherwise     (sell out at price log(a t/x)/α)

    To reproduce it with :func:`solve_dp`, cut t into n periods of length Δ = t/n:
    ``ExponentialTruth(a·Δ, alpha)`` has expected units per period λ(p)·Δ (see
    :func:`discretised_gallego_van_ryzin`).
    """
    _check_gvr(a, alpha, inventory, horizon)
    x, t = int(inventory), float(horizon)
    lam = a / math.e
    value = _gvr_value(lam * t, x, alpha)
    price = value - _gvr_value(lam * t, x - 1, alpha) + 1.0 / alpha if x > 0 else math.inf
    if x == 0 or t == 0:
        fluid, fluid_price = 0.0, 1.0 / alpha if x > 0 else math.inf
    elif x >= lam * t:
        fluid, fluid_price = lam * t / alpha, 1.0 / alpha
    else:
        fluid_price = math.log(a * t / x) / alpha
        fluid = x * fluid_price
    return GvRSolution(
        a=float(a),
        alpha=float(alpha),
        inventory=x,
        horizon=t,
        value=value,
        fluid_bound=fluid,
        price=price,
        fluid_price=fluid_price,
        lambda_star=lam,
    )


def discretised_gallego_van_ryzin(
    a: float,
    alpha: float,
    inventory: int,
    horizon: float,
    n_periods: int,
    *,
    n_prices: int = 601,
    price_range: tuple[float, float] | None = None,
) -> DPSolution:
    """The Gallego–van Ryzin problem cut into ``n_periods`` periods and solved by :func:`solve_dp`.

    Each period has length Δ = horizon/n_periods and Poisson demand with mean
    a·e^{−αp}·Δ (``ExponentialTruth(a·Δ, alpha)``); prices come from an evenly
    spaced grid of ``n_prices`` on ``price_range`` (default [0.5/α, p*(1, t) + 0.5/α],
    which contains every optimal price p*(x, t) <= p*(1, t)). A policy of n periods
    holds its price over each period, which a continuous-time seller can also do,
    so the DP value is below J*(x, t) and rises towards it as Δ shrinks (doubling
    n can only help: a price held over one period is a price held over two halves).
    """
    _check_gvr(a, alpha, inventory, horizon)
    if horizon <= 0:
        raise ConfigError(f"horizon={horizon!r}: the discretised problem needs a horizon > 0.")
    if int(n_periods) != n_periods or n_periods < 1:
        raise ConfigError(f"n_periods={n_periods!r} must be an integer >= 1.")
    delta = float(horizon) / int(n_periods)
    if price_range is None:
        top = gallego_van_ryzin(a, alpha, 1, horizon).price
        price_range = (0.5 / alpha, top + 0.5 / alpha)
    lo, hi = float(price_range[0]), float(price_range[1])
    truth = ExponentialTruth(a * delta, alpha, support=(lo, hi))
    config = MarketConfig(
        n_prices=int(n_prices), horizon=int(n_periods), inventory=int(inventory), noise=True
    )
    return solve_dp(truth, config)


# ==================================================================== agent


class DPAgent(PricingAgent):
    """Plays the DP-optimal price for the observed (period, stock); deterministic.

    ``bind(env)`` solves the env's market with :func:`solve_dp` unless the agent was
    given a solution (which must then match the env's price grid and horizon).
    ``act`` reads the period from ``time_remaining`` = (T − k)/T and the stock from
    ``inventory_fraction`` = stock / scale (the env's observation names), and
    returns the optimal grid index. ``save``/``load`` keep the solution's tables
    (JSON + .npz), so a loaded agent acts identically without re-solving.

    Args:
        solution: a precomputed :func:`solve_dp` result (optional).
        name: label for reports.
    """

    kind = "dp"

    def __init__(self, solution: DPSolution | None = None, name: str | None = None) -> None:
        self.solution_ = solution
        self.name = name

    @classmethod
    def _param_names(cls) -> list[str]:
        # The solution is learned state (saved as arrays), not a JSON parameter.
        return [n for n in super()._param_names() if n != "solution"]

    def _bind(self, env: Any) -> None:
        base = getattr(env, "unwrapped", env)
        if self.codec.grid is None:
            raise ConfigError(
                "DPAgent needs a discrete price grid, but the env's action is continuous; "
                "create the market with action='discrete' and n_prices."
            )
        for name in ("time_remaining", "inventory_fraction"):
            if name not in self.obs_index:
                raise ConfigError(
                    f"the env's observation has no {name!r} entry (names: "
                    f"{list(self.obs_index)}); DPAgent reads period and stock from it."
                )
        if getattr(base, "rivals", None):
            raise ConfigError(
                "the env has rival agents setting competitor prices; their reactions are not "
                "in the DP's (period, stock) state, so it is not optimal there. Use fixed or "
                "replayed competitor prices."
            )
        if self.solution_ is None:
            self.solution_ = solve_dp(base.kernel, base.config)
        sol = self.solution_
        if sol.prices.shape != self.codec.grid.shape or not np.allclose(
            sol.prices, self.codec.grid, rtol=1e-12, atol=0.0
        ):
            raise ConfigError(
                f"the DP solution's price grid ({sol.prices.size} prices on [{sol.prices[0]:g}, "
                f"{sol.prices[-1]:g}]) differs from the env's ({self.codec.grid.size} on "
                f"[{self.codec.grid[0]:g}, {self.codec.grid[-1]:g}]); solve for this env, or "
                "bind a DPAgent() without a solution."
            )
        horizon = int(getattr(base, "horizon", sol.horizon))
        if horizon != sol.horizon:
            raise ConfigError(
                f"the DP solution is for horizon {sol.horizon}, the env's is {horizon}; "
                "solve for this env."
            )

    def act(self, observation: np.ndarray) -> int:
        """The optimal grid index for the observed period and stock."""
        self._require_bound()
        sol = self.solution_
        assert sol is not None  # bind() sets it
        obs = np.asarray(observation, dtype=np.float64)
        horizon = sol.horizon
        k = round(float(horizon * (1.0 - obs[self.obs_index["time_remaining"]])))
        k = min(max(k, 0), horizon - 1)
        x = sol.stock_index(obs[self.obs_index["inventory_fraction"]] * sol.inventory_scale)
        return int(sol.action[k, int(x)])

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        sol = self.solution_
        if sol is None:
            return {}, {}
        state = {
            "inventory": sol.inventory,
            "inventory_scale": sol.inventory_scale,
            "optimal": sol.optimal,
            "expected_value": sol.expected_value,
        }
        arrays = {
            "prices": np.asarray(sol.prices),
            "value": np.asarray(sol.value),
            "action": np.asarray(sol.action),
            "expected_demand": np.asarray(sol.expected_demand),
        }
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if not state:
            self.solution_ = None
            return
        missing = {"prices", "value", "action", "expected_demand"} - set(arrays)
        if missing:
            raise ModelFileError(
                f"DPAgent file lacks the arrays {sorted(missing)}; it is corrupt: save the "
                "agent again."
            )
        inv = state.get("inventory")
        self.solution_ = DPSolution(
            prices=arrays["prices"],
            value=arrays["value"],
            action=arrays["action"].astype(np.int64),
            expected_demand=arrays["expected_demand"],
            inventory=None if inv is None else int(inv),
            inventory_scale=float(state.get("inventory_scale", 1.0)),
            optimal=bool(state.get("optimal", True)),
        )
