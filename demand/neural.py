"""A monotone neural demand model, fitted with torch, and its pure-numpy kernel.

:class:`NeuralDemand` (family ``"neural"``) models expected units as

.. math::

    \\log \\mu(p, z) = \\log \\bar y + g(z) - s(z) \\, m(x), \\qquad
    x = (\\log p - \\overline{\\log p}) / \\mathrm{sd}(\\log p),

where ``z`` is everything except the own price, standardised with the training
data's means and standard deviations: log competitor prices, promotion flags,
product dummies (a panel), an optional trend, Fourier seasonality and
``log1p(units_{t-k} / ȳ)`` for the last ``lags`` periods of the same product;
``ȳ`` (``unit_scale``) is the mean of the training units.

- ``g`` and the raw slope are two linear heads on one tanh MLP trunk of ``z``;
  ``s(z) = softplus(slope) >= 0``.
- ``m(x) = π_0·x + Σ_{k=1..K} π_k·(tanh(d_k·x + e_k) − tanh(e_k)) / d_k`` with
  ``π = softmax(logits)`` (positive, summing to 1) and sharpness
  ``d_k = d_min + (d_max − d_min)·sigmoid(r_k)`` in [:data:`MIN_SHARPNESS`,
  :data:`MAX_SHARPNESS`] standard deviations of log price. Its slope
  ``m'(x) = π_0 + Σ π_k·sech²(d_k·x + e_k)`` lies in ``[π_0, 1]``: ``m`` is strictly
  increasing and unbounded (demand keeps falling, rather than flattening, far
  outside the data), and because ``m' <= 1`` the size of the price effect lives in
  ``s`` alone — ``s`` and ``m`` cannot trade scale, so a large ``s`` cannot turn
  sharp units into a staircase (an unnormalised ``m`` overfitted exactly that way:
  flat steps with a near-zero elasticity between them). The bounded sharpness
  keeps each bend at least a quarter of a standard deviation of log price wide.

Hence ``∂ log μ / ∂ log p = −s(z)·m'(x)/sd(log p) <= 0`` for **every** input and
every value of the weights: expected demand never increases with own price, by
construction, not by training. Prices enter nowhere else.

Fitting minimises the mean Poisson negative log-likelihood of ``units / ȳ`` (a
quasi-likelihood, so volumes and other non-integer targets work) plus
``weight_decay`` times the squared trunk and head weights and the squared bend
weights ``π_1..π_K`` — a penalty that shrinks towards a constant elasticity in each
context — by full-batch L-BFGS in float64, all randomness from one
``torch.Generator`` seeded with ``seed``.

The fitted model compiles to :class:`MLPKernel`, the same forward pass in numpy
for B markets at once, whose state is each market's buffer of recent units.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from pricegym.demand._torch_threads import one_torch_thread
from pricegym.demand.base import DemandModel, Elasticity
from pricegym.demand.data import SalesHistory
from pricegym.demand.features import FeatureSpec, MarketContext
from pricegym.demand.kernels import DemandKernel, KernelState
from pricegym.demand.mlp import (
    MAX_SHARPNESS,
    MIN_SHARPNESS,
    MLPKernel,
)
from pricegym.demand.noise import NoiseModel
from pricegym.demand.regression import _select, resolve_season_period, resolve_seasonality
from pricegym.errors import DataValidationError, ModelError, PricegymWarning

__all__ = ["MLPKernel", "NeuralDemand"]

#: Fewest training rows per product left after the first ``lags`` rows are dropped.
MIN_TRAIN_ROWS = 10
#: Bootstrap replicates below this give percentile intervals too coarse to trust (warns).
MIN_BOOTSTRAP = 10
#: Initial weight π_0 of the linear term of m (the rest is shared by the tanh units).
_INIT_LINEAR_WEIGHT = 0.8
_BEND_PENALTY = 1.0
#: ``exp`` is continued linearly above this log ratio to the mean units while training.
_EXP_CAP = 30.0
#: L-BFGS memory (pairs of past gradients).
_HISTORY_SIZE = 20
#: Parameter names of the monotone price function m, in module order.
_PRICE_PARAMS = ("price_logits", "price_rate", "price_shift")
#: Scalers saved beside the weights, in this order.
_SCALERS = ("z_mean", "z_sd", "log_price_mean", "log_price_sd", "unit_scale")


class _Affine(nn.Module):
    """``h @ weight.T + bias`` (as ``nn.Linear``), created without drawing from torch's
    global random generator: :meth:`_MonotoneNet.initialise` fills it from a seeded one."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.in_features = n_in
        self.weight = nn.Parameter(torch.zeros(n_out, n_in, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(n_out, dtype=torch.float64))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(h, self.weight, self.bias)


class _MonotoneNet(nn.Module):
    """The torch twin of :class:`MLPKernel`: returns ``log(μ / unit_scale)``."""

    # buffers of _SCALERS, registered in __init__ (nn.Module types them Tensor | Module)
    z_mean: torch.Tensor
    z_sd: torch.Tensor
    log_price_mean: torch.Tensor
    log_price_sd: torch.Tensor
    unit_scale: torch.Tensor

    def __init__(
        self, n_z: int, hidden: Sequence[int], price_units: int, scalers: Mapping[str, np.ndarray]
    ) -> None:
        super().__init__()
        f64 = torch.float64
        widths = [n_z, *hidden]
        self.hidden = nn.ModuleList(_Affine(widths[i], widths[i + 1]) for i in range(len(hidden)))
        self.level = _Affine(widths[-1], 1)
        self.slope = _Affine(widths[-1], 1)
        self.price_logits = nn.Parameter(torch.zeros(price_units + 1, dtype=f64))
        self.price_rate = nn.Parameter(torch.zeros(price_units, dtype=f64))
        self.price_shift = nn.Parameter(torch.zeros(price_units, dtype=f64))
        for name in _SCALERS:
            self.register_buffer(name, torch.as_tensor(np.asarray(scalers[name]), dtype=f64))

    def initialise(self, generator: torch.Generator) -> None:
        """Seeded start: U(±1/√fan_in) weights; m ≈ x; elasticity ≈ −1 at every input."""

        def uniform(t: torch.Tensor, bound: float) -> None:
            t.copy_((torch.rand(t.shape, generator=generator, dtype=t.dtype) * 2 - 1) * bound)

        with torch.no_grad():
            for layer in [*self.hidden, self.level, self.slope]:
                bound = 1.0 / math.sqrt(max(layer.in_features, 1))
                uniform(layer.weight, bound)
                uniform(layer.bias, bound)
            self.level.bias.zero_()
            sd = float(self.log_price_sd)
            self.slope.bias.fill_(_inverse_softplus(sd))  # s·m' ≈ sd: elasticity ≈ −1
            k = self.price_rate.shape[0]
            self.price_logits[0] = math.log(_INIT_LINEAR_WEIGHT)
            if k:
                self.price_logits[1:] = math.log((1.0 - _INIT_LINEAR_WEIGHT) / k)
            uniform(self.price_rate, 2.0)
            uniform(self.price_shift, 2.0)

    def forward(self, log_price: torch.Tensor, z_raw: torch.Tensor) -> torch.Tensor:
        """``log(μ / unit_scale)`` from the log own price (B,) and unscaled ``z`` (B, n_z)."""
        return self.core(
            (log_price - self.log_price_mean) / self.log_price_sd, (z_raw - self.z_mean) / self.z_sd
        )

    def core(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on standardised inputs (training standardises once)."""
        return self.head(x, self.trunk(z))

    def trunk(self, z: torch.Tensor) -> torch.Tensor:
        """Features ``h`` of the standardised context ``z``."""
        h = z
        for layer in self.hidden:
            h = _tanh(layer(h))
        return h

    def head(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``level(h) − softplus(slope(h))·m(x)``."""
        sp = nn.functional.softplus
        level = self.level(h).squeeze(-1)
        slope = sp(self.slope(h).squeeze(-1))
        weights = torch.softmax(self.price_logits, dim=0)
        d = MIN_SHARPNESS + (MAX_SHARPNESS - MIN_SHARPNESS) * torch.sigmoid(self.price_rate)
        bends = (_tanh(x[:, None] * d + self.price_shift) - _tanh(self.price_shift)) / d
        m = weights[0] * x + bends @ weights[1:]
        return level - slope * m

    def penalty(self) -> torch.Tensor:
        """Sum of squared trunk/head weights and squared bend weights π_1..π_K of m."""
        total = sum((layer.weight**2).sum() for layer in [*self.hidden, self.level, self.slope])
        return total + _BEND_PENALTY * (torch.softmax(self.price_logits, dim=0)[1:] ** 2).sum()

    def arrays(self) -> dict[str, np.ndarray]:
        """Parameters by name as float64 numpy copies."""
        return {k: v.detach().numpy().copy() for k, v in self.named_parameters()}

    def flat(self) -> np.ndarray:
        """All parameters in module order as one vector."""
        return np.concatenate([v.detach().numpy().reshape(-1) for v in self.parameters()])

    def load_flat(self, vector: np.ndarray) -> None:
        """Inverse of :meth:`flat`."""
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.as_tensor(vector), self.parameters())


def _tanh(t: torch.Tensor) -> torch.Tensor:
    """``tanh`` as ``2·sigmoid(2t) − 1``: the same function (to ~1e-16 absolute), about
    3× faster than float64 ``torch.tanh`` on CPU, which dominated the training time."""
    return 2.0 * torch.sigmoid(2.0 * t) - 1.0


def _inverse_softplus(y: float) -> float:
    return float(y + math.log(-math.expm1(-y)))


def _safe_exp(eta: torch.Tensor) -> torch.Tensor:
    """``exp(eta)``, continued linearly above :data:`_EXP_CAP` so that a wild line-search
    trial gives a large finite loss instead of ``inf`` (and then NaN) — the optimum is
    never up there: ``eta`` is log(μ / mean units)."""
    capped = torch.clamp(eta, max=_EXP_CAP)
    return torch.exp(capped) * (1.0 + (eta - capped))


def _objective(
    net: _MonotoneNet,
    x: torch.Tensor,
    z: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    weight_decay: float,
) -> torch.Tensor:
    """Weighted mean Poisson NLL of ``target`` (units / mean units) + penalty, on
    standardised inputs ``x`` (log price) and ``z``."""
    eta = net.core(x, z)
    nll = (weight * (_safe_exp(eta) - target * eta)).sum() / weight.sum()
    return nll + weight_decay * net.penalty()


def _train(
    net: _MonotoneNet,
    x: torch.Tensor,
    z: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    weight_decay: float,
    max_iter: int,
) -> float:
    """Full-batch L-BFGS (strong Wolfe line search) on :func:`_objective`; returns its value."""
    optimiser = torch.optim.LBFGS(
        net.parameters(),
        lr=1.0,
        max_iter=max_iter,
        history_size=_HISTORY_SIZE,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = _objective(net, x, z, target, weight, weight_decay)
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.no_grad():
        return float(_objective(net, x, z, target, weight, weight_decay))


# ============================================================================ model


class NeuralDemand(DemandModel):
    """Monotone MLP demand (see the module docstring for the architecture).

    Hyper-parameters (all keyword-only; lists are accepted for tuples, so they
    round-trip through JSON):
        hidden: widths of the tanh trunk's layers, e.g. ``(32, 32)``; ``()`` makes
            the level and the elasticity scale affine in ``z``.
        lags: recent units of the same product used as inputs (>= 0). Training
            drops every row whose previous ``lags`` periods are not all observed
            (the first ``lags`` rows of each product, and rows right after a gap);
            :meth:`predict` pads such rows instead (see there).
        price_units: tanh units in the monotone price function ``m`` (>= 0; 0 gives
            a constant elasticity in each context).
        competitors: all competitor-price columns (True), none (False) or the named ones.
        promotions: same, for promotion flags.
        trend: add the period index ``t`` as an input.
        seasonality: Fourier harmonic pairs, or ``"auto"``
            (:func:`~pricegym.demand.regression.resolve_seasonality`).
        season_period: periods per seasonal cycle of the Fourier terms; ``None`` =
            the data's (5 for a Mon–Fri trading calendar, 7 for daily, 12 monthly).
        weight_decay: penalty weight (>= 0) on squared weights and bend weights,
            relative to the mean Poisson NLL of ``units / ȳ``. The default 1e-3 gave
            the best rolling-origin backtests on synthetic weekly data (1e-4 overfits,
            1e-2 already shrinks seasonal and competitor effects away).
        max_iter: L-BFGS iterations of the fit (the net is not trained to a strict
            optimum; a fixed budget keeps the fit fast and deterministic).
        n_bootstrap: refits behind the elasticity interval (0: no interval).
        bootstrap_iter: L-BFGS iterations of each bootstrap refit (the k of the
            k-step bootstrap below).
        seed: seeds the one ``torch.Generator`` behind weight init and resampling.
        noise: ``"auto"``, ``"poisson"``, ``"negbin"`` or ``"lognormal"`` (sampled units).
        batch_size: ``None`` (default): full-batch L-BFGS as above. An integer >= 1:
            when the training rows outnumber it, mini-batch Adam over ``epochs``
            shuffled passes with step ``learning_rate`` instead
            (:mod:`pricegym.demand._neural_minibatch`), for panels of 10⁵-10⁶ rows
            whose full batches are slow. No bootstrap interval then (warned when
            ``n_bootstrap > 0``): the k-step bootstrap needs a fit at an optimum,
            and a fixed number of Adam epochs is not one — refits that continue the
            descent gave intervals that missed their own estimate (measured).
        epochs, learning_rate: the mini-batch fit's passes (>= 1) and Adam step (> 0).

    Fitted attributes (besides the base class's): ``spec_``, ``hidden_``, ``params_``
    (weights by name), ``scalers_``, ``initial_lags_`` (n_products, lags), ``last_t_``
    and ``mean_units_`` per product, ``bootstrap_params_`` (n_bootstrap, n_weights),
    ``n_weights_``, ``n_train_`` (rows used), ``deviance_`` (Poisson deviance of the
    training rows, in units), ``objective_`` (final penalised loss), ``results_``
    (the torch module; ``None`` after loading).

    Elasticity: the exact derivative of the kernel at the given price in the
    reference context (product 0 with its end-of-history lags); the interval is the
    percentile interval of the same quantity over ``n_bootstrap`` refits.

    - Resampling: cases (rows), drawn with replacement within each product. The
      rows are (inputs, units) pairs of a conditional-mean model whose inputs hold
      the recent units, so each resampled row keeps its own lags and the serial
      dependence the lags capture is preserved; what is left is treated as
      conditionally independent, as the Poisson likelihood does. Moving blocks would
      only be needed for dependence the lags do not capture (with ``lags=0`` and
      persistent demand shocks, read the interval as too narrow).
    - Refits: the k-step bootstrap (Davidson & MacKinnon 1999; Andrews 2002,
      Econometrica 70:119): each refit starts at the fitted weights and takes
      ``bootstrap_iter`` L-BFGS iterations on the resampled rows. On 169-row weekly
      data its spread matched that of full refits from the seed's initial weights
      (sd 0.09-0.14 vs 0.08-0.15 over six data sets, both close to a Poisson GLM's
      standard error) at a seventh of the cost, and it measures sampling variability
      around this fit rather than the spread over local optima.

    Cost (one CPU thread): the fit takes about 0.15 s on 169 rows and 0.35 s on
    1380 rows; each bootstrap refit about 30 ms and 60 ms, so the default 20 refits
    bring ``fit`` to about 0.7 s and 1.5 s. Backtests skip the bootstrap.
    Same seed, data and torch thread count → bit-identical weights.
    """

    family = "neural"
    _library_options = ("lags",)
    supports_panel = True

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (32, 32),
        lags: int = 1,
        price_units: int = 4,
        competitors: bool | Sequence[str] = True,
        promotions: bool | Sequence[str] = True,
        trend: bool = False,
        seasonality: int | str = "auto",
        weight_decay: float = 1e-3,
        max_iter: int = 100,
        n_bootstrap: int = 20,
        bootstrap_iter: int = 20,
        seed: int = 0,
        noise: str = "auto",
        season_period: float | None = None,
        batch_size: int | None = None,
        epochs: int = 10,
        learning_rate: float = 0.01,
    ) -> None:
        self.hidden = hidden
        self.lags = lags
        self.price_units = price_units
        self.competitors = competitors
        self.promotions = promotions
        self.trend = trend
        self.seasonality = seasonality
        self.weight_decay = weight_decay
        self.max_iter = max_iter
        self.n_bootstrap = n_bootstrap
        self.bootstrap_iter = bootstrap_iter
        self.seed = seed
        self.noise = noise
        self.season_period = season_period
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate

    # ---------------------------------------------------------------- settings
    def _hidden(self) -> tuple[int, ...]:
        try:
            widths = tuple(self.hidden)
        except TypeError:
            widths = (None,)  # type: ignore[assignment]
        if not all(_is_int(w, 1) for w in widths):
            raise ModelError(
                f"hidden={self.hidden!r} must be a sequence of layer widths >= 1, e.g. "
                "(32, 32), or () for no hidden layer."
            )
        return tuple(int(w) for w in widths)

    def _check_settings(self, *, warn: bool = True) -> None:
        self._hidden()
        for name, low in (
            ("lags", 0),
            ("price_units", 0),
            ("max_iter", 1),
            ("n_bootstrap", 0),
            ("bootstrap_iter", 1),
            ("epochs", 1),
        ):
            if not _is_int(getattr(self, name), low):
                raise ModelError(f"{name}={getattr(self, name)!r} must be an integer >= {low}.")
        if self.batch_size is not None and not _is_int(self.batch_size, 1):
            raise ModelError(
                f"batch_size={self.batch_size!r} must be None (full-batch L-BFGS) or an "
                "integer >= 1, e.g. 4096."
            )
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not (0 < lr < math.inf):
            raise ModelError(f"learning_rate={lr!r} must be a finite number > 0 (e.g. 0.01).")
        if not _is_int(self.seed, 0):
            raise ModelError(f"seed={self.seed!r} must be an integer >= 0.")
        wd = self.weight_decay
        if (
            isinstance(wd, bool)
            or not isinstance(wd, int | float)
            or not (math.isfinite(wd) and wd >= 0)
        ):
            raise ModelError(f"weight_decay={wd!r} must be a finite number >= 0 (e.g. 1e-3).")
        if warn and 0 < self.n_bootstrap < MIN_BOOTSTRAP:
            warnings.warn(
                f"NeuralDemand(n_bootstrap={self.n_bootstrap}): a percentile interval from "
                f"fewer than {MIN_BOOTSTRAP} refits is very rough; use n_bootstrap >= "
                f"{MIN_BOOTSTRAP}, or 0 for no interval.",
                PricegymWarning,
                stacklevel=4,
            )

    def _spec(self, history: SalesHistory) -> FeatureSpec:
        return FeatureSpec(
            price_transform="log",
            competitors=_select(self.competitors, history.competitors, "competitor"),
            promotions=_select(self.promotions, history.promotions, "promotion"),
            products=history.products if history.is_panel else (),
            intercept=False,
            trend=bool(self.trend),
            fourier=resolve_seasonality(self.seasonality, history, self.season_period),
            season_period=resolve_season_period(self.season_period, history),
        )

    def min_rows(self, history: SalesHistory) -> int:
        """``lags`` + :data:`MIN_TRAIN_ROWS` rows per product."""
        self._check_settings()
        return int(self.lags) + MIN_TRAIN_ROWS

    # ---------------------------------------------------------------- fitting
    def _fit(self, history: SalesHistory) -> None:
        with one_torch_thread():  # tiny tensors: more threads only spin (see the module)
            self._fit_net(history)

    def _fit_net(self, history: SalesHistory) -> None:
        self._check_settings(warn=False)  # min_rows, called first by fit, has warned
        spec = self._spec(history)
        n_lags = int(self.lags)
        codes = self._codes(history, spec)
        units, t = history.units, history.t
        n_products = max(len(spec.products), 1)
        unit_scale = float(units.mean())
        if not unit_scale > 0:
            raise DataValidationError(
                f"{history.source}: every row has units = 0, so there is no demand to model; "
                "load data with some sales."
            )

        lag_matrix, complete = _training_lags(t, units, codes, n_products, n_lags)
        keep = np.flatnonzero(complete)
        per_product = np.bincount(codes[keep], minlength=n_products)
        if per_product.min() < MIN_TRAIN_ROWS:
            worst = int(per_product.argmin())
            raise DataValidationError(
                f"{history.source}: product {(spec.products or ('all',))[worst]!r} keeps "
                f"{int(per_product.min())} training rows once rows without all {n_lags} "
                f"previous periods observed are dropped, fewer than {MIN_TRAIN_ROWS}. Fix: a "
                "longer or gap-free history, or a smaller lags."
            )
        x_all = spec.from_history(history)
        log_price = x_all[keep, 0]
        z_parts = np.concatenate([x_all[:, 1:], np.log1p(lag_matrix / unit_scale)], axis=1)
        extra = self._extra_inputs(history, x_all, z_parts, keep)
        z_raw = np.concatenate([z_parts, extra], axis=1)[keep]
        lp_sd = float(log_price.std())
        if not lp_sd > 0:
            raise DataValidationError(
                f"{history.source}: the price never varies in the {keep.size} training rows "
                f"left after dropping the first {n_lags} row(s) of each product, so its "
                "effect cannot be learned; use data with price changes or lags=0."
            )
        z_sd = z_raw.std(axis=0)
        scalers = {
            "z_mean": z_raw.mean(axis=0),
            "z_sd": np.where(z_sd > 1e-12, z_sd, 1.0),
            "log_price_mean": np.array(float(log_price.mean())),
            "log_price_sd": np.array(lp_sd),
            "unit_scale": np.array(unit_scale),
        }

        generator = torch.Generator().manual_seed(int(self.seed))
        net = self._network(z_raw.shape[1], scalers)
        net.initialise(generator)
        x_t = torch.as_tensor((log_price - scalers["log_price_mean"]) / scalers["log_price_sd"])
        z_t = torch.as_tensor((z_raw - scalers["z_mean"]) / scalers["z_sd"])
        target = torch.as_tensor(units[keep] / unit_scale)
        ones = torch.ones(keep.size, dtype=torch.float64)
        wd, iters = float(self.weight_decay), int(self.max_iter)
        minibatch = self.batch_size is not None and keep.size > int(self.batch_size)
        if minibatch:
            objective = self._minibatch(net, x_t, z_t, target, ones, int(self.epochs), generator)
        else:
            objective = _train(net, x_t, z_t, target, ones, wd, iters)
        if not math.isfinite(objective):
            raise ModelError(
                f"{history.source}: the neural fit diverged (objective {objective}); use a "
                "larger weight_decay, smaller hidden layers or another seed."
            )
        fitted_flat = net.flat()

        boot = np.empty((0, fitted_flat.size))
        bootstrap = int(self.n_bootstrap) and not getattr(self, "_skip_bootstrap", False)
        if bootstrap and minibatch:
            warnings.warn(
                f"NeuralDemand(batch_size={self.batch_size}, n_bootstrap={self.n_bootstrap}): "
                "a mini-batch fit gives no bootstrap interval (its k-step refits need a fit "
                "at an optimum); the elasticity comes without one. Set n_bootstrap=0 to "
                "silence this, or batch_size=None for full-batch L-BFGS with the interval.",
                PricegymWarning,
                stacklevel=3,
            )
            bootstrap = False
        if bootstrap:
            strata = [torch.as_tensor(np.flatnonzero(codes[keep] == c)) for c in range(n_products)]
            twin = self._network(z_raw.shape[1], scalers)
            rows = []
            for _ in range(int(self.n_bootstrap)):
                counts = torch.zeros(keep.size, dtype=torch.float64)
                for idx in strata:
                    draw = idx[torch.randint(idx.numel(), (idx.numel(),), generator=generator)]
                    counts += torch.bincount(draw, minlength=keep.size).to(torch.float64)
                twin.load_flat(fitted_flat)
                z_b = self._bootstrap_inputs(z_t, counts, scalers)
                _train(twin, x_t, z_b, target, counts, wd, int(self.bootstrap_iter))
                rows.append(twin.flat())
            boot = np.stack(rows)

        self.spec_ = spec
        self.hidden_ = self._hidden()
        self.results_: _MonotoneNet | None = net  # None on a loaded model
        self.params_ = net.arrays()
        self.scalers_ = {k: np.asarray(v, dtype=np.float64) for k, v in scalers.items()}
        self.bootstrap_params_ = boot
        self.n_weights_ = int(fitted_flat.size)
        self.n_train_ = int(keep.size)
        self.objective_ = objective
        self.last_t_ = np.array([t[codes == c].max() for c in range(n_products)])
        self.mean_units_ = np.array([units[codes == c].mean() for c in range(n_products)])
        tails = []
        for c in range(n_products):
            own = np.flatnonzero(codes == c)
            own = own[np.argsort(t[own], kind="stable")]
            periods = self.last_t_[c] - np.arange(n_lags, dtype=np.float64)
            tails.append(_carry_lookup(t[own], units[own], periods, self.mean_units_[c]))
        self.initial_lags_ = np.stack(tails).reshape(n_products, n_lags)
        with torch.no_grad():
            mu = unit_scale * np.exp(net.core(x_t, z_t).numpy())
        self.deviance_ = _poisson_deviance(units[keep], mu)

    # Hooks of the instrumented twin (pricegym.demand.iv_neural); the defaults add nothing.
    def _extra_inputs(
        self, history: SalesHistory, x_all: np.ndarray, z_parts: np.ndarray, keep: np.ndarray
    ) -> np.ndarray:
        """Columns appended to the unscaled ``z`` of every row, shape (rows, j); none here.

        ``x_all`` is the feature matrix (column 0 the log own price), ``z_parts`` the
        context and lag inputs of every row, ``keep`` the training rows.
        """
        return np.empty((history.n_rows, 0))

    def _network(self, n_z: int, scalers: Mapping[str, np.ndarray]) -> _MonotoneNet:
        """The torch module for ``n_z`` unscaled inputs (the monotone net here)."""
        return _MonotoneNet(n_z, self._hidden(), int(self.price_units), scalers)

    def _bootstrap_inputs(
        self, z: torch.Tensor, counts: torch.Tensor, scalers: Mapping[str, np.ndarray]
    ) -> torch.Tensor:
        """The standardised inputs of one bootstrap refit with row weights ``counts``
        (the same inputs here: nothing is estimated before the net)."""
        return z

    def _minibatch(
        self,
        net: _MonotoneNet,
        x: torch.Tensor,
        z: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor,
        epochs: int,
        generator: torch.Generator,
    ) -> float:
        from pricegym.demand._neural_minibatch import train_minibatch

        return train_minibatch(
            net,
            x,
            z,
            target,
            weight,
            float(self.weight_decay),
            epochs=epochs,
            batch_size=int(self.batch_size),  # type: ignore[arg-type]
            learning_rate=float(self.learning_rate),
            generator=generator,
        )

    def _fit_for_backtest(self, history: SalesHistory) -> None:
        """Fit without the bootstrap (the backtest needs only point forecasts)."""
        self._skip_bootstrap = True
        try:
            self.fit(history)
        finally:
            self._skip_bootstrap = False

    @staticmethod
    def _codes(history: SalesHistory, spec: FeatureSpec) -> np.ndarray:
        if len(spec.products) > 1:
            return history.product_codes(spec.products)
        return np.zeros(history.n_rows, dtype=np.int64)

    # ---------------------------------------------------------------- kernel
    def _make_kernel(self, noise: NoiseModel) -> MLPKernel:
        return self._kernel_with(self.params_, noise)

    def _kernel_with(
        self, params: Mapping[str, np.ndarray], noise: NoiseModel | None = None
    ) -> MLPKernel:
        return MLPKernel(
            self.spec_,
            params,
            self.scalers_,
            self.initial_lags_,
            noise=noise if noise is not None else getattr(self, "noise_", NoiseModel()),
            support=self.support_,
            reference=self.reference_,
        )

    def _unflatten(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        out, start = {}, 0
        for name, value in self.params_.items():
            out[name] = vector[start : start + value.size].reshape(value.shape)
            start += value.size
        return out

    def _initial_state(self, kern: DemandKernel, n: int, ctx: MarketContext) -> KernelState:
        """Each market starts from its product's last units in the fitted history."""
        return kern.initial_state(n, ctx.product)  # type: ignore[call-arg]

    def _library_units(
        self,
        res: Any,
        prices: np.ndarray,
        ctx: MarketContext,
        kern: DemandKernel,
        *,
        lags: np.ndarray | None = None,
        **options: Any,
    ) -> np.ndarray:
        """:meth:`expected_units` computed by the fitted torch module's ``forward``.

        Args:
            lags: recent units per market, shape (n, lags), column 0 the most recent;
                default each market's product's last units in the fitted history.
        """
        assert isinstance(kern, MLPKernel)  # the kernel _make_kernel compiles
        n = prices.size
        recent = self._initial_state(kern, n, ctx)["lags"] if lags is None else lags
        recent = np.asarray(recent, dtype=np.float64).reshape(n, kern.n_lags)
        x_all = self.spec_.build_context(prices, ctx)
        z_raw = np.concatenate([x_all[:, 1:], np.log1p(recent / kern.unit_scale)], axis=1)
        with torch.no_grad():
            eta = res(torch.as_tensor(x_all[:, 0]), torch.as_tensor(z_raw)).numpy()
        return kern.unit_scale * np.exp(eta)

    def predict(self, history: SalesHistory, *, recursive: bool = False) -> np.ndarray:
        """Expected units for each row of ``history`` (kernel path, no torch).

        Each row's lag k is the units of its product at period ``t − k``, taken from:

        1. the row of ``history`` at that period, when there is one (with
           ``recursive=True`` only for periods inside the fitted sample);
        2. else the fitted history's last ``lags`` units (saved with the model), when
           the period is one of them;
        3. else, for a period after the fitted sample, the model's own forecast of it:
           the prediction of that row, or for a period missing from ``history`` a
           forecast made with the covariates of the product's next row (recursion);
        4. else (a period before or inside the sample that was not observed, e.g.
           before the first row) the latest observed units before it, or the
           product's mean units in the fitted history when there are none.

        So in-sample rows are one-step predictions from their true previous units
        (the first ``lags`` rows of a product, dropped in training, are padded by
        rule 4), and rows after the sample are one-step forecasts from the actual
        previous units passed in — as in a backtest, where each test fold starts
        from the training fold's last units — or, with ``recursive=True``, a
        multi-step forecast from the end of the sample that ignores their units.
        """
        self._check_fitted()
        kern = self._make_kernel(getattr(self, "noise_", NoiseModel()))
        ctx = self.spec_.context_from_history(history)
        codes, t, units = ctx.product, history.t, history.units
        n_lags, out = kern.n_lags, np.empty(history.n_rows)
        lags = np.empty((history.n_rows, n_lags))
        after = t > self.last_t_[codes] + 1e-9
        known: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for c in np.unique(codes):
            rows = np.flatnonzero(codes == c)
            inside = rows[~after[rows]]
            tail_t = self.last_t_[c] - np.arange(n_lags, dtype=np.float64)
            kt = np.concatenate([tail_t, t[inside]])
            kv = np.concatenate([self.initial_lags_[c], units[inside]])
            kt, first = np.unique(kt[::-1], return_index=True)  # history rows win
            known[int(c)] = (kt, kv[::-1][first])
            if inside.size and n_lags:
                s = t[inside][:, None] - np.arange(1, n_lags + 1)[None, :]
                lags[inside] = _carry_lookup(*known[int(c)], s, self.mean_units_[c])
        inside_all = np.flatnonzero(~after)
        if inside_all.size:
            state = {"lags": lags[inside_all], "product": codes[inside_all]}
            out[inside_all] = kern.expected(history.price[inside_all], ctx.take(inside_all), state)
        if after.any():
            self._forecast_after(kern, history, ctx, after, known, recursive, out)
        return out

    def _forecast_after(
        self,
        kern: MLPKernel,
        history: SalesHistory,
        ctx: MarketContext,
        after: np.ndarray,
        known: dict[int, tuple[np.ndarray, np.ndarray]],
        recursive: bool,
        out: np.ndarray,
    ) -> None:
        """Rules 1-3 of :meth:`predict` for rows after the sample, period by period."""
        t, units, price = history.t, history.units, history.price
        codes = ctx.product
        series = {c: (list(kt), list(kv)) for c, (kt, kv) in known.items()}
        targets = {}  # product -> (periods to forecast, the row whose covariates each uses)
        for c in np.unique(codes[after]):
            rows = np.flatnonzero(after & (codes == c))
            rows = rows[np.argsort(t[rows], kind="stable")]
            periods = np.arange(self.last_t_[c] + 1, t[rows].max() + 0.5)
            source = rows[np.searchsorted(t[rows], periods - 1e-9)]
            targets[int(c)] = (periods, source)
        horizon = max(p.size for p, _ in targets.values())
        for h in range(horizon):
            active = [c for c, (p, _) in targets.items() if h < p.size]
            periods = np.array([targets[c][0][h] for c in active])
            src = np.array([targets[c][1][h] for c in active])
            recent = np.empty((len(active), kern.n_lags))
            for i, c in enumerate(active):
                kt, kv = (np.asarray(a, dtype=np.float64) for a in series[c])
                s = periods[i] - np.arange(1, kern.n_lags + 1)
                recent[i] = _carry_lookup(kt, kv, s, self.mean_units_[c])
            sub = ctx.take(src)
            sub = MarketContext(
                periods.astype(np.float64), sub.competitors, sub.promotions, sub.product
            )
            mu = kern.expected(price[src], sub, {"lags": recent, "product": sub.product})
            for i, c in enumerate(active):
                is_row = abs(t[src[i]] - periods[i]) < 1e-9
                if is_row:
                    out[src[i]] = mu[i]
                series[c][0].append(float(periods[i]))
                series[c][1].append(float(units[src[i]] if is_row and not recursive else mu[i]))

    # ---------------------------------------------------------------- inference
    def _elasticity_draws(self, price: float) -> tuple[float, np.ndarray]:
        def at(kern: MLPKernel) -> float:
            ctx = kern.context(1)
            return float(kern.elasticity(np.array([price]), ctx)[0])

        estimate = at(self._kernel_with(self.params_))
        draws = np.array(
            [at(self._kernel_with(self._unflatten(v))) for v in self.bootstrap_params_]
        )
        return estimate, draws[np.isfinite(draws)]

    def elasticity(
        self, price: float | None = None, level: float = 0.95, n_draws: int = 0, seed: int = 0
    ) -> Elasticity:
        """Own-price elasticity at ``price`` (default the mean price) in the reference context.

        The estimate is the kernel's exact derivative ``∂ log μ / ∂ log p`` (product 0,
        its end-of-history lags); the interval is the percentile interval over the
        ``n_bootstrap`` refits made at fit time (see the class docstring), or NaN when
        there are none. ``n_draws`` and ``seed`` are accepted for the common signature
        and unused: the replicates are fixed by the fit.
        """
        self._check_fitted()
        p0 = self.mean_price_ if price is None else float(price)
        if not (math.isfinite(p0) and p0 > 0):
            raise ModelError(f"elasticity: price={price!r} must be a finite price > 0.")
        if not 0 < level < 1:
            raise ModelError(f"elasticity: level={level!r} must lie in (0, 1), e.g. 0.95.")
        estimate, draws = self._elasticity_draws(p0)
        if draws.size:
            lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
            method = (
                f"case bootstrap, {draws.size} warm-started {self.bootstrap_iter}-step "
                "L-BFGS refits, percentile"
            )
        else:
            lo = hi = float("nan")
            method = "no interval (no bootstrap refits; set n_bootstrap > 0)"
        return Elasticity(estimate, float(lo), float(hi), p0, level, method)

    def params_table(self) -> pd.DataFrame:
        """``elasticity@mean_price`` (bootstrap sd as std_err, 95% CI) and ``n_weights``."""
        self._check_fitted()
        _, draws = self._elasticity_draws(self.mean_price_)
        el = self.elasticity_
        se = float(draws.std(ddof=1)) if draws.size > 1 else float("nan")
        nan = float("nan")
        return pd.DataFrame(
            {
                "term": ["elasticity@mean_price", "n_weights"],
                "estimate": [el.estimate, float(self.n_weights_)],
                "std_err": [se, nan],
                "ci_low": [el.ci_low, nan],
                "ci_high": [el.ci_high, nan],
            }
        )

    def information(self) -> dict[str, float]:
        """Training Poisson deviance (in units), its mean per row, rows used, n_weights."""
        return {
            "deviance": self.deviance_,
            "mean_deviance": self.deviance_ / self.n_train_,
            "n_train": float(self.n_train_),
            "n_weights": float(self.n_weights_),
        }

    # ---------------------------------------------------------------- state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "spec": self.spec_.to_dict(),
            "hidden": list(self.hidden_),
            "param_names": list(self.params_),
            "n_weights": self.n_weights_,
            "n_train": self.n_train_,
            "deviance": self.deviance_,
            "objective": self.objective_,
        }
        arrays = {f"param:{k}": v for k, v in self.params_.items()}
        arrays.update({f"scaler:{k}": v for k, v in self.scalers_.items()})
        arrays.update(
            {
                "initial_lags": self.initial_lags_,
                "last_t": self.last_t_,
                "mean_units": self.mean_units_,
                "bootstrap_params": self.bootstrap_params_,
            }
        )
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.spec_ = FeatureSpec.from_dict(state["spec"])
        self.hidden_ = tuple(int(w) for w in state["hidden"])
        self.params_ = {
            k: np.asarray(arrays[f"param:{k}"], np.float64) for k in state["param_names"]
        }
        self.scalers_ = {k: np.asarray(arrays[f"scaler:{k}"], np.float64) for k in _SCALERS}
        self.initial_lags_ = np.asarray(arrays["initial_lags"], np.float64)
        self.last_t_ = np.asarray(arrays["last_t"], np.float64)
        self.mean_units_ = np.asarray(arrays["mean_units"], np.float64)
        self.bootstrap_params_ = np.asarray(arrays["bootstrap_params"], np.float64)
        self.n_weights_ = int(state["n_weights"])
        self.n_train_ = int(state["n_train"])
        self.deviance_ = float(state["deviance"])
        self.objective_ = float(state["objective"])
        self.results_ = None
        # Validates the array shapes against each other now rather than at first use.
        self._make_kernel(self.noise_)


# ============================================================================ helpers


def _is_int(value: Any, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and int(value) >= low


def _training_lags(
    t: np.ndarray, units: np.ndarray, codes: np.ndarray, n_products: int, n_lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact lags (units at t − k of the same product) and whether all were observed."""
    lags = np.zeros((t.size, n_lags))
    complete = np.ones(t.size, dtype=bool)
    for c in range(n_products):
        rows = np.flatnonzero(codes == c)
        order = rows[np.argsort(t[rows], kind="stable")]
        tc, uc = t[order], units[order]
        for k in range(1, n_lags + 1):
            j = np.searchsorted(tc, tc - k - 1e-9)
            jj = np.minimum(j, tc.size - 1)
            present = (j < tc.size) & (np.abs(tc[jj] - (tc - k)) < 1e-9)
            lags[order, k - 1] = np.where(present, uc[jj], 0.0)
            complete[order] &= present
    return lags, complete


def _carry_lookup(
    known_t: np.ndarray, known_v: np.ndarray, s: np.ndarray, fallback: float
) -> np.ndarray:
    """Value at period s: the latest known value at or before s, else ``fallback``."""
    s = np.asarray(s, dtype=np.float64)
    if known_t.size == 0:
        return np.full(s.shape, float(fallback))
    j = np.searchsorted(known_t, s + 1e-9, side="right") - 1
    return np.where(j >= 0, known_v[np.maximum(j, 0)], float(fallback))


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2.0 * np.sum(term - (y - mu)))
