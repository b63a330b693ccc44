"""Shared fixtures: synthetic histories from known truths and a catalogue of families."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pricegym.demand.features import FeatureSpec
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import DemandTruth, generate_history

#: Every demand-model family with hyper-parameters that keep the suite fast.
#: Tests parametrised over this catalogue cover each family the same way.
FAMILY_PARAMS: dict[str, dict] = {
    "linear": {},
    "loglinear": {},
    "poisson": {},
    "arimax": {"order": (1, 0, 0)},
    "neural": {"n_bootstrap": 4},
}


@pytest.fixture(scope="session")
def weekly_history():
    """Three years of weekly sales, constant elasticity -2, competitor, promotions, season."""
    return generate_history(
        DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
        n_periods=156,
        noise="poisson",
        seed=11,
    )


@pytest.fixture(scope="session")
def fitted_models(weekly_history):
    """One fitted model per family on ``weekly_history``."""
    out = {}
    for family, params in FAMILY_PARAMS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[family] = make_model(family, **params).fit(weekly_history)
    return out


class LinearDuopoly(DemandKernel):
    """q_i = alpha − beta·p_i + gamma·Σ_{j≠i} p_j: a multi-seller test kernel with closed forms."""

    n_sellers = 2

    def __init__(self, alpha=10.0, beta=2.0, gamma=1.0, support=(1.0, 8.0)):
        super().__init__(
            FeatureSpec(),
            NoiseModel("poisson"),
            support,
            {"t": 0, "competitors": [], "promotions": []},
        )
        self.alpha, self.beta, self.gamma = alpha, beta, gamma

    def expected(self, prices, context=None, state=None):
        p = np.asarray(prices, dtype=np.float64)
        others = p.sum(axis=1, keepdims=True) - p
        return np.maximum(self.alpha - self.beta * p + self.gamma * others, 0.0)
