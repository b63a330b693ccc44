"""Off-policy evaluation: what the seller's own logged sales say a new pricing policy earns.

A simulated gain is worth what the simulated market is worth. :func:`evaluate_logged`
asks the data instead: the seller's history is *logged bandit feedback* — in each
period ``i`` a context ``x_i`` (competitor prices, promotions, the season), the price
``a_i`` the seller's own pricing (the *logging policy*) chose, and the reward ``r_i =
(a_i − c_i) · units_i`` (profit; revenue when no cost is known). A deterministic target
policy ``π`` prices ``π(x_i)``; its value is ``V(π) = E_x[q(x, π(x))]`` with ``q(x, a)``
the expected reward at price ``a`` in context ``x``. Four estimators, following the
definitions of the Open Bandit Pipeline (``obp.ope``: ``DirectMethod``,
``KernelizedInverseProbabilityWeighting``, ``KernelizedSelfNormalizedInverseProbabilityWeighting``,
``KernelizedDoublyRobust``; Kallus & Zhou 2018, "Policy Evaluation and Optimization
with Continuous Treatments", AISTATS), with ``w_i`` the importance weight below:

==========  ===========================================================================
dm          ``mean_i q̂(x_i, π(x_i))``: the fitted demand model's answer (biased when
            the model is misspecified, never noisier than the model)
ipw         ``mean_i w_i r_i``: unbiased with the true propensities (for the
            kernel-smoothed value ``V_h`` with continuous prices, see below)
snipw       ``Σ w_i r_i / Σ w_i``: self-normalised IPW (consistent, small bias, much
            less variance when weights are uneven)
dr          ``mean_i [q̂(x_i, π(x_i)) + w_i (r_i − q̂(x_i, a_i))]``: doubly robust,
            unbiased when either the propensities or the model is right
==========  ===========================================================================

**Weights.** On a discrete price grid (``grid=``; exact) ``w_i = 1{a_i = π(x_i)} /
P(a_i | x_i)``. With continuous prices the indicator becomes a kernel on the distance
between the logged and the target price, ``w_i = K((π(x_i) − a_i)/h) / (h · p(a_i |
x_i))`` with ``p`` the logging policy's conditional *density* of the price and ``h``
the bandwidth (:data:`KERNELS`: gaussian, epanechnikov, triangular, cosine, as
``obp``). Kernel IPW/DR estimate the value of the policy that prices ``π(x) + h·U``,
``U ~ K``: a smoothing bias of order ``h²`` that shrinks with ``h`` while the variance
grows as ``1/(n h)``. The default ``h`` is Silverman's rule on the logged prices,
``0.9 · min(sd, IQR/1.34) · n^(−1/5)`` (:func:`default_bandwidth`); it is stated in the
result. DR's baseline is ``q̂(x_i, π(x_i))`` and its residual ``r_i − q̂(x_i, a_i)``
(Kallus & Zhou's form; ``obp``'s ``KernelizedDoublyRobust`` takes one array for both);
kernel DR estimates ``V_h + E[q̂(π) − q̂_h(π)]`` — ``V`` itself when the model is right
(the smoothing biases cancel), off by the model's curvature error ``h²/2 · (q'' − q̂'')``
when it is not (``benchmarks/bench_offpolicy.py`` measures it).

**Propensities.** The seller rarely knows them. By default they are *estimated*
(:class:`LogNormalLogging`: ``log price | context`` normal with an OLS mean in the
log competitor prices, promotions and one seasonal harmonic, by statsmodels;
:class:`GridLogging` on a grid: a multinomial logit of the grid price on the same
features, by scikit-learn, or the grid prices' frequencies without features), and
the result says so: an IPW/DR estimate is only as good as that model. Known
propensities are passed as ``propensities=`` (an array at the logged prices, or an
object with ``density(history, prices)``).

**Intervals** are :func:`scipy.stats.bootstrap` percentile intervals over the rows
(paired for SNIPW), *conditional on the fitted propensity and demand models* (they
are not refitted per resample), so they are somewhat too narrow when those are
estimated; DM's interval holds only the spread over the logged contexts, not the
demand model's parameter uncertainty.

**Warnings** (:class:`OffPolicyWarning`, also listed in :attr:`OffPolicyResult.warnings`):

- the weights' effective sample size ``ESS = (Σ w)² / Σ w²`` below :data:`MIN_ESS`
  rows: IPW/SNIPW/DR rest on a handful of periods;
- target prices outside the logged price range, or more than
  :data:`LOW_SUPPORT_SHARE` of the rows where the logging policy put less than
  :data:`SUPPORT_PROBABILITY` probability on the target's kernel window (grid: on the
  target price): the target policy leaves the data's support, and no reweighting of
  the data can say what it earns there;
- the mean weight away from 1 (by more than :data:`MEAN_WEIGHT_TOLERANCE` and 3
  standard errors, with at least :data:`MIN_ESS` effective rows; below, it is the
  support that fails): the propensity model is wrong;
- at most :data:`FEW_PRICES` distinct logged prices without ``grid``: pass the grid;
- DM outside DR's interval: the demand model disagrees with the data at the target's
  prices; believe DR (the data), not DM (the model).
- logged sold-out periods (a stock / stock-out column, :attr:`SalesHistory.censored`):
  their rewards are capped by stock, so every estimator values the policy under the
  logged stock limits. With a stock column DM and DR's model term are the model's
  expected sales ``E[min(demand, stock)]`` (right when the model is a censored family);
  with a sold-out flag only they are uncapped demand, which IPW does not see.

Randomness: one ``np.random.default_rng(seed)``, used only by the bootstrap (the
estimators in :data:`ESTIMATORS` order). Same data, policy, models and seed →
identical results.

>>> import numpy as np, pandas as pd
>>> from pricegym.demand.data import load_history
>>> rng = np.random.default_rng(0)
>>> price = rng.choice([2.0, 2.5, 3.0], size=300)
>>> units = rng.poisson(40 * price**-2.0)
>>> history = load_history(pd.DataFrame({"period": np.arange(300), "price": price,
...                                      "units": units}))
>>> result = evaluate_logged(2.5, history, grid=[2.0, 2.5, 3.0],
...                          propensities=np.full(300, 1 / 3), n_resamples=200)
>>> result.table["estimator"].tolist()
['dm', 'ipw', 'snipw', 'dr']
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand import make_model
from pricegym.demand._stockout import expected_sales, offpolicy_censoring_text
from pricegym.errors import ConfigError, PricegymWarning
from pricegym.experiments._offpolicy_logging import (
    GridLogging,
    LoggingPolicy,
    LogNormalLogging,
    grid_codes,
)

__all__ = [
    "ESTIMATORS",
    "FEW_PRICES",
    "KERNELS",
    "LOW_SUPPORT_SHARE",
    "MEAN_WEIGHT_TOLERANCE",
    "MIN_ESS",
    "SUPPORT_PROBABILITY",
    "GridLogging",
    "LogNormalLogging",
    "LoggingPolicy",
    "OffPolicyResult",
    "OffPolicyWarning",
    "default_bandwidth",
    "effective_sample_size",
    "evaluate_logged",
    "grid_codes",
    "model_rewards",
    "ope_contributions",
]


class OffPolicyWarning(PricegymWarning):
    """An off-policy estimate rests on few effective rows, leaves the data's support, or
    the demand model disagrees with the data."""


def _gaussian(u: np.ndarray) -> np.ndarray:
    return np.exp(-(u**2) / 2.0) / math.sqrt(2.0 * math.pi)


def _epanechnikov(u: np.ndarray) -> np.ndarray:
    return np.where(np.abs(u) <= 1.0, 0.75 * (1.0 - u**2), 0.0)


def _triangular(u: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(u), 0.0, None)


def _cosine(u: np.ndarray) -> np.ndarray:
    return np.where(np.abs(u) <= 1.0, (math.pi / 4.0) * np.cos(u * math.pi / 2.0), 0.0)


#: Kernels on ``u = (π(x) − a) / h``, each a density integrating to 1 (as ``obp``'s; its
#: bounded kernels clip ``u`` to [−1, 1], which leaves K(±1) = 0 there and here).
KERNELS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "gaussian": _gaussian,
    "epanechnikov": _epanechnikov,
    "triangular": _triangular,
    "cosine": _cosine,
}
#: Half-width of each kernel's window in units of h (gaussian: the central 95%).
_HALF_WIDTH = {"gaussian": 1.96, "epanechnikov": 1.0, "triangular": 1.0, "cosine": 1.0}
#: Estimators in the order of the result table (and of the bootstrap draws).
ESTIMATORS: tuple[str, ...] = ("dm", "ipw", "snipw", "dr")
#: Fewest effective rows (ESS of the weights) before the estimate is said to rest on
#: too few periods: below 30 a mean's normal/bootstrap interval is not trustworthy.
MIN_ESS = 30.0
#: Logging probability of the target's kernel window (grid: of its price) below which a
#: row counts as outside the logged support.
SUPPORT_PROBABILITY = 0.01
#: Share of rows outside the support above which the result warns.
LOW_SUPPORT_SHARE = 0.1
#: Departure of the mean importance weight from 1 (its expectation under the true
#: propensities) that warns, when also beyond 3 standard errors.
MEAN_WEIGHT_TOLERANCE = 0.1
#: At most this many distinct logged prices without a grid warns (pass the grid).
FEW_PRICES = 20
#: Bootstrap resamples by default.
DEFAULT_RESAMPLES = 2000
#: Relative tolerance for a price to count as a grid price (as :func:`grid_codes`).
_GRID_RTOL = 1e-6


# ==================================================================== estimators
def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(Σ w)² / Σ w²`` of non-negative weights (0 if all 0)."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / total) if total > 0 else 0.0


def default_bandwidth(prices: np.ndarray) -> float:
    """Silverman's rule ``0.9 · min(sd, IQR/1.34) · n^(−1/5)`` on the logged prices.

    Raises:
        ConfigError: the logged prices do not vary (no bandwidth can be derived).
    """
    p = np.asarray(prices, dtype=np.float64)
    sd = float(np.std(p, ddof=1)) if p.size > 1 else 0.0
    q75, q25 = np.percentile(p, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) or sd
    if not spread > 0:
        raise ConfigError(
            f"the {p.size} logged prices do not vary (all {p[0]:g}), so the data cannot say "
            "what any other price earns. Fix: evaluate on a history with price variation."
        )
    return 0.9 * spread * p.size ** (-0.2)


def ope_contributions(
    reward: np.ndarray,
    logged_price: np.ndarray,
    target_price: np.ndarray,
    pscore: np.ndarray,
    q_logged: np.ndarray,
    q_target: np.ndarray,
    *,
    kernel: str = "gaussian",
    bandwidth: float | None = None,
    grid: Sequence[float] | None = None,
) -> dict[str, np.ndarray]:
    """Per-row terms of the estimators (see the module docstring); all arrays shape (n,).

    Args:
        reward: realised reward ``r_i``.
        logged_price: the logged price ``a_i``.
        target_price: the target policy's price ``π(x_i)``.
        pscore: the logging policy's density (grid: probability) of ``a_i`` given ``x_i``.
        q_logged, q_target: the reward model at ``a_i`` and at ``π(x_i)``.
        kernel, bandwidth: the kernel and ``h`` for continuous prices.
        grid: the price grid; with it the weights are exact indicators (kernel and
            bandwidth unused).

    Returns:
        ``{"weight": w, "dm": q̂(x, π(x)), "ipw": w r, "dr": q̂(x, π(x)) + w (r − q̂(x, a))}``;
        SNIPW is ``Σ ipw / Σ weight``.
    """
    r = np.asarray(reward, dtype=np.float64)
    a = np.asarray(logged_price, dtype=np.float64)
    pi = np.asarray(target_price, dtype=np.float64)
    ps = np.asarray(pscore, dtype=np.float64)
    if np.any(~np.isfinite(ps)) or np.any(ps <= 0):
        bad = ps[~(np.isfinite(ps) & (ps > 0))][:5]
        raise ConfigError(
            f"propensities {bad.tolist()} are not positive: the logging policy must give every "
            "logged price a positive probability (density). Fix: pass propensities > 0, or "
            "let them be estimated (propensities=None)."
        )
    if grid is not None:
        match = np.isclose(a, pi, rtol=_GRID_RTOL, atol=0.0)
        w = match / ps
    else:
        if kernel not in KERNELS:
            raise ConfigError(
                f"kernel={kernel!r} is not a kernel; choose one of {sorted(KERNELS)}."
            )
        if bandwidth is None or not (math.isfinite(bandwidth) and bandwidth > 0):
            raise ConfigError(
                f"bandwidth={bandwidth!r} must be a number > 0 in price units. Fix: e.g. "
                "bandwidth=0.1, or None for Silverman's rule."
            )
        w = KERNELS[kernel]((pi - a) / bandwidth) / (bandwidth * ps)
    q_t = np.asarray(q_target, dtype=np.float64)
    q_a = np.asarray(q_logged, dtype=np.float64)
    return {"weight": w, "dm": q_t, "ipw": w * r, "dr": q_t + w * (r - q_a)}


# ==================================================================== rewards
def _costs(history: Any, unit_cost: float | None) -> tuple[np.ndarray, str]:
    if unit_cost is not None:
        if not (math.isfinite(unit_cost) and unit_cost >= 0):
            raise ConfigError(f"unit_cost={unit_cost!r} must be a number >= 0.")
        return np.full(history.n_rows, float(unit_cost)), f"profit at unit cost {unit_cost:g}"
    if "cost" in history.frame.columns:
        return history.frame["cost"].to_numpy(dtype=np.float64), "profit (the cost column)"
    return np.zeros(history.n_rows), "revenue (no cost known: pass unit_cost for profit)"


def model_rewards(model: Any, history: Any, prices: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Expected reward ``(p_i − c_i) · E[units | p_i, x_i]`` of each row under a demand model.

    With a stock column the units are the expected *sales* ``E[min(demand, stock_i)]``
    under the model's noise (:func:`~pricegym.demand._stockout.expected_sales`), so
    that DM and DR value the policy under the logged stock, as the rewards do.
    Only the row's own price changes; its context (competitor prices, promotions,
    period) is the logged one. The model's kernel evaluates it (static families).

    Raises:
        ConfigError: a model whose demand has memory (its kernel carries state: ARIMAX,
            a neural model with lags), for which a one-row counterfactual is not defined.
    """
    kern = model.kernel()
    if kern.initial_state(1):
        raise ConfigError(
            f"reward model {type(model).__name__}: its demand depends on the past (the kernel "
            "carries state), so the reward of one period at another price is not defined "
            "row by row. Fix: use a static family for the direct method (linear, loglinear, "
            "poisson)."
        )
    ctx = kern.spec.context_from_history(history)
    p = np.asarray(prices, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extrapolation is reported by the support check
        units = kern.expected(p, ctx, {})
    stock = history.column("stock") if "stock" in history.frame else None
    return (p - costs) * expected_sales(kern.noise, units, stock)


# ==================================================================== the result
@dataclass
class OffPolicyResult:
    """The logged-data value of a target policy (see the module docstring).

    Attributes:
        table: one row per estimator (:data:`ESTIMATORS`): ``estimator``, ``value``
            (mean reward per period), ``ci_low``, ``ci_high``.
        n_rows: rows evaluated; ``n_dropped``: rows without a target price (NaN).
        reward: what the reward is (profit with its cost, or revenue).
        logged_value: mean realised reward of the seller's own pricing.
        propensity: how the propensities were obtained ("known ..." or "estimated ...").
        kernel, bandwidth: the continuous-price kernel and ``h`` (``None`` on a grid).
        grid: the price grid, or ``None``.
        mean_weight: the mean importance weight (1 in expectation under the true
            propensities, on a grid and for every kernel); ess: the weights' effective
            sample size; ``outside_range``: rows whose target
            price lies outside the logged price range; ``low_support_share``: share of
            rows with logging probability < :data:`SUPPORT_PROBABILITY` on the target's
            window (NaN when the propensities are given only at the logged prices).
        level, n_resamples, seed: of the bootstrap intervals.
        warnings: the warnings' texts.
    """

    table: pd.DataFrame
    n_rows: int
    n_dropped: int
    reward: str
    logged_value: float
    propensity: str
    kernel: str | None
    bandwidth: float | None
    grid: list[float] | None
    mean_weight: float
    ess: float
    outside_range: int
    low_support_share: float
    level: float
    n_resamples: int
    seed: int
    warnings: list[str] = field(default_factory=list)

    def value(self, estimator: str) -> float:
        """The estimate of one estimator."""
        return float(self.table.set_index("estimator").loc[estimator, "value"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN → None)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float | np.floating):
                return float(v) if math.isfinite(v) else None
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "estimates": [
                {k: clean(v) for k, v in row.items()} for row in self.table.to_dict("records")
            ],
            "n_rows": self.n_rows,
            "n_dropped": self.n_dropped,
            "reward": self.reward,
            "logged_value": clean(self.logged_value),
            "propensity": self.propensity,
            "kernel": self.kernel,
            "bandwidth": clean(self.bandwidth),
            "grid": self.grid,
            "mean_weight": clean(self.mean_weight),
            "ess": clean(self.ess),
            "ess_threshold": MIN_ESS,
            "outside_range": self.outside_range,
            "low_support_share": clean(self.low_support_share),
            "level": self.level,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "warnings": list(self.warnings),
        }


