"""Policy evaluation: play agents in a market and return one tidy row per episode.

:func:`evaluate` is the Python API users write their own evaluation scripts
against (re-exported as ``pricegym.evaluate``)::

    >>> from pricegym.agents.rules import FixedPrice
    >>> from pricegym.experiments.evaluate import evaluate
    >>> market = {"demand": {"form": "exponential", "a": 10.0, "alpha": 1.0},
    ...           "options": {"n_prices": 10, "p_min": 0.5, "p_max": 5.0,
    ...                       "horizon": 16, "inventory": 4}}
    >>> table = evaluate(FixedPrice(price=2.5), market, episodes=3, seed=0)
    >>> table.columns.tolist()[:5], len(table)
    (['market', 'agent', 'seed', 'episode', 'profit'], 3)

The same functions run every cell of an experiment (:mod:`pricegym.experiments.runner`):
:func:`build_env` turns a validated :class:`~pricegym.experiments.schema.MarketSpec`
into an environment, :func:`play_episodes` / :func:`play_oligopoly` play it, and
:func:`derive_seeds` derives every seed from an entropy and a key with
:class:`numpy.random.SeedSequence`, so results never depend on execution order.

Columns of the episode table (:data:`COLUMNS`):

==============  ==========================================================================
market          the market's label
agent           the agent's name
seed            the replicate seed the episode belongs to
episode         episode number within the seed (0, 1, ...)
profit          sum of the seller's rewards (profit) over the episode
revenue         sum of price × units sold
units           units sold
avg_price       mean posted price per period (defined even in periods without sales)
sell_through    units sold / (initial stock + replenished units); NaN with unlimited stock
lost_sales      demand that found no stock
steps           periods (rounds) played
==============  ==========================================================================

Oligopoly rows add ``delta``, Calvano et al.'s profit gain
(π − π^N)/(π^M − π^N) of the seller's average profit per round. With Markov
shocks π^N and π^M are the Nash and joint-monopoly profits of the regime in force
in each round, averaged over the episode's rounds (0 at every regime's Nash play,
1 at every regime's joint monopoly), not the base market's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegym.demand import make_model
from pricegym.demand.base import DemandModel
from pricegym.demand.data import load_history
from pricegym.demand.datasets import load_dataset
from pricegym.errors import ConfigError, PricegymError, PricegymWarning
from pricegym.experiments.schema import ExperimentConfig, MarketSpec, load_experiment, parse_market

# The markets, agents and synthetic demand (gymnasium, scipy) are imported inside the
# functions that build an env: reading a config, a dataset or results needs only pandas.

__all__ = [
    "COLUMNS",
    "bind_to_seat",
    "build_env",
    "derive_seeds",
    "evaluate",
    "fit_model",
    "frozen_play",
    "learns_online",
    "load_sales_history",
    "market_kernels",
    "oligopoly_benchmarks",
    "play_episodes",
    "play_oligopoly",
    "single_benchmarks",
    "train_online",
]

#: Columns of every episode table, in order.
COLUMNS: tuple[str, ...] = (
    "market",
    "agent",
    "seed",
    "episode",
    "profit",
    "revenue",
    "units",
    "avg_price",
    "sell_through",
    "lost_sales",
    "steps",
)


# ==================================================================== seeds
def derive_seeds(entropy: int, key: Sequence[Any], n: int) -> list[int]:
    """``n`` seeds (< 2**32) for ``key`` under ``entropy``, independent of any call order.

    ``key`` (strings and integers, e.g. ``("env", "article/poisson", 2)``) is hashed
    with sha256 into the ``spawn_key`` of ``numpy.random.SeedSequence(entropy)``, so
    different keys give statistically independent streams and the same key the same
    seeds in every process and on every machine.
    """
    digest = hashlib.sha256(json.dumps([str(k) for k in key]).encode()).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))
    seq = np.random.SeedSequence(int(entropy), spawn_key=words)
    return [int(s) for s in seq.generate_state(int(n), dtype=np.uint32)]


# ==================================================================== markets
def load_sales_history(data: Any) -> Any:
    """The validated :class:`~pricegym.demand.data.SalesHistory` of a ``DataSpec``."""
    if data.dataset is not None:
        history = load_dataset(data.dataset)
    elif data.path is not None:
        history = load_history(data.path, **data.load)
    else:
        from pricegym.demand.synthetic import generate_history

        history = generate_history(**dict(data.synthetic or {}))
    if data.select_product is not None:
        history = history.for_product(data.select_product)
    return history


def fit_model(model: Any, data: Any, history: Any = None) -> Any:
    """The fitted (or loaded) :class:`~pricegym.demand.base.DemandModel` of a ``ModelSpec``.

    ``history`` is the already loaded sales history (loaded from ``data`` if None).
    """
    if model.file is not None:
        return DemandModel.load(model.file)

    if history is None:
        history = load_sales_history(data)
    return make_model(model.family, **model.params).fit(history)


def market_kernels(spec: Any, models: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Base market name → its demand kernel (``None`` for env and oligopoly sources).

    ``models`` maps model names to fitted models (fitted here when missing).
    """
    from pricegym.agents.rules import demand_from_spec

    out: dict[str, Any] = {}
    history = None
    for name, model in spec.market_names().items():
        if spec.source == "demand":
            out[name] = demand_from_spec(spec.demand)
        elif model is None:
            out[name] = None
        else:
            fitted = None if models is None else models.get(model.name)
            if fitted is None:
                if history is None and model.file is None:
                    history = load_sales_history(spec.data)
                fitted = fit_model(model, spec.data, history)
            out[name] = fitted.kernel()
    return out


