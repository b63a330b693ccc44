"""Synthetic sales histories with stock-outs and a known demand curve.

The known truth of the censoring tests and ``benchmarks/bench_censored.py``:
constant-elasticity demand ``mu = scale · price^elasticity`` at log-uniform prices,
demand drawn from a noise model, and an order of stock each period that does not
look at the price (``stock ~ Poisson(stock_mean)``, or a log-normal amount for
continuous sales), so that cheap periods sell out more often: exactly the pattern
that biases a naive fit's price effect toward zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegym.demand.data import SalesHistory, load_history
from pricegym.errors import ConfigError

__all__ = ["STOCKOUT_NOISES", "stockout_history"]

#: Demand distributions :func:`stockout_history` draws from.
STOCKOUT_NOISES: tuple[str, ...] = ("poisson", "negbin", "lognormal")


def stockout_history(
    seed: int,
    *,
    n_periods: int = 200,
    elasticity: float = -2.0,
    scale: float = 60.0,
    price_range: tuple[float, float] = (1.0, 3.0),
    noise: str = "poisson",
    alpha: float = 0.1,
    sigma: float = 0.3,
    stock_mean: float = 30.0,
    stock_sigma: float = 0.2,
) -> tuple[SalesHistory, np.ndarray]:
    """A history of ``n_periods`` periods whose sales are demand capped by stock.

    Args:
        seed: seed of the one generator (draw order: prices, demand, stock).
        n_periods: periods (one row each, integer periods 0, 1, ...).
        elasticity, scale: the true demand curve ``mu = scale · price^elasticity``.
        price_range: prices are log-uniform on this range.
        noise: ``"poisson"``, ``"negbin"`` (NB2 dispersion ``alpha``) or
            ``"lognormal"`` (``log demand = log mu − sigma²/2 + sigma·Z``: mean ``mu``).
        stock_mean: mean stock per period: ``Poisson(stock_mean)`` for counts,
            ``stock_mean · exp(stock_sigma·Z − stock_sigma²/2)`` for ``lognormal``.

    Returns:
        ``(history, demand)``: the history (columns ``price``, ``units`` =
        min(demand, stock), ``stock``) and the uncapped demand of each row.

    Raises:
        ConfigError: an unknown ``noise`` or a non-positive size.
    """
    if noise not in STOCKOUT_NOISES:
        raise ConfigError(f"noise={noise!r} is unknown; use one of {list(STOCKOUT_NOISES)}.")
    if n_periods < 2 or scale <= 0 or stock_mean <= 0:
        raise ConfigError(
            f"n_periods={n_periods}, scale={scale}, stock_mean={stock_mean}: need at least 2 "
            "periods and a positive scale and stock."
        )
    rng = np.random.default_rng(seed)
    lo, hi = np.log(price_range[0]), np.log(price_range[1])
    price = np.exp(rng.uniform(lo, hi, n_periods))
    mu = scale * price**elasticity
    if noise == "poisson":
        demand = rng.poisson(mu).astype(np.float64)
    elif noise == "negbin":
        demand = rng.poisson(rng.gamma(1.0 / alpha, alpha * mu)).astype(np.float64)
    else:
        demand = mu * np.exp(sigma * rng.standard_normal(n_periods) - 0.5 * sigma**2)
    if noise == "lognormal":
        z = rng.standard_normal(n_periods)
        stock = stock_mean * np.exp(stock_sigma * z - 0.5 * stock_sigma**2)
    else:
        stock = rng.poisson(stock_mean, n_periods).astype(np.float64)
    frame = pd.DataFrame(
        {
            "period": np.arange(n_periods),
            "price": price,
            "units": np.minimum(demand, stock),
            "stock": stock,
        }
    )
    name = f"<stock-outs: {noise}, elasticity {elasticity:g}, seed {seed}>"
    return load_history(frame, stock="stock", name=name), demand
