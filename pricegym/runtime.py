"""Serve an exported pricing policy with numpy and onnxruntime only.

:func:`load_policy` reads a folder written by
:func:`pricegym.experiments.export.export_policy` — the policy card
``policy.json`` and, for neural policies, ``policy.onnx`` — and returns a
:class:`Policy` that turns observations into prices:

- ``policy.price({"time_remaining": 0.5, ...})`` → one price (a ``float``); the
  observation is a mapping of the card's named features;
- ``policy.prices(array)`` with ``array`` of shape (B, d), columns in the card's
  order (``policy.feature_names``) → prices of shape (B,);
- ``policy.price_from_inputs(date="2026-12-03", stock=120, last_price=3.99,
  last_units=80, competitors={"rival_price": 3.79})`` → the price for that trading
  day from the seller's own inputs: the card's ``inputs`` constants (calendar,
  horizon, ``sales_scale``, season clock) build the observation exactly as the
  market does (:mod:`pricegym.seller_inputs`).

Every value is checked against the card before the policy sees it: a missing or
unknown feature, a non-finite value or one outside the feature's range raises
:class:`ObservationError` (a :class:`ValueError`) naming the feature, the value,
the range and the fix. A card whose ``sha256`` differs from its ONNX file is
refused (:class:`PolicyFileError`), as is a card of an unknown format.

Card kinds served here:

- ``onnx`` (PPO, A2C, DQN, SAC, TD3, MaskablePPO without masks): the graph maps a
  raw observation (float32, shape (B, d)) to a price (float64, (B,)); the
  VecNormalize statistics, the policy's deterministic action and the
  action-to-price mapping are all inside it.
- ``dp_table`` (the dynamic-programming optimum): the optimal price per
  (period k, stock x); k = round(T·(1 − time_remaining)), x = round(inventory_fraction ·
  inventory_scale), both clipped to the table, as :class:`pricegym.agents.dp.DPAgent` does.
- ``onnx_catalogue`` (PPO / A2C on a catalogue market): the graph maps the raw
  observation (float32, (B, d)) to one price per product (float64, (B, K));
  :class:`CataloguePolicy`'s ``prices`` returns (B, K) and ``price_vector(obs)``
  ``{product: price}`` (its ``price``, one number, is refused).

Cards of kind ``params`` (rule-based, bandit and Q-learning agents) hold the
agent's parameters and learned state as JSON; they are rebuilt with pricegym
itself (``PricingAgent`` classes), not served here, and :func:`load_policy`
says so.

This module imports only the standard library, numpy, onnxruntime (lazily, for
``onnx`` cards) and :mod:`pricegym.errors` — never torch, stable-baselines3 nor
gymnasium — so it runs in a service that has only ``pip install
"pricegym[onnx]"``'s runtime dependencies.

>>> policy = load_policy("exported/ppo")          # doctest: +SKIP
>>> policy.price({"time_remaining": 0.5, "inventory_fraction": 0.3,
...               "own_last_price": 0.6, "last_sales": 0.2})  # doctest: +SKIP
2.25
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.errors import DataValidationError, ModelFileError
from pricegym.seller_inputs import build_observation

__all__ = [
    "CARD_FORMAT",
    "CARD_VERSION",
    "CataloguePolicy",
    "ObservationError",
    "Policy",
    "PolicyFileError",
    "load_policy",
    "sha256_file",
]

#: The ``format`` field of a policy card and the version this runtime reads.
CARD_FORMAT = "pricegym.policy"
CARD_VERSION = 1


class ObservationError(DataValidationError):
    """An observation breaks the card: a missing/unknown feature, non-finite or out of range."""


class PolicyFileError(ModelFileError):
    """A policy folder is missing files, malformed, of an unknown format, or tampered with."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Policy:
    """An exported policy: validated observations in, prices out.

    Attributes:
        card: the parsed policy card (``policy.json``).
        feature_names: the observation's features, in the order ``prices`` expects.
        low, high: each feature's allowed range, shape (d,).
        price_bounds: (lowest, highest) price the policy can return.
    """

    def __init__(self, card: Mapping[str, Any], folder: Path) -> None:
        self.card = dict(card)
        self.folder = folder
        try:
            obs = card["observation"]
            self.feature_names: tuple[str, ...] = tuple(str(n) for n in obs["names"])
            self.low = np.asarray(obs["low"], dtype=np.float64)
            self.high = np.asarray(obs["high"], dtype=np.float64)
            lo, hi = card["price_bounds"]
            self.price_bounds = (float(lo), float(hi))
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyFileError(
                f"{folder / 'policy.json'}: the card lacks a valid observation spec or price "
                f"bounds ({type(exc).__name__}: {exc}); export the policy again."
            ) from None
        d = len(self.feature_names)
        if self.low.shape != (d,) or self.high.shape != (d,):
            raise PolicyFileError(
                f"{folder / 'policy.json'}: {d} feature names but ranges of shapes "
                f"{self.low.shape} and {self.high.shape}; export the policy again."
            )
        self._index = {n: i for i, n in enumerate(self.feature_names)}

    # ------------------------------------------------------------------ validation
    def _range_error(self, j: int, value: float, where: str) -> ObservationError:
        name = self.feature_names[j]
        meaning = self.card["observation"].get("meaning", {}).get(name, "")
        what = f" ({meaning})" if meaning else ""
        return ObservationError(
            f"feature {name!r}{what}{where} = {value!r} is outside its range "
            f"[{self.low[j]:g}, {self.high[j]:g}] seen in training; pass a value in range "
            "(scaled as the card's observation.scaling says)."
        )

    def _check(self, batch: np.ndarray, rows: bool) -> None:
        bad = ~np.isfinite(batch)
        if bad.any():
            r, j = (int(v[0]) for v in np.nonzero(bad))
            where = f" in row {r}" if rows else ""
            raise ObservationError(
                f"feature {self.feature_names[j]!r}{where} = {batch[r, j]!r} is not a finite "
                "number; pass a real value (no NaN or inf)."
            )
        out = (batch < self.low) | (batch > self.high)
        if out.any():
            r, j = (int(v[0]) for v in np.nonzero(out))
            raise self._range_error(j, float(batch[r, j]), f" in row {r}" if rows else "")

    def vector(self, observation: Mapping[str, Any]) -> np.ndarray:
        """The observation mapping as a checked vector in the card's order, shape (d,)."""
        if not isinstance(observation, Mapping):
            raise ObservationError(
                f"observation of type {type(observation).__name__}: pass a mapping of feature "
                f"name to value with the features {list(self.feature_names)}."
            )
        unknown = sorted(set(observation) - set(self._index))
        if unknown:
            raise ObservationError(
                f"unknown features {unknown}: this policy takes exactly "
                f"{list(self.feature_names)}; drop or rename them."
            )
        missing = [n for n in self.feature_names if n not in observation]
        if missing:
            raise ObservationError(
                f"missing features {missing}: this policy needs every one of "
                f"{list(self.feature_names)}; add them (see observation.meaning in the card)."
            )
        vec = np.empty(len(self.feature_names), dtype=np.float64)
        for j, name in enumerate(self.feature_names):
            value = observation[name]
            try:
                vec[j] = float(value)
            except (TypeError, ValueError):
                raise ObservationError(
                    f"feature {name!r} = {value!r} is not a number; pass a real value in "
                    f"[{self.low[j]:g}, {self.high[j]:g}]."
                ) from None
        self._check(vec[None, :], rows=False)
        return vec

    def _batch(self, array: Any) -> np.ndarray:
        try:
            batch = np.asarray(array, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ObservationError(
                f"observations are not numeric ({exc}); pass an array of shape (B, "
                f"{len(self.feature_names)})."
            ) from None
        d = len(self.feature_names)
        if batch.ndim != 2 or batch.shape[1] != d:
            raise ObservationError(
                f"observations of shape {batch.shape}: pass (B, {d}) with columns "
                f"{list(self.feature_names)}."
            )
        self._check(batch, rows=True)
        return batch

    # ------------------------------------------------------------------ pricing
    def price(self, observation: Mapping[str, Any]) -> float:
        """The policy's price for one observation given as ``{feature: value}``."""
        return float(self._prices(self.vector(observation)[None, :])[0])

    def observation_from_inputs(self, **inputs: Any) -> dict[str, float]:
        """The observation of a seller's own inputs (see :meth:`price_from_inputs`)."""
        return build_observation(self.card, **inputs)

    def price_from_inputs(
        self,
        date: Any = None,
        stock: Any = None,
        last_price: Any = None,
        last_units: Any = None,
        competitors: Mapping[str, Any] | None = None,
        season_end: Any = None,
        *,
        period: Any = None,
    ) -> float:
        """The policy's price for a trading day, from what the seller knows that morning.

        ``date`` (ISO), ``stock`` on hand, yesterday's ``last_price`` and
        ``last_units``, yesterday's ``competitors`` prices by name, and optionally the
        ``season_end`` (default: the card's, else the rolling horizon) become the
        market observation with the card's ``inputs`` constants
        (:func:`pricegym.seller_inputs.build_observation`, the market's formulas);
        ``period`` replaces ``date`` for a market without a calendar.

        Raises:
            pricegym.seller_inputs.InputError: a card exported without the constants
                (re-export it), a closed date (the message names the next trading
                day), a date after the season end, a negative stock, a missing
                competitor, or a value the policy never saw in training.
        """
        obs = self.observation_from_inputs(
            date=date,
            stock=stock,
            last_price=last_price,
            last_units=last_units,
            competitors=competitors,
            season_end=season_end,
            period=period,
        )
        return self.price(obs)

    def prices(self, observations: Any) -> np.ndarray:
        """Prices for a batch of observations, shape (B, d) in the card's order → (B,)."""
        batch = self._batch(observations)
        if batch.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return self._prices(batch)

    def _prices(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.card.get('kind')!r}, "
            f"agent={self.card.get('agent', {}).get('name')!r}, features={len(self.feature_names)})"
        )