def build_env(spec: Any, kernel: Any = None, rivals: Sequence[Any] = ()) -> Any:
    """The environment of one market of ``spec`` (a validated ``MarketSpec``).

    Single-seller markets are :class:`~pricegym.envs.market.PricingEnv` (``kernel``
    required for data and demand sources) with ``rivals`` setting competitor
    prices; an ``env`` source is ``gymnasium.make(id, **options)`` (with rivals: a
    ``PricingEnv`` of its kernel and config with ``rivals``); an oligopoly is an
    :class:`~pricegym.envs.oligopoly.OligopolyEnv` (its rivals are seated by the
    caller, see :func:`play_oligopoly`).
    """
    if spec.source == "oligopoly":
        from pricegym.envs.oligopoly import OligopolyEnv

        return OligopolyEnv(**spec.oligopoly)
    if spec.source == "env":
        import gymnasium

        _load_registrations()
        env = gymnasium.make(spec.env, **dict(spec.options))
        if not rivals:
            return env
        from pricegym.envs.market import PricingEnv

        base = env.unwrapped
        if not isinstance(base, PricingEnv):
            raise ConfigError(
                f"market.env {spec.env!r} is a {type(base).__name__}, not a PricingEnv, so rivals "
                "cannot be seated in it. Fix: describe the market with market.data or "
                "market.demand instead."
            )
        # The registered market with the listed rivals setting its competitor prices
        # (they replace any rival the preset brings).
        return PricingEnv(base.kernel, base.config, rivals=list(rivals))
    from pricegym.envs.market import PricingEnv

    if kernel is None:
        raise ConfigError(f"market {spec.name!r}: a {spec.source} market needs its demand kernel.")
    return PricingEnv(kernel, dict(spec.options), rivals=list(rivals))


def _load_registrations() -> None:
    import importlib
    import importlib.util

    if importlib.util.find_spec("pricegym.registration") is not None:
        importlib.import_module("pricegym.registration")


