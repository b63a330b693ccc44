"""One torch thread while a small network is fitted: :func:`one_torch_thread`.

The neural demand model's tensors are (rows, 32) for a data set of a few hundred to
a few thousand rows: far below the size at which torch splits an operation over its
intra-op threads, so extra threads only spin between the many small operations of
L-BFGS. On a 2-core machine shared with other jobs that spinning dominated: a
104-row fit took 3.6 CPU-s / 6.7 s wall with torch's default 2 threads and
0.2 CPU-s / 1.5 s with one (measured, load average ~5); ``pricegym fit --model auto``
on avocado spent 38 of its 43 s there. Results do not depend on the thread count
at these sizes, and fixing it at one makes that so by construction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["one_torch_thread"]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(1)``; restore the caller's count after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
