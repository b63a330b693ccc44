"""One compiled pass over B markets for a period: draw, sales, money, stock (used by
:mod:`.vector`).

Why: profiled on ``pricegym/Markdown-v0`` (B = 1024, 10 units of stock, so markets
stock out and reset at different periods), the Poisson draws themselves were ~12%
of a batched step; the rest was ~25 numpy calls on (B,) arrays after them (sales =
min(demand, stock), lost sales, stock, holding cost, salvage, replenishment,
revenue, cost, profit), each a pass over memory with its own call overhead, and
the autoreset bookkeeping. :func:`table_poisson_step` does the table lookup, the
draw (numpy's ``random_poisson`` on the market's PCG64 state, as
:func:`pricegym.envs._poisson.poisson_entries`) and steps 4–6 of
``PricingEnv.step`` in one loop over the markets, writing the rows of one output
array.

The arithmetic is ``PricingEnv``'s, operation for operation (products and sums of
float64, no exp/log), so the values are bit for bit those of the numpy code it
replaces and of B single markets.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pricegym.envs._poisson import _draw

__all__ = ["N_ROWS", "PERIOD_ROWS", "ROWS", "table_poisson_period", "table_poisson_step"]

#: Rows of the output array, in this order.
ROWS = (
    "expected_demand",
    "demand",
    "sales",
    "lost_sales",
    "revenue",
    "cost",
    "holding_cost",
    "salvage",
    "profit",
    "inventory",
    "replenished",
)
N_ROWS = len(ROWS)


@njit(cache=True, nogil=True, error_model="numpy")
def table_poisson_step(  # pragma: no cover  (compiled; tested through the batch)
    st: np.ndarray,
    entry: np.ndarray,
    skip: np.ndarray,
    table: np.ndarray,
    consts: np.ndarray,
    lg: np.ndarray,
    price: np.ndarray,
    k: np.ndarray,
    inv: np.ndarray,
    params: np.ndarray,
    out: np.ndarray,
) -> None:
    """One period of every market whose expected demand is ``table[entry[r]]``.

    Args:
        st: (B, 4) PCG64 states, advanced by the draws.
        entry: (B,) table entry of each market's period and price.
        skip: (B,) markets that are resetting: no draw (demand 0), values discarded.
        table: expected units per entry; ``consts`` its :func:`ptrs_constants`;
            ``lg`` the :func:`loggam_table`.
        price: (B,) prices; ``k``: (B,) periods (clipped for resetting markets).
        inv: (B,) stock, updated in place; size 0 for unlimited stock.
        params: ``(unit cost, holding cost, salvage value, horizon, replenish every
            (0: never), replenish to)``.
        out: (:data:`N_ROWS`, B), written row by row in :data:`ROWS` order.
    """
    cost_u, hold_u, salv_u = params[0], params[1], params[2]
    horizon, every, refill = int(params[3]), int(params[4]), params[5]
    stocked = inv.size > 0
    for r in range(entry.size):
        e = entry[r]
        mu = table[e]
        demand = 0.0 if skip[r] else _draw(st, r, consts, e, lg)
        p = price[r]
        out[0, r] = mu
        out[1, r] = demand
        if not stocked:
            sales = demand
            revenue = p * sales
            cost = cost_u * sales
            out[2, r] = sales
            out[3, r] = 0.0
            out[4, r] = revenue
            out[5, r] = cost
            out[6, r] = 0.0
            out[7, r] = 0.0
            out[8, r] = revenue - cost
            out[9, r] = np.inf
            out[10, r] = 0.0
            continue
        stock = inv[r]
        sales = demand if demand < stock else stock
        lost = demand - sales
        stock = stock - sales
        holding = hold_u * stock
        last = k[r] == horizon - 1
        salvage = salv_u * stock if last else 0.0
        replenished = 0.0
        if every > 0 and not last and (k[r] + 1) % every == 0:
            replenished = refill - stock
            if not replenished > 0.0:  # np.maximum(0.0, x): 0.0 unless x > 0
                replenished = 0.0 if replenished == replenished else replenished
            stock = stock + replenished
        inv[r] = stock
        revenue = p * sales
        cost = cost_u * sales
        out[2, r] = sales
        out[3, r] = lost
        out[4, r] = revenue
        out[5, r] = cost
        out[6, r] = holding
        out[7, r] = salvage
        out[8, r] = revenue - cost - holding + salvage
        out[9, r] = stock
        out[10, r] = replenished


#: Extra rows of :func:`table_poisson_period`'s output after :data:`ROWS`: the price and
#: the period the ``t`` of ``info`` is made from.
PERIOD_ROWS = (*ROWS, "price")


@njit(cache=True, nogil=True, error_model="numpy")
def table_poisson_period(  # pragma: no cover  (compiled; tested through the batch)
    st: np.ndarray,
    action: np.ndarray,
    ended: np.ndarray,
    kk: np.ndarray,
    grid: np.ndarray,
    table: np.ndarray,
    consts: np.ndarray,
    lg: np.ndarray,
    inv: np.ndarray,
    params: np.ndarray,
    limits: np.ndarray,
    static_obs: np.ndarray,
    reset_obs: np.ndarray,
    obs: np.ndarray,
    out: np.ndarray,
    k_info: np.ndarray,
    flags: np.ndarray,
) -> int:
    """A whole ``MarketVectorEnv.step`` (next-step autoreset) of a Poisson table market.

    Markets with ``ended[r]`` are reset (no draw, reward 0, flags false, the reset
    observation, their step values 0) as the numpy step does after
    :func:`table_poisson_step`; the others play ``action[r]``. Returns -1, or before
    touching anything the first playing market whose action is not a grid index (the
    caller then raises through the plain step).

    Args (besides :func:`table_poisson_step`'s): ``kk`` (B,) periods, advanced in
    place; ``limits``: ``(episode length, max_steps or -1, time_limit or -1, inventory
    at reset (unused when unlimited), stock denominator, 1 / p_max, sales scale,
    sales cap, terminate on a stock-out (1/0), the sales column of obs)``;
    ``static_obs`` (horizon + 1, d) and ``reset_obs`` (d,) float32; ``obs`` (B, d) float32
    written; ``out``
    (len(:data:`PERIOD_ROWS`), B); ``k_info`` (B,) the period of each step's ``t``
    (0 for markets reset); ``flags`` (3, B) bool: terminated, truncated, reset.
    """
    n = grid.size
    b = action.size
    for r in range(b):
        if not ended[r] and not (0 <= action[r] < n):
            return r
    cost_u, hold_u, salv_u = params[0], params[1], params[2]
    horizon, every, refill = int(params[3]), int(params[4]), params[5]
    max_steps, time_limit = int(limits[1]), int(limits[2])
    inv0, denom, inv_pmax = limits[3], limits[4], limits[5]
    sales_scale, sales_cap, stockout_ends = limits[6], limits[7], limits[8] > 0.0
    sales_col = int(limits[9])
    stocked = inv.size > 0
    d = obs.shape[1]
    n_rows = out.shape[0]
    for r in range(b):
        if ended[r]:  # reset: the reset observation and reset info, nothing drawn
            for j in range(n_rows):
                out[j, r] = 0.0
            out[9, r] = inv0 if stocked else np.inf
            kk[r] = 0
            k_info[r] = 0
            if stocked:
                inv[r] = inv0
            for j in range(d):
                obs[r, j] = reset_obs[j]
            flags[0, r] = False
            flags[1, r] = False
            flags[2, r] = True
            continue
        k = kk[r]
        e = k * n + action[r]
        p = grid[action[r]]
        demand = _draw(st, r, consts, e, lg)
        out[0, r] = table[e]
        out[1, r] = demand
        out[11, r] = p
        last = k == horizon - 1
        if stocked:
            stock = inv[r]
            sales = demand if demand < stock else stock
            lost = demand - sales
            stock = stock - sales
            holding = hold_u * stock
            salvage = salv_u * stock if last else 0.0
            replenished = 0.0
            if every > 0 and not last and (k + 1) % every == 0:
                replenished = refill - stock
                if not replenished > 0.0:  # np.maximum(0.0, x)
                    replenished = 0.0 if replenished == replenished else replenished
                stock = stock + replenished
            inv[r] = stock
        else:
            sales = demand
            lost = holding = salvage = replenished = 0.0
            stock = np.inf
        revenue = p * sales
        cost = cost_u * sales
        out[2, r] = sales
        out[3, r] = lost
        out[4, r] = revenue
        out[5, r] = cost
        out[6, r] = holding
        out[7, r] = salvage
        out[8, r] = revenue - cost - holding + salvage if stocked else revenue - cost
        out[9, r] = stock
        out[10, r] = replenished
        k1 = k + 1
        kk[r] = k1
        k_info[r] = k
        term = last or (stockout_ends and stock <= 0.0)
        trunc = False
        if max_steps >= 0:
            trunc = not term and k1 >= max_steps
        if time_limit >= 0 and k1 >= time_limit:
            trunc = True
        flags[0, r] = term
        flags[1, r] = trunc
        flags[2, r] = False
        row = static_obs[k1]
        for j in range(d):
            obs[r, j] = row[j]
        if stocked:
            obs[r, 1] = np.float32(stock / denom)
        obs[r, 2] = np.float32(p * inv_pmax)
        s = sales / sales_scale
        obs[r, sales_col] = np.float32(s if s < sales_cap else sales_cap)
    return -1
