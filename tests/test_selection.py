"""Model selection: every family on the same folds, ranked by backtest WAPE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegym.demand import compare_models, load_history, make_model
from pricegym.errors import DataValidationError, ModelError


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


# ------------------------------------------------------------- short histories
def _daily(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` days of sales with a log-log price effect (elasticity -1.5)."""
    rng = np.random.default_rng(seed)
    price = rng.uniform(8.0, 12.0, n)
    units = rng.poisson(np.exp(5.0 - 1.5 * np.log(price) + 1.5))
    dates = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.DataFrame({"date": dates, "price": price.round(2), "units": units})


def test_short_history_gets_fewer_folds_said_out_loud():
    # 12 days: 5 folds of 1 day leave a first training window of 7 days, one short of
    # the 8 rows arimax needs; 4 folds of 1 day leave 8, so arimax is compared too.
    history = load_history(_daily(12))
    result = compare_models(history, ["linear", "arimax"])
    status = dict(zip(result.table["model"], result.table["status"], strict=True))
    assert status == {"linear": "ok", "arimax": "ok"}
    assert (result.n_splits, result.test_size) == (4, 1)
    assert len(result.notes) == 1
    note = result.notes[0]
    for part in (
        "the history has 12 periods, too few for 5 rolling-origin folds of 1 period",
        "first training window of 7 periods is too short for arimax",
        "The backtest uses 4 folds of 1 period instead (first training window 8 periods)",
        "which lets arimax be backtested",
        "--splits N",
    ):
        assert part in note
    # Both families forecast exactly the same rows: the last 4 days, one per fold.
    folds = [m.backtest_.predictions[["fold", "t"]] for m in result.models.values()]
    pd.testing.assert_frame_equal(folds[0], folds[1])
    assert folds[0]["t"].tolist() == [8.0, 9.0, 10.0, 11.0]
    assert all(m.backtest_.n_splits == 4 for m in result.models.values())


def test_given_splits_are_used_as_given():
    history = load_history(_daily(12))
    result = compare_models(history, ["linear", "arimax"], n_splits=5)
    status = dict(zip(result.table["model"], result.table["status"], strict=True))
    assert (result.n_splits, result.test_size, result.notes) == (5, 1, ())
    assert status["linear"] == "ok"
    assert status["arimax"].startswith(
        "skipped: fits the whole history, but cannot be backtested on 5 folds x 1 period:"
    )
    assert "needs at least 8" in status["arimax"]


def test_long_enough_history_keeps_the_default_folds():
    history = load_history(_daily(40))
    result = compare_models(history, ["linear", "loglinear", "poisson", "arimax"])
    assert (result.n_splits, result.test_size, result.notes) == (5, 4, ())
    assert (result.table["status"] == "ok").all()
    assert sorted(result.table["rank"]) == [1, 2, 3, 4]


def test_nothing_fits_names_every_family_and_its_reason():
    # 5 days: arimax and neural cannot fit at all; the regressions fit the 5 rows but
    # even 2 folds of 1 day leave 3 training rows, one short of the 4 they need.
    with pytest.raises(DataValidationError) as info:
        compare_models(load_history(_daily(5), name="five.csv"))
    message = str(info.value)
    assert message.startswith(
        "five.csv: no model family could be fitted and backtested on this history "
        "(5 rows, 5 periods). Each family's reason:\n"
    )
    lines = message.splitlines()
    reasons = {line.split(":")[0].strip(" -"): line for line in lines[1:-1]}
    assert list(reasons) == ["linear", "loglinear", "poisson", "arimax", "neural"]
    for name, cls in (("linear", "Linear"), ("loglinear", "LogLinear"), ("poisson", "Poisson")):
        assert (
            f"even the shortest backtest a comparison runs (2 folds of 1 period) trains first "
            f"on the first 3 periods, but {cls}Demand needs at least 4 rows (that window has 3)"
        ) in reasons[name]
    assert "ArimaxDemand needs at least 8" in reasons["arimax"]
    assert "NeuralDemand needs at least 11" in reasons["neural"]
    assert lines[-1].startswith("Fix: supply a longer history, or fit one family without")
    assert "--model linear --no-backtest" in lines[-1]


def test_nothing_fits_at_all_says_so_for_every_family():
    with pytest.raises(DataValidationError) as info:
        compare_models(load_history(_daily(3), name="three.csv"))
    lines = str(info.value).splitlines()
    assert len(lines) == 7
    for line, name in zip(
        lines[1:6], ("linear", "loglinear", "poisson", "arimax", "neural"), strict=True
    ):
        assert line.startswith(f"  - {name}: too few rows for the chosen model")
        assert "the history has 3 rows" in line
    assert lines[-1] == (
        "Fix: supply a longer history (more periods), or check the data the reasons name."
    )
