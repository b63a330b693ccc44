"""Q-learning under sequential (alternating) pricing: Klein (2021), in the Maskin–Tirole duopoly.

Klein, T. (2021), "Autonomous algorithmic collusion: Q-learning under sequential
pricing", RAND Journal of Economics 52(3): 538-558. Two firms set prices in turn
(Maskin & Tirole 1988): in period t firm t mod 2 chooses a price and its rival's
price stays where it was; both earn a profit every period. Each firm is an
independent Q-learner whose state is the rival's current price:

- **market** (:func:`maskin_tirole_profits`): homogeneous goods, market demand
  D(p) = 1 − p, zero cost, the lower price takes the market and a tie splits it;
  prices on the grid {0, 1/k, …, 1} (m = k + 1 prices). Any two-seller discrete
  :class:`~pricegym.envs.oligopoly.OligopolyEnv` can be used instead
  (:func:`market_profits`), e.g. the linear market of
  :mod:`pricegym.demand.linear_oligopoly`;
- **learning**: when firm i moves in period t ≥ 2 it first updates the entry of
  its previous move (period t − 2: own price a, state s = the rival's price then)
  with the two periods that price earned and the state it now faces,
  ``Q_i(s, a) ← (1 − α)·Q_i(s, a) + α·(π_i(a, s) + δ·π_i(a, p_j) + δ²·max_b Q_i(p_j, b))``,
  p_j the rival's price set in period t − 1; Q starts at 0;
- **exploration**: it then plays a uniformly random price with probability
  ε_t = (1 − θ)^t = exp(−βt), else argmax_b Q_i(p_j, b) (the first maximiser on
  ties, as ``numpy.argmax``). θ is set so that ε_T = ``final_epsilon`` at the last
  period T (ε = 10⁻³ halfway for the defaults);
- **defaults** (:class:`SequentialQConfig`): α = 0.3, δ = 0.95, T = 500,000
  periods, ε_T = 10⁻⁶. These are the paper's baseline as we know it (a public
  third-party replication uses the same numbers); there is no convergence rule,
  a session runs its T periods.

Outcome of a session (:func:`run_sequential_sessions`): from the state after the
last period the firms play their greedy strategies (no exploration) until a
(mover, rival price) pair repeats; the moves of that limit cycle are classified
by :func:`classify_cycle`: a **fixed point** (the price pair never changes), an
**Edgeworth cycle** (every move undercuts or matches the rival except one reset
above it per cycle), or **another cycle**. Profits and prices are averaged over
the limit cycle; the collusion index Δ = (π − π^N)/(π^M − π^N) compares a
firm's average profit with the competitive and the joint-monopoly profit per
firm (for the Maskin–Tirole market π^N = 0, Bertrand at zero cost, and
π^M = 1/8, so Δ is Klein's profitability π/π^M).

Randomness: session i draws from its own generator, the i-th child of
``numpy.random.SeedSequence(seed)``: first one uniform u for firm 1's price in
period 0 (⌊u·m⌋; firm 0's opening price is never used, it moves first), then
one uniform per period (the mover's, whether or not it explores). So one seed
fixes the batch, and a session does not depend on how many run beside it.

The loop is compiled with numba (:mod:`._seqkernel`); :func:`play_in_env` is the
same algorithm stepping an ``OligopolyEnv(moves="sequential")`` in Python, the
oracle the kernel is tested against.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pricegym.envs.equilibrium_solvers import logit_profits
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError

__all__ = [
    "OUTCOMES",
    "SequentialQConfig",
    "SequentialQResult",
    "classify_cycle",
    "cycle_prices",
    "limit_cycle",
    "market_profits",
    "maskin_tirole_profits",
    "play_in_env",
    "run_sequential_sessions",
    "wilson_interval",
]

#: Outcome codes of :attr:`SequentialQResult.outcome`, in order.
OUTCOMES = ("fixed_point", "edgeworth", "other_cycle")


# ================================================================ config
@dataclass(frozen=True)
class SequentialQConfig:
    """Hyper-parameters of Klein's sequential Q-learners (defaults: his baseline as we know it).

    Attributes:
        alpha: learning rate α in (0, 1] (0.3).
        delta: discount factor δ in [0, 1) (0.95).
        periods: periods T per session, both firms' moves counted (500,000).
        final_epsilon: exploration probability ε_T in (0, 1] at the last period (1e-6);
            ε_t = exp(−βt) with β = −ln(ε_T)/T.
    """

    alpha: float = 0.3
    delta: float = 0.95
    periods: int = 500_000
    final_epsilon: float = 1e-6

    def __post_init__(self) -> None:
        checks = (
            ("alpha", 0.0 < self.alpha <= 1.0, "a learning rate in (0, 1], e.g. 0.3"),
            ("delta", 0.0 <= self.delta < 1.0, "a discount factor in [0, 1), e.g. 0.95"),
            ("final_epsilon", 0.0 < self.final_epsilon <= 1.0, "in (0, 1], e.g. 1e-6"),
        )
        for name, ok, rule in checks:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and ok):
                raise ConfigError(f"{name}={value!r} is invalid; it must be {rule}.")
        p = self.periods
        if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 3:
            raise ConfigError(
                f"periods={p!r} must be an integer >= 3 (two opening moves and one update); "
                "Klein's baseline is 500000."
            )

    @property
    def beta(self) -> float:
        """β = −ln(ε_T)/T, so that ε_t = exp(−βt) = (1 − θ)^t."""
        return -math.log(self.final_epsilon) / self.periods


# ================================================================ markets
def maskin_tirole_profits(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Klein's market on the grid {0, 1/k, …, 1}: (grid (m,), profits (2, m, m)), m = k + 1.

    ``profits[i, a, b]`` is a firm's profit at price ``grid[a]`` against a rival at
    ``grid[b]``: p·(1 − p) when a < b, half of it when a = b, 0 when a > b (the
    same for both firms). Ties are decided on the indices, so they are exact.

    Raises:
        ConfigError: k is not an integer >= 2.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ConfigError(
            f"k={k!r} must be an integer >= 2 (the grid {{0, 1/k, ..., 1}} has k + 1 prices); "
            "Klein's coarse grid is k=6."
        )
    grid = np.arange(k + 1) / k
    idx = np.arange(k + 1)
    share = np.where(idx[:, None] < idx, 1.0, np.where(idx[:, None] == idx, 0.5, 0.0))
    one = (grid * (1.0 - grid))[:, None] * share
    return grid, np.stack([one, one])


def market_profits(env: OligopolyEnv) -> tuple[np.ndarray, np.ndarray]:
    """(grid (m,), profits (2, m, m)) of a two-seller discrete :class:`OligopolyEnv`.

    ``profits[i, a, b]`` is seller i's expected profit per round at own price
    ``grid[a]`` against the rival at ``grid[b]``, from the env's own demand (the
    logit, or its kernel), computed in one batch.

    Raises:
        ConfigError: not two sellers, continuous actions, or Markov shocks.
    """
    if not isinstance(env, OligopolyEnv):
        raise ConfigError(
            f"market={type(env).__name__} must be an OligopolyEnv (two sellers, discrete "
            "prices), or use maskin_tirole_profits(k) for Klein's market."
        )
    if env.n_sellers != 2 or env.action_type != "discrete" or env.shocks is not None:
        raise ConfigError(
            f"sequential Q-learning needs a duopoly on a price grid without shocks; the market "
            f"has n_sellers={env.n_sellers}, action={env.action_type!r}, shocks={env.shocks!r}. "
            "Use OligopolyEnv(n_sellers=2, action='discrete', shocks=None)."
        )
    m = env.grid.size
    a, b = np.indices((m, m)).reshape(2, -1)
    prices = env.grid[np.stack([a, b], axis=1)]  # (m², 2): seller 0 at a, seller 1 at b
    if env.kernel is None:
        pi = logit_profits(prices, env.quality, env.outside, env.mu, env.cost, env.market_size)
    else:
        kernel, n = env.kernel, prices.shape[0]
        units = kernel.expected(prices, kernel.context(n), kernel.initial_state(n))
        pi = (prices - env.cost) * np.asarray(units, dtype=np.float64).reshape(n, 2)
    pi = pi.reshape(m, m, 2)  # [a_0, a_1, seller]
    return env.grid.copy(), np.stack([pi[:, :, 0], pi[:, :, 1].T])


def _check_profits(profits: Any) -> np.ndarray:
    table = np.asarray(profits, dtype=np.float64)
    if table.ndim != 3 or table.shape[0] != 2 or table.shape[1] != table.shape[2]:
        raise ConfigError(
            f"profits has shape {table.shape}; it must be (2, m, m), profits[i, own, rival] "
            "(see maskin_tirole_profits or market_profits)."
        )
    if table.shape[1] < 2 or not np.all(np.isfinite(table)):
        raise ConfigError(
            f"profits (shape {table.shape}) must hold finite numbers for at least 2 prices."
        )
    return np.ascontiguousarray(table)


# ================================================================ outcomes
def limit_cycle(greedy: np.ndarray, mover: int, rival: int) -> tuple[np.ndarray, int]:
    """The moves of the limit cycle greedy play reaches: (prices (L,), first mover).

    ``greedy[i, s]`` is firm i's price index when the rival's price is s. Play
    starts with firm ``mover`` facing price index ``rival``; moves alternate until
    a (mover, rival price) pair repeats. Returns the price each move sets over one
    cycle (L even, ≥ 2) and which firm makes the cycle's first move.
    """
    g = np.asarray(greedy)
    seen: dict[tuple[int, int], int] = {}
    moves: list[int] = []
    i, x = int(mover), int(rival)
    while (i, x) not in seen:
        seen[(i, x)] = len(moves)
        y = int(g[i, x])
        moves.append(y)
        i, x = 1 - i, y
    start = seen[(i, x)]
    return np.asarray(moves[start:], dtype=np.int64), i


def classify_cycle(moves: Any) -> str:
    """``"fixed_point"``, ``"edgeworth"`` or ``"other_cycle"`` for the moves of one cycle.

    ``moves`` lists, in order, the price each alternating move sets over one (or
    several) periods of a cycle; move t faces the price of move t − 1 (cyclically).
    With P the shortest period of the sequence:

    - P ≤ 2: the price pair never changes — a **fixed point** (symmetric when P = 1);
    - exactly one move per period prices above the rival it faces and every other
      move undercuts or matches it — an **Edgeworth cycle** (a price war, then a reset);
    - otherwise **another cycle**.

    Raises:
        ConfigError: ``moves`` is empty or not a 1-D sequence of integers.
    """
    y = np.asarray(moves)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(
            f"moves={moves!r} must be a non-empty 1-D sequence of price indices (the prices "
            "the alternating moves set over one cycle)."
        )
    n = y.size
    period = next(p for p in range(1, n + 1) if n % p == 0 and np.array_equal(np.roll(y, p), y))
    if period <= 2:
        return "fixed_point"
    one = y[:period]
    rises = int(np.sum(one > np.roll(one, 1)))
    return "edgeworth" if rises == 1 else "other_cycle"


def cycle_prices(moves: np.ndarray, first: int) -> np.ndarray:
    """Each firm's price index in each period of a cycle, shape (L, 2).

    Move t is made by firm ``(first + t) mod 2``, which sets ``moves[t]``; the
    other firm still charges the price of move t − 1 (cyclically).
    """
    y = np.asarray(moves, dtype=np.int64)
    mover = (int(first) + np.arange(y.size)) % 2
    return np.where(mover[:, None] == np.arange(2), y[:, None], np.roll(y, 1)[:, None])


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share (``scipy.stats.binomtest``); (nan, nan) when n = 0."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


# ================================================================ results
@dataclass
class SequentialQResult:
    """Outcome of :func:`run_sequential_sessions`: one row per session (S sessions).

    Attributes:
        config: the hyper-parameters used.
        seed: the batch's seed (session i draws from child i of ``SeedSequence(seed)``).
        grid: the m prices.
        nash_profit, monopoly_profit: the competitive and joint-monopoly profit per
            firm the collusion index is measured against.
        outcome: (S,) index into :data:`OUTCOMES` of the limit cycle's class.
        cycle_length: (S,) periods of the limit cycle (1 for a fixed point).
        cycles: the limit cycle's moves per session (price indices).
        first_mover: (S,) the firm that makes each cycle's first move.
        prices: (S, 2) average price per firm over the limit cycle.
        profits: (S, 2) average profit per firm over the limit cycle.
        delta: (S,) collusion index of the two firms' mean profit.
        strategies: (S, 2, m) greedy price index per state at the end.
        last_change: (S, 2) last period in which a firm's greedy price changed (−1: never).
        seconds: wall-clock seconds of the learning loop.
    """

    config: SequentialQConfig
    seed: int | None
    grid: np.ndarray
    nash_profit: float
    monopoly_profit: float
    outcome: np.ndarray
    cycle_length: np.ndarray
    cycles: list[np.ndarray]
    first_mover: np.ndarray
    prices: np.ndarray
    profits: np.ndarray
    delta: np.ndarray
    strategies: np.ndarray
    last_change: np.ndarray
    seconds: float = 0.0

    @property
    def n_sessions(self) -> int:
        """Number of sessions S."""
        return int(self.outcome.size)

    def share(self, kind: str) -> tuple[int, float, tuple[float, float]]:
        """(count, share, Wilson 95% interval) of sessions whose outcome is ``kind``."""
        if kind not in OUTCOMES:
            raise ConfigError(f"kind={kind!r} must be one of {OUTCOMES}.")
        count = int(np.sum(self.outcome == OUTCOMES.index(kind)))
        return count, count / self.n_sessions, wilson_interval(count, self.n_sessions)

    def summary(self) -> dict[str, Any]:
        """Shares of each outcome (Wilson CIs), Δ overall and by outcome, JSON-friendly."""
        out: dict[str, Any] = {
            "sessions": self.n_sessions,
            "n_prices": int(self.grid.size),
            "config": asdict(self.config),
            "seed": self.seed,
            "seconds": self.seconds,
            "nash_profit": self.nash_profit,
            "monopoly_profit": self.monopoly_profit,
            "delta_mean": float(self.delta.mean()),
            "price_mean": float(self.prices.mean()),
        }
        for code, kind in enumerate(OUTCOMES):
            count, share, (lo, hi) = self.share(kind)
            sel = self.outcome == code
            out[kind] = {
                "count": count,
                "share": share,
                "share_ci95": [lo, hi],
                "delta_mean": float(self.delta[sel].mean()) if count else None,
                "cycle_length_mean": float(self.cycle_length[sel].mean()) if count else None,
            }
        stable = self.last_change.max(axis=1) < 0.9 * self.config.periods
        out["stable_last_10pct_share"] = float(stable.mean())
        return out


# ================================================================ sessions
def _learn_one(
    table: np.ndarray, cfg: SequentialQConfig, child: np.random.SeedSequence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One compiled session: (Q (2, m, m), prices after the last period (2,), last change (2,))."""
    from pricegym.agents import _seqkernel  # numba: only when sessions run

    m = table.shape[1]
    gen = np.random.default_rng(child)
    q = np.zeros((2, m, m))
    prices = np.zeros(2, dtype=np.int64)
    prices[1] = min(int(gen.random() * m), m - 1)
    states = np.zeros(2, dtype=np.int64)
    changed = np.full(2, -1, dtype=np.int64)
    _seqkernel.learn_sequential(
        gen, q, table, prices, states, changed, cfg.alpha, cfg.delta, cfg.beta, cfg.periods
    )
    return q, prices, changed


