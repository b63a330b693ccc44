"""Run an experiment: fit → train → evaluate → tournament → report, resumable and parallel.

:func:`run_experiment` takes a validated :class:`~pricegym.experiments.schema.ExperimentConfig`
(or anything :func:`~pricegym.experiments.schema.load_experiment` reads) and writes
a run directory. The work is split into independent **cells** — one agent (or a
pair, in a round robin) × one market × one replicate seed — and each cell is the
pure function :func:`run_cell` of (resolved config, cell key, run directory):

- its seeds come from :func:`~pricegym.experiments.evaluate.derive_seeds` over the
  experiment seed and the cell's key, never from the order cells run in, so
  ``jobs=1``, ``jobs=N`` and the Ray backend give identical results;
- evaluation episodes of every agent in the same market use the same env seeds
  (paired comparisons);
- each finished cell is written to ``cells/<stage>/<id>.json`` atomically (temp
  file + rename) by the driver; a rerun skips every cell whose file exists, and
  ``force=True`` recomputes everything.

Stages: **fit** (demand models fitted once, saved to ``models/``; benchmarks: DP
optimum, best fixed price, Nash and monopoly), **train** (one cell per agent that
has a training budget × training market × seed; the trained policy is saved to
``policies/``), **evaluate** (solo cells), **tournament** (vs_rules, round_robin,
cross_model cells), **report** (episodes.csv / .parquet, summary.csv, and where
they apply head_to_head.csv and cross_model.csv).

The run directory::

    resolved.json, config.yaml   the resolved experiment (every default filled in)
    command.txt                  the command line
    versions.json                Python and package versions
    seeds.json                   the experiment seed and every cell's derived seeds
    benchmarks.json              DP optimum / best fixed price, or Nash / monopoly, per market
    models/                      fitted demand models (JSON + .npz)
    policies/                    trained agents (JSON + .npz, or the agent's own format)
    cells/                       one JSON result per finished cell
    logs/run.log                 what ran, when, and how long it took
    episodes.csv (.parquet)      tidy episode results, one row per episode
    summary.csv                  the league table (experiments.stats.league_table)

Training hooks (duck-typed, so every agent kind meets the same runner): an agent
with a ``train`` method is trained by calling it with the market env and the
budget (``timesteps``/``total_timesteps``, ``episodes``, ``seed`` — whichever it
accepts); any other agent that ``learns`` is trained online for ``episodes``
episodes (or ``ceil(periods / horizon)``) with ``update`` after every step;
an agent with an ``explore`` flag explores while it trains and plays as configured
afterwards; an agent class with ``from_market(env, seat=..., **params)`` is built
from its oligopoly (Q-learning's initial table). Two Q-learners of the same
hyper-parameters in a round robin are trained together with
:func:`pricegym.agents.qlearning.run_sessions` (vectorised; the online loop
gives the same algorithm, far slower).

Ray (``backend="ray"``): the same :func:`run_cell` runs as a Ray task
(``ray.init(address=...)``); it needs the optional extra ``pip install
"pricegym[ray]"`` and, on a multi-machine cluster, a run directory on a shared
file system (cells read fitted models and trained policies from it). The Ray path
could not be exercised on the machine this was written on (Ray is not installed
there).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import math
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.schema import AgentSpec, ExperimentConfig

__all__ = [
    "STAGES",
    "Cell",
    "RunContext",
    "RunResult",
    "cell_agent",
    "cli_run",
    "configure_evaluate_parser",
    "configure_run_parser",
    "eval_seeds",
    "needs_training",
    "plan_cells",
    "read_cell",
    "run_cell",
    "run_experiment",
]

#: Stages that run cells, in order.
STAGES: tuple[str, ...] = ("train", "evaluate", "tournament")
#: Columns of episodes.csv, in order.
EPISODE_COLUMNS: tuple[str, ...] = (
    "mode",
    "market",
    "agent",
    "kind",
    "opponent",
    "trained_in",
    "seed",
    "episode",
    "profit",
    "revenue",
    "units",
    "avg_price",
    "sell_through",
    "lost_sales",
    "steps",
    "delta",
)
#: Packages whose versions are recorded in versions.json.
_PACKAGES = (
    "pricegym",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "torch",
    "gymnasium",
    "stable-baselines3",
    "sb3-contrib",
    "pettingzoo",
    "pyarrow",
    "ray",
)
#: Convergence window of Q-learning self-play when the budget does not give one.
_DEFAULT_CONVERGENCE = 100_000
_MARKER = "resolved.json"
_log = logging.getLogger("pricegym.experiments")


# ==================================================================== cells
@dataclass(frozen=True)
class Cell:
    """One independent unit of work.

    Attributes:
        stage: ``train``, ``evaluate`` (solo) or ``tournament``.
        mode: the tournament mode (``solo`` for training cells of the plain market).
        agents: the agent (one name) or the pair of a round robin (two names).
        market: the base market played in (for cross_model: evaluated in).
        seed: the replicate seed.
        rival: the rule-based rival (vs_rules), else ``None``.
        trained_in: the base market the policy was trained in (cross_model).
    """

    stage: str
    mode: str
    agents: tuple[str, ...]
    market: str
    seed: int
    rival: str | None = None
    trained_in: str | None = None

    @property
    def arena(self) -> str:
        """The market label of the rows: ``market``, or ``market vs rival``."""
        return f"{self.market} vs {self.rival}" if self.rival else self.market

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the key of the cell)."""
        return {
            "stage": self.stage,
            "mode": self.mode,
            "agents": list(self.agents),
            "market": self.market,
            "seed": self.seed,
            "rival": self.rival,
            "trained_in": self.trained_in,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cell:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["stage"],
            d["mode"],
            tuple(d["agents"]),
            d["market"],
            int(d["seed"]),
            d.get("rival"),
            d.get("trained_in"),
        )

    @property
    def id(self) -> str:
        """A file-safe id, stable across runs: readable prefix + hash of the key."""
        digest = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()
        words = [self.mode, *self.agents, self.market, self.rival or "", f"s{self.seed}"]
        slug = "-".join(w for w in words if w)
        slug = "".join(c if c.isalnum() or c in "._-" else "_" for c in slug)[:80]
        return f"{slug}-{digest[:10]}"

    def path(self, run_dir: Path) -> Path:
        """Where the cell's result is written."""
        return run_dir / "cells" / self.stage / f"{self.id}.json"


