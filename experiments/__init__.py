"""Experiments: YAML configs, the resumable runner, statistics, reports and evaluation.

Names are imported lazily (PEP 562); ``pricegym run`` and ``pricegym report``
import only what they need.
"""

from __future__ import annotations

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "ExperimentConfig": "pricegym.experiments.schema",
    "load_experiment": "pricegym.experiments.schema",
    "run_experiment": "pricegym.experiments.runner",
    "evaluate": "pricegym.experiments.evaluate",
    "build_report": "pricegym.experiments.report",
    "league_table": "pricegym.experiments.stats",
    "paired_difference": "pricegym.experiments.stats",
    "bootstrap_ci": "pricegym.experiments.stats",
    "hierarchical_bootstrap_ci": "pricegym.experiments.stats",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