def run_sequential_sessions(
    profits: Any,
    config: SequentialQConfig | None = None,
    n_sessions: int = 1000,
    seed: int | None = 0,
    *,
    grid: Any = None,
    nash_profit: float = 0.0,
    monopoly_profit: float | None = None,
) -> SequentialQResult:
    """Run ``n_sessions`` independent sessions of Klein's algorithm on a profit table.

    Args:
        profits: (2, m, m) ``profits[i, own, rival]`` (:func:`maskin_tirole_profits`,
            :func:`market_profits`).
        config: :class:`SequentialQConfig` (default: Klein's baseline).
        n_sessions: S ≥ 1.
        seed: seed of the batch's ``SeedSequence``.
        grid: the m prices (default: indices 0 … m − 1), used for average prices.
        nash_profit, monopoly_profit: per-firm benchmarks of Δ; the monopoly
            default is the grid's best symmetric joint profit per firm,
            max_a (π_0(a, a) + π_1(a, a))/2.

    Raises:
        ConfigError: a bad table, count, grid or benchmark.
    """
    table = _check_profits(profits)
    cfg = config if config is not None else SequentialQConfig()
    if not isinstance(cfg, SequentialQConfig):
        raise ConfigError(f"config={cfg!r} must be a SequentialQConfig.")
    if (
        isinstance(n_sessions, bool)
        or not isinstance(n_sessions, int | np.integer)
        or n_sessions < 1
    ):
        raise ConfigError(f"n_sessions={n_sessions!r} must be an integer >= 1, e.g. 1000.")
    m = table.shape[1]
    prices_grid = np.arange(m, dtype=np.float64) if grid is None else np.asarray(grid, float)
    if prices_grid.shape != (m,):
        raise ConfigError(f"grid has shape {prices_grid.shape}; the profit table has {m} prices.")
    if monopoly_profit is None:
        diag = np.arange(m)
        monopoly_profit = float(((table[0, diag, diag] + table[1, diag, diag]) / 2).max())
    if not monopoly_profit > nash_profit:
        raise ConfigError(
            f"monopoly_profit={monopoly_profit!r} must exceed nash_profit={nash_profit!r} "
            "(Δ divides by their difference)."
        )
    children = np.random.SeedSequence(seed).spawn(int(n_sessions))
    outcome = np.empty(n_sessions, dtype=np.int64)
    cycle_length = np.empty(n_sessions, dtype=np.int64)
    avg_price = np.empty((n_sessions, 2))
    avg_pi = np.empty((n_sessions, 2))
    strategies = np.empty((n_sessions, 2, m), dtype=np.int64)
    last_change = np.empty((n_sessions, 2), dtype=np.int64)
    cycles: list[np.ndarray] = []
    first_mover = np.empty(n_sessions, dtype=np.int64)
    seconds = 0.0
    for s, child in enumerate(children):
        t0 = time.perf_counter()
        q, prices, changed = _learn_one(table, cfg, child)
        seconds += time.perf_counter() - t0
        greedy = q.argmax(axis=2)
        mover = cfg.periods % 2
        moves, first = limit_cycle(greedy, mover, int(prices[1 - mover]))
        kind = classify_cycle(moves)
        own = cycle_prices(moves, first)  # (L, 2)
        outcome[s] = OUTCOMES.index(kind)
        cycle_length[s] = 1 if kind == "fixed_point" else moves.size
        avg_price[s] = prices_grid[own].mean(axis=0)
        avg_pi[s] = table[np.arange(2), own, own[:, ::-1]].mean(axis=0)
        strategies[s], last_change[s] = greedy, changed
        cycles.append(moves)
        first_mover[s] = first
    delta = (avg_pi.mean(axis=1) - nash_profit) / (monopoly_profit - nash_profit)
    return SequentialQResult(
        config=cfg,
        seed=seed,
        grid=prices_grid,
        nash_profit=float(nash_profit),
        monopoly_profit=float(monopoly_profit),
        outcome=outcome,
        cycle_length=cycle_length,
        cycles=cycles,
        first_mover=first_mover,
        prices=avg_price,
        profits=avg_pi,
        delta=delta,
        strategies=strategies,
        last_change=last_change,
        seconds=seconds,
    )


