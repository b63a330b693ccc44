"""Exported policies fed a seller's own inputs: date, stock, yesterday's price and units.

The oracle is the market itself: 1,000 states visited by random-price episodes of a
fitted Monday–Friday market (with a closed date inside the season, random-walk
competitor prices and stock-outs), each described as the seller would describe it —
the date (from :class:`TradingCalendar`, pandas, independent of the runtime's numpy
clock), the stock on hand, yesterday's price, units and competitor price. The
observation built from those inputs must equal the market's, and the exported
policy's price from them the price it gives on the market's observation.
"""

from __future__ import annotations

import argparse
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from pricegym.agents.dp import DPAgent
from pricegym.cli.price import cli_price, configure_price_parser
from pricegym.demand import load_history, make_model
from pricegym.envs.market import PricingEnv
from pricegym.errors import ConfigError
from pricegym.experiments.export import export_policy
from pricegym.runtime import load_policy
from pricegym.seller_inputs import InputError, build_observation

N_STATES = 1000
#: A closed trading weekday inside the simulated season (the market must skip it).
CLOSED = "2024-06-19"
HORIZON = 20
MARKET = {
    "n_prices": 7,
    "horizon": HORIZON,
    "inventory": 500,
    "cost": 4.0,
}
#: Rivals' prices that move: the neural policy's market (the DP needs fixed ones).
WALK = {"competitor": {"kind": "random_walk", "sigma": 0.08}}


