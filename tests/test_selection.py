"""Model selection: every family on the same folds, ranked by backtest WAPE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand import compare_models, load_history, make_model
from pricegym.errors import ModelError


def test_league_table_ranks_families_on_identical_folds(weekly_history):
    result = compare_models(weekly_history, ["linear", "loglinear", "poisson"], n_splits=4)
    table = result.table
    assert list(table["rank"]) == [1, 2, 3]
    assert table["backtest_wape"].is_monotonic_increasing
    assert result.best == table.loc[0, "model"]
    # Same folds: every model forecast exactly the same rows.
    preds = [m.backtest_.predictions[["fold", "t"]] for m in result.models.values()]
    for p in preds[1:]:
        pd.testing.assert_frame_equal(p, preds[0])
    assert len(preds[0]) == 4 * (weekly_history.periods().size // 8)
    # The truth is log-log: a log model wins.
    assert result.best in ("loglinear", "poisson")
    assert np.all(table["elasticity"] < 0)


def test_family_that_cannot_fit_is_reported_not_fatal():
    frame = pd.DataFrame(
        {"period": range(40), "price": np.linspace(5, 8, 40), "units": [0, 4, 3, 5] * 10}
    )
    result = compare_models(load_history(frame), ["loglinear", "poisson"], n_splits=3)
    status = dict(zip(result.table["model"], result.table["status"], strict=True))
    assert status["poisson"] == "ok"
    assert status["loglinear"].startswith("skipped:") and "units = 0" in status["loglinear"]
    assert result.best == "poisson"


def test_unknown_family_suggests_the_closest():
    with pytest.raises(ModelError, match="Did you mean 'loglinear'"):
        make_model("loglinar")


def test_backtest_too_short_explains(weekly_history):
    model = make_model("linear").fit(weekly_history.take(np.arange(12)))
    with pytest.raises(ModelError, match="lower n_splits or test_size"):
        model.backtest(n_splits=10, test_size=2)
