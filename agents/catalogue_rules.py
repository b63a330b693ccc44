"""Rule-based sellers of a catalogue: a price vector in, one price per product out.

The single-product rules of :mod:`pricegym.agents.rules` read a one-price market
through :class:`~pricegym.agents.view.MarketView`; a catalogue market
(:class:`~pricegym.envs.multiproduct.MultiProductEnv`, its batched twin
:class:`~pricegym.envs.multiproduct_vector.MultiProductVectorEnv`, or a wrapper of
either) posts a price *vector* through a ``MultiDiscrete`` action and shows
per-product blocks (see its *Observation Space*). :class:`CatalogueAgent` is the
:class:`~pricegym.agents.base.PricingAgent` that binds to such a market: ``bind``
builds a :class:`CatalogueView` (grids, costs, stock, horizon, the demand model and
the observation layout) and sets ``self.codec`` to one
:class:`~pricegym.agents.view.ActionCodec` per product, ``self.obs_index`` and
``self.market`` as the protocol says. Every rule here returns a (K,) int64 action
(one grid index per product); with a (B, d) batch of observations (``batch_act``)
a (B, K) array.

==============================  ================================================================
kind                            rule (one sentence)
==============================  ================================================================
``catalogue_fixed_price``       Always post the same price vector (nearest grid price per product).
``catalogue_cost_plus``         Post unit cost × (1 + ``markup``) per product.
``catalogue_myopic``            Post the grid price vector that maximises this period's expected
                                profit of the whole catalogue under a demand model (the true one
                                by default), cross-price effects included; stock is ignored.
``catalogue_markdown``          Start each product at a price and mark it down one grid step
                                whenever its sell-through falls behind a linear target; never
                                mark up.
==============================  ================================================================

The joint optimum of :class:`CatalogueMyopic` enumerates the ``Π n_j`` grid vectors
(:func:`best_grid_vector`), the same enumeration as
:func:`~pricegym.agents.multiproduct_optimum.grid_optimum`; grids of more than
:data:`ENUMERATION_MAX` vectors are refused at ``bind`` with the fix.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from pricegym.agents.base import PricingAgent
from pricegym.agents.view import ActionCodec
from pricegym.demand.multiproduct_protocol import MultiProductDemand
from pricegym.envs.multiproduct import CatalogueConfig, seller_demand
from pricegym.errors import ConfigError, PricegymWarning

__all__ = [
    "ENUMERATION_MAX",
    "CatalogueAgent",
    "CatalogueCostPlus",
    "CatalogueFixedPrice",
    "CatalogueMarkdown",
    "CatalogueMyopic",
    "CatalogueView",
    "best_grid_vector",
    "catalogue_demand_from_spec",
]

#: Largest number of grid price vectors (Π n_j) a joint optimum enumerates.
ENUMERATION_MAX = 1_000_000
#: Rows of price vectors evaluated at once by :func:`best_grid_vector` (memory bound).
_CHUNK = 65_536


# ==================================================================== the view
@dataclass(frozen=True)
class CatalogueView:
    """What a catalogue agent knows about its market, and how to read its observations.

    Attributes:
        product_names: the K product keys (the order of actions and observation blocks).
        grids: the K increasing price grids.
        cost, salvage: (K,) unit cost and salvage value per product.
        inventory: (K,) starting stock (``inf``: unlimited).
        horizon: periods per season.
        sales_scale: (K,) the units that ``last_sales:<p>`` = 1 stands for.
        demand: the market's (true) demand model (with rivals: the seller's demand at the
            rivals' period-0 prices, exact for fixed-price rivals).
        names: the observation entry names.
    """

    product_names: tuple[str, ...]
    grids: tuple[np.ndarray, ...]
    cost: np.ndarray
    salvage: np.ndarray
    inventory: np.ndarray
    horizon: int
    sales_scale: np.ndarray
    demand: Any
    names: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Any) -> CatalogueView:
        """The view of a catalogue market (single, batched or wrapped).

        Raises:
            ConfigError: ``env`` is not a catalogue market.
        """
        base = getattr(env, "unwrapped", env)
        cfg = getattr(base, "config", None)
        if not isinstance(cfg, CatalogueConfig):
            raise ConfigError(
                f"cannot bind a catalogue agent to {type(base).__name__}: it is not a catalogue "
                "market (MultiProductEnv / MultiProductVectorEnv, e.g. "
                "gymnasium.make('pricegym/LogitCatalogue-v0')); single-product markets take "
                "the rules of pricegym.agents.rules."
            )
        names: Sequence[str] = getattr(base, "observation_names", None) or ()
        return cls(
            product_names=tuple(str(p) for p in base.product_names),
            grids=tuple(np.asarray(g, dtype=np.float64) for g in cfg.grids),
            cost=np.asarray(cfg.cost, dtype=np.float64),
            salvage=np.asarray(cfg.salvage, dtype=np.float64),
            inventory=np.asarray(cfg.inventory, dtype=np.float64),
            horizon=int(cfg.horizon),
            sales_scale=np.asarray(base.sales_scale, dtype=np.float64),
            # with rivals: the seller's demand at the rivals' period-0 prices (exact for
            # fixed-price rivals)
            demand=seller_demand(base.demand, cfg),
            names=tuple(str(n) for n in names),
        )

    @property
    def n_products(self) -> int:
        """K."""
        return len(self.grids)

    @property
    def nvec(self) -> np.ndarray:
        """Grid sizes (K,)."""
        return np.array([g.size for g in self.grids], dtype=np.int64)

    def price_table(self) -> np.ndarray:
        """(K, max n) grid prices, padded with each grid's last price."""
        n = int(self.nvec.max())
        return np.array([np.pad(g, (0, n - g.size), mode="edge") for g in self.grids])

    def prices_of(self, actions: np.ndarray) -> np.ndarray:
        """Prices (..., K) of grid actions (..., K)."""
        a = np.asarray(actions, dtype=np.int64)
        return self.price_table()[np.arange(self.n_products), a]

    def nearest_action(self, prices: Any) -> np.ndarray:
        """The nearest grid index per product of ``prices`` (..., K) (clipped onto the grid)."""
        p = np.asarray(prices, dtype=np.float64)
        return np.stack(
            [np.abs(p[..., j, None] - g).argmin(axis=-1) for j, g in enumerate(self.grids)],
            axis=-1,
        ).astype(np.int64)

    # ------------------------------------------------------------ reading observations
    def _block(self, obs: np.ndarray, start: int) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float64)
        k = self.n_products
        return x[..., start : start + k]

    def time_remaining(self, obs: np.ndarray) -> np.ndarray:
        """Fraction of the season still to come (scalar, or (B,) for a batch)."""
        return np.asarray(obs, dtype=np.float64)[..., 0]

    def period(self, obs: np.ndarray) -> np.ndarray:
        """Periods already played, k (int64; scalar or (B,))."""
        return np.rint((1.0 - self.time_remaining(obs)) * self.horizon).astype(np.int64)

    def stock_fraction(self, obs: np.ndarray) -> np.ndarray:
        """Stock / starting stock per product (..., K); 1 for unlimited stock."""
        return self._block(obs, 1)

    def last_action(self, obs: np.ndarray) -> np.ndarray:
        """Last period's grid index per product (..., K), read back from the float32 prices."""
        pmax = np.array([g[-1] for g in self.grids])
        return self.nearest_action(self._block(obs, 1 + self.n_products) * pmax)

    def last_sales(self, obs: np.ndarray) -> np.ndarray:
        """Units sold last period per product (..., K) (counts within 1e-4 are rounded)."""
        units = self._block(obs, 1 + 2 * self.n_products) * self.sales_scale
        near = np.rint(units)
        return np.where(np.abs(units - near) <= 1e-4 * np.maximum(1.0, np.abs(units)), near, units)


