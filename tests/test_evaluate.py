"""pricegym's evaluation API: tidy episode tables with known answers, paired seeds."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.agents.dp import DPAgent, solve_dp
from pricegym.agents.rules import FixedPrice, Myopic
from pricegym.demand import ExponentialTruth
from pricegym.envs.equilibrium_solvers import (
    logit_monopoly_prices,
    logit_nash_prices,
    logit_profits,
)
from pricegym.envs.market import PricingEnv
from pricegym.envs.oligopoly import OligopolyEnv
from pricegym.errors import ConfigError
from pricegym.experiments.evaluate import COLUMNS, derive_seeds, evaluate

A, ALPHA = 10.0, 1.0
GRID = {"n_prices": 10, "p_min": 0.5, "p_max": 5.0}
MARKDOWN = {
    "demand": {"form": "exponential", "a": A, "alpha": ALPHA},
    "options": {**GRID, "horizon": 16, "inventory": 4},
}


def test_columns_and_shape():
    table = evaluate(FixedPrice(price=2.5, name="fixed"), MARKDOWN, episodes=4, seed=3)
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 4
    assert table["episode"].tolist() == [0, 1, 2, 3]
    assert set(table["seed"]) == {3} and set(table["agent"]) == {"fixed"}
    assert set(table["market"]) == {"exponential"}
    assert (table["units"] <= 4).all() and (table["steps"] <= 16).all()
    np.testing.assert_allclose(table["sell_through"], table["units"] / 4)
    np.testing.assert_allclose(table["avg_price"], 2.5)
    np.testing.assert_allclose(table["revenue"], 2.5 * table["units"])


def test_expected_demand_market_gives_the_closed_form():
    # noise off, unlimited stock: profit = T·(p − c)·a·exp(−αp) exactly.
    market = {
        "demand": {"form": "exponential", "a": A, "alpha": ALPHA},
        "options": {**GRID, "horizon": 5, "cost": 0.5, "noise": False},
    }
    price = 2.0
    table = evaluate(FixedPrice(price=price), market, episodes=2, seed=0)
    expected = 5 * (price - 0.5) * A * math.exp(-ALPHA * price)
    np.testing.assert_allclose(table["profit"], expected, rtol=1e-12)
    np.testing.assert_allclose(table["units"], 5 * A * math.exp(-ALPHA * price), rtol=1e-12)
    assert table["sell_through"].isna().all()
    assert (table["lost_sales"] == 0).all() and (table["steps"] == 5).all()


def test_same_seed_same_table_and_paired_agents():
    market = {**MARKDOWN, "options": {**GRID, "horizon": 16, "inventory": 40}}
    one = evaluate(FixedPrice(price=2.5, name="a"), market, episodes=5, seed=11)
    two = evaluate(FixedPrice(price=2.5, name="a"), market, episodes=5, seed=11)
    pd.testing.assert_frame_equal(one, two)
    assert one["profit"].nunique() > 1  # demand is random: episodes differ
    # Another agent with the same policy, same market and seed: same demand draws.
    other = evaluate(FixedPrice(price=2.5, name="b"), market, episodes=5, seed=11)
    np.testing.assert_array_equal(other["profit"], one["profit"])
    different = evaluate(FixedPrice(price=2.5, name="a"), market, episodes=5, seed=12)
    assert not np.array_equal(different["profit"], one["profit"])


def test_dp_agent_reaches_its_expected_value():
    truth = ExponentialTruth(a=A, alpha=ALPHA)
    value = solve_dp(truth, MARKDOWN["options"]).expected_value
    table = evaluate(DPAgent(), MARKDOWN, episodes=400, seed=0)
    se = table["profit"].std(ddof=1) / math.sqrt(len(table))
    assert abs(table["profit"].mean() - value) < 4 * se
    assert value == pytest.approx(13.078, abs=5e-4)  # the documented example of solve_dp


def test_gymnasium_env_is_used_as_is():
    truth = ExponentialTruth(a=A, alpha=ALPHA)
    env = PricingEnv(truth, MARKDOWN["options"])
    by_env = evaluate(FixedPrice(price=2.5), env, episodes=3, seed=2, market_name="mine")
    by_spec = evaluate(FixedPrice(price=2.5), MARKDOWN, episodes=3, seed=2)
    assert set(by_env["market"]) == {"mine"}
    np.testing.assert_array_equal(by_env["profit"], by_spec["profit"])


def test_bundled_experiment_market_by_name():
    table = evaluate(Myopic(name="myopic"), "markdown", episodes=2, seed=0)
    assert set(table["market"]) == {"markdown"} and len(table) == 2


def test_rivals_inside_a_single_seller_market():
    market = {
        "data": {"synthetic": {"seed": 0, "n_periods": 40, "promotions": False}},
        "model": {"family": "loglinear"},
        "options": {"n_prices": 5, "horizon": 4},
    }
    from pricegym.agents.rules import Undercut

    table = evaluate(FixedPrice(price=9.0), market, 2, 0, rivals=[Undercut(step=0.5)])
    assert len(table) == 2 and (table["steps"] == 4).all()


def test_oligopoly_profit_gain_known_answers():
    nash = float(logit_nash_prices()[0])
    monopoly = float(logit_monopoly_prices()[0])
    market = {"oligopoly": {"prices": [1.3, nash, monopoly, 2.1], "horizon": 5}}
    at_nash = evaluate(FixedPrice(price=nash), market, 2, 0, rivals=[FixedPrice(price=nash)])
    assert tuple(at_nash.columns) == (*COLUMNS, "delta")
    np.testing.assert_allclose(at_nash["delta"], 0.0, atol=1e-12)
    profit = float(logit_profits(np.array([nash, nash]))[0])
    np.testing.assert_allclose(at_nash["profit"], 5 * profit, rtol=1e-12)
    at_monopoly = evaluate(
        FixedPrice(price=monopoly), market, 2, 0, rivals=[FixedPrice(price=monopoly)]
    )
    np.testing.assert_allclose(at_monopoly["delta"], 1.0, atol=1e-12)


def test_bad_inputs_raise_config_errors():
    with pytest.raises(ConfigError, match="episodes"):
        evaluate(FixedPrice(), MARKDOWN, episodes=0)
    with pytest.raises(ConfigError, match="seed"):
        evaluate(FixedPrice(), MARKDOWN, seed=-1)
    with pytest.raises(ConfigError, match=r"bundled experiment"):
        evaluate(FixedPrice(), "no-such-market")
    with pytest.raises(ConfigError, match="OpponentWrapper"):
        evaluate(FixedPrice(), OligopolyEnv())
    with pytest.raises(ConfigError, match="rivals"):
        evaluate(FixedPrice(), {"oligopoly": {"horizon": 3}})


def test_derive_seeds_depend_on_key_not_on_order():
    a = derive_seeds(0, ("env", "m", 1), 4)
    assert a == derive_seeds(0, ("env", "m", 1), 4)
    assert a[:2] == derive_seeds(0, ("env", "m", 1), 2)
    assert a != derive_seeds(0, ("env", "m", 2), 4)
    assert a != derive_seeds(1, ("env", "m", 1), 4)
    assert all(0 <= s < 2**32 for s in a) and len(set(a)) == 4


def test_example_script_prints_a_league_table(capsys):
    path = Path(__file__).parents[1] / "experiments" / "example_evaluate.py"
    module = runpy.run_path(str(path))
    league = module["main"](seeds=(0, 1), episodes=5)
    out = capsys.readouterr().out
    assert "dp_optimum" in out and "fixed_2.5" in out and "paired by seed" in out
    assert list(league["agent"]) == ["dp_optimum", "fixed_2.5"]
    assert league["n_seeds"].tolist() == [2, 2]


def test_registered_env_id_as_market():
    import gymnasium

    from pricegym.registration import register_envs

    register_envs()
    env = gymnasium.make("pricegym/Markdown-v0")
    base = env.unwrapped
    value = solve_dp(base.kernel, base.config).expected_value
    table = evaluate(DPAgent(), "pricegym/Markdown-v0", episodes=200, seed=1)
    assert set(table["market"]) == {"pricegym/Markdown-v0"}
    se = table["profit"].std(ddof=1) / math.sqrt(len(table))
    assert abs(table["profit"].mean() - value) < 4 * se


@pytest.mark.parametrize("action", ["discrete", "continuous"])
def test_batched_evaluation_equals_episode_by_episode(action):
    from pricegym.agents.sb3 import SB3Agent

    truth = ExponentialTruth(a=A, alpha=ALPHA)
    env = PricingEnv(truth, {**MARKDOWN["options"], "action": action})
    agent = SB3Agent("ppo", seed=0)
    agent.train(env, total_timesteps=2048)
    assert agent.batch_act
    one_by_one = evaluate(agent, env, episodes=12, seed=3, batch=False)
    batched = evaluate(agent, env, episodes=12, seed=3, batch=True)
    _assert_same_rows(batched, one_by_one)
    assert one_by_one["steps"].nunique() > 1  # stock-outs end some episodes early
    # batch=None picks the batched path: the same code, so the same bits
    pd.testing.assert_frame_equal(
        batched, evaluate(agent, env, episodes=12, seed=3), check_exact=True
    )


def _assert_same_rows(mine: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Discrete columns identical, float columns to the policy's float32 rounding.

    A torch policy's forward pass over a batch of 12 observations and over one row
    sums in another order (measured: float32 outputs differ in the last bits in 9 of
    12 rows on an AVX-512 CPU), so a continuous price may differ by ~1e-7 relative.
    """
    pd.testing.assert_frame_equal(mine, ref, check_exact=False, rtol=1e-6)
    discrete = [
        c for c in ref if ref[c].dtype.kind != "f" or np.array_equal(ref[c], np.rint(ref[c]))
    ]
    assert {"steps", "units", "seed"} <= set(discrete)
    pd.testing.assert_frame_equal(mine[discrete], ref[discrete], check_exact=True)


