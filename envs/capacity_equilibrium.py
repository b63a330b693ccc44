"""Benchmarks of the logit oligopoly when sellers' capacity binds: constrained Nash and monopoly.

Sellers of the multinomial-logit market (:mod:`pricegym.envs.oligopoly`, the
Calvano et al. 2020 demand) each hold stock. Over an episode of T rounds with
``capacity_i`` units, the static benchmark gives seller i the **per-round
capacity** k_i = capacity_i / T and caps its expected sales, q_i(p) ≤ k_i, with
q_i = market_size·s_i(p). Sales are ``min(demand, stock)`` and unmet demand is
lost (it does not spill over to rivals). Two problems follow.

**Capacity-constrained Bertrand–Nash** (a generalised Nash equilibrium problem:
seller i's feasible prices {p_i : q_i(p_i, p_−i) ≤ k_i} depend on its rivals'
prices). Seller i maximises (p_i − c_i)·q_i(p) subject to q_i(p) ≤ k_i. With a
multiplier λ_i ≥ 0 (the shadow price of a unit of capacity) its KKT conditions
are, for the logit,

    p_i = c_i + λ_i + μ / (1 − s_i(p)),   λ_i ≥ 0,  k_i − q_i(p) ≥ 0,  λ_i·(k_i − q_i(p)) = 0.

**Joint monopoly under the same capacity**: maximise Σ_i (p_i − c_i)·q_i(p)
subject to q_i(p) ≤ k_i. Its KKT conditions give every seller the same
capacity-adjusted markup,

    p_i = c_i + λ_i + μ / (1 − S(p)),   with the same complementarity,

S the total inside share (with λ = 0 these are the unconstrained conditions of
:func:`~pricegym.envs.equilibrium_solvers.logit_nash_prices` and
:func:`~pricegym.envs.equilibrium_solvers.logit_monopoly_prices`, so a capacity that does
not bind returns exactly their prices: 1.4729 and 1.9250 in the Calvano market).

Both systems are solved at once for (p, λ), the complementarity written with the
Fischer–Burmeister function φ(a, b) = a + b − √(a² + b²) (φ = 0 ⇔ a ≥ 0, b ≥ 0,
ab = 0), by ``scipy.optimize.root`` (hybrid Powell, tolerance 1e-14, Levenberg–
Marquardt as fallback), started from the unconstrained answer lifted to the
prices that clear each seller's capacity (:func:`capacity_clearing_prices`).
A solution is accepted only when every condition holds to 1e-10.

Why the KKT points are the answers. In share coordinates the price is
p_i = a_i − μ·ln(s_i/s_0) (s_0 the outside share), and each constraint is
linear, s_i ≤ k_i/market_size. Seller i's profit is concave in its own share
given its rivals' prices, and the joint profit
Σ_i market_size·s_i·(a_i − c_i − μ ln s_i + μ ln s_0) is concave in all shares
(entropy terms), so the KKT conditions are sufficient: the Nash solution is a
mutual best response and the monopoly solution the global joint optimum. The same
concavity makes the benchmarks exact for an episode with deterministic demand:
given constant rival prices, spreading sales evenly over the T rounds is a
seller's best use of its stock (Jensen), so playing the static constrained Nash
prices every round is an open-loop equilibrium of the T-round game, and the
static constrained monopoly every round is the T-round joint optimum. (Feedback
equilibria that condition on remaining stock can differ; they are not computed.)

With lost sales, pricing below the capacity-clearing price is dominated (the
seller still sells k_i, at a lower price), so these are also the equilibrium and
optimum of the game whose profits are ``(p_i − c_i)·min(q_i(p), k_i)``
(:func:`rationed_profits`), the profits a Q-learner's grid sees.

When capacity is tight enough that both benchmarks are at the capacity-clearing
prices (k_i at or below the unconstrained monopoly sales), Nash and monopoly
coincide and the collusion index is undefined: there is nothing left to collude on.

>>> nash = capacity_nash(capacity=0.44)
>>> round(float(nash.prices[0]), 4), bool(nash.binding[0]), round(float(nash.units[0]), 4)
(1.6752, True, 0.44)
>>> round(float(capacity_monopoly(capacity=0.44).prices[0]), 4)  # monopoly sales 0.365 < 0.44
1.925
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from pricegym.envs.equilibrium_solvers import (
    _market,
    logit_monopoly_prices,
    logit_nash_prices,
    logit_shares,
)
from pricegym.errors import ModelError

__all__ = [
    "CapacityBenchmark",
    "capacity_clearing_prices",
    "capacity_monopoly",
    "capacity_nash",
    "rationed_profits",
]

_KKT_TOL = 1e-10  # largest accepted residual of the KKT conditions


@dataclass(frozen=True)
class CapacityBenchmark:
    """One benchmark outcome of the capacity-constrained logit market.

    Attributes:
        kind: ``"nash"`` (generalised Bertrand–Nash) or ``"monopoly"`` (joint optimum).
        prices: one price per seller, shape (n,).
        shadow_prices: λ_i ≥ 0, the value of one more unit of per-round capacity
            (0 where capacity is slack), shape (n,).
        units: expected sales q_i = market_size·s_i ≤ k_i, shape (n,).
        profits: (p_i − c_i)·q_i per round, shape (n,).
        binding: whether seller i's capacity binds (λ_i > 0, or q_i = k_i to 1e-9).
        capacity: the per-round capacity k_i used (inf where unconstrained).
    """

    kind: str
    prices: np.ndarray
    shadow_prices: np.ndarray
    units: np.ndarray
    profits: np.ndarray
    binding: np.ndarray
    capacity: np.ndarray

    def __post_init__(self) -> None:
        for name in ("prices", "shadow_prices", "units", "profits", "binding", "capacity"):
            value = np.array(getattr(self, name))
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (an infinite capacity is written as None)."""
        return {
            "kind": self.kind,
            "prices": self.prices.tolist(),
            "shadow_prices": self.shadow_prices.tolist(),
            "units": self.units.tolist(),
            "profits": self.profits.tolist(),
            "binding": self.binding.tolist(),
            "capacity": [None if not np.isfinite(k) else float(k) for k in self.capacity],
        }


