"""Demand models fitted from sales history, and their fast numpy kernels.

Names are imported lazily (PEP 562): ``from pricegym.demand import LinearDemand``
imports the regression module only, and torch / statsmodels' SARIMAX load only
when the neural / ARIMAX families are used.
"""

from __future__ import annotations

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "ArimaxDemand": "pricegym.demand.arimax",
    "ArimaxKernel": "pricegym.demand.statespace",
    "BacktestResult": "pricegym.demand.base",
    "ConstantElasticity": "pricegym.demand.parametric",
    "DemandKernel": "pricegym.demand.kernels",
    "DemandModel": "pricegym.demand.base",
    "Diagnostics": "pricegym.demand.base",
    "Elasticity": "pricegym.demand.base",
    "ExponentialTruth": "pricegym.demand.parametric",
    "FeatureSpec": "pricegym.demand.features",
    "LinearDemand": "pricegym.demand.regression",
    "LinearTruth": "pricegym.demand.parametric",
    "LogLinearDemand": "pricegym.demand.regression",
    "LogitTruth": "pricegym.demand.parametric",
    "MLPKernel": "pricegym.demand.mlp",
    "MarketContext": "pricegym.demand.features",
    "ModelComparison": "pricegym.demand.selection",
    "NeuralDemand": "pricegym.demand.neural",
    "NoiseModel": "pricegym.demand.noise",
    "OptimumCheck": "pricegym.demand.optimum",
    "PoissonDemand": "pricegym.demand.regression",
    "RegressionKernel": "pricegym.demand.kernels",
    "SalesHistory": "pricegym.demand.data",
    "compare_models": "pricegym.demand.selection",
    "error_metrics": "pricegym.demand.base",
    "load_history": "pricegym.demand.data",
    "make_model": "pricegym.demand.selection",
    "model_families": "pricegym.demand.base",
    "optimum_check": "pricegym.demand.optimum",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
