"""The shared conformance test every registered pricing agent passes.

Parametrised over the catalogue :data:`AGENT_CASES` (kind → how to build it and the
markets to run it in). For every (kind, market):

- the protocol: a registered :class:`PricingAgent` subclass with ``kind``, ``name``,
  JSON-serialisable ``params``, ``bind``/``reset``/``act``/``update``/``save``/``load``,
  and actions inside the market's action space over a whole episode;
- determinism: two agents built alike, reset with the same seed in identically
  seeded markets, play identical action sequences; one agent reset twice with the
  same seed acts identically on the same observations;
- save → load: equal ``params`` and ``name``, and identical actions after the same
  reset seed (learners after an episode of learning, so learned state round-trips).

``make_agent`` with an unknown kind or parameter raises ``ConfigError``.

**Adding an agent.** Every kind in ``agent_kinds()`` (after importing every module
of ``pricegym.agents``) must have an entry in :data:`AGENT_CASES`, or
:func:`test_every_registered_kind_is_catalogued` fails: add
``"<kind>": Case(params={...}, markets=(...))``, with ``build=`` when the agent needs
more than its parameters (e.g. a table computed from the market). Markets are the
factories in :data:`MARKETS`; add one there if none fits.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import pricegym
import pricegym.agents
from pricegym.agents.base import PricingAgent, agent_kinds, make_agent
from pricegym.demand.features import FeatureSpec
from pricegym.demand.kernels import RegressionKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.parametric import ExponentialTruth
from pricegym.errors import ConfigError, ModelFileError


def _import_agent_modules() -> list[str]:
    """Import every module of ``pricegym.agents`` so that all agent kinds register."""
    names = []
    for info in pkgutil.iter_modules(pricegym.agents.__path__):
        importlib.import_module(f"pricegym.agents.{info.name}")
        names.append(info.name)
    return names


AGENT_MODULES = _import_agent_modules()


# ==================================================================== markets
def _single(action: str = "discrete") -> Any:
    """A PricingEnv: linear demand 30 − 4p + 2·rival (Poisson), one random-walk competitor,
    9 prices on [2, 6] (or continuous), 12 periods, 150 units of stock, unit cost 1."""
    from pricegym.envs.market import PricingEnv

    spec = FeatureSpec(competitors=("rival",))
    ref = {"t": 0.0, "competitors": [4.0], "promotions": []}
    kernel = RegressionKernel(
        spec, np.array([30.0, -4.0, 2.0]), "identity", NoiseModel("poisson"), (2.0, 6.0), ref
    )
    config = {
        "action": action,
        "n_prices": 9,
        "horizon": 12,
        "inventory": 150,
        "cost": 1.0,
        "competitor": {
            "kind": "random_walk",
            "prices": (4.0,),
            "sigma": 0.1,
            "low": (3.0,),
            "high": (5.0,),
        },
    }
    return PricingEnv(kernel, config)


def _markdown() -> Any:
    """A PricingEnv markdown market: exponential demand 50·exp(−p/2), 8 prices, 10 periods,
    30 units, unit cost 1, no competitors."""
    from pricegym.envs.market import PricingEnv

    truth = ExponentialTruth(a=50.0, alpha=0.5)
    return PricingEnv(truth, {"n_prices": 8, "horizon": 10, "inventory": 30, "cost": 1.0})


def _oligopoly() -> Any:
    """The Calvano duopoly (15 rounds) seen by seller 0, the rival charging random prices."""
    from pricegym.agents.rules import RandomPrice
    from pricegym.envs.oligopoly import OligopolyEnv, OpponentWrapper

    env = OligopolyEnv(horizon=15)
    return OpponentWrapper(env, RandomPrice().bind(env))


def _catalogue(stock: bool = False) -> Any:
    """A catalogue market (MultiProductEnv): LogitCatalogue-v0's logit, 3 products, 5 prices
    each on [1.5, 4.5], 10 periods; stock (6, 5, 4) with ``stock``, else unlimited."""
    import gymnasium

    env_id = "pricegym/LogitCatalogueStock-v0" if stock else "pricegym/LogitCatalogue-v0"
    extra = {"inventory": [6, 5, 4]} if stock else {}
    return gymnasium.make(env_id, n_prices=5, horizon=10, **extra).unwrapped


#: Market factories by name; each call builds a fresh market.
MARKETS: dict[str, Callable[[], Any]] = {
    "single": _single,
    "single_continuous": lambda: _single("continuous"),
    "markdown": _markdown,
    "oligopoly": _oligopoly,
    "catalogue": _catalogue,
    "catalogue_stock": lambda: _catalogue(stock=True),
}


# ==================================================================== catalogue
@dataclass(frozen=True)
class Case:
    """How to build one agent kind for the conformance test.

    Attributes:
        params: constructor parameters (what ``make_agent(kind, **params)`` gets).
        markets: names in :data:`MARKETS` to run the agent in.
        build: ``build(env) -> agent`` for kinds that need the market to be built
            (then ``params`` is unused); None builds ``make_agent(kind, **params)``.
        known_gap: a known protocol gap that makes the kind fail with an
            AttributeError; its cases are strict xfails (they fail loudly once fixed,
            so the entry is removed then).
    """

    params: dict[str, Any] = field(default_factory=dict)
    markets: tuple[str, ...] = ("single",)
    build: Callable[[Any], PricingAgent] | None = None
    known_gap: str | None = None


ALL_SINGLE = ("single", "single_continuous")
EVERYWHERE = ("single", "single_continuous", "oligopoly")


def _sb3(env: Any) -> PricingAgent:
    from pricegym.agents.sb3 import SB3Agent

    small = {"n_envs": 4, "n_steps": 16, "batch_size": 32, "n_epochs": 1, "eval_freq": 0}
    return SB3Agent("ppo", hyperparams=small, seed=0).train(env, 128)


def _qlearning(env: Any) -> PricingAgent:
    from pricegym.agents.qlearning import QLearningAgent

    return QLearningAgent.from_market(env.env, explore=True, beta=0.05)


#: kind → Case. Extend it when you add an agent kind (see the module docstring).
AGENT_CASES: dict[str, Case] = {
    # rules
    "fixed_price": Case({"price": 4.0}, EVERYWHERE),
    "cost_plus": Case({"markup": 0.6}, EVERYWHERE),
    "random_price": Case({}, EVERYWHERE),
    "myopic": Case({}, (*EVERYWHERE, "markdown")),
    "match_lowest": Case({}, EVERYWHERE),
    "undercut": Case({"step": 0.1}, EVERYWHERE),
    "follow_leader": Case({"ratio": 0.95}, EVERYWHERE),
    "markdown": Case({"interpolation": "step"}, (*ALL_SINGLE, "markdown")),
    "inventory_balancing": Case({}, (*ALL_SINGLE, "markdown")),
    "tit_for_tat": Case({}, EVERYWHERE),
    "grim_trigger": Case({}, EVERYWHERE),
    # bandits
    "epsilon_greedy": Case({"epsilon": 0.3}, ("single", "markdown", "oligopoly")),
    "ucb1": Case({}, ("single", "markdown", "oligopoly")),
    "thompson": Case({"likelihood": "poisson"}, ("single", "markdown", "oligopoly")),
    "inventory_thompson": Case({"likelihood": "poisson"}, ("single", "markdown")),
    # exact optimum and Q-learning (agents/dp.py, agents/qlearning.py)
    "dp": Case({}, ("markdown",)),
    "qlearning": Case(
        markets=("oligopoly",),
        build=_qlearning,
    ),
    # catalogue markets (agents/catalogue_rules.py, agents/catalogue_bandit.py)
    "catalogue_fixed_price": Case({"prices": [3.0, 2.25, 2.25]}, ("catalogue",)),
    "catalogue_cost_plus": Case({"markup": [2.0, 1.5, 3.0]}, ("catalogue", "catalogue_stock")),
    "catalogue_myopic": Case({}, ("catalogue", "catalogue_stock")),
    "catalogue_markdown": Case({"target_sell_through": 0.9}, ("catalogue_stock",)),
    "catalogue_thompson": Case({}, ("catalogue", "catalogue_stock")),
    # stable-baselines3 (agents/sb3.py): a tiny PPO trained for 128 frames
    "sb3": Case(markets=(*EVERYWHERE, "markdown"), build=_sb3),
}

CASES = [
    pytest.param(
        kind,
        market,
        marks=[pytest.mark.xfail(reason=case.known_gap, raises=AttributeError, strict=True)]
        if case.known_gap
        else [],
    )
    for kind, case in AGENT_CASES.items()
    for market in case.markets
]


def build(kind: str, env: Any) -> PricingAgent:
    if kind not in agent_kinds():
        pytest.skip(f"agent kind {kind!r} is catalogued but its module is not in this build")
    case = AGENT_CASES[kind]
    agent = case.build(env) if case.build is not None else make_agent(kind, **case.params)
    return agent.bind(env)


def episode(agent: PricingAgent, env: Any, seed: int, agent_seed: int = 3) -> tuple[list, list]:
    """Play one episode (learning if the agent learns); returns (observations, actions)."""
    agent.reset(agent_seed)
    obs, _ = env.reset(seed=seed)
    seen, actions = [], []
    for _ in range(100):
        action = agent.act(obs)
        assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype)), (
            f"{agent.kind}: action {action!r} is not in {env.action_space}"
        )
        nxt, reward, terminated, truncated, _ = env.step(action)
        if agent.learns:
            agent.update(obs, action, reward, nxt, terminated)
        seen.append(obs)
        actions.append(np.asarray(action).tolist())
        obs = nxt
        if terminated or truncated:
            break
    return seen, actions


def replay(agent: PricingAgent, observations: list, seed: int) -> list:
    """Actions on fixed observations right after ``reset(seed)`` (no learning)."""
    agent.reset(seed)
    return [np.asarray(agent.act(o)).tolist() for o in observations]


# ==================================================================== tests
def test_every_registered_kind_is_catalogued():
    missing = sorted(set(agent_kinds()) - set(AGENT_CASES))
    assert not missing, (
        f"agent kinds {missing} (registered by the modules {AGENT_MODULES}) have no entry in "
        "AGENT_CASES of tests/test_agent_protocol.py; add Case(params=..., markets=...) for "
        "each so it is tested like every other agent."
    )


@pytest.mark.parametrize(("kind", "market"), CASES)
def test_protocol(kind, market):
    env = MARKETS[market]()
    agent = build(kind, env)
    assert isinstance(agent, PricingAgent)
    assert agent.kind == kind and agent_kinds()[kind] is type(agent)
    for method in ("bind", "reset", "act", "update", "save", "load"):
        assert callable(getattr(agent, method))
    assert isinstance(agent.name, str) and agent.name
    assert isinstance(agent.learns, bool)
    params = agent.params
    assert json.loads(json.dumps(params)) == params
    assert set(params) <= set(type(agent)._param_names())
    assert type(agent).__name__ in repr(agent)
    _, actions = episode(agent, env, seed=1)
    assert len(actions) >= 1


@pytest.mark.parametrize(("kind", "market"), CASES)
def test_same_seed_same_actions(kind, market):
    env_a, env_b = MARKETS[market](), MARKETS[market]()
    a, b = build(kind, env_a), build(kind, env_b)
    obs_a, actions_a = episode(a, env_a, seed=5)
    obs_b, actions_b = episode(b, env_b, seed=5)
    assert actions_a == actions_b
    np.testing.assert_array_equal(np.array(obs_a), np.array(obs_b))
    assert replay(a, obs_a * 2, seed=7) == replay(a, obs_a * 2, seed=7)


@pytest.mark.parametrize(("kind", "market"), CASES)
def test_save_load_round_trip(kind, market, tmp_path):
    env = MARKETS[market]()
    agent = build(kind, env)
    agent.name = f"{kind}-under-test"
    observations, _ = episode(agent, env, seed=2)
    path = agent.save(tmp_path / kind)
    assert path.suffix == ".json" and path.with_suffix(".npz").exists()
    loaded = PricingAgent.load(path)
    assert type(loaded) is type(agent)
    assert loaded.params == agent.params
    assert loaded.name == agent.name
    loaded.bind(env)
    again = type(agent).load(path).bind(env)
    expected = replay(agent, observations * 2, seed=11)
    assert replay(loaded, observations * 2, seed=11) == expected
    assert replay(again, observations * 2, seed=11) == expected


def test_loading_through_the_wrong_class_is_refused(tmp_path):
    from pricegym.agents.bandits import UCB1
    from pricegym.agents.rules import FixedPrice

    path = FixedPrice(3.0).save(tmp_path / "fixed")
    with pytest.raises(ModelFileError, match=r"PricingAgent\.load"):
        UCB1.load(path)


def test_make_agent_rejects_unknown_kinds_and_parameters():
    with pytest.raises(ConfigError, match="Did you mean 'ucb1'"):
        make_agent("ucb")
    with pytest.raises(ConfigError, match="Did you mean 'grim_trigger'"):
        make_agent("grim_triger")
    with pytest.raises(ConfigError, match=r"epsilonn.*takes: decay, epsilon, explore, min_epsilon"):
        make_agent("epsilon_greedy", epsilonn=0.1)
    with pytest.raises(ConfigError, match="epsilon"):
        make_agent("epsilon_greedy", epsilon=2.0)  # a known parameter, out of range


# ==================================================================== fresh interpreter
#: Run in a fresh interpreter by the test below: loads each agent file named on the
#: command line with nothing of pricegym.agents imported first, and prints what it loaded.
_FRESH_LOADER = """
import hashlib, json, sys
from pricegym.agents.base import PricingAgent
preloaded = sorted(m for m in sys.modules if m.startswith("pricegym.agents.") and
                   m not in ("pricegym.agents.base", "pricegym.agents.view"))
