"""Action masks of :class:`~pricegym.agents.sb3.SB3Agent` (MaskablePPO): rules and the VecEnv hook.

A mask rule of :data:`ACTION_MASKS` turns raw observations (B, d) into valid-price
masks (B, n) from a :class:`MaskContext` (the market's price grid and observation
layout); :func:`_mask_spec` validates the agent's ``action_mask`` argument and
:class:`ActionMaskVecEnv` gives vectorised markets sb3-contrib's ``action_masks()``
hook. The module docstring of :mod:`pricegym.agents.sb3` describes the rules;
everything here is re-exported there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from pricegym.agents.sb3._hyperparams import _unknown
from pricegym.errors import ConfigError

#: Relative tolerance of price comparisons in masks (observations are float32).
_PRICE_RTOL = 1e-6


# ==================================================================== action masks
@dataclasses.dataclass(frozen=True)
class MaskContext:
    """What a mask rule knows about the market: its price grid and observation layout.

    Attributes:
        prices: the grid (action i is ``prices[i]``).
        p_max: the top of the price range (observed prices are price / p_max).
        obs_index: observation name → position (the env's ``observation_names``).
    """

    prices: tuple[float, ...]
    p_max: float
    obs_index: Mapping[str, int]

    @classmethod
    def from_env(cls, env: Any) -> MaskContext:
        """From a pricegym market (single, batched, or a wrapper of one) with a price grid."""
        base = getattr(env, "unwrapped", env)
        base = getattr(base, "venv", base)  # SB3VecEnv → MarketVectorEnv
        prices = getattr(base, "prices", None)
        names = getattr(base, "observation_names", None)
        if prices is None or names is None:
            raise ConfigError(
                f"action masks need a pricegym market with a discrete price grid and named "
                f"observations; {type(base).__name__} has none. Use a PricingEnv with "
                "action='discrete'."
            )
        return cls(
            tuple(float(p) for p in prices),
            float(base.p_max),
            {str(n): i for i, n in enumerate(names)},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (inverse of ``MaskContext(**d)``)."""
        return {"prices": list(self.prices), "p_max": self.p_max, "obs_index": dict(self.obs_index)}


def _need(ctx: MaskContext, name: str, rule: str) -> int:
    if name not in ctx.obs_index:
        raise ConfigError(
            f"action mask rule {rule!r} reads the observation entry {name!r}, which this "
            f"market does not have (entries: {list(ctx.obs_index)})."
        )
    return ctx.obs_index[name]


def _mask_markdown(obs: np.ndarray, ctx: MaskContext, spec: Mapping[str, Any]) -> np.ndarray:
    """Prices ≤ last period's own price; every price in the season's first period."""
    prices = np.asarray(ctx.prices)
    last = obs[:, _need(ctx, "own_last_price", "markdown")].astype(np.float64) * ctx.p_max
    first = obs[:, _need(ctx, "time_remaining", "markdown")] >= 1.0 - _PRICE_RTOL
    allowed = prices[None, :] <= last[:, None] * (1.0 + _PRICE_RTOL)
    allowed |= first[:, None]
    allowed[:, 0] = True  # the lowest price is always sellable: a mask is never empty
    return allowed


def _mask_price_range(obs: np.ndarray, ctx: MaskContext, spec: Mapping[str, Any]) -> np.ndarray:
    """Grid prices in [low, high] (either bound optional)."""
    prices = np.asarray(ctx.prices)
    low = float(spec.get("low", -math.inf))
    high = float(spec.get("high", math.inf))
    ok = (prices >= low * (1.0 - _PRICE_RTOL)) & (prices <= high * (1.0 + _PRICE_RTOL))
    if not ok.any():
        raise ConfigError(
            f"action mask price_range [{low:g}, {high:g}] contains none of the market's prices "
            f"[{prices[0]:g} … {prices[-1]:g}]; widen the range."
        )
    return np.broadcast_to(ok, (obs.shape[0], prices.size)).copy()


#: Mask rule name → (function of (raw observations (B, d), context, spec) → bool (B, n),
#: the spec keys it takes besides ``rule``).
ACTION_MASKS: dict[
    str, tuple[Callable[[np.ndarray, MaskContext, Mapping[str, Any]], np.ndarray], tuple[str, ...]]
] = {
    "markdown": (_mask_markdown, ()),
    "price_range": (_mask_price_range, ("low", "high")),
}


def _mask_spec(action_mask: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The normalised mask spec ``{"rule": name, ...}`` (or None), validated."""
    if action_mask is None:
        return None
    spec = {"rule": action_mask} if isinstance(action_mask, str) else action_mask
    if not isinstance(spec, Mapping) or "rule" not in spec:
        raise ConfigError(
            f"action_mask={action_mask!r} must be a rule name ({', '.join(ACTION_MASKS)}) or a "
            "mapping {'rule': name, ...}."
        )
    rule = spec["rule"]
    if rule not in ACTION_MASKS:
        raise _unknown(str(rule), list(ACTION_MASKS), "action_mask rule")
    takes = ACTION_MASKS[rule][1]
    for key in spec:
        if key != "rule" and key not in takes:
            raise _unknown(str(key), takes, f"action_mask rule {rule!r}")
        if key != "rule" and not isinstance(spec[key], int | float):
            raise ConfigError(f"action_mask {key}={spec[key]!r} must be a number (a price).")
    return dict(spec)


class ActionMaskVecEnv(VecEnvWrapper):
    """Gives a VecEnv sb3-contrib's ``action_masks()`` hook, computed from raw observations.

    MaskablePPO and ``MaskableEvalCallback`` ask ``env_method("action_masks")`` for one
    mask per env before each step; this wrapper keeps the latest observations (after
    a reset, or after a step: those of the markets that just reset are already the
    reset observations) and evaluates ``mask_fn`` on them. Put it below
    ``VecNormalize`` so that the rule sees raw observations.

    Args:
        venv: the vectorised markets.
        mask_fn: raw observations (B, d) → bool masks (B, n).
    """

    def __init__(self, venv: VecEnv, mask_fn: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__(venv)
        self._mask_fn = mask_fn
        self._obs: np.ndarray | None = None

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        self._obs = np.asarray(obs)
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        self._obs = np.asarray(obs)
        return obs, rewards, dones, infos

    def action_masks(self) -> np.ndarray:
        """Masks (num_envs, n) of the valid prices in the current observations."""
        if self._obs is None:
            raise RuntimeError("action_masks() before reset()")
        return self._mask_fn(self._obs)

    def has_attr(self, attr_name: str) -> bool:
        return attr_name == "action_masks" or self.venv.has_attr(attr_name)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        if method_name == "action_masks":
            masks = self.action_masks()
            return [masks[i] for i in self._get_indices(indices)]
        return self.venv.env_method(method_name, *method_args, indices=indices, **method_kwargs)
