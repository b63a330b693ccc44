"""Market validation on held-out history: does the fitted market reproduce what happened?

A backtest (:meth:`~pricegym.demand.base.DemandModel.backtest`) scores point
forecasts. A market is more than its mean: agents learn from its *sampled* sales,
so its noise model matters as much as its demand curve. :func:`validate` asks the
question a pricing team asks before trusting a simulator:

1. split the history by period: the first part trains, the last ``holdout``
   periods (default 20%) are held out;
2. refit the model's family (same hyper-parameters) on the training periods;
3. replay the held-out periods' **actual** prices, competitor prices, promotions
   and calendar through the refitted market, simulating ``n_paths`` sales paths
   from the end of training (time-series families carry their state along each
   path, so their uncertainty grows with the horizon as in the market);
4. score the realised units against the simulated predictive distribution.

Scores (each held-out row is one forecast):

- **randomised PIT** ``u = P(S < y) + V · P(S = y)``, ``V ~ U(0, 1)``, with ``S`` the
  simulated units of that row: uniform on (0, 1) when the market is right, for
  counts as for continuous sales (Czado, Gneiting & Held 2009, Biometrics 65:1254);
  a histogram of :data:`PIT_BINS` bins and a χ² test of uniformity.
- **coverage** of the central 50/80/95% intervals: the share of rows whose PIT lies
  in ``[(1 − p)/2, (1 + p)/2]``. For continuous sales this is the usual quantile
  interval; for counts it splits the probability at the interval's ends at random,
  so a calibrated market covers exactly ``p`` in expectation instead of more. It is
  judged against a binomial tolerance ``1.96 · sqrt(p (1 − p) / n)`` (rows taken as
  independent; serially correlated errors make the real band somewhat wider).
- **CRPS** (continuous ranked probability score, in units; lower is better) of
  the simulated ensemble, with ``properscoring.crps_ensemble`` when the optional
  ``validate`` extra is installed and the same formula in numpy otherwise; and
  its **skill** against a naive market that samples each product's training units
  regardless of price (1 − CRPS / CRPS_naive; > 0 means the market beats it).
- **revenue bias**: simulated total revenue (mean over paths, with its 95% band)
  vs the actual revenue of the held-out rows.

The :attr:`ValidationResult.verdict` says it plainly, e.g. "95% intervals cover 71%
of 34 held-out weeks (a calibrated market: 95% ± 7%): the market is
overconfident; its noise model is too narrow."

**Stock-outs**: where the history maps a stock column, the simulated demand of
each held-out row is capped at its stock before scoring (realised sales never exceed
it; :func:`~pricegym.demand._stockout.cap_at_stock`); held-out sold-out periods are
said in the verdict, and without a stock column (a sold-out flag only) the verdict
warns that the scores read the market as too high there.

Randomness: one ``np.random.default_rng(seed)``; first the paths (products in
order, their held-out rows in time order, ``n_paths`` draws per row from the
kernel's noise model), then one uniform per row for the PIT. Same seed, data and
model → identical scores.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand._stockout import cap_at_stock, holdout_censoring_note
from pricegym.demand.base import DemandModel
from pricegym.demand.data import SalesHistory
from pricegym.errors import ConfigError, ModelError

__all__ = [
    "DEFAULT_LEVELS",
    "PIT_BINS",
    "ValidationResult",
    "crps_ensemble",
    "parse_holdout",
    "randomised_pit",
    "simulate_holdout",
    "split_history",
    "validate",
    "validate_market",
]

#: Central predictive-interval levels whose coverage is scored.
DEFAULT_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
#: Default number of simulated paths: the Monte-Carlo error of a PIT value is at
#: most 0.5 / sqrt(1000) ≈ 0.016, small beside the bins of width 0.1.
DEFAULT_PATHS = 1000
#: Default share of the periods held out.
DEFAULT_HOLDOUT = 0.2
#: Bins of the PIT histogram.
PIT_BINS = 10
#: Normal quantile of the two-sided 95% tolerance bands (coverage and mean PIT).
_Z = 1.96
#: Fewest held-out rows for a verdict; below, the binomial bands are too wide to tell.
MIN_ROWS_FOR_VERDICT = 10

_PERIOD_WORDS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


# ====================================================================== scores


def crps_ensemble(actual: np.ndarray, ensemble: np.ndarray) -> np.ndarray:
    """CRPS of each row's ensemble (n, m) against its observation (n,), in units.

    ``CRPS = E|S − y| − ½ E|S − S'|`` over the empirical distribution of the m members
    (the ``1/m²`` form that ``properscoring.crps_ensemble`` computes; that library is
    used when installed, else this numpy implementation of the same formula).
    """
    y = np.asarray(actual, dtype=np.float64)
    s = np.asarray(ensemble, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != y.shape[0]:
        raise ModelError(
            f"crps_ensemble: ensemble shape {s.shape} does not match {y.shape[0]} observations; "
            "pass an (n_observations, n_members) array."
        )
    try:
        import properscoring
    except ImportError:
        return _crps_numpy(y, s)
    return np.asarray(properscoring.crps_ensemble(y, s), dtype=np.float64)


def _crps_numpy(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The numpy form of :func:`crps_ensemble`: E|S − y| − ½ E|S − S'| with sorted members."""
    m = s.shape[1]
    x = np.sort(s, axis=1)
    spread = (2.0 * np.arange(1, m + 1) - m - 1.0) @ x.T * (2.0 / m**2)  # E|S - S'|
    return np.mean(np.abs(x - y[:, None]), axis=1) - 0.5 * spread


