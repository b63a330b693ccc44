"""solve_dp, evaluate_policy, the Gallego–van Ryzin benchmark and DPAgent.

What is asserted, with tolerances:

- the recursion equals a hand computation (1 period, to 1e-12) and an independent
  scalar brute-force recursion (2–4 periods with holding cost, salvage, cost and
  replenishment, Poisson and negative binomial, to 1e-10);
- the DP value equals the Monte Carlo mean return of its own policy in
  PricingEnv within the 99% confidence interval (4,000 episodes), also for a
  seasonal regression kernel with a replayed competitor path; the exact value of
  a fixed price equals its Monte Carlo mean the same way;
- the DP value is >= every fixed price's and the myopic policy's exact expected
  profit, in every (period, stock) state;
- unlimited stock gives the myopic price every period;
- the discretised DP approaches the closed-form Gallego–van Ryzin value J*
  from below, gaps falling monotonically to < 0.1% at Δ = t/256, halving with Δ;
- unsupported kernels and configurations raise errors naming the fix;
- DPAgent: save → load gives identical actions on every (period, stock) state;
  same seed → identical Monte Carlo results;
- the markdown market recommended for the SB3 learning test has a best fixed
  price earning <= 96% of the DP optimum.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest
from scipy import stats

import pricegym.agents.dp as dp_module
from pricegym.agents.base import PricingAgent, make_agent
from pricegym.agents.dp import (
    DPAgent,
    DPSolution,
    discretised_gallego_van_ryzin,
    evaluate_policy,
    fixed_price_values,
    gallego_van_ryzin,
    solve_dp,
)
from pricegym.demand import (
    ArimaxKernel,
    DemandKernel,
    ExponentialTruth,
    FeatureSpec,
    LogitTruth,
    NoiseModel,
    RegressionKernel,
)
from pricegym.envs.config import CompetitorConfig, MarketConfig
from pricegym.envs.market import PricingEnv
from pricegym.errors import ConfigError, ModelError

#: Two-sided 99% normal quantile.
Z99 = stats.norm.ppf(0.995)

#: A small market with cost, holding cost and salvage value (prices 2, 4, ..., 12).
SMALL = {
    "n_prices": 6,
    "p_min": 2.0,
    "p_max": 12.0,
    "horizon": 6,
    "inventory": 12,
    "cost": 1.0,
    "holding_cost": 0.2,
    "salvage_value": 0.5,
}

#: The markdown market recommended for issue 4's SB3 learning test: exponential
#: demand, 10 prices on [0.5, 5], 16 periods, 4 units; no cost, no salvage.
MARKDOWN_TRUTH = {"a": 10.0, "alpha": 1.0}
MARKDOWN = {"n_prices": 10, "p_min": 0.5, "p_max": 5.0, "horizon": 16, "inventory": 4}


def _monte_carlo(env: PricingEnv, agent: PricingAgent, episodes: int, seed: int) -> np.ndarray:
    """Episode returns of ``agent`` in ``env``, episode e seeded with ``seed + e``."""
    agent.reset(seed)
    out = np.empty(episodes)
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
            total += reward
            done = terminated or truncated
        out[e] = total
    return out


def _assert_in_ci(returns: np.ndarray, value: float) -> None:
    se = returns.std(ddof=1) / math.sqrt(returns.size)
    z = (returns.mean() - value) / se
    assert abs(z) <= Z99, f"MC mean {returns.mean():.4f} vs exact {value:.4f}: z = {z:.2f}"


class _FixedAction(PricingAgent):
    """Always the same grid index (test helper; not registered)."""

    def __init__(self, index: int) -> None:
        self.index = index

    def act(self, observation: np.ndarray) -> int:
        return self.index


# ============================================================================ exactness


def test_one_period_by_hand() -> None:
    """T = 1, stock 2: V = max_p (p − c)E[S] − h·E[2 − S] + v·E[2 − S], S = min(D, 2)."""
    truth = ExponentialTruth(3.0, 0.5, support=(1.0, 5.0))
    cfg = {"prices": (2.0, 4.0), "horizon": 1, "inventory": 2, "cost": 1.0}
    cfg |= {"holding_cost": 0.3, "salvage_value": 0.5}
    sol = solve_dp(truth, cfg)
    expected = []
    for p in (2.0, 4.0):
        mu = 3.0 * math.exp(-0.5 * p)
        e_sales = (1 - math.exp(-mu)) + (1 - math.exp(-mu) * (1 + mu))  # P(D>=1) + P(D>=2)
        expected.append((p - 1.0) * e_sales + (0.5 - 0.3) * (2 - e_sales))
    assert sol.expected_value == pytest.approx(max(expected), abs=1e-12)
    assert sol.action[0, 2] == int(np.argmax(expected))
    # with 1 unit: E[S] = P(D >= 1)
    sells = [1 - math.exp(-3.0 * math.exp(-0.5 * p)) for p in (2.0, 4.0)]
    one = [(p - 1.0) * s + (0.5 - 0.3) * (1 - s) for p, s in zip((2.0, 4.0), sells, strict=True)]
    assert sol.value[0, 1] == pytest.approx(max(one), abs=1e-12)
    assert sol.value.shape == (2, 3) and np.all(sol.value[1] == 0.0)
    assert sol.value[0, 0] == pytest.approx(0.0, abs=1e-15)


def _brute_force(truth: ExponentialTruth, cfg: dict[str, Any]) -> float:
    """Scalar recursion over (period, stock, demand count), independent of the vectorised one."""
    grid = np.linspace(cfg["p_min"], cfg["p_max"], cfg["n_prices"])
    horizon, x0 = cfg["horizon"], cfg["inventory"]
    c, h, v = cfg.get("cost", 0.0), cfg.get("holding_cost", 0.0), cfg.get("salvage_value", 0.0)
    every, to = cfg.get("replenish_every"), cfg.get("replenish_to", x0)
    noise = truth.noise

    def pmf(d: int, mu: float) -> float:
        if noise.kind == "negbin" and noise.alpha > 0:
            r = 1.0 / noise.alpha
            return float(stats.nbinom.pmf(d, r, r / (r + mu)))
        return math.exp(-mu) * mu**d / math.factorial(d)

    @cache
    def value(k: int, x: int) -> float:
        if k == horizon:
            return 0.0
        last = k == horizon - 1
        best = -math.inf
        for p in grid:
            mu = float(truth.demand(p))
            total, mass = 0.0, 0.0
            for d in range(x + 1):
                prob = pmf(d, mu) if d < x else 1.0 - mass  # D >= x sells out
                mass += prob if d < x else 0.0
                left = x - d
                r = (p - c) * d - h * left + (v * left if last else 0.0)
                nxt = max(left, to) if every and not last and (k + 1) % every == 0 else left
                total += prob * (r + value(k + 1, nxt))
            best = max(best, total)
        return best

    return value(0, x0)


@pytest.mark.parametrize(
    ("noise", "extra"),
    [
        (NoiseModel("poisson"), {}),
        (NoiseModel("negbin", alpha=0.4), {}),
        (NoiseModel("poisson"), {"replenish_every": 2, "replenish_to": 5}),
        (NoiseModel("negbin", alpha=0.2), {"replenish_every": 1}),
    ],
)
def test_matches_brute_force_recursion(noise: NoiseModel, extra: dict[str, Any]) -> None:
    truth = ExponentialTruth(4.0, 0.3, noise=noise)
    cfg = {"n_prices": 4, "p_min": 1.0, "p_max": 8.0, "horizon": 4, "inventory": 4}
    cfg |= {"cost": 0.5, "holding_cost": 0.25, "salvage_value": 0.4, **extra}
    sol = solve_dp(truth, cfg)
    assert sol.expected_value == pytest.approx(_brute_force(truth, cfg), rel=1e-10)
    assert sol.value.shape == (5, max(4, extra.get("replenish_to", 4)) + 1)


@pytest.mark.parametrize("noise", [NoiseModel("poisson"), NoiseModel("negbin", alpha=2.0)])
def test_fft_continuation_equals_direct(noise: NoiseModel, monkeypatch: Any) -> None:
    """Large tables convolve by FFT: same values (1e-9 relative) and the same policy."""
    truth = ExponentialTruth(60.0, 0.25, noise=noise)
    cfg = {"n_prices": 12, "p_min": 1.0, "p_max": 20.0, "horizon": 8, "inventory": 150}
    direct = solve_dp(truth, cfg)
    monkeypatch.setattr(dp_module, "_DIRECT_LIMIT", 0)
    fft = solve_dp(truth, cfg)
    np.testing.assert_allclose(fft.value, direct.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(fft.action, direct.action)


@pytest.mark.parametrize("noise", [NoiseModel("poisson"), NoiseModel("negbin", alpha=0.3)])
def test_value_equals_monte_carlo_mean(noise: NoiseModel) -> None:
    truth = ExponentialTruth(6.0, 0.25, noise=noise)
    sol = solve_dp(truth, SMALL)
    env = PricingEnv(truth, SMALL)
    returns = _monte_carlo(env, DPAgent(sol).bind(env), 4000, seed=0)
    _assert_in_ci(returns, sol.expected_value)


def _seasonal_kernel() -> RegressionKernel:
    """log-link regression: intercept, price, competitor price, one seasonal harmonic (period 4)."""
    spec = FeatureSpec(competitors=("rival",), fourier=1, season_period=4.0)
    return RegressionKernel(
        spec,
        coef=np.array([1.6, -0.25, 0.08, 0.5, -0.3]),
        link="log",
        noise=NoiseModel("poisson"),
        support=(2.0, 10.0),
        reference={"t": 3.0, "competitors": [6.0], "promotions": []},
    )


def test_seasonal_kernel_with_replayed_competitors() -> None:
    """Per-period demand follows calendar t = start_t + k and the competitor path."""
    kern = _seasonal_kernel()
    path = ((5.0,), (8.0,), (6.0,))
    cfg = MarketConfig(
        n_prices=5,
        horizon=7,
        inventory=10,
        cost=1.0,
        competitor=CompetitorConfig("replay", path=path),
    )
    sol = solve_dp(kern, cfg)
    grid = sol.prices
    for k in range(7):
        t, comp = 3.0 + k, path[k % 3][0]
        eta = 1.6 - 0.25 * grid + 0.08 * comp
        eta += 0.5 * np.sin(2 * np.pi * t / 4) - 0.3 * np.cos(2 * np.pi * t / 4)
        np.testing.assert_allclose(sol.expected_demand[k], np.exp(eta), rtol=1e-12)
    env = PricingEnv(kern, cfg)
    returns = _monte_carlo(env, DPAgent().bind(env), 4000, seed=7)
    _assert_in_ci(returns, sol.expected_value)


def test_fixed_price_value_equals_monte_carlo_mean() -> None:
    truth = ExponentialTruth(6.0, 0.25)
    exact = fixed_price_values(truth, SMALL)
    env = PricingEnv(truth, SMALL)
    returns = _monte_carlo(env, _FixedAction(3).bind(env), 3000, seed=1)
    _assert_in_ci(returns, exact[3])


class _WeekCounter(DemandKernel):
    """Demand rising 10% a week, with the week count carried as (demand-free) state."""

    def __init__(self) -> None:
        super().__init__(
            FeatureSpec(),
            NoiseModel("poisson"),
            (1.0, 10.0),
            {"t": 0.0, "competitors": [], "promotions": []},
        )

    def initial_state(self, batch_size: int) -> dict[str, np.ndarray]:
        return {"week": np.zeros(batch_size)}

    def expected(self, prices: np.ndarray, context: Any, state: Any = None) -> np.ndarray:
        week = self.initial_state(len(prices))["week"] if state is None else state["week"]
        return 5.0 * np.exp(-0.3 * self._own_price(prices)) * (1.0 + 0.1 * week)

    def update(self, state: Any, prices: Any, context: Any, units: Any) -> dict[str, np.ndarray]:
        return {"week": state["week"] + 1.0}


def test_state_that_ignores_demand_is_followed() -> None:
    sol = solve_dp(_WeekCounter(), {"n_prices": 4, "horizon": 5, "inventory": 6})
    base = 5.0 * np.exp(-0.3 * sol.prices)
    for k in range(5):
        np.testing.assert_allclose(sol.expected_demand[k], base * (1 + 0.1 * k), rtol=1e-12)


# ============================================================================ optimality


@pytest.mark.parametrize("noise", [NoiseModel("poisson"), NoiseModel("negbin", alpha=0.5)])
def test_dp_beats_fixed_prices_and_myopic_everywhere(noise: NoiseModel) -> None:
    truth = ExponentialTruth(6.0, 0.25, noise=noise)
    sol = solve_dp(truth, SMALL)
    # evaluating the optimal table reproduces the optimal values exactly
    same = evaluate_policy(truth, SMALL, sol.action)
    np.testing.assert_allclose(same.value, sol.value, rtol=0, atol=1e-12)
    assert not same.optimal and sol.optimal
    fixed = fixed_price_values(truth, SMALL)
    assert fixed.shape == (6,) and np.all(fixed <= sol.expected_value + 1e-12)
    for i in range(6):  # dominance holds state by state, not only at the start
        assert np.all(evaluate_policy(truth, SMALL, i).value <= sol.value + 1e-12)
    myopic = np.argmax((sol.prices - SMALL["cost"]) * sol.expected_demand, axis=1)
    assert evaluate_policy(truth, SMALL, myopic).expected_value <= sol.expected_value + 1e-12
    rng = np.random.default_rng(3)
    random_table = rng.integers(0, 6, size=sol.action.shape)
    assert np.all(evaluate_policy(truth, SMALL, random_table).value <= sol.value + 1e-12)
    # scarcity raises prices: at the start, the optimal price falls as stock grows
    assert np.all(np.diff(sol.price[0, 1:]) <= 0)


def test_unlimited_stock_gives_myopic_price() -> None:
    truth = ExponentialTruth(20.0, 0.5)  # myopic optimum c + 1/alpha = 3
    cfg = {"prices": (1.0, 2.0, 3.0, 4.0, 5.0), "horizon": 5, "inventory": None, "cost": 1.0}
    sol = solve_dp(truth, cfg)
    assert sol.inventory is None and sol.value.shape == (6, 1)
    assert np.all(sol.price == truth.optimal_price(1.0))
    per_period = 2.0 * truth.demand(3.0)
    assert sol.expected_value == pytest.approx(5 * per_period, rel=1e-12)
    np.testing.assert_allclose(sol.value[:, 0], per_period * np.arange(5, -1, -1), rtol=1e-12)
    # ample finite stock gives the same first price
    ample = solve_dp(truth, {**cfg, "inventory": 200})
    assert ample.price[0, 200] == 3.0


def test_markdown_market_for_learning_test() -> None:
    """The recommended SB3 market: the best fixed price earns <= 96% of the DP optimum."""
    truth = ExponentialTruth(**MARKDOWN_TRUTH)
    sol = solve_dp(truth, MARKDOWN)
    fixed = fixed_price_values(truth, MARKDOWN)
    # 13.0782 / 12.3077: also what tests/test_registry.py's independent backward induction
    # (_markdown_dp, scipy's Poisson pmf) gives on this market (13.078218 / 12.307699);
    # solve_dp's docstring example quotes them to 3 decimals
    assert sol.expected_value == pytest.approx(13.0782, abs=1e-3)
    assert fixed.max() / sol.expected_value <= 0.96
    assert fixed.max() == pytest.approx(12.3077, abs=1e-3)


# ============================================================================ Gallego–van Ryzin


def test_gallego_van_ryzin_closed_form() -> None:
    a, alpha, t = 30.0, 0.5, 2.0
    lam = a / math.e
    one = gallego_van_ryzin(a, alpha, 1, t)
    assert one.value == pytest.approx(math.log1p(lam * t) / alpha, rel=1e-14)
    assert one.lambda_star == pytest.approx(lam)
    # HJB (eq. 8): dJ/dt = (λ*/α)·exp(−α(J(x) − J(x−1))), checked by central differences
    for x in (1, 3, 8):
        h = 1e-5
        dj = (
            gallego_van_ryzin(a, alpha, x, t + h).value
            - gallego_van_ryzin(a, alpha, x, t - h).value
        ) / (2 * h)
        g, g1 = gallego_van_ryzin(a, alpha, x, t), gallego_van_ryzin(a, alpha, x - 1, t)
        assert dj == pytest.approx(lam / alpha * math.exp(-alpha * (g.value - g1.value)), rel=1e-7)
        assert g.price == pytest.approx(g.value - g1.value + 1 / alpha, rel=1e-14)
        assert g.value <= g.fluid_bound
    assert gallego_van_ryzin(a, alpha, 0, t).value == 0.0
    assert gallego_van_ryzin(a, alpha, 5, 0.0).value == 0.0
    # fluid bound: ample stock → λ*t/α at price 1/α; scarce → (x/α)·log(a t/x)
    assert gallego_van_ryzin(a, alpha, 100, t).fluid_bound == pytest.approx(lam * t / alpha)
    scarce = gallego_van_ryzin(a, alpha, 5, t)
    assert scarce.fluid_bound == pytest.approx(5 / alpha * math.log(a * t / 5))
    # with ample stock the stochastic optimum approaches the fluid bound
    big = gallego_van_ryzin(a, alpha, 200, t)
    assert big.value == pytest.approx(big.fluid_bound, rel=1e-12)


def test_discretised_dp_converges_to_gallego_van_ryzin() -> None:
    """λ* t = 20 ≫ x = 5 (scarce stock): the gap J* − V_Δ falls monotonically, about halving."""
    a, alpha, x, t = 20.0 * math.e, 1.0, 5, 1.0
    exact = gallego_van_ryzin(a, alpha, x, t).value
    steps = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    gaps = np.array(
        [
            (exact - discretised_gallego_van_ryzin(a, alpha, x, t, n).expected_value) / exact
            for n in steps
        ]
    )
    assert np.all(gaps > 0), "a price held over each period cannot beat continuous pricing"
    assert np.all(np.diff(gaps) < 0), f"gaps not decreasing: {gaps}"
    assert gaps[0] > 0.05 and gaps[-1] < 1e-3  # 5.3% at Δ = t, 0.033% at Δ = t/256
    ratios = gaps[3:-1] / gaps[4:]  # first order in Δ: halving Δ halves the gap
    assert np.all((ratios > 1.85) & (ratios < 2.15)), ratios
    # α only rescales prices: J and the discretised value scale as 1/α
    half = discretised_gallego_van_ryzin(a, 0.5, x, t, 32).expected_value
    one = discretised_gallego_van_ryzin(a, 1.0, x, t, 32).expected_value
    assert half == pytest.approx(2.0 * one, rel=1e-9)


# ============================================================================ errors


def _arimax_kernel() -> ArimaxKernel:
    return ArimaxKernel(
        FeatureSpec(),
        coef=np.array([1.0, -0.1]),
        transition=np.array([[0.5]]),
        design=np.array([1.0]),
        gain=np.array([0.5]),
        state=np.array([0.1]),
        target="log",
        smear=1.0,
        log_floor=0.5,
        noise=NoiseModel("poisson"),
        support=(1.0, 10.0),
        reference={"t": 0.0, "competitors": [], "promotions": []},
    )


class _Lagged(_WeekCounter):
    """Demand that depends on last period's units (like a neural model with lags)."""

    def initial_state(self, batch_size: int) -> dict[str, np.ndarray]:
        return {"week": np.zeros(batch_size), "lag": np.ones(batch_size)}

    def update(self, state: Any, prices: Any, context: Any, units: Any) -> dict[str, np.ndarray]:
        return {"week": state["week"], "lag": np.asarray(units, dtype=np.float64)}


