"""One Q-learner against sellers that do not learn: compiled when the rivals are automata.

:func:`train_against` (re-exported by :mod:`pricegym.agents.qlearning`) runs one
Calvano session in which the seller in ``learner.seat`` learns and every other
seat is held by a rival that does not learn (a rule, a greedy Q-table, a saved
policy). The algorithm is the one of :mod:`.qlearning` for that one seller: the
state is the last k rounds of all prices (k = the learner's memory), the learner
explores with probability ε_t = exp(−βt), updates Q(s, a) ← ((1 − α)·Q + α·π) +
α·δ·max Q(s'), and the session has converged when its greedy strategy has not
changed in any state for ``convergence_periods`` consecutive periods; else it
stops at ``max_periods``.

Compiled rivals. A rival whose action is a deterministic function of the
observation and of a declared memory (:meth:`PricingAgent.policy_memory`:
``()`` for fixed prices, cost-plus, myopic, match-lowest, undercut,
follow-the-leader, greedy Q-tables and other pure policies; ``("_opening",)``
for tit-for-tat; ``("_opening", "triggered")`` for grim trigger) is turned into a
finite automaton over the learner's states: in mode c and state s it plays
``actions[c, s]`` and moves to mode ``moves[c, s]``, mode 0 being its state after
``reset``. The automaton is built by asking the rival itself (``act`` on the
observation of every state, from every reachable memory) and checked against
the live rival on a random sequence of states before it is used; the session
then runs in :func:`._qkernel.learn_against`. Automata are built over at most
:data:`MAX_AUTOMATON_STATES` learner states (one ``act`` call per state and mode).

Other rivals (they draw random numbers, or keep memory they do not declare) are
played by the same algorithm in Python, about a thousand times slower. Before
such a session runs past a short probe, its speed is measured and the time the
budget needs is estimated (measured periods/s × ``max_periods``): above
``max_python_seconds`` it is refused with that estimate; below, it warns with it
(unless Python was asked for with ``compiled=False``).

Randomness: ``numpy.random.SeedSequence(seed).spawn(n + 1)``; child 0 is the
learner's generator (its first draw is the initial state, then one uniform per
period, as in :func:`.qlearning.run_sessions`), the rival in the i-th other seat
is reset with a seed drawn from child i, and child n draws the states on which
automata are checked. Compiled and Python sessions with
the same seed play the same prices and reach the same Q-table (up to the last
bit of ``exp``, which numba and the C library may round differently).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pricegym.errors import ConfigError, PricegymWarning

if TYPE_CHECKING:
    from pricegym.agents.base import PricingAgent
    from pricegym.agents.qlearning import Market, QLearningAgent

#: Most memory modes a rival's automaton may have (more: the rival is played in Python).
MAX_MODES = 64
#: Most learner states an automaton is built over (one ``act`` call per state and mode).
MAX_AUTOMATON_STATES = 1 << 20
#: Random states on which a built automaton is checked against the live rival.
CHECK_PERIODS = 512
#: Periods of a Python session played before its time is estimated.
PROBE_PERIODS = 4096
#: Periods per call of the compiled loop (Ctrl-C is seen between calls).
_WINDOW_PERIODS = 1 << 22


@dataclass
class RivalSessionResult:
    """Outcome of :func:`train_against`.

    Attributes:
        agent: the learner, trained in place (``q_`` and ``t_`` updated).
        converged: whether its greedy strategy settled before ``max_periods``.
        periods: periods played in this session.
        compiled: whether the session ran in the compiled loop.
        reason: why it did not ('' when compiled).
        seconds: wall-clock seconds of the session (building the automata included).
        periods_per_second: periods / seconds of the learning loop alone.
        final_state: the state when the session stopped.
    """

    agent: QLearningAgent
    converged: bool
    periods: int
    compiled: bool
    reason: str
    seconds: float
    periods_per_second: float
    final_state: int


class _NotAutomaton(Exception):
    """A rival that cannot be compiled; the message says why."""


# ================================================================ automata
def rival_observations(
    seat: int, n: int, m: int, k: int, states: np.ndarray | None = None
) -> np.ndarray:
    """Seat ``seat``'s ``OligopolyEnv`` observation in each state, shape (S, k·n), float32.

    ``states`` defaults to every state 0 … m^(nk) − 1. State s holds the last k
    price profiles (s = Σ_ℓ profile_ℓ·(m^n)^ℓ, ℓ = 0 the last round; profile =
    Σ_j a_j·m^(n−1−j)); the observation lists, round by round from the last, the
    seat's own price and then its rivals' in seat order, each as index/(m − 1),
    exactly as the env codes it.
    """
    n_prof = m**n
    if states is None:
        states = np.arange(n_prof**k, dtype=np.int64)
    digits = np.empty((states.size, k, n), dtype=np.int64)
    for lag in range(k):
        profile = (states // n_prof**lag) % n_prof
        for j in range(n):
            digits[:, lag, j] = (profile // m ** (n - 1 - j)) % m
    order = [seat, *(j for j in range(n) if j != seat)]
    coded = (digits[:, :, order] / (m - 1)).astype(np.float32)
    return coded.reshape(states.size, k * n)


class _LazyObservations:
    """``rival_observations`` computed state by state (state spaces too large to tabulate)."""

    def __init__(self, seat: int, n: int, m: int, k: int) -> None:
        self.args = (seat, n, m, k)

    def __getitem__(self, state: int) -> np.ndarray:
        return rival_observations(*self.args, np.array([state], dtype=np.int64))[0]


def _index(action: Any, m: int, who: str) -> int:
    a = np.asarray(action)
    if a.size != 1 or a.dtype.kind not in "iu" or not 0 <= int(a.reshape(-1)[0]) < m:
        raise ConfigError(
            f"rival {who} returned action {action!r}, which is not an index of the {m}-price "
            "grid; a rival of tabular Q-learning must play a discrete price (bind it to the "
            "oligopoly's seat with bind_to_seat)."
        )
    return int(a.reshape(-1)[0])


def _name(rival: Any) -> str:
    return f"{getattr(rival, 'name', type(rival).__name__)!r} ({type(rival).__name__})"


def rival_automaton(
    rival: PricingAgent, observations: np.ndarray, m: int, max_modes: int = MAX_MODES
) -> tuple[np.ndarray, np.ndarray]:
    """(actions, moves), each (C, N): the rival as a finite automaton over the N states.

    Mode 0 is the rival's memory as it is now (call ``reset`` first); a mode is the
    tuple of the attributes :meth:`~PricingAgent.policy_memory` names. Every mode
    reachable from mode 0 is visited: the memory is set, ``act`` is called on the
    observation of each state, and the action and the memory it leaves are recorded.
    The rival's memory is restored at the end.

    Raises:
        _NotAutomaton: the rival promises nothing (``policy_memory()`` is None), its
            memory is not hashable, or it has more than ``max_modes`` modes.
        ConfigError: it returned an action that is not a grid index.
    """
    names = rival.policy_memory()
    who = _name(rival)
    if names is None:
        raise _NotAutomaton(
            f"rival {who} is not a deterministic function of the last prices and a declared "
            "memory (policy_memory() is None: it draws random numbers, learns, or keeps "
            "memory it does not declare)"
        )
    n_states = observations.shape[0]
    if not names and getattr(rival, "batch_act", False):
        acts = np.asarray(rival.act(observations)).reshape(-1)
        if acts.size != n_states:
            raise _NotAutomaton(f"rival {who}'s batched act returned {acts.size} actions")
        row = np.array([_index(a, m, who) for a in acts], dtype=np.int64)
        return row[None, :], np.zeros((1, n_states), dtype=np.int64)

    def memo() -> tuple[Any, ...]:
        return tuple(getattr(rival, a) for a in names)

    def restore(values: tuple[Any, ...]) -> None:
        for a, v in zip(names, values, strict=True):
            setattr(rival, a, v)

    start = memo()
    try:
        modes: dict[tuple[Any, ...], int] = {start: 0}
    except TypeError:
        raise _NotAutomaton(f"rival {who}'s memory {names} is not hashable") from None
    order = [start]
    actions: list[np.ndarray] = []
    moves: list[np.ndarray] = []
    try:
        c = 0
        while c < len(order):
            acts = np.empty(n_states, dtype=np.int64)
            nxt = np.empty(n_states, dtype=np.int64)
            for s in range(n_states):
                restore(order[c])
                acts[s] = _index(rival.act(observations[s]), m, who)
                after = memo()
                if after not in modes:
                    if len(order) >= max_modes:
                        raise _NotAutomaton(
                            f"rival {who}'s memory {names} takes more than {max_modes} values"
                        )
                    modes[after] = len(order)
                    order.append(after)
                nxt[s] = modes[after]
            actions.append(acts)
            moves.append(nxt)
            c += 1
    finally:
        restore(start)
    return np.stack(actions), np.stack(moves)


def _check_automaton(
    rival: PricingAgent,
    actions: np.ndarray,
    moves: np.ndarray,
    observations: np.ndarray,
    m: int,
    rng: np.random.Generator,
    periods: int = CHECK_PERIODS,
) -> None:
    """Play the live rival on random states and require the automaton's actions (from mode 0)."""
    who = _name(rival)
    names = rival.policy_memory() or ()
    start = tuple(getattr(rival, a) for a in names)
    mode = 0
    try:
        for s in rng.integers(observations.shape[0], size=periods):
            live = _index(rival.act(observations[s]), m, who)
            if live != actions[mode, s]:
                raise _NotAutomaton(
                    f"rival {who} played {live} where its automaton (memory {names}) says "
                    f"{int(actions[mode, s])}: its actions depend on more than it declares"
                )
            mode = int(moves[mode, s])
    finally:
        for a, v in zip(names, start, strict=True):
            setattr(rival, a, v)