def randomised_pit(
    actual: np.ndarray, ensemble: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Randomised PIT ``P(S < y) + V · P(S = y)`` of each row (see the module docstring).

    Draws one uniform per row from ``rng``.
    """
    y = np.asarray(actual, dtype=np.float64)[:, None]
    s = np.asarray(ensemble, dtype=np.float64)
    below = np.mean(s < y, axis=1)
    equal = np.mean(s == y, axis=1)
    return below + rng.uniform(size=below.shape[0]) * equal


# ====================================================================== splitting


def parse_holdout(value: str | float | int) -> float | int:
    """``"20%"`` or ``0.2`` → the share 0.2 of the periods; ``"12"`` or ``12`` → 12 periods.

    Raises:
        ConfigError: not a share strictly between 0 and 1 (or 0% and 100%), nor a
            whole number of periods >= 1.
    """
    text = str(value).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1]) / 100.0
            if 0.0 < share < 1.0:
                return share
        elif isinstance(value, float) or "." in text:
            share = float(text)
            if 0.0 < share < 1.0:
                return share
        else:
            periods = int(text)
            if periods >= 1:
                return periods
    except ValueError:
        pass
    raise ConfigError(
        f"holdout {value!r} is not a hold-out (rule: a share of the periods strictly between "
        "0% and 100%, or a whole number of periods >= 1). Fix: e.g. --holdout 20% or "
        "--holdout 12."
    )


def split_history(
    history: SalesHistory, holdout: float | int = DEFAULT_HOLDOUT
) -> tuple[SalesHistory, SalesHistory]:
    """The history before and the last ``holdout`` periods (a share or a count) of it.

    A share is rounded up to whole periods (at least one); a panel is split by
    period, so every product's last periods are held out together.

    Raises:
        ConfigError: ``holdout`` is not valid (see :func:`parse_holdout`) or leaves
            fewer than two periods to train on.
    """
    holdout = parse_holdout(holdout)
    periods = history.periods()
    n = periods.size
    k = max(1, math.ceil(holdout * n - 1e-9)) if isinstance(holdout, float) else holdout
    if n - k < 2:
        raise ConfigError(
            f"{history.source}: holding out {k} of its {n} periods leaves {n - k} to train on "
            "(rule: at least 2). Fix: a smaller --holdout, or a longer history."
        )
    cut = periods[n - k]
    t = history.t
    train = history.take(np.flatnonzero(t < cut), note=f"validation: trained on {n - k} periods")
    test = history.take(np.flatnonzero(t >= cut), note=f"validation: held out {k} periods")
    return train, test


# ====================================================================== simulation


def _initial_state(kernel: Any, n: int, code: int) -> dict[str, np.ndarray]:
    """The kernel's end-of-training state for ``n`` paths of product ``code``."""
    from pricegym.demand.mlp import MLPKernel

    if isinstance(kernel, MLPKernel):
        return kernel.initial_state(n, product=code)
    return kernel.initial_state(n)


def simulate_holdout(
    model: DemandModel, test: SalesHistory, n_paths: int, rng: np.random.Generator
) -> np.ndarray:
    """Simulated units, shape (n_paths, test.n_rows), of ``test``'s rows in ``model``'s market.

    Each row gets its own actual price and context (competitors, promotions, ``t``,
    product). Paths start from the state at the end of the model's fitted sample and
    each product's rows are stepped in time order: expected units, a draw from the
    noise model, then the kernel's update with the *simulated* units (so an ARIMAX
    or lagged neural market runs free, as it does in an env). Periods missing
    between rows are stepped over: an ARIMAX state advances without an observation;
    the neural family's lag buffer continues from the last simulated row.

    Raises:
        ModelError: ``test`` has rows inside the model's fitted sample (they would
            not be held out).
    """
    from pricegym.demand.statespace import ArimaxKernel

    model._check_fitted()
    kern = model.kernel()
    ctx = kern.spec.context_from_history(test)
    last_fit = float(np.max(model.data_points_["t"]))
    if test.n_rows and float(test.t.min()) <= last_fit:
        raise ModelError(
            f"validation: held-out rows start at t={test.t.min():g}, inside the model's fitted "
            f"sample (which ends at t={last_fit:g}); fit the model on the earlier periods only "
            "(validate() and split_history() do this)."
        )
    out = np.empty((n_paths, test.n_rows))
    prices = test.price
    for code in pd.unique(ctx.product):
        rows = np.flatnonzero(ctx.product == code)
        rows = rows[np.argsort(ctx.t[rows], kind="stable")]
        state = _initial_state(kern, n_paths, int(code))
        previous = last_fit
        for r in rows:
            gap = int(np.rint(ctx.t[r] - previous)) - 1
            if gap > 0 and isinstance(kern, ArimaxKernel):
                state = kern.advance(state, gap)
            previous = ctx.t[r]
            c = kern.context(
                n_paths,
                t=ctx.t[r],
                competitors=ctx.competitors[r],
                promotions=ctx.promotions[r],
                product=int(code),
            )
            p = np.full(n_paths, prices[r])
            mu = kern.expected(p, c, state)
            units = kern.sample(rng, mu)
            state = kern.update(state, p, c, units)
            out[:, r] = units
    return out


# ====================================================================== result


@dataclass(frozen=True)
class ValidationResult:
    """Scores of a market on held-out history (see the module docstring).

    Attributes:
        family: the model family validated.
        source: the history's source.
        unit: what a held-out row is (``"weeks"``, ``"rows"`` of a panel ...).
        n_train_periods, n_holdout_periods, n_rows: periods trained on, periods and
            rows held out.
        n_paths, seed: simulated paths and the seed.
        coverage: level → share of rows inside the central interval.
        tolerance: level → the binomial half-width the coverage is judged against.
        pit_counts: rows per PIT bin (:data:`PIT_BINS` equal bins of (0, 1)).
        pit_mean: mean PIT (0.5 when unbiased; lower: actual sales below the market's).
        pit_pvalue: χ² test of a uniform PIT histogram.
        crps, crps_naive, crps_skill: mean CRPS of the market, of the naive
            market (training units of the product, price ignored), 1 − ratio.
        revenue_actual: actual revenue (price × units) of the held-out rows.
        revenue_simulated: mean simulated revenue over paths.
        revenue_band: its 2.5% and 97.5% percentiles over paths.
        revenue_bias: (simulated − actual) / actual.
        calibration: ``"calibrated"``, ``"overconfident"``, ``"underconfident"``,
            ``"biased"`` or ``"too few rows"``.
        verdict: the plain sentence.
        rows: one row per held-out row: ``t``, ``product``, ``price``, ``actual``,
            ``simulated_mean``, ``low95``, ``high95``, ``pit``, ``crps``.
    """

    family: str
    source: str
    unit: str
    n_train_periods: int
    n_holdout_periods: int
    n_rows: int
    n_paths: int
    seed: int
    coverage: dict[float, float]
    tolerance: dict[float, float]
    pit_counts: tuple[int, ...]
    pit_mean: float
    pit_pvalue: float
    crps: float
    crps_naive: float
    crps_skill: float
    revenue_actual: float
    revenue_simulated: float
    revenue_band: tuple[float, float]
    revenue_bias: float
    calibration: str
    verdict: str
    rows: pd.DataFrame = field(repr=False)

    def to_dict(self, rows: bool = False) -> dict[str, Any]:
        """JSON-ready representation (per-row scores only with ``rows=True``)."""
        out: dict[str, Any] = {
            "family": self.family,
            "source": self.source,
            "unit": self.unit,
            "n_train_periods": self.n_train_periods,
            "n_holdout_periods": self.n_holdout_periods,
            "n_rows": self.n_rows,
            "n_paths": self.n_paths,
            "seed": self.seed,
            "coverage": {f"{k:g}": v for k, v in self.coverage.items()},
            "tolerance": {f"{k:g}": v for k, v in self.tolerance.items()},
            "pit_counts": list(self.pit_counts),
            "pit_mean": self.pit_mean,
            "pit_pvalue": self.pit_pvalue,
            "crps": self.crps,
            "crps_naive": self.crps_naive,
            "crps_skill": self.crps_skill,
            "revenue_actual": self.revenue_actual,
            "revenue_simulated": self.revenue_simulated,
            "revenue_band": list(self.revenue_band),
            "revenue_bias": self.revenue_bias,
            "calibration": self.calibration,
            "verdict": self.verdict,
        }
        if rows:
            out["rows"] = self.rows.to_dict(orient="list")
        return out


def _unit(history: SalesHistory) -> str:
    if history.is_panel:
        return "rows (product-periods)"
    if history.freq == "D" and history.calendar is not None:
        return "trading days"
    return _PERIOD_WORDS.get(history.freq or "", "periods")


def _judge(
    coverage: dict[float, float],
    tolerance: dict[float, float],
    pit: np.ndarray,
    n: int,
    unit: str,
) -> tuple[str, str]:
    """(calibration, verdict sentence) from the coverage and the PIT."""
    top = max(coverage)
    head = (
        f"{top:.0%} intervals cover {coverage[top]:.0%} of {n} held-out {unit} "
        f"(a calibrated market: {top:.0%} ± {tolerance[top]:.0%})"
    )
    if n < MIN_ROWS_FOR_VERDICT:
        return "too few rows", (
            f"{head}: only {n} held-out {unit}, too few to judge calibration "
            f"(a verdict needs >= {MIN_ROWS_FOR_VERDICT}); hold out more periods."
        )
    low = [p for p in coverage if coverage[p] < p - tolerance[p]]
    high = [p for p in coverage if coverage[p] > p + tolerance[p]]
    mean = float(np.mean(pit))
    # the standard error of the mean PIT from the PIT's own spread: a U-shaped PIT (too
    # narrow a noise model) varies more than a uniform one (1/12), and is not a bias
    spread = max(float(np.var(pit, ddof=1)), 1.0 / 12.0)
    shifted = abs(mean - 0.5) > _Z * math.sqrt(spread / n)
    below = float(np.mean(pit < 0.5))
    side = (
        f"actual sales fall below the market's median in {below:.0%} of them"
        if mean < 0.5
        else f"actual sales lie above the market's median in {1 - below:.0%} of them"
    )
    if low:
        worst = min(low, key=lambda p: coverage[p] - p)
        if worst != top:
            head += f"; {worst:.0%} intervals cover {coverage[worst]:.0%}"
        reason = "its noise model is too narrow" + (
            f", or its sales level is off ({side})" if shifted else ""
        )
        return "overconfident", f"{head}: the market is overconfident; {reason}."
    if high:
        return "underconfident", (
            f"{head}: the market is underconfident; its noise model is too wide "
            "(simulated sales scatter more than real ones)."
        )
    if shifted:
        return "biased", f"{head}, but the market is biased: {side}."
    return "calibrated", (
        f"{head}: held-out sales are consistent with the market's predictive distribution "
        "(coverage within the binomial tolerance at every level, no bias in the PIT)."
    )


def validate_market(
    model: DemandModel,
    test: SalesHistory,
    *,
    train: SalesHistory | None = None,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> ValidationResult:
    """Score a fitted ``model``'s market on rows ``test`` after its fitted sample.

    Args:
        model: a fitted model (its sample must end before ``test`` starts).
        test: the held-out rows.
        train: the training rows, for the naive baseline and the period counts
            (default: the model's in-memory history, else the naive CRPS is NaN).
        n_paths: simulated paths (>= 100 so that PIT values are resolved).
        seed: seed of the one random generator (see the module docstring).
        levels: central interval levels, each strictly between 0 and 1.

    Raises:
        ConfigError: bad ``n_paths`` or ``levels``, or an empty ``test``.
        ModelError: ``test`` overlaps the fitted sample.
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or n_paths < 100:
        raise ConfigError(
            f"n_paths={n_paths!r} is too few simulated paths (rule: an integer >= 100, so "
            "that each PIT value is resolved to ±0.05). Fix: e.g. n_paths=1000."
        )
    levels = tuple(float(p) for p in levels)
    if not levels or any(not 0.0 < p < 1.0 for p in levels):
        raise ConfigError(f"levels={levels} must be interval levels strictly between 0 and 1.")
    if test.n_rows == 0:
        raise ConfigError("validation: the held-out history has no rows; hold out more periods.")
    train = train if train is not None else getattr(model, "history_", None)
    rng = np.random.default_rng(seed)
    sims = cap_at_stock(simulate_holdout(model, test, int(n_paths), rng), test)
    actual = test.units
    pit = randomised_pit(actual, sims.T, rng)
    n = actual.size
    coverage = {p: float(np.mean(np.abs(pit - 0.5) <= p / 2.0)) for p in levels}
    tolerance = {p: _Z * math.sqrt(p * (1.0 - p) / n) for p in levels}
    counts, _ = np.histogram(pit, bins=PIT_BINS, range=(0.0, 1.0))
    from scipy import stats

    pit_pvalue = float(stats.chisquare(counts).pvalue) if n >= PIT_BINS else float("nan")
    crps_rows = crps_ensemble(actual, sims.T)
    crps_naive = _naive_crps(train, test) if train is not None else float("nan")
    crps = float(np.mean(crps_rows))
    revenue_paths = sims @ test.price
    revenue_actual = float(test.price @ actual)
    revenue_mean = float(np.mean(revenue_paths))
    lo, hi = np.quantile(revenue_paths, [0.025, 0.975])
    unit = _unit(test)
    calibration, verdict = _judge(coverage, tolerance, pit, n, unit)
    bias = (revenue_mean - revenue_actual) / revenue_actual if revenue_actual > 0 else math.nan
    inside = lo <= revenue_actual <= hi
    verdict += (
        f" Revenue: the market simulates {revenue_mean:.4g} ({bias:+.1%} vs the actual "
        f"{revenue_actual:.4g}; 95% of paths {lo:.4g} to {hi:.4g}"
        + ("" if inside else ", which misses the actual")
        + ")."
    )
    verdict += holdout_censoring_note(test)
    q = np.quantile(sims, [0.025, 0.975], axis=0)
    rows = pd.DataFrame(
        {
            "t": test.t,
            "product": test.frame["product"].to_numpy() if "product" in test.frame else "all",
            "price": test.price,
            "actual": actual,
            "simulated_mean": sims.mean(axis=0),
            "low95": q[0],
            "high95": q[1],
            "pit": pit,
            "crps": crps_rows,
        }
    )
    return ValidationResult(
        family=model.family,
        source=test.source,
        unit=unit,
        n_train_periods=int(train.periods().size) if train is not None else -1,
        n_holdout_periods=int(test.periods().size),
        n_rows=int(n),
        n_paths=int(n_paths),
        seed=int(seed),
        coverage=coverage,
        tolerance=tolerance,
        pit_counts=tuple(int(c) for c in counts),
        pit_mean=float(np.mean(pit)),
        pit_pvalue=pit_pvalue,
        crps=crps,
        crps_naive=crps_naive,
        crps_skill=1.0 - crps / crps_naive if crps_naive > 0 else math.nan,
        revenue_actual=revenue_actual,
        revenue_simulated=revenue_mean,
        revenue_band=(float(lo), float(hi)),
        revenue_bias=float(bias),
        calibration=calibration,
        verdict=verdict,
        rows=rows,
    )


def _naive_crps(train: SalesHistory, test: SalesHistory) -> float:
    """Mean CRPS of the naive market: each product's training units as the ensemble."""
    key = "product" if "product" in test.frame and "product" in train.frame else None
    scores = []
    for code in pd.unique(test.frame[key]) if key else [None]:
        tr = train.units if key is None else train.units[(train.frame[key] == code).to_numpy()]
        te = test.units if key is None else test.units[(test.frame[key] == code).to_numpy()]
        if tr.size == 0:
            continue
        scores.append(crps_ensemble(te, np.broadcast_to(tr, (te.size, tr.size))))
    return float(np.mean(np.concatenate(scores))) if scores else math.nan


def validate(
    history: SalesHistory,
    model: DemandModel | str,
    holdout: float | int | str = DEFAULT_HOLDOUT,
    *,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    levels: Sequence[float] = DEFAULT_LEVELS,
    quiet: bool = False,
    **params: Any,
) -> ValidationResult:
    """Hold out the last periods of ``history``, refit, simulate and score (module docstring).

    Args:
        history: the whole sales history.
        model: a family name (with hyper-parameters in ``params``), or a model
            (fitted, e.g. loaded from a file, or not) whose family and
            hyper-parameters are refitted on the training periods; the model
            itself is not changed.
        holdout: share (``0.2``, ``"20%"``) or number of periods held out.
        n_paths, seed, levels: see :func:`validate_market`.
        quiet: silence the warnings of the refit (benchmarks fitting many families).

    Raises:
        ConfigError: bad ``holdout``/``n_paths``/``levels``, or ``params`` given with
            a model object.
        DataValidationError, ModelError: the family cannot be fitted on the
            training periods.
    """
    from pricegym.demand.selection import make_model

    if isinstance(model, DemandModel):
        if params:
            raise ConfigError(
                f"validate: hyper-parameters {sorted(params)} were given with a model object, "
                "whose own are refitted; pass a family name to set them."
            )
        fresh = model.clone()
    else:
        fresh = make_model(str(model), **params)
    train, test = split_history(history, parse_holdout(holdout))
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        fresh.fit(train)
    return validate_market(fresh, test, train=train, n_paths=n_paths, seed=seed, levels=levels)
