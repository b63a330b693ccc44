"""``pricegym price POLICY_DIR``: price observations (or the seller's own inputs) with an
exported policy.

It needs only numpy and onnxruntime: this module imports nothing but the standard
library, :mod:`pricegym.runtime` and :mod:`pricegym.seller_inputs` (checked by
``tests/test_runtime.py``), so an exported policy runs where torch, SB3 and
gymnasium are not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pricegym.errors import DataValidationError

if TYPE_CHECKING:
    from pricegym.runtime import Policy


# ==================================================================== CLI
def configure_price_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Arguments of ``pricegym price POLICY_DIR``: an observation, or a seller's inputs."""
    parser.add_argument("policy", help="folder written by `pricegym export` (or its policy.json)")
    parser.add_argument(
        "--obs",
        default=None,
        help="one observation as JSON, e.g. '{\"time_remaining\": 0.5, ...}'; without it (and "
        "without --date/--inputs), JSON lines of observations are read from stdin and one "
        "price is printed per line",
    )
    seller = parser.add_argument_group(
        "a seller's own inputs (the card's constants build the observation)"
    )
    seller.add_argument("--date", metavar="YYYY-MM-DD", help="the trading day to price")
    seller.add_argument(
        "--period", metavar="N", help="the model's period number, for a market without a calendar"
    )
    seller.add_argument("--stock", metavar="S", help="units on hand before the day's sales")
    seller.add_argument("--last-price", metavar="P", help="your price on the previous trading day")
    seller.add_argument("--last-units", metavar="U", help="units sold on the previous trading day")
    seller.add_argument(
        "--competitor",
        metavar="NAME=P",
        action="append",
        default=[],
        help="a competitor's price on the previous trading day, by the model's column name "
        "(repeatable)",
    )
    seller.add_argument(
        "--season-end",
        metavar="YYYY-MM-DD",
        default=None,
        help="the season's last trading day (default: the card's, else a rolling horizon: "
        "the policy is told a full season remains)",
    )
    seller.add_argument(
        "--inputs",
        metavar="FILE",
        default=None,
        help='JSON lines, one trading day each: {"date", "stock", "last_price", '
        '"last_units", "competitors": {NAME: P}, "season_end"}; one price per line',
    )
    seller.add_argument(
        "--json",
        action="store_true",
        help="with --date/--inputs: print one JSON object per day (date, price, the "
        "observation) instead of the price alone",
    )
    return parser


def _parse_obs(text: str, where: str) -> Mapping[str, Any]:
    from pricegym.runtime import ObservationError

    try:
        obs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ObservationError(f"{where}: {text!r} is not JSON ({exc}); pass an object.") from None
    if not isinstance(obs, dict):
        raise ObservationError(
            f"{where}: {text!r} is a JSON {type(obs).__name__}; pass an object of features."
        )
    return obs


_SELLER_FLAGS = ("date", "period", "stock", "last_price", "last_units", "season_end")


def _seller_records(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """The seller-input records of ``--date ...`` or ``--inputs FILE`` (None: neither)."""
    from pricegym.seller_inputs import InputError, parse_competitors, read_inputs_file

    flags = [f for f in _SELLER_FLAGS if getattr(args, f, None) is not None]
    if getattr(args, "competitor", None):
        flags.append("competitor")
    inputs = getattr(args, "inputs", None)
    if inputs is None and not flags:
        return None
    if args.obs is not None:
        raise InputError(
            "--obs and the seller's inputs (--date, --stock, ..., --inputs) both give what to "
            "price; give one of them."
        )
    if inputs is None:
        record = {f: getattr(args, f) for f in _SELLER_FLAGS if getattr(args, f) is not None}
        record["competitors"] = parse_competitors(args.competitor)
        return [record]
    extra = [f for f in flags if f != "season_end"]
    if extra:
        raise InputError(
            f"--inputs with --{extra[0].replace('_', '-')}: the file gives every day's inputs; "
            "only --season-end may be given with it (as the default of each line)."
        )
    records = read_inputs_file(inputs)
    for record in records:
        if args.season_end is not None:
            record.setdefault("season_end", args.season_end)
    return records


def _price_records(
    policy: Policy, records: list[dict[str, Any]], as_json: bool, source: Any = None
) -> list[str]:
    """One output line per record; all are priced before any is printed."""

    from pricegym.seller_inputs import InputError

    lines = []
    for record in records:
        line = record.pop("line", None)
        try:
            obs = policy.observation_from_inputs(**record)
            price = policy.price(obs)
        except DataValidationError as exc:
            if line is None:
                raise
            raise InputError(f"{source} line {line}: {exc} Nothing was printed.") from None
        if as_json:
            doc = {"date": record.get("date"), "price": price, "observation": obs}
            if line is not None:
                doc = {"line": line, **doc}
            if record.get("period") is not None:
                doc["period"] = record["period"]
            lines.append(json.dumps(doc, allow_nan=False))
        else:
            lines.append(f"{price:.12g}")  # 3.69, not the grid's float 3.6900000000000004
    return lines


def cli_price(args: argparse.Namespace, stdin: Any = None, stdout: Any = None) -> int:
    """Run ``pricegym price``: the price of ``--obs``, of the seller's inputs (``--date
    ...`` or ``--inputs FILE``), or one per stdin JSON line of observations.

    Seller inputs are all priced before anything is printed, so a bad line (named by
    its number) prints no prices. Errors (:class:`ObservationError`,
    :class:`PolicyFileError`, :class:`pricegym.seller_inputs.InputError`) propagate
    as ``pricegym.errors`` exceptions; the CLI turns them into exit code 2.
    """
    from pricegym.runtime import ObservationError, load_policy

    out = sys.stdout if stdout is None else stdout
    policy = load_policy(args.policy)
    records = _seller_records(args)
    if records is not None:
        as_json = bool(getattr(args, "json", False))
        lines = _price_records(policy, records, as_json, getattr(args, "inputs", None))
        out.write("".join(f"{line}\n" for line in lines))
        out.flush()
        return 0
    if args.obs is not None:
        out.write(f"{policy.price(_parse_obs(args.obs, '--obs'))!r}\n")
        return 0
    source = sys.stdin if stdin is None else stdin
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        where = f"stdin line {number}"
        try:
            price = policy.price(_parse_obs(line.strip(), where))
        except ObservationError as exc:
            if str(exc).startswith(where):
                raise
            raise ObservationError(f"{where}: {exc}") from None
        out.write(f"{price!r}\n")
    out.flush()
    return 0
