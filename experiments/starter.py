"""``pricegym init NAME``: write a commented starter experiment file to edit and run.

:func:`write_starter` writes ``NAME.yaml``: by default a small, commented starter
(a fitted market, four agents, a run of seconds) whose comments name the other
choices of each section; with ``source`` a copy of a bundled experiment
(:func:`~pricegym.experiments.schema.bundled_experiments`, e.g. ``quickstart``)
renamed to ``NAME``. Either way the file loads with
:func:`~pricegym.experiments.schema.load_experiment` and runs with
``pricegym run NAME.yaml``. An existing file is never overwritten.

:func:`write_example` (``pricegym init NAME --example``) writes the README
walk-through's two files instead: ``NAME_sales.csv``, a copy of the bundled
example sales file (a shop's daily sales, trading Monday–Friday, with weather
columns), and ``NAME.yaml``, an experiment on the model that the walk-through's
``pricegym fit ... --out NAME_model.json`` saves.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

from pricegym.errors import ConfigError
from pricegym.experiments.schema import bundled_experiments

__all__ = [
    "EXAMPLE",
    "STARTER",
    "bundled_dir",
    "write_example",
    "write_starter",
]

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

#: The starter experiment (``{name}`` is replaced by the file's name).
STARTER = """\
# {name}.yaml: a starter experiment written by `pricegym init {name}`.
# Run it with `pricegym run {name}.yaml` (results in runs/{name}); rerunning resumes.
# Every key, its type, default and allowed values: docs/experiment-schema.md
# (or `python -m pricegym.experiments.schema_doc`). Relative paths below are read
# from this file's folder.
name: {name}
seed: 0                        # every cell's seed derives from it
market:
  # Where demand comes from: exactly one of
  #   data + model   fit a demand model to a sales history (as here)
  #   model_path     a saved model: model_path: model.json (from `pricegym fit --out model.json`)
  #   demand         a parametric truth: demand: {{form: exponential, a: 10, alpha: 1}}
  #   env            a registered market: env: pricegym/Markdown-v0
  #   oligopoly      N sellers: oligopoly: {{n_sellers: 2, horizon: 100}}
  name: article
  data: {{dataset: article}}     # or {{path: sales.csv, price: avgprc, units: totqty}}
  model: {{family: poisson}}     # or linear, loglinear, arimax, neural; a list: one market each
  options:                     # the market's settings (market.options in the reference)
    n_prices: 5                # grid prices over the range seen in the data
    horizon: 8                 # periods in a season
    inventory: 1000            # units of stock (leave out for unlimited supply)
    cost: 700                  # unit cost
agents:                        # kinds and their params: agents[].params in the reference
  - {{name: fixed, kind: fixed_price, params: {{price: 920}}}}
  - {{name: myopic, kind: myopic}}  # the best price for this period only
  - name: ucb
    kind: ucb1                 # a bandit, trained online
    train: {{episodes: 10}}
  - {{name: optimum, kind: dp}}     # the exact optimum (the league table's 100%)
evaluation:
  episodes: 5                  # evaluation episodes per agent and seed
  seeds: 2                     # replicates; each trains and evaluates on its own
tournament:
  modes: [solo]                # also vs_rules (with rivals:), round_robin, cross_model
output:
  dir: runs/{name}
"""

#: How the example sales file's columns map onto pricegym's (``pricegym fit`` flags).
_EXAMPLE_COLUMNS = "--date day --price our_price --units units_sold --competitor rival_price"

#: The walk-through's experiment (``{name}`` is replaced by the file's name).
EXAMPLE = """\
# {name}.yaml: the README walk-through's experiment, written by `pricegym init {name} --example`.
# It reads the demand model that step 2 of the walk-through saves:
#   pricegym fit {name}_sales.csv --date day --price our_price --units units_sold \\
#     --competitor rival_price --model loglinear --unit-cost 1.90 --out {name}_model.json
# Run it with `pricegym run {name}.yaml` (results and report in runs/{name}).
# Every key: docs/experiment-schema.md (or `python -m pricegym.experiments.schema_doc`).
name: {name}
seed: 0
market:
  name: shop
  model_path: {name}_model.json   # the saved model (its trading calendar comes with it)
  options:
    n_prices: 11               # 3.49, 3.59, ..., 4.49: the prices seen in the data
    horizon: 20                # a season of 20 trading days (four Mon-Fri weeks)
    inventory: 1800            # units in stock at the start, no replenishment
    cost: 1.90                 # unit cost (the model's own, given at fit with --unit-cost)
