"""Off-policy evaluation on logged sales (pricegym.experiments.offpolicy) against known truth.

The synthetic seller: a competitor price c drawn uniformly from {3, 4, 5} each period,
Poisson demand ``200 · p^-2 · c`` (the poisson family with the competitor column is
correctly specified), unit cost 1, reward = profit. The logging policy is known:
continuous ``log p ~ N(log 0.9c, 0.15²)``, or on the grid {2.5, ..., 4.5} a softmax
of ``-((g - 0.9c)/0.6)²``. The target policy's true value ``V = mean_c q(π(c), c)`` is
exact (three contexts); the kernel estimators' target ``V_h = mean_c E_U q(π(c) + hU, c)``
is exact to quadrature error (Gauss-Hermite, 40 nodes).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.data import load_history
from pricegym.errors import ConfigError
from pricegym.experiments.offpolicy import (
    GridLogging,
    LogNormalLogging,
    OffPolicyWarning,
    default_bandwidth,
    effective_sample_size,
    evaluate_logged,
    ope_contributions,
)

A, ELASTICITY, COST, SIGMA = 200.0, -2.0, 1.0, 0.15
COMPS = np.array([3.0, 4.0, 5.0])
GRID = np.array([2.5, 3.0, 3.5, 4.0, 4.5])
#: grid target: c -> price
GRID_TARGET = {3.0: 2.5, 4.0: 3.0, 5.0: 4.0}


def demand(p, c):
    return A * np.asarray(p, float) ** ELASTICITY * c


def q(p, c):
    return (np.asarray(p, float) - COST) * demand(p, c)


def continuous_target(c):
    return 0.8 * c


def true_value(target=continuous_target):
    return float(np.mean([q(target(c), c) for c in COMPS]))


def smoothed_value(h, target=continuous_target):
    """V_h for the gaussian kernel: E_U q(π(c) + hU, c), U ~ N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / math.sqrt(2 * math.pi)
    return float(np.mean([np.sum(w * q(target(c) + h * x, c)) for c in COMPS]))