# ================================================================ session
def _python_periods(
    gen: np.random.Generator,
    q: np.ndarray,
    scaled: np.ndarray,
    rivals: Sequence[Any],
    observations: Sequence[Any],
    status: np.ndarray,
    keep: float,
    discount: float,
    beta: float,
    seat: int,
    n_prof: int,
    tail: int,
    patience: int,
    stop: int,
) -> None:
    """:func:`._qkernel.learn_against` in Python, with live rivals (``rivals[seat]`` unused)."""
    m = q.shape[1]
    n = len(rivals)
    t, state, quiet = int(status[0]), int(status[1]), int(status[2])
    names = ["" if j == seat else _name(r) for j, r in enumerate(rivals)]  # seat's: unread
    while t < stop and quiet < patience:
        eps = math.exp(-beta * t)
        profile = 0
        mine = 0
        before = int(q[state].argmax())
        for j in range(n):
            if j == seat:
                u = gen.random()
                a = min(int(u * (m / eps)), m - 1) if u < eps else before
                mine = a
            else:
                a = _index(rivals[j].act(observations[j][state]), m, names[j])
            profile = profile * m + a
        nxt = (state % tail) * n_prof + profile
        target = q[state, mine] * keep
        target += scaled[profile]
        target += q[nxt].max() * discount
        q[state, mine] = target
        quiet = 0 if int(q[state].argmax()) != before else quiet + 1
        state = nxt
        t += 1
    status[0], status[1], status[2] = t, state, quiet


