"""Multinomial (and nested) logit demand fitted from market shares: :class:`LogitShares`.

Each period is a market of ``M`` potential buyers (``market_size``) who buy one of
the K products or nothing (the outside option, utility 0). Product j's mean utility
is ``δ_j = ξ_j − α p_j + γ · comp_j (+ d · t)`` (ξ_j a product effect, ``comp_j`` the
competitor prices on j's row), and with logit errors the shares are

    s_j = exp(δ_j) / (1 + sum_k exp(δ_k)),     s_0 = 1 − sum_k s_k.

Berry's (1994) inversion turns the shares into a linear regression,
``ln s_j − ln s_0 = δ_j`` (:func:`berry_inversion`), so α, ξ and γ are one OLS (or,
with instruments, one 2SLS) on the stacked product-periods. With ``nests``
(product → nest) the model is the one-level nested logit: the inversion gains the
term ``σ · ln s_{j|g}`` (the share within the nest; σ in [0, 1), 0 is the plain
logit). That term is endogenous by construction, so a nested fit without
instruments warns; with instruments, each instrument's sum over the *other*
products of the nest is added to instrument it.

Why by hand and not by pyblp: with no random coefficients the logit from shares is
exactly this linear (IV) regression, and statsmodels / linearmodels give its
results object (standard errors, first stage, Wu–Hausman) like the single-product
IV families of :mod:`pricegym.demand.iv`, whose first-stage diagnostics and weak-
instrument warning are reused. pyblp (optional, ``pip install "pricegym[blp]"``) is
the reference the tests compare with: same α, shares and elasticities.

Instruments (``instruments=["cost", ...]``): columns of the catalogue (a cost
column mapped with ``cost=COL``, or ``instruments=[...]`` of ``load_history``) on
each product's own row, in levels (the price enters in levels). ``cov_type``:
``"robust"`` (default), ``"unadjusted"``, or ``"clustered"`` by market (period).

The fitted model is a :class:`~pricegym.demand.multiproduct_protocol.MultiProductDemand`:
``mean_units(prices, period) = M · s(prices)`` with M the mean market size of the
data (or ``market_size`` given as a number), competitor prices at their means.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from pricegym.demand.catalogue import Catalogue, catalogue
from pricegym.demand.data import SalesHistory
from pricegym.demand.iv import WEAK_F, WeakInstrumentWarning, first_stage
from pricegym.demand.multiproduct import (
    ElasticityMatrix,
    ImplausibleElasticityWarning,
    _periods,
    check_prices,
    check_signs,
)
from pricegym.demand.multiproduct_io import save_multiproduct
from pricegym.errors import (
    ConfigError,
    DataValidationError,
    ModelError,
    NotFittedError,
    PricegymWarning,
)

__all__ = [
    "LogitShares",
    "berry_inversion",
    "logit_elasticities",
    "logit_shares",
    "market_shares",
]


def market_shares(
    units: np.ndarray,
    market_size: float | Sequence[float] | np.ndarray | None,
    products: Sequence[str],
    t: np.ndarray,
    source: str = "<catalogue>",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inside shares ``units / M`` (T, K), the outside share (T,) and M (T,), validated.

    Raises:
        ConfigError: a market size that is missing, not a positive number, or not one
            per period.
        DataValidationError: a share <= 0 (its log is undefined) or inside shares that
            sum to >= 1 (no outside option left); the message names the product,
            the period and the value.
    """
    if market_size is None:
        raise ConfigError(
            "market_size=None: the logit from shares needs the market size M (potential "
            "buyers per period) to turn units into shares s = units / M. Fix: pass "
            "market_size=M (a number, or one per period), e.g. the number of store "
            "visitors; if your units column already holds shares, market_size=1."
        )
    m = np.asarray(market_size, dtype=np.float64)
    n_t = units.shape[0]
    if m.ndim == 0:
        m = np.full(n_t, float(m))
    if m.shape != (n_t,) or not (np.isfinite(m) & (m > 0)).all():
        raise ConfigError(
            f"market_size of shape {np.shape(market_size)}: it must be one positive number, or "
            f"one positive number per period ({n_t} periods, in time order). Fix: pass M > 0."
        )
    s = units / m[:, None]
    bad = np.argwhere(~(s > 0))
    if bad.size:
        i, k = bad[0]
        raise DataValidationError(
            f"{source}: share {s[i, k]:g} (units {units[i, k]:g}) of product {products[k]!r} at "
            f"t = {t[i]:g}, {len(bad)} product-period(s) with a share <= 0: Berry's inversion "
            "takes ln(share), so every share must be > 0. Fix: drop those periods, choose "
            "products that always sell, or aggregate to longer periods."
        )
    inside = s.sum(axis=1)
    full = np.flatnonzero(~(inside < 1))
    if full.size:
        i = full[0]
        raise DataValidationError(
            f"{source}: the inside shares at t = {t[i]:g} sum to {inside[i]:.4g} >= 1 "
            f"(market size {m[i]:g}, units {units[i].tolist()}; {full.size} period(s)): the "
            "outside option (not buying) needs a share > 0. Fix: a larger market_size (the "
            "potential buyers, not the buyers), e.g. twice the largest total units."
        )
    return s, 1.0 - inside, m


