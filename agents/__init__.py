"""Pricing agents: one protocol for rules, bandits, Q-learning, SB3 and the DP optimum.

Every agent is a :class:`~pricegym.agents.base.PricingAgent`; build one by kind
with :func:`make_agent` (``make_agent("ucb1")``) or by class. Names are imported
lazily (PEP 562), so importing this package does not import torch or
stable-baselines3 until an SB3 agent is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegym._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "ActionCodec": "pricegym.agents.view",
    "MarketView": "pricegym.agents.view",
    "PricingAgent": "pricegym.agents.base",
    "agent_kinds": "pricegym.agents.base",
    "make_agent": "pricegym.agents.base",
    "CostPlus": "pricegym.agents.rules",
    "FixedPrice": "pricegym.agents.rules",
    "FollowLeader": "pricegym.agents.rules",
    "GrimTrigger": "pricegym.agents.rules",
    "InventoryBalancing": "pricegym.agents.rules",
    "MarkdownSchedule": "pricegym.agents.rules",
    "MatchLowest": "pricegym.agents.rules",
    "Myopic": "pricegym.agents.rules",
    "RandomPrice": "pricegym.agents.rules",
    "TitForTat": "pricegym.agents.rules",
    "Undercut": "pricegym.agents.rules",
    "EpsilonGreedy": "pricegym.agents.bandits",
    "InventoryThompsonSampling": "pricegym.agents.bandits",
    "ThompsonSampling": "pricegym.agents.bandits",
    "UCB1": "pricegym.agents.bandits",
    "DPAgent": "pricegym.agents.dp",
    "solve_dp": "pricegym.agents.dp",
    "gallego_van_ryzin": "pricegym.agents.dp",
    "QLearningAgent": "pricegym.agents.qlearning",
    "run_sessions": "pricegym.agents.qlearning",
    "bertrand_nash": "pricegym.agents.equilibrium",
    "joint_monopoly": "pricegym.agents.equilibrium",
    "collusion_index": "pricegym.agents.equilibrium",
    "SB3Agent": "pricegym.agents.sb3",
    "CatalogueCostPlus": "pricegym.agents.catalogue_rules",
    "CatalogueFixedPrice": "pricegym.agents.catalogue_rules",
    "CatalogueMarkdown": "pricegym.agents.catalogue_rules",
    "CatalogueMyopic": "pricegym.agents.catalogue_rules",
    "CatalogueThompson": "pricegym.agents.catalogue_bandit",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from pricegym.agents.bandits import (
        UCB1,
        EpsilonGreedy,
        InventoryThompsonSampling,
        ThompsonSampling,
    )
    from pricegym.agents.base import PricingAgent, agent_kinds, make_agent
    from pricegym.agents.catalogue_bandit import CatalogueThompson
    from pricegym.agents.catalogue_rules import (
        CatalogueCostPlus,
        CatalogueFixedPrice,
        CatalogueMarkdown,
        CatalogueMyopic,
    )
    from pricegym.agents.dp import DPAgent, gallego_van_ryzin, solve_dp
    from pricegym.agents.equilibrium import bertrand_nash, collusion_index, joint_monopoly
    from pricegym.agents.qlearning import QLearningAgent, run_sessions
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
    from pricegym.agents.sb3 import SB3Agent
    from pricegym.agents.view import ActionCodec, MarketView

#: literal, so that static tools read it (tests/test_init.py checks it equals _EXPORTS)
__all__ = [
    "UCB1",
    "ActionCodec",
    "CatalogueCostPlus",
    "CatalogueFixedPrice",
    "CatalogueMarkdown",
    "CatalogueMyopic",
    "CatalogueThompson",
    "CostPlus",
    "DPAgent",
    "EpsilonGreedy",
    "FixedPrice",
    "FollowLeader",
    "GrimTrigger",
    "InventoryBalancing",
    "InventoryThompsonSampling",
    "MarkdownSchedule",
    "MarketView",
    "MatchLowest",
    "Myopic",
    "PricingAgent",
    "QLearningAgent",
    "RandomPrice",
    "SB3Agent",
    "ThompsonSampling",
    "TitForTat",
    "Undercut",
    "agent_kinds",
    "bertrand_nash",
    "collusion_index",
    "gallego_van_ryzin",
    "joint_monopoly",
    "make_agent",
    "run_sessions",
    "solve_dp",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