def _inputs(
    quality: ArrayLike,
    outside: float,
    mu: float,
    cost: ArrayLike,
    capacity: ArrayLike | None,
    market_size: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, c, k) as (n,) arrays, k = inf where unconstrained; ModelError on bad values."""
    a, c = _market(quality, cost)
    if not (np.isfinite(mu) and mu > 0):
        raise ModelError(f"mu={mu!r} must be finite and > 0.")
    if not (np.isfinite(market_size) and market_size > 0):
        raise ModelError(f"market_size={market_size!r} must be finite and > 0.")
    if not np.isfinite(outside):
        raise ModelError(f"outside={outside!r} must be finite.")
    n = a.size
    if capacity is None:
        return a, c, np.full(n, np.inf)
    k = np.atleast_1d(np.asarray(capacity, dtype=np.float64))
    if k.ndim != 1 or k.size not in (1, n):
        raise ModelError(
            f"capacity has shape {k.shape} for {n} sellers; pass one per-round capacity per "
            "seller (or a scalar for all, or None for no limit)."
        )
    k = np.broadcast_to(k, (n,)).copy()
    if np.any(np.isnan(k)) or np.any(k <= 0):
        raise ModelError(
            f"capacity={k.tolist()} must be > 0 for every seller (inf for no limit); a seller "
            "with no stock has no price to set."
        )
    return a, c, k


def _per_price(quality: ArrayLike, prices: np.ndarray) -> np.ndarray:
    """``quality`` as one value per seller of ``prices`` (..., n) when given as a scalar."""
    q = np.atleast_1d(np.asarray(quality, dtype=np.float64))
    return np.broadcast_to(q, (prices.shape[-1],)).copy() if q.size == 1 else q


def _shares(p: np.ndarray, a: np.ndarray, outside: float, mu: float) -> np.ndarray:
    return logit_shares(p, a, outside, mu)


def rationed_profits(
    prices: ArrayLike,
    quality: ArrayLike = 2.0,
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
    capacity: ArrayLike | None = None,
    market_size: float = 1.0,
) -> np.ndarray:
    """Each seller's profit ``(p_i − c_i)·min(q_i(p), k_i)`` with lost sales, shape (..., n).

    ``capacity`` is the per-round capacity k_i (scalar, (n,), or None for none).
    """
    p = np.asarray(prices, dtype=np.float64)
    a, c, k = _inputs(_per_price(quality, p), outside, mu, cost, capacity, market_size)
    units = market_size * _shares(p, a, outside, mu)
    return (p - c) * np.minimum(units, k)


def capacity_clearing_prices(
    prices: ArrayLike,
    quality: ArrayLike = 2.0,
    outside: float = 0.0,
    mu: float = 0.25,
    capacity: ArrayLike | None = None,
    market_size: float = 1.0,
) -> np.ndarray:
    """For each seller i, the own price at which its demand equals k_i, given rivals' ``prices``.

    Closed form for the logit: with R_i = Σ_{j≠i} exp((a_j − p_j)/μ) + exp(a_0/μ)
    and κ_i = k_i/market_size, ``p_i = a_i − μ·(ln(κ_i/(1 − κ_i)) + ln R_i)``.
    Seller i's capacity binds exactly when it prices below this. −inf where
    κ_i ≥ 1 (the capacity covers the whole market) or unconstrained. Shape (n,).
    """
    p = np.asarray(prices, dtype=np.float64)
    a, _, k = _inputs(_per_price(quality, p), outside, mu, 0.0, capacity, market_size)
    n = a.size
    out = np.full(n, -np.inf)
    u = (a - p) / mu
    for i in range(n):
        kappa = k[i] / market_size
        if not kappa < 1.0:
            continue
        log_r = special.logsumexp(np.append(np.delete(u, i), outside / mu))
        out[i] = a[i] - mu * (np.log(kappa) - np.log1p(-kappa) + log_r)
    return out


def _fischer_burmeister(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """φ(x, y) = x + y − √(x² + y²): zero exactly when x ≥ 0, y ≥ 0 and x·y = 0."""
    return x + y - np.hypot(x, y)


def _solve(
    kind: str,
    a: np.ndarray,
    c: np.ndarray,
    k: np.ndarray,
    outside: float,
    mu: float,
    market_size: float,
    start: np.ndarray,
) -> CapacityBenchmark:
    """Solve the KKT system of ``kind`` (``"nash"`` or ``"monopoly"``) from the unconstrained
    prices ``start``; see the module docstring."""
    n = a.size
    finite = np.isfinite(k)
    k_eq = np.where(finite, k, 0.0)

    def markup(p: np.ndarray) -> np.ndarray:
        s = _shares(p, a, outside, mu)
        inside = s if kind == "nash" else np.full(n, s.sum())
        return mu / (1.0 - inside)

    def residual(x: np.ndarray) -> np.ndarray:
        p, lam = x[:n], x[n:]
        slack = (k_eq - market_size * _shares(p, a, outside, mu)) / market_size
        comp = np.where(finite, _fischer_burmeister(lam, slack), lam)
        return np.concatenate([p - c - lam - markup(p), comp])

    def result(p: np.ndarray, lam: np.ndarray) -> CapacityBenchmark:
        units = market_size * _shares(p, a, outside, mu)
        binding = finite & ((lam > 1e-12) | (np.abs(units - k_eq) <= 1e-9 * market_size))
        return CapacityBenchmark(
            kind, p, lam, units, (p - c) * units, binding, np.where(finite, k, np.inf)
        )

    units0 = market_size * _shares(start, a, outside, mu)
    if np.all(units0 <= k):  # capacity slack at the unconstrained answer: that is the answer
        return result(start.copy(), np.zeros(n))
    p0 = start.copy()
    for _ in range(50):  # lift to the capacity-clearing prices (a monotone fixed point)
        lifted = np.maximum(
            p0,
            capacity_clearing_prices(p0, a, outside, mu, np.where(finite, k, np.inf), market_size),
        )
        if np.max(np.abs(lifted - p0)) < 1e-13:
            break
        p0 = lifted
    lam0 = np.maximum(p0 - c - markup(p0), 0.0)
    x0 = np.concatenate([p0, lam0])
    best = x0
    best_res = float(np.max(np.abs(residual(x0))))
    for method in ("hybr", "lm"):
        sol = optimize.root(residual, x0, method=method, tol=1e-14)
        res = float(np.max(np.abs(residual(sol.x))))
        if res < best_res:
            best, best_res = sol.x, res
        if best_res < _KKT_TOL:
            break
    if not best_res < _KKT_TOL:
        raise ModelError(
            f"the capacity-constrained {kind} KKT conditions were not solved (largest residual "
            f"{best_res:.2e}) for quality={a.tolist()}, outside={outside}, mu={mu}, "
            f"cost={c.tolist()}, capacity={k.tolist()}; check that the parameters are on a "
            "sensible scale (capacity in units of market_size per round)."
        )
    p, lam = best[:n], np.maximum(best[n:], 0.0)
    return result(p, lam)


def capacity_nash(
    quality: ArrayLike = (2.0, 2.0),
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
    capacity: ArrayLike | None = None,
    market_size: float = 1.0,
) -> CapacityBenchmark:
    """The capacity-constrained Bertrand–Nash equilibrium of the logit market.

    ``capacity`` is each seller's per-round capacity k_i (scalar, one per seller,
    ``inf`` or None for no limit), in the units of ``market_size``. Solves the KKT
    conditions ``p_i = c_i + λ_i + μ/(1 − s_i)``, λ_i ⊥ (k_i − q_i) ≥ 0 (module
    docstring); where no capacity binds at the unconstrained equilibrium it is
    returned exactly (:func:`~pricegym.envs.equilibrium_solvers.logit_nash_prices`).

    Raises:
        ModelError: bad parameters, or no solution with every residual below 1e-10.
    """
    a, c, k = _inputs(quality, outside, mu, cost, capacity, market_size)
    start = logit_nash_prices(a, outside, mu, c)
    return _solve("nash", a, c, k, outside, mu, market_size, start)


def capacity_monopoly(
    quality: ArrayLike = (2.0, 2.0),
    outside: float = 0.0,
    mu: float = 0.25,
    cost: ArrayLike = 1.0,
    capacity: ArrayLike | None = None,
    market_size: float = 1.0,
) -> CapacityBenchmark:
    """The prices maximising joint profit when seller i may sell at most k_i per round.

    Solves ``p_i = c_i + λ_i + μ/(1 − S)``, λ_i ⊥ (k_i − q_i) ≥ 0 (module
    docstring; the joint profit is concave in shares, so this is the global
    optimum); where no capacity binds at the unconstrained optimum it is returned
    exactly (:func:`~pricegym.envs.equilibrium_solvers.logit_monopoly_prices`).

    Raises:
        ModelError: bad parameters, or no solution with every residual below 1e-10.
    """
    a, c, k = _inputs(quality, outside, mu, cost, capacity, market_size)
    start = logit_monopoly_prices(a, outside, mu, c)
    return _solve("monopoly", a, c, k, outside, mu, market_size, start)
