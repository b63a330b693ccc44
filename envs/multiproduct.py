"""One seller pricing a catalogue of K products: :class:`MultiProductEnv` (a gymnasium ``Env``).

Why a separate env and not :class:`~pricegym.envs.market.PricingEnv` generalised to
K products: ``PricingEnv`` is built around a one-product
:class:`~pricegym.demand.kernels.DemandKernel` (``expected(prices) → units[B]``
with competitor context, kernel state, fast paths that tabulate one price axis,
rivals that mirror a one-price observation). A catalogue's demand is another
contract (:class:`~pricegym.demand.multiproduct_protocol.MultiProductDemand`:
``mean_units(prices[B, K]) → units[B, K]``), its action is a price *vector* and its
observation has per-product blocks. Generalising ``PricingEnv`` would change its
action and observation spaces for every registered id (a version bump of all of
them) and thread K through every fast path, for no gain to single-product users;
a separate env keeps both specs short, and a one-product catalogue (K = 1) is
still a valid ``MultiProductEnv``. What both share (Poisson draws from
``np_random``, terminated vs truncated, profit reward, salvage at the season's end)
follows ``PricingEnv``'s conventions.

:class:`CatalogueConfig` holds and validates the market settings;
:class:`MultiProductEnv` is the env; the batched twin is
:class:`~pricegym.envs.multiproduct_vector.MultiProductVectorEnv`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction, ResetNeeded

from pricegym.demand.multiproduct_protocol import MultiProductDemand
from pricegym.envs.catalogue_rivals import RIVAL_STEP_KEYS, CatalogueRivals
from pricegym.errors import ConfigError, DecisionWarning, ExtrapolationWarning

__all__ = ["RIVAL_STEP_KEYS", "SALES_OBS_CAP", "STEP_KEYS", "CatalogueConfig", "MultiProductEnv"]

#: Observed last sales are ``min(sales / sales_scale, SALES_OBS_CAP)``.
SALES_OBS_CAP = 10.0
#: ``info`` keys of a step; per-product entries are (K,) arrays, the others floats.
STEP_KEYS = (
    "prices",
    "expected_demand",
    "demand",
    "sales",
    "lost_sales",
    "revenue",
    "cost",
    "salvage",
    "profit",
    "inventory",
    "t",
)


def _per_product(name: str, value: Any, k: int, *, low: float, allow_none: bool) -> np.ndarray:
    """``value`` as a (K,) float array (a scalar is broadcast); None → inf if allowed."""
    if value is None:
        if not allow_none:
            raise ConfigError(f"{name}=None: give a number or one number per product.")
        return np.full(k, np.inf)
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(k, float(v))
    if v.shape != (k,) or not np.isfinite(v).all() or (v < low).any():
        raise ConfigError(
            f"{name}={np.asarray(value).tolist()!r}: give one finite number >= {low:g}, or one "
            f"per product ({k} products, in the demand model's order)."
        )
    return v


@dataclass(frozen=True)
class CatalogueConfig:
    """The settings of a catalogue market, validated against its demand model.

    Build with :meth:`build`; attributes are (K,) arrays per product:

    - ``grids``: the K price grids (tuple of 1-D arrays, increasing), ``nvec`` their sizes;
    - ``cost``, ``salvage``: unit cost and salvage value per leftover unit at the
      season's end (both >= 0);
    - ``inventory``: starting stock per product (``inf`` = unlimited);
    - ``horizon``: periods in a season (>= 1); ``noise``: ``"poisson"`` or ``"none"``;
    - ``rivals``: the rival products (:class:`~pricegym.envs.catalogue_rivals.CatalogueRivals`)
      or None.
    """

    grids: tuple[np.ndarray, ...]
    cost: np.ndarray
    salvage: np.ndarray
    inventory: np.ndarray
    horizon: int
    noise: str
    rivals: CatalogueRivals | None = None

    @property
    def n_rivals(self) -> int:
        """R (0 without rivals)."""
        return 0 if self.rivals is None else self.rivals.n_rivals

    @property
    def n_products(self) -> int:
        """K."""
        return len(self.grids)

    @property
    def nvec(self) -> np.ndarray:
        """Grid sizes (K,) int64: the ``MultiDiscrete`` action's ``nvec``."""
        return np.array([g.size for g in self.grids], dtype=np.int64)

    @property
    def finite_stock(self) -> bool:
        """Whether any product has a finite starting stock."""
        return bool(np.isfinite(self.inventory).any())

    def all_actions(self) -> np.ndarray:
        """Every action of ``MultiDiscrete(nvec)``, (Π n_j, K) int64, product 0's index
        slowest (the order of ``itertools.product``)."""
        grids = np.indices(tuple(int(n) for n in self.nvec)).reshape(self.n_products, -1)
        return np.ascontiguousarray(grids.T, dtype=np.int64)

    def price_table(self) -> np.ndarray:
        """(K, max n) grid prices, padded with each grid's last price."""
        n = int(self.nvec.max())
        return np.array([np.pad(g, (0, n - g.size), mode="edge") for g in self.grids])

    @classmethod
    def build(
        cls,
        demand: MultiProductDemand,
        *,
        prices: Sequence[float] | Sequence[Sequence[float]] | None = None,
        n_prices: int = 7,
        p_min: float | Sequence[float] | None = None,
        p_max: float | Sequence[float] | None = None,
        cost: float | Sequence[float] = 0.0,
        salvage: float | Sequence[float] = 0.0,
        inventory: float | Sequence[float] | None = None,
        horizon: int = 52,
        noise: str = "poisson",
        allow_outside_support: bool = False,
        rivals: CatalogueRivals | Mapping[str, Any] | None = None,
    ) -> CatalogueConfig:
        """Validate the settings (see :class:`MultiProductEnv`'s *Arguments*).

        Raises:
            ConfigError: a value of the wrong shape or sign, a grid that is not
                increasing and positive, or prices outside the model's support
                without ``allow_outside_support=True`` (which warns instead).
        """
        if not isinstance(demand, MultiProductDemand):
            raise ConfigError(
                f"demand={demand!r} is not a multi-product demand model (it needs n_products, "
                "product_names and mean_units(prices[B, K], period)). Fix: pass a fitted "
                "LogLogSystem / LinearSystem / LogitShares / ChoiceLogit, or a "
                "LogitCatalogueTruth."
            )
        k = int(demand.n_products)
        support = getattr(demand, "support_", None)
        sup = None if support is None else np.asarray(support, dtype=np.float64).reshape(k, 2)
        grids = cls._grids(prices, n_prices, p_min, p_max, sup, k)
        if sup is not None:
            out = [
                j
                for j, g in enumerate(grids)
                if g[0] < sup[j, 0] * (1 - 1e-12) or g[-1] > sup[j, 1] * (1 + 1e-12)
            ]
            if out:
                j = out[0]
                text = (
                    f"prices of {demand.product_names[j]!r} span [{grids[j][0]:g}, "
                    f"{grids[j][-1]:g}], outside the demand model's support "
                    f"[{sup[j, 0]:g}, {sup[j, 1]:g}] (the prices in its data)"
                )
                if not allow_outside_support:
                    raise ConfigError(
                        f"{text}. Rule: a market prices inside the data unless told otherwise. "
                        "Fix: narrow prices/p_min/p_max, or allow_outside_support=True "
                        "(demand there is extrapolated)."
                    )
                warnings.warn(f"{text}: demand there is extrapolated.", ExtrapolationWarning, 3)
        if int(horizon) != horizon or horizon < 1:
            raise ConfigError(f"horizon={horizon!r} must be an integer >= 1 (periods a season).")
        if noise not in ("poisson", "none"):
            raise ConfigError(f"noise={noise!r}: use 'poisson' (draws) or 'none' (expected units).")
        inv = _per_product("inventory", inventory, k, low=0.0, allow_none=True)
        if (np.isfinite(inv) & (inv != np.round(inv))).any():
            raise ConfigError(
                f"inventory={inv.tolist()!r}: stock is counted in whole units; give integers."
            )
        return cls(
            grids=tuple(grids),
            cost=_per_product("cost", cost, k, low=0.0, allow_none=False),
            salvage=_per_product("salvage", salvage, k, low=0.0, allow_none=False),
            inventory=inv,
            horizon=int(horizon),
            noise=noise,
            rivals=None if rivals is None else CatalogueRivals.build(rivals, demand, grids),
        )

    @staticmethod
    def _grids(prices, n_prices, p_min, p_max, sup, k) -> list[np.ndarray]:
        if prices is not None:
            if p_min is not None or p_max is not None:
                raise ConfigError("give either prices=... or p_min/p_max/n_prices, not both.")
            try:
                rows = [np.asarray(prices, dtype=np.float64)]
            except ValueError:  # ragged: one list per product of different lengths
                rows = [np.asarray(r, dtype=np.float64) for r in prices]
            if len(rows) == 1 and rows[0].ndim == 1:
                grids = [rows[0].copy() for _ in range(k)]
            elif len(rows) == 1 and rows[0].ndim == 2:
                grids = list(rows[0])
            else:
                grids = rows
            if len(grids) != k:
                raise ConfigError(
                    f"prices: {len(grids)} grids for {k} products; give one grid for all "
                    f"products or one per product."
                )
            for j, g in enumerate(grids):
                if g.ndim != 1 or g.size < 1 or not (np.isfinite(g).all() and (g > 0).all()):
                    raise ConfigError(
                        f"prices[{j}]={g.tolist()!r}: a grid is a non-empty list of finite "
                        "prices > 0."
                    )
                if (np.diff(g) <= 0).any():
                    raise ConfigError(
                        f"prices[{j}]={g.tolist()!r}: list the prices in increasing order, "
                        "each once."
                    )
            return [np.array(g) for g in grids]
        if int(n_prices) != n_prices or n_prices < 1:
            raise ConfigError(f"n_prices={n_prices!r} must be an integer >= 1.")
        if sup is None and (p_min is None or p_max is None):
            raise ConfigError(
                "the demand model has no price support (support_), so give prices=... or "
                "p_min and p_max."
            )
        lo = _per_product("p_min", sup[:, 0] if p_min is None else p_min, k, low=0.0,
                          allow_none=False)  # fmt: skip
        hi = _per_product("p_max", sup[:, 1] if p_max is None else p_max, k, low=0.0,
                          allow_none=False)  # fmt: skip
        if not ((lo > 0).all() and (hi > lo).all()) and n_prices > 1:
            raise ConfigError(
                f"p_min={lo.tolist()} and p_max={hi.tolist()}: need 0 < p_min < p_max per product."
            )
        return [np.linspace(lo[j], hi[j], int(n_prices)) for j in range(k)]


