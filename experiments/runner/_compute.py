"""Computing one cell: :func:`run_cell` and the train / evaluate / round-robin cells.

A private module of :mod:`pricegym.experiments.runner` (which re-exports its public
names). :func:`run_cell` is a pure function of (resolved config,
cell key, run directory) and a top-level function of this module, so a spawn
process pool and Ray import it by reference. The training hooks it calls
(``train``, online ``update``, ``explore``, ``from_market``, Q-learning self-play
with :func:`pricegym.agents.qlearning.run_sessions` and against rivals that do not
learn with :func:`pricegym.agents.qlearning.train_against`) are described in the
runner's module docstring. Markets, agents and numpy are imported inside the
functions.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymWarning
from pricegym.experiments.rundir import (
    Cell,
    RunContext,
    cell_agent,
    eval_seeds,
    needs_training,
)
from pricegym.experiments.runner._exec import _torch_threads
from pricegym.experiments.schema import load_experiment

if TYPE_CHECKING:
    from pricegym.experiments.schema import AgentSpec


#: Convergence window of Q-learning self-play when the budget does not give one.
_DEFAULT_CONVERGENCE = 100_000
#: Longest estimated Python Q-learning session against an uncompilable rival (seconds).
_DEFAULT_PYTHON_SECONDS = 600
#: Periods of Q-learning in the online episode loop timed before the rest is estimated.
_PROBE_PERIODS = 4096


@contextlib.contextmanager
def _exploring(agent: Any) -> Iterator[None]:
    """``agent.explore = True`` while training (agents with such a flag), then restored."""
    flag = getattr(agent, "explore", None)
    if isinstance(flag, bool):
        agent.explore = True
    try:
        yield
    finally:
        if isinstance(flag, bool):
            agent.explore = flag


def _episodes_for(budget: Mapping[str, int], horizon: int | None) -> int:
    if "episodes" in budget:
        return int(budget["episodes"])
    if "periods" in budget:
        return max(1, math.ceil(budget["periods"] / max(1, horizon or 1)))
    raise ConfigError(
        f"training budget {dict(budget)} gives neither episodes nor periods for an online "
        "learner. Fix: set train: {episodes: N}."
    )


def _call_train(
    agent: Any, env: Any, budget: Mapping[str, int], seed: int, log_dir: Path | None = None
) -> None:
    """Call ``agent.train`` with the arguments it accepts (see the module docstring).

    An agent whose seed is an attribute (``agent.seed``, e.g. SB3 agents) rather than
    an argument of ``train`` gets the cell's derived seed there, so that replicates
    differ and reruns repeat.
    """
    import inspect

    train = agent.train
    params = inspect.signature(train).parameters
    kwargs: dict[str, Any] = {}
    steps = budget.get("timesteps")
    for name in ("total_timesteps", "timesteps"):
        if name in params and steps is not None:
            kwargs[name] = int(steps)
    for name in ("episodes", "periods"):
        if name in params and name in budget:
            kwargs[name] = int(budget[name])
    if "seed" in params:
        kwargs["seed"] = int(seed)
    elif isinstance(getattr(agent, "seed", None), int):
        agent.seed = int(seed)
    if "log_dir" in params and log_dir is not None:
        kwargs["log_dir"] = str(log_dir)
    if "progress_bar" in params:
        kwargs["progress_bar"] = False
    train(env, **kwargs)


def _horizon(env: Any) -> int | None:
    base = getattr(env, "unwrapped", env)
    return getattr(base, "horizon", None)


def _train_single(
    agent: Any, env: Any, budget: Mapping[str, int], seed: int, log_dir: Path | None = None
) -> None:
    from pricegym.experiments.evaluate import derive_seeds, play_episodes  # pandas, numpy

    if callable(getattr(agent, "train", None)):
        _call_train(agent, env, budget, seed, log_dir)
        return
    n = _episodes_for(budget, _horizon(env))
    with _exploring(agent):
        play_episodes(
            agent,
            env,
            derive_seeds(seed, ("env",), n),
            derive_seeds(seed, ("agent",), n),
            learn=True,
        )


def _train_oligopoly(
    agents: Sequence[Any],
    learners: Sequence[bool],
    env: Any,
    budgets: Sequence[Mapping[str, int]],
    seed: int,
) -> None:
    """Train the learners among ``agents`` (seated in ``env``) together, online.

    With a Q-learner among them (one that :func:`_qlearning_against` and self-play do
    not cover: against another learner, or with a budget in episodes) the first
    episodes (:data:`_PROBE_PERIODS` periods) are timed, and a budget estimated to need more than
    ``train.max_python_seconds`` is refused with the estimate (a warning above a
    minute), instead of running for hours without a word.
    """
    from pricegym.agents.qlearning import QLearningAgent  # scipy, pandas, pettingzoo
    from pricegym.experiments.evaluate import derive_seeds, play_oligopoly  # pandas, numpy

    budget = max(
        (b for b, f in zip(budgets, learners, strict=True) if f),
        key=lambda b: _episodes_for(b, env.horizon),
    )
    n = _episodes_for(budget, env.horizon)
    timed = n > 1 and any(
        f and isinstance(a, QLearningAgent) for a, f in zip(agents, learners, strict=True)
    )
    # Probe the first episodes (their seeds are a prefix of all n episodes' seeds).
    first = min(n, math.ceil(_PROBE_PERIODS / max(1, env.horizon or 1))) if timed else n

    def episodes(lo: int, hi: int) -> None:
        seeds = [derive_seeds(seed, ("agent", i), hi)[lo:] for i in range(len(agents))]
        env_seeds = derive_seeds(seed, ("env",), hi)[lo:]
        play_oligopoly(agents, env, env_seeds, seeds, learn=list(learners))

    with contextlib.ExitStack() as stack:
        for agent, flag in zip(agents, learners, strict=True):
            if flag:
                stack.enter_context(_exploring(agent))
        start = time.perf_counter()
        episodes(0, first)
        if first < n:
            limit = max(b.get("max_python_seconds", _DEFAULT_PYTHON_SECONDS) for b in budgets)
            _episode_estimate(time.perf_counter() - start, first, n, env.horizon, limit)
            episodes(first, n)


def _episode_estimate(
    seconds: float, played: int, n: int, horizon: int | None, limit: float
) -> None:
    """Refuse (above ``limit`` seconds) or warn (above a minute) with the episode loop's time
    for the ``n − played`` episodes left, at the speed of the ``played`` first ones."""
    import warnings

    per_episode = max(seconds, 1e-9) / played
    estimate = per_episode * (n - played)
    periods = max(1, horizon or 1)
    rate = periods / per_episode
    when = f"{estimate:,.0f} s" if estimate < 3600 else f"{estimate / 3600:,.1f} h"
    text = (
        f"Q-learning here runs in the online episode loop (a Q-learner against another "
        f"learner, or a budget in episodes): {rate:,.0f} periods/s measured over the first "
        f"{played:,} episode(s), so the {n - played:,} left of {periods} periods take about "
        f"{when}"
    )
    if estimate > limit:
        raise ConfigError(
            f"{text}, above train.max_python_seconds={limit:,.0f}. Fix: give the Q-learners "
            "the same hyper-parameters and train: {periods: N} (compiled self-play), train a "
            "Q-learner against a rule or a saved policy with train: {periods: N} (compiled), "
            f"lower the budget to about {max(1, int(limit / per_episode)):,} episodes, or "
            f"raise train.max_python_seconds above {estimate:,.0f}."
        )
    if estimate > 60:
        warnings.warn(f"{text}.", PricegymWarning, stacklevel=3)


def _save(agent: Any, path: Path, run_dir: Path) -> str:
    saved = agent.save(path)
    return str(Path(saved).resolve().relative_to(run_dir.resolve()))


def run_cell(resolved: Mapping[str, Any], cell: Mapping[str, Any], run_dir: str) -> dict[str, Any]:
    """Compute one cell: a pure function of the resolved config, the cell key and the
    files earlier stages wrote into ``run_dir`` (fitted models, trained policies).

    Returns a JSON-ready dict: ``key`` (the cell), ``rows`` (episode rows; empty for
    training cells), ``policy``/``policies`` (saved agents, relative to ``run_dir``),
    ``seeds`` (every seed it derived) and ``seconds``.
    """
    import warnings

    start = time.perf_counter()
    with _torch_threads(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_experiment(dict(resolved))
        ctx = RunContext(config, Path(run_dir))
        key = Cell.from_dict(cell)
        if key.stage == "train":
            result = _train_cell(ctx, key)
        elif key.mode == "round_robin":
            result = _round_robin_cell(ctx, key)
        else:
            result = _eval_cell(ctx, key)
    result["key"] = key.to_dict()
    result["seconds"] = round(time.perf_counter() - start, 3)
    texts = [f"{w.category.__name__}: {w.message}" for w in caught]
    result["warnings"] = list(dict.fromkeys(texts))
    return result


def _train_cell(ctx: RunContext, cell: Cell) -> dict[str, Any]:
    from pricegym.experiments.evaluate import bind_to_seat, derive_seeds  # pandas, numpy

    config = ctx.config
    spec = config.agent(cell.agents[0])
    seed = derive_seeds(config.seed, ("train", spec.name, cell.arena, cell.seed), 1)[0]
    env = ctx.env(cell.market, cell.rival)
    if config.market.is_oligopoly:
        from pricegym.envs.oligopoly import OpponentWrapper  # scipy, pandas, pettingzoo

        agent = ctx.new_agent(spec, env, seat=0)
        rivals = [ctx.rival(cell.rival) for _ in range(env.n_sellers - 1)] if cell.rival else []
        bind_to_seat(agent, env, 0)
        for i, r in enumerate(rivals, start=1):
            bind_to_seat(r, env, i)
        if callable(getattr(agent, "train", None)):
            wrapped = OpponentWrapper(env, rivals, seat=0)
            _call_train(agent, wrapped, spec.train, seed, ctx.log_dir(cell))
        elif _qlearning_session(agent, spec):
            _qlearning_against(agent, spec, rivals, env, seed)
        else:
            _train_oligopoly(
                [agent, *rivals],
                [True] + [False] * len(rivals),
                env,
                [spec.train] * (1 + len(rivals)),
                seed,
            )
    else:
        agent = ctx.new_agent(spec)
        agent.bind(env)
        _train_single(agent, env, spec.train, seed, ctx.log_dir(cell))
    policy = _save(agent, ctx.policy_path(cell), ctx.run_dir)
    return {"rows": [], "policy": policy, "seeds": {"train": seed}}


def _rows(
    cell: Cell, spec: AgentSpec, stats: Sequence[Mapping[str, Any]], **extra: Any
) -> list[dict[str, Any]]:
    label = spec.name if cell.mode != "cross_model" else f"{spec.name}@{cell.trained_in}"
    base = {
        "mode": cell.mode,
        "market": cell.arena,
        "agent": label,
        "kind": spec.kind,
        "opponent": cell.rival,
        "trained_in": cell.trained_in or cell.market,
        "seed": cell.seed,
    }
    base.update(extra)
    return [{**base, "episode": e, **s} for e, s in enumerate(stats)]


def _eval_cell(ctx: RunContext, cell: Cell) -> dict[str, Any]:
    # pandas, numpy
    from pricegym.experiments.evaluate import bind_to_seat, play_episodes, play_oligopoly

    config = ctx.config
    spec = config.agent(cell.agents[0])
    env_seeds, agent_seeds = eval_seeds(ctx, cell)
    learn = config.evaluation.learn_online
    env = ctx.env(cell.market, cell.rival)
    if config.market.is_oligopoly:
        from pricegym.experiments.evaluate import derive_seeds  # pandas, numpy

        agent = cell_agent(ctx, spec, cell, env, 0)
        rivals = [ctx.rival(cell.rival) for _ in range(env.n_sellers - 1)]  # type: ignore[arg-type]
        for i, a in enumerate([agent, *rivals]):
            bind_to_seat(a, env, i)
        seeds = [agent_seeds] + [
            derive_seeds(config.seed, ("rival", cell.arena, cell.seed, i), len(env_seeds))
            for i in range(1, env.n_sellers)
        ]
        stats = play_oligopoly(
            [agent, *rivals], env, env_seeds, seeds, learn=[learn] + [False] * len(rivals)
        )[0]
    else:
        agent = cell_agent(ctx, spec, cell)
        if cell.mode == "cross_model":
            assert cell.trained_in is not None  # every cross_model cell names it
            home = ctx.env(cell.trained_in)
            agent.bind(home)
            _check_same_layout(home, env, spec.name, cell)
        else:
            agent.bind(env)
        stats = play_episodes(agent, env, env_seeds, agent_seeds, learn=learn)
    return {
        "rows": _rows(cell, spec, stats),
        "seeds": {"env": env_seeds, "agent": agent_seeds},
    }


def _check_same_layout(home: Any, away: Any, agent: str, cell: Cell) -> None:
    """Refuse to move a policy between markets whose actions or observations mean other things.

    Same observation names and action space are not enough: action i is price i of
    each market's grid (or a point of [p_min, p_max]) and observed prices are scaled
    by p_max, so the price grids and ranges must agree too.
    """
    import numpy as np

    h, a = home.unwrapped, away.unwrapped
    same_obs = tuple(getattr(h, "observation_names", ())) == tuple(
        getattr(a, "observation_names", ())
    )

    def prices(env: Any) -> tuple[Any, ...]:
        grid = getattr(env, "prices", None)
        grid = None if grid is None else np.asarray(grid, dtype=np.float64)
        return getattr(env, "p_min", None), getattr(env, "p_max", None), grid

    (h_lo, h_hi, h_grid), (a_lo, a_hi, a_grid) = prices(h), prices(a)
    same_prices = (
        h_lo == a_lo
        and h_hi == a_hi
        and (h_grid is None) == (a_grid is None)
        and (h_grid is None or np.array_equal(h_grid, a_grid))
    )
    if not same_obs or home.action_space != away.action_space or not same_prices:
        raise ConfigError(
            f"cross_model: agent {agent!r} trained in {cell.trained_in!r} cannot act in "
            f"{cell.market!r}: the markets differ in observations, price actions or price "
            f"grids ({getattr(h, 'observation_names', ())} / {home.action_space} on "
            f"[{h_lo}, {h_hi}] vs {getattr(a, 'observation_names', ())} / {away.action_space} "
            f"on [{a_lo}, {a_hi}]). Fix: fit every model with the same competitor and "
            "promotion columns and give the market an explicit price grid "
            "(market.options.prices)."
        )


def _same_hyperparameters(a: Any, b: Any) -> bool:
    keys = ("alpha", "beta", "delta", "memory")
    return all(getattr(a, k, None) == getattr(b, k, None) for k in keys)


def _round_robin_cell(ctx: RunContext, cell: Cell) -> dict[str, Any]:
    # pandas, numpy
    from pricegym.experiments.evaluate import bind_to_seat, derive_seeds, play_oligopoly

    config = ctx.config
    specs = [config.agent(n) for n in cell.agents]
    env = ctx.env(cell.market)
    agents = [ctx.new_agent(s, env, seat=i) for i, s in enumerate(specs)]
    learners = [needs_training(s) for s in specs]
    train_seed = derive_seeds(config.seed, ("train", *cell.agents, cell.arena, cell.seed), 1)[0]
    policies: list[str | None] = [None, None]
    if any(learners):
        from pricegym.agents.qlearning import QLearningAgent  # scipy, pandas, pettingzoo

        selfplay = (
            all(learners)
            and all(isinstance(a, QLearningAgent) for a in agents)
            and _same_hyperparameters(*agents)
            and all("periods" in s.train for s in specs)
        )
        if selfplay:
            agents = _qlearning_selfplay(agents, specs, env, train_seed)
        for i, a in enumerate(agents):
            bind_to_seat(a, env, i)
        # One Q-learner against a seller that does not learn: one session, as in self-play.
        me = learners.index(True)
        alone = learners.count(True) == 1 and _qlearning_session(agents[me], specs[me])
        if not selfplay and alone:
            _qlearning_against(agents[me], specs[me], [agents[1 - me]], env, train_seed)
        elif not selfplay:
            # Offline learners (with their own train method) never get here: the schema
            # refuses them in a round robin, where they would meet themselves.
            _train_oligopoly(agents, learners, env, [s.train for s in specs], train_seed)
        for i, (a, f) in enumerate(zip(agents, learners, strict=True)):
            if f:
                policies[i] = _save(a, ctx.policy_path(cell, f"__seat{i}"), ctx.run_dir)
    else:
        for i, a in enumerate(agents):
            bind_to_seat(a, env, i)
    env_seeds, seat0 = eval_seeds(ctx, cell)
    seeds = [seat0, derive_seeds(config.seed, ("agent", cell.arena, cell.seed, 1), len(seat0))]
    learn = [config.evaluation.learn_online] * len(agents)
    stats = play_oligopoly(agents, env, env_seeds, seeds, learn=learn)
    rows: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        other = specs[1 - i].name
        rows += _rows(
            Cell(cell.stage, cell.mode, cell.agents, cell.market, cell.seed, rival=other),
            spec,
            stats[i],
        )
    for r in rows:
        r["market"] = cell.market
    return {"rows": rows, "policies": policies, "seeds": {"train": train_seed, "env": env_seeds}}


def _qlearning_session(agent: Any, spec: AgentSpec) -> bool:
    """Whether ``agent`` is a Q-learner whose budget is in periods (a Calvano session)."""
    from pricegym.agents.qlearning import QLearningAgent  # scipy, pandas, pettingzoo

    return isinstance(agent, QLearningAgent) and "periods" in spec.train


def _qlearning_against(
    agent: Any, spec: AgentSpec, rivals: Sequence[Any], env: Any, seed: int
) -> None:
    """One Q-learner trained in one session against rivals bound to the other seats.

    :func:`pricegym.agents.qlearning.train_against`: compiled when every rival is a
    deterministic rule or fixed strategy, else in Python after a time estimate
    (refused above ``train.max_python_seconds``).
    """
    from pricegym.agents.qlearning import train_against  # scipy, pandas, pettingzoo

    train = spec.train
    train_against(
        agent,
        env,
        rivals,
        max_periods=train["periods"],
        convergence_periods=train.get("convergence_periods", _DEFAULT_CONVERGENCE),
        seed=seed,
        max_python_seconds=train.get("max_python_seconds", _DEFAULT_PYTHON_SECONDS),
    )


def _qlearning_selfplay(
    agents: list[Any], specs: Sequence[AgentSpec], env: Any, seed: int
) -> list[Any]:
    """Two Q-learners trained together by run_sessions (one session, vectorised numpy)."""
    from pricegym.agents.qlearning import QLearningConfig, run_sessions  # scipy, pandas, pettingzoo

    a = agents[0]
    periods = max(s.train["periods"] for s in specs)
    window = min(s.train.get("convergence_periods", _DEFAULT_CONVERGENCE) for s in specs)
    cfg = QLearningConfig(
        alpha=a.alpha,
        beta=a.beta,
        delta=a.delta,
        memory=a.memory,
        convergence_periods=window,
        max_periods=periods,
    )
    result = run_sessions(env, 1, cfg, seed=seed, keep_q=True)
    out = []
    for i, spec in enumerate(specs):
        trained = result.agent(0, i, explore=agents[i].explore)
        trained.name = spec.name
        out.append(trained)
    return out
