"""``pricegym evaluate POLICY``: play a saved agent (or an agent kind) in a market
(``--market``), or estimate its value on the seller's logged sales (``--logged``,
:mod:`pricegym.cli._logged`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pricegym.errors import ConfigError


def _cmd_evaluate(args: argparse.Namespace) -> int:
    if getattr(args, "logged", None):
        from pricegym.cli._logged import run_logged_evaluation

        return run_logged_evaluation(args)
    if args.market is None:
        raise ConfigError(
            "evaluate needs a market: --market CONFIG_OR_NAME to simulate, or --logged FILE "
            "to estimate the policy's value from the seller's logged sales."
        )

    return cli_evaluate(args)


def configure_evaluate_parser(parser: Any) -> None:
    """Arguments of ``pricegym evaluate POLICY --market CONFIG_OR_NAME --episodes N --seed S``."""
    parser.add_argument(
        "policy",
        metavar="POLICY",
        help="a saved agent (.json written by agent.save) or an agent kind (e.g. fixed_price)",
    )
    parser.add_argument(
        "--market",
        metavar="CONFIG_OR_NAME",
        help="a registered env id, a bundled experiment name or an experiment YAML (its market; "
        "required unless --logged)",
    )
    parser.add_argument(
        "--episodes", type=int, default=10, metavar="N", help="episodes (default 10)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    parser.add_argument(
        "--rival",
        action="append",
        metavar="KIND",
        help="a rule-based rival's kind (repeatable; the other seats of an oligopoly)",
    )
    parser.add_argument(
        "--train-episodes",
        type=int,
        default=None,
        metavar="N",
        help="first train an online learner (a bandit) for N episodes (default: 20 for a new "
        "one given by its kind, 0 for a saved policy)",
    )
    parser.add_argument(
        "--learn-online",
        action="store_true",
        help="keep learning (and exploring) during the evaluation episodes; default: frozen, "
        "bandits play their greedy price",
    )
    parser.add_argument("--out", metavar="CSV", help="write the episode table to this CSV file")
    from pricegym.cli._logged import configure_logged_arguments

    configure_logged_arguments(parser)


# ==================================================================== CLI
def _policy(text: str) -> Any:
    from pricegym.agents.base import PricingAgent, agent_kinds, make_agent
    from pricegym.experiments.schema import _load_agent_kinds

    _load_agent_kinds()
    if Path(text).suffix == ".json" or Path(text).is_file():
        if not Path(text).is_file():
            raise ConfigError(
                f"POLICY {text!r} does not exist. Fix: pass a file written by agent.save."
            )
        return PricingAgent.load(text)
    if text in agent_kinds():
        return make_agent(text)
    raise ConfigError(
        f"POLICY {text!r} is neither a saved agent (.json) nor an agent kind "
        f"({sorted(agent_kinds())}). Fix: pass one of them."
    )


#: Training budget (episodes) of ``pricegym evaluate`` for a new online learner.
CLI_TRAIN_EPISODES = 20


def _cli_market(
    text: str, rivals: Sequence[Any]
) -> tuple[Any, Sequence[Any], str | None, dict[str, Any] | None]:
    """(what :func:`evaluate` gets, its rivals, the market's label, the single-seller
    benchmarks or None)."""
    from pricegym.experiments.evaluate import (
        _resolve_market,
        build_env,
        market_kernels,
        single_benchmarks,
    )

    spec, env = _resolve_market(text)
    if spec is not None and spec.is_oligopoly:
        return spec, rivals, None, None
    if spec is not None:
        kernel = next(iter(market_kernels(spec).values()))
        env = build_env(spec, kernel, rivals)
        label = next(iter(spec.market_names()))
    else:
        if rivals:
            raise ConfigError(
                f"--rival is for oligopolies and markets built from a description; {text!r} "
                "is a registered env with its own competitors. Fix: drop --rival."
            )
        label = getattr(getattr(env, "spec", None), "id", None) or text
    return env, (), label, single_benchmarks(env)


def cli_evaluate(args: Any) -> int:
    """``pricegym evaluate``: play a policy and print its per-episode results and their mean.

    POLICY given as an agent kind builds a new agent. A new online learner (a bandit)
    is trained first — ``--train-episodes`` episodes (default
    :data:`CLI_TRAIN_EPISODES`) on training seeds apart from the evaluation's — and
    then evaluated with learning frozen (greedy) unless ``--learn-online``; the output
    says which. A new agent that trains offline (SB3) is refused: it would play an
    untrained network. In a single-seller market where the DP optimum is defined, the
    mean profit is also given as a percentage of it.
    """
    import sys

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from pricegym.experiments.evaluate import evaluate, learns_online

    agent = _policy(args.policy)
    new = not (Path(args.policy).suffix == ".json" or Path(args.policy).is_file())
    train = args.train_episodes
    if train is None:
        train = CLI_TRAIN_EPISODES if new and learns_online(agent) else 0
    if new and getattr(agent, "learns", False) and not learns_online(agent):
        raise ConfigError(
            f"POLICY {args.policy!r} is a new agent that trains offline, so evaluating it would "
            "play an untrained network. Fix: train it with `pricegym run` (agents[i].train: "
            "{timesteps: N}) and pass the saved policy (.json under the run's policies/)."
        )
    rivals: Sequence[Any] = [_policy(kind) for kind in (args.rival or [])]
    market, rivals, label, bench = _cli_market(args.market, rivals)
    learn = bool(args.learn_online)
    table = evaluate(
        agent,
        market,
        args.episodes,
        args.seed,
        rivals=rivals,
        market_name=label,
        learn=learn,
        train_episodes=train,
    )
    if args.out:
        from pricegym.demand.io import atomic_write_bytes

        atomic_write_bytes(Path(args.out), table.to_csv(index=False).encode())
    console = Console(file=sys.stdout, highlight=False)
    label = table["market"].iloc[0]
    if train:
        what = "a new agent" if new else "loaded"
        periods = getattr(agent, "t_", None)  # updates so far: training (+ evaluation)
        if isinstance(periods, int) and learn:
            periods -= int(table["steps"].sum())
        said = f" ({periods:,} periods)" if new and isinstance(periods, int) else ""
        console.print(
            Text(
                f"{agent.name} ({what}): trained online for {train} episodes{said} of {label} "
                f"on training seeds derived from --seed {args.seed}, apart from the "
                "evaluation's (--train-episodes N to change)."
            ),
            soft_wrap=True,
        )
    if getattr(agent, "learns", False):
        how = (
            "learning online (update after every period, exploring)"
            if learn
            else "learning frozen (bandits play their greedy price; --learn-online to keep "
            "learning)"
        )
        console.print(Text(f"Evaluated with {how}."), soft_wrap=True)
    shown = Table(title=f"{agent.name} in {label} (seed {args.seed})")
    columns = ("episode", "profit", "revenue", "units", "avg_price", "sell_through", "steps")
    for col in columns:
        shown.add_column(col, justify="right")
    for _, r in table.iterrows():
        shown.add_row(*(Text(f"{r[c]:.6g}") for c in columns))
    console.print(shown)
    mean, sd = table["profit"].mean(), table["profit"].std(ddof=1) if len(table) > 1 else 0.0
    line = f"mean profit per episode {mean:.6g} (s.d. {sd:.4g}, {len(table)} episodes)"
    if bench is not None and bench.get("dp"):
        line += f"; {100 * mean / bench['dp']:.1f}% of the DP optimum ({bench['dp']:.6g})"
    console.print(Text(line), soft_wrap=True)
    return 0
