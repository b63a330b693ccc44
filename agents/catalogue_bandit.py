"""Thompson sampling over price vectors with a Bayesian demand model (not one arm per vector).

A catalogue of K products on grids of n prices each has ``n^K`` price vectors; a
bandit with one arm per vector (:class:`~pricegym.agents.bandits.ThompsonSampling`
on the flattened grid) must try each of them, 343 arms for 3 products of 7 prices
and 16,807 for 5. :class:`CatalogueThompson` learns a *demand model* instead, one
Poisson regression per product on **all** prices, and prices the catalogue at the
joint optimum of a posterior draw of that model, so every period's sales inform
every price vector (Thompson sampling for generalised linear bandits; Chapelle &
Li 2011, Russo et al. 2018 §7).

Model
-----
Product j's units in a period with prices p are Poisson with mean
``exp(θ_j · x(p))``, ``x(p) = (1, z_1, …, z_K)``, ``z_k = (p_k − centre_k) /
half-width_k`` the price of product k scaled onto [−1, 1] over its grid: an
intercept, an own-price and K − 1 cross-price coefficients, and with ``degree=2``
(the default) also every ``z_k z_l`` (k ≤ l, :func:`design_matrix`). The prior is
``θ_j ~ N(0, prior_sd² I)``, independent across products. The posterior is the
Laplace approximation ``N(θ̂_j, H_j⁻¹)`` at the posterior mode θ̂_j (damped Newton
on the exact Poisson log-likelihood plus the prior; H_j its negative Hessian).
Observations with the same price vector are pooled exactly (the Poisson
likelihood depends on a vector's data through its count and total units only), so
memory and fitting cost grow with the vectors tried, not the periods played.

A log-linear model is not the logit of :class:`~pricegym.demand.catalogue_truth.LogitCatalogueTruth`
(log units there are ``q_j − α p_j − log(1 + Σ_k e^{q_k − α p_k})``, not linear
in the cross prices), so the model is right only near the prices it sees most,
which is where Thompson sampling concentrates its data: near the optimum. The
tests state how close it gets on the logit catalogue.

Acting and learning
-------------------
``act``: draw ``θ̃_j ~ N(θ̂_j, H_j⁻¹)`` for every product (one
``rng.standard_normal((K, K + 1))`` call), then post the grid vector maximising
``Σ_j (p_j − cost_j) exp(θ̃_j · x(p))`` (enumeration, as
:func:`~pricegym.agents.catalogue_rules.best_grid_vector`). Stock and the period
are ignored (a myopic, stationary learner). ``update``: the units sold per product
(``info["sales"]``, else read back from the next observation's ``last_sales``).
A product that sells out in the period is censored (its demand may have been
higher than its sales) and its observation is dropped; the others are kept.
``reset`` re-seeds the draws and keeps what was learned.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pricegym.agents.catalogue_rules import ENUMERATION_MAX, CatalogueAgent, CatalogueView
from pricegym.errors import ConfigError

__all__ = ["CatalogueThompson", "design_matrix", "fit_poisson_map"]

#: Newton iterations per fit at most, and the step size (in coefficients) that counts as converged.
_NEWTON_MAX = 50
_NEWTON_TOL = 1e-9


def design_matrix(z: np.ndarray, degree: int) -> np.ndarray:
    """Regressors (A, d) of scaled prices ``z`` (A, K): 1, z_k, and for degree 2 z_k z_l (k <= l).

    d = 1 + K (degree 1) or 1 + K + K(K + 1)/2 (degree 2), in that order (pairs in
    row-major order of k <= l).
    """
    cols = [np.ones(z.shape[0]), *z.T]
    if degree == 2:
        k = z.shape[1]
        cols += [z[:, a] * z[:, b] for a in range(k) for b in range(a, k)]
    return np.column_stack(cols)


def _log_post(theta: np.ndarray, x: np.ndarray, n: np.ndarray, y: np.ndarray, prec: float) -> float:
    eta = x @ theta
    return float(y @ eta - n @ np.exp(eta) - 0.5 * prec * theta @ theta)


def fit_poisson_map(
    x: np.ndarray, n: np.ndarray, y: np.ndarray, prior_sd: float, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode and precision of a Poisson log-linear model with a N(0, prior_sd² I) prior.

    ``x`` (A, d) distinct designs, ``n`` (A,) how many periods each was observed,
    ``y`` (A,) the units summed over them. Maximises
    ``Σ_a y_a x_a·θ − n_a exp(x_a·θ) − |θ|² / (2 prior_sd²)`` (strictly concave) by
    Newton steps halved until the objective rises. Returns ``(θ̂ (d,), H (d, d))``,
    H the negative Hessian at θ̂ (the Laplace posterior's precision).
    """
    d = x.shape[1]
    prec = 1.0 / prior_sd**2
    theta = np.zeros(d) if start is None else np.asarray(start, dtype=np.float64).copy()
    value = _log_post(theta, x, n, y, prec)
    for _ in range(_NEWTON_MAX):
        mu = n * np.exp(x @ theta)
        grad = x.T @ (y - mu) - prec * theta
        hess = (x * mu[:, None]).T @ x + prec * np.eye(d)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while True:
            trial = theta + scale * step
            new = _log_post(trial, x, n, y, prec)
            if new >= value or scale < 1e-8:
                break
            scale *= 0.5
        if new < value:  # no ascent even for a tiny step: at the mode (to rounding)
            break
        theta, value = trial, new
        if np.max(np.abs(scale * step)) < _NEWTON_TOL:
            break
    mu = n * np.exp(x @ theta)
    hess = (x * mu[:, None]).T @ x + prec * np.eye(d)
    return theta, hess


