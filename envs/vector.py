"""B single-seller markets stepped together: :class:`MarketVectorEnv`.

:class:`MarketVectorEnv` is the batched twin of
:class:`~pricegym.envs.market.PricingEnv`, as gymnasium's ``CartPoleVectorEnv`` is
of ``CartPoleEnv``: B markets with the same kernel and
:class:`~pricegym.envs.config.MarketConfig`, advanced in one numpy pass per step,
with exactly the semantics of B ``PricingEnv`` s in a
:class:`gymnasium.vector.SyncVectorEnv` — same observations, rewards, ``info``
(gymnasium's dict of arrays with ``_key`` masks), termination and truncation, and
the same random draws. :class:`~pricegym.envs.sb3_vec.SB3VecEnv` (in
:mod:`pricegym.envs.sb3_vec`, importable from here too) exposes it through
stable-baselines3's own :class:`~stable_baselines3.common.vec_env.VecEnv` API.

Same seeds, same trajectories
-----------------------------
``reset(seed=s)`` gives market i the generator ``PricingEnv.reset(seed=s + i)``
would have (gymnasium's ``np_random``, the SyncVectorEnv convention); ``seed=None``
keeps each market's stream going (autoresets never reseed). Every market then
consumes its own stream in ``PricingEnv``'s order — at reset the competitor path of
the episode, each period its demand draw — so market i of the batch and a
``PricingEnv`` reset with seed s + i produce the same observations, rewards and
flags. The streams are drawn ahead in chunks and consumed in numpy; how, for each
kind of demand noise, is told in :mod:`pricegym.envs._streams`. A market with
Poisson demand on a price grid (the registered ids) runs a whole step — draw,
sales, stock, money, flags, observation, next-step autoresets — in one compiled
pass (:mod:`pricegym.envs._table_step`), the same float operations as the numpy
step below.

Expected demand is computed as ``PricingEnv`` computes it: for a stateless kernel
with deterministic competitor prices, a table over periods × grid prices (or the
price-free part of a regression's linear predictor) built with the same batched
kernel calls, blocks of :data:`~pricegym.envs._fastpath.BLOCK` periods; the ARIMAX
error state filtered with the same float operations.

What "equal to B single markets" promises, on every CPU
-------------------------------------------------------
- **Discrete outcomes are identical**: grid prices, Poisson / negative-binomial
  draws (hence sales and stock in unit counts), stock-outs, terminations,
  truncations, autoresets, replenishments.
- **Continuous quantities agree to floating-point rounding**, not bit for bit.
  The batch calls numpy's ``np.exp``/``np.log`` on arrays, a single market's fast
  path (:mod:`pricegym.envs._fastpath`) ``math.exp``/``math.log`` on floats; numpy
  picks SIMD code at run time, and its AVX-512 float64 exp/log differ from libm's by
  an ulp. With random-walk competitors, neural or other kernels a batched kernel
  call per step sums B rows in another order than one row (BLAS). So log-normal
  demand, continuous-price sales and revenue, ``expected_demand`` and the float32
  observations made from them may differ in the last bits (relative ~1e-16 after
  40 steps, measured); the test suite holds them to 1e-12 relative (float32: 4 ulp)
  and proves that bound with exp/log skewed by 1–2 ulp on either path. A Poisson
  draw could change only if its threshold fell within an ulp of the mean (odds
  ~1e-15 a draw).

Using numpy's functions on the single market's floats would make the two paths
agree on most CPUs but not all (numpy falls back to libm for strided arrays), and
costs ~10% of a single market's step (measured: 3.9 → 4.3 µs), so the fast path
keeps ``math``. Same seed, same machine → identical results, bit for bit.

Rivals (rule-based agents inside the market) are Python objects called once per
market and period, so a market with rivals is run as B ``PricingEnv`` s in a
:class:`gymnasium.vector.SyncVectorEnv` behind the same interface.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction, ResetNeeded
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space

from pricegym._lazy import lazy_exports
from pricegym.demand.features import MarketContext
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.statespace import ArimaxKernel
from pricegym.envs import _table_step
from pricegym.envs import render as rendering
from pricegym.envs._fastpath import BLOCK, SMALL_STATE
from pricegym.envs._neural_batch import NeuralBatch
from pricegym.envs._streams import _DrawnNormals, _MarketStreams, _noise_kind, per_market_seeds
from pricegym.envs.competitors import CompetitorProcess
from pricegym.envs.config import MarketConfig
from pricegym.envs.market import (
    PRICE_OBS_CAP,
    SALES_OBS_CAP,
    PricingEnv,
    Rival,
    stock_denominator,
)
from pricegym.errors import ConfigError, DecisionWarning, ExtrapolationWarning

if TYPE_CHECKING:
    from pricegym.envs.sb3_vec import SB3VecEnv

__all__ = ["RESET_KEYS", "STEP_KEYS", "MarketVectorEnv", "SB3VecEnv", "plain_market"]

#: ``info`` keys of a step, in ``PricingEnv``'s order, and those a reset also sets.
STEP_KEYS = (
    "price",
    "expected_demand",
    "demand",
    "sales",
    "lost_sales",
    "revenue",
    "cost",
    "holding_cost",
    "salvage",
    "profit",
    "inventory",
    "replenished",
    "competitor_prices",
    "t",
)
RESET_KEYS = ("t", "inventory", "competitor_prices")


# ==================================================================== the batched env
class MarketVectorEnv(VectorEnv):
    """B single-seller markets stepped together in numpy (see the module docstring).

    ## Description

    ``num_envs`` independent copies of
    :class:`~pricegym.envs.market.PricingEnv` with the same demand kernel and
    market config, advanced together. Everything a ``PricingEnv`` documents —
    action mapping, step order, observation table, reward, ``info`` entries,
    episode end — holds per market; this docstring only adds what batching adds.

    ## Spaces

    ``single_action_space`` / ``single_observation_space`` are the ``PricingEnv``'s
    (``Discrete(n)`` or ``Box(-1, 1, (1,))``; the float32 observation ``Box`` of
    d = 4 + m (+2 seasonal) entries, names in ``observation_names``);
    ``action_space`` is ``MultiDiscrete([n] * B)`` or ``Box(-1, 1, (B, 1))`` and
    ``observation_space`` a ``Box`` of shape (B, d).

    ## Step and reset

    ``step(actions)`` returns observations (B, d) float32, rewards (B,) float64
    (each market's profit), terminated and truncated (B,) bool and ``info``, a
    dict of arrays — ``info[key][i]`` is market i's value, ``info["_" + key][i]``
    whether market i has it — holding every key of ``PricingEnv``'s step info
    (``competitor_prices`` of shape (B, m)). In a step where every market played,
    the masks of all keys are one all-true array.

    ``autoreset_mode`` (``metadata["autoreset_mode"]``, gymnasium's
    :class:`~gymnasium.vector.AutoresetMode`):

    - ``NEXT_STEP`` (default): a market that ended is reset at the next ``step``,
      whose action for it is ignored; for it that step returns the reset
      observation, reward 0, both flags false and the reset ``info`` (``t``,
      ``inventory``, ``competitor_prices``; the step keys are masked out).
    - ``SAME_STEP``: a market that ends is reset in the same step; ``info`` then
      has ``final_obs`` (object array of the last observations) and
      ``final_info`` (the step info of the markets that ended, with masks), and
      the returned observation is the reset one.
    - ``DISABLED``: stepping a market that ended raises ``ResetNeeded``; reset it
      with ``reset(options={"reset_mask": mask})``.

    ``reset(seed=..., options=...)`` takes a seed (market i gets ``seed + i``),
    a list of B seeds (``None`` entries keep the stream) or ``None``;
    ``options["reset_mask"]`` (bool array of shape (B,)) resets only those markets.

    ## Attributes

    The market's facts as on ``PricingEnv``: ``kernel``, ``config``, ``prices``
    (grid or None), ``p_min``, ``p_max``, ``observation_names``, ``sales_scale``,
    ``horizon``, ``episode_length``, ``start_t``, ``season_period``; and ``mode``,
    how demand is evaluated: ``"table"``, ``"linear"``, ``"arimax"`` (the
    single env's precomputed paths), ``"kernel"`` (one batched kernel call per
    step) or ``"sync"`` (markets with rivals, run as single envs).

    ## Randomness

    Market i consumes its own generator exactly as a ``PricingEnv`` reset with
    the same seed does, so trajectories equal those of
    ``SyncVectorEnv([PricingEnv(...)] * B)`` (see :mod:`pricegym.envs._streams`
    for how this is fast).

    ## Arguments

    - ``kernel``, ``config``, ``model_path``, ``fast_path``: as for ``PricingEnv``.
    - ``num_envs``: the number of markets B (>= 1).
    - ``rivals``: rival agents (templates): every market gets its own deep copy;
      such markets run as ``PricingEnv`` s in a ``SyncVectorEnv``.
    - ``autoreset_mode``: see above.
    - ``max_episode_steps``: a training cut-off with ``TimeLimit`` semantics
      (truncated once a market has played that many periods since its reset), as
      ``gymnasium.make_vec(..., max_episode_steps=...)`` passes it.
    - ``render_mode``: ``None`` or ``"ansi"`` (``render()`` returns one status
      line per market).

    ## Version History

    - v0: initial version.

    ## Example

    >>> from pricegym.demand import ExponentialTruth
    >>> from pricegym.envs.vector import MarketVectorEnv
    >>> venv = MarketVectorEnv(ExponentialTruth(a=50.0, alpha=0.5),
    ...                        {"n_prices": 5, "horizon": 4, "inventory": 40}, num_envs=3)
    >>> obs, info = venv.reset(seed=0)
    >>> obs.shape, venv.action_space
    ((3, 4), MultiDiscrete([5 5 5]))
    >>> obs, reward, terminated, truncated, info = venv.step([1, 1, 1])
    >>> info["price"].tolist(), info["_price"].tolist()
    ([5.15, 5.15, 5.15], [True, True, True])
    """

    metadata: dict[str, Any] = {  # noqa: RUF012
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": ["ansi"],
    }
    single_observation_space: spaces.Box  # PricingEnv's; VectorEnv declares a plain Space

    def __init__(
        self,
        kernel: DemandKernel | None = None,
        config: MarketConfig | Mapping[str, Any] | None = None,
        *,
        num_envs: int = 1,
        model_path: str | None = None,
        rivals: Sequence[Rival] = (),
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        fast_path: bool = True,
    ) -> None:
        if not isinstance(num_envs, int | np.integer) or isinstance(num_envs, bool) or num_envs < 1:
            raise ConfigError(f"num_envs={num_envs!r} must be an integer >= 1 (markets).")
        if max_episode_steps is not None and (
            not isinstance(max_episode_steps, int | np.integer) or max_episode_steps < 1
        ):
            raise ConfigError(
                f"max_episode_steps={max_episode_steps!r} must be an integer >= 1, or None "
                "for no cut-off."
            )
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise ConfigError(
                f"autoreset_mode={autoreset_mode!r} is unknown; use one of "
                f"{[m.value for m in AutoresetMode]} (gymnasium.vector.AutoresetMode)."
            ) from None
        if render_mode not in (None, "ansi"):
            raise ConfigError(
                f"render_mode={render_mode!r} is not supported by the batched market; use "
                "'ansi' or None (for charts, render single PricingEnvs)."
            )
        self.num_envs = int(num_envs)
        self.autoreset_mode = mode
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.render_mode = render_mode
        self.time_limit = None if max_episode_steps is None else int(max_episode_steps)
        self._rival_templates = list(rivals)
        proto = PricingEnv(
            kernel,
            config,
            model_path=model_path,
            rivals=copy.deepcopy(self._rival_templates),
            fast_path=fast_path,
        )
        self._proto = proto
        self.kernel: DemandKernel = proto.kernel
        self.config: MarketConfig = proto.config
        self.fast_path = bool(fast_path)
        # ------------------------------------------------------------ the market's facts
        self.prices: np.ndarray | None = proto.prices
        self.p_min, self.p_max = proto.p_min, proto.p_max
        self.observation_names = proto.observation_names
        self.sales_scale = proto.sales_scale
        self.horizon = proto.horizon
        self.max_steps = proto.max_steps
        self.episode_length = proto.episode_length
        self.start_t = proto.start_t
        self.season_period = proto.season_period
        self.single_action_space = proto.action_space
        self.single_observation_space = proto.observation_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._last_info: dict[str, Any] = {}
        if self._rival_templates:
            self._sync: SyncVectorEnv | None = SyncVectorEnv(
                [self._single_env_factory(fast_path)] * self.num_envs,
                copy=True,
                autoreset_mode=mode,
            )
            self.mode = "sync"
        else:
            self._sync = None
            self._setup_batch()

    # ================================================================ construction
    def _single_env_factory(self, fast_path: bool) -> Callable[[], gym.Env]:
        def make() -> gym.Env:
            with warnings.catch_warnings():  # the prototype has warned once already
                warnings.simplefilter("ignore", ExtrapolationWarning)
                warnings.simplefilter("ignore", DecisionWarning)
                env: gym.Env = PricingEnv(
                    self.kernel,
                    self.config,
                    rivals=copy.deepcopy(self._rival_templates),
                    fast_path=fast_path,
                )
            if self.time_limit is not None:
                env = gym.wrappers.TimeLimit(env, self.time_limit)
            return env

        return make

    def _setup_batch(self) -> None:
        proto, kern, cfg = self._proto, self.kernel, self.config
        b = self.num_envs
        m = proto.competitors.n_competitors
        self._m = m
        self._grid = None if self.prices is None else np.asarray(self.prices, np.float64)
        self._inv_pmax = 1.0 / self.p_max
        self._mid_price = 0.5 * (self.p_min + self.p_max)
        self._inv0 = None if cfg.inventory is None else float(cfg.inventory)
        self._every = None if cfg.replenish_every is None else int(cfg.replenish_every)
        self._replenish_to = self._inv0 if cfg.replenish_to is None else float(cfg.replenish_to)
        self._inv_denom = 1.0
        if self._inv0 is not None:
            self._inv_denom = stock_denominator(self._inv0, self._replenish_to)
        self._cost, self._holding = float(cfg.cost), float(cfg.holding_cost)
        self._salvage = float(cfg.salvage_value)
        self._start_comp = proto.competitors.start.copy()
        self._promo = np.asarray(kern.reference["promotions"], np.float64).reshape(1, -1)
        # observation columns that depend on the period only, as PricingEnv computes them
        # (time remaining, season; stock when unlimited; competitors when fixed, below)
        d = self.single_observation_space.shape[0]
        ks = range(self.horizon + 1)
        static = np.zeros((self.horizon + 1, d))
        static[:, 0] = [(self.horizon - k) / self.horizon for k in ks]
        if self._inv0 is None:
            static[:, 1] = 1.0
        if self.season_period:
            angles = [2.0 * math.pi * (self.start_t + k) / self.season_period for k in ks]
            static[:, 4 + m :] = [[math.sin(a), math.cos(a)] for a in angles]
        start_obs = np.minimum(self._start_comp * self._inv_pmax, PRICE_OBS_CAP)
        reset_obs = static[0].copy()
        reset_obs[1] = 1.0 if self._inv0 is None else self._inv0 / self._inv_denom
        reset_obs[2] = self._mid_price * self._inv_pmax
        reset_obs[3 : 3 + m] = start_obs
        reset_obs[3 + m] = 0.0
        self._reset_obs = reset_obs.astype(np.float32)
        # ------------------------------------------------------------ demand
        self._noise = _noise_kind(kern, cfg.noise)
        self._fused = self._fused_period = False
        stream_kind = {"poisson": "pcg", "lognormal": "normal"}.get(self._noise, "direct")
        transform = None
        if self._noise == "lognormal":
            sigma, shift = float(kern.noise.sigma), 0.5 * kern.noise.sigma**2

            # the log-normal factor exp(σz − σ²/2) of each buffered normal z
            def transform(z: np.ndarray) -> np.ndarray:
                return np.exp(sigma * z - shift)

        self._streams = _MarketStreams(b, stream_kind, transform)
        if self._noise == "negbin":
            self._nb_shape = 1.0 / kern.noise.alpha
            self._nb_alpha = float(kern.noise.alpha)
        self._random_path = proto.competitors.kind == "random_walk" and m > 0
        self._stateful = type(kern).update is not DemandKernel.update or bool(kern.initial_state(1))
        length = self.episode_length
        if self._random_path:
            self._comp = np.empty((b, length, m))
            path, comp_obs = None, None
        else:
            # deterministic kinds draw nothing from the generator
            proc = CompetitorProcess(cfg.competitor, kern, 1)
            path = proc.path(np.random.default_rng(0), length)
            path = path[:, 0, :]
            comp_obs = np.minimum(path * self._inv_pmax, PRICE_OBS_CAP)
        self._path, self._path_obs = path, comp_obs
        #: competitor prices constant over the episode: their observation never changes
        self._fixed_comp = path is not None and bool(np.all(path == path[:1]))
        if self._fixed_comp:
            static[:, 3 : 3 + m] = start_obs
        self._static_obs = static.astype(np.float32)
        fast = (
            self.fast_path
            and not self._random_path
            and proto.mode in ("table", "linear", "arimax", "neural")
        )
        self.mode = proto.mode if fast else "kernel"
        #: expected demand cannot be negative (or NaN): the draws need not clip it
        self._mu_nonneg = self.mode in ("linear", "arimax", "neural")
        if self.mode == "table":
            self._table = self._blocks(self._table_block)
            self._table_flat = self._table.reshape(-1)
            self._mu_nonneg = bool(np.all(self._table_flat >= 0.0))
            self._n_prices = self._table.shape[1]
            if self._noise == "poisson":  # the sampler's constants of each table mean, once
                self._ptrs = self._streams.poisson_constants(self._table_flat)
                # draw, sales, money and stock in one compiled pass (envs/_table_step.py)
                self._fused = True
                every = 0 if self._every is None else self._every
                self._step_params = np.array(
                    [
                        self._cost,
                        self._holding,
                        self._salvage,
                        self.horizon,
                        every,
                        self._replenish_to if self._replenish_to is not None else 0.0,
                    ]
                )
                # a whole step in one compiled pass, when the observation's competitor
                # columns never change (envs/_table_step.table_poisson_period)
                self._fused_period = m == 0 or self._fixed_comp
                self._period_limits = np.array(
                    [
                        self.episode_length,
                        -1 if self.max_steps is None else self.max_steps,
                        -1 if self.time_limit is None else self.time_limit,
                        0.0 if self._inv0 is None else self._inv0,
                        self._inv_denom,
                        self._inv_pmax,
                        self.sales_scale,
                        SALES_OBS_CAP,
                        float(self._inv0 is not None and self._every is None),
                        3 + m,
                    ],
                    dtype=np.float64,
                )
        elif self.mode == "linear":
            self._setup_linear(kern)
            self._base = self._blocks(self._base_block)
        elif self.mode == "arimax":
            self._setup_linear(kern)
            block = self._base_block if self._grid is None else self._xb_block
            self._base = self._blocks(block)
            self._base_flat = self._base.reshape(-1)
            self._n_prices = 1 if self._grid is None else self._grid.shape[0]
            assert isinstance(kern, ArimaxKernel)  # the kernel _fast_class chose "arimax" for
            self._setup_arimax(kern)
        elif self.mode == "neural":
            self._neural = NeuralBatch(kern, b, self._grid, self._blocks, self._context)
        # ------------------------------------------------------------ per-market state
        self._k = np.zeros(b, dtype=np.int64)
        self._inv = None if self._inv0 is None else np.full(b, self._inv0)
        self._obs = np.zeros((b, *self.single_observation_space.shape), np.float32)
        self._started = np.zeros(b, dtype=bool)
        self._all_started = False
        self._ended = np.zeros(b, dtype=bool)
        self._state: dict[str, np.ndarray] = kern.initial_state(b) if self._stateful else {}
        self._rows = np.arange(b)
        self._no_stock = np.empty(0)

    # ---------------------------------------------------------------- precomputed tables
    def _context(self, t: np.ndarray, comp: np.ndarray) -> MarketContext:
        n = t.shape[0]
        promo = np.broadcast_to(self._promo, (n, self._promo.shape[1]))
        return MarketContext(t, comp, promo, np.full(n, self.kernel.default_product, np.int64))

    def _blocks(self, compute: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Per-period values over the episode, computed in PricingEnv's blocks of periods.

        The same batched kernel calls as the single env's block paths, so the values
        agree bit for bit (a BLAS product over a differently sized batch would not).
        """
        assert self._path is not None
        parts = []
        for k0 in range(0, self.episode_length, BLOCK):
            k1 = min(k0 + BLOCK, self.episode_length)
            t = self.start_t + np.arange(k0, k1, dtype=np.float64)
            parts.append(compute(t, self._path[k0:k1]))
        return np.concatenate(parts)

    def _table_block(self, t: np.ndarray, comp: np.ndarray) -> np.ndarray:
        grid, kern = self._grid, self.kernel
        assert grid is not None
        n, rows = grid.shape[0], t.shape[0]
        ctx = self._context(np.repeat(t, n), np.repeat(comp, n, axis=0))
        mu = kern.expected(np.tile(grid, rows), ctx, kern.initial_state(rows * n))
        return np.asarray(mu, np.float64).reshape(rows, n)

    def _base_block(self, t: np.ndarray, comp: np.ndarray) -> np.ndarray:
        kern: Any = self.kernel
        x = kern.spec.build_context(np.ones(t.shape[0]), self._context(t, comp))
        x[:, kern.spec.price_index] = 0.0
        return x @ kern.coef

    def _xb_block(self, t: np.ndarray, comp: np.ndarray) -> np.ndarray:
        kern: Any = self.kernel
        grid = self._grid
        assert grid is not None
        n, rows = grid.shape[0], t.shape[0]
        ctx = self._context(np.repeat(t, n), np.repeat(comp, n, axis=0))
        xb = kern.spec.build_context(np.tile(grid, rows), ctx) @ kern.coef
        return xb.reshape(rows, n)

    def _setup_linear(self, kern: Any) -> None:
        spec = kern.spec
        self._level = spec.price_transform == "level"
        self._beta = float(kern.coef[spec.price_index])
        if self.mode == "linear":
            self._log_link, self._scale = kern.link == "log", float(kern.scale)

    def _setup_arimax(self, kern: ArimaxKernel) -> None:
        self._log_link, self._scale = kern.target == "log", float(kern.smear)
        self._log_floor = float(kern.log_floor)
        self._small = kern.k_states <= SMALL_STATE
        if self._small:
            # the single env filters small states on Python floats, entry by entry; the
            # same operations in the same order run here on rows of a (k_states, B) array
            self._z = kern.design.tolist()
            self._t_rows = kern.transition.tolist()
            self._gain = kern.gain.tolist()
            self._a = np.tile(kern.state[:, None], (1, self.num_envs))
        else:
            self._z = kern.design.copy()
            self._t_rows = np.ascontiguousarray(kern.transition.T)
            self._gain = kern.gain.copy()
            self._a = np.tile(kern.state, (self.num_envs, 1))

    # ================================================================ gymnasium API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every market (or those of ``options["reset_mask"]``); see the class docstring."""
        b = self.num_envs
        seeds = per_market_seeds(seed, b)
        mask = None if options is None else options.get("reset_mask")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (b,) or mask.dtype != np.bool_ or not mask.any():
                raise ConfigError(
                    f"options['reset_mask'] must be a bool array of shape ({b},) with at least "
                    f"one True; got dtype {mask.dtype} and shape {mask.shape}."
                )
        if self._sync is not None:
            sync_options = None if options is None else dict(options)
            obs, sync_info = self._sync.reset(seed=seeds, options=sync_options)
            self._last_info = sync_info
            return obs, sync_info
        rows = self._rows if mask is None else np.flatnonzero(mask)
        self._obs = self._obs.copy()  # the caller may hold the last one
        self._streams.seed(rows.tolist(), [seeds[i] for i in rows.tolist()])
        values = self._reset_rows(rows)
        info: dict[str, Any] = {}
        for key in RESET_KEYS:
            arr = np.zeros((b, *values[key].shape[1:]))
            arr[rows] = values[key]
            info[key] = arr
            info["_" + key] = _mask(b, rows)
        self._last_info = info
        return self._obs, info

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one period in every market (see the class docstring)."""
        if self._sync is not None:
            obs, reward, terminated, truncated, info = self._sync.step(actions)
            self._last_info = info
            return obs, reward, terminated, truncated, info
        if not self._all_started:
            raise ResetNeeded(
                f"markets {np.flatnonzero(~self._started)[:10].tolist()} were never reset; "
                "call reset() before step()."
            )
        mode = self.autoreset_mode
        if self._fused_period and mode == AutoresetMode.NEXT_STEP:
            result = self._step_period(actions)
            if result is not None:
                return result
        ended = self._ended
        resetting: np.ndarray | None = None
        if ended.any():
            if mode == AutoresetMode.NEXT_STEP:
                resetting = np.flatnonzero(ended)
            else:
                raise ResetNeeded(
                    f"markets {np.flatnonzero(ended)[:10].tolist()} have ended; with "
                    "autoreset_mode=DISABLED reset them with reset(options={'reset_mask': ...})."
                )
        obs, reward, terminated, truncated, info = self._step_batch(actions, resetting)
        b = self.num_envs
        if resetting is not None:
            values = self._reset_rows(resetting)
            reward[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
            keep = np.ones(b, dtype=bool)
            keep[resetting] = False
            for key in STEP_KEYS:
                if key in RESET_KEYS:
                    info[key][resetting] = values[key]
                    info["_" + key] = np.ones(b, dtype=bool)
                else:
                    info[key][resetting] = 0.0
                    info["_" + key] = keep.copy()
            if not keep.any():  # as SyncVectorEnv: keys no market has are left out
                for key in STEP_KEYS:
                    if key not in RESET_KEYS:
                        del info[key], info["_" + key]
            obs = self._obs
        else:
            present = np.ones(b, dtype=bool)  # one mask for all keys of this step
            for key in STEP_KEYS:
                info["_" + key] = present
        done = terminated | truncated
        self._ended = done.copy()
        if mode == AutoresetMode.SAME_STEP and done.any():
            rows = np.flatnonzero(done)
            final_obs = np.full(b, None, dtype=object)
            for i in rows.tolist():
                final_obs[i] = obs[i].copy()
            final_info: dict[str, Any] = {}
            for key in STEP_KEYS:
                arr = np.zeros_like(info[key])
                arr[rows] = info[key][rows]
                final_info[key], final_info["_" + key] = arr, done.copy()
            values = self._reset_rows(rows)
            stay = ~done
            for key in STEP_KEYS:
                if key in RESET_KEYS:
                    info[key][rows] = values[key]
                else:
                    info[key][rows] = 0.0
                    info["_" + key] = stay.copy()
            if not stay.any():
                for key in STEP_KEYS:
                    if key not in RESET_KEYS:
                        del info[key], info["_" + key]
            info["final_obs"], info["_final_obs"] = final_obs, done.copy()
            info["final_info"], info["_final_info"] = final_info, done.copy()
            self._ended = np.zeros(b, dtype=bool)
        self._last_info = info
        return self._obs, reward, terminated, truncated, info

    def _step_period(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]] | None:
        """:meth:`step` with next-step autoreset of a Poisson table market in one compiled
        pass (:func:`~pricegym.envs._table_step.table_poisson_period`): the same values,
        masks and resets as the numpy step. None (nothing done) for actions that are
        not an int array of shape (B,) or hold an invalid index: the numpy step then
        converts them or raises."""
        b = self.num_envs
        a = actions
        if type(a) is not np.ndarray or a.shape != (b,) or a.dtype.kind not in "iu":
            return None
        a = a.astype(np.int64, copy=False)
        assert self._grid is not None  # a table market has a price grid
        st, lg = self._streams.pcg_states()
        rows = np.empty((len(_table_step.PERIOD_ROWS), b))
        obs = np.empty_like(self._obs)
        k_info = np.empty(b, dtype=np.int64)
        flags = np.empty((3, b), dtype=np.bool_)
        ended = self._ended
        bad = _table_step.table_poisson_period(
            st, a, ended, self._k, self._grid, self._table_flat, self._ptrs, lg,
            self._no_stock if self._inv is None else self._inv, self._step_params,
            self._period_limits, self._static_obs, self._reset_obs, obs, rows, k_info, flags,
        )  # fmt: skip
        if bad >= 0:
            return None
        self._obs = obs
        terminated, truncated, reset = flags
        (mu, demand, sales, lost, revenue, cost, holding, salvage, profit, inv_out, repl,
         price) = rows  # fmt: skip
        comp = self._path[k_info] if self._path is not None else np.empty((b, 0))
        info: dict[str, Any] = {
            "price": price,
            "expected_demand": mu,
            "demand": demand,
            "sales": sales,
            "lost_sales": lost,
            "revenue": revenue,
            "cost": cost,
            "holding_cost": holding,
            "salvage": salvage,
            "profit": profit,
            "inventory": inv_out,
            "replenished": repl,
            "competitor_prices": comp,
            "t": self.start_t + k_info,
        }
        if reset.any():
            comp[reset] = self._start_comp
            keep = ~reset
            everyone = np.ones(b, dtype=bool)
            for key in STEP_KEYS:
                info["_" + key] = everyone if key in RESET_KEYS else keep.copy()
            if not keep.any():
                for key in STEP_KEYS:
                    if key not in RESET_KEYS:
                        del info[key], info["_" + key]
        else:
            present = np.ones(b, dtype=bool)
            for key in STEP_KEYS:
                info["_" + key] = present
        done = terminated | truncated
        self._ended = done
        self._last_info = info
        return obs, profit.copy(), terminated, truncated, info

    def render(self) -> tuple[str, ...] | None:
        """``"ansi"``: one status line per market (its last step, or its reset)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render mode; create the env with render_mode='ansi'."
            )
            return None
        info = self._last_info
        lines = []
        for i in range(self.num_envs):
            status: dict[str, float] = {
                k: float(info[k][i])
                for k in ("t", "price", "demand", "sales", "inventory", "profit")
                if k in info and info["_" + k][i]
            }
            lines.append(rendering.ansi_line(status))
        return tuple(lines)

    def close_extras(self, **kwargs: Any) -> None:
        """Close the single envs of a market with rivals (nothing to close otherwise)."""
        if self._sync is not None:
            self._sync.close()

    # ================================================================ batched engine
    def _reset_rows(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Start a new episode in markets ``rows`` (already seeded); returns their reset info."""
        kern = self.kernel
        if self._random_path:
            length, m = self.episode_length, self._m
            normals = np.empty((length, rows.size, m))
            for j, i in enumerate(rows.tolist()):
                normals[:, j, :] = self._streams.normal_block(i, length * m).reshape(length, m)
            proc = CompetitorProcess(self.config.competitor, kern, rows.size)
            path = proc.path(_DrawnNormals(normals), length)  # type: ignore[arg-type]
            self._comp[rows] = path.transpose(1, 0, 2)
        self._k[rows] = 0
        if self._inv is not None:
            self._inv[rows] = self._inv0
        if self.mode == "arimax":
            state = kern.state  # type: ignore[attr-defined]
            if self._small:
                self._a[:, rows] = state[:, None]
            else:
                self._a[rows] = state
        elif self._stateful:
            mask = np.zeros(self.num_envs, dtype=bool)
            mask[rows] = True
            self._state = kern.reset_state(self._state, mask, self.num_envs)
        self._started[rows] = True
        self._all_started = bool(self._started.all())
        self._ended[rows] = False
        # the reset observation, as PricingEnv._observation at k = 0
        self._obs[rows] = self._reset_obs
        n = rows.size
        return {
            "t": np.full(n, self.start_t),
            "inventory": np.full(n, math.inf if self._inv0 is None else self._inv0),
            "competitor_prices": np.tile(self._start_comp, (n, 1)),
        }

    def _action_prices(self, actions: Any) -> tuple[np.ndarray | None, np.ndarray]:
        """(grid indices or None, prices) of a batch of actions; InvalidAction if outside.

        The mapping is :meth:`MarketConfig.action_to_price`, written out here with
        the same operations in the same order (bit for bit) because the call and its
        copies cost a tenth of a batched step.
        """
        b = self.num_envs
        grid = self._grid
        a = actions if type(actions) is np.ndarray else np.asarray(actions)
        if grid is not None:
            if a.shape != (b,) or a.dtype.kind not in "iu":
                if a.shape == (b,) and a.dtype.kind == "f" and np.all(a == np.floor(a)):
                    a = a.astype(np.int64)
                else:
                    raise InvalidAction(
                        f"actions of shape {a.shape} and dtype {a.dtype} are not {b} price "
                        f"indices; pass an int array of shape ({b},) (e.g. "
                        "env.action_space.sample())."
                    )
            a = a.astype(np.int64, copy=False)
            if (a.view(np.uint64) >= grid.shape[0]).any():  # negatives wrap to huge values
                bad = np.flatnonzero((a < 0) | (a >= grid.shape[0]))[:5]
                raise InvalidAction(
                    f"actions {a[bad].tolist()} of markets {bad.tolist()} are not price indices "
                    f"in [0, {grid.shape[0]}); sample actions from env.action_space."
                )
            return a, grid[a]
        if a.shape not in ((b, 1), (b,)) or a.dtype.kind not in "iuf":
            raise InvalidAction(
                f"actions of shape {a.shape} and dtype {a.dtype} are not one number in [-1, 1] "
                f"per market; pass an array of shape ({b}, 1) (e.g. env.action_space.sample())."
            )
        # lo + 0.5·(clip(a, −1, 1) + 1)·(hi − lo), in place on a float64 copy
        price = np.array(a, dtype=np.float64).reshape(b)
        np.maximum(price, -1.0, out=price)
        np.minimum(price, 1.0, out=price)
        price += 1.0
        price *= 0.5
        price *= self.p_max - self.p_min
        price += self.p_min
        # prices are clipped into [p_min, p_max], so only NaN actions give a NaN sum
        if not math.isfinite(price.sum()):
            bad = np.flatnonzero(~np.isfinite(price))[:5]
            raise InvalidAction(
                f"actions of markets {bad.tolist()} are not finite numbers in [-1, 1]."
            )
        return None, price

    def _expected(
        self, k: np.ndarray, idx: np.ndarray | None, price: np.ndarray, comp: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """Expected units of period ``k`` at ``price`` per market, and what the update needs."""
        mode = self.mode
        if mode == "table":
            assert idx is not None
            entry = k * self._n_prices + idx
            return self._table_flat[entry], entry
        if mode == "linear":
            f = price if self._level else np.log(price)
            eta = self._base[k] + self._beta * f
            if self._log_link:
                return self._scale * np.exp(eta), None
            return np.where(eta > 0.0, eta, 0.0), None
        if mode == "arimax":
            if idx is not None:
                xb = self._base_flat[k * self._n_prices + idx]
            else:
                xb = self._base[k] + self._beta * (price if self._level else np.log(price))
            a = self._a
            if self._small:
                z = self._z
                acc = a[0] * z[0]
                for j in range(1, len(z)):
                    acc += a[j] * z[j]
                yhat = xb + acc
            else:
                yhat = xb + a @ self._z
            if self._log_link:
                return self._scale * np.exp(yhat), yhat
            return np.where(yhat > 0.0, yhat, 0.0), yhat
        if mode == "neural":
            return self._neural.expected(k, idx, price, self._state["lags"]), None
        ctx = self._context(self.start_t + k, comp)
        mu = np.asarray(self.kernel.expected(price, ctx, self._state or None), np.float64)
        return mu, ctx

    def _observe(self, demand: np.ndarray, price: np.ndarray, extra: Any) -> None:
        """Advance the kernel state with the period's demand (all markets)."""
        if self.mode == "arimax":
            yhat = extra
            if not self._log_link:
                innov = demand - yhat
            elif self._log_floor > 0.0:
                innov = np.log(np.maximum(demand, self._log_floor))
                innov -= yhat
            else:
                with np.errstate(divide="ignore"):  # a floor of 0 reads zero sales as log 0
                    innov = np.log(np.maximum(demand, self._log_floor)) - yhat
            a = self._a
            if not self._small:
                self._a = a @ self._t_rows + innov[:, None] * self._gain
            elif a.shape[0] == 1:  # one state: a ← a·T + innov·K, in place
                a *= self._t_rows[0][0]
                innov *= self._gain[0]
                a += innov
            else:
                new = np.empty_like(a)
                for r, (row, g) in enumerate(zip(self._t_rows, self._gain, strict=True)):
                    acc = new[r]
                    np.multiply(a[0], row[0], out=acc)
                    for j in range(1, len(row)):
                        acc += a[j] * row[j]
                    acc += innov * g
                self._a = new
        elif self.mode == "neural":
            NeuralBatch.observe(self._state, demand)
        elif self.mode == "kernel" and self._stateful:
            self._state = self.kernel.update(self._state, price, extra, demand)

    def _draw(
        self, mu: np.ndarray, resetting: np.ndarray | None, entry: np.ndarray | None = None
    ) -> np.ndarray:
        """The period's demand of every market that plays (0 for those resetting);
        ``entry``: the table entries of ``mu`` (table mode)."""
        kind = self._noise
        if kind == "poisson" and entry is not None:
            if resetting is not None:
                entry = entry.copy()
                entry[resetting] = -1
            return self._streams.poisson_entries(entry, self._ptrs)
        if kind == "poisson":
            # a mean <= 0 draws nothing and gives 0, as rng.poisson(max(mu, 0)) does
            lam = mu
            if resetting is not None:
                lam = mu.copy()
                lam[resetting] = 0.0
            return self._streams.poisson(lam)
        mean = mu if self._mu_nonneg else np.where(mu > 0.0, mu, 0.0)
        if kind == "none":
            return mean
        if kind == "lognormal":
            rows = None
            if resetting is not None:
                rows = np.ones(self.num_envs, dtype=bool)
                rows[resetting] = False
                rows = np.flatnonzero(rows)
            factor = self._streams.normals(rows, transformed=True)
            if rows is None:
                return mean * factor
            out = np.zeros(self.num_envs)
            out[rows] = mean[rows] * factor
            return out
        # one generator call per market (exact, not vectorised)
        out = np.zeros(self.num_envs)
        skip = set() if resetting is None else set(resetting.tolist())
        gens = self._streams.gens
        for i in range(self.num_envs):
            if i in skip:
                continue
            g = gens[i]
            assert g is not None
            if kind == "negbin":
                out[i] = g.poisson(g.gamma(self._nb_shape, self._nb_alpha * mean[i]))
            else:
                out[i] = self.kernel.sample(g, mu[i : i + 1])[0]
        return out

    def _settle(
        self, demand: np.ndarray, price: np.ndarray, k: np.ndarray, last_period: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Steps 4.-6. of ``PricingEnv.step`` on every market: (sales, lost, revenue, cost,
        holding, salvage, profit, inventory, replenished); updates the stock."""
        b = self.num_envs

        if self._inv is None:
            sales = demand.copy()
            revenue = price * sales
            cost = self._cost * sales
            profit = revenue - cost  # holding and salvage are 0.0 without stock
            lost, holding, salvage, replenished = np.zeros((4, b))  # rows of one array
            inv_out = np.full(b, math.inf)
        else:
            inv = self._inv
            sales = np.where(demand < inv, demand, inv)
            lost = demand - sales
            inv = inv - sales
            holding = self._holding * inv
            salvage = np.where(last_period, self._salvage * inv, 0.0)
            replenished = np.zeros(b)
            if self._every is not None:
                due = ~last_period & ((k + 1) % self._every == 0)
                replenished = np.where(due, np.maximum(0.0, self._replenish_to - inv), 0.0)
                inv = np.where(due, inv + replenished, inv)
            self._inv = inv
            inv_out = inv.copy()
            revenue = price * sales
            cost = self._cost * sales
            profit = revenue - cost - holding + salvage
        return sales, lost, revenue, cost, holding, salvage, profit, inv_out, replenished

    def _step_batch(
        self, actions: Any, resetting: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One period in every market; rows in ``resetting`` compute values that are
        discarded (they draw no randomness)."""
        if resetting is not None:  # as SyncVectorEnv: their actions are not looked at
            actions = np.array(actions, copy=True)
            if actions.shape[:1] == (self.num_envs,):
                actions[resetting] = 0
        idx, price = self._action_prices(actions)
        k = self._k
        if resetting is not None:
            k = np.minimum(k, self.episode_length - 1)
        # 2. competitor prices of the period
        comp_obs: np.ndarray | None
        if self._random_path:
            comp = self._comp[self._rows, k]
            comp_obs = np.minimum(comp * self._inv_pmax, PRICE_OBS_CAP)
        else:
            assert self._path is not None and self._path_obs is not None
            comp = self._path[k]
            comp_obs = None if self._fixed_comp else self._path_obs[k]
        b = self.num_envs
        last_period = k == self.horizon - 1
        extra: Any = None
        if self._fused:  # 3.-6. in one compiled pass, the same operations
            assert idx is not None
            entry = k * self._n_prices + idx
            skip = np.zeros(b, dtype=np.bool_)
            if resetting is not None:
                skip[resetting] = True
            st, lg = self._streams.pcg_states()
            rows = np.empty((_table_step.N_ROWS, b))
            inv_arr = self._no_stock if self._inv is None else self._inv
            _table_step.table_poisson_step(
                st,
                entry,
                skip,
                self._table_flat,
                self._ptrs,
                lg,
                price,
                k,
                inv_arr,
                self._step_params,
                rows,
            )
            mu, demand, sales, lost, revenue, cost, holding, salvage, profit = rows[:9]
            inv_out, replenished = rows[9], rows[10]
        else:  # 3. expected and drawn demand, 4.-6. sales, money, stock
            mu, extra = self._expected(k, idx, price, comp)
            demand = self._draw(mu, resetting, extra if self.mode == "table" else None)
            sales, lost, revenue, cost, holding, salvage, profit, inv_out, replenished = (
                self._settle(demand, price, k, last_period)
            )
        # 7. kernel state
        self._observe(demand, price, extra)
        # 8. episode end
        k1 = k + 1
        self._k = k1
        if self._inv is not None and self._every is None:
            terminated = last_period | (self._inv <= 0.0)
        else:
            terminated = last_period
        if self.max_steps is not None:
            truncated = ~terminated & (k1 >= self.max_steps)
        else:
            truncated = np.zeros(b, dtype=bool)
        if self.time_limit is not None:
            truncated |= k1 >= self.time_limit
        # observation, as PricingEnv._observation after the period: the columns that
        # depend on the period only from the table (a fresh array), then the others
        obs = self._obs = self._static_obs[k1]
        m = self._m
        if self._inv is not None:
            obs[:, 1] = self._inv / self._inv_denom
        np.multiply(price, self._inv_pmax, out=obs[:, 2], casting="same_kind")
        if m and not self._fixed_comp:
            obs[:, 3 : 3 + m] = comp_obs
        np.minimum(sales / self.sales_scale, SALES_OBS_CAP, out=obs[:, 3 + m], casting="same_kind")
        info = {
            "price": price,
            "expected_demand": mu,
            "demand": demand,
            "sales": sales,
            "lost_sales": lost,
            "revenue": revenue,
            "cost": cost,
            "holding_cost": holding,
            "salvage": salvage,
            "profit": profit.copy(),
            "inventory": inv_out,
            "replenished": replenished,
            "competitor_prices": comp,
            "t": self.start_t + k,
        }
        return obs, profit, terminated, truncated, info


def plain_market(env: gym.Env) -> tuple[PricingEnv, int | None] | None:
    """(the ``PricingEnv``, its ``TimeLimit`` or None) when ``env`` is one behind gymnasium's
    standard wrappers only (``TimeLimit``, ``OrderEnforcing``, ``PassiveEnvChecker``) — the
    envs a :class:`MarketVectorEnv` can batch exactly; None for anything else."""
    limit = None
    e: Any = env
    while isinstance(e, gym.Wrapper):
        if isinstance(e, gym.wrappers.TimeLimit):
            limit = e._max_episode_steps
        elif not isinstance(e, gym.wrappers.OrderEnforcing | gym.wrappers.PassiveEnvChecker):
            return None
        e = e.env
    return (e, limit) if isinstance(e, PricingEnv) else None


def _mask(b: int, rows: np.ndarray) -> np.ndarray:
    out = np.zeros(b, dtype=bool)
    out[rows] = True
    return out


# SB3VecEnv lives in pricegym.envs.sb3_vec, which imports this module: re-exported
# here on first use (PEP 562), so neither module imports the other at load time.
__getattr__ = lazy_exports(__name__, {"SB3VecEnv": "pricegym.envs.sb3_vec"})[0]
