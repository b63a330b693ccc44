"""Experiments on a catalogue market (issue 13): benchmarks, episodes and replays of K products.

A market section ``env: pricegym/LogitCatalogue-v0`` (or another catalogue id)
builds a :class:`~pricegym.envs.multiproduct.MultiProductEnv`; its agents post one
price per product (:mod:`pricegym.agents.catalogue_rules`,
:mod:`pricegym.agents.catalogue_bandit`, ``sb3`` with ppo / a2c). The runner,
the evaluator and the report call this module where a one-product market's
numbers do not apply:

- :func:`catalogue_benchmarks`: the exact optimum of the season (the catalogue DP
  with finite stock, the per-period grid optimum summed over the season with
  unlimited stock), the best *fixed* price vector and its expected season profit
  (exact, see there), and the cross-price elasticity matrix of the market's demand
  at the best grid vector;
- :func:`play_catalogue_episodes`: the episode rows of the tidy results table,
  with the same columns as a one-product market's (``units`` summed over the
  products, ``avg_price`` the mean posted price over periods and products);
- :func:`replay_catalogue_rows`: the step rows the report's price-path figures
  draw, one ``price:<product>`` / ``units:<product>`` / ``inventory:<product>``
  column per product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from pricegym.errors import ConfigError, PricegymError

__all__ = [
    "ELASTICITY_STEP",
    "best_fixed_vector",
    "catalogue_benchmarks",
    "elasticity_matrix",
    "is_catalogue",
    "play_catalogue_episodes",
    "replay_catalogue_rows",
]

#: Relative price step of the central difference of :func:`elasticity_matrix`.
ELASTICITY_STEP = 1e-5


def is_catalogue(env: Any) -> bool:
    """Whether ``env`` (bare or wrapped) is a catalogue market."""
    from pricegym.envs.multiproduct import CatalogueConfig

    return isinstance(getattr(getattr(env, "unwrapped", env), "config", None), CatalogueConfig)


def _parts(env: Any) -> tuple[Any, Any]:
    # fixed-price rivals folded into the outside option; reacting rivals raise
    from pricegym.agents.multiproduct_optimum import _env_parts

    return _env_parts(env)


def elasticity_matrix(
    demand: Any, prices: Sequence[float] | np.ndarray, period: int = 0
) -> np.ndarray:
    """``E[j, k] = ∂ ln q_j / ∂ ln p_k`` (K, K) of any catalogue demand model at ``prices``.

    Central differences in log price (relative step :data:`ELASTICITY_STEP`) of the
    model's ``mean_units``: the same number for a fitted system, a logit or a
    known truth, so the report's matrix does not depend on the family's own formula
    (the tests check it against :meth:`LogitCatalogueTruth.elasticities`). Own
    elasticities are on the diagonal; a positive off-diagonal entry says product j
    gains when k's price rises (substitutes).
    """
    p = np.asarray(prices, dtype=np.float64).reshape(-1)
    k = p.size
    h = ELASTICITY_STEP
    up = np.tile(p, (k, 1)) * np.exp(h * np.eye(k))
    down = np.tile(p, (k, 1)) * np.exp(-h * np.eye(k))
    q_up = np.log(np.asarray(demand.mean_units(up, period), dtype=np.float64))
    q_down = np.log(np.asarray(demand.mean_units(down, period), dtype=np.float64))
    return ((q_up - q_down) / (2 * h)).T  # row j: product j's units; column k: k's price


def best_fixed_vector(env: Any) -> tuple[np.ndarray, float]:
    """The grid vector whose fixed posting earns the most in expectation, and that profit.

    Exact: with a fixed price vector each product's demand is independent Poisson
    per period (given the prices), and a product sells until its stock is gone, so
    its season sales are ``min(N_j, x0_j)`` with ``N_j ~ Poisson(Σ_t μ_j(p, t))``
    (``E[min(N, x)] = Σ_{i<x} P(N > i)``; with unlimited stock the mean), and the
    season's profit is ``Σ_j (p_j − c_j) E[sales_j] + salvage_j (x0_j − E[sales_j])``.
    With ``noise="none"`` the sales are ``min(Σ_t μ_j, x0_j)``.
    """
    demand, cfg = _parts(env)
    acts = cfg.all_actions()
    prices = cfg.price_table()[np.arange(cfg.n_products), acts]
    total = np.sum(
        [np.asarray(demand.mean_units(prices, t), dtype=np.float64) for t in range(cfg.horizon)],
        axis=0,
    )
    stock = cfg.inventory
    sales = np.empty_like(total)
    for j in range(cfg.n_products):
        if not np.isfinite(stock[j]):
            sales[:, j] = total[:, j]
        elif cfg.noise == "none":
            sales[:, j] = np.minimum(total[:, j], stock[j])
        else:
            i = np.arange(int(stock[j]))
            sales[:, j] = stats.poisson.sf(i[None, :], total[:, j, None]).sum(axis=1)
    finite = np.isfinite(stock)
    salvage = np.where(finite, cfg.salvage, 0.0) * np.where(finite, stock - sales, 0.0)
    value = ((prices - cfg.cost) * sales + salvage).sum(axis=1)
    best = int(np.argmax(value))
    return acts[best], float(value[best])


def catalogue_benchmarks(env: Any) -> dict[str, Any]:
    """The benchmarks of a catalogue market (expected profit per season).

    Returns ``{"dp", "best_fixed", "best_fixed_price", "note", "optimum", "products",
    "elasticity"}``: ``dp`` the optimum of the season (the exact catalogue DP with
    finite stock; with unlimited stock the per-period grid optimum, period by
    period, which is then optimal), ``best_fixed`` and ``best_fixed_price`` (a list,
    one price per product) from :func:`best_fixed_vector`, ``note`` why a benchmark
    is missing (None if none is), ``optimum`` None (the one-product edge check does
    not apply; the market warns itself), ``elasticity`` the cross-price matrix of
    :func:`elasticity_matrix` at the best grid vector of period 0 (``prices``,
    ``matrix``).
    """
    from pricegym.agents.multiproduct_optimum import catalogue_dp, grid_optimum

    demand, cfg = _parts(env)
    out: dict[str, Any] = {
        "dp": None,
        "best_fixed": None,
        "best_fixed_price": None,
        "note": None,
        "optimum": None,
        "products": list(getattr(env.unwrapped, "product_names", ())),
    }
    best = grid_optimum(env)
    out["elasticity"] = {
        "prices": best.prices.tolist(),
        "matrix": elasticity_matrix(demand, best.prices).tolist(),
    }
    action, value = best_fixed_vector(env)
    out["best_fixed"] = value
    out["best_fixed_price"] = cfg.price_table()[np.arange(cfg.n_products), action].tolist()
    if not cfg.finite_stock:
        out["dp"] = float(sum(grid_optimum(env, t).profit for t in range(cfg.horizon)))
        return out
    try:
        out["dp"] = catalogue_dp(env).start_value
    except (ConfigError, PricegymError) as exc:
        out["note"] = f"DP optimum not defined here: {exc}"
    return out


def _start_stock(info: dict[str, Any]) -> float:
    stock = np.asarray(info.get("inventory", math.inf), dtype=np.float64)
    return float(stock.sum())


def play_catalogue_episodes(
    agent: Any,
    env: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[int],
    learn: bool = False,
) -> list[dict[str, Any]]:
    """One row per episode of a catalogue market (the columns of a one-product market's).

    The agent is already bound to ``env``; episode i resets ``env`` with
    ``env_seeds[i]`` and the agent with ``agent_seeds[i]``; with ``learn`` the agent
    sees every transition (with ``info``). ``units`` and ``lost_sales`` are summed
    over the products, ``avg_price`` is the mean posted price over periods and
    products, ``sell_through`` the units over the total starting stock (NaN when
    some product's stock is unlimited).
    """
    from pricegym.experiments.evaluate import _row, _updater

    update = _updater(agent) if learn else None
    rows = []
    for env_seed, agent_seed in zip(env_seeds, agent_seeds, strict=True):
        obs, info = env.reset(seed=int(env_seed))
        agent.reset(seed=int(agent_seed))
        stock = _start_stock(info)
        profit = revenue = units = prices = lost = 0.0
        steps = 0
        while True:
            action = agent.act(obs)
            nxt, reward, terminated, truncated, info = env.step(action)
            if update is not None:
                update(obs, action, reward, nxt, terminated, info)
            profit += float(reward)
            revenue += float(info["revenue"])
            units += float(np.sum(info["sales"]))
            prices += float(np.mean(info["prices"]))
            lost += float(np.sum(info["lost_sales"]))
            steps += 1
            obs = nxt
            if terminated or truncated:
                break
        rows.append(_row(profit, revenue, units, prices, lost, steps, stock))
    return rows


def replay_catalogue_rows(
    cell: Any,
    agent_name: str,
    env: Any,
    agent: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[int],
    learn: bool,
) -> list[dict[str, Any]]:
    """Step rows of replayed catalogue episodes for the report's figures.

    The columns of a one-product replay (``price`` = the mean posted price,
    ``units`` = the units summed over products, ``inventory`` = the stock summed,
    ``rival_price`` NaN) plus ``price:<p>``, ``units:<p>``, ``inventory:<p>`` per
    product ``p``.
    """
    from pricegym.experiments.evaluate import _updater

    names = list(getattr(env.unwrapped, "product_names", ()))
    update = _updater(agent) if learn else None
    rows: list[dict[str, Any]] = []
    for e, (env_seed, agent_seed) in enumerate(zip(env_seeds, agent_seeds, strict=True)):
        obs, info = env.reset(seed=int(env_seed))
        agent.reset(seed=int(agent_seed))
        total, step = 0.0, 0
        while True:
            action = agent.act(obs)
            nxt, reward, terminated, truncated, info = env.step(action)
            if update is not None:
                update(obs, action, reward, nxt, terminated, info)
            total += float(reward)
            row = {
                "mode": cell.mode,
                "market": cell.arena,
                "agent": agent_name,
                "opponent": cell.rival,
                "seat": 0,
                "seed": cell.seed,
                "episode": e,
                "step": step,
                "price": float(np.mean(info["prices"])),
                "rival_price": math.nan,
                "units": float(np.sum(info["sales"])),
                "inventory": float(np.sum(info["inventory"])),
                "profit": float(reward),
                "cum_profit": total,
            }
            for j, name in enumerate(names):
                row[f"price:{name}"] = float(info["prices"][j])
                row[f"units:{name}"] = float(info["sales"][j])
                row[f"inventory:{name}"] = float(info["inventory"][j])
            rows.append(row)
            step += 1
            obs = nxt
            if terminated or truncated:
                break
    return rows
