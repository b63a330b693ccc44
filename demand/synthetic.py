"""Synthetic sales histories drawn from a known demand truth.

A :class:`DemandTruth` is a mean-demand function whose parameters are known, so a
model fitted to a history from :func:`generate_history` can be checked against
the truth (elasticity, optimal price, profit). Mean units are

.. math::

    \\mu = f(p) \\cdot (c / p_0)^{\\beta} \\cdot (1 + \\ell)^{promo}
           \\cdot (1 + g)^{t} \\cdot (1 + A \\sin(2 \\pi t / P))

with the own-price curve :math:`f` one of

=======================  ====================================  =========================
``form``                 :math:`f(p)`                          own-price elasticity
=======================  ====================================  =========================
``constant_elasticity``  :math:`s (p / p_0)^{e}`               :math:`e`
``linear``               :math:`\\max(s + b (p - p_0), 0)`     :math:`b p / (s + b (p - p_0))`
``exponential``          :math:`s \\exp(a (p - p_0))`          :math:`a p`
=======================  ====================================  =========================

where :math:`s` is ``scale``, :math:`p_0` ``reference_price``, the own-price
parameter ``own_price`` is :math:`e`, :math:`b` or :math:`a`, :math:`c` the
competitor price, :math:`\\beta` ``cross_elasticity``, :math:`\\ell`
``promo_lift``, :math:`g` ``trend``, :math:`A` ``seasonality`` and :math:`P`
``season_period``. The multiplicative terms do not change the own-price
elasticity.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.signal import lfilter

from pricegym._validate import POSITIVE, real
from pricegym.demand.data import FREQUENCIES, SEASON_PERIODS, SalesHistory, load_history
from pricegym.errors import ConfigError, PricegymWarning

__all__ = [
    "FORMS",
    "NOISES",
    "Confounding",
    "DemandTruth",
    "PriceProcess",
    "default_truth",
    "generate_confounded_history",
    "generate_history",
]

#: The own-price curves a :class:`DemandTruth` can have.
FORMS: tuple[str, ...] = ("constant_elasticity", "linear", "exponential")
#: The noise models of :func:`generate_history`.
NOISES: tuple[str, ...] = ("poisson", "negbin", "lognormal")

#: Default dispersion by noise model: the negative binomial's alpha (variance
#: mu + alpha mu^2, so a 10 % coefficient of variation at large means) and the
#: log-normal's sigma (about 10 % noise).
_DEFAULT_DISPERSION = {"negbin": 0.1, "lognormal": 0.1}
#: Elasticity at the reference price that the default own-price parameter gives.
_DEFAULT_ELASTICITY = -2.0


@dataclass(frozen=True)
class DemandTruth:
    """A known mean-demand function (see the module docstring for the formula).

    Attributes:
        form: the own-price curve, one of :data:`FORMS`. Default
            ``"constant_elasticity"``, the log-log demand most fitted models assume.
        scale: mean units per period at the reference price, competitor at the
            reference price, no promotion, ``t = 0`` (:math:`s`). Default 100, large
            enough that Poisson noise (10 % at the mean) does not swamp the signal.
        own_price: the own-price parameter: the elasticity :math:`e` for
            ``constant_elasticity``, the slope :math:`b` (units per currency unit)
            for ``linear``, :math:`a` (per currency unit) for ``exponential``.
            Default ``None``: the value whose elasticity at the reference price is
            -2 (:math:`e=-2`, :math:`b=-2 s/p_0`, :math:`a=-2/p_0`), a typical
            retail elasticity.
        reference_price: the price :math:`p_0` at which demand equals ``scale``,
            also the competitor's reference. Default 10.
        cross_elasticity: elasticity :math:`\\beta` of demand with respect to the
            competitor price. Default 0.5: substitutes, weaker than the own effect.
        promo_lift: multiplicative lift :math:`\\ell` of a promotion (flag 1) on top
            of its price cut. Default 0.3 (+30 %), a usual feature/display effect.
        trend: multiplicative growth :math:`g` per period. Default 0.001 (about
            +5 % a year for weekly data).
        seasonality: amplitude :math:`A` of the sinusoidal seasonal factor, in
            ``[0, 1)``. Default 0.1 (+-10 %).
        season_period: periods per seasonal cycle :math:`P`; ``None`` switches
            seasonality off. Default 365.25 / 7: a year of weeks. Use
            :func:`default_truth` for another frequency.
    """

    form: str = "constant_elasticity"
    scale: float = 100.0
    own_price: float | None = None
    reference_price: float = 10.0
    cross_elasticity: float = 0.5
    promo_lift: float = 0.3
    trend: float = 0.001
    seasonality: float = 0.1
    season_period: float | None = field(default=SEASON_PERIODS["W"])

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"DemandTruth: form={self.form!r} is not one of {list(FORMS)}.")
        _positive("scale", self.scale)
        _positive("reference_price", self.reference_price)
        own = self.own_price
        if own is None:
            own = float(
                {
                    "constant_elasticity": _DEFAULT_ELASTICITY,
                    "linear": _DEFAULT_ELASTICITY * self.scale / self.reference_price,
                    "exponential": _DEFAULT_ELASTICITY / self.reference_price,
                }[self.form]
            )
            object.__setattr__(self, "own_price", own)
        if not math.isfinite(own):
            raise ConfigError(f"DemandTruth: own_price must be finite, got {self.own_price!r}.")
        if own >= 0:
            warnings.warn(
                f"DemandTruth: own_price={self.own_price!r} makes demand rise (or stay flat) "
                "with price; pricing agents will push prices to the top of the grid. Use a "
                "negative value for ordinary goods.",
                PricegymWarning,
                stacklevel=3,
            )
        for name in ("cross_elasticity", "promo_lift", "trend", "seasonality"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"DemandTruth: {name} must be finite.")
        if self.promo_lift <= -1:
            raise ConfigError(
                f"DemandTruth: promo_lift={self.promo_lift!r} must be > -1 (a lift of -1 "
                "would wipe out demand during promotions)."
            )
        if self.trend <= -1:
            raise ConfigError(f"DemandTruth: trend={self.trend!r} must be > -1 per period.")
        if not 0 <= self.seasonality < 1:
            raise ConfigError(
                f"DemandTruth: seasonality={self.seasonality!r} must be in [0, 1) so that "
                "the seasonal factor 1 + A sin(...) stays positive."
            )
        if self.season_period is not None:
            _positive("season_period", self.season_period)

    # ---------------------------------------------------------------- curves
    def mean_units(
        self,
        price: ArrayLike,
        competitor: ArrayLike | None = None,
        promo: ArrayLike | None = None,
        t: ArrayLike | None = None,
    ) -> np.ndarray:
        """Expected units at the given prices and context (arrays broadcast).

        Args:
            price: own prices, > 0.
            competitor: competitor prices, > 0; ``None`` means the reference price
                (factor 1).
            promo: promotion flags (0/1, or a fraction); ``None`` means 0.
            t: period index; ``None`` means 0 (no trend, season phase 0).

        Returns:
            float64 array of the broadcast shape; 0 where linear demand is exhausted.
        """
        p = _prices("price", price)
        mean = self._own_curve(p)
        if competitor is not None:
            c = _prices("competitor", competitor)
            mean = mean * (c / self.reference_price) ** self.cross_elasticity
        if promo is not None:
            mean = mean * (1.0 + self.promo_lift) ** np.asarray(promo, dtype=np.float64)
        if t is not None:
            mean = mean * self.time_factor(t)
        return np.asarray(mean, dtype=np.float64)

    def elasticity(
        self,
        price: ArrayLike,
        competitor: ArrayLike | None = None,
        promo: ArrayLike | None = None,
        t: ArrayLike | None = None,
    ) -> np.ndarray:
        """The exact own-price elasticity d log(mean) / d log(price).

        The competitor, promotion and time terms are multiplicative and do not
        depend on the own price, so they do not change it; they are accepted (and
        broadcast) so that the call mirrors :meth:`mean_units`. For ``linear``
        demand the elasticity is ``nan`` where demand is exhausted (mean 0).
        """
        p = _prices("price", price)
        parts = [p] + [
            np.asarray(a, dtype=np.float64) for a in (competitor, promo, t) if a is not None
        ]
        shape = np.broadcast_shapes(*(a.shape for a in parts))
        assert self.own_price is not None  # resolved in __post_init__
        own = float(self.own_price)
        if self.form == "constant_elasticity":
            value = np.full(p.shape, own)
        elif self.form == "exponential":
            value = own * p
        else:
            level = self.scale + own * (p - self.reference_price)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(level > 0, own * p / level, np.nan)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()

    def time_factor(self, t: ArrayLike) -> np.ndarray:
        """Trend times seasonality at period index ``t``: (1+g)^t (1 + A sin(2 pi t / P))."""
        tt = np.asarray(t, dtype=np.float64)
        factor = (1.0 + self.trend) ** tt
        if self.season_period is not None and self.seasonality:
            factor = factor * (1.0 + self.seasonality * np.sin(2 * np.pi * tt / self.season_period))
        return factor

    def _own_curve(self, p: np.ndarray) -> np.ndarray:
        assert self.own_price is not None  # resolved in __post_init__
        own = float(self.own_price)
        if self.form == "constant_elasticity":
            return self.scale * (p / self.reference_price) ** own
        if self.form == "exponential":
            return self.scale * np.exp(own * (p - self.reference_price))
        return np.maximum(self.scale + own * (p - self.reference_price), 0.0)


def default_truth(freq: str = "W", **overrides: float | str | None) -> DemandTruth:
    """The default :class:`DemandTruth` with one seasonal cycle in ``freq`` periods.

    The cycle is :data:`~pricegym.demand.data.SEASON_PERIODS` of ``freq`` (a year
    for weekly, monthly, quarterly data; a week for daily data, as the fitted
    models see it); yearly data get no seasonality. ``overrides`` set any field.
    """
    code = _freq(freq)
    fields: dict[str, float | str | None] = {"season_period": SEASON_PERIODS.get(code)}
    fields.update(overrides)
    return DemandTruth(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PriceProcess:
    """How :func:`generate_history` draws own and competitor prices.

    The own price is a *regular* price that occasionally jumps, times a small
    per-period variation, times a temporary discount during promotions; prices
    are rounded to ``tick``. The competitor's log price is an AR(1) around its
    level, started from its stationary distribution.

    Attributes:
        base_price: centre of the regular price; ``None`` means the truth's
            reference price, so the data sit where the truth is anchored.
        step_probability: chance per period that the regular price is reset to a
            new level. Default 0.05: a few list-price changes a year.
        step_sd: log standard deviation of a new regular level around
            ``base_price``. Default 0.1 (+-10 %), so the price range is wide enough
            to identify the own-price effect.
        jitter_sd: log standard deviation of the per-period variation. Default
            0.03: small week-to-week noise that decorrelates price from trend.
        discount_probability: chance per period that a promotion starts. Default
            0.1: about one promotion every ten periods.
        discount_depth: price cut during a promotion. Default 0.15 (15 % off).
        discount_length: periods a promotion lasts. Default 2.
        competitor_level: centre of the competitor price; ``None`` means
            ``base_price``.
        competitor_ar: AR(1) coefficient of the competitor's log price. Default
            0.8: persistent but mean-reverting.
        competitor_sd: innovation standard deviation of the competitor's log
            price. Default 0.05.
        tick: prices are rounded to a multiple of this. Default 0.01 (cents).
    """

    base_price: float | None = None
    step_probability: float = 0.05
    step_sd: float = 0.1
    jitter_sd: float = 0.03
    discount_probability: float = 0.1
    discount_depth: float = 0.15
    discount_length: int = 2
    competitor_level: float | None = None
    competitor_ar: float = 0.8
    competitor_sd: float = 0.05
    tick: float = 0.01

    def __post_init__(self) -> None:
        for name in ("base_price", "competitor_level"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        _positive("tick", self.tick)
        for name in ("step_probability", "discount_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(
                    f"PriceProcess: {name}={getattr(self, name)!r} must be in [0, 1]."
                )
        for name in ("step_sd", "jitter_sd", "competitor_sd"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"PriceProcess: {name}={getattr(self, name)!r} must be >= 0.")
        if not 0 <= self.discount_depth < 1:
            raise ConfigError(
                f"PriceProcess: discount_depth={self.discount_depth!r} must be in [0, 1)."
            )
        if int(self.discount_length) != self.discount_length or self.discount_length < 1:
            raise ConfigError(
                f"PriceProcess: discount_length={self.discount_length!r} must be an integer >= 1."
            )
        if not -1 < self.competitor_ar < 1:
            raise ConfigError(
                f"PriceProcess: competitor_ar={self.competitor_ar!r} must be in (-1, 1) for a "
                "stationary competitor price."
            )


def generate_history(
    truth: DemandTruth | None = None,
    *,
    n_periods: int = 156,
    freq: str = "W",
    start: str | pd.Timestamp = "2020-01-06",
    n_products: int = 1,
    price_process: PriceProcess | None = None,
    competitor: bool = True,
    promotions: bool = True,
    trend: float | None = None,
    seasonality: float | None = None,
    noise: Literal["poisson", "negbin", "lognormal"] = "poisson",
    dispersion: float | None = None,
    seed: int | np.random.Generator = 0,
) -> SalesHistory:
    """A validated sales history whose mean demand is ``truth``.

    Every product follows the same truth with its own price, competitor, promotion
    and noise draws, in product order, all from one ``np.random.default_rng(seed)``:
    the same arguments and seed give an identical frame.

    Args:
        truth: the mean-demand truth; default :func:`default_truth` for ``freq``.
        n_periods: periods per product. Default 156: three years of weeks, enough
            for a yearly season to be estimated.
        freq: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``. Default weekly, the
            usual grain of retail pricing data.
        start: date of the first period. Default 2020-01-06, a Monday.
        n_products: products of the panel (keys ``"P1"``, ``"P2"``, ...); with 1
            the history has no product column. Default 1.
        price_process: how prices are drawn; default :class:`PriceProcess`.
        competitor: draw a competitor price (column ``competitor_price``) that
            shifts demand through the truth's cross-elasticity. Default True; with
            False demand sees the competitor at the reference price.
        promotions: record the promotion flag (column ``promo``) and apply the
            truth's lift. Default True; with False the temporary discounts still
            happen (they vary the price) but carry no lift and no flag.
        trend: replaces the truth's ``trend`` when given. Default ``None``: keep it.
        seasonality: replaces the truth's ``seasonality`` when given. Default
            ``None``: keep it.
        noise: ``"poisson"`` (integer units, variance = mean; the default, the
            count model of most demand GLMs), ``"negbin"`` (integer units,
            variance mean + alpha mean^2) or ``"lognormal"`` (positive real units,
            mean-preserving: mean * exp(sigma z - sigma^2 / 2)).
        dispersion: alpha for ``negbin`` (default 0.1), sigma for ``lognormal``
            (default 0.1); not allowed with ``poisson``.
        seed: seed of the one random generator (or the generator itself).

    Returns:
        The history, loaded through :func:`~pricegym.demand.data.load_history` with
        ``competitors=("competitor_price",)`` and ``promotions=("promo",)``; its
        first note records the truth and the settings. Its ``t`` is the ``t`` the
        truth was evaluated at.
    """
    code = _freq(freq)
    if isinstance(n_periods, bool) or not isinstance(n_periods, int | np.integer) or n_periods < 2:
        raise ConfigError(f"generate_history: n_periods={n_periods!r} must be an integer >= 2.")
    if (
        isinstance(n_products, bool)
        or not isinstance(n_products, int | np.integer)
        or n_products < 1
    ):
        raise ConfigError(f"generate_history: n_products={n_products!r} must be an integer >= 1.")
    if noise not in NOISES:
        raise ConfigError(f"generate_history: noise={noise!r} is not one of {list(NOISES)}.")
    if noise == "poisson" and dispersion is not None:
        raise ConfigError(
            "generate_history: dispersion has no meaning for Poisson noise (its variance "
            "equals its mean). Fix: drop dispersion=, or use noise='negbin' or 'lognormal'."
        )
    spread = _DEFAULT_DISPERSION.get(noise) if dispersion is None else float(dispersion)
    if spread is not None and not (math.isfinite(spread) and spread > 0):
        raise ConfigError(f"generate_history: dispersion={dispersion!r} must be > 0.")
    truth = truth if truth is not None else default_truth(code)
    if trend is not None or seasonality is not None:
        truth = replace(
            truth,
            trend=truth.trend if trend is None else trend,
            seasonality=truth.seasonality if seasonality is None else seasonality,
        )
    process = price_process if price_process is not None else PriceProcess()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    dates = _calendar(start, n_periods, code)
    t = np.arange(n_periods, dtype=np.float64)
    frames = []
    for k in range(n_products):
        price, promo = _own_prices(rng, process, truth, n_periods)
        rival = _competitor_prices(rng, process, truth, n_periods) if competitor else None
        mean = truth.mean_units(price, rival, promo if promotions else None, t)
        columns: dict[str, object] = {
            "date": dates,
            "price": price,
            "units": _sample(rng, mean, noise, spread),
        }
        if rival is not None:
            columns["competitor_price"] = rival
        if promotions:
            columns["promo"] = promo
        if n_products > 1:
            columns["product"] = f"P{k + 1}"
        frames.append(pd.DataFrame(columns))
    frame = pd.concat(frames, ignore_index=True)
    history = load_history(
        frame,
        date="date",
        competitors=("competitor_price",) if competitor else (),
        promotions=("promo",) if promotions else (),
        product="product" if n_products > 1 else None,
        freq=code,
        name="synthetic",
    )
    seed_text = seed if not isinstance(seed, np.random.Generator) else "<Generator>"
    note = (
        f"synthetic: {n_products} product(s) x {n_periods} periods ({code}), noise={noise}"
        f"{f' (dispersion {spread:g})' if spread is not None else ''}, seed={seed_text}, "
        f"truth={truth!r}"
    )
    return replace(history, notes=(note, *history.notes))


@dataclass(frozen=True)
class Confounding:
    r"""How :func:`generate_confounded_history` makes the price endogenous.

    Per period ``t`` (and market ``m`` of a panel) the analyst does not see a demand
    shock ``xi ~ N(0, shock_sd^2)``, and the seller sees it and prices on it:

    .. math::

        \log p = \log p_b + \pi z_t + \gamma \xi + v, \qquad
        z_t \sim N(0, \sigma_z^2), \quad v \sim N(0, \sigma_v^2)

    The unit cost ``cost = c_0 \exp(z_t)`` is recorded (column ``cost``): it moves
    the price (``pi`` is the first-stage coefficient on log cost, the pass-through)
    and not demand, so it is a valid instrument. In a panel, ``z_t`` is common to
    all markets of a period (one supplier cost) while ``xi`` and ``v`` are drawn per
    market, so the leave-one-out mean price of the other markets (the Hausman
    instrument) is valid too.

    The shock enters demand as ``mean * exp(xi - shock_sd^2 / 2)`` (mean-one
    multiplicative) for ``constant_elasticity`` and ``exponential`` truths, and as
    ``mean + scale * xi`` (additive, mean zero) for ``linear`` truths, so that each
    family's structural equation holds with an error uncorrelated with the cost.

    Attributes:
        shock_sd: standard deviation of ``xi`` (log demand). Default 0.2: a
            +-20 % busy/quiet week.
        price_response: ``gamma``, log price per unit of shock. Default 1.0: the
            seller raises the price 20 % in a 1-sd busy week, which is what biases
            the ordinary elasticity toward zero. 0 gives an exogenous price.
        pass_through: ``pi``, the first-stage coefficient of log price on log cost.
            Default 1.0 (full pass-through).
        cost_sd: ``sigma_z``, sd of log cost. Default 0.1. The instrument's strength
            is ``pass_through * cost_sd`` against the rest of the price variation;
            see :meth:`partial_r2`.
        price_noise_sd: ``sigma_v``, sd of the price variation that is neither cost
            nor shock. Default 0.05.
        cost_level: ``c_0``; ``None`` means half the base price (a 50 % margin).
    """

    shock_sd: float = 0.2
    price_response: float = 1.0
    pass_through: float = 1.0
    cost_sd: float = 0.1
    price_noise_sd: float = 0.05
    cost_level: float | None = None

    def __post_init__(self) -> None:
        for name in ("shock_sd", "cost_sd", "price_noise_sd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"Confounding: {name}={value!r} must be a finite number >= 0.")
        for name in ("price_response", "pass_through"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"Confounding: {name} must be finite.")
        if self.cost_level is not None:
            _positive("cost_level", self.cost_level)

    def price_variance(self) -> float:
        """Variance of log price: ``pi^2 sz^2 + gamma^2 sxi^2 + sv^2``."""
        return (
            (self.pass_through * self.cost_sd) ** 2
            + (self.price_response * self.shock_sd) ** 2
            + self.price_noise_sd**2
        )

    def partial_r2(self) -> float:
        """Population share of log-price variance the log cost explains (first stage).

        The expected first-stage F of ``n`` rows with one instrument is about
        ``n * R^2 / (1 - R^2)``; below 10 the instrument is weak.
        """
        total = self.price_variance()
        return (self.pass_through * self.cost_sd) ** 2 / total if total > 0 else 0.0

    def expected_first_stage_f(self, n_rows: int) -> float:
        """``n * R^2 / (1 - R^2)`` of :meth:`partial_r2`: the F-statistic to expect."""
        r2 = self.partial_r2()
        return float("inf") if r2 >= 1 else n_rows * r2 / (1.0 - r2)

    def ols_bias(self) -> float:
        """Population bias of the ordinary log-log elasticity: ``gamma sxi^2 / var(log p)``.

        Exact for a ``constant_elasticity`` truth regressed in logs (the shock is the
        omitted regressor); positive means toward zero for a negative elasticity.
        """
        total = self.price_variance()
        return self.price_response * self.shock_sd**2 / total if total > 0 else 0.0


def generate_confounded_history(
    truth: DemandTruth | None = None,
    *,
    confounding: Confounding | None = None,
    n_periods: int = 156,
    freq: str = "W",
    start: str | pd.Timestamp = "2020-01-06",
    n_products: int = 1,
    base_price: float | None = None,
    tick: float = 0.01,
    noise: Literal["poisson", "negbin", "lognormal"] = "poisson",
    dispersion: float | None = None,
    seed: int | np.random.Generator = 0,
) -> SalesHistory:
    """A history whose price responds to a demand shock the analyst does not see.

    The testbed of instrumental-variable demand (see :class:`Confounding` for the
    equations): the truth's elasticity is known, the ordinary regression of units on
    price misses it (by :meth:`Confounding.ols_bias` in logs), and the recorded
    ``cost`` column, an instrument of stated strength, recovers it.

    Args:
        truth: the structural demand; default :func:`default_truth` for ``freq``
            without trend or seasonality (the confounding is the only complication).
            Its competitor and promotion terms are not used (no such columns).
        confounding: the shock, the price rule and the instrument; default
            :class:`Confounding`.
        n_periods: periods per market. Default 156 (three years of weeks).
        freq, start: the calendar, as in :func:`generate_history`.
        n_products: markets of the panel (keys ``"P1"``, ``"P2"``, ...; one cost
            per period shared by all of them). Default 1: no product column.
        base_price: ``p_b``; ``None`` means the truth's reference price.
        tick: prices are rounded to a multiple of this. Default 0.01.
        noise, dispersion: the sampling noise of units around their mean, as in
            :func:`generate_history`.
        seed: seed of the one random generator (or the generator). Draw order: the
            log cost of every period, then per market the shocks, the price noise and
            the units.

    Returns:
        A history with columns ``price``, ``units`` and ``cost`` (and ``product`` for a
        panel); its first note records the truth, the confounding and the seed.
    """
    code = _freq(freq)
    if isinstance(n_periods, bool) or not isinstance(n_periods, int | np.integer) or n_periods < 2:
        raise ConfigError(
            f"generate_confounded_history: n_periods={n_periods!r} must be an integer >= 2."
        )
    if isinstance(n_products, bool) or not isinstance(n_products, int | np.integer):
        raise ConfigError(f"generate_confounded_history: n_products={n_products!r} must be >= 1.")
    if n_products < 1:
        raise ConfigError(f"generate_confounded_history: n_products={n_products!r} must be >= 1.")
    if noise not in NOISES:
        raise ConfigError(f"generate_confounded_history: noise={noise!r} is not in {NOISES}.")
    if noise == "poisson" and dispersion is not None:
        raise ConfigError(
            "generate_confounded_history: dispersion has no meaning for Poisson noise. "
            "Fix: drop dispersion=, or use noise='negbin' or 'lognormal'."
        )
    spread = _DEFAULT_DISPERSION.get(noise) if dispersion is None else float(dispersion)
    truth = truth if truth is not None else default_truth(code, trend=0.0, seasonality=0.0)
    conf = confounding if confounding is not None else Confounding()
    base = truth.reference_price if base_price is None else float(base_price)
    _positive("base_price", base)
    _positive("tick", tick)
    c0 = conf.cost_level if conf.cost_level is not None else 0.5 * base
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    dates = _calendar(start, n_periods, code)
    t = np.arange(n_periods, dtype=np.float64)
    z = conf.cost_sd * rng.standard_normal(n_periods)
    cost = np.round(c0 * np.exp(z), 10)
    frames = []
    for k in range(n_products):
        xi = conf.shock_sd * rng.standard_normal(n_periods)
        v = conf.price_noise_sd * rng.standard_normal(n_periods)
        log_p = math.log(base) + conf.pass_through * z + conf.price_response * xi + v
        price = _round(np.exp(log_p), tick)
        mean = truth.mean_units(price, t=t)
        if truth.form == "linear":
            mean = np.maximum(mean + truth.scale * xi, 0.0)
        else:
            mean = mean * np.exp(xi - 0.5 * conf.shock_sd**2)
        columns: dict[str, object] = {
            "date": dates,
            "price": price,
            "units": _sample(rng, mean, noise, spread),
            "cost": cost,
        }
        if n_products > 1:
            columns["product"] = f"P{k + 1}"
        frames.append(pd.DataFrame(columns))
    history = load_history(
        pd.concat(frames, ignore_index=True),
        date="date",
        cost="cost",
        product="product" if n_products > 1 else None,
        freq=code,
        name="synthetic-confounded",
    )
    seed_text = seed if not isinstance(seed, np.random.Generator) else "<Generator>"
    note = (
        f"synthetic confounded: {n_products} market(s) x {n_periods} periods ({code}), "
        f"noise={noise}, seed={seed_text}, truth={truth!r}, confounding={conf!r} "
        f"(first-stage partial R^2 {conf.partial_r2():.3f})"
    )
    return replace(history, notes=(note, *history.notes))


# ------------------------------------------------------------------ helpers
def _freq(freq: str) -> str:
    code = str(freq).upper()
    if code not in FREQUENCIES:
        raise ConfigError(f"freq={freq!r} is not one of {list(FREQUENCIES)}.")
    return code


def _positive(name: str, value: float) -> None:
    real(
        name,
        value,
        POSITIVE,
        message="{name}={value!r} must be a finite number > 0.",
        convert=False,
    )


def _prices(name: str, value: ArrayLike) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if not np.all(array > 0):
        raise ConfigError(f"DemandTruth: {name} prices must be > 0, got {array[~(array > 0)][:5]}.")
    return array


def _calendar(start: str | pd.Timestamp, n: int, code: str) -> pd.DatetimeIndex:
    """``n`` dates one period of ``code`` apart, starting at ``start``."""
    step = {
        "D": pd.DateOffset(days=1),
        "W": pd.DateOffset(days=7),
        "M": pd.DateOffset(months=1),
        "Q": pd.DateOffset(months=3),
        "Y": pd.DateOffset(years=1),
    }[code]
    try:
        first = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"generate_history: start={start!r} is not a date.") from exc
    if code in ("D", "W"):
        return pd.date_range(first, periods=n, freq="1D" if code == "D" else "7D")
    # k steps from the first date, not k single steps: Jan 31 + 2 months is Mar 31, not Mar 29
    return pd.DatetimeIndex([first + step * k for k in range(n)])


def _own_prices(
    rng: np.random.Generator, process: PriceProcess, truth: DemandTruth, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Own prices (rounded to the tick) and the 0/1 promotion flag of one product."""
    base = process.base_price if process.base_price is not None else truth.reference_price
    resets = rng.random(n) < process.step_probability
    levels = base * np.exp(process.step_sd * rng.standard_normal(n))
    resets[0], levels[0] = True, base
    last_reset = np.maximum.accumulate(np.where(resets, np.arange(n), 0))
    regular = levels[last_reset]
    jitter = np.exp(process.jitter_sd * rng.standard_normal(n))
    starts = (rng.random(n) < process.discount_probability).astype(np.float64)
    promo = (np.convolve(starts, np.ones(int(process.discount_length)))[:n] > 0).astype(np.float64)
    price = regular * jitter * (1.0 - process.discount_depth * promo)
    return _round(price, process.tick), promo