def berry_inversion(shares: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """``ln s_j − ln s_0``: the mean utilities δ of a plain logit, (T, K)."""
    return np.log(shares) - np.log(outside)[:, None]


def _nest_index(nests: Mapping[str, str] | None, products: Sequence[str]) -> np.ndarray | None:
    """Nest code per product (K,), or None without nests."""
    if nests is None:
        return None
    names = {str(k): str(v) for k, v in dict(nests).items()}
    missing = [p for p in products if p not in names]
    extra = sorted(set(names) - set(products))
    if missing or extra:
        raise ConfigError(
            f"nests={names}: every product of the catalogue needs a nest and only its "
            f"products may have one (missing: {missing}, unknown: {extra}). Fix: map each of "
            f"{list(products)} to a nest name (a product alone in its nest is allowed)."
        )
    labels = list(dict.fromkeys(names[p] for p in products))
    return np.array([labels.index(names[p]) for p in products], dtype=np.int64)


def logit_shares(
    delta: np.ndarray, nest: np.ndarray | None = None, sigma: float = 0.0
) -> np.ndarray:
    """Inside shares (B, K) of a (nested) logit with mean utilities ``delta`` (B, K).

    Plain logit: ``exp(δ_j) / (1 + Σ exp(δ_k))``. Nested (``nest`` codes, σ): within-nest
    shares ``exp(δ_j/(1−σ)) / D_g`` times nest shares ``D_g^(1−σ) / (1 + Σ_h D_h^(1−σ))``;
    evaluated in logs with the largest term factored out (no overflow).
    """
    d = np.asarray(delta, dtype=np.float64)
    if nest is None or sigma == 0.0:
        top = np.maximum(d.max(axis=1, keepdims=True), 0.0)
        e = np.exp(d - top)
        return e / (np.exp(-top) + e.sum(axis=1, keepdims=True))
    v = d / (1.0 - sigma)
    n_g = int(nest.max()) + 1
    incl = np.empty((d.shape[0], n_g))
    within = np.empty_like(d)
    for g in range(n_g):
        cols = nest == g
        vg = v[:, cols]
        top = vg.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(vg - top).sum(axis=1))
        incl[:, g] = (1.0 - sigma) * lse
        within[:, cols] = vg - lse[:, None]
    top = np.maximum(incl.max(axis=1, keepdims=True), 0.0)
    log_den = top[:, 0] + np.log(np.exp(-top[:, 0]) + np.exp(incl - top).sum(axis=1))
    log_sg = incl - log_den[:, None]
    return np.exp(within + log_sg[:, nest])


