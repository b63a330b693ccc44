"""The shipped invariant checker: passes on random markets, catches broken ones."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricegym.demand import ConstantElasticity, ExponentialTruth, LinearTruth, NoiseModel
from pricegym.envs.checks import InvariantViolation, check_market_invariants
from pricegym.envs.market import MAX_STOCK_RATIO, PricingEnv, stock_denominator

TRUTHS = {
    "exponential": ExponentialTruth(a=50.0, alpha=0.5),
    "linear_negbin": LinearTruth(a=100.0, b=2.0, noise=NoiseModel("negbin", alpha=0.2)),
    "elasticity_lognormal": ConstantElasticity(
        a=500.0, elasticity=-2.0, support=(2.0, 20.0), noise=NoiseModel("lognormal", sigma=0.3)
    ),
}


@pytest.fixture(scope="module")
def kernels(fitted_models):
    out = dict(TRUTHS)
    for family in ("linear", "arimax", "neural"):
        out[family] = fitted_models[family].kernel()
    return out


@st.composite
def markets(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[Any]]:
    """(kernel name, market config, action sequence) — a random market and policy."""
    name = draw(
        st.sampled_from(
            ["exponential", "linear_negbin", "elasticity_lognormal"] * 2
            + ["linear", "arimax", "neural"]
        )
    )
    action = draw(st.sampled_from(["discrete", "continuous"]))
    config: dict[str, Any] = {
        "action": action,
        "horizon": draw(st.integers(1, 12)),
        "cost": draw(st.floats(0.0, 5.0)),
        "noise": draw(st.booleans()),
        "max_episode_steps": draw(st.none() | st.integers(1, 15)),
    }
    if action == "discrete":
        config["n_prices"] = draw(st.integers(2, 8))
    inventory = draw(st.none() | st.floats(0.0, 300.0))
    config["inventory"] = inventory
    if inventory is not None:
        config["holding_cost"] = draw(st.floats(0.0, 1.0))
        config["salvage_value"] = draw(st.floats(0.0, 2.0))
        if draw(st.booleans()):
            config["replenish_every"] = draw(st.integers(1, 4))
            config["replenish_to"] = draw(st.none() | st.floats(0.0, 400.0))
    if name in ("linear", "arimax", "neural") and draw(st.booleans()):
        config["competitor"] = {"kind": "random_walk", "sigma": draw(st.floats(0.0, 0.3))}
    if action == "discrete":
        acts = st.lists(st.integers(0, config["n_prices"] - 1), min_size=1, max_size=30)
    else:
        acts = st.lists(
            st.floats(-1.5, 1.5).map(lambda a: np.array([a], np.float32)), min_size=1, max_size=30
        )
    return name, config, draw(acts)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(market=markets(), seed=st.integers(0, 2**16))
def test_invariants_hold_on_random_markets_and_policies(kernels, market, seed):
    name, config, actions = market
    env = PricingEnv(kernels[name], config)
    policy = itertools.cycle(actions)
    n_steps = 3 * len(actions)
    totals = check_market_invariants(
        env, n_steps=n_steps, seed=seed, policy=lambda _o: next(policy)
    )
    assert totals["steps"] == n_steps
    assert 1 <= totals["episodes"] <= n_steps
    assert 0.0 <= totals["units_sold"] <= totals["units_demanded"] + 1e-9
    assert np.isfinite(totals["profit"])
    if config["inventory"] is not None and "replenish_every" not in config:
        # without restocking an episode never sells more than its initial stock
        assert totals["units_sold"] <= totals["episodes"] * config["inventory"] * (1 + 1e-12)
        assert totals["units_replenished"] == 0.0


def test_totals_match_an_independent_rollout():
    env = PricingEnv(TRUTHS["linear_negbin"], {"n_prices": 5, "horizon": 7})
    totals = check_market_invariants(env, n_steps=50, seed=3)
    env.action_space.seed(3)
    env.reset(seed=3)
    sold, profit, episodes = 0.0, 0.0, 1
    for step in range(50):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        sold += info["sales"]
        profit += reward
        if (terminated or truncated) and step < 49:
            env.reset()
            episodes += 1
    assert totals["units_sold"] == sold and totals["profit"] == pytest.approx(profit, rel=1e-12)
    assert totals["episodes"] == episodes == 8  # 50 steps of 7-period seasons
    assert sold > 0


def test_invariants_hold_through_gymnasium_make_and_time_limit():
    if "pricegym_test/Checks-v0" not in gym.registry:
        gym.register("pricegym_test/Checks-v0", entry_point=PricingEnv)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(
            "pricegym_test/Checks-v0",
            kernel=TRUTHS["exponential"],
            config={"horizon": 30, "inventory": 60.0, "replenish_every": 5, "replenish_to": 80.0},
            max_episode_steps=12,
        )
        totals = check_market_invariants(env, n_steps=100, seed=0)
    assert totals["episodes"] >= 100 / 12 and totals["units_replenished"] > 0


# ============================================================== broken markets
class _Tamper(gym.Wrapper):
    """Alters one quantity of every step where it is non-zero."""

    def __init__(self, env: gym.Env, how: str) -> None:
        super().__init__(env)
        self.how = how

    def step(self, action: Any) -> tuple:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        if self.how == "revenue":
            info["revenue"] *= 1.01
        elif self.how == "oversell":
            info["sales"] = info["demand"] + 1.0
        elif self.how == "leak":
            info["inventory"] -= 1.0
        elif self.how == "reward":
            reward += 1.0
        elif self.how == "cost":
            info["cost"] *= 0.5
        elif self.how == "observation":
            obs = obs.copy()
            obs[0] = 2.0
        elif self.how == "lost":
            info["lost_sales"] = info["demand"] + 1.0
        return obs, reward, terminated, truncated, info


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("revenue", r"revenue .* != price .* x sales"),
        ("oversell", r"sales .* exceed demand"),
        ("leak", r"inventory .* is not conserved"),
        ("reward", r"reward .* != profit"),
        ("cost", r"cost .* != unit cost"),
        ("observation", r"observation .* lies outside"),
        ("lost", r"lost sales .* != demand"),
    ],
)
def test_checker_catches_a_broken_market(how, message):
    truth = LinearTruth(a=100.0, b=2.0)  # demand 20..90 on the grid: never zero
    config = {"prices": [5.0, 20.0, 40.0], "horizon": 10, "inventory": 1e6, "cost": 2.0}
    env = _Tamper(PricingEnv(truth, config), how)
    with pytest.raises(InvariantViolation, match=message) as err:
        check_market_invariants(env, n_steps=20, seed=0)
    assert str(err.value).startswith("step 0:")
    # the same market untampered passes
    assert check_market_invariants(PricingEnv(truth, config), n_steps=20)["steps"] == 20


def test_checker_catches_selling_beyond_stock():
    class Oversupply(gym.Wrapper):
        def step(self, action: Any) -> tuple:
            obs, reward, terminated, truncated, info = self.env.step(action)
            info = dict(info)
            if info["lost_sales"] > 0:  # pretend the lost units were sold from thin air
                info["sales"] += info["lost_sales"]
                info["lost_sales"] = 0.0
                info["revenue"] = info["price"] * info["sales"]
                info["cost"] = 0.0
                info["profit"] = info["revenue"] - info["holding_cost"] + info["salvage"]
                reward = info["profit"]
            return obs, reward, terminated, truncated, info

    env = Oversupply(
        PricingEnv(LinearTruth(a=100.0, b=2.0), {"prices": [5.0, 20.0], "inventory": 150.0})
    )
    with pytest.raises(InvariantViolation, match=r"exceed the inventory on hand"):
        check_market_invariants(env, n_steps=20, seed=0, policy=lambda _o: 0)


@pytest.mark.parametrize("initial", [0.0, 2.397009895414369e-262, 0.5e-6, 2e-6, 3.0])
def test_a_tiny_initial_stock_restocked_observes_a_finite_fraction(initial):
    """Found by the random-market test above: 2.4e-262 units restocked to 1 observed
    stock / initial = 4e261, inf in float32. Below replenish_to / MAX_STOCK_RATIO the
    fraction is relative to replenish_to; single and batched markets agree."""
    from pricegym.envs.vector import MarketVectorEnv

    config = {"horizon": 4, "n_prices": 3, "inventory": initial, "replenish_every": 1}
    config |= {"replenish_to": 1.0, "noise": False}
    expected = initial if initial * MAX_STOCK_RATIO >= 1.0 else 1.0
    assert stock_denominator(initial, 1.0) == expected
    env = PricingEnv(TRUTHS["exponential"], config)
    totals = check_market_invariants(env, n_steps=8, seed=0, policy=lambda _o: 0)
    assert totals["steps"] == 8
    assert env.observation_space.high[1] == max(1.0, 1.0 / expected)
    vec = MarketVectorEnv(TRUTHS["exponential"], config, num_envs=2)
    obs, _ = vec.reset(seed=0)
    single, _ = env.reset(seed=0)
    assert np.all(np.isfinite(obs))
    assert obs[0, 1] == pytest.approx(single[1], rel=1e-6)