def needs_training(spec: AgentSpec) -> bool:
    """Whether the agent is trained in the run (a train budget, and no saved policy given)."""
    return bool(spec.train) and spec.policy is None


def plan_cells(config: ExperimentConfig) -> dict[str, list[Cell]]:
    """Every cell of the experiment, by stage, in a deterministic order."""
    market, tour = config.market, config.tournament
    bases = list(market.market_names())
    seeds = config.evaluation.seeds
    plan: dict[str, list[Cell]] = {s: [] for s in STAGES}
    train: dict[Cell, None] = {}
    for spec in config.agents:
        for seed in seeds:
            if spec.plays("solo") and "solo" in tour.modes:
                for base in bases:
                    plan["evaluate"].append(Cell("evaluate", "solo", (spec.name,), base, seed))
                    if needs_training(spec):
                        train[Cell("train", "solo", (spec.name,), base, seed)] = None
            if spec.plays("vs_rules") and "vs_rules" in tour.modes:
                for base in bases:
                    for rival in tour.rivals:
                        plan["tournament"].append(
                            Cell("tournament", "vs_rules", (spec.name,), base, seed, rival.name)
                        )
                        if needs_training(spec):
                            own = tour.train_against_rivals or market.is_oligopoly
                            key = (
                                Cell("train", "vs_rules", (spec.name,), base, seed, rival.name)
                                if own
                                else Cell("train", "solo", (spec.name,), base, seed)
                            )
                            train[key] = None
            if spec.plays("cross_model") and "cross_model" in tour.modes:
                for source in bases:
                    if needs_training(spec):
                        train[Cell("train", "solo", (spec.name,), source, seed)] = None
                    for target in bases:
                        if target != source:
                            plan["tournament"].append(
                                Cell(
                                    "tournament",
                                    "cross_model",
                                    (spec.name,),
                                    target,
                                    seed,
                                    trained_in=source,
                                )
                            )
    if "round_robin" in tour.modes:
        players = [a.name for a in config.agents if a.plays("round_robin")]
        for i, a in enumerate(players):
            for b in players[i:]:
                for seed in seeds:
                    for base in bases:
                        plan["tournament"].append(
                            Cell("tournament", "round_robin", (a, b), base, seed)
                        )
    plan["train"] = list(train)
    return plan


