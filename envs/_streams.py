"""Exact per-market random streams of the batched market, drawn ahead in chunks.

:class:`~pricegym.envs.vector.MarketVectorEnv` gives market i the generator that
``PricingEnv.reset(seed=s + i)`` would have and consumes it in ``PricingEnv``'s
order, so that its trajectories equal those of B single envs. Calling a generator
once per market per step would cost B Python calls per step, so each market's
stream is drawn **ahead in chunks** (one call per market every few hundred periods)
and consumed in numpy, or stepped in compiled code:

- Poisson demand (and NB2 with α = 0): no buffer — each market's ``PCG64`` state
  is copied into one ``(B, 4)`` uint64 array, which numpy's own ``random_poisson``
  compiled with numba steps directly (the multiplication method below λ = 10,
  Hörmann's PTRS from 10 up; :mod:`pricegym.envs._poisson`), consuming exactly
  the doubles numpy's generator would. A competitor path drawn at a reset first
  writes the state back into the market's generator (and the next draw reads it
  again).
- log-normal demand: chunks of standard normals (competitor paths are normals too).
- no noise: nothing per step; competitor paths from the generator directly.
- NB2 with α > 0 (a gamma draw before the Poisson) and kernels with their own
  ``sample``: one generator call per market per step (the slow, exact path).

:class:`_MarketStreams` holds the generators and their look-ahead buffers,
:class:`_DrawnNormals` hands pre-drawn normals to one batched
:meth:`~pricegym.envs.competitors.CompetitorProcess.path` call, and
:func:`_noise_kind` says which of the ways above draws a market's demand. They are
private to the batched market, kept apart from it because reproducing numpy's
streams exactly is one job and stepping the markets another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from gymnasium.utils import seeding

from pricegym.demand.kernels import DemandKernel
from pricegym.demand.noise import NoiseModel
from pricegym.errors import ConfigError, ModelError

#: Draws per market per chunk of the buffered normals.
NORMAL_CHUNK = 512
_MASK64 = (1 << 64) - 1
#: Largest Poisson mean accepted (numpy's own limit is ~9e18; demand this large is a bug).
_LAM_MAX = 1e12


def per_market_seeds(seed: int | Sequence[int | None] | None, b: int) -> list[int | None]:
    """The seed of each of ``b`` batched markets: ``None`` for all, ``seed + i`` for an int,
    or one entry per market from a sequence.

    Raises:
        ConfigError: a sequence whose length is not ``b``.
    """
    if seed is None:
        return [None] * b
    if isinstance(seed, int | np.integer):
        return [int(seed) + i for i in range(b)]
    seeds = list(seed)
    if len(seeds) != b:
        raise ConfigError(
            f"seed has {len(seeds)} entries but there are {b} markets; pass one seed "
            "per market, an int (market i gets seed + i) or None."
        )
    return seeds


class _MarketStreams:
    """One generator per market, seeded as ``PricingEnv.reset`` seeds its ``np_random``.

    ``kind`` says how the per-step draws are served: ``"pcg"`` (the generators'
    PCG64 states stepped by the compiled Poisson sampler), ``"normal"`` (chunks of
    standard normals) or ``"direct"`` (the generators are called as needed). Each
    normal chunk's generator stands right after it, so a chunk is a look-ahead of
    the market's stream and consuming it in order is consuming the stream. With
    ``"pcg"`` a market's position is its row of ``state`` while ``live[i]``, and its
    generator's own state otherwise (:meth:`generator` hands it back).
    """

    def __init__(
        self, n: int, kind: str, transform: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> None:
        self.kind = kind
        #: an elementwise function of the draws, kept beside them (``draws(rows, True)``)
        self.transform = transform
        self.gens: list[np.random.Generator | None] = [None] * n
        self.chunk = NORMAL_CHUNK
        if kind == "pcg":
            self.state = np.zeros((n, 4), dtype=np.uint64)
            self.live = np.zeros(n, dtype=bool)
            self._all_live = False
            self._loggam: np.ndarray | None = None
        if kind == "normal":
            self.buf = np.empty((n, self.chunk))
            self.flat = self.buf.reshape(-1)
            self.base = np.arange(n, dtype=np.int64) * self.chunk
            self.pos = np.full(n, self.chunk, dtype=np.int64)
            if transform is not None:
                self.tbuf = np.empty((n, self.chunk))
                self.tflat = self.tbuf.reshape(-1)
        #: An upper bound of ``pos.max()``, so that most steps skip the refill check.
        self.top = self.chunk

    # ---------------------------------------------------------------- seeding
    def seed(self, rows: Sequence[int], seeds: Sequence[int | None]) -> None:
        """Gymnasium's seeding: a new generator for a seed, or the first time; else keep."""
        for i, s in zip(rows, seeds, strict=True):
            if s is not None or self.gens[i] is None:
                self.gens[i], _ = seeding.np_random(s)
                if self.kind == "pcg":
                    self.live[i] = False  # the state is read from the new generator
                    self._all_live = False
                elif self.kind == "normal":
                    self.pos[i] = self.chunk  # the old look-ahead belongs to the old stream
                    self.top = self.chunk

    def generator(self, i: int) -> np.random.Generator:
        """Market i's generator at its stream position (a compiled stream hands it back)."""
        g = self.gens[i]
        assert g is not None, "market used before it was seeded"
        if self.kind == "pcg":
            if self.live[i]:
                _set_state(g, self.state[i])
                self.live[i] = self._all_live = False
        elif self.kind == "normal" and self.pos[i] != self.chunk:
            raise RuntimeError("a normal look-ahead cannot be rewound; take normals instead")
        return g

    # ---------------------------------------------------------------- chunks
    def _refill(self, rows: np.ndarray) -> None:
        chunk = self.chunk
        for i in rows.tolist():
            p = int(self.pos[i])
            left = chunk - p
            row = self.buf[i]
            if left:
                row[:left] = row[p:]
            g = self.gens[i]
            assert g is not None
            g.standard_normal(out=row[left:])
            if self.transform is not None:
                self.tbuf[i] = self.transform(row)
            self.pos[i] = 0

    def _ensure(self, rows: np.ndarray | None, need: int) -> None:
        """Make ``need`` draws available to every market in ``rows`` (all when None)."""
        if self.top + need <= self.chunk:
            return
        pos = self.pos if rows is None else self.pos[rows]
        low = np.flatnonzero(pos + need > self.chunk)
        if low.size:
            self._refill(low if rows is None else rows[low])
        self.top = int(self.pos.max())

    def normals(self, rows: np.ndarray | None, transformed: bool = False) -> np.ndarray:
        """The next standard normal of each market in ``rows`` (all when None), or its
        ``transform`` (computed when the chunk was drawn)."""
        if rows is not None and rows.size == 0:
            return np.empty(0)
        self._ensure(rows, 1)
        flat = self.tflat if transformed else self.flat
        if rows is None:
            z = flat[self.base + self.pos]
            self.pos += 1
        else:
            z = flat[self.base[rows] + self.pos[rows]]
            self.pos[rows] += 1
        self.top += 1
        return z

    def normal_block(self, i: int, count: int) -> np.ndarray:
        """The next ``count`` standard normals of market i's stream."""
        if self.kind == "normal":
            p = int(self.pos[i])
            have = self.chunk - p
            if count <= have:
                self.pos[i] = p + count
                return self.buf[i, p : p + count].copy()
            head = self.buf[i, p:].copy()
            self.pos[i] = self.top = self.chunk
            g = self.gens[i]
            assert g is not None
            return np.concatenate([head, g.standard_normal(count - have)])
        return self.generator(i).standard_normal(count)

    # ---------------------------------------------------------------- Poisson
    def poisson(self, lam: np.ndarray) -> np.ndarray:
        """Poisson draws with means ``lam`` (<= 0 draws nothing and gives 0), one per market.

        The same values, consuming the same doubles, as ``rng.poisson(max(lam[i], 0))``
        on market i's generator: numpy's ``random_poisson``, compiled over the
        markets' PCG64 states (:mod:`pricegym.envs._poisson`).
        """
        from pricegym.envs import _poisson  # numba: imported when a Poisson batch first draws

        top = lam.max()
        if not top < _LAM_MAX:
            raise ModelError(
                f"expected demand {top!r} is not a finite number below {_LAM_MAX:g}; "
                "the demand model returned an impossible mean for the prices asked."
            )
        self._take_states()
        lam = np.ascontiguousarray(lam, dtype=np.float64)
        out = np.empty(lam.shape[0])
        assert self._loggam is not None
        _poisson.poisson_states(self.state, lam, out, self._loggam)
        return out

    def poisson_constants(self, table: np.ndarray) -> np.ndarray:
        """The sampler's constants of each mean of ``table`` (for :meth:`poisson_entries`)."""
        from pricegym.envs import _poisson  # numba, as above

        table = np.ascontiguousarray(table, dtype=np.float64).reshape(-1)
        top = table.max(initial=0.0)
        if not top < _LAM_MAX:
            raise ModelError(
                f"expected demand {top!r} is not a finite number below {_LAM_MAX:g}; "
                "the demand model returned an impossible mean for the prices asked."
            )
        return _poisson.ptrs_constants(table)

    def poisson_entries(self, entry: np.ndarray, constants: np.ndarray) -> np.ndarray:
        """:meth:`poisson` of the means ``table[entry]`` (an entry < 0 gives 0 and draws
        nothing), with ``constants = poisson_constants(table)``: the same draws."""
        from pricegym.envs import _poisson  # numba, as above

        self._take_states()
        out = np.empty(entry.shape[0])
        assert self._loggam is not None
        _poisson.poisson_entries(self.state, entry, constants, out, self._loggam)
        return out

    def pcg_states(self) -> tuple[np.ndarray, np.ndarray]:
        """(the (B, 4) PCG64 states, the log-gamma table) for a compiled draw that
        advances the states itself (:mod:`pricegym.envs._table_step`)."""
        self._take_states()
        assert self._loggam is not None
        return self.state, self._loggam

    def _take_states(self) -> None:
        """Copy the generators' states into ``state`` where the generator holds them."""
        if self._all_live:
            return
        from pricegym.envs import _poisson  # numba, as above

        for i in np.flatnonzero(~self.live).tolist():
            g = self.gens[i]
            assert g is not None, "market used before it was seeded"
            self.state[i] = _state_row(g)
        self.live[:] = self._all_live = True
        if self._loggam is None:
            self._loggam = _poisson.loggam_table()


