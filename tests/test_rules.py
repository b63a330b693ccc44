"""Rule-based sellers: each rule's price on hand-made observations equals its rule.

Single-seller observations are built by hand on a small test double of a market
(:class:`FakeMarket`: the attributes ``PricingEnv`` exposes, nothing else); the
oligopoly ones come from the real ``OligopolyEnv``. Integration tests run rules
as rivals inside a real ``PricingEnv`` and as sellers of the oligopoly.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from gymnasium import spaces

from pricegym.agents.base import PricingAgent
from pricegym.agents.rules import (
    CostPlus,
    FixedPrice,
    FollowLeader,
    GrimTrigger,
    InventoryBalancing,
    MarkdownSchedule,
    MatchLowest,
    Myopic,
    RandomPrice,
    TitForTat,
    Undercut,
)
from pricegym.demand.features import FeatureSpec
from pricegym.demand.kernels import RegressionKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.parametric import ExponentialTruth
from pricegym.envs.equilibrium_solvers import logit_profits
from pricegym.envs.oligopoly import OligopolyEnv, OpponentWrapper
from pricegym.errors import ConfigError, PricegymWarning

NAMES_1 = (
    "time_remaining",
    "inventory_fraction",
    "own_last_price",
    "competitor_price:rival",
    "last_sales",
)
NAMES_2 = (
    "time_remaining",
    "inventory_fraction",
    "own_last_price",
    "competitor_price:rival",
    "competitor_price:other",
    "last_sales",
)


class FakeMarket:
    """A test double with the attributes agents read from a single-seller market."""

    def __init__(
        self,
        prices=None,
        p_range=None,
        names=NAMES_1,
        cost=0.0,
        inventory=None,
        horizon=10,
        kernel=None,
    ):
        if prices is not None:
            self.prices = np.asarray(prices, dtype=np.float64)
            self.action_space = spaces.Discrete(self.prices.size)
            self.p_min, self.p_max = float(self.prices[0]), float(self.prices[-1])
        else:
            self.p_min, self.p_max = p_range
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.observation_names = tuple(names)
        self.config = SimpleNamespace(cost=cost, inventory=inventory, replenish_to=None)
        self.horizon = horizon
        self.start_t = 0.0
        self.sales_scale = 1.0
        self.kernel = kernel

    @property
    def unwrapped(self):
        return self

    def obs(self, **entries):
        """An observation; price entries are given in money units."""
        out = np.zeros(len(self.observation_names), dtype=np.float32)
        out[0] = 1.0
        out[1] = 1.0
        for name, value in entries.items():
            key = {"own": "own_last_price", "time": "time_remaining", "stock": "inventory_fraction"}
            key = key.get(name, name)
            if name in ("rival", "other"):
                key = f"competitor_price:{name}"
            i = self.observation_names.index(key)
            price_like = key == "own_last_price" or key.startswith("competitor_price:")
            out[i] = value / self.p_max if price_like else value
        return out


def price_of(agent: PricingAgent, action) -> float:
    return float(agent.codec.to_price(action).reshape(-1)[0])


def linear_kernel(competitors=("rival",), coef=(30.0, -4.0, 2.0)) -> RegressionKernel:
    """units = 30 − 4·p + 2·rival (Poisson noise), prices in [2, 6]."""
    spec = FeatureSpec(competitors=tuple(competitors))
    ref = {"t": 0.0, "competitors": [4.0] * len(competitors), "promotions": []}
    return RegressionKernel(spec, np.asarray(coef), "identity", NoiseModel("poisson"), (2, 6), ref)


GRID = np.linspace(2.0, 6.0, 9)  # step 0.5


# ==================================================================== simple rules
def test_fixed_price_on_grid_and_range():
    with pytest.warns(PricegymWarning, match=r"price=4\.2 is not on .*plays 4\.0 instead"):
        agent = FixedPrice(4.2).bind(FakeMarket(prices=GRID))
    agent.reset(0)
    assert agent.act(np.zeros(5, np.float32)) == 4  # nearest grid price 4.0
    cont = FixedPrice(4.2).bind(FakeMarket(p_range=(2.0, 6.0)))
    action = cont.act(np.zeros(5, np.float32))
    assert action.shape == (1,) and action.dtype == np.float32
    assert price_of(cont, action) == pytest.approx(4.2, abs=1e-6)
    with pytest.warns(PricegymWarning, match=r"price=9\.0 is outside .*plays 6\.0 instead"):
        high = FixedPrice(9.0).bind(FakeMarket(p_range=(2.0, 6.0)))
    assert price_of(high, high.act(np.zeros(5))) == pytest.approx(6.0)  # clipped to the range


def test_fixed_price_warns_only_when_the_played_price_differs():
    """Asked 1.0 on a fitted grid whose nearest price is 0.9504: the warning names both;
    a price on the grid (up to float noise) or inside a range binds silently."""
    grid = np.array([0.6, 0.7752, 0.9504, 1.1256, 1.3008])
    with pytest.warns(PricegymWarning, match=r"price=1\.0 .*plays 0\.9504 instead") as caught:
        FixedPrice(1.0).bind(FakeMarket(prices=grid))
    assert len(caught) == 1
    assert "grid prices 0.6 .. 1.3008" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FixedPrice(4.5).bind(FakeMarket(prices=GRID))
        FixedPrice(4.5 * (1 + 1e-9)).bind(FakeMarket(prices=GRID))
        FixedPrice(2.0).bind(FakeMarket(p_range=(2.0, 6.0)))


def test_cost_plus_uses_market_cost_unless_given():
    env = FakeMarket(p_range=(1.0, 10.0), cost=2.0)
    agent = CostPlus(markup=0.5).bind(env)
    assert price_of(agent, agent.act(env.obs())) == pytest.approx(3.0, abs=1e-6)
    own = CostPlus(markup=0.25, unit_cost=4.0).bind(env)
    assert price_of(own, own.act(env.obs())) == pytest.approx(5.0, abs=1e-6)
    with pytest.raises(ConfigError, match="markup"):
        CostPlus(markup=-0.1)


def test_random_price_is_uniform_on_allowed_grid_prices_and_seeded():
    env = FakeMarket(prices=GRID)
    agent = RandomPrice(low=3.0, high=4.5).bind(env)
    agent.reset(7)
    draws = np.array([agent.act(env.obs()) for _ in range(4000)])
    agent.reset(7)
    again = np.array([agent.act(env.obs()) for _ in range(4000)])
    assert np.array_equal(draws, again)
    allowed = [2, 3, 4, 5]  # 3.0, 3.5, 4.0, 4.5
    assert set(np.unique(draws)) == set(allowed)
    counts = np.bincount(draws, minlength=GRID.size)[allowed]
    sd = np.sqrt(4000 * 0.25 * 0.75)
    assert np.all(np.abs(counts - 1000) < 5 * sd)
    cont = RandomPrice().bind(FakeMarket(p_range=(2.0, 6.0)))
    cont.reset(1)
    prices = [price_of(cont, cont.act(env.obs())) for _ in range(500)]
    assert 2.0 <= min(prices) and max(prices) <= 6.0 and np.std(prices) > 0.9  # U(2,6): sd 1.15


# ==================================================================== myopic
def test_myopic_grid_equals_independent_argmax_exponential():
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    grid = np.linspace(0.5, 8.0, 16)
    env = FakeMarket(prices=grid, names=NAMES_1[:3] + NAMES_1[4:], cost=1.0, kernel=truth)
    agent = Myopic().bind(env)
    expected = int(np.argmax((grid - 1.0) * 50.0 * np.exp(-0.5 * grid)))
    assert agent.act(env.obs()) == expected
    # A different demand model and cost given explicitly.
    other = Myopic(demand={"form": "exponential", "a": 10.0, "alpha": 1.0}, unit_cost=0.0)
    other.bind(env)
    assert other.act(env.obs()) == int(np.argmax(grid * np.exp(-grid)))


def test_myopic_continuous_reaches_closed_form():
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    env = FakeMarket(p_range=(0.2, 20.0), names=("time_remaining", "own_last_price"), cost=1.0)
    env.kernel = truth
    agent = Myopic().bind(env)
    assert price_of(agent, agent.act(np.array([1.0, 0.5], np.float32))) == pytest.approx(
        truth.optimal_price(1.0), abs=1e-5
    )  # c + 1/alpha = 3


@pytest.mark.parametrize("rival", [3.0, 4.3, 5.5])  # no ties on the grid
def test_myopic_reads_competitor_price(rival):
    kernel = linear_kernel()
    cont = FakeMarket(p_range=(2.0, 6.0), cost=1.0, kernel=kernel)
    agent = Myopic().bind(cont)
    best = (30.0 + 2.0 * rival) / 8.0 + 0.5  # argmax (p − 1)(30 − 4p + 2·rival)
    assert price_of(agent, agent.act(cont.obs(rival=rival))) == pytest.approx(best, abs=1e-5)
    grid_env = FakeMarket(prices=GRID, cost=1.0, kernel=kernel)
    grid_agent = Myopic().bind(grid_env)
    profit = (GRID - 1.0) * np.maximum(30.0 - 4.0 * GRID + 2.0 * rival, 0.0)
    assert grid_agent.act(grid_env.obs(rival=rival)) == int(np.argmax(profit))


def test_myopic_best_response_in_oligopoly():
    env = OligopolyEnv()
    agent = Myopic().bind(env)
    for j in (0, 5, 14):
        obs, _ = env.reset(seed=0, options={"prices": [env.grid[3], env.grid[j]]})
        prices = np.column_stack([env.grid, np.full(env.grid.size, env.grid[j])])
        expected = int(np.argmax(logit_profits(prices)[:, 0]))
        assert agent.act(obs["seller_0"]) == expected


def test_myopic_saves_parametric_demand_but_not_in_memory_kernels(tmp_path):
    truth = ExponentialTruth(a=50.0, alpha=0.5)
    agent = Myopic(demand=truth, unit_cost=1.0)
    assert agent.params["demand"] == {
        "form": "exponential",
        "a": 50.0,
        "alpha": 0.5,
        "support": [0.2, 20.0],
    }
    loaded = PricingAgent.load(agent.save(tmp_path / "myopic"))
    assert loaded.params == agent.params
    env = FakeMarket(prices=np.linspace(0.5, 8.0, 16), names=("time_remaining",), kernel=truth)
    assert loaded.bind(env).act(np.ones(1)) == agent.bind(env).act(np.ones(1))
    with pytest.raises(ConfigError, match="cannot be written"):
        Myopic(demand=linear_kernel()).save(tmp_path / "nope")
    with pytest.raises(ConfigError, match="form"):
        Myopic(demand={"form": "cubic"})


def test_myopic_rejects_a_model_of_other_competitors():
    env = FakeMarket(
        prices=GRID, names=NAMES_2, kernel=linear_kernel(("rival", "other"), (30, -4, 1, 1))
    )
    with pytest.raises(ConfigError, match="competitor columns"):
        Myopic(demand=linear_kernel(("someone",))).bind(env)


# ==================================================================== competitor-based
def test_match_lowest_takes_the_minimum_competitor():
    env = FakeMarket(p_range=(2.0, 6.0), names=NAMES_2)
    agent = MatchLowest().bind(env)
    assert price_of(agent, agent.act(env.obs(rival=3.2, other=2.7))) == pytest.approx(2.7, abs=1e-6)
    grid_agent = MatchLowest().bind(FakeMarket(prices=GRID, names=NAMES_2))
    assert grid_agent.act(env.obs(rival=4.4, other=5.0)) == 5  # nearest grid price 4.5
    with pytest.raises(ConfigError, match="competitor"):
        MatchLowest().bind(FakeMarket(prices=GRID, names=("time_remaining", "own_last_price")))


def test_undercut_never_below_floor_and_undercuts_when_it_can():
    rng = np.random.default_rng(3)
    cont_env = FakeMarket(p_range=(2.0, 6.0), names=NAMES_2, cost=1.0)
    grid_env = FakeMarket(prices=GRID, names=NAMES_2, cost=1.0)
    cont = Undercut(step=0.3, floor=3.0).bind(cont_env)
    grid = Undercut(step=0.3, floor=3.0).bind(grid_env)
    for _ in range(300):
        a, b = rng.uniform(2.0, 6.0, size=2)
        low = min(a, b)
        obs = cont_env.obs(rival=a, other=b)
        p = price_of(cont, cont.act(obs))
        assert p == pytest.approx(max(low - 0.3, 3.0), abs=1e-5)
        g = price_of(grid, grid.act(obs))
        assert g >= 3.0 - 1e-12
        feasible = GRID[(GRID <= low - 0.3 + 1e-9) & (GRID >= 3.0)]
        assert g == (feasible.max() if feasible.size else 3.0)
    # The default floor is the market's unit cost.
    default = Undercut(step=1.0).bind(FakeMarket(p_range=(0.5, 6.0), names=NAMES_2, cost=1.5))
    assert price_of(default, default.act(cont_env.obs(rival=2.0, other=5.0))) == pytest.approx(1.5)


def test_follow_leader_by_index_and_name():
    env = FakeMarket(p_range=(2.0, 6.0), names=NAMES_2)
    obs = env.obs(rival=3.0, other=5.0)
    second = FollowLeader(1).bind(env)
    assert price_of(second, second.act(obs)) == pytest.approx(5.0, abs=1e-5)
    by_name = FollowLeader("rival", ratio=1.1).bind(env)
    assert price_of(by_name, by_name.act(obs)) == pytest.approx(3.3, abs=1e-5)
    with pytest.raises(ConfigError, match="not one of"):
        FollowLeader("nobody").bind(env)
    with pytest.raises(ConfigError, match="competitor"):
        FollowLeader(2).bind(env)


# ==================================================================== time and stock
def test_markdown_step_and_linear_schedules():
    env = FakeMarket(p_range=(4.0, 12.0))
    pts = [(1.0, 10.0), (0.5, 8.0), (0.2, 5.0)]
    step = MarkdownSchedule(pts, interpolation="step").bind(env)
    lin = MarkdownSchedule(pts).bind(env)
    want_step = {1.0: 10.0, 0.7: 10.0, 0.5: 8.0, 0.3: 8.0, 0.2: 5.0, 0.0: 5.0}
    want_lin = {1.0: 10.0, 0.75: 9.0, 0.35: 6.5, 0.1: 5.0}
    for r, p in want_step.items():
        assert price_of(step, step.act(env.obs(time=r))) == pytest.approx(p, abs=1e-5)
    for r, p in want_lin.items():
        assert price_of(lin, lin.act(env.obs(time=r))) == pytest.approx(p, abs=1e-5)
    default = MarkdownSchedule().bind(env)  # linear from p_max to p_min
    assert price_of(default, default.act(env.obs(time=0.25))) == pytest.approx(6.0, abs=1e-5)


@pytest.mark.parametrize("market", [FakeMarket(prices=GRID), FakeMarket(p_range=(2.0, 6.0))])
@pytest.mark.parametrize("interpolation", ["linear", "step"])
def test_markdown_is_monotone(market, interpolation):
    agent = MarkdownSchedule([(0.9, 5.8), (0.6, 4.1), (0.3, 3.3), (0.05, 2.2)], interpolation)
    agent.bind(market)
    prices = [price_of(agent, agent.act(market.obs(time=r))) for r in np.linspace(1, 0, 201)]
    assert np.all(np.diff(prices) <= 1e-9)
    assert prices[0] == pytest.approx(6.0 if market.action_space.shape == () else 5.8, abs=0.21)


def test_markdown_rejects_rising_prices():
    with pytest.raises(ConfigError, match="must not increase"):
        MarkdownSchedule([(1.0, 5.0), (0.5, 6.0)])
    with pytest.raises(ConfigError, match="time_remaining"):
        MarkdownSchedule().bind(OligopolyEnv())


def test_inventory_balancing_moves_by_bounded_steps():
    env = FakeMarket(p_range=(5.0, 15.0), inventory=100.0)
    agent = InventoryBalancing(gain=2.0, max_step=0.1, deadband=0.02).bind(env)
    half = {"time": 0.5, "own": 10.0}
    cases = {0.3: 11.0, 0.49: 10.0, 0.51: 10.0, 0.53: 9.4, 0.8: 9.0}  # stock left -> price
    for stock, price in cases.items():
        assert price_of(agent, agent.act(env.obs(stock=stock, **half))) == pytest.approx(
            price, abs=1e-4
        )
    grid_env = FakeMarket(prices=np.arange(5.0, 15.5, 1.0), inventory=100.0)
    g = InventoryBalancing().bind(grid_env)
    assert price_of(g, g.act(grid_env.obs(stock=0.47, **half))) == 11.0  # +6% -> one step up
    assert price_of(g, g.act(grid_env.obs(stock=0.53, **half))) == 9.0
    assert price_of(g, g.act(grid_env.obs(stock=0.5, **half))) == 10.0
    with pytest.raises(ConfigError, match="finite inventory"):
        InventoryBalancing().bind(FakeMarket(prices=GRID, inventory=None))


# ==================================================================== repeated games
def oligopoly_obs(env: OligopolyEnv, own: int, rival: int) -> np.ndarray:
    m = env.grid.size - 1
    return np.array([own / m, rival / m], dtype=np.float32)


def test_tit_for_tat_opens_cooperatively_then_mirrors():
    env = OligopolyEnv()
    agent = TitForTat().bind(env)
    coop = int(np.abs(env.grid - env.monopoly_prices[0]).argmin())
    agent.reset(0)
    assert agent.act(oligopoly_obs(env, 0, 0)) == coop  # opening ignores reset prices
    assert agent.act(oligopoly_obs(env, coop, 5)) == 5
    assert agent.act(oligopoly_obs(env, 5, 14)) == coop  # never above cooperation
    agent.reset(1)
    assert agent.act(oligopoly_obs(env, 0, 2)) == coop


def test_grim_trigger_punishes_forever_after_one_defection():
    env = OligopolyEnv()
    agent = GrimTrigger().bind(env)
    coop = int(np.abs(env.grid - env.monopoly_prices[0]).argmin())
    punish = int(np.abs(env.grid - env.nash_prices[0]).argmin())
    rivals = [0, coop, coop, coop - 1, coop, coop, 14, coop]
    agent.reset(0)
    actions = [agent.act(oligopoly_obs(env, coop, r)) for r in rivals]
    assert actions == [coop, coop, coop, punish, punish, punish, punish, punish]
    agent.reset(0)
    assert agent.act(oligopoly_obs(env, coop, coop - 1)) == coop  # a new episode
    assert not agent.triggered


def test_repeated_game_rules_in_the_oligopoly():
    base = OligopolyEnv(horizon=12)
    coop = int(np.abs(base.grid - base.monopoly_prices[0]).argmin())
    punish = int(np.abs(base.grid - base.nash_prices[0]).argmin())
    # Two tit-for-tat sellers cooperate forever.
    tft = OpponentWrapper(base, TitForTat().bind(base))
    me = TitForTat().bind(tft)
    obs, _ = tft.reset(seed=4)
    me.reset(0)
    prices = []
    for _ in range(12):
        obs, _, _, _, info = tft.step(me.act(obs))
        prices.append((info["price"], info["rival_prices"]["seller_1"]))
    assert prices == [(base.grid[coop], base.grid[coop])] * 12
    # Grim trigger against a seller that always charges the grid price nearest Nash.
    env = OligopolyEnv(horizon=12)
    grim = OpponentWrapper(env, GrimTrigger().bind(env))
    nash = FixedPrice(float(env.grid[punish])).bind(grim)
    for seed in (0, 1):
        obs, _ = grim.reset(seed=seed)
        rival = []
        for _ in range(6):
            obs, _, _, _, info = grim.step(nash.act(obs))
            rival.append(info["rival_prices"]["seller_1"])
        assert rival == [env.grid[coop]] + [env.grid[punish]] * 5


# ==================================================================== inside PricingEnv
def make_pricing_env(rivals, competitor_prices=(4.0, 6.0), horizon=12):
    from pricegym.envs.market import PricingEnv

    kernel = linear_kernel(("rival", "other"), (30.0, -4.0, 1.0, 1.0))
    cfg = {
        "prices": tuple(GRID),
        "horizon": horizon,
        "cost": 1.0,
        "competitor": {"kind": "fixed", "prices": tuple(competitor_prices)},
    }
    return PricingEnv(kernel, cfg, rivals=rivals)


def test_match_lowest_rival_matches_lowest_of_seller_and_other_column():
    rival = MatchLowest()
    env = make_pricing_env([rival], competitor_prices=(4.0, 3.5))
    seller = MarkdownSchedule().bind(env)
    obs, _ = env.reset(seed=0)
    seller.reset(0)
    last_seller = 4.0  # the env's starting own price: middle of [2, 6]
    for _ in range(12):
        obs, _, terminated, _, info = env.step(seller.act(obs))
        expected = GRID[np.abs(GRID - min(last_seller, 3.5)).argmin()]
        assert info["competitor_prices"][0] == expected
        assert info["competitor_prices"][1] == 3.5
        last_seller = info["price"]
        if terminated:
            break
    assert last_seller == 2.5  # the markdown's last period: 2 + 4/12 → grid price 2.5


def test_price_war_between_match_lowest_and_undercut_stops_at_the_floor():
    rival = Undercut(step=0.5, floor=3.0)
    env = make_pricing_env([rival], competitor_prices=(5.0, 6.0))
    seller = MatchLowest().bind(env)
    obs, _ = env.reset(seed=1)
    seller.reset(1)
    history = []
    for _ in range(12):
        obs, _, _, _, info = env.step(seller.act(obs))
        history.append((info["price"], float(info["competitor_prices"][0])))
    sellers, rivals = np.array(history).T
    assert rivals.min() >= 3.0
    assert rivals[0] == 3.5  # undercuts the seller's starting price 4.0 by 0.5
    np.testing.assert_array_equal(sellers[1:], rivals[:-1])  # the seller matches the rival
    assert history[-4:] == [(3.0, 3.0)] * 4


# ==================================================================== binding
def test_rules_need_bind_and_reset():
    with pytest.raises(ConfigError, match="bind"):
        FixedPrice(3.0).act(np.zeros(4))
    agent = RandomPrice().bind(FakeMarket(prices=GRID))
    with pytest.raises(ConfigError, match="reset"):
        agent.act(np.zeros(5))
    with pytest.raises(ConfigError, match="price"):
        FixedPrice(-2.0)


RIVAL_RULES = {
    "fixed_price": {"price": 3.5},
    "cost_plus": {"markup": 2.0},
    "myopic": {},
    "match_lowest": {},
    "undercut": {"step": 0.5, "floor": 2.5},
    "follow_leader": {"ratio": 1.2},
    "markdown": {},
    "inventory_balancing": {"gain": 5.0},
    "tit_for_tat": {},
    "grim_trigger": {"cooperative_price": 5.0, "punishment_price": 2.0},
}


@pytest.mark.parametrize("kind", sorted(RIVAL_RULES))
def test_every_rule_plays_as_a_rival_on_its_mirror_observation(kind):
    """Inside PricingEnv a rival's price each period is what the same rule, bound to the
    same env, charges on the mirror observation: the seller's observation with the own
    price and the (single) competitor slot swapped."""
    from pricegym.agents.base import make_agent
    from pricegym.envs.market import PricingEnv

    rival = make_agent(kind, **RIVAL_RULES[kind])
    cfg = {"prices": tuple(GRID), "horizon": 12, "cost": 1.0, "inventory": 400}
    env = PricingEnv(linear_kernel(), cfg, rivals=[rival])
    shadow = make_agent(kind, **RIVAL_RULES[kind]).bind(env)
    seller = MarkdownSchedule([(1.0, 5.5), (0.5, 4.0), (0.0, 3.0)]).bind(env)
    obs, _ = env.reset(seed=0)
    seller.reset(0)
    shadow.reset(0)
    charged, sellers = [], []
    for _ in range(12):
        mirror = obs.copy()
        mirror[[2, 3]] = obs[[3, 2]]
        expected = float(GRID[shadow.act(mirror)])
        obs, _, terminated, _, info = env.step(seller.act(obs))
        assert info["competitor_prices"][0] == expected
        charged.append(expected)
        sellers.append(info["price"])
        if terminated:
            break
    assert len(charged) == 12
    if kind == "match_lowest":  # follows the seller's markdown one period later
        assert charged[1:] == sellers[:-1]
    if kind == "undercut":
        assert min(charged) >= 2.5
