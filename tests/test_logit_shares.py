"""Logit demand from market shares (issue 13): Berry inversion, IV, nested logit, pyblp."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.data import load_history
from pricegym.demand.logit_shares import (
    LogitShares,
    berry_inversion,
    logit_elasticities,
    logit_shares,
)
from pricegym.demand.multiproduct_protocol import MultiProductDemand
from pricegym.errors import ConfigError, DataValidationError, PricegymWarning

PRODUCTS = ("a", "b", "c")
ALPHA, XI = 1.5, np.array([1.0, 0.5, 0.0])
M = 1000.0
NESTS = {"a": "x", "b": "x", "c": "y"}


def _catalogue(
    n: int = 400, seed: int = 0, sigma: float = 0.0, confound: float = 1.0, rival: bool = False
) -> pd.DataFrame:
    """n markets of K=3 (nested) logit shares with prices that respond to the demand shock.

    price = cost + 1 + confound · xi_jt: the seller sees the shock, so OLS of the
    inversion on price is biased toward zero; cost (sd 0.3) is the instrument.
    """
    rng = np.random.default_rng(seed)
    cost = 1.0 + rng.uniform(0.0, 1.0, (n, 3)) + rng.normal(0.0, 0.3, (n, 3))
    shock = rng.normal(0.0, 0.25, (n, 3))
    price = cost + 1.0 + confound * shock
    comp = 3.0 + rng.normal(0.0, 0.3, (n, 3))
    delta = XI - ALPHA * price + shock + (0.4 * comp if rival else 0.0)
    nest = np.array([0, 0, 1]) if sigma else None
    s = logit_shares(delta, nest, sigma)
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(n), 3),
            "sku": np.tile(PRODUCTS, n),
            "price": price.ravel(),
            "units": (M * s).ravel(),
            "cost": cost.ravel(),
        }
    )
    if rival:
        frame["rival"] = comp.ravel()
    return frame


def _history(frame: pd.DataFrame):
    comps = ("rival",) if "rival" in frame.columns else ()
    return load_history(frame, period="week", product="sku", cost="cost", competitors=comps)


@pytest.fixture(scope="module")
def iv_logit():
    pytest.importorskip("linearmodels")
    return LogitShares(market_size=M, instruments=["cost"]).fit(_history(_catalogue()))


def test_berry_inversion_is_the_mean_utility():
    delta = np.array([[0.3, -0.2, 1.0], [0.0, 0.5, -1.0]])
    s = logit_shares(delta)
    np.testing.assert_allclose(berry_inversion(s, 1 - s.sum(axis=1)), delta, atol=1e-12)


def test_iv_logit_recovers_alpha_that_ols_misses(iv_logit):
    # 1200 product-periods, first-stage F ≈ 3600: the IV alpha's SE is 0.017, so 0.08
    # is ~5 SE; OLS is biased toward zero by cov(p, xi) / var(p | product effects) =
    # 0.0625 / (1/12 + 0.09 + 0.0625) = 0.27, i.e. plim alpha_ols ≈ 1.23 (1.25 here).
    assert iv_logit.alpha_ == pytest.approx(ALPHA, abs=0.08)
    lo, hi = iv_logit.params_table().set_index("term").loc["price", ["ci_low", "ci_high"]]
    assert lo <= -ALPHA <= hi
    np.testing.assert_allclose(iv_logit.xi_, XI, atol=0.15)
    assert iv_logit.first_stage_["price"]["f"] > 1000
    ols = LogitShares(market_size=M).fit(_history(_catalogue()))
    assert ols.alpha_ < ALPHA - 0.2  # biased toward zero, outside the IV interval
    assert isinstance(iv_logit, MultiProductDemand) and iv_logit.product_names == PRODUCTS


def test_logit_elasticity_matrix_has_the_logit_structure(iv_logit):
    em = iv_logit.elasticity_
    p = iv_logit.mean_prices_
    s = iv_logit.mean_units(p, 0)[0] / M
    a = iv_logit.alpha_
    expected = np.tile(a * p * s, (3, 1))
    np.fill_diagonal(expected, -a * p * (1 - s))
    np.testing.assert_allclose(em.estimate, expected, rtol=1e-10)
    assert (np.diag(em.ci_high) < 0).all() and (em.ci_low[~np.eye(3, dtype=bool)] > 0).all()
    assert iv_logit.sign_checks_ == []


def test_logit_kernel_equals_the_library_prediction_and_the_formula(iv_logit):
    rng = np.random.default_rng(2)
    prices = rng.uniform(2.0, 4.0, (50, 3))
    mu = iv_logit.mean_units(prices, 0)
    assert mu.shape == (50, 3)
    # kernel (vectorised, log-sum-exp) vs linearmodels' predict + per-market textbook formula
    np.testing.assert_allclose(mu, iv_logit.library_mean_units(prices, 0), rtol=1e-8)
    e = np.exp(iv_logit.xi_ - iv_logit.alpha_ * prices)
    np.testing.assert_allclose(mu, M * e / (1 + e.sum(axis=1, keepdims=True)), rtol=1e-8)


def test_nested_logit_recovers_sigma_with_nest_rival_instruments():
    pytest.importorskip("linearmodels")
    history = _history(_catalogue(n=600, seed=4, sigma=0.5))
    model = LogitShares(market_size=M, nests=NESTS, instruments=["cost"]).fit(history)
    # 1800 rows; SEs 0.020 (alpha) and 0.012 (sigma) at this seed (estimates 1.53, 0.48):
    # 0.12 is >= 6 SE, loose because the two estimates are correlated
    assert model.alpha_ == pytest.approx(ALPHA, abs=0.12)
    assert model.sigma_ == pytest.approx(0.5, abs=0.12)
    assert set(model.first_stage_) == {"price", "log_share_in_nest"}
    em = model.elasticity_
    # within the nest {a, b} substitution is stronger than towards c (its own nest)
    assert em.estimate[0, 1] > em.estimate[2, 1] > 0
    prices = np.random.default_rng(1).uniform(2.0, 4.0, (20, 3))
    np.testing.assert_allclose(
        model.mean_units(prices, 0), model.library_mean_units(prices, 0), rtol=1e-8
    )
    # elasticities = numerical derivative of the kernel's shares
    p = model.mean_prices_
    h = 1e-6
    num = np.empty((3, 3))
    for k in range(3):
        up, dn = p.copy(), p.copy()
        up[k] *= np.exp(h)
        dn[k] *= np.exp(-h)
        num[:, k] = (np.log(model.mean_units(up)[0]) - np.log(model.mean_units(dn)[0])) / (2 * h)
    np.testing.assert_allclose(em.estimate, num, atol=1e-6)


def test_nested_logit_without_instruments_warns():
    history = _history(_catalogue(n=100, seed=4, sigma=0.5))
    with pytest.warns(PricegymWarning, match=r"ln s_\{j\|g\}.*instruments"):
        LogitShares(market_size=M, nests=NESTS).fit(history)


def test_matches_pyblp_logit_with_the_same_instruments():
    pyblp = pytest.importorskip("pyblp")
    pytest.importorskip("linearmodels")
    frame = _catalogue(n=150, seed=7, rival=True)
    model = LogitShares(market_size=M, instruments=["cost"]).fit(_history(frame))
    data = pd.DataFrame(
        {
            "market_ids": frame["week"],
            "product_ids": frame["sku"],
            "firm_ids": frame["sku"],
            "prices": frame["price"],
            "shares": frame["units"] / M,
            "rival": frame["rival"],
            "demand_instruments0": frame["cost"],
        }
    )
    pyblp.options.verbose = False
    problem = pyblp.Problem(pyblp.Formulation("0 + prices + rival + C(product_ids)"), data)
    res = problem.solve(method="1s")
    # one-step GMM with W = (Z'Z)^-1 is 2SLS: the same alpha to solver precision
    assert -float(res.beta[0, 0]) == pytest.approx(model.alpha_, rel=1e-8)
    assert float(res.beta[1, 0]) == pytest.approx(model.coef_[model.term_names_.index("rival")])
    # pyblp's elasticities at each market's observed shares = the closed form with our alpha
    ours = logit_elasticities(
        model.alpha_,
        frame["price"].to_numpy().reshape(-1, 3),
        (frame["units"] / M).to_numpy().reshape(-1, 3),
    ).reshape(-1, 3)
    np.testing.assert_allclose(np.asarray(res.compute_elasticities()), ours, rtol=1e-7)


def test_bad_share_inputs_name_the_value_the_rule_and_the_fix():
    frame = _catalogue(n=30)
    with pytest.raises(ConfigError, match=r"market_size=None.*market_size=M"):
        LogitShares().fit(_history(frame))
    with pytest.raises(DataValidationError, match=r"sum to .* >= 1.*larger market_size"):
        LogitShares(market_size=10.0).fit(_history(frame))
    zero = frame.assign(units=np.where((frame.sku == "b") & (frame.week == 3), 0.0, frame.units))
    with pytest.raises(DataValidationError, match=r"share 0 .* product 'b' at t = 3.*> 0"):
        LogitShares(market_size=M).fit(_history(zero))
    with pytest.raises(ConfigError, match=r"one positive number per period \(30 periods"):
        LogitShares(market_size=[M, M]).fit(_history(frame))
    with pytest.raises(ConfigError, match=r"missing: \['c'\]"):
        LogitShares(market_size=M, nests={"a": "x", "b": "x"}).fit(_history(frame))
    with pytest.raises(DataValidationError, match=r"instrument 'wage' is not in the catalogue"):
        LogitShares(market_size=M, instruments=["wage"]).fit(_history(frame))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit warns nothing
        LogitShares(market_size=np.full(30, M)).fit(_history(frame))


@pytest.mark.parametrize("instruments", [(), ("cost",)])
def test_clustered_covariance_by_market(instruments):
    if instruments:
        pytest.importorskip("linearmodels")
    history = _history(_catalogue(n=200, seed=5))
    fits = {
        cov: LogitShares(market_size=M, instruments=instruments, cov_type=cov).fit(history)
        for cov in ("robust", "clustered")
    }
    # same point estimates (one regression), different standard errors, both finite
    np.testing.assert_allclose(fits["robust"].coef_, fits["clustered"].coef_, rtol=1e-12)
    se = {k: np.sqrt(np.diag(m.coef_cov_)) for k, m in fits.items()}
    assert np.isfinite(se["clustered"]).all() and not np.allclose(se["robust"], se["clustered"])


def test_nested_logit_matches_pyblp_with_the_same_instruments():
    pyblp = pytest.importorskip("pyblp")
    pytest.importorskip("linearmodels")
    frame = _catalogue(n=80, seed=4, sigma=0.5)
    model = LogitShares(market_size=M, nests=NESTS, instruments=["cost"]).fit(_history(frame))
    cost = frame["cost"].to_numpy().reshape(-1, 3)
    rivals = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)  # same nest, not self
    data = pd.DataFrame(
        {
            "market_ids": frame["week"],
            "product_ids": frame["sku"],
            "firm_ids": frame["sku"],
            "nesting_ids": frame["sku"].map(NESTS),
            "prices": frame["price"],
            "shares": frame["units"] / M,
            "demand_instruments0": frame["cost"],
            "demand_instruments1": (cost @ rivals.T).ravel(),
        }
    )
    pyblp.options.verbose = False
    problem = pyblp.Problem(pyblp.Formulation("0 + prices + C(product_ids)"), data)
    optimization = pyblp.Optimization("l-bfgs-b", {"gtol": 1e-12})
    res = problem.solve(rho=0.3, method="1s", optimization=optimization)
    # pyblp's one-step GMM over rho (W = (Z'Z)^-1) reaches the 2SLS solution: 1e-6
    # allows for its optimiser's stopping rule (measured agreement ~1e-10)
    assert float(res.rho[0, 0]) == pytest.approx(model.sigma_, abs=1e-6)
    assert -float(res.beta[0, 0]) == pytest.approx(model.alpha_, abs=1e-6)
    np.testing.assert_allclose(res.beta[1:, 0], model.xi_, atol=1e-6)
    ours = logit_elasticities(
        model.alpha_,
        frame["price"].to_numpy().reshape(-1, 3),
        (frame["units"] / M).to_numpy().reshape(-1, 3),
        np.array([0, 0, 1]),
        model.sigma_,
    ).reshape(-1, 3)
    np.testing.assert_allclose(np.asarray(res.compute_elasticities()), ours, rtol=1e-5)