# ==================================================================== the cell function
class RunContext:
    """What a cell needs from the config and the run directory (models, envs, agents).

    Public for the report, which replays saved policies exactly as the cells played them.
    """

    def __init__(self, config: ExperimentConfig, run_dir: Path) -> None:
        self.config, self.run_dir = config, run_dir
        self._kernels: dict[str, Any] = {}

    def kernel(self, base: str) -> Any:
        if base not in self._kernels:
            from pricegym.agents.rules import demand_from_spec
            from pricegym.demand.base import DemandModel

            spec = self.config.market
            model = spec.market_names()[base]
            if spec.source == "demand":
                self._kernels[base] = demand_from_spec(spec.demand)
            elif model is None:
                self._kernels[base] = None
            else:
                self._kernels[base] = DemandModel.load(_model_path(self.run_dir, model)).kernel()
        return self._kernels[base]

    def rival(self, name: str) -> Any:
        return self.new_agent(self.config.agent(name))

    def env(self, base: str, rival: str | None = None) -> Any:
        from pricegym.experiments.evaluate import build_env

        spec = self.config.market
        rivals = [self.rival(rival)] if rival and not spec.is_oligopoly else []
        return build_env(spec, self.kernel(base), rivals)

    def new_agent(self, spec: AgentSpec, env: Any = None, seat: int = 0) -> Any:
        """A fresh agent of ``spec`` (or its saved policy), named ``spec.name``."""
        from pricegym.agents.base import PricingAgent, agent_kinds, make_agent

        if spec.policy is not None:
            agent = PricingAgent.load(spec.policy)
        else:
            cls = agent_kinds()[spec.kind]
            factory = getattr(cls, "from_market", None)
            if callable(factory) and env is not None and self.config.market.is_oligopoly:
                agent = factory(env, seat=seat, **spec.params)
            else:
                agent = make_agent(spec.kind, **spec.params)
        agent.name = spec.name
        return agent

    def trained(self, spec: AgentSpec, cell: Cell) -> Any:
        """The policy the train cell ``cell`` saved, loaded and named."""
        from pricegym.agents.base import PricingAgent

        done = read_cell(cell.path(self.run_dir))
        if done is None:
            raise ConfigError(
                f"the policy of agent {spec.name!r} for {cell.arena!r} (seed {cell.seed}) has not "
                f"been trained: {cell.path(self.run_dir)} is missing. Fix: run the experiment "
                "again (the train stage comes first), or with --force."
            )
        agent = PricingAgent.load(self.run_dir / done["policy"])
        agent.name = spec.name
        return agent

    def log_dir(self, cell: Cell) -> Path:
        """Where a training cell's own logs go (e.g. SB3's CSV and TensorBoard logs)."""
        return self.run_dir / "logs" / "train" / cell.id

    def policy_path(self, cell: Cell, suffix: str = "") -> Path:
        parts = [cell.mode, *cell.agents, cell.arena.replace(" ", "_"), f"seed{cell.seed}"]
        name = "__".join(parts) + suffix
        safe = "".join(c if c.isalnum() or c in "._-@" else "_" for c in name)
        return self.run_dir / "policies" / f"{safe}.json"


def _model_path(run_dir: Path, model: Any) -> Path:
    return Path(model.file) if model.file else run_dir / "models" / f"{model.name}.json"


def _limit_threads() -> None:
    """One BLAS/torch thread per cell: parallelism comes from the cells."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@contextlib.contextmanager
def _torch_threads() -> Iterator[None]:
    """Limit torch and numpy's BLAS to one thread inside a cell; restore the caller's setting.

    The environment variables of :func:`_limit_threads` only reach libraries loaded
    after them, so a cell run in the main process (``--jobs 1``) limits the BLAS
    already loaded with ``threadpoolctl``.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    _limit_threads()
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and before is not None:
            torch.set_num_threads(before)


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
    from pricegym.experiments.evaluate import derive_seeds, play_episodes

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
    """Train the learners among ``agents`` (seated in ``env``) together, online."""
    from pricegym.experiments.evaluate import derive_seeds, play_oligopoly

    budget = max(
        (b for b, f in zip(budgets, learners, strict=True) if f),
        key=lambda b: _episodes_for(b, env.horizon),
    )
    n = _episodes_for(budget, env.horizon)
    seeds = [derive_seeds(seed, ("agent", i), n) for i in range(len(agents))]
    with contextlib.ExitStack() as stack:
        for agent, flag in zip(agents, learners, strict=True):
            if flag:
                stack.enter_context(_exploring(agent))
        play_oligopoly(agents, env, derive_seeds(seed, ("env",), n), seeds, learn=list(learners))


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

    from pricegym.experiments.schema import load_experiment

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
    from pricegym.experiments.evaluate import bind_to_seat, derive_seeds

    config = ctx.config
    spec = config.agent(cell.agents[0])
    seed = derive_seeds(config.seed, ("train", spec.name, cell.arena, cell.seed), 1)[0]
    env = ctx.env(cell.market, cell.rival)
    if config.market.is_oligopoly:
        from pricegym.envs.oligopoly import OpponentWrapper

        agent = ctx.new_agent(spec, env, seat=0)
        rivals = [ctx.rival(cell.rival) for _ in range(env.n_sellers - 1)] if cell.rival else []
        bind_to_seat(agent, env, 0)
        for i, r in enumerate(rivals, start=1):
            bind_to_seat(r, env, i)
        if callable(getattr(agent, "train", None)):
            wrapped = OpponentWrapper(env, rivals, seat=0)
            _call_train(agent, wrapped, spec.train, seed, ctx.log_dir(cell))
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


def cell_agent(ctx: RunContext, spec: AgentSpec, cell: Cell, env: Any = None, seat: int = 0) -> Any:
    """The agent a solo / vs_rules / cross_model cell plays (trained policy or fresh)."""
    if not needs_training(spec):
        return ctx.new_agent(spec, env, seat)
    config = ctx.config
    if cell.mode == "vs_rules" and (
        config.tournament.train_against_rivals or config.market.is_oligopoly
    ):
        source = Cell("train", "vs_rules", cell.agents, cell.market, cell.seed, cell.rival)
    else:
        source = Cell("train", "solo", cell.agents, cell.trained_in or cell.market, cell.seed)
    return ctx.trained(spec, source)


