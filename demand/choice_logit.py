"""Multinomial (conditional) logit from individual choices: :class:`ChoiceLogit`.

Each row is one shopper's purchase occasion: the brand chosen and the price (and
e.g. feature / display flags) of every brand *that shopper saw*, in columns
``{variable}{sep}{brand}`` (the layout of the ``Ecdat`` choice data sets
``Cracker``, ``Yogurt``, ``Catsup``: ``price.nabisco``, ``feat.nabisco`` ...). The
utility of brand j for shopper i is

    u_ij = asc_j − α · p_ij + sum_v β_v · x_{v,ij} + logit error,

with ``asc`` of the first brand fixed at 0 (only differences are identified), so
``P_ij = exp(u_ij) / sum_k exp(u_ik)`` (McFadden's conditional logit). It is fitted
by maximum likelihood with statsmodels' ``GenericLikelihoodModel`` (``results_``:
standard errors from the analytic Hessian, ``conf_int``, AIC), given the exact
log-likelihood, score and Hessian (the log-likelihood is concave, so Newton's
method converges in a few steps). statsmodels has no conditional logit of its own
(``MNLogit`` takes shopper-level variables only, not per-brand prices); pyblp fits
aggregate shares; the likelihood is ten lines, so it is written here.

The elasticity matrix is the *aggregate* one, of expected total units of brand j on
brand k's price over the sample's occasions: ``E[j, k] = sum_i P_ij e_ijk / sum_i
P_ij`` with the logit's ``e_ijj = −α p_ij (1 − P_ij)``, ``e_ijk = α p_ik P_ik``.
Intervals by the delta method (central differences in the coefficients).

Read the cross elasticities with care: the logit forces them positive and
proportional to the other brand's share (independence of irrelevant alternatives),
so their sign is an assumption, not a finding. And these data have no
no-purchase option (every row is a purchase), so the category's total demand does
not fall when all prices rise together: a market driven by this model has no
finite joint optimum. :meth:`ChoiceLogit.fit` warns about that.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp
from statsmodels.base.model import GenericLikelihoodModel

from pricegym.demand.multiproduct import ElasticityMatrix, check_prices, check_signs
from pricegym.demand.multiproduct_io import save_multiproduct
from pricegym.errors import ConfigError, DataValidationError, NotFittedError, PricegymWarning

__all__ = ["ChoiceLogit", "NoOutsideOptionWarning"]


class NoOutsideOptionWarning(PricegymWarning):
    """A choice model without a no-purchase option: category demand ignores price level."""


class ConditionalLogitLikelihood(GenericLikelihoodModel):
    """statsmodels likelihood of the conditional logit; ``x`` (N, J, P), ``chosen`` (N,)."""

    x: np.ndarray
    chosen: np.ndarray

    def _probs(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self.x @ params
        return u, np.exp(u - logsumexp(u, axis=1, keepdims=True))

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        u, _ = self._probs(params)
        return u[np.arange(len(u)), self.chosen] - logsumexp(u, axis=1)

    def loglike(self, params: np.ndarray) -> float:
        return float(self.loglikeobs(params).sum())

    def score_obs(self, params: np.ndarray, **kwds: Any) -> np.ndarray:
        _, p = self._probs(params)
        return self.x[np.arange(len(p)), self.chosen] - np.einsum("nj,njp->np", p, self.x)

    def score(self, params: np.ndarray) -> np.ndarray:
        return self.score_obs(params).sum(axis=0)

    def hessian(self, params: np.ndarray) -> np.ndarray:
        _, p = self._probs(params)
        xbar = np.einsum("nj,njp->np", p, self.x)
        d = self.x - xbar[:, None, :]
        return -np.einsum("nj,njp,njq->pq", p, d, d)


class ChoiceLogit:
    """Conditional logit from individual brand choices (see the module docstring).

    Hyper-parameters:
        choice: the column of the chosen brand.
        price: the prefix of the price columns (``price`` → ``price.{brand}``).
        attributes: prefixes of other per-brand columns (e.g. ``("feat", "disp")``).
        alternatives: the brands, in column order (default: sorted values of ``choice``).
        sep: between prefix and brand in column names (``"."``).
        market_size: shoppers per period; ``mean_units`` = ``market_size`` × choice
            probabilities (default 1: the probabilities).
        drop_invalid: drop rows with a price that is not a finite number > 0 (with a
            warning that counts them) instead of raising.
        level: confidence level of the intervals (0.95).

    Learned attributes: ``alpha_``, ``asc_`` (K,), ``beta_`` (attribute → coefficient),
    ``coef_`` / ``term_names_``, ``results_`` (statsmodels), ``elasticity_``,
    ``sign_checks_``, ``n_dropped_``.
    """

    family = "choice_logit"

    def __init__(
        self,
        *,
        choice: str = "choice",
        price: str = "price",
        attributes: Sequence[str] = (),
        alternatives: Sequence[str] | None = None,
        sep: str = ".",
        market_size: float = 1.0,
        drop_invalid: bool = False,
        level: float = 0.95,
    ) -> None:
        self.choice = choice
        self.price = price
        self.attributes = attributes
        self.alternatives = alternatives
        self.sep = sep
        self.market_size = market_size
        self.drop_invalid = drop_invalid
        self.level = level

    # ------------------------------------------------------------------ data
    def _arrays(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """prices (N, K), attributes (N, K, V), chosen index (N,), validated."""
        if self.choice not in frame.columns:
            raise DataValidationError(
                f"choice column {self.choice!r} is not in the data (columns: "
                f"{list(frame.columns)[:20]}). Fix: ChoiceLogit(choice=COL)."
            )
        values = frame[self.choice].astype(str)
        alts = (
            tuple(str(a) for a in self.alternatives)
            if self.alternatives is not None
            else tuple(sorted(values.unique()))
        )
        if len(alts) < 2:
            raise DataValidationError(
                f"alternatives {list(alts)}: a choice model needs at least two brands. Fix: "
                "pass data where shoppers chose among several brands."
            )
        unknown = sorted(set(values) - set(alts))
        if unknown:
            raise DataValidationError(
                f"choice value(s) {unknown[:5]} are not among the alternatives {list(alts)} "
                "(rule: every chosen brand needs its price column). Fix: add them to "
                "alternatives=[...] or drop those rows."
            )
        self.product_names = alts
        self.n_products = len(alts)

        def block(prefix: str) -> np.ndarray:
            cols = [f"{prefix}{self.sep}{a}" for a in alts]
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise DataValidationError(
                    f"column(s) {missing} are missing (rule: one {prefix!r} column per brand, "
                    f"named {prefix}{self.sep}BRAND); the data have {list(frame.columns)[:20]}. "
                    "Fix: rename the columns, or set price= / attributes= / sep= to match."
                )
            out = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            return out

        p = block(self.price)
        attrs = [block(a) for a in self.attributes]
        for name, a in zip(self.attributes, attrs, strict=True):
            if not np.isfinite(a).all():
                i = int(np.argwhere(~np.isfinite(a))[0, 0])
                raise DataValidationError(
                    f"attribute {name!r} has a missing / non-numeric cell in row {i} (rule: "
                    "finite numbers). Fix: fill or drop that row."
                )
        bad = ~(np.isfinite(p) & (p > 0)).all(axis=1)
        self.n_dropped_ = int(bad.sum())
        if bad.any() and not self.drop_invalid:
            i = int(np.flatnonzero(bad)[0])
            k = int(np.flatnonzero(~(np.isfinite(p[i]) & (p[i] > 0)))[0])
            raise DataValidationError(
                f"price {p[i, k]:g} of {alts[k]!r} in row {i} ({bad.sum()} row(s)): prices "
                "must be finite numbers > 0. Fix: correct those rows, or drop them with "
                "ChoiceLogit(drop_invalid=True)."
            )
        if bad.any():
            warnings.warn(
                f"ChoiceLogit: dropped {bad.sum()} of {len(p)} row(s) with a price that is not "
                f"a finite number > 0 (first: row {int(np.flatnonzero(bad)[0])}).",
                PricegymWarning,
                stacklevel=3,
            )
        keep = ~bad
        chosen = np.array([alts.index(v) for v in values], dtype=np.int64)[keep]
        a = np.stack(attrs, axis=-1)[keep] if attrs else np.zeros((int(keep.sum()), len(alts), 0))
        return p[keep], a, chosen

    def _design(self, p: np.ndarray, a: np.ndarray) -> np.ndarray:
        n, k = p.shape
        asc = np.broadcast_to(np.eye(k)[:, 1:], (n, k, k - 1))
        return np.concatenate([asc, p[:, :, None], a], axis=2)

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame) -> Self:
        """Maximum likelihood (Newton, exact Hessian); returns ``self``.

        Warns with :class:`NoOutsideOptionWarning` (these models have none). Raises
        DataValidationError for a missing column, an unknown choice value or a bad
        price (see ``drop_invalid``); ConfigError for an invalid ``level``.
        """
        if not 0 < float(self.level) < 1:
            raise ConfigError(f"level={self.level!r} must lie strictly between 0 and 1 (0.95).")
        if not (np.isfinite(self.market_size) and self.market_size > 0):
            raise ConfigError(f"market_size={self.market_size!r} must be a number > 0.")
        p, a, chosen = self._arrays(data)
        x = self._design(p, a)
        self.term_names_ = [
            *(f"asc[{b}]" for b in self.product_names[1:]),
            "price",
            *self.attributes,
        ]
        chosen_x = pd.DataFrame(x[np.arange(len(chosen)), chosen], columns=self.term_names_)
        lik = ConditionalLogitLikelihood(chosen.astype(np.float64), chosen_x)
        lik.x, lik.chosen = x, chosen
        # the exog passed is the chosen rows' terms (for names); the model has no constant
        lik.k_constant, lik.df_model = 0, float(x.shape[2])
        lik.df_resid = float(len(chosen) - x.shape[2])
        start = np.zeros(x.shape[2])
        res = lik.fit(start_params=start, method="newton", maxiter=100, disp=0)
        if not res.mle_retvals.get("converged", False):
            raise DataValidationError(
                "ChoiceLogit: the likelihood did not converge in 100 Newton steps (a brand "
                "chosen always or never at some prices makes its coefficient infinite). "
                "Fix: drop brands that are (almost) never chosen, or attributes that are "
                "constant."
            )
        self.results_ = res
        self.coef_ = np.asarray(res.params, dtype=np.float64)
        self.coef_cov_ = np.asarray(res.cov_params(), dtype=np.float64)
        self.alpha_ = -float(self.coef_[self.n_products - 1])
        self.asc_ = np.concatenate([[0.0], self.coef_[: self.n_products - 1]])
        self.beta_ = dict(zip(self.attributes, self.coef_[self.n_products :].tolist(), strict=True))
        self._prices, self._attrs = p, a
        self.mean_prices_ = p.mean(axis=0)
        self.support_ = np.column_stack([p.min(axis=0), p.max(axis=0)])
        self.elasticity_ = self.elasticity_matrix()
        self.sign_checks_ = check_signs(self.elasticity_)
        warnings.warn(
            "ChoiceLogit: the model has no no-purchase option (every row is a purchase), so "
            "total units do not fall when all prices rise together: a market driven by it "
            "has no finite joint optimum. Use it for relative prices or with fixed price "
            "ranges; fit the logit from shares with a market size for price levels.",
            NoOutsideOptionWarning,
            stacklevel=2,
        )
        return self

    # ------------------------------------------------------------------ kernel
    def _check_fitted(self) -> None:
        if getattr(self, "coef_", None) is None:
            raise NotFittedError("this ChoiceLogit is not fitted yet; call fit(data) first.")

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as JSON + .npz (see :mod:`pricegym.demand.multiproduct_io`)."""
        return save_multiproduct(self, path)

    def mean_units(self, prices: Any, period: int | np.ndarray = 0) -> np.ndarray:
        """``market_size`` × choice probabilities (B, K) with the attributes at 0.

        ``period`` is accepted for the protocol and unused (the model has no time).
        """
        self._check_fitted()
        p = check_prices(prices, self.n_products, self.product_names)
        u = self.asc_ - self.alpha_ * p
        e = np.exp(u - u.max(axis=1, keepdims=True))
        return self.market_size * e / e.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ inference
    def _aggregate_elasticity(self, coef: np.ndarray) -> np.ndarray:
        x = self._design(self._prices, self._attrs)
        u = x @ coef
        prob = np.exp(u - logsumexp(u, axis=1, keepdims=True))  # (N, K)
        alpha = -coef[self.n_products - 1]
        cross = alpha * self._prices * prob  # e_ijk for j != k, depends on k only
        w = prob / prob.sum(axis=0)  # share weights per j
        e = w.T @ cross  # (K, K): sum_i w_ij * alpha p_ik P_ik
        own = (w * (-alpha * self._prices * (1.0 - prob))).sum(axis=0)
        np.fill_diagonal(e, own)
        return e

    def elasticity_matrix(self) -> ElasticityMatrix:
        """Aggregate elasticities over the sample's occasions, delta-method intervals."""
        self._check_fitted()
        est = self._aggregate_elasticity(self.coef_)
        grads = []
        for i in range(self.coef_.size):
            h = 1e-6 * max(1.0, abs(self.coef_[i]))
            up, dn = self.coef_.copy(), self.coef_.copy()
            up[i] += h
            dn[i] -= h
            diff = self._aggregate_elasticity(up) - self._aggregate_elasticity(dn)
            grads.append((diff / (2 * h)).ravel())
        g = np.array(grads)
        se = np.sqrt(np.einsum("ia,ij,ja->a", g, self.coef_cov_, g)).reshape(est.shape)
        z = float(stats.norm.ppf((1 + self.level) / 2))
        return ElasticityMatrix(
            self.product_names,
            est,
            est - z * se,
            est + z * se,
            self.mean_prices_.copy(),
            float(self.level),
            "conditional logit on individual choices (statsmodels ML), aggregate elasticity "
            "over the occasions; delta-method intervals",
        )
