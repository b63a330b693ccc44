"""stable-baselines3 agents behind the :class:`~pricegym.agents.base.PricingAgent` protocol.

:class:`SB3Agent` (``kind="sb3"``) wraps one of stable-baselines3's algorithms —
PPO, A2C and DQN for a discrete price grid, SAC and TD3 for continuous prices, PPO
and A2C for either, and sb3-contrib's MaskablePPO for a grid on which some prices
are invalid — so that a neural policy meets rule-based, bandit and optimal sellers
on equal terms: :meth:`SB3Agent.train` learns offline (``update`` does nothing),
``act`` is the deterministic policy.

Hyper-parameters
----------------
Nothing about an algorithm is hard-coded here: ``agents/hyperparams/<algo>.yaml``
(package data) holds, as rl-baselines3-zoo does, one entry per env id plus a
``default`` entry. The resolved set is ``default`` ← the entry of the env id being
trained on ← the agent's ``hyperparams`` overrides, each level replacing the keys it
names whole (a ``policy_kwargs`` given by the user replaces the YAML's). Keys are
either arguments of the algorithm's constructor (``n_steps``, ``batch_size``,
``gamma``, ``learning_rate``, ``policy_kwargs``, …; see :data:`ALGORITHMS`) or the
training keys of :data:`TRAINING_KEYS` (number of markets, frames, normalisation,
evaluation and checkpoint frequencies, torch threads). Unknown keys raise
:class:`~pricegym.errors.ConfigError` with a did-you-mean. A few values are written
the rl-zoo way because YAML cannot hold Python objects: ``learning_rate: lin_1.0e-3``
(a linear decay to 0), ``policy_kwargs: {activation_fn: tanh}`` (a name from
:data:`ACTIVATIONS`), ``train_freq: [1, step]``, ``action_noise: {kind: normal,
sigma: 0.1}``.

Training
--------
By default :meth:`SB3Agent.train` trains on ``n_envs`` **batched markets**
(:class:`~pricegym.envs.vector.MarketVectorEnv`, one numpy pass per step) through
the :class:`~pricegym.envs.vector.SB3VecEnv` adapter, wrapped in SB3's
``VecMonitor`` (episode returns in the logs), :class:`ActionMaskVecEnv` (MaskablePPO
only) and ``VecNormalize``. A registered id (``"pricegym/Markdown-v0"``), a
``PricingEnv`` (its kernel and config are batched), a ``MarketVectorEnv`` or any SB3
``VecEnv`` are accepted; any other gymnasium env (or ``vectorize="dummy"``) runs as
deep copies in SB3's ``DummyVecEnv``. SB3's ``EvalCallback`` (sb3-contrib's
``MaskableEvalCallback`` for MaskablePPO) evaluates on separate markets every
``eval_freq`` frames and, with a ``log_dir``, keeps the best agent; SB3's
``CheckpointCallback`` saves the whole agent every ``checkpoint_freq`` frames (our
files, see below, instead of SB3's pickled ``VecNormalize``); SB3's logger writes
CSV and TensorBoard logs into ``log_dir``; ``progress_bar`` is SB3's (tqdm + rich).

torch runs with ``torch_threads`` threads (default 1, from the YAML) while training,
restored afterwards: the networks are small, so a second intra-op thread only adds
synchronisation, and two threads per process on two shared cores collapse under
load. Training is deterministic for a given ``seed``: SB3 seeds Python's ``random``,
numpy's global generator (SB3's replay buffers sample from it), torch and the
action space, the markets are seeded with ``seed`` (evaluation markets with
``seed + EVAL_SEED_OFFSET``), and ``torch.use_deterministic_algorithms`` is on.

Action masks (MaskablePPO)
--------------------------
``act(observation)`` sees only the observation, so a mask must be a function of it:
``action_mask`` names a rule of :data:`ACTION_MASKS` that turns raw observations into
valid-price masks — ``"markdown"`` (never raise the price above last period's; all
prices in the first period) or ``{"rule": "price_range", "low": a, "high": b}`` (only
grid prices in [a, b], e.g. a floor at cost or a regulator's cap). The same rule
serves training (:class:`ActionMaskVecEnv` gives the vectorised markets sb3-contrib's
``action_masks()`` hook, computed from the latest raw observations), evaluation and
``act``, so the agent never picks a masked price. The prices and observation layout
it needs are recorded at training time and saved with the agent.

Files
-----
``save(path)`` writes ``path.json`` (the card: kind, name, params, the resolved
hyper-parameters, spaces, VecNormalize settings) and ``path.npz`` (the policy's
torch ``state_dict`` as float arrays, the VecNormalize running means, variances and
counts, the space bounds) through :mod:`pricegym.demand.io` — no pickle — plus
``path.zip`` in **SB3's own format** for SB3 tools (``PPO.load``, rl-zoo). That zip
holds ``policy.pth`` / ``*.optimizer.pth`` / ``pytorch_variables.pth`` (torch state
dicts, which SB3 reads back with ``torch.load(weights_only=True)``) and a ``data``
JSON in which every attribute JSON cannot hold (the spaces, learning-rate
schedules, the policy class, …) is a base64 **cloudpickle**, unpickled by
``PPO.load`` — load such a zip only from a source you trust. :meth:`SB3Agent.load`
(= ``PricingAgent.load``) never opens the zip: it rebuilds the model from the card
and loads the weights from the ``.npz``, so a loaded agent acts exactly as the saved
one; continuing training after a load starts a fresh optimiser state.

Example
-------
>>> from pricegym.agents.sb3 import SB3Agent, load_hyperparams
>>> load_hyperparams("ppo")["n_envs"], load_hyperparams("ppo", "pricegym/Markdown-v0")["n_steps"]
(128, 20)
>>> agent = SB3Agent("ppo", hyperparams={"n_steps": 16}, seed=0)
>>> agent.params["algo"], agent.params["hyperparams"]
('ppo', {'n_steps': 16})
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import inspect
import io
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar, Self

import gymnasium as gym
import numpy as np
import torch
import yaml
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
)
from stable_baselines3.common.logger import HumanOutputFormat, Logger, configure
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecEnvWrapper,
    VecMonitor,
    VecNormalize,
)
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from pricegym.agents.base import PricingAgent
from pricegym.demand.io import atomic_write_bytes
from pricegym.errors import ConfigError, ModelFileError, NotFittedError

__all__ = [
    "ACTION_MASKS",
    "ACTIVATIONS",
    "ALGORITHMS",
    "EVAL_SEED_OFFSET",
    "TRAINING_KEYS",
    "ActionMaskVecEnv",
    "MaskContext",
    "SB3Agent",
    "hyperparams_path",
    "load_hyperparams",
    "make_vec_env",
]

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

#: Evaluation markets are seeded with the agent's seed plus this offset, so they never
#: replay the training markets' demand draws.
EVAL_SEED_OFFSET = 1_000_003
#: Relative tolerance of price comparisons in masks (observations are float32).
_PRICE_RTOL = 1e-6


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
        start = float(_SCHEDULE.match(value)["value"])  # type: ignore[index]
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

    def reset(self) -> np.ndarray:
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
    - a ``MarketVectorEnv`` (``autoreset_mode=SAME_STEP``) or SB3 ``VecEnv``: as is;
    - any other gymnasium env, or ``vectorize="dummy"``: ``DummyVecEnv`` of deep copies.

    ``seed`` seeds market i with ``seed + i`` at the first reset.
    """
    from pricegym.envs.vector import MarketVectorEnv, SB3VecEnv, plain_market

    if vectorize not in ("auto", "batched", "dummy"):
        raise ConfigError(f"vectorize={vectorize!r} must be 'auto', 'batched' or 'dummy'.")
    venv: VecEnv
    if isinstance(env, VecEnv):
        venv = env
    elif isinstance(env, MarketVectorEnv):
        venv = SB3VecEnv(env)
    elif isinstance(env, str):
        try:  # the pricegym ids are registered by `import pricegym` (this module's package)
            spec = gym.spec(env)
        except gym.error.Error as exc:
            raise ConfigError(f"env id {env!r} is not registered ({exc}).") from None
        if spec.vector_entry_point is not None and vectorize != "dummy":
            vec = gym.make_vec(
                env,
                num_envs=n_envs,
                vectorization_mode="vector_entry_point",
                autoreset_mode=AutoresetMode.SAME_STEP,
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


@contextmanager
def _torch_settings(threads: int, device: str = "cpu") -> Iterator[None]:
    """torch with ``threads`` intra-op threads (and deterministic algorithms off the CPU).

    On the CPU the ops SB3's MLP policies use give the same results run to run for a
    fixed thread count, so ``torch.use_deterministic_algorithms`` is only switched on
    for other devices: its first call imports torch's compiler stack (~4 s per
    process, measured), which every runner worker would pay.
    """
    old_threads = torch.get_num_threads()
    strict = torch.device(device).type != "cpu"
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    if strict:
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        if strict:
            torch.use_deterministic_algorithms(old_det)


# ==================================================================== callbacks
class _AgentCheckpoint(CheckpointCallback):
    """SB3's CheckpointCallback saving the whole agent (our files) instead of the zip + pickle."""

    def __init__(self, agent: SB3Agent, save_freq: int, save_path: str) -> None:
        super().__init__(save_freq, save_path, name_prefix="agent")
        self._agent = agent

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            path = self._checkpoint_path(extension="json")
            self._agent.save(path)
            if self.verbose >= 2:
                print(f"Saving agent checkpoint to {path}")
        return True


class _SaveBest(BaseCallback):
    """Called by EvalCallback on a new best mean reward: saves the agent as ``path``."""

    def __init__(self, agent: SB3Agent, path: Path) -> None:
        super().__init__()
        self._agent, self._path = agent, path

    def _on_step(self) -> bool:
        self._agent.save(self._path)
        return True


# ==================================================================== the agent
class SB3Agent(PricingAgent):
    """A stable-baselines3 policy as a pricing agent (see the module docstring).

    Args:
        algo: ``"ppo"``, ``"a2c"``, ``"dqn"`` (discrete prices), ``"sac"``, ``"td3"``
            (continuous prices) or ``"maskable_ppo"`` (discrete, with ``action_mask``);
            PPO and A2C take either kind.
        hyperparams: overrides of the YAML hyper-parameters (see the module docstring).
        env_id: the YAML entry to use; ``None``: the id of the env given to
            :meth:`train` (``env.spec.id``), else ``default``.
        action_mask: a rule of :data:`ACTION_MASKS` (``"markdown"``, or
            ``{"rule": "price_range", "low": a, "high": b}``); MaskablePPO only.
        seed: seeds SB3 (torch, numpy, Python) and the training markets.
        device: torch device (``"cpu"``: small MLPs gain nothing from a GPU).
        hyperparams_file: a YAML file of the packaged layout to read instead.
        name: label for reports.

    Attributes (after training or loading):
        model_: the SB3 model.
        hyperparams_: the resolved hyper-parameters it was built with.
        normalizer_: a non-training ``VecNormalize`` holding the observation
            statistics ``act`` applies (``None`` without normalisation).
        num_timesteps_: frames trained on.

    Raises:
        ConfigError: an unknown algorithm, hyper-parameter or mask rule; a mask with
            an algorithm other than MaskablePPO (or MaskablePPO without one).
    """

    kind = "sb3"
    #: Learns offline through :meth:`train`; ``update`` does nothing.
    learns: ClassVar[bool] = False
    batch_act: ClassVar[bool] = True

    def __init__(
        self,
        algo: str = "ppo",
        hyperparams: Mapping[str, Any] | None = None,
        env_id: str | None = None,
        action_mask: str | Mapping[str, Any] | None = None,
        seed: int = 0,
        device: str = "cpu",
        hyperparams_file: str | None = None,
        name: str | None = None,
    ) -> None:
        _check_algo(algo)
        self.algo = algo
        self.hyperparams = dict(hyperparams) if hyperparams is not None else None
        self.env_id = env_id
        self.action_mask = dict(action_mask) if isinstance(action_mask, Mapping) else action_mask
        if isinstance(seed, bool) or int(seed) != seed or seed < 0:
            raise ConfigError(f"seed={seed!r} must be an integer >= 0.")
        self.seed = int(seed)
        self.device = device
        self.hyperparams_file = hyperparams_file
        self.name = name
        self._mask = _mask_spec(action_mask)
        if (self._mask is not None) != (algo == "maskable_ppo"):
            raise ConfigError(
                f"algo={algo!r} with action_mask={action_mask!r}: masks of invalid prices are "
                "used by MaskablePPO only; use algo='maskable_ppo' with an action_mask rule "
                f"({', '.join(ACTION_MASKS)}), or drop action_mask."
            )
        # Validate now (the entry of env_id, or default), so typos fail at construction.
        load_hyperparams(algo, env_id, self.hyperparams, hyperparams_file)
        self.model_: BaseAlgorithm | None = None
        self.hyperparams_: dict[str, Any] | None = None
        self.normalizer_: VecNormalize | None = None
        self.num_timesteps_ = 0
        self._mask_ctx: MaskContext | None = None
        self._train_env: VecEnv | None = None
        self._fresh_model = False

    # ------------------------------------------------------------------ hyper-parameters
    def resolve_hyperparams(self, env_id: str | None = None) -> dict[str, Any]:
        """The hyper-parameters training on ``env_id`` would use (the agent's ``env_id`` wins)."""
        return load_hyperparams(
            self.algo, self.env_id or env_id, self.hyperparams, self.hyperparams_file
        )

    # ------------------------------------------------------------------ training
    def train(
        self,
        env: Any,
        total_timesteps: int | None = None,
        *,
        eval_env: Any = None,
        log_dir: str | Path | None = None,
        callback: BaseCallback | Sequence[BaseCallback] | None = None,
        progress_bar: bool | None = None,
        vectorize: str = "auto",
        verbose: int = 0,
    ) -> Self:
        """Train on ``env`` for ``total_timesteps`` frames (default: ``n_timesteps``).

        Args:
            env: a registered id, a gymnasium env, a ``MarketVectorEnv`` or an SB3
                ``VecEnv`` (see :func:`make_vec_env`); ``n_envs`` markets are built from it.
            total_timesteps: frames (market periods summed over markets) to train on.
            eval_env: where ``EvalCallback`` evaluates (default: ``n_eval_envs`` markets
                of the same kind as ``env``, seeded apart); every ``eval_freq`` frames.
            log_dir: a folder for SB3's CSV (``progress.csv``) and TensorBoard logs, the
                evaluations (``eval/evaluations.npz``), the best agent (``best.json``
                + ``.npz`` + ``.zip``) and checkpoints (``checkpoints/``).
            callback: extra SB3 callbacks.
            progress_bar: SB3's tqdm + rich bar (default: when stderr is a terminal).
            vectorize: ``"auto"``, ``"batched"`` or ``"dummy"`` (see :func:`make_vec_env`).
            verbose: SB3's verbosity (1 also logs to stdout).

        A second call continues training the same model, with the hyper-parameters it
        was built with, when the market has the same number of envs (optimiser, buffers,
        frame count and normalisation statistics carry on); otherwise (and after a load)
        a model built from the current hyper-parameters starts from the current weights
        and normalisation statistics, with a fresh optimiser.

        Returns:
            ``self``, trained.
        """
        hp = self.resolve_hyperparams(_env_id(env))
        if total_timesteps is None:
            total_timesteps = int(hp.get("n_timesteps", 0)) or None
        if total_timesteps is None or int(total_timesteps) < 1:
            raise ConfigError(
                f"total_timesteps={total_timesteps!r} must be an integer >= 1 (or set "
                "n_timesteps in the hyper-parameters)."
            )
        n_envs = int(hp.get("n_envs", 1))
        venv = self._wrap(make_vec_env(env, n_envs, self.seed, vectorize=vectorize), hp, env)
        callbacks: list[BaseCallback] = []
        log_path = Path(log_dir) if log_dir is not None else None
        eval_freq = int(hp.get("eval_freq", 0))
        if eval_freq > 0:
            n_eval = int(hp.get("n_eval_envs", 1))
            source = eval_env if eval_env is not None else env
            eval_venv = self._wrap(
                make_vec_env(source, n_eval, self.seed + EVAL_SEED_OFFSET, vectorize=vectorize),
                hp,
                source,
                training=False,
            )
            cls = MaskableEvalCallback if self.algo == "maskable_ppo" else EvalCallback
            callbacks.append(
                cls(
                    eval_venv,
                    n_eval_episodes=int(hp.get("n_eval_episodes", 10)),
                    eval_freq=max(1, eval_freq // venv.num_envs),
                    log_path=str(log_path / "eval") if log_path else None,
                    best_model_save_path=None,
                    callback_on_new_best=_SaveBest(self, log_path / "best") if log_path else None,
                    deterministic=True,
                    verbose=verbose,
                )
            )
        ckpt = int(hp.get("checkpoint_freq", 0))
        if ckpt > 0 and log_path is not None:
            callbacks.append(
                _AgentCheckpoint(self, max(1, ckpt // venv.num_envs), str(log_path / "checkpoints"))
            )
        if isinstance(callback, BaseCallback):
            callbacks.append(callback)
        elif callback is not None:
            callbacks.extend(callback)
        if progress_bar is None:
            progress_bar = sys.stderr.isatty()

        with _torch_settings(int(hp.get("torch_threads", 1)), self.device):
            model, reset = self._model_for(venv, hp, verbose)
            # Always our own logger (SB3's default one would make a temporary folder), closed
            # after training so that no log file stays open.
            if log_path is not None:
                formats = ["csv", "tensorboard"] + (["stdout"] if verbose else [])
                logger = configure(str(log_path), formats)
            else:
                logger = Logger(None, [HumanOutputFormat(sys.stdout)] if verbose else [])
            model.set_logger(logger)
            self._train_env = venv
            self.normalizer_ = venv if isinstance(venv, VecNormalize) else None
            try:
                model.learn(
                    int(total_timesteps),
                    callback=CallbackList(callbacks) if callbacks else None,
                    progress_bar=progress_bar,
                    reset_num_timesteps=reset,
                )
            finally:
                logger.close()
                self.num_timesteps_ = int(model.num_timesteps)
                self._train_env = None
                self.normalizer_ = _inference_normalizer(venv)
        return self

    def _wrap(
        self, venv: VecEnv, hp: Mapping[str, Any], source: Any, training: bool = True
    ) -> VecEnv:
        """VecMonitor → ActionMaskVecEnv (MaskablePPO) → VecNormalize, checking spaces."""
        self._check_spaces(venv.observation_space, venv.action_space)
        out: VecEnv = VecMonitor(venv)
        if self._mask is not None:
            if self._mask_ctx is None:
                self._mask_ctx = MaskContext.from_env(_market_of(venv, source))
            out = ActionMaskVecEnv(out, self._masks)
        settings = _normalize_settings(hp)
        if settings is not None:
            kw = dict(settings)
            if not training:
                kw["norm_reward"] = False
            out = VecNormalize(out, training=training, gamma=_gamma(self.algo, hp), **kw)
        return out

    def _check_spaces(self, obs_space: spaces.Space, act_space: spaces.Space) -> None:
        if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
            raise ConfigError(
                f"observation space {obs_space} is not a vector Box; SB3Agent uses MLP policies "
                "on pricegym's observation vectors."
            )
        if isinstance(act_space, spaces.Discrete):
            if self.algo in _CONTINUOUS_ONLY:
                raise ConfigError(
                    f"algo={self.algo!r} needs continuous prices, but the market's action space "
                    f"is {act_space}; create it with action='continuous', or use ppo, a2c or dqn."
                )
        elif isinstance(act_space, spaces.Box):
            if self.algo in _DISCRETE_ONLY:
                raise ConfigError(
                    f"algo={self.algo!r} needs a discrete price grid, but the market's action "
                    f"space is {act_space}; create it with action='discrete', or use ppo, a2c, "
                    "sac or td3."
                )
        else:
            raise ConfigError(f"action space {act_space} is neither Discrete nor Box.")
        if self.model_ is not None:
            same_obs = obs_space.shape == self.model_.observation_space.shape
            if not same_obs or act_space != self.model_.action_space:
                raise ConfigError(
                    f"this agent was trained on observations {self.model_.observation_space} "
                    f"and actions {self.model_.action_space}; the market has {obs_space} and "
                    f"{act_space}. Use a market of the same layout, or a new agent."
                )

    def _model_for(
        self, venv: VecEnv, hp: dict[str, Any], verbose: int
    ) -> tuple[BaseAlgorithm, bool]:
        """(the model to train, whether SB3 should reset its frame count)."""
        old = self.model_
        if old is not None and not self._fresh_model and old.n_envs == venv.num_envs:
            old.set_env(venv)
            if isinstance(venv, VecNormalize) and isinstance(self.normalizer_, VecNormalize):
                _copy_stats(self.normalizer_, venv)
            return old, False
        model = _build(
            self.algo,
            hp,
            venv,
            venv.observation_space,
            venv.action_space,
            self.seed,
            self.device,
            verbose,
        )
        if old is not None:
            try:
                model.policy.load_state_dict(old.policy.state_dict())
            except RuntimeError as exc:
                raise ConfigError(
                    f"cannot continue training: the current hyper-parameters build a different "
                    f"network than the one this agent holds ({exc}); keep policy_kwargs as they "
                    "were, or train a new agent."
                ) from None
            if isinstance(venv, VecNormalize) and isinstance(self.normalizer_, VecNormalize):
                _copy_stats(self.normalizer_, venv)
        self.model_ = model
        self.hyperparams_ = hp
        self._fresh_model = False
        return model, True

    def _masks(self, obs: np.ndarray) -> np.ndarray:
        if self._mask_ctx is None or self._mask is None:
            raise ConfigError("internal: masks requested without a mask rule")  # pragma: no cover
        fn = ACTION_MASKS[self._mask["rule"]][0]
        return fn(np.atleast_2d(obs), self._mask_ctx, self._mask)

    # ------------------------------------------------------------------ protocol
    def _bind(self, env: Any) -> None:
        space = getattr(env, "single_observation_space", None)
        act = getattr(env, "single_action_space", None)
        space = env.observation_space if space is None else space
        act = env.action_space if act is None else act
        self._check_spaces(space, act)
        if self._mask is not None and self._mask_ctx is None:
            self._mask_ctx = MaskContext.from_env(env)

    def action_masks(self, observation: np.ndarray) -> np.ndarray:
        """Valid-price masks of ``observation`` (d,) or (B, d) under the agent's rule."""
        if self._mask is None:
            raise ConfigError(f"agent {self.name!r} has no action_mask rule.")
        if self._mask_ctx is None:
            raise ConfigError(
                f"agent {self.name!r} does not know the market's prices yet; bind(env) or train."
            )
        obs = np.asarray(observation, dtype=np.float32)
        masks = self._masks(obs)
        return masks[0] if obs.ndim == 1 else masks

    def act(self, observation: np.ndarray) -> Any:
        """The deterministic policy's action for ``observation`` (d,) — or (B, d) for a batch.

        The observation is normalised with the saved ``VecNormalize`` statistics;
        MaskablePPO's choice is restricted to the prices its mask rule allows.
        Returns a grid index (``int``; a (B,) int array for a batch) or an action of
        shape (1,) in [-1, 1] ((B, 1) for a batch).

        Raises:
            NotFittedError: the agent was neither trained nor loaded.
            ConfigError: an observation of the wrong length.
        """
        model = self.model_
        if model is None:
            raise NotFittedError(
                f"agent {self.name!r} ({self.algo}) has not been trained; call "
                "agent.train(env) or SB3Agent.load(path) first."
            )
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.ndim == 1
        batch = obs[None, :] if single else obs
        dim = model.observation_space.shape[0]
        if batch.ndim != 2 or batch.shape[1] != dim:
            raise ConfigError(
                f"observation of shape {obs.shape}: this agent takes vectors of {dim} entries "
                "(or a (B, d) batch) from the market it was trained on."
            )
        norm = self.normalizer_.normalize_obs(batch) if self.normalizer_ is not None else batch
        if self._mask is not None:
            action, _ = model.predict(norm, deterministic=True, action_masks=self._masks(batch))
        else:
            action, _ = model.predict(norm, deterministic=True)
        if isinstance(model.action_space, spaces.Discrete):
            action = np.asarray(action, dtype=np.int64).reshape(-1)
            return int(action[0]) if single else action
        action = np.asarray(action, dtype=np.float32).reshape(batch.shape[0], -1)
        return action[0] if single else action

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path, *, sb3_zip: bool = True) -> Path:
        """Write ``path.json`` + ``path.npz`` (ours, no pickle) and ``path.zip`` (SB3's format).

        See the module docstring for what each file holds. Returns the JSON path.
        """
        json_path = Path(path)
        if json_path.suffix != ".json":
            json_path = json_path.with_suffix(".json")
        self._zip_sha256 = None
        if sb3_zip and self.model_ is not None:
            buf = io.BytesIO()
            self.model_.save(buf)
            blob = buf.getvalue()
            atomic_write_bytes(json_path.with_suffix(".zip"), blob)
            self._zip_sha256 = hashlib.sha256(blob).hexdigest()
        return super().save(json_path)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        model = self.model_
        if model is None:
            return {}, {}
        arrays: dict[str, np.ndarray] = {}
        for key, tensor in model.policy.state_dict().items():
            arrays[f"policy/{key}"] = tensor.detach().cpu().numpy()
        obs_space = model.observation_space
        arrays["obs_low"], arrays["obs_high"] = obs_space.low, obs_space.high
        act_space = model.action_space
        if isinstance(act_space, spaces.Box):
            arrays["act_low"], arrays["act_high"] = act_space.low, act_space.high
        norm_doc = None
        norm = self._train_env if isinstance(self._train_env, VecNormalize) else self.normalizer_
        if norm is not None:
            norm_doc = {
                "norm_obs": bool(norm.norm_obs),
                "norm_reward": bool(norm.norm_reward),
                "clip_obs": float(norm.clip_obs),
                "clip_reward": float(norm.clip_reward),
                "gamma": float(norm.gamma),
                "epsilon": float(norm.epsilon),
                "obs_count": float(norm.obs_rms.count),
                "ret_count": float(norm.ret_rms.count),
            }
            arrays["obs_mean"], arrays["obs_var"] = norm.obs_rms.mean, norm.obs_rms.var
            arrays["ret_mean"] = np.asarray(norm.ret_rms.mean, dtype=np.float64)
            arrays["ret_var"] = np.asarray(norm.ret_rms.var, dtype=np.float64)
        state = {
            "hyperparams": self.hyperparams_,
            "n_envs": int(model.n_envs),
            "num_timesteps": int(model.num_timesteps),
            "observation_space": {"shape": list(obs_space.shape), "dtype": str(obs_space.dtype)},
            "action_space": (
                {"kind": "discrete", "n": int(act_space.n)}
                if isinstance(act_space, spaces.Discrete)
                else {"kind": "box", "shape": list(act_space.shape)}
            ),
            "vec_normalize": norm_doc,
            "mask_context": self._mask_ctx.to_dict() if self._mask_ctx is not None else None,
            "sb3_zip_sha256": getattr(self, "_zip_sha256", None),
            "versions": {
                "stable_baselines3": _version("stable_baselines3"),
                "sb3_contrib": _version("sb3_contrib"),
                "torch": torch.__version__,
            },
        }
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        if not state:
            return
        try:
            hp = _validate(self.algo, state["hyperparams"], where="saved hyper-parameters")
            obs_doc, act_doc = state["observation_space"], state["action_space"]
            obs_space = spaces.Box(
                arrays["obs_low"], arrays["obs_high"], dtype=np.dtype(obs_doc["dtype"])
            )
            if act_doc["kind"] == "discrete":
                act_space: spaces.Space = spaces.Discrete(int(act_doc["n"]))
            else:
                act_space = spaces.Box(arrays["act_low"], arrays["act_high"], dtype=np.float32)
            weights = {
                k.removeprefix("policy/"): torch.from_numpy(np.array(v))
                for k, v in arrays.items()
                if k.startswith("policy/")
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"SB3 agent file is incomplete or corrupt ({type(exc).__name__}: {exc}); save "
                "the agent again."
            ) from None
        model = _build(
            self.algo,
            hp,
            None,
            obs_space,
            act_space,
            self.seed,
            self.device,
            0,
            n_envs=int(state.get("n_envs", 1)),
        )
        try:
            model.policy.load_state_dict(weights)
        except RuntimeError as exc:
            raise ModelFileError(
                f"the saved policy weights do not fit a {self.algo} policy built from the saved "
                f"hyper-parameters ({exc}); the file was altered or written by another version."
            ) from None
        model.num_timesteps = int(state.get("num_timesteps", 0))
        self.model_, self.hyperparams_ = model, hp
        self.num_timesteps_ = model.num_timesteps
        self._fresh_model = True
        norm = state.get("vec_normalize")
        self.normalizer_ = None
        if norm is not None:
            vn = VecNormalize(
                DummyVecEnv([lambda: _SpacesEnv(obs_space, act_space)]),
                training=False,
                norm_obs=norm["norm_obs"],
                norm_reward=norm["norm_reward"],
                clip_obs=norm["clip_obs"],
                clip_reward=norm["clip_reward"],
                gamma=norm["gamma"],
                epsilon=norm["epsilon"],
            )
            vn.obs_rms = _rms(arrays["obs_mean"], arrays["obs_var"], norm["obs_count"])
            vn.ret_rms = _rms(arrays["ret_mean"], arrays["ret_var"], norm["ret_count"])
            self.normalizer_ = vn
        ctx = state.get("mask_context")
        self._mask_ctx = (
            MaskContext(tuple(ctx["prices"]), float(ctx["p_max"]), dict(ctx["obs_index"]))
            if ctx
            else None
        )


# ==================================================================== helpers
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


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except (ImportError, AttributeError):
        return "unknown"