def eval_seeds(ctx: RunContext, cell: Cell) -> tuple[list[int], list[int]]:
    """(env seeds, agent seeds) of an evaluation cell's episodes (the same for every agent)."""
    from pricegym.experiments.evaluate import derive_seeds

    n, entropy = ctx.config.evaluation.episodes, ctx.config.seed
    return (
        derive_seeds(entropy, ("env", cell.arena, cell.seed), n),
        derive_seeds(entropy, ("agent", cell.arena, cell.seed), n),
    )


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
    from pricegym.experiments.evaluate import bind_to_seat, play_episodes, play_oligopoly

    config = ctx.config
    spec = config.agent(cell.agents[0])
    env_seeds, agent_seeds = eval_seeds(ctx, cell)
    learn = config.evaluation.learn_online
    env = ctx.env(cell.market, cell.rival)
    if config.market.is_oligopoly:
        from pricegym.experiments.evaluate import derive_seeds

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
            home = ctx.env(cell.trained_in)  # type: ignore[arg-type]
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
    from pricegym.experiments.evaluate import bind_to_seat, derive_seeds, play_oligopoly

    config = ctx.config
    specs = [config.agent(n) for n in cell.agents]
    env = ctx.env(cell.market)
    agents = [ctx.new_agent(s, env, seat=i) for i, s in enumerate(specs)]
    learners = [needs_training(s) for s in specs]
    train_seed = derive_seeds(config.seed, ("train", *cell.agents, cell.arena, cell.seed), 1)[0]
    policies: list[str | None] = [None, None]
    if any(learners):
        from pricegym.agents.qlearning import QLearningAgent

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
        if not selfplay:
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


def _qlearning_selfplay(
    agents: list[Any], specs: Sequence[AgentSpec], env: Any, seed: int
) -> list[Any]:
    """Two Q-learners trained together by run_sessions (one session, vectorised numpy)."""
    from pricegym.agents.qlearning import QLearningConfig, run_sessions

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


# ==================================================================== driver
@dataclass
class RunResult:
    """What :func:`run_experiment` produced.

    Attributes:
        run_dir: the run directory.
        summary: the league table (summary.csv).
        episodes: the tidy episode table (episodes.csv).
        benchmarks: per market, the DP optimum / best fixed price or Nash / monopoly.
        computed: cells computed in this call, by stage.
        skipped: cells found finished and skipped, by stage.
    """

    run_dir: Path
    summary: pd.DataFrame
    episodes: pd.DataFrame
    benchmarks: dict[str, Any]
    computed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def read_cell(path: Path) -> dict[str, Any] | None:
    """A finished cell's result file, or None when it is missing or unreadable (recompute)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a torn or foreign file: recompute the cell


def _write_json(path: Path, document: Any) -> None:
    from pricegym.demand.io import atomic_write_bytes

    atomic_write_bytes(
        path, (json.dumps(_strict(document), indent=1, allow_nan=False) + "\n").encode()
    )


def _strict(value: Any) -> Any:
    """JSON-ready: NaN/inf → None, numpy scalars → Python, tuples → lists."""
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in _PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _comparable(resolved: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resolved.items() if k != "output"}


def _input_digests(config: ExperimentConfig) -> dict[str, str]:
    """sha256 of every input file (data, saved models, saved policies) by path."""
    spec = config.market
    paths = []
    if spec.data is not None and spec.data.path:
        paths.append(Path(spec.data.path))
    for model in spec.models:
        if model.file:
            paths += [Path(model.file), Path(model.file).with_suffix(".npz")]
    for agent in config.agents:
        if agent.policy:
            paths += [Path(agent.policy), Path(agent.policy).with_suffix(".npz")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _prepare_dir(
    run_dir: Path, resolved: dict[str, Any], inputs: dict[str, str], force: bool
) -> None:
    marker = run_dir / _MARKER
    if run_dir.exists() and any(run_dir.iterdir()) and not marker.is_file():
        raise ConfigError(
            f"output directory {str(run_dir)!r} exists and is not a pricegym run directory (no "
            f"{_MARKER}); refusing to write into it. Fix: choose another --out DIR (or output.dir)."
        )
    if marker.is_file() and not force:
        old = json.loads(marker.read_text(encoding="utf-8"))
        if _comparable(old) != _comparable(resolved):
            raise ConfigError(
                f"run directory {str(run_dir)!r} holds results of a different experiment "
                "configuration, so its cells cannot be reused. Fix: pass --force to recompute "
                "everything there, or choose another --out DIR."
            )
        known = run_dir / "inputs.json"
        previous = json.loads(known.read_text(encoding="utf-8")) if known.is_file() else {}
        changed = sorted(p for p, digest in inputs.items() if previous.get(p, digest) != digest)
        if changed:
            raise ConfigError(
                f"input file(s) {changed} changed since the cells in {str(run_dir)!r} were "
                "computed, so they cannot be reused. Fix: pass --force to recompute, or choose "
                "another --out DIR."
            )
    if force:
        for sub in ("cells", "policies", "models"):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(marker, resolved)
    _write_json(run_dir / "inputs.json", inputs)


def _progress(total: int, desc: str, initial: int, show: bool | None) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="cell",
        disable=None if show is None else not show,
        file=sys.stderr,
        leave=True,
        dynamic_ncols=True,
    )


def _worker_init() -> None:
    _limit_threads()


class _Pool:
    """A spawn-safe process pool shared by every stage of a run (workers import once)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: Any = None

    def get(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
            )
        return self._pool

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None


