"""Demand models fitted from sales history, and their fast numpy kernels.

Names are imported lazily (PEP 562): ``from pricegym.demand import LinearDemand``
imports the regression module only, and torch / statsmodels' SARIMAX load only
when the neural / ARIMAX families are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "ArimaxDemand": "pricegym.demand.arimax",
    "ArimaxKernel": "pricegym.demand.statespace",
    "BacktestResult": "pricegym.demand.base",
    "CensoredNegBinDemand": "pricegym.demand.censored",
    "CensoredPoissonDemand": "pricegym.demand.censored",
    "ChoiceLogit": "pricegym.demand.choice_logit",
    "ConstantElasticity": "pricegym.demand.parametric",
    "DemandKernel": "pricegym.demand.kernels",
    "DemandModel": "pricegym.demand.base",
    "Diagnostics": "pricegym.demand.base",
    "Elasticity": "pricegym.demand.base",
    "ElasticityMatrix": "pricegym.demand.multiproduct",
    "ExponentialTruth": "pricegym.demand.parametric",
    "FeatureSpec": "pricegym.demand.features",
    "LinearDemand": "pricegym.demand.regression",
    "LinearSystem": "pricegym.demand.multiproduct",
    "LinearTruth": "pricegym.demand.parametric",
    "LogLinearDemand": "pricegym.demand.regression",
    "LogLogSystem": "pricegym.demand.multiproduct",
    "LogitCatalogueTruth": "pricegym.demand.catalogue_truth",
    "LogitShares": "pricegym.demand.logit_shares",
    "LogitTruth": "pricegym.demand.parametric",
    "MLPKernel": "pricegym.demand.mlp",
    "MarketContext": "pricegym.demand.features",
    "ModelComparison": "pricegym.demand.selection",
    "MultiProductDemand": "pricegym.demand.multiproduct_protocol",
    "NeuralDemand": "pricegym.demand.neural",
    "NoiseModel": "pricegym.demand.noise",
    "OptimumCheck": "pricegym.demand.optimum",
    "PoissonDemand": "pricegym.demand.regression",
    "RegressionKernel": "pricegym.demand.kernels",
    "SalesHistory": "pricegym.demand.data",
    "TobitDemand": "pricegym.demand.censored",
    "compare_models": "pricegym.demand.selection",
    "error_metrics": "pricegym.demand.base",
    "load_history": "pricegym.demand.data",
    "make_model": "pricegym.demand.selection",
    "model_families": "pricegym.demand.base",
    "optimum_check": "pricegym.demand.optimum",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from pricegym.demand.arimax import ArimaxDemand
    from pricegym.demand.base import (
        BacktestResult,
        DemandModel,
        Diagnostics,
        Elasticity,
        error_metrics,
        model_families,
    )
    from pricegym.demand.catalogue_truth import LogitCatalogueTruth
    from pricegym.demand.censored import CensoredNegBinDemand, CensoredPoissonDemand, TobitDemand
    from pricegym.demand.choice_logit import ChoiceLogit
    from pricegym.demand.data import SalesHistory, load_history
    from pricegym.demand.features import FeatureSpec, MarketContext
    from pricegym.demand.kernels import DemandKernel, RegressionKernel
    from pricegym.demand.logit_shares import LogitShares
    from pricegym.demand.mlp import MLPKernel
    from pricegym.demand.multiproduct import ElasticityMatrix, LinearSystem, LogLogSystem
    from pricegym.demand.multiproduct_protocol import MultiProductDemand
    from pricegym.demand.neural import NeuralDemand
    from pricegym.demand.noise import NoiseModel
    from pricegym.demand.optimum import OptimumCheck, optimum_check
    from pricegym.demand.parametric import (
        ConstantElasticity,
        ExponentialTruth,
        LinearTruth,
        LogitTruth,
    )
    from pricegym.demand.regression import LinearDemand, LogLinearDemand, PoissonDemand
    from pricegym.demand.selection import ModelComparison, compare_models, make_model
    from pricegym.demand.statespace import ArimaxKernel

#: literal, so that static tools read it (tests/test_init.py checks it equals _EXPORTS)
__all__ = [
    "ArimaxDemand",
    "ArimaxKernel",
    "BacktestResult",
    "CensoredNegBinDemand",
    "CensoredPoissonDemand",
    "ChoiceLogit",
    "ConstantElasticity",
    "DemandKernel",
    "DemandModel",
    "Diagnostics",
    "Elasticity",
    "ElasticityMatrix",
    "ExponentialTruth",
    "FeatureSpec",
    "LinearDemand",
    "LinearSystem",
    "LinearTruth",
    "LogLinearDemand",
    "LogLogSystem",
    "LogitCatalogueTruth",
    "LogitShares",
    "LogitTruth",
    "MLPKernel",
    "MarketContext",
    "ModelComparison",
    "MultiProductDemand",
    "NeuralDemand",
    "NoiseModel",
    "OptimumCheck",
    "PoissonDemand",
    "RegressionKernel",
    "SalesHistory",
    "TobitDemand",
    "compare_models",
    "error_metrics",
    "load_history",
    "make_model",
    "model_families",
    "optimum_check",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
