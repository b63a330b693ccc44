"""Noise models: how sampled units scatter around a demand model's expected units.

A market needs realistic sales, not only means. Each :class:`NoiseModel` is fitted
from a model's in-sample residuals and samples units with a given mean using an
explicit :class:`numpy.random.Generator`:

- ``poisson``: units ~ Poisson(mu); variance = mu.
- ``negbin``: units ~ NegativeBinomial with mean mu and variance mu + alpha·mu²
  (the NB2 parametrisation).
- ``lognormal``: units = mu · exp(sigma·Z − sigma²/2), Z ~ N(0, 1); mean mu,
  constant coefficient of variation; for non-count data (volumes, per-capita sales).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pricegym.errors import ModelError

__all__ = ["NOISE_KINDS", "NoiseModel"]

NoiseKind = Literal["poisson", "negbin", "lognormal"]
NOISE_KINDS: tuple[str, ...] = ("poisson", "negbin", "lognormal")

#: Below this NB2 dispersion the negative binomial is indistinguishable from Poisson
#: for the demand levels we simulate (variance inflation alpha·mu < 1% at mu = 10).
_POISSON_ALPHA = 1e-3


@dataclass(frozen=True)
class NoiseModel:
    """Sampling distribution of units around expected units.

    Attributes:
        kind: ``"poisson"``, ``"negbin"`` or ``"lognormal"``.
        alpha: NB2 dispersion (variance = mu + alpha·mu²); used by ``negbin``.
        sigma: standard deviation of log units; used by ``lognormal``.
    """

    kind: NoiseKind = "poisson"
    alpha: float = 0.0
    sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ModelError(
                f"noise kind {self.kind!r} is unknown; use one of {list(NOISE_KINDS)} "
                "or 'auto' when fitting."
            )
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise ModelError(f"negbin dispersion alpha={self.alpha} must be finite and >= 0.")
        if not (np.isfinite(self.sigma) and self.sigma >= 0):
            raise ModelError(f"lognormal sigma={self.sigma} must be finite and >= 0.")

    def sample(self, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
        """Sampled units with the given means (float64 array of ``mean``'s shape).

        Means below zero are treated as zero. All randomness comes from ``rng``.
        """
        mu = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
        if self.kind == "poisson":
            return rng.poisson(mu).astype(np.float64)
        if self.kind == "negbin":
            if self.alpha <= 0:
                return rng.poisson(mu).astype(np.float64)
            # Gamma–Poisson mixture: exact NB2 with mean mu, variance mu + alpha mu².
            lam = rng.gamma(shape=1.0 / self.alpha, scale=self.alpha * mu)
            return rng.poisson(lam).astype(np.float64)
        z = rng.standard_normal(mu.shape)
        return mu * np.exp(self.sigma * z - 0.5 * self.sigma**2)

    def variance(self, mean: np.ndarray) -> np.ndarray:
        """Variance of sampled units at the given means."""
        mu = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
        if self.kind == "poisson":
            return mu
        if self.kind == "negbin":
            return mu + self.alpha * mu**2
        return mu**2 * np.expm1(self.sigma**2)

    @classmethod
    def fit(cls, kind: str, units: np.ndarray, mean: np.ndarray) -> NoiseModel:
        """Fit the noise of ``kind`` (or ``"auto"``) from observed units and fitted means.

        Estimators are closed-form moment estimators (written by hand because they
        need one pass over the residuals, not an iterative likelihood fit):

        - negbin: alpha = max(0, Σ[(y − mu)² − mu] / Σ mu²);
        - lognormal: sigma² = log(1 + mean of ((y − mu)/mu)²), so that the fitted
          coefficient of variation matches the residuals';
        - ``auto``: count data (all units integers) → negbin, or poisson when
          alpha < 1e-3; otherwise lognormal.
        """
        y = np.asarray(units, dtype=np.float64)
        mu = np.maximum(np.asarray(mean, dtype=np.float64), 1e-12)
        if kind == "auto":
            is_count = bool(np.all(np.abs(y - np.round(y)) < 1e-9))
            if not is_count:
                kind = "lognormal"
            else:
                nb = cls.fit("negbin", y, mu)
                return nb if nb.alpha >= _POISSON_ALPHA else cls("poisson")
        if kind == "poisson":
            return cls("poisson")
        if kind == "negbin":
            alpha = float(np.sum((y - mu) ** 2 - mu) / np.sum(mu**2))
            return cls("negbin", alpha=max(alpha, 0.0))
        if kind == "lognormal":
            cv2 = float(np.mean(((y - mu) / mu) ** 2))
            return cls("lognormal", sigma=float(np.sqrt(np.log1p(cv2))))
        raise ModelError(f"noise kind {kind!r} is unknown; use one of {[*NOISE_KINDS, 'auto']}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return {"kind": self.kind, "alpha": self.alpha, "sigma": self.sigma}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NoiseModel:
        """Inverse of :meth:`to_dict`."""
        return cls(kind=d["kind"], alpha=float(d["alpha"]), sigma=float(d["sigma"]))