def _execute(
    cells: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    *,
    stage: str,
    pool: _Pool,
    backend: str,
    address: str | None,
    force: bool,
    show: bool | None,
) -> tuple[int, int]:
    """Run the unfinished ``cells`` and write each result as it arrives; (computed, skipped)."""
    todo = [c for c in cells if force or read_cell(c.path(run_dir)) is None]
    skipped = len(cells) - len(todo)
    bar = _progress(len(cells), stage, skipped, show)

    def done(cell: Cell, result: dict[str, Any]) -> None:
        _write_json(cell.path(run_dir), result)
        _log.info("%s %s done in %.2fs", stage, cell.id, result.get("seconds", float("nan")))
        for text in result.get("warnings", []):
            _log.warning("%s %s: %s", stage, cell.id, text)
        bar.update(1)

    try:
        if not todo:
            return 0, skipped
        if backend == "ray":
            _execute_ray(todo, resolved, run_dir, pool.jobs, address, done)
        elif pool.jobs == 1 or len(todo) == 1:
            for cell in todo:
                done(cell, run_cell(resolved, cell.to_dict(), str(run_dir)))
        else:
            _execute_pool(todo, resolved, run_dir, pool, done)
    finally:
        bar.close()
    return len(todo), skipped


def _execute_pool(
    todo: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    pool: _Pool,
    done: Callable[[Cell, dict[str, Any]], None],
) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    executor = pool.get()
    futures = {executor.submit(run_cell, resolved, c.to_dict(), str(run_dir)): c for c in todo}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: futures[f].id):
                done(futures[future], future.result())
    except BaseException:
        pool.close(cancel=True)
        raise


def _execute_ray(
    todo: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    jobs: int,
    address: str | None,
    done: Callable[[Cell, dict[str, Any]], None],
) -> None:
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else jobs, ignore_reinit_error=True)
    task = ray.remote(num_cpus=1)(run_cell)
    refs = {task.remote(resolved, c.to_dict(), str(run_dir.resolve())): c for c in todo}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                done(refs[ref], ray.get(ref))
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        raise


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "backend 'ray' needs Ray, which is not installed. Fix: pip install \"pricegym[ray]\" "
            "(or run with --backend process)."
        ) from None
    return ray


def _fit(config: ExperimentConfig, run_dir: Path, force: bool, show: bool | None) -> dict[str, Any]:
    """Fit and save the demand models; compute the benchmarks of every base market."""
    from pricegym.demand.base import DemandModel
    from pricegym.experiments.evaluate import (
        build_env,
        fit_model,
        load_sales_history,
        oligopoly_benchmarks,
        single_benchmarks,
    )

    spec = config.market
    bases = spec.market_names()
    bar = _progress(len(bases), "fit", 0, show)
    history = None
    benchmarks: dict[str, Any] = {}
    try:
        for base, model in bases.items():
            kernel = None
            if model is not None:
                path = _model_path(run_dir, model)
                if model.file is None and (
                    force or not path.is_file() or not path.with_suffix(".npz").is_file()
                ):
                    if history is None:
                        history = load_sales_history(spec.data)
                    start = time.perf_counter()
                    with _torch_threads():  # one thread: fast here, and the same weights
                        fitted = fit_model(model, spec.data, history)  # on any machine
                    fitted.save(path)
                    _log.info(
                        "fit %s (%s) in %.2fs",
                        model.name,
                        model.family,
                        time.perf_counter() - start,
                    )
                kernel = DemandModel.load(path).kernel()
            elif spec.source == "demand":
                from pricegym.agents.rules import demand_from_spec

                kernel = demand_from_spec(spec.demand)
            env = build_env(spec, kernel)
            if spec.is_oligopoly:
                benchmarks[base] = oligopoly_benchmarks(env)
                _check_agents_fit(config, env, base)
            else:
                _check_rivals_possible(config, env, base)
                _check_agents_fit(config, env, base)
                for i, rival in enumerate(config.tournament.rivals):
                    if "vs_rules" in config.tournament.modes:
                        try:
                            build_env(spec, kernel, [_fresh(rival)])
                        except PricegymError as exc:
                            raise ConfigError(
                                f"tournament.rivals[{i}] ({rival.name!r}, kind {rival.kind!r}) "
                                f"cannot set a competitor price in market {base!r}: {exc}"
                            ) from None
                benchmarks[base] = single_benchmarks(env)
                _check_benchmarks(config, benchmarks[base], base)
            bar.update(1)
    finally:
        bar.close()
    _write_json(run_dir / "benchmarks.json", benchmarks)
    return benchmarks