def train_against(
    learner: QLearningAgent,
    market: Market,
    rivals: Sequence[PricingAgent],
    *,
    max_periods: int,
    convergence_periods: int = 100_000,
    seed: int | None = None,
    compiled: bool | None = None,
    max_python_seconds: float = 600.0,
) -> RivalSessionResult:
    """Train ``learner`` for one session against ``rivals``, who do not learn (see the module).

    Args:
        learner: a :class:`~pricegym.agents.qlearning.QLearningAgent` with a Q-table
            (e.g. ``QLearningAgent.from_market(env, seat=...)``); it learns from its
            current ``q_`` and ``t_`` (ε continues from ``t_``) and is updated in place.
        market: the oligopoly (an ``OligopolyEnv`` with a discrete grid and
            simultaneous moves, or its keyword arguments); profits are its expected
            profits, as in :func:`~pricegym.agents.qlearning.run_sessions`.
        rivals: n − 1 agents for the other seats in seat order, bound to their seats
            (:func:`pricegym.experiments.evaluate.bind_to_seat`); each sees its
            env-layout observation of the last k rounds (k = the learner's memory).
        max_periods: the cap on periods (≥ 1).
        convergence_periods: converged after this many periods without a change of
            the learner's greedy strategy (≥ 1).
        seed: the session's seed (see *Randomness* in the module docstring).
        compiled: None compiles when every rival is an automaton and else plays in
            Python; True requires the compiled loop; False forces Python (the plain
            reference the compiled loop is tested against).
        max_python_seconds: a Python session whose estimated time exceeds this is
            refused (after a probe of :data:`PROBE_PERIODS` periods).

    Returns:
        A :class:`RivalSessionResult`.

    Raises:
        ConfigError: bad arguments; ``compiled=True`` with a rival that is no
            automaton; a Python session estimated to need more than
            ``max_python_seconds`` (the message gives the measured speed, the
            estimate and the fixes).
    """
    # cycle: qlearning imports this module
    from pricegym.agents.qlearning import (
        QLearningAgent,
        QLearningConfig,
        _grid_market,
        profit_table,
    )

    start = time.perf_counter()
    env = _grid_market(market)
    n, m = env.n_sellers, int(env.grid.size)
    if not isinstance(learner, QLearningAgent):
        raise ConfigError(
            f"learner={type(learner).__name__} must be a QLearningAgent (kind 'qlearning')."
        )
    if (learner.n_sellers, learner.n_prices) != (n, m):
        raise ConfigError(
            f"learner {learner.name!r} is for {learner.n_sellers} sellers and {learner.n_prices} "
            f"prices, the market has {n} and {m}; build it with QLearningAgent.from_market(env)."
        )
    table = learner._table()
    cfg = QLearningConfig(
        alpha=learner.alpha,
        beta=learner.beta,
        delta=learner.delta,
        memory=learner.memory,
        convergence_periods=convergence_periods,
        max_periods=max_periods,
    )
    rivals = list(rivals)
    if len(rivals) != n - 1:
        raise ConfigError(
            f"{len(rivals)} rival(s) for a market of {n} sellers; give n − 1 = {n - 1}, one "
            "per other seat in seat order."
        )
    if not (isinstance(max_python_seconds, int | float) and max_python_seconds > 0):
        raise ConfigError(f"max_python_seconds={max_python_seconds!r} must be a number > 0.")
    seat, k = learner.seat, cfg.memory
    n_prof = m**n
    n_states, tail = n_prof**k, n_prof ** (k - 1)
    if np.shape(table) != (n_states, m):
        raise ConfigError(
            f"learner {learner.name!r} has a Q-table of shape {np.shape(table)}, but memory={k} "
            f"in this market needs ({n_states}, {m}); build it with "
            "QLearningAgent.from_market(env)."
        )
    others = [j for j in range(n) if j != seat]
    by_seat: list[Any] = [None] * n
    for j, rival in zip(others, rivals, strict=True):
        by_seat[j] = rival
    children = np.random.SeedSequence(seed).spawn(n + 1)
    gen = np.random.Generator(np.random.PCG64(children[0]))
    for child, rival in zip(children[1:n], rivals, strict=True):
        rival.reset(seed=int(child.generate_state(1)[0]))
    small = n_states <= MAX_AUTOMATON_STATES
    observations: list[Any] = [
        None
        if j == seat
        else (rival_observations(j, n, m, k) if small else _LazyObservations(j, n, m, k))
        for j in range(n)
    ]

    automata: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
    reason = ""
    if compiled is not False and not small:
        reason = (
            f"the learner has {n_states:,} states, more than the {MAX_AUTOMATON_STATES:,} a "
            "rival's automaton is built over"
        )
        if compiled:
            raise ConfigError(f"compiled=True, but {reason}. Fix: fewer prices or less memory.")
    elif compiled is not False:
        try:
            check = np.random.default_rng(children[n])
            for j in others:
                obs = observations[j]
                assert obs is not None
                actions, moves = rival_automaton(by_seat[j], obs, m)
                _check_automaton(by_seat[j], actions, moves, obs, m, check)
                automata[j] = (actions, moves)
        except _NotAutomaton as err:
            reason = str(err)
            if compiled:
                raise ConfigError(
                    f"compiled=True, but {reason}. Fix: use compiled=None to play it in "
                    "Python, or a deterministic rival."
                ) from None
    else:
        reason = "compiled=False was asked for"

    q = np.array(table, dtype=np.float64, order="C", copy=True)
    scaled = np.ascontiguousarray(cfg.alpha * profit_table(env).reshape(-1, n)[:, seat])
    t0 = int(learner.t_)
    stop = t0 + cfg.max_periods
    status = np.array([t0, gen.integers(n_states), 0], dtype=np.int64)
    keep, discount = 1.0 - cfg.alpha, cfg.alpha * cfg.delta
    patience = cfg.convergence_periods
    loop_start = time.perf_counter()
    if not reason:
        from pricegym.agents import _qkernel  # numba: imported only when sessions run

        _qkernel.warm_up_against()
        loop_start = time.perf_counter()
        modes = max(a[0].shape[0] for a in automata if a is not None)
        actions = np.zeros((n, modes, n_states), dtype=np.int64)
        moves = np.zeros((n, modes, n_states), dtype=np.int64)
        for j in others:
            automaton = automata[j]
            assert automaton is not None  # reason is '' only when every rival compiled
            a, mv = automaton
            actions[j, : a.shape[0]], moves[j, : a.shape[0]] = a, mv
        greedy = q.argmax(axis=1).astype(np.int64)
        best = q.max(axis=1)
        current = np.zeros(n, dtype=np.int64)
        while status[0] < stop and status[2] < patience:
            _qkernel.learn_against(
                gen,
                q,
                greedy,
                best,
                scaled,
                actions,
                moves,
                current,
                status,
                keep,
                discount,
                cfg.beta,
                seat,
                n_prof,
                tail,
                patience,
                min(stop, int(status[0]) + _WINDOW_PERIODS),
            )
    else:
        args = (keep, discount, cfg.beta, seat, n_prof, tail, patience)
        probe = min(stop, t0 + PROBE_PERIODS)
        _python_periods(gen, q, scaled, by_seat, observations, status, *args, probe)
        played = int(status[0]) - t0
        if status[0] < stop and status[2] < patience:
            rate = played / max(time.perf_counter() - loop_start, 1e-9)
            remaining = stop - int(status[0])
            _python_estimate(rate, remaining, cfg, reason, max_python_seconds, compiled is None)
            _python_periods(gen, q, scaled, by_seat, observations, status, *args, stop)
    loop = max(time.perf_counter() - loop_start, 1e-9)
    periods = int(status[0]) - t0
    learner.q_ = q
    learner.t_ = int(status[0])
    return RivalSessionResult(
        agent=learner,
        converged=bool(status[2] >= patience),
        periods=periods,
        compiled=not reason,
        reason=reason,
        seconds=time.perf_counter() - start,
        periods_per_second=periods / loop,
        final_state=int(status[1]),
    )