@pytest.mark.parametrize(
    ("kernel", "config", "error", "words"),
    [
        (_arimax_kernel(), {"inventory": 5}, ModelError, "regression"),
        (_Lagged(), {"inventory": 5}, ModelError, "past demand"),
        (LogitTruth(), {"inventory": 5}, ModelError, "n_sellers=2"),
        (
            ExponentialTruth(5, 0.5, noise=NoiseModel("lognormal", sigma=0.3)),
            {"inventory": 5},
            ModelError,
            "poisson",
        ),
        (
            ExponentialTruth(5, 0.5),
            {"action": "continuous", "inventory": 5},
            ConfigError,
            "n_prices",
        ),
        (ExponentialTruth(5, 0.5), {"inventory": 5.5}, ConfigError, "whole units"),
        (ExponentialTruth(5, 0.5), {"inventory": 5, "noise": False}, ConfigError, "noise=True"),
        (
            ExponentialTruth(5, 0.5),
            {"inventory": 100_000, "horizon": 100},
            ConfigError,
            "max_cells=5,000,000",
        ),
        (
            _seasonal_kernel(),
            {"inventory": 5, "competitor": {"kind": "random_walk"}},
            ConfigError,
            "fixed",
        ),
        ("not a kernel", {"inventory": 5}, ModelError, "kernel"),
    ],
)
def test_unsupported_inputs_raise(kernel: Any, config: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        solve_dp(kernel, config)


def test_bad_policies_and_benchmark_inputs_raise() -> None:
    truth = ExponentialTruth(5, 0.5)
    cfg = {"n_prices": 3, "horizon": 4, "inventory": 3}
    with pytest.raises(ConfigError, match="shape"):
        evaluate_policy(truth, cfg, np.zeros((2, 2), dtype=int))
    with pytest.raises(ConfigError, match="grid indices"):
        evaluate_policy(truth, cfg, 3)
    with pytest.raises(ConfigError, match="alpha"):
        gallego_van_ryzin(10.0, -1.0, 3, 1.0)
    with pytest.raises(ConfigError, match="whole number"):
        gallego_van_ryzin(10.0, 1.0, 2.5, 1.0)
    with pytest.raises(ConfigError, match="n_periods"):
        discretised_gallego_van_ryzin(10.0, 1.0, 2, 1.0, 0)


# ============================================================================ agent


def _all_observations(env: PricingEnv, sol: DPSolution) -> list[np.ndarray]:
    """An observation for every (period, stock) state, as the env scales them."""
    obs0, _ = env.reset(seed=0)
    out = []
    for k in range(sol.horizon):
        for x in range(sol.max_inventory + 1):
            obs = obs0.copy()
            obs[0] = np.float32((sol.horizon - k) / sol.horizon)
            obs[1] = np.float32(x / sol.inventory_scale)
            out.append(obs)
    return out


def test_agent_plays_the_table_and_save_load_is_identical(tmp_path: Any) -> None:
    truth = ExponentialTruth(6.0, 0.25)
    env = PricingEnv(truth, SMALL)
    agent = make_agent("dp").bind(env)
    assert isinstance(agent, DPAgent) and agent.params == {} and agent.name == "dp"
    sol = agent.solution_
    assert sol is not None and sol.expected_value == solve_dp(truth, SMALL).expected_value
    observations = _all_observations(env, sol)
    actions = [agent.act(o) for o in observations]
    assert actions == [int(a) for a in sol.action.reshape(-1)]
    assert actions == [agent.act(o) for o in observations]  # deterministic
    path = agent.save(tmp_path / "dp")
    assert path.suffix == ".json" and path.with_suffix(".npz").is_file()
    loaded = PricingAgent.load(path).bind(env)
    assert isinstance(loaded, DPAgent)
    assert [loaded.act(o) for o in observations] == actions
    np.testing.assert_array_equal(loaded.solution_.value, sol.value)


def test_agent_errors() -> None:
    truth = ExponentialTruth(6.0, 0.25)
    env = PricingEnv(truth, SMALL)
    with pytest.raises(ConfigError, match="bind"):
        DPAgent().act(np.zeros(4, np.float32))
    other = solve_dp(truth, {**SMALL, "n_prices": 5})
    with pytest.raises(ConfigError, match="price grid"):
        DPAgent(other).bind(env)
    shorter = solve_dp(truth, {**SMALL, "horizon": 4})
    with pytest.raises(ConfigError, match="horizon"):
        DPAgent(shorter).bind(env)


def test_same_seed_same_monte_carlo() -> None:
    truth = ExponentialTruth(6.0, 0.25, noise=NoiseModel("negbin", alpha=0.3))
    env = PricingEnv(truth, SMALL)
    agent = DPAgent().bind(env)
    a = _monte_carlo(env, agent, 200, seed=11)
    b = _monte_carlo(PricingEnv(truth, SMALL), DPAgent().bind(env), 200, seed=11)
    c = _monte_carlo(env, agent, 200, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "config",
    [
        SMALL,
        {**SMALL, "holding_cost": 0.05, "salvage_value": 0.3},
        {**SMALL, "inventory": 3, "replenish_every": 2, "replenish_to": 3},
        {**SMALL, "inventory": None},
        {"n_prices": 5, "p_min": 0.5, "p_max": 4.0, "horizon": 6, "inventory": 400},  # FFT
    ],
    ids=["plain", "holding_salvage", "replenishment", "unlimited", "large_stock"],
)
def test_fixed_price_values_equal_one_policy_evaluation_per_price(config) -> None:
    # All prices are evaluated in one recursion; each must equal its own evaluation.
    truth = ExponentialTruth(60.0 if config.get("inventory") == 400 else 6.0, 0.25)
    fixed = fixed_price_values(truth, config)
    n = fixed.shape[0]
    each = [evaluate_policy(truth, config, i).expected_value for i in range(n)]
    np.testing.assert_allclose(fixed, each, rtol=1e-12, atol=1e-12)
