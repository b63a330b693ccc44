"""What a worker's parent imports once, so that every worker forked from it starts warm.

Imported by the fork server of :class:`~pricegym.experiments.workers.WorkerPool`
(``multiprocessing``'s ``forkserver`` start method, which imports its ``preload``
modules once and forks each worker from itself), or by a spawned worker's
initializer where there is no fork server (Windows). Never imported by the driver:
importing it limits this process's BLAS/OpenMP threads to one (the cells' setting,
see :func:`~pricegym.experiments.runner._limit_threads`) before torch loads.

What a cell would otherwise pay in each fresh worker, measured on the scaled
``markdown`` experiment (CPU seconds of a cold worker's first cells, 2 cores):
``make_agent`` loads every built-in agent kind and with them torch and
stable-baselines3 (~2.4 s), and the first ``torch.optim.Adam`` of a PPO imports
``torch._dynamo`` (~1.4 s). Importing them here moves that cost out of the
workers into the one fork server, whose imports overlap the driver's fitting.

Nothing here starts a thread (a fork server must be single-threaded when it forks):
only imports, and no torch operation runs.
"""

from __future__ import annotations

import importlib
import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

#: Modules every cell may need, in import order. ``torch._dynamo`` is what the first
#: ``torch.optim`` optimiser imports lazily (1.4 s of a PPO cell in a cold worker).
MODULES = (
    "numpy",
    "scipy.optimize",
    "pandas",
    "gymnasium",
    "torch",
    "torch._dynamo",
    "stable_baselines3",
    "pricegym.envs",
    "pricegym.envs.vector",
    "pricegym.agents",
    "pricegym.experiments.schema",
    "pricegym.experiments.evaluate",
    "pricegym.experiments.runner._compute",
)

for _name in MODULES:
    importlib.import_module(_name)

from pricegym.agents.base import agent_kinds  # noqa: E402  (after the thread limits)

agent_kinds()  # registers every built-in kind (imports rules, bandits, dp, qlearning, sb3)
