"""The experiment-file reference, generated from the schema itself.

:func:`render` writes the Markdown page ``docs/experiment-schema.md``: every
section of an experiment file with each key's type, default, allowed values,
meaning and one example. The fixed sections come from the table the validator
reads (:mod:`.schema._keys`); the sections whose keys are code come from that
code: ``market.options`` from :class:`~pricegym.envs.config.MarketConfig`,
``market.oligopoly`` from :class:`~pricegym.envs.oligopoly.OligopolyEnv`,
``market.data.synthetic`` from :func:`~pricegym.demand.synthetic.generate_history`,
``market.demand`` from the parametric forms, ``market.model.params`` from each
model family and ``agents[].params`` from each registered agent kind. So the page
cannot drift from what :func:`~pricegym.experiments.schema.load_experiment`
accepts; ``tests/test_schema_doc.py`` checks the committed page is current.

Regenerate it with::

    python -m pricegym.experiments.schema_doc > docs/experiment-schema.md
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pricegym.experiments.schema import _keys, bundled_experiments
from pricegym.experiments.schema._common import _load_agent_kinds, _load_families
from pricegym.experiments.schema._keys import REQUIRED, KeyDoc, yaml_default

# The sections on agents, markets and demand import them (gymnasium, scipy, pandas)
# where they are written, so listing the keys stays light.

__all__ = ["docstring_args", "main", "render"]

#: The command that writes the page (quoted at its top).
COMMAND = "python -m pricegym.experiments.schema_doc > docs/experiment-schema.md"

#: The first lines of a docstring's argument lists (``Args:``, ``Hyper-parameters (...):``).
_SECTION_HEAD = re.compile(
    r"^(Args|Arguments|Attributes|Parameters|Keyword Args|Hyper-parameters)\b[^:]*:$"
)


# ==================================================================== docstrings
def docstring_args(doc: str | None) -> dict[str, str]:
    """``name → text`` of the argument lists of a docstring.

    Reads Google-style blocks (``Args:``, ``Attributes:``, ``Parameters:``, lines
    ``name: text`` or ``a, b: text`` with indented continuation lines) and
    Gymnasium-style ``## Arguments`` bullets (``- ``name`` (...): text``; every
    name quoted in the bullet before its colon shares the text). Text is joined
    into one line.
    """
    out: dict[str, str] = {}
    if not doc:
        return out
    lines = _join_heads(inspect.cleandoc(doc).splitlines())
    i = 0
    while i < len(lines):
        line = lines[i]
        if _SECTION_HEAD.match(line.strip()):
            indent = None
            i += 1
            current: list[str] | None = None
            while i < len(lines):
                text = lines[i]
                if not text.strip():
                    i += 1
                    if i < len(lines) and lines[i].strip() and not lines[i].startswith(" "):
                        break
                    continue
                lead = len(text) - len(text.lstrip())
                if lead == 0:
                    break
                if indent is None:
                    indent = lead
                m = re.match(r"^([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:\s*(.*)$", text.strip())
                if lead == indent and m:
                    current = [m.group(2)]
                    for name in re.split(r"\s*,\s*", m.group(1)):
                        out[name] = ""
                    names = re.split(r"\s*,\s*", m.group(1))
                    _join_into(out, names, current)
                elif current is not None and lead > indent:
                    current.append(text.strip())
                    _join_into(out, names, current)
                i += 1
            continue
        if line.strip() == "## Arguments":
            i += 1
            bullet: list[str] = []
            while i < len(lines) and not lines[i].startswith("## "):
                text = lines[i].strip()
                if text.startswith("- "):
                    _bullet_into(out, bullet)
                    bullet = [text[2:]]
                elif text and bullet:
                    bullet.append(text)
                elif not text:
                    _bullet_into(out, bullet)
                    bullet = []
                i += 1
            _bullet_into(out, bullet)
            continue
        i += 1
    return out


def _join_heads(lines: list[str]) -> list[str]:
    """A list head that wraps (``Hyper-parameters (all ...,`` / ``... JSON):``) as one line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _WRAPPED_HEAD.match(line.strip()) and not line.rstrip().endswith(":"):
            j = i
            while j + 1 < len(lines) and not lines[j].rstrip().endswith(":") and j - i < 3:
                j += 1
            if lines[j].rstrip().endswith(":"):
                out.append(" ".join(x.strip() for x in lines[i : j + 1]))
                i = j + 1
                continue
        out.append(line)
        i += 1
    return out


_WRAPPED_HEAD = re.compile(r"^(Args|Arguments|Attributes|Parameters|Hyper-parameters)\s*\(")


