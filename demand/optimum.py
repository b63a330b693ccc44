"""Can a demand model support a pricing decision? :func:`optimum_check` says.

A fitted demand curve recommends the price that maximises the static (one
period, unlimited stock) expected profit ``(p − cost)·E[units](p)``. That
recommendation means something only when the maximum lies *inside* the prices
the model may try. :func:`optimum_check` scans that profit over ``[p_min, p_max]``
(by default the range seen in the data) and a little beyond, and returns an
:class:`OptimumCheck` whose ``verdict`` is one of

=====================  ========================================================
verdict                meaning
=====================  ========================================================
``interior``           the profit-maximising price lies inside the range (or
                       exactly at an end, with profit falling past it)
``lower_edge``         profit is highest at ``p_min`` and keeps rising as the
                       price falls below it
``upper_edge``         profit is highest at ``p_max`` and keeps rising as the
                       price rises above it
``no_finite_optimum``  constant-elasticity demand with elasticity ε ≥ −1 (|ε| ≤ 1
                       for demand that falls with price): ``(p − c)·a·p^ε`` rises
                       without bound for every cost c ≥ 0, so no price is optimal
=====================  ========================================================

Everything but ``interior`` means the answer cannot support a decision, and the
check's ``message`` says so, naming the edge price, the data's range and the cost.
The fit command, the market (:class:`~pricegym.envs.market.PricingEnv` warns with
:class:`~pricegym.errors.DecisionWarning`), the runner (``benchmarks.json``) and
the report all use this one function.

Constant elasticity is recognised exactly: a :class:`~pricegym.demand.parametric.
ConstantElasticity` truth, or a regression kernel with a log link on log price
(the ``loglinear`` and ``poisson`` families), whose elasticity is the log-price
coefficient.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from pricegym.demand.kernels import DemandKernel, RegressionKernel
from pricegym.demand.parametric import ConstantElasticity
from pricegym.errors import ModelError

__all__ = ["BEYOND", "EDGE_RTOL", "N_SCAN", "OptimumCheck", "Verdict", "optimum_check"]

Verdict = Literal["interior", "lower_edge", "upper_edge", "no_finite_optimum"]

#: Prices scanned inside [p_min, p_max] (evenly spaced, both ends included).
N_SCAN = 1001
#: The scan beyond the range reaches p_max·BEYOND above and p_min/BEYOND below.
BEYOND = 1.5
#: Profit beyond the edge must exceed the edge's by this fraction for an edge verdict.
EDGE_RTOL = 1e-6


@dataclass(frozen=True)
class OptimumCheck:
    """Where the static expected profit ``(p − cost)·E[units](p)`` peaks.

    Attributes:
        verdict: ``interior``, ``lower_edge``, ``upper_edge`` or ``no_finite_optimum``
            (see the module docstring).
        price: the profit-maximising price within [p_min, p_max] (the edge price
            for an edge verdict; p_max for ``no_finite_optimum``).
        profit: the expected profit per period at ``price``.
        p_min, p_max: the prices the model may try (a market's price range).
        support: the range of prices seen in the data the model was fitted on.
        cost: the unit cost used.
        elasticity: the constant elasticity ε of the demand family, ``None`` when
            the elasticity depends on the price.
        beyond_price: where profit peaks on the wider scan [p_min/BEYOND,
            p_max·BEYOND] when that differs from ``price`` (``None`` otherwise).
        message: one paragraph for a human; empty for ``interior``.
    """

    verdict: Verdict
    price: float
    profit: float
    p_min: float
    p_max: float
    support: tuple[float, float]
    cost: float
    elasticity: float | None
    beyond_price: float | None
    message: str

    @property
    def at_edge(self) -> bool:
        """Whether the answer cannot support a decision (any verdict but ``interior``)."""
        return self.verdict != "interior"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (non-finite numbers become ``None``)."""
        d = asdict(self)
        d["support"] = list(self.support)
        d["at_edge"] = self.at_edge
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()
        }


def constant_elasticity(kernel: DemandKernel) -> float | None:
    """The kernel's own-price elasticity if it is the same at every price, else ``None``."""
    if isinstance(kernel, ConstantElasticity):
        return float(kernel.epsilon)
    if (
        isinstance(kernel, RegressionKernel)
        and kernel.link == "log"
        and kernel.spec.price_transform == "log"
    ):
        return float(kernel.coef[kernel.spec.price_index])
    return None


def _profit(kernel: DemandKernel, prices: np.ndarray, cost: float, context: Any) -> np.ndarray:
    n = prices.size
    ctx = kernel.context(n) if context is None else context
    if ctx.batch_size != n:  # a one-row context is repeated for the scan
        ctx = kernel.context(
            n,
            t=ctx.t[0],
            competitors=ctx.competitors[0],
            promotions=ctx.promotions[0],
            product=ctx.product[0],
        )
    units = np.asarray(kernel.expected(prices, ctx, kernel.initial_state(n)), dtype=np.float64)
    return (prices - cost) * units