def single_benchmarks(env: Any) -> dict[str, Any]:
    """DP optimum and best fixed price (expected profit per episode) of a single-seller env.

    Returns ``{"dp": float | None, "best_fixed": float | None, "best_fixed_price":
    float | None, "note": str | None, "optimum": dict | None}``; a benchmark is
    ``None`` where the DP does not apply (continuous prices, lognormal noise, demand
    with memory, rivals, ...), and ``note`` says why. ``optimum`` is the market's
    :class:`~pricegym.demand.optimum.OptimumCheck` (``env.optimum.to_dict()``): where
    the one-period profit peaks in the price range, and whether at an edge.
    """
    from pricegym.agents.dp import fixed_price_values, solve_dp
    from pricegym.experiments.catalogue import catalogue_benchmarks, is_catalogue

    if is_catalogue(env):  # a price per product: the catalogue's own benchmarks
        return catalogue_benchmarks(env)
    base = getattr(env, "unwrapped", env)
    out: dict[str, Any] = {"dp": None, "best_fixed": None, "best_fixed_price": None, "note": None}
    check = getattr(base, "optimum", None)
    out["optimum"] = None if check is None else check.to_dict()
    if getattr(base, "rivals", None):
        out["note"] = "rival agents set competitor prices: the DP optimum is not defined"
        return out
    try:
        solution = solve_dp(base.kernel, base.config)
        fixed = fixed_price_values(base.kernel, base.config)
    except PricegymError as exc:
        out["note"] = f"DP optimum not defined here: {exc}"
        return out
    best = int(np.argmax(fixed))
    out.update(
        dp=float(solution.expected_value),
        best_fixed=float(fixed[best]),
        best_fixed_price=float(np.asarray(base.prices)[best]),
    )
    return out


def oligopoly_benchmarks(env: Any) -> dict[str, Any]:
    """Nash and monopoly prices and profits per round (per seat) of an OligopolyEnv.

    The top-level values are the base market's (every shock factor 1). With Markov
    shocks ``regimes`` adds one entry per regime with the same four keys: the
    benchmarks that Δ compares each round of that regime with.
    """
    keys = ("nash_prices", "monopoly_prices", "nash_profits", "monopoly_profits")
    out: dict[str, Any] = {k: np.asarray(getattr(env, k), dtype=float).tolist() for k in keys}
    out["horizon"] = env.horizon
    if env.shocks is not None:
        out["regimes"] = [
            {"regime": r, **{k: np.asarray(getattr(env, f"regime_{k}"))[r].tolist() for k in keys}}
            for r in range(env.shocks.n_regimes)
        ]
    return out


def bind_to_seat(agent: Any, env: Any, seat: int) -> Any:
    """Bind ``agent`` to seat ``seat`` of an OligopolyEnv (through its single-seller view)."""
    from pricegym.envs.oligopoly import OpponentWrapper

    n = env.n_sellers
    view = OpponentWrapper(env, [_idle] * (n - 1), seat=seat)
    return agent.bind(view)


def _idle(observation: np.ndarray) -> int:
    """Placeholder rival policy of the view an agent is bound through (never called)."""
    return 0


# ==================================================================== playing
@contextlib.contextmanager
def frozen_play(agents: Sequence[Any], learn: Sequence[bool]) -> Iterator[None]:
    """Inside the block, every agent whose learning is frozen plays its greedy choice.

    ``learn[i]`` False and ``agents[i]`` with a ``frozen()`` context manager (the
    bandits of :mod:`pricegym.agents.bandits`: exploration bonus and posterior draws
    off) enters it; other agents play as they are. Exploring without learning only
    costs profit, so an evaluation that does not learn plays what was learned.

    Warns (:class:`~pricegym.errors.PricegymWarning`) for a frozen agent that has
    learned nothing yet (``t_ == 0``): its greedy price is only its prior's (ε-greedy
    and UCB1: the first price; Thompson: the best value at the prior mean demand).
    """
    import warnings

    with contextlib.ExitStack() as stack:
        for agent, flag in zip(agents, learn, strict=True):
            freeze = getattr(agent, "frozen", None)
            if flag or not callable(freeze):
                continue
            if getattr(agent, "t_", None) == 0:
                warnings.warn(
                    f"agent {agent.name!r} ({agent.kind}) plays its greedy price with learning "
                    "frozen, but has learned nothing (0 updates), so the price it charges is "
                    "its prior's, not a learned one. Fix: train it first (agents[i].train: "
                    "{episodes: N}; `pricegym evaluate --train-episodes N`; "
                    "evaluate(..., train_episodes=N)), or let it learn while it plays "
                    "(evaluation.learn_online: true; learn=True).",
                    PricegymWarning,
                    stacklevel=4,  # frozen_play, contextlib, play_*, their caller
                )
            stack.enter_context(freeze())
        yield


