"""Known answers for a catalogue market: joint optimum, exact DP, fluid LP bound.

Everything here solves the dynamics of
:class:`~pricegym.envs.multiproduct.MultiProductEnv` (Poisson demand per product
around the model's mean at the posted price vector, sales capped by each
product's own stock, lost demand on a stock-out, salvage of the leftover at the
season's end), over the env's own price grid unless said otherwise.

- :func:`logit_optimal_prices`: the closed-form joint optimum of a multinomial
  logit with one price sensitivity (unlimited stock, continuous prices). With
  profit ``π(p) = M Σ_j (p_j − c_j) s_j(p)``, ``s_j = e^{q_j − α p_j} / (1 + Σ_k
  e^{q_k − α p_k})``, the first-order conditions are

      ∂π/∂p_j = M s_j [1 − α (p_j − c_j) + α Σ_k (p_k − c_k) s_k] = 0,

  so ``α (p_j − c_j) = 1 + α Σ_k (p_k − c_k) s_k`` is the same for every j: all
  markups are equal, ``m``, and then ``α m = 1 + α m (1 − s_0)``, i.e.
  ``m = 1 / (α s_0)``. Substituting ``s_0 = 1 / (1 + W e^{−α m})`` with ``W = Σ_k
  e^{q_k − α c_k}`` gives ``α m − 1 = W e^{−α m}``, whose root is
  ``α m = 1 + W₀(W / e)`` (W₀ the principal Lambert W; unique because the left side
  rises and the right falls in m). :func:`joint_optimum` finds the optimum of any
  model numerically (scipy), and the tests check one against the other.
- :func:`grid_optimum`: the best price vector of the env's grid for one period,
  by enumeration of all ``Π n_j`` vectors (the exact per-period optimum of the
  action set, unlimited stock).
- :func:`catalogue_dp`: the exact finite-horizon DP over the stock vector for
  small catalogues (value and policy table), the answer with inventory.
- :func:`fluid_lp_bound`: the deterministic (fluid) LP of network revenue
  management, solved with :func:`scipy.optimize.linprog` (HiGHS); an upper
  bound on the expected profit of *every* policy of the env, for catalogues too
  large for the DP. Its proof is in its docstring.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, sparse, special, stats

from pricegym.errors import ConfigError

__all__ = [
    "CatalogueDP",
    "GridOptimum",
    "catalogue_dp",
    "expected_step_profit",
    "fluid_lp_bound",
    "grid_optimum",
    "joint_optimum",
    "logit_optimal_prices",
]

#: Largest number of DP states (Π (stock_j + 1)) × actions accepted (memory ~8 bytes each).
DP_MAX_CELLS = 20_000_000


def logit_optimal_prices(
    quality: Sequence[float],
    alpha: float,
    cost: Sequence[float] | float,
    *,
    rival_quality: Sequence[float] | None = None,
    rival_prices: Sequence[float] | None = None,
) -> tuple[np.ndarray, float]:
    """Profit-maximising prices of a multinomial logit catalogue, and the common markup.

    Returns ``(prices, m)`` with ``prices = cost + m``, ``m = (1 + W₀(W/e)) / α``,
    ``W = Σ_k exp(q_k − α c_k)`` (see the module docstring for the derivation).

    With rival products at fixed prices (``rival_quality`` δ and ``rival_prices`` ρ,
    :mod:`pricegym.envs.catalogue_rivals`) the rivals join the outside option: the
    seller's shares are those of qualities ``q_j − ln(1 + Σ_r exp(δ_r − α ρ_r))``
    without rivals, so that is the logit solved.
    """
    q = np.asarray(quality, dtype=np.float64).reshape(-1)
    if (rival_quality is None) != (rival_prices is None):
        raise ConfigError("give both rival_quality and rival_prices (one per rival), or neither.")
    if rival_quality is not None and rival_prices is not None:
        d = np.asarray(rival_quality, dtype=np.float64).reshape(-1)
        rho = np.asarray(rival_prices, dtype=np.float64).reshape(-1)
        if d.shape != rho.shape:
            raise ConfigError(
                f"rival_quality has {d.size} entries and rival_prices {rho.size}: one each per "
                "rival."
            )
        q = q - np.log1p(np.exp(d - alpha * rho).sum())
    c = np.broadcast_to(np.asarray(cost, dtype=np.float64), q.shape).astype(np.float64)
    if not alpha > 0:
        raise ConfigError(f"alpha={alpha!r}: the logit optimum needs a price sensitivity > 0.")
    w = float(np.exp(q - alpha * c).sum())
    m = (1.0 + float(np.real(special.lambertw(w / np.e)))) / alpha
    return c + m, m


def expected_step_profit(
    demand: Any, prices: np.ndarray, cost: np.ndarray, period: int = 0
) -> np.ndarray:
    """Expected one-period profit (B,) at ``prices`` (B, K), unlimited stock."""
    p = np.atleast_2d(np.asarray(prices, dtype=np.float64))
    return ((p - cost) * demand.mean_units(p, period)).sum(axis=1)


def joint_optimum(
    demand: Any,
    cost: Sequence[float] | float,
    bounds: Sequence[tuple[float, float]],
    *,
    starts: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Continuous joint optimum of the one-period expected profit by L-BFGS-B (scipy).

    Multi-start (``starts`` uniform points in ``bounds`` plus the box centre, drawn
    from ``default_rng(seed)``); returns the best ``(prices (K,), profit)``.
    """
    k = int(demand.n_products)
    c = np.broadcast_to(np.asarray(cost, dtype=np.float64), (k,))
    box = np.asarray(bounds, dtype=np.float64).reshape(k, 2)
    rng = np.random.default_rng(seed)
    x0s = [box.mean(axis=1), *rng.uniform(box[:, 0], box[:, 1], (starts, k))]
    best: tuple[np.ndarray, float] | None = None
    for x0 in x0s:
        res = optimize.minimize(
            lambda x: -float(expected_step_profit(demand, x[None, :], c)[0]),
            x0,
            method="L-BFGS-B",
            bounds=box,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
        if best is None or -res.fun > best[1]:
            best = (np.asarray(res.x, dtype=np.float64), float(-res.fun))
    assert best is not None
    return best


@dataclass(frozen=True)
class GridOptimum:
    """The best grid price vector for one period: ``action`` (K,), ``prices``, ``profit``."""

    action: np.ndarray
    prices: np.ndarray
    profit: float


def _grid_actions(nvec: np.ndarray) -> np.ndarray:
    """Every action of ``MultiDiscrete(nvec)``, (Π n_j, K), product 0 slowest."""
    return np.array(list(itertools.product(*(range(int(n)) for n in nvec))), dtype=np.int64)


def _env_parts(env: Any) -> tuple[Any, Any]:
    """(demand, CatalogueConfig) of a MultiProductEnv (or its vector twin, or a wrapper).

    With fixed-price rivals the demand is the seller's with the rivals folded into the
    outside option (exact: :meth:`~pricegym.envs.catalogue_rivals.CatalogueRivals.folded`).

    Raises:
        ConfigError: rivals that react to the seller (``rule="undercut"``): the
            answers here assume a demand that depends on the period and the prices only.
    """
    base = getattr(env, "unwrapped", env)
    rivals = getattr(base.config, "rivals", None)
    if rivals is None:
        return base.demand, base.config
    if rivals.rule != "fixed":
        raise ConfigError(
            f"the market's rivals follow rule={rivals.rule!r}: their prices react to the "
            "seller's, so the grid optimum, DP and LP bound (which fix the demand by period "
            "and price) do not apply. Fix: rivals with rule='fixed', or evaluate the policy "
            "by simulation."
        )
    return rivals.folded(base.demand), base.config


def grid_optimum(env: Any, period: int = 0) -> GridOptimum:
    """The per-period optimum over the env's grid by enumeration (unlimited stock)."""
    demand, cfg = _env_parts(env)
    acts = _grid_actions(cfg.nvec)
    p = cfg.price_table()[np.arange(cfg.n_products), acts]
    profit = expected_step_profit(demand, p, cfg.cost, period)
    i = int(np.argmax(profit))
    return GridOptimum(acts[i].copy(), p[i].copy(), float(profit[i]))


def _sales_law(mu: np.ndarray, stock: int) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(mu[a]) demand at stocks x = 0 … stock, for every mean ``mu`` (A,).

    Returns ``trans`` (A, stock + 1, stock + 1), ``trans[a, x, y]`` = P(stock after the
    period = y | stock x), and ``sold`` (A, stock + 1) = E[min(D, x)].
    """
    n = stock + 1
    k = np.arange(n)
    pmf = stats.poisson.pmf(k[None, :], np.maximum(mu, 0.0)[:, None])  # (A, n); mu 0: [1, 0…]
    x = k[:, None]
    s = x - k[None, :]  # sales that leave stock y from stock x
    inside = (s >= 0) & (s < x)
    trans = np.where(inside[None], pmf[:, np.clip(s, 0, n - 1)], 0.0)
    # selling the whole stock x: P(D >= x) = 1 − P(D < x) (for x = 0 this is 1)
    below = np.concatenate([np.zeros((len(mu), 1)), np.cumsum(pmf, axis=1)[:, :-1]], axis=1)
    trans[:, k, 0] += 1.0 - below
    sold = (trans * s[None].clip(min=0)).sum(axis=2)
    return trans, sold


@dataclass(frozen=True)
class CatalogueDP:
    """The exact DP of a finite-stock catalogue market.

    Attributes:
        value: (T + 1, *(stock_j + 1)) optimal expected profit-to-go; ``value[k][x]``
            from period k with stock vector x (``value[T]`` = salvage of x).
        policy: (T, *(stock_j + 1), K) the optimal action (grid indices).
        start_value: ``value[0]`` at the starting stock: the optimum of the season.
    """

    value: np.ndarray
    policy: np.ndarray
    start_value: float

    def action(self, period: int, stock: Sequence[float]) -> np.ndarray:
        """The optimal action at ``period`` with ``stock`` (K,) (an env's ``info['inventory']``)."""
        idx = tuple(round(float(s)) for s in stock)
        return self.policy[(int(period), *idx)].copy()


def catalogue_dp(env: Any) -> CatalogueDP:
    """Exact DP over (period, stock vector) for a MultiProductEnv with finite stock.

    ``V_T(x) = Σ_j salvage_j x_j``; ``V_k(x) = max_a Σ_j (p_aj − c_j) E[min(D_j, x_j)]
    + E[V_{k+1}(x − min(D, x))]`` with D_j ~ Poisson(μ_j(p_a, k)) independent across
    products given the prices, so the expectation is a product of one-product
    transition matrices (contracted one axis at a time). A sold-out market earns
    nothing more, which the recursion gives without a special case.

    Raises:
        ConfigError: ``noise="none"``, an unlimited stock, or a problem larger than
            :data:`DP_MAX_CELLS` (use :func:`fluid_lp_bound`).
    """
    demand, cfg = _env_parts(env)
    if cfg.noise != "poisson":
        raise ConfigError("catalogue_dp solves Poisson demand; the market has noise='none'.")
    if not np.isfinite(cfg.inventory).all():
        raise ConfigError(
            "catalogue_dp needs a finite stock for every product; with unlimited stock the "
            "optimum is grid_optimum(env) every period."
        )
    k = cfg.n_products
    stock = cfg.inventory.astype(np.int64)
    shape = tuple(int(s) + 1 for s in stock)
    acts = _grid_actions(cfg.nvec)
    n_states = int(np.prod(shape))
    if n_states * len(acts) > DP_MAX_CELLS:
        raise ConfigError(
            f"catalogue_dp: {n_states} stock states × {len(acts)} price vectors = "
            f"{n_states * len(acts):,} cells > {DP_MAX_CELLS:,}. Fix: smaller stocks or grids, "
            "or fluid_lp_bound(env) for an upper bound."
        )
    prices = cfg.price_table()[np.arange(k), acts]  # (A, K)
    t_steps = cfg.horizon
    value = np.empty((t_steps + 1, *shape))
    grids = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    value[t_steps] = sum(cfg.salvage[j] * grids[j] for j in range(k))
    policy = np.empty((t_steps, *shape, k), dtype=np.int64)
    for t in range(t_steps - 1, -1, -1):
        mu = np.asarray(demand.mean_units(prices, t), dtype=np.float64)  # (A, K)
        ev = np.broadcast_to(value[t + 1], (len(acts), *shape))
        reward = np.zeros((len(acts), *shape))
        for j in range(k):
            trans, sold = _sales_law(mu[:, j], int(stock[j]))
            # contract stock axis j of every action's value with trans[a, x_j, y_j]
            moved = np.moveaxis(ev, j + 1, -1)
            flat = moved.reshape(len(acts), -1, shape[j])  # batched matmul (BLAS)
            out = np.matmul(flat, trans.transpose(0, 2, 1)).reshape(moved.shape)
            ev = np.moveaxis(out, -1, j + 1)
            view = [len(acts)] + [1] * k
            view[j + 1] = shape[j]
            margin = (prices[:, j] - cfg.cost[j])[:, None] * sold
            reward = reward + margin.reshape(view)
        q = reward + ev
        best = np.argmax(q, axis=0)
        value[t] = np.take_along_axis(q, best[None], axis=0)[0]
        policy[t] = acts[best]
    return CatalogueDP(value, policy, float(value[(0, *stock)]))


def fluid_lp_bound(env: Any) -> dict[str, Any]:
    """Deterministic (fluid) LP upper bound on any policy's expected season profit.

    Variables per period k and grid price vector a: ``h[k, a]`` (probability of
    posting a in period k) and ``z[k, a, j]`` (expected "open" mass of product j
    under a: the expected sales of j in those periods divided by μ_j(a, k));
    periods with equal demand are merged into one block (its ``Σ_a h`` ≤ its length).
    Maximise ``Σ_{k,a,j} (p_aj − c_j − salvage_j) μ_j(a, k) z[k, a, j] + Σ_j
    salvage_j x0_j`` subject to ``Σ_a h[k, a] ≤ 1`` per period, ``0 ≤ z[k, a, j] ≤
    h[k, a]``, and ``Σ_{k,a} μ_j(a, k) z[k, a, j] ≤ x0_j`` per product.

    Why it bounds every policy: for any (history-dependent) policy let h[k, a] =
    P(a_k = a) and z[k, a, j] = E[1{a_k = a} min(D_jk, x_jk)] / μ_j(a, k). Then
    z ≤ h (sales ≤ demand, E[D | a] = μ), Σ_{k,a} μ z = E[total sales of j] ≤ x0_j,
    and the policy's expected profit is exactly the LP objective at (h, z)
    (profit = Σ (p − c) · sales + salvage · (x0 − total sales)). So the LP's
    optimum is ≥ it. With unlimited stock it equals ``horizon × grid optimum``.

    Returns a dict: ``bound`` (the LP optimum), ``status`` (HiGHS' message),
    ``sales`` (K,) the fluid plan's expected sales per product, and ``mix`` the
    (first period, periods in the block, action, expected periods) rows of the plan
    with weight > 1e-9.
    """
    demand, cfg = _env_parts(env)
    k = cfg.n_products
    acts = _grid_actions(cfg.nvec)
    n_a = len(acts)
    prices = cfg.price_table()[np.arange(k), acts]
    t_steps = cfg.horizon
    per_period = [np.asarray(demand.mean_units(prices, t), dtype=np.float64)
                  for t in range(t_steps)]  # fmt: skip
    # periods with the same demand are interchangeable in the LP, so they are merged
    # into one block of that many periods (exact, and T times fewer variables for a
    # stationary model)
    blocks: list[np.ndarray] = []
    length: list[int] = []
    for m in per_period:
        if blocks and np.array_equal(m, blocks[-1]):
            length[-1] += 1
        else:
            blocks.append(m)
            length.append(1)
    mu = np.stack(blocks)  # (blocks, A, K)
    t_steps = len(blocks)
    x0 = cfg.inventory
    salv = np.where(np.isfinite(x0), cfg.salvage, 0.0)
    margin = (prices - cfg.cost - salv)[None, :, :] * mu  # (T, A, K)
    n_h = t_steps * n_a
    n_z = t_steps * n_a * k
    c = np.concatenate([np.zeros(n_h), -margin.ravel()])  # linprog minimises
    rows = []
    # Σ_a h[t, a] <= 1
    h_idx = np.arange(n_h).reshape(t_steps, n_a)
    rows.append(
        sparse.csr_matrix(
            (np.ones(n_h), (np.repeat(np.arange(t_steps), n_a), h_idx.ravel())),
            shape=(t_steps, n_h + n_z),
        )
    )
    b = [np.asarray(length, dtype=np.float64)]
    # z[t, a, j] - h[t, a] <= 0
    z_idx = n_h + np.arange(n_z)
    h_of_z = np.repeat(h_idx.ravel(), k)
    r = np.arange(n_z)
    rows.append(
        sparse.csr_matrix(
            (np.r_[np.ones(n_z), -np.ones(n_z)], (np.r_[r, r], np.r_[z_idx, h_of_z])),
            shape=(n_z, n_h + n_z),
        )
    )
    b.append(np.zeros(n_z))
    finite = np.flatnonzero(np.isfinite(x0))
    if finite.size:
        prod_of_z = np.tile(np.arange(k), t_steps * n_a)
        keep = np.isin(prod_of_z, finite)
        row_of = np.searchsorted(finite, prod_of_z[keep])
        rows.append(
            sparse.csr_matrix(
                (mu.ravel()[keep], (row_of, z_idx[keep])), shape=(finite.size, n_h + n_z)
            )
        )
        b.append(x0[finite])
    res = optimize.linprog(
        c,
        A_ub=sparse.vstack(rows).tocsr(),
        b_ub=np.concatenate(b),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"fluid LP did not solve: {res.message}")
    z = res.x[n_h:].reshape(t_steps, n_a, k)
    h = res.x[:n_h].reshape(t_steps, n_a)
    start = np.concatenate([[0], np.cumsum(length)[:-1]])
    mix = [
        (int(start[t]), int(length[t]), acts[a].tolist(), float(h[t, a]))
        for t, a in np.argwhere(h > 1e-9)
    ]
    return {
        "bound": float(-res.fun + (salv[finite] * x0[finite]).sum()),
        "status": str(res.message),
        "sales": (mu * z).sum(axis=(0, 1)),
        "mix": mix,
    }
