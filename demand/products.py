"""One product of a pooled panel model: :func:`select_product`.

A model fitted on a panel (several products or markets, one ``product`` key, e.g.
the 46 states of the bundled ``cigar`` data) holds every product's demand in one
kernel: the product's fixed effect (regression) or embedding and last lags
(neural) are chosen by the context's product code. A market simulates one product
at a time, so it needs the kernel *for* that product:

- the product code every context defaults to (:attr:`DemandKernel.default_product`),
  so the fast paths, the batched env, the decision check and the DP all see it;
- the product's own reference context — competitor prices at *its* means, the
  period after *its* last row — and its own price support (the prices seen in its
  rows), which the market's default price grid spans;
- for stateful kernels, the end-of-history state of that product (the neural
  kernel's ``initial_state`` starts from ``default_product``'s lags).

:func:`product_references` computes these per-product summaries at fit time; they
are saved with the model (``fitted.products`` in the model file).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from pricegym.demand.data import SalesHistory
from pricegym.demand.kernels import DemandKernel
from pricegym.errors import ConfigError

__all__ = ["kernel_products", "product_references", "select_product"]


def product_references(history: SalesHistory, competitors: tuple[str, ...]) -> dict[str, Any]:
    """Per-product price support and reference context of a panel, by product key.

    Returns ``{key: {"support": [min, max], "t": last t + 1, "competitors": [...]}}``
    (competitor means over the product's own rows, in the order of ``competitors``);
    an empty dict for a history that is not a panel.
    """
    if not history.is_panel:
        return {}
    keys = history.frame["product"].to_numpy()
    price, t = history.price, history.t
    comp = history.matrix(competitors)
    out: dict[str, Any] = {}
    for key in history.products:
        rows = keys == key
        out[str(key)] = {
            "support": [float(price[rows].min()), float(price[rows].max())],
            "t": float(t[rows].max() + 1.0),
            "competitors": [float(v) for v in comp[rows].mean(axis=0)] if comp.size else [],
        }
    return out


def kernel_products(kernel: DemandKernel) -> tuple[str, ...]:
    """The product keys a kernel was fitted on (``()`` for a single product)."""
    return tuple(getattr(getattr(kernel, "spec", None), "products", ()) or ())


def select_product(kernel: DemandKernel, product: str | int) -> DemandKernel:
    """A copy of a panel ``kernel`` that simulates ``product`` (a key such as ``'5'``).

    The copy shares the coefficients; it differs in :attr:`default_product` (the
    product code of every context built without one), its ``support`` and its
    ``reference`` (the product's own, from :func:`product_references`; a kernel
    without them, e.g. a parametric truth, keeps the pooled ones).

    Raises:
        ConfigError: the kernel is not a panel, or ``product`` is not one of its
            keys (the message lists the valid keys).
    """
    products = kernel_products(kernel)
    key = str(product)
    if len(products) <= 1:
        raise ConfigError(
            f"product={product!r}: the demand model was not fitted on a panel (it knows "
            f"{len(products) or 1} product), so there is no product to choose; drop "
            "market.options.product."
        )
    if key not in products:
        shown = ", ".join(repr(p) for p in products[:60]) + (", …" if len(products) > 60 else "")
        raise ConfigError(
            f"product={product!r} is not a product of the demand model's panel; choose one of "
            f"its {len(products)} keys: {shown} (keys are strings: write product: '5')."
        )
    out = copy.copy(kernel)
    out.default_product = products.index(key)
    refs = (getattr(kernel, "product_refs", None) or {}).get(key)
    if refs is not None:
        out.support = (float(refs["support"][0]), float(refs["support"][1]))
        comp = np.asarray(refs["competitors"], dtype=np.float64)
        out.reference = {
            "t": float(refs["t"]),
            "competitors": comp if comp.size else kernel.reference["competitors"].copy(),
            "promotions": kernel.reference["promotions"].copy(),
        }
    return out
