"""Causal demand: the own (and competitor) prices treated as endogenous, identified by instruments.

Sellers set prices in response to demand they see and the analyst does not
(busy weeks, stock-outs, weather), so the ordinary regression of units on price is
biased, usually toward zero. An *instrument* moves the price but not demand: a
cost shifter (the ``cost`` column), or in a panel the Hausman instrument (the mean
price of the same product in the other markets of the period, leave-one-out).

Families (each the instrumented twin of a regression family, same terms):

- :class:`LinearIVDemand` (``linear_iv``) and :class:`LogLinearIVDemand`
  (``loglinear_iv``): two-stage least squares by ``linearmodels``' ``IV2SLS``, whose
  results object is kept in ``results_`` (standard errors, first-stage and
  endogeneity tests) as the ordinary families keep statsmodels'.
- :class:`PoissonCFDemand` (``poisson_cf``): a control function. The first stage
  regresses the (log) price on the instruments and the exogenous terms; its
  residual enters the Poisson GLM as an extra regressor. Standard errors come from
  a seeded pairs bootstrap over *both* stages (the residual is a generated
  regressor). The market kernel is the *average structural function*: the
  structural price response with the control term integrated out over its sample
  distribution, ``exp(x b) * mean(exp(rho * v_hat))`` — the control term "at zero"
  with the level that its mean-one factor restores (at exactly zero the level would
  be too low by that factor, the elasticity the same).

The control functions of ARIMAX (``arimax_cf``, :mod:`pricegym.demand.iv_arimax`) and
of the neural family (``neural_cf``, :mod:`pricegym.demand.iv_neural`) live in their
own modules and report the same diagnostics.

Instruments enter the first stage on the own price's scale: in logs for the
log-price families (they must then be > 0), in levels for linear demand; with
``instrument_scale="level"`` (CLI ``--instrument-scale level``) they enter as
recorded whatever the price's scale — for instruments that can be zero (a sales tax
that some states do not levy, the textbook instrument for cigarette demand) or where
the first stage is linear in the instrument's level. Names
are columns of :attr:`SalesHistory.instruments`, ``cost`` (the history's cost
column) or ``hausman``. Every fit also reports the first-stage F (classical and
heteroskedasticity-robust) with a :class:`WeakInstrumentWarning` below 10, the
partial R², the endogeneity test (Durbin–Wu–Hausman), the over-identification
test when there are more instruments than the one endogenous price, and the
ordinary and IV elasticities side by side with a verdict (``causal_``).

Competitor prices can be endogenous too (a busy week is busy for the rival as
well): ``endogenous={"comp_price": ["comp_cost"]}`` (CLI ``--instrument-for
comp_price=comp_cost``, YAML ``model.endogenous``) treats that competitor column as
endogenous with its own instruments. 2SLS then has several endogenous regressors
(linearmodels uses every excluded instrument in every first stage); the control
function runs one first stage per endogenous price and puts every residual in the
GLM (the kernel integrates all of them out, ``mean(exp(V rho))``). The order
condition (at least as many distinct instruments as endogenous prices) is checked
with a :class:`ModelError`. Each endogenous price gets its own first stage
(:func:`first_stages`: the per-variable F, the Shea partial R² and the
Sanderson–Windmeijer conditional F, which is the weak-instrument test that still
works when instruments move the prices only together); ``causal_["endogenous"]``
lists the prices treated as endogenous, ``causal_["exogenous_prices"]`` the others,
and ``causal_["cross"]`` sets each competitor coefficient of the ordinary and the
IV fit side by side.

The backtest refits both stages inside every fold (the base class clones and
fits), so no held-out period informs the first stage.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from pricegym._validate import choice
from pricegym.demand.base import Elasticity
from pricegym.demand.data import SalesHistory
from pricegym.demand.features import MarketContext
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.regression import (
    CLUSTERED,
    LinearDemand,
    LogLinearDemand,
    PoissonDemand,
    _market_clusters,
)
from pricegym.errors import ConfigError, DataValidationError, ModelError, PricegymWarning

if TYPE_CHECKING:
    # The mixin always comes first in front of a regression family (see the classes
    # below); type checkers see that host, the runtime MRO stays as written.
    from pricegym.demand.regression import _RegressionDemand as _Host
else:
    _Host = object

__all__ = [
    "BUILTIN_INSTRUMENTS",
    "INSTRUMENT_SCALES",
    "IV_FAMILIES",
    "WEAK_F",
    "LinearIVDemand",
    "LogLinearIVDemand",
    "PoissonCFDemand",
    "WeakInstrumentWarning",
    "cross_verdict",
    "first_stage",
    "first_stages",
    "instrument_matrix",
    "instrument_transform",
    "iv_family",
    "split_instruments",
]

#: Instruments pricegym builds itself from the history (selected by name).
BUILTIN_INSTRUMENTS: tuple[str, ...] = ("hausman",)
#: Ordinary family -> its instrumented twin.
IV_FAMILIES: dict[str, str] = {
    "linear": "linear_iv",
    "loglinear": "loglinear_iv",
    "poisson": "poisson_cf",
    # control functions of the time-series and neural families (pricegym.demand.iv_arimax,
    # pricegym.demand.iv_neural)
    "arimax": "arimax_cf",
    "neural": "neural_cf",
}
#: First-stage F below which an instrument is weak (Staiger & Stock's rule of thumb:
#: 2SLS is then biased toward OLS and its intervals are too narrow).
WEAK_F = 10.0


class WeakInstrumentWarning(PricegymWarning):
    """The first-stage F is below :data:`WEAK_F`: the IV estimate is unreliable."""


def iv_family(family: str) -> str:
    """The instrumented family of ``family`` (``linear`` → ``linear_iv``; IV names pass).

    Raises:
        ConfigError: a family without an instrumented twin (e.g. the censored families).
    """
    if family in IV_FAMILIES.values():
        return family
    if family not in IV_FAMILIES:
        raise ConfigError(
            f"instruments were given with the {family!r} family, which has no instrumental-"
            f"variable version yet (rule: instruments need one of {sorted(IV_FAMILIES)}). "
            "Fix: use --model loglinear (2SLS), linear (2SLS), poisson, arimax or neural "
            "(control functions), or drop --instrument."
        )
    return IV_FAMILIES[family]


def split_instruments(names: Sequence[str], cost: str | None) -> tuple[tuple[str, ...], str | None]:
    """Which instrument names are file columns to load, and the cost column to map.

    ``cost`` (the name of the file's cost column, e.g. ``--cost COL``), the word
    ``cost`` and the built-ins (``hausman``) are not loaded as instrument columns:
    the first two are the history's ``cost`` column (``--instrument cost`` maps a
    column called ``cost`` as the cost when none was mapped). Returns
    ``(instrument columns, cost column)``.
    """
    columns = []
    for name in names:
        if name in BUILTIN_INSTRUMENTS or name == cost:
            continue
        if name == "cost":
            cost = cost or "cost"
            continue
        columns.append(name)
    return tuple(dict.fromkeys(columns)), cost


def _canonical(names: Sequence[str], cost: str | None) -> tuple[str, ...]:
    """Instrument names as the model sees them (the mapped cost column is ``cost``)."""
    return tuple(dict.fromkeys("cost" if n == cost else n for n in names))


# ------------------------------------------------------------------ instruments
def hausman_instrument(history: SalesHistory) -> np.ndarray:
    """Leave-one-out mean price of the other markets of the same period, per row.

    The panel key (``product``) is read as the market of one product; the price of
    that product elsewhere shares its cost shocks but not this market's demand shock.

    Raises:
        DataValidationError: not a panel, or a period with a single market.
    """
    if not history.is_panel:
        raise DataValidationError(
            f"{history.source}: the hausman instrument is the mean price of the same "
            "product in the other markets, so it needs a panel (a product/market key, "
            "--product COL) with at least two markets; this history has one series. Fix: "
            "map the market key, or use a cost instrument (--instrument cost)."
        )
    frame = pd.DataFrame({"t": history.t, "price": history.price})
    group = frame.groupby("t")["price"]
    total, count = group.transform("sum").to_numpy(), group.transform("count").to_numpy()
    alone = np.flatnonzero(count < 2)
    if alone.size:
        raise DataValidationError(
            f"{history.source}: the hausman instrument needs another market in every "
            f"period, but {alone.size} row(s) are the only market of their period (first at "
            f"t = {history.t[alone[:5]].tolist()}). Fix: keep periods with two or more "
            "markets, or use a cost instrument."
        )
    return (total - history.price) / (count - 1)


#: ``instrument_scale`` of the IV families: the own price's scale, or as recorded.
INSTRUMENT_SCALES = ("price", "level")


def instrument_transform(scale: str, price_transform: str) -> str:
    """The instruments' transform: the own price's (``scale="price"``) or ``"level"``.

    Raises:
        ModelError: ``scale`` is not one of :data:`INSTRUMENT_SCALES`.
    """
    choice(
        "instrument_scale",
        scale,
        INSTRUMENT_SCALES,
        " 'price' puts the instruments on the own price's scale (logs for a log price); "
        "'level' keeps them as recorded.",
        error=ModelError,
    )
    return price_transform if scale == "price" else "level"


def instrument_matrix(
    history: SalesHistory, names: Sequence[str], transform: str = "level"
) -> tuple[np.ndarray, list[str]]:
    """The instruments of ``names`` as a (rows, k) matrix and their column labels.

    ``transform="log"`` takes logs (the first stage of a log-price model).

    Raises:
        ModelError: no instruments, an unknown name, or a non-positive value in logs.
    """
    if not names:
        raise ModelError(
            "an instrumental-variable model needs at least one instrument (rule: one per "
            "endogenous price). Fix: instruments=['cost'] (CLI: --instrument cost), a "
            "column of the data (--instrument COL), or 'hausman' for a panel."
        )
    columns, labels = [], []
    for name in names:
        if name in BUILTIN_INSTRUMENTS:
            values = hausman_instrument(history)
        elif name == "cost" and "cost" in history.frame.columns:
            values = history.column("cost")
        elif name in history.instruments:
            values = history.column(name)
        else:
            raise ModelError(
                f"{history.source}: instrument {name!r} is not in the data (its instrument "
                f"columns: {list(history.instruments)}; cost column: "
                f"{'yes' if 'cost' in history.frame.columns else 'none'}; built-in: "
                f"{list(BUILTIN_INSTRUMENTS)}). Fix: map it when loading "
                "(load_history(instruments=[...]), CLI --instrument COL, YAML "
                "market.data.instruments) or map the cost column (--cost COL)."
            )
        if transform == "log":
            bad = np.flatnonzero(~(values > 0))
            if bad.size:
                raise ModelError(
                    f"{history.source}: instrument {name!r} enters the first stage of a "
                    f"log-price model in logs, but {bad.size} row(s) are <= 0 (first at t = "
                    f"{history.t[bad[:5]].tolist()}, values {values[bad[:5]].tolist()}). "
                    "Fix: keep it as recorded (instrument_scale='level'; CLI "
                    "--instrument-scale level), use a positive instrument, or the linear "
                    "family (levels)."
                )
            values = np.log(values)
        columns.append(values)
        labels.append(f"log({name})" if transform == "log" else name)
    z = np.column_stack(columns)
    return z, labels


def first_stage(
    endog: np.ndarray,
    exog: np.ndarray,
    z: np.ndarray,
    labels: Sequence[str],
    dep: np.ndarray,
) -> dict[str, Any]:
    """First-stage regression of the endogenous price on the exogenous terms and ``z``.

    The numbers are linearmodels' (``IV2SLS(...).fit().first_stage``), not re-derived:
    ``f`` and ``f_pvalue`` are its first-stage F of the excluded instruments under the
    classical covariance (``cov_type="unadjusted", debiased=True``: the residual
    variance over n − terms, distributed F(k, n − terms));
    ``robust_f`` the same test under the heteroskedasticity-robust covariance
    (``cov_type="robust", debiased=True``: HC1), whose Wald chi2(k) linearmodels
    reports, divided by k (its F form), with linearmodels' chi2 ``robust_f_pvalue``;
    ``partial_r2`` its partial R² (the share of the price variance left after the
    exogenous terms that the instruments explain); ``kleibergen_paap_f`` (robust) and
    ``cragg_donald_f`` its rank statistics; ``coef`` (instrument → first-stage
    coefficient) and the ``residual`` array (not JSON; popped by callers) come from
    its first-stage OLS (``first_stage.individual``). Also ``weak`` (``f`` or
    ``robust_f`` < :data:`WEAK_F`), ``n`` and ``k`` (instruments).

    ``dep`` is the outcome of the structural equation. The first stage does not depend
    on it, but linearmodels fits the structural 2SLS and OLS beside it (for Shea's
    partial R²), so it must not be the price itself: OLS of the price on the price has
    R² = 1 and linearmodels divides by 1 − R² (ZeroDivisionError where the SIMD
    arithmetic makes that exactly 0).

    Raises:
        ModelError: linearmodels (the ``causal`` extra) is not installed.
    """
    IV2SLS = _linearmodels_iv()[0]
    n, q = z.shape
    names = [f"x{i}" for i in range(exog.shape[1])]
    ex = pd.DataFrame(exog, columns=names)
    en = pd.DataFrame({"price": endog})
    zz = pd.DataFrame(z, columns=[f"z{i}" for i in range(q)])
    y = pd.Series(np.asarray(dep, dtype=np.float64), name="y")
    classical = IV2SLS(y, ex, en, zz).fit(cov_type="unadjusted", debiased=True).first_stage
    robust = IV2SLS(y, ex, en, zz).fit(cov_type="robust", debiased=True).first_stage
    diag, rdiag = classical.diagnostics.loc["price"], robust.diagnostics.loc["price"]
    ols = classical.individual["price"]
    # the robust statistic is a Wald chi2(k) (its f.dist says so): its F form is it / k
    f, robust_f = float(diag["f.stat"]), float(rdiag["f.stat"]) / q
    coef = ols.params.reindex(zz.columns).to_numpy(dtype=np.float64)
    return {
        "f": f,
        "f_pvalue": float(diag["f.pval"]),
        "robust_f": robust_f,
        "robust_f_pvalue": float(rdiag["f.pval"]),
        "partial_r2": float(diag["partial.rsquared"]),
        "kleibergen_paap_f": float(robust.kleibergen_paap_f),
        "cragg_donald_f": float(classical.cragg_donald_f),
        "coef": dict(zip(labels, coef.tolist(), strict=True)),
        "weak": bool(min(f, robust_f) < WEAK_F),
        "n": int(n),
        "k": int(q),
        "residual": np.asarray(ols.resids, dtype=np.float64),
    }


def first_stages(
    endog: np.ndarray,
    names: Sequence[str],
    exog: np.ndarray,
    z: np.ndarray,
    labels: Sequence[str],
    dep: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """First stages of several endogenous prices: one dict per column of ``endog``.

    Each entry has the keys of :func:`first_stage` (linearmodels' per-variable
    first-stage F of *all* excluded instruments, classical and robust, the partial
    R², the OLS coefficients and ``residual``; ``kleibergen_paap_f`` and
    ``cragg_donald_f`` are the joint rank statistics, the same in every entry), plus

    - ``shea_partial_r2``: linearmodels' Shea partial R² (the instruments' share of
      this price's variation that the *other* endogenous prices' first stages do not
      already explain);
    - ``sw_f`` and ``sw_pvalue``: the Sanderson–Windmeijer (2016) conditional F of this
      price. The price is regressed by 2SLS on the other endogenous prices (same
      instruments, same exogenous terms) and the residual on the exogenous terms and
      the instruments; the classical F of the instruments there, with ``L − m + 1``
      numerator degrees of freedom (L instruments, m endogenous prices), tests whether
      the instruments move this price *apart from* the others. linearmodels does not
      compute it; it is the numpy algebra of that definition (with one endogenous price
      it is the ordinary first-stage F exactly).

    ``weak`` is ``min(f, robust_f, sw_f) < WEAK_F``: the per-variable F can be large
    for two prices that the instruments move only together, the SW F cannot.

    Raises:
        ModelError: fewer instruments than endogenous prices (the order condition), or
            linearmodels is not installed.
    """
    IV2SLS = _linearmodels_iv()[0]
    endog = np.asarray(endog, dtype=np.float64).reshape(len(exog), -1)
    n, m = endog.shape
    q = z.shape[1]
    if q < m:
        raise ModelError(
            f"{m} endogenous prices ({list(names)}) but only {q} instrument(s) {list(labels)} "
            "(the order condition: at least one excluded instrument per endogenous price). "
            "Fix: give each endogenous price its own instrument (e.g. a competitor's cost)."
        )
    cols = [f"x{i}" for i in range(exog.shape[1])]
    ex = pd.DataFrame(exog, columns=cols)
    keys = [f"e{j}" for j in range(m)]
    en = pd.DataFrame(endog, columns=keys)
    zz = pd.DataFrame(z, columns=[f"z{i}" for i in range(q)])
    y = pd.Series(np.asarray(dep, dtype=np.float64), name="y")
    classical = IV2SLS(y, ex, en, zz).fit(cov_type="unadjusted", debiased=True).first_stage
    robust = IV2SLS(y, ex, en, zz).fit(cov_type="robust", debiased=True).first_stage
    w = np.column_stack([exog, z])
    out: dict[str, dict[str, Any]] = {}
    for j, (key, name) in enumerate(zip(keys, names, strict=True)):
        diag, rdiag = classical.diagnostics.loc[key], robust.diagnostics.loc[key]
        ols = classical.individual[key]
        f, robust_f = float(diag["f.stat"]), float(rdiag["f.stat"]) / q
        sw_f, sw_p = _sanderson_windmeijer(endog, j, exog, w, q)
        coef = ols.params.reindex(zz.columns).to_numpy(dtype=np.float64)
        out[name] = {
            "f": f,
            "f_pvalue": float(diag["f.pval"]),
            "robust_f": robust_f,
            "robust_f_pvalue": float(rdiag["f.pval"]),
            "partial_r2": float(diag["partial.rsquared"]),
            "shea_partial_r2": float(diag["shea.rsquared"]),
            "sw_f": sw_f,
            "sw_pvalue": sw_p,
            "kleibergen_paap_f": float(robust.kleibergen_paap_f),
            "cragg_donald_f": float(classical.cragg_donald_f),
            "coef": dict(zip(labels, coef.tolist(), strict=True)),
            "weak": bool(min(f, robust_f, sw_f) < WEAK_F),
            "n": int(n),
            "k": int(q),
            "residual": np.asarray(ols.resids, dtype=np.float64),
        }
    return out


def _sanderson_windmeijer(
    endog: np.ndarray, j: int, exog: np.ndarray, w: np.ndarray, q: int
) -> tuple[float, float]:
    """Sanderson–Windmeijer conditional F of endogenous column ``j`` (see :func:`first_stages`)."""
    n, m = endog.shape
    target = endog[:, j]
    others = np.delete(endog, j, axis=1)
    if m > 1:  # 2SLS of the price on the other endogenous prices: project them first
        fitted = w @ np.linalg.lstsq(w, others, rcond=None)[0]
        beta = np.linalg.lstsq(np.column_stack([exog, fitted]), target, rcond=None)[0]
        resid = target - np.column_stack([exog, others]) @ beta
    else:
        resid = target
    rss_u = float(np.sum((resid - w @ np.linalg.lstsq(w, resid, rcond=None)[0]) ** 2))
    rss_r = float(np.sum((resid - exog @ np.linalg.lstsq(exog, resid, rcond=None)[0]) ** 2))
    df1, df2 = q - m + 1, n - w.shape[1]
    if rss_u <= 0 or df2 <= 0:
        return float("nan"), float("nan")
    stat = ((rss_r - rss_u) / df1) / (rss_u / df2)
    return float(stat), float(stats.f.sf(stat, df1, df2))


def _linearmodels_iv() -> tuple[Any, Any]:
    """linearmodels' ``IV2SLS`` and ``IVGMM``, or a ModelError naming the extra."""
    try:
        from linearmodels.iv import IV2SLS, IVGMM
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            "the instrumental-variable families use linearmodels (two-stage least squares "
            "and the first-stage diagnostics), which is not installed. Fix: pip install "
            "'pricegym[causal]'."
        ) from exc
    return IV2SLS, IVGMM


