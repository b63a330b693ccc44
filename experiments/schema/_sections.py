"""The ``agents``, ``tournament``, ``evaluation`` and ``output`` sections of an experiment.

Each parser checks its own section (kinds, constructor parameters, training budget,
saved policies, tournament modes and rivals, seeds and benchmarks, Parquet
output) and returns the spec of :mod:`._specs`. Checks that need two
sections at once are in :mod:`._checks`.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pricegym.errors import PricegymError
from pricegym.experiments.schema import _keys
from pricegym.experiments.schema._common import (
    BENCHMARKS,
    MODES,
    TRAIN_KEYS,
    _error,
    _file,
    _int,
    _label,
    _Section,
    _unknown,
    _wrap,
)
from pricegym.experiments.schema._specs import (
    AgentSpec,
    EvaluationSpec,
    MarketSpec,
    OutputSpec,
)

# -------------------------------------------------------------------- agents
_AGENT_KEYS = _keys.keys("agents[]")


def _parse_agent(raw: Any, path: str, base: Path | None, *, rival: bool = False) -> AgentSpec:
    from pricegym.agents.base import agent_kinds  # gymnasium, numpy

    keys = _keys.keys("tournament.rivals[]") if rival else _AGENT_KEYS
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
    if not isinstance(kind, str) or kind not in kinds:
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
    if sec.has("train"):
        budget = _Section(sec.raw("train"), f"{path}.train", TRAIN_KEYS, "a training budget")
        for key, value in budget.data.items():
            train[str(key)] = _int(value, f"{path}.train.{key}", 1, 1000)
    policy = None
    if sec.has("policy"):
        policy = _file(sec.raw("policy"), f"{path}.policy", base, "the saved agent")
    modes = None
    if sec.has("modes"):
        modes = _mode_list(sec.raw("modes"), f"{path}.modes")
    return AgentSpec(name, kind, params, train, policy, modes)


def _build_agent(kind: str, params: Mapping[str, Any], path: str) -> Any:
    from pricegym.agents.base import make_agent  # gymnasium, numpy

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
    from pricegym.agents.base import agent_kinds  # gymnasium, numpy

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
        _keys.keys("evaluation"),
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
    sec = _Section(raw, "output", _keys.keys("output"), "where results go")
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
