"""Hyper-parameters of :class:`~pricegym.agents.sb3.SB3Agent`: YAML, validation, SB3 kwargs.

``agents/hyperparams/<algo>.yaml`` (package data) holds one entry per env id plus a
``default`` entry; :func:`load_hyperparams` resolves ``default`` ← the env id's entry
← the user's overrides and validates the result (unknown keys raise
:class:`~pricegym.errors.ConfigError` with a did-you-mean). The resolved values stay
JSON-able (schedules and activations as names); :func:`_algo_kwargs` turns them into
SB3's objects and :func:`_build` into an SB3 model. The module docstring of
:mod:`pricegym.agents.sb3` describes the keys; everything here is re-exported there.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from pricegym.agents.sb3._envs import _SpacesEnv
from pricegym.errors import ConfigError

#: Algorithm name → SB3 class.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO,
    "a2c": A2C,
    "dqn": DQN,
    "sac": SAC,
    "td3": TD3,
    "maskable_ppo": MaskablePPO,
}
_DISCRETE_ONLY = frozenset({"dqn", "maskable_ppo"})
_CONTINUOUS_ONLY = frozenset({"sac", "td3"})
_OFF_POLICY = frozenset({"dqn", "sac", "td3"})

#: Hyper-parameter keys that configure training around the algorithm (not its constructor):
#: ``n_envs`` markets trained on together; ``n_timesteps`` frames when ``train`` is
#: given none; ``policy`` (SB3's policy alias); ``normalize`` (``VecNormalize``: false,
#: true, or a mapping of ``norm_obs``, ``norm_reward``, ``clip_obs``, ``clip_reward``,
#: ``epsilon``; its discount is the algorithm's ``gamma``); ``eval_freq`` frames
#: between evaluations (0: none); ``n_eval_episodes`` and ``n_eval_envs`` of each
#: evaluation; ``checkpoint_freq`` frames between checkpoints (0: none; needs a
#: ``log_dir``); ``torch_threads`` while training; ``action_noise`` (SAC, TD3:
#: ``{kind: normal | ornstein_uhlenbeck, sigma: s}`` on the [-1, 1] action).
TRAINING_KEYS = frozenset(
    {
        "n_envs",
        "n_timesteps",
        "policy",
        "normalize",
        "eval_freq",
        "n_eval_episodes",
        "n_eval_envs",
        "checkpoint_freq",
        "torch_threads",
        "action_noise",
    }
)
_INT_KEYS = {
    "n_envs": 1,
    "n_timesteps": 1,
    "eval_freq": 0,
    "n_eval_episodes": 1,
    "n_eval_envs": 1,
    "checkpoint_freq": 0,
    "torch_threads": 1,
}
_NORMALIZE_KEYS = ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "epsilon")
#: Constructor arguments the agent sets itself (not hyper-parameters).
_RESERVED = {
    "self": "",
    "policy": "",
    "env": "the market is the argument of train()",
    "seed": "set it on the agent: SB3Agent(seed=...)",
    "device": "set it on the agent: SB3Agent(device=...)",
    "verbose": "pass verbose to train()",
    "tensorboard_log": "pass log_dir to train()",
    "_init_setup_model": "",
}
_SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
_SCHEDULE = re.compile(r"^lin_(?P<value>[-+0-9.eE]+)$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

#: ``policy_kwargs.activation_fn`` names → torch modules.
ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
}
_NOISES = {"normal": NormalActionNoise, "ornstein_uhlenbeck": OrnsteinUhlenbeckActionNoise}


# ==================================================================== hyper-parameters
def hyperparams_path(algo: str) -> Path:
    """The packaged YAML of ``algo``'s hyper-parameters (``agents/hyperparams/<algo>.yaml``)."""
    _check_algo(algo)
    return Path(str(resources.files("pricegym.agents") / "hyperparams" / f"{algo}.yaml"))