# ==================================================================== joint optimum
def best_grid_vector(
    demand: Any, grids: Sequence[np.ndarray], cost: np.ndarray, period: int = 0
) -> tuple[np.ndarray, float]:
    """The grid action (K,) maximising ``Σ_j (p_j − c_j) μ_j(p, period)``, and that profit.

    Enumerates every vector of the grids (product 0's index slowest, the order of
    :meth:`~pricegym.envs.multiproduct.CatalogueConfig.all_actions`) in chunks of
    65,536; ties go to the first vector in that order.

    Raises:
        ConfigError: more than :data:`ENUMERATION_MAX` vectors.
    """
    nvec = tuple(int(g.size) for g in grids)
    total = math.prod(nvec)
    if total > ENUMERATION_MAX:
        raise ConfigError(
            f"the price grids have {total:,} price vectors ({' x '.join(map(str, nvec))}) > "
            f"{ENUMERATION_MAX:,}, too many to enumerate each period; use fewer prices per "
            "product (n_prices=...)."
        )
    k = len(nvec)
    table = np.array([np.pad(g, (0, max(nvec) - g.size), mode="edge") for g in grids])
    best_i, best_v = 0, -np.inf
    for lo in range(0, total, _CHUNK):
        idx = np.arange(lo, min(lo + _CHUNK, total))
        acts = np.stack(np.unravel_index(idx, nvec), axis=1)
        p = table[np.arange(k), acts]
        mu = np.asarray(demand.mean_units(p, period), dtype=np.float64)
        v = ((p - cost) * mu).sum(axis=1)
        i = int(np.argmax(v))
        if v[i] > best_v:
            best_i, best_v = lo + i, float(v[i])
    return np.array(np.unravel_index(best_i, nvec), dtype=np.int64), best_v


