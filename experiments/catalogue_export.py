"""Export a catalogue policy: observation in, one price per product out (ONNX for SB3 agents).

:func:`pricegym.experiments.export.export_policy` calls
:func:`catalogue_export_documents` when the market is a catalogue
(:class:`~pricegym.envs.multiproduct.MultiProductEnv`):

- a trained :class:`~pricegym.agents.sb3.SB3Agent` (PPO / A2C over the
  ``MultiDiscrete`` price vector) becomes ``policy.onnx`` + a card of kind
  ``onnx_catalogue``. The graph takes the raw observation (float32, (B, d), dynamic
  B; the table of ``MultiProductEnv``'s *Observation Space*) and returns the price
  vector (float64, (B, K), products in the card's ``action.products`` order):
  VecNormalize as in the one-product export (float64, then float32 for the
  network), the policy's deterministic action (the action net's logits split into
  one block of ``n_j`` per product, ``argmax`` of each, as SB3's
  ``MultiCategoricalDistribution.mode``), then ``grids[j][index_j]``.
  :class:`pricegym.runtime.CataloguePolicy` serves it with onnxruntime.
- any other catalogue agent (rules, Thompson sampling) becomes a card of kind
  ``params`` (its kind, parameters and learned arrays) that pricegym rebuilds; the
  runtime does not execute it (as for one-product rules).

The exact catalogue DP has its own JSON + .npz export,
:class:`~pricegym.agents.catalogue_policy.CataloguePricePolicy`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from pricegym._json import jsonable
from pricegym.errors import ConfigError, NotFittedError

__all__ = ["catalogue_export_documents"]

#: (meaning, scaling) of the blocks of a catalogue observation (MultiProductEnv's table).
_CATALOGUE_MEANING = (
    ("share of the season left", "(T - k)/T, k = periods played"),
    ("the product's stock as a share of its starting stock", "stock / initial stock (1: no limit)"),
    ("the product's price last period", "price / the product's highest grid price"),
    ("units of the product sold last period", "min(sales / sales_scale, 10)"),
)


def _catalogue_module(agent: Any, grids: tuple[np.ndarray, ...]) -> Any:
    """A torch module: raw observation (B, d) float32 → prices (B, K) float64."""
    import torch
    from gymnasium import spaces

    model = agent.model_
    policy = model.policy
    norm = agent.normalizer_
    space = model.action_space
    if not isinstance(space, spaces.MultiDiscrete):
        raise ConfigError(
            f"the {agent.algo} agent acts on {space}, not on a catalogue's price vector "
            "(MultiDiscrete); pass the catalogue market it was trained in."
        )
    nvec = [int(n) for n in space.nvec]
    if nvec != [g.size for g in grids]:
        raise ConfigError(
            f"the agent chooses among {nvec} prices per product, the market's grids have "
            f"{[g.size for g in grids]}; pass the market it was trained in."
        )
    width = max(nvec)
    table = np.array([np.pad(g, (0, width - g.size), mode="edge") for g in grids])

    class Exported(torch.nn.Module):
        mean: torch.Tensor
        std: torch.Tensor
        table: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.use_norm = norm is not None and bool(norm.norm_obs)
            if self.use_norm:
                mean = np.asarray(norm.obs_rms.mean, dtype=np.float64)
                std = np.sqrt(np.asarray(norm.obs_rms.var, dtype=np.float64) + norm.epsilon)
                self.register_buffer("mean", torch.from_numpy(mean))
                self.register_buffer("std", torch.from_numpy(std))
                self.clip_obs = float(norm.clip_obs)
            self.register_buffer("table", torch.from_numpy(table))

        def forward(self, obs: Any) -> Any:
            x = obs
            if self.use_norm:
                x = (x.to(torch.float64) - self.mean) / self.std
                x = torch.clamp(x, -self.clip_obs, self.clip_obs)
            x = x.to(torch.float32)
            pol = self.policy
            features = pol.extract_features(x, pol.pi_features_extractor)
            logits = pol.action_net(pol.mlp_extractor.forward_actor(features))
            prices = [
                self.table[j][torch.argmax(block, dim=1)]
                for j, block in enumerate(torch.split(logits, nvec, dim=1))
            ]
            return torch.stack(prices, dim=1)

    module = Exported()
    module.eval()
    return module


def catalogue_export_documents(
    agent: Any, env: Any, env_id: str | None, scores: Mapping[str, Any] | None, opset: int
) -> tuple[dict[str, Any], bytes | None]:
    """The policy card and, for an SB3 agent, the ONNX bytes of a catalogue policy.

    Raises:
        NotFittedError: an SB3 agent that was never trained.
        ConfigError: an agent trained on another market's layout.
    """
    import dataclasses

    from pricegym.experiments.export import (
        _card,
        _observation_doc,
        _onnx_bytes,
    )

    base = getattr(env, "unwrapped", env)
    cfg = base.config
    agent.bind(env)
    names = tuple(str(n) for n in base.observation_names)
    products = [str(p) for p in base.product_names]
    grids = tuple(np.asarray(g, dtype=np.float64) for g in cfg.grids)
    action = {
        "kind": "catalogue",
        "products": products,
        "grids": [g.tolist() for g in grids],
        "mapping": "prices[j] = grids[j][argmax of product j's logits]",
    }
    bounds = [float(min(g.min() for g in grids)), float(max(g.max() for g in grids))]
    market = {
        "id": env_id,
        "config": jsonable(dataclasses.asdict(cfg), strict=True),  # unlimited stock: null
        "products": products,
    }
    facts = {"market": market}
    low = np.asarray(base.observation_space.low, dtype=np.float64)
    high = np.asarray(base.observation_space.high, dtype=np.float64)
    observation = _observation_doc(names, low, high, None)
    k = len(products)
    for i, name in enumerate(names):
        observation["meaning"][name], observation["scaling"][name] = _CATALOGUE_MEANING[
            0 if i == 0 else 1 + (i - 1) // k
        ]
    extra = {"scores": jsonable(dict(scores), fallback=str) if scores is not None else None}
    if getattr(agent, "kind", None) != "sb3":
        state, arrays = agent._get_state()
        card = _card(
            "params",
            agent,
            facts,
            observation=observation,
            action=action,
            price_bounds=bounds,
            state=jsonable(state, fallback=str),
            arrays={k: np.asarray(v).tolist() for k, v in arrays.items()},
            inputs=None,
            **extra,
        )
        return card, None
    from pricegym.experiments.export import _norm_doc

    if agent.model_ is None:
        raise NotFittedError(
            f"agent {agent.name!r} ({agent.algo}) has no trained model; train or load it."
        )
    blob = _onnx_bytes(_catalogue_module(agent, grids), len(names), opset)
    card = _card(
        "onnx_catalogue",
        agent,
        facts,
        algo=agent.algo,
        masked=False,
        observation={**observation, "normalization": _norm_doc(agent)},
        action=action,
        price_bounds=bounds,
        onnx={
            "file": "policy.onnx",
            "sha256": hashlib.sha256(blob).hexdigest(),
            "opset": opset,
            "input": {"name": "observation", "dtype": "float32", "shape": ["B", len(names)]},
            "output": {"name": "price", "dtype": "float64", "shape": ["B", len(products)]},
        },
        inputs=None,
        **extra,
    )
    return card, blob
