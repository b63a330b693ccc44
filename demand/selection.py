"""Model selection: fit several families, backtest each the same way, rank them.

Every family is refitted on the same rolling-origin folds (the same
:class:`~sklearn.model_selection.TimeSeriesSplit` over the same periods), so their
out-of-sample errors are comparable. The league table is ranked by backtest WAPE
(weighted absolute percentage error), which is scale-free and robust to the small
counts that make MAPE explode.

**Sold-out periods.** When the history maps a stock or sold-out column and some
periods sold out, the default families include the censored ones
(:data:`~pricegym.demand.censored.CENSORED_FAMILY_NAMES`) and every family's
backtest errors are censoring-aware (:mod:`pricegym.demand._censored_scoring`:
expected sales under the stock against the recorded sales, or, with a flag only,
a sold-out period an error only where the forecast falls below its sales); the
comparison's notes say which rule scored them.
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
from pricegym.errors import DataValidationError, ModelError, PricegymError

__all__ = ["ModelComparison", "compare_models", "default_families", "make_model"]

#: Families tried by ``--model auto``, in the order they are reported on ties.
DEFAULT_FAMILIES: tuple[str, ...] = ("linear", "loglinear", "poisson", "arimax", "neural")
#: Rolling-origin folds of the comparison's backtest unless the history is too short.
DEFAULT_SPLITS = 5
#: Fewest folds a comparison shortens its backtest to for a short history.
MIN_SPLITS = 2


def default_families(history: SalesHistory) -> tuple[str, ...]:
    """The families ``--model auto`` compares on ``history``: :data:`DEFAULT_FAMILIES`,
    then the censored families when some of its periods sold out."""
    from pricegym.demand._censored_scoring import has_censoring

    if not has_censoring(history):
        return DEFAULT_FAMILIES
    from pricegym.demand.censored import CENSORED_FAMILY_NAMES

    return DEFAULT_FAMILIES + CENSORED_FAMILY_NAMES


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
        table: one row per family: ``model``, ``status`` (``ok``, or ``skipped: `` and
            why), in-sample and backtest ``wape``/``mae``/``rmse``/``bias``,
            ``elasticity`` with ``elasticity_low``/``elasticity_high``, ``aic``,
            ``rank`` (1 = best backtest WAPE).
        models: fitted models by family (only those with status ``ok``).
        best: the family with the lowest backtest WAPE.
        n_splits, test_size: the rolling-origin folds every ranked family was
            backtested on.
        notes: what the comparison decided on its own, for the user (e.g. fewer
            folds for a short history).
    """

    table: pd.DataFrame
    models: dict[str, DemandModel] = field(repr=False)
    best: str
    n_splits: int = DEFAULT_SPLITS
    test_size: int = 1
    notes: tuple[str, ...] = ()

    @property
    def best_model(self) -> DemandModel:
        """The fitted model of the best family."""
        return self.models[self.best]