out = {"preloaded": preloaded, "agents": []}
for path in sys.argv[1:]:
    agent = PricingAgent.load(path)
    state, arrays = agent._get_state()
    out["agents"].append({
        "kind": agent.kind,
        "class": type(agent).__module__ + "." + type(agent).__qualname__,
        "name": agent.name,
        "params": agent.params,
        "state": json.loads(json.dumps(state)),
        "arrays": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in sorted(arrays.items())},
    })
print(json.dumps(out))
"""


def _described(agent: PricingAgent) -> dict[str, Any]:
    import hashlib

    state, arrays = agent._get_state()
    return {
        "kind": agent.kind,
        "class": f"{type(agent).__module__}.{type(agent).__qualname__}",
        "name": agent.name,
        "params": agent.params,
        "state": json.loads(json.dumps(state)),
        "arrays": {
            k: hashlib.sha256(np.asarray(v).tobytes()).hexdigest()
            for k, v in sorted(arrays.items())
        },
    }


def test_every_kind_loads_in_a_fresh_interpreter(tmp_path):
    """PricingAgent.load in a process that imported no agent module (issue 19, item 2)."""
    import subprocess
    import sys

    saved, expected = [], []
    for kind, case in AGENT_CASES.items():
        env = MARKETS[case.markets[0]]()
        agent = build(kind, env)
        agent.name = f"{kind}-saved"
        episode(agent, env, seed=4)  # learners learn, so their state is not the initial one
        saved.append(str(agent.save(tmp_path / kind)))
        expected.append(_described(agent))
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_LOADER, *saved],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["preloaded"] == []  # the loader really started with no agent module
    got = result["agents"]
    assert [g["kind"] for g in got] == list(AGENT_CASES)
    for want, have in zip(expected, got, strict=True):
        # the hash of SB3's .zip is set by save() itself, not restored by load
        want["state"].pop("sb3_zip_sha256", None)
        have["state"].pop("sb3_zip_sha256", None)
        assert have == want, want["kind"]


def test_save_records_the_defining_module_and_version(tmp_path):
    from pricegym.agents.bandits import UCB1

    doc = json.loads(UCB1().save(tmp_path / "ucb").read_text())
    assert doc["module"] == "pricegym.agents.bandits"
    assert doc["pricegym_version"] == pricegym.__version__


def _edited(path: Any, **changes: Any) -> Any:
    doc = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("changes", "says", "never"),
    [
        # a newer pricegym: only then is upgrading the fix
        (
            {"kind": "future_agent", "pricegym_version": "999.1"},
            r"written by pricegym 999\.1, newer than this pricegym .*upgrade pricegym to 999\.1",
            None,
        ),
        # this (or an older) pricegym wrote it: upgrading cannot help
        (
            {"kind": "retired_agent", "pricegym_version": "0.0.1"},
            r"written by pricegym 0\.0\.1; .*no such kind \(known: .*fixed_price.*upgrading "
            r"will not add it",
            "upgrade pricegym",
        ),
        # a file from before the version was recorded
        (
            {"kind": "retired_agent", "pricegym_version": None, "module": None},
            r"older format that does not record the pricegym version",
            "upgrade pricegym",
        ),
        # a kind defined outside pricegym: import its module first
        (
            {"kind": "custom_agent", "module": "my_company.agents"},
            r"module 'my_company\.agents'.*not part of pricegym.*`import my_company\.agents`",
            "upgrade pricegym",
        ),
        ({"kind": None}, r"without a valid 'kind'", "upgrade pricegym"),
    ],
    ids=["newer", "same-or-older", "unversioned", "plugin", "no-kind"],
)
def test_unknown_kind_messages_say_what_fixes_them(tmp_path, changes, says, never):
    from pricegym.agents.rules import FixedPrice

    path = _edited(FixedPrice(3.0).save(tmp_path / "fixed"), **changes)
    with pytest.raises(ModelFileError, match=says) as info:
        PricingAgent.load(path)
    if never is not None:
        assert never not in str(info.value)


def test_a_file_without_module_or_version_still_loads(tmp_path):
    from pricegym.agents.rules import FixedPrice

    path = _edited(FixedPrice(3.0).save(tmp_path / "fixed"), module=None, pricegym_version=None)
    loaded = PricingAgent.load(path)
    assert type(loaded) is FixedPrice and loaded.params == {"price": 3.0}
