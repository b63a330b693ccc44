"""Stock-out censoring: the stock columns' contract, and demand families that see past sell-outs.

The known truth: ``stockout_history`` draws constant-elasticity demand (elasticity -2)
at 200 log-uniform prices and caps it by a stock that ignores the price, so 20-40% of
the periods sell out. The naive fit (sales taken as demand) is biased toward zero; the
censored likelihoods recover -2 inside their 95% intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.numdiff import approx_fprime

from pricegym.demand import (
    CensoredNegBinDemand,
    CensoredPoissonDemand,
    DemandModel,
    LogLinearDemand,
    PoissonDemand,
    TobitDemand,
    load_history,
    make_model,
)
from pricegym.demand.censored import (
    _CensoredPoissonLikelihood,
    _TobitLikelihood,
)
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.envs import PricingEnv
from pricegym.errors import CensoringWarning, DataValidationError

TRUE_ELASTICITY = -2.0


def _frame(**extra: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"week": [1, 2, 3, 4, 5], "p": [1.0, 2.0, 1.5, 2.5, 1.2], "q": [5, 3, 7, 2, 6]}
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


# ---------------------------------------------------------------- data contract
def test_censored_periods_are_sold_out_by_stock_or_flag() -> None:
    frame = _frame(s=[5, 4, 9, 2, 8], so=[0, 0, 1, 0, 0])
    history = load_history(frame, price="p", units="q", stock="s", stockout="so")
    assert history.frame.columns.tolist()[-2:] == ["stock", "stockout"]
    # row 0 and 3 reached their stock, row 2 is flagged
    assert history.censored.tolist() == [True, False, True, True, False]
    assert history.to_dict_summary()["censored"] == {"n": 3, "share": 0.6}
    flag_only = load_history(frame, price="p", units="q", stockout="so")
    assert flag_only.censored.tolist() == [False, False, True, False, False]
    plain = load_history(frame, price="p", units="q")
    assert not plain.has_stock and not plain.censored.any()
    assert "censored" not in plain.to_dict_summary()


def test_sales_above_stock_are_refused_naming_the_rows() -> None:
    frame = _frame(s=[5, 2, 9, 1, 8])
    with pytest.raises(DataValidationError) as err:
        load_history(frame, price="p", units="q", stock="s")
    text = str(err.value)
    assert "2 rows sell more units" in text
    assert "row 3 (3 sold, stock 2), row 5 (2 sold, stock 1)" in text
    assert "rule 11" in text and "Fix:" in text and "--stock-col" in text


def test_negative_stock_and_bad_flags_are_row_rules() -> None:
    frame = _frame(s=[5, -1, 9, 2, 8], so=[0, 2, 0, 0, 1])
    with pytest.raises(DataValidationError) as err:
        load_history(frame, price="p", units="q", stock="s", stockout="so")
    text = str(err.value)
    assert "stock < 0 in column 'stock' (source column 's'): row 3 (-1)" in text
    assert "stock-out flag not 0/1" in text and "row 3 (2)" in text
    with pytest.warns(UserWarning, match="dropped"):
        kept = load_history(
            frame, price="p", units="q", stock="s", stockout="so", drop_invalid=True
        )
    assert kept.n_rows == 4
    with pytest.raises(DataValidationError, match=r"missing column 'stok'.*Did you mean 'stock'"):
        load_history(_frame(stock=[5, 4, 9, 2, 8]), price="p", units="q", stock="stok")


# ---------------------------------------------------------------- warnings
def test_uncensored_family_warns_on_sold_out_history() -> None:
    history, _ = stockout_history(0)
    with pytest.warns(CensoringWarning, match=r"59 of 200 periods \(30%\).*censored_poisson"):
        PoissonDemand().fit(history)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CensoringWarning)
        CensoredPoissonDemand().fit(history)  # handles it: no warning
        plain = load_history(history.frame.drop(columns="stock"))
        PoissonDemand().fit(plain)  # no stock column: nothing to warn about


# ---------------------------------------------------------------- known truth
@pytest.mark.parametrize(
    ("noise", "naive", "censored"),
    [
        ("poisson", PoissonDemand, CensoredPoissonDemand),
        ("negbin", PoissonDemand, CensoredNegBinDemand),
        ("lognormal", LogLinearDemand, TobitDemand),
    ],
)
def test_censored_fit_recovers_the_true_elasticity(
    noise: str, naive: type[DemandModel], censored: type[DemandModel]
) -> None:
    history, _ = stockout_history(1, noise=noise)
    assert 0.2 <= history.censored.mean() <= 0.4
    with pytest.warns(CensoringWarning):
        biased = naive().fit(history).elasticity_
    # biased toward zero by more than its own interval admits
    assert TRUE_ELASTICITY + 0.3 < biased.estimate and biased.ci_low > TRUE_ELASTICITY
    recovered = censored().fit(history).elasticity_
    assert recovered.ci_low < TRUE_ELASTICITY < recovered.ci_high
    assert abs(recovered.estimate - TRUE_ELASTICITY) < 0.2
    assert recovered.ci_high - recovered.ci_low < 0.6  # informative, not a wide shrug


def test_negbin_recovers_the_dispersion_and_hits_the_bound_on_poisson_data() -> None:
    history, _ = stockout_history(1, noise="negbin", alpha=0.1)
    model = CensoredNegBinDemand().fit(history)
    assert model.converged_ and not model.at_bound_
    assert 0.05 < model.alpha_ < 0.2
    assert model.noise_.kind == "negbin" and model.noise_.alpha == model.alpha_
    assert model.params_table()["term"].tolist() == ["intercept", "log_price", "log_alpha"]
    poisson_data, _ = stockout_history(0, noise="poisson")
    bound = CensoredNegBinDemand().fit(poisson_data)
    assert bound.at_bound_ and bound.alpha_ == 0.0 and bound.information()["alpha_at_bound"] == 1
    same = CensoredPoissonDemand().fit(poisson_data)
    np.testing.assert_allclose(bound.coef_, same.coef_, rtol=1e-8)


# ---------------------------------------------------------------- exactness
def test_without_censoring_the_fits_are_plain_maximum_likelihood() -> None:
    history, _ = stockout_history(2, noise="lognormal", stock_mean=1e6)
    assert not history.censored.any()
    tobit = TobitDemand().fit(history)
    ols = LogLinearDemand().fit(history)
    np.testing.assert_allclose(tobit.coef_, ols.coef_, rtol=1e-6)
    resid = np.asarray(ols.results_.resid)
    assert tobit.sigma_ == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-6)
    counts, _ = stockout_history(2, stock_mean=1e6)
    cp = CensoredPoissonDemand().fit(counts)
    glm = PoissonDemand().fit(counts)
    np.testing.assert_allclose(cp.coef_, glm.coef_, rtol=1e-6)
    ml_se = np.asarray(glm.results_.bse) / np.sqrt(glm.results_.scale)  # scale 1
    np.testing.assert_allclose(np.sqrt(np.diag(cp.coef_cov_)), ml_se, rtol=1e-4)


@pytest.mark.parametrize("likelihood", [_CensoredPoissonLikelihood, _TobitLikelihood])
def test_hand_written_scores_equal_numeric_derivatives(likelihood: type) -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(40), np.log(rng.uniform(1, 3, 40))])
    y = rng.poisson(20, 40).astype(float) + 1.0
    y[:3] = [0.0, 0.0, 5.0]  # a censored row with no stock contributes nothing
    censored = rng.uniform(size=40) < 0.3
    censored[:2] = True
    extra = ("log_sigma",) if likelihood is _TobitLikelihood else ()
    model = likelihood(y, x, censored, extra)
    params = np.array([3.0, -1.5, np.log(0.4)][: 2 + len(extra)])
    numeric = approx_fprime(params, model.loglikeobs, centered=True)
    np.testing.assert_allclose(model.score_obs(params), numeric, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- DemandModel conventions
@pytest.mark.parametrize("family", ["censored_poisson", "censored_negbin", "tobit"])
def test_families_save_load_and_drive_a_market(family: str, tmp_path) -> None:
    noise = "lognormal" if family == "tobit" else "negbin"
    history, _ = stockout_history(4, noise=noise)
    model = make_model(family)
    assert model.fit(history) is model and model.handles_censoring
    prices = np.array([1.2, 2.0, 2.8])
    np.testing.assert_allclose(
        model.expected_units(prices), model.library_expected_units(prices), rtol=1e-10
    )
    diag = model.diagnostics(backtest=True, n_splits=3)
    assert diag.elasticity.ci_low < diag.elasticity.estimate < diag.elasticity.ci_high
    assert diag.information["n_censored"] == history.censored.sum()
    assert diag.backtest is not None and diag.backtest.metrics["n"] > 0
    loaded = DemandModel.load(model.save(tmp_path / "m.json"))
    assert type(loaded) is type(model) and loaded.noise_ == model.noise_
    np.testing.assert_allclose(loaded.expected_units(prices), model.expected_units(prices))
    pd.testing.assert_frame_equal(loaded.params_table(), model.params_table())
    assert loaded.elasticity_ == model.elasticity_
    assert loaded.information() == pytest.approx(model.information())
    env = PricingEnv(loaded.kernel(), {"horizon": 5, "n_prices": 5, "cost": 1.0})
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(2)
    assert np.isfinite(reward) and not terminated


def test_tobit_mean_is_the_lognormal_mean_and_its_market_samples_it() -> None:
    history, _ = stockout_history(1, noise="lognormal")
    model = TobitDemand().fit(history)
    eta = model.coef_ @ [1.0, np.log(2.0)]
    assert model.expected_units([2.0])[0] == pytest.approx(np.exp(eta + model.sigma_**2 / 2))
    kernel = model.kernel()
    mean = np.full(20_000, model.expected_units([2.0])[0])
    draws = kernel.sample(np.random.default_rng(0), mean)
    assert np.std(np.log(draws)) == pytest.approx(model.sigma_, rel=0.03)
    assert draws.mean() == pytest.approx(mean[0], rel=0.02)


# ---------------------------------------------------------------- refusals
def test_refusals_explain_themselves() -> None:
    history, _ = stockout_history(0, noise="lognormal")
    with pytest.raises(DataValidationError, match=r"fractional units.*tobit"):
        CensoredPoissonDemand().fit(history)
    counts, _ = stockout_history(0)
    frame = counts.frame.copy()
    frame.loc[frame.index[~counts.censored][:1], "units"] = 0
    with pytest.raises(DataValidationError, match=r"units = 0.*censored_poisson"):
        TobitDemand().fit(load_history(frame, stock="stock"))
    sold_out = counts.frame.assign(stock=counts.frame["units"])  # every period sold out
    with pytest.raises(DataValidationError, match="only 0 of 200 periods did not sell out"):
        CensoredPoissonDemand().fit(load_history(sold_out, stock="stock"))


def test_a_pooled_panel_gets_product_effects_past_the_stock_outs() -> None:
    a, _ = stockout_history(1)
    b, _ = stockout_history(2, scale=90.0)  # store B sells 1.5x store A at every price
    frame = pd.concat([a.frame.assign(store="A"), b.frame.assign(store="B")])
    history = load_history(
        frame[["period", "price", "units", "stock", "store"]], stock="stock", product="store"
    )
    model = CensoredPoissonDemand().fit(history)
    table = model.params_table().set_index("term")
    assert table.loc["product:B", "estimate"] == pytest.approx(np.log(1.5), abs=0.1)
    assert table.loc["log_price", "ci_low"] < TRUE_ELASTICITY < table.loc["log_price", "ci_high"]
    ratio = model.expected_units([2.0], product="B") / model.expected_units([2.0], product="A")
    assert ratio[0] == pytest.approx(np.exp(table.loc["product:B", "estimate"]))
