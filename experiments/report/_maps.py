"""Policy maps: the price a saved policy sets over a grid of observations.

Split out of :mod:`pricegym.experiments.report` (which re-exports :func:`policy_map`
and :func:`oligopoly_policy_map`). A single seller's policy is asked for its price per
period remaining × stock (or × the competitor's last price), with the DP optimum's
exact table beside the others; an oligopoly seller's per own × rival's last price.
The agents are those the evaluation used (the first replicate seed's saved policies,
rebuilt as in ``_replay``). Matplotlib, numpy and the markets are imported
inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.report._output import WIDTH, _new_figure, _Output
from pricegym.experiments.report._replay import _Replays, _round_robin_agents
from pricegym.experiments.report._run import RunData
from pricegym.experiments.rundir import Cell, cell_agent, eval_seeds

if TYPE_CHECKING:
    import numpy as np

    from pricegym.experiments.rundir import Cell


#: Stock levels on the policy map's inventory axis (at most).
MAX_STOCK_LEVELS = 40


# ==================================================================== querying a policy
def policy_map(
    agent: Any,
    observation: np.ndarray,
    levels: Sequence[float] | None,
    *,
    axis: str = "stock",
    seed: int = 0,
) -> np.ndarray:
    """The price ``agent`` sets per (level, period) of a single-seller season.

    ``agent`` must be bound to the market (its ``market`` view locates the
    ``time_remaining``, ``inventory_fraction`` and competitor-price entries and gives
    the horizon T, the stock the fraction is relative to and the price scale).
    ``observation`` gives every other entry (e.g. the market's starting
    observation). Before each query the agent is reset with ``seed``, so each cell
    is the first decision of an episode in that state (a stochastic agent: one draw
    with that seed).

    Args:
        levels: the second axis: stock levels in units (``axis="stock"``) or the
            first competitor's last price in money (``axis="competitor"``); ``None``:
            no second axis (one row, the observation's own value).
        axis: ``"stock"`` or ``"competitor"``.

    Returns:
        Prices of shape (len(levels) or 1, T); column k is period k (T − k periods
        remaining), so the last column is the season's last period.

    Raises:
        ConfigError: an unbound agent, a market without a horizon or a
            ``time_remaining`` entry, or an ``axis`` the market does not have
            (unlimited stock, no competitor price).
    """
    import numpy as np

    view = getattr(agent, "market", None)
    if view is None or view.layout != "single" or view.time_index is None or not view.horizon:
        raise ConfigError(
            f"agent {getattr(agent, 'name', agent)!r}: a policy map needs an agent bound to a "
            "single-seller market with a horizon (time_remaining in its observation). Fix: "
            "agent.bind(env) with such a market."
        )
    if axis not in ("stock", "competitor"):
        raise ConfigError(f"axis={axis!r} is unknown. Fix: use 'stock' or 'competitor'.")
    index, scale = None, 1.0
    if levels is not None and axis == "stock":
        if view.inventory_index is None or not view.inventory:
            raise ConfigError(
                f"axis='stock', but the market of agent {agent.name!r} has unlimited stock. "
                "Fix: pass levels=None, or axis='competitor'."
            )
        index, scale = view.inventory_index, float(view.inventory)
    elif levels is not None:
        if not view.rival_indices:
            raise ConfigError(
                f"axis='competitor', but the market of agent {agent.name!r} has no competitor "
                "price in its observation. Fix: pass levels=None, or axis='stock'."
            )
        index, scale = view.rival_indices[0], float(view.price_scale)
    horizon = int(view.horizon)
    base = np.asarray(observation, dtype=np.float32).copy()
    rows: list[float | None] = [None] if levels is None else [float(v) for v in levels]
    out = np.empty((len(rows), horizon), dtype=np.float64)
    for i, level in enumerate(rows):
        for k in range(horizon):
            obs = base.copy()
            obs[view.time_index] = (horizon - k) / horizon
            if level is not None and index is not None:
                obs[index] = level / scale
            agent.reset(seed=seed)
            out[i, k] = float(view.codec.to_price(agent.act(obs)))
    return out


def oligopoly_policy_map(
    agent: Any, prices: Sequence[float] | np.ndarray, *, seed: int = 0
) -> np.ndarray:
    """The price ``agent`` (bound to a seat of an OligopolyEnv) sets after a round in
    which it charged ``prices[i]`` and every rival ``prices[j]``.

    Every remembered round (memory k > 1) holds the same prices; without shocks
    and with simultaneous moves that is the whole state; otherwise the turn entry
    is 0 and regime 0 governs. The agent is reset with ``seed`` before each query.

    Returns:
        Prices of shape (len(prices), len(prices)): row i = own last price, column
        j = rival's last price.
    """
    import numpy as np

    view = getattr(agent, "market", None)
    if view is None or view.layout != "oligopoly":
        raise ConfigError(
            f"agent {getattr(agent, 'name', agent)!r} is not bound to an oligopoly seat. Fix: "
            "bind it with pricegym.experiments.evaluate.bind_to_seat(agent, env, seat)."
        )
    grid = np.asarray(prices, dtype=np.float64)
    codec = view.codec
    if codec.grid is not None:
        coded = codec.to_action(grid) / (codec.grid.size - 1)
    else:
        coded = (grid - codec.p_min) / (codec.p_max - codec.p_min)
    own = [i for i, n in enumerate(view.names) if n.startswith("own_price:")]
    rivals = [i for i, n in enumerate(view.names) if n.startswith("rival_price:")]
    out = np.empty((grid.size, grid.size), dtype=np.float64)
    base = np.zeros(len(view.names), dtype=np.float32)
    if "regime:0" in view.names:
        base[view.names.index("regime:0")] = 1.0
    for i in range(grid.size):
        for j in range(grid.size):
            obs = base.copy()
            obs[own] = coded[i]
            obs[rivals] = coded[j]
            agent.reset(seed=seed)
            out[i, j] = float(codec.to_price(agent.act(obs)))
    return out


# ==================================================================== figures
def _fig_policies(run: RunData, out: _Output, replays: _Replays | None) -> None:
    section = "policies"
    if replays is None:
        out.skip(
            section,
            "Policy maps",
            f"the experiment cannot be rebuilt from resolved.json ({run.config_error}).",
        )
        return
    if replays.config.market.is_oligopoly:
        _oligopoly_maps(run, out, replays)
    elif replays.config.market.is_catalogue:
        out.skip(
            section,
            "Policy maps",
            "a catalogue's price vector depends on every product's stock, more axes than "
            "a map shows; the price paths per product show what each agent posted.",
        )
    else:
        _single_maps(run, out, replays)


def _map_axis(view: Any) -> tuple[str | None, list[float] | None]:
    """The second axis of a single-seller policy map: stock if finite, else the first
    competitor's price if observed, else none (one row)."""
    import numpy as np

    if view.inventory_index is not None and view.inventory:
        top = float(view.inventory)
        n = int(min(MAX_STOCK_LEVELS, max(1, round(top))))
        return "stock", np.unique(np.rint(np.linspace(1, top, n))).tolist()
    if view.rival_indices:
        grid = view.codec.grid
        prices = grid if grid is not None else np.linspace(view.codec.p_min, view.codec.p_max, 15)
        return "competitor", [float(p) for p in prices]
    return None, None


def _single_maps(run: RunData, out: _Output, replays: _Replays) -> None:
    from pricegym.agents.dp import DPAgent  # scipy, pandas, gymnasium

    section = "policies"
    config, ctx, seed = replays.config, replays.ctx, replays.seed
    if "solo" not in config.tournament.modes:
        out.skip(section, "Policy maps", "no agent plays the market alone (tournament mode solo).")
        return
    specs = [s for s in config.agents if s.plays("solo")]
    for base in config.market.market_names():
        env = ctx.env(base)
        panels: list[tuple[str, Any, bool]] = []
        axis: str | None = None
        levels: list[float] | None = None
        obs, horizon = None, 0
        # evaluation seeds depend on the market and replicate only (paired comparisons)
        env_seeds, agent_seeds = eval_seeds(ctx, Cell("evaluate", "solo", ("",), base, seed))
        for spec in specs:
            cell = Cell("evaluate", "solo", (spec.name,), base, seed)
            try:
                agent = cell_agent(ctx, spec, cell)
                agent.bind(env)
                view = agent.market
                if view.time_index is None or not view.horizon:
                    raise ConfigError(
                        "the market has no season (horizon), so there is no time remaining to "
                        "map the policy over"
                    )
                if obs is None:
                    obs, _ = env.reset(seed=int(env_seeds[0]))
                    horizon = int(view.horizon)
                    axis, levels = _map_axis(view)
                prices = policy_map(
                    agent,
                    obs,
                    levels,
                    axis=axis or "stock",
                    seed=int(agent_seeds[0]),
                )
            except PricegymError as exc:
                out.skip(section, f"Policy map of {spec.name} in {base}", str(exc))
                continue
            dp = isinstance(agent, DPAgent)
            label = f"{spec.name} (DP optimum: exact table)" if dp else spec.name
            panels.append((label, prices, dp))
        if not panels:
            continue
        panels.sort(key=lambda m: not m[2])  # the DP optimum first, the others beside it
        _plot_single_maps(out, base, panels, axis, levels, horizon, env, seed)


def _plot_single_maps(
    out: _Output,
    base: str,
    panels: list[tuple[str, Any, bool]],
    axis: str | None,
    levels: list[float] | None,
    horizon: int,
    env: Any,
    seed: int,
) -> None:
    import numpy as np

    from pricegym.agents.view import ActionCodec  # gymnasium, numpy

    codec = ActionCodec.from_env(env)
    periods = np.arange(1, horizon + 1)
    source = (
        f"asked of the saved policy of replicate seed {seed} as the first decision after a "
        "reset; every other observation entry is that of the start of evaluation episode 0"
    )
    if axis is None or levels is None:
        fig = _new_figure(WIDTH, 520)
        ax = fig.subplots()
        for label, prices, _ in panels:
            ax.step(periods, prices[0], where="mid", label=label, linewidth=1.6)
        ax.set_xlabel("period of the season")
        ax.set_ylabel("price set")
        ax.set_title(f"Price by period, {base} (unlimited stock, no competitor price observed)")
        ax.legend(loc="best", fontsize="small")
        ax.grid(alpha=0.3)
        caption = f"The price each agent sets in each period of the season, {source}."
    else:
        cols = min(3, len(panels))
        rows_n = math.ceil(len(panels) / cols)
        fig = _new_figure(WIDTH, 110 + 300 * rows_n)
        axes = fig.subplots(rows_n, cols, squeeze=False)
        y_edges = _edges(np.asarray(levels, dtype=float))
        x_edges = np.arange(horizon + 1) + 0.5
        ylabel = "stock at the start of the period" if axis == "stock" else "competitor's price"
        mesh = None
        for ax, (label, prices, _) in zip(axes.ravel(), panels, strict=False):
            mesh = ax.pcolormesh(
                x_edges, y_edges, prices, cmap="viridis", vmin=codec.p_min, vmax=codec.p_max
            )
            ax.set_title(label, fontsize="medium")
            ax.set_xlabel("period of the season")
            ax.set_ylabel(ylabel)
        for ax in axes.ravel()[len(panels) :]:
            ax.set_axis_off()
        assert mesh is not None
        fig.colorbar(mesh, ax=axes.ravel().tolist(), label="price set", shrink=0.9)
        what = "stock level" if axis == "stock" else "last price of the competitor"
        caption = (
            f"The price each agent sets (colour) in each period (x; a season of {horizon} "
            f"periods) at each {what} (y), {source}."
        )
        if any(dp for _, _, dp in panels):
            caption += " The DP optimum's panel is its exact (period × stock) table" + (
                " (it does not read the competitor's price)." if axis != "stock" else "."
            )
    out.save(fig, f"policy_map__{base}", "policies", f"Policy maps — {base}", caption)


def _edges(levels: np.ndarray) -> np.ndarray:
    import numpy as np

    if levels.size == 1:
        return np.array([levels[0] - 0.5, levels[0] + 0.5])
    mid = (levels[1:] + levels[:-1]) / 2
    return np.concatenate(
        [[levels[0] - (mid[0] - levels[0])], mid, [levels[-1] + (levels[-1] - mid[-1])]]
    )


def _oligopoly_maps(run: RunData, out: _Output, replays: _Replays) -> None:
    import numpy as np

    from pricegym.experiments.evaluate import bind_to_seat  # pandas, numpy

    section = "policies"
    ctx, seed = replays.ctx, replays.seed
    chosen: dict[str, Cell] = {}
    for cell in replays.cells():
        name = cell.agents[0]
        pair = cell.mode == "round_robin" and len(cell.agents) == 2 and cell.agents[1] == name
        if name not in chosen or (pair and chosen[name].agents != cell.agents):
            chosen[name] = cell
    if not chosen:
        out.skip(section, "Policy maps", "no round-robin or vs_rules cells were played.")
        return
    # market -> (label, prices (own × rival), price grid, the agent's market view) per agent
    by_market: dict[str, list[tuple[str, np.ndarray, np.ndarray, Any]]] = {}
    for name, cell in chosen.items():
        against: str | None
        try:
            env = ctx.env(cell.market)
            if cell.mode == "round_robin":
                agent = _round_robin_agents(ctx, cell, env)[0]
                against = cell.agents[1]
            else:
                agent = cell_agent(ctx, ctx.config.agent(name), cell, env, 0)
                bind_to_seat(agent, env, 0)
                against = cell.rival
            view = agent.market
            grid = (
                view.codec.grid
                if view.codec.grid is not None
                else np.linspace(view.codec.p_min, view.codec.p_max, 15)
            )
            prices = oligopoly_policy_map(agent, grid, seed=int(eval_seeds(ctx, cell)[1][0]))
        except PricegymError as exc:
            out.skip(section, f"Policy map of {name}", str(exc))
            continue
        label = f"{name} (seat 0 vs {against})"
        by_market.setdefault(cell.market, []).append((label, prices, grid, view))
    for market, maps in by_market.items():
        cols = min(3, len(maps))
        rows_n = math.ceil(len(maps) / cols)
        fig = _new_figure(WIDTH, 110 + 320 * rows_n)
        axes = fig.subplots(rows_n, cols, squeeze=False)
        mesh = None
        for ax, (label, prices, g, view) in zip(axes.ravel(), maps, strict=False):
            edges = _edges(np.asarray(g, dtype=float))
            mesh = ax.pcolormesh(
                edges, edges, prices, cmap="viridis", vmin=float(g[0]), vmax=float(g[-1])
            )
            for v, style in ((view.nash_price, ":"), (view.monopoly_price, "--")):
                if v is not None:
                    ax.axvline(v, color="white", linestyle=style, linewidth=1)
                    ax.axhline(v, color="white", linestyle=style, linewidth=1)
            ax.set_title(label, fontsize="medium")
            ax.set_xlabel("rival's last price")
            ax.set_ylabel("own last price")
        for ax in axes.ravel()[len(maps) :]:
            ax.set_axis_off()
        assert mesh is not None
        fig.colorbar(mesh, ax=axes.ravel().tolist(), label="price set", shrink=0.9)
        out.save(
            fig,
            f"policy_map__{market}",
            section,
            f"Policy maps — {market}",
            f"The price each seller sets (colour) as a function of the rival's last price (x) "
            f"and its own (y), asked of the saved policy of replicate seed {seed} (seat 0 of its "
            "first pairing; every remembered round at those prices). White lines: Bertrand–Nash "
            "(dotted) and joint-monopoly (dashed) prices.",
        )
