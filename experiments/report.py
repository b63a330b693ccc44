"""Reports of a run directory: matplotlib figures (PNG) and a self-contained ``index.html``.

:func:`build_report` is called by the runner at the end of ``pricegym run`` and by
``pricegym report RUN_DIR``; it reads what the run saved and writes next to it::

    figures/*.png   one PNG per figure, each written atomically (temp file + rename)
    report.json     the figures drawn (file, section, title, caption, pixel size), the
                    figures not drawn with the reason, and notes
    index.html      the page: league tables, benchmarks, head-to-head and cross-model
                    tables, the figures, the run's config, command line and versions

Nothing is retrained. Every figure is built from the saved results:

==================  ===========================================================================
figure              source
==================  ===========================================================================
league table        ``summary.csv``: mean profit per episode with its CI, or % of the DP
                    optimum where it is defined, or the collusion index Δ in an oligopoly
price paths         a **replay** of the evaluation episodes of the first replicate seed with
cumulative profit   the saved policies (``policies/``) and the saved demand models
                    (``models/``), with the very env and agent seeds of the evaluation, so
                    each replayed episode is the recorded one; the replay is checked
                    against ``episodes.csv`` and any difference is noted on the page
learning curves     SB3's logs (``logs/train/<cell>/progress.csv``: mean training episode
                    profit; ``eval/evaluations.npz``: evaluation profit)
policy maps         the saved policies of the first replicate seed, asked for their price on
                    a grid of observations: periods remaining × stock (single seller; the DP
                    optimum's exact table beside the others), own × rival's last price
                    (oligopoly)
head-to-head        ``head_to_head.csv`` (round robin) and the vs_rules rows of summary.csv
cross-model matrix  ``cross_model.csv``
demand-model fit    the fitted models in ``models/`` (:func:`pricegym.demand.plot.plot_model`)
==================  ===========================================================================

A figure without data in a run is not drawn; the page says why in one line.
Rebuilding a report from the same run directory gives the same ``index.html``.

Matplotlib, pandas and the markets are imported inside the functions, so that
importing this module (``pricegym --help`` builds every parser) stays cheap.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pricegym.experiments.runner import Cell
    from pricegym.experiments.schema import ExperimentConfig

__all__ = [
    "DPI",
    "SECTIONS",
    "Report",
    "ReportFigure",
    "RunData",
    "SkippedFigure",
    "build_report",
    "cli_report",
    "configure_report_parser",
    "cross_model_matrix",
    "head_to_head_matrix",
    "league_bars",
    "learning_curves",
    "load_run",
    "oligopoly_policy_map",
    "policy_map",
    "render_report",
    "replay_cell",
]

#: Resolution of every figure, dots per inch (sizes below are in pixels).
DPI = 100
#: Width of the report's own figures in pixels.
WIDTH = 1000
#: Sections of the page, in order: id → heading.
SECTIONS: dict[str, str] = {
    "league": "League table",
    "markets": "Price paths and cumulative profit",
    "learning": "Learning curves",
    "policies": "Policy maps",
    "tournament": "Head-to-head and cross-model",
    "demand": "Demand models",
}
#: Evaluation episodes of the first replicate seed replayed per cell (at most).
MAX_REPLAY_EPISODES = 50
#: Stock levels on the policy map's inventory axis (at most).
MAX_STOCK_LEVELS = 40
#: Panels of one oligopoly price-path figure and lines of one cumulative-profit plot.
MAX_PANELS = 9
MAX_LINES = 12
#: Relative tolerance of the replay check against episodes.csv.
REPLAY_RTOL = 1e-9
#: Files of a run directory the report reads (the first must exist in a run directory).
_MARKER = "resolved.json"
_FIGURES = "figures"


# ==================================================================== results
@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report.

    Attributes:
        file: path relative to the run directory (``figures/<name>.png``).
        section: the page section (a key of :data:`SECTIONS`).
        title: heading shown above the figure.
        caption: what it shows and where the numbers come from.
        width, height: size of the PNG in pixels.
    """

    file: str
    section: str
    title: str
    caption: str
    width: int
    height: int


@dataclass(frozen=True)
class SkippedFigure:
    """A figure the run has no data for, and why (one line on the page)."""

    section: str
    title: str
    reason: str


@dataclass(frozen=True)
class Report:
    """What :func:`render_report` wrote.

    Attributes:
        index: the ``index.html`` file.
        figures: the figures drawn, in page order.
        skipped: the figures not drawn, with reasons.
        notes: remarks about the data (e.g. a replay that differs from the record).
    """

    index: Path
    figures: tuple[ReportFigure, ...]
    skipped: tuple[SkippedFigure, ...]
    notes: tuple[str, ...] = ()


@dataclass
class RunData:
    """The saved results of a run directory (see :func:`load_run`).

    Attributes:
        path: the run directory.
        resolved: the resolved experiment (``resolved.json``).
        config: the experiment rebuilt from it, or ``None`` when it cannot be (then
            ``config_error`` says why, and figures that replay policies are skipped).
        summary: the league table (``summary.csv``).
        episodes: the tidy episode table (``episodes.csv``), if present.
        benchmarks: ``benchmarks.json`` (empty if absent).
        head_to_head, cross_model: those tables when the tournament modes ran.
        command, config_text: ``command.txt`` and ``config.yaml`` as text.
        versions: ``versions.json``.
    """

    path: Path
    resolved: dict[str, Any]
    config: ExperimentConfig | None
    summary: pd.DataFrame
    episodes: pd.DataFrame | None
    benchmarks: dict[str, Any]
    head_to_head: pd.DataFrame | None = None
    cross_model: pd.DataFrame | None = None
    command: str = ""
    config_text: str = ""
    versions: dict[str, Any] = field(default_factory=dict)
    config_error: str | None = None


# ==================================================================== loading
def _not_a_run(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{str(path)!r} is not a pricegym run directory: {why}. Fix: pass the directory that "
        "`pricegym run CONFIG --out DIR` wrote (by default runs/<experiment name>), e.g. "
        "`pricegym report runs/quickstart`."
    )