def _updater(agent: Any) -> Callable[..., None]:
    """``agent.update`` with the step's ``info`` (bandits read units from it).

    Every agent takes ``info`` (:meth:`pricegym.agents.base.PricingAgent.update`).
    """
    update = agent.update

    def call(obs: Any, action: Any, reward: float, nxt: Any, terminated: bool, info: Any) -> None:
        update(obs, action, reward, nxt, terminated, info=info)

    return call


def _row(
    profit: float,
    revenue: float,
    units: float,
    prices: float,
    lost: float,
    steps: int,
    stock: float,
) -> dict[str, Any]:
    return {
        "profit": float(profit),
        "revenue": float(revenue),
        "units": float(units),
        "avg_price": float(prices / steps) if steps else float("nan"),
        "sell_through": float(units / stock)
        if math.isfinite(stock) and stock > 0
        else float("nan"),
        "lost_sales": float(lost),
        "steps": int(steps),
    }


def play_episodes(
    agent: Any,
    env: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[int],
    *,
    learn: bool = False,
    batch: bool | None = None,
) -> list[dict[str, Any]]:
    """Play one episode per seed pair in a single-seller gymnasium env; one stats dict each.

    The agent must already be bound to ``env``. Each episode resets the env with
    ``env_seeds[i]`` and the agent with ``agent_seeds[i]``; with ``learn`` the agent's
    ``update`` sees every transition (with ``info`` when it takes one). Without it the
    agent's learning is frozen and a bandit plays its greedy choice (:func:`frozen_play`).
    The dicts hold the value columns of :data:`COLUMNS` (profit … steps).

    ``batch``: play all episodes at once, episode i in market i of a
    :class:`~pricegym.envs.vector.MarketVectorEnv` seeded with ``env_seeds[i]``, the
    agent acting on the whole batch — the same episodes as one after another (the
    batched market equals B single markets, and a ``batch_act`` agent is a pure
    function of the observation), one policy call per period instead of one per
    period and episode. Floats agree to rounding, not bit for bit: a torch policy's
    forward pass over a batch sums in another order than over one row (its float32
    outputs may differ in the last bits), so a continuous price may differ by ~1e-7
    relative and a Poisson draw could, rarely, differ with it; grid prices differ
    only where two action logits tie to float32 rounding. ``None`` (default):
    batched when that is possible (agent with ``batch_act``, no learning, a
    ``PricingEnv`` behind standard wrappers only, more than one episode).
    """
    from pricegym.envs.vector import plain_market
    from pricegym.experiments.catalogue import is_catalogue, play_catalogue_episodes

    if len(env_seeds) != len(agent_seeds):
        raise ConfigError(
            f"{len(env_seeds)} env seeds but {len(agent_seeds)} agent seeds; pass one of each "
            "per episode."
        )
    if is_catalogue(env):  # a price vector per period: the catalogue's episode loop
        with frozen_play([agent], [learn]):
            return play_catalogue_episodes(agent, env, env_seeds, agent_seeds, learn)
    market = plain_market(env)
    possible = not learn and getattr(agent, "batch_act", False) and market is not None
    if batch is None:
        batch = possible and len(env_seeds) > 1
    elif batch and not possible:
        raise ConfigError(
            f"batch=True needs an agent whose act takes a batch (batch_act: "
            f"{getattr(agent, 'batch_act', False)}), learn=False (got {learn}) and a "
            "PricingEnv behind gymnasium's standard wrappers only; pass batch=None to choose "
            "automatically."
        )
    if batch:
        assert market is not None
        return _play_batched(agent, *market, env_seeds, agent_seeds)
    with frozen_play([agent], [learn]):
        return _play_loop(agent, env, env_seeds, agent_seeds, learn)