# ------------------------------------------------------------------ the families
class _Instrumented(_Host):
    """What the instrumented twins share; mixed in before their ordinary family."""

    #: the ordinary family fitted beside it for the side-by-side comparison
    ordinary: ClassVar[type]
    #: name of the endogeneity test in ``causal_``
    _method: ClassVar[str] = "2SLS (linearmodels IV2SLS)"

    instruments: Sequence[str]
    instrument_scale: str
    #: whether ``cov_type="clustered"`` applies (the 2SLS families; the control
    #: function's bootstrap resamples rows)
    _clusterable: ClassVar[bool] = False
    endogenous: Mapping[str, Sequence[str] | str] | None
    causal_: dict[str, Any]
    _quick: bool

    # -- fit -----------------------------------------------------------------
    def fit(self, history: SalesHistory) -> Self:
        """Fit both stages (see the module docstring), then compare with the ordinary fit.

        Warns with :class:`WeakInstrumentWarning` when the first-stage F (classical or
        robust) is below :data:`WEAK_F`.
        """
        self._quick = getattr(self, "_quick", False)
        super().fit(history)
        if not self._quick:
            self._compare_with_ordinary(history)
        return self

    def _fit_for_backtest(self, history: SalesHistory) -> None:
        self._quick = True  # no bootstrap, no ordinary twin inside the folds
        self.fit(history)

    def _design(self, history: SalesHistory) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
        self.spec_ = self._spec(history)
        x = pd.DataFrame(self.spec_.from_history(history), columns=self.spec_.names)
        self._check_identified(x, history.source)
        rivals = self._rival_instruments()
        names = tuple(self.instruments) + tuple(n for group in rivals.values() for n in group)
        names = tuple(dict.fromkeys(names))
        transform = instrument_transform(self.instrument_scale, self.spec_.price_transform)
        z, labels = instrument_matrix(history, names, transform)
        terms = self._endogenous_terms()
        if len(labels) < len(terms):
            raise ModelError(
                f"{history.source}: {len(terms)} prices are treated as endogenous ({terms}) "
                f"but there are only {len(labels)} distinct instrument(s) {labels} (the order "
                "condition: at least as many excluded instruments as endogenous prices; an "
                "instrument named for two prices counts once). Fix: give each endogenous "
                "competitor price an instrument of its own, e.g. its cost "
                "(--instrument-for COMP=COMP_COST; YAML endogenous: {COMP: [COMP_COST]})."
            )
        return x, z, labels

    # -- which prices are endogenous ---------------------------------------------
    def _rival_instruments(self) -> dict[str, tuple[str, ...]]:
        """The ``endogenous`` hyper-parameter checked: competitor column -> its instruments.

        Raises:
            ModelError: not a mapping of names to non-empty name lists, ``hausman`` for a
                competitor, or a competitor that is not a term of the model.
        """
        raw = getattr(self, "endogenous", None)
        if raw is None:
            return {}
        fix = "Fix: e.g. endogenous={'comp_price': ['comp_cost']} (CLI --instrument-for " + (
            "comp_price=comp_cost)."
        )
        if not isinstance(raw, Mapping):
            raise ModelError(
                f"endogenous={raw!r} must map each endogenous competitor-price column to its "
                f"instruments. {fix}"
            )
        out: dict[str, tuple[str, ...]] = {}
        for name, value in raw.items():
            group = [value] if isinstance(value, str) else value
            ok = isinstance(group, Sequence) and not isinstance(group, str) and len(group) > 0
            if (
                not isinstance(name, str)
                or not ok
                or not all(isinstance(g, str) and g for g in group)
            ):
                raise ModelError(
                    f"endogenous[{name!r}]={value!r}: each endogenous competitor price needs a "
                    f"non-empty list of instrument names (data columns or cost). {fix}"
                )
            if any(g in BUILTIN_INSTRUMENTS for g in group):
                raise ModelError(
                    f"endogenous[{name!r}]={value!r}: the hausman instrument is built from the "
                    "own price (the leave-one-out mean of the other markets), so it does not "
                    "instrument a competitor price. Fix: instrument the competitor price with "
                    "a shifter of its own (its cost, a column of the data)."
                )
            out[name] = tuple(dict.fromkeys(group))
        spec = getattr(self, "spec_", None)
        if spec is not None:
            missing = [c for c in out if c not in spec.competitors]
            if missing:
                raise ModelError(
                    f"competitor price(s) {missing} are declared endogenous but are not terms "
                    f"of the model (its competitor prices: {list(spec.competitors)}). Fix: map "
                    "the column as a competitor price (--competitor COL, market.data."
                    "competitors) and keep it in the model's competitors."
                )
        return out

    def _endogenous_terms(self) -> list[str]:
        """The regressors treated as endogenous: the own price, then the declared competitors."""
        pre = "competitor:" if self.spec_.price_transform == "level" else "log_competitor:"
        return [self.spec_.price_name, *(pre + c for c in self._rival_instruments())]

    def _first_stage(
        self, x: pd.DataFrame, z: np.ndarray, labels: list[str], dep: np.ndarray
    ) -> np.ndarray:
        """First stage(s): the residual of each endogenous price, shape (rows, prices)."""
        terms = self._endogenous_terms()
        exog = x.drop(columns=terms).to_numpy()
        rank = np.linalg.matrix_rank(np.column_stack([exog, z]))
        if rank < exog.shape[1] + z.shape[1]:
            raise ModelError(
                f"the instruments {labels} are collinear with each other or with the model's "
                "other terms (a constant instrument, or one equal to a trend or product "
                "effect), so they cannot move the price on their own. Fix: choose an "
                "instrument that varies within products and periods."
            )
        d = x[terms].to_numpy()
        if self._quick:  # a backtest fold: the residual only (diagnostics cost ~0.5 s a fit)
            w = np.column_stack([exog, z])
            coef, *_ = np.linalg.lstsq(w, d, rcond=None)
            self.first_stage_ = {"n": len(d), "k": int(z.shape[1]), "quick": True}
            self.first_stages_ = {}
            return np.asarray(d - w @ coef, dtype=np.float64)
        if len(terms) == 1:
            stages = {terms[0]: first_stage(d[:, 0], exog, z, labels, dep)}
        else:
            stages = first_stages(d, terms, exog, z, labels, dep)
        residual = np.column_stack([fs.pop("residual") for fs in stages.values()])
        self.first_stages_ = stages
        self.first_stage_ = stages[terms[0]]
        for name, fs in stages.items():
            if not fs["weak"]:
                continue
            sw = f"; Sanderson–Windmeijer {fs['sw_f']:.1f}" if "sw_f" in fs else ""
            warnings.warn(
                f"{type(self).__name__}: weak instrument(s) {labels} for {name}: first-stage "
                f"F = {fs['f']:.1f} (robust {fs['robust_f']:.1f}{sw}) < {WEAK_F:g}; the IV "
                "estimate is biased toward the ordinary one and its interval is too narrow. "
                "Fix: a stronger instrument (one that moves the price more) or more data.",
                WeakInstrumentWarning,
                stacklevel=4,
            )
        return np.asarray(residual, dtype=np.float64)

    def _compare_with_ordinary(self, history: SalesHistory) -> None:
        params = {k: v for k, v in self.get_params().items() if k in _ordinary_params(self)}
        params["cov_type"] = _ORDINARY_COV.get(str(params.get("cov_type")), "HC1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ordinary = self.ordinary(**params).fit(history)
        iv: Elasticity = self.elasticity_
        ols: Elasticity = ordinary.elasticity_
        rivals = self._rival_instruments()
        cross = _cross_comparison(self, ordinary, rivals)
        text = verdict(ols, iv, self.first_stage_, self.endogeneity_)
        if rivals:
            text = text[:-1] + "; " + cross_verdict(cross, self.first_stages_) + "."
        if self._clusterable and history.is_panel and self.cov_type not in CLUSTERED:
            text += (
                " The standard errors treat every row as independent, but a panel's rows of "
                "one market share shocks, so they may be too small: cov_type='clustered' "
                "clusters them by market."
            )
        self.causal_ = {
            "method": self._method,
            "endogenous": self._endogenous_terms(),
            "exogenous_prices": [c for c in self.spec_.competitors if c not in rivals],
            "instruments": list(self.instruments),
            "instruments_for": {c: list(g) for c, g in rivals.items()},
            "first_stage": dict(self.first_stage_),
            "first_stages": {k: dict(v) for k, v in self.first_stages_.items()},
            "endogeneity": dict(self.endogeneity_),
            "overidentification": self.overidentification_,
            "ordinary": {"family": ordinary.family, **ols.to_dict()},
            "iv": {"family": self.family, **iv.to_dict()},
            "bias": float(ols.estimate - iv.estimate),
            "cross": cross,
            "verdict": text,
        }

    # -- state -----------------------------------------------------------------
    def _causal_state(self) -> dict[str, Any]:
        return {
            "first_stage": self.first_stage_,
            "first_stages": getattr(self, "first_stages_", {}),
            "endogeneity": self.endogeneity_,
            "overidentification": self.overidentification_,
            "causal": getattr(self, "causal_", None),
        }

    def _set_causal_state(self, state: dict[str, Any]) -> None:
        self.first_stage_ = state["first_stage"]
        self.first_stages_ = state.get("first_stages") or {self.spec_.price_name: self.first_stage_}
        self.endogeneity_ = state["endogeneity"]
        self.overidentification_ = state["overidentification"]
        if state.get("causal") is not None:
            self.causal_ = state["causal"]


#: the statsmodels covariance the ordinary twin uses for each IV covariance (HAC and
#: linearmodels' kernel need a bandwidth statsmodels does not choose: HC1 instead)
_ORDINARY_COV = {"robust": "HC1", "unadjusted": "nonrobust", "nonrobust": "nonrobust"}
_ORDINARY_COV |= {"HC0": "HC0", "HC1": "HC1", "cluster": "cluster", "clustered": "cluster"}


def _ordinary_params(model: Any) -> set[str]:
    return set(model.ordinary._param_names())


def verdict(
    ols: Elasticity, iv: Elasticity, fs: dict[str, Any], endogeneity: dict[str, Any]
) -> str:
    """The plain-words comparison of the ordinary and the IV elasticity."""
    o, e = ols.estimate, iv.estimate
    gap = abs(o - e)
    if np.sign(o) != np.sign(e):
        head = f"the ordinary estimate ({o:.3g}) has the wrong sign against the IV one ({e:.3g})"
    elif abs(o) < abs(e):
        head = (
            f"the ordinary estimate ({o:.3g}) is biased toward zero by {gap:.3g} "
            f"({gap / abs(e):.0%} of the IV estimate {e:.3g})"
        )
    else:
        head = (
            f"the ordinary estimate ({o:.3g}) is further from zero than the IV one "
            f"({e:.3g}) by {gap:.3g}"
        )
    text = head + "; the market uses the IV estimate"
    p = endogeneity.get("pvalue")
    if p is not None and np.isfinite(p) and p > 0.05:
        text += (
            f" (the endogeneity test does not reject an exogenous price, p = {p:.2g}: the "
            "gap may be noise, and the IV interval is the wider one)"
        )
    if fs.get("weak"):
        text = (
            f"WEAK INSTRUMENT (first-stage F {fs['f']:.1f} < {WEAK_F:g}): the IV estimate is "
            "unreliable; " + text
        )
    return text + "."


def _cross_comparison(
    model: Any, ordinary: Any, rivals: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, Any]]:
    """Each competitor price's coefficient in the ordinary and the IV fit, side by side.

    Keyed by competitor column: ``term`` (the regressor), ``kind`` (``elasticity`` for
    the log-price families, whose competitor coefficient is the cross-price elasticity;
    ``slope`` for linear demand: units per currency unit), ``endogenous`` (declared so),
    ``ordinary`` and ``iv`` (``estimate``, ``ci_low``, ``ci_high`` of the 95% interval)
    and ``bias`` (ordinary − IV).
    """
    pre = "competitor:" if model.spec_.price_transform == "level" else "log_competitor:"
    kind = "slope" if model.spec_.price_transform == "level" else "elasticity"
    iv_t = model.params_table().set_index("term")
    ols_t = ordinary.params_table().set_index("term")
    out: dict[str, dict[str, Any]] = {}
    for c in model.spec_.competitors:
        term = pre + c

        def row(t: pd.DataFrame, term: str = term) -> dict[str, float]:
            r = t.loc[term]
            return {k: float(r[k]) for k in ("estimate", "ci_low", "ci_high")}

        o, e = row(ols_t), row(iv_t)
        out[c] = {
            "term": term,
            "kind": kind,
            "endogenous": c in rivals,
            "ordinary": o,
            "iv": e,
            "bias": o["estimate"] - e["estimate"],
        }
    return out