def load_run(run_dir: str | Path) -> RunData:
    """Read the saved results of ``run_dir``.

    Raises:
        ConfigError: ``run_dir`` is missing, not a directory, not a run directory (no
            ``resolved.json``), or a run that has not finished (no ``summary.csv``).
    """
    import pandas as pd

    path = Path(run_dir)
    if not path.exists():
        raise _not_a_run(path, "it does not exist")
    if not path.is_dir():
        raise _not_a_run(path, "it is a file, not a directory")
    marker = path / _MARKER
    if not marker.is_file():
        raise _not_a_run(path, f"it has no {_MARKER}")
    try:
        resolved = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise _not_a_run(path, f"its {_MARKER} cannot be read ({exc})") from None
    summary_path = path / "summary.csv"
    if not summary_path.is_file():
        raise ConfigError(
            f"run directory {str(path)!r} has no summary.csv: the run has not finished. Fix: run "
            f"`pricegym run CONFIG --out {path}` again to complete it (finished cells are "
            f"reused), then `pricegym report {path}`."
        )
    texts = {"opponent": str, "trained_in": str, "market": str, "agent": str, "mode": str}
    summary = pd.read_csv(summary_path, dtype={k: v for k, v in texts.items() if k != "opponent"})
    episodes_path = path / "episodes.csv"
    episodes = pd.read_csv(episodes_path, dtype=texts) if episodes_path.is_file() else None
    h2h = path / "head_to_head.csv"
    cross = path / "cross_model.csv"
    config, error = None, None
    try:
        from pricegym.experiments.schema import load_experiment

        config = load_experiment(resolved)
    except PricegymError as exc:
        error = str(exc)
    return RunData(
        path=path,
        resolved=resolved,
        config=config,
        summary=summary,
        episodes=episodes,
        benchmarks=_read_json(path / "benchmarks.json", {}),
        head_to_head=pd.read_csv(h2h, dtype=texts) if h2h.is_file() else None,
        cross_model=pd.read_csv(cross, dtype=texts) if cross.is_file() else None,
        command=_read_text(path / "command.txt").strip(),
        config_text=_read_text(path / "config.yaml"),
        versions=_read_json(path / "versions.json", {}),
        config_error=error,
    )


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return default


# ==================================================================== data behind the figures
def league_bars(summary: pd.DataFrame) -> pd.DataFrame:
    """The bars of the league-table figure: one row per summary row, in its order.

    Per (mode, market) panel the metric is ``pct_of_optimum`` (% of the DP optimum)
    when every row of the panel has it, else ``delta`` (collusion index) when every
    row has it, else ``mean`` (profit per episode); ``value``/``low``/``high`` are
    that column and its CI columns exactly as in summary.csv.

    Returns:
        Columns ``mode, market, agent, metric, value, low, high``.
    """
    import pandas as pd

    metrics = (
        ("pct_of_optimum", "pct_low", "pct_high"),
        ("delta", "delta_low", "delta_high"),
        ("mean", "mean_low", "mean_high"),
    )
    frame = summary.copy()
    if "mode" not in frame.columns:
        frame["mode"] = "solo"
    rows = []
    for _, panel in frame.groupby(["mode", "market"], sort=False):
        col, lo, hi = next(
            (m for m in metrics if m[0] in panel.columns and panel[m[0]].notna().all()),
            metrics[-1],
        )
        for _, r in panel.iterrows():
            rows.append(
                {
                    "mode": r["mode"],
                    "market": r["market"],
                    "agent": r["agent"],
                    "metric": col,
                    "value": float(r[col]),
                    "low": float(r[lo]),
                    "high": float(r[hi]),
                }
            )
    return pd.DataFrame(rows, columns=["mode", "market", "agent", "metric", "value", "low", "high"])


def head_to_head_matrix(table: pd.DataFrame, market: str, value: str = "mean") -> pd.DataFrame:
    """Agent (rows) × opponent (columns) of ``value`` in ``market`` of head_to_head.csv.

    Cell (a, b) is a's ``value`` (mean profit per episode, or ``delta``) when
    playing b; rows and columns follow the order in which agents first appear.
    """
    rows = table[table["market"] == market]
    names = list(dict.fromkeys([*rows["agent"], *rows["opponent"]]))
    wide = rows.pivot_table(index="agent", columns="opponent", values=value, aggfunc="first")
    return wide.reindex(index=names, columns=names)


