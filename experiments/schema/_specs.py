"""The frozen spec dataclasses of an experiment's sections.

:class:`DataSpec`, :class:`ModelSpec` and :class:`MarketSpec` describe the
``market`` section; :class:`AgentSpec` an entry of ``agents`` (or of
``tournament.rivals``); :class:`EvaluationSpec`, :class:`TournamentSpec` and
:class:`OutputSpec` the sections of those names. Each ``to_dict`` gives the
resolved section. The parsers that build them live in :mod:`._market`
and :mod:`._sections`; :class:`~pricegym.experiments.schema.ExperimentConfig`,
which holds them all, and the YAML documentation are in
:mod:`pricegym.experiments.schema`, which re-exports every class here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


# ==================================================================== specs
@dataclass(frozen=True)
class DataSpec:
    """Where a sales history comes from: one of ``dataset``, ``path``, ``synthetic``.

    Attributes:
        dataset: a bundled data set (:func:`pricegym.demand.datasets.load_dataset`).
        path: a CSV/Parquet file (absolute after loading), read with ``load``.
        synthetic: keyword arguments of :func:`pricegym.demand.synthetic.generate_history`.
        load: :func:`~pricegym.demand.data.load_history` column-mapping keywords.
        select_product: one product of a panel.
    """

    dataset: str | None = None
    path: str | None = None
    synthetic: dict[str, Any] | None = None
    load: dict[str, Any] = field(default_factory=dict)
    select_product: str | None = None

    @property
    def label(self) -> str:
        """Short name of the source (data set name, file stem or ``synthetic``)."""
        if self.dataset:
            return self.dataset
        if self.path:
            return Path(self.path).stem
        return "synthetic"

    def to_dict(self) -> dict[str, Any]:
        """The resolved ``market.data`` section."""
        out: dict[str, Any] = {}
        if self.dataset:
            out["dataset"] = self.dataset
        if self.path:
            out["path"] = self.path
            out.update(self.load)
        if self.synthetic is not None:
            out["synthetic"] = copy.deepcopy(self.synthetic)
        if self.select_product is not None:
            out["select_product"] = self.select_product
        return out


@dataclass(frozen=True)
class ModelSpec:
    """A demand model: a family fitted on the fly (``family``, ``params``) or a saved ``file``."""

    name: str
    family: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The resolved model entry."""
        if self.file:
            return {"name": self.name, "file": self.file}
        return {"name": self.name, "family": self.family, "params": copy.deepcopy(self.params)}


@dataclass(frozen=True)
class MarketSpec:
    """The market(s) of an experiment.

    Attributes:
        name: the market's label (each model of a data source adds ``/<model name>``).
        source: ``"env"`` (a registered id), ``"data"`` (sales history + model),
            ``"model"`` (a saved demand model, ``market.model_path``), ``"demand"`` (a
            parametric truth) or ``"oligopoly"`` (OligopolyEnv).
        env: the registered id (source ``env``).
        data: the sales history (source ``data``).
        models: the demand models (source ``data``; several give several markets), or
            the one saved model of source ``model``.
        demand: the parametric truth spec (source ``demand``).
        oligopoly: OligopolyEnv keyword arguments (source ``oligopoly``).
        options: gymnasium.make keyword arguments (``env``) or MarketConfig settings
            (``data``, ``model``, ``demand``).
        action: ``"discrete"`` or ``"continuous"``.
        n_sellers: sellers in the market (1 for single-seller markets).
        has_competitors: whether a rival can set a competitor price (single seller).
        finite: whether an episode ends by itself (finite stock or a horizon).
        validation: held-out validation settings of a data market (``holdout``,
            ``paths``; see :mod:`~pricegym.experiments.schema._validate`), ``None`` when
            it is off or the source has no history to validate on.
        catalogue: whether the market is a catalogue (a registered catalogue id such
            as ``pricegym/LogitCatalogue-v0``: a MultiProductEnv, whose agents post one
            price per product).
        n_products: products the seller prices (1 unless a catalogue).
    """

    name: str
    source: Literal["env", "data", "model", "demand", "oligopoly"]
    env: str | None = None
    data: DataSpec | None = None
    models: tuple[ModelSpec, ...] = ()
    demand: dict[str, Any] | None = None
    oligopoly: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    action: Literal["discrete", "continuous"] = "discrete"
    n_sellers: int = 1
    has_competitors: bool | None = None
    finite: bool = True
    validation: dict[str, Any] | None = None
    catalogue: bool = False
    n_products: int = 1

    @property
    def is_catalogue(self) -> bool:
        """Whether the market is a catalogue (MultiProductEnv: a price per product)."""
        return self.catalogue

    @property
    def is_oligopoly(self) -> bool:
        """Whether the market is an N-seller OligopolyEnv."""
        return self.source == "oligopoly"

    def market_names(self) -> dict[str, ModelSpec | None]:
        """Base market name → its model (``None`` for sources without one), in order."""
        if self.source == "model":
            return {self.name: self.models[0]}
        if self.source != "data":
            return {self.name: None}
        if len(self.models) == 1:
            return {self.name: self.models[0]}
        return {f"{self.name}/{m.name}": m for m in self.models}

    def to_dict(self) -> dict[str, Any]:
        """The resolved ``market`` section."""
        out: dict[str, Any] = {"name": self.name}
        if self.source == "env":
            out["env"] = self.env
        elif self.source == "data":
            assert self.data is not None
            out["data"] = self.data.to_dict()
            out["model"] = [m.to_dict() for m in self.models]
            out["validate"] = dict(self.validation) if self.validation is not None else False
        elif self.source == "model":
            out["model_path"] = self.models[0].file
        elif self.source == "demand":
            out["demand"] = copy.deepcopy(self.demand)
        else:
            out["oligopoly"] = copy.deepcopy(self.oligopoly)
        if self.source != "oligopoly":
            out["options"] = copy.deepcopy(self.options)
        return out