def _fresh(spec: AgentSpec) -> Any:
    from pricegym.agents.base import make_agent

    agent = make_agent(spec.kind, **spec.params)
    agent.name = spec.name
    return agent


def _check_agents_fit(config: ExperimentConfig, env: Any, base: str) -> None:
    """Bind a fresh copy of every agent to the market now, so that an agent that cannot
    play it (a competitor-based rule without competitors, ...) fails before any cell runs."""
    from pricegym.agents.base import PricingAgent, agent_kinds
    from pricegym.experiments.evaluate import bind_to_seat

    oligopoly = config.market.is_oligopoly
    for i, spec in enumerate(config.agents):
        try:
            if spec.policy is not None:
                agent = PricingAgent.load(spec.policy)
            elif oligopoly and callable(getattr(agent_kinds()[spec.kind], "from_market", None)):
                agent = agent_kinds()[spec.kind].from_market(env, seat=0, **spec.params)
            else:
                agent = _fresh(spec)
            if oligopoly:
                bind_to_seat(agent, env, 0)
            else:
                agent.bind(env)
        except PricegymError as exc:
            raise ConfigError(
                f"agents[{i}] ({spec.name!r}, kind {spec.kind!r}) cannot play market {base!r}: "
                f"{exc}"
            ) from None
    if oligopoly:
        for i, rival in enumerate(config.tournament.rivals):
            try:
                bind_to_seat(_fresh(rival), env, 1)
            except PricegymError as exc:
                raise ConfigError(
                    f"tournament.rivals[{i}] ({rival.name!r}, kind {rival.kind!r}) cannot play "
                    f"market {base!r}: {exc}"
                ) from None


def _check_rivals_possible(config: ExperimentConfig, env: Any, base: str) -> None:
    if "vs_rules" not in config.tournament.modes:
        return
    comps = getattr(getattr(env.unwrapped, "competitors", None), "names", ())
    if not comps:
        raise ConfigError(
            f"tournament.modes = {list(config.tournament.modes)}: 'vs_rules' needs a competitor "
            f"price for the rival to set, and market {base!r} (its demand model) has no "
            "competitor column. Fix: fit the model on data with a competitor column "
            "(market.data.competitors), or drop vs_rules."
        )


def _check_benchmarks(config: ExperimentConfig, bench: Mapping[str, Any], base: str) -> None:
    wanted = config.evaluation.benchmarks
    if wanted == "auto":
        return
    for name in ("dp", "best_fixed"):
        if name in wanted and bench.get(name) is None:
            raise ConfigError(
                f"evaluation.benchmarks = {list(wanted)}: {name!r} is not defined for market "
                f"{base!r} ({bench.get('note')}). Fix: drop it, or set benchmarks: auto to report "
                "it only where it is defined."
            )


def _report(
    config: ExperimentConfig,
    run_dir: Path,
    plan: Mapping[str, Sequence[Cell]],
    benchmarks: Mapping[str, Any],
) -> tuple[Any, Any]:
    """Assemble the episode table and the league tables from the cell files."""
    import pandas as pd

    from pricegym.experiments.stats import league_table

    rows: list[dict[str, Any]] = []
    seeds: dict[str, Any] = {
        "experiment_seed": config.seed,
        "replicates": list(config.evaluation.seeds),
        "cells": {},
    }
    for stage in STAGES:
        for cell in plan[stage]:
            result = read_cell(cell.path(run_dir))
            if result is None:
                raise ConfigError(
                    f"cell {cell.id} has no result; rerun the experiment to complete it."
                )
            rows += result.get("rows", [])
            seeds["cells"][cell.id] = {"key": cell.to_dict(), **result.get("seeds", {})}
    _write_json(run_dir / "seeds.json", seeds)
    episodes = pd.DataFrame(rows)
    for col in EPISODE_COLUMNS:
        if col not in episodes.columns:
            episodes[col] = float("nan") if col == "delta" else None
    episodes = episodes[list(EPISODE_COLUMNS)]
    episodes = episodes.sort_values(
        ["mode", "market", "agent", "opponent", "seed", "episode"],
        na_position="first",
        kind="stable",
    ).reset_index(drop=True)
    _atomic_csv(episodes, run_dir / "episodes.csv")
    parquet = config.output.parquet
    if parquet or (parquet is None and _has("pyarrow")):
        _atomic_parquet(episodes, run_dir / "episodes.parquet")
    optimum = {m: b["dp"] for m, b in benchmarks.items() if b.get("dp") is not None}
    fixed = {m: b["best_fixed"] for m, b in benchmarks.items() if b.get("best_fixed") is not None}
    level = config.evaluation.confidence
    summary = league_table(
        episodes,
        by=("mode", "market", "agent"),
        optimum=optimum,
        best_fixed=fixed,
        confidence=level,
        seed=config.seed,
    )
    oligo = episodes[episodes["delta"].notna()]
    if not oligo.empty:
        delta = league_table(
            oligo,
            value="delta",
            by=("mode", "market", "agent"),
            extra=(),
            confidence=level,
            seed=config.seed,
        )
        delta = delta[["mode", "market", "agent", "mean", "mean_low", "mean_high"]].rename(
            columns={"mean": "delta", "mean_low": "delta_low", "mean_high": "delta_high"}
        )
        summary = summary.merge(delta, on=["mode", "market", "agent"], how="left")
    if optimum:
        summary["dp_optimum"] = summary["market"].map(optimum)
        summary["best_fixed"] = summary["market"].map(fixed)
    _atomic_csv(summary, run_dir / "summary.csv")
    robin = episodes[episodes["mode"] == "round_robin"]
    if not robin.empty:
        h2h = league_table(
            robin,
            by=("market", "opponent", "agent"),
            extra=("avg_price", "delta"),
            confidence=level,
            seed=config.seed,
        )
        _atomic_csv(h2h, run_dir / "head_to_head.csv")
    cross = episodes[
        episodes["mode"].isin(["cross_model", "solo"]) & episodes["trained_in"].notna()
    ]
    if "cross_model" in config.tournament.modes and not cross.empty:
        cross = cross.assign(agent=cross["agent"].str.split("@").str[0])
        matrix = league_table(
            cross,
            by=("trained_in", "market", "agent"),
            optimum=optimum,
            best_fixed=fixed,
            confidence=level,
            seed=config.seed,
        )
        _atomic_csv(matrix, run_dir / "cross_model.csv")
    return summary, episodes


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _atomic_csv(frame: Any, path: Path) -> None:
    from pricegym.demand.io import atomic_write_bytes

    atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.17g").encode())


