"""The demand-model estimator protocol shared by every family.

Conventions follow scikit-learn: ``__init__`` stores hyper-parameters only,
``fit(history)`` returns ``self``, learned attributes end in ``_``. Every fitted
model compiles to a :class:`~pricegym.demand.kernels.DemandKernel` (the fast path
markets use) and keeps the fitting library's own results object in ``results_``
for inference. Models save to JSON + ``.npz`` and load without pickle.

Two prediction paths exist on purpose:

- :meth:`DemandModel.expected_units` / :meth:`DemandModel.predict` evaluate the
  compiled kernel (numpy). This is what markets see, and what a loaded model uses.
- :meth:`DemandModel.library_expected_units` asks the fitting library
  (statsmodels / torch) for the same numbers. It exists to prove the kernel right
  and is available only on a model fitted in this process.
"""

from __future__ import annotations

import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from pricegym._json import jsonable
from pricegym.demand._stockout import warn_uncensored_fit
from pricegym.demand.calendar import TradingCalendar
from pricegym.demand.data import SalesHistory
from pricegym.demand.features import MarketContext
from pricegym.demand.io import read_model_files, write_model_files
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.demand.noise import NoiseModel
from pricegym.demand.products import product_references
from pricegym.errors import (
    DataValidationError,
    ExtrapolationWarning,
    ModelError,
    ModelFileError,
    NotFittedError,
)

__all__ = [
    "BacktestResult",
    "DemandModel",
    "Diagnostics",
    "Elasticity",
    "error_metrics",
    "model_families",
]

#: Relative step of the central difference in log price used for elasticities.
_LOG_STEP = 1e-4


def error_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Forecast-error metrics of ``predicted`` against ``actual``.

    Returns ``mae``, ``rmse``, ``wape`` (sum |error| / sum actual), ``bias``
    (mean of predicted − actual; positive means over-forecasting), ``r2`` and ``n``.
    """
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    err = f - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    total = float(np.sum(np.abs(y)))
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "wape": float(np.sum(np.abs(err)) / total) if total > 0 else float("nan"),
        "bias": float(np.mean(err)),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "n": int(y.size),
    }


@dataclass(frozen=True)
class Elasticity:
    """Own-price elasticity d log E[units] / d log price at one price, with a CI.

    Attributes:
        estimate: point estimate.
        ci_low, ci_high: bounds of the ``level`` confidence interval.
        price: the price it was evaluated at (by default the mean price in the data).
        level: confidence level of the interval, e.g. 0.95.
        method: how the interval was computed.
    """

    estimate: float
    ci_low: float
    ci_high: float
    price: float
    level: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return asdict(self)


@dataclass(frozen=True)
class BacktestResult:
    """Rolling-origin out-of-sample evaluation.

    The data's periods are split with scikit-learn's ``TimeSeriesSplit``: for each
    of ``n_splits`` origins the model is refitted on every period before the origin
    and forecasts the next ``test_size`` periods without seeing them.

    Attributes:
        metrics: :func:`error_metrics` over all forecast rows of all folds.
        n_splits, test_size: the split used.
        predictions: one row per forecast: ``fold``, ``t``, ``product``, ``actual``,
            ``predicted``.
    """

    metrics: dict[str, float]
    n_splits: int
    test_size: int
    predictions: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (predictions as a list of records)."""
        return {
            "metrics": self.metrics,
            "n_splits": self.n_splits,
            "test_size": self.test_size,
            "predictions": self.predictions.to_dict(orient="list"),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BacktestResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["metrics"], int(d["n_splits"]), int(d["test_size"]), pd.DataFrame(d["predictions"])
        )


@dataclass(frozen=True)
class Diagnostics:
    """What a fitted model says about itself (see :meth:`DemandModel.diagnostics`)."""

    family: str
    n_obs: int
    params: pd.DataFrame
    in_sample: dict[str, float]
    backtest: BacktestResult | None
    elasticity: Elasticity
    support: tuple[float, float]
    information: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return {
            "model": self.family,
            "n_obs": self.n_obs,
            "params": self.params.to_dict(orient="records"),
            "in_sample": self.in_sample,
            "backtest": None if self.backtest is None else self.backtest.metrics,
            "elasticity": self.elasticity.to_dict(),
            "support": {"min": self.support[0], "max": self.support[1]},
            "information": self.information,
        }


