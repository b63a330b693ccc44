"""Benchmarks of the multi-seller pricing game: Bertrand–Nash and joint-monopoly prices.

The equilibrium solvers of the static game that :class:`~pricegym.envs.oligopoly.OligopolyEnv`
repeats, and the profits they are measured by:

- :func:`logit_nash_prices`, :func:`logit_monopoly_prices`: the multinomial logit
  with an outside option (Calvano, Calzolari, Denicolò & Pastorello 2020), solved
  from their first-order conditions;
- :func:`nash_prices`, :func:`monopoly_prices`: any batched demand function, by
  iterated best responses and by direct maximisation of the joint profit;
- :func:`logit_shares`, :func:`logit_profits`, :func:`joint_profit` and Calvano
  et al.'s profit gain Δ (:func:`profit_gain`).

The capacity-constrained versions are in :mod:`pricegym.envs.capacity_equilibrium`.
This module needs numpy and scipy only (no gymnasium, no PettingZoo).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from pricegym.errors import ModelError

__all__ = [
    "DemandFunction",
    "joint_profit",
    "logit_monopoly_prices",
    "logit_nash_prices",
    "logit_profits",
    "logit_shares",
    "monopoly_prices",
    "nash_prices",
    "profit_gain",
]

#: A batched demand function: prices of shape (B, n) to expected units of shape (B, n).
DemandFunction = Callable[[np.ndarray], np.ndarray]

_FOC_TOL = 1e-10  # largest accepted residual of the Nash first-order conditions


def _market(quality: ArrayLike, cost: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``quality`` and ``cost`` as float arrays of one common length n ≥ 1."""
    a = np.atleast_1d(np.asarray(quality, dtype=np.float64))
    c = np.atleast_1d(np.asarray(cost, dtype=np.float64))
    if a.ndim != 1 or c.ndim != 1 or (a.size != c.size and 1 not in (a.size, c.size)):
        raise ModelError(
            f"quality has shape {a.shape} and cost {c.shape}; pass one value per seller "
            "(or a scalar for all sellers)."
        )
    n = max(a.size, c.size)
    a, c = np.broadcast_to(a, (n,)).copy(), np.broadcast_to(c, (n,)).copy()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(c))):
        raise ModelError(f"quality={a.tolist()} and cost={c.tolist()} must be finite.")
    return a, c


def logit_shares(prices: np.ndarray, quality: ArrayLike, outside: float, mu: float) -> np.ndarray:
    """Logit market shares ``exp((a_i − p_i)/μ) / (Σ_j exp((a_j − p_j)/μ) + exp(a_0/μ))``.

    ``prices`` has shape (..., n); the result has the same shape. Numerically
    stable for any μ > 0 (the exponentials are shifted by their maximum).
    """
    u = (np.asarray(quality, dtype=np.float64) - np.asarray(prices, dtype=np.float64)) / mu
    u0 = outside / mu
    top = np.maximum(u.max(axis=-1, keepdims=True), u0)
    e = np.exp(u - top)
    return e / (e.sum(axis=-1, keepdims=True) + np.exp(u0 - top))


def logit_profits(
    prices: np.ndarray,
    quality: ArrayLike = 2.0,
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
    market_size: float = 1.0,
) -> np.ndarray:
    """Each seller's expected profit ``(p_i − c_i)·market_size·s_i(p)``, shape (..., n)."""
    p = np.asarray(prices, dtype=np.float64)
    return (p - np.asarray(cost)) * market_size * logit_shares(p, quality, outside, mu)


def joint_profit(
    prices: np.ndarray,
    quality: ArrayLike = 2.0,
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
    market_size: float = 1.0,
) -> np.ndarray:
    """Industry profit ``Σ_i (p_i − c_i)·q_i`` of the logit market, shape (...) for (..., n)."""
    return logit_profits(prices, quality, outside, mu, cost, market_size).sum(axis=-1)


def profit_gain(
    profit: np.ndarray | float, nash_profit: np.ndarray | float, monopoly_profit: np.ndarray | float
) -> np.ndarray:
    """Calvano et al.'s profit gain Δ = (π − π^N)/(π^M − π^N): 0 at Nash, 1 at monopoly.

    Under Markov shocks pass the benchmarks of the regime in force in each round,
    averaged over the same rounds as π (``OligopolyEnv.regime_nash_profits`` /
    ``regime_monopoly_profits`` weighted by the rounds spent in each regime, or
    the mean of the ``nash_profit`` / ``monopoly_profit`` infos): then Δ is 0 when
    every round is played at its regime's Nash prices and 1 at its regime's
    joint-monopoly prices. The base market's benchmarks (``nash_profits``) would
    misplace Δ whenever the regimes visited earn more or less than the base market.
    """
    pn, pm = np.asarray(nash_profit, np.float64), np.asarray(monopoly_profit, np.float64)
    return (np.asarray(profit, dtype=np.float64) - pn) / (pm - pn)


