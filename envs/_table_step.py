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

__all__ = ["N_ROWS", "ROWS", "table_poisson_step"]

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
