"""A confounded history in which the competitor's price answers the demand shock too.

The testbed of several endogenous prices (issue 12): a week that is busy for this
seller is busy for the rival as well, so *both* prices rise with the shock the
analyst does not see. The ordinary regression then misses the own-price elasticity
(toward zero) and the cross-price elasticity (away from zero); instrumenting the
own price by its cost and the competitor price by the rival's cost recovers both.
:class:`RivalConfounding` states the equations and the ordinary regression's
population bias; :func:`generate_confounded_rival_history` draws the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pricegym.demand.data import SalesHistory, load_history
from pricegym.errors import ConfigError

__all__ = ["RivalConfounding", "generate_confounded_rival_history"]


@dataclass(frozen=True)
class RivalConfounding:
    r"""Constant-elasticity demand with an own and a competitor price, both endogenous.

    Per period, with a demand shock ``xi ~ N(0, shock_sd^2)`` that both sellers see:

    .. math::

        \log p = \log p_b + \pi z + \gamma \xi + v, \qquad
        \log q = \log q_b + \pi_q z_q + \gamma_q \xi + v_q, \\
        E[\text{units}] = A\, p^{e} q^{c} \exp(\xi - \sigma_\xi^2 / 2)

    ``z`` and ``z_q`` (independent, sd ``cost_sd`` and ``rival_cost_sd``) are the log
    cost shocks of the two sellers; ``cost = c_0 e^z`` and ``comp_cost = c_q e^{z_q}``
    are recorded, and each moves one price and not demand. Units are Poisson.

    Attributes:
        elasticity: ``e``, the own-price elasticity. Default -2.
        cross_elasticity: ``c``, the cross-price elasticity. Default 0.8.
        base_units: ``E[units]`` at the base prices without a shock. Default 100.
        base_price, rival_price: ``p_b`` and ``q_b``. Default 10 and 10.
        shock_sd: sd of ``xi``. Default 0.2.
        price_response, rival_response: ``gamma`` and ``gamma_q``. Default 1 and 1.
        pass_through, rival_pass_through: ``pi`` and ``pi_q``. Default 1 and 1.
        cost_sd, rival_cost_sd: sd of ``z`` and ``z_q``. Default 0.1 and 0.1.
        price_noise_sd, rival_noise_sd: sd of ``v`` and ``v_q``. Default 0.05 and 0.05.
    """

    elasticity: float = -2.0
    cross_elasticity: float = 0.8
    base_units: float = 100.0
    base_price: float = 10.0
    rival_price: float = 10.0
    shock_sd: float = 0.2
    price_response: float = 1.0
    rival_response: float = 1.0
    pass_through: float = 1.0
    rival_pass_through: float = 1.0
    cost_sd: float = 0.1
    rival_cost_sd: float = 0.1
    price_noise_sd: float = 0.05
    rival_noise_sd: float = 0.05

    def __post_init__(self) -> None:
        for name in ("base_units", "base_price", "rival_price"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"RivalConfounding: {name}={value!r} must be a number > 0.")
        for name in ("shock_sd", "cost_sd", "rival_cost_sd", "price_noise_sd", "rival_noise_sd"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"RivalConfounding: {name}={value!r} must be a number >= 0.")

    def covariance(self) -> np.ndarray:
        """Population covariance of ``(log p, log q)``."""
        s2 = self.shock_sd**2
        vp = (self.pass_through * self.cost_sd) ** 2 + (self.price_response**2) * s2
        vq = (self.rival_pass_through * self.rival_cost_sd) ** 2 + (self.rival_response**2) * s2
        cov = self.price_response * self.rival_response * s2
        return np.array([[vp + self.price_noise_sd**2, cov], [cov, vq + self.rival_noise_sd**2]])

    def ols_bias(self) -> tuple[float, float]:
        """Population bias of the ordinary log-log (own, cross) elasticities.

        ``Sigma^{-1} sxi^2 (gamma, gamma_q)``: the shock is the omitted regressor.
        """
        s2 = self.shock_sd**2
        b = np.linalg.solve(
            self.covariance(), s2 * np.array([self.price_response, self.rival_response])
        )
        return float(b[0]), float(b[1])


def generate_confounded_rival_history(
    confounding: RivalConfounding | None = None,
    *,
    n_periods: int = 500,
    freq: str = "W",
    start: str = "2020-01-06",
    tick: float = 0.01,
    seed: int = 0,
) -> SalesHistory:
    """Draw a history of :class:`RivalConfounding` (columns ``price``, ``units``,
    ``cost``, the competitor price ``comp_price`` and the instrument column
    ``comp_cost``).

    Draw order of the one generator seeded with ``seed``: ``z``, ``z_q``, ``xi``,
    ``v``, ``v_q``, then the units. Prices are rounded to ``tick``.

    Raises:
        ConfigError: fewer than 8 periods, or a non-positive ``tick``.
    """
    conf = confounding if confounding is not None else RivalConfounding()
    if isinstance(n_periods, bool) or not isinstance(n_periods, int) or n_periods < 8:
        raise ConfigError(
            f"generate_confounded_rival_history: n_periods={n_periods!r} must be an integer >= 8."
        )
    if not (math.isfinite(tick) and tick > 0):
        raise ConfigError(f"generate_confounded_rival_history: tick={tick!r} must be > 0.")
    rng = np.random.default_rng(seed)
    n = n_periods
    z = conf.cost_sd * rng.standard_normal(n)
    zq = conf.rival_cost_sd * rng.standard_normal(n)
    xi = conf.shock_sd * rng.standard_normal(n)
    v = conf.price_noise_sd * rng.standard_normal(n)
    vq = conf.rival_noise_sd * rng.standard_normal(n)
    price = _round(
        conf.base_price * np.exp(conf.pass_through * z + conf.price_response * xi + v), tick
    )
    comp = _round(
        conf.rival_price * np.exp(conf.rival_pass_through * zq + conf.rival_response * xi + vq),
        tick,
    )
    mean = (
        conf.base_units
        * (price / conf.base_price) ** conf.elasticity
        * (comp / conf.rival_price) ** conf.cross_elasticity
        * np.exp(xi - 0.5 * conf.shock_sd**2)
    )
    units = rng.poisson(mean).astype(np.float64)
    frame = pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq={"W": "W-MON"}.get(freq, freq)),
            "price": price,
            "units": units,
            "cost": np.round(0.5 * conf.base_price * np.exp(z), 10),
            "comp_price": comp,
            "comp_cost": np.round(0.5 * conf.rival_price * np.exp(zq), 10),
        }
    )
    history = load_history(
        frame,
        date="date",
        cost="cost",
        competitors=("comp_price",),
        instruments=("comp_cost",),
        freq=freq,
        name="synthetic-confounded-rival",
    )
    own, cross = conf.ols_bias()
    note = (
        f"synthetic confounded rival: {n} periods ({freq}), seed={seed}, {conf!r}; ordinary "
        f"log-log bias own {own:+.3f}, cross {cross:+.3f}"
    )
    return replace(history, notes=(note, *history.notes))


def _round(price: np.ndarray, tick: float) -> np.ndarray:
    return np.maximum(np.round(price / tick) * tick, tick)
