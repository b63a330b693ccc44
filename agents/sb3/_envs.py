"""Vectorised markets for :class:`~pricegym.agents.sb3.SB3Agent`: building them and their shells.

:func:`make_vec_env` turns an env id, a gymnasium env, a ``MarketVectorEnv`` or an SB3
``VecEnv`` into the ``VecEnv`` SB3 trains on (batched markets where possible);
:func:`_market_of` finds the pricegym market behind one; :class:`_SpacesEnv` is the
space-only env SB3 needs to build a model or a ``VecNormalize`` without a market; and
:func:`_rms`, :func:`_copy_stats`, :func:`_inference_normalizer` move ``VecNormalize``
statistics between training markets, files and acting. Everything here is re-exported
by :mod:`pricegym.agents.sb3`.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecEnvWrapper,
    VecNormalize,
)

from pricegym.errors import ConfigError, NotFittedError


# ==================================================================== vectorised markets
def make_vec_env(
    env: Any,
    n_envs: int,
    seed: int | None = None,
    *,
    vectorize: str = "auto",
) -> VecEnv:
    """``n_envs`` copies of ``env`` as an SB3 ``VecEnv`` (batched markets where possible).

    - a registered id: a pricegym id with a vector entry point becomes
      ``SB3VecEnv(gymnasium.make_vec(id, n_envs, autoreset_mode=SAME_STEP))``; any
      other id ``DummyVecEnv`` of ``gymnasium.make(id)``;
    - a ``PricingEnv`` (bare or wrapped in gymnasium's ``TimeLimit`` /
      ``OrderEnforcing`` / ``PassiveEnvChecker``): ``SB3VecEnv`` over a
      ``MarketVectorEnv`` with its kernel, config, rivals and time limit;
    - a catalogue market (a catalogue id such as ``pricegym/LogitCatalogue-v0``, a
      ``MultiProductEnv`` bare or wrapped, a ``MultiProductVectorEnv``):
      :class:`~pricegym.envs.multiproduct_sb3.CatalogueSB3VecEnv` over ``n_envs``
      batched catalogue markets (a given ``MultiProductVectorEnv`` as it is);
    - a ``MarketVectorEnv`` (``autoreset_mode=SAME_STEP``) or SB3 ``VecEnv``: as is;
    - any other gymnasium env, or ``vectorize="dummy"``: ``DummyVecEnv`` of deep copies.

    ``seed`` seeds market i with ``seed + i`` at the first reset.
    """
    from pricegym.envs.multiproduct import MultiProductEnv
    from pricegym.envs.multiproduct_registration import CATALOGUE_ENV_IDS
    from pricegym.envs.multiproduct_sb3 import CatalogueSB3VecEnv
    from pricegym.envs.multiproduct_vector import MultiProductVectorEnv
    from pricegym.envs.vector import MarketVectorEnv, SB3VecEnv, plain_market

    if vectorize not in ("auto", "batched", "dummy"):
        raise ConfigError(f"vectorize={vectorize!r} must be 'auto', 'batched' or 'dummy'.")
    venv: VecEnv
    if isinstance(env, VecEnv):
        venv = env
    elif isinstance(env, MarketVectorEnv):
        venv = SB3VecEnv(env)
    elif isinstance(env, MultiProductVectorEnv):
        venv = CatalogueSB3VecEnv(env)
    elif isinstance(getattr(env, "unwrapped", None), MultiProductEnv) and vectorize != "dummy":
        venv = CatalogueSB3VecEnv(MultiProductVectorEnv.like(env, n_envs))
    elif isinstance(env, str):
        try:  # the pricegym ids are registered by `import pricegym` (this module's package)
            spec = gym.spec(env)
        except gym.error.Error as exc:
            raise ConfigError(f"env id {env!r} is not registered ({exc}).") from None
        if env in CATALOGUE_ENV_IDS and vectorize != "dummy":  # resets inside CatalogueSB3VecEnv
            cat = gym.make_vec(env, num_envs=n_envs, vectorization_mode="vector_entry_point")
            if not isinstance(cat, MultiProductVectorEnv):  # pragma: no cover - registration
                raise ConfigError(f"env id {env!r} builds no MultiProductVectorEnv.")
            venv = CatalogueSB3VecEnv(cat)
        elif spec.vector_entry_point is not None and vectorize != "dummy":
            vec = gym.make_vec(
                env,
                num_envs=n_envs,
                vectorization_mode="vector_entry_point",
                autoreset_mode=AutoresetMode.SAME_STEP,
            )
            if not isinstance(vec, MarketVectorEnv):  # SB3VecEnv adapts pricegym's only
                raise ConfigError(
                    f"env id {env!r}: its vector entry point builds a {type(vec).__name__}, "
                    "not a MarketVectorEnv; use vectorize='dummy'."
                )
            venv = SB3VecEnv(vec)
        elif vectorize == "batched":
            raise ConfigError(
                f"env id {env!r} has no batched (vector entry point) version; use "
                "vectorize='auto' or 'dummy'."
            )
        else:
            venv = DummyVecEnv([lambda: gym.make(env)] * n_envs)
    elif isinstance(env, gym.Env):
        market = plain_market(env)
        if market is not None and vectorize != "dummy":
            base, limit = market
            venv = SB3VecEnv(
                MarketVectorEnv(
                    base.kernel,
                    base.config,
                    num_envs=n_envs,
                    rivals=base.rivals,
                    max_episode_steps=limit,
                    autoreset_mode=AutoresetMode.SAME_STEP,
                )
            )
        elif vectorize == "batched":
            raise ConfigError(
                f"{type(env).__name__} cannot be batched (only a PricingEnv, bare or in "
                "gymnasium's standard wrappers, can); use vectorize='auto' or 'dummy'."
            )
        else:
            template = env
            venv = DummyVecEnv([lambda: copy.deepcopy(template)] * n_envs)
    else:
        raise ConfigError(
            f"env={env!r} is not a market: pass a registered env id, a gymnasium env, a "
            "MarketVectorEnv or an SB3 VecEnv."
        )
    if seed is not None:
        venv.seed(seed)
    return venv


def _env_id(env: Any) -> str | None:
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)


class _SpacesEnv(gym.Env):
    """An env that only has spaces: the shell SB3 needs to normalise observations."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        raise NotFittedError("this env only carries spaces; train the agent on a market")

    def step(self, action: Any) -> Any:
        raise NotFittedError("this env only carries spaces; train the agent on a market")