def optimum_check(
    demand: Any,
    cost: float = 0.0,
    p_min: float | None = None,
    p_max: float | None = None,
    context: Any = None,
) -> OptimumCheck:
    """Check whether the static profit-maximising price lies inside [p_min, p_max].

    Args:
        demand: a fitted :class:`~pricegym.demand.base.DemandModel` or a
            single-seller :class:`~pricegym.demand.kernels.DemandKernel`.
        cost: unit cost c >= 0 (0 makes profit = revenue).
        p_min, p_max: the prices that may be tried; default the model's support.
        context: a one-row :class:`~pricegym.demand.features.MarketContext`
            (default: the kernel's reference context — competitor prices at their
            means, no promotion, the period after the data).

    Returns:
        An :class:`OptimumCheck`. Profit is evaluated at :data:`N_SCAN` evenly
        spaced prices on [p_min, p_max] and at as many on [p_min/BEYOND, p_min] and
        [p_max, p_max·BEYOND]; a constant elasticity ε ≥ −1 gives ``no_finite_optimum``
        whatever the scan shows.

    Raises:
        ModelError: a multi-seller kernel, a cost that is negative or not finite, or
            a price range that is not 0 < p_min < p_max.
    """
    kernel = demand.kernel() if hasattr(demand, "kernel") and callable(demand.kernel) else demand
    if not isinstance(kernel, DemandKernel) or int(getattr(kernel, "n_sellers", 1)) != 1:
        raise ModelError(
            f"optimum_check takes a fitted DemandModel or a one-seller DemandKernel, got "
            f"{type(demand).__name__}; an oligopoly's benchmarks are its Nash and monopoly prices."
        )
    c = float(cost)
    if not (math.isfinite(c) and c >= 0):
        raise ModelError(f"cost={cost!r} must be a finite unit cost >= 0.")
    support = kernel.support
    lo = float(support[0] if p_min is None else p_min)
    hi = float(support[1] if p_max is None else p_max)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise ModelError(
            f"price range [{lo!r}, {hi!r}] must satisfy 0 < p_min < p_max; pass the prices the "
            "market may try."
        )
    inside = np.linspace(lo, hi, N_SCAN)
    below = np.linspace(lo / BEYOND, lo, N_SCAN)
    above = np.linspace(hi, hi * BEYOND, N_SCAN)
    with np.errstate(all="ignore"):
        profit_in = _profit(kernel, inside, c, context)
        profit_wide = _profit(kernel, np.concatenate([below, inside, above]), c, context)
    wide = np.concatenate([below, inside, above])
    i = int(np.nanargmax(profit_in))
    j = int(np.nanargmax(profit_wide))
    # An edge is a verdict only if profit rises past it: an optimum exactly at the edge
    # (profit falling on both sides) is a real answer.
    rises_past = bool(profit_wide[j] > profit_in[i] + EDGE_RTOL * abs(profit_in[i]))
    eps = constant_elasticity(kernel)
    if eps is not None and eps >= -1.0:
        verdict: Verdict = "no_finite_optimum"
        i = N_SCAN - 1
    elif i == 0 and rises_past:
        verdict = "lower_edge"
    elif i == N_SCAN - 1 and rises_past:
        verdict = "upper_edge"
    else:
        verdict = "interior"
    price = float(inside[i])
    beyond = float(wide[j]) if verdict != "interior" and not np.isclose(wide[j], price) else None
    return OptimumCheck(
        verdict=verdict,
        price=price,
        profit=float(profit_in[i]),
        p_min=lo,
        p_max=hi,
        support=(float(support[0]), float(support[1])),
        cost=c,
        elasticity=eps,
        beyond_price=beyond,
        message=_message(verdict, price, lo, hi, support, c, eps, beyond, wide),
    )


def _message(
    verdict: Verdict,
    price: float,
    lo: float,
    hi: float,
    support: tuple[float, float],
    cost: float,
    eps: float | None,
    beyond: float | None,
    wide: np.ndarray,
) -> str:
    if verdict == "interior":
        return ""
    data = f"[{support[0]:.4g}, {support[1]:.4g}]"
    same = math.isclose(lo, support[0]) and math.isclose(hi, support[1])
    tried = "" if same else f" (prices tried: [{lo:.4g}, {hi:.4g}])"
    money = (
        " Profit = revenue here: no unit cost was given."
        if cost == 0
        else f" Unit cost {cost:.4g}."
    )
    end = f" — the model cannot tell you the optimal price.{money}"
    if verdict == "no_finite_optimum":
        return (
            f"no finite optimum: demand is inelastic over the data (constant elasticity "
            f"{eps:.3g}, |ε| ≤ 1): the model recommends the highest price it is allowed to try "
            f"({hi:.4g}){tried}; profit keeps rising beyond the data's range {data}{end}"
        )
    upper = verdict == "upper_edge"
    side, far = ("highest", wide[-1]) if upper else ("lowest", wide[0])
    where = f"{'beyond' if upper else 'below'} the data's range {data}"
    if beyond is None:
        tail = ""
    elif np.isclose(beyond, far):
        tail = f"; profit keeps rising {where} (still at {far:.4g}, where demand is extrapolated)"
    elif support[0] <= beyond <= support[1]:
        tail = (
            f"; profit would peak near {beyond:.4g}, inside the data's range {data}: "
            "widen the prices tried"
        )
    else:
        tail = f"; profit would peak near {beyond:.4g}, {where}, where demand is extrapolated"
    return (
        f"optimum at the {'upper' if upper else 'lower'} edge of the price grid: the model "
        f"recommends the {side} price it is allowed to try ({price:.4g}){tried}{tail}{end}"
    )
