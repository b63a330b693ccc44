"""Regression with SARIMA errors (ARIMAX), fitted by statsmodels, and its numpy kernel.

The model (:class:`ArimaxDemand`, family ``"arimax"``) is

    y_t = x_t'β + u_t,      u_t ~ SARIMA(p, d, q)(P, D, Q, s),

where y is units (``target="units"``) or log units (``target="log"``) and x_t comes
from a :class:`~pricegym.demand.features.FeatureSpec`: own price (level or log),
competitor prices, promotion flags, Fourier seasonality, an optional trend, and an
intercept when the errors are not differenced (d = D = 0). statsmodels'
:class:`~statsmodels.tsa.statespace.sarimax.SARIMAX` estimates β and the SARIMA
parameters jointly by exact maximum likelihood (Kalman filter), with ``trend="n"``:
intercept and trend are exog columns, so they are plain regression coefficients.

The fitted model compiles to :class:`ArimaxKernel`, the state-space form statsmodels
itself filters with, run as a batched numpy recursion: one state vector per market,
updated with a constant Kalman gain after every observed sale.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX

from pricegym.demand._results import StatsmodelsResultsMixin
from pricegym.demand.base import DemandModel
from pricegym.demand.data import SalesHistory
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.regression import _select, resolve_season_period, resolve_seasonality
from pricegym.demand.statespace import ArimaxKernel
from pricegym.errors import DataValidationError, ModelError, PricegymWarning

__all__ = ["ArimaxDemand", "ArimaxKernel"]

Target = Literal["units", "log"]

#: A zero sale observed by a log-target kernel is read as this fraction of the
#: smallest positive sale in the training data (the usual "add one half" correction
#: for logs of counts). A tiny floor such as 1e-12 would inject an innovation of
#: log(1e-12) ≈ −28 into the error state and wreck every later forecast.
LOG_FLOOR_FRACTION = 0.5

#: Relative change of the Kalman gain over one more filter step above which the
#: filter is reported as not converged (the kernel's constant gain is then approximate).
GAIN_TOLERANCE = 1e-6

#: Covariance estimators of statsmodels' MLE fit that give coefficient standard errors.
COV_TYPES: tuple[str, ...] = ("opg", "oim", "approx", "robust", "robust_oim", "robust_approx")

_TARGETS: tuple[str, ...] = ("units", "log")


class ArimaxDemand(StatsmodelsResultsMixin, DemandModel):
    """Demand as a regression with SARIMA errors, fitted by statsmodels' SARIMAX.

    ``y_t = x_t'β + u_t`` with u_t ~ SARIMA(``order``)(``seasonal_order``) and
    y = units or log units (see the module docstring). The fitted model keeps
    statsmodels' results in ``results_`` and compiles to an :class:`ArimaxKernel`.

    Hyper-parameters (all keyword-only; lists are accepted for tuples, so they
    round-trip through JSON):
        order: (p, d, q) of the errors.
        seasonal_order: (P, D, Q, s); s ≥ 2 when P, D or Q is non-zero, else 0 is allowed.
        target: ``"units"`` (expected units = forecast clipped at 0) or ``"log"``
            (log units; expected units = smear · exp(forecast); zero sales cannot
            be fitted).
        price_transform: own and competitor prices in ``"level"`` or ``"log"``.
        competitors: all competitor-price columns (True), none (False) or the named ones.
        promotions: same, for promotion flags.
        trend: add a linear time trend column.
        seasonality: Fourier harmonic pairs, or ``"auto"``: 0 when the errors are
            seasonally differenced (D > 0 already removes a fixed seasonal pattern,
            and Fourier terms would be unidentified), else as
            :func:`~pricegym.demand.regression.resolve_seasonality`.
        season_period: periods per seasonal cycle of the Fourier terms; ``None`` =
            the data's (5 for a Mon–Fri trading calendar, 7 for daily, 12 monthly).
        noise: ``"auto"``, ``"poisson"``, ``"negbin"`` or ``"lognormal"`` (sampled units).
        cov_type: statsmodels' covariance of the MLE, one of :data:`COV_TYPES`
            (default ``"opg"``, statsmodels' own default).
        maxiter: iterations of the likelihood optimiser.
        price: must stay True: a model in which price does not enter cannot drive a
            pricing market; ``False`` raises with an explanation.

    Fitting rules:
        - The series is placed on the history's clock ``t``: periods missing from the
          data are missing observations (the Kalman filter skips them; the state
          still advances), not dropped periods.
        - The intercept is an exog column only when d = D = 0; with differencing a
          constant is not identified and is left out.
        - Refused with :class:`~pricegym.errors.ModelError`: ``price=False``; an
          own-price regressor with no variation left after the differencing implied
          by (d, D, s); collinear regressors after differencing; a price coefficient
          whose standard error is not finite.
        - A likelihood optimiser that did not converge, or a Kalman filter whose gain
          has not converged by the end of the sample, warns
          (:class:`~pricegym.errors.PricegymWarning`).

    Fitted attributes (besides the base class's): ``spec_``, ``order_``,
    ``seasonal_order_``, ``results_`` (statsmodels results; ``None`` after loading),
    ``coef_`` / ``coef_cov_`` (β and its covariance, in ``spec_.names`` order),
    ``transition_``, ``design_``, ``gain_``, ``state_`` (T, Z, K, a_{T+1|T}),
    ``state_coef_`` (M with a_{T+1|T}(β) = a_{T+1|T}(β̂) − M (β − β̂), used by the
    elasticity bootstrap),
    ``smear_``, ``log_floor_``, ``gain_drift_`` (relative change of K over one more
    filter step: the kernel's distance from the exact filter), ``insample_t0_`` and
    ``insample_za_`` (the error part Z a_{t|t-1} of the one-step forecast for every
    period of the fitted clock, so in-sample predictions survive save/load).
    """

    family = "arimax"
    supports_panel = False

    def __init__(
        self,
        *,
        order: Sequence[int] = (1, 0, 0),
        seasonal_order: Sequence[int] = (0, 0, 0, 0),
        target: Target = "units",
        price_transform: Literal["level", "log"] = "level",
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        noise: str = "auto",
        cov_type: str = "opg",
        maxiter: int = 200,
        price: bool = True,
        season_period: float | None = None,
    ) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.target = target
        self.price_transform = price_transform
        self.competitors = competitors
        self.promotions = promotions
        self.trend = trend
        self.seasonality = seasonality
        self.noise = noise
        self.cov_type = cov_type
        self.maxiter = maxiter
        self.price = price
        self.season_period = season_period

    # ---------------------------------------------------------------- settings
    def _orders(self) -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
        """The validated (p, d, q) and (P, D, Q, s)."""
        order = _int_tuple(self.order, 3, "order", "(p, d, q)")
        seasonal = _int_tuple(self.seasonal_order, 4, "seasonal_order", "(P, D, Q, s)")
        big_p, big_d, big_q, s = seasonal
        if (big_p or big_d or big_q) and s < 2:
            raise ModelError(
                f"seasonal_order={tuple(seasonal)!r} has seasonal terms but period s={s}; "
                "s must be >= 2 periods per season (e.g. 12 for monthly data, 4 for "
                "quarterly), or use seasonal_order=(0, 0, 0, 0)."
            )
        if s == 1:
            raise ModelError(
                f"seasonal_order={tuple(seasonal)!r}: a seasonal period s=1 is the "
                "non-seasonal part; use s=0 for no season or s >= 2."
            )
        return (order[0], order[1], order[2]), (big_p, big_d, big_q, s)

    def _check_settings(self) -> None:
        if not self.price:
            raise ModelError(
                f"ArimaxDemand(price={self.price!r}): without price the model forecasts "
                "units from their own past only, so a pricing market driven by it would "
                "sell the same whatever the agent charges and every pricing policy would "
                "look equally good; pricegym refuses such a model. Fix: keep price=True, "
                "or, to forecast units without price, use a univariate forecaster outside "
                "pricegym (e.g. statsmodels.tsa.statespace.sarimax.SARIMAX(units, "
                "order=...) or statsmodels' ExponentialSmoothing)."
            )
        if self.target not in _TARGETS:
            raise ModelError(
                f"target={self.target!r} is not allowed; use 'units' (model units) or "
                "'log' (model log units)."
            )
        if self.cov_type not in COV_TYPES:
            raise ModelError(
                f"cov_type={self.cov_type!r} is not allowed: the elasticity interval needs "
                f"coefficient standard errors; use one of {list(COV_TYPES)}."
            )
        if (
            isinstance(self.maxiter, bool)
            or not isinstance(self.maxiter, int | np.integer)
            or self.maxiter < 1
        ):
            raise ModelError(
                f"maxiter={self.maxiter!r} must be a positive integer number of optimiser "
                "iterations (default 200)."
            )
        self._orders()

    def _spec(self, history: SalesHistory) -> FeatureSpec:
        (_, d, _), (_, big_d, _, _) = self._orders()
        if self.seasonality == "auto" and big_d > 0:
            fourier = 0
        else:
            fourier = resolve_seasonality(self.seasonality, history, self.season_period)
        return FeatureSpec(
            price_transform=self.price_transform,
            competitors=_select(self.competitors, history.competitors, "competitor"),
            promotions=_select(self.promotions, history.promotions, "promotion"),
            products=(),
            intercept=(d == 0 and big_d == 0),
            trend=bool(self.trend),
            fourier=fourier,
            season_period=resolve_season_period(self.season_period, history),
        )

    def min_rows(self, history: SalesHistory) -> int:
        """Fewest rows: lost to differencing + longest lag + estimated parameters + 3.

        That is ``(d + D·s) + max(p + P·s, q + Q·s) + (n_exog + p + q + P + Q + 1) + 3``:
        the periods differencing consumes, the periods before the longest ARMA lag is
        observed once, one observation per estimated parameter (exog coefficients,
        ARMA coefficients and σ²) and three more, so some degrees of freedom remain.
        """
        self._check_settings()
        (p, d, q), (big_p, big_d, big_q, s) = self._orders()
        n_params = self._spec(history).n_features + p + q + big_p + big_q + 1
        return (d + big_d * s) + max(p + big_p * s, q + big_q * s) + n_params + 3

    # ---------------------------------------------------------------- fitting
    def _fit(self, history: SalesHistory) -> None:
        self._check_settings()
        order, seasonal = self._orders()
        self.order_, self.seasonal_order_ = order, seasonal
        spec = self._spec(history)
        self.spec_ = spec
        # The base's reference context lists every competitor and promotion column of
        # the history; the kernel's context takes only those this model uses.
        self.reference_ = {
            **self.reference_,
            "competitors": [float(history.column(c).mean()) for c in spec.competitors],
            "promotions": [0.0 for _ in spec.promotions],
        }

        t = history.t
        offset = t - t.min()
        if not np.allclose(offset, np.round(offset), rtol=0.0, atol=1e-9):
            raise DataValidationError(
                f"{history.source}: ARIMAX needs whole periods on the clock t, got "
                f"t = {t[:5].tolist()}...; load dated data with a frequency or integer "
                "periods."
            )
        pos = np.round(offset).astype(np.int64)
        n_clock = int(pos.max()) + 1
        observed = np.zeros(n_clock, dtype=bool)
        observed[pos] = True

        x_obs = np.full((n_clock, spec.n_features), np.nan)
        x_obs[pos] = spec.from_history(history)
        # Exog at missing periods is never used (the observation is missing, so the
        # filter neither forecasts nor updates with it); carry the last row forward.
        last_seen = np.maximum.accumulate(np.where(observed, np.arange(n_clock), 0))
        exog = x_obs[last_seen]
        y = np.full(n_clock, np.nan)
        y[pos] = self._target_values(history)

        self._check_regressors(x_obs, spec, order, seasonal, history.source)
        model_exog = self._model_exog(exog, observed, history)
        self.results_ = self._fit_statsmodels(y, model_exog, order, seasonal, history.source)
        res = self.results_

        k = spec.n_features
        params = np.asarray(res.params, dtype=np.float64)
        self.coef_ = params[:k].copy()
        self.coef_cov_ = np.asarray(res.cov_params(), dtype=np.float64)[:k, :k].copy()
        i = spec.price_index
        se = float(np.sqrt(self.coef_cov_[i, i])) if self.coef_cov_[i, i] >= 0 else np.nan
        if not (np.isfinite(se) and se > 0):
            raise ModelError(
                f"{history.source}: the standard error of the {spec.price_name} "
                f"coefficient is {se!r} (cov_type={self.cov_type!r}, order={order}, "
                f"seasonal_order={seasonal}), so the price effect is not identified "
                "by this fit. Fix: try cov_type='approx', a simpler order, or data with "
                "more price changes."
            )

        self._compile_filter(res.filter_results, history.source)
        self.state_coef_ = _state_response(
            np.where(observed[:, None], exog, np.nan),
            order,
            seasonal,
            params[model_exog.shape[1] :],
        )

        self.insample_t0_ = float(t.min())
        predicted = np.asarray(res.filter_results.predicted_state[:, :n_clock])
        self.insample_za_ = self.design_ @ predicted
        if self.target == "log":
            # Duan's smearing factor from the one-step residuals, leaving out the
            # diffuse start-up periods of a differenced model (loglikelihood_burn),
            # whose "forecasts" know nothing of the level.
            resid = (y - exog @ self.coef_ - self.insample_za_)[int(res.loglikelihood_burn) :]
            resid = resid[np.isfinite(resid)]
            self.smear_ = float(np.mean(np.exp(resid)))
            self.log_floor_ = LOG_FLOOR_FRACTION * float(history.units.min())
        else:
            self.smear_ = 1.0
            self.log_floor_ = 0.0

    def _model_exog(
        self, exog: np.ndarray, observed: np.ndarray, history: SalesHistory
    ) -> np.ndarray:
        """The exog matrix SARIMAX fits, on the clock: the spec's columns here (the
        instrumented twin, :mod:`pricegym.demand.iv_arimax`, appends its control)."""
        return exog

    def _compile_filter(self, fr: Any, source: str) -> None:
        """T, Z, K, a_{T+1|T} and the gain's drift from statsmodels' filter output.

        K is computed from P_{T+1|T} (the gain the filter would apply to the first
        period after the sample); ``gain_drift_`` is the relative change of K over
        one more Riccati step, P ← T P T' + R Q R' − K F K'.
        """
        transition = np.array(fr.transition[:, :, -1], dtype=np.float64)
        design = np.array(fr.design[0, :, -1], dtype=np.float64)
        obs_var = float(fr.obs_cov[0, 0, -1])
        selection = np.array(fr.selection[:, :, -1], dtype=np.float64)
        state_var = selection @ np.array(fr.state_cov[:, :, -1]) @ selection.T
        p_next = np.array(fr.predicted_state_cov[:, :, -1], dtype=np.float64)
        gain, f_next = _gain(transition, design, obs_var, p_next)
        p_after = transition @ p_next @ transition.T + state_var - np.outer(gain, gain) * f_next
        gain_after, _ = _gain(transition, design, obs_var, p_after)
        self.transition_, self.design_, self.gain_ = transition, design, gain
        self.state_ = np.array(fr.predicted_state[:, -1], dtype=np.float64)
        scale = max(float(np.max(np.abs(gain))), 1e-12)
        self.gain_drift_ = float(np.max(np.abs(gain_after - gain)) / scale)
        if self.gain_drift_ > GAIN_TOLERANCE:
            warnings.warn(
                f"ArimaxDemand: the Kalman filter has not converged by the end of "
                f"{source} (the gain still changes by {self.gain_drift_:.2g} relative "
                f"per period, tolerance {GAIN_TOLERANCE:g}); the kernel's constant-gain "
                "updates are approximate. Fix: a longer history, or an order whose MA "
                "part is further from non-invertibility.",
                PricegymWarning,
                stacklevel=4,
            )

    def _target_values(self, history: SalesHistory) -> np.ndarray:
        units = history.units
        if self.target == "units":
            return units
        zero = np.flatnonzero(units <= 0)
        if zero.size:
            raise DataValidationError(
                f"{history.source}: ArimaxDemand(target='log') takes log(units), but "
                f"{zero.size} row(s) have units = 0 (first at t = "
                f"{history.t[zero[:5]].tolist()}); use target='units', or the poisson "
                "family (--model poisson), which handles zero sales."
            )
        return np.log(units)

    def _check_regressors(
        self,
        x_obs: np.ndarray,
        spec: FeatureSpec,
        order: tuple[int, int, int],
        seasonal: tuple[int, int, int, int],
        source: str,
    ) -> None:
        """Refuse a price (or any regressor) left without variation by the differencing."""
        d, big_d, s = order[1], seasonal[1], seasonal[3]
        dx = x_obs
        for _ in range(big_d):
            dx = dx[s:] - dx[:-s]
        for _ in range(d):
            dx = dx[1:] - dx[:-1]
        dx = dx[np.all(np.isfinite(dx), axis=1)]
        where = f"order={order}, seasonal_order={seasonal}"
        fix = (
            "Fix: use a model without differencing (order=(1, 0, 0), seasonal_order="
            "(0, 0, 0, 0)), whose AR terms still capture persistence, or data in which "
            "the price changes differently from period to period"
            + (" and from season to season" if big_d else "")
            + "."
        )
        price = dx[:, spec.price_index]
        if price.size < 2:
            raise ModelError(
                f"{source}: after the differencing implied by {where}, fewer than two "
                f"consecutive observations of {spec.price_name} remain ({price.size}), "
                f"so the price effect cannot be estimated. {fix}"
            )
        level = max(float(np.nanmax(np.abs(x_obs[:, spec.price_index]))), 1.0)
        if float(np.ptp(price)) <= 1e-10 * level:
            raise ModelError(
                f"{source}: after the differencing implied by {where}, the price regressor "
                f"{spec.price_name!r} has no variation left: every differenced value equals "
                f"{float(price[0]):.6g}, so its effect on demand cannot be told apart from "
                f"the differenced error process. {fix}"
            )
        if dx.shape[0] < dx.shape[1]:
            raise ModelError(
                f"{source}: after the differencing implied by {where}, {dx.shape[0]} "
                f"observations remain for {dx.shape[1]} regressors {spec.names}. "
                "Fix: a longer history, or fewer terms (seasonality=0, competitors=False)."
            )
        _, sv, vt = np.linalg.svd(dx, full_matrices=False)
        tol = sv[0] * max(dx.shape) * np.finfo(np.float64).eps
        if sv[-1] <= tol:
            involved = [spec.names[j] for j in np.flatnonzero(np.abs(vt[-1]) > 1e-8)]
            raise ModelError(
                f"{source}: after the differencing implied by {where}, the regressors "
                f"{involved} are collinear (a term is constant, zero, or duplicates "
                "another), so their effects cannot be identified. Fix: drop the term "
                "(seasonality=0 with seasonal differencing, trend=False with d >= 1, "
                "competitors=False) or change the differencing."
            )

    def _fit_statsmodels(
        self,
        y: np.ndarray,
        exog: np.ndarray,
        order: tuple[int, int, int],
        seasonal: tuple[int, int, int, int],
        source: str,
    ) -> Any:
        """SARIMAX MLE. statsmodels' routine warnings (starting values) are dropped
        unless the optimiser fails to converge, when they are reported with it."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = SARIMAX(y, exog=exog, order=order, seasonal_order=seasonal, trend="n")
            res = model.fit(disp=False, maxiter=int(self.maxiter), cov_type=self.cov_type)
        if not res.mle_retvals.get("converged", True):
            notes = "; ".join(sorted({str(w.message) for w in caught}))
            warnings.warn(
                f"ArimaxDemand on {source}: the likelihood optimiser did not converge in "
                f"maxiter={self.maxiter} iterations (order={order}, seasonal_order="
                f"{seasonal}); estimates may be off. Fix: raise maxiter or use a "
                f"simpler order.{' statsmodels said: ' + notes if notes else ''}",
                PricegymWarning,
                stacklevel=4,
            )
        return res

    # ---------------------------------------------------------------- kernel
    def _make_kernel(self, noise: NoiseModel) -> ArimaxKernel:
        return self._build_kernel(self.coef_, self.state_, noise)

    def _kernel_with_coef(self, coef: np.ndarray) -> ArimaxKernel:
        """Kernel with β = ``coef`` and the end-of-sample state the filter would give it.

        The filter is linear in the residuals y − Xβ with data-free gains, so
        a_{T+1|T}(β) = a_{T+1|T}(β̂) − ``state_coef_`` (β − β̂) exactly (for fixed
        SARIMA parameters): the bootstrap perturbs the forecast coherently.
        """
        coef = np.asarray(coef, dtype=np.float64)
        state = self.state_ - self.state_coef_ @ (coef - self.coef_)
        return self._build_kernel(coef, state, getattr(self, "noise_", NoiseModel()))

    def _build_kernel(self, coef: np.ndarray, state: np.ndarray, noise: NoiseModel) -> ArimaxKernel:
        return ArimaxKernel(
            self.spec_,
            coef,
            self.transition_,
            self.design_,
            self.gain_,
            state,
            target=self.target,
            smear=self.smear_,
            log_floor=self.log_floor_,
            noise=noise,
            support=self.support_,
            reference=self.reference_,
        )

    def predict(self, history: SalesHistory) -> np.ndarray:
        """Expected units for each row of ``history`` (kernel arrays, no statsmodels).

        A row at period t inside the fitted clock gets the in-sample one-step forecast
        ``x_t'β + Z a_{t|t-1}`` (with the row's own exog); a row after the sample gets
        the h-step forecast from the end of the sample, h = t − t_last, ``x_t'β +
        Z T^{h-1} a_{T+1|T}`` — no updates, the state advancing one period per period
        of the clock even over periods missing from ``history``.

        Raises:
            ModelError: a row before the fitted sample, or off the whole-period clock.
        """
        self._check_fitted()
        kern = self._make_kernel(getattr(self, "noise_", NoiseModel()))
        ctx = self.spec_.context_from_history(history)
        base = self.spec_.build_context(history.price, ctx) @ self.coef_
        offset = history.t - self.insample_t0_
        k = np.round(offset)
        n_in = self.insample_za_.shape[0]
        bad = (np.abs(offset - k) > 1e-9) | (k < 0)
        if bad.any():
            raise ModelError(
                f"{history.source}: ARIMAX predicts whole periods from t = "
                f"{self.insample_t0_:g} (the start of the fitted sample) on, got t = "
                f"{history.t[bad][:5].tolist()}; pass rows on the fitted history's clock."
            )
        k = k.astype(np.int64)
        za = np.empty(history.n_rows)
        inside = k < n_in
        za[inside] = self.insample_za_[k[inside]]
        if (~inside).any():
            steps = k[~inside] - n_in + 1
            path = np.empty(int(steps.max()))
            a = self.state_
            for h in range(path.size):
                path[h] = a @ self.design_
                a = self.transition_ @ a
            za[~inside] = path[steps - 1]
        return kern.to_units(base + za)

    def _library_units(
        self, res: Any, prices: np.ndarray, ctx: MarketContext, kern: DemandKernel, **options: Any
    ) -> np.ndarray:
        """statsmodels' ``get_forecast(steps=1, exog=row)`` for each row, in units.

        The one-step forecast from the end of the data (like :meth:`expected_units`),
        transformed like the kernel: clipped at 0, or smear·exp for the log target.
        """
        assert isinstance(kern, ArimaxKernel)  # the kernel _make_kernel compiles
        x = self.spec_.build_context(prices, ctx)
        yhat = np.array(
            [
                float(np.asarray(res.get_forecast(steps=1, exog=x[i : i + 1]).predicted_mean)[0])
                for i in range(prices.size)
            ]
        )
        return kern.to_units(yhat)

    # ---------------------------------------------------------------- inference
    def _param_terms(self, res: Any) -> list[str]:
        """All parameters: β, then the ARMA terms (``ar.L1`` ...) and ``sigma2``."""
        return self.spec_.names + list(res.param_names[self.spec_.n_features :])

    # ---------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "spec": self.spec_.to_dict(),
            "order": list(self.order_),
            "seasonal_order": list(self.seasonal_order_),
            "smear": self.smear_,
            "log_floor": self.log_floor_,
            "gain_drift": self.gain_drift_,
            "insample_t0": self.insample_t0_,
        }
        arrays = {
            "coef": self.coef_,
            "coef_cov": self.coef_cov_,
            "transition": self.transition_,
            "design": self.design_,
            "gain": self.gain_,
            "state": self.state_,
            "state_coef": self.state_coef_,
            "insample_za": self.insample_za_,
        }
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.spec_ = FeatureSpec.from_dict(state["spec"])
        order = [int(v) for v in state["order"]]
        seasonal = [int(v) for v in state["seasonal_order"]]
        self.order_ = (order[0], order[1], order[2])
        self.seasonal_order_ = (seasonal[0], seasonal[1], seasonal[2], seasonal[3])
        self.smear_ = float(state["smear"])
        self.log_floor_ = float(state["log_floor"])
        self.gain_drift_ = float(state["gain_drift"])
        self.insample_t0_ = float(state["insample_t0"])
        for name in (
            "coef",
            "coef_cov",
            "transition",
            "design",
            "gain",
            "state",
            "state_coef",
            "insample_za",
        ):
            setattr(self, f"{name}_", np.asarray(arrays[name], dtype=np.float64))
        self.results_ = None
        # Validates the array shapes against each other now rather than at first use.
        self._make_kernel(self.noise_)


# ============================================================================ helpers


def _int_tuple(value: Any, n: int, name: str, shape: str) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` non-negative ints (lists from JSON accepted)."""
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    ok = len(items) == n and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0 for v in items
    )
    if not ok:
        raise ModelError(
            f"{name}={value!r} must be {n} non-negative integers {shape}, e.g. "
            f"{(1, 0, 0) if n == 3 else (1, 0, 0, 12)}."
        )
    return tuple(int(v) for v in items)


def _gain(
    transition: np.ndarray, design: np.ndarray, obs_var: float, cov: np.ndarray
) -> tuple[np.ndarray, float]:
    """Kalman gain K = T P Z' / F and F = Z P Z' + H for one observation."""
    f = float(design @ cov @ design) + obs_var
    return transition @ cov @ design / f, f


def _state_response(
    exog: np.ndarray,
    order: tuple[int, int, int],
    seasonal: tuple[int, int, int, int],
    arma_params: np.ndarray,
) -> np.ndarray:
    """M with a_{T+1|T}(β) = a_{T+1|T}(β̂) − M (β − β̂), shape (k_states, n_exog).

    The Kalman filter is linear in the residuals y − Xβ and its gains do not depend
    on the data, so column j of M is the end-of-sample predicted state of the same
    filter (same SARIMA parameters, same missing periods) run on column j of X.
    ``exog`` holds NaN at periods without an observation.
    """
    out = []
    for column in exog.T:
        sub = SARIMAX(column, order=order, seasonal_order=seasonal, trend="n")
        out.append(sub.filter(arma_params).filter_results.predicted_state[:, -1])
    return np.column_stack(out)