def test_batched_evaluation_is_refused_where_it_cannot_be_exact():
    truth = ExponentialTruth(a=A, alpha=ALPHA)
    env = PricingEnv(truth, MARKDOWN["options"])
    with pytest.raises(ConfigError, match="batch_act"):
        evaluate(FixedPrice(price=2.5), env, episodes=3, seed=0, batch=True)


# ====================================================== profit gain under shocks
#: Two regimes: a high-demand one (quality ×1.1) and a costly low-demand one.
SHOCKS = {"transition": [[0.8, 0.2], [0.4, 0.6]], "quality": [1.1, 0.9], "cost": [1.0, 1.2]}
QUALITY, COST = (1.1, 0.9), (1.0, 1.2)


def _regime_prices(kind: str) -> list[float]:
    """Each regime's symmetric Nash or joint-monopoly price, from the closed forms."""
    solve = logit_nash_prices if kind == "nash" else logit_monopoly_prices
    pairs = zip(QUALITY, COST, strict=True)
    return [float(solve((2.0 * q, 2.0 * q), 0.0, 0.25, c)[0]) for q, c in pairs]


class RegimePrice:
    """Test-only seller: the grid index of ``prices[r]`` in the regime r it observes."""

    def __init__(self, prices: list[float], grid: list[float], name: str) -> None:
        self.index = [grid.index(p) for p in prices]
        self.name = name

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: np.ndarray) -> int:
        return self.index[int(np.argmax(obs[-len(self.index) :]))]  # the one-hot regime