def cross_verdict(cross: Mapping[str, Mapping[str, Any]], stages: Mapping[str, Any]) -> str:
    """The plain-words comparison of the endogenous competitor prices' coefficients."""
    parts = []
    for c, r in cross.items():
        if not r["endogenous"]:
            continue
        o, e = r["ordinary"]["estimate"], r["iv"]["estimate"]
        what = "cross-price elasticity" if r["kind"] == "elasticity" else "cross-price slope"
        text = f"the ordinary {what} of {c} is {o:.3g} against {e:.3g} by IV (bias {o - e:+.3g})"
        fs = stages.get(r["term"]) or {}
        if fs.get("weak"):
            text += f" — WEAK INSTRUMENT for {c} (SW F {fs.get('sw_f', float('nan')):.1f})"
        parts.append(text)
    return "; ".join(parts)


class _TwoStageLeastSquares(_Instrumented):
    """2SLS by linearmodels for the linear and log-linear families."""

    _clusterable = True

    def __init__(
        self,
        *,
        instruments: Sequence[str] = ("cost",),
        endogenous: Mapping[str, Sequence[str] | str] | None = None,
        instrument_scale: str = "price",
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        product_effects: bool = True,
        noise: str = "auto",
        cov_type: str = "robust",
        season_period: float | None = None,
    ) -> None:
        super().__init__(
            competitors=competitors,
            promotions=promotions,
            trend=trend,
            seasonality=seasonality,
            product_effects=product_effects,
            noise=noise,
            cov_type=cov_type,
            season_period=season_period,
        )
        self.instruments = instruments
        self.endogenous = endogenous
        self.instrument_scale = instrument_scale

    def _fit(self, history: SalesHistory) -> None:
        IV2SLS, IVGMM = _linearmodels_iv()
        x, z, labels = self._design(history)
        y = pd.Series(self._target(history), name="units")
        self._first_stage(x, z, labels, y.to_numpy())
        terms = self._endogenous_terms()
        exog, endog = x.drop(columns=terms), x[terms]
        zz = pd.DataFrame(z, columns=labels)
        cov = _cov_type(self.cov_type)
        if cov == "clustered":  # by market: a panel's rows of one market share shocks
            clusters = pd.Series(_market_clusters(history, self.cov_type), name="market")
            res = IV2SLS(y, exog, endog, zz).fit(cov_type=cov, clusters=clusters)
        else:
            res = IV2SLS(y, exog, endog, zz).fit(cov_type=cov)
        self.results_ = res
        self.coef_ = res.params.reindex(self.spec_.names).to_numpy(dtype=np.float64)
        self.coef_cov_ = (
            res.cov.reindex(index=self.spec_.names, columns=self.spec_.names)
            .to_numpy(dtype=np.float64)
            .copy()
        )
        self.df_resid_ = float(res.nobs - len(self.spec_.names))
        wu = res.wu_hausman()
        self.endogeneity_ = {
            "test": "Durbin–Wu–Hausman (Wu–Hausman F)",
            "stat": float(wu.stat),
            "pvalue": float(wu.pval),
            "df": int(wu.df),
        }
        self.overidentification_ = None
        if z.shape[1] > len(terms):
            sargan = res.sargan
            gmm = IVGMM(y, exog, endog, zz).fit(cov_type="robust")
            self.overidentification_ = {
                "sargan": float(sargan.stat),
                "sargan_pvalue": float(sargan.pval),
                "hansen_j": float(gmm.j_stat.stat),
                "hansen_j_pvalue": float(gmm.j_stat.pval),
                "df": int(sargan.df),
            }
        self.scale_ = self._smearing(history)

    def _residuals(self) -> np.ndarray:
        return np.asarray(self.results_.resids, dtype=np.float64)

    def _library_units(
        self, res: Any, prices: np.ndarray, ctx: MarketContext, kern: DemandKernel, **options: Any
    ) -> np.ndarray:
        """linearmodels' own prediction (``results_.predict``) at the given prices."""
        x = self._design_frame(prices, ctx)
        terms = self._endogenous_terms()
        pred = res.predict(exog=x.drop(columns=terms), endog=x[terms])
        return self._from_library_scale(np.asarray(pred, dtype=np.float64).ravel())

    def _params_from(self, res: Any) -> pd.DataFrame:
        """Coefficients with linearmodels' standard errors and 95% CIs."""
        ci = res.conf_int(level=0.95).reindex(self.spec_.names)
        return pd.DataFrame(
            {
                "term": self.spec_.names,
                "estimate": self.coef_,
                "std_err": res.std_errors.reindex(self.spec_.names).to_numpy(dtype=np.float64),
                "ci_low": ci.iloc[:, 0].to_numpy(dtype=np.float64),
                "ci_high": ci.iloc[:, 1].to_numpy(dtype=np.float64),
            }
        )

    def _information_from(self, res: Any) -> dict[str, float]:
        """None: 2SLS has no likelihood, so no AIC/BIC (compare on the backtest)."""
        return {}

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return {**state, **self._causal_state()}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self._set_causal_state(state)