def play_in_env(
    env: OligopolyEnv,
    config: SequentialQConfig,
    seed: int | None = 0,
    session: int = 0,
    n_sessions: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Session ``session`` of a batch of ``n_sessions``, played in Python in ``env``.

    The oracle :func:`run_sequential_sessions` is tested against: the same
    algorithm and random stream, but prices, turns and profits come from
    stepping ``env`` (an ``OligopolyEnv(moves="sequential")``, the mover read
    from the turn, the rival's price from the observation, profits from the
    rewards). About 10⁴ periods per second: for checks, not for experiments.

    Returns:
        (Q-tables (2, m, m), the price index set in each period (T,), both firms'
        rewards per period (T, 2)).

    Raises:
        ConfigError: the env is not a sequential duopoly whose horizon covers T.
    """
    grid, _ = market_profits(env)
    if env.moves != "sequential" or (env.horizon is not None and env.horizon < config.periods):
        raise ConfigError(
            f"play_in_env needs moves='sequential' and horizon >= periods={config.periods}; the "
            f"env has moves={env.moves!r}, horizon={env.horizon!r}. Build OligopolyEnv(..., "
            "moves='sequential', horizon=None)."
        )
    m, k = grid.size, env.memory
    gen = np.random.default_rng(np.random.SeedSequence(seed).spawn(n_sessions)[session])
    opening = min(int(gen.random() * m), m - 1)
    obs, _ = env.reset(seed=0, options={"prices": [grid[0], grid[opening]]})
    q = np.zeros((2, m, m))
    played = np.empty(config.periods, dtype=np.int64)
    rewards = np.empty((config.periods, 2))
    state = [0, 0]
    d2, beta = config.delta * config.delta, config.beta
    for t in range(config.periods):
        turn = [a for a in env.agents if obs[a][2 * k] == 0.0]  # rounds until it moves: 0
        i = env.possible_agents.index(turn[0])
        rival = round(float(obs[turn[0]][1]) * (m - 1))
        if t >= 2:
            own = round(float(obs[turn[0]][0]) * (m - 1))
            target = rewards[t - 2, i] + config.delta * rewards[t - 1, i] + d2 * q[i, rival].max()
            q[i, state[i], own] = (1.0 - config.alpha) * q[i, state[i], own] + config.alpha * target
        eps = math.exp(-beta * t)
        u = gen.random()
        a = min(int(u * (m / eps)), m - 1) if u < eps else int(np.argmax(q[i, rival]))
        played[t], state[i] = a, rival
        obs, reward, _, _, _ = env.step({turn[0]: a})
        rewards[t] = [reward[name] for name in env.possible_agents]
    return q, played, rewards
