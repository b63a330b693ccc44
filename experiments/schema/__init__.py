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
    market:                       # one source: env | data | model_path | demand | oligopoly
      data: {dataset: article}    # or {path: sales.csv, ...} or {synthetic: {seed: 0}}
      model: {family: poisson}    # or {file: model.json}, or a list of them (one market each)
      options: {n_prices: 9, horizon: 12, inventory: 2000, cost: 700}   # MarketConfig
      # model_path: model.json (a saved model, read from this file's folder) with options
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

Every key, with its type, default and allowed values, is listed in
``docs/experiment-schema.md``, generated from the declared keys
(:mod:`._keys`) by :mod:`pricegym.experiments.schema_doc`.

``agents[i].train`` is the training budget: ``episodes`` (online learners play that
many episodes with ``update``), ``timesteps`` (agents with a ``train`` method, such
as stable-baselines3 policies), ``periods`` and ``convergence_periods`` (tabular
Q-learning: self-play, or one session against rivals that do not learn) and
``max_python_seconds`` (the longest a Q-learning session against a rival that cannot
be compiled, e.g. ``random_price``, may be estimated to take; default 600).
``agents[i].policy`` loads a saved agent instead of training one. ``agents[i].modes``
restricts an agent to some tournament modes.
``evaluation.learn_online`` (default ``false``) freezes learning in evaluation:
agents play what they learned, bandits their greedy choice (no exploration bonus,
no posterior draws); ``true`` lets learners keep updating and exploring there.

Tournament modes: ``solo`` (each agent alone in each market), ``vs_rules`` (each
agent against each rule-based rival of ``tournament.rivals``: inside
:class:`~pricegym.envs.market.PricingEnv` through ``rivals=`` for a single-seller
market, in the other seats of an oligopoly), ``round_robin`` (every pair of agents,
self-pairs included, as the two sellers of an oligopoly) and ``cross_model``
(policies trained in the market of one fitted model family, evaluated in the
markets of the others).

The code is split by job into private modules; import everything from here
(every public name, and the helpers other modules use, are re-exported):
:mod:`._common` (modes, benchmarks, the error format, the typed section
reader), :mod:`._specs` (the frozen spec dataclasses),
:mod:`._market` (the ``market`` section), :mod:`._sections`
(``agents``, ``tournament``, ``evaluation``, ``output``) and
:mod:`._checks` (impossible combinations across sections). This module
holds :class:`ExperimentConfig` and :func:`load_experiment`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.schema import _keys
from pricegym.experiments.schema._checks import _check_combinations
from pricegym.experiments.schema._common import (
    BENCHMARKS,
    MODES,
    _error,
    _label,
    _load_agent_kinds,
    _Section,
)
from pricegym.experiments.schema._market import _parse_market, parse_market
from pricegym.experiments.schema._sections import (
    _parse_agents,
    _parse_evaluation,
    _parse_modes,
    _parse_output,
    _parse_rivals,
)
from pricegym.experiments.schema._specs import (
    AgentSpec,
    DataSpec,
    EvaluationSpec,
    MarketSpec,
    ModelSpec,
    OutputSpec,
    TournamentSpec,
)

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


# ==================================================================== the experiment
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


_TOP = _keys.keys("")


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
        _keys.keys("tournament"),
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


def replace_output_dir(config: ExperimentConfig, directory: str | Path) -> ExperimentConfig:
    """A copy of ``config`` writing to ``directory``."""
    return dataclasses.replace(
        config, output=dataclasses.replace(config.output, dir=str(directory))
    )