def logit_nash_prices(
    quality: ArrayLike = (2.0, 2.0),
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
) -> np.ndarray:
    """Bertrand–Nash prices of the logit market with an outside option.

    Solves the first-order conditions ``p_i = c_i + μ/(1 − s_i(p))`` of every
    seller at once (``scipy.optimize.root``, hybrid Powell, tolerance 1e-14); the
    logit game has a unique equilibrium. Sellers may differ in quality and cost;
    the number of sellers is the length of ``quality`` (or of ``cost``).

    Raises:
        ModelError: μ ≤ 0 or the solver did not reach a residual below 1e-10.
    """
    a, c = _market(quality, cost)
    if not (np.isfinite(mu) and mu > 0):
        raise ModelError(f"mu={mu!r} must be finite and > 0.")

    def foc(p: np.ndarray) -> np.ndarray:
        return p - c - mu / (1.0 - logit_shares(p, a, outside, mu))

    x0 = c + mu * (a.size + 1.0) / a.size
    sol = optimize.root(foc, x0, method="hybr", tol=1e-14)
    residual = float(np.max(np.abs(foc(sol.x))))
    if not residual < _FOC_TOL:
        raise ModelError(
            f"the Nash first-order conditions were not solved (largest residual {residual:.2e}) "
            f"for quality={a.tolist()}, outside={outside}, mu={mu}, cost={c.tolist()}; "
            "check that the parameters are on a sensible scale."
        )
    return sol.x


def logit_monopoly_prices(
    quality: ArrayLike = (2.0, 2.0),
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
) -> np.ndarray:
    """Prices maximising the joint profit of all sellers of the logit market.

    A multi-product logit monopolist sets one common markup m = p_i − c_i for
    every product (the first-order conditions give m_i = μ + Σ_j m_j s_j for all
    i), and m solves ``m·(1 − S(m)) = μ`` with S the total inside share. The
    left side rises strictly in m, so the root is unique; it is found with
    ``scipy.optimize.brentq`` to 1e-15. Works for asymmetric quality and cost;
    :func:`monopoly_prices` reaches the same prices by direct maximisation.
    """
    a, c = _market(quality, cost)
    if not (np.isfinite(mu) and mu > 0):
        raise ModelError(f"mu={mu!r} must be finite and > 0.")

    def excess(m: float) -> float:
        log_inside = special.logsumexp((a - c - m) / mu)
        return m * special.expit(outside / mu - log_inside) - mu  # m·(1 − S) − μ

    hi = mu
    while excess(hi) <= 0:
        hi *= 2.0
    m = optimize.brentq(excess, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return c + m


def nash_prices(
    demand: DemandFunction,
    cost: ArrayLike,
    bounds: tuple[float, float],
    x0: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> np.ndarray:
    """Bertrand–Nash prices of any n-seller demand, by iterated best responses.

    Each sweep lets every seller in turn choose the price in ``bounds`` that
    maximises its own profit ``(p_i − c_i)·demand(p)[i]`` given the others'
    current prices (bounded Brent search, 1e-12); sweeps stop when no price
    moves by more than ``tol``. The result is a Nash equilibrium of the game
    restricted to ``bounds`` when the sweeps converge (they do for logit, linear
    and other demands with strategic complements and a contraction best reply).

    Raises:
        ModelError: the sweeps did not converge within ``max_iter``.
    """
    c = np.asarray(cost, dtype=np.float64)
    lo, hi = float(bounds[0]), float(bounds[1])
    p = np.full(c.size, 0.5 * (lo + hi)) if x0 is None else np.array(x0, dtype=np.float64)
    for _ in range(max_iter):
        before = p.copy()
        for i in range(c.size):

            def loss(x: float, i: int = i) -> float:
                q = p.copy()
                q[i] = x
                return -float((x - c[i]) * demand(q[None, :])[0, i])

            p[i] = optimize.minimize_scalar(
                loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
            ).x
        if np.max(np.abs(p - before)) < tol:
            return p
    raise ModelError(
        f"best-response iteration did not converge in {max_iter} sweeps (last prices "
        f"{p.tolist()}); the demand may have no pure-strategy equilibrium in {bounds}. "
        "Pass an explicit price grid (prices=...) instead of relying on the benchmark."
    )


def monopoly_prices(
    demand: DemandFunction,
    cost: ArrayLike,
    bounds: tuple[float, float],
    x0: ArrayLike | None = None,
) -> np.ndarray:
    """Prices in ``bounds`` maximising joint profit ``Σ_i (p_i − c_i)·demand(p)[i]``.

    ``scipy.optimize.minimize`` (L-BFGS-B, then a Nelder–Mead polish) over all n
    prices; a local optimum, so start ``x0`` near the answer for unusual demands.
    """
    c = np.asarray(cost, dtype=np.float64)
    lo, hi = float(bounds[0]), float(bounds[1])
    start = np.full(c.size, 0.5 * (lo + hi)) if x0 is None else np.array(x0, dtype=np.float64)

    def loss(p: np.ndarray) -> float:
        return -float(((p - c) * demand(p[None, :])[0]).sum())

    box = [(lo, hi)] * c.size
    first = optimize.minimize(loss, start, method="L-BFGS-B", bounds=box, tol=1e-14)
    polish = optimize.minimize(
        loss,
        first.x,
        method="Nelder-Mead",
        bounds=box,
        options={"xatol": 1e-11, "fatol": 1e-15, "maxiter": 20_000},
    )
    return polish.x if polish.fun <= first.fun else first.x