_REGISTRY: dict[str, type[DemandModel]] = {}

#: Modules whose families register themselves on import. They are loaded on first
#: use of the registry, so that importing the markets (which only need kernels) does
#: not import statsmodels' SARIMAX or torch.
_BUILTIN_MODULES = ("regression", "arimax", "neural", "iv", "iv_arimax", "iv_neural", "censored")


def model_families() -> dict[str, type[DemandModel]]:
    """Registered demand-model families by name (``linear``, ``arimax``, ...)."""
    import importlib

    for name in _BUILTIN_MODULES:
        importlib.import_module(f"pricegym.demand.{name}")
    return dict(_REGISTRY)


class DemandModel(ABC):
    """Base class of demand models (see the module docstring).

    Subclasses set ``family`` and implement :meth:`_fit`, :meth:`_make_kernel`,
    :meth:`_library_units` (the library's prediction behind
    :meth:`library_expected_units`), :meth:`params_table` (statsmodels-backed
    families inherit it and :meth:`information` from
    :class:`~pricegym.demand._results.StatsmodelsResultsMixin`) and the state hooks
    :meth:`_get_state` / :meth:`_set_state`; a family whose markets start from a
    per-product state overrides :meth:`_initial_state`.

    Fitted attributes set here for every family: ``support_`` (min, max price in
    the data), ``n_obs_``, ``freq_``, ``data_summary_``, ``reference_`` (the
    default context: the period after the data, mean competitor prices, no
    promotion), ``in_sample_`` (:func:`error_metrics`), ``noise_``
    (:class:`NoiseModel`), ``elasticity_`` (cached :class:`Elasticity`),
    ``backtest_`` (cached :class:`BacktestResult` or ``None``), ``data_points_``
    (the training rows' ``t``, ``price``, ``units`` and in-sample ``fitted`` values,
    and ``censored`` (sold out) when the history has stock columns; saved with the
    model so plots work after loading), ``calendar_`` (the
    :class:`~pricegym.demand.calendar.TradingCalendar` of daily data, whose trading
    days ``t`` counts; ``None`` otherwise, and for model files saved before
    calendars existed, whose daily ``t`` counts calendar days), ``products_reference_``
    (a panel's per-product support and reference context,
    :func:`~pricegym.demand.products.product_references`; ``{}`` for one product).
    """

    family: ClassVar[str] = ""
    #: Whether the family can fit a panel (several products) in one model.
    supports_panel: ClassVar[bool] = True
    #: Whether :meth:`min_rows` counts all rows of a panel (pooled estimation with
    #: product effects) rather than the rows of each product.
    pooled: ClassVar[bool] = False
    #: Whether the likelihood treats sold-out periods (:attr:`SalesHistory.censored`) as
    #: lower bounds of demand; other families warn with CensoringWarning on such data.
    handles_censoring: ClassVar[bool] = False

    # Declared for the type checkers (set by fit, or by load). The regression
    # families and ARIMAX set ``coef_`` / ``coef_cov_`` (the estimator's β and its
    # asymptotic covariance) and override :meth:`_kernel_with_coef`; the neural family
    # sets neither and overrides :meth:`elasticity`.
    coef_: np.ndarray
    coef_cov_: np.ndarray
    #: A loaded model's saved :meth:`params_table` / :meth:`information` (the library's
    #: results object is not saved); unset on a model fitted in this process.
    _saved_params_table: pd.DataFrame
    _saved_information: dict[str, Any]
    #: The seller's unit cost stored with the model (``pricegym fit --unit-cost C
    #: --out``, or set before :meth:`save`): ``{"value": C, "source": text}`` or None.
    #: A market built from the saved file charges it unless its options give a cost.
    unit_cost_: dict[str, Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.family:
            _REGISTRY[cls.family] = cls

    # ---------------------------------------------------------------- params
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            n
            for n, p in sig.parameters.items()
            if (n != "self" and p.kind == p.KEYWORD_ONLY)
            or (n != "self" and p.kind == p.POSITIONAL_OR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as given to ``__init__`` (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self) -> Self:
        """An unfitted copy with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---------------------------------------------------------------- fit
    def min_rows(self, history: SalesHistory) -> int:
        """Fewest rows (per product, or in all if :attr:`pooled`) needed to fit ``history``."""
        return 8

    def fit(self, history: SalesHistory) -> Self:
        """Fit to a validated :class:`SalesHistory`; returns ``self``.

        Raises:
            DataValidationError: too few rows for this family, or a price that never varies.
            ModelError: the family cannot fit this history (e.g. a panel) as configured.
        """
        if not isinstance(history, SalesHistory):
            raise DataValidationError(
                f"fit() takes a SalesHistory, got {type(history).__name__}; build one with "
                "pricegym.demand.load_history(data, price=..., units=...)."
            )
        if history.is_panel and not self.supports_panel:
            raise ModelError(
                f"{type(self).__name__} models one time series, but the data is a panel of "
                f"{len(history.products)} products; select one with "
                "history.for_product(KEY) (CLI: --product KEY) or use a regression family."
            )
        history.require_rows(
            self.min_rows(history), type(self).__name__, per_product=not self.pooled
        )
        history.require_price_variation()
        self.support_ = history.price_range
        self.n_obs_ = history.n_rows
        self.freq_ = history.freq
        self.calendar_: TradingCalendar | None = history.calendar
        self.data_summary_ = history.to_dict_summary()
        self.reference_ = {
            "t": float(history.t.max() + 1.0),
            "competitors": [float(history.column(c).mean()) for c in history.competitors],
            "promotions": [0.0 for _ in history.promotions],
        }
        self.mean_price_ = float(history.price.mean())
        if not self.handles_censoring:
            warn_uncensored_fit(history, type(self).__name__)
        self._fit(history)
        spec = getattr(self, "spec_", None)
        if spec is not None:  # the reference context holds only the columns the model uses
            self.reference_["competitors"] = [
                float(history.column(c).mean()) for c in spec.competitors
            ]
            self.reference_["promotions"] = [0.0 for _ in spec.promotions]
        self.products_reference_ = product_references(
            history, tuple(spec.competitors) if spec is not None else history.competitors
        )
        fitted = self._fitted_values(history)
        self.in_sample_ = error_metrics(history.units, fitted)
        self.noise_ = NoiseModel.fit(getattr(self, "noise", "auto"), history.units, fitted)
        self.backtest_: BacktestResult | None = None
        self.history_ = history
        self.data_points_ = pd.DataFrame(
            {"t": history.t, "price": history.price, "units": history.units, "fitted": fitted}
        )
        if history.has_stock:  # the plot marks the sold-out periods
            self.data_points_["censored"] = history.censored
        self.elasticity_ = self.elasticity()
        return self

    @abstractmethod
    def _fit(self, history: SalesHistory) -> None:
        """Family-specific fitting; sets the learned attributes the kernel needs."""

    def period_dates(self, t: float | np.ndarray) -> np.ndarray:
        """The trading date (``datetime64[D]``) of each period index ``t`` of daily data.

        ``t`` counts the trading days of :attr:`calendar_` (``reference_["t"]``, the
        period after the data, is the next trading day: a Monday after a Friday).

        Raises:
            ModelError: the model has no trading calendar (not daily data, or a file
                saved before calendars).
        """
        self._check_fitted()
        cal = getattr(self, "calendar_", None)
        if cal is None:
            raise ModelError(
                f"this {type(self).__name__} has no trading calendar (freq={self.freq_!r}: "
                "only daily data fitted by this pricegym has one), so its periods have no "
                "trading dates; refit on daily dated data."
            )
        return cal.date(t)

    def _fitted_values(self, history: SalesHistory) -> np.ndarray:
        """In-sample expected units of the training rows (kernel path by default)."""
        return self.predict(history)

    def _check_fitted(self) -> None:
        if not hasattr(self, "support_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(history) or "
                "DemandModel.load(path) first."
            )

    # ---------------------------------------------------------------- kernel
    @abstractmethod
    def _make_kernel(self, noise: NoiseModel) -> DemandKernel:
        """Compile the learned parameters into a kernel with the given noise model."""

    def kernel(self) -> DemandKernel:
        """The compiled pure-numpy kernel of this fitted model."""
        self._check_fitted()
        kern = self._make_kernel(self.noise_)
        kern.calendar = getattr(self, "calendar_", None)
        kern.product_refs = getattr(self, "products_reference_", None) or None
        return kern

    def _context(
        self,
        n: int,
        t: float | np.ndarray | None,
        competitors: np.ndarray | None,
        promotions: np.ndarray | None,
        product: str | int | np.ndarray | None,
        kernel: DemandKernel,
    ) -> MarketContext:
        if isinstance(product, str):
            products = kernel.spec.products
            if product not in products:
                raise ModelError(
                    f"product {product!r} is not one the model was fitted on; "
                    f"choose from {list(products)[:20]}."
                )
            product = products.index(product)
        return kernel.context(
            n, t=t, competitors=competitors, promotions=promotions, product=product
        )

    def _prices(self, prices: np.ndarray | Sequence[float] | float) -> np.ndarray:
        p = np.atleast_1d(np.asarray(prices, dtype=np.float64))
        if p.ndim != 1:
            raise ModelError(f"prices must be a scalar or 1-D array, got shape {p.shape}.")
        if not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise ModelError(
                f"prices must be finite and > 0, got {p[~(np.isfinite(p) & (p > 0))][:5]}; "
                "pass positive prices."
            )
        lo, hi = self.support_
        outside = (p < lo * (1 - 1e-12)) | (p > hi * (1 + 1e-12))
        if outside.any():
            warnings.warn(
                f"{type(self).__name__}: price(s) {p[outside][:5]} lie outside the range seen "
                f"in the data [{lo:g}, {hi:g}]; demand there is extrapolated.",
                ExtrapolationWarning,
                stacklevel=3,
            )
        return p

    def expected_units(
        self,
        prices: np.ndarray | Sequence[float] | float,
        *,
        t: float | np.ndarray | None = None,
        competitors: np.ndarray | None = None,
        promotions: np.ndarray | None = None,
        product: str | int | np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected units at each price (kernel path), shape (n,).

        The context defaults to :attr:`reference_`: the period after the data,
        competitor prices at their means, no promotion, the first product. Time-series
        models forecast from the end of the data (each market from the state of
        :meth:`_initial_state`). Warns with
        :class:`~pricegym.errors.ExtrapolationWarning` outside the data's price range.
        """
        self._check_fitted()
        p = self._prices(prices)
        kern = self.kernel()
        ctx = self._context(p.size, t, competitors, promotions, product, kern)
        return kern.expected(p, ctx, self._initial_state(kern, p.size, ctx))

    def library_expected_units(
        self,
        prices: np.ndarray | Sequence[float] | float,
        *,
        t: float | np.ndarray | None = None,
        competitors: np.ndarray | None = None,
        promotions: np.ndarray | None = None,
        product: str | int | np.ndarray | None = None,
        **options: Any,
    ) -> np.ndarray:
        """Same as :meth:`expected_units`, computed by the fitting library itself.

        Prices and context are checked and defaulted as by :meth:`expected_units`;
        the family's :meth:`_library_units` asks its library (statsmodels'
        ``predict`` / ``get_forecast``, linearmodels' ``predict``, the torch module's
        ``forward``). Only on a model fitted in this process (``results_`` is not
        saved).

        Args:
            options: the family's own keywords, listed in :attr:`_library_options`
                (:class:`~pricegym.demand.neural.NeuralDemand`: ``lags``, recent units
                per market, shape (n, lags), column 0 the most recent; default each
                market's product's last units in the fitted history).

        Raises:
            TypeError: a keyword the family does not take.
        """
        unknown = sorted(set(options) - set(self._library_options))
        if unknown:
            takes = ["prices", "t", "competitors", "promotions", "product"]
            raise TypeError(
                f"{type(self).__name__}.library_expected_units() got unexpected keyword "
                f"argument(s) {unknown}; it takes {takes + list(self._library_options)}. "
                "Fix: drop the keyword, or call it on the family that takes it."
            )
        res = self._require_results()
        p = self._prices(prices)
        kern = self.kernel()
        ctx = self._context(p.size, t, competitors, promotions, product, kern)
        return self._library_units(res, p, ctx, kern, **options)

    # Hooks of the two prediction paths (the template above owns the checks).
    #: Keywords :meth:`library_expected_units` passes on to :meth:`_library_units`.
    _library_options: ClassVar[tuple[str, ...]] = ()

    def _initial_state(self, kern: DemandKernel, n: int, ctx: MarketContext) -> KernelState:
        """State each of ``n`` markets starts from: the end of the fitted history."""
        return kern.initial_state(n)

    def _library_units(
        self, res: Any, prices: np.ndarray, ctx: MarketContext, kern: DemandKernel, **options: Any
    ) -> np.ndarray:
        """The fitting library's expected units, shape (n,), at checked ``prices`` in
        context ``ctx`` (``res`` is :attr:`results_`; ``kern`` the compiled kernel,
        for its transforms)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define _library_units, so it cannot predict "
            "with its fitting library; implement the hook (see DemandModel)."
        )

    def _require_results(self) -> Any:
        self._check_fitted()
        res = getattr(self, "results_", None)
        if res is None:
            raise NotFittedError(
                f"{type(self).__name__}: the fitting library's results object is not saved "
                "in model files (that would need pickle); refit the model to use it."
            )
        return res

    def predict(self, history: SalesHistory) -> np.ndarray:
        """Expected units for each row of ``history`` (kernel path).

        Static models evaluate each row independently. Time-series models return
        in-sample one-step-ahead predictions for rows inside the fitted sample and
        multi-step forecasts from the end of the sample for rows after it.
        """
        self._check_fitted()
        kern = self._make_kernel(getattr(self, "noise_", NoiseModel()))
        ctx = kern.spec.context_from_history(history)
        return kern.expected(history.price, ctx, kern.initial_state(history.n_rows))

    # ---------------------------------------------------------------- inference
    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 2000, seed: int = 0
    ) -> Elasticity:
        """Own-price elasticity at ``price`` (default: the mean price) in the reference context.

        The estimate is the kernel's exact elasticity where it has one, else the
        central difference of log expected units in log price.
        The interval is a parametric bootstrap: ``n_draws`` coefficient vectors drawn
        from the estimator's asymptotic normal distribution (``coef_``,
        ``coef_cov_``), each turned into an elasticity; the interval is their
        percentiles.
        """
        self._check_fitted()
        p0 = self.mean_price_ if price is None else float(price)
        est = self._elasticity_with(self.coef_, p0)
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(self.coef_, self.coef_cov_, size=n_draws, method="eigh")
        values = np.array([self._elasticity_with(c, p0) for c in draws])
        values = values[np.isfinite(values)]
        lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
        return Elasticity(
            float(est), float(lo), float(hi), p0, level, f"parametric bootstrap, {n_draws} draws"
        )

    def _elasticity_with(self, coef: np.ndarray, price: float) -> float:
        kern = self._kernel_with_coef(coef)
        exact = getattr(kern, "elasticity", None)
        if exact is not None:
            return float(exact(np.array([price]), kern.context(1))[0])
        p = price * np.exp(np.array([-_LOG_STEP, _LOG_STEP]))
        ctx = kern.context(2)
        q = kern.expected(p, ctx, kern.initial_state(2))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float((np.log(q[1]) - np.log(q[0])) / (2 * _LOG_STEP))

    def _kernel_with_coef(self, coef: np.ndarray) -> DemandKernel:
        """A kernel whose regression coefficients are ``coef`` (for the bootstrap)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not expose regression coefficients; "
            "it overrides elasticity()."
        )

    @abstractmethod
    def params_table(self) -> pd.DataFrame:
        """Coefficient table: ``term``, ``estimate``, ``std_err``, ``ci_low``, ``ci_high``."""

    def information(self) -> dict[str, float]:
        """Information criteria and log-likelihood where the family has them."""
        return {}

    def backtest(
        self, history: SalesHistory | None = None, n_splits: int = 5, test_size: int | None = None
    ) -> BacktestResult:
        """Rolling-origin out-of-sample backtest (see :class:`BacktestResult`).

        Args:
            history: data to backtest on; default the data the model was fitted on
                (kept in memory after :meth:`fit`, not in model files).
            n_splits: number of forecast origins.
            test_size: periods forecast from each origin; default
                ``max(1, n_periods // (2 * n_splits))``, so the folds cover the last
                half of the data.
        """
        self._check_fitted()
        history = history if history is not None else getattr(self, "history_", None)
        if history is None:
            raise ModelError(
                "backtest needs the sales history, which model files do not store; "
                "pass backtest(history=...)."
            )
        periods = history.periods()
        n = periods.size
        size = max(1, n // (2 * n_splits)) if test_size is None else int(test_size)
        if n_splits < 1 or n - n_splits * size < 2:
            raise ModelError(
                f"backtest with n_splits={n_splits} and test_size={size} needs more than "
                f"{n_splits * size + 1} periods, the data has {n}; lower n_splits or test_size."
            )
        from sklearn.model_selection import TimeSeriesSplit

        splitter = TimeSeriesSplit(n_splits=n_splits, test_size=size)
        t = history.t
        frames = []
        for fold, (train_p, test_p) in enumerate(splitter.split(periods)):
            train_rows = np.flatnonzero(np.isin(t, periods[train_p]))
            test_rows = np.flatnonzero(np.isin(t, periods[test_p]))
            train = history.take(train_rows)
            test = history.take(test_rows)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = self.clone()
                model._fit_for_backtest(train)
                pred = model.predict(test)
            frames.append(
                pd.DataFrame(
                    {
                        "fold": fold,
                        "t": test.t,
                        "product": test.frame["product"].to_numpy()
                        if "product" in test.frame
                        else "all",
                        "actual": test.units,
                        "predicted": pred,
                    }
                )
            )
        preds = pd.concat(frames, ignore_index=True)
        result = BacktestResult(
            error_metrics(preds["actual"], preds["predicted"]), n_splits, size, preds
        )
        if history is getattr(self, "history_", None):
            self.backtest_ = result
        return result

    def _fit_for_backtest(self, history: SalesHistory) -> None:
        """Fit on a training fold (overridable to skip costly extras such as CIs)."""
        self.fit(history)

    def diagnostics(self, backtest: bool = True, n_splits: int = 5) -> Diagnostics:
        """In-sample fit, rolling-origin backtest, elasticity with CI, support, parameters.

        The backtest is computed once and cached (and saved with the model).
        """
        self._check_fitted()
        bt = self.backtest_
        if backtest and bt is None and getattr(self, "history_", None) is not None:
            bt = self.backtest(n_splits=n_splits)
        return Diagnostics(
            family=self.family,
            n_obs=self.n_obs_,
            params=self.params_table(),
            in_sample=self.in_sample_,
            backtest=bt,
            elasticity=self.elasticity_,
            support=self.support_,
            information=self.information(),
        )

    # ---------------------------------------------------------------- save / load
    @abstractmethod
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Family-specific learned state: (JSON-ready dict, arrays)."""

    @abstractmethod
    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`_get_state`."""

    def save(self, path: str | Path) -> Path:
        """Save to ``path`` (``.json``) plus arrays in ``.npz`` beside it; returns the JSON path.

        Both files are written atomically. No pickle is used; the results object of
        the fitting library is not saved (its numbers are: parameters, covariance,
        diagnostics). A :attr:`unit_cost_` set on the model is saved with it.
        """
        self._check_fitted()
        state, arrays = self._get_state()
        arrays = dict(arrays)
        for col in ("t", "price", "units", "fitted"):
            arrays[f"data_{col}"] = self.data_points_[col].to_numpy(dtype=np.float64)
        if "censored" in self.data_points_:
            arrays["data_censored"] = self.data_points_["censored"].to_numpy(dtype=np.float64)
        params = {k: jsonable(v) for k, v in self.get_params().items()}
        document: dict[str, Any] = {
            "family": self.family,
            "params": params,
            "fitted": {
                "support": list(self.support_),
                "n_obs": self.n_obs_,
                "freq": self.freq_,
                "calendar": None if self.calendar_ is None else self.calendar_.to_dict(),
                "data_summary": self.data_summary_,
                "reference": self.reference_,
                "products": getattr(self, "products_reference_", {}),
                "mean_price": self.mean_price_,
                "in_sample": self.in_sample_,
                "noise": self.noise_.to_dict(),
                "elasticity": self.elasticity_.to_dict(),
                "backtest": None if self.backtest_ is None else self.backtest_.to_dict(),
                "params_table": self.params_table().to_dict(orient="list"),
                "information": self.information(),
            },
            "state": state,
        }
        if self.unit_cost_ is not None:  # only then: files without a cost stay as they were
            document["fitted"]["unit_cost"] = {
                "value": float(self.unit_cost_["value"]),
                "source": str(self.unit_cost_["source"]),
            }
        return write_model_files(path, document, arrays)

    @staticmethod
    def load(path: str | Path) -> DemandModel:
        """Load a model saved with :meth:`save` (any family); never unpickles.

        Raises:
            ModelFileError: see :func:`pricegym.demand.io.read_model_files`, or an
                unknown family / inconsistent contents.
        """
        doc, arrays = read_model_files(path)
        family = doc.get("family")
        cls = model_families().get(family)  # type: ignore[arg-type]
        if cls is None:
            raise ModelFileError(
                f"{str(path)!r} holds a model of family {family!r}, which this pricegym does "
                f"not know (known: {sorted(_REGISTRY)}); upgrade pricegym or refit."
            )
        try:
            model = cls(**doc["params"])
            fitted = doc["fitted"]
            model.support_ = (float(fitted["support"][0]), float(fitted["support"][1]))
            model.n_obs_ = int(fitted["n_obs"])
            model.freq_ = fitted["freq"]
            model.calendar_ = _saved_calendar(fitted)
            model.data_summary_ = fitted["data_summary"]
            model.reference_ = fitted["reference"]
            model.products_reference_ = fitted.get("products") or {}  # older files: none
            model.mean_price_ = float(fitted["mean_price"])
            model.in_sample_ = fitted["in_sample"]
            model.noise_ = NoiseModel.from_dict(fitted["noise"])
            model.elasticity_ = Elasticity(**fitted["elasticity"])
            bt = fitted["backtest"]
            model.backtest_ = None if bt is None else BacktestResult.from_dict(bt)
            model._saved_params_table = pd.DataFrame(fitted["params_table"])
            model._saved_information = fitted["information"]
            model.unit_cost_ = fitted.get("unit_cost")  # older files: none
            model.data_points_ = pd.DataFrame(
                {c: arrays.pop(f"data_{c}") for c in ("t", "price", "units", "fitted")}
            )
            if "data_censored" in arrays:  # fitted to a history with stock columns
                model.data_points_["censored"] = arrays.pop("data_censored") == 1.0
            model._set_state(doc["state"], arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{str(path)!r} is not a consistent {family} model file ({type(exc).__name__}: "
                f"{exc}); re-save the model with this pricegym version."
            ) from None
        return model


def _saved_calendar(fitted: dict[str, Any]) -> TradingCalendar | None:
    """The calendar of a model file; files saved before calendars keep their meaning:
    daily data traded every day from its first date (``t`` = calendar days)."""
    if fitted.get("calendar") is not None:
        return TradingCalendar.from_dict(fitted["calendar"])
    span = (fitted.get("data_summary") or {}).get("date_range")
    if fitted.get("freq") == "D" and span:
        return TradingCalendar(
            origin=str(pd.Timestamp(span[0]).date()),
            source="every day (model file saved before trading calendars)",
        )
    return None