def compare_models(
    history: SalesHistory,
    families: Sequence[str] | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    n_splits: int | None = None,
    test_size: int | None = None,
) -> ModelComparison:
    """Fit each family to ``history``, backtest all on the same folds, rank them.

    Every family is first fitted to the whole history. A family that cannot fit it
    (a panel for a single-series model, zero sales for a log model, too few rows)
    is not an error: it is listed with its reason in ``status`` and left out of the
    ranking. The others are backtested on the same rolling-origin folds; a family
    whose backtest cannot run (its first training window is too short) is listed
    the same way.

    **Folds for a short history.** With ``n_splits=None`` the comparison starts
    from :data:`DEFAULT_SPLITS` folds of the default length (see
    :meth:`DemandModel.backtest`). If the first training window of those folds is
    too short for some family that fits the whole history, the folds are made
    shorter or fewer (never fewer than :data:`MIN_SPLITS`), keeping as many test
    periods as possible among the splits that let the most families be backtested;
    the choice is said in :attr:`ModelComparison.notes`. A given ``n_splits`` is
    used as it is.

    Args:
        history: the sales history.
        families: family names (default :func:`default_families`: the censored
            families join the defaults when some periods sold out).
        params: optional hyper-parameters per family, e.g. ``{"arimax": {"order": (1, 0, 1)}}``.
        n_splits: number of folds, or ``None`` to choose as above.
        test_size: periods per fold (see :meth:`DemandModel.backtest`); with
            ``n_splits=None`` it is kept and only the number of folds may shrink.

    Raises:
        DataValidationError, ModelError: no family could be fitted and backtested;
            the message lists every family with its reason (a
            :class:`~pricegym.errors.DataValidationError` when every reason is one).
    """
    from pricegym.demand._censored_scoring import censored_metrics, has_censoring, scoring_note

    names = tuple(families) if families else default_families(history)
    params = params or {}
    censored = has_censoring(history)
    reasons: dict[str, str] = {}
    errors: list[PricegymError] = []
    fitted: dict[str, DemandModel] = {}
    for name in names:
        model = make_model(name, **dict(params.get(name, {})))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(history)
        except PricegymError as exc:
            errors.append(exc)
            reasons[name] = _reason(exc, history)
            continue
        fitted[name] = model

    notes: list[str] = [scoring_note(history)] if censored else []
    blocked: dict[str, str] = {}
    if n_splits is None:
        choice = _choose_folds(history, fitted, test_size)
        n_splits, test_size, blocked = choice.n_splits, choice.test_size, choice.blocked
        notes.extend(choice.notes)
    size = _default_size(history.periods().size, n_splits) if test_size is None else test_size
    folds = f"{n_splits} fold{'s' if n_splits != 1 else ''} x {_periods(size)}"

    rows: dict[str, dict[str, Any]] = {}
    models: dict[str, DemandModel] = {}
    for name, model in fitted.items():
        if name in blocked:
            reasons[name] = blocked[name]
            errors.append(DataValidationError(blocked[name]))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bt = model.backtest(n_splits=n_splits, test_size=test_size)
        except PricegymError as exc:
            errors.append(exc)
            reasons[name] = (
                f"fits the whole history, but cannot be backtested on {folds}: "
                f"{_reason(exc, history)}"
            )
            continue
        models[name] = model
        metrics = censored_metrics(model, history, bt.predictions) if censored else bt.metrics
        el = model.elasticity_
        info = model.information()
        rows[name] = {
            "model": name,
            "status": "ok",
            "in_sample_wape": model.in_sample_["wape"],
            "backtest_wape": metrics["wape"],
            "backtest_mae": metrics["mae"],
            "backtest_rmse": metrics["rmse"],
            "backtest_bias": metrics["bias"],
            "elasticity": el.estimate,
            "elasticity_low": el.ci_low,
            "elasticity_high": el.ci_high,
            "aic": info.get("aic", np.nan),
        }
    if not models:
        raise _nothing_fits(history, names, reasons, errors, fitted)
    table = pd.DataFrame(
        [rows[n] if n in rows else {"model": n, "status": f"skipped: {reasons[n]}"} for n in names]
    )
    ok = table["status"] == "ok"
    table["rank"] = pd.NA
    table.loc[ok, "rank"] = table.loc[ok, "backtest_wape"].rank(method="first").astype(int)
    table = table.sort_values("rank", na_position="last", kind="stable").reset_index(drop=True)
    best = str(table.loc[0, "model"])
    return ModelComparison(
        table=table,
        models=models,
        best=best,
        n_splits=n_splits,
        test_size=size,
        notes=tuple(notes),
    )