@dataclass(frozen=True)
class AgentSpec:
    """One named agent: ``kind`` and ``params`` for :func:`~pricegym.agents.base.make_agent`.

    Attributes:
        name: unique label in reports.
        kind: a registered agent kind.
        params: constructor keyword arguments.
        train: training budget (keys of :data:`TRAIN_KEYS`); empty: no training.
        policy: a saved agent (JSON) to play instead of training one.
        modes: the tournament modes this agent plays (``None``: all).
    """

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    train: dict[str, int] = field(default_factory=dict)
    policy: str | None = None
    modes: tuple[str, ...] | None = None

    def plays(self, mode: str) -> bool:
        """Whether the agent takes part in ``mode``."""
        return self.modes is None or mode in self.modes

    def to_dict(self) -> dict[str, Any]:
        """The resolved agent entry."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "params": copy.deepcopy(self.params),
            "train": dict(self.train),
        }
        if self.policy is not None:
            out["policy"] = self.policy
        if self.modes is not None:
            out["modes"] = list(self.modes)
        return out


@dataclass(frozen=True)
class EvaluationSpec:
    """Evaluation episodes, seeds and benchmarks.

    Attributes:
        episodes: evaluation episodes per (agent, market, seed).
        seeds: the replicate seeds; each trains and evaluates independently.
        benchmarks: benchmarks to compute; ``auto`` (the default) is every one defined
            for the market (dp and best_fixed where the DP applies; nash and monopoly
            for oligopolies).
        learn_online: whether learners keep learning during evaluation. ``false``
            (the default): learning is frozen, each agent plays what it learned in
            training, and bandits play their greedy choice (the best learned mean, or
            the best value at the posterior-mean demand; no exploration bonus, no
            posterior draws). ``true``: learners call ``update`` after every period of
            the evaluation episodes and bandits keep exploring, as they do in training.
        confidence: level of the bootstrap intervals of the league table.
    """

    episodes: int = 10
    seeds: tuple[int, ...] = (0, 1, 2)
    benchmarks: tuple[str, ...] | Literal["auto"] = "auto"
    learn_online: bool = False
    confidence: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """The resolved ``evaluation`` section."""
        bench = self.benchmarks if self.benchmarks == "auto" else list(self.benchmarks)
        return {
            "episodes": self.episodes,
            "seeds": list(self.seeds),
            "benchmarks": bench,
            "learn_online": self.learn_online,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class TournamentSpec:
    """Who plays whom (see :mod:`pricegym.experiments.schema` for the modes)."""

    modes: tuple[str, ...] = ("solo",)
    rivals: tuple[AgentSpec, ...] = ()
    train_against_rivals: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The resolved ``tournament`` section."""
        return {
            "modes": list(self.modes),
            "rivals": [
                {"name": r.name, "kind": r.kind, "params": copy.deepcopy(r.params)}
                for r in self.rivals
            ],
            "train_against_rivals": self.train_against_rivals,
        }


@dataclass(frozen=True)
class OutputSpec:
    """Where results go: ``dir`` (default ``runs/<name>``) and whether episodes are also
    written as Parquet (``None``: when pyarrow is installed). Trained policies are
    always saved: evaluation cells and resumed runs load them."""

    dir: str | None = None
    parquet: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The resolved ``output`` section."""
        return {"dir": self.dir, "parquet": "auto" if self.parquet is None else self.parquet}
