"""Demand models fitted from sales history, and their fast numpy kernels."""

from pricegym.demand.arimax import ArimaxDemand, ArimaxKernel
from pricegym.demand.base import (
    BacktestResult,
    DemandModel,
    Diagnostics,
    Elasticity,
    error_metrics,
    model_families,
)
from pricegym.demand.data import SalesHistory, load_history
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, RegressionKernel
from pricegym.demand.neural import MLPKernel, NeuralDemand
from pricegym.demand.noise import NoiseModel
from pricegym.demand.parametric import (
    ConstantElasticity,
    ExponentialTruth,
    LinearTruth,
    LogitTruth,
)
from pricegym.demand.regression import LinearDemand, LogLinearDemand, PoissonDemand
from pricegym.demand.selection import ModelComparison, compare_models, make_model

__all__ = [
    "ArimaxDemand",
    "ArimaxKernel",
    "BacktestResult",
    "ConstantElasticity",
    "DemandKernel",
    "DemandModel",
    "Diagnostics",
    "Elasticity",
    "ExponentialTruth",
    "FeatureSpec",
    "LinearDemand",
    "LinearTruth",
    "LogLinearDemand",
    "LogitTruth",
    "MLPKernel",
    "MarketContext",
    "ModelComparison",
    "NeuralDemand",
    "NoiseModel",
    "PoissonDemand",
    "RegressionKernel",
    "SalesHistory",
    "compare_models",
    "error_metrics",
    "load_history",
    "make_model",
    "model_families",
]