def catalogue_demand_from_spec(spec: Any) -> MultiProductDemand:
    """A multi-product demand model from a spec.

    ``spec`` is one of: a model with ``mean_units`` (a fitted
    :class:`~pricegym.demand.multiproduct.LogLogSystem` etc., or a
    :class:`~pricegym.demand.catalogue_truth.LogitCatalogueTruth`); a path to a model
    saved with ``.save(path)`` (:func:`~pricegym.demand.multiproduct_io.load_multiproduct`);
    or a mapping ``{"form": "logit_catalogue", "quality": [...], "alpha": ..,
    "market_size": .., "support": ..}`` (the truth's parameters).

    Raises:
        ConfigError: anything else, or a mapping of another form.
    """
    if isinstance(spec, MultiProductDemand):
        return spec
    if isinstance(spec, str | Path):
        from pricegym.demand.multiproduct_io import load_multiproduct

        return load_multiproduct(spec)
    if isinstance(spec, Mapping):
        from pricegym.demand.catalogue_truth import LogitCatalogueTruth

        params = dict(spec)
        form = params.pop("form", None)
        if form != "logit_catalogue":
            raise ConfigError(
                f"catalogue demand spec form={form!r} is unknown; the only form is "
                "'logit_catalogue' (or pass a saved multi-product model path)."
            )
        try:
            return LogitCatalogueTruth(**params)
        except TypeError as exc:
            raise ConfigError(
                f"catalogue demand spec {dict(spec)!r}: {exc}; it takes quality, alpha, "
                "market_size, support, product_names."
            ) from None
    raise ConfigError(
        f"demand={spec!r} is not a multi-product demand model: pass a fitted multi-product "
        "model, a path to one saved with .save(path), or {'form': 'logit_catalogue', "
        "'quality': [2, 1], 'alpha': 1.0}."
    )