def _play_loop(
    agent: Any, env: Any, env_seeds: Sequence[int], agent_seeds: Sequence[int], learn: bool
) -> list[dict[str, Any]]:
    """The episode loop of :func:`play_episodes`."""
    update = _updater(agent) if learn else None
    rows = []
    for env_seed, agent_seed in zip(env_seeds, agent_seeds, strict=True):
        obs, info = env.reset(seed=int(env_seed))
        agent.reset(seed=int(agent_seed))
        stock = float(info.get("inventory", math.inf))
        profit = revenue = units = prices = lost = 0.0
        steps = 0
        while True:
            action = agent.act(obs)
            nxt, reward, terminated, truncated, info = env.step(action)
            if update is not None:
                update(obs, action, reward, nxt, terminated, info)
            sold = float(info.get("sales", info.get("quantity", 0.0)))
            price = float(info.get("price", math.nan))
            profit += float(reward)
            revenue += float(info.get("revenue", price * sold))
            units += sold
            prices += price
            lost += float(info.get("lost_sales", 0.0))
            stock += float(info.get("replenished", 0.0))
            steps += 1
            obs = nxt
            if terminated or truncated:
                break
        rows.append(_row(profit, revenue, units, prices, lost, steps, stock))
    return rows


def _play_batched(
    agent: Any,
    market: Any,
    limit: int | None,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[int],
) -> list[dict[str, Any]]:
    """:func:`play_episodes` with every episode in one batched market (see ``batch`` there).

    Each total is summed period by period in the same order as the episode loop, so
    the rows differ only as the policy's batched and one-row outputs do (see there).
    """
    from pricegym.envs.vector import MarketVectorEnv

    b = len(env_seeds)
    venv = MarketVectorEnv(
        market.kernel, market.config, num_envs=b, rivals=market.rivals, max_episode_steps=limit
    )
    try:
        obs, info = venv.reset(seed=[int(s) for s in env_seeds])
        agent.reset(seed=int(agent_seeds[0]))  # a pure policy: no per-episode state to reset
        stock = np.array(info["inventory"], dtype=np.float64)  # MarketVectorEnv sets RESET_KEYS
        totals = {k: np.zeros(b) for k in ("profit", "revenue", "units", "prices", "lost")}
        steps = np.zeros(b, dtype=np.int64)
        live = np.ones(b, dtype=bool)
        while live.any():
            obs, reward, terminated, truncated, info = venv.step(agent.act(obs))
            # and every step sets STEP_KEYS: the same values the episode loop reads
            for key, value in (
                ("profit", reward),
                ("revenue", info["revenue"]),
                ("units", info["sales"]),
                ("prices", info["price"]),
                ("lost", info["lost_sales"]),
            ):
                totals[key][live] += value[live]
            stock[live] += info["replenished"][live]
            steps[live] += 1
            live &= ~(terminated | truncated)
    finally:
        venv.close()
    return [
        _row(
            totals["profit"][i],
            totals["revenue"][i],
            totals["units"][i],
            totals["prices"][i],
            totals["lost"][i],
            int(steps[i]),
            float(stock[i]),
        )
        for i in range(b)
    ]