def _join_into(out: dict[str, str], names: list[str], parts: list[str]) -> None:
    for name in names:
        out[name] = " ".join(parts).strip()


def _bullet_into(out: dict[str, str], bullet: list[str]) -> None:
    if not bullet:
        return
    text = " ".join(bullet)
    for piece in re.split(r";\s+(?=``)", text):  # ``a``: x; ``b``: y
        head, sep, rest = piece.partition(": ")
        if not sep:  # ``a`` (rule a), ``b`` (rule b), or ``c``: each its own parentheses
            head, rest = piece, ""
        names = re.findall(r"``(\w+)``", head)
        if not names:
            continue
        for name in names:
            own = re.search(rf"``{name}``\s*\(([^)]*)\)", head)
            text = ((f"({own.group(1)}) " if own else "") + rest.strip()).strip()
            out.setdefault(name, text or piece.strip().rstrip("."))


# ==================================================================== markdown
def _cell(text: Any) -> str:
    s = " ".join(str(text).split())
    return s.replace("|", "\\|") if s else "—"


def _code(text: str) -> str:
    return f"`{text}`" if text and text != "—" else "—"


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    head = list(header)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _first_sentence(text: str) -> str:
    """The first paragraph's first sentence (a class summary)."""
    text = " ".join(text.split())
    m = re.match(r"^(.+?\.)(\s|$)", text)
    return m.group(1) if m else text


def _class_args(cls: type) -> dict[str, str]:
    """Documented arguments of a class: its and its bases' docstrings and ``__init__``'s."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        out.update(docstring_args(klass.__doc__))
        out.update(
            docstring_args(
                vars(klass).get("__init__", None).__doc__ if "__init__" in vars(klass) else None
            )
        )
    return out


def _module_dataclass_args(cls: type) -> dict[str, str]:
    """Documented fields of the ``...Config`` dataclasses of ``cls``'s module (a kind's
    hyper-parameters, e.g. ``QLearningConfig``)."""
    module = inspect.getmodule(cls)
    out: dict[str, str] = {}
    for _, obj in inspect.getmembers(module, inspect.isclass):
        same = obj.__module__ == getattr(module, "__name__", "")
        if same and dataclasses.is_dataclass(obj) and obj.__name__.endswith("Config"):
            out.update(docstring_args(obj.__doc__))
    return out


def _default_text(default: str) -> str:
    """A default in YAML spelling as code; a default in words as words."""
    if default == REQUIRED:
        return "**required**"
    words = " " in default and not default.startswith(("{", "["))
    return default if words or default == "none" else _code(default)


def _declared(keys: Iterable[KeyDoc]) -> list[str]:
    rows = []
    for k in keys:
        allowed = k.allowed_values()
        rows.append(
            (
                f"`{k.name}`",
                k.type,
                _default_text(k.default),
                ", ".join(f"`{a}`" for a in allowed) if allowed else "—",
                k.doc,
                _code(k.example),
            )
        )
    return _table(("key", "type", "default", "allowed values", "meaning", "example"), rows)


def _signature_rows(
    func: Callable[..., Any],
    docs: Mapping[str, str],
    section: str,
    skip: Iterable[str] = (),
    examples: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
) -> list[tuple[str, ...]]:
    """Rows of ``func``'s parameters (``only`` those, when given: what the validator takes)."""
    skip = {"self", "name", *skip}
    keep = None if only is None else set(only)
    rows: list[tuple[str, ...]] = []
    for pname, p in inspect.signature(func).parameters.items():
        if pname in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if keep is not None and pname not in keep:
            continue
        default = REQUIRED if p.default is p.empty else yaml_default(p.default)
        ann = p.annotation if p.annotation is not p.empty else ""
        example = _example(section, pname, default, examples)
        rows.append(
            (
                f"`{pname}`",
                _type_text(ann),
                "**required**" if default == REQUIRED else _code(default),
                docs.get(pname, "") or "—",
                _code(example),
            )
        )
    return rows