@pytest.mark.parametrize(("kind", "expected"), [("nash", 0.0), ("monopoly", 1.0)])
def test_profit_gain_under_shocks_uses_each_periods_regime(kind, expected):
    # Prices on the grid: every regime's Nash and joint-monopoly price, plus the base ones.
    grid = sorted({1.3, *_regime_prices("nash"), *_regime_prices("monopoly"), 1.4729, 1.925, 2.3})
    market = {"oligopoly": {"prices": grid, "horizon": 40, "shocks": SHOCKS}}
    play = [RegimePrice(_regime_prices(kind), grid, kind) for _ in range(2)]
    table = evaluate(play[0], market, 4, 0, rivals=[play[1]], bind=False)
    # Both regimes are visited, so the base market's benchmarks would not give 0 or 1.
    env = OligopolyEnv(prices=grid, horizon=40, shocks=SHOCKS)
    regimes = set()
    for s in derive_seeds(0, ("env",), 4):
        env.reset(seed=s)
        while env.agents:
            regimes.add(env.step({"seller_0": 0, "seller_1": 0})[4]["seller_0"]["regime"])
    assert regimes == {0, 1}
    np.testing.assert_allclose(table["delta"], expected, atol=1e-9)


def test_tit_for_tat_under_shocks_stays_below_the_monopoly_gain():
    from pricegym.agents.rules import TitForTat

    shocks = {**SHOCKS, "transition": [[0.95, 0.05], [0.3, 0.7]]}  # mostly high demand
    market = {"oligopoly": {"horizon": 200, "shocks": shocks}}
    table = evaluate(TitForTat(), market, 3, 0, rivals=[TitForTat()])
    # Oracle: both play the grid price nearest the base monopoly price every round, so
    # Δ = (Σ π_t − Σ π^N_r(t)) / (Σ π^M_r(t) − Σ π^N_r(t)) over the regimes r(t) visited.
    env = OligopolyEnv(horizon=200, shocks=shocks)
    coop = int(np.abs(env.grid - env.monopoly_prices[0]).argmin())
    nash, monopoly = _regime_prices("nash"), _regime_prices("monopoly")
    base = []
    for e, s in enumerate(derive_seeds(0, ("env",), 3)):
        env.reset(seed=s)
        sums = np.zeros(3)  # profit, Nash profit, monopoly profit
        while env.agents:
            info = env.step({"seller_0": coop, "seller_1": coop})[4]["seller_0"]
            r = info["regime"]
            a, c = 2.0 * QUALITY[r], COST[r]
            sums += [
                info["profit"],
                logit_profits(np.array([nash[r]] * 2), a, 0.0, 0.25, c)[0],
                logit_profits(np.array([monopoly[r]] * 2), a, 0.0, 0.25, c)[0],
            ]
        assert table["profit"][e] == pytest.approx(sums[0], rel=1e-12)
        gain = (sums[0] - sums[1]) / (sums[2] - sums[1])
        assert table["delta"][e] == pytest.approx(gain, rel=1e-9)
        assert 0.0 < gain < 1.0
        pn, pm = env.nash_profits[0], env.monopoly_profits[0]
        base.append((sums[0] / 200 - pn) / (pm - pn))
    # The base market's benchmarks overstated it: on average Δ above the monopoly value 1.
    assert np.mean(base) > 1.0 > table["delta"].mean()


def test_train_episodes_trains_an_online_learner_on_other_seeds_first():
    from pricegym.agents.bandits import UCB1

    agent = UCB1()
    table = evaluate(agent, "pricegym/Monopoly-v0", episodes=3, seed=0, train_episodes=4)
    assert agent.t_ == 4 * 52  # trained 4 seasons of 52 periods, frozen in evaluation
    assert int(np.argmax(agent.means_)) == 5  # price 6, the optimum of 100 - 10p at cost 2
    assert table["avg_price"].tolist() == [6.0] * 3 and table["profit"].gt(0).all()
    with pytest.raises(ConfigError, match=r"train_episodes=2: agent 'fixed_price' is not"):
        evaluate(FixedPrice(price=3.0), "pricegym/Monopoly-v0", episodes=1, train_episodes=2)
    with pytest.raises(ConfigError, match=r"train_episodes=-1 must be an integer >= 0"):
        evaluate(UCB1(), "pricegym/Monopoly-v0", episodes=1, train_episodes=-1)
