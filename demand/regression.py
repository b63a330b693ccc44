"""Regression demand models fitted with statsmodels.

- :class:`LinearDemand`: ``units = a + b·price + Σ c_j·competitor_j + promotion,
  product, trend and seasonal terms + e`` (OLS).
- :class:`LogLinearDemand`: ``log units = a + e·log price + ...`` — constant
  elasticity e (OLS on logs; expected units use Duan's smearing factor).
- :class:`PoissonDemand`: ``E[units] = exp(a + e·log price + ...)`` — a Poisson GLM
  with log link; handles zero sales; standard errors scaled by Pearson's χ²/df, floored
  at 1, so that over-dispersed counts get honest intervals (quasi-Poisson) and
  under-dispersed ones keep the maximum-likelihood intervals.

Each keeps the statsmodels results object in ``results_`` (standard errors,
confidence intervals, AIC) and compiles to a
:class:`~pricegym.demand.kernels.RegressionKernel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from pricegym.demand._results import StatsmodelsResultsMixin
from pricegym.demand.base import DemandModel, Elasticity
from pricegym.demand.data import SalesHistory
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, RegressionKernel
from pricegym.demand.noise import NoiseModel
from pricegym.errors import DataValidationError, ModelError

__all__ = [
    "LinearDemand",
    "LogLinearDemand",
    "PoissonDemand",
    "resolve_season_period",
    "resolve_seasonality",
]


def resolve_season_period(season_period: float | None, history: SalesHistory) -> float | None:
    """Periods per seasonal cycle: ``None`` → the data's own (:attr:`SalesHistory.season_period`:
    5 for Monday–Friday daily data, 7 for daily, 12 for monthly ...); a number is checked
    (finite, >= 2 periods of the data's clock).
    """
    if season_period is None:
        return history.season_period
    if (
        isinstance(season_period, bool)
        or not isinstance(season_period, int | float | np.integer | np.floating)
        or not np.isfinite(season_period)
        or season_period < 2
    ):
        raise ModelError(
            f"season_period={season_period!r} is not a seasonal period (rule: a number of "
            "periods >= 2 per cycle, counted in the data's periods, trading days for a "
            "trading calendar). Fix: e.g. --season-period 5 for the trading week of a "
            "Mon–Fri market, 7 for a daily week, 12 for months, or --no-season."
        )
    return float(season_period)


def resolve_seasonality(
    seasonality: int | str, history: SalesHistory, season_period: float | None = None
) -> int:
    """Number of Fourier harmonics to use: ``"auto"`` → 2 when the data is seasonal
    (dated, sub-yearly, or ``season_period`` given) and spans at least two full cycles,
    else 0; an int is checked.
    """
    period = resolve_season_period(season_period, history)
    if seasonality == "auto":
        if period is None:
            return 0
        span = float(history.t.max() - history.t.min() + 1)
        return 2 if span >= 2 * period else 0
    if isinstance(seasonality, bool) or not isinstance(seasonality, int) or seasonality < 0:
        raise ModelError(
            f"seasonality={seasonality!r} must be 'auto' or a number of Fourier harmonics >= 0."
        )
    if seasonality > 0 and period is None:
        raise ModelError(
            f"seasonality={seasonality} needs dated sub-yearly data (daily, weekly, monthly, "
            f"quarterly), but {history.source} has freq={history.freq!r}; use seasonality=0 "
            "or give the period with season_period= (CLI: --season-period N)."
        )
    return seasonality


def _select(option: bool | Sequence[str], available: tuple[str, ...], what: str) -> tuple[str, ...]:
    if option is True:
        return available
    if option is False or option is None:
        return ()
    chosen = tuple(option)
    missing = [c for c in chosen if c not in available]
    if missing:
        raise ModelError(
            f"{what} column(s) {missing} are not in the data (it has {list(available)}); "
            f"map them when loading (e.g. --{what} NAME) or choose from the available ones."
        )
    return chosen


#: ``cov_type`` names of the covariance clustered by market (statsmodels', linearmodels').
CLUSTERED = ("cluster", "clustered")


def _market_clusters(history: SalesHistory, cov_type: str) -> np.ndarray:
    """Each row's market (the panel's product key) as an integer cluster code.

    Raises:
        ModelError: the history is one series (one cluster: no clustered covariance).
    """
    if not history.is_panel:
        raise ModelError(
            f"{history.source}: cov_type={cov_type!r} clusters the standard errors by the "
            "panel's product/market key (rule: a panel with two or more markets; "
            "clustering needs many), but this history is one series. Fix: cov_type="
            "'robust', or map the market key (--product COL)."
        )
    return history.product_codes()


class _RegressionDemand(StatsmodelsResultsMixin, DemandModel):
    """Shared machinery of the statsmodels regression families."""

    pooled = True
    price_transform: ClassVar[Literal["level", "log"]] = "level"
    link: ClassVar[Literal["identity", "log"]] = "identity"

    def __init__(
        self,
        *,
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        product_effects: bool = True,
        noise: str = "auto",
        cov_type: str = "nonrobust",
        season_period: float | None = None,
    ) -> None:
        self.competitors = competitors
        self.promotions = promotions
        self.trend = trend
        self.seasonality = seasonality
        self.season_period = season_period
        self.product_effects = product_effects
        self.noise = noise
        self.cov_type = cov_type

    # ---------------------------------------------------------------- fitting
    def _spec(self, history: SalesHistory) -> FeatureSpec:
        return FeatureSpec(
            price_transform=self.price_transform,
            competitors=_select(self.competitors, history.competitors, "competitor"),
            promotions=_select(self.promotions, history.promotions, "promotion"),
            products=history.products if (self.product_effects and history.is_panel) else (),
            intercept=True,
            trend=bool(self.trend),
            fourier=resolve_seasonality(self.seasonality, history, self.season_period),
            season_period=resolve_season_period(self.season_period, history),
        )

    def min_rows(self, history: SalesHistory) -> int:
        """Number of coefficients + 2, so at least two residual degrees of freedom remain."""
        return self._spec(history).n_features + 2

    def _target(self, history: SalesHistory) -> np.ndarray:
        return history.units

    @staticmethod
    def _check_identified(x: pd.DataFrame, source: str) -> None:
        rank = np.linalg.matrix_rank(x.to_numpy())
        if rank < x.shape[1]:
            raise ModelError(
                f"{source}: the regressors {list(x.columns)} are collinear (rank {rank} < "
                f"{x.shape[1]}): some term is constant or duplicates another, so its effect "
                "cannot be identified; drop it (e.g. competitors=False, seasonality=0)."
            )

    def _fit(self, history: SalesHistory) -> None:
        self.spec_ = self._spec(history)
        x = pd.DataFrame(self.spec_.from_history(history), columns=self.spec_.names)
        self._check_identified(x, history.source)
        y = self._target(history)
        self.results_ = self._fit_statsmodels(y, x, self._cov_groups(history))
        self.coef_ = np.asarray(self.results_.params, dtype=np.float64)
        self.coef_cov_ = np.asarray(self.results_.cov_params(), dtype=np.float64)
        self.df_resid_ = float(self.results_.df_resid)
        self.scale_ = self._smearing(history)

    def _cov_groups(self, history: SalesHistory) -> np.ndarray | None:
        """Each row's market when the covariance is clustered (else ``None``)."""
        return _market_clusters(history, self.cov_type) if self.cov_type in CLUSTERED else None

    def _fit_statsmodels(
        self, y: np.ndarray, x: pd.DataFrame, groups: np.ndarray | None = None
    ) -> Any:
        """statsmodels' fit; ``groups``: the clusters of a clustered covariance."""
        if groups is not None:
            return sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        return sm.OLS(y, x).fit(cov_type=self.cov_type)

    def _smearing(self, history: SalesHistory) -> float:
        return 1.0

    # ---------------------------------------------------------------- kernel
    def _make_kernel(self, noise: NoiseModel) -> RegressionKernel:
        return self._kernel_with_coef(self.coef_, noise)

    def _kernel_with_coef(
        self, coef: np.ndarray, noise: NoiseModel | None = None
    ) -> RegressionKernel:
        return RegressionKernel(
            self.spec_,
            coef,
            self.link,
            noise if noise is not None else getattr(self, "noise_", NoiseModel()),
            self.support_,
            self.reference_,
            scale=self.scale_,
        )

    def _design_frame(self, prices: np.ndarray, ctx: MarketContext) -> pd.DataFrame:
        """The regressors at ``prices`` in ``ctx``, columns named as in the fit."""
        return pd.DataFrame(self.spec_.build_context(prices, ctx), columns=self.spec_.names)

    def _library_units(
        self, res: Any, prices: np.ndarray, ctx: MarketContext, kern: DemandKernel, **options: Any
    ) -> np.ndarray:
        """statsmodels' ``results_.predict`` on the regressors, in units."""
        pred = np.asarray(res.predict(self._design_frame(prices, ctx)), dtype=np.float64)
        return self._from_library_scale(pred)

    def _from_library_scale(self, pred: np.ndarray) -> np.ndarray:
        return pred

    # ---------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return (
            {"spec": self.spec_.to_dict(), "scale": self.scale_, "df_resid": self.df_resid_},
            {"coef": self.coef_, "coef_cov": self.coef_cov_},
        )

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.spec_ = FeatureSpec.from_dict(state["spec"])
        self.scale_ = float(state["scale"])
        self.df_resid_ = float(state["df_resid"])
        self.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        self.coef_cov_ = np.asarray(arrays["coef_cov"], dtype=np.float64)
        self.results_ = None