def _frame(seed: int = 0) -> pd.DataFrame:
    """Five months of Mon–Fri sales with a rival's price and the user's column names."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", "2024-05-31")
    price = rng.uniform(6.0, 14.0, len(dates)).round(2)
    rival = rng.uniform(8.0, 12.0, len(dates)).round(2)
    dow = np.array([0.0, 0.1, 0.2, 0.3, 0.5])[np.asarray(dates.day_of_week)]
    lam = np.exp(5.0 - 1.6 * np.log(price) + 0.6 * np.log(rival) + dow)
    return pd.DataFrame({"day": dates, "our": price, "qty": rng.poisson(lam), "rival": rival})


@pytest.fixture(scope="module")
def kernel():
    history = load_history(
        _frame(), date="day", price="our", units="qty", competitors=["rival"], closed_dates=CLOSED
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_model("loglinear").fit(history).kernel()


def _env(kernel, **options) -> PricingEnv:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # decision warnings of a synthetic market
        return PricingEnv(kernel, {**MARKET, **options})


def market_states(env: PricingEnv, n: int = N_STATES, seed: int = 0):
    """(observations (n, d), seller inputs) of n states of random-price episodes."""
    cal = env.kernel.calendar
    rng = np.random.default_rng(seed)
    observations, inputs = [], []
    episode = 0
    while len(inputs) < n:
        obs, info = env.reset(seed=seed + episode)
        episode += 1
        stock, price, units = info["inventory"], 0.5 * (env.p_min + env.p_max), 0.0
        comp = info["competitor_prices"]
        k, done = 0, False
        while not done and len(inputs) < n:
            date = str(cal.date(env.start_t + k)[0])  # pandas-free oracle: busday_offset
            observations.append(obs)
            inputs.append(
                {
                    "date": date,
                    "stock": stock,
                    "last_price": price,
                    "last_units": units,
                    "competitors": {"rival": float(comp[0])},
                }
            )
            obs, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
            done = terminated or truncated
            stock, price, units = info["inventory"], info["price"], info["sales"]
            comp, k = info["competitor_prices"], k + 1
    return np.array(observations, dtype=np.float64), inputs


def _season_end(env: PricingEnv) -> str:
    return str(env.kernel.calendar.date(env.start_t + HORIZON - 1)[0])


@pytest.fixture(scope="module")
def dp_export(kernel, tmp_path_factory):
    env = _env(kernel)
    agent = DPAgent()
    agent.bind(env)
    out = tmp_path_factory.mktemp("dp")
    export_policy(agent, out, market=env, season_end=_season_end(env))
    return env, agent, load_policy(out)


def test_market_steps_over_the_closed_date_and_the_weekend(kernel):
    env = _env(kernel)
    env.reset(seed=0)
    dates = [env.step(6)[4]["date"] for _ in range(HORIZON)]  # the top price: no stock-out
    assert CLOSED not in dates
    days = pd.DatetimeIndex(dates)
    assert (days.day_of_week < 5).all() and days.is_monotonic_increasing
    assert dates[0] == "2024-06-03"  # the Monday after the history's last Friday


def test_card_stores_the_input_constants(dp_export):
    env, _, policy = dp_export
    block = policy.card["inputs"]
    assert block["horizon"] == HORIZON and block["start_t"] == env.start_t
    assert block["prices"] == env.prices.tolist() and block["p_max"] == env.p_max
    assert block["inventory"] == 500.0 and block["sales_scale"] == env.sales_scale
    assert block["competitors"] == ["rival"] and block["season_period"] == 5.0
    assert block["calendar"]["weekdays"] == [0, 1, 2, 3, 4]
    assert block["calendar"]["closed"] == [CLOSED] and block["calendar"]["origin"] == "2024-01-01"
    assert block["season_end"] == "2024-07-01"  # 20 trading days from 2024-06-03, less 06-19
    assert set(block["season_clock"]) == {"season_end", "rolling", "period"}


def test_dp_price_from_inputs_equals_the_market_price_on_1000_states(dp_export):
    env, agent, policy = dp_export
    observations, inputs = market_states(env)
    built = np.array([list(build_observation(policy.card, **i).values()) for i in inputs])
    # the same float operations as PricingEnv, then float32: equal to float32 rounding
    np.testing.assert_allclose(built, observations, rtol=0, atol=1e-6)
    # the card's constants do not depend on how rivals price: moving rivals' states too
    walk_obs, walk_inputs = market_states(_env(env.kernel, **WALK), n=200, seed=3)
    walk = np.array([list(build_observation(policy.card, **i).values()) for i in walk_inputs])
    np.testing.assert_allclose(walk, walk_obs, rtol=0, atol=1e-6)
    market = np.array([agent.codec.to_price(agent.act(o.astype(np.float32))) for o in observations])
    seller = np.array([policy.price_from_inputs(**i) for i in inputs])
    np.testing.assert_array_equal(seller, market)  # table look-ups: discrete, exact
    # the states are varied: every period, stock from full to nearly out, several prices
    k = np.rint(HORIZON * (1 - observations[:, 0]))
    assert set(k.astype(int)) == set(range(HORIZON))
    assert observations[:, 1].min() < 0.1 and len(np.unique(seller)) >= 3
    assert len({i["competitors"]["rival"] for i in walk_inputs}) > 150


@pytest.mark.slow  # trains a small PPO and exports it (~20 s on a shared CPU)
def test_onnx_price_from_inputs_equals_the_market_price_on_1000_states(kernel, tmp_path):
    pytest.importorskip("onnxruntime", reason="the [onnx] extra")
    from pricegym.agents.sb3 import SB3Agent

    env = _env(kernel, **WALK)
    hp = {"n_envs": 2, "eval_freq": 0, "checkpoint_freq": 0, "n_steps": 32, "batch_size": 32}
    agent = SB3Agent("ppo", hyperparams={**hp, "n_epochs": 1}, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agent.train(_env(kernel, **WALK), total_timesteps=128)
    export_policy(agent, tmp_path, market=env, season_end=_season_end(env))
    policy = load_policy(tmp_path)
    observations, inputs = market_states(env, seed=7)
    built = np.array([list(policy.observation_from_inputs(**i).values()) for i in inputs])
    np.testing.assert_allclose(built, observations, rtol=0, atol=1e-6)
    market = policy.prices(observations)
    seller = np.array(
        [policy.price(dict(zip(policy.feature_names, b, strict=True))) for b in built]
    )
    np.testing.assert_array_equal(seller, market)  # same float32 graph input: same grid price
    assert set(seller) <= set(env.prices.tolist())
    assert len({i["competitors"]["rival"] for i in inputs}) > 500


def test_rolling_horizon_is_a_full_season_every_day(kernel, tmp_path):
    env = _env(kernel)
    agent = DPAgent()
    agent.bind(env)
    export_policy(agent, tmp_path, market=env)  # no season end
    policy = load_policy(tmp_path)
    assert policy.card["inputs"]["season_end"] is None
    base = {"stock": 200, "last_price": 9.0, "last_units": 30, "competitors": {"rival": 10}}
    for date in ("2024-06-03", "2024-09-30", "2027-01-04"):
        obs = policy.observation_from_inputs(date=date, **base)
        assert obs["time_remaining"] == 1.0 and obs["inventory_fraction"] == np.float32(0.4)
        assert policy.price_from_inputs(date=date, **base) == agent.solution_.price[0, 200]
    # an explicit season end overrides the rolling horizon: its last day is period T - 1
    last = policy.observation_from_inputs(date="2024-07-01", season_end="2024-07-01", **base)
    assert last["time_remaining"] == np.float32(1 / HORIZON)


# ------------------------------------------------------------------ refusals
GOOD = {
    "date": "2024-06-20",
    "stock": 100,
    "last_price": 9.0,
    "last_units": 20,
    "competitors": {"rival": 10.0},
}


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            {"date": CLOSED},
            r"2024-06-19 \(Wednesday\) is a closed date.*next trading day is "
            r"2024-06-20 \(Thursday\); pass --date 2024-06-20",
        ),
        (
            {"date": "2024-06-22"},
            r"2024-06-22 \(Saturday\) is not a trading weekday.*Mon-Fri"
            r".*2024-06-24 \(Monday\)",
        ),
        ({"date": "2024-07-02"}, r"2024-07-02 is after the season end 2024-07-01"),
        ({"date": "2024-05-31"}, r"21 trading periods from 2024-05-31 .*season of 20"),
        ({"date": "20240620"}, r"'20240620' is not a date.*YYYY-MM-DD"),
        ({"date": "2024-02-30"}, r"not a calendar date"),
        ({"date": None}, r"no date given"),
        ({"stock": -3}, r"stock = -3 is negative"),
        ({"stock": None}, r"no stock given"),
        ({"stock": 501}, r"stock = 501 is above the most the policy was trained with \(500"),
        ({"competitors": {}}, r"missing competitor prices \['rival'\].*--competitor rival=PRICE"),
        ({"competitors": {"rival": 10, "other": 3}}, r"unknown competitors \['other'\]"),
        ({"last_price": 0}, r"a price is positive"),
        ({"last_price": 99}, r"last_price = 99 is above the highest price"),
        ({"last_units": "many"}, r"last_units = 'many' is not a number"),
        ({"last_units": float("nan")}, r"not a finite number"),
    ],
)
def test_bad_inputs_are_refused_with_the_rule_and_the_fix(dp_export, change, pattern):
    _, _, policy = dp_export
    with pytest.raises(InputError, match=pattern):
        policy.price_from_inputs(**{**GOOD, **change})


def test_old_card_without_input_constants_says_re_export(dp_export, tmp_path):
    _, _, policy = dp_export
    card = {k: v for k, v in policy.card.items() if k != "inputs"}
    (tmp_path / "policy.json").write_text(json.dumps(card))
    old = load_policy(tmp_path)
    obs = policy.observation_from_inputs(**GOOD)
    assert old.price(obs) == policy.price(obs)  # observations still work
    with pytest.raises(InputError, match=r"no seller-input constants.*re-export it with this"):
        old.price_from_inputs(**GOOD)


def test_season_end_of_a_market_without_calendar(tmp_path):
    import gymnasium as gym

    import pricegym  # noqa: F401  (registers the ids)

    env = gym.make("pricegym/Markdown-v0")
    agent = DPAgent()
    agent.bind(env)
    with pytest.raises(ConfigError, match=r"no trading calendar.*integer period"):
        export_policy(agent, tmp_path / "x", market=env, season_end="2026-12-31")
    assert not (tmp_path / "x").exists()
    export_policy(agent, tmp_path, market=env, season_end=19)
    policy = load_policy(tmp_path)
    base = {"stock": 4, "last_price": 1.0, "last_units": 1}
    sol = agent.solution_
    assert policy.price_from_inputs(period=15, **base) == sol.price[15, 4]
    with pytest.raises(InputError, match=r"pass the model's period number"):
        policy.price_from_inputs(date="2026-12-03", **base)


# ------------------------------------------------------------------ the CLI
def _cli(argv: list[str]) -> tuple[int, str]:
    parser = configure_price_parser(argparse.ArgumentParser())
    out = io.StringIO()
    code = cli_price(parser.parse_args(argv), stdout=out)
    return code, out.getvalue()


def test_cli_prices_the_seller_inputs_and_json_lines(dp_export, tmp_path):
    _, _, policy = dp_export
    folder = str(policy.folder)
    flags = ["--date", "2024-06-20", "--stock", "100", "--last-price", "9", "--last-units", "20"]
    code, out = _cli([folder, *flags, "--competitor", "rival=10"])
    # printed to 12 significant digits (grid prices such as 3.6900000000000004 read 3.69)
    assert code == 0 and float(out) == pytest.approx(policy.price_from_inputs(**GOOD), rel=1e-12)
    lines = [
        GOOD,
        {**GOOD, "date": "2024-06-21", "stock": 80, "season_end": "2024-06-28"},
        {**GOOD, "date": "2024-07-01", "stock": 0},
    ]
    path = tmp_path / "days.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    code, out = _cli([folder, "--inputs", str(path), "--json"])
    docs = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [d["line"] for d in docs] == [1, 2, 3]
    assert [d["price"] for d in docs] == [policy.price_from_inputs(**x) for x in lines]
    assert docs[1]["observation"]["time_remaining"] == np.float32(6 / HORIZON)  # 21st..28th
    code, plain = _cli([folder, "--inputs", str(path)])
    assert [float(x) for x in plain.splitlines()] == pytest.approx([d["price"] for d in docs])


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        (
            '{"date": "2024-06-22", "stock": 1, "last_price": 9, "last_units": 1, '
            '"competitors": {"rival": 9}}',
            r"days.jsonl line 2: date 2024-06-22 \(Saturday\)",
        ),
        ("{not json", r"days.jsonl line 2: not JSON"),
        ('["2024-06-20"]', r"days.jsonl line 2: a JSON list, not an object"),
        ('{"dat": "2024-06-20"}', r"days.jsonl line 2: unknown keys \['dat'\]"),
    ],
)
def test_cli_bad_line_is_named_and_nothing_is_printed(dp_export, tmp_path, line, pattern):
    _, _, policy = dp_export
    path = tmp_path / "days.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n" + json.dumps(GOOD) + "\n")
    parser = configure_price_parser(argparse.ArgumentParser())
    out = io.StringIO()
    with pytest.raises(InputError, match=pattern):
        cli_price(parser.parse_args([str(policy.folder), "--inputs", str(path)]), stdout=out)
    assert out.getvalue() == ""


def test_cli_refuses_mixed_modes(dp_export):
    _, _, policy = dp_export
    with pytest.raises(InputError, match=r"--obs and the seller's inputs"):
        _cli([str(policy.folder), "--obs", "{}", "--date", "2024-06-20"])
    with pytest.raises(InputError, match=r"--competitor 'rival:10': write NAME=PRICE"):
        _cli([str(policy.folder), "--date", "2024-06-20", "--competitor", "rival:10"])
