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

:func:`run_sessions` runs S independent sessions (compiled, over processes) and reports,
per session, the outcome Calvano et al. report: from the state at convergence
the sellers play their greedy strategies until a state repeats, and prices and
profits are averaged over that limit cycle; the profit gain
Δ = (π − π^N)/(π^M − π^N) compares the average profit with the Bertrand–Nash
and joint-monopoly profits of the continuous game.

:func:`train_against` trains one seller against rivals that do not learn (rules,
greedy Q-tables, saved policies) with the same algorithm and convergence rule:
compiled when every rival is a deterministic automaton over the states, else in
Python after a measured time estimate (:mod:`._qrivals`).

:class:`QLearningAgent` (kind ``"qlearning"``) is one seller's Q-table as a
:class:`~pricegym.agents.base.PricingAgent`: it plays its greedy strategy in an
``OligopolyEnv`` (or learns online, ε-greedy, when ``explore=True``) and saves
its Q-table to ``.npz``.

Randomness: session i draws its initial state and then, period by period, one
uniform per seller from its own generator, the i-th child of
``numpy.random.SeedSequence(seed)``; so one seed fixes the batch, and a
session's outcome does not depend on how many sessions run beside it, on the
number of worker processes, or on how draws are blocked.

Why hand-written and compiled: the published baseline needs about 2·10^6
sequential periods per session (the slowest of 1,000 sessions ~3·10^6) × 1,000
sessions, and no RL library runs tabular learning over independent sessions.
The loop is compiled with numba (:mod:`._qkernel`), one session at a time; a
numpy version vectorised over sessions was 25–45 library calls per period and
missed the 5-minute goal (747 s). ``n_jobs`` splits the sessions over processes.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pricegym._validate import integer
from pricegym.agents._qrivals import RivalSessionResult, train_against
from pricegym.agents.base import PricingAgent
from pricegym.agents.equilibrium import Market, as_oligopoly
from pricegym.demand.io import read_model_files, write_model_files
from pricegym.envs.capacity_equilibrium import rationed_profits
from pricegym.envs.equilibrium_solvers import logit_profits
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError, ModelFileError

__all__ = [
    "QLearningAgent",
    "QLearningConfig",
    "QLearningResult",
    "RivalSessionResult",
    "exploration_rate",
    "initial_q",
    "profit_table",
    "run_sessions",
    "train_against",
]