class LinearDemand(_RegressionDemand):
    """Linear demand ``units = a + b·price + …`` by ordinary least squares.

    Hyper-parameters (all keyword-only):
        competitors: use all competitor-price columns (True), none (False) or the named ones.
        promotions: same, for promotion flags.
        trend: add a linear time trend.
        seasonality: Fourier harmonic pairs, or ``"auto"`` (2 for seasonal data that
            spans two cycles, else 0).
        season_period: periods per seasonal cycle of the Fourier terms; ``None`` =
            the data's (5 for a Mon–Fri trading calendar, 7 for daily, 12 monthly).
        product_effects: a fixed effect per product when the data is a panel.
        noise: ``"auto"``, ``"poisson"``, ``"negbin"`` or ``"lognormal"``.
        cov_type: statsmodels covariance type (``"nonrobust"``, ``"HC1"``, ``"HAC"`` ...;
            ``"cluster"``: clustered by a panel's product/market key).

    The elasticity ``b·p/E[units]`` varies along the curve; its CI comes from a
    parametric bootstrap of the coefficients. The kernel clips negative demand at 0.
    """

    family = "linear"


class LogLinearDemand(_RegressionDemand):
    """Constant-elasticity demand ``log units = a + e·log price + …`` by OLS.

    Same hyper-parameters as :class:`LinearDemand`. Competitor prices enter in logs
    (cross-price elasticities). The own-price elasticity is the coefficient ``e``
    with its t-based CI. Expected units are ``smear·exp(a + e·log p + …)`` with
    Duan's smearing factor ``smear = mean(exp(residual))``. Zero sales cannot be
    logged: such data raises and points to :class:`PoissonDemand`.
    """

    family = "loglinear"
    price_transform = "log"
    link = "log"

    def _target(self, history: SalesHistory) -> np.ndarray:
        y = history.units
        zero = np.flatnonzero(y <= 0)
        if zero.size:
            raise DataValidationError(
                f"{history.source}: LogLinearDemand takes log(units), but {zero.size} row(s) "
                f"have units = 0 (first at t = {history.t[zero[:5]].tolist()}); "
                "use PoissonDemand (--model poisson), which handles zero sales."
            )
        return np.log(y)

    def _smearing(self, history: SalesHistory) -> float:
        return float(np.mean(np.exp(np.asarray(self.results_.resid))))

    def _from_library_scale(self, pred: np.ndarray) -> np.ndarray:
        return self.scale_ * np.exp(pred)

    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 0, seed: int = 0
    ) -> Elasticity:
        """The log-price coefficient with its t-distribution CI (same at every price)."""
        self._check_fitted()
        i = self.spec_.price_index
        est, se = float(self.coef_[i]), float(np.sqrt(self.coef_cov_[i, i]))
        q = float(stats.t.ppf((1 + level) / 2, self.df_resid_))
        p0 = self.mean_price_ if price is None else float(price)
        return Elasticity(
            est, est - q * se, est + q * se, p0, level, "log-price coefficient, t interval"
        )


