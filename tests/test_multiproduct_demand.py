"""Multi-product demand systems (issue 13): log-log and linear systems on a catalogue panel."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.catalogue import catalogue
from pricegym.demand.data import load_history
from pricegym.demand.multiproduct import (
    ImplausibleElasticityWarning,
    LinearSystem,
    LogLogSystem,
)
from pricegym.demand.multiproduct_protocol import MultiProductDemand
from pricegym.errors import DataValidationError, ModelError

PRODUCTS = ("a", "b", "c")
#: the true elasticity matrix: rows = whose units, columns = whose price
E_TRUE = np.array([[-2.0, 0.4, 0.2], [0.3, -1.8, 0.5], [0.1, 0.6, -2.5]])
A_TRUE = np.array([4.0, 3.5, 3.0])
G_TRUE = np.array([0.5, 0.0, 0.3])  # elasticity on the rival price of the own product


def _loglog_frame(n: int = 300, seed: int = 0, sd: float = 0.1) -> pd.DataFrame:
    """n periods of a K=3 log-log catalogue with exogenous prices and one rival price each."""
    rng = np.random.default_rng(seed)
    logp = np.log([5.0, 6.0, 4.0]) + rng.normal(0.0, 0.15, (n, 3))
    logc = np.log([5.5, 6.5, 4.5]) + rng.normal(0.0, 0.1, (n, 3))
    logq = A_TRUE + logp @ E_TRUE.T + G_TRUE * logc + rng.normal(0.0, sd, (n, 3))
    return pd.DataFrame(
        {
            "week": np.repeat(np.arange(n), 3),
            "sku": np.tile(PRODUCTS, n),
            "price": np.exp(logp).ravel(),
            "units": np.exp(logq).ravel(),
            "rival": np.exp(logc).ravel(),
        }
    )


def _history(frame: pd.DataFrame, **kwargs):
    return load_history(frame, period="week", product="sku", competitors=("rival",), **kwargs)


@pytest.fixture(scope="module")
def loglog():
    return LogLogSystem().fit(_history(_loglog_frame()))


def test_loglog_recovers_the_known_elasticity_matrix(loglog):
    em = loglog.elasticity_
    assert em.products == PRODUCTS and em.estimate.shape == (3, 3)
    # 300 periods, log-price sd 0.15, noise sd 0.1: each coefficient's SE is about
    # 0.1 / (0.15 * sqrt(300)) = 0.039 (HC1 CIs about ±0.08); 0.12 is 3 SE.
    np.testing.assert_allclose(em.estimate, E_TRUE, atol=0.12)
    inside = (em.ci_low <= E_TRUE) & (E_TRUE <= em.ci_high)
    assert inside.sum() >= 8  # 9 nominal-95% intervals: at most one misses at this seed
    assert loglog.sign_checks_ == []
    np.testing.assert_allclose(np.diag(em.ci_high - em.ci_low), 2 * 1.96 * 0.039, rtol=0.35)
    assert isinstance(loglog, MultiProductDemand)
    assert loglog.n_products == 3 and loglog.product_names == PRODUCTS


def test_loglog_kernel_equals_statsmodels_and_the_formula(loglog):
    rng = np.random.default_rng(5)
    prices = rng.uniform(3.5, 7.0, (64, 3))
    mu = loglog.mean_units(prices, 0)
    assert mu.shape == (64, 3)
    # kernel (numpy, x @ coef) vs statsmodels' predict: the same sums, rounding only
    np.testing.assert_allclose(mu, loglog.library_mean_units(prices, 0), rtol=1e-8)
    # the formula with the fitted terms, written out
    coef = loglog.coef_
    comp = np.log(loglog.reference_competitors_[:, 0])  # (K,) rival price of each product
    eta = coef[:, 0] + np.log(prices) @ coef[:, 1:4].T + comp @ coef[:, 4:7].T
    np.testing.assert_allclose(mu, np.exp(eta) * loglog.smearing_, rtol=1e-8)
    # one (K,) price row is a batch of one; without a trend the period is irrelevant
    np.testing.assert_allclose(loglog.mean_units(prices[0], 7), mu[:1], rtol=1e-12)


def test_linear_system_recovers_slopes_and_kernel_equals_statsmodels():
    rng = np.random.default_rng(1)
    n = 250
    b_true = np.array([[-10.0, 3.0, 1.0], [2.0, -8.0, 2.5], [1.5, 2.0, -12.0]])
    p = np.array([5.0, 6.0, 4.0]) + rng.normal(0.0, 0.5, (n, 3))
    q = np.array([60.0, 50.0, 70.0]) + p @ b_true.T + rng.normal(0.0, 1.0, (n, 3))
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(n), 3),
            "sku": np.tile(PRODUCTS, n),
            "price": p.ravel(),
            "units": q.ravel(),
        }
    )
    model = LinearSystem().fit(load_history(frame, period="week", product="sku"))
    # slope SE about 1 / (0.5 sqrt(250)) = 0.13; 0.4 is 3 SE
    np.testing.assert_allclose(model.coef_[:, 1:4], b_true, atol=0.4)
    pbar = p.mean(axis=0)
    qhat = model.coef_[:, 0] + model.coef_[:, 1:4] @ pbar
    np.testing.assert_allclose(
        model.elasticity_.estimate, model.coef_[:, 1:4] * pbar[None, :] / qhat[:, None], rtol=1e-12
    )
    assert (np.diag(model.elasticity_.ci_high) < 0).all()
    prices = rng.uniform(4.0, 7.0, (32, 3))
    np.testing.assert_allclose(
        model.mean_units(prices, 0), model.library_mean_units(prices, 0), rtol=1e-8, atol=1e-10
    )


def test_trend_uses_the_period_after_the_data():
    frame = _loglog_frame(n=120, seed=2)
    model = LogLogSystem(trend=True).fit(_history(frame))
    p = np.array([[5.0, 6.0, 4.0]])
    d = model.coef_[:, -1]
    ratio = model.mean_units(p, 3) / model.mean_units(p, 0)
    np.testing.assert_allclose(ratio[0], np.exp(3 * d), rtol=1e-10)
    np.testing.assert_allclose(
        model.mean_units(np.repeat(p, 2, 0), np.array([0, 3])),
        model.library_mean_units(np.repeat(p, 2, 0), np.array([0, 3])),
        rtol=1e-8,
    )


def test_implausible_signs_warn_unless_declared():
    # product c's demand rises with its own price and falls with a's: both are flagged
    rng = np.random.default_rng(3)
    n = 200
    e = np.array([[-2.0, 0.3, 0.2], [0.3, -1.5, 0.2], [-0.8, 0.2, 0.5]])
    logp = np.log([5.0, 6.0, 4.0]) + rng.normal(0.0, 0.15, (n, 3))
    logq = 3.0 + logp @ e.T + rng.normal(0.0, 0.05, (n, 3))
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(n), 3),
            "sku": np.tile(PRODUCTS, n),
            "price": np.exp(logp).ravel(),
            "units": np.exp(logq).ravel(),
        }
    )
    history = load_history(frame, period="week", product="sku")
    with pytest.warns(ImplausibleElasticityWarning) as record:
        model = LogLogSystem().fit(history)
    texts = [str(w.message) for w in record]
    assert any("own-price elasticity of 'c'" in t and ">= 0" in t for t in texts)
    assert any("'c' on the price of 'a'" in t and "complements" in t for t in texts)
    assert len(model.sign_checks_) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        declared = LogLogSystem(complements=[("a", "c")]).fit(history)
    assert len(declared.sign_checks_) == 1 and "own-price" in declared.sign_checks_[0]
    assert sum(issubclass(w.category, ImplausibleElasticityWarning) for w in caught) == 1


def test_bad_catalogues_name_the_value_the_rule_and_the_fix():
    frame = _loglog_frame(n=30)
    with pytest.raises(DataValidationError, match=r"\['z'\] are not in the panel.*choose"):
        LogLogSystem(products=["a", "z"]).fit(_history(frame))
    with pytest.raises(DataValidationError, match=r"at least two products.*single-product"):
        catalogue(_history(frame), products=["a"])
    unbalanced = frame.drop(index=frame.index[(frame.sku == "b") & (frame.week == 4)])
    with pytest.raises(DataValidationError, match=r"not balanced.*'b' at t = 4.*Fix: drop"):
        LogLogSystem().fit(_history(unbalanced))
    zero = frame.assign(units=np.where((frame.sku == "c") & (frame.week == 2), 0.0, frame.units))
    with pytest.raises(DataValidationError, match=r"units 0 of product 'c' at t = 2.*> 0.*Linear"):
        LogLogSystem().fit(_history(zero))
    no_key = frame[frame.sku == "a"].drop(columns="sku")
    with pytest.raises(DataValidationError, match=r"no product column.*product=COL"):
        LogLogSystem().fit(load_history(no_key, period="week"))
    model = LogLogSystem().fit(_history(frame))
    with pytest.raises(ModelError, match=r"shape \(B, 3\)"):
        model.mean_units(np.ones((4, 2)), 0)
    with pytest.raises(ModelError, match=r"price -1.0 of product 'b'.*> 0"):
        model.mean_units(np.array([[5.0, -1.0, 4.0]]), 0)