def _python_estimate(
    rate: float, remaining: int, cfg: Any, reason: str, max_seconds: float, warn: bool
) -> None:
    """Refuse (ConfigError), or warn if ``warn``, with the time a Python session's budget needs."""
    estimate = remaining / rate
    hours = f"{estimate:,.0f} s" if estimate < 3600 else f"{estimate / 3600:,.1f} h"
    text = (
        f"Q-learning runs in Python, not compiled, because {reason}. Measured "
        f"{rate:,.0f} periods/s, so the remaining budget of {remaining:,} periods "
        f"(max_periods={cfg.max_periods:,}) takes up to {hours} (less if the greedy strategy "
        f"settles for convergence_periods={cfg.convergence_periods:,} periods first)"
    )
    if estimate > max_seconds:
        affordable = max(1, int(rate * max_seconds))
        raise ConfigError(
            f"{text}, above max_python_seconds={max_seconds:,.0f}. Fix: lower max_periods "
            f"(train.periods) to about {affordable:,}, choose a rival that is a deterministic "
            "rule or a fixed strategy (compiled, millions of periods/s), or raise "
            "max_python_seconds "
            f"(train.max_python_seconds in an experiment) above {estimate:,.0f}."
        )
    if warn:
        warnings.warn(f"{text}.", PricegymWarning, stacklevel=3)
