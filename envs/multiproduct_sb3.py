"""SB3's ``VecEnv`` API over the batched catalogue market: :class:`CatalogueSB3VecEnv`.

SB3 resets a finished environment inside ``step`` and hands the last observation
over in ``infos[i]["terminal_observation"]``;
:class:`~pricegym.envs.multiproduct_vector.MultiProductVectorEnv` resets at the
next step (gymnasium's ``NEXT_STEP``). This adapter resets the markets that ended
right after the step (:meth:`MultiProductVectorEnv.reset_markets`, which draws
nothing, so each market's random stream is the one its single env would use) and
reports ``dones = terminated | truncated`` (the market never truncates itself).
Kept apart from the market, which needs nothing of SB3, as
:mod:`pricegym.envs.sb3_vec` is for the single-product one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from pricegym.envs.multiproduct_vector import MultiProductVectorEnv
from pricegym.errors import ConfigError

__all__ = ["CatalogueSB3VecEnv"]


class CatalogueSB3VecEnv(VecEnv):
    """SB3's :class:`VecEnv` over a :class:`MultiProductVectorEnv` (see the module).

    - ``reset()``: seeds given with ``seed(s)`` apply to that reset (market i: s + i).
    - ``step_wait()`` → (obs (B, d) float32, rewards (B,) float32, dones (B,), infos):
      ``infos[i]`` holds ``terminal_observation`` for a market that ended (and
      ``TimeLimit.truncated`` False), nothing else (B dicts of entries every step
      would cost more than the step).
    - ``get_attr``/``set_attr``/``env_method`` reach the one batched env.
    """

    def __init__(self, venv: MultiProductVectorEnv) -> None:
        if not isinstance(venv, MultiProductVectorEnv):
            raise ConfigError(f"venv={venv!r} is not a MultiProductVectorEnv; build one first.")
        self.venv = venv
        self.render_mode = None
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        """Reset every market (with the seeds set since the last reset)."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds)
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions of the next :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """One period of every market; the markets that ended are already reset."""
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(actions)")
        actions, self._actions = self._actions, None
        obs, rewards, terminated, truncated, _ = self.venv.step(actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            rows = np.flatnonzero(dones)
            obs = obs.copy()
            for i in rows.tolist():
                infos[i]["terminal_observation"] = obs[i].copy()
                infos[i]["TimeLimit.truncated"] = False
            obs[rows] = self.venv.reset_markets(rows)
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the batched env."""
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The batched env's attribute, once per index."""
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the batched env (all markets at once)."""
        if len(list(self._get_indices(indices))) != self.num_envs:
            raise ConfigError(
                f"set_attr({attr_name!r}) on some markets only: the markets share one batched "
                "env; set it for all (indices=None)."
            )
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        """Call a method of the batched env once; its result is repeated per index."""
        result = getattr(self.venv, method_name)(*method_args, **kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """No market is wrapped."""
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """No images."""
        return [None for _ in range(self.num_envs)]
