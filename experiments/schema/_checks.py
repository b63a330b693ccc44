"""Impossible combinations across the sections of an experiment, refused by name.

:func:`_check_combinations` runs once every section has parsed: a continuous-action
agent in a discrete market, the DP optimum in an oligopoly or against rivals,
Q-learning with one seller, ``round_robin`` without a two-seller oligopoly,
``vs_rules`` without rivals, ``cross_model`` with one model, a training budget
that does not fit the way the agent learns, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pricegym.experiments.schema._common import _error
from pricegym.experiments.schema._specs import AgentSpec, MarketSpec

if TYPE_CHECKING:  # annotations only: schema.py imports this module
    from pricegym.experiments.schema import ExperimentConfig

#: Agent kinds that need a discrete price grid / a continuous price action. A class may
#: instead declare ``action_types = ("discrete",)`` (or ``("continuous",)``) itself.
_DISCRETE_ONLY = frozenset(
    {
        "dp",
        "dqn",
        "qlearning",
        "epsilon_greedy",
        "ucb1",
        "thompson",
        "inventory_thompson",
        "maskable_ppo",
    }
)
_CONTINUOUS_ONLY = frozenset({"sac", "td3", "ddpg"})


# -------------------------------------------------------------------- combinations
def _action_types(cls: type, params: Mapping[str, Any]) -> set[str]:
    declared = getattr(cls, "action_types", None)
    if declared:
        return set(declared)
    names = {str(getattr(cls, "kind", ""))}
    for key in ("algo", "algorithm"):
        if isinstance(params.get(key), str):
            names.add(params[key].lower())
    if names & _CONTINUOUS_ONLY:
        return {"continuous"}
    if names & _DISCRETE_ONLY:
        return {"discrete"}
    return {"discrete", "continuous"}


def _check_combinations(config: ExperimentConfig) -> None:
    from pricegym.agents.base import agent_kinds  # gymnasium, numpy

    market, modes, kinds = config.market, config.tournament.modes, agent_kinds()
    if market.is_oligopoly and not market.finite:
        raise _error(
            "market.oligopoly.horizon",
            None,
            "evaluation episodes need an end, and this oligopoly plays forever",
            "give the rounds per episode, e.g. horizon: 100",
        )
    if market.is_oligopoly and "solo" in modes:
        raise _error(
            "tournament.modes",
            list(modes),
            "'solo' puts each agent alone in the market, but an oligopoly has several sellers",
            "use vs_rules (rivals in the other seats) or round_robin (agents against each other)",
        )
    if "round_robin" in modes:
        if not market.is_oligopoly:
            raise _error(
                "tournament.modes",
                list(modes),
                "'round_robin' seats agents against each other in an oligopoly, "
                "but the market has one seller",
                "use market.oligopoly, or vs_rules for rule-based rivals "
                "inside a single-seller market",
            )
        if market.n_sellers != 2:
            raise _error(
                "market.oligopoly.n_sellers",
                market.n_sellers,
                "round_robin plays pairs of agents, so the oligopoly needs exactly 2 sellers",
                "set n_sellers: 2",
            )
    if "vs_rules" in modes:
        if not config.tournament.rivals:
            raise _error(
                "tournament.rivals",
                [],
                "'vs_rules' plays each agent against each listed rival, and none is listed",
                "add rivals: [{kind: undercut, params: {step: 0.05}}]",
            )
        if not market.is_oligopoly and market.has_competitors is False:
            raise _error(
                "tournament.modes",
                list(modes),
                "'vs_rules' needs a competitor price for the rival to set, and market "
                f"{market.name!r} "
                "has no competitor column",
                "use data with a competitor column (market.data.competitors), a market with "
                "competitors, or an oligopoly",
            )
    if "cross_model" in modes and len(market.models) < 2:
        raise _error(
            "market.model",
            [m.to_dict() for m in market.models] or None,
            "'cross_model' trains in the market of one model and evaluates in the others, so it "
            "needs at least two models",
            "give market.model as a list, e.g. [{family: poisson}, {family: loglinear}]",
        )
    for i, agent in enumerate(config.agents):
        path, cls = f"agents[{i}]", kinds[agent.kind]
        types = _action_types(cls, agent.params)
        if market.action not in types:
            need = next(iter(types))
            raise _error(
                f"{path}.kind",
                agent.kind,
                f"this agent needs a {need} price action, "
                f"and the market's action is {market.action!r}",
                f"set market action: {need} (market.options.action or market.oligopoly.action), or "
                f"choose an agent for {market.action} prices"
                + (
                    " (e.g. ppo, a2c, sac, td3)"
                    if market.action == "continuous"
                    else " (e.g. ppo, dqn, a bandit)"
                ),
            )
        _check_budget(agent, kinds[agent.kind], path)
        _check_likelihood(agent, market, path)
        played = [m for m in modes if agent.plays(m)]
        if agent.kind == "dp":
            if market.is_oligopoly:
                raise _error(
                    f"{path}.kind",
                    "dp",
                    "the DP optimum is defined for one seller with a known demand model, "
                    "and the market is an oligopoly",
                    "remove it; oligopoly reports quote the Nash and monopoly benchmarks instead",
                )
            if "vs_rules" in played:
                raise _error(
                    f"{path}.modes",
                    list(agent.modes) if agent.modes else None,
                    "the DP optimum cannot play against rival agents "
                    "(their reactions are not in its state)",
                    f"set {path}.modes: [solo]",
                )
            if not market.finite:
                raise _error(
                    f"{path}.kind",
                    "dp",
                    "the DP optimum needs a season of finite length (horizon) "
                    "or a finite inventory",
                    "set market.options.horizon (e.g. 52) or market.options.inventory",
                )
        offline = callable(getattr(kinds[agent.kind], "train", None))
        if offline and agent.train and "round_robin" in played:
            raise _error(
                f"{path}.train",
                dict(agent.train),
                "an agent that trains offline (its own train method, e.g. SB3) cannot learn in a "
                "round robin, where it meets itself and other learning sellers",
                f"give {path}.policy (a trained agent) and drop train, or leave round_robin out "
                f"of {path}.modes and train it in vs_rules",
            )
        if agent.kind == "qlearning" and not market.is_oligopoly:
            raise _error(
                f"{path}.kind",
                "qlearning",
                "tabular Q-learning (Calvano et al.) learns in a repeated oligopoly, "
                "and the market has one seller",
                "use market.oligopoly, or a bandit / an SB3 agent for a single seller",
            )
        if not played:
            raise _error(
                f"{path}.modes",
                list(agent.modes or ()),
                "the agent plays in none of the tournament's modes",
                f"use some of {list(modes)}",
            )
    for i, rival in enumerate(config.tournament.rivals):
        types = _action_types(kinds[rival.kind], rival.params)
        if market.action not in types:
            raise _error(
                f"tournament.rivals[{i}].kind",
                rival.kind,
                f"this rival needs a {next(iter(types))} price action, "
                f"and the market's is {market.action!r}",
                "choose another rule",
            )


#: Agent kinds with a ``likelihood`` of units sold (Thompson sampling).
_LIKELIHOOD_KINDS = frozenset({"thompson", "inventory_thompson"})


def _check_likelihood(agent: AgentSpec, market: MarketSpec, path: str) -> None:
    """An explicit Bernoulli likelihood needs a market whose units are bounded."""
    if agent.kind not in _LIKELIHOOD_KINDS or agent.params.get("likelihood") != "bernoulli":
        return
    if market.is_oligopoly:
        drawn = bool((market.oligopoly or {}).get("noise", False))
    else:
        drawn = market.options.get("noise", True) is not False
    if not drawn:
        return  # expected units: bind checks them against trials
    trials = agent.params.get("trials", 1)
    raise _error(
        f"{path}.params.likelihood",
        "bernoulli",
        f"the Bernoulli likelihood allows at most trials={trials} unit(s) sold per period, and "
        "this market draws units from a count or volume noise model (Poisson, negative "
        "binomial, log-normal) that has no upper bound, so the run would fail at the first "
        "period that sells more",
        f"set {path}.params.likelihood: poisson, or leave it out (the default 'auto' picks "
        "poisson for such markets)",
    )


def _check_budget(agent: AgentSpec, cls: type, path: str) -> None:
    """``agents[i].train`` fits the way the agent learns (offline ``train`` or online)."""
    if not agent.train:
        return
    offline = callable(getattr(cls, "train", None))
    budget = dict(agent.train)
    if not offline and not getattr(cls, "learns", False):
        raise _error(
            f"{path}.train",
            budget,
            f"agent kind {agent.kind!r} does not learn, so there is nothing to train",
            "drop train, or choose a learning agent (a bandit, qlearning, sb3)",
        )
    if offline and "timesteps" not in budget:
        raise _error(
            f"{path}.train",
            budget,
            f"agent kind {agent.kind!r} trains offline for a number of market periods (frames)",
            "give train: {timesteps: N}",
        )
    if not offline and "timesteps" in budget:
        raise _error(
            f"{path}.train",
            budget,
            f"timesteps is the budget of agents with a train method (SB3); {agent.kind!r} "
            "learns online, episode by episode",
            "give train: {episodes: N} (or periods: N for Q-learning)",
        )
    if not offline and not ({"episodes", "periods"} & set(budget)):
        raise _error(
            f"{path}.train",
            budget,
            "an online learner's budget is a number of episodes (or periods)",
            "give train: {episodes: N}",
        )