def _rms(mean: np.ndarray, var: np.ndarray, count: float) -> RunningMeanStd:
    rms = RunningMeanStd(shape=np.shape(mean))
    rms.mean = np.array(mean, dtype=np.float64)
    rms.var = np.array(var, dtype=np.float64)
    rms.count = float(count)
    return rms


def _copy_stats(src: VecNormalize, dst: VecNormalize) -> None:
    dst.obs_rms = copy.deepcopy(src.obs_rms)
    dst.ret_rms = copy.deepcopy(src.ret_rms)


def _inference_normalizer(venv: VecEnv) -> VecNormalize | None:
    """A non-training copy of ``venv``'s VecNormalize statistics (detached from the markets)."""
    if not isinstance(venv, VecNormalize):
        return None
    shell = VecNormalize(
        DummyVecEnv([lambda: _SpacesEnv(venv.observation_space, venv.action_space)]),
        training=False,
        norm_obs=venv.norm_obs,
        norm_reward=venv.norm_reward,
        clip_obs=venv.clip_obs,
        clip_reward=venv.clip_reward,
        gamma=venv.gamma,
        epsilon=venv.epsilon,
    )
    _copy_stats(venv, shell)
    return shell


def _market_of(venv: VecEnv, source: Any) -> Any:
    """The pricegym market behind ``venv`` (for its prices and observation names)."""
    inner: Any = venv
    while isinstance(inner, VecEnvWrapper):
        inner = inner.venv
    market = getattr(inner, "venv", None)  # SB3VecEnv → MarketVectorEnv
    if market is not None and hasattr(market, "observation_names"):
        return market
    if isinstance(source, gym.Env):
        return source
    if isinstance(inner, DummyVecEnv):
        return inner.envs[0]
    return SimpleNamespace()
