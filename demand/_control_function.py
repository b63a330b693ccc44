"""What the control-function twins of ARIMAX and the neural family share.

A control function instruments the own price in two stages: the first stage
regresses the (transformed) own price on the structural equation's exogenous
terms, a constant and the instruments; its residual ``v̂`` — the part of the price
the instruments and the exogenous terms do not explain, which carries the
confounding demand shock — enters the demand model as an extra regressor. The
coefficient on the price is then the structural (causal) one, provided the
demand error given ``v̂`` does not depend on the instruments (Wooldridge 2015,
J. Human Resources 50:420, "Control function methods in applied econometrics").

:class:`ControlFunctionMixin` (mixed in before :class:`~pricegym.demand.arimax.ArimaxDemand`
or :class:`~pricegym.demand.neural.NeuralDemand`) owns the parts the families
share with :mod:`pricegym.demand.iv`'s twins: the first-stage diagnostics (the
same :func:`~pricegym.demand.iv.first_stage`, so the same F, robust F, partial R²
and :class:`~pricegym.demand.iv.WeakInstrumentWarning` below
:data:`~pricegym.demand.iv.WEAK_F`), the ordinary-vs-IV comparison with its
plain-words :func:`~pricegym.demand.iv.verdict` (``causal_``), the quick mode of
the backtest folds (the first stage is refitted on each training fold, without
diagnostics, bootstrap or ordinary twin) and the causal part of the model file.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np

from pricegym.demand.base import DemandModel, Elasticity
from pricegym.demand.data import SalesHistory
from pricegym.demand.iv import WEAK_F, WeakInstrumentWarning, first_stage, verdict
from pricegym.errors import ModelError

__all__ = ["ControlFunctionMixin", "block_length", "with_constant"]


def with_constant(exog: np.ndarray) -> np.ndarray:
    """``exog`` with a column of ones in front unless one of its columns is constant
    and non-zero already (an intercept)."""
    exog = np.asarray(exog, dtype=np.float64).reshape(len(exog), -1)
    if exog.shape[1]:
        spread = np.ptp(exog, axis=0)
        if np.any((spread <= 1e-12) & (np.abs(exog[0]) > 0)):
            return exog
    return np.column_stack([np.ones(len(exog)), exog])


def block_length(n: int) -> int:
    """Moving-block length ``round(n^(1/3))`` (at least 1): the rate that minimises the
    mean squared error of a block-bootstrap variance (Hall, Horowitz & Jing 1995,
    Biometrika 82:561)."""
    return max(1, round(n ** (1.0 / 3.0)))


class ControlFunctionMixin:
    """Instruments, the first stage and the causal report of a control-function twin.

    A host sets ``instruments`` and calls :meth:`_control` from its ``_fit``; the
    mixin's :meth:`fit` then fits the :attr:`ordinary` family beside it (same
    hyper-parameters but the instruments) and fills ``causal_``.
    """

    #: the ordinary family fitted beside it for the side-by-side comparison
    ordinary: ClassVar[type[DemandModel]]
    #: how the price is instrumented (the ``method`` of ``causal_``)
    _method: ClassVar[str]

    instruments: Sequence[str]
    first_stage_: dict[str, Any]
    endogeneity_: dict[str, Any]
    overidentification_: dict[str, Any] | None
    causal_: dict[str, Any]
    elasticity_: Elasticity
    _quick: bool

    def fit(self, history: SalesHistory) -> Self:
        """Fit both stages, then the ordinary family for the comparison (``causal_``).

        Warns with :class:`~pricegym.demand.iv.WeakInstrumentWarning` when the
        first-stage F (classical or robust) is below :data:`~pricegym.demand.iv.WEAK_F`.
        """
        self._quick = getattr(self, "_quick", False)
        super().fit(history)  # type: ignore[misc]
        if not self._quick:
            self._compare_with_ordinary(history)
        return self

    def _fit_for_backtest(self, history: SalesHistory) -> None:
        """A training fold: both stages refitted on it, no diagnostics, bootstrap or twin."""
        self._quick = True
        self.fit(history)

    # ---------------------------------------------------------------- first stage
    def _control(
        self,
        price: np.ndarray,
        exog: np.ndarray,
        z: np.ndarray,
        labels: list[str],
        dep: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """First-stage residual of ``price`` on ``[1, exog, z]`` and that design matrix.

        Sets ``first_stage_`` (the diagnostics of :func:`~pricegym.demand.iv.first_stage`,
        or only ``n``/``k`` in a backtest fold) and warns on a weak instrument.

        Raises:
            ModelError: the instruments are collinear with each other or the exogenous terms.
        """
        w_exog = with_constant(exog)
        design = np.column_stack([w_exog, z])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise ModelError(
                f"the instruments {labels} are collinear with each other or with the model's "
                "other terms (a constant instrument, or one equal to a trend or seasonal "
                "term), so they cannot move the price on their own. Fix: choose an "
                "instrument that varies from period to period."
            )
        if self._quick:  # a backtest fold: the residual only (diagnostics cost ~0.5 s a fit)
            coef, *_ = np.linalg.lstsq(design, price, rcond=None)
            self.first_stage_ = {"n": len(price), "k": int(z.shape[1]), "quick": True}
            return np.asarray(price - design @ coef, dtype=np.float64), design
        fs = first_stage(price, w_exog, z, labels, dep)
        residual = np.asarray(fs.pop("residual"), dtype=np.float64)
        self.first_stage_ = fs
        if fs["weak"]:
            warnings.warn(
                f"{type(self).__name__}: weak instrument(s) {labels}: first-stage F = "
                f"{fs['f']:.1f} (robust {fs['robust_f']:.1f}) < {WEAK_F:g}; the control-"
                "function estimate is biased toward the ordinary one and its interval is too "
                "narrow. Fix: a stronger instrument (one that moves the price more) or more "
                "data.",
                WeakInstrumentWarning,
                stacklevel=5,
            )
        return residual, design

    def _endogeneity(self, rho: float, se: float, source: str) -> None:
        """``endogeneity_``: the t test of the control term (Durbin–Wu–Hausman form)."""
        from scipy import stats

        stat = rho / se if se > 0 and np.isfinite(se) else float("nan")
        self.endogeneity_ = {
            "test": f"Durbin–Wu–Hausman (t of the control-function term, {source} SE)",
            "stat": float(stat),
            "pvalue": float(2 * stats.norm.sf(abs(stat))) if np.isfinite(stat) else float("nan"),
            "df": 1,
        }

    def _overidentification(self, k: int) -> None:
        self.overidentification_ = (
            {
                "note": "not computed for the control function (the 2SLS twins linear_iv and "
                "loglinear_iv report Sargan and Hansen J)"
            }
            if k > 1
            else None
        )

    # ---------------------------------------------------------------- comparison
    def _compare_with_ordinary(self, history: SalesHistory) -> None:
        names = set(self.ordinary._param_names())
        params = {k: v for k, v in self.get_params().items() if k in names}  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ordinary = self.ordinary(**params).fit(history)
        iv, ols = self.elasticity_, ordinary.elasticity_
        self.causal_ = {
            "method": self._method,
            "endogenous": [self.spec_.price_name],  # type: ignore[attr-defined]
            "exogenous_prices": list(self.spec_.competitors),  # type: ignore[attr-defined]
            "instruments": list(self.instruments),
            "first_stage": dict(self.first_stage_),
            "endogeneity": dict(self.endogeneity_),
            "overidentification": self.overidentification_,
            "ordinary": {"family": ordinary.family, **ols.to_dict()},
            "iv": {"family": self.family, **iv.to_dict()},  # type: ignore[attr-defined]
            "bias": float(ols.estimate - iv.estimate),
            "verdict": verdict(ols, iv, self.first_stage_, self.endogeneity_),
        }

    # ---------------------------------------------------------------- state
    def _causal_state(self) -> dict[str, Any]:
        return {
            "first_stage": self.first_stage_,
            "endogeneity": self.endogeneity_,
            "overidentification": self.overidentification_,
            "causal": getattr(self, "causal_", None),
        }

    def _set_causal_state(self, state: dict[str, Any]) -> None:
        self.first_stage_ = state["first_stage"]
        self.endogeneity_ = state["endogeneity"]
        self.overidentification_ = state["overidentification"]
        if state.get("causal") is not None:
            self.causal_ = state["causal"]