def logit_elasticities(
    alpha: float,
    prices: np.ndarray,
    shares: np.ndarray,
    nest: np.ndarray | None = None,
    sigma: float = 0.0,
) -> np.ndarray:
    """Price elasticities ``d ln s_j / d ln p_k`` (B, K, K) of a (nested) logit.

    Plain logit: own ``−α p_j (1 − s_j)``, cross ``α p_k s_k``. Nested: own
    ``−α p_j (1/(1−σ) − σ/(1−σ) s_{j|g} − s_j)``, same nest ``α p_k (σ/(1−σ) s_{k|g} + s_k)``,
    other nests ``α p_k s_k``.
    """
    p = np.atleast_2d(np.asarray(prices, dtype=np.float64))
    s = np.atleast_2d(np.asarray(shares, dtype=np.float64))
    b, k = s.shape
    e = np.broadcast_to(alpha * p * s, (k, b, k)).transpose(1, 0, 2).copy()  # [b, j, k]
    if nest is not None and sigma != 0.0:
        r = sigma / (1.0 - sigma)
        same = nest[:, None] == nest[None, :]
        s_nest = np.zeros((b, int(nest.max()) + 1))
        np.add.at(s_nest.T, nest, s.T)
        within = s / s_nest[:, nest]
        e += np.where(same[None, :, :], alpha * p[:, None, :] * r * within[:, None, :], 0.0)
        own = -alpha * p * (1.0 / (1.0 - sigma) - r * within - s)
    else:
        own = -alpha * p * (1.0 - s)
    idx = np.arange(k)
    e[:, idx, idx] = own
    return e


