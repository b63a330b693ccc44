"""Tabular Q-learning in the repeated oligopoly: Calvano, Calzolari, Denicolò & Pastorello (2020).

Every seller of an :class:`~pricegym.envs.oligopoly.OligopolyEnv` with a grid of
m prices is an independent Q-learner:

- **state**: the last k rounds of all n sellers' price indices. A round's price
  profile (a_0, …, a_{n−1}) has index ``Σ_j a_j·m^(n−1−j)`` (seller 0 most
  significant), and the state is ``Σ_ℓ profile_ℓ·(m^n)^ℓ`` with ℓ = 0 the most
  recent round, so there are m^(n·k) states;
- **exploration**: in period t = 0, 1, 2, … each seller independently plays a
  uniformly random price with probability ε_t = exp(−βt), else its greedy price
  argmax_a Q(s, a) (the first maximiser on ties, as ``numpy.argmax``);
- **learning**: Q(s, a) ← (1 − α)·Q(s, a) + α·(π + δ·max_a' Q(s', a')) for the
  played action, with π the seller's expected profit of the round;
- **initial Q**: the discounted payoff against uniformly random rivals,
  Q_0(s, a_i) = Σ_{a_−i} π_i(a_i, a_−i) / ((1 − δ)·m^(n−1)) in every state;
- **convergence**: a session has converged when no seller's greedy strategy
  (its argmax in every state) has changed for ``convergence_periods``
  consecutive periods; sessions that have not converged by ``max_periods``
  stop there and are flagged. A converged session stops learning.

:func:`run_sessions` runs S independent sessions at once in numpy and reports,
per session, the outcome Calvano et al. report: from the state at convergence
the sellers play their greedy strategies until a state repeats, and prices and
profits are averaged over that limit cycle; the profit gain
Δ = (π − π^N)/(π^M − π^N) compares the average profit with the Bertrand–Nash
and joint-monopoly profits of the continuous game.

:class:`QLearningAgent` (kind ``"qlearning"``) is one seller's Q-table as a
:class:`~pricegym.agents.base.PricingAgent`: it plays its greedy strategy in an
``OligopolyEnv`` (or learns online, ε-greedy, when ``explore=True``) and saves
its Q-table to ``.npz``.

Randomness: session i draws its initial state and then, period by period, one
uniform per seller from its own generator, the i-th child of
``numpy.random.SeedSequence(seed)``; so one seed fixes the batch, and a
session's outcome does not depend on how many sessions run beside it, on the
number of worker processes, or on how draws are blocked.

Why hand-written numpy and not a library: the published baseline needs about
2·10^6 periods per session (the slowest of 1,000 sessions ~3·10^6) × 1,000
sessions, and no RL library vectorises tabular learning over independent
sessions. Every period here is a small, fixed number of numpy calls over all
active sessions; whole Q rows are re-scanned only where the greedy price may
have changed (see :func:`_learn`); ``n_jobs`` splits the sessions over
processes. numba would remove the per-call overhead that now dominates, but it
is not a dependency of this project.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from pricegym.agents.base import PricingAgent
from pricegym.agents.equilibrium import Market, as_oligopoly
from pricegym.envs.oligopoly import OligopolyEnv, logit_profits
from pricegym.errors import ConfigError

__all__ = [
    "QLearningAgent",
    "QLearningConfig",
    "QLearningResult",
    "exploration_rate",
    "initial_q",
    "profit_table",
    "run_sessions",
]

#: Largest Q array :func:`run_sessions` allocates unless told otherwise (bytes).
MAX_Q_BYTES = 8 * 2**30
#: Uniform draws held at once by default (a window of periods × sellers × sessions).
_WINDOW_DRAWS = 2_000_000


# ================================================================ config
@dataclass(frozen=True)
class QLearningConfig:
    """Hyper-parameters of Calvano et al.'s Q-learners (defaults: their baseline).

    Attributes:
        alpha: learning rate α in (0, 1] (baseline 0.15).
        beta: exploration decay β ≥ 0, ε_t = exp(−βt) (baseline 4e-6).
        delta: discount factor δ in [0, 1) (baseline 0.95).
        memory: rounds k ≥ 1 of past prices in the state (baseline 1).
        convergence_periods: a session has converged when no greedy strategy
            changed for this many consecutive periods (baseline 100,000).
        max_periods: the cap; sessions still learning after it stop, unconverged
            (Calvano et al. use 10^9).
    """

    alpha: float = 0.15
    beta: float = 4e-6
    delta: float = 0.95
    memory: int = 1
    convergence_periods: int = 100_000
    max_periods: int = 1_000_000_000

    def __post_init__(self) -> None:
        checks = (
            ("alpha", 0.0 < self.alpha <= 1.0, "a learning rate in (0, 1], e.g. 0.15"),
            ("beta", self.beta >= 0.0, "an exploration decay >= 0, e.g. 4e-6"),
            ("delta", 0.0 <= self.delta < 1.0, "a discount factor in [0, 1), e.g. 0.95"),
        )
        for name, ok, rule in checks:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and ok):
                raise ConfigError(f"{name}={value!r} is invalid; it must be {rule}.")
        for name, minimum in (("memory", 1), ("convergence_periods", 1), ("max_periods", 1)):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < minimum
            ):
                raise ConfigError(
                    f"{name}={value!r} must be an integer >= {minimum} (baseline: "
                    f"{getattr(QLearningConfig, name)})."
                )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QLearningConfig:
        """Build from a mapping of the attribute names (e.g. parsed YAML)."""
        known = list(cls.__dataclass_fields__)
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ConfigError(f"Q-learning config has unknown key(s) {unknown}; use {known}.")
        return cls(**dict(d))


def exploration_rate(t: np.ndarray | int, beta: float) -> np.ndarray:
    """ε_t = exp(−βt), the probability of a random price in period t (t = 0, 1, …)."""
    return np.exp(-beta * np.asarray(t, dtype=np.float64))


# ================================================================ market
def _grid_market(market: Market) -> OligopolyEnv:
    env = as_oligopoly(market)
    if env.action_type != "discrete":
        raise ConfigError(
            "tabular Q-learning needs a price grid, but the market has action='continuous'; "
            "build it with action='discrete' (the default)."
        )
    if env.moves != "simultaneous" or env.shocks is not None:
        raise ConfigError(
            f"Calvano Q-learning is implemented for simultaneous moves without shocks; the "
            f"market has moves={env.moves!r} and shocks={env.shocks!r}. Use the default "
            "moves='simultaneous' and shocks=None."
        )
    return env


def profit_table(market: Market) -> np.ndarray:
    """Every seller's expected profit per round for every price profile on the grid.

    Shape ``(m,)*n + (n,)``: entry ``[a_0, …, a_{n−1}, i]`` is seller i's profit
    ``(p_i − c_i)·q_i(p)`` at prices ``p_j = grid[a_j]``, from the market's own
    demand (the logit, or its demand kernel). Computed once, in one batch.
    """
    env = _grid_market(market)
    n, m = env.n_sellers, env.grid.size
    idx = np.indices((m,) * n).reshape(n, -1).T  # (m^n, n), seller 0 most significant
    prices = env.grid[idx]
    if env.kernel is None:
        profits = logit_profits(prices, env.quality, env.outside, env.mu, env.cost, env.market_size)
    else:
        kernel, b = env.kernel, prices.shape[0]
        units = kernel.expected(prices, kernel.context(b), kernel.initial_state(b))
        profits = (prices - env.cost) * np.asarray(units, dtype=np.float64).reshape(b, n)
    return profits.reshape((m,) * n + (n,))


def initial_q(profits: np.ndarray, delta: float) -> np.ndarray:
    """Calvano's Q_0: the discounted payoff against uniformly random rivals, shape (n, m).

    ``Q_0[i, a] = mean over rivals' prices of profits[..., a (at axis i), ..., i] / (1 − δ)``,
    the same in every state. ``profits`` is a :func:`profit_table`.
    """
    n = profits.ndim - 1
    rows = []
    for i in range(n):
        rivals = tuple(j for j in range(n) if j != i)
        rows.append(profits[..., i].mean(axis=rivals) / (1.0 - delta))
    return np.stack(rows)


# ================================================================ results
@dataclass
class QLearningResult:
    """Outcome of :func:`run_sessions`: one row per session (S sessions, n sellers).

    Attributes:
        config: the hyper-parameters used.
        seed: the batch's seed (session i draws from child i of ``SeedSequence(seed)``).
        grid: the m prices.
        nash_prices, monopoly_prices, nash_profits, monopoly_profits: the
            continuous game's benchmarks, shape (n,).
        converged: (S,) whether the session converged before the cap.
        periods: (S,) periods played (at convergence, or the cap).
        strategies: (S, n, n_states) each seller's greedy price index per state.
        final_state: (S,) the state when the session stopped.
        cycle_length: (S,) length of the limit cycle the greedy strategies reach.
        prices: (S, n) average price per seller over the limit cycle.
        profits: (S, n) average profit per seller over the limit cycle.
        profit_gain: (S, n) Δ per seller, (profit − π^N)/(π^M − π^N).
        delta: (S,) Δ averaged over the sellers (Calvano's per-session statistic).
        q: (S, n, n_states, m) final Q-tables, or None when not kept.
        seconds: wall-clock seconds of the learning loop.
    """

    config: QLearningConfig
    seed: int | None
    grid: np.ndarray
    nash_prices: np.ndarray
    monopoly_prices: np.ndarray
    nash_profits: np.ndarray
    monopoly_profits: np.ndarray
    converged: np.ndarray
    periods: np.ndarray
    strategies: np.ndarray
    final_state: np.ndarray
    cycle_length: np.ndarray
    prices: np.ndarray
    profits: np.ndarray
    profit_gain: np.ndarray
    delta: np.ndarray
    q: np.ndarray | None = None
    seconds: float = field(default=0.0)

    @property
    def n_sessions(self) -> int:
        """Number of sessions S."""
        return int(self.converged.size)

    @property
    def n_sellers(self) -> int:
        """Number of sellers n."""
        return int(self.nash_prices.size)

    def summary(self) -> dict[str, Any]:
        """Averages over the converged sessions (all sessions if none converged), JSON-friendly."""
        sel = self.converged if self.converged.any() else np.ones_like(self.converged)
        return {
            "sessions": self.n_sessions,
            "converged": int(self.converged.sum()),
            "periods_mean": float(self.periods[sel].mean()),
            "periods_median": float(np.median(self.periods[sel])),
            "periods_max": int(self.periods.max()),
            "price_mean": float(self.prices[sel].mean()),
            "profit_mean": float(self.profits[sel].mean()),
            "delta_mean": float(self.delta[sel].mean()),
            "cycle_length_mean": float(self.cycle_length[sel].mean()),
            "nash_price": self.nash_prices.tolist(),
            "monopoly_price": self.monopoly_prices.tolist(),
            "config": asdict(self.config),
            "seed": self.seed,
            "seconds": self.seconds,
        }

    def agent(self, session: int, seller: int, **params: Any) -> QLearningAgent:
        """Seller ``seller`` of session ``session`` as a greedy :class:`QLearningAgent`.

        ``params`` are passed on to the agent (e.g. ``name``, ``explore=True``).

        Raises:
            ConfigError: the Q-tables were not kept (``keep_q=False``) or an index is out of range.
        """
        if self.q is None:
            raise ConfigError(
                "this result holds no Q-tables; run run_sessions(..., keep_q=True) to extract "
                "agents."
            )
        if not (0 <= session < self.n_sessions and 0 <= seller < self.n_sellers):
            raise ConfigError(
                f"session={session}, seller={seller} is out of range; there are "
                f"{self.n_sessions} sessions and {self.n_sellers} sellers."
            )
        agent = QLearningAgent(
            n_prices=int(self.grid.size),
            n_sellers=self.n_sellers,
            memory=self.config.memory,
            seat=seller,
            alpha=self.config.alpha,
            beta=self.config.beta,
            delta=self.config.delta,
            **params,
        )
        agent.q_ = self.q[session, seller].copy()
        agent.t_ = int(self.periods[session])
        return agent


# ============================================================= learning
def run_sessions(
    market: Market = None,
    n_sessions: int = 1000,
    config: QLearningConfig | Mapping[str, Any] | None = None,
    *,
    seed: int | None = None,
    n_jobs: int = 1,
    keep_q: bool = True,
    window: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_q_bytes: int = MAX_Q_BYTES,
) -> QLearningResult:
    """Run ``n_sessions`` independent Q-learning sessions in ``market`` (default: Calvano).

    Args:
        market: an :class:`OligopolyEnv` with a discrete grid and simultaneous
            moves, its keyword arguments, or a multi-seller demand kernel.
        n_sessions: S ≥ 1 independent sessions, learned side by side.
        config: :class:`QLearningConfig` (or a mapping of its fields); default baseline.
        seed: the batch's seed. Session i draws its initial state and all its
            explorations from its own generator, the i-th child of
            ``numpy.random.SeedSequence(seed)`` (numpy's scheme for independent
            parallel streams), so the same seed gives identical results, and a
            session's outcome does not depend on S, ``n_jobs`` or ``window``.
        n_jobs: worker processes; sessions are split into ``n_jobs`` contiguous
            shards, each learned in its own process (``fork`` where available).
        keep_q: keep the final Q-tables in the result (S·n·m^(nk)·m floats).
        window: periods of random numbers drawn at a time per session (speed
            and memory only; default: about 2·10^6 draws per window).
        progress: called as ``progress(period, active_sessions)`` after each
            block of periods; with ``n_jobs > 1`` it runs in each worker process
            (for that worker's sessions) and must be picklable.
        max_q_bytes: refuse to allocate Q-tables larger than this.

    Returns:
        A :class:`QLearningResult`.

    Raises:
        ConfigError: bad sizes, a continuous or sequential market, or Q-tables
            that would exceed ``max_q_bytes``.
    """
    cfg = _config(config)
    env = _grid_market(market)
    s = _count("n_sessions", n_sessions, "e.g. 1000")
    jobs = _count("n_jobs", n_jobs, "e.g. 2 on a two-core machine")
    if window is not None:
        _count("window", window, "or None for the default")
    n, m, k = env.n_sellers, env.grid.size, cfg.memory
    n_states = m ** (n * k)
    q_bytes = s * n * n_states * m * 8
    if q_bytes > max_q_bytes:
        raise ConfigError(
            f"{s} sessions × {n} sellers × {n_states} states × {m} prices need "
            f"{q_bytes / 2**30:.1f} GiB of Q-tables, above max_q_bytes={max_q_bytes / 2**30:.1f} "
            "GiB; run fewer sessions per call (results of separate seeds can be pooled), "
            "or use less memory / fewer prices."
        )

    profits = profit_table(env)
    children = np.random.SeedSequence(seed).spawn(s)
    shards = [part for part in np.array_split(np.arange(s), min(jobs, s)) if part.size]
    start = time.perf_counter()
    if len(shards) == 1:
        outs = [_run_shard(profits, cfg, children, keep_q, window, progress)]
    else:
        context = (
            multiprocessing.get_context("fork")
            if "fork" in multiprocessing.get_all_start_methods()
            else None
        )
        with ProcessPoolExecutor(max_workers=len(shards), mp_context=context) as pool:
            futures = [
                pool.submit(
                    _run_shard, profits, cfg, [children[i] for i in part], keep_q, window, progress
                )
                for part in shards
            ]
            outs = [f.result() for f in futures]
    seconds = time.perf_counter() - start
    out = {
        key: np.concatenate([o[key] for o in outs]) for key in outs[0] if outs[0][key] is not None
    }

    flat_profits = profits.reshape(-1, n)
    length, prices, cycle_profits = _limit_cycles(
        out["strategies"], out["state"], env.grid, flat_profits, m, k
    )
    gain = (cycle_profits - env.nash_profits) / (env.monopoly_profits - env.nash_profits)
    return QLearningResult(
        config=cfg,
        seed=seed,
        grid=env.grid.copy(),
        nash_prices=np.asarray(env.nash_prices, dtype=np.float64).copy(),
        monopoly_prices=np.asarray(env.monopoly_prices, dtype=np.float64).copy(),
        nash_profits=np.asarray(env.nash_profits, dtype=np.float64).copy(),
        monopoly_profits=np.asarray(env.monopoly_profits, dtype=np.float64).copy(),
        converged=out["converged"],
        periods=out["periods"],
        strategies=out["strategies"],
        final_state=out["state"],
        cycle_length=length,
        prices=prices,
        profits=cycle_profits,
        profit_gain=gain,
        delta=gain.mean(axis=1),
        q=out.get("q"),
        seconds=seconds,
    )


def _count(name: str, value: Any, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name}={value!r} must be an integer >= 1; {fix}.")
    return int(value)


def _config(config: QLearningConfig | Mapping[str, Any] | None) -> QLearningConfig:
    if config is None:
        return QLearningConfig()
    if isinstance(config, QLearningConfig):
        return config
    if isinstance(config, Mapping):
        return QLearningConfig.from_dict(config)
    raise ConfigError(
        f"config={type(config).__name__} must be a QLearningConfig, a mapping of its fields, "
        "or None for Calvano's baseline."
    )


def _run_shard(
    profits: np.ndarray,
    cfg: QLearningConfig,
    seeds: list[np.random.SeedSequence],
    keep_q: bool,
    window: int | None,
    progress: Callable[[int, int], None] | None,
) -> dict[str, np.ndarray | None]:
    """Learn the sessions seeded by ``seeds`` (one process' share); arrays keyed by name."""
    n = profits.ndim - 1
    m = profits.shape[0]
    n_states = m ** (n * cfg.memory)
    s = len(seeds)
    gens = [np.random.Generator(np.random.PCG64(ss)) for ss in seeds]
    q0 = initial_q(profits, cfg.delta)  # (n, m)
    q = np.empty((s, n, n_states, m))
    q[...] = q0[None, :, None, :]
    state = np.array([g.integers(n_states) for g in gens], dtype=np.intp)
    scaled = cfg.alpha * profits.reshape(-1, n).T  # (n, m^n): α·π of each price profile
    converged, periods = _learn(q, state, gens, scaled, cfg, window, progress)
    return {
        "converged": converged,
        "periods": periods,
        "strategies": q.argmax(axis=-1).astype(np.uint8 if m <= 256 else np.uint16),
        "state": state,
        "q": q if keep_q else None,
    }


def _row_records(rows: np.ndarray) -> np.ndarray:
    """Records (r, 3) = (V, V2, G) of Q rows (r, m), overwriting ``rows``.

    G is the first maximiser (``numpy.argmax``), V its value, V2 the largest
    value among the other prices.
    """
    r, m = rows.shape
    flat = rows.reshape(-1)
    offsets = np.arange(0, r * m, m)
    lead = rows.argmax(axis=1)
    at = offsets + lead
    best = flat.take(at)
    flat[at] = -np.inf
    return np.stack([best, flat.take(offsets + rows.argmax(axis=1)), lead], axis=1)


#: Columns of the per-row record: max Q (V), runner-up value (V2), greedy price (G), padding.
_V, _V2, _G, _WIDTH = 0, 1, 2, 4
#: Above this exploration rate every updated row is re-scanned (cheaper there, measured).
_FULL_SCAN_EPS = 0.03


def _learn(
    q: np.ndarray,
    state: np.ndarray,
    gens: list[np.random.Generator],
    scaled_profits: np.ndarray,
    cfg: QLearningConfig,
    window: int | None,
    progress: Callable[[int, int], None] | None,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Learn in place until every session converged or the cap; returns (converged, periods).

    ``q`` (S, n, N, m) Q-tables, ``state`` (S,) current states (both updated in
    place), ``gens`` one generator per session, ``scaled_profits`` (n, m^n)
    α·profit of each seller at each price profile; ``start`` is the index of
    the first period (0 for a fresh run).

    Each session's uniforms come from its own generator, period by period in
    order (one per seller), whatever the window; seller i of a session explores
    in period t when its uniform u < ε_t and then plays price ⌊u/ε_t·m⌋
    (uniform on the grid given u < ε_t). The update is evaluated as
    ``((1 − α)·Q + α·π) + α·δ·max Q(s')``. Periods run in blocks that never
    cross a period in which some session could converge, so a session leaves
    the active set exactly when it converges.

    Why it is fast: every period costs a small, fixed number of numpy calls
    over all active sessions, touches each (session, seller) in two random
    places (the next state's record and one Q entry), and scans whole Q rows
    only where the greedy price may change. Each Q row keeps a record of its
    maximum V, the runner-up value V2 (the best of the other prices) and the
    greedy price G (the first maximiser, as ``numpy.argmax``). One entry of the
    row changes per period: when the greedy price was played and its new value
    q' > V2 it stays greedy and V = q'; when q' ≤ V2, or an explored price
    a ≠ G was played, the row is re-scanned. While ε_t > 0.03 so many rows need
    a scan (explorations, and greedy prices that flip while values still fall)
    that scanning every updated row is cheaper (measured); V2 is then filled in
    once, when ε_t drops below 0.03.
    """
    s, n, n_states, m = q.shape
    k = cfg.memory
    n_prof = m**n
    tail = n_prof ** (k - 1)  # states of the k−1 most recent rounds kept on a shift
    qf, qrows = q.reshape(-1), q.reshape(-1, m)
    record = np.zeros((qrows.shape[0], _WIDTH))
    for lo in range(0, qrows.shape[0], 1 << 16):  # in slices: no full-size temporary copy
        part = slice(lo, lo + (1 << 16))
        record[part, :3] = _row_records(qrows[part].copy())
    second_valid = True  # whether V2 is up to date (not kept while ε > _FULL_SCAN_EPS)
    rf = record.reshape(-1)
    keep, ad, beta = 1.0 - cfg.alpha, cfg.alpha * cfg.delta, cfg.beta
    patience, cap = cfg.convergence_periods, cfg.max_periods
    last_change = np.full(s, start - 1, dtype=np.int64)  # last period a greedy price changed
    converged = np.zeros(s, dtype=bool)
    periods = np.zeros(s, dtype=np.int64)
    active = np.arange(s)
    t = start
    while active.size and t < cap:
        # A window of uniforms for every session active now, drawn per session.
        wsess, w0, sw = active.copy(), t, active.size
        length = int(min(window or max(64, _WINDOW_DRAWS // (n * sw)), cap - t))
        draws = np.empty((sw, length, n))
        for pos, i in enumerate(wsess):
            gens[i].random(out=draws[pos])
        u = draws.transpose(1, 2, 0)  # (length, n, sw) view
        eps = exploration_rate(t + np.arange(length), beta)
        hit = np.flatnonzero(u < eps[:, None, None])  # C order of u: by period first
        hit_t = hit // (n * sw)
        hit_seller = (hit // sw) % n
        hit_pos = hit % sw
        u_hit = draws[hit_pos, hit_t, hit_seller]
        hit_a = np.minimum(u_hit * (m / eps[hit_t]), m - 1).astype(np.intp)
        del draws, u, hit, u_hit
        while active.size and t < w0 + length:
            sa = active.size
            horizon = int((last_change[active] + patience).min()) - t + 1  # ≥ 1
            block = min(w0 + length - t, horizon)
            where = np.full(sw, -1)
            where[np.searchsorted(wsess, active)] = np.arange(sa)
            lo, hi = np.searchsorted(hit_t, [t - w0, t - w0 + block])
            pos = where[hit_pos[lo:hi]]
            mine = pos >= 0
            b_t = hit_t[lo:hi][mine] - (t - w0)
            b_cell = hit_seller[lo:hi][mine] * sa + pos[mine]  # cell = seller·sa + session
            b_a = hit_a[lo:hi][mine]
            bounds = np.searchsorted(b_t, np.arange(block + 1))
            owner = np.tile(active, n)  # session of each cell

            base = (active[None, :] * n + np.arange(n)[:, None]) * n_states  # (n, sa)
            st = state[active]
            row = base + st
            row_m = row * m
            full = math.exp(-beta * t) > _FULL_SCAN_EPS
            if not full and not second_valid:  # entering incremental mode: fill in V2
                for lo in range(0, qrows.shape[0], 1 << 16):
                    part = slice(lo, lo + (1 << 16))
                    record[part, :3] = _row_records(qrows[part].copy())
                second_valid = True
            if full:
                # Early, while most sellers explore: re-scan every updated row (argmax
                # and max only; V2 is not kept up to date in this mode).
                second_valid = False
                slots = np.arange(0, n * sa * m, m).reshape(n, sa)
                for j in range(block):
                    g = rf.take(row * _WIDTH + _G).astype(np.intp)
                    lo, hi = bounds[j], bounds[j + 1]
                    a = g.copy()
                    a.put(b_cell[lo:hi], b_a[lo:hi])
                    profile = a[0] * m
                    for i in range(1, n):
                        profile += a[i]
                        if i < n - 1:
                            profile *= m
                    st = profile if k == 1 else (st % tail) * n_prof + profile
                    nxt = base + st
                    qi = row_m + a
                    old = qf.take(qi)
                    target = old * keep  # Q ← (1 − α)·Q + α·π + α·δ·max Q(s')
                    target += scaled_profits.take(profile, axis=1)
                    target += rf.take(nxt * _WIDTH) * ad
                    qf[qi] = target
                    rows = qrows.take(row, axis=0)  # (n, sa, m)
                    lead = rows.argmax(axis=2)
                    row4 = row * _WIDTH
                    rf[row4] = rows.reshape(-1).take(slots + lead)
                    rf[row4 + _G] = lead
                    moved = np.flatnonzero(lead != g)
                    if moved.size:
                        last_change[owner.take(moved)] = t + j
                    row = nxt
                    row_m = nxt * m
            else:
                for j in range(block):
                    here = record.take(row, axis=0)  # (n, sa, 4): V, V2, G of the current rows
                    g = here[..., _G].astype(np.intp)
                    lo, hi = bounds[j], bounds[j + 1]
                    if hi > lo:  # some sellers explore
                        a = g.copy()
                        a.put(b_cell[lo:hi], b_a[lo:hi])
                    else:
                        a = g
                    profile = a[0] * m
                    for i in range(1, n):
                        profile += a[i]
                        if i < n - 1:
                            profile *= m
                    st = profile if k == 1 else (st % tail) * n_prof + profile
                    nxt = base + st
                    ahead = record.take(nxt, axis=0)  # the next rows' records: V = max Q(s')
                    qi = row_m + a
                    old = qf.take(qi)
                    target = old * keep  # Q ← (1 − α)·Q + α·π + α·δ·max Q(s')
                    target += scaled_profits.take(profile, axis=1)
                    target += ahead[..., _V] * ad
                    qf[qi] = target
                    rf[row * _WIDTH] = target  # V = q' where the greedy price stays greedy
                    # Re-scan where the greedy price fell to or below the runner-up (so the
                    # first maximum may move), or a price other than the greedy one was played.
                    scan = target <= here[..., _V2]
                    if hi > lo:
                        scan |= a != g
                    scan = np.flatnonzero(scan)
                    if scan.size:
                        rows = row.reshape(-1).take(scan)
                        fresh = _row_records(qrows.take(rows, axis=0))
                        record[rows, :3] = fresh
                        moved = scan[fresh[:, _G] != g.reshape(-1).take(scan)]
                        if moved.size:
                            last_change[owner.take(moved)] = t + j
                    row = nxt
                    row_m = nxt * m
            state[active] = st
            t += block
            done = (t - 1 - last_change[active]) >= patience
            converged[active[done]] = True
            periods[active[done]] = t
            active = active[~done]
            if progress is not None:
                progress(t, int(active.size))
    periods[active] = t
    return converged, periods


def _limit_cycles(
    strategies: np.ndarray,
    state: np.ndarray,
    grid: np.ndarray,
    flat_profits: np.ndarray,
    m: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cycle length, mean prices, mean profits) of greedy play from each session's state.

    From ``state`` every seller plays its greedy price until a state repeats;
    the states from the first visit of the repeated state on form the cycle, and
    prices and profits are averaged over the price profiles played in it.
    """
    s, n, _ = strategies.shape
    n_prof = m**n
    tail = n_prof ** (k - 1)
    weights = m ** np.arange(n - 1, -1, -1)
    length = np.zeros(s, dtype=np.int64)
    prices = np.zeros((s, n))
    profits = np.zeros((s, n))
    for i in range(s):
        table = strategies[i]
        st = int(state[i])
        seen: dict[int, int] = {}
        visited: list[int] = []
        while st not in seen:
            seen[st] = len(visited)
            visited.append(st)
            profile = int(np.dot(weights, table[:, st]))
            st = (st % tail) * n_prof + profile
        cycle = visited[seen[st] :]
        profiles = np.asarray(cycle) % n_prof  # the profile that led into each cycle state
        digits = (profiles[:, None] // weights) % m
        length[i] = len(cycle)
        prices[i] = grid[digits].mean(axis=0)
        profits[i] = flat_profits[profiles].mean(axis=0)
    return length, prices, profits


# ================================================================= agent
class QLearningAgent(PricingAgent):
    """One seller's Q-table in an :class:`OligopolyEnv`: greedy play, optional online learning.

    Rule: in state s (the last ``memory`` rounds of all prices, decoded from the
    observation) play argmax_a Q(s, a); with ``explore=True`` play a uniformly
    random price with probability exp(−β·t) instead and learn from every
    :meth:`update` with Calvano's rule Q(s,a) ← (1−α)Q(s,a) + α(π + δ·max Q(s')),
    t counting updates.

    The observation is the seller's own view from an ``OligopolyEnv`` with
    discrete prices and simultaneous moves: own price first, then rivals in
    seat order, each coded as index/(m − 1), most recent round first; ``seat``
    says which seller this agent is, so its table uses the same global state
    index as :func:`run_sessions` (see the module docstring).

    Parameters: ``n_prices`` (m), ``n_sellers`` (n), ``memory`` (k), ``seat``,
    ``alpha``, ``beta``, ``delta``, ``explore``, ``name``. Learned state:
    ``q_`` (m^(nk), m) and ``t_`` (updates so far), saved to ``.npz``/``.json``.
    Get a trained agent from :meth:`QLearningResult.agent`, or a fresh one at
    Calvano's Q_0 from :meth:`from_market`. It reads prices straight from the
    coded observation, so it does not need :meth:`bind`.
    """

    kind: ClassVar[str] = "qlearning"
    learns: ClassVar[bool] = True

    def __init__(
        self,
        n_prices: int = 15,
        n_sellers: int = 2,
        memory: int = 1,
        seat: int = 0,
        alpha: float = 0.15,
        beta: float = 4e-6,
        delta: float = 0.95,
        explore: bool = False,
        name: str | None = None,
    ) -> None:
        for key, value, minimum in (
            ("n_prices", n_prices, 2),
            ("n_sellers", n_sellers, 2),
            ("memory", memory, 1),
            ("seat", seat, 0),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < minimum
            ):
                raise ConfigError(f"{key}={value!r} must be an integer >= {minimum}.")
        if seat >= n_sellers:
            raise ConfigError(f"seat={seat} must be below n_sellers={n_sellers} (seats 0 … n−1).")
        QLearningConfig(alpha=alpha, beta=beta, delta=delta, memory=memory)  # validates
        self.n_prices, self.n_sellers, self.memory, self.seat = n_prices, n_sellers, memory, seat
        self.alpha, self.beta, self.delta = alpha, beta, delta
        self.explore = bool(explore)
        self.name = name
        m, n = n_prices, n_sellers
        self._order = np.array([seat, *[j for j in range(n) if j != seat]])  # obs pos → seat
        self._weights = np.zeros(memory * n, dtype=np.int64)  # obs entry → state digit weight
        for lag in range(memory):
            for pos, seller in enumerate(self._order):
                self._weights[lag * n + pos] = (m**n) ** lag * m ** (n - 1 - seller)
        self.q_: np.ndarray | None = None
        self.t_ = 0
        self.rng = np.random.default_rng(0)  # reset(seed) re-seeds it

    @classmethod
    def from_market(cls, market: Market = None, seat: int = 0, **params: Any) -> QLearningAgent:
        """A fresh agent for ``market`` at Calvano's Q_0 (discounted payoff vs uniform rivals)."""
        env = _grid_market(market)
        agent = cls(n_prices=int(env.grid.size), n_sellers=env.n_sellers, seat=seat, **params)
        q0 = initial_q(profit_table(env), agent.delta)[seat]
        agent.q_ = np.tile(q0, (agent.n_states, 1))
        return agent

    @property
    def n_states(self) -> int:
        """m^(n·k) states."""
        return self.n_prices ** (self.n_sellers * self.memory)

    @property
    def strategy(self) -> np.ndarray:
        """The greedy price index in every state, shape (n_states,)."""
        return self._table().argmax(axis=1)

    def _table(self) -> np.ndarray:
        if self.q_ is None:
            raise ConfigError(
                f"agent {self.name!r} has no Q-table; get one from QLearningResult.agent(...), "
                "QLearningAgent.from_market(env), or QLearningAgent.load(path)."
            )
        return self.q_

    def state_index(self, observation: np.ndarray) -> int:
        """The global state index of an ``OligopolyEnv`` observation from this seller's seat."""
        obs = np.asarray(observation, dtype=np.float64).reshape(-1)
        size = self.memory * self.n_sellers
        if obs.size < size:
            raise ConfigError(
                f"observation has {obs.size} entries, but memory={self.memory} × "
                f"n_sellers={self.n_sellers} = {size} prices are needed; use the agent in a "
                "market with the same number of sellers and memory."
            )
        idx = np.rint(obs[:size] * (self.n_prices - 1)).astype(np.int64)
        if np.any(idx < 0) or np.any(idx >= self.n_prices):
            raise ConfigError(
                f"observation {obs[:size].tolist()} does not code prices of a "
                f"{self.n_prices}-price grid (entries must lie in [0, 1])."
            )
        return int(idx @ self._weights)

    def act(self, observation: np.ndarray) -> int:
        """The greedy price index (ε-greedy with ε = exp(−β·t) when ``explore``)."""
        table = self._table()
        if self.explore and self.rng.random() < math.exp(-self.beta * self.t_):
            return int(self.rng.integers(self.n_prices))
        return int(table[self.state_index(observation)].argmax())

    def update(
        self,
        observation: np.ndarray,
        action: Any,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
    ) -> None:
        """Calvano's Q update of (state, action) when ``explore``; greedy agents do not learn."""
        if not self.explore:
            return None
        table = self._table()
        s, s2, a = self.state_index(observation), self.state_index(next_observation), int(action)
        future = 0.0 if terminated else self.delta * float(table[s2].max())
        table[s, a] += self.alpha * (float(reward) + future - table[s, a])
        self.t_ += 1
        return None

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {} if self.q_ is None else {"q": self.q_}
        return {"t": int(self.t_)}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.t_ = int(state.get("t", 0))
        if "q" in arrays:
            q = np.asarray(arrays["q"], dtype=np.float64)
            if q.shape != (self.n_states, self.n_prices):
                raise ConfigError(
                    f"the saved Q-table has shape {q.shape}, but the agent's parameters need "
                    f"({self.n_states}, {self.n_prices}); the file is inconsistent."
                )
            self.q_ = q.copy()
