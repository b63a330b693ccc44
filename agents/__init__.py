"""Pricing agents: one protocol for rules, bandits, Q-learning, SB3 and the DP optimum.

Every agent is a :class:`~pricegym.agents.base.PricingAgent`; build one by kind
with :func:`make_agent` (``make_agent("ucb1")``) or by class. Names are imported
lazily (PEP 562), so importing this package does not import torch or
stable-baselines3 until an SB3 agent is used.
"""

from __future__ import annotations

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
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