class CatalogueThompson(CatalogueAgent):
    """Thompson sampling over a catalogue's price vectors with a Poisson demand model.

    See the module docstring for the model, the posterior and the draw order.

    Parameters:
        prior_sd: standard deviation of the N(0, prior_sd²) prior of every coefficient
            (> 0; the intercept is log units at the grids' centre prices, a slope the
            change of log units from a grid's centre to its top price).
        degree: 1 for log units linear in the K prices (K + 1 coefficients per
            product), 2 to add every square and product of two prices (1 + K + K(K + 1)/2;
            the default: a logit's log units are concave in every price, which a
            linear model misses away from the prices it sees most).
        unit_cost: one cost or one per product; ``None`` for the market's.
        name: label for reports.

    Attributes (learned, kept across ``reset``): ``counts_`` (A, K) periods each
    price vector was observed per product (censored periods excluded), ``units_``
    (A, K) the units sold in them, ``coef_`` (K, K + 1) the posterior modes.
    """

    kind = "catalogue_thompson"
    learns = True
    batch_act = False

    def __init__(
        self,
        prior_sd: float = 5.0,
        degree: int = 2,
        unit_cost: float | list[float] | None = None,
        name: str | None = None,
    ) -> None:
        if not (isinstance(prior_sd, int | float) and math.isfinite(prior_sd) and prior_sd > 0):
            raise ConfigError(f"prior_sd={prior_sd!r} must be a finite number > 0, e.g. 5.0.")
        self.prior_sd = float(prior_sd)
        if isinstance(degree, bool) or degree not in (1, 2):
            raise ConfigError(
                f"degree={degree!r} must be 1 (log units linear in the prices) or 2 (plus every "
                "square and product of two prices)."
            )
        self.degree = int(degree)
        if unit_cost is not None:
            c = np.asarray(unit_cost, dtype=np.float64)
            if c.ndim > 1 or not np.isfinite(c).all() or (c < 0).any():
                raise ConfigError(
                    f"unit_cost={unit_cost!r} must be a number >= 0 or one per product."
                )
            unit_cost = float(c) if c.ndim == 0 else c.tolist()
        self.unit_cost = unit_cost
        self.name = name
        self.counts_: np.ndarray | None = None
        self.units_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None

    def policy_memory(self) -> tuple[str, ...] | None:
        """None: the agent draws random numbers and learns."""
        return None

    def _check_market(self, view: CatalogueView) -> None:
        nvec = tuple(int(n) for n in view.nvec)
        total = math.prod(nvec)
        if total > ENUMERATION_MAX:
            raise ConfigError(
                f"agent {self.name!r}: the grids have {total:,} price vectors > "
                f"{ENUMERATION_MAX:,}, too many to enumerate each period; use fewer prices per "
                "product (n_prices=...)."
            )
        k = view.n_products
        self._cost = (
            view.cost
            if self.unit_cost is None
            else self._per_product("unit_cost", self.unit_cost, low=0.0)
        )
        acts = np.stack(np.unravel_index(np.arange(total), nvec), axis=1)
        self._prices = view.prices_of(acts)  # (A, K)
        lo = np.array([g[0] for g in view.grids])
        hi = np.array([g[-1] for g in view.grids])
        half = np.where(hi > lo, 0.5 * (hi - lo), 1.0)
        self._design = design_matrix((self._prices - 0.5 * (lo + hi)) / half, self.degree)
        self._nvec = nvec
        shape = (total, k)
        if self.counts_ is None or self.counts_.shape != shape:
            if self.counts_ is not None and self.counts_.any():
                raise ConfigError(
                    f"agent {self.name!r} learned on {self.counts_.shape[0]} price vectors of "
                    f"{self.counts_.shape[1]} products; this market has {total} of {k}. Bind a "
                    "new agent (or one saved from this market)."
                )
            self.counts_ = np.zeros(shape)
            self.units_ = np.zeros(shape)
            self.coef_ = np.zeros((k, self._design.shape[1]))
        d = self._design.shape[1]
        coef = self.coef_
        if coef is None or coef.shape != (k, d):
            raise ConfigError(
                f"agent {self.name!r}: its coefficients {getattr(coef, 'shape', None)} do not "
                f"fit degree {self.degree} on {k} products ({d} per product); the file was edited."
            )
        self._precision = np.zeros((k, d, d))
        self._dirty = np.ones(k, dtype=bool)

    def _refit(self) -> None:
        assert self.counts_ is not None and self.units_ is not None and self.coef_ is not None
        for j in np.flatnonzero(self._dirty).tolist():
            seen = self.counts_[:, j] > 0
            theta, hess = fit_poisson_map(
                self._design[seen],
                self.counts_[seen, j],
                self.units_[seen, j],
                self.prior_sd,
                start=self.coef_[j],
            )
            self.coef_[j], self._precision[j] = theta, hess
        self._dirty[:] = False

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(modes (K, K + 1), covariances (K, K + 1, K + 1)) of the Laplace posterior."""
        self._view()
        self._refit()
        assert self.coef_ is not None
        return self.coef_.copy(), np.linalg.inv(self._precision)

    def act(self, observation: np.ndarray) -> np.ndarray:
        """The grid action (K,) of the joint optimum of one posterior draw (one observation)."""
        view = self._view()
        obs = np.asarray(observation)
        if obs.shape != (len(view.names),):
            raise ConfigError(
                f"observation of shape {obs.shape}: catalogue_thompson acts on one market's "
                f"observation ({len(view.names)},) at a time (it draws and learns per market)."
            )
        rng = getattr(self, "rng", None)
        if rng is None:
            raise ConfigError(f"agent {self.name!r}: call agent.reset(seed) before act.")
        self._refit()
        assert self.coef_ is not None
        k = view.n_products
        z = rng.standard_normal(self.coef_.shape)
        draw = np.empty_like(self.coef_)
        for j in range(k):
            chol = np.linalg.cholesky(self._precision[j])  # H = L Lᵀ → L⁻ᵀ z ~ N(0, H⁻¹)
            draw[j] = self.coef_[j] + np.linalg.solve(chol.T, z[j])
        mu = np.exp(np.clip(self._design @ draw.T, -700.0, 700.0))
        profit = ((self._prices - self._cost) * mu).sum(axis=1)
        best = int(np.argmax(profit))
        return np.array(np.unravel_index(best, self._nvec), dtype=np.int64)

    def update(
        self,
        observation: np.ndarray,
        action: Any,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Pool the period's units sold per product under its price vector (censored dropped)."""
        view = self._view()
        assert self.counts_ is not None and self.units_ is not None
        a = np.asarray(action, dtype=np.int64).reshape(-1)
        row = int(np.ravel_multi_index(tuple(a.tolist()), self._nvec))
        if info is not None and "sales" in info:
            sales = np.asarray(info["sales"], dtype=np.float64)
        else:
            sales = view.last_sales(np.asarray(next_observation))
        finite = np.isfinite(view.inventory)
        sold_out = finite & (view.stock_fraction(np.asarray(next_observation)) <= 0) & (sales > 0)
        keep = ~sold_out
        self.counts_[row, keep] += 1.0
        self.units_[row, keep] += sales[keep]
        self._dirty |= keep

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self.counts_ is None or self.units_ is None or self.coef_ is None:
            return {}, {}
        return {}, {"counts": self.counts_, "units": self.units_, "coef": self.coef_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if "counts" in arrays:
            self.counts_ = np.asarray(arrays["counts"], dtype=np.float64).copy()
            self.units_ = np.asarray(arrays["units"], dtype=np.float64).copy()
            self.coef_ = np.asarray(arrays["coef"], dtype=np.float64).copy()
