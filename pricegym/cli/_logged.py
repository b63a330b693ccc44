"""``pricegym evaluate POLICY --logged FILE``: a policy's value on the seller's logged sales.

The estimators are :func:`pricegym.experiments.offpolicy.evaluate_logged`'s; this
module turns a policy into one target price per logged period and prints the result.

**The policy's price for a logged period** ``i`` is what it would have charged that
morning, from what the seller knew: the period's date (or period number ``t`` for a
history without daily dates), the previous period's own price, units sold and
competitor prices, and the stock on hand (``--assume-stock S``, a constant stated in
the output; a sales file does not hold stock, so a policy trained with finite stock
needs it). These become the market observation with the policy's input constants
exactly as ``pricegym price`` builds it (:func:`pricegym.seller_inputs.build_observation`).
The first period has no previous one; a period whose inputs the policy never saw in
training (a price above its ``p_max``, a closed date, ...) cannot be priced either.
Both are dropped, counted and the reasons said.

POLICY is one of:

- an exported policy folder (``policy.json`` + ``policy.onnx`` / a DP table, written
  by ``pricegym export``), or its ``policy.json``: the card holds the input constants;
- a saved agent (``.json`` written by ``agent.save``) or an agent kind, with
  ``--market`` naming the market it was trained for (the constants come from that
  market, the agent is bound to it and acts on each period's observation);
- a number: a fixed price every period.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from pricegym.cli._common import _load_families
from pricegym.errors import ConfigError, PricegymError

__all__ = ["configure_logged_arguments", "logged_target_prices", "run_logged_evaluation"]


def configure_logged_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--logged`` options of ``pricegym evaluate`` (an argument group)."""
    from pricegym.experiments.offpolicy import DEFAULT_RESAMPLES, KERNELS

    group = parser.add_argument_group(
        "evaluation on logged sales (--logged FILE instead of simulating --market)"
    )
    group.add_argument(
        "--logged",
        metavar="FILE",
        help="the seller's sales history (.csv/.parquet): estimate POLICY's value from it "
        "(DM, IPW, SNIPW, DR) instead of simulating; POLICY may also be a number (a fixed "
        "price) or an exported policy folder",
    )
    group.add_argument("--price", metavar="COL", help="own price column (default: price)")
    group.add_argument("--units", metavar="COL", help="units column (default: units)")
    group.add_argument("--date", metavar="COL", help="date column (default: date)")
    group.add_argument("--period", metavar="COL", help="integer period column instead of dates")
    group.add_argument("--cost", metavar="COL", help="unit cost column (reward = profit)")
    group.add_argument(
        "--unit-cost", type=float, metavar="C", help="unit cost for every period (profit)"
    )
    group.add_argument(
        "--competitor", metavar="COL", action="append", help="a competitor price (repeatable)"
    )
    group.add_argument(
        "--promotion", metavar="COL", action="append", help="a promotion flag (repeatable)"
    )
    group.add_argument(
        "--reward-model",
        metavar="MODEL.json",
        help="a saved static demand model for DM and DR (default: fit --reward-family)",
    )
    group.add_argument(
        "--reward-family",
        default="poisson",
        metavar="F",
        help="family fitted to the logged file for DM and DR (default: poisson)",
    )
    group.add_argument(
        "--grid",
        metavar="LIST",
        help="the price grid the seller chose from, e.g. 2.99,3.49,3.99 (exact weights); "
        "'policy': the policy's market grid (default: continuous prices, a kernel)",
    )
    group.add_argument(
        "--kernel",
        default="gaussian",
        choices=sorted(KERNELS),
        help="kernel on the logged-vs-target price distance (default: gaussian)",
    )
    group.add_argument(
        "--bandwidth",
        type=float,
        metavar="H",
        help="kernel bandwidth in price units (default: Silverman's rule, stated)",
    )
    group.add_argument(
        "--assume-stock",
        type=float,
        metavar="S",
        help="stock on hand every period, for a policy trained with finite stock",
    )
    group.add_argument(
        "--resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples (default {DEFAULT_RESAMPLES})",
    )
    group.add_argument(
        "--level", type=float, default=0.95, metavar="L", help="CI level (default 0.95)"
    )
    group.add_argument("--json", action="store_true", help="print one JSON document instead")