def _atomic_parquet(frame: Any, path: Path) -> None:
    import io

    from pricegym.demand.io import atomic_write_bytes

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())


@contextlib.contextmanager
def _run_log(run_dir: Path) -> Iterator[None]:
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "logs" / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _log.addHandler(handler)
    level = _log.level
    _log.setLevel(logging.INFO)
    try:
        yield
    finally:
        _log.removeHandler(handler)
        _log.setLevel(level)
        handler.close()


def run_experiment(
    config: Any,
    run_dir: str | Path | None = None,
    jobs: int = 1,
    force: bool = False,
    backend: str = "process",
    *,
    address: str | None = None,
    progress: bool | None = None,
    command: Sequence[str] | None = None,
    report: bool = True,
) -> RunResult:
    """Run (or resume) an experiment and write its run directory.

    Args:
        config: an :class:`ExperimentConfig`, or anything :func:`load_experiment`
            reads (a YAML path, a bundled name, a dict).
        run_dir: the run directory (default: ``output.dir``, else ``runs/<name>``).
        jobs: cells run at once (``jobs > 1``: a spawn-safe process pool).
        force: recompute every cell (and refit the models) instead of resuming.
        backend: ``"process"`` or ``"ray"`` (the optional extra ``pricegym[ray]``).
        address: the Ray cluster to join (``None``: start a local Ray).
        progress: show progress bars (``None``: when stderr is a terminal).
        command: the command line to record (default ``sys.argv``).
        report: draw the figures and ``index.html`` at the end (``pricegym report``
            can draw them later from the saved results).

    Returns:
        A :class:`RunResult` with the league table and the episode table.

    Raises:
        ConfigError: an invalid config, a run directory holding another experiment
            (without ``force``), ``jobs < 1``, an unknown backend, or Ray missing.
    """
    from pricegym.experiments.schema import load_experiment

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs={jobs!r} must be an integer >= 1. Fix: e.g. --jobs 2.")
    if backend not in ("process", "ray"):
        raise ConfigError(f"backend={backend!r} is unknown. Fix: use 'process' or 'ray'.")
    if backend == "ray":
        _import_ray()
    if address is not None and backend != "ray":
        raise ConfigError(
            f"address={address!r} is only used with backend 'ray'. Fix: add --backend ray."
        )
    cfg = load_experiment(config)
    directory = cfg.run_dir(run_dir)
    resolved = cfg.resolved()
    _prepare_dir(directory, resolved, _input_digests(cfg), force)
    import yaml

    from pricegym.demand.io import atomic_write_bytes

    atomic_write_bytes(
        directory / "config.yaml", yaml.safe_dump(resolved, sort_keys=False).encode()
    )
    atomic_write_bytes(
        directory / "command.txt",
        (shlex.join(command if command is not None else sys.argv) + "\n").encode(),
    )
    _write_json(directory / "versions.json", _versions())
    plan = plan_cells(cfg)
    computed: dict[str, int] = {}
    skipped: dict[str, int] = {}
    pool = _Pool(jobs)
    with _run_log(directory), contextlib.closing(pool):
        _log.info("run %s: %s cells", cfg.name, {s: len(c) for s, c in plan.items()})
        benchmarks = _fit(cfg, directory, force, progress)
        for stage in STAGES:
            computed[stage], skipped[stage] = _execute(
                plan[stage],
                resolved,
                directory,
                stage=stage,
                pool=pool,
                backend=backend,
                address=address,
                force=force,
                show=progress,
            )
        summary, episodes = _report(cfg, directory, plan, benchmarks)
        _log.info("report written: %d episodes, %d league rows", len(episodes), len(summary))
        if report:
            _build_figures(directory)
    return RunResult(directory, summary, episodes, benchmarks, computed, skipped)