class LogitShares:
    """Multinomial / nested logit from market shares, by OLS or 2SLS (see the module).

    Hyper-parameters:
        market_size: potential buyers per period (a number, or one per period in time
            order); required.
        products: the catalogue's products to model (default all).
        nests: product → nest name for the nested logit (default: plain logit).
        instruments: instrument names (``"cost"`` or instrument columns) for the
            endogenous price (and the within-nest share); empty: OLS.
        competitors: include each row's competitor prices in δ.
        trend: a linear time trend in δ.
        cov_type: ``"robust"``, ``"unadjusted"`` or ``"clustered"`` (by period).
        complements: pairs not to warn about (logit cross elasticities are positive by
            construction, so only own-price signs can be flagged).
        level: confidence level of the intervals (0.95).

    Learned attributes: ``alpha_`` (price sensitivity, > 0 for downward demand),
    ``sigma_`` (nesting parameter, 0 without nests), ``xi_`` (product effects),
    ``coef_`` / ``term_names_``, ``results_`` (statsmodels OLS or linearmodels IV2SLS),
    ``first_stage_`` (per endogenous term, :func:`pricegym.demand.iv.first_stage`),
    ``elasticity_`` (:class:`~pricegym.demand.multiproduct.ElasticityMatrix` at the
    mean prices), ``sign_checks_``.
    """

    family = "logit_shares"

    def __init__(
        self,
        *,
        market_size: float | Sequence[float] | None = None,
        products: Sequence[str] | None = None,
        nests: Mapping[str, str] | None = None,
        instruments: Sequence[str] = (),
        competitors: bool = True,
        trend: bool = False,
        cov_type: str = "robust",
        complements: Sequence[tuple[str, str]] = (),
        level: float = 0.95,
    ) -> None:
        self.market_size = market_size
        self.products = products
        self.nests = nests
        self.instruments = instruments
        self.competitors = competitors
        self.trend = trend
        self.cov_type = cov_type
        self.complements = complements
        self.level = level

    def __repr__(self) -> str:
        nested = ", nested" if self.nests else ""
        return f"LogitShares(instruments={list(self.instruments)}{nested})"

    # ------------------------------------------------------------------ fit
    def fit(self, data: SalesHistory | Catalogue) -> Self:
        """Invert the shares and regress (see the module docstring); returns ``self``.

        Raises:
            ConfigError: market size, nests, cov_type or level invalid.
            DataValidationError: not a balanced catalogue, a share <= 0, inside shares
                summing to >= 1, too few instruments, collinear terms.
            ModelError: linearmodels missing for an IV fit.
        """
        if not 0 < float(self.level) < 1:
            raise ConfigError(f"level={self.level!r} must lie strictly between 0 and 1 (0.95).")
        if self.cov_type not in ("robust", "unadjusted", "clustered"):
            raise ConfigError(
                f"cov_type={self.cov_type!r}: choose 'robust' (default), 'unadjusted' or "
                "'clustered' (by period)."
            )
        cat = data if isinstance(data, Catalogue) else catalogue(data, self.products)
        self.catalogue_ = cat
        self.n_products = cat.n_products
        self.product_names = cat.products
        self.competitor_names_ = cat.competitor_names
        self.nest_ = _nest_index(self.nests, cat.products)
        s, s0, m = market_shares(cat.units, self.market_size, cat.products, cat.t, cat.source)
        self.market_size_ = float(np.mean(m))
        y = berry_inversion(s, s0).ravel()
        exog, exog_names = self._exog(cat.competitors, cat.t, cat.n_periods)
        endog, endog_names = self._endog(cat.prices, s)
        self.term_names_ = [
            *exog_names[: cat.n_products],
            *endog_names,
            *exog_names[cat.n_products :],
        ]
        groups = np.repeat(np.arange(cat.n_periods), cat.n_products)
        if self.instruments:
            res = self._fit_iv(y, exog, exog_names, endog, endog_names, cat, groups)
        else:
            res = self._fit_ols(y, exog, exog_names, endog, endog_names, groups)
        self.results_ = res
        params = pd.Series(np.asarray(res.params), index=self._result_names)
        self.coef_ = params.reindex(self.term_names_).to_numpy(dtype=np.float64)
        raw_cov = res.cov if self.instruments else res.cov_params()
        cov = pd.DataFrame(
            np.asarray(raw_cov), index=self._result_names, columns=self._result_names
        )
        self.coef_cov_ = cov.reindex(index=self.term_names_, columns=self.term_names_).to_numpy()
        self.alpha_ = -float(params["price"])
        self.sigma_ = float(params["log_share_in_nest"]) if self.nest_ is not None else 0.0
        self.xi_ = self.coef_[: cat.n_products].copy()
        self.mean_prices_ = cat.prices.mean(axis=0)
        self.reference_competitors_ = cat.competitors.mean(axis=0)
        self.last_t_ = float(cat.t.max())
        self.support_ = np.column_stack([cat.prices.min(axis=0), cat.prices.max(axis=0)])
        self._check_parameters()
        self.elasticity_ = self.elasticity_matrix()
        self.sign_checks_ = check_signs(self.elasticity_, self.complements)
        return self

    def _exog(self, comp: np.ndarray, t: np.ndarray, n_t: int) -> tuple[np.ndarray, list[str]]:
        k = self.n_products
        cols = [np.tile(np.eye(k), (n_t, 1))]
        names = [f"xi[{p}]" for p in self.product_names]
        if self.competitors and comp.shape[-1]:
            cols.append(comp.reshape(n_t * k, -1))
            names += list(self.competitor_names_)
        if self.trend:
            cols.append(np.repeat(np.asarray(t, dtype=np.float64), k)[:, None])
            names.append("t")
        return np.column_stack(cols), names

    def _endog(self, prices: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, list[str]]:
        cols, names = [prices.ravel()], ["price"]
        if self.nest_ is not None:
            s_nest = np.zeros((s.shape[0], int(self.nest_.max()) + 1))
            np.add.at(s_nest.T, self.nest_, s.T)
            cols.append(np.log(s / s_nest[:, self.nest_]).ravel())
            names.append("log_share_in_nest")
        return np.column_stack(cols), names

    def _instruments(self, cat: Catalogue) -> tuple[np.ndarray, list[str]]:
        cols, labels = [], []
        for name in dict.fromkeys(self.instruments):
            z = cat.instrument(name)  # (T, K), raises naming the available ones
            cols.append(z.ravel())
            labels.append(name)
            if self.nest_ is not None:
                same = (self.nest_[:, None] == self.nest_[None, :]) & ~np.eye(
                    cat.n_products, dtype=bool
                )
                cols.append((z @ same.T.astype(np.float64)).ravel())
                labels.append(f"{name}[nest rivals]")
        return np.column_stack(cols), labels

    def _fit_ols(self, y, exog, exog_names, endog, endog_names, groups) -> Any:
        if self.nest_ is not None:
            warnings.warn(
                "LogitShares: a nested logit without instruments: ln s_{j|g} contains the "
                "demand error, so OLS biases sigma (toward 1) and alpha. Fix: instruments=[...] "
                "(a cost shifter; its sum over the nest's other products is added).",
                PricegymWarning,
                stacklevel=3,
            )
        names = [*exog_names, *endog_names]
        x = pd.DataFrame(np.column_stack([exog, endog]), columns=names)
        self._check_rank(x.to_numpy(), names)
        cov = {"robust": "HC1", "unadjusted": "nonrobust", "clustered": "cluster"}[self.cov_type]
        kw = {"groups": groups} if cov == "cluster" else {}
        res = sm.OLS(y, x).fit(cov_type=cov, cov_kwds=kw or None)
        self._result_names = names
        self.first_stage_: dict[str, dict[str, Any]] = {}
        return res

    def _fit_iv(self, y, exog, exog_names, endog, endog_names, cat, groups) -> Any:
        try:
            from linearmodels.iv import IV2SLS
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ModelError(
                "LogitShares with instruments fits by two-stage least squares with "
                "linearmodels, which is not installed. Fix: pip install 'pricegym[causal]'."
            ) from exc
        z, labels = self._instruments(cat)
        if z.shape[1] < endog.shape[1]:
            raise DataValidationError(
                f"instruments {labels} for the endogenous terms {endog_names}: 2SLS needs at "
                "least one instrument per endogenous term. Fix: add instruments."
            )
        self._check_rank(np.column_stack([exog, z]), [*exog_names, *labels])
        self.first_stage_ = {}
        for i, name in enumerate(endog_names):
            fs = first_stage(endog[:, i], exog, z, labels, np.asarray(y, dtype=np.float64))
            fs.pop("residual")
            self.first_stage_[name] = fs
            if fs["weak"]:
                warnings.warn(
                    f"LogitShares: weak instrument(s) {labels} for {name}: first-stage F = "
                    f"{fs['f']:.1f} (robust {fs['robust_f']:.1f}) < {WEAK_F:g}; the IV estimate is "
                    "biased toward OLS and its interval too narrow. Fix: a stronger instrument.",
                    WeakInstrumentWarning,
                    stacklevel=3,
                )
        cov = {"robust": "robust", "unadjusted": "unadjusted", "clustered": "clustered"}[
            self.cov_type
        ]
        kw = {"clusters": pd.Series(groups)} if cov == "clustered" else {}
        res: Any = IV2SLS(
            pd.Series(y, name="delta"),
            pd.DataFrame(exog, columns=exog_names),
            pd.DataFrame(endog, columns=endog_names),
            pd.DataFrame(z, columns=labels),
        ).fit(cov_type=cov, **kw)
        self._result_names = [*exog_names, *endog_names]
        wu = res.wu_hausman()
        self.endogeneity_ = {"stat": float(wu.stat), "pvalue": float(wu.pval), "df": int(wu.df)}
        return res

    def _check_rank(self, x: np.ndarray, names: list[str]) -> None:
        if np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataValidationError(
                f"{self.catalogue_.source}: the logit's terms {names} are collinear (e.g. a "
                "competitor price or instrument that never changes, or one equal to the "
                "product effects), so they are not identified. Fix: drop that term "
                "(competitors=False) or use an instrument that varies."
            )

    def _check_parameters(self) -> None:
        if self.alpha_ <= 0:
            warnings.warn(
                f"LogitShares: alpha = {self.alpha_:.3g} <= 0: utility rises with price, so "
                "demand slopes up. Usual cause: prices set in response to demand. Fix: "
                "instrument the price (instruments=['cost']).",
                ImplausibleElasticityWarning,
                stacklevel=3,
            )
        if self.nest_ is not None and not 0 <= self.sigma_ < 1:
            warnings.warn(
                f"LogitShares: sigma = {self.sigma_:.3g} outside [0, 1): the nested logit is "
                "then not consistent with utility maximisation (shares and elasticities may "
                "be meaningless). Fix: other nests, instruments, or the plain logit.",
                ImplausibleElasticityWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------ kernel
    def _check_fitted(self) -> None:
        if getattr(self, "coef_", None) is None:
            raise NotFittedError("this LogitShares is not fitted yet; call fit(history) first.")

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as JSON + .npz (see :mod:`pricegym.demand.multiproduct_io`)."""
        return save_multiproduct(self, path)

    def _delta_terms(self, p: np.ndarray, period: Any, competitors: Any) -> np.ndarray:
        """Design rows (B*K, terms) in the order of ``term_names_`` (no within-nest share)."""
        b, k = p.shape
        t = self.last_t_ + 1.0 + _periods(period, b)
        comp = competitors
        if comp is None:
            comp = np.broadcast_to(
                self.reference_competitors_, (b, *self.reference_competitors_.shape)
            )
        comp = np.asarray(comp, dtype=np.float64)
        exog, _ = self._exog(comp, t, b)
        cols = [exog[:, :k], p.reshape(-1, 1)]
        if self.nest_ is not None:
            cols.append(np.zeros((b * k, 1)))  # σ enters the shares, not δ
        cols.append(exog[:, k:])
        return np.column_stack(cols)

    def mean_utility(
        self, prices: Any, period: int | np.ndarray = 0, *, competitors: Any = None
    ) -> np.ndarray:
        """δ (B, K) at ``prices``: ξ_j − α p_j + γ·comp_j (+ d·t)."""
        self._check_fitted()
        p = check_prices(prices, self.n_products, self.product_names)
        x = self._delta_terms(p, period, competitors)
        return (x @ self.coef_).reshape(p.shape)

    def mean_units(
        self, prices: Any, period: int | np.ndarray = 0, *, competitors: Any = None
    ) -> np.ndarray:
        """Expected units (B, K) = M · s(prices): the kernel, pure numpy.

        Args:
            prices: one price per product and market, (B, K) (or (K,) for B = 1).
            period: periods after the end of the data (0 = the first after it); used by
                the trend only.
            competitors: competitor prices (B, K, m); default their means in the data.
        """
        if competitors is not None:
            delta = self.mean_utility(prices, period, competitors=competitors)
        else:
            self._check_fitted()
            p = check_prices(prices, self.n_products, self.product_names)
            base, trend = self._kernel_constants()
            delta = base - self.alpha_ * p
            if trend is not None:
                delta += _periods(period, p.shape[0])[:, None] * trend
        return self.market_size_ * logit_shares(delta, self.nest_, self.sigma_)

    def _kernel_constants(self) -> tuple[np.ndarray, float | None]:
        """δ's price-free part (K,) at the reference competitors, period 0; the trend (cached)."""
        cached = getattr(self, "_kernel_cache", None)
        if cached is not None and cached[0] is self.coef_:
            return cached[1]
        ones = np.ones((1, self.n_products))
        base = (self._delta_terms(ones, 0, None) @ self.coef_) + self.alpha_
        trend = float(self.coef_[self.term_names_.index("t")]) if self.trend else None
        self._kernel_cache = (self.coef_, (base, trend))
        return base, trend

    def library_mean_units(
        self, prices: Any, period: int | np.ndarray = 0, *, competitors: Any = None
    ) -> np.ndarray:
        """δ from the results object's ``predict``, shares by the textbook formula, per market."""
        self._check_fitted()
        p = check_prices(prices, self.n_products, self.product_names)
        x = pd.DataFrame(self._delta_terms(p, period, competitors), columns=self.term_names_)
        x = x[self._result_names]
        if self.instruments:
            exog_names = [n for n in self._result_names if n not in ("price", "log_share_in_nest")]
            endog_names = [n for n in self._result_names if n in ("price", "log_share_in_nest")]
            pred = self.results_.predict(exog=x[exog_names], endog=x[endog_names])
        else:
            pred = self.results_.predict(x)
        delta = np.asarray(pred, dtype=np.float64).reshape(p.shape)
        out = np.empty_like(delta)
        sig = self.sigma_
        for b in range(len(delta)):
            if self.nest_ is None:
                e = np.exp(delta[b])
                out[b] = e / (1.0 + e.sum())
                continue
            d_g = {g: np.exp(delta[b, self.nest_ == g] / (1 - sig)).sum() for g in set(self.nest_)}
            den = 1.0 + sum(v ** (1 - sig) for v in d_g.values())
            for j, g in enumerate(self.nest_):
                out[b, j] = np.exp(delta[b, j] / (1 - sig)) / d_g[g] * d_g[g] ** (1 - sig) / den
        return self.market_size_ * out

    # ------------------------------------------------------------------ inference
    def _elasticity_at(self, coef: np.ndarray, p: np.ndarray) -> np.ndarray:
        x = self._delta_terms(p[None, :], 0, None)
        delta = (x @ coef).reshape(1, -1)
        alpha = -coef[self.term_names_.index("price")]
        sigma = coef[self.term_names_.index("log_share_in_nest")] if self.nest_ is not None else 0.0
        s = logit_shares(delta, self.nest_, sigma)
        return logit_elasticities(alpha, p[None, :], s, self.nest_, sigma)[0]

    def elasticity_matrix(self, prices: Any = None) -> ElasticityMatrix:
        """The K×K elasticity matrix at ``prices`` (default: the mean prices).

        Intervals by the delta method over all coefficients (central differences of the
        matrix in each coefficient, the results object's covariance).
        """
        self._check_fitted()
        p = (
            self.mean_prices_
            if prices is None
            else check_prices(prices, self.n_products, self.product_names)[0]
        )
        est = self._elasticity_at(self.coef_, p)
        grads = []
        for i in range(self.coef_.size):
            h = 1e-6 * max(1.0, abs(self.coef_[i]))
            up, down = self.coef_.copy(), self.coef_.copy()
            up[i] += h
            down[i] -= h
            grads.append(
                ((self._elasticity_at(up, p) - self._elasticity_at(down, p)) / (2 * h)).ravel()
            )
        g = np.array(grads)  # (terms, K*K)
        se = np.sqrt(np.einsum("ia,ij,ja->a", g, self.coef_cov_, g)).reshape(est.shape)
        z = float(stats.norm.ppf((1 + self.level) / 2))
        how = "2SLS (linearmodels)" if self.instruments else "OLS (statsmodels)"
        kind = "nested logit" if self.nest_ is not None else "logit"
        return ElasticityMatrix(
            self.product_names,
            est,
            est - z * se,
            est + z * se,
            np.asarray(p, dtype=np.float64).copy(),
            float(self.level),
            f"{kind} from shares by Berry inversion, {how}; delta-method intervals "
            f"({self.cov_type})",
        )

    def params_table(self) -> pd.DataFrame:
        """Coefficients (δ's terms, σ) with standard errors and ``level`` intervals."""
        self._check_fitted()
        se = np.sqrt(np.diag(self.coef_cov_))
        z = float(stats.norm.ppf((1 + self.level) / 2))
        return pd.DataFrame(
            {
                "term": self.term_names_,
                "estimate": self.coef_,
                "std_err": se,
                "ci_low": self.coef_ - z * se,
                "ci_high": self.coef_ + z * se,
            }
        )