class MultiProductEnv(gym.Env[np.ndarray, np.ndarray]):
    """One seller pricing K substitute products against a multi-product demand model.

    ## Description

    Each step is one period of a season of ``horizon`` periods. The seller posts one
    price per product; the demand model gives the expected units of every product
    at that price vector (cross-price effects included); each product's demand is
    drawn around its mean, and sales are capped by that product's stock. A product
    that is out of stock sells nothing and its demand is lost: shoppers do **not**
    switch to another product because of a stock-out (the demand model only sees
    prices), which is the dynamics the DP and LP bound of
    :mod:`pricegym.agents.multiproduct_optimum` solve.

    ## Action Space

    ``MultiDiscrete(nvec)``, ``nvec[j]`` = size of product j's price grid; action
    ``a`` posts ``prices[j][a[j]]``. Why a grid and not a ``Box``: the benchmarks
    know the answer only on a finite action set (enumeration of the joint
    optimum, the exact DP, the fluid LP are over the same grid the agent picks
    from), a grid keeps prices inside the model's data support by construction,
    and SB3's PPO/A2C take ``MultiDiscrete`` natively (one categorical per
    product, K·n logits instead of n^K arms). Out-of-range actions raise
    :class:`gymnasium.error.InvalidAction`.

    ## Observation Space

    A ``Box`` of float32, d = 1 + 3K + R (R rivals, 0 by default), names in ``observation_names``:

    | index     | observation                 | unit / scaling                         | min | max |
    |-----------|-----------------------------|----------------------------------------|-----|-----|
    | 0         | time remaining              | (T − k)/T, k = periods played          | 0   | 1   |
    | 1 … K     | stock fraction of product j | stock_j / initial stock_j (1: no limit)| 0   | 1   |
    | K+1 … 2K  | last price of product j     | price_j / max grid price_j             | 0   | 1   |
    | 2K+1 … 3K | last sales of product j     | min(sales_j / sales_scale_j, 10)       | 0   | 10  |
    | 3K+1 … 3K+R | rival r's price this period | ρ_r / high_r (only with R rivals)    | 0   | 1   |

    ``sales_scale_j`` is product j's expected units when every product is at its
    lowest grid price (period 0; with rivals at their period-0 prices), or 1 if
    that is 0. A product with starting stock 0 shows fraction 0. Without rivals
    (R = 0) the observation is the first 1 + 3K entries only.

    ## Rivals

    ``rivals=`` adds R rival products to a logit catalogue's choice set (see
    :mod:`pricegym.envs.catalogue_rivals`: qualities δ_r, the seller's α, a
    ``"fixed"`` or ``"undercut"`` price rule). The rivals post their prices at the
    start of each period (the observation shows them), the seller's shares then
    compete with the rivals' products and the outside option. The rivals draw
    nothing: the env's random draws are those of a market without rivals.

    ## Rewards

    The period's profit ``Σ_j (p_j − cost_j)·sales_j`` plus, at the season's last
    period only, ``Σ_j salvage_j · leftover_j``. ``info``: ``prices``,
    ``expected_demand``, ``demand``, ``sales``, ``lost_sales``, ``inventory``
    (stock after the period; ``inf`` when unlimited) as (K,) arrays, and
    ``revenue``, ``cost``, ``salvage``, ``profit`` (= reward), ``t`` as floats;
    with rivals also ``rival_prices`` and ``rival_expected_demand`` (R,) (the
    rivals' expected units; their sales are not drawn). ``reset`` returns ``t`` and
    ``inventory`` (and ``rival_prices`` with rivals: those of period 0).

    ## Starting State

    k = 0, stock = ``inventory``, last prices = each grid's middle price
    (index n_j // 2), last sales = 0.

    ## Episode End

    - Terminated: the season of ``horizon`` periods is over, or every product
      with finite stock is sold out and no product has unlimited stock.
    - Truncated: never by the env itself (``gymnasium.make(...,
      max_episode_steps=...)`` adds a ``TimeLimit`` for training cut-offs).
    - Stepping after the end raises :class:`gymnasium.error.ResetNeeded`.

    ## Randomness

    One source, ``self.np_random``, seeded by ``reset(seed=...)``; nothing is drawn
    at reset. Each step draws the K demands with one call
    ``np_random.poisson(mu)`` on the (K,) expected units (product 0 first);
    ``noise="none"`` draws nothing and demand is the expected units.

    ## Arguments

    - ``demand``: a :class:`~pricegym.demand.multiproduct_protocol.MultiProductDemand`
      (a fitted :class:`~pricegym.demand.multiproduct.LogLogSystem`,
      :class:`~pricegym.demand.multiproduct.LinearSystem`,
      :class:`~pricegym.demand.logit_shares.LogitShares`,
      :class:`~pricegym.demand.choice_logit.ChoiceLogit`, or a
      :class:`~pricegym.demand.catalogue_truth.LogitCatalogueTruth`); ``period`` k
      of the season is passed to its ``mean_units`` (a fitted trend counts periods
      after the data).
    - ``prices``: one grid for all products, or one per product; or ``n_prices``
      evenly spaced prices on [``p_min``, ``p_max``] (scalars or per product;
      default the model's ``support_``).
    - ``cost``, ``salvage``: per unit, scalar or per product (default 0).
    - ``inventory``: starting stock, scalar or per product; ``None`` = unlimited.
    - ``horizon``: periods per season (52). ``noise``: ``"poisson"`` or ``"none"``.
    - ``allow_outside_support``: allow grid prices outside the model's support
      (warns :class:`~pricegym.errors.ExtrapolationWarning`).
    - ``rivals``: None (default: no rivals), or a dict / ``CatalogueRivals`` (see
      *Rivals*; needs a ``LogitCatalogueTruth`` demand).

    ## Version History

    - v0: initial version.

    ## Example

    >>> from pricegym.demand.catalogue_truth import LogitCatalogueTruth
    >>> from pricegym.envs.multiproduct import MultiProductEnv
    >>> truth = LogitCatalogueTruth([2.0, 1.0], alpha=1.0, market_size=100, support=(1, 4))
    >>> env = MultiProductEnv(truth, n_prices=4, cost=1.0, inventory=[30, 20], horizon=3)
    >>> env.action_space, env.config.grids[0].tolist()
    (MultiDiscrete([4 4]), [1.0, 2.0, 3.0, 4.0])
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.observation_names[:3]
    ((7,), ('time_remaining', 'stock_fraction:p0', 'stock_fraction:p1'))
    >>> obs, reward, terminated, truncated, info = env.step([2, 1])     # prices 3 and 2
    >>> info["prices"].tolist(), [round(float(m), 2) for m in info["expected_demand"]]
    ([3.0, 2.0], [21.19, 21.19])
    >>> bool(reward == ((info["prices"] - 1.0) * info["sales"]).sum()), terminated
    (True, False)
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        demand: MultiProductDemand,
        *,
        prices: Sequence[float] | Sequence[Sequence[float]] | None = None,
        n_prices: int = 7,
        p_min: float | Sequence[float] | None = None,
        p_max: float | Sequence[float] | None = None,
        cost: float | Sequence[float] = 0.0,
        salvage: float | Sequence[float] = 0.0,
        inventory: float | Sequence[float] | None = None,
        horizon: int = 52,
        noise: str = "poisson",
        allow_outside_support: bool = False,
        rivals: CatalogueRivals | Mapping[str, Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r}: MultiProductEnv has no renderer yet.")
        self.render_mode = None
        self.demand = demand
        self.config = cfg = CatalogueConfig.build(
            demand,
            prices=prices,
            n_prices=n_prices,
            p_min=p_min,
            p_max=p_max,
            cost=cost,
            salvage=salvage,
            inventory=inventory,
            horizon=horizon,
            noise=noise,
            allow_outside_support=allow_outside_support,
            rivals=rivals,
        )
        k = cfg.n_products
        self.n_products = k
        self.product_names = tuple(demand.product_names)
        self.action_space = spaces.MultiDiscrete(cfg.nvec)
        low, high = observation_bounds(k, cfg.n_rivals)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        rival_names = () if cfg.rivals is None else cfg.rivals.names
        self.observation_names = observation_names(self.product_names, rival_names)
        self._table = cfg.price_table()
        self._pmax = np.array([g[-1] for g in cfg.grids])
        self._mid = self._table[np.arange(k), cfg.nvec // 2]
        self.sales_scale = sales_scale(demand, cfg)
        decision_check(demand, cfg, stacklevel=3)
        self._stock = cfg.inventory.copy()
        self._k = 0
        self._last_price = self._mid.copy()
        self._last_sales = np.zeros(k)
        self._rival_price = self._start_rival_prices()
        self._done = True

    def _start_rival_prices(self) -> np.ndarray | None:
        rivals = self.config.rivals
        return None if rivals is None else rivals.next_prices(self._mid[None, :])[0]

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a season (see *Starting State*); ``options`` are not used."""
        super().reset(seed=seed)
        self._stock = self.config.inventory.copy()
        self._k = 0
        self._last_price = self._mid.copy()
        self._last_sales = np.zeros(self.n_products)
        self._rival_price = self._start_rival_prices()
        self._done = False
        info: dict[str, Any] = {"t": 0.0, "inventory": self._stock.copy()}
        if self._rival_price is not None:
            info["rival_prices"] = self._rival_price.copy()
        return self._obs(), info

    def action_to_prices(self, action: Any) -> np.ndarray:
        """The (K,) price vector of ``action`` (raises ``InvalidAction`` off the grid)."""
        a = np.asarray(action)
        if a.shape != (self.n_products,) or not np.issubdtype(a.dtype, np.integer):
            if a.shape == (self.n_products,) and np.all(np.mod(a, 1) == 0):
                a = a.astype(np.int64)
            else:
                raise InvalidAction(
                    f"action {np.asarray(action).tolist()!r}: give {self.n_products} integer "
                    f"grid indices, one per product (the action space is {self.action_space})."
                )
        if (a < 0).any() or (a >= self.config.nvec).any():
            raise InvalidAction(
                f"action {a.tolist()!r} is outside the price grids (sizes "
                f"{self.config.nvec.tolist()}); index j must lie in 0 … nvec[j] − 1."
            )
        return self._table[np.arange(self.n_products), a]

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One period (see *Rewards* and *Episode End*)."""
        if self._done:
            raise ResetNeeded("the season is over (or reset was never called); call reset().")
        cfg = self.config
        p = self.action_to_prices(action)
        rivals, rho = cfg.rivals, self._rival_price
        if rivals is None:
            mu = self.demand.mean_units(p[None, :], self._k)[0]
        else:
            assert rho is not None
            mu_s, mu_r = rivals.units(self.demand, p[None, :], rho[None, :])
            mu, rival_mu = mu_s[0], mu_r[0]
        if cfg.noise == "poisson":
            demand = self.np_random.poisson(mu).astype(np.float64)
        else:
            demand = mu.astype(np.float64)
        sales = np.minimum(demand, self._stock)
        self._stock = self._stock - sales
        self._k += 1
        last = self._k >= cfg.horizon
        # the same reductions as the batched env's, row for row
        revenue = float((p * sales).sum())
        cost = float((cfg.cost * sales).sum())
        finite = np.isfinite(cfg.inventory)
        salvage = float((cfg.salvage[finite] * self._stock[finite]).sum()) if last else 0.0
        profit = revenue - cost + salvage
        sold_out = bool(finite.all() and (self._stock <= 0).all())
        terminated = last or sold_out
        self._done = terminated
        self._last_price = p
        self._last_sales = sales
        info = {
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
            "t": float(self._k - 1),
        }
        if rivals is not None:
            assert rho is not None
            info["rival_prices"] = rho
            info["rival_expected_demand"] = rival_mu
            self._rival_price = rivals.next_prices(p[None, :])[0]
        return self._obs(), profit, terminated, False, info

    def _obs(self) -> np.ndarray:
        cfg = self.config
        return make_observation(
            np.array([(cfg.horizon - self._k) / cfg.horizon]),
            self._stock[None, :],
            cfg.inventory,
            self._last_price[None, :],
            self._pmax,
            self._last_sales[None, :],
            self.sales_scale,
            None if self._rival_price is None else self._rival_price[None, :],
            None if cfg.rivals is None else cfg.rivals.high,
        )[0]


# ====================================================================== shared helpers
#: Largest grid (price vectors) :func:`decision_check` enumerates.
DECISION_CHECK_MAX = 200_000


def decision_check(demand: MultiProductDemand, cfg: CatalogueConfig, stacklevel: int = 2) -> None:
    """Warn (:class:`~pricegym.errors.DecisionWarning`) when the one-period, unlimited-stock
    expected profit peaks at the highest or lowest price of some product's grid (3+ prices).

    Then the market's "best price" for that product only says that the grid's edge
    wins: the true optimum may lie beyond it (or the model has none, e.g. a choice
    logit without a no-purchase option, or cost 0 with inelastic demand). Grids of
    more than :data:`DECISION_CHECK_MAX` vectors are not checked. With rivals, they
    are held at their period-0 prices (:func:`seller_demand`). Changes nothing.
    """
    nvec = cfg.nvec
    if int(np.prod(nvec)) > DECISION_CHECK_MAX:
        return
    demand = seller_demand(demand, cfg)
    acts = cfg.all_actions()
    prices = cfg.price_table()[np.arange(cfg.n_products), acts]
    mu = np.asarray(demand.mean_units(prices, 0), dtype=np.float64)
    best = int(np.argmax(((prices - cfg.cost) * mu).sum(axis=1)))
    edges = []
    for j, (i, n) in enumerate(zip(acts[best].tolist(), nvec.tolist(), strict=True)):
        if n >= 3 and i in (0, n - 1):
            side = "highest" if i == n - 1 else "lowest"
            edges.append(f"{demand.product_names[j]!r} at its {side} price {prices[best, j]:g}")
    if edges:
        zero = " (unit cost 0: profit is revenue)" if (cfg.cost == 0).all() else ""
        warnings.warn(
            f"the one-period expected profit{zero} peaks at the edge of the price grid for "
            f"{', '.join(edges)}: the best price may lie beyond the grid, or the model has no "
            "finite optimum. Fix: widen the grid (prices= / p_min / p_max, "
            "allow_outside_support=True to leave the data's range) or give the unit cost.",
            DecisionWarning,
            stacklevel=stacklevel,
        )


def observation_bounds(k: int, r: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The observation ``Box``'s low and high (float32, d = 1 + 3K + R)."""
    low = np.zeros(1 + 3 * k + r, dtype=np.float32)
    high = np.ones(1 + 3 * k + r, dtype=np.float32)
    high[1 + 2 * k : 1 + 3 * k] = SALES_OBS_CAP
    return low, high


