"""Mini-batch training of the monotone demand network, for panels too large for full batches.

:class:`~pricegym.demand.neural.NeuralDemand` fits by full-batch L-BFGS: every
iteration (and every line-search trial) evaluates the network and its gradient on
all rows, so its cost grows with the rows times the iterations, and the
activations of every row sit in memory at once. With ``batch_size`` set and more
training rows than that, :func:`train_minibatch` runs Adam (torch's) instead over
shuffled mini-batches for a fixed number of ``epochs``: each step sees
``batch_size`` rows, so an epoch costs about what one L-BFGS evaluation of the full
batch costs, memory stays at one batch's activations, and the time per row is
constant (``benchmarks/bench_fit.py`` reports seconds per 10⁵ rows).

The objective is the full-batch one, :func:`~pricegym.demand.neural._objective`
(weighted mean Poisson NLL of ``units / ȳ`` plus the penalty), on each batch: its
expectation over batches is the full objective (for case weights ``w`` each batch's
NLL is normalised by its own weight sum, the usual estimator). Randomness: one
``torch.randperm`` of the rows per epoch from the model's seeded generator, in
epoch order: same seed, data and thread count → identical weights.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["train_minibatch"]

#: Rows per chunk when the full objective is evaluated at the end (bounds memory).
EVAL_CHUNK = 65_536


def train_minibatch(
    net: Any,
    x: torch.Tensor,
    z: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    weight_decay: float,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    generator: torch.Generator,
) -> float:
    """Adam over shuffled mini-batches; returns the full objective at the end.

    Args:
        net: the ``_MonotoneNet`` to train in place.
        x, z, target, weight: standardised log price (n,), context (n, n_z), units /
            mean units (n,), case weights (n,) (ones, or bootstrap counts).
        weight_decay: the penalty weight of the objective.
        epochs: passes over the rows (>= 1).
        batch_size: rows per step (>= 1).
        learning_rate: Adam's step size.
        generator: the seeded source of the per-epoch shuffles.
    """
    from pricegym.demand.neural import _objective  # neural imports this; it loads statsmodels

    n = x.shape[0]
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    for _ in range(int(epochs)):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            w = weight[rows]
            if not float(w.sum()) > 0:  # a batch of rows the bootstrap left out
                continue
            optimiser.zero_grad()
            loss = _objective(net, x[rows], z[rows], target[rows], w, weight_decay)
            loss.backward()
            optimiser.step()
    return full_objective(net, x, z, target, weight, weight_decay)


def full_objective(
    net: Any,
    x: torch.Tensor,
    z: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    weight_decay: float,
) -> float:
    """The full-batch objective, evaluated in chunks of :data:`EVAL_CHUNK` rows."""
    from pricegym.demand.neural import _safe_exp  # as above

    total, n = 0.0, x.shape[0]
    with torch.no_grad():
        for start in range(0, n, EVAL_CHUNK):
            sl = slice(start, start + EVAL_CHUNK)
            eta = net.core(x[sl], z[sl])
            total += float((weight[sl] * (_safe_exp(eta) - target[sl] * eta)).sum())
        value = total / float(weight.sum()) + weight_decay * float(net.penalty())
    return value if math.isfinite(value) else math.inf
