"""Shared fixtures: synthetic histories from known truths and a catalogue of families."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pricegym.demand.features import FeatureSpec
from pricegym.demand.kernels import DemandKernel
from pricegym.demand.noise import NoiseModel
from pricegym.demand.selection import make_model
from pricegym.demand.synthetic import DemandTruth, generate_history

#: Every demand-model family with hyper-parameters that keep the suite fast.
#: Tests parametrised over this catalogue cover each family the same way.
FAMILY_PARAMS: dict[str, dict] = {
    "linear": {},
    "loglinear": {},
    "poisson": {},
    "arimax": {"order": (1, 0, 0)},
    "neural": {"n_bootstrap": 4},
}


@pytest.fixture(scope="session")
def weekly_history():
    """Three years of weekly sales, constant elasticity -2, competitor, promotions, season."""
    return generate_history(
        DemandTruth("constant_elasticity", own_price=-2.0, trend=0.0),
        n_periods=156,
        noise="poisson",
        seed=11,
    )


@pytest.fixture(scope="session")
def fitted_models(weekly_history):
    """One fitted model per family on ``weekly_history``."""
    out = {}
    for family, params in FAMILY_PARAMS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[family] = make_model(family, **params).fit(weekly_history)
    return out


class LinearDuopoly(DemandKernel):
    """q_i = alpha − beta·p_i + gamma·Σ_{j≠i} p_j: a multi-seller test kernel with closed forms."""

    n_sellers = 2

    def __init__(self, alpha=10.0, beta=2.0, gamma=1.0, support=(1.0, 8.0)):
        super().__init__(
            FeatureSpec(),
            NoiseModel("poisson"),
            support,
            {"t": 0, "competitors": [], "promotions": []},
        )
        self.alpha, self.beta, self.gamma = alpha, beta, gamma

    def expected(self, prices, context=None, state=None):
        p = np.asarray(prices, dtype=np.float64)
        others = p.sum(axis=1, keepdims=True) - p
        return np.maximum(self.alpha - self.beta * p + self.gamma * others, 0.0)


# ==================================================================== comparing two code paths
#: Relative tolerance for a continuous quantity that two code paths compute with different
#: maths: numpy's SIMD exp/log (AVX-512 on some CPUs) vs libm's ``math.exp``/``math.log``,
#: a batched matmul vs a one-row one. Each differs by an ulp or two per call; along an
#: episode such differences add up through inventory and ARIMAX state, so float64 gets
#: 1e-12 (~4,500 ulp), float32 observations 4 ulp of float32. Proven sufficient, and
#: needed, by ``tests/test_vector.py::test_tolerance_absorbs_skewed_maths``.
PATH_RTOL = {
    np.dtype(np.float64): 1e-12,
    np.dtype(np.float32): 4.0 * float(np.finfo(np.float32).eps),
}


def assert_same_outcome(mine, ref, name: str = "") -> float:
    """Assert that two code paths gave the same outcome; return the largest relative gap.

    Discrete outcomes must be identical: non-float arrays, and float arrays whose
    reference values are all integers (Poisson / negative-binomial draws, sales and
    stock in unit counts, periods, flags stored as floats). Other floats must agree
    to :data:`PATH_RTOL` of their dtype, relative to ``max(1, max |ref|)`` (so a value
    that cancels to near zero, such as the last units of stock, is held to the scale
    of the quantity). Dtypes must match. NaN equals NaN; infinities must match exactly.
    """
    mine, ref = np.asarray(mine), np.asarray(ref)
    assert mine.dtype == ref.dtype, f"{name}: dtype {mine.dtype} != {ref.dtype}"
    assert mine.shape == ref.shape, f"{name}: shape {mine.shape} != {ref.shape}"
    if ref.dtype.kind != "f":
        np.testing.assert_array_equal(mine, ref, err_msg=name)
        return 0.0
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(mine), finite, err_msg=f"{name}: finiteness")
    np.testing.assert_array_equal(mine[~finite], ref[~finite], err_msg=f"{name}: non-finite")
    a, b = mine[finite].astype(np.float64), ref[finite].astype(np.float64)
    if np.array_equal(b, np.rint(b)):
        np.testing.assert_array_equal(a, b, err_msg=f"{name}: a discrete outcome differs")
        return 0.0
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    rtol = PATH_RTOL[ref.dtype]
    np.testing.assert_allclose(a, b, rtol=0.0, atol=rtol * scale, err_msg=name)
    return float(np.max(np.abs(a - b), initial=0.0)) / scale


def _nudge(values, ulps: int):
    """``values`` moved ``ulps`` floats up (> 0) or down (< 0), element by element."""
    target = np.inf if ulps > 0 else -np.inf
    out = np.asarray(values)
    for _ in range(abs(ulps)):
        out = np.nextafter(out, target)
    return out if isinstance(values, np.ndarray) else type(values)(out)


class SkewedMaths:
    """A stand-in for ``numpy`` or ``math`` whose exp/log/log1p/expm1 are ``ulps`` ulps off.

    Every other attribute is the real module's. Monkeypatched into one code path's
    module, it makes that path's transcendental functions differ from the other
    path's as numpy's AVX-512 kernels differ from libm on some CPUs (there by one ulp).
    """

    SKEWED = ("exp", "log", "log1p", "expm1")

    def __init__(self, module, ulps: int) -> None:
        self._module, self._ulps = module, ulps

    def __getattr__(self, name: str):
        real = getattr(self._module, name)
        if name not in self.SKEWED:
            return real
        ulps = self._ulps

        def skewed(*args, **kwargs):
            out = kwargs.get("out")
            result = _nudge(real(*args, **kwargs), ulps)
            if out is not None:
                (out[0] if isinstance(out, tuple) else out)[...] = result
            return result

        return skewed