# ==================================================================== base class
class CatalogueAgent(PricingAgent):
    """A :class:`PricingAgent` of a catalogue market (see the module docstring).

    Subclasses implement :meth:`_actions` (the rule on a (B, d) batch of observations
    → (B, K) actions) and may extend :meth:`_check_market`. ``act`` of one
    observation (d,) returns (K,) int64; of a batch (B, d), (B, K).
    """

    batch_act = True

    def bind(self, env: Any) -> Self:
        """Adopt the catalogue market's grids, costs, stock and observation layout.

        Sets ``self.market`` (a :class:`CatalogueView`), ``self.codec`` (one
        :class:`ActionCodec` per product) and ``self.obs_index``.
        """
        view = CatalogueView.from_env(env)
        # a catalogue's view and one codec per product, where one-product agents hold a
        # MarketView and one ActionCodec (the base class's types)
        self.market = view  # type: ignore[assignment]
        self.codec = tuple(ActionCodec.from_grid(g) for g in view.grids)  # type: ignore[assignment]
        self.obs_index = {n: i for i, n in enumerate(view.names)}
        self._check_market(view)
        return self

    def _check_market(self, view: CatalogueView) -> None:
        """Hook: raise ConfigError when ``view`` lacks what the rule needs (default: nothing)."""
        return None

    def _view(self) -> CatalogueView:
        view = getattr(self, "market", None)
        if not isinstance(view, CatalogueView):
            raise ConfigError(
                f"agent {self.name!r} ({type(self).__name__}) has not been bound to a catalogue "
                "market; call agent.bind(env) before reset/act so it knows the price grids."
            )
        return view

    def _per_product(self, name: str, value: Any, *, low: float) -> np.ndarray:
        """``value`` as (K,) floats >= ``low`` (a scalar is broadcast)."""
        k = self._view().n_products
        v = np.asarray(value, dtype=np.float64)
        if v.ndim == 0:
            v = np.full(k, float(v))
        if v.shape != (k,) or not np.isfinite(v).all() or (v < low).any():
            raise ConfigError(
                f"agent {self.name!r}: {name}={np.asarray(value).tolist()!r} must be one finite "
                f"number >= {low:g} or one per product ({k}: {list(self._view().product_names)})."
            )
        return v

    def act(self, observation: np.ndarray) -> np.ndarray:
        """The (K,) grid action for one observation, or (B, K) for a (B, d) batch."""
        view = self._view()
        obs = np.asarray(observation, dtype=np.float64)
        d = len(view.names)
        if obs.shape[-1:] != (d,) or obs.ndim > 2:
            raise ConfigError(
                f"observation of shape {obs.shape}: a catalogue market of {view.n_products} "
                f"products shows (d,) = ({d},) entries, or (B, {d}) for B markets."
            )
        out = self._actions(np.atleast_2d(obs))
        return out[0] if obs.ndim == 1 else out

    def _actions(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _nonneg(name: str, value: Any) -> Any:
    """``value`` (a number or a list of numbers >= 0) as given, else ConfigError."""
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} must be a number or one number per product.") from None
    if v.ndim > 1 or v.size == 0 or not np.isfinite(v).all() or (v < 0).any():
        raise ConfigError(
            f"{name}={value!r} must be a finite number >= 0 or a list of them (one per product)."
        )
    return float(v) if v.ndim == 0 else v.tolist()


# ==================================================================== simple rules
class CatalogueFixedPrice(CatalogueAgent):
    """Always post the same price vector.

    Parameters:
        prices: one price per product (in the market's product order), or one price for
            all; ``None`` posts each grid's middle price (index n_j // 2, the market's
            starting price). Each is played as the nearest grid price; when that
            differs from the price given, :meth:`bind` warns with a
            :class:`~pricegym.errors.PricegymWarning` naming both.
        name: label for reports.
    """

    kind = "catalogue_fixed_price"

    def __init__(
        self, prices: float | Sequence[float] | None = None, name: str | None = None
    ) -> None:
        if prices is not None:
            prices = _nonneg("prices", prices)
            if (np.asarray(prices) <= 0).any():
                raise ConfigError(f"prices={prices!r} must be > 0 (one per product, or one).")
        self.prices = prices
        self.name = name

    def _check_market(self, view: CatalogueView) -> None:
        if self.prices is None:
            self._action = view.nvec // 2
            return
        wanted = self._per_product("prices", self.prices, low=0.0)
        self._action = view.nearest_action(wanted)
        played = view.prices_of(self._action)
        off = np.flatnonzero(np.abs(played - wanted) > 1e-9 * np.maximum(wanted, 1.0))
        if off.size:
            pairs = ", ".join(
                f"{view.product_names[j]!r}: {wanted[j]:g} -> {played[j]:g}" for j in off
            )
            warnings.warn(
                f"catalogue_fixed_price agent {self.name!r}: prices not on the market's grids "
                f"are played as the nearest grid price ({pairs}). Give grid prices, or put them "
                "on the grid (market option prices).",
                PricegymWarning,
                stacklevel=3,
            )

    def _actions(self, obs: np.ndarray) -> np.ndarray:
        return np.tile(self._action, (obs.shape[0], 1))


