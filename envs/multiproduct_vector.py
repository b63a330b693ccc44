"""B catalogue markets stepped together: :class:`MultiProductVectorEnv` (a gymnasium ``VectorEnv``).

The batched twin of :class:`~pricegym.envs.multiproduct.MultiProductEnv`, as
:class:`~pricegym.envs.vector.MarketVectorEnv` is of ``PricingEnv``: the demand
model's means for all B markets at once (a precomputed table, or one
``mean_units`` call per step; see *Speed* in the class), the K Poisson draws of
every market from that market's own generator.

Same seeds, same trajectories
-----------------------------
``reset(seed=s)`` gives market i the generator ``MultiProductEnv.reset(seed=s + i)``
would have (gymnasium's ``np_random``, the ``SyncVectorEnv`` convention); ``seed=None``
keeps each market's stream going, and autoresets never reseed. A single market
draws its period's demands with ``np_random.poisson(mu)`` on the (K,) means, i.e.
product 0 first, then 1, ...; the batch makes the same K draws per market, in the
same order, from the market's own PCG64 state with numpy's Poisson algorithm
compiled over the states (:mod:`pricegym.envs._poisson`; the step in
:mod:`pricegym.envs._multiproduct_kernel`, or column by column through
:class:`~pricegym.envs._streams._MarketStreams` without a table), so each market
consumes exactly the doubles its single env would.

What "equal to B single markets" promises, on every CPU: the discrete outcomes
(grid prices, Poisson demands, sales, stock, terminations, autoresets) are
identical; floats agree to rounding: ``expected_demand`` comes from the model
evaluated on a (B, K) or (A, K) array here and a (1, K) one in a single env (numpy
may pick different SIMD exp/log kernels for the two), and rewards and
observations are sums over products computed in compiled code here and by numpy
there (with Poisson demand they are prices times whole units and agree in
practice bit for bit; with ``noise="none"`` they inherit the means' rounding).
The tests hold rewards and means to 1e-12 relative, float32 observations to 1e-6.

Autoreset: ``AutoresetMode.NEXT_STEP`` (gymnasium's default) only: a market that
ended is reset at the next ``step``, whose action for it is ignored, and that
step returns its reset observation, reward 0, both flags false, and the reset
``info`` entries (``t``, ``inventory``; the step keys are masked out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from pricegym.demand.multiproduct_protocol import MultiProductDemand
from pricegym.envs._streams import _MarketStreams, per_market_seeds
from pricegym.envs.multiproduct import (
    RIVAL_STEP_KEYS,
    SALES_OBS_CAP,
    STEP_KEYS,
    CatalogueConfig,
    decision_check,
    make_observation,
    observation_bounds,
    observation_names,
    sales_scale,
)
from pricegym.errors import ConfigError

__all__ = ["MultiProductVectorEnv"]

#: Largest (periods × grid price vectors × products) tabulated at construction.
TABLE_MAX = 4_000_000


class MultiProductVectorEnv(VectorEnv):
    """B independent :class:`~pricegym.envs.multiproduct.MultiProductEnv` markets (see module).

    ## Spaces

    ``single_action_space`` = ``MultiDiscrete(nvec)`` and ``single_observation_space``
    = the env's ``Box`` (d = 1 + 3K); ``action_space`` is ``MultiDiscrete`` of
    shape (B, K), ``observation_space`` a ``Box`` of shape (B, d).

    ## Step

    ``step(actions (B, K))`` → observations (B, d) float32, rewards (B,) float64,
    terminated, truncated (B,) bool (truncated always false), and ``info``: every
    key of the single env's step info as an array — (B, K) for the per-product
    ones, (B,) for the others — with gymnasium's ``_key`` masks (false for a
    market that was resetting in this step).

    ## Speed

    When (periods × grid price vectors × K) ≤ :data:`TABLE_MAX`, the expected units
    of every price vector in every period are computed at construction with
    ``horizon`` batched ``mean_units`` calls (the same inputs a single market
    passes, so the same model values up to rounding), together with numpy's Poisson
    constants of each entry; a step is then a table lookup and one compiled pass
    stepping every market and drawing its K demands
    (:mod:`pricegym.envs._multiproduct_kernel`). Larger
    markets, and markets with rivals (whose prices may follow the seller's, so
    the means depend on more than the period and the action), compute the means
    once per step and draw column by column.

    ## Rivals

    ``rivals=`` as :class:`MultiProductEnv` (the same rival prices, observation
    entries and ``info`` keys ``rival_prices``, ``rival_expected_demand`` (B, R)).
    A resetting market's ``rival_prices`` are its period-0 prices (as the single
    env's reset info).

    ## Arguments

    ``demand`` and the market settings as :class:`MultiProductEnv`; ``num_envs`` = B;
    ``autoreset_mode``: ``AutoresetMode.NEXT_STEP`` only (others raise).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        demand: MultiProductDemand,
        num_envs: int = 1,
        *,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **market: Any,
    ) -> None:
        if int(num_envs) != num_envs or num_envs < 1:
            raise ConfigError(f"num_envs={num_envs!r} must be an integer >= 1.")
        if AutoresetMode(autoreset_mode) != AutoresetMode.NEXT_STEP:
            raise ConfigError(
                f"autoreset_mode={autoreset_mode!r}: MultiProductVectorEnv resets ended markets "
                "at the next step only (AutoresetMode.NEXT_STEP). Fix: use NEXT_STEP, or a "
                "gymnasium SyncVectorEnv of MultiProductEnv for the other modes."
            )
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r}: no renderer yet; use None.")
        self.render_mode = None
        self.demand = demand
        self.config = cfg = CatalogueConfig.build(demand, **market)
        self.num_envs = b = int(num_envs)
        self.n_products = k = cfg.n_products
        self.product_names = tuple(demand.product_names)
        self.single_action_space = spaces.MultiDiscrete(cfg.nvec)
        low, high = observation_bounds(k, cfg.n_rivals)
        self.single_observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = batch_space(self.single_action_space, b)
        self.observation_space = batch_space(self.single_observation_space, b)
        rival_names = () if cfg.rivals is None else cfg.rivals.names
        self.observation_names = observation_names(self.product_names, rival_names)
        self._table = cfg.price_table()
        self._cols = np.arange(k)
        self._pmax = np.array([g[-1] for g in cfg.grids])
        self._mid = self._table[self._cols, cfg.nvec // 2]
        self.sales_scale = sales_scale(demand, cfg)
        decision_check(demand, cfg, stacklevel=3)
        self._streams = _MarketStreams(b, "pcg")
        self._strides = np.cumprod(np.r_[cfg.nvec[1:], 1][::-1])[::-1].astype(np.int64)
        self._table_mu: np.ndarray | None = None
        self._consts: np.ndarray | None = None
        n_vectors = int(np.prod(cfg.nvec))
        if cfg.rivals is None and n_vectors * cfg.horizon * k <= TABLE_MAX:
            self._build_table(n_vectors)
        self._stock = np.tile(cfg.inventory, (b, 1))
        self._k = np.zeros(b, dtype=np.int64)
        self._last_price = np.tile(self._mid, (b, 1))
        self._last_sales = np.zeros((b, k))
        self._rival_start: np.ndarray | None = None
        self._rival_price: np.ndarray | None = None
        if cfg.rivals is not None:
            self._rival_start = cfg.rivals.next_prices(self._mid[None, :])[0]
            self._rival_price = np.tile(self._rival_start, (b, 1))
        self._needs_reset = np.ones(b, dtype=bool)
        self._seeded = False

    @classmethod
    def like(cls, env: Any, num_envs: int) -> MultiProductVectorEnv:
        """``num_envs`` markets with the demand model and settings of ``env``.

        ``env`` is a :class:`MultiProductEnv` (bare or wrapped) or a
        ``MultiProductVectorEnv``. Its grids were validated when it was built, so they
        are taken as they are (its support and decision warnings are not repeated).
        """
        import warnings

        base = getattr(env, "unwrapped", env)
        cfg = getattr(base, "config", None)
        if not isinstance(cfg, CatalogueConfig):
            raise ConfigError(
                f"{type(base).__name__} is not a catalogue market (MultiProductEnv); build "
                "MultiProductVectorEnv(demand, num_envs, ...) directly."
            )
        stock = None if not cfg.finite_stock else cfg.inventory.tolist()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(
                base.demand,
                num_envs,
                prices=[g.tolist() for g in cfg.grids],
                cost=cfg.cost.tolist(),
                salvage=cfg.salvage.tolist(),
                inventory=stock,
                horizon=cfg.horizon,
                noise=cfg.noise,
                allow_outside_support=True,
                rivals=cfg.rivals,
            )

    def _build_table(self, n_vectors: int) -> None:
        """Expected units of every grid price vector, (blocks, A, K) with ``_block_of[t]``
        the block of period t, and the Poisson sampler's constants of each entry (see
        *Speed* in the class)."""
        cfg = self.config
        idx = (np.arange(n_vectors)[:, None] // self._strides[None, :]) % cfg.nvec[None, :]
        prices = self._table[self._cols, idx]  # (A, K), product 0 slowest
        rows = [np.asarray(self.demand.mean_units(prices, t), dtype=np.float64)
                for t in range(cfg.horizon)]  # fmt: skip
        # periods with the same means share one block (a model without a trend has one):
        # a small table stays in cache, and the step reads it at random
        blocks: list[np.ndarray] = []
        block_of = np.empty(cfg.horizon, dtype=np.int64)
        for t, m in enumerate(rows):
            same = [i for i, blk in enumerate(blocks) if np.array_equal(blk, m)]
            if not same:
                blocks.append(m)
            block_of[t] = same[0] if same else len(blocks) - 1
        self._block_of = block_of
        self._table_mu = np.ascontiguousarray(np.stack(blocks))
        if cfg.noise == "poisson":
            self._consts = self._streams.poisson_constants(self._table_mu)
        #: stand-ins for the compiled step's random arguments when nothing is drawn
        self._no_states = (np.zeros((1, 4), np.uint64), np.zeros(1), np.zeros((1, 8)))

    # ------------------------------------------------------------------ API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every market; ``seed=s`` seeds market i with s + i (a list: one per market)."""
        b = self.num_envs
        seeds = per_market_seeds(seed, b)
        self._streams.seed(range(b), seeds)
        self._seeded = True
        rows = np.arange(b)
        self._reset_rows(rows)
        info = {
            "t": np.zeros(b),
            "_t": np.ones(b, dtype=bool),
            "inventory": self._stock.copy(),
            "_inventory": np.ones(b, dtype=bool),
        }
        if self._rival_price is not None:
            info["rival_prices"] = self._rival_price.copy()
            info["_rival_prices"] = np.ones(b, dtype=bool)
        return self._obs(), info

    def reset_markets(self, rows: np.ndarray) -> np.ndarray:
        """Reset the markets ``rows`` now (for same-step adapters such as SB3's); returns
        their start observations (len(rows), d). Nothing is drawn at a reset, so their
        random streams go on where they were, as after an autoreset."""
        rows = np.asarray(rows, dtype=np.int64)
        self._reset_rows(rows)
        return self._obs()[rows]

    def _reset_rows(self, rows: np.ndarray) -> None:
        self._stock[rows] = self.config.inventory
        self._k[rows] = 0
        self._last_price[rows] = self._mid
        self._last_sales[rows] = 0.0
        if self._rival_price is not None:
            self._rival_price[rows] = self._rival_start
        self._needs_reset[rows] = False

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One period of every market (ended markets are reset instead; see the module)."""
        if not self._seeded:
            raise ConfigError("call reset() before step() (the markets have no state yet).")
        cfg = self.config
        b, k = self.num_envs, self.n_products
        if self._table_mu is not None:
            return self._step_compiled(actions)
        a = self._check_actions(actions)
        resetting = self._needs_reset.copy()
        playing = ~resetting
        if resetting.any():
            self._reset_rows(np.flatnonzero(resetting))
        p = self._table[self._cols, a]  # (B, K)
        rivals, rho = cfg.rivals, self._rival_price
        if rivals is None:
            mu = np.asarray(self.demand.mean_units(p, self._k), dtype=np.float64)
        else:
            assert rho is not None
            rho = rho.copy()
            mu, rival_mu = rivals.units(self.demand, p, rho)
        if cfg.noise == "poisson":
            lam = np.where(playing[:, None], mu, 0.0)
            demand = np.empty((b, k))
            for j in range(k):  # product 0 first, as one env's np_random.poisson(mu)
                demand[:, j] = self._streams.poisson(lam[:, j])
        else:
            demand = mu.copy()
        demand[resetting] = 0.0
        sales = np.minimum(demand, self._stock)
        self._stock = self._stock - sales
        self._k += playing
        last = playing & (self._k >= cfg.horizon)
        revenue = (p * sales).sum(axis=1)
        cost = (cfg.cost * sales).sum(axis=1)
        finite = np.isfinite(cfg.inventory)
        salvage = np.where(last, (cfg.salvage[finite] * self._stock[:, finite]).sum(axis=1), 0.0)
        profit = np.where(playing, revenue - cost + salvage, 0.0)
        sold_out = (
            (self._stock <= 0).all(axis=1) if finite.all() else np.zeros(b, dtype=bool)
        ) & playing
        terminated = last | sold_out
        self._needs_reset = terminated.copy()
        self._last_price = np.where(playing[:, None], p, self._last_price)
        self._last_sales = np.where(playing[:, None], sales, self._last_sales)
        values = {
            "prices": p,
            "expected_demand": mu,
            "demand": demand,
            "sales": sales,
            "lost_sales": demand - sales,
            "revenue": revenue,
            "cost": cost,
            "salvage": salvage,
            "profit": profit,
            "inventory": self._stock.copy(),
            "t": (self._k - 1).astype(np.float64),
        }
        keys: tuple[str, ...] = STEP_KEYS
        if rivals is not None:
            assert rho is not None and self._rival_price is not None
            values["rival_prices"] = rho
            values["rival_expected_demand"] = rival_mu
            keys = STEP_KEYS + RIVAL_STEP_KEYS
            nxt = rivals.next_prices(p)
            self._rival_price = np.where(playing[:, None], nxt, self._rival_price)
        info: dict[str, Any] = {}
        for key in keys:
            v = values[key]
            if resetting.any():
                v = np.where(resetting[:, None] if v.ndim == 2 else resetting, 0.0, v)
            info[key] = v
            info["_" + key] = playing
        if resetting.any():
            info["t"] = np.where(resetting, 0.0, info["t"])
            info["inventory"] = np.where(resetting[:, None], self._stock, info["inventory"])
            info["_t"] = info["_inventory"] = np.ones(b, dtype=bool)
            if rivals is not None:
                info["rival_prices"] = np.where(resetting[:, None], rho, info["rival_prices"])
                info["_rival_prices"] = np.ones(b, dtype=bool)
        return self._obs(), profit, terminated, np.zeros(b, dtype=bool), info

    def _step_compiled(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The step of a tabulated market in one compiled pass (see *Speed*)."""
        from pricegym.envs._multiproduct_kernel import step_markets  # numba: on first step

        cfg = self.config
        b, k = self.num_envs, self.n_products
        a = np.asarray(actions)
        if a.shape != (b, k) or a.dtype.kind not in "iu":
            a = self._check_actions(actions)  # converts integral floats, or raises
        elif a.dtype != np.int64:
            a = a.astype(np.int64)
        resetting = self._needs_reset
        streams = self._streams
        poisson = cfg.noise == "poisson"
        if poisson:
            streams._take_states()
            assert streams._loggam is not None and self._consts is not None
            st, lg, consts = streams.state, streams._loggam, self._consts
        else:
            st, lg, consts = self._no_states
        p, mu, demand, sales, lost, inventory = np.empty((6, b, k))  # one allocation
        t_out = np.empty(b)
        scalars = np.empty((b, 4))  # revenue, cost, salvage, profit
        terminated = np.empty(b, dtype=bool)
        obs = np.empty((b, 1 + 3 * k), dtype=np.float32)
        assert self._table_mu is not None
        bad = step_markets(
            st, lg, consts, self._table_mu.reshape(-1, k), self._table_mu.shape[1], poisson,
            a, self._strides, cfg.nvec, self._table, cfg.cost, cfg.salvage, cfg.inventory,
            self._mid, self._pmax, self.sales_scale, SALES_OBS_CAP, cfg.horizon,
            self._block_of, self._k, self._stock, self._last_price, self._last_sales, resetting,
            p, mu, demand, sales, lost, inventory, t_out, scalars, terminated, obs,
        )  # fmt: skip
        if bad >= 0:
            self._check_actions(a)  # raises, naming the market and product
        playing = ~resetting
        info: dict[str, Any] = {
            "prices": p,
            "expected_demand": mu,
            "demand": demand,
            "sales": sales,
            "lost_sales": lost,
            "revenue": scalars[:, 0],
            "cost": scalars[:, 1],
            "salvage": scalars[:, 2],
            "profit": scalars[:, 3],
            "inventory": inventory,
            "t": t_out,
        }
        for key in STEP_KEYS:
            info["_" + key] = playing
        if resetting.any():
            info["_t"] = info["_inventory"] = np.ones(b, dtype=bool)
        self._needs_reset = terminated
        return obs, scalars[:, 3], terminated.copy(), np.zeros(b, dtype=bool), info

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        shape = (self.num_envs, self.n_products)
        if a.shape != shape or not (
            np.issubdtype(a.dtype, np.integer) or np.all(np.mod(a, 1) == 0)
        ):
            raise InvalidAction(
                f"actions of shape {a.shape}: give {shape} integer grid indices (one row per "
                f"market, one column per product)."
            )
        a = a.astype(np.int64)
        bad = (a < 0) | (a >= self.config.nvec)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InvalidAction(
                f"action {int(a[i, j])} of market {i}, product {self.product_names[j]!r}: "
                f"outside its price grid 0 … {int(self.config.nvec[j]) - 1}."
            )
        return a

    def _obs(self) -> np.ndarray:
        cfg = self.config
        return make_observation(
            (cfg.horizon - self._k) / cfg.horizon,
            self._stock,
            cfg.inventory,
            self._last_price,
            self._pmax,
            self._last_sales,
            self.sales_scale,
            self._rival_price,
            None if cfg.rivals is None else cfg.rivals.high,
        )