#: Largest Q array :func:`run_sessions` allocates unless told otherwise (bytes).
MAX_Q_BYTES = 8 * 2**30
#: Periods per call of the compiled loop by default (progress and Ctrl-C are seen between calls).
_WINDOW_PERIODS = 1 << 20


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

    With ``capacity`` the profit is ``(p_i − c_i)·min(q_i(p), k_i)`` with the
    per-round capacity k_i = capacity_i / horizon: the Q-learner's state holds
    prices only, so :func:`run_sessions` plays the stationary game in which each
    round's stock k_i is renewed every round (the game whose equilibrium the
    capacity benchmarks are); in the env itself unsold stock carries over.
    """
    env = _grid_market(market)
    n, m = env.n_sellers, env.grid.size
    idx = np.indices((m,) * n).reshape(n, -1).T  # (m^n, n), seller 0 most significant
    prices = env.grid[idx]
    if env.capacity is not None and env.horizon is not None:
        profits = rationed_profits(
            prices,
            env.quality,
            env.outside,
            env.mu,
            env.cost,
            env.capacity / env.horizon,
            env.market_size,
        )
    elif env.kernel is None:
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

    #: ``format`` of the files :meth:`save` writes.
    FILE_FORMAT: ClassVar[str] = "pricegym.qlearning-result"
    _ARRAYS: ClassVar[tuple[str, ...]] = (
        "grid",
        "nash_prices",
        "monopoly_prices",
        "nash_profits",
        "monopoly_profits",
        "converged",
        "periods",
        "strategies",
        "final_state",
        "cycle_length",
        "prices",
        "profits",
        "profit_gain",
        "delta",
    )

    def save(self, path: str | Path) -> Path:
        """Write the result to ``path`` (.json: config, seed, seconds) and its ``.npz``
        (every array, the Q-tables if kept) atomically, without pickle; returns the JSON path."""
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        if self.q is not None:
            arrays["q"] = self.q
        document = {"config": asdict(self.config), "seed": self.seed, "seconds": self.seconds}
        return write_model_files(path, document, arrays, fmt=self.FILE_FORMAT)

    @classmethod
    def load(cls, path: str | Path) -> QLearningResult:
        """Read a result written by :meth:`save` (arrays checked against their sha256).

        Raises:
            ModelFileError: not such a file, altered or missing arrays.
        """
        doc, arrays = read_model_files(path, fmt=cls.FILE_FORMAT)
        missing = [name for name in cls._ARRAYS if name not in arrays]
        missing += [key for key in ("config",) if not isinstance(doc.get(key), dict)]
        if missing:
            raise ModelFileError(
                f"{str(path)!r} lacks {missing} (arrays / settings); the file is incomplete — "
                "re-run and save again."
            )
        return cls(
            config=QLearningConfig.from_dict(doc["config"]),
            seed=doc.get("seed"),
            q=arrays.get("q"),
            seconds=float(doc.get("seconds", 0.0)),
            **{name: arrays[name] for name in cls._ARRAYS},
        )

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
        window: periods per call of the compiled loop (responsiveness to
            progress and Ctrl-C only; default 2^20).
        progress: called as ``progress(done, total)`` each time a session
            finishes, with the sessions finished and the total in this worker;
            with ``n_jobs > 1`` it runs in each worker process and must be
            picklable.
        max_q_bytes: refuse to allocate Q-tables larger than this.

    Returns:
        A :class:`QLearningResult`.

    Raises:
        ConfigError: bad sizes, a continuous or sequential market, or Q-tables
            that would exceed ``max_q_bytes``.
    """
    cfg = _config(config)
    env = _grid_market(market)
    s = integer("n_sessions", n_sessions, 1, "e.g. 1000")
    jobs = integer("n_jobs", n_jobs, 1, "e.g. 2 on a two-core machine")
    if window is not None:
        integer("window", window, 1, "or None for the default")
    n, m, k = env.n_sellers, env.grid.size, cfg.memory
    n_states = m ** (n * k)
    q_bytes = (s if keep_q else min(s, jobs)) * n * n_states * m * 8
    if q_bytes > max_q_bytes:
        raise ConfigError(
            f"{s if keep_q else min(s, jobs)} Q-table set(s) × {n} sellers × {n_states} states × "
            f"{m} prices need {q_bytes / 2**30:.1f} GiB, above "
            f"max_q_bytes={max_q_bytes / 2**30:.1f} GiB; run fewer sessions per call with "
            "keep_q=True (results of separate seeds can be pooled), keep_q=False, or use "
            "fewer prices / less memory."
        )
    profits = profit_table(env)
    children = np.random.SeedSequence(seed).spawn(s)
    shards = [part for part in np.array_split(np.arange(s), min(jobs, s)) if part.size]
    start = time.perf_counter()
    from pricegym.agents import _qkernel  # numba: imported only when sessions run

    _qkernel.warm_up()  # compile once here, not in every worker
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
    """Learn the sessions seeded by ``seeds`` (one process' share), one after another.

    Each session runs in the compiled loop :func:`._qkernel.learn_session`, in
    calls of ``window`` periods (so progress and Ctrl-C are seen between calls).
    """
    from pricegym.agents import _qkernel  # numba: imported only when sessions run

    n = profits.ndim - 1
    m = profits.shape[0]
    k = cfg.memory
    n_prof = m**n
    n_states = n_prof**k
    s = len(seeds)
    q0 = initial_q(profits, cfg.delta)  # (n, m)
    q = np.empty((s, n, n_states, m)) if keep_q else np.empty((1, n, n_states, m))
    strategies = np.empty((s, n, n_states), dtype=np.uint8 if m <= 256 else np.uint16)
    greedy = np.empty((n, n_states), dtype=np.int64)
    best = np.empty((n, n_states))
    scaled = np.ascontiguousarray(cfg.alpha * profits.reshape(-1, n).T)  # (n, m^n): α·π
    converged = np.zeros(s, dtype=bool)
    periods = np.zeros(s, dtype=np.int64)
    state = np.zeros(s, dtype=np.intp)
    chunk = window or _WINDOW_PERIODS
    for j, seq in enumerate(seeds):
        gen = np.random.Generator(np.random.PCG64(seq))
        table = q[j if keep_q else 0]
        table[...] = q0[:, None, :]
        _qkernel.row_leaders(table, greedy, best)
        status = np.array([0, gen.integers(n_states), 0], dtype=np.int64)  # t, state, quiet
        while status[0] < cfg.max_periods and status[2] < cfg.convergence_periods:
            _qkernel.learn_session(
                gen,
                table,
                greedy,
                best,
                scaled,
                status,
                1.0 - cfg.alpha,
                cfg.alpha * cfg.delta,
                cfg.beta,
                n_prof,
                n_prof ** (k - 1),
                cfg.convergence_periods,
                min(cfg.max_periods, int(status[0]) + chunk),
            )
        periods[j], state[j] = status[0], status[1]
        converged[j] = status[2] >= cfg.convergence_periods
        strategies[j] = greedy
        if progress is not None:
            progress(j + 1, s)
    return {
        "converged": converged,
        "periods": periods,
        "strategies": strategies,
        "state": state,
        "q": q if keep_q else None,
    }


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

    def policy_memory(self) -> tuple[str, ...] | None:
        """``()`` when greedy (a fixed strategy of the observation), None when it explores."""
        return None if self.explore else ()

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
        info: dict[str, Any] | None = None,
    ) -> None:
        """Calvano's Q update of (state, action) when ``explore``; greedy agents do not learn.

        ``info`` (the protocol's step info) is not needed: the reward is the Q target.
        """
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
