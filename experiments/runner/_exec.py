"""Where cells run: in the driver, on the run's WorkerPool (warm forked workers) or as Ray tasks.

A private module of :mod:`pricegym.experiments.runner` (which re-exports its public
names). :func:`_execute` runs the unfinished cells of one stage
with the cell function it is given (the runner passes
:func:`~pricegym.experiments.runner.run_cell`, looked up in the runner module at
call time), writes each result as it arrives and shows a progress bar; the pool's
workers and every cell run with one BLAS/torch thread (:func:`_limit_threads`,
:func:`_torch_threads`): parallelism comes from the cells.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError
from pricegym.experiments.rundir import read_cell
from pricegym.experiments.runner._files import _write_json

if TYPE_CHECKING:
    from pricegym.experiments.rundir import Cell
    from pricegym.experiments.workers import WorkerPool

_log = logging.getLogger("pricegym.experiments")


def _limit_threads() -> None:
    """One BLAS/torch thread per cell: parallelism comes from the cells."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@contextlib.contextmanager
def _torch_threads() -> Iterator[None]:
    """Limit torch and numpy's BLAS to one thread inside a cell; restore the caller's setting.

    The environment variables of :func:`_limit_threads` only reach libraries loaded
    after them, so a cell run in the main process (``--jobs 1``) limits the BLAS
    already loaded with ``threadpoolctl``.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    _limit_threads()
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and before is not None:
            torch.set_num_threads(before)


def _progress(total: int, desc: str, initial: int, show: bool | None) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="cell",
        disable=None if show is None else not show,
        file=sys.stderr,
        leave=True,
        dynamic_ncols=True,
    )


def _execute(
    cells: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    *,
    stage: str,
    pool: WorkerPool,
    backend: str,
    address: str | None,
    force: bool,
    show: bool | None,
    compute: Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, Any]],
) -> tuple[int, int]:
    """Run the unfinished ``cells`` and write each result as it arrives; (computed, skipped).

    ``compute`` is the cell function (:func:`~pricegym.experiments.runner.run_cell`, as
    the caller looks it up), called here, submitted to the pool or run as a Ray task.
    """
    todo = [c for c in cells if force or read_cell(c.path(run_dir)) is None]
    skipped = len(cells) - len(todo)
    bar = _progress(len(cells), stage, skipped, show)

    def done(cell: Cell, result: dict[str, Any]) -> None:
        _write_json(cell.path(run_dir), result)
        _log.info("%s %s done in %.2fs", stage, cell.id, result.get("seconds", float("nan")))
        for text in result.get("warnings", []):
            _log.warning("%s %s: %s", stage, cell.id, text)
        bar.update(1)

    try:
        if not todo:
            return 0, skipped
        if backend == "ray":
            _execute_ray(todo, resolved, run_dir, pool.jobs, address, done, compute)
        elif pool.jobs == 1 or len(todo) == 1:
            for cell in todo:
                done(cell, compute(resolved, cell.to_dict(), str(run_dir)))
        else:
            _execute_pool(todo, resolved, run_dir, pool, done, compute)
    finally:
        bar.close()
    return len(todo), skipped


def _execute_pool(
    todo: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    pool: WorkerPool,
    done: Callable[[Cell, dict[str, Any]], None],
    compute: Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, Any]],
) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait

    executor = pool.get()
    futures = {executor.submit(compute, resolved, c.to_dict(), str(run_dir)): c for c in todo}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: futures[f].id):
                done(futures[future], future.result())
    except BaseException:
        pool.close(cancel=True)
        raise


def _execute_ray(
    todo: Sequence[Cell],
    resolved: dict[str, Any],
    run_dir: Path,
    jobs: int,
    address: str | None,
    done: Callable[[Cell, dict[str, Any]], None],
    compute: Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, Any]],
) -> None:
    ray = _connect_ray(address, jobs)
    task = ray.remote(num_cpus=1)(_on_ray_node)
    root = str(run_dir.resolve())
    refs = {task.remote(compute, resolved, c.to_dict(), root): c for c in todo}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                node, result = ray.get(ref)
                # logs/run.log says where each cell ran (the result file does not: it
                # stays byte-identical to the process pool's)
                _log.info("cell %s ran on Ray node %s (%s)", refs[ref].id, node["id"], node["ip"])
                done(refs[ref], result)
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        raise


def _on_ray_node(
    compute: Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, Any]],
    resolved: Mapping[str, Any],
    cell: Mapping[str, Any],
    run_dir: str,
) -> tuple[dict[str, str], dict[str, Any]]:
    """A cell computed in a Ray worker, with the node it ran on (id and IP address)."""
    import ray

    context = ray.get_runtime_context()
    node = {"id": context.get_node_id(), "ip": ray.util.get_node_ip_address()}
    return node, compute(resolved, cell, run_dir)


def _connect_ray(address: str | None, jobs: int) -> Any:
    """Ray, initialised: connected to the cluster at ``address``, else started here.

    Raises:
        ConfigError: Ray is missing, or no Ray cluster answers at ``address``. The
            runner calls this before it creates the run directory, so a wrong address
            leaves nothing behind.
    """
    ray = _import_ray()
    if address is not None:
        _probe_address(address)  # also when Ray runs here already: the address must answer
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address, num_cpus=None if address else jobs, ignore_reinit_error=True)
    except ConnectionError as err:
        raise ConfigError(_no_cluster(address, str(err))) from None
    return ray


def _probe_address(address: str) -> None:
    """Fail fast when nothing listens at a ``host:port`` address.

    Written by hand because ``ray.init`` retries an unreachable address for minutes
    before it gives up; a TCP connect answers in at most 5 s. ``auto`` and ``ray://``
    client addresses are left to Ray, which answers those quickly.
    """
    import socket

    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(
            f"address={address!r} is not 'auto', 'host:port' or 'ray://host:port'. "
            "Fix: e.g. --address 10.0.0.5:6379 (what `ray start --head` prints)."
        )
    try:
        with socket.create_connection((host, int(port)), timeout=5.0):
            pass
    except OSError as err:
        raise ConfigError(_no_cluster(address, str(err))) from None


def _no_cluster(address: str | None, reason: str) -> str:
    return (
        f"no Ray cluster answers at address={address!r} ({reason}). Fix: start one with "
        "`ray start --head` (it prints the address to pass), or leave out --address to "
        "start Ray on this machine."
    )


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "backend 'ray' needs Ray, which is not installed. Fix: pip install \"pricegym[ray]\" "
            "(or run with --backend process)."
        ) from None
    return ray
