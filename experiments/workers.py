"""Reusable worker processes for the runner's process backend, started warm.

A :class:`WorkerPool` is the process pool of one run (every stage's cells go to the
same workers, which stay alive until the run ends). Its workers are forked from a
``multiprocessing`` fork server that has imported the heavy modules once
(:mod:`pricegym.experiments._worker_preload`: torch, stable-baselines3, every agent
kind); each worker then starts with them loaded instead of paying ~4 CPU-s of
imports in its first cell. :meth:`WorkerPool.start` launches the fork server
without waiting for it, so its imports overlap the driver's own work (fitting the
demand models); the first cell waits only for what is left.

Why a fork server and not ``fork`` from the driver: the driver may hold torch/BLAS
threads by then (fitting runs there), and forking a multi-threaded process can
deadlock the child. The fork server is a fresh single-threaded interpreter that only
imports. Where there is no fork server (Windows), workers are spawned and import
the same modules in their initializer: as before, cold, but ready before the first
cell is timed.

Results do not depend on the start method: every cell is a pure function of the
config and the cell key (its own seeded random sources; no state survives between
cells of one worker), so a run with a pool writes the same bytes as one without
(``tests/test_workers.py``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pricegym.errors import ConfigError

__all__ = ["PRELOAD", "WorkerPool", "start_method", "stop_fork_server"]

#: The module a worker's parent imports before the workers start.
PRELOAD = "pricegym.experiments._worker_preload"


def start_method() -> str:
    """``"forkserver"`` where the platform has it (Linux, macOS), else ``"spawn"``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _init_worker(import_preload: bool) -> None:
    """Worker initializer: one BLAS/torch thread; the preload where no fork server did it."""
    if import_preload:
        import importlib

        importlib.import_module(PRELOAD)
    from pricegym.experiments.runner._exec import _limit_threads  # cycle: runner imports this

    _limit_threads()


def _ready() -> int:
    """A no-op task: returns the worker's pid once it is up."""
    import os

    return os.getpid()


class WorkerPool:
    """``jobs`` worker processes, started once and reused by every stage of a run.

    Same interface as the runner's former spawn pool (``jobs``, :meth:`get`,
    :meth:`close`), so :func:`~pricegym.experiments.runner._execute` submits cells to
    ``pool.get()`` unchanged.

    Args:
        jobs: worker processes (>= 1).
        preload: import :data:`PRELOAD` in the workers' parent (``False``: plain
            cold workers, as a baseline for the benchmark).
        method: ``"forkserver"`` or ``"spawn"`` (default: :func:`start_method`).

    The fork server is a per-interpreter singleton of ``multiprocessing``: the first
    pool of a process sets its preload; later pools (another run in the same
    process) reuse the server, already warm.
    """

    def __init__(self, jobs: int, *, preload: bool = True, method: str | None = None) -> None:
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ConfigError(f"jobs={jobs!r} must be an integer >= 1. Fix: e.g. jobs=2.")
        method = start_method() if method is None else method
        offered = [m for m in multiprocessing.get_all_start_methods() if m != "fork"]
        if method not in offered:
            raise ConfigError(
                f"method={method!r} is not a worker start method of this platform (here: "
                f"{', '.join(offered)}; 'fork' is refused: the driver may hold threads). "
                "Fix: leave method unset."
            )
        self.jobs = jobs
        self.preload = preload
        self.method = method
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Launch the workers' parent now, without waiting for its imports.

        With a fork server this only starts the server (it imports :data:`PRELOAD`
        in the background); the workers fork from it at the first :meth:`get`. A
        no-op for spawned workers (they start with the first :meth:`get`) and when
        already started.
        """
        if self.method != "forkserver":
            return
        context = multiprocessing.get_context("forkserver")
        # '__main__' first, as multiprocessing's default: cells defined in the main
        # script stay picklable (the script must guard its entry point, as for spawn)
        context.set_forkserver_preload(["__main__", PRELOAD] if self.preload else ["__main__"])
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def get(self) -> ProcessPoolExecutor:
        """The executor, created (and its ``jobs`` workers started) on first use."""
        if self._pool is None:
            self.start()
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context(self.method),
                initializer=_init_worker,
                initargs=(self.preload and self.method != "forkserver",),
            )
            # one no-op per worker: each submit starts a process while none is idle, so
            # all ``jobs`` workers start now rather than one per cell as cells arrive
            for _ in range(self.jobs):
                self._pool.submit(_ready)
        return self._pool

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (``cancel``: drop cells not yet started). Idempotent."""
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(cancel=exc[0] is not None)


def stop_fork_server() -> None:
    """Stop this interpreter's fork server, if one runs, and wait for it to exit.

    The next :class:`WorkerPool` then starts a fresh server (with its own preload).
    Waiting also counts the server's CPU time, and that of the workers it forked,
    in this process's ``RUSAGE_CHILDREN`` (``benchmarks/bench_workers.py`` reads it).
    ``multiprocessing`` has no public call for this: its fork server's own ``_stop``
    (what CPython's tests use) is wrapped here, in one place.
    """
    if start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    # typeshed stubs list ForkServer's public methods only; CPython 3.7-3.13 have _stop
    forkserver._forkserver._stop()  # type: ignore[attr-defined]