def load_hyperparams(
    algo: str,
    env_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    path: str | Path | None = None,
) -> dict[str, Any]:
    """The resolved hyper-parameters of ``algo`` for ``env_id``, validated.

    ``default`` ← the YAML entry of ``env_id`` (if the file has one) ← ``overrides``;
    each level replaces the keys it names whole. The values stay JSON-able (schedules
    and activations as names); :class:`SB3Agent` turns them into SB3's objects.

    Args:
        algo: a key of :data:`ALGORITHMS`.
        env_id: the env id whose entry to use (``None``: only ``default``).
        overrides: user values, highest priority.
        path: a YAML file of the same layout instead of the packaged one.

    Raises:
        ConfigError: an unknown algorithm, a missing or malformed YAML, an unknown key
            (with a did-you-mean) or a value SB3 cannot take.
    """
    _check_algo(algo)
    file = Path(path) if path is not None else hyperparams_path(algo)
    if not file.is_file():
        raise ConfigError(
            f"hyper-parameter file {str(file)!r} does not exist; pass the path of a YAML "
            "file keyed by env id with a 'default' entry (see agents/hyperparams/)."
        )
    try:
        table = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{str(file)!r} is not valid YAML ({exc}); fix its syntax.") from None
    if not isinstance(table, Mapping) or not isinstance(table.get("default"), Mapping):
        raise ConfigError(
            f"{str(file)!r} must map env ids to hyper-parameters and hold a 'default' entry; "
            f"found top-level keys {list(table) if isinstance(table, Mapping) else table!r}."
        )
    resolved = dict(table["default"])
    if env_id is not None and env_id in table:
        entry = table[env_id]
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{str(file)!r}: entry {env_id!r} must be a mapping of settings.")
        resolved.update(entry)
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"hyperparams={overrides!r} must be a mapping of hyper-parameter names to values."
            )
        resolved.update(overrides)
    return _validate(algo, resolved, where=f"{algo} hyper-parameters")


