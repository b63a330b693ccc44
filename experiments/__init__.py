"""Experiments: YAML configs, the resumable runner, statistics, reports and evaluation.

Names are imported lazily (PEP 562); ``pricegym run`` and ``pricegym report``
import only what they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "ExperimentConfig": "pricegym.experiments.schema",
    "load_experiment": "pricegym.experiments.schema",
    "run_experiment": "pricegym.experiments.runner",
    "evaluate": "pricegym.experiments.evaluate",
    "evaluate_logged": "pricegym.experiments.offpolicy",
    "build_report": "pricegym.experiments.report",
    "league_table": "pricegym.experiments.stats",
    "paired_difference": "pricegym.experiments.stats",
    "bootstrap_ci": "pricegym.experiments.stats",
    "hierarchical_bootstrap_ci": "pricegym.experiments.stats",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from pricegym.experiments.evaluate import evaluate
    from pricegym.experiments.offpolicy import evaluate_logged
    from pricegym.experiments.report import build_report
    from pricegym.experiments.runner import run_experiment
    from pricegym.experiments.schema import ExperimentConfig, load_experiment
    from pricegym.experiments.stats import (
        bootstrap_ci,
        hierarchical_bootstrap_ci,
        league_table,
        paired_difference,
    )

#: literal, so that static tools read it (tests/test_init.py checks it equals _EXPORTS)
__all__ = [
    "ExperimentConfig",
    "bootstrap_ci",
    "build_report",
    "evaluate",
    "evaluate_logged",
    "hierarchical_bootstrap_ci",
    "league_table",
    "load_experiment",
    "paired_difference",
    "run_experiment",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