def cross_model_matrix(table: pd.DataFrame, agent: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trained-in (rows) × evaluated-in (columns) mean profit of ``agent``, and the same
    as % of the profit of the policy trained in the evaluated market itself (the
    diagonal; % of the column's best where the diagonal is missing).
    """
    rows = table[table["agent"] == agent]
    markets = list(dict.fromkeys([*rows["trained_in"], *rows["market"]]))
    mean = rows.pivot_table(index="trained_in", columns="market", values="mean", aggfunc="first")
    mean = mean.reindex(index=markets, columns=markets)
    relative = mean.copy()
    for col in markets:
        home = mean.loc[col, col] if col in mean.index else float("nan")
        ref = home if _finite(home) and home != 0 else mean[col].max()
        relative[col] = 100.0 * mean[col] / ref if _finite(ref) and ref != 0 else float("nan")
    return mean, relative


def learning_curves(run_dir: str | Path) -> pd.DataFrame:
    """Training curves from the SB3 logs of every training cell of ``run_dir``.

    Returns:
        Columns ``agent, market, seed, source, timesteps, profit``: ``source`` is
        ``"train"`` (``rollout/ep_rew_mean`` of ``progress.csv``: mean profit of the
        last training episodes, unnormalised) or ``"eval"`` (mean of
        ``eval/evaluations.npz``'s episodes at each evaluation). Empty when no cell
        left such logs.
    """
    import numpy as np
    import pandas as pd

    run = Path(run_dir)
    rows: list[dict[str, Any]] = []
    for cell_file in sorted((run / "cells" / "train").glob("*.json")):
        key = _read_json(cell_file, {}).get("key")
        if not key:
            continue
        arena = f"{key['market']} vs {key['rival']}" if key.get("rival") else key["market"]
        base = {"agent": "+".join(key["agents"]), "market": arena, "seed": int(key["seed"])}
        logs = run / "logs" / "train" / cell_file.stem
        progress = logs / "progress.csv"
        if progress.is_file():
            try:
                frame = pd.read_csv(progress)
            except (pd.errors.EmptyDataError, pd.errors.ParserError):
                frame = pd.DataFrame()
            cols = ("time/total_timesteps", "rollout/ep_rew_mean")
            if all(c in frame.columns for c in cols):
                frame = frame[list(cols)].dropna()
                for t, v in frame.itertuples(index=False):
                    rows.append({**base, "source": "train", "timesteps": int(t), "profit": v})
        evals = logs / "eval" / "evaluations.npz"
        if evals.is_file():
            with np.load(evals) as data:
                if "timesteps" in data and "results" in data and len(data["timesteps"]):
                    means = np.asarray(data["results"], dtype=float).reshape(
                        len(data["timesteps"]), -1
                    )
                    for t, v in zip(data["timesteps"], means.mean(axis=1), strict=True):
                        rows.append({**base, "source": "eval", "timesteps": int(t), "profit": v})
    columns = ["agent", "market", "seed", "source", "timesteps", "profit"]
    return pd.DataFrame(rows, columns=columns)


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


def oligopoly_policy_map(agent: Any, prices: Sequence[float], *, seed: int = 0) -> np.ndarray:
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


# ==================================================================== replays
class _Replays:
    """Replays of the evaluation cells of the first replicate seed, computed once each."""

    def __init__(self, run: RunData) -> None:
        from pricegym.experiments.runner import RunContext

        assert run.config is not None
        self.run, self.config = run, run.config
        self.ctx = RunContext(run.config, run.path)
        self.seed = run.config.evaluation.seeds[0]
        self._done: dict[Cell, pd.DataFrame | str] = {}

    def cells(self) -> list[Cell]:
        """Every solo / vs_rules / round-robin cell of the first seed, in plan order."""
        from pricegym.experiments.runner import plan_cells

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
    evaluation (``evaluation.learn_online``) is replayed too. So each replayed
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
        the period, NaN without one; ``inventory`` the stock after the period).

    Raises:
        ConfigError: the run's config cannot be rebuilt, a cross_model or training
            cell, or a policy the cell needs is missing.
    """
    import pandas as pd

    from pricegym.experiments.runner import RunContext

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
    return pd.DataFrame(rows, columns=list(_REPLAY_COLUMNS))


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
    from pricegym.experiments.evaluate import _updater
    from pricegym.experiments.runner import cell_agent, eval_seeds

    spec = ctx.config.agent(cell.agents[0])
    env = ctx.env(cell.market, cell.rival)
    agent = cell_agent(ctx, spec, cell)
    agent.bind(env)
    env_seeds, agent_seeds = eval_seeds(ctx, cell)
    update = _updater(agent) if ctx.config.evaluation.learn_online else None
    rows: list[dict[str, Any]] = []
    for e, (env_seed, agent_seed) in enumerate(zip(env_seeds[:n], agent_seeds[:n], strict=True)):
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
    import numpy as np

    from pricegym.experiments.evaluate import _updater, derive_seeds
    from pricegym.experiments.runner import cell_agent, eval_seeds

    config = ctx.config
    env = ctx.env(cell.market)
    env_seeds, seat0 = eval_seeds(ctx, cell)
    if cell.mode == "round_robin":
        agents = _round_robin_agents(ctx, cell, env)
        names = list(cell.agents)
        seeds = [seat0, derive_seeds(config.seed, ("agent", cell.arena, cell.seed, 1), len(seat0))]
        label = cell.market
    else:
        from pricegym.experiments.evaluate import bind_to_seat

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
    updates = [_updater(a) if learn and f else None for a, f in zip(agents, learners, strict=True)]
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
                if updates[i] is not None:
                    updates[i](obs[a], actions[a], rewards[a], nxt[a], terms[a], infos[a])
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
    from pricegym.agents.base import PricingAgent, agent_kinds
    from pricegym.experiments.evaluate import bind_to_seat
    from pricegym.experiments.runner import needs_training, read_cell

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


# ==================================================================== output
class _Output:
    """Collects the figures (saving each PNG atomically), the skipped ones and notes."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.dir = run_dir / _FIGURES
        self.figures: list[ReportFigure] = []
        self.skipped: list[SkippedFigure] = []
        self.notes: list[str] = []
        self._names: set[str] = set()

    def save(self, fig: Figure, name: str, section: str, title: str, caption: str) -> None:
        from pricegym.demand.plot import save_figure

        stem = _slug(name)
        unique, i = stem, 2
        while unique in self._names:
            unique, i = f"{stem}_{i}", i + 1
        self._names.add(unique)
        _agg(fig)
        width, height = fig.canvas.get_width_height()
        save_figure(fig, self.dir / f"{unique}.png", dpi=DPI)
        self.figures.append(
            ReportFigure(f"{_FIGURES}/{unique}.png", section, title, caption, width, height)
        )

    def skip(self, section: str, title: str, reason: str) -> None:
        self.skipped.append(SkippedFigure(section, title, reason))


def _agg(fig: Figure) -> None:
    """Attach the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)


def _new_figure(width: int, height: int) -> Figure:
    """A constrained-layout figure of ``width`` × ``height`` pixels at :data:`DPI`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    _agg(fig)
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:100] or "figure"


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _colours(names: Iterable[str]) -> dict[str, Any]:
    """One colour per agent, the same in every figure (tab10, then tab20)."""
    from matplotlib import colormaps

    names = list(dict.fromkeys(names))
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def _agent_order(run: RunData) -> list[str]:
    names = [a["name"] for a in run.resolved.get("agents", [])]
    names += [r["name"] for r in run.resolved.get("tournament", {}).get("rivals", [])]
    names += list(run.summary["agent"].astype(str))
    return list(dict.fromkeys(names))


# ==================================================================== figures
def _fig_league(run: RunData, out: _Output) -> None:
    import numpy as np

    bars = league_bars(run.summary)
    title = "League table with confidence intervals"
    if bars.empty:
        out.skip("league", title, "summary.csv has no rows.")
        return
    panels = list(bars.groupby(["mode", "market"], sort=False))
    sizes = [len(p) for _, p in panels]
    height = 80 + sum(70 + 34 * s for s in sizes)
    fig = _new_figure(WIDTH, height)
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=[2 + s for s in sizes])[:, 0]
    colours = _colours(_agent_order(run))
    level = run.resolved.get("evaluation", {}).get("confidence", 0.95)
    labels = {
        "pct_of_optimum": "% of the DP optimum (profit per episode)",
        "delta": "collusion index Δ (0 = Nash, 1 = monopoly)",
        "mean": "profit per episode",
    }
    for ax, ((mode, market), panel) in zip(axes, panels, strict=True):
        y = np.arange(len(panel))[::-1]
        value = panel["value"].to_numpy()
        err = np.vstack([value - panel["low"].to_numpy(), panel["high"].to_numpy() - value])
        err = np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0)
        ax.barh(y, value, color=[colours.get(a, "0.5") for a in panel["agent"]], height=0.6)
        ax.errorbar(value, y, xerr=err, fmt="none", ecolor="black", capsize=4, linewidth=1.2)
        ax.set_yticks(y, panel["agent"].tolist())
        metric = panel["metric"].iloc[0]
        if metric == "pct_of_optimum":
            ax.axvline(100.0, color="black", linestyle="--", linewidth=1, label="DP optimum")
            fixed = _benchmark(run, market, "best_fixed")
            opt = _benchmark(run, market, "dp")
            if fixed is not None and opt:
                ax.axvline(100 * fixed / opt, color="0.4", linestyle=":", label="best fixed price")
            lows = np.where(np.isfinite(panel["low"]), panel["low"], panel["value"])
            low = min(float(lows.min()), 100 * (fixed or opt or 0) / (opt or 1))
            ax.set_xlim(max(0.0, low - 0.15 * (100 - low) - 1), None)
            ax.legend(loc="lower right", fontsize="small")
        elif metric == "delta":
            ax.axvline(0.0, color="black", linewidth=1)
            ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="monopoly (Δ = 1)")
            ax.legend(loc="lower right", fontsize="small")
        ax.set_xlabel(labels[metric])
        ax.set_title(f"{market} ({mode})" if mode != "solo" else market, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    out.save(
        fig,
        "league",
        "league",
        title,
        f"Bars: the league table's metric per agent (summary.csv); whiskers: its {level:.0%} "
        "bootstrap CI across replicate seeds (none with a single seed). % of the DP optimum "
        "where it is defined, the collusion index Δ in an oligopoly, else mean profit.",
    )


def _benchmark_lines(ax: Any, run: RunData, arena: str) -> None:
    """Dashed DP-optimum and dotted best-fixed-price lines, where the market has them.

    An arena "A vs B" (agent against a rival) has neither benchmark.
    """
    if " vs " in arena:
        return
    for key, style, label in (
        ("dp", "--", "DP optimum (expected)"),
        ("best_fixed", ":", "best fixed price (expected)"),
    ):
        v = _benchmark(run, arena, key)
        if v is not None:
            ax.axhline(v, color="black", linestyle=style, linewidth=1, label=label)


def _benchmark(run: RunData, market: str, key: str) -> float | None:
    base = market.split(" vs ", 1)[0]
    v = run.benchmarks.get(market, run.benchmarks.get(base, {})).get(key)
    return float(v) if _finite(v) else None


def _fig_markets(run: RunData, out: _Output, replays: _Replays | None) -> None:
    section = "markets"
    if replays is None:
        out.skip(
            section,
            "Price paths and cumulative profit",
            f"the experiment cannot be rebuilt from resolved.json ({run.config_error}).",
        )
        return
    groups: dict[str, list[Cell]] = {}
    for cell in replays.cells():
        groups.setdefault(cell.arena, []).append(cell)
    if not groups:
        out.skip(section, "Price paths", "no solo, vs_rules or round-robin cells were played.")
        return
    oligopoly = replays.config.market.is_oligopoly
    colours = _colours(_agent_order(run))
    for arena, cells in groups.items():
        frames, failures = [], []
        for cell in cells:
            got = replays.get(cell)
            if isinstance(got, str):
                failures.append(got)
            else:
                frames.append(got)
                out.notes.extend(_replay_differences(got, run.episodes))
        for why in failures:
            out.skip(section, f"Replay in {arena}", why)
        if not frames:
            continue
        if oligopoly:
            _plot_oligopoly_paths(run, out, arena, frames, replays.seed)
        else:
            _plot_single_paths(run, out, arena, frames, colours, replays.seed)


def _plot_single_paths(
    run: RunData,
    out: _Output,
    arena: str,
    frames: list[pd.DataFrame],
    colours: Mapping[str, Any],
    seed: int,
) -> None:
    import numpy as np
    import pandas as pd

    data = pd.concat(frames, ignore_index=True)
    first = data[data["episode"] == 0]
    finite_stock = bool(np.isfinite(first["inventory"]).all())
    has_rival = bool(first["rival_price"].notna().any())
    fig = _new_figure(WIDTH, 720)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for agent, rows in first.groupby("agent", sort=False):
        c = colours.get(agent, "0.5")
        steps = rows["step"].to_numpy() + 1
        top.step(steps, rows["price"], where="mid", color=c, linewidth=1.8, label=agent)
        if has_rival:
            top.step(steps, rows["rival_price"], where="mid", color=c, linewidth=1, ls="--")
        what = rows["inventory"] if finite_stock else rows["units"]
        bottom.plot(steps, what, color=c, marker="o", markersize=3, linewidth=1.4, label=agent)
    top.set_ylabel("price")
    rival_note = " (dashed: the competitor's price in the same episode)" if has_rival else ""
    top.set_title(f"Price per period, {arena}: episode 0 of seed {seed}{rival_note}")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_ylabel("stock after the period" if finite_stock else "units sold")
    bottom.set_xlabel("period")
    bottom.grid(alpha=0.3)
    if finite_stock:
        bottom.set_ylim(bottom=0)
    out.save(
        fig,
        f"price_paths__{arena}",
        "markets",
        f"Price paths — {arena}",
        f"Each agent's price in every period of the same evaluation episode (episode 0 of "
        f"replicate seed {seed}: the same demand draws for every agent), replayed from the saved "
        f"policies; below, {'the stock left' if finite_stock else 'units sold'} per period.",
    )
    # cumulative profit: mean over the replayed episodes, carried to the season's end
    fig = _new_figure(WIDTH, 520)
    ax = fig.subplots()
    n_eps = int(data["episode"].nunique())
    for agent, rows in data.groupby("agent", sort=False):
        wide = rows.pivot_table(index="episode", columns="step", values="cum_profit")
        mean = wide.ffill(axis=1).mean(axis=0)
        ax.plot(mean.index + 1, mean.to_numpy(), color=colours.get(agent, "0.5"), label=agent)
    _benchmark_lines(ax, run, arena)
    ax.set_xlabel("period")
    ax.set_ylabel("cumulative profit")
    ax.set_title(f"Cumulative profit, {arena}: mean of {n_eps} episode(s) of seed {seed}")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    out.save(
        fig,
        f"cumulative_profit__{arena}",
        "markets",
        f"Cumulative profit — {arena}",
        f"Profit accumulated period by period, averaged over the {n_eps} replayed evaluation "
        f"episode(s) of replicate seed {seed} (an episode that sold out keeps its final total). "
        "Horizontal lines: the expected season profit of the DP optimum and of the best fixed "
        "price (benchmarks.json), where they are defined.",
    )


def _plot_oligopoly_paths(
    run: RunData, out: _Output, arena: str, frames: list[pd.DataFrame], seed: int
) -> None:
    import numpy as np

    base = arena.split(" vs ", 1)[0]
    bench = run.benchmarks.get(base, {})
    nash = (bench.get("nash_prices") or [None])[0]
    mono = (bench.get("monopoly_prices") or [None])[0]
    shown = frames[:MAX_PANELS]
    cols = min(3, len(shown))
    rows_n = math.ceil(len(shown) / cols)
    fig = _new_figure(WIDTH, 120 + 300 * rows_n)
    axes = fig.subplots(rows_n, cols, squeeze=False).ravel()
    seat_colours = ("C0", "C3", "C2", "C4")
    for ax, frame in zip(axes, shown, strict=False):
        first = frame[frame["episode"] == 0]
        names = []
        for seat, rows in first.groupby("seat"):
            name = f"{rows['agent'].iloc[0]} (seat {seat})"
            names.append(rows["agent"].iloc[0])
            ax.step(
                rows["step"] + 1,
                rows["price"],
                where="mid",
                color=seat_colours[int(seat) % 4],
                label=name,
                linewidth=1.3,
            )
        if nash is not None:
            ax.axhline(nash, color="black", linestyle=":", linewidth=1, label="Nash")
        if mono is not None:
            ax.axhline(mono, color="black", linestyle="--", linewidth=1, label="monopoly")
        ax.set_title(" vs ".join(names), fontsize="medium")
        ax.set_xlabel("round")
        ax.set_ylabel("price")
        ax.legend(loc="best", fontsize="x-small")
        ax.grid(alpha=0.3)
    for ax in axes[len(shown) :]:
        ax.set_axis_off()
    more = f" (the first {MAX_PANELS} of {len(frames)})" if len(frames) > MAX_PANELS else ""
    out.save(
        fig,
        f"price_paths__{arena}",
        "markets",
        f"Price paths — {arena}",
        f"Each seller's price per round in episode 0 of replicate seed {seed}, one panel per "
        f"pairing{more}, replayed from the saved policies; dotted: Bertrand–Nash price, dashed: "
        "joint-monopoly price.",
    )
    fig = _new_figure(WIDTH, 520)
    ax = fig.subplots()
    lines = 0
    for frame in frames:
        for seat, rows in frame.groupby("seat"):
            if lines >= MAX_LINES:
                break
            wide = rows.pivot_table(index="episode", columns="step", values="cum_profit")
            mean = wide.ffill(axis=1).mean(axis=0)
            me, other = rows["agent"].iloc[0], rows["opponent"].iloc[0]
            label = f"{me} vs {other}" + (f" (seat {seat})" if me == other else "")
            ax.plot(mean.index + 1, mean.to_numpy(), label=label, linewidth=1.3)
            lines += 1
    steps = np.arange(1, int(frames[0]["step"].max()) + 2)
    for key, style, label in (
        ("nash_profits", ":", "Nash"),
        ("monopoly_profits", "--", "monopoly"),
    ):
        per_round = (bench.get(key) or [None])[0]
        if per_round is not None:
            ax.plot(steps, per_round * steps, color="black", linestyle=style, label=label)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative profit")
    n_eps = int(frames[0]["episode"].nunique())
    ax.set_title(f"Cumulative profit, {arena}: mean of {n_eps} episode(s) of seed {seed}")
    ax.legend(loc="best", fontsize="x-small", ncols=2)
    ax.grid(alpha=0.3)
    out.save(
        fig,
        f"cumulative_profit__{arena}",
        "markets",
        f"Cumulative profit — {arena}",
        f"Each seller's profit accumulated round by round (mean of {n_eps} replayed episodes "
        f"of replicate seed {seed}), labelled 'seller vs opponent'; black lines: a seller's "
        "Nash and monopoly profit per round times the rounds played.",
    )


def _fig_learning(run: RunData, out: _Output) -> None:
    import numpy as np

    section, title = "learning", "Learning curves"
    curves = learning_curves(run.path)
    trained = _trained_agents(run)
    logged = set(curves["agent"]) if not curves.empty else set()
    silent = {name: kind for name, kind in trained.items() if name not in logged}
    if silent:
        listed = ", ".join(f"{n} ({k})" for n, k in silent.items())
        out.skip(
            section,
            f"{title} of {', '.join(silent)}",
            f"{listed}: trained without a log of training profit — the runner keeps none for "
            "agents trained online (it would need to write logs/train/<cell id>/progress.csv "
            "with the columns time/total_timesteps and rollout/ep_rew_mean: the profit per "
            "training episode, or per block of periods, as training went on).",
        )
    if curves.empty:
        if not trained:
            out.skip(section, title, "no agent in this run is trained.")
        return
    colours = _colours(_agent_order(run))
    for arena, data in curves.groupby("market", sort=False):
        fig = _new_figure(WIDTH, 520)
        ax = fig.subplots()
        for (agent, seed), rows in data.groupby(["agent", "seed"], sort=False):
            c = colours.get(agent, "0.5")
            first_seed = seed == data.loc[data["agent"] == agent, "seed"].min()
            tr = rows[rows["source"] == "train"]
            ev = rows[rows["source"] == "eval"]
            if len(tr):
                ax.plot(
                    tr["timesteps"],
                    tr["profit"],
                    color=c,
                    alpha=0.8,
                    linewidth=1.2,
                    label=f"{agent} (training episodes)" if first_seed else None,
                )
            if len(ev):
                ax.plot(
                    ev["timesteps"],
                    ev["profit"],
                    color=c,
                    marker="o",
                    linestyle="--",
                    linewidth=1,
                    label=f"{agent} (evaluation)" if first_seed else None,
                )
        _benchmark_lines(ax, run, str(arena))
        n_seeds = int(np.unique(data["seed"]).size)
        ax.set_xlabel("training steps (market periods)")
        ax.set_ylabel("profit per episode")
        ax.set_title(f"Learning curves, {arena} ({n_seeds} replicate seed(s), one line each)")
        ax.legend(loc="best", fontsize="small")
        ax.grid(alpha=0.3)
        out.save(
            fig,
            f"learning_curves__{arena}",
            section,
            f"{title} — {arena}",
            "Mean profit of the latest training episodes (SB3's rollout/ep_rew_mean in "
            "logs/train/<cell>/progress.csv, unnormalised) and, with markers, the mean profit "
            "of the periodic evaluations (eval/evaluations.npz), against training steps; one "
            "line per replicate seed; horizontal lines: the DP optimum and the best fixed price "
            "where defined.",
        )


def _trained_agents(run: RunData) -> dict[str, str]:
    """Agents the run trained (name → kind)."""
    out = {}
    for a in run.resolved.get("agents", []):
        if a.get("train") and not a.get("policy"):
            out[a["name"]] = a["kind"]
    return out


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
    from pricegym.agents.dp import DPAgent
    from pricegym.experiments.runner import Cell, cell_agent, eval_seeds

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

    from pricegym.agents.view import ActionCodec

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

    from pricegym.experiments.evaluate import bind_to_seat
    from pricegym.experiments.runner import cell_agent, eval_seeds

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


def _fig_tournament(run: RunData, out: _Output) -> None:
    section = "tournament"
    modes = set(run.resolved.get("tournament", {}).get("modes", []))
    if run.head_to_head is not None and not run.head_to_head.empty:
        _plot_head_to_head(run, out)
    elif "round_robin" in modes:
        out.skip(section, "Head-to-head heat map", "the round robin left no head_to_head.csv.")
    else:
        out.skip(
            section,
            "Head-to-head heat map",
            "no round robin in this run (tournament.modes has no round_robin).",
        )
    if "vs_rules" in modes:
        _plot_vs_rules(run, out)
    if run.cross_model is not None and not run.cross_model.empty:
        _plot_cross_model(run, out)
    else:
        reason = (
            "tournament.modes has no cross_model"
            if "cross_model" not in modes
            else "cross_model needs two or more fitted demand models (market.model as a list)"
        )
        out.skip(section, "Cross-model matrix", f"{reason}.")


def _heatmap(
    ax: Axes,
    values: np.ndarray,
    colour: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    fmt: Callable[[float, float], str],
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    import numpy as np

    im = ax.imshow(np.ma.masked_invalid(colour), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), list(cols), rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), list(rows))
    for i in range(len(rows)):
        for j in range(len(cols)):
            if _finite(values[i, j]):
                # white text on dark cells: relative luminance of the cell's colour
                r, g, b, _ = im.cmap(im.norm(colour[i, j])) if _finite(colour[i, j]) else (1,) * 4
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45
                ax.text(
                    j,
                    i,
                    fmt(values[i, j], colour[i, j]),
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if dark else "black",
                )
            else:
                ax.text(j, i, "–", ha="center", va="center", color="0.5")
    return im


def _plot_head_to_head(run: RunData, out: _Output) -> None:
    import numpy as np

    table = run.head_to_head
    assert table is not None
    has_delta = "delta" in table.columns and table["delta"].notna().any()
    for market in dict.fromkeys(table["market"]):
        profit = head_to_head_matrix(table, market, "mean")
        n = len(profit)
        panels = 2 if has_delta else 1
        fig = _new_figure(WIDTH, max(360, 160 + 60 * n))
        axes = fig.subplots(1, panels, squeeze=False)[0]
        im = _heatmap(
            axes[0],
            profit.to_numpy(),
            profit.to_numpy(),
            profit.index,
            profit.columns,
            lambda v, _: _num(v),
            "viridis",
        )
        fig.colorbar(im, ax=axes[0], label="profit per episode (row agent)")
        axes[0].set_xlabel("opponent")
        axes[0].set_ylabel("agent")
        axes[0].set_title("mean profit per episode")
        if has_delta:
            delta = head_to_head_matrix(table, market, "delta")
            im = _heatmap(
                axes[1],
                delta.to_numpy(),
                delta.to_numpy(),
                delta.index,
                delta.columns,
                lambda v, _: f"{v:.2f}",
                "magma",
                vmin=min(0.0, float(np.nanmin(delta.to_numpy()))),
                vmax=max(1.0, float(np.nanmax(delta.to_numpy()))),
            )
            fig.colorbar(im, ax=axes[1], label="Δ (0 = Nash, 1 = monopoly)")
            axes[1].set_xlabel("opponent")
            axes[1].set_title("collusion index Δ")
        out.save(
            fig,
            f"head_to_head__{market}",
            "tournament",
            f"Head-to-head — {market}",
            "Round robin (head_to_head.csv): each cell is the row agent's mean over seeds when "
            "it plays the column agent"
            + ("; right: the row agent's profit gain Δ." if has_delta else "."),
        )


def _plot_vs_rules(run: RunData, out: _Output) -> None:
    summary = run.summary
    episodes = run.episodes
    rows = summary[summary["mode"] == "vs_rules"] if "mode" in summary.columns else summary[:0]
    if rows.empty or episodes is None:
        out.skip("tournament", "Agents vs rule-based rivals", "no vs_rules results in summary.csv.")
        return
    pairs = episodes[episodes["mode"] == "vs_rules"][["market", "opponent"]].drop_duplicates()
    rival_of = dict(zip(pairs["market"], pairs["opponent"], strict=True))
    data = rows.assign(
        rival=rows["market"].map(rival_of), base=rows["market"].str.split(" vs ").str[0]
    )
    for base, block in data.groupby("base", sort=False):
        agents = list(dict.fromkeys(block["agent"]))
        rivals = list(dict.fromkeys(block["rival"]))
        wide = block.pivot_table(index="agent", columns="rival", values="mean", aggfunc="first")
        wide = wide.reindex(index=agents, columns=rivals)
        fig = _new_figure(WIDTH, max(360, 160 + 60 * len(agents)))
        ax = fig.subplots()
        im = _heatmap(
            ax, wide.to_numpy(), wide.to_numpy(), agents, rivals, lambda v, _: _num(v), "viridis"
        )
        fig.colorbar(im, ax=ax, label="profit per episode")
        ax.set_xlabel("rule-based rival")
        ax.set_ylabel("agent")
        ax.set_title(f"Mean profit per episode against each rival, {base}")
        out.save(
            fig,
            f"vs_rules__{base}",
            "tournament",
            f"Agents vs rule-based rivals — {base}",
            "Each cell is the row agent's mean profit per episode (summary.csv, vs_rules) when "
            "the column rival sets the competitor price inside the market.",
        )


def _plot_cross_model(run: RunData, out: _Output) -> None:
    table = run.cross_model
    assert table is not None
    agents = list(dict.fromkeys(table["agent"]))
    cols = min(3, len(agents))
    rows_n = math.ceil(len(agents) / cols)
    n_markets = len(set(table["market"]) | set(table["trained_in"]))
    fig = _new_figure(WIDTH, 120 + rows_n * max(300, 90 + 55 * n_markets))
    axes = fig.subplots(rows_n, cols, squeeze=False)
    im = None
    for ax, agent in zip(axes.ravel(), agents, strict=False):
        mean, relative = cross_model_matrix(table, agent)
        im = _heatmap(
            ax,
            mean.to_numpy(),
            relative.to_numpy(),
            mean.index,
            mean.columns,
            lambda v, r: f"{_num(v)}\n{r:.1f}%" if _finite(r) else _num(v),
            "RdYlGn",
            vmin=80.0,
            vmax=105.0,
        )
        ax.set_title(agent, fontsize="medium")
        ax.set_xlabel("evaluated in")
        ax.set_ylabel("trained in")
    for ax in axes.ravel()[len(agents) :]:
        ax.set_axis_off()
    assert im is not None
    fig.colorbar(
        im, ax=axes.ravel().tolist(), label="% of the policy trained in that market", shrink=0.9
    )
    out.save(
        fig,
        "cross_model",
        "tournament",
        "Cross-model matrix",
        "Policies trained in the market of one fitted demand model (rows) and evaluated in the "
        "markets of the others (columns), from cross_model.csv: mean profit per episode and, in "
        "colour, its % of the profit of the same agent trained in the evaluated market (the "
        "diagonal).",
    )


def _fig_demand(run: RunData, out: _Output) -> None:
    section, title = "demand", "Demand-model fit"
    market = run.resolved.get("market", {})
    if "oligopoly" in market:
        out.skip(section, title, "the logit oligopoly's demand is given, not fitted to data.")
        return
    if "demand" in market:
        out.skip(section, title, "the market's demand is a parametric truth, not fitted to data.")
        return
    if "env" in market:
        out.skip(section, title, f"the market is the registered env {market['env']!r}, not fitted.")
        return
    from pricegym.demand.base import DemandModel
    from pricegym.demand.plot import plot_model

    for entry in market.get("model", []):
        name = entry.get("name", "model")
        path = Path(entry["file"]) if entry.get("file") else run.path / "models" / f"{name}.json"
        if not path.is_file():
            out.skip(section, f"{title} — {name}", f"the fitted model file {path} is missing.")
            continue
        try:
            model = DemandModel.load(path)
            fig = plot_model(model)
        except PricegymError as exc:
            out.skip(section, f"{title} — {name}", f"{path} cannot be plotted: {exc}")
            continue
        out.save(
            fig,
            f"demand_fit__{name}",
            section,
            f"{title} — {name} ({model.family})",
            f"The fitted demand curve of model {name!r} ({path.name}) with its band over the "
            "sales history, and for time-series models or models with a backtest its fit over "
            "time (pricegym.demand.plot.plot_model).",
        )


# ==================================================================== HTML
def _num(v: Any, fmt: str | None = None) -> str:
    if not _finite(v):
        return "–"
    v = float(v)
    if fmt is None:
        fmt = "{:,.0f}" if abs(v) >= 1e4 else "{:.4g}"
    return fmt.format(v)


def _ci(r: Mapping[str, Any], key: str, low: str, high: str, fmt: str | None = None) -> str:
    value = _num(r.get(key), fmt)
    if not (_finite(r.get(low)) and _finite(r.get(high))):
        return value
    return f"{value} [{_num(r.get(low), fmt)}, {_num(r.get(high), fmt)}]"


def _table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], text: Sequence[int] = (0,)
) -> str:
    """An HTML table; columns at positions ``text`` are left-aligned text, others numbers."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="{"txt" if i in text else "num"}">{html.escape(str(c))}</td>'
            for i, c in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _league_html(run: RunData) -> str:
    s = run.summary
    level = run.resolved.get("evaluation", {}).get("confidence", 0.95)
    cols: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
        ("rank", lambda r: _num(r.get("rank"), "{:.0f}")),
        ("agent", lambda r: str(r.get("agent"))),
        (f"profit/episode [{level:.0%} CI]", lambda r: _ci(r, "mean", "mean_low", "mean_high")),
        ("IQM [CI]", lambda r: _ci(r, "iqm", "iqm_low", "iqm_high")),
    ]
    optional = [
        ("pct_of_optimum", "% of DP optimum [CI]", ("pct_low", "pct_high"), "{:.2f}"),
        ("gain_share", "gain share [CI]", ("gain_share_low", "gain_share_high"), "{:.2f}"),
        ("delta", "Δ collusion [CI]", ("delta_low", "delta_high"), "{:.3f}"),
    ]
    out = []
    if "mode" not in s.columns:
        s = s.assign(mode="solo")
    for (mode, market), block in s.groupby(["mode", "market"], sort=False):
        records = block.to_dict("records")
        shown = list(cols)
        for key, title, (lo, hi), fmt in optional:
            if key in block.columns and block[key].notna().any():
                shown.append((title, lambda r, k=key, lo=lo, hi=hi, f=fmt: _ci(r, k, lo, hi, f)))
        for key, title, fmt in (
            ("avg_price", "avg price", None),
            ("sell_through", "sell-through", "{:.1%}"),
            ("lost_sales", "lost sales", None),
        ):
            if key in block.columns and block[key].notna().any():
                shown.append((title, lambda r, k=key, f=fmt: _num(r.get(k), f)))
        shown.append(
            (
                "seeds × episodes",
                lambda r: f"{_num(r.get('n_seeds'), '{:.0f}')} × {_num(_per_seed(r), '{:.0f}')}",
            )
        )
        heading = f"{market}" + (f" — {mode}" if mode != "solo" else "")
        out.append(f"<h3>{html.escape(heading)}</h3>")
        out.append(
            _table([t for t, _ in shown], [[fn(r) for _, fn in shown] for r in records], (1,))
        )
    return "\n".join(out)


def _per_seed(r: Mapping[str, Any]) -> float:
    if _finite(r.get("n_episodes")) and _finite(r.get("n_seeds")) and r["n_seeds"]:
        return float(r["n_episodes"]) / float(r["n_seeds"])
    return math.nan


def _benchmarks_html(run: RunData) -> str:
    rows = []
    single = [m for m, b in run.benchmarks.items() if "dp" in b or "best_fixed" in b]
    olig = [m for m, b in run.benchmarks.items() if "nash_prices" in b]
    out = []
    if single:
        for m in single:
            b = run.benchmarks[m]
            rows.append(
                [
                    m,
                    _num(b.get("dp")),
                    _num(b.get("best_fixed")),
                    _num(b.get("best_fixed_price")),
                    b.get("note") or "",
                ]
            )
        out.append(
            _table(
                [
                    "market",
                    "DP optimum (expected profit/episode)",
                    "best fixed price: profit",
                    "best fixed price",
                    "note",
                ],
                rows,
                (0, 4),
            )
        )
    if olig:
        rows = []
        for m in olig:
            b = run.benchmarks[m]
            rows.append(
                [
                    m,
                    ", ".join(_num(v) for v in b.get("nash_prices", [])),
                    ", ".join(_num(v) for v in b.get("monopoly_prices", [])),
                    ", ".join(_num(v) for v in b.get("nash_profits", [])),
                    ", ".join(_num(v) for v in b.get("monopoly_profits", [])),
                    _num(b.get("horizon"), "{:.0f}"),
                ]
            )
        out.append(
            _table(
                [
                    "market",
                    "Nash prices",
                    "monopoly prices",
                    "Nash profit/round",
                    "monopoly profit/round",
                    "rounds/episode",
                ],
                rows,
            )
        )
    return "\n".join(out) or "<p>No benchmarks were computed for this run.</p>"


def _h2h_html(run: RunData) -> str:
    out = []
    if run.head_to_head is not None and not run.head_to_head.empty:
        t = run.head_to_head
        has_delta = "delta" in t.columns and t["delta"].notna().any()
        cols = ["market", "agent", "opponent", "profit/episode [CI]", "avg price"]
        cols += ["Δ"] if has_delta else []
        rows = []
        for r in t.to_dict("records"):
            row = [r["market"], r["agent"], r["opponent"], _ci(r, "mean", "mean_low", "mean_high")]
            row.append(_num(r.get("avg_price")))
            if has_delta:
                row.append(_num(r.get("delta"), "{:.3f}"))
            rows.append(row)
        out.append("<h3>Round robin (head_to_head.csv)</h3>" + _table(cols, rows, (0, 1, 2)))
    if run.cross_model is not None and not run.cross_model.empty:
        t = run.cross_model
        pct = "pct_of_optimum" in t.columns and t["pct_of_optimum"].notna().any()
        cols = ["trained in", "evaluated in", "agent", "profit/episode [CI]"]
        cols += ["% of DP optimum"] if pct else []
        rows = []
        for r in t.to_dict("records"):
            row = [
                r["trained_in"],
                r["market"],
                r["agent"],
                _ci(r, "mean", "mean_low", "mean_high"),
            ]
            if pct:
                row.append(_num(r.get("pct_of_optimum"), "{:.2f}"))
            rows.append(row)
        out.append(
            "<h3>Cross-model evaluation (cross_model.csv)</h3>" + _table(cols, rows, (0, 1, 2))
        )
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em}th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.88em;color:#444;margin-top:.3em}
p.skip{color:#7a4b00;background:#fff7e6;border-left:3px solid #e0a030;padding:.3em .6em;
margin:.3em 0}p.note{color:#8a1f11}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;
font-size:.85em}code{background:#f3f3f3;padding:0 .2em}nav a{margin-right:1em}
""".strip()


def _page(run: RunData, report_figs: Sequence[ReportFigure], out: _Output) -> str:
    e = html.escape
    name = run.resolved.get("name", run.path.name)
    ev = run.resolved.get("evaluation", {})
    seeds = ev.get("seeds", [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>pricegym report: {e(str(name))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>pricegym report: {e(str(name))}</h1>",
        f"<p>Command: <code>{e(run.command or '(not recorded)')}</code><br>"
        f"Experiment seed {e(str(run.resolved.get('seed')))}; replicate seeds {e(str(seeds))}; "
        f"{e(str(ev.get('episodes')))} evaluation episodes per seed; "
        f"{float(ev.get('confidence', 0.95)):.0%} bootstrap confidence intervals across seeds. "
        'Data: <a href="summary.csv">summary.csv</a>, <a href="episodes.csv">episodes.csv</a>'
        + (
            ', <a href="head_to_head.csv">head_to_head.csv</a>'
            if run.head_to_head is not None
            else ""
        )
        + (', <a href="cross_model.csv">cross_model.csv</a>' if run.cross_model is not None else "")
        + ', <a href="report.json">report.json</a>.</p>',
        "<nav>"
        + "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in SECTIONS.items())
        + '<a href="#benchmarks">Benchmarks</a><a href="#run">Run</a></nav>',
    ]
    for key, heading in SECTIONS.items():
        parts.append(f'<section id="{key}"><h2>{e(heading)}</h2>')
        if key == "league":
            parts.append(_league_html(run))
        if key == "tournament":
            parts.append(_h2h_html(run))
        for fig in report_figs:
            if fig.section == key:
                parts.append(
                    f"<figure><h3>{e(fig.title)}</h3>"
                    f'<img src="{e(fig.file)}" width="{fig.width}" height="{fig.height}" '
                    f'alt="{e(fig.title)}"><figcaption>{e(fig.caption)}</figcaption></figure>'
                )
        for skip in out.skipped:
            if skip.section == key:
                parts.append(f'<p class="skip">Not drawn — {e(skip.title)}: {e(skip.reason)}</p>')
        if key == "markets":
            for note in out.notes:
                parts.append(f'<p class="note">{e(note)}</p>')
        parts.append("</section>")
    parts.append('<section id="benchmarks"><h2>Benchmarks</h2>')
    parts.append(_benchmarks_html(run))
    parts.append("</section>")
    versions = [[k, str(v) if v is not None else "not installed"] for k, v in run.versions.items()]
    parts.append('<section id="run"><h2>Run</h2><h3>Resolved configuration (config.yaml)</h3>')
    parts.append(f"<pre>{e(run.config_text or json.dumps(run.resolved, indent=1))}</pre>")
    parts.append("<h3>Package versions (versions.json)</h3>")
    parts.append(_table(["package", "version"], versions, (0, 1)) if versions else "<p>–</p>")
    if run.config_error:
        parts.append(
            f'<p class="note">The experiment could not be rebuilt: {e(run.config_error)}</p>'
        )
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"


# ==================================================================== entry points
def render_report(run_dir: str | Path) -> Report:
    """Draw every figure of ``run_dir`` and write ``index.html`` and ``report.json``.

    Figures no longer produced (e.g. left by an earlier report) are removed from
    ``figures/``. See the module docstring for what each figure shows.

    Raises:
        ConfigError: ``run_dir`` is not a finished run directory (see :func:`load_run`).
    """
    from pricegym.demand.io import atomic_write_bytes

    run = load_run(run_dir)
    out = _Output(run.path)
    replays = _Replays(run) if run.config is not None else None
    _fig_league(run, out)
    _fig_markets(run, out, replays)
    _fig_learning(run, out)
    _fig_policies(run, out, replays)
    _fig_tournament(run, out)
    _fig_demand(run, out)
    keep = {Path(f.file).name for f in out.figures}
    if out.dir.is_dir():
        for stale in out.dir.glob("*.png"):
            if stale.name not in keep:
                stale.unlink()
    order = list(SECTIONS)
    figures = sorted(out.figures, key=lambda f: order.index(f.section))
    notes = list(dict.fromkeys(out.notes))
    out.notes = notes
    manifest = {
        "figures": [asdict(f) for f in figures],
        "skipped": [asdict(s) for s in out.skipped],
        "notes": notes,
    }
    atomic_write_bytes(
        run.path / "report.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    )
    index = run.path / "index.html"
    atomic_write_bytes(index, _page(run, figures, out).encode("utf-8"))
    return Report(index, tuple(figures), tuple(out.skipped), tuple(notes))


def build_report(run_dir: str | Path) -> Path:
    """Write the figures and ``index.html`` of ``run_dir``; returns the ``index.html`` path.

    Called by :func:`pricegym.experiments.runner.run_experiment` when a run ends and
    by ``pricegym report RUN_DIR``; see :func:`render_report`.
    """
    return render_report(run_dir).index


# ==================================================================== CLI
def configure_report_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym report RUN_DIR``."""
    parser.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run directory written by `pricegym run` (e.g. runs/quickstart)",
    )


def cli_report(args: argparse.Namespace) -> int:
    """``pricegym report RUN_DIR``: rebuild the figures and index.html from the saved results.

    Prints where the page is, the figures drawn and the ones skipped with the
    reason; returns 0. A directory that is not a finished run raises
    :class:`~pricegym.errors.ConfigError` (exit code 2 from the CLI).
    """
    import sys

    report = render_report(args.run_dir)
    lines = [f"report: {report.index}", f"{len(report.figures)} figure(s):"]
    lines += [f"  {f.file}  {f.title}" for f in report.figures]
    if report.skipped:
        lines.append(f"{len(report.skipped)} not drawn:")
        lines += [f"  {s.title}: {s.reason}" for s in report.skipped]
    lines += [f"note: {n}" for n in report.notes]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
