"""The experiment file: a YAML description of a market and a field of agents, validated.

An experiment file has seven top-level keys; everything but ``agents`` has a
default. :func:`load_experiment` reads one (a path, a bundled name such as
``quickstart``, or a dict) into a frozen :class:`ExperimentConfig` and checks it
completely **before anything runs**. Every mistake raises
:class:`~pricegym.errors.ConfigError` whose message starts with the key path
(``agents[2].params.epsilon``), shows the value, states the rule and ends with
``Fix: ...`` — unknown keys get a did-you-mean, and impossible combinations (a
continuous-action algorithm in a discrete market, the DP optimum in an oligopoly,
Q-learning with one seller, ...) are refused by name.

.. code-block:: yaml

    name: quickstart              # run label (letters, digits, . _ -)
    seed: 0                       # every cell's seed derives from it
    market:                       # exactly one source: env | data | demand | oligopoly
      data: {dataset: article}    # or {path: sales.csv, ...} or {synthetic: {seed: 0}}
      model: {family: poisson}    # or {file: model.json}, or a list of them (one market each)
      options: {n_prices: 9, horizon: 12, inventory: 2000, cost: 700}   # MarketConfig
      # env: pricegym/Markdown-v0 with options: {...} (gymnasium.make keyword arguments)
      # demand: {form: exponential, a: 10, alpha: 1}  (a parametric truth) with options
      # oligopoly: {n_sellers: 2, mu: 0.25, horizon: 100}  (OligopolyEnv keyword arguments)
    agents:
      - {name: fixed, kind: fixed_price, params: {price: 900}}
      - {name: bandit, kind: ucb1, train: {episodes: 20}}
      - {name: optimum, kind: dp, modes: [solo]}
    evaluation: {episodes: 10, seeds: 3, benchmarks: auto, learn_online: false}
    tournament: {modes: [solo], rivals: [], train_against_rivals: true}
    output: {dir: runs/quickstart, parquet: auto}

``agents[i].train`` is the training budget: ``episodes`` (online learners play that
many episodes with ``update``), ``timesteps`` (agents with a ``train`` method, such
as stable-baselines3 policies), ``periods`` and ``convergence_periods`` (tabular
Q-learning self-play). ``agents[i].policy`` loads a saved agent instead of
training one. ``agents[i].modes`` restricts an agent to some tournament modes.

Tournament modes: ``solo`` (each agent alone in each market), ``vs_rules`` (each
agent against each rule-based rival of ``tournament.rivals``: inside
:class:`~pricegym.envs.market.PricingEnv` through ``rivals=`` for a single-seller
market, in the other seats of an oligopoly), ``round_robin`` (every pair of agents,
self-pairs included, as the two sellers of an oligopoly) and ``cross_model``
(policies trained in the market of one fitted model family, evaluated in the
markets of the others).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib.resources
import importlib.util
import inspect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pricegym.errors import ConfigError, PricegymError

__all__ = [
    "BENCHMARKS",
    "MODES",
    "AgentSpec",
    "DataSpec",
    "EvaluationSpec",
    "ExperimentConfig",
    "MarketSpec",
    "ModelSpec",
    "OutputSpec",
    "TournamentSpec",
    "bundled_experiments",
    "load_experiment",
    "parse_market",
    "replace_output_dir",
]

#: Tournament modes, in the order the runner plays them.
MODES: tuple[str, ...] = ("solo", "vs_rules", "round_robin", "cross_model")
#: Benchmarks a report can quote: single-seller (dp, best_fixed) and oligopoly (nash, monopoly).
BENCHMARKS: tuple[str, ...] = ("dp", "best_fixed", "nash", "monopoly")
#: Keys of ``agents[i].train``.
TRAIN_KEYS: tuple[str, ...] = ("episodes", "timesteps", "periods", "convergence_periods")
#: ``load_history`` keywords a ``market.data`` section may give for a file.
_LOAD_KEYS: tuple[str, ...] = (
    "date",
    "period",
    "price",
    "units",
    "cost",
    "competitors",
    "promotions",
    "product",
    "drop_invalid",
    "freq",
)
#: Agent kinds that need a discrete price grid / a continuous price action. A class may
#: instead declare ``action_types = ("discrete",)`` (or ``("continuous",)``) itself.
_DISCRETE_ONLY = frozenset(
    {
        "dp",
        "dqn",
        "qlearning",
        "epsilon_greedy",
        "ucb1",
        "thompson",
        "inventory_thompson",
        "maskable_ppo",
    }
)
_CONTINUOUS_ONLY = frozenset({"sac", "td3", "ddpg"})
#: Modules whose import registers agent kinds (those that exist are imported).
_AGENT_MODULES: tuple[str, ...] = (
    "pricegym.agents.rules",
    "pricegym.agents.bandits",
    "pricegym.agents.dp",
    "pricegym.agents.qlearning",
    "pricegym.agents.sb3",
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# ==================================================================== errors
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error(path: str, value: Any, rule: str, fix: str) -> ConfigError:
    """The one message format: ``path = value: rule. Fix: fix.``"""
    return ConfigError(f"{path} = {_show(value)}: {rule}. Fix: {fix.rstrip('.')}.")


def _unknown(path: str, key: Any, known: Iterable[str]) -> ConfigError:
    known = sorted(known)
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    fix = f"rename it to {close[0]!r}" if close else "remove it or use one of the known keys"
    where = f"{path}.{key}" if path else str(key)
    return ConfigError(f"{where}: unknown key {key!r}.{hint} Known keys here: {known}. Fix: {fix}.")


def _wrap(exc: PricegymError, path: str, keys: Iterable[str] = ()) -> ConfigError:
    """Prefix a library error with the key path (narrowed to the key it names, if any)."""
    msg = str(exc)
    if msg.startswith(path):
        return ConfigError(msg)
    for key in sorted(keys, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(str(key))}\s*=", msg):
            return ConfigError(f"{path}.{key}: {msg}")
    return ConfigError(f"{path}: {msg}")


class _Section:
    """A mapping read at a key path: unknown keys refused, typed getters."""

    def __init__(self, data: Any, path: str, known: Sequence[str], what: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise _error(
                path, data, f"must be a mapping ({what})", f"write {path} as key: value lines"
            )
        for key in data:
            if key not in known:
                raise _unknown(path, key, known)
        self.data, self.path = dict(data), path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def get_int(
        self, key: str, default: int | None, minimum: int = 0, example: int = 1
    ) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        return _int(value, self.at(key), minimum, example)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _error(self.at(key), value, "must be true or false", f"write {key}: true")
        return value

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise _error(
                self.at(key), value, "must be a non-empty string", f"quote it: {key}: 'text'"
            )
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise _error(self.at(key), value, "must be a mapping", f"write {key}: {{name: value}}")
        return {str(k): v for k, v in value.items()}


def _int(value: Any, path: str, minimum: int, example: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        ok, value = True, int(value)
    if not ok:
        raise _error(path, value, "must be an integer", f"write a whole number, e.g. {example}")
    if value < minimum:
        raise _error(path, value, f"must be >= {minimum}", f"use e.g. {max(example, minimum)}")
    return int(value)


def _label(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _error(
            path,
            value,
            "must be a label of letters, digits and . _ - (it names files and table rows)",
            "e.g. name: ppo_small",
        )
    return value


def _file(value: Any, path: str, base: Path | None, what: str) -> str:
    if not isinstance(value, str | Path) or not str(value):
        raise _error(path, value, f"must be the path of {what}", "give a file path")
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.is_file():
        raise _error(
            path,
            str(value),
            f"{what} {str(p)!r} does not exist",
            "check the path (relative paths are read from the experiment file's folder)",
        )
    return str(p.resolve())


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
            ``"demand"`` (a parametric truth) or ``"oligopoly"`` (OligopolyEnv).
        env: the registered id (source ``env``).
        data: the sales history (source ``data``).
        models: the demand models (source ``data``); several give several markets.
        demand: the parametric truth spec (source ``demand``).
        oligopoly: OligopolyEnv keyword arguments (source ``oligopoly``).
        options: gymnasium.make keyword arguments (``env``) or MarketConfig settings
            (``data``, ``demand``).
        action: ``"discrete"`` or ``"continuous"``.
        n_sellers: sellers in the market (1 for single-seller markets).
        has_competitors: whether a rival can set a competitor price (single seller).
        finite: whether an episode ends by itself (finite stock or a horizon).
    """

    name: str
    source: Literal["env", "data", "demand", "oligopoly"]
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

    @property
    def is_oligopoly(self) -> bool:
        """Whether the market is an N-seller OligopolyEnv."""
        return self.source == "oligopoly"

    def market_names(self) -> dict[str, ModelSpec | None]:
        """Base market name → its model (``None`` for sources without one), in order."""
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
        learn_online: whether learners keep calling ``update`` during evaluation.
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
    """Who plays whom (see the module docstring for the modes)."""

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


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment (build it with :func:`load_experiment`)."""

    name: str
    seed: int
    market: MarketSpec
    agents: tuple[AgentSpec, ...]
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    tournament: TournamentSpec = field(default_factory=TournamentSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    source: str | None = None

    def resolved(self) -> dict[str, Any]:
        """Every setting with its default filled in and file paths absolute.

        JSON/YAML-ready; :func:`load_experiment` of it gives an equal config. The
        runner writes it to the run directory and hands it to every cell.
        """
        return {
            "name": self.name,
            "seed": self.seed,
            "market": self.market.to_dict(),
            "agents": [a.to_dict() for a in self.agents],
            "evaluation": self.evaluation.to_dict(),
            "tournament": self.tournament.to_dict(),
            "output": self.output.to_dict(),
        }

    def agent(self, name: str) -> AgentSpec:
        """The agent (or rival) called ``name``."""
        for spec in (*self.agents, *self.tournament.rivals):
            if spec.name == name:
                return spec
        raise ConfigError(f"no agent called {name!r}; agents: {[a.name for a in self.agents]}.")

    def run_dir(self, override: str | Path | None = None) -> Path:
        """The run directory: ``override``, else ``output.dir``, else ``runs/<name>``."""
        if override is not None:
            return Path(override)
        return Path(self.output.dir) if self.output.dir else Path("runs") / self.name


# ==================================================================== loading
def bundled_experiments() -> list[str]:
    """Names of the experiment files shipped in ``pricegym/experiments/configs``."""
    root = importlib.resources.files("pricegym.experiments") / "configs"
    if not root.is_dir():
        return []
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


def _read_yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{where}: not valid YAML{line} ({problem}). Fix: check the indentation and quoting "
            "there (a value with ':' or '#' needs quotes)."
        ) from None


def load_experiment(
    source: str | Path | Mapping[str, Any] | ExperimentConfig | None = None,
) -> ExperimentConfig:
    """Read and validate an experiment.

    Args:
        source: a YAML file path; the name of a bundled experiment
            (:func:`bundled_experiments`: ``quickstart``, ``markdown``, ``duopoly``,
            ``calvano``, ``avocado``); a mapping with the file's structure (e.g. a
            :meth:`ExperimentConfig.resolved` dict); an :class:`ExperimentConfig`
            (returned as is); or ``None`` for ``quickstart``.

    Raises:
        ConfigError: an unknown file or name, invalid YAML, or any schema error
            (the message names the key path, the value, the rule and the fix).
    """
    if isinstance(source, ExperimentConfig):
        return source
    if source is None:
        source = "quickstart"
    if isinstance(source, Mapping):
        return _parse(source, base=None, where="<dict>", default_name="experiment")
    if not isinstance(source, str | Path):
        raise ConfigError(
            f"load_experiment({type(source).__name__}): pass a YAML path, a bundled experiment "
            f"name ({bundled_experiments()}), or a dict."
        )
    path = Path(source).expanduser()
    if path.is_file():
        data = _read_yaml(path.read_text(encoding="utf-8"), str(path))
        return _parse(data, base=path.resolve().parent, where=str(path), default_name=path.stem)
    names = bundled_experiments()
    if str(source) in names:
        res = importlib.resources.files("pricegym.experiments") / "configs" / f"{source}.yaml"
        data = _read_yaml(res.read_text(encoding="utf-8"), f"bundled experiment {source!r}")
        return _parse(data, base=None, where=f"bundled:{source}", default_name=str(source))
    close = difflib.get_close_matches(str(source), names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"experiment {str(source)!r} is neither an existing file nor a bundled experiment "
        f"(bundled: {names}).{hint} Fix: pass the path of a YAML file or one of those names."
    )


_TOP = ("name", "seed", "market", "agents", "evaluation", "tournament", "output")


def _parse(data: Any, base: Path | None, where: str, default_name: str) -> ExperimentConfig:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{where}: an experiment file must be a mapping with keys {list(_TOP)}, got "
            f"{type(data).__name__}. Fix: start the file with 'name:', 'market:', 'agents:'."
        )
    top = _Section(data, "", _TOP, "the experiment")
    name = _label(top.raw("name", re.sub(r"[^A-Za-z0-9_.-]", "_", default_name)), "name")
    seed = top.get_int("seed", 0, minimum=0, example=0)
    assert seed is not None
    _load_agent_kinds()
    if not top.has("market"):
        raise _error(
            "market",
            None,
            "an experiment needs a market",
            "add market: with one of env, data, demand or oligopoly",
        )
    market = _parse_market(top.raw("market"), base)
    tournament_raw = _Section(
        top.raw("tournament"),
        "tournament",
        ("modes", "rivals", "train_against_rivals"),
        "who plays whom",
    )
    modes = _parse_modes(tournament_raw)
    agents = _parse_agents(top.raw("agents"), base, modes)
    rivals = _parse_rivals(tournament_raw)
    tournament = TournamentSpec(
        modes, rivals, tournament_raw.get_bool("train_against_rivals", True)
    )
    evaluation = _parse_evaluation(top.raw("evaluation"), market)
    output = _parse_output(top.raw("output"))
    config = ExperimentConfig(
        name, seed, market, agents, evaluation, tournament, output, source=where
    )
    _check_combinations(config)
    return config


# -------------------------------------------------------------------- market
_MARKET_KEYS = ("name", "env", "data", "model", "demand", "oligopoly", "options")
_SOURCES = ("env", "data", "demand", "oligopoly")


def parse_market(raw: Any, base: str | Path | None = None) -> MarketSpec:
    """A validated :class:`MarketSpec` from a ``market`` section (a mapping).

    ``base`` is the folder that relative file paths are read from.
    """
    _load_agent_kinds()
    return _parse_market(raw, None if base is None else Path(base))


def _parse_market(raw: Any, base: Path | None) -> MarketSpec:
    sec = _Section(raw, "market", _MARKET_KEYS, "the market")
    given = [k for k in _SOURCES if sec.has(k)]
    if len(given) != 1:
        rule = "no market source is given" if not given else f"several sources are given {given}"
        raise _error(
            "market",
            {k: sec.raw(k) for k in given} if given else raw,
            f"{rule}; a market comes from exactly one of {list(_SOURCES)}",
            "keep one of market.env (a registered id), market.data + market.model (fitted "
            "demand), market.demand (a parametric truth) or market.oligopoly",
        )
    source = given[0]
    if sec.has("model") and source != "data":
        raise _error(
            "market.model",
            sec.raw("model"),
            f"a demand model is fitted to sales data, but the market comes from market.{source}",
            "drop market.model, or describe the data with market.data",
        )
    if source == "oligopoly" and sec.has("options"):
        raise _error(
            "market.options",
            sec.raw("options"),
            "an oligopoly takes its settings in market.oligopoly (OligopolyEnv arguments)",
            "move these settings into market.oligopoly",
        )
    name = sec.raw("name")
    if source == "env":
        return _market_env(sec, name)
    if source == "data":
        return _market_data(sec, name, base)
    if source == "demand":
        return _market_demand(sec, name)
    return _market_oligopoly(sec, name)


def _market_options(sec: _Section) -> dict[str, Any]:
    """``market.options`` as MarketConfig settings (validated by MarketConfig.from_dict)."""
    from pricegym.envs.config import MarketConfig

    options = sec.mapping("options")
    if "horizon" in options and options["horizon"] is None:
        raise _error(
            "market.options.horizon",
            None,
            "a season must have a length: episodes (and the DP optimum) end after horizon periods",
            "give a whole number of periods, e.g. horizon: 52",
        )
    try:
        MarketConfig.from_dict(options, where="market.options")
    except ConfigError as exc:
        raise _wrap(exc, "market.options", options) from None
    return options


def _market_env(sec: _Section, name: Any) -> MarketSpec:
    import gymnasium

    _load_registrations()
    env_id = sec.get_str("env")
    ids = sorted(k for k in gymnasium.registry if str(k).startswith("pricegym/"))
    if env_id not in gymnasium.registry:
        close = difflib.get_close_matches(str(env_id), ids, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _error(
            "market.env",
            env_id,
            f"is not a registered environment id.{hint} Registered pricegym ids: {ids}",
            "use one of them, or describe the market with market.data / market.demand",
        )
    options = sec.mapping("options")
    env = _make_env(env_id, options)
    try:
        from gymnasium import spaces

        base = env.unwrapped
        action = "discrete" if isinstance(env.action_space, spaces.Discrete) else "continuous"
        n_comp = len(getattr(getattr(base, "competitors", None), "names", ()) or ())
        inventory = getattr(getattr(base, "config", None), "inventory", None)
        horizon = getattr(base, "horizon", None)
        label = _label(name or env_id.split("/")[-1], "market.name")
        return MarketSpec(
            label,
            "env",
            env=env_id,
            options=options,
            action=action,
            has_competitors=n_comp > 0,
            finite=inventory is not None or horizon is not None,
        )
    finally:
        env.close()


def _make_env(env_id: str, options: Mapping[str, Any]) -> Any:
    import gymnasium

    try:
        return gymnasium.make(env_id, **options)
    except PricegymError as exc:
        raise _wrap(exc, "market.options", options) from None
    except TypeError as exc:
        raise _error(
            "market.options",
            dict(options),
            f"{env_id} does not take these keyword arguments ({exc})",
            "pass only the arguments of the environment's constructor",
        ) from None


def _market_data(sec: _Section, name: Any, base: Path | None) -> MarketSpec:
    data = _parse_data(sec.raw("data"), base)
    raw_models = sec.raw("model")
    if raw_models is None:
        raise _error(
            "market.model",
            None,
            "a market built from sales data needs a demand model to fit (or a saved one)",
            "add model: {family: poisson} (families: linear, loglinear, poisson, arimax, neural)",
        )
    items = raw_models if isinstance(raw_models, list) else [raw_models]
    if not items:
        raise _error("market.model", raw_models, "the list of models is empty", "give one model")
    models = tuple(
        _parse_model(
            item, f"market.model[{i}]" if isinstance(raw_models, list) else "market.model", base
        )
        for i, item in enumerate(items)
    )
    seen: set[str] = set()
    for i, m in enumerate(models):
        if m.name in seen:
            raise _error(
                f"market.model[{i}].name",
                m.name,
                "two models share this name (the name labels their market)",
                "give each model its own name: ...",
            )
        seen.add(m.name)
    options = _market_options(sec)
    label = _label(name or data.label, "market.name")
    competitors = None
    if data.path is not None:
        competitors = bool(data.load.get("competitors"))
    elif data.synthetic is not None:
        competitors = bool(data.synthetic.get("competitor", True))
    elif data.dataset is not None:
        competitors = data.dataset == "cigar"
    if any(m.file for m in models):
        competitors = None  # only known once the model file is read
    return MarketSpec(
        label,
        "data",
        data=data,
        models=models,
        options=options,
        action=options.get("action", "discrete"),
        has_competitors=competitors,
    )


def _parse_data(raw: Any, base: Path | None) -> DataSpec:
    keys = ("dataset", "path", "synthetic", "select_product", *_LOAD_KEYS)
    sec = _Section(raw, "market.data", keys, "the sales history")
    given = [k for k in ("dataset", "path", "synthetic") if sec.has(k)]
    if len(given) != 1:
        raise _error(
            "market.data",
            raw,
            "give exactly one of dataset (a bundled data set), path (a CSV/Parquet file) or "
            "synthetic (generated history)",
            "e.g. data: {dataset: article}",
        )
    load = {k: sec.raw(k) for k in _LOAD_KEYS if sec.has(k)}
    if load and not sec.has("path"):
        raise _error(
            f"market.data.{next(iter(load))}",
            next(iter(load.values())),
            "column-mapping keys apply to a data file (market.data.path) only",
            "drop it; bundled and synthetic histories are already mapped",
        )
    for key in ("competitors", "promotions"):
        if key in load:
            value = load[key]
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _error(
                    f"market.data.{key}",
                    load[key],
                    "must be a list of column names",
                    f"{key}: [col]",
                )
            load[key] = list(value)
    product = sec.get_str("select_product")
    if sec.has("dataset"):
        from pricegym.demand.datasets import dataset_info

        dataset = sec.get_str("dataset")
        try:
            dataset_info(dataset)
        except ConfigError as exc:
            raise _wrap(exc, "market.data.dataset") from None
        return DataSpec(dataset=dataset, select_product=product)
    if sec.has("path"):
        path = _file(sec.raw("path"), "market.data.path", base, "the sales data file")
        return DataSpec(path=path, load=load, select_product=product)
    synthetic = sec.mapping("synthetic")
    from pricegym.demand.synthetic import generate_history

    accepted = set(inspect.signature(generate_history).parameters) - {"truth", "price_process"}
    for key in synthetic:
        if key not in accepted:
            raise _unknown("market.data.synthetic", key, accepted)
    return DataSpec(synthetic=synthetic, select_product=product)


def _parse_model(raw: Any, path: str, base: Path | None) -> ModelSpec:
    from pricegym.demand.base import model_families

    _load_families()
    sec = _Section(raw, path, ("name", "family", "params", "file"), "a demand model")
    if sec.has("family") == sec.has("file"):
        raise _error(
            path,
            raw,
            "give exactly one of family (fit it to market.data) or file (a saved model)",
            "e.g. model: {family: poisson}",
        )
    if sec.has("file"):
        if sec.has("params"):
            raise _error(
                f"{path}.params",
                sec.raw("params"),
                "a saved model has its parameters",
                "drop params",
            )
        file = _file(sec.raw("file"), f"{path}.file", base, "the saved demand model")
        npz = Path(file).with_suffix(".npz")
        if not npz.is_file():
            raise _error(
                f"{path}.file",
                file,
                f"a saved model is a .json with its .npz beside it, and {str(npz)!r} is missing",
                "copy the .npz next to the .json (DemandModel.save writes both)",
            )
        name = _label(sec.raw("name", Path(file).stem), f"{path}.name")
        return ModelSpec(name, file=file)
    families = model_families()
    family = sec.get_str("family")
    if family not in families:
        close = difflib.get_close_matches(str(family), sorted(families), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _error(
            f"{path}.family",
            family,
            f"is not a demand-model family.{hint} Families: {sorted(families)}",
            f"use {close[0]!r}" if close else "use one of the families",
        )
    params = sec.mapping("params")
    accepted = families[family]._param_names()
    for key in params:
        if key not in accepted:
            raise _unknown(f"{path}.params", key, accepted)
    from pricegym.demand import make_model

    try:
        make_model(family, **params)
    except PricegymError as exc:
        raise _wrap(exc, f"{path}.params", params) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            f"{path}.params", params, f"rejected by {family} ({exc})", "fix the values"
        ) from None
    name = _label(sec.raw("name", family), f"{path}.name")
    return ModelSpec(name, family=family, params=params)


def _market_demand(sec: _Section, name: Any) -> MarketSpec:
    from pricegym.agents.rules import demand_from_spec
    from pricegym.envs.config import MarketConfig

    spec = sec.mapping("demand")
    try:
        kernel = demand_from_spec(spec)
    except ConfigError as exc:
        raise _wrap(exc, "market.demand", spec) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            "market.demand", spec, f"not a valid parametric truth ({exc})", "fix its parameters"
        ) from None
    if int(getattr(kernel, "n_sellers", 1)) != 1:
        raise _error(
            "market.demand",
            spec,
            "a multi-seller demand belongs in an oligopoly",
            "use market.oligopoly (the logit market) instead",
        )
    options = _market_options(sec)
    cfg = MarketConfig.from_dict(options)
    try:
        cfg.price_range(kernel.support)
    except ConfigError as exc:
        raise _wrap(exc, "market.options", options) from None
    label = _label(name or str(spec.get("form", "demand")), "market.name")
    return MarketSpec(
        label,
        "demand",
        demand=spec,
        options=options,
        action=cfg.action,
        has_competitors=bool(tuple(kernel.spec.competitors)),
    )


def _market_oligopoly(sec: _Section, name: Any) -> MarketSpec:
    from pricegym.envs.oligopoly import OligopolyEnv

    kwargs = sec.mapping("oligopoly")
    accepted = [
        n
        for n in inspect.signature(OligopolyEnv.__init__).parameters
        if n not in ("self", "kernel")
    ]
    for key in kwargs:
        if key not in accepted:
            raise _unknown("market.oligopoly", key, accepted)
    try:
        env = OligopolyEnv(**kwargs)
    except PricegymError as exc:
        raise _wrap(exc, "market.oligopoly", kwargs) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            "market.oligopoly", kwargs, f"rejected by OligopolyEnv ({exc})", "fix the values"
        ) from None
    label = _label(name or "oligopoly", "market.name")
    return MarketSpec(
        label,
        "oligopoly",
        oligopoly=kwargs,
        action=env.action_type,
        n_sellers=env.n_sellers,
        has_competitors=True,
        finite=env.horizon is not None,
    )


# -------------------------------------------------------------------- agents
def _load_agent_kinds() -> None:
    """Import the agent modules that exist, so that every kind is registered."""
    import importlib

    for module in _AGENT_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def _load_registrations() -> None:
    import importlib

    for module in ("pricegym.envs.registration",):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def _load_families() -> None:
    import pricegym.demand.arimax
    import pricegym.demand.neural
    import pricegym.demand.regression  # noqa: F401


_AGENT_KEYS = ("name", "kind", "params", "train", "policy", "modes")


def _parse_agent(raw: Any, path: str, base: Path | None, *, rival: bool = False) -> AgentSpec:
    from pricegym.agents.base import agent_kinds

    keys = ("name", "kind", "params") if rival else _AGENT_KEYS
    sec = _Section(raw, path, keys, "an agent: name, kind, params")
    kinds = agent_kinds()
    kind = sec.raw("kind")
    if kind is None:
        raise _error(
            f"{path}.kind",
            None,
            "every agent needs a kind",
            f"e.g. kind: fixed_price (kinds: {sorted(kinds)})",
        )
    if kind not in kinds:
        close = difflib.get_close_matches(str(kind), sorted(kinds), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _error(
            f"{path}.kind",
            kind,
            f"is not a registered agent kind.{hint} Kinds: {sorted(kinds)}",
            f"use {close[0]!r}" if close else "use one of the kinds",
        )
    cls = kinds[kind]
    params = sec.mapping("params")
    accepted = [n for n in cls._param_names() if n != "name"]
    for key in params:
        if key not in accepted:
            raise _unknown(f"{path}.params", key, accepted)
    name = _label(sec.raw("name", kind), f"{path}.name")
    if not getattr(cls, "from_market", None):
        _build_agent(kind, params, f"{path}.params")
    train: dict[str, int] = {}
    for key, value in sec.mapping("train").items():
        if key not in TRAIN_KEYS:
            raise _unknown(f"{path}.train", key, TRAIN_KEYS)
        train[key] = _int(value, f"{path}.train.{key}", 1, 1000)
    policy = None
    if sec.has("policy"):
        policy = _file(sec.raw("policy"), f"{path}.policy", base, "the saved agent")
    modes = None
    if sec.has("modes"):
        modes = _mode_list(sec.raw("modes"), f"{path}.modes")
    return AgentSpec(name, kind, params, train, policy, modes)


def _build_agent(kind: str, params: Mapping[str, Any], path: str) -> Any:
    from pricegym.agents.base import make_agent

    try:
        return make_agent(kind, **params)
    except PricegymError as exc:
        raise _wrap(exc, path, params) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            path, dict(params), f"rejected by agent kind {kind!r} ({exc})", "fix the values"
        ) from None


def _parse_agents(raw: Any, base: Path | None, modes: tuple[str, ...]) -> tuple[AgentSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise _error(
            "agents",
            raw,
            "must be a non-empty list of agents",
            "write agents: followed by lines '- {name: fixed, kind: fixed_price}'",
        )
    agents = tuple(_parse_agent(item, f"agents[{i}]", base) for i, item in enumerate(raw))
    seen: dict[str, int] = {}
    for i, a in enumerate(agents):
        if a.name in seen:
            raise _error(
                f"agents[{i}].name",
                a.name,
                f"agents[{seen[a.name]}] has the same name (names label table rows and files)",
                "give each agent its own name:",
            )
        seen[a.name] = i
        if a.modes is not None:
            for m in a.modes:
                if m not in modes:
                    raise _error(
                        f"agents[{i}].modes",
                        list(a.modes),
                        f"mode {m!r} is not played in this tournament "
                        f"(tournament.modes: {list(modes)})",
                        f"add {m!r} to tournament.modes or drop it here",
                    )
    return agents


def _parse_rivals(sec: _Section) -> tuple[AgentSpec, ...]:
    raw = sec.raw("rivals", [])
    if not isinstance(raw, list):
        raise _error(
            "tournament.rivals",
            raw,
            "must be a list of rule-based agents",
            "rivals: [{kind: undercut}]",
        )
    rivals = tuple(
        _parse_agent(item, f"tournament.rivals[{i}]", None, rival=True)
        for i, item in enumerate(raw)
    )
    from pricegym.agents.base import agent_kinds

    kinds = agent_kinds()
    names: set[str] = set()
    for i, r in enumerate(rivals):
        if kinds[r.kind].learns or r.kind == "dp":
            raise _error(
                f"tournament.rivals[{i}].kind",
                r.kind,
                "a rival is a fixed, rule-based seller; this kind learns or needs a solved market",
                "use a rule such as fixed_price, cost_plus, undercut, match_lowest or tit_for_tat, "
                "or put the learner among the agents and use round_robin",
            )
        if r.name in names:
            raise _error(
                f"tournament.rivals[{i}].name", r.name, "two rivals share this name", "rename one"
            )
        names.add(r.name)
    return rivals


def _mode_list(raw: Any, path: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise _error(
            path, raw, f"must be a non-empty list of modes from {list(MODES)}", "e.g. [solo]"
        )
    for i, m in enumerate(items):
        if m not in MODES:
            close = difflib.get_close_matches(str(m), MODES, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise _error(
                f"{path}[{i}]",
                m,
                f"is not a tournament mode.{hint} Modes: {list(MODES)}",
                "use one of them",
            )
    return tuple(dict.fromkeys(items))


def _parse_modes(sec: _Section) -> tuple[str, ...]:
    return _mode_list(sec.raw("modes", ["solo"]), "tournament.modes")


# -------------------------------------------------------------------- evaluation, output
def _parse_evaluation(raw: Any, market: MarketSpec) -> EvaluationSpec:
    sec = _Section(
        raw,
        "evaluation",
        ("episodes", "seeds", "benchmarks", "learn_online", "confidence"),
        "episodes, seeds, benchmarks",
    )
    episodes = sec.get_int("episodes", 10, minimum=1, example=10)
    seeds_raw = sec.raw("seeds", 3)
    if isinstance(seeds_raw, list):
        if not seeds_raw:
            raise _error(
                "evaluation.seeds", seeds_raw, "the list of seeds is empty", "e.g. seeds: [0, 1, 2]"
            )
        seeds = tuple(_int(s, f"evaluation.seeds[{i}]", 0, 0) for i, s in enumerate(seeds_raw))
        if len(set(seeds)) != len(seeds):
            raise _error(
                "evaluation.seeds",
                seeds_raw,
                "seeds repeat (each seed is one replicate)",
                "list distinct seeds",
            )
    else:
        n = _int(seeds_raw, "evaluation.seeds", 1, 3)
        seeds = tuple(range(n))
    bench_raw = sec.raw("benchmarks", "auto")
    benchmarks: tuple[str, ...] | Literal["auto"]
    if bench_raw == "auto":
        benchmarks = "auto"
    else:
        items = [bench_raw] if isinstance(bench_raw, str) else bench_raw
        if not isinstance(items, list):
            raise _error(
                "evaluation.benchmarks",
                bench_raw,
                f"must be 'auto' or a list from {list(BENCHMARKS)}",
                "e.g. [dp, best_fixed]",
            )
        for i, b in enumerate(items):
            if b not in BENCHMARKS:
                close = difflib.get_close_matches(str(b), BENCHMARKS, n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise _error(
                    f"evaluation.benchmarks[{i}]",
                    b,
                    f"is not a benchmark.{hint} Benchmarks: {list(BENCHMARKS)}",
                    "use one of them",
                )
            single = b in ("dp", "best_fixed")
            if single and market.is_oligopoly:
                raise _error(
                    f"evaluation.benchmarks[{i}]",
                    b,
                    "the DP optimum and the best fixed price are single-seller benchmarks, "
                    "and the market is an oligopoly",
                    "use nash and monopoly for an oligopoly",
                )
            if single and market.action == "continuous":
                raise _error(
                    f"evaluation.benchmarks[{i}]",
                    b,
                    "the DP optimum needs a discrete price grid, "
                    "and market.options.action is 'continuous'",
                    "drop it, or use action: discrete",
                )
            if not single and not market.is_oligopoly:
                raise _error(
                    f"evaluation.benchmarks[{i}]",
                    b,
                    "Nash and monopoly prices are oligopoly benchmarks, "
                    "and the market has one seller",
                    "use dp and best_fixed for a single seller",
                )
        benchmarks = tuple(dict.fromkeys(items))
    confidence = sec.raw("confidence", 0.95)
    if (
        not isinstance(confidence, int | float)
        or isinstance(confidence, bool)
        or not 0 < confidence < 1
    ):
        raise _error(
            "evaluation.confidence",
            confidence,
            "must be a level strictly between 0 and 1",
            "e.g. 0.95",
        )
    assert episodes is not None
    return EvaluationSpec(
        episodes, seeds, benchmarks, sec.get_bool("learn_online", False), float(confidence)
    )


def _parse_output(raw: Any) -> OutputSpec:
    sec = _Section(raw, "output", ("dir", "parquet"), "where results go")
    parquet = sec.raw("parquet", "auto")
    if parquet == "auto":
        parquet = None
    elif not isinstance(parquet, bool):
        raise _error("output.parquet", parquet, "must be true, false or auto", "parquet: auto")
    if parquet and importlib.util.find_spec("pyarrow") is None:
        raise _error(
            "output.parquet",
            parquet,
            "Parquet output needs pyarrow, which is not installed",
            'pip install "pricegym[parquet]", or set parquet: auto',
        )
    return OutputSpec(sec.get_str("dir"), parquet)


# -------------------------------------------------------------------- combinations
def _action_types(cls: type, params: Mapping[str, Any]) -> set[str]:
    declared = getattr(cls, "action_types", None)
    if declared:
        return set(declared)
    names = {str(getattr(cls, "kind", ""))}
    for key in ("algo", "algorithm"):
        if isinstance(params.get(key), str):
            names.add(params[key].lower())
    if names & _CONTINUOUS_ONLY:
        return {"continuous"}
    if names & _DISCRETE_ONLY:
        return {"discrete"}
    return {"discrete", "continuous"}


def _check_combinations(config: ExperimentConfig) -> None:
    from pricegym.agents.base import agent_kinds

    market, modes, kinds = config.market, config.tournament.modes, agent_kinds()
    if market.is_oligopoly and not market.finite:
        raise _error(
            "market.oligopoly.horizon",
            None,
            "evaluation episodes need an end, and this oligopoly plays forever",
            "give the rounds per episode, e.g. horizon: 100",
        )
    if market.is_oligopoly and "solo" in modes:
        raise _error(
            "tournament.modes",
            list(modes),
            "'solo' puts each agent alone in the market, but an oligopoly has several sellers",
            "use vs_rules (rivals in the other seats) or round_robin (agents against each other)",
        )
    if "round_robin" in modes:
        if not market.is_oligopoly:
            raise _error(
                "tournament.modes",
                list(modes),
                "'round_robin' seats agents against each other in an oligopoly, "
                "but the market has one seller",
                "use market.oligopoly, or vs_rules for rule-based rivals "
                "inside a single-seller market",
            )
        if market.n_sellers != 2:
            raise _error(
                "market.oligopoly.n_sellers",
                market.n_sellers,
                "round_robin plays pairs of agents, so the oligopoly needs exactly 2 sellers",
                "set n_sellers: 2",
            )
    if "vs_rules" in modes:
        if not config.tournament.rivals:
            raise _error(
                "tournament.rivals",
                [],
                "'vs_rules' plays each agent against each listed rival, and none is listed",
                "add rivals: [{kind: undercut, params: {step: 0.05}}]",
            )
        if not market.is_oligopoly and market.has_competitors is False:
            raise _error(
                "tournament.modes",
                list(modes),
                "'vs_rules' needs a competitor price for the rival to set, and market "
                f"{market.name!r} "
                "has no competitor column",
                "use data with a competitor column (market.data.competitors), a market with "
                "competitors, or an oligopoly",
            )
    if "cross_model" in modes and len(market.models) < 2:
        raise _error(
            "market.model",
            [m.to_dict() for m in market.models] or None,
            "'cross_model' trains in the market of one model and evaluates in the others, so it "
            "needs at least two models",
            "give market.model as a list, e.g. [{family: poisson}, {family: loglinear}]",
        )
    for i, agent in enumerate(config.agents):
        path, cls = f"agents[{i}]", kinds[agent.kind]
        types = _action_types(cls, agent.params)
        if market.action not in types:
            need = next(iter(types))
            raise _error(
                f"{path}.kind",
                agent.kind,
                f"this agent needs a {need} price action, "
                f"and the market's action is {market.action!r}",
                f"set market action: {need} (market.options.action or market.oligopoly.action), or "
                f"choose an agent for {market.action} prices"
                + (
                    " (e.g. ppo, a2c, sac, td3)"
                    if market.action == "continuous"
                    else " (e.g. ppo, dqn, a bandit)"
                ),
            )
        _check_budget(agent, kinds[agent.kind], path)
        played = [m for m in modes if agent.plays(m)]
        if agent.kind == "dp":
            if market.is_oligopoly:
                raise _error(
                    f"{path}.kind",
                    "dp",
                    "the DP optimum is defined for one seller with a known demand model, "
                    "and the market is an oligopoly",
                    "remove it; oligopoly reports quote the Nash and monopoly benchmarks instead",
                )
            if "vs_rules" in played:
                raise _error(
                    f"{path}.modes",
                    list(agent.modes) if agent.modes else None,
                    "the DP optimum cannot play against rival agents "
                    "(their reactions are not in its state)",
                    f"set {path}.modes: [solo]",
                )
            if not market.finite:
                raise _error(
                    f"{path}.kind",
                    "dp",
                    "the DP optimum needs a season of finite length (horizon) "
                    "or a finite inventory",
                    "set market.options.horizon (e.g. 52) or market.options.inventory",
                )
        offline = callable(getattr(kinds[agent.kind], "train", None))
        if offline and agent.train and "round_robin" in played:
            raise _error(
                f"{path}.train",
                dict(agent.train),
                "an agent that trains offline (its own train method, e.g. SB3) cannot learn in a "
                "round robin, where it meets itself and other learning sellers",
                f"give {path}.policy (a trained agent) and drop train, or leave round_robin out "
                f"of {path}.modes and train it in vs_rules",
            )
        if agent.kind == "qlearning" and not market.is_oligopoly:
            raise _error(
                f"{path}.kind",
                "qlearning",
                "tabular Q-learning (Calvano et al.) learns in a repeated oligopoly, "
                "and the market has one seller",
                "use market.oligopoly, or a bandit / an SB3 agent for a single seller",
            )
        if not played:
            raise _error(
                f"{path}.modes",
                list(agent.modes or ()),
                "the agent plays in none of the tournament's modes",
                f"use some of {list(modes)}",
            )
    for i, rival in enumerate(config.tournament.rivals):
        types = _action_types(kinds[rival.kind], rival.params)
        if market.action not in types:
            raise _error(
                f"tournament.rivals[{i}].kind",
                rival.kind,
                f"this rival needs a {next(iter(types))} price action, "
                f"and the market's is {market.action!r}",
                "choose another rule",
            )


def _check_budget(agent: AgentSpec, cls: type, path: str) -> None:
    """``agents[i].train`` fits the way the agent learns (offline ``train`` or online)."""
    if not agent.train:
        return
    offline = callable(getattr(cls, "train", None))
    budget = dict(agent.train)
    if not offline and not getattr(cls, "learns", False):
        raise _error(
            f"{path}.train",
            budget,
            f"agent kind {agent.kind!r} does not learn, so there is nothing to train",
            "drop train, or choose a learning agent (a bandit, qlearning, sb3)",
        )
    if offline and "timesteps" not in budget:
        raise _error(
            f"{path}.train",
            budget,
            f"agent kind {agent.kind!r} trains offline for a number of market periods (frames)",
            "give train: {timesteps: N}",
        )
    if not offline and "timesteps" in budget:
        raise _error(
            f"{path}.train",
            budget,
            f"timesteps is the budget of agents with a train method (SB3); {agent.kind!r} "
            "learns online, episode by episode",
            "give train: {episodes: N} (or periods: N for Q-learning)",
        )
    if not offline and not ({"episodes", "periods"} & set(budget)):
        raise _error(
            f"{path}.train",
            budget,
            "an online learner's budget is a number of episodes (or periods)",
            "give train: {episodes: N}",
        )


def replace_output_dir(config: ExperimentConfig, directory: str | Path) -> ExperimentConfig:
    """A copy of ``config`` writing to ``directory``."""
    return dataclasses.replace(
        config, output=dataclasses.replace(config.output, dir=str(directory))
    )