def play_oligopoly(
    agents: Sequence[Any],
    env: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[Sequence[int]],
    *,
    learn: Sequence[bool] | bool = False,
) -> list[list[dict[str, Any]]]:
    """Play episodes of an OligopolyEnv with ``agents[i]`` in seat i; stats per seat per episode.

    Agents must be bound to their seats (:func:`bind_to_seat`). ``agent_seeds[i]`` are
    seat i's reset seeds, one per episode; ``learn`` (one flag, or one per seat) lets a
    seat's agent ``update`` on its own transitions (a seat that does not learn plays
    greedy, :func:`frozen_play`). Each dict adds ``delta``, the
    profit gain of the seat's average profit per round against the benchmarks of
    the regime of each round played (``env.regime_nash_profits`` and
    ``regime_monopoly_profits`` weighted by the rounds spent in each regime;
    without shocks exactly the base market's ``nash_profits``/``monopoly_profits``).
    """
    n = env.n_sellers
    if len(agents) != n:
        raise ConfigError(
            f"{len(agents)} agents for an oligopoly of {n} sellers; give one per seat."
        )
    flags = [bool(learn)] * n if isinstance(learn, bool) else [bool(f) for f in learn]
    with frozen_play(agents, flags):
        return _play_oligopoly_loop(agents, env, env_seeds, agent_seeds, flags)


def _play_oligopoly_loop(
    agents: Sequence[Any],
    env: Any,
    env_seeds: Sequence[int],
    agent_seeds: Sequence[Sequence[int]],
    flags: Sequence[bool],
) -> list[list[dict[str, Any]]]:
    """The episode loop of :func:`play_oligopoly`."""
    from pricegym.envs.equilibrium_solvers import profit_gain

    n = env.n_sellers
    updates = [_updater(a) if f else None for a, f in zip(agents, flags, strict=True)]
    seats = list(env.possible_agents)
    out: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for e, env_seed in enumerate(env_seeds):
        obs, infos = env.reset(seed=int(env_seed))
        for i, agent in enumerate(agents):
            agent.reset(seed=int(agent_seeds[i][e]))
        totals = np.zeros((n, 4))  # profit, revenue, units, price sum
        visits = np.zeros(len(env.regime_nash_profits))  # rounds played in each regime
        steps = 0
        while env.agents:
            actions = {a: agents[i].act(obs[a]) for i, a in enumerate(seats)}
            nxt, rewards, terms, truncs, infos = env.step(actions)
            visits[infos[seats[0]]["regime"]] += 1
            for i, a in enumerate(seats):
                info = infos[a]
                update = updates[i]
                if update is not None:
                    update(obs[a], actions[a], rewards[a], nxt[a], terms[a], info)
                q = float(info["quantity"])
                totals[i] += (rewards[a], info["price"] * q, q, info["price"])
            steps += 1
            obs = nxt
            if any(terms.values()) or all(truncs.values()):
                break
        # The benchmarks of the regime in force, averaged over the rounds played
        # (without shocks: weight 1.0 on the one regime, the base market's profits).
        weights = visits / steps
        nash, monopoly = weights @ env.regime_nash_profits, weights @ env.regime_monopoly_profits
        for i in range(n):
            profit, revenue, units, prices = totals[i]
            row = _row(profit, revenue, units, prices, 0.0, steps, math.inf)
            row["delta"] = float(profit_gain(totals[i, 0] / steps, nash[i], monopoly[i]))
            out[i].append(row)
    return out


# ==================================================================== public API
def _resolve_market(market: Any) -> tuple[Any, Any]:
    """(MarketSpec or None, env or None) for whatever :func:`evaluate` was given."""
    import gymnasium

    if isinstance(market, MarketSpec):
        return market, None
    if isinstance(market, ExperimentConfig):
        return market.market, None
    if isinstance(market, gymnasium.Env):
        return None, market
    if isinstance(market, Mapping):
        if "market" in market:
            return load_experiment(market).market, None
        return parse_market(market), None
    if isinstance(market, str | Path):
        _load_registrations()
        if isinstance(market, str) and market in gymnasium.registry:
            return None, gymnasium.make(market)
        return load_experiment(market).market, None
    from pricegym.envs.oligopoly import OligopolyEnv

    if isinstance(market, OligopolyEnv):
        raise ConfigError(
            "evaluate() plays one seller; an OligopolyEnv has several. Fix: pass the market's "
            "description (a dict with 'oligopoly': {...}) with rivals=[...], or wrap the env in "
            "OpponentWrapper(env, rivals)."
        )
    raise ConfigError(
        f"market={type(market).__name__} is not a market. Fix: pass a gymnasium env, a registered "
        "id ('pricegym/Markdown-v0'), a bundled experiment name or YAML path, or a market section "
        "as a dict ({'demand': {...}, 'options': {...}})."
    )


