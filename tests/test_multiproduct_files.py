"""Multi-product demand model files (issue 13): save → load keeps the kernel and the matrix."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from pricegym.demand.choice_logit import ChoiceLogit
from pricegym.demand.logit_shares import LogitShares
from pricegym.demand.multiproduct import LinearSystem, LogLogSystem
from pricegym.demand.multiproduct_io import load_multiproduct
from pricegym.errors import ModelFileError


def _fitted(family: str):
    import test_choice_logit as choice
    import test_logit_shares as shares
    import test_multiproduct_demand as systems

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "loglog":
            return LogLogSystem(trend=True).fit(systems._history(systems._loglog_frame(n=80)))
        if family == "linear":
            return LinearSystem().fit(systems._history(systems._loglog_frame(n=80)))
        if family == "logit":
            return LogitShares(market_size=shares.M).fit(shares._history(shares._catalogue(n=60)))
        if family == "nested":
            pytest.importorskip("linearmodels")
            frame = shares._catalogue(n=200, sigma=0.5)
            return LogitShares(market_size=shares.M, nests=shares.NESTS, instruments=["cost"]).fit(
                shares._history(frame)
            )
        return ChoiceLogit(attributes=("feat",), market_size=50.0).fit(choice._choices(n=800))


@pytest.mark.parametrize("family", ["loglog", "linear", "logit", "nested", "choice"])
def test_save_load_keeps_mean_units_and_the_elasticity_matrix(family, tmp_path):
    model = _fitted(family)
    path = model.save(tmp_path / "catalogue")
    assert path.suffix == ".json" and path.with_suffix(".npz").is_file()
    loaded = load_multiproduct(path)
    assert type(loaded) is type(model) and loaded.product_names == model.product_names
    prices = model.mean_prices_ * np.random.default_rng(0).uniform(0.8, 1.2, (16, 3))
    periods = np.arange(16)
    # the same arithmetic on the same float64 numbers read back from .npz
    np.testing.assert_allclose(
        loaded.mean_units(prices, periods), model.mean_units(prices, periods), rtol=1e-12
    )
    for key in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_array_equal(
            getattr(loaded.elasticity_, key), getattr(model.elasticity_, key)
        )
    assert loaded.sign_checks_ == model.sign_checks_
    json.loads(path.read_text())  # plain JSON


def test_a_single_product_model_file_is_refused(tmp_path):
    from pricegym.demand.regression import LinearDemand
    from pricegym.demand.synthetic import DemandTruth, generate_history

    history = generate_history(DemandTruth("linear"), n_periods=40, seed=1)
    path = LinearDemand().fit(history).save(tmp_path / "single.json")
    with pytest.raises(ModelFileError, match=r"not a .*multiproduct-model"):
        load_multiproduct(path)