def _build_figures(run_dir: Path) -> None:
    """Figures and index.html of the run (see :mod:`pricegym.experiments.report`)."""
    from pricegym.experiments.report import build_report

    build_report(run_dir)


# ==================================================================== CLI
def configure_run_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym run``."""
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        metavar="CONFIG|NAME",
        help="experiment YAML file or bundled name (default: quickstart)",
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=1, metavar="N", help="cells run in parallel (default 1)"
    )
    parser.add_argument(
        "--force", action="store_true", help="recompute every cell instead of resuming"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="run directory (default: output.dir or runs/NAME)",
    )
    parser.add_argument(
        "--backend",
        choices=("process", "ray"),
        default="process",
        help="where cells run (default: process)",
    )
    parser.add_argument(
        "--address", metavar="ADDR", default=None, help="Ray cluster address (with --backend ray)"
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="skip the figures and index.html (draw them later with `pricegym report RUN_DIR`)",
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def cli_run(args: argparse.Namespace) -> int:
    """``pricegym run [CONFIG|NAME] [--jobs N] [--force] [--out DIR] [--backend B --address A]``.

    Runs (or resumes) the experiment, prints the league table and returns 0; errors
    are :class:`~pricegym.errors.PricegymError` for the CLI's exit code 2.
    """
    result = run_experiment(
        args.config,
        run_dir=args.out,
        jobs=args.jobs,
        force=args.force,
        backend=args.backend,
        address=args.address,
        report=not args.no_report,
    )
    _print_summary(result)
    return 0


def _print_summary(result: RunResult) -> None:
    """The league table as a rich table on stdout (columns that apply to the markets)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 140)
    s = result.summary

    def num(v: Any, fmt: str | None = None) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "–"
        if fmt is None:  # large amounts with thousands separators, the rest 4 digits
            fmt = "{:,.0f}" if abs(v) >= 1e4 else "{:.4g}"
        return fmt.format(v)

    def ci(r: Any, key: str, fmt: str | None = None) -> str:
        return f"{num(r[key], fmt)} [{num(r[key + '_low'], fmt)}, {num(r[key + '_high'], fmt)}]"

    columns: list[tuple[str, Callable[[Any], str]]] = []
    if s["mode"].nunique() > 1:
        columns.append(("mode", lambda r: str(r["mode"])))
    columns += [
        ("market", lambda r: str(r["market"])),
        ("rank", lambda r: str(r["rank"])),
        ("agent", lambda r: str(r["agent"])),
        ("profit/episode [95% CI]", lambda r: ci(r, "mean")),
        ("IQM", lambda r: num(r["iqm"])),
    ]
    if "pct_of_optimum" in s.columns:
        columns.append(("% of DP optimum", lambda r: num(r.get("pct_of_optimum"), "{:.1f}%")))
    if "gain_share" in s.columns:
        columns.append(("gain share", lambda r: num(r.get("gain_share"), "{:.2f}")))
    if "delta" in s.columns:
        columns.append(("Δ (collusion) [95% CI]", lambda r: ci(r, "delta", "{:.3f}")))
    columns.append(("avg price", lambda r: num(r.get("avg_price"))))
    if s["sell_through"].notna().any():
        columns.append(("sell-through", lambda r: num(r.get("sell_through"), "{:.0%}")))
    table = Table(title=f"League table — {result.run_dir}")
    for title, _ in columns:
        table.add_column(title, justify="left" if title in ("mode", "market", "agent") else "right")
    for _, r in s.iterrows():
        table.add_row(*(Text(fn(r)) for _, fn in columns))
    console.print(table)
    ran = sum(result.computed.values())
    kept = sum(result.skipped.values())
    console.print(
        Text(
            f"{ran} cells computed, {kept} reused; results in {result.run_dir} "
            "(summary.csv, episodes.csv)."
        )
    )


# The evaluate command's arguments live here, beside the run command's, because this
# module is cheap to import and the CLI builds every parser on each start.
def configure_evaluate_parser(parser: Any) -> None:
    """Arguments of ``pricegym evaluate POLICY --market CONFIG_OR_NAME --episodes N --seed S``."""
    parser.add_argument(
        "policy",
        metavar="POLICY",
        help="a saved agent (.json written by agent.save) or an agent kind (e.g. fixed_price)",
    )
    parser.add_argument(
        "--market",
        required=True,
        metavar="CONFIG_OR_NAME",
        help="a registered env id, a bundled experiment name or an experiment YAML (its market)",
    )
    parser.add_argument(
        "--episodes", type=int, default=10, metavar="N", help="episodes (default 10)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    parser.add_argument(
        "--rival",
        action="append",
        metavar="KIND",
        help="a rule-based rival's kind (repeatable; the other seats of an oligopoly)",
    )
    parser.add_argument("--out", metavar="CSV", help="write the episode table to this CSV file")
