"""The IV families' first-stage diagnostics are linearmodels' and agree with an oracle.

The oracle is a plain statsmodels computation of the same textbook formulas (the
classical F of the excluded instruments from restricted/unrestricted residual sums,
the HC1 Wald F, the partial R²). Same model, different code paths and BLAS calls:
agreement to 1e-8 relative (far above rounding, far below any difference that
matters).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

pytest.importorskip("linearmodels")

from pricegym.demand.iv import WEAK_F, first_stage


def _data(n: int = 400, strength: float = 0.4, seed: int = 0):
    rng = np.random.default_rng(seed)
    exog = np.column_stack([np.ones(n), rng.normal(size=n)])
    z = rng.normal(size=(n, 2))
    shock = rng.normal(size=n)
    price = exog @ [1.0, 0.3] + z @ [strength, strength / 2] + shock + rng.normal(size=n)
    units = 5.0 - 2.0 * price + shock + rng.normal(size=n)
    return price, exog, z, units


def _oracle(price, exog, z):
    w = np.column_stack([exog, z])
    full, restricted = sm.OLS(price, w).fit(), sm.OLS(price, exog).fit()
    q, (n, k) = z.shape[1], w.shape
    rss_f, rss_r = np.sum(full.resid**2), np.sum(restricted.resid**2)
    r = np.zeros((q, k))
    r[:, exog.shape[1] :] = np.eye(q)
    hc1 = sm.OLS(price, w).fit(cov_type="HC1").wald_test(r, use_f=True, scalar=True)
    return {
        "f": ((rss_r - rss_f) / q) / (rss_f / (n - k)),
        "robust_f": float(hc1.statistic),
        "partial_r2": 1 - rss_f / rss_r,
        "coef": np.asarray(full.params)[exog.shape[1] :],
        "residual": np.asarray(full.resid),
    }


def test_first_stage_numbers_are_linearmodels_and_match_the_textbook_formulas():
    price, exog, z, units = _data()
    fs = first_stage(price, exog, z, ["a", "b"], units)
    want = _oracle(price, exog, z)
    for key in ("f", "robust_f", "partial_r2"):
        assert fs[key] == pytest.approx(want[key], rel=1e-8), key
    assert list(fs["coef"]) == ["a", "b"]
    np.testing.assert_allclose(list(fs["coef"].values()), want["coef"], rtol=1e-8)
    np.testing.assert_allclose(fs["residual"], want["residual"], rtol=1e-8, atol=1e-10)
    # one endogenous price: Cragg-Donald F is the classical F up to its dof convention
    assert fs["cragg_donald_f"] == pytest.approx(fs["f"], rel=0.02)
    assert fs["n"] == 400 and fs["k"] == 2 and not fs["weak"]
    assert 0 <= fs["f_pvalue"] < 1e-6 and 0 <= fs["robust_f_pvalue"] < 1e-6


def test_first_stage_does_not_depend_on_the_outcome():
    price, exog, z, units = _data(seed=1)
    a = first_stage(price, exog, z, ["a", "b"], units)
    b = first_stage(price, exog, z, ["a", "b"], -3.0 * units + 7.0)
    assert a["f"] == pytest.approx(b["f"], rel=1e-12)
    assert a["robust_f"] == pytest.approx(b["robust_f"], rel=1e-12)


def test_a_weak_first_stage_is_flagged_below_the_threshold():
    price, exog, z, units = _data(strength=0.02, seed=2)
    fs = first_stage(price, exog, z, ["a", "b"], units)
    assert min(fs["f"], fs["robust_f"]) < WEAK_F and fs["weak"]
