"""Save and load the multi-product demand families: JSON + ``.npz``, never pickle.

:func:`save_multiproduct` writes a fitted :class:`~pricegym.demand.multiproduct.LogLogSystem`,
:class:`~pricegym.demand.multiproduct.LinearSystem`,
:class:`~pricegym.demand.logit_shares.LogitShares` or
:class:`~pricegym.demand.choice_logit.ChoiceLogit` with the model files of
:mod:`pricegym.demand.io` (format ``pricegym.multiproduct-model``: the arrays' sha256
in the JSON, atomic writes). :func:`load_multiproduct` restores what the market and
the report need: ``mean_units`` (the kernel), the elasticity matrix with its
intervals, the sign checks, the hyper-parameters. The fitting library's results
object is not saved (``library_mean_units`` and ``params_table`` need a model
fitted in this process).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np

from pricegym._json import jsonable
from pricegym.demand.io import read_model_files, write_model_files
from pricegym.demand.multiproduct import ElasticityMatrix
from pricegym.errors import ModelFileError, NotFittedError

__all__ = ["FORMAT", "load_multiproduct", "multiproduct_families", "save_multiproduct"]

#: the ``format`` of a multi-product model file
FORMAT = "pricegym.multiproduct-model"

#: per family: learned attributes saved in the JSON, and those saved as arrays
_COMMON_VALUES = ("n_products", "product_names", "sign_checks_")
_VALUES = {
    "loglog_system": ("competitor_names_", "term_names_", "last_t_"),
    "linear_system": ("competitor_names_", "term_names_", "last_t_"),
    "logit_shares": (
        "competitor_names_",
        "term_names_",
        "last_t_",
        "alpha_",
        "sigma_",
        "market_size_",
        "first_stage_",
    ),
    "choice_logit": ("term_names_", "alpha_", "beta_", "n_dropped_"),
}
_ARRAYS = {
    "loglog_system": (
        "coef_",
        "smearing_",
        "mean_prices_",
        "reference_competitors_",
        "support_",
    ),
    "logit_shares": (
        "coef_",
        "coef_cov_",
        "xi_",
        "mean_prices_",
        "reference_competitors_",
        "support_",
    ),
    "choice_logit": ("coef_", "coef_cov_", "asc_", "mean_prices_", "support_"),
}
_ARRAYS["linear_system"] = _ARRAYS["loglog_system"]


def multiproduct_families() -> dict[str, type]:
    """Family name → class of every multi-product demand family."""
    from pricegym.demand.choice_logit import ChoiceLogit  # cycle: the families import this
    from pricegym.demand.logit_shares import LogitShares
    from pricegym.demand.multiproduct import LinearSystem, LogLogSystem

    return {c.family: c for c in (LogLogSystem, LinearSystem, LogitShares, ChoiceLogit)}


def _params(model: Any) -> dict[str, Any]:
    names = [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]
    return {name: jsonable(getattr(model, name)) for name in names}


def save_multiproduct(model: Any, path: str | Path) -> Path:
    """Write a fitted multi-product model to ``path`` (.json) and its arrays (.npz).

    Raises:
        NotFittedError: the model is not fitted.
        ModelFileError: not a multi-product family.
    """
    family = getattr(model, "family", None)
    if family not in _VALUES:
        raise ModelFileError(
            f"{type(model).__name__} is not a multi-product demand family (one of "
            f"{sorted(_VALUES)}); save single-product models with model.save(path)."
        )
    if getattr(model, "coef_", None) is None:
        raise NotFittedError(f"this {type(model).__name__} is not fitted; fit it before saving.")
    em: ElasticityMatrix = model.elasticity_
    fitted = {name: jsonable(getattr(model, name)) for name in _COMMON_VALUES + _VALUES[family]}
    fitted["elasticity"] = {k: v for k, v in em.to_dict().items() if k in ("level", "method")}
    nest = getattr(model, "nest_", None)
    fitted["nested"] = nest is not None
    arrays = {name: np.asarray(getattr(model, name)) for name in _ARRAYS[family]}
    arrays |= {f"elasticity_{k}": getattr(em, k) for k in ("estimate", "ci_low", "ci_high")}
    arrays["elasticity_prices"] = em.prices
    if nest is not None:
        arrays["nest_"] = nest
    doc = {"family": family, "params": _params(model), "fitted": fitted}
    return write_model_files(path, doc, arrays, fmt=FORMAT)


def load_multiproduct(path: str | Path) -> Any:
    """A model saved by :func:`save_multiproduct`, ready for ``mean_units``.

    Raises:
        ModelFileError: missing / altered / foreign file (see
            :func:`~pricegym.demand.io.read_model_files`), or an unknown family.
    """
    doc, arrays = read_model_files(path, fmt=FORMAT)
    families = multiproduct_families()
    family = doc.get("family")
    if family not in families:
        raise ModelFileError(
            f"{str(path)!r}: family {family!r} is not a multi-product family this pricegym "
            f"knows ({sorted(families)}); upgrade pricegym or refit."
        )
    cls = families[family]
    params = dict(doc["params"])
    for key in ("products", "instruments", "attributes", "alternatives"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    if isinstance(params.get("complements"), list):
        params["complements"] = [tuple(pair) for pair in params["complements"]]
    model = cls(**params)
    fitted = doc["fitted"]
    for name in _COMMON_VALUES + _VALUES[family]:
        setattr(model, name, fitted[name])
    model.product_names = tuple(model.product_names)
    model.competitor_names_ = tuple(getattr(model, "competitor_names_", ()))
    for name in _ARRAYS[family]:
        setattr(model, name, np.asarray(arrays[name], dtype=np.float64))
    if family == "logit_shares":
        model.nest_ = np.asarray(arrays["nest_"], dtype=np.int64) if fitted["nested"] else None
    model.elasticity_ = ElasticityMatrix(
        tuple(model.product_names),
        arrays["elasticity_estimate"],
        arrays["elasticity_ci_low"],
        arrays["elasticity_ci_high"],
        arrays["elasticity_prices"],
        float(fitted["elasticity"]["level"]),
        str(fitted["elasticity"]["method"]),
    )
    return model
