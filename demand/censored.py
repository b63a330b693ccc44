"""Demand from sales capped by stock: censored-likelihood families.

When a product sells out, the units sold are what the stock allowed, not what
customers wanted: the period's demand is *at least* its sales. A model that fits
those sales as demand underestimates demand exactly where it was highest, and the
price effect comes out biased toward zero (cheap periods sell out more often).
These families put the censoring into the likelihood. A period is censored when
:attr:`~pricegym.demand.data.SalesHistory.censored` says so (``units >= stock``
or the stock-out flag is 1; map the columns with ``load_history(..., stock=COL,
stockout=COL)``, CLI ``--stock-col`` / ``--stockout-col``); a censored row with
``c`` units contributes ``log P(demand >= c)``, every other row its usual density:

==================  ==============================================================
family              demand and likelihood
==================  ==============================================================
censored_poisson    ``Y ~ Poisson(mu)``, ``mu = exp(a + e·log p + …)``; censored
                    rows ``log P(Y >= c)`` (``scipy.stats.poisson.logsf(c − 1)``)
censored_negbin     ``Y ~ NB2(mu, alpha)`` (variance ``mu + alpha·mu²``); censored
                    rows ``log P(Y >= c)``; ``log_alpha`` is a parameter
tobit               ``log Y = a + e·log p + … + sigma·Z``, ``Z ~ N(0, 1)``, right-
                    censored at ``log c`` (a Tobit model of log units); censored
                    rows ``log Φ̄((log c − eta)/sigma)``; ``log_sigma`` a parameter
==================  ==============================================================

Each is a statsmodels :class:`~statsmodels.base.model.GenericLikelihoodModel`
fitted by maximum likelihood, so ``results_`` is statsmodels' results object
(standard errors from the inverse Hessian, ``conf_int``, ``summary()``, AIC/BIC).
The regressors are those of :class:`~pricegym.demand.regression.PoissonDemand`
(log own price, log competitor prices, promotions, product effects, trend,
Fourier terms), so the own-price elasticity is the log-price coefficient with its
Wald interval. The fitted model compiles to the same
:class:`~pricegym.demand.kernels.RegressionKernel` as the log-link regressions:
expected *demand* ``scale · exp(eta)`` (``scale = 1`` for the counts,
``exp(sigma²/2)``, the log-normal mean, for Tobit), sampled with the likelihood's
own noise (Poisson; negative binomial with the fitted ``alpha``; log-normal with
the fitted ``sigma``), not with noise re-estimated from residuals that the
censoring biases. A market built from one simulates uncapped demand; its
inventory (``PricingEnv`` config) caps sales.

The rolling-origin backtest (:meth:`~pricegym.demand.base.DemandModel.backtest`)
scores expected demand against the recorded sales, so on sold-out periods it reads a
censored fit as over-forecasting (by design: the sales understate the demand). A model
comparison (``--model auto``, :func:`~pricegym.demand.selection.compare_models`) on a
history with sold-out periods adds these families and scores every family's backtest
censoring-aware instead (:mod:`pricegym.demand._censored_scoring`), and says how in its
notes.

Without censored periods each reduces to plain maximum likelihood: censored
Poisson is the Poisson GLM (same coefficients; its intervals are the ML ones,
without :class:`PoissonDemand`'s quasi-Poisson scaling), Tobit the OLS of log
units (same coefficients; ``sigma`` the ML estimate).

Every uncensored family warns :class:`~pricegym.errors.CensoringWarning` when fitted
to a history with sold-out periods (:func:`pricegym.demand._stockout.warn_uncensored_fit`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.numdiff import approx_fprime

from pricegym.demand.base import Elasticity
from pricegym.demand.data import SalesHistory
from pricegym.demand.noise import NoiseModel
from pricegym.demand.regression import _RegressionDemand
from pricegym.errors import DataValidationError, ModelError, PricegymWarning

__all__ = [
    "CENSORED_FAMILY_NAMES",
    "CensoredNegBinDemand",
    "CensoredPoissonDemand",
    "TobitDemand",
]

#: Below this NB2 dispersion the censored negative binomial is fitted as censored Poisson
#: (the maximum lies on the bound alpha = 0; see CensoredNegBinDemand).
_ALPHA_BOUND = 1e-4

#: Registered names of the families in this module.
CENSORED_FAMILY_NAMES: tuple[str, ...] = ("censored_poisson", "censored_negbin", "tobit")


# ============================================================== likelihoods
class _CensoredLikelihood(GenericLikelihoodModel):
    """A GenericLikelihoodModel whose rows flagged in ``censored`` are right-censored.

    ``endog`` holds the units sold (the censoring point of a censored row);
    ``predict(params, exog)`` gives expected demand.
    """

    def __init__(
        self, endog: Any, exog: Any, censored: np.ndarray, extra: Sequence[str] = ()
    ) -> None:
        super().__init__(endog, exog, extra_params_names=list(extra) or None)
        self.censored = np.asarray(censored, dtype=bool)
        self.k_beta = int(np.asarray(self.exog).shape[1])

    def _eta(self, params: np.ndarray) -> np.ndarray:
        return np.asarray(self.exog) @ np.asarray(params)[: self.k_beta]

    def mean_factor(self, params: np.ndarray) -> float:
        """Expected demand over ``exp(eta)`` (1 for the count families)."""
        return 1.0

    def predict(self, params: Any, exog: Any = None, *args: Any, **kwargs: Any) -> np.ndarray:
        """Expected demand ``mean_factor · exp(exog @ beta)`` (rows of ``exog``)."""
        x = np.asarray(self.exog if exog is None else exog, dtype=np.float64)
        p = np.asarray(params, dtype=np.float64)
        return self.mean_factor(p) * np.exp(x @ p[: self.k_beta])

    def score(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood: the sum of :meth:`score_obs`."""
        return self.score_obs(params).sum(0)

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Central differences of the score (analytic or numeric), symmetrised."""
        h = approx_fprime(np.asarray(params, dtype=np.float64), self.score, centered=True)
        return 0.5 * (h + h.T)


class _CensoredPoissonLikelihood(_CensoredLikelihood):
    """Poisson counts; a censored row with ``c`` units contributes ``log P(Y >= c)``."""

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        mu = np.exp(self._eta(params))
        y, c = self.endog, self.censored
        ll = stats.poisson.logpmf(y, mu)
        ll[c] = stats.poisson.logsf(y[c] - 1, mu[c])
        return ll

    def score_obs(self, params: np.ndarray) -> np.ndarray:
        # Written by hand (exact, and 20x fewer likelihood evaluations than numeric
        # differences): d log pmf / d eta = y - mu; d log P(Y >= c) / d eta =
        # mu · pmf(c - 1) / P(Y >= c), since d/dmu P(Y >= c) = pmf(c - 1; mu).
        mu = np.exp(self._eta(params))
        y, c = self.endog, self.censored
        d = y - mu
        d[c] = 0.0
        pos = c & (y > 0)  # P(Y >= 0) = 1: a sold-out period with no stock says nothing
        d[pos] = np.exp(
            np.log(mu[pos])
            + stats.poisson.logpmf(y[pos] - 1, mu[pos])
            - stats.poisson.logsf(y[pos] - 1, mu[pos])
        )
        return d[:, None] * np.asarray(self.exog)


class _CensoredNegBinLikelihood(_CensoredLikelihood):
    """NB2 counts (mean mu, variance mu + alpha·mu²); the last parameter is log alpha.

    The score is statsmodels' numeric default (central differences): the derivative of
    the NB tail in its size parameter has no closed form.
    """

    def _nb(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = np.exp(self._eta(params))
        size = np.exp(-params[-1])  # 1 / alpha
        return np.broadcast_to(size, mu.shape), size / (size + mu)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        size, prob = self._nb(params)
        y, c = self.endog, self.censored
        ll = stats.nbinom.logpmf(y, size, prob)
        ll[c] = stats.nbinom.logsf(y[c] - 1, size[c], prob[c])
        return ll

    def score_obs(self, params: np.ndarray) -> np.ndarray:
        return approx_fprime(np.asarray(params, dtype=np.float64), self.loglikeobs, centered=True)


class _TobitLikelihood(_CensoredLikelihood):
    """Normal log units (mean eta, sd sigma) right-censored at log c; last param log sigma.

    The log-likelihood is that of log units (as :class:`LogLinearDemand`'s OLS).
    """

    def mean_factor(self, params: np.ndarray) -> float:
        return float(np.exp(0.5 * np.exp(2.0 * params[-1])))

    def _z(self, params: np.ndarray) -> tuple[np.ndarray, float]:
        sigma = float(np.exp(params[-1]))
        with np.errstate(divide="ignore"):  # log 0 = -inf: a censored row with no stock
            log_y = np.log(self.endog)
        return (log_y - self._eta(params)) / sigma, sigma

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        z, sigma = self._z(params)
        c = self.censored
        ll = stats.norm.logpdf(z) - np.log(sigma)
        ll[c] = stats.norm.logsf(z[c])
        return ll

    def score_obs(self, params: np.ndarray) -> np.ndarray:
        # By hand (exact): uncensored d/d eta = z / sigma, d/d log sigma = z² - 1;
        # censored with the inverse Mills ratio lam = phi(z) / (1 - Phi(z)):
        # d/d eta = lam / sigma, d/d log sigma = lam · z.
        z, sigma = self._z(params)
        c = self.censored
        d_eta = z / sigma
        d_log_sigma = z**2 - 1.0
        pos = c & np.isfinite(z)
        lam = np.exp(stats.norm.logpdf(z[pos]) - stats.norm.logsf(z[pos]))
        d_eta[c], d_log_sigma[c] = 0.0, 0.0
        d_eta[pos], d_log_sigma[pos] = lam / sigma, lam * z[pos]
        return np.column_stack([d_eta[:, None] * np.asarray(self.exog), d_log_sigma])


# ================================================================== families
class _CensoredDemand(_RegressionDemand):
    """Shared machinery: regressors of the log-link regressions, a censored likelihood.

    Hyper-parameters (all keyword-only):
        competitors: use all competitor-price columns (True, in logs), none (False) or
            the named ones.
        promotions: same, for promotion flags.
        trend: add a linear time trend.
        seasonality: Fourier harmonic pairs, or ``"auto"`` (2 for seasonal data that
            spans two cycles, else 0).
        product_effects: a fixed effect per product when the data is a panel.
        cov_type: statsmodels' covariance of the maximum-likelihood estimate:
            ``"nonrobust"`` (the inverse Hessian) or ``"HC0"`` (the sandwich).
        season_period: periods per seasonal cycle of the Fourier terms; ``None`` = the
            data's (5 for a Mon–Fri trading calendar, 7 for daily, 12 monthly).
        maxiter: iterations of the likelihood optimiser (Newton; BFGS for the NB2).
    """

    handles_censoring = True
    price_transform = "log"
    link = "log"
    #: Names of the parameters after the regression coefficients.
    extra_params: ClassVar[tuple[str, ...]] = ()
    #: The family's name in sentences.
    title: ClassVar[str] = ""
    #: scipy optimiser statsmodels runs (``newton`` uses the Hessian above).
    method: ClassVar[str] = "newton"

    def __init__(
        self,
        *,
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        product_effects: bool = True,
        cov_type: str = "nonrobust",
        season_period: float | None = None,
        maxiter: int = 200,
    ) -> None:
        self.competitors = competitors
        self.promotions = promotions
        self.trend = trend
        self.seasonality = seasonality
        self.season_period = season_period
        self.product_effects = product_effects
        self.cov_type = cov_type
        self.maxiter = maxiter

    # ---------------------------------------------------------------- fitting
    def min_rows(self, history: SalesHistory) -> int:
        """Coefficients + extra parameters + 2."""
        return self._spec(history).n_features + len(self.extra_params) + 2

    def fit(self, history: SalesHistory) -> _CensoredDemand:
        """Fit by censored maximum likelihood (see the module docstring); returns ``self``.

        Raises:
            DataValidationError: too few uncensored periods to identify the model, or
                units the family cannot take (fractional counts; zero units for Tobit).
            ModelError: the likelihood's Hessian is singular (the model is not
                identified by these data).
        """
        super().fit(history)
        self.noise_ = self._noise()
        return self

    def _check_units(self, history: SalesHistory, y: np.ndarray, censored: np.ndarray) -> None:
        fractional = np.flatnonzero(y != np.round(y))
        if fractional.size:
            raise DataValidationError(
                f"{history.source}: {type(self).__name__} models counts, but {fractional.size} "
                f"row(s) have fractional units (first {y[fractional[:5]].tolist()}); use "
                "TobitDemand (--model tobit) for continuous sales."
            )

    def _fit(self, history: SalesHistory) -> None:
        self.spec_ = self._spec(history)
        x = pd.DataFrame(self.spec_.from_history(history), columns=self.spec_.names)
        self._check_identified(x, history.source)
        y = history.units
        censored = history.censored
        self._check_units(history, y, censored)
        n_params = x.shape[1] + len(self.extra_params)
        if int((~censored).sum()) <= n_params:
            raise DataValidationError(
                f"{history.source}: only {int((~censored).sum())} of {y.size} periods did not "
                f"sell out, but {type(self).__name__} has {n_params} parameters: the censored "
                "periods say only that demand was at least the sales, so the demand level is "
                "not identified. Fix: a longer history, fewer terms (competitors=False, "
                "seasonality=0), or check the stock / stock-out columns."
            )
        model, res, caught = self._maximise(y, x, censored, history.source)
        if not self.converged_:
            texts = "; ".join(sorted({str(w.message) for w in caught}))[:300]
            warnings.warn(
                f"{type(self).__name__}: the maximum-likelihood optimiser did not converge in "
                f"{self.maxiter} iterations{f' ({texts})' if texts else ''}; the estimates "
                "may be off. Fix: raise maxiter, or drop terms.",
                PricegymWarning,
                stacklevel=4,
            )
        params = np.asarray(res.params, dtype=np.float64)
        k = x.shape[1]
        self.results_ = res
        self.params_ = params
        self.params_cov_ = np.asarray(res.cov_params(), dtype=np.float64)
        self.coef_ = params[:k].copy()
        self.coef_cov_ = self.params_cov_[:k, :k].copy()
        self.df_resid_ = float(y.size - params.size)
        self.n_censored_ = int(censored.sum())
        self._set_extra(params[k:])
        self.scale_ = float(model.mean_factor(params))

    def _maximise(
        self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray, source: str
    ) -> tuple[Any, Any, list[Any]]:
        """The family's likelihood maximised from :meth:`_start` (see :meth:`_run`)."""
        model = self._likelihood(y, x, censored)
        return self._run(model, self._start(y, x, censored), self.method, source)

    def _run(
        self, model: Any, start: np.ndarray, method: str, source: str
    ) -> tuple[Any, Any, list[Any]]:
        """``(model, statsmodels results, warnings caught)``; sets ``converged_``.

        Raises:
            ModelError: the Hessian at the estimate cannot be inverted.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = model.fit(
                start_params=start,
                method=method,
                maxiter=int(self.maxiter),
                disp=0,
                cov_type=self.cov_type,
            )
        self.converged_ = bool(res.mle_retvals.get("converged", True))
        try:
            cov = np.asarray(res.cov_params(), dtype=np.float64)
        except ValueError:  # statsmodels could not invert the Hessian
            cov = np.full((res.params.size, res.params.size), np.nan)
        if not (np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)):
            raise ModelError(
                f"{source}: the {self.title} likelihood's Hessian is singular at the "
                f"estimate (parameters {np.round(np.asarray(res.params), 4).tolist()}): the "
                "data do not identify every term; drop terms (competitors=False, "
                "seasonality=0)."
            )
        return model, res, list(caught)

    def _likelihood(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> Any:
        raise NotImplementedError

    def _start(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> np.ndarray:
        """Start values: the naive Poisson GLM (censored rows taken as demand)."""
        glm = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        return np.asarray(glm.params, dtype=np.float64)

    def _set_extra(self, extra: np.ndarray) -> None:
        """Store the parameters after the coefficients (``alpha_``, ``sigma_``)."""

    def _noise(self) -> NoiseModel:
        return NoiseModel("poisson")

    def _fit_for_backtest(self, history: SalesHistory) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.fit(history)

    # ---------------------------------------------------------------- inference
    def params_table(self) -> pd.DataFrame:
        """Every parameter (coefficients, then ``log_alpha`` / ``log_sigma``) with its
        standard error and 95% Wald interval from statsmodels' results."""
        res = getattr(self, "results_", None)
        if res is None:
            return self._saved_params_table
        ci = np.asarray(res.conf_int(alpha=0.05))
        return pd.DataFrame(
            {
                "term": [*self.spec_.names, *self.extra_params][: self.params_.size],
                "estimate": self.params_,
                "std_err": np.asarray(res.bse, dtype=np.float64),
                "ci_low": ci[:, 0],
                "ci_high": ci[:, 1],
            }
        )

    def information(self) -> dict[str, float]:
        """AIC, BIC and log-likelihood of the censored likelihood (statsmodels' results),
        and the number of censored periods."""
        res = getattr(self, "results_", None)
        if res is None:
            return dict(self._saved_information)
        return {
            "aic": float(res.aic),
            "bic": float(res.bic),
            "llf": float(res.llf),
            "n_censored": float(self.n_censored_),
        }

    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 0, seed: int = 0
    ) -> Elasticity:
        """The log-price coefficient with its normal (Wald) CI (same at every price)."""
        self._check_fitted()
        i = self.spec_.price_index
        est, se = float(self.coef_[i]), float(np.sqrt(self.coef_cov_[i, i]))
        q = float(stats.norm.ppf((1 + level) / 2))
        p0 = self.mean_price_ if price is None else float(price)
        method = (
            f"log-price coefficient, Wald interval ({self.title} maximum likelihood, "
            f"{self.n_censored_} of {self.n_obs_} periods censored)"
        )
        return Elasticity(est, est - q * se, est + q * se, p0, level, method)

    # ---------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super()._get_state()
        state = {**state, "n_censored": self.n_censored_, "converged": self.converged_}
        return state, {**arrays, "params": self.params_, "params_cov": self.params_cov_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.n_censored_ = int(state["n_censored"])
        self.converged_ = bool(state["converged"])
        self.params_ = np.asarray(arrays["params"], dtype=np.float64)
        self.params_cov_ = np.asarray(arrays["params_cov"], dtype=np.float64)
        self._set_extra(self.params_[self.coef_.size :])


class CensoredPoissonDemand(_CensoredDemand):
    """Poisson demand ``E[Y] = exp(a + e·log p + …)`` with sold-out periods censored.

    The regressors of :class:`~pricegym.demand.regression.PoissonDemand`; hyper-parameters
    as listed under ``_CensoredDemand`` (no ``noise``: the market samples Poisson
    demand). Units must be whole counts.
    """

    family = "censored_poisson"
    title = "censored Poisson"

    def _likelihood(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> Any:
        return _CensoredPoissonLikelihood(y, x, censored)


class CensoredNegBinDemand(_CensoredDemand):
    """NB2 demand (mean ``exp(a + e·log p + …)``, variance ``mu + alpha·mu²``), censored.

    Same hyper-parameters as :class:`CensoredPoissonDemand`; ``alpha_`` is the fitted
    dispersion (parameter ``log_alpha``), which the market's negative-binomial noise
    uses. Optimised with BFGS on statsmodels' numeric score. When the data show no
    over-dispersion the likelihood's maximum lies on the bound ``alpha = 0`` (below
    1e-4): the fit is then the censored Poisson one, ``alpha_ = 0`` and
    ``at_bound_ = True`` (``information()["alpha_at_bound"] = 1``).
    """

    family = "censored_negbin"
    title = "censored negative binomial"
    extra_params = ("log_alpha",)
    method = "bfgs"

    def _likelihood(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> Any:
        return _CensoredNegBinLikelihood(y, x, censored, self.extra_params)

    def _maximise(
        self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray, source: str
    ) -> tuple[Any, Any, list[Any]]:
        """NB2 maximum likelihood; when the dispersion runs to its bound 0 (no variance
        beyond Poisson: log alpha has no finite maximum and the Hessian is singular) the
        maximum is the censored Poisson one, which is fitted instead."""
        try:
            found = super()._maximise(y, x, censored, source)
            if np.exp(found[1].params[-1]) >= _ALPHA_BOUND:
                return found
        except ModelError:
            pass
        poisson = _CensoredPoissonLikelihood(y, x, censored)
        return self._run(poisson, _CensoredDemand._start(self, y, x, censored), "newton", source)

    def _start(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> np.ndarray:
        beta = super()._start(y, x, censored)
        mu = np.exp(x.to_numpy() @ beta)
        alpha = NoiseModel.fit("negbin", y[~censored], mu[~censored]).alpha
        return np.append(beta, np.log(max(alpha, 0.01)))

    def _set_extra(self, extra: np.ndarray) -> None:
        self.alpha_ = float(np.exp(extra[0])) if extra.size else 0.0
        self.at_bound_ = extra.size == 0

    def _noise(self) -> NoiseModel:
        return NoiseModel("negbin", alpha=self.alpha_)

    def information(self) -> dict[str, float]:
        """As the other censored families, plus ``alpha_at_bound`` (1 when alpha = 0)."""
        info = super().information()
        if getattr(self, "results_", None) is None:
            return info
        return {**info, "alpha_at_bound": float(self.at_bound_)}


class TobitDemand(_CensoredDemand):
    """Log-linear demand ``log Y = a + e·log p + … + sigma·Z`` right-censored at sell-outs.

    The Tobit model of log units: :class:`~pricegym.demand.regression.LogLinearDemand`
    with the censoring in the likelihood. Same hyper-parameters as
    :class:`CensoredPoissonDemand`. ``sigma_`` is the fitted standard deviation of log
    demand (parameter ``log_sigma``); expected demand is ``exp(eta + sigma²/2)`` and the
    market samples log-normal demand with that ``sigma``. Uncensored periods need
    units > 0 (a censored period with no stock says nothing and is allowed).
    """

    family = "tobit"
    title = "Tobit (right-censored normal log units)"
    extra_params = ("log_sigma",)

    def _check_units(self, history: SalesHistory, y: np.ndarray, censored: np.ndarray) -> None:
        zero = np.flatnonzero((y <= 0) & ~censored)
        if zero.size:
            raise DataValidationError(
                f"{history.source}: TobitDemand models log(units), but {zero.size} period(s) "
                f"that did not sell out have units = 0 (first at t = "
                f"{history.t[zero[:5]].tolist()}); use CensoredPoissonDemand (--model "
                "censored_poisson), which handles zero sales."
            )

    def _likelihood(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> Any:
        return _TobitLikelihood(y, x, censored, self.extra_params)

    def _start(self, y: np.ndarray, x: pd.DataFrame, censored: np.ndarray) -> np.ndarray:
        """Start values: OLS of log units on the periods with sales (censored as demand)."""
        rows = y > 0
        ols = sm.OLS(np.log(y[rows]), x.loc[rows]).fit()
        sd = float(np.sqrt(max(ols.scale, 1e-6)))
        return np.append(np.asarray(ols.params, dtype=np.float64), np.log(sd))

    def _set_extra(self, extra: np.ndarray) -> None:
        self.sigma_ = float(np.exp(extra[0]))

    def _noise(self) -> NoiseModel:
        return NoiseModel("lognormal", sigma=self.sigma_)
