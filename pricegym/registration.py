"""The registered pricing markets: ``import pricegym`` makes these gymnasium ids.

Every id builds a :class:`~pricegym.envs.market.PricingEnv` with
:func:`gymnasium.make` and a :class:`~pricegym.envs.vector.MarketVectorEnv` (its
``vector_entry_point``) with :func:`gymnasium.make_vec`, from the presets in
:data:`PRESETS` — the demand truth and the market settings of each id, kept here
as data rather than in code.

============  ======================================  ======================================
id            demand                                  market
============  ======================================  ======================================
Monopoly-v0   linear λ(p) = 100 − 10p, Poisson;       10 prices 1…10, unit cost 2, 52
              optimal price (a/b + c)/2 = 6, profit   periods, unlimited stock
              160 per period
Markdown-v0   exponential λ(p) = 10·e^(−p), Poisson   15 prices 0.5…4, 10 units, 20 periods,
              (the Gallego–van Ryzin intensity)       no replenishment or salvage; the best
                                                      fixed price earns ~94.7% of the
                                                      dynamic optimum
Duopoly-v0    logit of Calvano et al. (2020):         15 prices spanning the Nash and
              qualities 2, outside good 0, μ = 1/4,   monopoly prices widened by ξ = 0.1,
              100 customers per period, Poisson;      unit cost 1, 100 periods; the rival is
              the rival's price is column ``rival``   a myopic best responder
Fitted-v0     the saved model at ``model_path=``      10 prices over the model's support,
                                                      52 periods; the unit cost saved with
                                                      the model (fit --unit-cost), else 0
============  ======================================  ======================================

(ids are prefixed ``pricegym/``.) This module is the composition root of the
registered markets: it sits at the package root, above :mod:`pricegym.envs` and
:mod:`pricegym.agents`, because the Duopoly preset's rival is an agent, and the
markets never import agents (``tests/test_layout.py`` enforces the layer order).
The Duopoly rival is
:class:`~pricegym.agents.rules.Myopic` with the market's own demand: each period
it charges the grid price maximising its expected profit given the seller's last
price (a one-period best response, so two such sellers end at the Bertrand–Nash
prices). Its demand is the seller's logit curve with the roles swapped, which is
its own because both qualities are equal.

Keyword arguments of ``make``/``make_vec`` change a preset: any
:class:`~pricegym.envs.config.MarketConfig` setting (``inventory=30``,
``action="continuous"``, ...), ``demand={...}`` to change demand parameters,
``render_mode``, ``fast_path``; ``make_vec`` also takes ``autoreset_mode`` and
``max_episode_steps``. Registration is idempotent (:func:`register_envs`).

## Version History

- v0: initial versions of all four ids.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pricegym.errors import ConfigError

# The demands, markets and agents are imported inside the functions that build them
# (deliberately): pricegym/__init__.py imports this module as soon as gymnasium is
# imported, so it must stay as light as gymnasium itself (no scipy, pandas, numba).
# gymnasium itself is imported in register_envs, not here: importing it runs the hook
# of pricegym/__init__.py, which calls register_envs, so a module-level import would
# run that call while this module is half-loaded (``import pricegym.registration`` in
# a fresh process failed with a circular ImportError).

if TYPE_CHECKING:
    from pricegym.demand.kernels import DemandKernel
    from pricegym.demand.parametric import LogitTruth
    from pricegym.envs.market import PricingEnv
    from pricegym.envs.vector import MarketVectorEnv

__all__ = [
    "ENV_IDS",
    "PRESETS",
    "LogitSellerDemand",  # noqa: F822 (built on first access, see __getattr__)
    "make_market_env",
    "make_market_vector_env",
    "market_setup",
    "register_envs",
]

#: Each preset: ``demand`` (a parametric truth: ``form``, its parameters, ``noise``),
#: ``market`` (MarketConfig settings), ``rival`` (an agent kind of
#: :mod:`pricegym.agents.rules` and its parameters, or None).
PRESETS: dict[str, dict[str, Any]] = {
    "monopoly": {
        "demand": {"form": "linear", "a": 100.0, "b": 10.0, "noise": "poisson"},
        "market": {
            "action": "discrete",
            "n_prices": 10,
            "p_min": 1.0,
            "p_max": 10.0,
            "cost": 2.0,
            "horizon": 52,
        },
        "rival": None,
    },
    "markdown": {
        "demand": {"form": "exponential", "a": 10.0, "alpha": 1.0, "noise": "poisson"},
        "market": {
            "action": "discrete",
            "n_prices": 15,
            "p_min": 0.5,
            "p_max": 4.0,
            "cost": 0.0,
            "horizon": 20,
            "inventory": 10.0,
            "salvage_value": 0.0,
        },
        "rival": None,
    },
    "duopoly": {
        "demand": {
            "form": "logit_seller",
            "quality": [2.0, 2.0],
            "outside": 0.0,
            "mu": 0.25,
            "market_size": 100.0,
            "support": [1.0, 2.5],
            "noise": "poisson",
        },
        "market": {"action": "discrete", "cost": 1.0, "horizon": 100},
        # the Calvano et al. grid: n prices on [p_N − ξ(p_M − p_N), p_M + ξ(p_M − p_N)]
        "grid": {"n_prices": 15, "xi": 0.1},
        "rival": {"kind": "myopic", "params": {"name": "rival"}},
    },
    "fitted": {
        "demand": None,  # the model at model_path=
        "market": {"action": "discrete", "n_prices": 10, "horizon": 52},
        "rival": None,
    },
}

#: The registered ids and their presets.
ENV_IDS: dict[str, str] = {
    "pricegym/Monopoly-v0": "monopoly",
    "pricegym/Markdown-v0": "markdown",
    "pricegym/Duopoly-v0": "duopoly",
    "pricegym/Fitted-v0": "fitted",
}


# ==================================================================== logit seller
# The class is built on first use: ``import pricegym`` registers the ids through
# this module, and importing ``pricegym.demand`` (torch included) there would make
# every ``import pricegym`` pay for it.
_LOGIT_SELLER_DOC = """Seller 0's expected units in a logit market, rivals' prices as competitors.

    The market is a :class:`~pricegym.demand.parametric.LogitTruth`; the other
    sellers' prices are the competitor columns.

    ``LogitSellerDemand(truth, rival_prices)``: the columns are ``rival`` (two
    sellers) or ``rival_1``, ``rival_2``, ...; ``expected(p, ctx)`` is
    ``truth.expected([p, *ctx.competitors])[:, 0]``. The reference competitor
    prices (the rivals' default starting prices) are ``rival_prices``; noise and
    price support are the truth's.
    """


@functools.cache
def _logit_seller_class() -> type:
    from pricegym.demand.features import FeatureSpec, MarketContext
    from pricegym.demand.kernels import DemandKernel, KernelState

    class LogitSellerDemand(DemandKernel):
        __doc__ = _LOGIT_SELLER_DOC

        def __init__(self, truth: LogitTruth, rival_prices: Sequence[float]) -> None:
            n = int(truth.n_sellers)
            if n < 2:
                raise ConfigError(
                    f"a logit market with {n} seller has no rival; pass at least two qualities."
                )
            names = ("rival",) if n == 2 else tuple(f"rival_{j}" for j in range(1, n))
            ref = np.asarray(rival_prices, dtype=np.float64).reshape(-1)
            if ref.shape != (n - 1,):
                raise ConfigError(
                    f"rival_prices={ref.tolist()} must hold one price per rival ({n - 1})."
                )
            self.truth = truth
            super().__init__(
                FeatureSpec(competitors=names),
                truth.noise,
                truth.support,
                {"t": 0.0, "competitors": ref, "promotions": []},
            )

        def expected(
            self,
            prices: np.ndarray,
            context: MarketContext | None = None,
            state: KernelState | None = None,
        ) -> np.ndarray:
            """Expected units of seller 0, shape (B,)."""
            p = self._own_price(prices)
            if context is None:
                comp = np.broadcast_to(
                    np.asarray(self.reference["competitors"], dtype=np.float64),
                    (p.shape[0], len(self.spec.competitors)),
                )
            else:
                comp = context.competitors
            return self.truth.expected(np.column_stack([p, comp]))[:, 0]

    LogitSellerDemand.__module__ = __name__
    LogitSellerDemand.__qualname__ = "LogitSellerDemand"
    return LogitSellerDemand


def __getattr__(name: str) -> Any:
    if name == "LogitSellerDemand":
        return _logit_seller_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ==================================================================== building markets
def _noise(name: str) -> Any:
    from pricegym.demand.noise import NoiseModel

    return NoiseModel(name)  # type: ignore[arg-type]


def _kernel(
    spec: Mapping[str, Any], market: dict[str, Any], grid: Mapping[str, Any] | None
) -> DemandKernel:
    """The demand kernel of a preset's ``demand`` spec (and the Duopoly's price grid)."""
    from pricegym.demand import parametric
    from pricegym.envs.equilibrium_solvers import logit_monopoly_prices, logit_nash_prices

    spec = dict(spec)
    form = spec.pop("form")
    noise = _noise(spec.pop("noise", "poisson"))
    support = spec.pop("support", None)
    try:
        if form == "linear":
            return parametric.LinearTruth(support=support, noise=noise, **spec)
        if form == "exponential":
            return parametric.ExponentialTruth(support=support, noise=noise, **spec)
        if form == "logit_seller":
            truth = parametric.LogitTruth(support=support or (1.0, 2.5), noise=noise, **spec)
            cost = float(market.get("cost", 0.0))
            kw: dict[str, Any] = {
                "quality": truth.quality,
                "outside": truth.outside,
                "mu": truth.mu,
            }
            nash = logit_nash_prices(cost=cost, **kw)
            if grid is not None and "prices" not in market:
                mono = logit_monopoly_prices(cost=cost, **kw)
                xi = float(grid["xi"])
                lo = float(nash[0] - xi * (mono[0] - nash[0]))
                hi = float(mono[0] + xi * (mono[0] - nash[0]))
                market["prices"] = [float(p) for p in np.linspace(lo, hi, int(grid["n_prices"]))]
            return _logit_seller_class()(truth, nash[1:])
    except TypeError as exc:
        raise ConfigError(f"demand {dict(spec, form=form)}: {exc}; check the parameters.") from None
    raise ConfigError(
        f"demand form {form!r} is unknown; use 'linear', 'exponential' or 'logit_seller'."
    )


def market_setup(
    preset: str,
    *,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    **market: Any,
) -> tuple[DemandKernel, Any, list[Any]]:
    """(kernel, MarketConfig, rivals) of a preset with the given changes.

    Raises:
        ConfigError: an unknown preset or setting, a ``model_path`` for a preset
            without one (or none for ``fitted``).
        ModelFileError: a ``model_path`` that cannot be loaded.
    """
    from pricegym.envs.config import MarketConfig

    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; use one of {sorted(PRESETS)}.")
    base = copy.deepcopy(PRESETS[preset])
    settings = {**base["market"], **market}
    if base["demand"] is None:
        if model_path is None:
            raise ConfigError(
                "pricegym/Fitted-v0 needs model_path=...: the path of a demand model saved "
                "with DemandModel.save (e.g. gymnasium.make('pricegym/Fitted-v0', "
                "model_path='model.json'))."
            )
        if demand is not None:
            raise ConfigError("demand=... changes a parametric preset; a fitted model has none.")
        from pricegym.demand.base import DemandModel

        model = DemandModel.load(model_path)
        kernel: DemandKernel = model.kernel()
        if "cost" not in market and model.unit_cost_ is not None:
            settings["cost"] = float(model.unit_cost_["value"])  # saved with the model
    else:
        if model_path is not None:
            raise ConfigError(
                f"model_path={model_path!r}: the {preset!r} market has a parametric demand; "
                "use pricegym/Fitted-v0 for a saved model."
            )
        spec = dict(base["demand"])
        if demand is not None:
            unknown = sorted(set(demand) - set(spec) - {"support"})
            if unknown:
                raise ConfigError(
                    f"demand settings {unknown} are unknown for the {preset!r} market; it "
                    f"takes {sorted(set(spec) - {'form'})}."
                )
            spec.update(demand)
        kernel = _kernel(spec, settings, base.get("grid"))
    config = MarketConfig.from_dict(settings, where=f"pricegym/{preset}")
    rivals: list[Any] = []
    if base["rival"] is not None:
        from pricegym.agents.base import make_agent

        rivals.append(make_agent(base["rival"]["kind"], **base["rival"]["params"]))
    return kernel, config, rivals


def make_market_env(
    preset: str,
    *,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    render_mode: str | None = None,
    fast_path: bool = True,
    **market: Any,
) -> PricingEnv:
    """The ``PricingEnv`` of a preset (the ``entry_point`` of every registered id)."""
    from pricegym.envs.market import PricingEnv

    kernel, config, rivals = market_setup(preset, model_path=model_path, demand=demand, **market)
    return PricingEnv(kernel, config, rivals=rivals, render_mode=render_mode, fast_path=fast_path)


def make_market_vector_env(
    preset: str,
    *,
    num_envs: int = 1,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    render_mode: str | None = None,
    autoreset_mode: Any = None,
    max_episode_steps: int | None = None,
    fast_path: bool = True,
    **market: Any,
) -> MarketVectorEnv:
    """The ``MarketVectorEnv`` of a preset (the ``vector_entry_point`` of every id)."""
    from gymnasium.vector import AutoresetMode

    from pricegym.envs.vector import MarketVectorEnv

    kernel, config, rivals = market_setup(preset, model_path=model_path, demand=demand, **market)
    return MarketVectorEnv(
        kernel,
        config,
        num_envs=num_envs,
        rivals=rivals,
        autoreset_mode=AutoresetMode.NEXT_STEP if autoreset_mode is None else autoreset_mode,
        max_episode_steps=max_episode_steps,
        render_mode=render_mode,
        fast_path=fast_path,
    )


def register_envs() -> list[str]:
    """Register every id of :data:`ENV_IDS` with gymnasium (ids already there are kept),
    and the catalogue ids of :mod:`pricegym.envs.multiproduct_registration`.

    Returns the ids registered by this call. (Where gymnasium is not imported yet, the
    import here runs pricegym's hook, which registers every id through a nested call,
    so this call returns ``[]``.)
    """
    import gymnasium as gym  # here: see the comment on the imports above

    added = []
    for env_id, preset in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{__name__}:make_market_env",
            vector_entry_point=f"{__name__}:make_market_vector_env",
            kwargs={"preset": preset},
        )
        added.append(env_id)
    from pricegym.envs.multiproduct_registration import register_catalogue_envs

    return added + register_catalogue_envs()  # the catalogue markets (issue 13)
