"""Linear oligopoly demand with additive Gaussian noise, and its exact benchmarks.

Seller i of n sells

    q_i = a − b·p_i + c·Σ_{j≠i} p_j + σ·ε_i,   ε_i ~ N(0, 1) i.i.d.,

the textbook differentiated-products Bertrand market (substitutes for c > 0) used
in the bandit-collusion literature (e.g. Hansen, Misra & Pai 2021, "Frontiers:
Algorithmic Collusion: Supra-competitive Prices via Independent Algorithms",
Marketing Science 40(1)). The expected part is linear, so both benchmarks have
closed forms (marginal cost m for every seller):

- **Bertrand–Nash**: each first-order condition a − 2b·p_i + b·m + c·Σ_{j≠i} p_j = 0;
  the symmetric solution is p^N = (a + b·m) / (2b − (n − 1)·c).
- **Joint monopoly**: maximising Σ_i (p_i − m)·q_i gives, symmetrically,
  p^M = (a + (b − (n − 1)·c)·m) / (2·(b − (n − 1)·c)).

:func:`linear_nash_prices` and :func:`linear_monopoly_prices` solve the n linear
first-order conditions with ``numpy.linalg.solve`` (so asymmetric costs work as
well); they equal the symmetric formulas above, and
:func:`pricegym.envs.equilibrium_solvers.nash_prices` / ``monopoly_prices`` (numerical best
responses and joint maximisation) reach the same prices on the kernel's
``expected`` (tested to 1e-7).

:class:`LinearOligopolyTruth` is a multi-seller
:class:`~pricegym.demand.kernels.DemandKernel`, so ``OligopolyEnv(kernel=...,
noise=True)`` plays this market. Its expected units are *not* clipped at zero
(the benchmarks assume the linear form everywhere): the constructor refuses a
support on which some seller's expected demand can be negative, and sampled
units can be negative when σ is large relative to the expected units — the
theory model's additive noise, meant for reproductions, not for count data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pricegym._validate import POSITIVE, real
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.errors import ModelError

__all__ = [
    "GaussianNoise",
    "LinearOligopolyTruth",
    "linear_monopoly_prices",
    "linear_nash_prices",
]

_REFERENCE = {"t": 0.0, "competitors": [], "promotions": []}


@dataclass(frozen=True)
class GaussianNoise:
    """Additive Gaussian noise: units = mean + σ·Z, Z ~ N(0, 1) (may be negative).

    Attributes:
        sigma: the standard deviation σ ≥ 0 of units around their mean.
    """

    sigma: float = 0.0
    kind: str = "gaussian"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.sigma) and self.sigma >= 0):
            raise ModelError(
                f"sigma={self.sigma!r} must be finite and >= 0 (the standard deviation of "
                "units around their mean); use 0 for no noise."
            )

    def sample(self, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
        """``mean + σ·rng.standard_normal(mean.shape)`` (one normal per entry, in C order)."""
        mu = np.asarray(mean, dtype=np.float64)
        return mu + self.sigma * rng.standard_normal(mu.shape)

    def variance(self, mean: np.ndarray) -> np.ndarray:
        """σ² for every entry of ``mean``."""
        return np.full(np.shape(mean), self.sigma**2)


def _costs(cost: float | Sequence[float], n: int) -> np.ndarray:
    m = np.broadcast_to(np.asarray(cost, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ModelError(f"cost={m.tolist()} must be finite and >= 0, one per seller or a scalar.")
    return m


def _check_market(n: int, b: float, c: float) -> None:
    if n < 2:
        raise ModelError(f"n_sellers={n} must be >= 2 (use LinearTruth for one seller).")
    if not b > (n - 1) * abs(c):
        raise ModelError(
            f"own slope b={b:g} must exceed (n − 1)·|c| = {(n - 1) * abs(c):g} (cross slope "
            f"c={c:g}, n={n}): otherwise the joint profit has no maximum. Use a smaller |c|."
        )


def linear_nash_prices(
    intercept: float, own_slope: float, cross_slope: float, n_sellers: int = 2, cost: Any = 0.0
) -> np.ndarray:
    """Bertrand–Nash prices of the linear market, shape (n,), from its first-order conditions.

    Row i of the system: 2b·p_i − c·Σ_{j≠i} p_j = a + b·m_i.

    Raises:
        ModelError: b ≤ (n − 1)·|c| or a bad cost.
    """
    n, b, c = int(n_sellers), float(own_slope), float(cross_slope)
    _check_market(n, b, c)
    m = _costs(cost, n)
    system = np.full((n, n), -c) + np.eye(n) * (2.0 * b + c)
    return np.linalg.solve(system, intercept + b * m)


def linear_monopoly_prices(
    intercept: float, own_slope: float, cross_slope: float, n_sellers: int = 2, cost: Any = 0.0
) -> np.ndarray:
    """Joint-profit-maximising prices of the linear market, shape (n,).

    ∂/∂p_i Σ_k (p_k − m_k)·q_k = a − 2b·p_i + b·m_i + c·Σ_{j≠i} (2·p_j − m_j) = 0.

    Raises:
        ModelError: b ≤ (n − 1)·|c| or a bad cost.
    """
    n, b, c = int(n_sellers), float(own_slope), float(cross_slope)
    _check_market(n, b, c)
    m = _costs(cost, n)
    system = np.full((n, n), -2.0 * c) + np.eye(n) * (2.0 * b + 2.0 * c)
    rhs = intercept + b * m - c * (m.sum() - m)
    return np.linalg.solve(system, rhs)


class LinearOligopolyTruth(DemandKernel):
    """q_i = a − b·p_i + c·Σ_{j≠i} p_j + σ·ε_i for n sellers (see the module docstring).

    ``expected(prices)`` takes prices of shape (B, n) and returns the expected units
    (B, n); ``sample`` adds σ·N(0, 1) to each entry, drawing one normal per entry
    in C order from the generator it is given (``OligopolyEnv`` passes its
    ``np_random``: one (1, n) draw per round).

    Parameters:
        intercept: a.
        own_slope: b > (n − 1)·|c|.
        cross_slope: c (> 0 for substitutes).
        n_sellers: n ≥ 2.
        sigma: noise standard deviation σ ≥ 0.
        support: (p_min, p_max), the prices markets may use; every seller's expected
            demand must be positive on the whole box [p_min, p_max]^n.

    Raises:
        ModelError: bad parameters, or a support on which expected demand can be ≤ 0.
    """

    def __init__(
        self,
        intercept: float = 1.0,
        own_slope: float = 1.0,
        cross_slope: float = 0.5,
        n_sellers: int = 2,
        sigma: float = 0.0,
        support: Sequence[float] = (0.25, 1.1),
    ) -> None:
        must = "{name}={value!r} must be {rule}."
        self.intercept = real("intercept", intercept, POSITIVE, message=must, error=ModelError)
        self.own_slope = real("own_slope", own_slope, POSITIVE, message=must, error=ModelError)
        self.cross_slope = real(
            "cross_slope",
            cross_slope,
            message="{name}={value!r} must be finite and a number.",
            error=ModelError,
        )
        n = int(n_sellers)
        _check_market(n, self.own_slope, self.cross_slope)
        self.n_sellers = n
        lo, hi = float(support[0]), float(support[1])
        if not (0 < lo < hi and np.isfinite(hi)):
            raise ModelError(
                f"support={tuple(support)!r} must be (p_min, p_max), 0 < p_min < p_max."
            )
        c = self.cross_slope
        worst = self.intercept - self.own_slope * hi + (n - 1) * min(c * lo, c * hi)
        if not worst > 0:
            raise ModelError(
                f"expected demand a − b·p_max + (n − 1)·c·p_rival = {worst:.6g} is not positive "
                f"at the corner of support={(lo, hi)} (a={self.intercept:g}, b={self.own_slope:g}, "
                f"c={c:g}); the linear form would need clipping there. Narrow the support "
                "(lower p_max) or raise the intercept."
            )
        super().__init__(FeatureSpec(), GaussianNoise(float(sigma)), (lo, hi), _REFERENCE)  # type: ignore[arg-type]

    @property
    def sigma(self) -> float:
        """The noise standard deviation σ."""
        return float(self.noise.sigma)

    def expected(
        self,
        prices: np.ndarray,
        context: MarketContext | None = None,
        state: KernelState | None = None,
    ) -> np.ndarray:
        """Expected units per seller, shape (B, n), for prices (B, n) (or (n,))."""
        p = np.atleast_2d(np.asarray(prices, dtype=np.float64))
        if p.shape[-1] != self.n_sellers:
            raise ModelError(
                f"prices have {p.shape[-1]} columns but the market has {self.n_sellers} "
                "sellers; pass one price per seller."
            )
        rivals = p.sum(axis=-1, keepdims=True) - p
        return self.intercept - self.own_slope * p + self.cross_slope * rivals

    def nash_prices(self, cost: Any = 0.0) -> np.ndarray:
        """Bertrand–Nash prices (:func:`linear_nash_prices`)."""
        return linear_nash_prices(
            self.intercept, self.own_slope, self.cross_slope, self.n_sellers, cost
        )

    def monopoly_prices(self, cost: Any = 0.0) -> np.ndarray:
        """Joint-monopoly prices (:func:`linear_monopoly_prices`)."""
        return linear_monopoly_prices(
            self.intercept, self.own_slope, self.cross_slope, self.n_sellers, cost
        )

    def params(self) -> dict[str, Any]:
        """The truth's parameters, for reports."""
        return {
            "form": "linear_oligopoly",
            "intercept": self.intercept,
            "own_slope": self.own_slope,
            "cross_slope": self.cross_slope,
            "n_sellers": self.n_sellers,
            "sigma": self.sigma,
        }
