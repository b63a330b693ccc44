"""Export trained pricing policies for serving without the training stack.

:func:`export_policy` writes a folder that :func:`pricegym.runtime.load_policy`
serves with numpy and onnxruntime only:

- **stable-baselines3 policies** (PPO, A2C, DQN, SAC, TD3; MaskablePPO is exported
  *without* its action mask — the mask rule needs the market, so the exported
  policy may pick a price the mask would have forbidden): ``policy.onnx`` and the
  policy card ``policy.json``. The ONNX graph takes the raw observation (float32,
  shape (B, d), dynamic B) and returns the price (float64, (B,)):

  1. VecNormalize, when the agent has statistics:
     ``clip((obs − mean)/sqrt(var + ε), −clip_obs, clip_obs)`` in float64, as
     ``VecNormalize.normalize_obs`` computes it, then float32 for the network;
  2. the policy's deterministic action: ``argmax`` of the logits (PPO/A2C on a
     grid) or Q-values (DQN); the Gaussian mean (PPO/A2C continuous), ``tanh`` of
     the actor's mean (SAC) or the actor's output (TD3), clipped or unscaled to the
     action space as ``predict`` does;
  3. the market's action-to-price mapping (:meth:`MarketConfig.action_to_price`):
     ``grid[index]`` for a grid, ``p_min + (clip(a, −1, 1) + 1)/2·(p_max − p_min)``
     in float64 for a continuous range.

- **the DP optimum**: ``policy.json`` of kind ``dp_table`` with the optimal price
  per (period, stock), which the runtime looks up; it prices every (period, stock)
  state exactly as :class:`~pricegym.agents.dp.DPAgent` does. A run's DP optimum is
  not trained: :func:`export_run_policy` solves it in the chosen market.
- **rule-based, bandit and Q-learning agents**: ``policy.json`` of kind ``params``
  (the agent's kind, parameters and learned state as JSON; Q-learning adds its
  greedy strategy table, one grid index per state). The runtime does not execute
  these; pricegym rebuilds them.

:func:`export_run_policy` (``pricegym export RUN_DIR``) exports a run's policy of
one agent in one market: with several markets ``market`` is required, an unknown
market, seed or agent is refused with the run's list, and a refused export writes
nothing (no empty folder).

The card records the observation spec (names in order, meaning, scaling, ranges),
the seller-input constants (``inputs``: horizon, calendar, ``sales_scale``, the
season clock, ...; :mod:`pricegym.seller_inputs`) for ``pricegym price --date``,
the action-to-price mapping, price bounds, the market, package versions, the
sha256 of ``policy.onnx`` and evaluation scores when given.

Module-level imports are light (standard library and numpy): torch and
stable-baselines3 load only when an SB3 policy is exported, so the CLI parser
costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
import warnings
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from pricegym._json import jsonable
from pricegym.demand.io import atomic_write_bytes
from pricegym.errors import ConfigError, ModelFileError, NotFittedError, PricegymError
from pricegym.experiments.rundir import RunContext, needs_training, plan_cells
from pricegym.experiments.schema import load_experiment
from pricegym.runtime import CARD_FORMAT, CARD_VERSION
from pricegym.seller_inputs import inputs_block

# The agents (gymnasium) are imported where a trained agent is loaded or bound to a
# market: writing and checking a policy card needs numpy only.

__all__ = [
    "DEFAULT_OPSET",
    "FEATURE_MEANING",
    "export_policy",
    "export_run_policy",
]

#: ONNX opset of exported graphs (supported by onnxruntime ≥ 1.14).
DEFAULT_OPSET = 17
#: The graph's file name in an export folder (the card names it and its sha256).
_ONNX_FILE = "policy.onnx"

#: What each market observation means and how it is scaled (the PricingEnv table).
FEATURE_MEANING: dict[str, tuple[str, str]] = {
    "time_remaining": ("share of the season left", "(T - k)/T, k = periods played"),
    "inventory_fraction": (
        "stock left as a share of the initial stock",
        "stock / initial stock (1 when stock is unlimited)",
    ),
    "own_last_price": ("the seller's price last period", "price / p_max"),
    "last_sales": ("units sold last period", "min(sales / sales_scale, 10)"),
    "season_sin": ("season phase (sine)", "sin(2*pi*t / season_period)"),
    "season_cos": ("season phase (cosine)", "cos(2*pi*t / season_period)"),
}


def _meaning(name: str) -> tuple[str, str]:
    if name in FEATURE_MEANING:
        return FEATURE_MEANING[name]
    if name.startswith("competitor_price:"):
        col = name.split(":", 1)[1]
        return (f"competitor {col!r}'s price last period", "min(price / p_max, 10)")
    return ("", "")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in (
        "pricegym",
        "numpy",
        "torch",
        "stable_baselines3",
        "sb3_contrib",
        "onnx",
        "onnxruntime",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


# ==================================================================== market facts
def _market_facts(agent: Any, market: Any) -> dict[str, Any]:
    """Observation names, price mapping and market id from ``market`` or the bound agent."""
    env = None
    env_id: str | None
    if isinstance(market, str):
        import gymnasium as gym

        try:
            env = gym.make(market)
        except (gym.error.Error, PricegymError, TypeError) as exc:
            raise ConfigError(
                f"market={market!r} cannot be built ({type(exc).__name__}: {exc}); pass a "
                "registered id such as 'pricegym/Markdown-v0' or the env itself."
            ) from None
        env_id = market
    elif market is not None:
        env = market
        spec = getattr(market, "spec", None)
        env_id = getattr(spec, "id", None)
    if env is not None:
        from pricegym.agents.view import MarketView

        view = MarketView.from_env(env)
        codec, names = view.codec, tuple(view.names)
        base = getattr(env, "unwrapped", env)
        config = getattr(base, "config", None)
    else:
        bound = getattr(agent, "codec", None)
        if bound is None:
            raise ConfigError(
                f"agent {getattr(agent, 'name', agent)!r} is not bound to a market and no "
                "market= was given; pass market='pricegym/Markdown-v0' (the id, with its "
                "settings, it was trained in) or the env itself."
            )
        codec = bound
        names = tuple(sorted(agent.obs_index, key=agent.obs_index.get))
        env_id, config = None, None
    facts: dict[str, Any] = {"codec": codec, "names": names, "env": env}
    market_doc: dict[str, Any] = {"id": env_id}
    if config is not None:
        import dataclasses

        with contextlib.suppress(TypeError):
            market_doc["config"] = json.loads(
                json.dumps(jsonable(dataclasses.asdict(config), fallback=str))
            )
    facts["market"] = market_doc
    return facts


def _catalogue_market(agent: Any, market: Any) -> tuple[Any, str | None] | None:
    """(env, id) when the export is of a catalogue market, else None."""
    from pricegym.experiments.catalogue import is_catalogue

    if market is None:
        if type(getattr(agent, "market", None)).__name__ == "CatalogueView":
            raise ConfigError(
                f"agent {getattr(agent, 'name', agent)!r} prices a catalogue; pass market= (the "
                "catalogue id, with its settings, it was trained in, or the env itself)."
            )
        return None
    if isinstance(market, str):
        import gymnasium as gym

        import pricegym  # noqa: F401  (registers the ids)
        from pricegym.envs.multiproduct_registration import CATALOGUE_ENV_IDS

        return (gym.make(market), market) if market in CATALOGUE_ENV_IDS else None
    if is_catalogue(market):
        return market, getattr(getattr(market, "spec", None), "id", None)
    return None


def _action_doc(codec: Any) -> tuple[dict[str, Any], list[float]]:
    if codec.grid is not None:
        grid = np.asarray(codec.grid, dtype=np.float64)
        doc = {
            "kind": "grid",
            "prices": grid.tolist(),
            "mapping": "price = prices[argmax]",
        }
        return doc, [float(grid.min()), float(grid.max())]
    doc = {
        "kind": "continuous",
        "p_min": float(codec.p_min),
        "p_max": float(codec.p_max),
        "mapping": "price = p_min + (clip(a, -1, 1) + 1)/2 * (p_max - p_min)",
    }
    return doc, [float(codec.p_min), float(codec.p_max)]


def _observation_doc(
    names: tuple[str, ...], low: np.ndarray, high: np.ndarray, norm: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "names": list(names),
        "order": "prices(array) takes columns in this order",
        "low": [float(v) for v in low],
        "high": [float(v) for v in high],
        "meaning": {n: _meaning(n)[0] for n in names},
        "scaling": {n: _meaning(n)[1] for n in names},
        "normalization": norm,
    }


# ==================================================================== SB3 → ONNX
def _sb3_module(agent: Any, codec: Any) -> Any:
    """A torch module: raw observation (B, d) float32 → price (B,) float64."""
    import torch
    from gymnasium import spaces

    model = agent.model_
    policy = model.policy
    algo = agent.algo
    norm = agent.normalizer_
    discrete = isinstance(model.action_space, spaces.Discrete)
    if discrete != (codec.grid is not None):
        raise ConfigError(
            f"the {algo} agent acts on a {'discrete' if discrete else 'continuous'} action "
            f"space but the market's is {'a grid' if codec.grid is not None else 'continuous'}; "
            "pass the market it was trained in."
        )
    if discrete and int(model.action_space.n) != len(codec.grid):
        raise ConfigError(
            f"the {algo} agent chooses among {model.action_space.n} prices, the market's grid "
            f"has {len(codec.grid)}; pass the market it was trained in."
        )

    class Exported(torch.nn.Module):
        # buffers (register_buffer), declared: Module.__getattr__ is typed Tensor | Module
        mean: torch.Tensor
        std: torch.Tensor
        grid: torch.Tensor
        act_low: torch.Tensor
        act_high: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            use_norm = norm is not None and bool(norm.norm_obs)
            self.use_norm = use_norm
            if use_norm:
                mean = np.asarray(norm.obs_rms.mean, dtype=np.float64)
                std = np.sqrt(np.asarray(norm.obs_rms.var, dtype=np.float64) + norm.epsilon)
                self.register_buffer("mean", torch.from_numpy(mean))
                self.register_buffer("std", torch.from_numpy(std))
                self.clip_obs = float(norm.clip_obs)
            if discrete:
                grid = np.asarray(codec.grid, dtype=np.float64)
                self.register_buffer("grid", torch.from_numpy(grid))
            else:
                low = np.asarray(model.action_space.low, dtype=np.float32)
                high = np.asarray(model.action_space.high, dtype=np.float32)
                self.register_buffer("act_low", torch.from_numpy(low))
                self.register_buffer("act_high", torch.from_numpy(high))
                self.p_min, self.p_max = float(codec.p_min), float(codec.p_max)

        def _action_value(self, obs: Any) -> Any:
            pol = self.policy
            if algo == "dqn":
                return pol.q_net(obs)
            if algo in ("sac",):
                mean, _log_std, _kw = pol.actor.get_action_dist_params(obs)
                return torch.tanh(mean)
            if algo == "td3":
                return pol.actor(obs)
            features = pol.extract_features(obs, pol.pi_features_extractor)
            latent = pol.mlp_extractor.forward_actor(features)
            mean = pol.action_net(latent)
            if not discrete and getattr(pol, "squash_output", False):
                mean = torch.tanh(mean)
            return mean

        def forward(self, obs: Any) -> Any:
            x = obs
            if self.use_norm:
                x = (x.to(torch.float64) - self.mean) / self.std
                x = torch.clamp(x, -self.clip_obs, self.clip_obs)
            x = x.to(torch.float32)
            out = self._action_value(x)
            if discrete:
                return self.grid[torch.argmax(out, dim=1)]
            if getattr(self.policy, "squash_output", False):
                # BasePolicy.unscale_action, as predict applies it
                a = self.act_low + 0.5 * (out + 1.0) * (self.act_high - self.act_low)
            else:
                a = torch.maximum(torch.minimum(out, self.act_high), self.act_low)
            a = torch.clamp(a[:, 0].to(torch.float64), -1.0, 1.0)
            return self.p_min + 0.5 * (a + 1.0) * (self.p_max - self.p_min)

    module = Exported()
    module.eval()
    return module


def _onnx_bytes(module: Any, dim: int, opset: int) -> bytes:
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(2, dim, dtype=torch.float32),),
            # Ignored: torch types f as a path, but the TorchScript exporter
            # (dynamo=False) writes to a file object too (tests/test_export.py).
            buf,  # type: ignore[arg-type]
            dynamo=False,
            opset_version=opset,
            input_names=["observation"],
            output_names=["price"],
            dynamic_axes={"observation": {0: "batch"}, "price": {0: "batch"}},
        )
    return buf.getvalue()


def _norm_doc(agent: Any) -> dict[str, Any] | None:
    norm = agent.normalizer_
    if norm is None or not norm.norm_obs:
        return None
    return {
        "baked_into_graph": True,
        "formula": "clip((obs - mean) / sqrt(var + epsilon), -clip_obs, clip_obs)",
        "mean": np.asarray(norm.obs_rms.mean, dtype=np.float64).tolist(),
        "var": np.asarray(norm.obs_rms.var, dtype=np.float64).tolist(),
        "epsilon": float(norm.epsilon),
        "clip_obs": float(norm.clip_obs),
    }


# ==================================================================== public
def _load_agent(agent_or_path: Any) -> Any:
    if isinstance(agent_or_path, (str, Path)):
        from pricegym.agents.base import PricingAgent

        path = Path(agent_or_path)
        if not path.with_suffix(".json").is_file():
            raise ModelFileError(
                f"{str(path)!r}: no saved agent (.json) there; pass the path given to "
                "agent.save(...) or a file under a run's policies/."
            )
        return PricingAgent.load(path.with_suffix(".json"))
    return agent_or_path


def _card(kind: str, agent: Any, facts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "kind": kind,
        "agent": {
            "kind": agent.kind,
            "name": agent.name,
            "params": jsonable(agent.params, fallback=str),
        },
        "market": facts["market"],
        **extra,
        "versions": _versions(),
    }


def _json_text(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, allow_nan=False) + "\n"


def export_policy(
    agent_or_path: Any,
    out_dir: str | Path,
    *,
    market: Any = None,
    scores: Mapping[str, Any] | None = None,
    opset: int = DEFAULT_OPSET,
    season_end: str | int | None = None,
) -> Path:
    """Export an agent (or a saved agent's path) to ``out_dir``; returns the card's path.

    Everything is checked and built before ``out_dir`` is created: a refused export
    leaves no folder behind, and a written one is complete (``policy.onnx`` first,
    then the card that names its sha256).

    Args:
        agent_or_path: a trained :class:`~pricegym.agents.sb3.SB3Agent`, a
            ``DPAgent``, a rule/bandit/Q-learning agent, or the path of one saved
            with ``agent.save``.
        out_dir: the folder to write ``policy.json`` (+ ``policy.onnx``) into.
        market: the market the agent was trained in — a registered id (with the
            same settings) or the env; optional when the agent is bound to it.
            It gives the observation names and the price grid or range.
        scores: evaluation scores to record in the card (e.g. the agent's row of a
            run's summary.csv: mean profit and its CI).
        opset: the ONNX opset of the graph.
        season_end: the deployed season's last day (ISO date), stored in the card's
            ``inputs`` block for ``pricegym price --date``; ``None``: the rolling
            horizon (see :mod:`pricegym.seller_inputs`).

    Raises:
        ConfigError: no market known, or one that does not match the agent.
        NotFittedError: an SB3 or DP agent that was never trained / solved.
        ModelFileError: a path that holds no saved agent.
    """
    agent = _load_agent(agent_or_path)
    card, blob = _export_documents(agent, market, scores, opset, season_end)
    return _write_export(Path(out_dir), card, blob)


def _inputs_doc(env: Any, season_end: str | int | None) -> dict[str, Any] | None:
    """The card's seller-input constants (``None`` for a market that has none)."""
    base = getattr(env, "unwrapped", env)
    if env is None or not callable(getattr(base, "observation_constants", None)):
        if season_end is not None:
            raise ConfigError(
                f"--season-end {season_end!r}: the policy's market "
                f"({type(base).__name__}) is not a single-seller pricing market, so the card "
                "cannot store seller-input constants; leave --season-end out."
            )
        return None
    try:
        return inputs_block(env, season_end)
    except PricegymError as exc:
        raise ConfigError(str(exc)) from None


def _export_documents(
    agent: Any,
    market: Any,
    scores: Mapping[str, Any] | None,
    opset: int,
    season_end: str | int | None = None,
) -> tuple[dict[str, Any], bytes | None]:
    """The policy card and, for SB3 agents, the ONNX bytes (nothing is written)."""
    kind = getattr(agent, "kind", None)
    catalogue = _catalogue_market(agent, market)
    if catalogue is not None:  # a price per product: experiments/catalogue_export.py
        from pricegym.experiments.catalogue_export import catalogue_export_documents

        if season_end is not None:
            raise ConfigError(
                f"--season-end {season_end!r}: a catalogue policy's card stores no seller-input "
                "constants; leave --season-end out."
            )
        return catalogue_export_documents(agent, *catalogue, scores, opset)
    facts = _market_facts(agent, market)
    if facts["env"] is not None and getattr(agent, "codec", None) is None:
        agent.bind(facts["env"])
    action_doc, bounds = _action_doc(facts["codec"])
    extra: dict[str, Any] = {
        "inputs": _inputs_doc(facts["env"], season_end),
        "scores": jsonable(dict(scores), fallback=str) if scores is not None else None,
    }
    blob: bytes | None = None
    if kind == "sb3":
        if agent.model_ is None:
            raise NotFittedError(
                f"agent {agent.name!r} ({agent.algo}) has no trained model; train or load it."
            )
        model = agent.model_
        low = np.asarray(model.observation_space.low, dtype=np.float64)
        high = np.asarray(model.observation_space.high, dtype=np.float64)
        if len(facts["names"]) != low.shape[0]:
            raise ConfigError(
                f"the market has {len(facts['names'])} observation entries, the agent takes "
                f"{low.shape[0]}; pass the market it was trained in."
            )
        blob = _onnx_bytes(_sb3_module(agent, facts["codec"]), low.shape[0], opset)
        card = _card(
            "onnx",
            agent,
            facts,
            algo=agent.algo,
            masked=agent.algo == "maskable_ppo",
            observation=_observation_doc(facts["names"], low, high, _norm_doc(agent)),
            action=action_doc,
            price_bounds=bounds,
            onnx={
                "file": _ONNX_FILE,
                "sha256": hashlib.sha256(blob).hexdigest(),
                "opset": opset,
                "input": {"name": "observation", "dtype": "float32", "shape": ["B", len(low)]},
                "output": {"name": "price", "dtype": "float64", "shape": ["B"]},
            },
            **extra,
        )
    elif kind == "dp":
        sol = agent.solution_
        if sol is None:
            raise NotFittedError(
                f"DP agent {agent.name!r} has no solution; bind it to its market (which "
                "solves it) or pass market=."
            )
        names = facts["names"]
        env = facts["env"]
        space = getattr(env, "observation_space", None)
        low, high = _obs_range(space, len(names))
        table = {
            "indexing": "price[k][x]: k = round(T*(1 - time_remaining)) clipped to [0, T-1], "
            "x = round(inventory_fraction * inventory_scale) clipped to [0, X]",
            "price": np.asarray(sol.price, dtype=np.float64).tolist(),
            "inventory": sol.inventory,
            "inventory_scale": float(sol.inventory_scale),
            "expected_value": float(sol.expected_value),
        }
        card = _card(
            "dp_table",
            agent,
            facts,
            observation=_observation_doc(names, low, high, None),
            action=action_doc,
            price_bounds=bounds,
            table=table,
            **extra,
        )
    else:
        state, arrays = agent._get_state()
        learned = {k: np.asarray(v).tolist() for k, v in arrays.items()}
        if kind == "qlearning" and getattr(agent, "q_", None) is not None:
            learned["strategy"] = np.asarray(agent.strategy).tolist()
        names = facts["names"]
        low, high = _obs_range(getattr(facts["env"], "observation_space", None), len(names))
        card = _card(
            "params",
            agent,
            facts,
            observation=_observation_doc(names, low, high, None),
            action=action_doc,
            price_bounds=bounds,
            state=jsonable(state, fallback=str),
            arrays=learned,
            **extra,
        )
    return card, blob


def _write_export(out: Path, card: Mapping[str, Any], blob: bytes | None) -> Path:
    """Write the ONNX graph (if any), then the card; the folder is made only now."""
    text = _json_text(card)  # a card that cannot be written fails before any file is
    out.mkdir(parents=True, exist_ok=True)
    if blob is not None:
        atomic_write_bytes(out / _ONNX_FILE, blob)
    card_path = out / "policy.json"
    atomic_write_bytes(card_path, text.encode("utf-8"))
    return card_path


def _obs_range(space: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    if space is not None and getattr(space, "low", None) is not None:
        return np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    return np.full(d, -np.finfo(np.float64).max), np.full(d, np.finfo(np.float64).max)


def _summary_scores(run_dir: Path, agent: str, mode: str, arena: str) -> dict[str, Any] | None:
    """The agent's row of the run's league table (summary.csv) for ``mode`` in ``arena``."""
    import csv

    path = run_dir / "summary.csv"
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if r.get("agent") == agent and r.get("mode") == mode and r.get("market") == arena
        ]
    if not rows:
        return None

    def value(text: str) -> Any:
        if text == "":
            return None  # e.g. no CI from a single episode
        try:
            number = float(text)
        except ValueError:
            return text
        return number if np.isfinite(number) else None

    return {"source": "summary.csv", "rows": [{k: value(v) for k, v in r.items()} for r in rows]}


def _pick_market(run: Path, name: str, arenas: list[str], market: str | None) -> str:
    """The one arena of ``arenas`` that ``market`` names (a base market or an arena label)."""
    if market is None:
        if len(arenas) == 1:
            return arenas[0]
        raise ConfigError(
            f"{run}: agent {name!r} has a policy in each of the markets {arenas}; which one to "
            f"export is ambiguous: pass --market with one of them (e.g. --market {arenas[0]!r})."
        )
    if market in arenas:
        return market
    chosen = [a for a in arenas if a.split(" vs ", 1)[0] == market]
    if len(chosen) == 1:
        return chosen[0]
    if chosen:
        raise ConfigError(
            f"{run}: agent {name!r} was trained in market {market!r} once per rival: {chosen}; "
            f"pass --market with one of them (e.g. --market {chosen[0]!r})."
        )
    raise ConfigError(
        f"{run}: market={market!r} is not a market of agent {name!r} in this run (its markets: "
        f"{arenas}); pass --market with one of them."
    )


def _pick_seed(run: Path, name: str, seeds: list[int], seed: int | None) -> int:
    """``seed`` if the run has it, else the first of ``seeds``."""
    if seed is None:
        return seeds[0]
    if seed not in seeds:
        raise ConfigError(
            f"{run}: seed={seed} is not a replicate of agent {name!r} there (its seeds: "
            f"{seeds}); pass --seed with one of them, or leave it out for the first."
        )
    return seed


def export_run_policy(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    agent: str | None = None,
    market: str | None = None,
    seed: int | None = None,
    season_end: str | int | None = None,
) -> Path:
    """Export a policy of an experiment run (``pricegym run``); returns the card's path.

    The run's config rebuilds the market the policy was trained in, and the agent's
    row of ``summary.csv`` for that market (mean profit and its CI) becomes the
    card's scores; the card's ``market`` records the run, the market and the seed.

    - ``agent`` names the experiment's agent: required unless one agent was trained.
      An agent the run trained exports the policy it saved; one it did not train and
      that does not learn (the DP optimum, rule-based agents) is rebuilt from the
      config and bound to the market — the DP optimum's (period, stock) price table
      is solved there and exported as a ``dp_table`` card.
    - ``market`` names one of the run's markets (``market_names()`` of its config,
      e.g. ``fish/iv``), or ``"MARKET vs RIVAL"`` for a policy trained against a
      rival; required when the agent has a policy in several.
    - ``seed``: the replicate (default: the first).
    - ``season_end``: the deployed season's last day, stored in the card's
      ``inputs`` block (default: the rolling horizon; :mod:`pricegym.seller_inputs`).

    Nothing is written when anything is refused.

    Raises:
        ConfigError: not a run directory; an unknown agent, market or seed (the
            message lists the run's); several markets and no ``market``; an agent
            that learns online but was not trained (no saved policy to export).
    """
    # The runner's context rebuilds markets exactly as training did; it is internal to
    # pricegym.experiments, so this module is its one other user.
    from pricegym.agents.base import PricingAgent, agent_kinds

    run = Path(run_dir)
    config_path = run / "config.yaml"
    if not config_path.is_file():
        raise ConfigError(
            f"{run} has no config.yaml: not a run directory; pass the folder `pricegym run` "
            "wrote, or a saved agent's .json with --market."
        )
    config = load_experiment(config_path)
    ctx = RunContext(config, run)
    cells = [c for c in plan_cells(config).get("train", []) if ctx.policy_path(c).is_file()]
    trained = sorted({c.agents[0] for c in cells})
    names = [a.name for a in config.agents]
    if agent is None:
        if len(trained) != 1:
            raise ConfigError(
                f"{run}: pass --agent with one of the run's agents {names} (trained ones: "
                f"{trained})."
            )
        agent = trained[0]
    if agent not in names:
        raise ConfigError(
            f"{run}: no agent {agent!r} in this run (its agents: {names}; trained agents: "
            f"{trained}); pass --agent with one of them."
        )
    spec = config.agent(agent)
    if needs_training(spec):
        own = [c for c in cells if c.agents[0] == agent]
        if not own:
            raise ConfigError(
                f"{run}: no trained policy of agent={agent!r} (trained agents: {trained}): "
                "its training has not run; finish the run (`pricegym run` resumes it)."
            )
        arenas = list(dict.fromkeys(c.arena for c in own))
        arena = _pick_market(run, agent, arenas, market)
        at = [c for c in own if c.arena == arena]
        chosen_seed = _pick_seed(run, agent, [c.seed for c in at], seed)
        cell = next(c for c in at if c.seed == chosen_seed)
        mode, base, rival, trained_here = cell.mode, cell.market, cell.rival, True
        loaded = PricingAgent.load(ctx.policy_path(cell))
        loaded.name = spec.name
    else:
        cls = agent_kinds().get(spec.kind)
        if spec.policy is None and cls is not None and cls.learns:
            raise ConfigError(
                f"{run}: agent {agent!r} ({spec.kind}) learns while it plays, but the run "
                "did not train it, so no learned policy was saved; give it a train budget "
                f"in the config (e.g. train: {{episodes: 100}}) and run again (trained "
                f"agents: {trained})."
            )
        arena = _pick_market(run, agent, list(config.market.market_names()), market)
        chosen_seed = _pick_seed(run, agent, list(config.evaluation.seeds), seed)
        mode, base, rival, trained_here = "solo", arena, None, False
        loaded = ctx.new_agent(spec)
    env = ctx.env(base, rival)
    loaded.bind(env)
    card, blob = _export_documents(
        loaded, env, _summary_scores(run, agent, mode, arena), DEFAULT_OPSET, season_end
    )
    card["market"] = {
        **card["market"],
        "run_dir": str(run),
        "experiment": config.name,
        "market": base,
        "rival": rival,
        "seed": chosen_seed if trained_here else None,
        "trained_in_run": trained_here,
    }
    model = config.market.market_names().get(base)
    if model is not None:  # the fitted demand behind the market (an IV model says so)
        card["market"]["demand_model"] = jsonable(
            {"name": model.name, "family": model.family, "file": model.file}
            | ({"params": model.params} if model.family else {})
        )
    return _write_export(Path(out_dir), card, blob)
