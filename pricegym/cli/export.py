"""``pricegym export RUN_DIR|MODEL --out DIR``: write an exported policy
(:mod:`pricegym.experiments.export`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pricegym.errors import ConfigError


# ==================================================================== CLI
def configure_export_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Arguments of ``pricegym export RUN_DIR|MODEL [--agent NAME] [--market M] --out DIR``."""
    parser.add_argument("source", help="a run directory, or a saved agent's .json")
    parser.add_argument(
        "--agent",
        default=None,
        help="in a run directory: the experiment's agent whose policy to export (required "
        "when several were trained); the DP optimum and rule agents are exported too",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="in a run directory: the replicate (default: first)"
    )
    parser.add_argument(
        "--market",
        default=None,
        help="in a run directory: the run's market whose policy to export, e.g. fish/iv "
        "(required when the run has several; 'MARKET vs RIVAL' for a policy trained against "
        "a rival); for a saved agent: the registered id of the market it was trained in",
    )
    parser.add_argument("--out", required=True, help="folder to write policy.json/.onnx into")
    parser.add_argument(
        "--season-end",
        metavar="YYYY-MM-DD",
        default=None,
        help="the deployed season's last trading day, stored in the card: `pricegym price "
        "--date D` then tells the policy the trading days left from D to it (default: a "
        "rolling horizon, the policy is told a full season remains every day)",
    )
    return parser


def cli_export(args: argparse.Namespace) -> int:
    """Run ``pricegym export``: print the card's path; errors raise ``pricegym.errors``."""
    from pricegym.experiments.export import _load_agent, export_policy, export_run_policy

    source = Path(args.source)
    if source.is_dir():
        card = export_run_policy(
            source,
            args.out,
            agent=args.agent,
            market=args.market,
            seed=args.seed,
            season_end=args.season_end,
        )
    else:
        agent = _load_agent(source)
        market = args.market if args.market is not None else getattr(agent, "env_id", None)
        if market is None:
            raise ConfigError(
                f"{source}: the market it was trained in is not recorded; pass --market ID "
                "(e.g. --market pricegym/Markdown-v0)."
            )
        card = export_policy(agent, args.out, market=market, season_end=args.season_end)
    print(card)
    return 0