def grid_probabilities(c):
    logits = -(((GRID[None, :] - 0.9 * np.asarray(c)[:, None]) / 0.6) ** 2)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def draw(n, seed, grid=False):
    """(competitor, logged price, units, true propensity) of n logged periods."""
    rng = np.random.default_rng(seed)
    c = rng.choice(COMPS, size=n)
    if grid:
        probs = grid_probabilities(c)
        code = (rng.uniform(size=n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
        p, ps = GRID[code], probs[np.arange(n), code]
    else:
        z = rng.standard_normal(n)
        p = 0.9 * c * np.exp(SIGMA * z)
        ps = np.exp(-(z**2) / 2) / (math.sqrt(2 * math.pi) * SIGMA * p)
    units = rng.poisson(demand(p, c)).astype(float)
    return c, p, units, ps


def history_of(c, p, units):
    frame = pd.DataFrame({"period": np.arange(len(p)), "price": p, "units": units, "rival": c})
    return load_history(frame, competitors=["rival"])


def misspecified_q(p, c):
    """A wrong reward model (linear in price, ignores c): DM with it is biased."""
    return 150.0 - 20.0 * np.asarray(p, float)


# ============================================================ unbiasedness over seeds
SEEDS = 1000


def _over_seeds(grid: bool, n: int = 200, h: float = 0.1):
    """Per-seed IPW, DR (misspecified model) and DM estimates with known propensities."""
    out = []
    for seed in range(SEEDS):
        c, p, units, ps = draw(n, seed, grid=grid)
        target = np.vectorize(GRID_TARGET.get)(c) if grid else continuous_target(c)
        terms = ope_contributions(
            (p - COST) * units,
            p,
            target,
            ps,
            misspecified_q(p, c),
            misspecified_q(target, c),
            bandwidth=h,
            grid=GRID if grid else None,
        )
        out.append([terms["ipw"].mean(), terms["dr"].mean(), terms["dm"].mean()])
    return np.asarray(out)


def _check_unbiased(estimates, truth):
    mean = estimates.mean(axis=0)
    se = estimates.std(axis=0, ddof=1) / math.sqrt(SEEDS)
    # 4 standard errors: a false alarm has probability ~6e-5 per estimator; the test
    # has power: 4 SE is under 2% of the value, and DM's bias is many SEs.
    for k in (0, 1):
        assert abs(mean[k] - truth) < 4 * se[k], (k, mean[k], truth, se[k])
        assert 4 * se[k] < 0.02 * truth
    assert abs(mean[2] - truth) > 10 * se[1]  # the misspecified DM is biased


def test_grid_ipw_and_dr_are_unbiased_with_known_propensities_and_dm_is_not():
    _check_unbiased(_over_seeds(grid=True), true_value(lambda c: GRID_TARGET[float(c)]))


def test_kernel_ipw_and_dr_are_unbiased_for_the_smoothed_value():
    h = 0.1
    truth_h = smoothed_value(h)
    _check_unbiased(_over_seeds(grid=False, h=h), truth_h)
    # the smoothing bias at h = 0.1 is small beside the value (order h²)
    assert abs(truth_h - true_value()) < 0.005 * true_value()


# ============================================================ the full estimate
@pytest.fixture(scope="module")
def continuous_history():
    c, p, units, ps = draw(2000, 12345)
    return history_of(c, p, units), ps


def test_estimated_propensities_and_fitted_model_recover_the_true_value(continuous_history):
    history, _ = continuous_history
    c = history.frame["rival"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", OffPolicyWarning)  # none expected near the data
        result = evaluate_logged(
            lambda h: continuous_target(h.frame["rival"].to_numpy()),
            history,
            unit_cost=COST,
            n_resamples=500,
        )
    assert result.propensity.startswith("estimated from the data")
    assert result.bandwidth == pytest.approx(default_bandwidth(history.price))
    truth, truth_h = true_value(), smoothed_value(result.bandwidth)
    table = result.table.set_index("estimator")
    # DM with the correctly specified poisson family: within 2% (its sampling error ~0.5%)
    assert abs(table.loc["dm", "value"] - truth) < 0.02 * truth
    for name in ("ipw", "snipw", "dr"):
        row = table.loc[name]
        half = (row["ci_high"] - row["ci_low"]) / 2
        # within two half-widths (~4 SE) of the smoothed truth they estimate
        assert abs(row["value"] - truth_h) < 2 * half, (name, row.to_dict(), truth_h)
        assert row["ci_low"] < row["value"] < row["ci_high"]
    assert result.ess > 100
    assert result.outside_range == 0
    assert result.logged_value == pytest.approx(
        float(np.mean((history.price - COST) * history.units))
    )
    assert len(c) == result.n_rows


def test_same_seed_gives_identical_results(continuous_history):
    history, ps = continuous_history
    kwargs = dict(unit_cost=COST, propensities=ps, n_resamples=200, seed=3)
    a = evaluate_logged(3.5, history, **kwargs).table
    b = evaluate_logged(3.5, history, **kwargs).table
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_far_off_target_warns_about_ess_and_support(continuous_history):
    history, _ = continuous_history
    far = lambda h: 2.2 * h.frame["rival"].to_numpy()  # noqa: E731 — above every logged price
    with pytest.warns(OffPolicyWarning) as caught:
        result = evaluate_logged(far, history, unit_cost=COST, n_resamples=200)
    texts = " ".join(str(w.message) for w in caught)
    assert "effective sample size" in texts and "outside the logged price range" in texts
    assert result.ess < 30
    assert result.outside_range > 0  # the global logged range: c = 5 rows lie above it
    assert result.low_support_share > 0.9


def test_grid_with_estimated_logit_propensities():
    c, p, units, _ = draw(3000, 7, grid=True)
    history = history_of(c, p, units)
    policy = lambda h: np.vectorize(GRID_TARGET.get)(h.frame["rival"].to_numpy())  # noqa: E731
    result = evaluate_logged(policy, history, grid=GRID, unit_cost=COST, n_resamples=300)
    assert "multinomial logit" in result.propensity
    assert result.kernel is None and result.bandwidth is None
    truth = true_value(lambda x: GRID_TARGET[float(x)])
    table = result.table.set_index("estimator")
    for name in ("dm", "snipw", "dr"):
        # the logit is close to, not exactly, the softmax logging policy: 5% of the value
        assert abs(table.loc[name, "value"] - truth) < 0.05 * truth, name


def test_grid_logging_probabilities_sum_to_one():
    c, p, units, _ = draw(500, 1, grid=True)
    history = history_of(c, p, units)
    model = GridLogging(GRID).fit(history)
    total = sum(model.density(history, np.full(history.n_rows, g)) for g in GRID)
    np.testing.assert_allclose(total, 1.0, atol=1e-9)


def test_lognormal_logging_recovers_the_logging_policy(continuous_history):
    history, ps = continuous_history
    model = LogNormalLogging().fit(history)
    assert model.sigma_ == pytest.approx(SIGMA, rel=0.05)
    # the estimated density at the logged prices is the true one to a few percent
    ratio = model.density(history, history.price) / ps
    assert np.median(np.abs(ratio - 1)) < 0.05


def test_effective_sample_size():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50.0)
    assert effective_sample_size(np.r_[1.0, np.zeros(9)]) == pytest.approx(1.0)
    assert effective_sample_size(np.zeros(5)) == 0.0


# ============================================================ errors
def test_wrong_inputs_name_the_rule(continuous_history):
    history, _ = continuous_history
    with pytest.raises(ConfigError, match="not on the price grid"):
        evaluate_logged(3.0, history, grid=GRID, n_resamples=200)
    with pytest.raises(ConfigError, match="not positive"):
        evaluate_logged(3.0, history, propensities=np.zeros(history.n_rows))
    with pytest.raises(ConfigError, match="prices for"):
        evaluate_logged(lambda h: np.ones(3), history)
    with pytest.raises(ConfigError, match="bandwidth"):
        evaluate_logged(3.0, history, bandwidth=-1.0)
    with pytest.raises(ConfigError, match="kernel"):
        evaluate_logged(3.0, history, kernel="box")


def test_wrong_propensities_warn_through_the_mean_weight(continuous_history):
    history, ps = continuous_history
    with pytest.warns(OffPolicyWarning, match="weights average"):
        result = evaluate_logged(3.5, history, propensities=2 * ps, n_resamples=200)
    assert result.mean_weight == pytest.approx(0.5, abs=0.1)  # half the true weights
    with warnings.catch_warnings():
        warnings.simplefilter("error", OffPolicyWarning)
        right = evaluate_logged(3.5, history, propensities=ps, n_resamples=200)
    # 1 in expectation; its standard error here is ~0.06 (ESS ~300 of 2000 rows)
    assert abs(right.mean_weight - 1) < 0.25


def test_grid_prices_evaluated_as_continuous_suggest_the_grid():
    c, p, units, _ = draw(400, 2, grid=True)
    with pytest.warns(OffPolicyWarning, match="distinct values"):
        evaluate_logged(3.0, history_of(c, p, units), n_resamples=200)