# ==================================================================== policies
def _card_from_market(agent: Any, market: str) -> tuple[dict[str, Any], Any]:
    """(a card-like {inputs, observation} of ``market``'s env, the agent's price function)."""
    from pricegym.cli.evaluate import _cli_market
    from pricegym.envs.config import MarketConfig
    from pricegym.seller_inputs import inputs_block

    env, _, _, _ = _cli_market(market, [])
    base = getattr(env, "unwrapped", env)
    agent.bind(env)
    agent.reset(seed=0)
    grid = None if base.prices is None else np.asarray(base.prices, dtype=np.float64)
    card = {
        "inputs": inputs_block(env),
        "observation": {"names": list(base.observation_names)},
    }

    def price(observation: dict[str, float]) -> float:
        obs = np.array([observation[n] for n in card["observation"]["names"]], np.float32)
        action = agent.act(obs)
        return float(MarketConfig.action_to_price(action, grid, base.p_min, base.p_max).item())

    return card, price


def _is_card(path: Path) -> bool:
    """Whether ``path`` is an exported policy card (``policy.json``), not a saved agent."""
    from pricegym.runtime import CARD_FORMAT

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == CARD_FORMAT


def _resolve_policy(text: str, market: str | None) -> tuple[str, dict[str, Any] | None, Any]:
    """(description, card or None, price function or a fixed price)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value):
        if value <= 0:
            raise ConfigError(f"POLICY {text!r}: a fixed price is > 0.")
        return f"fixed price {value:g}", None, value
    path = Path(text)
    if path.is_file() and path.suffix == ".json" and _is_card(path):
        path = path.parent  # an exported policy's card: the folder holds the policy
    if path.is_dir():
        from pricegym.runtime import load_policy

        policy = load_policy(path)
        return f"exported policy {path} ({policy.card.get('kind')})", policy.card, policy.price
    if market is None:
        raise ConfigError(
            f"POLICY {text!r} is an agent: evaluating it on logged sales needs the market it "
            "was trained for, whose observation it reads. Fix: add --market CONFIG_OR_NAME, or "
            "pass an exported policy folder (`pricegym export`), or a fixed price."
        )
    from pricegym.cli.evaluate import _policy

    agent = _policy(text)
    card, price = _card_from_market(agent, market)
    return f"agent {agent.name} ({agent.kind}) bound to {market}", card, price


def logged_target_prices(
    card: dict[str, Any], price: Any, history: Any, stock: float | None = None
) -> tuple[np.ndarray, Counter[str]]:
    """The policy's price in each logged period (NaN where it cannot price), and why not.

    Row ``i`` is priced from row ``i − 1``'s own price, units and competitor prices
    and row ``i``'s date (or period ``t``); see the module docstring.
    """
    from pricegym.seller_inputs import build_observation

    frame = history.frame
    block = card["inputs"]
    names = list(block.get("competitors") or [])
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ConfigError(
            f"the policy reads competitor price(s) {missing}, which the logged file does not "
            f"map (it has {list(history.competitors)}). Fix: --competitor COL for each."
        )
    if block.get("inventory") is not None and stock is None:
        raise ConfigError(
            "the policy was trained with finite stock, and a sales file does not say the "
            "stock on hand each period. Fix: --assume-stock S (a constant, stated in the "
            "output), or a policy trained with unlimited stock (inventory: null)."
        )
    dated = block.get("calendar") is not None
    prices = np.full(len(frame), np.nan)
    why: Counter[str] = Counter()
    why["the first period (no previous period)"] += 1
    for i in range(1, len(frame)):
        prev, row = frame.iloc[i - 1], frame.iloc[i]
        when: dict[str, Any] = (
            {"date": str(np.datetime64(row["date"], "D"))} if dated else {"period": int(row["t"])}
        )
        try:
            obs = build_observation(
                card,
                stock=stock,
                last_price=float(prev["price"]),
                last_units=float(prev["units"]),
                competitors={n: float(prev[n]) for n in names},
                **when,
            )
            prices[i] = price(obs)
        except PricegymError as exc:
            why[str(exc).split(". Fix")[0][:160]] += 1
    return prices, why


# ==================================================================== the command
def _grid(text: str | None, card: dict[str, Any] | None) -> list[float] | None:
    if text is None:
        return None
    if text.strip() == "policy":
        grid = None if card is None else card["inputs"].get("prices")
        if not grid:
            raise ConfigError(
                "--grid policy: the policy has no price grid (continuous prices or a fixed "
                "price). Fix: --grid LIST, or leave --grid out (continuous prices)."
            )
        return [float(g) for g in grid]
    try:
        grid = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        grid = []
    if not grid or any(not (math.isfinite(g) and g > 0) for g in grid):
        raise ConfigError(f"--grid {text!r} is not a list of prices > 0; e.g. --grid 2.99,3.49.")
    return sorted(set(grid))


def _load(args: argparse.Namespace) -> Any:
    from pricegym.demand.data import load_history

    kwargs: dict[str, Any] = {
        "competitors": args.competitor or (),
        "promotions": args.promotion or (),
    }
    for key in ("price", "units", "date", "period", "cost"):
        if getattr(args, key, None):
            kwargs[key] = getattr(args, key)
    return load_history(args.logged, **kwargs)


def run_logged_evaluation(args: argparse.Namespace) -> int:
    """``pricegym evaluate POLICY --logged FILE``: print the off-policy estimates (exit 0)."""
    from pricegym.experiments.offpolicy import evaluate_logged

    history = _load(args)
    what, card, price = _resolve_policy(args.policy, getattr(args, "market", None))
    if card is None:
        target: Any = float(price)
        why: Counter[str] = Counter()
    else:
        target, why = logged_target_prices(card, price, history, args.assume_stock)
    reward_model = None
    if args.reward_model:
        from pricegym.demand.base import DemandModel

        _load_families()
        reward_model = DemandModel.load(args.reward_model)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listed in result.warnings and printed below
        result = evaluate_logged(
            target,
            history,
            reward_model=reward_model,
            family=args.reward_family,
            unit_cost=args.unit_cost,
            grid=_grid(args.grid, card),
            kernel=args.kernel,
            bandwidth=args.bandwidth,
            level=args.level,
            n_resamples=args.resamples,
            seed=args.seed,
        )
    document = {
        "policy": what,
        "logged": str(args.logged),
        "stock_assumed": args.assume_stock,
        "dropped_reasons": dict(why),
        **result.to_dict(),
    }
    if args.out:
        from pricegym.demand.io import atomic_write_bytes

        atomic_write_bytes(Path(args.out), result.table.to_csv(index=False).encode())
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return 0
    _print(document, result)
    return 0


def _print(document: dict[str, Any], result: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, highlight=False, width=120)
    say = lambda text: console.print(Text(text), soft_wrap=True)  # noqa: E731
    say(
        f"{document['policy']} on {document['logged']}: {result.n_rows} periods evaluated"
        + (f", {result.n_dropped} dropped" if result.n_dropped else "")
        + f"; reward = {result.reward}, mean per period."
    )
    for reason, count in document["dropped_reasons"].items():
        say(f"  dropped {count}: {reason}")
    if document["stock_assumed"] is not None:
        say(f"  stock on hand assumed {document['stock_assumed']:g} every period (--assume-stock)")
    say(f"Propensities: {result.propensity}.")
    if result.grid is not None:
        say(f"Price grid {result.grid}: exact indicator weights.")
    else:
        say(f"Kernel {result.kernel}, bandwidth {result.bandwidth:.4g} (price units).")
    table = Table(title=f"Value per period ({result.level:.0%} bootstrap CI)")
    for col in ("estimator", "value", "CI"):
        table.add_column(col, justify="right")
    for _, r in result.table.iterrows():
        table.add_row(
            Text(r["estimator"]),
            Text(f"{r['value']:.5g}"),
            Text(f"[{r['ci_low']:.5g}, {r['ci_high']:.5g}]"),
        )
    console.print(table)
    say(
        f"The seller's own pricing earned {result.logged_value:.5g} per period; effective "
        f"sample size of the weights {result.ess:.1f} of {result.n_rows} (warns below 30)."
    )
    for text in result.warnings:
        say(f"Warning: {text}")
