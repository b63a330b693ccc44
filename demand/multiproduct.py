"""Multi-product demand systems: each product's units on the prices of all products.

One seller prices a catalogue of K products that substitute for (or complement)
each other. Fitted from a balanced catalogue panel (:func:`~pricegym.demand.catalogue.catalogue`:
product, period, price, units, optional competitor prices), one equation per product:

- :class:`LogLogSystem` (``loglog_system``)::

      log q_j = a_j + sum_k E[j, k] · log p_k + sum_{k,c} g[j, k, c] · log comp_{k,c}
                (+ d_j · t) + e_j

  ``E`` is the K×K elasticity matrix itself (constant). Expected units use Duan's
  smearing factor per equation, ``mean(exp(e_j))``.
- :class:`LinearSystem` (``linear_system``)::

      q_j = a_j + sum_k B[j, k] · p_k + sum_{k,c} g[j, k, c] · comp_{k,c} (+ d_j · t) + e_j

  The elasticity matrix at the mean prices is ``E[j, k] = B[j, k] · p̄_k / q̂_j`` (q̂_j
  the fitted units at the means), its interval by the delta method; mean units are
  clipped at zero (a linear demand line crosses zero at a high enough price).

``comp_{k,c}`` is competitor column c on product k's row (the rival's price of
product k); every product's competitor prices enter every equation, so all K
equations share one set of regressors. Each equation is an ordinary least-squares
fit by statsmodels (``results_[j]`` keeps its results object: standard errors,
``conf_int``, the HC1 covariance by default). With shared regressors equation-by-
equation OLS *is* the joint (SUR / GLS) estimator (Zellner 1962), so no system
library is needed; the interval of each elasticity is its own equation's.

Signs are checked after every fit (:func:`check_signs`): an own-price elasticity
≥ 0 and a cross-price elasticity significantly below zero (a complement) that the
user did not declare in ``complements`` each raise an
:class:`ImplausibleElasticityWarning` and are listed in ``sign_checks_``. Prices
that the seller set in response to demand bias these estimates (see
:mod:`pricegym.demand.iv`; the logit from shares, :mod:`pricegym.demand.logit_shares`,
has an IV version).

Every fitted system is a :class:`~pricegym.demand.multiproduct_protocol.MultiProductDemand`:
:meth:`_DemandSystem.mean_units` is a pure-numpy batched evaluation of the
coefficients (the kernel); :meth:`_DemandSystem.library_mean_units` asks
statsmodels for the same numbers (to prove the kernel right).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from pricegym.demand.catalogue import Catalogue, catalogue
from pricegym.demand.data import SalesHistory
from pricegym.errors import (
    ConfigError,
    DataValidationError,
    ModelError,
    NotFittedError,
    PricegymWarning,
)

__all__ = [
    "ElasticityMatrix",
    "ImplausibleElasticityWarning",
    "LinearSystem",
    "LogLogSystem",
    "check_prices",
    "check_signs",
]


class ImplausibleElasticityWarning(PricegymWarning):
    """A fitted elasticity has a sign economics does not expect (see :func:`check_signs`)."""


@dataclass(frozen=True)
class ElasticityMatrix:
    """The K×K matrix ``E[j, k] = d log E[q_j] / d log p_k`` with its intervals.

    Attributes:
        products: the K product keys (rows: whose units; columns: whose price).
        estimate, ci_low, ci_high: (K, K) point estimates and ``level`` bounds.
        prices: (K,) the prices it was evaluated at (mean prices of the data).
        level: the confidence level, e.g. 0.95.
        method: how the estimate and the interval were computed.
    """

    products: tuple[str, ...]
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    prices: np.ndarray
    level: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per (product, price_of) with estimate, ci_low, ci_high."""
        k = len(self.products)
        return pd.DataFrame(
            {
                "product": np.repeat(self.products, k),
                "price_of": np.tile(self.products, k),
                "estimate": self.estimate.ravel(),
                "ci_low": self.ci_low.ravel(),
                "ci_high": self.ci_high.ravel(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (nested lists, rows = whose units)."""
        return {
            "products": list(self.products),
            "estimate": self.estimate.tolist(),
            "ci_low": self.ci_low.tolist(),
            "ci_high": self.ci_high.tolist(),
            "prices": self.prices.tolist(),
            "level": self.level,
            "method": self.method,
        }


def check_signs(
    matrix: ElasticityMatrix, complements: Iterable[tuple[str, str]] = (), warn: bool = True
) -> list[str]:
    """Implausible signs of an elasticity matrix, as sentences (warned unless ``warn=False``).

    Rules: an own-price elasticity ``E[j, j] >= 0`` (demand that does not fall with
    its own price); a cross-price elasticity whose whole interval lies below zero
    (``ci_high < 0``: j's units fall when k's price rises, a complement) unless the
    pair ``(j, k)`` or ``(k, j)`` is in ``complements``.
    """
    declared = {frozenset((str(a), str(b))) for a, b in complements}
    names = matrix.products
    found = []
    for j, name in enumerate(names):
        e, lo, hi = matrix.estimate[j, j], matrix.ci_low[j, j], matrix.ci_high[j, j]
        if e >= 0:
            found.append(
                f"own-price elasticity of {name!r} is {e:+.3g} [{lo:.3g}, {hi:.3g}] >= 0: its "
                "units rise with its own price. Usual causes: prices set in response to "
                "demand (promotions timed to busy weeks) or a missing demand driver. Fix: "
                "instrument the prices (the logit from shares takes instruments), add the "
                "driver, or check the data."
            )
        for k, other in enumerate(names):
            if k == j or frozenset((name, other)) in declared:
                continue
            e, lo, hi = matrix.estimate[j, k], matrix.ci_low[j, k], matrix.ci_high[j, k]
            if hi < 0:
                found.append(
                    f"cross-price elasticity of {name!r} on the price of {other!r} is {e:+.3g} "
                    f"[{lo:.3g}, {hi:.3g}] < 0: they behave as complements. If they are "
                    f"(a razor and its blades), declare it: complements=[({name!r}, "
                    f"{other!r})]; if they should substitute, suspect common demand shocks "
                    "that move all prices (add a trend or instruments)."
                )
    if warn:
        for text in found:
            warnings.warn(text, ImplausibleElasticityWarning, stacklevel=3)
    return found


def check_prices(prices: Any, n_products: int, names: Sequence[str]) -> np.ndarray:
    """``prices`` as a (B, K) float64 array of positive finite numbers (a (K,) row is B = 1).

    Raises:
        ModelError: wrong shape, or a price that is not a finite number > 0.
    """
    p = np.asarray(prices, dtype=np.float64)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != n_products:
        raise ModelError(
            f"prices of shape {np.shape(prices)}: a demand model of {n_products} products "
            f"{list(names)} takes prices of shape (B, {n_products}), one column per product "
            "in that order. Fix: pass one price per product for each market."
        )
    bad = ~(np.isfinite(p) & (p > 0))
    if bad.any():
        b, k = np.argwhere(bad)[0]
        raise ModelError(
            f"price {float(p[b, k])!r} of product {names[k]!r} (market {b}): prices must be finite "
            "numbers > 0. Fix: pass positive prices."
        )
    return p


def _periods(period: Any, b: int) -> np.ndarray:
    t = np.asarray(period, dtype=np.float64)
    if t.ndim == 0:
        return np.full(b, float(t))
    if t.shape != (b,):
        raise ModelError(
            f"period of shape {t.shape} for {b} markets: pass one int, or one period per "
            f"market (shape ({b},))."
        )
    if not np.isfinite(t).all():
        raise ModelError(f"period {period!r}: periods must be finite numbers.")
    return t


class _DemandSystem:
    """What the log-log and linear systems share: design, fit, kernel, elasticities."""

    family: ClassVar[str]
    #: "log" when prices and competitor prices enter in logs
    _scale: ClassVar[str]

    def __init__(
        self,
        *,
        products: Sequence[str] | None = None,
        competitors: bool = True,
        trend: bool = False,
        cov_type: str = "HC1",
        complements: Sequence[tuple[str, str]] = (),
        level: float = 0.95,
    ) -> None:
        self.products = products
        self.competitors = competitors
        self.trend = trend
        self.cov_type = cov_type
        self.complements = complements
        self.level = level

    def __repr__(self) -> str:
        return f"{type(self).__name__}(family={self.family!r})"

    # ------------------------------------------------------------------ fit
    def fit(self, data: SalesHistory | Catalogue) -> Self:
        """Fit one OLS equation per product on a catalogue panel (see the module docstring).

        ``data``: a panel history with a product key (``load_history(..., product=COL)``)
        or a ready :class:`~pricegym.demand.catalogue.Catalogue`.

        Raises:
            DataValidationError: not a balanced catalogue of >= 2 products
                (:func:`~pricegym.demand.catalogue.catalogue`), non-positive units in a
                log-log fit, too few periods for the terms.
            ConfigError: an invalid ``level``.
        """
        if not 0 < float(self.level) < 1:
            raise ConfigError(f"level={self.level!r} must lie strictly between 0 and 1 (0.95).")
        cat = data if isinstance(data, Catalogue) else catalogue(data, self.products)
        self.catalogue_ = cat
        self.n_products = cat.n_products
        self.product_names = cat.products
        self.competitor_names_ = cat.competitor_names
        self._check_target(cat)
        x, names = self._design(cat.prices, cat.competitors if self.competitors else None, cat.t)
        self.term_names_ = names
        if cat.n_periods < len(names) + 2:
            raise DataValidationError(
                f"{cat.source}: {cat.n_periods} periods are too few for a {self.family} of "
                f"{cat.n_products} products: each equation has {len(names)} terms and needs at "
                f"least {len(names) + 2} periods. Fix: a longer history, fewer products, "
                "competitors=False or trend=False."
            )
        if np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataValidationError(
                f"{cat.source}: the terms {names} are collinear (e.g. two products whose prices "
                "always move together, or a price that never changes), so the cross-price "
                "effects are not identified. Fix: drop one of the products or use data where "
                "their prices move separately."
            )
        y = self._target(cat.units)
        self.results_ = []
        for j in range(cat.n_products):
            res = sm.OLS(y[:, j], pd.DataFrame(x, columns=names)).fit(cov_type=self.cov_type)
            self.results_.append(res)
        self.coef_ = np.array([np.asarray(r.params) for r in self.results_])  # (K, terms)
        self.smearing_ = self._smearing()
        self.mean_prices_ = cat.prices.mean(axis=0)
        self.reference_competitors_ = cat.competitors.mean(axis=0)  # (K, m)
        self.last_t_ = float(cat.t.max())
        self.support_ = np.column_stack([cat.prices.min(axis=0), cat.prices.max(axis=0)])
        self.elasticity_ = self.elasticity_matrix()
        self.sign_checks_ = check_signs(self.elasticity_, self.complements)
        return self

    def _check_target(self, cat: Catalogue) -> None:
        """Hook: the log-log system refuses zero units."""

    def _target(self, units: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _price_terms(self, values: np.ndarray) -> np.ndarray:
        return np.log(values) if self._scale == "log" else values

    def _design(
        self, prices: np.ndarray, competitors: np.ndarray | None, t: np.ndarray
    ) -> tuple[np.ndarray, list[str]]:
        """The regressors all equations share: const, K (log) prices, K·m competitors, t."""
        b = prices.shape[0]
        cols = [np.ones(b), *self._price_terms(prices).T]
        names = ["const", *(f"price[{p}]" for p in self.product_names)]
        if competitors is not None and competitors.shape[-1]:
            comp = self._price_terms(competitors)
            for k, pname in enumerate(self.product_names):
                for c, cname in enumerate(self.competitor_names_):
                    cols.append(comp[:, k, c])
                    names.append(f"{cname}[{pname}]")
        if self.trend:
            cols.append(np.asarray(t, dtype=np.float64))
            names.append("t")
        return np.column_stack(cols), names

    def _smearing(self) -> np.ndarray:
        return np.ones(self.n_products)

    # ------------------------------------------------------------------ kernel
    def _check_fitted(self) -> None:
        if getattr(self, "coef_", None) is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(history) first."
            )

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as JSON + .npz (see :mod:`pricegym.demand.multiproduct_io`)."""
        # cycle: it imports this module
        from pricegym.demand.multiproduct_io import save_multiproduct

        return save_multiproduct(self, path)

    def mean_units(
        self, prices: Any, period: int | np.ndarray = 0, *, competitors: Any = None
    ) -> np.ndarray:
        """Expected units (B, K) at ``prices`` (B, K): the kernel, pure numpy.

        Args:
            prices: one price per product and market, shape (B, K) (or (K,) for B = 1).
            period: periods after the end of the history (0 = the first period after
                the data), an int or one per market; used by the trend term only.
            competitors: competitor prices (B, K, m); default their means in the data.
        """
        self._check_fitted()
        p = check_prices(prices, self.n_products, self.product_names)
        if competitors is not None:
            return self._response(self._kernel_design(p, period, competitors) @ self.coef_.T)
        base, slope, trend = self._kernel_constants()
        eta = base + self._price_terms(p) @ slope
        if trend is not None:
            eta += _periods(period, p.shape[0])[:, None] * trend
        return self._response(eta)

    def _kernel_constants(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The kernel's folded coefficients at the reference competitor prices (cached).

        ``base`` (K,): every term but the prices at period 0 after the data; ``slope``
        (K, K): the price coefficients, transposed for ``prices @ slope``; ``trend``
        (K,) or None: the per-period change.
        """
        cached = getattr(self, "_kernel_cache", None)
        if cached is not None and cached[0] is self.coef_:
            return cached[1]
        k = self.n_products
        zero = np.zeros((1, k)) if self._scale == "level" else np.ones((1, k))
        x0 = self._kernel_design(zero, 0, None)  # price terms are 0 at this row
        base = (x0 @ self.coef_.T)[0]
        slope = self.coef_[:, 1 : 1 + k].T.copy()
        trend = self.coef_[:, self.term_names_.index("t")].copy() if self.trend else None
        self._kernel_cache = (self.coef_, (base, slope, trend))
        return base, slope, trend

    def _kernel_design(self, p: np.ndarray, period: Any, competitors: Any) -> np.ndarray:
        b = p.shape[0]
        t = self.last_t_ + 1.0 + _periods(period, b)
        comp = None
        if self.competitors and self.competitor_names_:
            ref = self.reference_competitors_
            comp = np.broadcast_to(ref, (b, *ref.shape)) if competitors is None else competitors
            comp = np.asarray(comp, dtype=np.float64)
            if comp.shape != (b, *ref.shape):
                raise ModelError(
                    f"competitors of shape {comp.shape}: pass (B, K, m) = {(b, *ref.shape)}, "
                    f"competitor columns {list(self.competitor_names_)} per product."
                )
        x, _ = self._design(p, comp, t)
        return x

    def _response(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def library_mean_units(
        self, prices: Any, period: int | np.ndarray = 0, *, competitors: Any = None
    ) -> np.ndarray:
        """statsmodels' own prediction (``results_[j].predict``) at the same inputs."""
        self._check_fitted()
        p = check_prices(prices, self.n_products, self.product_names)
        x = pd.DataFrame(self._kernel_design(p, period, competitors), columns=self.term_names_)
        pred = np.column_stack([np.asarray(r.predict(x)) for r in self.results_])
        return self._library_response(pred)

    def _library_response(self, pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ inference
    def elasticity_matrix(self) -> ElasticityMatrix:
        """The K×K elasticity matrix at the mean prices, with ``level`` intervals."""
        raise NotImplementedError

    def params_table(self) -> pd.DataFrame:
        """Every equation's coefficients with standard errors and ``level`` intervals."""
        self._check_fitted()
        rows = []
        for name, res in zip(self.product_names, self.results_, strict=True):
            ci = np.asarray(res.conf_int(alpha=1 - self.level))
            rows.append(
                pd.DataFrame(
                    {
                        "equation": name,
                        "term": self.term_names_,
                        "estimate": np.asarray(res.params),
                        "std_err": np.asarray(res.bse),
                        "ci_low": ci[:, 0],
                        "ci_high": ci[:, 1],
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)


class LogLogSystem(_DemandSystem):
    """Constant-elasticity demand system: ``log q_j = a_j + sum_k E[j,k] log p_k + ...``.

    Hyper-parameters: ``products`` (the catalogue's products to model, default all),
    ``competitors`` (include each product's competitor prices, in logs), ``trend``
    (a linear time trend per equation), ``cov_type`` (statsmodels' covariance,
    default ``"HC1"``), ``complements`` (pairs expected to be complements: no
    warning for their negative cross elasticities), ``level`` (of the intervals).
    See :mod:`pricegym.demand.multiproduct`.
    """

    family = "loglog_system"
    _scale = "log"

    def _check_target(self, cat: Catalogue) -> None:
        bad = np.argwhere(~(cat.units > 0))
        if bad.size:
            i, k = bad[0]
            raise DataValidationError(
                f"{cat.source}: units {cat.units[i, k]:g} of product {cat.products[k]!r} at "
                f"t = {cat.t[i]:g} ({len(bad)} product-period(s) with units <= 0): a log-log "
                "system takes log(units), so units must be > 0. Fix: use LinearSystem, drop "
                "those periods, or aggregate to a coarser period with positive sales."
            )

    def _target(self, units: np.ndarray) -> np.ndarray:
        return np.log(units)

    def _smearing(self) -> np.ndarray:
        return np.array([float(np.mean(np.exp(r.resid))) for r in self.results_])

    def _response(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(eta) * self.smearing_

    def _library_response(self, pred: np.ndarray) -> np.ndarray:
        return np.exp(pred) * self.smearing_

    def elasticity_matrix(self) -> ElasticityMatrix:
        """``E[j, k]``: the log-price coefficients, statsmodels' ``conf_int`` as intervals."""
        self._check_fitted()
        k = self.n_products
        cols = slice(1, 1 + k)
        est = self.coef_[:, cols].copy()
        ci = np.array([np.asarray(r.conf_int(alpha=1 - self.level))[cols] for r in self.results_])
        return ElasticityMatrix(
            self.product_names,
            est,
            ci[:, :, 0],
            ci[:, :, 1],
            self.mean_prices_.copy(),
            float(self.level),
            f"log-price coefficients of one OLS per product (statsmodels, {self.cov_type})",
        )


class LinearSystem(_DemandSystem):
    """Linear demand system: ``q_j = a_j + sum_k B[j,k] p_k + ...`` (units clipped at 0).

    Hyper-parameters as :class:`LogLogSystem` (competitor prices in levels). The
    elasticity matrix is evaluated at the mean prices and competitor prices (and the
    period after the data when there is a trend); its intervals are delta-method
    intervals from each equation's covariance.
    """

    family = "linear_system"
    _scale = "level"

    def _target(self, units: np.ndarray) -> np.ndarray:
        return units

    def _response(self, eta: np.ndarray) -> np.ndarray:
        return np.maximum(eta, 0.0)

    def _library_response(self, pred: np.ndarray) -> np.ndarray:
        return np.maximum(pred, 0.0)

    def elasticity_matrix(self) -> ElasticityMatrix:
        """``B[j, k] p̄_k / q̂_j`` at the means, delta-method intervals."""
        self._check_fitted()
        k = self.n_products
        x0 = self._kernel_design(self.mean_prices_[None, :], 0, None)[0]
        q = self.coef_ @ x0
        if (q <= 0).any():
            j = int(np.argmin(q))
            raise ModelError(
                f"the fitted linear demand of {self.product_names[j]!r} is {q[j]:.3g} <= 0 at "
                "the mean prices, so its elasticity is undefined. Fix: use LogLogSystem."
            )
        z = float(stats.norm.ppf((1 + self.level) / 2))
        est, se = np.empty((k, k)), np.empty((k, k))
        for j, res in enumerate(self.results_):
            cov = np.asarray(res.cov_params())
            for m in range(k):
                b = self.coef_[j, 1 + m]
                pk = self.mean_prices_[m]
                est[j, m] = b * pk / q[j]
                grad = -b * pk * x0 / q[j] ** 2
                grad[1 + m] += pk / q[j]
                se[j, m] = float(np.sqrt(grad @ cov @ grad))
        return ElasticityMatrix(
            self.product_names,
            est,
            est - z * se,
            est + z * se,
            self.mean_prices_.copy(),
            float(self.level),
            f"B[j,k] p_k / q_j at the mean prices; delta-method intervals ({self.cov_type})",
        )