# ------------------------------------------------------------------ folds
def _default_size(n_periods: int, n_splits: int) -> int:
    """:meth:`DemandModel.backtest`'s default fold length: folds cover the last half."""
    return max(1, n_periods // (2 * n_splits))


def _periods(n: int) -> str:
    return f"{n} period{'s' if n != 1 else ''}"


def _window_problem(model: DemandModel, window: SalesHistory) -> str | None:
    """Why ``model``'s family cannot be fitted to a training ``window``; ``None`` if it can."""
    if window.periods().size < 2:
        return f"only {_periods(window.periods().size)} would remain to train on"
    probe = model.clone()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            need = probe.min_rows(window)
    except PricegymError as exc:
        return _reason(exc, window)
    if not probe.pooled and window.is_panel:
        counts = window.frame.groupby("product", sort=False).size()
        have, where = int(counts.min()), f" (product {counts.idxmin()!r})"
    else:
        have, where = window.n_rows, ""
    if have < need:
        per = " per product" if not probe.pooled and window.is_panel else ""
        return (
            f"{type(probe).__name__} needs at least {need} rows{per} (that window has "
            f"{have}{where})"
        )
    if np.unique(window.price).size < 2:
        return "the price never varies in that window"
    return None


@dataclass(frozen=True)
class _FoldChoice:
    """The folds :func:`compare_models` chose for ``n_splits=None``."""

    n_splits: int
    test_size: int | None
    #: fitted families that no candidate split can backtest, with the reason
    blocked: dict[str, str]
    notes: tuple[str, ...]


def _choose_folds(
    history: SalesHistory, fitted: Mapping[str, DemandModel], test_size: int | None
) -> _FoldChoice:
    """The folds of ``compare_models(n_splits=None)``.

    The candidates are every ``k`` from :data:`DEFAULT_SPLITS` down to
    :data:`MIN_SPLITS` with every fold length from the default down to 1 period
    (only ``test_size`` if given). The first training window of a split is the
    periods before its ``k * size`` test periods; a family can be backtested when it
    can be fitted to that window (its ``min_rows`` and a varying price). The chosen
    split lets the most fitted families be backtested and, among those, has the
    most test periods, then the most folds; the default is kept whenever no other
    split serves more families. Families that even the shortest candidate cannot
    backtest are returned in ``blocked`` with the reason.
    """
    periods = history.periods()
    n = periods.size
    k0 = DEFAULT_SPLITS
    size0 = _default_size(n, k0) if test_size is None else test_size
    order = list(fitted)
    problems: dict[int, dict[str, str | None]] = {}

    def problem(budget: int) -> dict[str, str | None]:
        """Each fitted family's problem with the window before the last ``budget`` periods."""
        if budget not in problems:
            rows = np.flatnonzero(np.isin(history.t, periods[: max(n - budget, 0)]))
            window = history.take(rows)
            problems[budget] = {name: _window_problem(m, window) for name, m in fitted.items()}
        return problems[budget]

    def served(budget: int) -> list[str]:
        return [name for name, why in problem(budget).items() if why is None]

    candidates = [
        (k, size)
        for k in range(k0, MIN_SPLITS - 1, -1)
        for size in (range(_default_size(n, k), 0, -1) if test_size is None else (test_size,))
    ]
    candidates.sort(key=lambda ks: (-ks[0] * ks[1], -ks[0]))
    best = (k0, size0)
    for k, size in candidates:
        if len(served(best[0] * best[1])) == len(fitted):
            break
        if len(served(k * size)) > len(served(best[0] * best[1])):
            best = (k, size)
    k, size = best
    shortest = MIN_SPLITS * (1 if test_size is None else test_size)
    blocked = {
        name: (
            f"fits the whole history, but cannot be backtested: even the shortest backtest "
            f"a comparison runs ({MIN_SPLITS} folds of {_periods(shortest // MIN_SPLITS)}) "
            f"trains first on the first {_periods(max(n - shortest, 0))}, but {why}"
        )
        for name, why in problem(shortest).items()
        if why is not None and name not in served(k * size)
    }
    default = served(k0 * size0)
    gained = [name for name in served(k * size) if name not in default]
    if not gained:
        return _FoldChoice(k0, test_size, blocked, ())
    short = [name for name in order if name not in default]
    still = [name for name in order if name not in served(k * size)]
    note = (
        f"the history has {_periods(n)}, too few for {k0} rolling-origin folds of "
        f"{_periods(size0)}: their first training window of {_periods(n - k0 * size0)} is "
        f"too short for {', '.join(short)}. The backtest uses {k} folds of {_periods(size)} "
        f"instead (first training window {_periods(n - k * size)}), which lets "
        f"{', '.join(gained)} be backtested"
        + (f"; {', '.join(still)} still cannot (see the status)" if still else "")
        + ". Every ranked family is scored on these same folds. Pass n_splits= (CLI: "
        "--splits N) to choose the folds yourself."
    )
    return _FoldChoice(k, size, blocked, (note,))


# ------------------------------------------------------------------ messages
def _reason(exc: PricegymError, history: SalesHistory) -> str:
    """The error's message without the leading ``source:`` the comparison already names."""
    text = str(exc)
    prefix = f"{history.source}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _nothing_fits(
    history: SalesHistory,
    names: Sequence[str],
    reasons: Mapping[str, str],
    errors: Sequence[PricegymError],
    fitted: Mapping[str, DemandModel],
) -> PricegymError:
    """The error of a comparison in which no family could be fitted and backtested."""
    n = history.periods().size
    lines = [
        f"{history.source}: no model family could be fitted and backtested on this "
        f"history ({history.n_rows} rows, {_periods(n)}). "
        "Each family's reason:"
    ]
    lines += [f"  - {name}: {reasons[name]}" for name in names]
    if fitted:
        some = next(iter(fitted))
        fix = (
            f"Fix: supply a longer history, or fit one family without a backtest, e.g. "
            f"make_model({some!r}).fit(history) (CLI: --model {some} --no-backtest)."
        )
    else:
        fix = "Fix: supply a longer history (more periods), or check the data the reasons name."
    lines.append(fix)
    kind = (
        DataValidationError
        if all(isinstance(e, DataValidationError) for e in errors)
        else ModelError
    )
    return kind("\n".join(lines))
