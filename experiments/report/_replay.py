"""Exact replays of a run's evaluation episodes with its saved policies.

Split out of :mod:`pricegym.experiments.report` (which re-exports :func:`replay_cell`).
The price-path, cumulative-profit and oligopoly policy-map figures need the agents a
cell evaluated, step by step; nothing is retrained: this module rebuilds them the way
the runner did (:class:`~pricegym.experiments.runner.RunContext`, ``cell_agent``,
``eval_seeds``, ``read_cell``), replays the first episodes of each cell of the first
replicate seed with the very env and agent seeds of the evaluation, and checks the
replayed profits against ``episodes.csv``. The runner, the evaluator and pandas are
imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.rundir import (
    RunContext,
    cell_agent,
    eval_seeds,
    needs_training,
    plan_cells,
    read_cell,
)

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.report._run import RunData
    from pricegym.experiments.rundir import Cell


#: Evaluation episodes of the first replicate seed replayed per cell (at most).
MAX_REPLAY_EPISODES = 50
#: Relative tolerance of the replay check against episodes.csv.
REPLAY_RTOL = 1e-9


# ==================================================================== replays
class _Replays:
    """Replays of the evaluation cells of the first replicate seed, computed once each."""

    def __init__(self, run: RunData) -> None:

        assert run.config is not None
        self.run, self.config = run, run.config
        self.ctx = RunContext(run.config, run.path)
        self.seed = run.config.evaluation.seeds[0]
        self._done: dict[Cell, pd.DataFrame | str] = {}

    def cells(self) -> list[Cell]:
        """Every solo / vs_rules / round-robin cell of the first seed, in plan order."""

        plan = plan_cells(self.config)
        return [
            c
            for stage in ("evaluate", "tournament")
            for c in plan[stage]
            if c.seed == self.seed and c.mode != "cross_model"
        ]

    def get(self, cell: Cell) -> pd.DataFrame | str:
        """The replay of ``cell`` (a DataFrame), or why it cannot be replayed (a string)."""
        if cell not in self._done:
            try:
                self._done[cell] = replay_cell(self.run, cell, ctx=self.ctx)
            except PricegymError as exc:
                self._done[cell] = f"{cell.arena} / {' vs '.join(cell.agents)}: {exc}"
        return self._done[cell]


def replay_cell(
    run: RunData, cell: Cell, *, episodes: int | None = None, ctx: Any = None
) -> pd.DataFrame:
    """Replay the evaluation episodes of one cell step by step, without retraining.

    The agents are the ones the cell played (saved policies from ``policies/``, or
    fresh rule-based agents), in the market rebuilt from the saved demand models,
    with the env and agent seeds of the evaluation; online learning during the
    evaluation (``evaluation.learn_online``) is replayed too, and so is a frozen
    bandit's greedy play (:func:`~pricegym.experiments.evaluate.frozen_play`). So each replayed
    episode is the one recorded in ``episodes.csv`` (the report checks it).

    Args:
        run: the run (:func:`load_run`); its config must have been rebuilt.
        cell: an evaluate or tournament cell of :func:`~pricegym.experiments.runner.plan_cells`
            (solo, vs_rules or round_robin).
        episodes: how many of its episodes (default ``min(evaluation.episodes,``
            :data:`MAX_REPLAY_EPISODES`\\ ``)``); they are the first ones, in order.

    Returns:
        One row per seller and period: ``mode, market, agent, opponent, seat, seed,
        episode, step, price, rival_price, units, inventory, profit, cum_profit``
        (``market`` as in episodes.csv; ``rival_price`` is the competitor's price of
        the period, NaN without one; ``inventory`` the stock after the period). A
        catalogue market adds ``price:<p>``, ``units:<p>``, ``inventory:<p>`` per
        product p, and its ``price`` / ``units`` / ``inventory`` are the mean price and
        the sums over the products.

    Raises:
        ConfigError: the run's config cannot be rebuilt, a cross_model or training
            cell, or a policy the cell needs is missing.
    """
    import pandas as pd

    if run.config is None:
        raise ConfigError(
            f"the experiment of {str(run.path)!r} cannot be rebuilt ({run.config_error}), so its "
            "policies cannot be replayed. Fix: restore the files it names, or rerun it."
        )
    if cell.stage == "train" or cell.mode == "cross_model":
        raise ConfigError(
            f"cell {cell.id} is a {cell.stage}/{cell.mode} cell; only solo, vs_rules and "
            "round_robin evaluation cells are replayed."
        )
    ctx = ctx if ctx is not None else RunContext(run.config, run.path)
    n = min(run.config.evaluation.episodes, MAX_REPLAY_EPISODES) if episodes is None else episodes
    if run.config.market.is_oligopoly:
        rows = _replay_oligopoly(ctx, cell, n)
    else:
        rows = _replay_single(ctx, cell, n)
    frame = pd.DataFrame(rows, columns=list(_REPLAY_COLUMNS))
    if run.config.market.is_catalogue and rows:  # and a price / units / stock per product
        extra = [k for k in rows[0] if k not in _REPLAY_COLUMNS]
        frame = pd.concat([frame, pd.DataFrame(rows, columns=extra)], axis=1)
    return frame


_REPLAY_COLUMNS = (
    "mode",
    "market",
    "agent",
    "opponent",
    "seat",
    "seed",
    "episode",
    "step",
    "price",
    "rival_price",
    "units",
    "inventory",
    "profit",
    "cum_profit",
)


def _replay_single(ctx: Any, cell: Cell, n: int) -> list[dict[str, Any]]:
    from pricegym.experiments.evaluate import frozen_play  # pandas, numpy

    spec = ctx.config.agent(cell.agents[0])
    env = ctx.env(cell.market, cell.rival)
    agent = cell_agent(ctx, spec, cell)
    agent.bind(env)
    env_seeds, agent_seeds = eval_seeds(ctx, cell)
    learn = ctx.config.evaluation.learn_online
    if ctx.config.market.is_catalogue:
        from pricegym.experiments.catalogue import replay_catalogue_rows  # scipy, numpy

        with frozen_play([agent], [learn]):
            return replay_catalogue_rows(
                cell, spec.name, env, agent, env_seeds[:n], agent_seeds[:n], learn
            )
    with frozen_play([agent], [learn]):  # as the evaluation played it
        return _replay_single_loop(cell, spec, env, agent, env_seeds[:n], agent_seeds[:n], learn)


def _replay_single_loop(
    cell: Cell,
    spec: Any,
    env: Any,
    agent: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[int],
    learn: bool,
) -> list[dict[str, Any]]:
    from pricegym.experiments.evaluate import _updater  # pandas, numpy

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
            comp = info.get("competitor_prices")
            rows.append(
                {
                    "mode": cell.mode,
                    "market": cell.arena,
                    "agent": spec.name,
                    "opponent": cell.rival,
                    "seat": 0,
                    "seed": cell.seed,
                    "episode": e,
                    "step": step,
                    "price": float(info.get("price", math.nan)),
                    "rival_price": float(comp[0]) if comp is not None and len(comp) else math.nan,
                    "units": float(info.get("sales", info.get("quantity", 0.0))),
                    "inventory": float(info.get("inventory", math.inf)),
                    "profit": float(reward),
                    "cum_profit": total,
                }
            )
            step += 1
            obs = nxt
            if terminated or truncated:
                break
    return rows


def _replay_oligopoly(ctx: Any, cell: Cell, n: int) -> list[dict[str, Any]]:
    from pricegym.experiments.evaluate import derive_seeds, frozen_play  # pandas, numpy

    config = ctx.config
    env = ctx.env(cell.market)
    env_seeds, seat0 = eval_seeds(ctx, cell)
    if cell.mode == "round_robin":
        agents = _round_robin_agents(ctx, cell, env)
        names = list(cell.agents)
        seeds = [seat0, derive_seeds(config.seed, ("agent", cell.arena, cell.seed, 1), len(seat0))]
        label = cell.market
    else:
        from pricegym.experiments.evaluate import bind_to_seat  # pandas, numpy

        spec = config.agent(cell.agents[0])
        if cell.rival is None:
            raise ConfigError(f"cell {cell.id}: an oligopoly cell without a rival is not played.")
        agents = [cell_agent(ctx, spec, cell, env, 0)]
        agents += [ctx.rival(cell.rival) for _ in range(env.n_sellers - 1)]
        for i, a in enumerate(agents):
            bind_to_seat(a, env, i)
        names = [spec.name] + [cell.rival] * (env.n_sellers - 1)
        seeds = [seat0] + [
            derive_seeds(config.seed, ("rival", cell.arena, cell.seed, i), len(env_seeds))
            for i in range(1, env.n_sellers)
        ]
        label = cell.arena
    learn = config.evaluation.learn_online
    learners = (
        [True] * len(agents) if cell.mode == "round_robin" else [True] + [False] * (len(agents) - 1)
    )
    flags = [learn and f for f in learners]
    with frozen_play(agents, flags):  # as the evaluation played it
        return _replay_oligopoly_loop(cell, env, agents, names, label, env_seeds, seeds, n, flags)


def _replay_oligopoly_loop(
    cell: Cell,
    env: Any,
    agents: Sequence[Any],
    names: Sequence[str],
    label: str,
    env_seeds: Sequence[int],
    seeds: Sequence[Sequence[int]],
    n: int,
    flags: Sequence[bool],
) -> list[dict[str, Any]]:
    import numpy as np

    from pricegym.experiments.evaluate import _updater  # pandas, numpy

    updates = [_updater(a) if f else None for a, f in zip(agents, flags, strict=True)]
    seats = list(env.possible_agents)
    rows: list[dict[str, Any]] = []
    for e in range(min(n, len(env_seeds))):
        obs, _ = env.reset(seed=int(env_seeds[e]))
        for i, agent in enumerate(agents):
            agent.reset(seed=int(seeds[i][e]))
        totals = np.zeros(len(agents))
        step = 0
        while env.agents:
            actions = {a: agents[i].act(obs[a]) for i, a in enumerate(seats)}
            nxt, rewards, terms, truncs, infos = env.step(actions)
            prices = [float(infos[a]["price"]) for a in seats]
            for i, a in enumerate(seats):
                update = updates[i]
                if update is not None:
                    update(obs[a], actions[a], rewards[a], nxt[a], terms[a], infos[a])
                totals[i] += float(rewards[a])
                rows.append(
                    {
                        "mode": cell.mode,
                        "market": label,
                        "agent": names[i],
                        "opponent": names[1 - i] if len(names) == 2 else names[0 if i else 1],
                        "seat": i,
                        "seed": cell.seed,
                        "episode": e,
                        "step": step,
                        "price": prices[i],
                        "rival_price": prices[1 - i] if len(prices) == 2 else math.nan,
                        "units": float(infos[a]["quantity"]),
                        "inventory": math.inf,
                        "profit": float(rewards[a]),
                        "cum_profit": float(totals[i]),
                    }
                )
            step += 1
            obs = nxt
            if any(terms.values()) or all(truncs.values()):
                break
    return rows


def _round_robin_agents(ctx: Any, cell: Cell, env: Any) -> list[Any]:
    """The agents a round-robin cell evaluated: saved policies of learners, fresh rules."""
    from pricegym.agents.base import PricingAgent, agent_kinds  # gymnasium, numpy
    from pricegym.experiments.evaluate import bind_to_seat  # pandas, numpy

    agent_kinds()  # every kind registered before loading
    result = read_cell(cell.path(ctx.run_dir)) or {}
    saved = list(result.get("policies") or [None] * len(cell.agents))
    agents = []
    for i, name in enumerate(cell.agents):
        spec = ctx.config.agent(name)
        if saved[i]:
            agent = PricingAgent.load(ctx.run_dir / saved[i])
            agent.name = spec.name
        elif needs_training(spec):
            raise ConfigError(
                f"the trained policy of {name!r} (seat {i}) in {cell.id} was not saved, so the "
                "episode cannot be replayed. Fix: rerun the experiment with --force."
            )
        else:
            agent = ctx.new_agent(spec, env, seat=i)
        bind_to_seat(agent, env, i)
        agents.append(agent)
    return agents


def _replay_differences(replay: pd.DataFrame, episodes: pd.DataFrame | None) -> list[str]:
    """Where replayed episode profits differ from episodes.csv (empty: they agree).

    Episodes are matched on (mode, market, agent, opponent, seed, episode); a seller
    that meets itself in a round robin has one row per seat there, so the seats'
    profits are compared as sorted lists.
    """
    import numpy as np

    if episodes is None or replay.empty:
        return []
    keys = ["mode", "market", "agent", "opponent", "seed", "episode"]
    per_seat = replay.groupby([*keys, "seat"], dropna=False)["profit"].sum().reset_index()
    out = []
    for key, got in per_seat.groupby(keys, dropna=False, sort=False):
        mode, market, agent, opponent, seed, ep = key
        mask = (
            (episodes["mode"] == mode)
            & (episodes["market"] == market)
            & (episodes["agent"] == agent)
            & (episodes["seed"] == seed)
            & (episodes["episode"] == ep)
        )
        if isinstance(opponent, str):
            mask &= episodes["opponent"] == opponent
        recorded = np.sort(episodes.loc[mask, "profit"].to_numpy(dtype=float))
        replayed = np.sort(got["profit"].to_numpy(dtype=float))
        if recorded.shape != replayed.shape or not np.allclose(
            replayed, recorded, rtol=REPLAY_RTOL, atol=1e-9
        ):
            out.append(
                f"replayed episode {ep} (seed {seed}) of {agent!r} in {market!r} earned "
                f"{replayed.tolist()}, episodes.csv records {recorded.tolist()}; the figures "
                "show the replay."
            )
    return out