def _check_algo(algo: str) -> None:
    if algo not in ALGORITHMS:
        close = difflib.get_close_matches(str(algo), list(ALGORITHMS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"algo={algo!r} is not a supported algorithm; choose one of "
            f"{', '.join(ALGORITHMS)}.{hint}"
        )


def _unknown(key: str, known: Sequence[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"{where}: unknown hyper-parameter {key!r}.{hint} Known: {', '.join(sorted(known))}."
    )


def _algo_params(algo: str) -> list[str]:
    sig = inspect.signature(ALGORITHMS[algo].__init__)
    return [n for n in sig.parameters if n not in _RESERVED]


def _policy_params(algo: str, policy: str) -> list[str]:
    cls = ALGORITHMS[algo].policy_aliases[policy]
    skip = {"self", "observation_space", "action_space", "lr_schedule"}
    return [n for n in inspect.signature(cls.__init__).parameters if n not in skip]


def _validate(algo: str, hp: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check every key and the values we interpret; numbers written as strings become floats."""
    known = sorted(TRAINING_KEYS | set(_algo_params(algo)))
    out: dict[str, Any] = {}
    for key, value in hp.items():
        if _RESERVED.get(key):
            raise ConfigError(f"{where}: {key!r} is not a hyper-parameter; {_RESERVED[key]}.")
        if key not in known:
            raise _unknown(key, known, where)
        if isinstance(value, str) and _NUMBER.match(value.strip()):
            value = float(value)  # PyYAML reads 1e-3 (no dot) as a string
        out[key] = value
    for key, low in _INT_KEYS.items():
        if key in out:
            v = out[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v or v < low:
                raise ConfigError(f"{where}: {key}={v!r} must be an integer >= {low}.")
            out[key] = int(v)
    policy = out.setdefault("policy", "MlpPolicy")
    aliases = ALGORITHMS[algo].policy_aliases
    if policy not in aliases:
        raise ConfigError(
            f"{where}: policy={policy!r} is not one of {algo}'s policies {sorted(aliases)}; "
            "pricing observations are vectors, so use 'MlpPolicy'."
        )
    norm = out.get("normalize", False)
    if not isinstance(norm, bool):
        if not isinstance(norm, Mapping):
            raise ConfigError(
                f"{where}: normalize={norm!r} must be true, false or a mapping of "
                f"{', '.join(_NORMALIZE_KEYS)}."
            )
        for key in norm:
            if key not in _NORMALIZE_KEYS:
                raise _unknown(str(key), _NORMALIZE_KEYS, f"{where}: normalize")
    for key in _SCHEDULE_KEYS:
        value = out.get(key)
        if isinstance(value, str) and not _SCHEDULE.match(value):
            raise ConfigError(
                f"{where}: {key}={value!r} is neither a number nor a schedule 'lin_<start>' "
                "(linear decay from <start> to 0), e.g. 'lin_3.0e-4'."
            )
    pk = out.get("policy_kwargs")
    if pk is not None:
        if not isinstance(pk, Mapping):
            raise ConfigError(f"{where}: policy_kwargs={pk!r} must be a mapping.")
        allowed = _policy_params(algo, policy)
        for key in pk:
            if key not in allowed:
                raise _unknown(str(key), allowed, f"{where}: policy_kwargs")
        act = pk.get("activation_fn")
        if act is not None and act not in ACTIVATIONS:
            raise _unknown(str(act), list(ACTIVATIONS), f"{where}: policy_kwargs.activation_fn")
    noise = out.get("action_noise")
    if noise is not None:
        if algo not in _CONTINUOUS_ONLY:
            raise ConfigError(f"{where}: action_noise applies to sac and td3, not {algo}.")
        if (
            not isinstance(noise, Mapping)
            or noise.get("kind") not in _NOISES
            or set(noise) - {"kind", "sigma"}
            or not (isinstance(noise.get("sigma"), int | float) and noise["sigma"] > 0)
        ):
            raise ConfigError(
                f"{where}: action_noise={noise!r} must be {{kind: normal | ornstein_uhlenbeck, "
                "sigma: s > 0}."
            )
    return out


def _schedule(value: Any) -> Any:
    if isinstance(value, str):
        match = _SCHEDULE.match(value)
        assert match is not None  # _validate refuses other strings
        start = float(match["value"])
        return LinearSchedule(start, 0.0, 1.0)
    return value


def _algo_kwargs(algo: str, hp: Mapping[str, Any], action_space: spaces.Space) -> dict[str, Any]:
    """The SB3 constructor's keyword arguments from resolved hyper-parameters."""
    kwargs = {k: v for k, v in hp.items() if k not in TRAINING_KEYS}
    for key in _SCHEDULE_KEYS:
        if key in kwargs:
            kwargs[key] = _schedule(kwargs[key])
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    if kwargs.get("policy_kwargs") is not None:
        pk = copy.deepcopy(dict(kwargs["policy_kwargs"]))
        if "activation_fn" in pk:
            pk["activation_fn"] = ACTIVATIONS[pk["activation_fn"]]
        kwargs["policy_kwargs"] = pk
    noise = hp.get("action_noise")
    if noise is not None:
        # SB3Agent._check_spaces admits only Box and Discrete, whose shape is set.
        assert action_space.shape is not None
        dim = int(np.prod(action_space.shape))
        cls = _NOISES[noise["kind"]]
        kwargs["action_noise"] = cls(np.zeros(dim), float(noise["sigma"]) * np.ones(dim))
    return kwargs


def _gamma(algo: str, hp: Mapping[str, Any]) -> float:
    if "gamma" in hp:
        return float(hp["gamma"])
    return float(inspect.signature(ALGORITHMS[algo].__init__).parameters["gamma"].default)


def _normalize_settings(hp: Mapping[str, Any]) -> dict[str, Any] | None:
    norm = hp.get("normalize", False)
    if norm is False:
        return None
    settings: dict[str, Any] = {"norm_obs": True, "norm_reward": True}
    if isinstance(norm, Mapping):
        settings.update(norm)
    return settings


def _build(
    algo: str,
    hp: Mapping[str, Any],
    venv: VecEnv | None,
    obs_space: spaces.Space,
    act_space: spaces.Space,
    seed: int,
    device: str,
    verbose: int,
    n_envs: int = 1,
) -> BaseAlgorithm:
    """An SB3 model from resolved hyper-parameters; with ``venv=None`` a model for acting only."""
    cls = ALGORITHMS[algo]
    kwargs = _algo_kwargs(algo, hp, act_space)
    try:
        if venv is None:
            # Acting only: an env that carries the spaces (SAC reads them while building),
            # as many as in training (PPO checks its rollout size against them), and no
            # replay buffer to allocate.
            venv = DummyVecEnv([lambda: _SpacesEnv(obs_space, act_space)] * n_envs)
            if algo in _OFF_POLICY:
                kwargs["buffer_size"] = 1
        return cls(hp["policy"], venv, seed=seed, device=device, verbose=verbose, **kwargs)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(
            f"stable-baselines3 rejected the {algo} hyper-parameters {dict(hp)!r}: {exc}"
        ) from None
