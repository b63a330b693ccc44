"""Gymnasium pricing markets driven by demand kernels (single seller, oligopoly, batched).

The markets are specified in issue 3 of the project tracker; this package is the
place they live. It deliberately exports nothing yet.
"""

__all__: list[str] = []