def _interval(
    samples: tuple[np.ndarray, ...], ratio: bool, level: float, n: int, rng: np.random.Generator
) -> tuple[float, float]:
    from scipy.stats import bootstrap

    if all(np.ptp(s) == 0 for s in samples):  # degenerate: every resample equals the estimate
        v = float(samples[0][0] / samples[1][0]) if ratio else float(samples[0][0])
        return v, v

    def mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(x, axis=axis)

    def quotient(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(a, axis=axis) / np.sum(b, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's degenerate-resample notes
        res = bootstrap(
            samples,
            quotient if ratio else mean,
            n_resamples=n,
            confidence_level=level,
            method="percentile",
            paired=ratio,
            vectorized=True,
            random_state=rng,
        )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _target_prices(policy: Any, history: Any) -> np.ndarray:
    if callable(policy) and not isinstance(policy, int | float):
        prices = policy(history)
    elif isinstance(policy, int | float | np.number) and not isinstance(policy, bool):
        prices = np.full(history.n_rows, float(policy))
    else:
        prices = policy
    out = np.asarray(prices, dtype=np.float64).reshape(-1)
    if out.shape != (history.n_rows,):
        raise ConfigError(
            f"the target policy gave {out.size} prices for {history.n_rows} logged rows. Fix: "
            "return one price per row of history.frame (NaN for a row it cannot price)."
        )
    bad = np.isfinite(out) & ~(out > 0)
    if bad.any():
        raise ConfigError(
            f"target prices {out[bad][:5].tolist()} are not positive. Fix: a policy prices > 0."
        )
    return out


def evaluate_logged(
    policy: Any,
    history: Any,
    *,
    reward_model: Any = None,
    family: str = "poisson",
    unit_cost: float | None = None,
    propensities: Any = None,
    grid: Sequence[float] | None = None,
    kernel: str = "gaussian",
    bandwidth: float | None = None,
    level: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> OffPolicyResult:
    """The value per period of a deterministic pricing policy, estimated from logged sales.

    Args:
        policy: the target policy: a price (a fixed-price policy), an array of one
            price per row of ``history.frame``, or a callable ``policy(history) →``
            such an array. NaN marks a row the policy cannot price (dropped, counted).
        history: the logged :class:`~pricegym.demand.data.SalesHistory` (one product).
        reward_model: a fitted static :class:`~pricegym.demand.base.DemandModel` for DM
            and DR; ``None`` fits ``family`` to ``history``.
        family: the family fitted when ``reward_model`` is None (default poisson).
        unit_cost: cost per unit for the profit reward (default: the history's cost
            column, else 0: the reward is revenue).
        propensities: ``None`` (estimated: :class:`LogNormalLogging` /
            :class:`GridLogging`), an array of the logging density (grid: probability)
            of each logged price, or a :class:`LoggingPolicy`.
        grid: the price grid the seller chose from: exact indicator weights.
        kernel, bandwidth: continuous prices: the kernel (:data:`KERNELS`) and ``h`` in
            price units (default :func:`default_bandwidth`).
        level, n_resamples, seed: the bootstrap intervals.

    Returns:
        An :class:`OffPolicyResult`; warns :class:`OffPolicyWarning` as the module says.

    Raises:
        ConfigError: a panel history, a bad policy output, prices off the grid,
            non-positive propensities, a bad bandwidth, kernel or level.
    """
    if getattr(history, "is_panel", False):
        raise ConfigError(
            f"{history.source} holds {len(history.products)} products; off-policy evaluation "
            "prices one. Fix: history.for_product(KEY) first."
        )
    if not 0.0 < float(level) < 1.0:
        raise ConfigError(f"level={level!r} must lie strictly between 0 and 1, e.g. 0.95.")
    if isinstance(n_resamples, bool) or int(n_resamples) < 100:
        raise ConfigError(f"n_resamples={n_resamples!r} must be an integer >= 100.")
    target_all = _target_prices(policy, history)
    keep = np.isfinite(target_all)
    n_dropped = int((~keep).sum())
    if keep.sum() < 2:
        raise ConfigError(
            f"the target policy priced {int(keep.sum())} of {history.n_rows} logged rows; at "
            "least 2 are needed."
        )
    if n_dropped:
        history = dataclasses.replace(history, frame=history.frame.loc[keep].reset_index(drop=True))
    target = target_all[keep]
    logged = history.price
    costs, reward_text = _costs(history, unit_cost)
    reward = (logged - costs) * history.units
    # the reward model (DM, DR)
    if reward_model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reward_model = make_model(family).fit(history)
    q_logged = model_rewards(reward_model, history, logged, costs)
    q_target = model_rewards(reward_model, history, target, costs)
    # the logging policy
    logging_policy: Any = None
    if propensities is None:
        logging_policy = (GridLogging(grid) if grid is not None else LogNormalLogging()).fit(
            history
        )
        propensity = logging_policy.describe()
        pscore = logging_policy.density(history, logged)
    elif hasattr(propensities, "density"):
        logging_policy = propensities
        propensity = "known (a logging policy given by the caller)"
        pscore = np.asarray(logging_policy.density(history, logged), dtype=np.float64)
    else:
        pscore = np.asarray(propensities, dtype=np.float64).reshape(-1)
        if pscore.size != keep.size:
            raise ConfigError(
                f"propensities has {pscore.size} values for {keep.size} logged rows; pass one "
                "per row of history.frame."
            )
        pscore = pscore[keep]
        propensity = "known (given by the caller at the logged prices)"
    if grid is not None:
        grid_codes(logged, grid, "logged price")
        grid_codes(target, grid, "target price")
        h = None
    else:
        h = default_bandwidth(logged) if bandwidth is None else float(bandwidth)
    terms = ope_contributions(
        reward, logged, target, pscore, q_logged, q_target, kernel=kernel, bandwidth=h, grid=grid
    )
    w = terms["weight"]
    ess = effective_sample_size(w)
    rng = np.random.default_rng(seed)
    rows = []
    for name in ESTIMATORS:
        if name == "snipw":
            value = float(terms["ipw"].sum() / w.sum()) if w.sum() > 0 else float("nan")
            samples: tuple[np.ndarray, ...] = (terms["ipw"], w)
        else:
            value = float(terms[name].mean())
            samples = (terms[name],)
        if math.isfinite(value):
            low, high = _interval(samples, name == "snipw", float(level), int(n_resamples), rng)
        else:
            low = high = float("nan")
        rows.append({"estimator": name, "value": value, "ci_low": low, "ci_high": high})
    table = pd.DataFrame(rows, columns=["estimator", "value", "ci_low", "ci_high"])
    # support
    lo, hi = float(logged.min()), float(logged.max())
    outside = int(np.sum((target < lo * (1 - 1e-12)) | (target > hi * (1 + 1e-12))))
    support = float("nan")
    if logging_policy is not None:
        if grid is not None:
            window = np.asarray(logging_policy.density(history, target))
        else:
            assert h is not None  # the bandwidth, set above whenever grid is None
            if hasattr(logging_policy, "window_probability"):
                window = logging_policy.window_probability(history, target, _HALF_WIDTH[kernel] * h)
            else:
                window = (
                    np.asarray(logging_policy.density(history, target))
                    * 2
                    * _HALF_WIDTH[kernel]
                    * h
                )
        support = float(np.mean(window < SUPPORT_PROBABILITY))
    texts = _warnings(table, ess, outside, support, target.size, lo, hi, float(level))
    censoring = offpolicy_censoring_text(history, reward_model)
    if censoring is not None:
        texts.append(censoring)
    mean_w = float(w.mean())
    se_w = float(w.std(ddof=1) / math.sqrt(w.size))
    if ess >= MIN_ESS and abs(mean_w - 1.0) > max(MEAN_WEIGHT_TOLERANCE, 3.0 * se_w):
        texts.append(
            f"the importance weights average {mean_w:.3g} (standard error {se_w:.2g}), not 1 "
            "as they do under the true logging policy: the propensities are probably wrong, "
            "and IPW is off by about that factor (SNIPW rescales it; DR leans on the model)."
        )
    distinct = np.unique(logged).size
    if grid is None and distinct <= FEW_PRICES:
        texts.append(
            f"the logged prices take only {distinct} distinct values: the seller priced on a "
            "grid, which a continuous density and a kernel describe poorly. Fix: pass the "
            "grid (grid=[...], --grid LIST) for exact weights."
        )
    for text in texts:
        warnings.warn(text, OffPolicyWarning, stacklevel=2)
    return OffPolicyResult(
        table=table,
        n_rows=int(target.size),
        n_dropped=n_dropped,
        reward=reward_text,
        logged_value=float(reward.mean()),
        propensity=propensity,
        kernel=None if grid is not None else kernel,
        bandwidth=h,
        grid=None if grid is None else [float(g) for g in grid],
        mean_weight=mean_w,
        ess=ess,
        outside_range=outside,
        low_support_share=support,
        level=float(level),
        n_resamples=int(n_resamples),
        seed=int(seed),
        warnings=texts,
    )


def _warnings(
    table: pd.DataFrame,
    ess: float,
    outside: int,
    support: float,
    n: int,
    lo: float,
    hi: float,
    level: float,
) -> list[str]:
    texts = []
    if ess < MIN_ESS:
        texts.append(
            f"the importance weights' effective sample size is {ess:.1f} of {n} rows (below "
            f"{MIN_ESS:g}): IPW, SNIPW and DR rest on a handful of periods where the seller "
            "priced near the target policy, and their intervals are not trustworthy. Fix: a "
            "target policy closer to the seller's own prices, a wider bandwidth, or more data."
        )
    if outside:
        texts.append(
            f"the target policy prices outside the logged price range [{lo:g}, {hi:g}] in "
            f"{outside} of {n} rows: no reweighting of these data can say what it earns there "
            "(IPW/DR see no sales at those prices; DM extrapolates the demand model)."
        )
    if math.isfinite(support) and support > LOW_SUPPORT_SHARE:
        texts.append(
            f"in {support:.0%} of the rows the seller's (estimated) logging policy put less "
            f"than {SUPPORT_PROBABILITY:.0%} probability near the target price: the target "
            "policy leaves the data's support there."
        )
    est = table.set_index("estimator")
    dm, dr = est.loc["dm", "value"], est.loc["dr"]
    if math.isfinite(dm) and not (dr["ci_low"] <= dm <= dr["ci_high"]):
        texts.append(
            f"DM {dm:.4g} lies outside DR's {level:.0%} interval [{dr['ci_low']:.4g}, "
            f"{dr['ci_high']:.4g}]: the demand model disagrees with the data at the target's "
            "prices (misspecified, or extrapolating); believe DR (the data), not DM (the model)"
            + ("." if ess >= MIN_ESS else ", though with few effective rows DR is noisy too.")
        )
    return texts
