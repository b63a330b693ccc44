"""The registered catalogue markets (:class:`~pricegym.envs.multiproduct.MultiProductEnv`).

``import pricegym`` registers these ids beside the single-seller ones of
:mod:`pricegym.registration` (which calls :func:`register_catalogue_envs`);
:func:`gymnasium.make` builds a ``MultiProductEnv`` and :func:`gymnasium.make_vec`
a :class:`~pricegym.envs.multiproduct_vector.MultiProductVectorEnv` (the
``vector_entry_point``), from the presets in :data:`CATALOGUE_PRESETS`.

======================  ==========================================  ============================
id                      demand                                      market
======================  ==========================================  ============================
LogitCatalogue-v0       multinomial logit, K = 3: qualities         7 prices 1.5 … 4.5 per
                        (2, 1.5, 1), α = 1, 10 shoppers a period,   product, unit costs
                        Poisson; joint optimum: equal markups       (1, 0.8, 0.5), 20 periods,
                        1.928 (prices 2.928, 2.728, 2.428), 9.280   unlimited stock
                        a period; best grid vector (3, 2.5, 2.5)
                        earns 9.2267 a period
LogitCatalogueStock-v0  the same logit                              the same grid and costs,
                                                                    stock (15, 12, 10), no
                                                                    salvage; exact DP optimum
                                                                    114.99 a season, fluid LP
                                                                    bound 122.51
FittedCatalogue-v0      the multi-product model saved at            7 prices per product over
                        ``model_path=`` (LogLogSystem,              the model's price support,
                        LinearSystem, LogitShares, ChoiceLogit)     52 periods, unlimited stock
======================  ==========================================  ============================

(ids are prefixed ``pricegym/``; the DP and LP numbers are from
:mod:`pricegym.agents.multiproduct_optimum`, checked in the tests.) Keyword
arguments of ``make``/``make_vec`` change any market setting of
:class:`~pricegym.envs.multiproduct.MultiProductEnv` (``inventory=[5, 5, 5]``,
``n_prices=5``, ``cost=...``); ``demand={...}`` changes the logit's parameters.

## Version History

- v0: initial versions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError

if TYPE_CHECKING:
    from pricegym.envs.multiproduct import MultiProductEnv
    from pricegym.envs.multiproduct_vector import MultiProductVectorEnv

__all__ = [
    "CATALOGUE_ENV_IDS",
    "CATALOGUE_PRESETS",
    "catalogue_setup",
    "make_catalogue_env",
    "make_catalogue_vector_env",
    "register_catalogue_envs",
]

_LOGIT = {
    "quality": [2.0, 1.5, 1.0],
    "alpha": 1.0,
    "market_size": 10.0,
    "support": [0.5, 6.0],
    "product_names": ["premium", "standard", "basic"],
}
_GRID = {"n_prices": 7, "p_min": 1.5, "p_max": 4.5, "cost": [1.0, 0.8, 0.5], "horizon": 20}

#: Each preset: ``demand`` (LogitCatalogueTruth parameters, or None: the model at
#: ``model_path=``) and ``market`` (MultiProductEnv settings).
CATALOGUE_PRESETS: dict[str, dict[str, Any]] = {
    "logit_catalogue": {"demand": _LOGIT, "market": dict(_GRID)},
    "logit_catalogue_stock": {
        "demand": _LOGIT,
        "market": {**_GRID, "inventory": [15, 12, 10], "salvage": 0.0},
    },
    "fitted_catalogue": {"demand": None, "market": {"n_prices": 7, "horizon": 52}},
}

#: The registered ids and their presets.
CATALOGUE_ENV_IDS: dict[str, str] = {
    "pricegym/LogitCatalogue-v0": "logit_catalogue",
    "pricegym/LogitCatalogueStock-v0": "logit_catalogue_stock",
    "pricegym/FittedCatalogue-v0": "fitted_catalogue",
}


def catalogue_setup(
    preset: str,
    *,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    **market: Any,
) -> tuple[Any, dict[str, Any]]:
    """(demand model, market settings) of a preset with the given changes.

    Raises:
        ConfigError: an unknown preset or demand parameter, a ``model_path`` for a
            synthetic preset or none for ``fitted_catalogue``.
        ModelFileError: a ``model_path`` that cannot be loaded.
    """
    if preset not in CATALOGUE_PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; use one of {sorted(CATALOGUE_PRESETS)}.")
    base = copy.deepcopy(CATALOGUE_PRESETS[preset])
    settings = {**base["market"], **market}
    if base["demand"] is None:
        if model_path is None:
            raise ConfigError(
                "pricegym/FittedCatalogue-v0 needs model_path=...: a multi-product model saved "
                "with .save(path) (LogLogSystem, LinearSystem, LogitShares, ChoiceLogit), e.g. "
                "gymnasium.make('pricegym/FittedCatalogue-v0', model_path='catalogue.json')."
            )
        if demand is not None:
            raise ConfigError("demand=... changes the synthetic logit; a fitted model has none.")
        from pricegym.demand.multiproduct_io import load_multiproduct

        return load_multiproduct(model_path), settings
    if model_path is not None:
        raise ConfigError(
            f"model_path={model_path!r}: the {preset!r} market has a known logit demand; use "
            "pricegym/FittedCatalogue-v0 for a saved model."
        )
    spec = dict(base["demand"])
    if demand is not None:
        unknown = sorted(set(demand) - set(spec))
        if unknown:
            raise ConfigError(
                f"demand settings {unknown} are unknown for {preset!r}; it takes {sorted(spec)}."
            )
        spec.update(demand)
    from pricegym.demand.catalogue_truth import LogitCatalogueTruth

    return LogitCatalogueTruth(**spec), settings


def _check_settings(settings: Mapping[str, Any]) -> None:
    import inspect

    from pricegym.envs.multiproduct import MultiProductEnv

    known = set(inspect.signature(MultiProductEnv.__init__).parameters) - {"self", "demand"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(
            f"market settings {unknown} are unknown for a catalogue market; it takes "
            f"{sorted(known)}."
        )


def make_catalogue_env(
    preset: str,
    *,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    **market: Any,
) -> MultiProductEnv:
    """The ``MultiProductEnv`` of a preset (the ``entry_point`` of every catalogue id)."""
    from pricegym.envs.multiproduct import MultiProductEnv

    model, settings = catalogue_setup(preset, model_path=model_path, demand=demand, **market)
    _check_settings(settings)
    return MultiProductEnv(model, **settings)


def make_catalogue_vector_env(
    preset: str,
    *,
    num_envs: int = 1,
    model_path: str | None = None,
    demand: Mapping[str, Any] | None = None,
    autoreset_mode: Any = None,
    **market: Any,
) -> MultiProductVectorEnv:
    """The ``MultiProductVectorEnv`` of a preset (the ``vector_entry_point``)."""
    from gymnasium.vector import AutoresetMode

    from pricegym.envs.multiproduct_vector import MultiProductVectorEnv

    model, settings = catalogue_setup(preset, model_path=model_path, demand=demand, **market)
    _check_settings(settings)
    return MultiProductVectorEnv(
        model,
        num_envs,
        autoreset_mode=AutoresetMode.NEXT_STEP if autoreset_mode is None else autoreset_mode,
        **settings,
    )


def register_catalogue_envs() -> list[str]:
    """Register every id of :data:`CATALOGUE_ENV_IDS` (ids already there are kept)."""
    # gymnasium is imported here, not at module level: importing it runs the hook of
    # pricegym/__init__.py, which calls this function, and would find this module
    # half-loaded (a circular ImportError on ``import`` of it in a fresh process).
    import gymnasium as gym

    added = []
    for env_id, preset in CATALOGUE_ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{__name__}:make_catalogue_env",
            vector_entry_point=f"{__name__}:make_catalogue_vector_env",
            kwargs={"preset": preset},
        )
        added.append(env_id)
    return added