def _competitor_prices(
    rng: np.random.Generator, process: PriceProcess, truth: DemandTruth, n: int
) -> np.ndarray:
    """An AR(1) in logs around the competitor level, started from its stationary law."""
    level = process.competitor_level or process.base_price or truth.reference_price
    phi, sd = process.competitor_ar, process.competitor_sd
    first = rng.standard_normal() * sd / math.sqrt(1.0 - phi**2)
    shocks = sd * rng.standard_normal(n)
    deviation, _ = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * first])
    return _round(level * np.exp(deviation), process.tick)


def _round(price: np.ndarray, tick: float) -> np.ndarray:
    # the last round removes float noise such as 12.120000000000001 from ticks * tick
    return np.round(np.maximum(np.round(price / tick), 1.0) * tick, 10)


def _sample(
    rng: np.random.Generator, mean: np.ndarray, noise: str, spread: float | None
) -> np.ndarray:
    """Units around ``mean``: Poisson, gamma-Poisson (negbin) or mean-one log-normal.

    ``spread`` is alpha (negbin) or sigma (lognormal); Poisson ignores it.
    """
    if noise == "poisson" or spread is None:
        return rng.poisson(mean).astype(np.float64)
    if noise == "negbin":
        shape = 1.0 / spread
        rate = rng.gamma(shape, spread * mean)  # mean `mean`, variance spread * mean^2
        return rng.poisson(rate).astype(np.float64)
    return mean * np.exp(spread * rng.standard_normal(mean.shape) - 0.5 * spread**2)
