"""The cells of an experiment: their keys, the plan, and what a cell is built from.

Split out of :mod:`pricegym.experiments.runner`, which re-exports every name here
(import them from there). A :class:`Cell` is one agent (or a round-robin pair) ×
one market × one replicate seed; :func:`plan_cells` lists every cell of a config
by stage, in a deterministic order. :class:`RunContext` builds what a cell needs
from the config and the run directory (demand kernels, envs, fresh or trained
agents), and :func:`cell_agent` / :func:`eval_seeds` give the agent and the seeds
an evaluation cell plays with; the report replays cells with the same three.
The cell computations themselves are in :mod:`pricegym.experiments.runner._compute`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError
from pricegym.experiments.runner._files import read_cell

if TYPE_CHECKING:
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