class CatalogueCostPlus(CatalogueAgent):
    """Post unit cost × (1 + ``markup``) per product (nearest grid price, clipped to the grid).

    Parameters:
        markup: relative markup (>= 0), one for all products or one per product.
        unit_cost: the costs the markup applies to (one, or one per product); ``None``
            uses the market's unit costs.
        name: label for reports.
    """

    kind = "catalogue_cost_plus"

    def __init__(
        self,
        markup: float | Sequence[float] = 0.5,
        unit_cost: float | Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        self.markup = _nonneg("markup", markup)
        self.unit_cost = None if unit_cost is None else _nonneg("unit_cost", unit_cost)
        self.name = name

    def _check_market(self, view: CatalogueView) -> None:
        cost = (
            view.cost
            if self.unit_cost is None
            else self._per_product("unit_cost", self.unit_cost, low=0.0)
        )
        markup = self._per_product("markup", self.markup, low=0.0)
        self._action = view.nearest_action(cost * (1.0 + markup))

    def _actions(self, obs: np.ndarray) -> np.ndarray:
        return np.tile(self._action, (obs.shape[0], 1))


class CatalogueMyopic(CatalogueAgent):
    """Post the grid price vector that maximises this period's expected catalogue profit.

    The expected profit of vector p in period k is ``Σ_j (p_j − cost_j) μ_j(p, k)``
    with μ the demand model's expected units (so a price cut on one product that
    steals sales from its substitutes is charged for them); the period comes from
    the observation's time remaining. Every grid vector is evaluated
    (:func:`best_grid_vector`); the answer of each period is cached, so a
    stationary model costs one enumeration per season length. Stock is ignored
    (that is what makes it myopic): with unlimited stock and the true model this
    is the optimal policy, ``grid_optimum`` every period.

    Parameters:
        demand: ``None`` for the market's own (true) demand; a path to a saved
            multi-product model; a ``{"form": "logit_catalogue", ...}`` spec; or an
            in-memory model (which ``save`` cannot write: it raises ConfigError).
            See :func:`catalogue_demand_from_spec`.
        unit_cost: one cost or one per product; ``None`` for the market's.
        name: label for reports.
    """

    kind = "catalogue_myopic"

    def __init__(
        self,
        demand: Any = None,
        unit_cost: float | Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        self._model = None if demand is None else catalogue_demand_from_spec(demand)
        self.demand = str(demand) if isinstance(demand, Path) else demand
        self.unit_cost = None if unit_cost is None else _nonneg("unit_cost", unit_cost)
        self.name = name

    def _check_market(self, view: CatalogueView) -> None:
        model = view.demand if self._model is None else self._model
        if tuple(model.product_names) != view.product_names:
            raise ConfigError(
                f"agent {self.name!r}: the demand model's products {list(model.product_names)} "
                f"differ from the market's {list(view.product_names)}; pass a model of the same "
                "catalogue, in the same order (or demand=None for the market's own)."
            )
        self._active = model
        self._cost = (
            view.cost
            if self.unit_cost is None
            else self._per_product("unit_cost", self.unit_cost, low=0.0)
        )
        if math.prod(int(n) for n in view.nvec) > ENUMERATION_MAX:
            best_grid_vector(model, view.grids, self._cost)  # raises with the fix
        self._cache: dict[int, np.ndarray] = {}

    def best_action(self, period: int) -> np.ndarray:
        """The joint optimum's grid action (K,) in ``period`` (cached)."""
        view = self._view()
        period = int(period)
        if period not in self._cache:
            self._cache[period] = best_grid_vector(self._active, view.grids, self._cost, period)[0]
        return self._cache[period]

    def _actions(self, obs: np.ndarray) -> np.ndarray:
        periods = self._view().period(obs)
        return np.stack([self.best_action(int(k)) for k in periods.tolist()])

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self.demand is not None and not isinstance(self.demand, str | Mapping):
            raise ConfigError(
                f"agent {self.name!r} (CatalogueMyopic) holds an in-memory demand model "
                f"({type(self.demand).__name__}) that cannot be written to JSON; save the model "
                "with model.save(path) and pass demand=path (or a logit_catalogue spec)."
            )
        return {}, {}


class CatalogueMarkdown(CatalogueAgent):
    """Mark each product down one grid step whenever its sell-through is behind target.

    In the first period of a season every product posts its ``start`` price. Then,
    per product j, with sell-through ``1 − stock_fraction_j`` and the linear target
    ``target_sell_through_j · (1 − time_remaining)``: when sell-through falls short
    of the target by more than ``deadband``, post ``step`` grid steps below last
    period's price (never below the grid's lowest); otherwise keep last period's
    price. Prices never rise within a season (a markdown); last period's price is
    read from the observation, so the rule is a function of the observation alone.

    Parameters:
        start: the opening price per product (one, or one per product; the nearest
            grid price); ``None`` opens at each grid's highest price.
        target_sell_through: share of each product's starting stock to have sold by
            the season's end, in (0, 1] (one, or one per product).
        deadband: shortfalls of at most this share leave the price unchanged (>= 0).
        step: grid steps per markdown (integer >= 1).
        name: label for reports.

    Needs a finite starting stock for every product (``bind`` raises otherwise).
    """

    kind = "catalogue_markdown"

    def __init__(
        self,
        start: float | Sequence[float] | None = None,
        target_sell_through: float | Sequence[float] = 1.0,
        deadband: float = 0.02,
        step: int = 1,
        name: str | None = None,
    ) -> None:
        self.start = None if start is None else _nonneg("start", start)
        target = _nonneg("target_sell_through", target_sell_through)
        if not ((np.asarray(target) > 0) & (np.asarray(target) <= 1)).all():
            raise ConfigError(
                f"target_sell_through={target_sell_through!r} must lie in (0, 1] (a share of "
                "the starting stock), one for all products or one per product."
            )
        self.target_sell_through = target
        self.deadband = float(_nonneg("deadband", deadband))
        if isinstance(step, bool) or int(step) != step or step < 1:
            raise ConfigError(f"step={step!r} must be an integer >= 1 (grid steps per markdown).")
        self.step = int(step)
        self.name = name

    def _check_market(self, view: CatalogueView) -> None:
        unlimited = [p for p, s in zip(view.product_names, view.inventory, strict=True)
                     if not np.isfinite(s)]  # fmt: skip
        if unlimited:
            raise ConfigError(
                f"agent {self.name!r} (catalogue_markdown) needs a finite starting stock for "
                f"every product; {unlimited} have unlimited stock. Give the market "
                "inventory=[...] (e.g. pricegym/LogitCatalogueStock-v0)."
            )
        self._start = (
            view.nvec - 1
            if self.start is None
            else view.nearest_action(self._per_product("start", self.start, low=0.0))
        )
        self._target = self._per_product("target_sell_through", self.target_sell_through, low=0.0)

    def _actions(self, obs: np.ndarray) -> np.ndarray:
        view = self._view()
        elapsed = 1.0 - view.time_remaining(obs)[:, None]
        behind = self._target * elapsed - (1.0 - view.stock_fraction(obs)) > self.deadband
        last = view.last_action(obs)
        moved = np.where(behind, np.maximum(last - self.step, 0), last)
        first = view.period(obs) == 0
        return np.where(first[:, None], self._start, moved).astype(np.int64)
