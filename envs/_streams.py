"""Exact per-market random streams of the batched market, drawn ahead in chunks.

:class:`~pricegym.envs.vector.MarketVectorEnv` gives market i the generator that
``PricingEnv.reset(seed=s + i)`` would have and consumes it in ``PricingEnv``'s
order, so that its trajectories equal those of B single envs. Calling a generator
once per market per step would cost B Python calls per step, so each market's
stream is drawn **ahead in chunks** (one call per market every few hundred periods)
and consumed in numpy:

- Poisson demand (and NB2 with α = 0): chunks of uniform doubles, turned into
  Poisson draws by numpy's own ``random_poisson`` compiled over the buffers (the
  multiplication method below λ = 10, Hörmann's PTRS from 10 up;
  :mod:`pricegym.envs._poisson`), consuming exactly the doubles numpy's
  generator would. A competitor path drawn at a reset
  first rewinds the generator to the market's position (``PCG64.advance``).
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
from pricegym.errors import ModelError

#: Draws per market per chunk of the buffered streams (uniform doubles, normals).
UNIFORM_CHUNK = 1024
NORMAL_CHUNK = 512
#: Largest Poisson mean accepted (numpy's own limit is ~9e18; demand this large is a bug).
_LAM_MAX = 1e12

_TWO_128 = 1 << 128


class _MarketStreams:
    """One generator per market, seeded as ``PricingEnv.reset`` seeds its ``np_random``.

    ``kind`` says how the per-step draws are served: ``"uniform"`` (chunks of
    doubles for the numpy Poisson), ``"normal"`` (chunks of standard normals) or
    ``"direct"`` (the generators are called as needed). Each generator stands right
    after its market's chunk, so a chunk is a look-ahead of the market's stream and
    consuming it in order is consuming the stream.
    """

    def __init__(
        self, n: int, kind: str, transform: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> None:
        self.kind = kind
        #: an elementwise function of the draws, kept beside them (``draws(rows, True)``)
        self.transform = transform
        self.gens: list[np.random.Generator | None] = [None] * n
        self.chunk = UNIFORM_CHUNK if kind == "uniform" else NORMAL_CHUNK
        if kind in ("uniform", "normal"):
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
                if self.kind != "direct":
                    self.pos[i] = self.chunk  # the old look-ahead belongs to the old stream
                    self.top = self.chunk

    def generator(self, i: int) -> np.random.Generator:
        """Market i's generator at its stream position (a uniform look-ahead is rewound)."""
        g = self.gens[i]
        assert g is not None, "market used before it was seeded"
        if self.kind == "uniform":
            ahead = self.chunk - int(self.pos[i])
            if ahead:
                g.bit_generator.advance(_TWO_128 - ahead)  # PCG64 is a cycle: step back
            self.pos[i] = self.top = self.chunk
        elif self.kind == "normal" and self.pos[i] != self.chunk:
            raise RuntimeError("a normal look-ahead cannot be rewound; take normals instead")
        return g

    # ---------------------------------------------------------------- chunks
    def _refill(self, rows: np.ndarray) -> None:
        chunk = self.chunk
        uniform = self.kind == "uniform"
        for i in rows.tolist():
            p = int(self.pos[i])
            left = chunk - p
            row = self.buf[i]
            if left:
                row[:left] = row[p:]
            g = self.gens[i]
            assert g is not None
            if uniform:
                g.random(out=row[left:])
            else:
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
        look-ahead buffers (:mod:`pricegym.envs._poisson`).
        """
        from pricegym.envs import _poisson  # numba: imported when a Poisson batch first draws

        top = lam.max()
        if not top < _LAM_MAX:
            raise ModelError(
                f"expected demand {top!r} is not a finite number below {_LAM_MAX:g}; "
                "the demand model returned an impossible mean for the prices asked."
            )
        lam = np.ascontiguousarray(lam, dtype=np.float64)
        out = np.empty(lam.shape[0])
        r = 0
        while True:
            r = _poisson.poisson_rows(self.flat, self.base, self.pos, self.chunk, lam, out, r)
            if r == lam.shape[0]:
                break
            if self.pos[r] == 0:  # a full chunk was not enough (far tail): numpy draws it
                out[r] = self.generator(r).poisson(lam[r])
                r += 1
            else:
                self._refill(np.array([r]))
        self.top = int(self.pos.max())
        return out


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
