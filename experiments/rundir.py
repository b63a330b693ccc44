"""The run directory's model: what its cells are, how they are planned and read back.

The one module both sides of a run import — the runner (:mod:`pricegym.experiments.runner`,
which computes cells and writes them) and the report
(:mod:`pricegym.experiments.report`, which reads them and replays evaluation
episodes) — so neither imports the other to learn what a run directory holds.

A :class:`Cell` is one agent (or a round-robin pair) × one market × one replicate
seed; :func:`plan_cells` lists every cell of a config by stage, in a deterministic
order; :func:`read_cell` reads a finished cell's file back. :class:`RunContext`
builds what a cell needs from the config and the run directory (demand kernels,
envs, fresh or trained agents), and :func:`cell_agent` / :func:`eval_seeds` give
the agent and the seeds an evaluation cell plays with; the report replays cells
with the same three. :func:`decision_notes` says where a run's results
(``benchmarks.json``, the league table) cannot support a decision. The cell
computations themselves are in :mod:`pricegym.experiments.runner._compute`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError

# Demand models, agents and markets are imported inside the functions that build them:
# the report reads run directories through this module without gymnasium or pandas.

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.schema import AgentSpec, ExperimentConfig


#: Stages that run cells, in order.
STAGES: tuple[str, ...] = ("train", "evaluate", "tournament")


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


def read_cell(path: Path) -> dict[str, Any] | None:
    """A finished cell's result file, or None when it is missing or unreadable (recompute)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a torn or foreign file: recompute the cell


#: An agent's average price within this fraction of the price range of p_min or p_max
#: is "at the grid edge" (``grid_edge`` column of summary.csv).
GRID_EDGE_TOL = 0.01


def grid_edge(avg_price: Any, p_min: float, p_max: float) -> str:
    """``"top"`` / ``"bottom"`` when an average price sits at the edge of [p_min, p_max]
    (within :data:`GRID_EDGE_TOL` of the range), else ``""``."""
    try:
        price = float(avg_price)
    except (TypeError, ValueError):
        return ""
    tol = GRID_EDGE_TOL * (p_max - p_min)
    if price >= p_max - tol:
        return "top"
    if price <= p_min + tol:
        return "bottom"
    return ""


def _price_ranges(benchmarks: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Market → (p_min, p_max) of the single-seller markets that recorded their optimum check."""
    out = {}
    for market, bench in benchmarks.items():
        check = bench.get("optimum") if isinstance(bench, Mapping) else None
        if check:
            out[market] = (float(check["p_min"]), float(check["p_max"]))
    return out


def _all_zero(value: Any) -> bool:
    """Whether a unit cost entry (one number, or a list per product of a catalogue) is all 0."""
    values = value if isinstance(value, list) else [value]
    return all(float(v or 0.0) == 0.0 for v in values)


def decision_notes(benchmarks: Mapping[str, Any], summary: pd.DataFrame | None = None) -> list[str]:
    """Lines that say where a run's results cannot support a decision.

    Per single-seller market of ``benchmarks`` (``benchmarks.json``): ``cost: not
    given — profit = revenue`` when the experiment gave no unit cost (or 0), the
    optimum check's message when the profit-maximising price sits at an edge of the
    price grid or does not exist, and — with the league table ``summary`` — a line
    when every agent's average price sits at the same grid edge.
    """
    notes: list[str] = []
    for market, bench in benchmarks.items():
        if not isinstance(bench, Mapping):
            continue
        cost = bench.get("cost")
        if cost is not None and not cost.get("given"):
            notes.append(
                f"market {market}: cost: not given — profit = revenue (the market's unit cost "
                "defaults to 0). Give it with market.options.cost in the experiment YAML."
            )
        elif cost is not None and _all_zero(cost.get("value")):
            notes.append(f"market {market}: cost: 0 (given) — profit = revenue.")
        check = bench.get("optimum")
        if check and check.get("at_edge"):
            notes.append(f"market {market}: {check['message']}")
        if summary is not None and "grid_edge" in summary.columns:
            rows = summary[summary["market"] == market]
            edges = {str(e) if isinstance(e, str) else "" for e in rows["grid_edge"]}
            if len(rows) and len(edges) == 1 and edges != {""}:
                edge = edges.pop()
                assert check  # grid_edge is set only for markets with a check (_price_ranges)
                price = check["p_max"] if edge == "top" else check["p_min"]
                notes.append(
                    f"market {market}: every agent's average price sits at the {edge} of the "
                    f"price grid ({price:.4g}): the ranking says only that the "
                    f"{'highest' if edge == 'top' else 'lowest'} price allowed wins, not what "
                    "the right price is."
                )
    return notes