def _type_text(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return str(text).replace("np.random.Generator", "Generator") or "—"


# ==================================================================== examples
def _flow(value: Any) -> str:
    """A value in YAML flow style on one line."""
    import yaml

    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _bundled_examples() -> dict[tuple[str, str], str]:
    """``(section, key) → 'key: value'`` for values set in the bundled experiment files;
    agent parameters are under section ``agents[].params/<kind>``."""
    import importlib.resources

    import yaml

    out: dict[tuple[str, str], str] = {}
    root = importlib.resources.files("pricegym.experiments") / "configs"
    for name in bundled_experiments():
        data = yaml.safe_load((root / f"{name}.yaml").read_text(encoding="utf-8")) or {}
        market = data.get("market") or {}
        for section in ("options", "oligopoly", "demand"):
            for key, value in (market.get(section) or {}).items():
                out.setdefault((f"market.{section}", key), f"{key}: {_flow(value)}")
        synthetic = (market.get("data") or {}).get("synthetic") or {}
        for key, value in synthetic.items():
            out.setdefault(("market.data.synthetic", key), f"{key}: {_flow(value)}")
        models = market.get("model") or []
        for model in models if isinstance(models, list) else [models]:
            for key, value in (model.get("params") or {}).items():
                out.setdefault(
                    (f"market.model.params/{model.get('family')}", key), f"{key}: {_flow(value)}"
                )
        tournament = data.get("tournament") or {}
        for agent in [*(data.get("agents") or []), *(tournament.get("rivals") or [])]:
            for key, value in (agent.get("params") or {}).items():
                out.setdefault(
                    (f"agents[].params/{agent.get('kind')}", key), f"{key}: {_flow(value)}"
                )
    return out


def _example(section: str, key: str, default: str, given: Mapping[str, str] | None) -> str:
    """One example of ``key``: a bundled file's value, else ``given``'s, else the default."""
    found = _EXAMPLES.get((section, key)) or (given or {}).get(key)
    if found:
        return found
    return f"{key}: {default}  # the default" if default == "null" else f"{key}: {default}"


_EXAMPLES: dict[tuple[str, str], str] = {}


# ==================================================================== code sections
#: Examples for MarketConfig settings whose default (null) is no example.
_OPTION_EXAMPLES = {
    "prices": "prices: [8.0, 9.0, 10.0]",
    "p_min": "p_min: 0.5",
    "p_max": "p_max: 5.0",
    "inventory": "inventory: 2000",
    "replenish_every": "replenish_every: 4",
    "replenish_to": "replenish_to: 500",
    "start_t": "start_t: 0",
    "competitor": "competitor: {kind: random_walk, sigma: 0.05}",
    "max_episode_steps": "max_episode_steps: 100",
    "product": "product: '5'",
    "model_path": "model_path: models/poisson.json",
}


def _dataclass_rows(cls: type, section: str, examples: Mapping[str, str]) -> list[tuple[str, ...]]:
    docs = docstring_args(cls.__doc__)
    rows: list[tuple[str, ...]] = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = yaml_default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = "{}"
        else:
            default = REQUIRED
        example = _example(section, f.name, default, examples)
        rows.append(
            (
                f"`{f.name}`",
                _type_text(f.type),
                _code(default),
                docs.get(f.name, "") or "—",
                _code(example),
            )
        )
    return rows


_CODE_HEADER = ("key", "type", "default", "meaning", "example")


def _market_options() -> list[str]:
    from pricegym.envs.config import CompetitorConfig, MarketConfig  # numpy

    out = [
        "## `market.options`",
        "",
        "The market's settings for `data`, `model_path` and `demand` markets "
        "(`pricegym.envs.config.MarketConfig`; unknown settings get a did-you-mean). For "
        "`market.env` the options are instead the keyword arguments of `gymnasium.make`: "
        "for `pricegym/Fitted-v0` they are these settings plus `model_path` (the saved "
        "model, read from the experiment file's folder when relative).",
        "",
        *_table(_CODE_HEADER, _dataclass_rows(MarketConfig, "market.options", _OPTION_EXAMPLES)),
        "",
        "### `market.options.competitor`",
        "",
        "The exogenous competitor price process (`CompetitorConfig`).",
        "",
        *_table(
            _CODE_HEADER,
            _dataclass_rows(
                CompetitorConfig,
                "market.options.competitor",
                {"prices": "prices: [9.5]", "path": "path: [[9.5], [9.0], [9.8]]"},
            ),
        ),
    ]
    return out


def _market_demand() -> list[str]:
    from pricegym.agents.rules import _FORMS

    rows = [
        (f"`{form}`", cls, ", ".join(f"`{k}`" for k in ("form", *keys, "support")))
        for form, (cls, keys) in sorted(_FORMS.items())
    ]
    return [
        "## `market.demand`",
        "",
        "A parametric demand truth: `form` and that form's parameters (the classes of "
        "`pricegym.demand.parametric`), optionally `support: [low, high]`. Example: "
        "`demand: {form: exponential, a: 10, alpha: 1}`.",
        "",
        *_table(("form", "class", "keys"), rows),
    ]


def _market_oligopoly() -> list[str]:
    from pricegym.envs.oligopoly import OligopolyEnv

    docs = docstring_args(OligopolyEnv.__doc__)
    return [
        "## `market.oligopoly`",
        "",
        "An N-seller logit market: keyword arguments of `pricegym.envs.oligopoly.OligopolyEnv` "
        "(its settings live here, not in `market.options`).",
        "",
        *_table(
            _CODE_HEADER,
            _signature_rows(
                OligopolyEnv.__init__,
                docs,
                "market.oligopoly",
                skip=("kernel",),
                examples={"quality": "quality: [2.0, 2.2]", "prices": "prices: [1.4, 1.7, 2.0]"},
            ),
        ),
    ]


def _market_synthetic() -> list[str]:
    from pricegym.demand.synthetic import generate_history

    docs = docstring_args(generate_history.__doc__)
    return [
        "## `market.data.synthetic`",
        "",
        "A generated sales history: keyword arguments of "
        "`pricegym.demand.synthetic.generate_history`.",
        "",
        *_table(
            _CODE_HEADER,
            _signature_rows(
                generate_history,
                docs,
                "market.data.synthetic",
                skip=("truth", "price_process"),
                examples={"trend": "trend: 0.01", "seasonality": "seasonality: 0.2"},
            ),
        ),
    ]


def _model_params() -> list[str]:
    from pricegym.demand.base import model_families

    _load_families()
    out = [
        "## `market.model.params`",
        "",
        "The hyper-parameters of each demand-model family (`market.model.family`).",
    ]
    families = sorted(model_families().items())
    pool: dict[str, str] = {}  # "Same hyper-parameters as LinearDemand": shared meanings
    for _, cls in families:
        pool = {**_class_args(cls), **pool}
    for family, cls in families:
        docs = {**pool, **_class_args(cls)}
        rows = _signature_rows(
            cls.__init__, docs, f"market.model.params/{family}", only=cls._param_names()
        )
        out += ["", f"### family `{family}`", ""]
        out += _table(_CODE_HEADER, rows) if rows else ["No parameters."]
    return out


def _agent_params() -> list[str]:
    from pricegym.agents.base import agent_kinds

    _load_agent_kinds()
    out = [
        "## `agents[].params`",
        "",
        "The constructor keyword arguments of each registered agent kind "
        "(`agents[].kind`, `tournament.rivals[].kind`); `name` is the agent's own "
        "`agents[].name`.",
    ]
    for kind, cls in sorted(agent_kinds().items()):
        docs = {**_module_dataclass_args(cls), **_class_args(cls)}
        summary = _first_sentence(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0])
        if kind == "dp":
            learns = "solves the market's DP; not a rival"
        elif callable(getattr(cls, "train", None)):
            learns = "trains offline: train.timesteps"
        elif getattr(cls, "learns", False):
            learns = "learns online"
        else:
            learns = "a rule: can be a rival"
        rows = _signature_rows(
            cls.__init__, docs, f"agents[].params/{kind}", only=cls._param_names()
        )
        out += ["", f"### kind `{kind}`", "", f"{summary} ({learns})", ""]
        out += _table(_CODE_HEADER, rows) if rows else ["No parameters."]
    return out