def observation_names(products: Sequence[str], rivals: Sequence[str] = ()) -> tuple[str, ...]:
    """Names of the observation entries, in order."""
    return (
        "time_remaining",
        *(f"stock_fraction:{p}" for p in products),
        *(f"last_price:{p}" for p in products),
        *(f"last_sales:{p}" for p in products),
        *(f"rival_price:{r}" for r in rivals),
    )


def seller_demand(demand: MultiProductDemand, cfg: CatalogueConfig) -> MultiProductDemand:
    """The seller's demand with the rivals at their period-0 prices folded in (the rivals'
    products join the outside option; see :meth:`CatalogueRivals.folded`); ``demand``
    itself without rivals. Exact in every period for ``"fixed"`` rivals."""
    if cfg.rivals is None:
        return demand
    mid = cfg.price_table()[np.arange(cfg.n_products), cfg.nvec // 2]
    return cfg.rivals.folded(demand, cfg.rivals.next_prices(mid[None, :])[0])


def sales_scale(demand: MultiProductDemand, cfg: CatalogueConfig) -> np.ndarray:
    """(K,) expected units at the lowest grid prices (period 0, rivals at their period-0
    prices); 1 where that is 0."""
    demand = seller_demand(demand, cfg)
    low = np.array([g[0] for g in cfg.grids])[None, :]
    mu = np.asarray(demand.mean_units(low, 0), dtype=np.float64)[0]
    return np.where(mu > 0, mu, 1.0)


def make_observation(
    time_left: np.ndarray,
    stock: np.ndarray,
    stock0: np.ndarray,
    last_price: np.ndarray,
    pmax: np.ndarray,
    last_sales: np.ndarray,
    scale: np.ndarray,
    rival_price: np.ndarray | None = None,
    rival_high: np.ndarray | None = None,
) -> np.ndarray:
    """Observations (B, 1 + 3K [+ R]) float32 of B markets (the table of
    :class:`MultiProductEnv`).

    ``time_left`` (B,); ``stock``, ``last_price``, ``last_sales`` (B, K);
    ``stock0``, ``pmax``, ``scale`` (K,); with rivals ``rival_price`` (B, R) and
    ``rival_high`` (R,). The single env and the batched one both build their
    observations here, so the layouts cannot drift apart.
    """
    finite = np.isfinite(stock0)
    denom = np.where(finite & (stock0 > 0), stock0, 1.0)
    frac = np.where(finite, np.where(stock0 > 0, stock / denom, 0.0), 1.0)
    return np.concatenate(
        [
            time_left[:, None],
            frac,
            last_price / pmax,
            np.minimum(last_sales / scale, SALES_OBS_CAP),
            *(() if rival_price is None else (rival_price / rival_high,)),
        ],
        axis=1,
    ).astype(np.float32)
