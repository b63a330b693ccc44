"""Trading calendars: inferred Mon–Fri clocks, the next period after a Friday, markets
that step over trading days only, explicit options, and old model files."""

from __future__ import annotations

import json
import re
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import pricegym  # noqa: F401  (registers the envs)
from pricegym.demand.base import DemandModel
from pricegym.demand.calendar import TradingCalendar, parse_closed_dates, parse_weekdays
from pricegym.demand.data import load_history
from pricegym.demand.selection import make_model
from pricegym.errors import DataValidationError, ModelError

#: Linear truth: units = 60 − 3·price + weekday effect (Mon 0 ... Fri 20).
_DOW = np.array([0.0, 4.0, 8.0, 12.0, 20.0])


def mon_fri(seed: int = 0, start: str = "2024-01-01", end: str = "2024-05-31") -> pd.DataFrame:
    """Five months of Monday–Friday sales with the user's own column names, no cost."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, end)
    price = rng.uniform(6.0, 14.0, len(dates)).round(2)
    lam = 60.0 - 3.0 * price + _DOW[np.asarray(dates.day_of_week)]
    return pd.DataFrame({"day": dates, "selling_price": price, "qty": rng.poisson(lam)})


def load(frame: pd.DataFrame, **kw: object) -> object:
    return load_history(frame, date="day", price="selling_price", units="qty", **kw)


def fit_linear(history: object) -> DemandModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_model("linear").fit(history)


def test_mon_fri_history_infers_business_days_and_counts_trading_days() -> None:
    history = load(mon_fri())
    cal = history.calendar
    assert cal.weekdays == (0, 1, 2, 3, 4)
    assert cal.source == "inferred: no Saturday or Sunday in 22 weeks of daily data"
    assert cal.origin == "2024-01-01"
    assert history.t.tolist() == list(range(history.n_rows))  # 110 trading days, no gaps
    assert history.season_period == 5.0
    assert history.to_dict_summary()["calendar"]["weekdays"] == [0, 1, 2, 3, 4]


def test_next_period_after_friday_is_monday_and_elasticity_ci_is_sane() -> None:
    frame = mon_fri()
    after = fit_linear(load(frame))
    before = fit_linear(load(frame, calendar="daily"))  # the old clock: calendar days
    # the last row is Friday 2024-05-31; the reference period is the next Monday
    assert str(after.period_dates(after.reference_["t"])[0]) == "2024-06-03"
    assert str(before.period_dates(before.reference_["t"])[0]) == "2024-06-01"  # a Saturday
    assert after.spec_.season_period == 5.0 and before.spec_.season_period == 7.0
    el = after.elasticity_
    true_q = 60.0 - 3.0 * el.price  # Monday demand at the mean price
    true_el = -3.0 * el.price / true_q
    # measured (seed 0): after q 31.6, el -1.09 [-1.30, -0.90]; before (weekend
    # extrapolated) q 59.9, el -0.58 [-0.74, -0.46], which misses the truth -1.08
    q_after = float(after.expected_units(el.price)[0])
    q_before = float(before.expected_units(el.price)[0])
    assert abs(q_after - true_q) < 3.0
    assert abs(q_before - true_q) > 15.0
    assert el.ci_low < true_el < el.ci_high < 0.0
    assert not (before.elasticity_.ci_low < true_el < before.elasticity_.ci_high)


def test_fitted_market_steps_over_trading_days_only(tmp_path: object) -> None:
    path = fit_linear(load(mon_fri())).save(tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["fitted"]["calendar"] == {
        "weekdays": [0, 1, 2, 3, 4],
        "closed": [],
        "origin": "2024-01-01",
        "season_period": 5,
        "source": "inferred: no Saturday or Sunday in 22 weeks of daily data",
    }
    env = gym.make("pricegym/Fitted-v0", model_path=str(path))
    _, info = env.reset(seed=0)
    dates = []
    for _ in range(12):
        _, _, term, trunc, info = env.step(env.action_space.sample())
        dates.append(pd.Timestamp(info["date"]))
        assert not (term or trunc)
    assert dates[0] == pd.Timestamp("2024-06-03")
    assert [d.day_of_week for d in dates] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert dates == list(pd.bdate_range("2024-06-03", periods=12))


def test_explicit_calendar_options_are_honoured() -> None:
    frame = mon_fri()
    daily = load(frame, calendar="daily")
    assert daily.calendar.weekdays == tuple(range(7)) and daily.season_period == 7.0
    assert daily.t[-1] == 151.0  # calendar days, the old clock
    six = load(frame, trading_days="Mon-Sat")
    assert six.calendar.weekdays == (0, 1, 2, 3, 4, 5) and six.season_period == 6.0
    closed = load(frame.iloc[1:].reset_index(drop=True).drop(index=[10]), closed_dates="2024-01-16")
    assert closed.calendar.closed == ("2024-01-16",)
    # 2024-01-02 is t=0; 01-15 (Mon) t=9; 01-16 closed; 01-17 t=10
    assert closed.t[:11].tolist() == list(range(11))
    model = make_model("linear", season_period=10, seasonality=1, trend=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(load(frame))
    assert model.spec_.season_period == 10.0 and model.spec_.fourier == 1 and model.spec_.trend
    none = make_model("linear", seasonality=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        none.fit(load(frame))
    assert none.spec_.names == ["intercept", "price"]


def test_rows_on_closed_days_and_bad_options_are_refused() -> None:
    frame = mon_fri()
    with pytest.raises(DataValidationError, match=r"2024-01-16, a closed date.*rule 10"):
        load(frame, closed_dates=["2024-01-16"])
    saturday = pd.concat(
        [
            frame,
            pd.DataFrame({"day": [pd.Timestamp("2024-06-01")], "selling_price": [9.0], "qty": [5]}),
        ]
    )
    with pytest.raises(DataValidationError, match=r"2024-06-01, Saturday.*--calendar daily"):
        load(saturday, calendar="business")
    with pytest.raises(DataValidationError, match=r"'Fry' is not a weekday.*Mon Tue"):
        parse_weekdays("Mon-Fry")
    with pytest.raises(DataValidationError, match=r"'weekly' is not a calendar"):
        load(frame, calendar="weekly")
    with pytest.raises(DataValidationError, match=r"give one"):
        load(frame, calendar="business", trading_days="Mon-Fri")
    with pytest.raises(DataValidationError, match=r"'2024-13-01' is not a date"):
        parse_closed_dates("2024-12-25,2024-13-01")
    weekly = pd.DataFrame(
        {
            "day": pd.date_range("2024-01-01", periods=10, freq="W-MON"),
            "selling_price": [9.0, 10.0] * 5,
            "qty": [5] * 10,
        }
    )
    with pytest.raises(DataValidationError, match=r"weekly data \(rule 10"):
        load(weekly, calendar="business")
    with pytest.raises(
        ModelError, match=r"season_period=0 is not a seasonal period.*--season-period 5"
    ):
        make_model("linear", season_period=0).fit(load(frame))


def test_short_history_is_not_inferred_business() -> None:
    history = load(mon_fri(end="2024-02-09"))  # 6 weeks
    assert history.calendar.weekdays == tuple(range(7))
    assert "fewer than the 8 weeks" in history.calendar.source


def test_model_file_without_calendar_keeps_the_daily_meaning(tmp_path: object) -> None:
    model = fit_linear(load(mon_fri(), calendar="daily"))
    path = model.save(tmp_path / "old.json")
    doc = json.loads(path.read_text())
    del doc["fitted"]["calendar"]  # a file saved before calendars
    del doc["fitted"]["data_summary"]["calendar"]
    del doc["params"]["season_period"]
    path.write_text(json.dumps(doc))
    old = DemandModel.load(path)
    assert old.calendar_.weekdays == tuple(range(7)) and old.calendar_.origin == "2024-01-01"
    assert str(old.period_dates(old.reference_["t"])[0]) == "2024-06-01"
    np.testing.assert_allclose(old.expected_units(10.0), model.expected_units(10.0), rtol=1e-12)
    assert old.kernel().spec.season_period == 7.0


def test_calendar_index_and_date_are_inverse() -> None:
    cal = TradingCalendar(
        weekdays=parse_weekdays("Mon-Fri"), closed=("2024-01-15",), origin="2024-01-01"
    )
    t = np.arange(40.0)
    dates = cal.date(t)
    assert cal.trading(dates).all()
    np.testing.assert_array_equal(cal.index(dates), t)
    assert np.datetime64("2024-01-15") not in dates
    assert TradingCalendar.from_dict(cal.to_dict()) == cal
    assert cal.describe() == "Mon–Fri, 1 closed date"
    assert parse_weekdays("sat-mon") == (0, 5, 6)


# ---------------------------------------------------------------- CLI
def _csv(tmp_path: object) -> str:
    path = tmp_path / "sales.csv"
    frame = mon_fri()
    frame["day"] = frame["day"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    return str(path)


_COLUMNS = ["--date", "day", "--price", "selling_price", "--units", "qty", "--model", "linear"]


def test_fit_states_calendar_and_seasonality_defaults(tmp_path: object, capsys: object) -> None:
    from pricegym.cli import main

    data = _csv(tmp_path)
    assert main(["fit", data, *_COLUMNS, "--no-backtest", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["calendar"]["weekdays"] == [0, 1, 2, 3, 4]
    assert doc["calendar"]["text"].startswith(
        "calendar: Mon–Fri (inferred: no Saturday or Sunday in 22 weeks of daily data); "
        "override with --calendar"
    )
    assert doc["seasonality"] == {
        "fourier": 2,
        "period": 5.0,
        "unit": "trading days",
        "trend": False,
        "defaults": ["fourier", "period", "trend"],
    }
    assert main(["fit", data, *_COLUMNS, "--no-backtest"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "seasonality: 2 Fourier pairs (default), period 5 trading days (default)" in out
    assert "sin_k/cos_k: Fourier terms of period 5 trading days" in out
    argv = ["fit", data, *_COLUMNS, "--no-backtest", "--json", "--season-period", "10"]
    assert main([*argv, "--fourier", "1", "--trend", "--calendar", "daily"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seasonality"] == {
        "fourier": 1,
        "period": 10.0,
        "unit": "days",
        "trend": True,
        "defaults": [],
    }
    assert doc["calendar"]["weekdays"] == list(range(7))
    assert [r["term"] for r in doc["params_table"]] == [
        "intercept",
        "price",
        "trend",
        "sin1",
        "cos1",
    ]
    assert main(["fit", data, *_COLUMNS, "--no-backtest", "--json", "--no-season"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["params"]) == ["intercept", "price"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--season-period", "0"], r"--season-period 0 is not a seasonal period \(rule: .*Fix: "),
        (["--trading-days", "Mon-Fry"], r"'Fry' is not a weekday \(rule: .*Fix: "),
        (["--fourier", "-1"], r"--fourier -1 is negative \(rule: .*Fix: "),
        (["--no-season", "--fourier", "2"], r"contradict each other"),
        (["--calendar", "weekly"], r"'weekly' is not a calendar"),
        (["--calendar", "business", "--closed-dates", "2024-01-16"], r"2024-01-16, a closed date"),
    ],
)
def test_fit_refuses_bad_calendar_options(
    tmp_path: object, capsys: object, extra: list[str], message: str
) -> None:
    from pricegym.cli import main

    assert main(["fit", _csv(tmp_path), *_COLUMNS, "--no-backtest", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert re.search(message, " ".join(err.split()))


# ---------------------------------------------------------------- YAML
def _market(tmp_path: object, data: dict, params: dict) -> dict:
    _csv(tmp_path)
    return {
        "data": {
            "path": "sales.csv",
            "date": "day",
            "price": "selling_price",
            "units": "qty",
            **data,
        },
        "model": {"family": "linear", "params": params},
        "options": {"n_prices": 5, "horizon": 10},
    }


def test_yaml_takes_calendar_and_seasonality_options(tmp_path: object) -> None:
    from pricegym.experiments.schema import parse_market

    (tmp_path / "holidays.txt").write_text("# closed\n2024-01-16\n")
    raw = _market(
        tmp_path,
        {"calendar": "business", "closed_dates": "holidays.txt"},
        {"season_period": 5, "seasonality": 1, "trend": True},
    )
    frame = mon_fri().iloc[1:].reset_index(drop=True).drop(index=[10])
    frame.to_csv(tmp_path / "sales.csv", index=False)
    spec = parse_market(raw, base=tmp_path)
    assert spec.data.load["closed_dates"] == ["2024-01-16"]
    history = load_history(spec.data.path, **spec.data.load)
    assert history.calendar.closed == ("2024-01-16",) and history.t[10] == 10.0
    fitted = make_model("linear", **spec.models[0].params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(history)
    assert fitted.spec_.names[-3:] == ["trend", "sin1", "cos1"]


@pytest.mark.parametrize(
    ("data", "params", "message"),
    [
        ({"calendar": "weekly"}, {}, r"market\.data\.calendar = 'weekly': is not a trading"),
        ({"trading_days": "Mon-Fry"}, {}, r"market\.data\.trading_days: .*'Fry' is not a weekday"),
        ({"closed_dates": ["2024-13-01"]}, {}, r"market\.data\.closed_dates: .*not a date"),
        ({}, {"season_period": 0}, r"market\.model.*season_period=0 is not a seasonal period"),
    ],
)
def test_yaml_refuses_bad_calendar_options(
    tmp_path: object, data: dict, params: dict, message: str
) -> None:
    from pricegym.errors import ConfigError
    from pricegym.experiments.schema import parse_market

    with pytest.raises(ConfigError, match=message):
        parse_market(_market(tmp_path, data, params), base=tmp_path)