class _DrawnNormals:
    """A stand-in generator whose ``standard_normal`` returns normals drawn beforehand.

    :meth:`CompetitorProcess.path` draws a random walk's steps with one
    ``standard_normal((n_periods, B, m))`` call; handing it each market's own
    normals makes one batched call reproduce B single-market paths.
    """

    def __init__(self, normals: np.ndarray) -> None:
        self._normals = normals

    def standard_normal(self, size: tuple[int, ...]) -> np.ndarray:
        if tuple(size) != self._normals.shape:
            raise RuntimeError(f"expected a draw of shape {self._normals.shape}, got {size}")
        return self._normals


def _state_row(generator: np.random.Generator) -> list[int]:
    """The ``(state_hi, state_lo, inc_hi, inc_lo)`` of a PCG64 generator."""
    bits = generator.bit_generator
    if type(bits) is not np.random.PCG64:
        raise TypeError(f"expected a PCG64 generator (gymnasium's), got {type(bits).__name__}")
    s = bits.state["state"]
    return [s["state"] >> 64, s["state"] & _MASK64, s["inc"] >> 64, s["inc"] & _MASK64]


def _set_state(generator: np.random.Generator, row: np.ndarray) -> None:
    """Put a state row back into its PCG64 generator (the 32-bit buffer is kept)."""
    bits = generator.bit_generator
    state = dict(bits.state)  # the getter builds a fresh dict; numpy types it a Mapping
    hi, lo, inc_hi, inc_lo = (int(x) for x in row)
    state["state"] = {"state": (hi << 64) | lo, "inc": (inc_hi << 64) | inc_lo}
    bits.state = state


def _noise_kind(kernel: DemandKernel, noise: bool) -> str:
    """How a market's demand draw is made (see the module docstring)."""
    if not noise:
        return "none"
    model = kernel.noise
    if type(kernel).sample is not DemandKernel.sample or type(model) is not NoiseModel:
        return "kernel"
    if model.kind == "poisson" or (model.kind == "negbin" and model.alpha <= 0):
        return "poisson"
    if model.kind == "negbin":
        return "negbin"
    return "lognormal"