def _cov_type(cov_type: str) -> str:
    """statsmodels' names of the covariance → linearmodels'."""
    mapping = {"nonrobust": "unadjusted", "unadjusted": "unadjusted", "HC0": "robust"}
    mapping |= {"HC1": "robust", "robust": "robust", "HAC": "kernel", "kernel": "kernel"}
    mapping |= {"cluster": "clustered", "clustered": "clustered"}
    if cov_type not in mapping:
        raise ModelError(
            f"cov_type={cov_type!r} is not one the IV families know (rule: one of "
            f"{sorted(mapping)}). Fix: 'robust' (heteroskedasticity-robust, the default), "
            "'clustered' (by the panel's product/market key) or 'nonrobust'."
        )
    return mapping[cov_type]


class LinearIVDemand(_TwoStageLeastSquares, LinearDemand):
    """Linear demand ``units = a + b·price + …`` by two-stage least squares.

    The price (level) is instrumented; competitor prices are exogenous unless
    ``endogenous`` names them (competitor column → its instruments), promotions and
    the other terms are exogenous. ``instrument_scale``: ``"price"`` (default: the
    instruments on the price's scale, levels here, logs in :class:`LogLinearIVDemand`)
    or ``"level"`` (as recorded, e.g. a tax that can be zero). See
    :mod:`pricegym.demand.iv`.
    """

    family = "linear_iv"
    ordinary = LinearDemand