agents:
  - {{name: usual_price, kind: fixed_price, params: {{price: 3.99}}}}  # the shop's usual price
  - {{name: myopic, kind: myopic}}        # the best price for today only
  - name: ucb
    kind: ucb1                          # a bandit, trained online
    train: {{episodes: 30}}
  - {{name: optimum, kind: dp}}           # the exact optimum (the league table's 100%)
evaluation:
  episodes: 20
  seeds: 3
  benchmarks: [dp, best_fixed]
tournament:
  modes: [solo]
output:
  dir: runs/{name}
"""


def bundled_dir() -> str:
    """Where the bundled experiment files are (a folder of the installed package)."""
    return str(importlib.resources.files("pricegym.experiments") / "configs")


def write_starter(name: str, source: str | None = None, folder: str | Path = ".") -> Path:
    """Write ``folder/NAME.yaml`` and return its path.

    Args:
        name: the experiment's name (letters, digits, ``. _ -``); ``NAME.yaml`` (a
            trailing ``.yaml`` is accepted) is the file, ``runs/NAME`` its output.
        source: a bundled experiment to copy (``quickstart``, ...); ``None`` writes
            the commented starter :data:`STARTER`.
        folder: where the file goes.

    Raises:
        ConfigError: a name that is not a label, an unknown ``source``, or an
            existing file (never overwritten).
    """
    stem = _stem(name)
    target = Path(folder) / f"{stem}.yaml"
    _refuse_existing(target)
    if source is None:
        text = STARTER.format(name=stem)
    else:
        names = bundled_experiments()
        if source not in names:
            raise ConfigError(
                f"--from {source!r} is not a bundled experiment (bundled: {names}, in "
                f"{bundled_dir()}). Fix: use one of those names."
            )
        res = importlib.resources.files("pricegym.experiments") / "configs" / f"{source}.yaml"
        body = res.read_text(encoding="utf-8")
        body = re.sub(r"(?m)^name: .*$", f"name: {stem}", body, count=1)
        body = re.sub(r"(?m)^(  dir: )runs/\S+", rf"\g<1>runs/{stem}", body, count=1)
        text = (
            f"# {stem}.yaml: a copy of the bundled experiment {source!r} written by "
            f"`pricegym init {stem} --from {source}`.\n"
            f"# Run it with `pricegym run {stem}.yaml`. Every key: docs/experiment-schema.md "
            "(or `python -m pricegym.experiments.schema_doc`).\n" + body
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as handle:  # "x": fails if it appeared meanwhile
        handle.write(text)
    return target


def write_example(name: str, folder: str | Path = ".") -> tuple[Path, Path]:
    """Write the walk-through's ``folder/NAME_sales.csv`` and ``folder/NAME.yaml``.

    Args:
        name: the experiment's name, as for :func:`write_starter`.
        folder: where the files go.

    Returns:
        (the sales file, the experiment file).

    Raises:
        ConfigError: a name that is not a label, or either file exists already
            (checked for both before either is written; nothing is overwritten).
    """
    stem = _stem(name)
    sales, config = Path(folder) / f"{stem}_sales.csv", Path(folder) / f"{stem}.yaml"
    for target in (sales, config):
        _refuse_existing(target)
    data = importlib.resources.files("pricegym.demand") / "data" / "shop_sales.csv"
    sales.parent.mkdir(parents=True, exist_ok=True)
    with open(sales, "xb") as handle:
        handle.write(data.read_bytes())
    with open(config, "x", encoding="utf-8") as handle:
        handle.write(EXAMPLE.format(name=stem))
    return sales, config


def _stem(name: str) -> str:
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    if not _NAME.match(stem):
        raise ConfigError(
            f"pricegym init {name!r}: the name must be a label of letters, digits and . _ - "
            "(it names the file and the run folder). Fix: e.g. pricegym init my_experiment."
        )
    return stem


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise ConfigError(
            f"{str(target)!r} already exists; pricegym init never overwrites a file. Fix: "
            "choose another NAME, or remove the file first."
        )
