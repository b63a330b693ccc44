"""stable-baselines3 agents behind the :class:`~pricegym.agents.base.PricingAgent` protocol.

:class:`SB3Agent` (``kind="sb3"``) wraps one of stable-baselines3's algorithms —
PPO, A2C and DQN for a discrete price grid, SAC and TD3 for continuous prices, PPO
and A2C for either and for a catalogue (a ``MultiDiscrete`` price vector, one
categorical per product, on :class:`~pricegym.envs.multiproduct.MultiProductEnv`
markets batched through :class:`~pricegym.envs.multiproduct_sb3.CatalogueSB3VecEnv`),
and sb3-contrib's MaskablePPO for a grid on which some prices
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

Modules
-------
This module holds :class:`SB3Agent`; its machinery lives in private modules beside
it, and every name they define is re-exported here:
:mod:`~pricegym.agents.sb3._hyperparams` (the YAML, its validation, SB3's constructor
arguments and model), :mod:`~pricegym.agents.sb3._masks` (the mask rules and
:class:`ActionMaskVecEnv`), :mod:`~pricegym.agents.sb3._envs` (:func:`make_vec_env`
and the ``VecNormalize`` helpers) and :mod:`~pricegym.agents.sb3._callbacks`
(checkpoints, best-agent saving, torch settings).

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

import hashlib
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    EvalCallback,
)
from stable_baselines3.common.logger import HumanOutputFormat, Logger, configure
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecMonitor,
    VecNormalize,
)

from pricegym.agents.base import PricingAgent
from pricegym.agents.sb3._callbacks import (
    _AgentCheckpoint,
    _SaveBest,
    _torch_settings,
)
from pricegym.agents.sb3._envs import (
    _copy_stats,
    _env_id,
    _inference_normalizer,
    _market_of,
    _rms,
    _SpacesEnv,
    make_vec_env,
)
from pricegym.agents.sb3._hyperparams import (
    _CONTINUOUS_ONLY,
    _DISCRETE_ONLY,
    ACTIVATIONS,
    ALGORITHMS,
    TRAINING_KEYS,
    _build,
    _check_algo,
    _gamma,
    _normalize_settings,
    _validate,
    hyperparams_path,
    load_hyperparams,
)
from pricegym.agents.sb3._masks import (
    ACTION_MASKS,
    ActionMaskVecEnv,
    MaskContext,
    _mask_spec,
)
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

#: Evaluation markets are seeded with the agent's seed plus this offset, so they never
#: replay the training markets' demand draws.
EVAL_SEED_OFFSET = 1_000_003


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
        elif isinstance(act_space, spaces.MultiDiscrete):
            if self.algo not in ("ppo", "a2c"):
                raise ConfigError(
                    f"algo={self.algo!r} cannot price a catalogue: the market's action space "
                    f"is {act_space} (one grid index per product), which stable-baselines3 "
                    "trains with ppo or a2c only (one categorical per product); use ppo or a2c."
                )
        elif isinstance(act_space, spaces.Box):
            if self.algo in _DISCRETE_ONLY:
                raise ConfigError(
                    f"algo={self.algo!r} needs a discrete price grid, but the market's action "
                    f"space is {act_space}; create it with action='discrete', or use ppo, a2c, "
                    "sac or td3."
                )
        else:
            raise ConfigError(
                f"action space {act_space} is neither Discrete, MultiDiscrete (a catalogue) "
                "nor Box."
            )
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
    def bind(self, env: Any) -> Self:
        """Adopt ``env``'s layout (a catalogue market binds through its own view).

        For a catalogue market (:class:`~pricegym.envs.multiproduct.MultiProductEnv`
        or its batched twin) ``self.market`` is a
        :class:`~pricegym.agents.catalogue_rules.CatalogueView` and ``self.codec`` one
        codec per product, as for the catalogue rules; otherwise as
        :meth:`PricingAgent.bind`.
        """
        from pricegym.envs.multiproduct import CatalogueConfig

        base = getattr(env, "unwrapped", env)
        if not isinstance(getattr(base, "config", None), CatalogueConfig):
            return super().bind(env)
        from pricegym.agents.catalogue_rules import CatalogueView
        from pricegym.agents.view import ActionCodec

        view = CatalogueView.from_env(env)
        self.market = view  # type: ignore[assignment]
        self.codec = tuple(ActionCodec.from_grid(g) for g in view.grids)  # type: ignore[assignment]
        self.obs_index = {n: i for i, n in enumerate(view.names)}
        self._bind(env)
        return self

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
        # _check_spaces admits a 1-D Box only, and the model was built on the checked spaces.
        assert isinstance(model.observation_space, spaces.Box)
        dim = model.observation_space.shape[0]
        if batch.ndim != 2 or batch.shape[1] != dim:
            raise ConfigError(
                f"observation of shape {obs.shape}: this agent takes vectors of {dim} entries "
                "(or a (B, d) batch) from the market it was trained on."
            )
        norm = self.normalizer_.normalize_obs(batch) if self.normalizer_ is not None else batch
        if self._mask is not None:
            assert isinstance(model, MaskablePPO)  # __init__: a mask rule iff maskable_ppo
            action, _ = model.predict(norm, deterministic=True, action_masks=self._masks(batch))
        else:
            action, _ = model.predict(norm, deterministic=True)
        if isinstance(model.action_space, spaces.Discrete):
            action = np.asarray(action, dtype=np.int64).reshape(-1)
            return int(action[0]) if single else action
        if isinstance(model.action_space, spaces.MultiDiscrete):  # a catalogue: (K,) indices
            action = np.asarray(action, dtype=np.int64).reshape(batch.shape[0], -1)
            return action[0] if single else action
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
        assert isinstance(obs_space, spaces.Box)  # _check_spaces admits a 1-D Box only
        arrays["obs_low"], arrays["obs_high"] = obs_space.low, obs_space.high
        act_space = model.action_space
        act_doc: dict[str, Any]
        if isinstance(act_space, spaces.Box):
            arrays["act_low"], arrays["act_high"] = act_space.low, act_space.high
            act_doc = {"kind": "box", "shape": list(act_space.shape)}
        elif isinstance(act_space, spaces.MultiDiscrete):
            act_doc = {"kind": "multidiscrete", "nvec": act_space.nvec.tolist()}
        else:
            assert isinstance(act_space, spaces.Discrete)  # _check_spaces: these three
            act_doc = {"kind": "discrete", "n": int(act_space.n)}
        norm_doc = None
        norm = self._train_env if isinstance(self._train_env, VecNormalize) else self.normalizer_
        if norm is not None:
            # SB3 infers obs_rms as a dict (its first assignment, for Dict observation
            # spaces); on our Box observations it is one RunningMeanStd.
            assert isinstance(norm.obs_rms, RunningMeanStd)
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
            "action_space": act_doc,
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
            elif act_doc["kind"] == "multidiscrete":
                act_space = spaces.MultiDiscrete(np.asarray(act_doc["nvec"], dtype=np.int64))
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
            # Ignored: SB3's VecNormalize infers obs_rms as the dict of its
            # Dict-space branch and ignores this same assignment in its own __init__.
            vn.obs_rms = _rms(arrays["obs_mean"], arrays["obs_var"], norm["obs_count"])  # type: ignore[assignment]
            vn.ret_rms = _rms(arrays["ret_mean"], arrays["ret_var"], norm["ret_count"])
            self.normalizer_ = vn
        ctx = state.get("mask_context")
        self._mask_ctx = (
            MaskContext(tuple(ctx["prices"]), float(ctx["p_max"]), dict(ctx["obs_index"]))
            if ctx
            else None
        )


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except (ImportError, AttributeError):
        return "unknown"
