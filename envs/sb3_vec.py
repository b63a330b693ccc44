"""stable-baselines3's :class:`~stable_baselines3.common.vec_env.VecEnv` API over a batched market.

:class:`SB3VecEnv` adapts :class:`~pricegym.envs.vector.MarketVectorEnv` (gymnasium's
vector API) to the one stable-baselines3 trains on: SB3's same-step resets,
``dones`` and per-market ``infos`` dicts. It is kept apart from the batched market,
which needs nothing of SB3, and is also importable as
``pricegym.envs.vector.SB3VecEnv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from pricegym.envs.vector import RESET_KEYS, STEP_KEYS, MarketVectorEnv
from pricegym.errors import ConfigError

__all__ = ["SB3VecEnv"]


class SB3VecEnv(VecEnv):
    """stable-baselines3's :class:`VecEnv` API over a :class:`MarketVectorEnv`.

    SB3 resets a finished environment inside ``step`` and hands the last
    observation over in ``infos[i]["terminal_observation"]``; this adapter runs the
    batched markets with ``AutoresetMode.SAME_STEP``, which does exactly that, and
    turns gymnasium's (terminated, truncated) into SB3's ``dones`` plus
    ``infos[i]["TimeLimit.truncated"]`` (truncated and not terminated).

    - ``reset()`` takes no arguments: seeds given with ``seed(s)`` (market i gets
      s + i) and options given with ``set_options`` apply to that reset only.
    - ``step_async(actions)`` / ``step_wait()`` → (obs, rewards float32, dones,
      infos), infos a list of B dicts.
    - ``info_keys``: which of the market's ``info`` entries to copy into each
      market's dict (default none: building B dicts of 14 entries every step
      would cost more than the step itself).
    - ``get_attr`` / ``set_attr`` / ``env_method`` reach the one batched env (its
      attributes are shared by all markets, so each index sees the same value;
      ``set_attr`` on a subset of markets is refused).

    Args:
        venv: a :class:`MarketVectorEnv` with ``autoreset_mode=SAME_STEP``; or
            ``None`` and the market's arguments in ``market_kwargs``.
    """

    def __init__(
        self,
        venv: MarketVectorEnv | None = None,
        *,
        info_keys: Sequence[str] = (),
        **market_kwargs: Any,
    ) -> None:
        if venv is None:
            market_kwargs["autoreset_mode"] = AutoresetMode.SAME_STEP
            venv = MarketVectorEnv(**market_kwargs)
        elif market_kwargs:
            raise ConfigError(
                f"SB3VecEnv got a venv and market settings {sorted(market_kwargs)}; pass one."
            )
        if not isinstance(venv, MarketVectorEnv):
            raise ConfigError(
                f"venv={venv!r} is not a MarketVectorEnv; build one (or pass its arguments)."
            )
        if venv.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ConfigError(
                f"venv has autoreset_mode={venv.autoreset_mode}; stable-baselines3 resets in "
                "the same step, so build it with autoreset_mode=AutoresetMode.SAME_STEP."
            )
        unknown = sorted(set(info_keys) - set(STEP_KEYS))
        if unknown:
            raise ConfigError(
                f"info_keys {unknown} are not step info entries; choose from {list(STEP_KEYS)}."
            )
        self.venv = venv
        self.info_keys = tuple(info_keys)
        self.render_mode = venv.render_mode
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        """Reset every market (with the seeds and options set since the last reset)."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options: dict[str, Any] = {}
        for opt in self._options:
            options.update(opt)
        obs, info = self.venv.reset(seed=seeds, options=options or None)
        self.reset_infos = _per_market(info, RESET_KEYS, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions of the next :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """(obs, rewards, dones, infos) of one period; ended markets are already reset."""
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(actions)")
        actions, self._actions = self._actions, None
        if isinstance(self.action_space, spaces.Discrete):
            actions = np.asarray(actions).reshape(self.num_envs)
        obs, rewards, terminated, truncated, info = self.venv.step(actions)
        dones = terminated | truncated
        time_limit = (truncated & ~terminated).tolist()
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": t} for t in time_limit]
        if self.info_keys:
            source = info.get("final_info", {}) if dones.any() else {}
            for key in self.info_keys:
                values = info.get(key)
                final = source.get(key)
                for i in range(self.num_envs):
                    if final is not None and dones[i]:
                        infos[i][key] = _item(final[i])
                    elif values is not None and info["_" + key][i]:
                        infos[i][key] = _item(values[i])
        if dones.any():
            final_obs = info["final_obs"]
            for i in np.flatnonzero(dones).tolist():
                infos[i]["terminal_observation"] = final_obs[i]
            self.reset_infos = _per_market(info, RESET_KEYS, self.num_envs, dones)
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the batched env."""
        self.venv.close()

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The batched env's attribute, once per index."""
        value = getattr(self.venv, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the batched env (all markets at once)."""
        if len(self._indices(indices)) != self.num_envs:
            raise ConfigError(
                f"set_attr({attr_name!r}) on some markets only: the {self.num_envs} markets share "
                "one batched env; set it for all (indices=None)."
            )
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a method of the batched env once; its result is repeated per index."""
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """No market is wrapped (the batched env is not made of gymnasium envs)."""
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """No images: the batched market renders text only."""
        return [None for _ in range(self.num_envs)]


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _per_market(
    info: Mapping[str, Any],
    keys: Sequence[str],
    b: int,
    rows: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{} for _ in range(b)]
    for key in keys:
        if key not in info:
            continue
        values, mask = info[key], info["_" + key]
        for i in range(b):
            if mask[i] and (rows is None or rows[i]):
                out[i][key] = _item(values[i]) if values.ndim == 1 else values[i].copy()
    return out
