"""Invariant checks that ship with the package, usable on any pricegym market.

:func:`check_market_invariants` plays a random (or given) policy in a single-seller
env and verifies, step by step, the accounting identities every market must keep:

- sales ≤ demand, sales ≤ inventory on hand, sales ≥ 0, lost = demand − sales;
- inventory is conserved: on hand − sold + replenished = inventory after the period;
- revenue = price × sales; cost = unit cost × sales;
- profit = revenue − cost − holding + salvage, and the reward is that profit;
- holding cost and salvage are >= 0; rewards and observations are finite, and every
  observation (from ``reset`` and ``step``) lies in the observation space.

It raises :class:`InvariantViolation` with the step, the quantity and the numbers,
so a test (or a user checking a custom kernel) learns exactly what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["InvariantViolation", "check_market_invariants"]

#: Relative tolerance of the accounting identities (float64 arithmetic).
RTOL = 1e-9


class InvariantViolation(AssertionError):
    """A market broke an accounting identity (the message has the step and numbers)."""


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= RTOL * max(1.0, abs(scale))


def check_market_invariants(
    env: gym.Env,
    n_steps: int = 500,
    seed: int = 0,
    policy: Callable[[np.ndarray], Any] | None = None,
) -> dict[str, float]:
    """Roll out ``n_steps`` in ``env`` and verify the invariants of the module docstring.

    Args:
        env: a single-seller market whose ``info`` carries ``price``, ``demand``,
            ``sales``, ``lost_sales``, ``revenue``, ``cost``, ``holding_cost``,
            ``salvage``, ``profit`` and ``inventory`` (``inf`` when unlimited), and
            optionally ``replenished`` (units added this period; else stock may only
            fall). The stock at the start of an episode is the reset info's
            ``inventory`` when present (else it is inferred from the first step).
            The unit cost is ``env.unwrapped.config.cost`` (0 if absent).
        n_steps: steps to play (episodes restart as needed).
        seed: seed of the first reset and of the random policy.
        policy: maps an observation to an action; default uniform random actions
            from the action space (seeded with ``seed``).

    Returns:
        Totals over the rollout: ``steps``, ``episodes`` (started), ``units_sold``,
        ``units_demanded``, ``units_replenished`` and ``profit``.

    Raises:
        InvariantViolation: on the first broken identity.
    """
    env.action_space.seed(seed)
    act = policy or (lambda _obs: env.action_space.sample())
    config = getattr(env.unwrapped, "config", None)
    unit_cost = float(getattr(config, "cost", 0.0))
    totals = dict.fromkeys(
        ("steps", "episodes", "units_sold", "units_demanded", "units_replenished", "profit"), 0.0
    )
    need_reset, stock = True, None
    obs: Any = None
    for step in range(n_steps):
        if need_reset:
            obs, info = env.reset(seed=seed if step == 0 else None)
            _check_observation(env, obs, step, "reset")
            stock = float(info["inventory"]) if "inventory" in info else None
            totals["episodes"] += 1
        obs, reward, terminated, truncated, info = env.step(act(obs))
        _check_observation(env, obs, step, "step")
        fail = _failure(info, float(reward), unit_cost)
        if fail:
            raise InvariantViolation(f"step {step}: {fail}; info={info}")
        sales, inv = float(info["sales"]), float(info["inventory"])
        added = float(info.get("replenished", 0.0))
        if added < 0:
            raise InvariantViolation(f"step {step}: negative replenishment {added}; info={info}")
        if stock is None:  # no reset info: infer the stock on hand from this step
            stock = inv + sales - added
        if np.isfinite(stock) or np.isfinite(inv):
            if sales > stock * (1 + RTOL) + RTOL:
                raise InvariantViolation(
                    f"step {step}: sales {sales} exceed the inventory on hand {stock}; info={info}"
                )
            expected = stock - sales + added
            if not _close(inv, expected, expected):
                raise InvariantViolation(
                    f"step {step}: inventory {inv} != on hand {stock} - sold {sales} + "
                    f"replenished {added} (inventory is not conserved); info={info}"
                )
        stock = inv
        totals["steps"] += 1
        totals["units_sold"] += sales
        totals["units_demanded"] += float(info["demand"])
        totals["units_replenished"] += added
        totals["profit"] += float(reward)
        need_reset = bool(terminated or truncated)
    return totals


def _check_observation(env: gym.Env, obs: Any, step: int, where: str) -> None:
    if not np.all(np.isfinite(np.asarray(obs, dtype=np.float64))):
        raise InvariantViolation(f"step {step}: {where} observation {obs} is not finite")
    if not env.observation_space.contains(obs):
        raise InvariantViolation(
            f"step {step}: {where} observation {obs} lies outside {env.observation_space}"
        )


def _failure(info: dict[str, Any], reward: float, unit_cost: float) -> str | None:
    """The first broken per-step identity, or None."""
    price, demand, sales = float(info["price"]), float(info["demand"]), float(info["sales"])
    lost = float(info["lost_sales"])
    revenue, cost = float(info["revenue"]), float(info["cost"])
    holding, salvage = float(info["holding_cost"]), float(info["salvage"])
    profit = float(info["profit"])
    if not np.isfinite(reward):
        return f"reward {reward} is not finite"
    if sales < 0 or demand < 0:
        return f"negative sales {sales} or demand {demand}"
    if holding < 0 or salvage < 0:
        return f"negative holding cost {holding} or salvage {salvage}"
    if sales > demand * (1 + RTOL) + RTOL:
        return f"sales {sales} exceed demand {demand}"
    if not _close(lost, demand - sales, demand):
        return f"lost sales {lost} != demand {demand} - sales {sales}"
    if not _close(revenue, price * sales, revenue):
        return f"revenue {revenue} != price {price} x sales {sales}"
    if not _close(cost, unit_cost * sales, cost):
        return f"cost {cost} != unit cost {unit_cost} x sales {sales}"
    if not _close(profit, revenue - cost - holding + salvage, revenue):
        return f"profit {profit} != revenue - cost - holding + salvage"
    if not _close(reward, profit, profit):
        return f"reward {reward} != profit {profit}"
    return None
