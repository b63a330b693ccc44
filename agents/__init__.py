"""Pricing agents (rules, bandits, Q-learning, stable-baselines3, DP optimum).

The agents are specified in issue 4 of the project tracker; this package is the
place they live. It deliberately exports nothing yet.
"""

__all__: list[str] = []
