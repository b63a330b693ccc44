"""The demand plot marks the periods that sold out (units = stock: a lower bound of demand)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from pricegym.demand.base import DemandModel
from pricegym.demand.censored import CensoredPoissonDemand
from pricegym.demand.censored_synthetic import stockout_history
from pricegym.demand.data import load_history
from pricegym.demand.plot import plot_model
from pricegym.demand.regression import PoissonDemand


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A censored Poisson fit (with its backtest) to 80 periods, saved and its sold-out mask."""
    history, _ = stockout_history(1, n_periods=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CensoredPoissonDemand().fit(history)
        model.backtest(n_splits=2)
    path = model.save(tmp_path_factory.mktemp("plot") / "censored.json")
    return path, history.censored


def _labelled(ax, prefix: str):
    return [c for c in ax.collections if str(c.get_label()).startswith(prefix)]


def test_both_panels_mark_the_sold_out_periods_after_loading(saved) -> None:
    path, censored = saved
    model = DemandModel.load(path)
    assert model.data_points_["censored"].tolist() == censored.tolist()
    n = int(censored.sum())
    assert 0 < n < censored.size
    fig = plot_model(model)
    curve, over_time = fig.axes
    (marks,) = _labelled(curve, f"sold out: {n} of {censored.size} periods")
    points = model.data_points_
    expected = points.loc[censored, ["price", "units"]].to_numpy()
    np.testing.assert_allclose(marks.get_offsets(), expected)
    (data,) = _labelled(curve, "data")
    assert len(data.get_offsets()) == censored.size - n  # the others stay grey dots
    (times,) = _labelled(over_time, f"sold out: {n} of {censored.size} periods")
    np.testing.assert_allclose(np.asarray(times.get_offsets())[:, 0], points["t"][censored])
    assert "understate it where sold out" in over_time.get_title()


def test_a_history_without_stock_columns_draws_and_saves_as_before(tmp_path: Path) -> None:
    history, _ = stockout_history(1, n_periods=80)
    plain = load_history(history.frame.drop(columns="stock"))
    model = PoissonDemand().fit(plain)
    assert "censored" not in model.data_points_
    path = model.save(tmp_path / "plain.json")
    assert "data_censored" not in np.load(path.with_suffix(".npz")).files
    fig = plot_model(DemandModel.load(path))
    assert not any(_labelled(ax, "sold out") for ax in fig.axes)