class PoissonDemand(_RegressionDemand):
    """Poisson GLM with log link: ``E[units] = exp(a + e·log price + …)``.

    Same hyper-parameters as :class:`LinearDemand`. Handles zero sales. With
    ``cov_type="nonrobust"`` the standard errors are scaled by Pearson's χ²/df
    *floored at 1*: over-dispersion (χ²/df > 1) widens the intervals (quasi-Poisson)
    instead of being ignored, while under-dispersion (χ²/df < 1, common in short
    series) keeps the maximum-likelihood intervals — scaling them down would claim
    more precision than the Poisson likelihood itself gives. ``dispersion_`` holds
    the raw χ²/df; ``results_.scale`` the scale actually used (``max(χ²/df, 1)``).
    The own-price elasticity is ``e`` with a normal CI; its ``method`` says which
    scale was used.
    """

    family = "poisson"
    price_transform = "log"
    link = "log"

    def _fit_statsmodels(
        self, y: np.ndarray, x: pd.DataFrame, groups: np.ndarray | None = None
    ) -> Any:
        model = sm.GLM(y, x, family=sm.families.Poisson())
        if groups is not None:
            results = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
            self.dispersion_ = float(results.pearson_chi2 / results.df_resid)
            return results
        if self.cov_type != "nonrobust":
            results = model.fit(cov_type=self.cov_type)
            self.dispersion_ = float(results.pearson_chi2 / results.df_resid)
            return results
        results = model.fit(scale="X2")
        self.dispersion_ = float(results.scale)
        if self.dispersion_ < 1.0:
            # Same coefficients; the ML covariance (scale 1) instead of a shrunk one.
            results = model.fit(scale=1.0)
        return results

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        return {**state, "dispersion": self.dispersion_}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.dispersion_ = float(state.get("dispersion", float("nan")))

    def _information_from(self, res: Any) -> dict[str, float]:
        """AIC, BIC and log-likelihood of the Poisson likelihood (scale 1).

        statsmodels' ``llf``/``aic`` divide the log-likelihood by the estimated scale
        (Pearson χ²/df), which is not a likelihood and jumps when the floor applies;
        these are the ML values, comparable across fits.
        """
        llf = float(res.llf_scaled(scale=1.0))
        k = float(res.df_model + 1)
        return {"aic": -2 * llf + 2 * k, "bic": -2 * llf + np.log(res.nobs) * k, "llf": llf}

    def _interval_method(self) -> str:
        if self.cov_type != "nonrobust":
            return f"log-price coefficient, Wald interval ({self.cov_type} covariance)"
        if self.dispersion_ < 1.0:
            return (
                f"log-price coefficient, Wald interval (Pearson χ²/df = "
                f"{self.dispersion_:.2f} < 1, floored at 1: maximum-likelihood interval)"
            )
        return (
            f"log-price coefficient, Wald interval (quasi-Poisson: scaled by Pearson "
            f"χ²/df = {self.dispersion_:.2f})"
        )

    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 0, seed: int = 0
    ) -> Elasticity:
        """The log-price coefficient with its normal (Wald) CI (same at every price)."""
        self._check_fitted()
        i = self.spec_.price_index
        est, se = float(self.coef_[i]), float(np.sqrt(self.coef_cov_[i, i]))
        q = float(stats.norm.ppf((1 + level) / 2))
        p0 = self.mean_price_ if price is None else float(price)
        return Elasticity(est, est - q * se, est + q * se, p0, level, self._interval_method())
