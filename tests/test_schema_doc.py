"""The experiment-file reference (docs/experiment-schema.md) is generated from the schema:
the committed page is current, and every key the validator accepts is on it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from pricegym.experiments.schema import _common, _keys, bundled_experiments, load_experiment
from pricegym.experiments.schema_doc import docstring_args, render

PAGE = Path(__file__).resolve().parents[1] / "docs" / "experiment-schema.md"


def _sections(text: str) -> dict[str, set[str]]:
    """Heading → the keys of its tables (``## `market```→ ``market``; ``### kind `ucb1```
    → ``agents[].params/ucb1``; ``### family `poisson``` → ``market.model.params/poisson``)."""
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        if line == "## Top level":
            current = ""
        elif m := re.match(r"^## `([^`]+)`$", line):
            current = m.group(1)
            parent = current
        elif m := re.match(r"^### `([^`]+)`$", line):
            current = m.group(1)
        elif m := re.match(r"^### (kind|family) `([^`]+)`$", line):
            current = f"{parent}/{m.group(2)}"
        elif current is not None and (m := re.match(r"^\| `([^`]+)` \|", line)):
            out.setdefault(current, set()).add(m.group(1))
    return out


def test_the_committed_page_is_the_generated_one():
    assert PAGE.is_file(), (
        "run: python -m pricegym.experiments.schema_doc > docs/experiment-schema.md"
    )
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/experiment-schema.md is stale; regenerate it with "
        "python -m pricegym.experiments.schema_doc > docs/experiment-schema.md"
    )


def _configs(tmp_path: Path, weekly_history: Any) -> list[Any]:
    """Experiments that between them open every fixed section of the schema."""
    from pricegym.demand import LinearDemand

    saved = LinearDemand().fit(weekly_history).save(tmp_path / "m.json")
    csv = tmp_path / "sales.csv"
    csv.write_text("week,price,units\n1,2.0,10\n2,1.8,14\n3,2.1,9\n4,1.9,12\n")
    fixed = {"name": "fixed", "kind": "fixed_price", "params": {"price": 2.0}, "train": {}}
    return [
        *bundled_experiments(),
        {
            "market": {"model_path": str(saved), "options": {"horizon": 4}},
            "agents": [
                {**fixed, "modes": ["solo"], "policy": None},
                {"name": "g", "kind": "epsilon_greedy", "train": {"episodes": 2}},
            ],
            "evaluation": {"episodes": 1, "seeds": [0], "confidence": 0.9, "learn_online": False},
            "tournament": {"modes": ["solo", "vs_rules"], "rivals": [{"kind": "undercut"}]},
            "output": {"dir": str(tmp_path / "o"), "parquet": "auto"},
        },
        {
            "market": {
                "data": {"path": str(csv), "select_product": None},
                "model": [{"family": "loglinear"}, {"name": "p", "family": "poisson"}],
                "options": {"horizon": 3},
                "validate": {"holdout": 1, "paths": 100},
            },
            "agents": [fixed],
        },
        {
            "market": {"data": {"synthetic": {"seed": 1}}, "model": {"file": str(saved)}},
            "agents": [fixed],
        },
    ]


def test_every_key_the_validator_accepts_is_on_the_page(tmp_path, weekly_history, monkeypatch):
    seen: dict[str, set[str]] = {}
    original = _common._Section.__init__

    def record(self, data, path, known, what):
        seen.setdefault(_keys.normalize(path), set()).update(known)
        original(self, data, path, known, what)

    monkeypatch.setattr(_common._Section, "__init__", record)
    for config in _configs(tmp_path, weekly_history):
        load_experiment(config)
    declared = {s.path for s in _keys.SECTIONS}
    assert set(seen) == declared  # every fixed section was opened, and nothing else
    page = _sections(PAGE.read_text(encoding="utf-8"))
    for path, keys in seen.items():
        assert keys <= page.get(path, set()), (path, sorted(keys - page.get(path, set())))


def test_keys_that_come_from_code_are_on_the_page():
    import dataclasses

    from pricegym.agents.base import agent_kinds
    from pricegym.demand.base import model_families
    from pricegym.demand.synthetic import generate_history
    from pricegym.envs.config import CompetitorConfig, MarketConfig
    from pricegym.envs.oligopoly import OligopolyEnv

    _common._load_agent_kinds()
    _common._load_families()
    page = _sections(PAGE.read_text(encoding="utf-8"))
    assert {f.name for f in dataclasses.fields(MarketConfig)} == page["market.options"]
    assert {f.name for f in dataclasses.fields(CompetitorConfig)} == page[
        "market.options.competitor"
    ]
    oligopoly = set(inspect.signature(OligopolyEnv.__init__).parameters) - {"self", "kernel"}
    assert oligopoly == page["market.oligopoly"]
    synthetic = set(inspect.signature(generate_history).parameters) - {"truth", "price_process"}
    assert synthetic == page["market.data.synthetic"]
    for kind, cls in agent_kinds().items():
        params = {n for n in cls._param_names() if n != "name"}
        assert params == page.get(f"agents[].params/{kind}", set()), kind
    for family, cls in model_families().items():
        assert set(cls._param_names()) == page.get(f"market.model.params/{family}", set()), family


def test_every_declared_key_has_a_type_default_meaning_and_example():
    for sec in _keys.SECTIONS:
        for key in sec.keys:
            assert key.type and key.default and key.doc, (sec.path, key.name)
            assert key.example.startswith(f"{key.name}: "), (sec.path, key.name)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            "Title.\n\n    Args:\n        a: first\n            line two.\n        b, c: shared.\n",
            {"a": "first line two.", "b": "shared.", "c": "shared."},
        ),
        (
            "Title.\n\n    Hyper-parameters (all keyword-only; lists\n    are fine):\n"
            "        order: (p, d, q).\n",
            {"order": "(p, d, q)."},
        ),
        (
            "T.\n\n    ## Arguments\n\n    - ``n``: N >= 2.\n"
            "    - ``x`` (x > 0), ``y`` (y < 1): both.\n",
            {"n": "N >= 2.", "x": "(x > 0) both.", "y": "(y < 1) both."},
        ),
    ],
)
def test_docstring_args_reads_the_three_layouts(doc, expected):
    assert docstring_args(doc) == expected