class LogLinearIVDemand(_TwoStageLeastSquares, LogLinearDemand):
    """Constant-elasticity demand ``log units = a + e·log price + …`` by 2SLS.

    The log price is instrumented by the instruments in logs. Expected units use
    Duan's smearing factor over the structural residuals. See :mod:`pricegym.demand.iv`.
    """

    family = "loglinear_iv"
    ordinary = LogLinearDemand

    def _smearing(self, history: SalesHistory) -> float:
        return float(np.mean(np.exp(self._residuals())))


class PoissonCFDemand(_Instrumented, PoissonDemand):
    """Poisson demand ``E[units] = exp(a + e·log price + …)`` by a control function.

    See :mod:`pricegym.demand.iv`: the first-stage residual of log price enters the
    GLM; the kernel is the average structural function; standard errors and the
    elasticity's interval come from a seeded pairs bootstrap over both stages.

    Hyper-parameters: those of :class:`PoissonDemand` plus ``instruments``,
    ``instrument_scale`` and ``endogenous`` (as :class:`LinearIVDemand`; each
    endogenous competitor price adds a first stage and a control term
    ``control:log_competitor:NAME``), ``n_boot``
    (bootstrap resamples, default 199; 0 skips them and keeps the GLM's covariance,
    which ignores the generated regressor) and ``seed`` (of the bootstrap's one
    generator, default 0).
    """

    family = "poisson_cf"
    ordinary = PoissonDemand
    _method = "control function (first-stage residual in the Poisson GLM)"

    def __init__(
        self,
        *,
        instruments: Sequence[str] = ("cost",),
        endogenous: Mapping[str, Sequence[str] | str] | None = None,
        instrument_scale: str = "price",
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        product_effects: bool = True,
        noise: str = "auto",
        cov_type: str = "nonrobust",
        season_period: float | None = None,
        n_boot: int = 199,
        seed: int = 0,
    ) -> None:
        super().__init__(
            competitors=competitors,
            promotions=promotions,
            trend=trend,
            seasonality=seasonality,
            product_effects=product_effects,
            noise=noise,
            cov_type=cov_type,
            season_period=season_period,
        )
        self.instruments = instruments
        self.endogenous = endogenous
        self.instrument_scale = instrument_scale
        self.n_boot = n_boot
        self.seed = seed

    def _fit(self, history: SalesHistory) -> None:
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 0:
            raise ModelError(f"n_boot={self.n_boot!r} must be an integer >= 0 (0: no bootstrap).")
        x, z, labels = self._design(history)
        y = self._target(history)
        residual = self._first_stage(x, z, labels, y)  # one column per endogenous price
        controls = self._control_names()
        xc = x.assign(**{c: residual[:, j] for j, c in enumerate(controls)})
        # the GLM's covariance (clustered or not) is the one kept when n_boot = 0
        self.results_ = self._fit_statsmodels(y, xc, self._cov_groups(history))
        params = np.asarray(self.results_.params, dtype=np.float64)
        k, m = len(self.spec_.names), len(controls)
        self.coef_, self.control_coefs_ = params[:k].copy(), params[k : k + m].copy()
        self.control_coef_ = float(self.control_coefs_[0])
        self.control_, self.controls_ = residual[:, 0], residual
        self.scale_ = float(np.mean(np.exp(residual @ self.control_coefs_)))
        self.df_resid_ = float(self.results_.df_resid)
        glm_cov = np.asarray(self.results_.cov_params(), dtype=np.float64)
        draws = np.empty((0, k + m))
        if self.n_boot and not self._quick:
            draws = self._bootstrap(history, x, z, y)
        self.boot_coef_ = draws
        cov = np.cov(draws, rowvar=False) if len(draws) > 1 else glm_cov
        self.coef_cov_ = cov[:k, :k].copy()
        source = "bootstrap SE)" if len(draws) > 1 else "GLM SE)"
        if m == 1:
            se_control = float(np.sqrt(cov[k, k]))
            stat = self.control_coef_ / se_control if se_control > 0 else float("nan")
            test, pvalue = (
                "Durbin–Wu–Hausman (t of the control-function term, ",
                2 * stats.norm.sf(abs(stat)),
            )
        else:  # the controls jointly: Wald chi2(m) with the same covariance
            rho, c = self.control_coefs_, cov[k:, k:]
            try:
                stat = float(rho @ np.linalg.solve(c, rho))
            except np.linalg.LinAlgError:
                stat = float("nan")
            test = f"Durbin–Wu–Hausman (Wald chi2({m}) of the {m} control-function terms, "
            pvalue = float(stats.chi2.sf(stat, m))
        self.endogeneity_ = {
            "test": test + source,
            "stat": float(stat),
            "pvalue": float(pvalue),
            "df": m,
        }
        self.overidentification_ = None
        if z.shape[1] > m:  # Sargan on the first-stage residual's projection
            self.overidentification_ = {"note": "not computed for the control function"}

    def _control_names(self) -> list[str]:
        """The GLM's control-function columns: ``control`` (own price), ``control:TERM``."""
        return ["control", *(f"control:{t}" for t in self._endogenous_terms()[1:])]

    def _bootstrap(
        self, history: SalesHistory, x: pd.DataFrame, z: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        """Pairs bootstrap: rows resampled with replacement, both stages refitted."""
        rng = np.random.default_rng(self.seed)
        terms = self._endogenous_terms()
        d = x[terms].to_numpy()
        w = np.column_stack([x.drop(columns=terms).to_numpy(), z])
        xs = x.to_numpy()
        n = len(y)
        out = []
        for _ in range(self.n_boot):
            rows = rng.integers(0, n, n)
            pi, *_ = np.linalg.lstsq(w[rows], d[rows], rcond=None)
            v = d[rows] - w[rows] @ pi
            design = np.column_stack([xs[rows], v])
            if np.linalg.matrix_rank(design) < design.shape[1]:
                continue  # a resample that lost a term (e.g. a product) cannot be fitted
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.GLM(y[rows], design, family=sm.families.Poisson()).fit()
            out.append(np.asarray(fit.params, dtype=np.float64))
        return np.asarray(out).reshape(-1, xs.shape[1] + len(terms))

    def _library_units(
        self, res: Any, prices: np.ndarray, ctx: MarketContext, kern: DemandKernel, **options: Any
    ) -> np.ndarray:
        """statsmodels' GLM prediction with the control at zero, times ``scale_``."""
        x = self._design_frame(prices, ctx)
        zero = dict.fromkeys(self._control_names(), 0.0)
        pred = np.asarray(res.predict(x.assign(**zero)), dtype=np.float64)
        return self.scale_ * pred

    def _params_from(self, res: Any) -> pd.DataFrame:
        """Structural coefficients with bootstrap SEs and percentile 95% CIs."""
        k = len(self.spec_.names)
        draws = self.boot_coef_
        if len(draws) > 1:
            se = draws[:, :k].std(axis=0, ddof=1)
            lo, hi = np.quantile(draws[:, :k], [0.025, 0.975], axis=0)
        else:
            se = np.asarray(res.bse, dtype=np.float64)[:k]
            ci = np.asarray(res.conf_int(alpha=0.05))[:k]
            lo, hi = ci[:, 0], ci[:, 1]
        return pd.DataFrame(
            {"term": self.spec_.names, "estimate": self.coef_, "std_err": se}
            | {"ci_low": lo, "ci_high": hi}
        )

    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 0, seed: int = 0
    ) -> Elasticity:
        """The log-price coefficient with the bootstrap's percentile interval."""
        self._check_fitted()
        i = self.spec_.price_index
        est = float(self.coef_[i])
        p0 = self.mean_price_ if price is None else float(price)
        draws = getattr(self, "boot_coef_", np.empty((0, 0)))
        if len(draws) > 1:
            lo, hi = np.quantile(draws[:, i], [(1 - level) / 2, (1 + level) / 2])
            method = f"log-price coefficient, pairs bootstrap over both stages ({len(draws)})"
            return Elasticity(est, float(lo), float(hi), p0, level, method)
        se = float(np.sqrt(self.coef_cov_[i, i]))
        q = float(stats.norm.ppf((1 + level) / 2))
        method = "log-price coefficient, GLM Wald interval (ignores the generated regressor)"
        return Elasticity(est, est - q * se, est + q * se, p0, level, method)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state = {**state, **self._causal_state(), "control_coef": self.control_coef_}
        state["control_coefs"] = [float(v) for v in self.control_coefs_]
        return state, {**arrays, "boot_coef": self.boot_coef_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self._set_causal_state(state)
        self.control_coef_ = float(state["control_coef"])
        self.control_coefs_ = np.asarray(
            state.get("control_coefs", [self.control_coef_]), dtype=np.float64
        )
        self.boot_coef_ = np.asarray(arrays["boot_coef"], dtype=np.float64)
