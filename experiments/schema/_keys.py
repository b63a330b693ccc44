"""The declared keys of the experiment file: one table that validation and the reference read.

Each fixed section of an experiment (``market``, ``market.data``, ``agents[]``,
``evaluation``, ...) is a :class:`SectionDoc` listing its :class:`KeyDoc` entries:
name, type, default, allowed values, meaning and one example. The parsers of
:mod:`._market` and :mod:`._sections` take the keys they accept
from :func:`keys` (so a key cannot be accepted without being declared here), the
did-you-mean of an unknown key looks here for the section that does hold it
(:func:`sections_with`), and :mod:`pricegym.experiments.schema_doc` renders the
table, together with the sections whose keys come from code (``market.options``
from :class:`~pricegym.envs.config.MarketConfig`, agent parameters from each
kind's constructor, ...), into ``docs/experiment-schema.md``.

Section paths use ``[]`` for "each entry of the list": ``agents[].train``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The default of a key that must be given.
REQUIRED = "required"


@dataclass(frozen=True)
class KeyDoc:
    """One key of a section.

    Attributes:
        name: the key as written in YAML.
        type: its YAML type in words (``int``, ``mapping``, ``list of str``, ...).
        default: the value used when the key is left out (YAML spelling), or
            :data:`REQUIRED`.
        doc: what it means (one or two sentences).
        example: one example, a YAML ``key: value`` line.
        allowed: the allowed values: a tuple, a zero-argument callable giving them
            (registries: agent kinds, model families, data sets, env ids), or
            ``None`` for "any value of the type".
    """

    name: str
    type: str
    default: str
    doc: str
    example: str
    allowed: tuple[str, ...] | Callable[[], list[str]] | None = None

    def allowed_values(self) -> list[str] | None:
        """The allowed values as a list (registries read now), or ``None``."""
        if self.allowed is None:
            return None
        return list(self.allowed() if callable(self.allowed) else self.allowed)


@dataclass(frozen=True)
class SectionDoc:
    """A mapping of the experiment file at ``path`` and the keys it accepts."""

    path: str
    doc: str
    keys: tuple[KeyDoc, ...]

    def names(self) -> tuple[str, ...]:
        """The accepted key names, in declaration order."""
        return tuple(k.name for k in self.keys)


# -------------------------------------------------------------------- registries (lazy)
def _kinds() -> list[str]:
    # cycle: _common imports this module
    from pricegym.experiments.schema._common import _load_agent_kinds

    _load_agent_kinds()
    from pricegym.agents.base import agent_kinds  # gymnasium, numpy

    return sorted(agent_kinds())


def _families() -> list[str]:
    # cycle: _common imports this module
    from pricegym.experiments.schema._common import _load_families

    _load_families()
    from pricegym.demand.base import model_families  # pandas, numpy

    return sorted(model_families())


def _datasets() -> list[str]:
    from pricegym.demand.datasets import available_datasets  # pandas, numpy

    return sorted(available_datasets())


def _env_ids() -> list[str]:
    import gymnasium

    # cycle: _common imports this module
    from pricegym.experiments.schema._common import _load_registrations

    _load_registrations()
    return sorted(str(k) for k in gymnasium.registry if str(k).startswith("pricegym/"))


def _forms() -> list[str]:
    from pricegym.agents.rules import _FORMS  # scipy, pandas, gymnasium

    return sorted(_FORMS)


_MODES = ("solo", "vs_rules", "round_robin", "cross_model")
_BENCHMARKS = ("dp", "best_fixed", "nash", "monopoly")

# -------------------------------------------------------------------- the table
K = KeyDoc
SECTIONS: tuple[SectionDoc, ...] = (
    SectionDoc(
        "",
        "The top level of the experiment file.",
        (
            K(
                "name",
                "label (letters, digits, . _ -)",
                "the file's stem",
                "Names the run: the default output folder is runs/<name>.",
                "name: quickstart",
            ),
            K(
                "seed",
                "int >= 0",
                "0",
                "Every cell's seeds derive from it: the same seed gives the same results.",
                "seed: 0",
            ),
            K(
                "market",
                "mapping",
                REQUIRED,
                "The market (or markets) the agents play: see the market section.",
                "market: {demand: {form: exponential, a: 10, alpha: 1}}",
            ),
            K(
                "agents",
                "non-empty list of mappings",
                REQUIRED,
                "The field of agents: see the agents[] section.",
                "agents: [{name: fixed, kind: fixed_price, params: {price: 900}}]",
            ),
            K(
                "evaluation",
                "mapping",
                "{}",
                "Evaluation episodes, seeds and benchmarks.",
                "evaluation: {episodes: 10, seeds: 3}",
            ),
            K(
                "tournament",
                "mapping",
                "{modes: [solo]}",
                "Who plays whom.",
                "tournament: {modes: [solo, vs_rules], rivals: [{kind: undercut}]}",
            ),
            K(
                "output",
                "mapping",
                "{}",
                "Where results go.",
                "output: {dir: runs/quickstart}",
            ),
        ),
    ),
    SectionDoc(
        "market",
        "Where demand comes from: exactly one source of env, data (with model), model_path, "
        "demand or oligopoly.",
        (
            K(
                "name",
                "label",
                "the source's name (data set, file stem, env id, form)",
                "The market's label in tables and file names; each model of a list adds "
                "/<model name>.",
                "name: article",
            ),
            K(
                "env",
                "str (registered id)",
                "none",
                "A registered environment, made with gymnasium.make(env, **options). "
                "pricegym/Fitted-v0 plays a saved model given as options.model_path (relative "
                "paths are read from the experiment file's folder).",
                "env: pricegym/Markdown-v0",
                _env_ids,
            ),
            K(
                "data",
                "mapping",
                "none",
                "A sales history to fit market.model to: see market.data.",
                "data: {dataset: article}",
            ),
            K(
                "model",
                "mapping, or list of mappings",
                "required with data",
                "The demand model(s) fitted to market.data (or saved ones); a list gives one "
                "market per model. See market.model.",
                "model: {family: poisson}",
            ),
            K(
                "model_path",
                "path",
                "none",
                "A saved demand model (DemandModel.save / pricegym fit --out: the .json, with "
                "its .npz beside it) that drives the market, with market.options. Relative "
                "paths are read from the experiment file's folder; the file's sha256 is "
                "recorded in inputs.json, so a changed model is noticed on rerun. Not with "
                "data or model.",
                "model_path: models/poisson.json",
            ),
            K(
                "demand",
                "mapping",
                "none",
                "A parametric demand truth: form plus its parameters (optionally support).",
                "demand: {form: exponential, a: 10, alpha: 1}",
            ),
            K(
                "oligopoly",
                "mapping",
                "none",
                "An N-seller logit market: OligopolyEnv keyword arguments (see market.oligopoly).",
                "oligopoly: {n_sellers: 2, mu: 0.25, horizon: 100}",
            ),
            K(
                "options",
                "mapping",
                "{}",
                "MarketConfig settings for data, model_path and demand markets (see "
                "market.options); gymnasium.make keyword arguments for env.",
                "options: {n_prices: 9, horizon: 12, cost: 700}",
            ),
            K(
                "validate",
                "mapping, or false",
                "{holdout: 20%, paths: 1000} for data markets",
                "Score each fitted market on held-out history (pricegym validate): refit on "
                "the first periods, replay the rest, write validation.json and the report's "
                "Market validation section. Data markets only (see market.validate); false "
                "turns it off.",
                "validate: {holdout: 12, paths: 2000}",
            ),
        ),
    ),
    SectionDoc(
        "market.validate",
        "Held-out validation of every market fitted to market.data (on by default; computed "
        "after the fit stage, never changes a cell's result).",
        (
            K(
                "holdout",
                "share (20%, 0.2) or int >= 1",
                "20%",
                "The last periods held out: a share of the periods or a number of them.",
                "holdout: 20%",
            ),
            K(
                "paths",
                "int >= 100",
                "1000",
                "Simulated sales paths per held-out period.",
                "paths: 1000",
            ),
        ),
    ),
    SectionDoc(
        "market.data",
        "The sales history: exactly one of dataset, path or synthetic; the column keys "
        "(date ... decimal) apply to a path only and are load_history keywords.",
        (
            K(
                "dataset",
                "str",
                "none",
                "A bundled real data set.",
                "dataset: article",
                _datasets,
            ),
            K(
                "path",
                "path (.csv, .parquet)",
                "none",
                "A sales-history file; relative paths are read from the experiment file's "
                "folder, and its sha256 is recorded in inputs.json.",
                "path: sales.csv",
            ),
            K(
                "synthetic",
                "mapping",
                "none",
                "A generated history: generate_history keyword arguments (see "
                "market.data.synthetic).",
                "synthetic: {seed: 0, n_periods: 104}",
            ),
            K(
                "select_product",
                "str",
                "none (all products)",
                "One product of a panel.",
                "select_product: '101'",
            ),
            K("date", "column name", "auto", "Column of calendar dates.", "date: week_start"),
            K("period", "column name", "auto", "Column of integer periods.", "period: week"),
            K("price", "column name", "price", "Column of the own price.", "price: avgprc"),
            K("units", "column name", "units", "Column of units sold.", "units: totqty"),
            K("cost", "column name", "none", "Column of unit cost.", "cost: unit_cost"),
            K(
                "competitors",
                "list of column names",
                "[]",
                "Columns of competitor prices.",
                "competitors: [rival_price]",
            ),
            K(
                "promotions",
                "list of column names",
                "[]",
                "Columns of promotion / feature flags.",
                "promotions: [on_promo]",
            ),
            K(
                "instruments",
                "list of column names",
                "[] (market.model.instruments adds its columns)",
                "Columns of instruments for the own price (finite numbers), validated like the "
                "others.",
                "instruments: [wave2, wave3]",
            ),
            K("product", "column name", "none", "Column of the panel key.", "product: store"),
            K(
                "stock",
                "column name",
                "none",
                "Column of the stock on hand per period; a period whose units reach it sold "
                "out (censored: fit a censored family, e.g. family: censored_poisson).",
                "stock: on_hand",
            ),
            K(
                "stockout",
                "column name",
                "none",
                "Column of a 0/1 flag, 1 when the period sold out (censored).",
                "stockout: sold_out",
            ),
            K(
                "drop_invalid",
                "bool",
                "false",
                "Drop rows that break a row rule (said in a warning) instead of refusing.",
                "drop_invalid: true",
            ),
            K(
                "freq",
                "str",
                "inferred",
                "Frequency of dated data.",
                "freq: W",
                ("D", "W", "M", "Q", "Y"),
            ),
            K("sep", "str", "detected", "Field separator of a CSV file.", "sep: ';'"),
            K(
                "decimal",
                "str",
                "detected",
                "Decimal mark of a CSV file.",
                "decimal: ','",
                (".", ","),
            ),
            K(
                "calendar",
                "str",
                "auto",
                "Trading calendar of daily data: auto infers Mon-Fri when no Saturday or "
                "Sunday appears in >= 8 weeks; the model and market step over trading days.",
                "calendar: business",
                ("auto", "daily", "business"),
            ),
            K(
                "trading_days",
                "weekday mask",
                "from calendar",
                "The weekdays the market trades (a range or a list).",
                "trading_days: Mon-Fri",
            ),
            K(
                "closed_dates",
                "list of dates, or a file",
                "none",
                "Dates the market is closed (holidays); a file is read from the experiment "
                "file's folder.",
                "closed_dates: [2025-12-25, 2026-01-01]",
            ),
        ),
    ),
    SectionDoc(
        "market.model",
        "A demand model (market.model, or each entry of a list): exactly one of family "
        "(fitted to market.data) or file (a saved one).",
        (
            K(
                "name",
                "label",
                "the family (or the file's stem)",
                "The model's label; with several models it names their markets.",
                "name: poisson_small",
            ),
            K(
                "family",
                "str",
                "none",
                "The model family fitted to market.data.",
                "family: poisson",
                _families,
            ),
            K(
                "params",
                "mapping",
                "{}",
                "The family's hyper-parameters (see market.model.params).",
                "params: {alpha: 0.1}",
            ),
            K(
                "instruments",
                "list of names",
                "none (ordinary fit)",
                "Instruments for the own price: data columns, cost (the cost column) or "
                "hausman (a panel's leave-one-out mean price). The family is fitted as its "
                "instrumented twin (linear_iv, loglinear_iv, poisson_cf, arimax_cf, neural_cf), "
                "as pricegym fit "
                "--instrument does; the columns are loaded with market.data.",
                "instruments: [cost]",
            ),
            K(
                "endogenous",
                "mapping: competitor column -> list of names",
                "none (competitor prices exogenous)",
                "Competitor prices treated as endogenous too, each with its own instruments "
                "(data columns or cost), as pricegym fit --instrument-for COMP=NAME does; "
                "needs instruments (the own price's). The column is loaded as a competitor "
                "price; at least as many distinct instruments as endogenous prices.",
                "endogenous: {comp_price: [comp_cost]}",
            ),
            K(
                "file",
                "path",
                "none",
                "A saved model (.json with its .npz) used instead of fitting one; relative "
                "paths are read from the experiment file's folder.",
                "file: models/poisson.json",
            ),
        ),
    ),
    SectionDoc(
        "agents[]",
        "Each entry of agents: one named agent.",
        (
            K(
                "name",
                "label",
                "the kind",
                "Unique label in tables and file names.",
                "name: bandit",
            ),
            K("kind", "str", REQUIRED, "A registered agent kind.", "kind: ucb1", _kinds),
            K(
                "params",
                "mapping",
                "{}",
                "Constructor keyword arguments of the kind (see agents[].params).",
                "params: {epsilon: 0.1}",
            ),
            K(
                "train",
                "mapping",
                "{} (no training)",
                "The training budget (see agents[].train).",
                "train: {episodes: 20}",
            ),
            K(
                "policy",
                "path",
                "none",
                "A saved agent (JSON) to play instead of training one; relative paths are "
                "read from the experiment file's folder.",
                "policy: policies/ucb.json",
            ),
            K(
                "modes",
                "list of str",
                "all of tournament.modes",
                "The tournament modes this agent plays.",
                "modes: [solo]",
                _MODES,
            ),
        ),
    ),
    SectionDoc(
        "agents[].train",
        "An agent's training budget: whole numbers >= 1.",
        (
            K(
                "episodes",
                "int >= 1",
                "none",
                "Online learners play this many training episodes, calling update.",
                "episodes: 20",
            ),
            K(
                "timesteps",
                "int >= 1",
                "none",
                "Market periods of offline training (agents with a train method: SB3).",
                "timesteps: 20000",
            ),
            K(
                "periods",
                "int >= 1",
                "none",
                "Q-learning: the most periods of self-play or of one session against rivals.",
                "periods: 200000",
            ),
            K(
                "convergence_periods",
                "int >= 1",
                "none",
                "Q-learning stops once its greedy policy held this many periods.",
                "convergence_periods: 10000",
            ),
            K(
                "max_python_seconds",
                "int >= 1",
                "600",
                "The longest a Q-learning session against a rival that cannot be compiled "
                "(e.g. random_price) may be estimated to take.",
                "max_python_seconds: 1200",
            ),
        ),
    ),
    SectionDoc(
        "tournament",
        "Who plays whom.",
        (
            K(
                "modes",
                "list of str",
                "[solo]",
                "solo (each agent alone), vs_rules (against each rival), round_robin (pairs "
                "of agents in a two-seller oligopoly), cross_model (trained in one model's "
                "market, evaluated in the others').",
                "modes: [solo, vs_rules]",
                _MODES,
            ),
            K(
                "rivals",
                "list of mappings",
                "[]",
                "Rule-based rivals for vs_rules (see tournament.rivals[]).",
                "rivals: [{kind: undercut, params: {step: 0.05}}]",
            ),
            K(
                "train_against_rivals",
                "bool",
                "true",
                "Whether learners train against each rival for vs_rules (false: they play "
                "the policy trained alone).",
                "train_against_rivals: false",
            ),
        ),
    ),
    SectionDoc(
        "tournament.rivals[]",
        "Each rival: a rule-based seller (a kind that does not learn).",
        (
            K("name", "label", "the kind", "The rival's label.", "name: undercutter"),
            K("kind", "str", REQUIRED, "A rule-based agent kind.", "kind: undercut", _kinds),
            K(
                "params",
                "mapping",
                "{}",
                "Constructor keyword arguments (see agents[].params).",
                "params: {step: 0.05}",
            ),
        ),
    ),
    SectionDoc(
        "evaluation",
        "Evaluation episodes, seeds and benchmarks.",
        (
            K(
                "episodes",
                "int >= 1",
                "10",
                "Evaluation episodes per (agent, market, seed).",
                "episodes: 10",
            ),
            K(
                "seeds",
                "int >= 1, or list of distinct ints >= 0",
                "3",
                "The replicate seeds (a number n means 0 .. n-1); each trains and evaluates "
                "independently.",
                "seeds: [0, 1, 2]",
            ),
            K(
                "benchmarks",
                "auto, or list of str",
                "auto",
                "Benchmarks to compute; auto is every one defined for the market (dp and "
                "best_fixed for one seller, nash and monopoly for an oligopoly).",
                "benchmarks: [dp, best_fixed]",
                ("auto", *_BENCHMARKS),
            ),
            K(
                "learn_online",
                "bool",
                "false",
                "Whether learners keep updating and exploring in evaluation (false: they play "
                "what they learned, bandits their greedy choice).",
                "learn_online: true",
            ),
            K(
                "confidence",
                "float in (0, 1)",
                "0.95",
                "Level of the bootstrap intervals of the league table.",
                "confidence: 0.9",
            ),
        ),
    ),
    SectionDoc(
        "output",
        "Where results go.",
        (
            K(
                "dir",
                "path",
                "runs/<name>",
                "The run directory (pricegym run --out overrides it).",
                "dir: runs/my_run",
            ),
            K(
                "parquet",
                "bool or auto",
                "auto",
                "Also write episodes as Parquet (auto: when pyarrow is installed).",
                "parquet: false",
                ("auto", "true", "false"),
            ),
        ),
    ),
)
del K

_BY_PATH = {s.path: s for s in SECTIONS}


def section(path: str) -> SectionDoc:
    """The declared section at ``path`` (``[]`` for list entries, e.g. ``agents[]``)."""
    return _BY_PATH[path]


def keys(path: str) -> tuple[str, ...]:
    """The keys a parser accepts at ``path``."""
    return _BY_PATH[path].names()


def normalize(path: str) -> str:
    """A concrete key path as a section path: ``agents[2].train`` → ``agents[].train``;
    an entry of a ``market.model`` list is ``market.model``."""
    path = re.sub(r"\[\d+\]", "[]", path)
    return (
        "market.model" + path[len("market.model[]") :]
        if path.startswith("market.model[]")
        else path
    )


def sections_with(key: str, *, besides: str) -> list[str]:
    """Section paths, other than ``besides``, that accept ``key`` (declared or MarketConfig)."""
    out = [s.path for s in SECTIONS if key in s.names() and s.path != besides]
    for path, names in _code_sections().items():
        if key in names and path != besides:
            out.append(path)
    return out


def _code_sections() -> dict[str, tuple[str, ...]]:
    """Sections whose keys come from code and that a misplaced key often belongs to."""
    import dataclasses

    from pricegym.envs.config import CompetitorConfig, MarketConfig  # numpy

    return {
        "market.options": tuple(f.name for f in dataclasses.fields(MarketConfig)),
        "market.options.competitor": tuple(f.name for f in dataclasses.fields(CompetitorConfig)),
    }


def describe(path: str) -> str:
    """``path`` as written in messages (the top level is "the top level")."""
    return path or "the top level"


def yaml_default(value: Any) -> str:
    """A Python default in YAML spelling (``None`` → ``null``, ``True`` → ``true``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(yaml_default(v) for v in value) + "]"
    if isinstance(value, str):
        return value if value else "''"
    return repr(value)
