"""Demand models fitted from sales history, and their fast numpy kernels."""

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
from pricegym.demand.noise import NoiseModel

__all__ = [
    "BacktestResult",
    "DemandKernel",
    "DemandModel",
    "Diagnostics",
    "Elasticity",
    "FeatureSpec",
    "MarketContext",
    "NoiseModel",
    "RegressionKernel",
    "SalesHistory",
    "error_metrics",
    "load_history",
    "model_families",
]