# ==================================================================== the page
def _bundled() -> list[str]:
    names = bundled_experiments()
    return [
        "Bundled experiment files (package data, `pricegym/experiments/configs/`): "
        + ", ".join(f"`{n}`" for n in names)
        + ". Run one with `pricegym run NAME`; copy one to edit with "
        "`pricegym init NAME --from quickstart` (which writes `NAME.yaml`), then "
        "`pricegym run NAME.yaml`.",
    ]


def render() -> str:
    """The whole reference page (Markdown), from the schema and the code it validates against."""
    _EXAMPLES.clear()
    _EXAMPLES.update(_bundled_examples())
    out = [
        "# Experiment file reference",
        "",
        f"<!-- Generated by `{COMMAND}`; do not edit by hand. -->",
        "",
        "An experiment file is YAML read by `pricegym run FILE` "
        "(`pricegym.experiments.schema.load_experiment`), checked completely before "
        "anything runs. Key paths below use `[]` for each entry of a list "
        "(`agents[].train` is the `train` of every agent). Relative file paths "
        "(`market.data.path`, `market.model_path`, `market.model.file`, "
        "`agents[].policy`, `market.options.model_path` of `pricegym/Fitted-v0`) are "
        "read from the experiment file's folder.",
        "",
        *_bundled(),
    ]
    for sec in _keys.SECTIONS:
        title = sec.path or "top level"
        out += ["", f"## `{title}`" if sec.path else "## Top level", "", sec.doc, ""]
        out += _declared(sec.keys)
    for part in (
        _market_options,
        _market_demand,
        _market_oligopoly,
        _market_synthetic,
        _model_params,
        _agent_params,
    ):
        out += ["", *part()]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the page (``python -m pricegym.experiments.schema_doc``)."""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