def evaluate(
    agent: Any,
    market: Any,
    episodes: int = 10,
    seed: int = 0,
    *,
    rivals: Sequence[Any] = (),
    name: str | None = None,
    market_name: str | None = None,
    bind: bool = True,
    learn: bool = False,
    batch: bool | None = None,
    train_episodes: int = 0,
) -> pd.DataFrame:
    """Play ``agent`` for ``episodes`` episodes in ``market``; one tidy row per episode.

    Args:
        agent: a :class:`~pricegym.agents.base.PricingAgent` (any kind, trained or not).
        market: a gymnasium env (used as is); a registered id; a bundled experiment
            name or YAML path (its market; a fitted model is fitted here, and with
            several models the first is used); a market section as a dict; or a
            ``MarketSpec``.
        episodes: number of episodes (>= 1).
        seed: entropy of the episodes' seeds. Env and agent seeds come from
            :func:`derive_seeds`; they do not depend on the agent, so two agents
            evaluated with the same ``market`` and ``seed`` face the same demand draws
            (paired comparisons).
        rivals: rule-based rivals: competitor-price setters inside a single-seller
            market, or the sellers of the other seats of an oligopoly (one agent for
            all, or one per seat).
        name: the ``agent`` column (default ``agent.name``).
        market_name: the ``market`` column (default: the market's label).
        bind: bind ``agent`` (and the rivals) to the market first; pass False for an
            agent bound to an equivalent market (e.g. a policy evaluated in another
            fitted market, as in cross-model evaluation).
        learn: let the agent ``update`` on every transition (online learners). Without
            it learning is frozen and a bandit plays its greedy choice (the best learned
            mean, or the best value at the posterior-mean demand; see
            :func:`frozen_play`).
        batch: play the episodes at once in a batched market (the same episodes to
            float rounding, one policy call per period); None: whenever possible (see
            :func:`play_episodes`).
        train_episodes: first train an online learner (a bandit: an agent that
            ``learns`` through ``update`` and has no ``train`` method) for this many
            episodes of the market, exploring and updating after every period, as the
            experiment runner trains it (:func:`train_online`); 0 (default): play the
            agent as it is. The training episodes' seeds derive from ``seed`` under
            another key than the evaluation's, so the agent is evaluated on demand
            draws it has not seen.

    Returns:
        A DataFrame with the columns of :data:`COLUMNS` (plus ``delta`` in an oligopoly).

    Raises:
        ConfigError: a bad ``episodes`` or ``train_episodes``, an unknown market, an
            agent that cannot play it, or ``train_episodes`` for an agent that does not
            learn online.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int | np.integer) or episodes < 1:
        raise ConfigError(f"episodes={episodes!r} must be an integer >= 1. Fix: e.g. episodes=10.")
    if (
        isinstance(train_episodes, bool)
        or not isinstance(train_episodes, int | np.integer)
        or train_episodes < 0
    ):
        raise ConfigError(
            f"train_episodes={train_episodes!r} must be an integer >= 0. Fix: e.g. "
            "train_episodes=20 (or 0 to play the agent as it is)."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed={seed!r} must be an integer >= 0. Fix: e.g. seed=0.")
    spec, env = _resolve_market(market)
    label = market_name
    rivals = list(rivals)
    env_seeds = derive_seeds(seed, ("env",), episodes)
    agent_seeds = derive_seeds(seed, ("agent",), episodes)
    agent_name = name or agent.name
    if spec is not None and spec.is_oligopoly:
        env = build_env(spec)
        n = env.n_sellers
        if not rivals:
            raise ConfigError(
                f"market {spec.name!r} is an oligopoly of {n} sellers; evaluate() needs the "
                f"others. Fix: pass rivals=[...] with {n - 1} agent(s), one per other seat."
            )
        if len(rivals) != n - 1:
            raise ConfigError(
                f"rivals: {len(rivals)} given for the {n - 1} other seat(s) of market "
                f"{spec.name!r}. Fix: pass {n - 1} separate rival agents (one per seat)."
            )
        others = rivals
        seated = [agent, *others]
        if bind:
            for i, a in enumerate(seated):
                bind_to_seat(a, env, i)
        if train_episodes:
            train_online(agent, env, train_episodes, seed, rivals=others)
        seeds = [agent_seeds, *[derive_seeds(seed, ("rival", i), episodes) for i in range(1, n)]]
        flags = [learn] + [False] * (n - 1)
        stats = play_oligopoly(seated, env, env_seeds, seeds, learn=flags)[0]
        label = label or spec.name
    else:
        if spec is not None:
            kernel = next(iter(market_kernels(spec).values()))
            env = build_env(spec, kernel, rivals)
            label = label or next(iter(spec.market_names()))
        elif rivals:
            raise ConfigError(
                "rivals= is only used when evaluate() builds the market; an env already has its "
                "competitors. Fix: build the env with rivals=[...] yourself, or pass the market's "
                "description."
            )
        if label is None:
            env_spec = getattr(env, "spec", None)
            label = getattr(env_spec, "id", None) or type(env.unwrapped).__name__
        if bind:
            agent.bind(env)
        if train_episodes:
            train_online(agent, env, train_episodes, seed)
        stats = play_episodes(agent, env, env_seeds, agent_seeds, learn=learn, batch=batch)
    rows = [
        {"market": label, "agent": agent_name, "seed": int(seed), "episode": e, **s}
        for e, s in enumerate(stats)
    ]
    columns = list(COLUMNS) + [c for c in rows[0] if c not in COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def learns_online(agent: Any) -> bool:
    """Whether ``agent`` learns through ``update`` (``learns``, and no offline ``train``)."""
    return bool(getattr(agent, "learns", False)) and not callable(getattr(agent, "train", None))


def train_online(
    agent: Any, env: Any, episodes: int, seed: int, *, rivals: Sequence[Any] = ()
) -> None:
    """Train an online learner bound to ``env`` for ``episodes`` episodes, as the runner does.

    The agent explores (``explore = True`` while it trains, for agents with that flag)
    and updates after every period; ``rivals`` are the other seats of an oligopoly
    ``env`` (bound, not learning). Seeds derive from ``seed`` under the key
    ``("train",)``, apart from :func:`evaluate`'s evaluation seeds.

    Raises:
        ConfigError: ``agent`` does not learn online (see :func:`learns_online`).
    """
    # the runner builds on this module (it imports evaluate)
    from pricegym.experiments.runner._compute import _train_oligopoly, _train_single

    if not learns_online(agent):
        how = (
            "it trains offline: call its train(env, ...) or use `pricegym run` with train: "
            "{timesteps: N}"
            if callable(getattr(agent, "train", None))
            else "it does not learn"
        )
        raise ConfigError(
            f"train_episodes={episodes}: agent {getattr(agent, 'name', agent)!r} is not an online "
            f"learner ({how}). Fix: pass train_episodes=0."
        )
    train_seed = derive_seeds(seed, ("train",), 1)[0]
    budget = {"episodes": int(episodes)}
    if rivals:
        flags = [True] + [False] * len(rivals)
        _train_oligopoly([agent, *rivals], flags, env, [budget] * len(flags), train_seed)
    else:
        _train_single(agent, env, budget, train_seed)