class OnnxPolicy(Policy):
    """A neural policy served by onnxruntime (card kind ``onnx``)."""

    def __init__(self, card: Mapping[str, Any], folder: Path) -> None:
        super().__init__(card, folder)
        try:
            import onnxruntime as ort
        except ImportError:
            raise PolicyFileError(
                "serving an ONNX policy needs onnxruntime; pip install 'pricegym[onnx]'."
            ) from None
        onnx_doc = card.get("onnx") or {}
        path = folder / str(onnx_doc.get("file", "policy.onnx"))
        if not path.is_file():
            raise PolicyFileError(f"{path} is missing; copy it next to policy.json.")
        expected = onnx_doc.get("sha256")
        actual = sha256_file(path)
        if expected != actual:
            raise PolicyFileError(
                f"{path} has sha256 {actual}, but the card records {expected}: the ONNX file "
                "was altered or belongs to another export; export the policy again."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(onnx_doc.get("threads", 1))
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def _prices(self, batch: np.ndarray) -> np.ndarray:
        feed = {self._input: batch.astype(np.float32)}
        out = self._session.run([self._output], feed)[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)


class DPTablePolicy(Policy):
    """The dynamic-programming optimum as a price table (card kind ``dp_table``)."""

    def __init__(self, card: Mapping[str, Any], folder: Path) -> None:
        super().__init__(card, folder)
        try:
            table = card["table"]
            self.price_table = np.asarray(table["price"], dtype=np.float64)
            self.inventory_scale = float(table["inventory_scale"])
            self.limited = table["inventory"] is not None
            self._t = self._index["time_remaining"]
            self._x = self._index["inventory_fraction"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyFileError(
                f"{folder / 'policy.json'}: the DP table is incomplete ({exc}); export again."
            ) from None
        if self.price_table.ndim != 2 or self.price_table.size == 0:
            raise PolicyFileError(
                f"{folder / 'policy.json'}: the DP price table has shape "
                f"{self.price_table.shape}, not (T, X + 1); export the policy again."
            )

    def _prices(self, batch: np.ndarray) -> np.ndarray:
        horizon, width = self.price_table.shape
        k = np.rint(horizon * (1.0 - batch[:, self._t]))
        k = np.clip(k, 0, horizon - 1).astype(np.int64)
        if self.limited:
            x = np.rint(batch[:, self._x] * self.inventory_scale)
            x = np.clip(x, 0, width - 1).astype(np.int64)
        else:
            x = np.zeros(batch.shape[0], dtype=np.int64)
        return self.price_table[k, x]


class CataloguePolicy(OnnxPolicy):
    """A neural catalogue policy (card kind ``onnx_catalogue``): one price per product.

    ``prices(observations (B, d))`` returns (B, K), products in ``products`` order;
    :meth:`price_vector` prices one observation mapping as ``{product: price}``.
    """

    def __init__(self, card: Mapping[str, Any], folder: Path) -> None:
        super().__init__(card, folder)
        try:
            self.products: tuple[str, ...] = tuple(str(p) for p in card["action"]["products"])
        except (KeyError, TypeError) as exc:
            raise PolicyFileError(
                f"{folder / 'policy.json'}: the card names no products ({exc}); export again."
            ) from None

    def _prices(self, batch: np.ndarray) -> np.ndarray:
        feed = {self._input: batch.astype(np.float32)}
        out = self._session.run([self._output], feed)[0]
        return np.asarray(out, dtype=np.float64).reshape(batch.shape[0], len(self.products))

    def prices(self, observations: Any) -> np.ndarray:
        """Price vectors for a batch of observations, (B, d) in the card's order → (B, K)."""
        batch = self._batch(observations)
        if batch.shape[0] == 0:
            return np.empty((0, len(self.products)), dtype=np.float64)
        return self._prices(batch)

    def price_vector(self, observation: Mapping[str, Any]) -> dict[str, float]:
        """The price of every product for one observation given as ``{feature: value}``."""
        row = self._prices(self.vector(observation)[None, :])[0]
        return {p: float(v) for p, v in zip(self.products, row, strict=True)}

    def price(self, observation: Mapping[str, Any]) -> float:
        """Refused: a catalogue policy returns one price per product (use price_vector)."""
        raise ObservationError(
            f"this policy prices a catalogue of {len(self.products)} products "
            f"{list(self.products)}; call price_vector(observation) for one price per product."
        )


_KINDS: dict[str, type[Policy]] = {
    "onnx": OnnxPolicy,
    "dp_table": DPTablePolicy,
    "onnx_catalogue": CataloguePolicy,
}


def load_policy(path: str | Path) -> Policy:
    """Load an exported policy: a folder holding ``policy.json``, or the card itself.

    Raises:
        PolicyFileError: no card, a malformed card, an unknown format or kind, a
            missing ONNX file or one whose sha256 differs from the card's.
    """
    path = Path(path)
    card_path = path / "policy.json" if path.is_dir() else path
    if not card_path.is_file():
        raise PolicyFileError(
            f"{card_path} does not exist; pass a folder written by `pricegym export` (it holds "
            "policy.json and policy.onnx)."
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyFileError(f"{card_path} is not a readable JSON policy card: {exc}.") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        fmt = card.get("format") if isinstance(card, dict) else None
        raise PolicyFileError(
            f"{card_path} has format {fmt!r}, not {CARD_FORMAT!r}; pass a policy card written "
            "by `pricegym export`."
        )
    version = card.get("version")
    if version != CARD_VERSION:
        raise PolicyFileError(
            f"{card_path} is a version-{version!r} card; this runtime reads version "
            f"{CARD_VERSION}: upgrade pricegym or export again."
        )
    kind = card.get("kind")
    if kind == "params":
        raise PolicyFileError(
            f"{card_path} holds the parameters of a {card.get('agent', {}).get('kind')!r} agent "
            "(rule-based, bandit or Q-learning), which this runtime does not execute; rebuild "
            "it with pricegym.agents.make_agent(card['agent']['kind'], **card['agent']['params'])"
            " or PricingAgent.load on the saved agent."
        )
    if kind not in _KINDS:
        raise PolicyFileError(
            f"{card_path} has kind {kind!r}; this runtime serves {sorted(_KINDS)}."
        )
    return _KINDS[kind](card, card_path.parent)
