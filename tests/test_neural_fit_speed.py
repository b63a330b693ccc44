"""Neural fitting: one torch thread, and mini-batch Adam that recovers a known elasticity."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from pricegym.demand._torch_threads import one_torch_thread
from pricegym.demand.neural import NeuralDemand
from pricegym.demand.synthetic import DemandTruth, generate_history
from pricegym.errors import ModelError, PricegymWarning

TRUE_ELASTICITY = -2.0


@pytest.fixture(scope="module")
def panel():
    """20 products x 500 days (10,000 rows), constant elasticity -2, Poisson sales."""
    return generate_history(
        DemandTruth("constant_elasticity", own_price=TRUE_ELASTICITY, trend=0.0),
        n_periods=500,
        n_products=20,
        freq="D",
        noise="poisson",
        seed=4,
    )


def _fit(history, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NeuralDemand(hidden=(16,), n_bootstrap=0, **params).fit(history)


def test_one_torch_thread_restores_the_callers_count():
    before = torch.get_num_threads()
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_fit_leaves_torch_threads_as_it_found_them():
    before = torch.get_num_threads()
    _fit(generate_history(n_periods=60, seed=1), max_iter=5)
    assert torch.get_num_threads() == before


def test_minibatch_fit_recovers_the_known_elasticity(panel):
    """Mini-batch Adam (4 epochs of 1024 rows) lands within 0.15 of the truth, -2."""
    model = _fit(panel, batch_size=1024, epochs=4, learning_rate=0.02)
    assert model.n_train_ == 20 * 499  # one lag: each product's first day dropped
    assert model.elasticity_.estimate == pytest.approx(TRUE_ELASTICITY, abs=0.15)
    # and predicts as well as the full-batch L-BFGS fit of the same network (in sample)
    full = _fit(panel)
    assert model.in_sample_["wape"] < 1.05 * full.in_sample_["wape"]


def test_minibatch_fit_is_reproducible_and_seeded(panel):
    a = _fit(panel, batch_size=4096, epochs=2, seed=1)
    b = _fit(panel, batch_size=4096, epochs=2, seed=1)
    c = _fit(panel, batch_size=4096, epochs=2, seed=2)
    for key, value in a.params_.items():
        np.testing.assert_array_equal(value, b.params_[key], err_msg=key)
    assert any(not np.array_equal(v, c.params_[k]) for k, v in a.params_.items())


def test_batch_larger_than_the_data_is_the_full_batch_fit(panel):
    """With no more rows than batch_size, the fit is L-BFGS: the same weights as without."""
    small = generate_history(n_periods=60, seed=2)
    a = _fit(small, max_iter=20)
    b = _fit(small, max_iter=20, batch_size=10_000)
    for key, value in a.params_.items():
        np.testing.assert_array_equal(value, b.params_[key], err_msg=key)


def test_minibatch_fit_warns_that_it_gives_no_bootstrap_interval(panel):
    with pytest.warns(PricegymWarning, match="no bootstrap interval"):
        model = NeuralDemand(hidden=(8,), n_bootstrap=10, batch_size=4096, epochs=1).fit(panel)
    assert model.bootstrap_params_.shape == (0, model.n_weights_)
    assert np.isnan(model.elasticity_.ci_low) and np.isnan(model.elasticity_.ci_high)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"batch_size": 0}, "batch_size=0 must be None"),
        ({"batch_size": 2.5}, "batch_size=2.5 must be None"),
        ({"epochs": 0}, "epochs=0 must be an integer >= 1"),
        ({"learning_rate": 0.0}, "learning_rate=0.0 must be a finite number > 0"),
        ({"learning_rate": float("nan")}, "learning_rate=nan must be a finite number > 0"),
    ],
)
def test_bad_minibatch_settings_name_the_value(panel, params, match):
    with pytest.raises(ModelError, match=match):
        NeuralDemand(**params).fit(panel)
