"""Model selection: fit several families, backtest each the same way, rank them.

Every family is refitted on the same rolling-origin folds (the same
:class:`~sklearn.model_selection.TimeSeriesSplit` over the same periods), so their
out-of-sample errors are comparable. The league table is ranked by backtest WAPE
(weighted absolute percentage error), which is scale-free and robust to the small
counts that make MAPE explode.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand.base import DemandModel, model_families
from pricegym.demand.data import SalesHistory
from pricegym.errors import ModelError, PricegymError

__all__ = ["ModelComparison", "compare_models", "make_model"]

#: Families tried by ``--model auto``, in the order they are reported on ties.
DEFAULT_FAMILIES: tuple[str, ...] = ("linear", "loglinear", "poisson", "arimax", "neural")


def make_model(family: str, **params: Any) -> DemandModel:
    """An unfitted model of the named family with the given hyper-parameters."""
    families = model_families()
    if family not in families:
        import difflib

        close = difflib.get_close_matches(family, list(families), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ModelError(
            f"unknown demand-model family {family!r}; choose one of {sorted(families)} "
            f"or 'auto'.{hint}"
        )
    return families[family](**params)


@dataclass
class ModelComparison:
    """Result of :func:`compare_models`.

    Attributes:
        table: one row per family: ``model``, ``status`` (``ok`` or why it was
            skipped), in-sample and backtest ``wape``/``mae``/``rmse``/``bias``,
            ``elasticity`` with ``elasticity_low``/``elasticity_high``, ``aic``,
            ``rank`` (1 = best backtest WAPE).
        models: fitted models by family (only those with status ``ok``).
        best: the family with the lowest backtest WAPE.
    """

    table: pd.DataFrame
    models: dict[str, DemandModel] = field(repr=False)
    best: str

    @property
    def best_model(self) -> DemandModel:
        """The fitted model of the best family."""
        return self.models[self.best]


def compare_models(
    history: SalesHistory,
    families: Sequence[str] | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    n_splits: int = 5,
    test_size: int | None = None,
) -> ModelComparison:
    """Fit each family to ``history``, backtest all on the same folds, rank them.

    A family that cannot fit this history (a panel for a single-series model, zero
    sales for a log model, too few rows) is not an error: it is listed with its
    reason in ``status`` and left out of the ranking. If no family fits, the last
    reason is raised.

    Args:
        history: the sales history.
        families: family names (default :data:`DEFAULT_FAMILIES`).
        params: optional hyper-parameters per family, e.g. ``{"arimax": {"order": (1, 0, 1)}}``.
        n_splits, test_size: the rolling-origin split (see :meth:`DemandModel.backtest`).
    """
    names = tuple(families) if families else DEFAULT_FAMILIES
    params = params or {}
    rows: list[dict[str, Any]] = []
    models: dict[str, DemandModel] = {}
    last_error: PricegymError | None = None
    for name in names:
        model = make_model(name, **dict(params.get(name, {})))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(history)
                bt = model.backtest(n_splits=n_splits, test_size=test_size)
        except PricegymError as exc:
            last_error = exc
            rows.append({"model": name, "status": f"skipped: {exc}"})
            continue
        models[name] = model
        el = model.elasticity_
        info = model.information()
        rows.append(
            {
                "model": name,
                "status": "ok",
                "in_sample_wape": model.in_sample_["wape"],
                "backtest_wape": bt.metrics["wape"],
                "backtest_mae": bt.metrics["mae"],
                "backtest_rmse": bt.metrics["rmse"],
                "backtest_bias": bt.metrics["bias"],
                "elasticity": el.estimate,
                "elasticity_low": el.ci_low,
                "elasticity_high": el.ci_high,
                "aic": info.get("aic", np.nan),
            }
        )
    if not models:
        assert last_error is not None
        raise last_error
    table = pd.DataFrame(rows)
    ok = table["status"] == "ok"
    table["rank"] = pd.NA
    table.loc[ok, "rank"] = table.loc[ok, "backtest_wape"].rank(method="first").astype(int)
    table = table.sort_values("rank", na_position="last", kind="stable").reset_index(drop=True)
    best = str(table.loc[0, "model"])
    return ModelComparison(table=table, models=models, best=best)
