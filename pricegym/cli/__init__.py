"""The ``pricegym`` command line (also ``python -m pricegym``).

Commands
--------
``pricegym fit DATA | --dataset NAME [options]``
    Load a sales history (CSV/Parquet with mapped column names, or a bundled
    data set), fit one demand-model family (default ``linear``: the most
    predictable first fit) or, with ``--model auto``, compare all families on the
    same rolling-origin backtest and keep the best. Prints parameters with standard
    errors and 95% CIs, in-sample and backtest MAE/RMSE/WAPE/bias, the elasticity at
    the mean price with its CI, the price support and every note from loading.
    ``--json`` prints one JSON document instead; ``--out model.json`` saves the
    model (JSON + ``.npz``, no pickle).
``pricegym demand plot MODEL.json [--out FIG.png]``
    The fitted demand curve with its band over the data, and for time-series models
    or models with a backtest a second panel of the fit over time.
``pricegym demo [--dataset avocado]``
    Fit every family to a bundled data set and print the league table with a
    one-line verdict (a synthetic history when the ``datasets`` extra is missing).
``pricegym run [CONFIG|NAME] [--jobs N] [--force] [--out DIR] [--no-report]``
    Run (or resume) an experiment YAML or bundled name (default ``quickstart``):
    fit → train → evaluate → tournament → report; see :mod:`pricegym.experiments.runner`.
    Its ``--help`` says where the bundled YAML files are.
``pricegym init NAME [--from BUNDLED] [--dir DIR]``
    Write ``NAME.yaml``: a commented starter experiment, or a copy of a bundled one,
    to edit and run with ``pricegym run NAME.yaml``; never overwrites a file.
``pricegym evaluate POLICY --market CONFIG_OR_NAME [--episodes N] [--train-episodes N] ...``
    Play a saved agent (or an agent kind) in a market and print its results (and
    their % of the DP optimum where it is defined). A new bandit (an agent kind that
    learns online) is trained for ``--train-episodes`` (default 20) first, then plays
    its greedy price unless ``--learn-online``.
``pricegym evaluate POLICY --logged SALES.csv [--market M] [--grid LIST] [--json]``
    Off-policy estimates (DM, IPW, SNIPW, DR) of the policy's value on the seller's
    logged sales (:mod:`pricegym.cli._logged`).
``pricegym validate MODEL.json [DATA] | DATA --model F [--holdout 20%] [--json]``
    Score a fitted market on held-out history (:mod:`pricegym.cli.validate`).
``pricegym report RUN_DIR``
    Rebuild a run's figures and ``index.html`` from its saved results.
``pricegym export RUN_DIR|MODEL [--agent NAME] [--market M] [--seed S] --out DIR``
    Write an exported policy: ``policy.onnx`` + ``policy.json`` for SB3 agents, the
    DP optimum's price table, other agents' parameters. ``--market`` names the run's
    market (required when it has several) or, for a saved agent, its env id.
``pricegym price POLICY_DIR [--obs JSON]``
    Price one observation (or JSON lines from stdin) with an exported policy.

Exit codes: 0 success; 2 wrong input — any :class:`~pricegym.errors.PricegymError`,
a missing or unreadable file, or a usage error — reported as one ``error: ...``
paragraph on stderr without a traceback (``--debug`` adds it); 130 interrupted.

The package holds one module per command (``fit``, ``demand``, ``demo``, ``run``,
``init``, ``evaluate``, ``validate``, ``report``, ``export``, ``price``) with the
function that adds its arguments and the one that carries it out, listed in
:data:`COMMANDS`; a new command is a new module and a new :class:`Command` entry.
``_common`` holds what the commands share; ``_causal``, ``_catalogue`` and
``_logged`` the instrument, catalogue and logged-data parts of ``fit``, ``validate``
and ``evaluate``. Argparse lives here only: the library modules (runner, report,
export, evaluate, starter, runtime) hold no parser. The command modules import
nothing heavy at module level — the library is imported inside the functions that
run a command — so ``pricegym --help`` and ``--version`` answer at once and
``pricegym price`` runs with only numpy and onnxruntime.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pricegym
from pricegym.cli import demand, demo, evaluate, export, fit, init, price, report, run, validate
from pricegym.cli._common import EXIT_USAGE
from pricegym.cli.fit import fit_document
from pricegym.errors import PricegymError, PricegymWarning

__all__ = ["COMMANDS", "Command", "build_parser", "fit_document", "main"]


# ====================================================================== registry


@dataclass(frozen=True)
class Command:
    """One (sub)command of the ``pricegym`` program.

    Attributes:
        name: the word typed on the command line.
        help: one line shown in the parent's command list.
        configure: adds the command's arguments to its parser.
        run: carries out the command on the parsed arguments and returns the exit
            code; ``None`` for a group whose work is done by ``children``.
        children: sub-commands of a group (``pricegym demand plot``).
        description: longer text for the command's own ``--help`` (default ``help``).
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], object]  # what it returns is not used
    run: Callable[[argparse.Namespace], int] | None = None
    children: tuple[Command, ...] = ()
    description: str = ""


# ====================================================================== parser

#: The command tree of ``pricegym``; add a :class:`Command` here to add a command.
COMMANDS: tuple[Command, ...] = (
    Command(
        "fit",
        "fit a demand model to a sales history and report its diagnostics",
        fit._configure_fit,
        fit._cmd_fit,
        description="Fit a demand model (or compare all with --model auto) to a sales "
        "history and print parameters, forecast errors (in-sample and rolling-origin "
        "backtest), the elasticity at the mean price with its CI and the price support.",
    ),
    Command(
        "demand",
        "work with saved demand models",
        demand._configure_demand,
        children=(
            Command(
                "plot",
                "draw a saved model's demand curve, band, data and fit over time",
                demand._configure_demand_plot,
                demand._cmd_demand_plot,
            ),
        ),
    ),
    Command(
        "demo",
        "fit every model family to a bundled data set and print the league table",
        demo._configure_demo,
        demo._cmd_demo,
    ),
    Command(
        "run",
        "run an experiment: fit → train → evaluate → tournament → report",
        run._configure_run,
        run.cli_run,
        description="Run (or resume) an experiment YAML file or bundled name (default "
        "quickstart); writes the run directory and prints the league table.",
    ),
    Command(
        "init",
        "write NAME.yaml: a commented starter experiment (or a copy of a bundled one)",
        init.configure_init_parser,
        init.cli_init,
        description="Write NAME.yaml, a commented starter experiment (or with --from a "
        "copy of a bundled one), to edit and run with `pricegym run NAME.yaml`. An "
        "existing file is never overwritten.",
    ),
    Command(
        "evaluate",
        "evaluate a saved policy in a market and print its league-table row",
        evaluate.configure_evaluate_parser,
        evaluate._cmd_evaluate,
    ),
    Command(
        "validate",
        "score a fitted market against held-out history (coverage, PIT, CRPS, revenue)",
        validate.configure_validate_parser,
        validate.cli_validate,
        description="Refit a model (a saved MODEL.json's family, or --model) on the first "
        "periods of a history, replay the held-out periods' actual prices and context "
        "through its market, simulate many paths and score the real sales against them: "
        "coverage of 50/80/95%% intervals, PIT histogram, CRPS, revenue bias and a verdict.",
    ),
    Command(
        "report",
        "rebuild the figures and index.html of a run directory from its saved results",
        report.configure_report_parser,
        report.cli_report,
        description="Rebuild figures/*.png, report.json and index.html of RUN_DIR (written "
        "by `pricegym run`) from the saved results, without retraining.",
    ),
    Command(
        "export",
        "export a trained policy (ONNX + policy card, or a table / parameters as JSON)",
        export.configure_export_parser,
        export.cli_export,
    ),
    Command(
        "price",
        "price observations with an exported policy (no torch, SB3 or gymnasium needed)",
        price.configure_price_parser,
        price.cli_price,
    ),
)


def _add_commands(
    subparsers: Any,
    commands: Sequence[Command],
    common: argparse.ArgumentParser,
    only: str | None = None,
) -> None:
    for command in commands:
        parser = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            parents=[common],
        )
        if only is not None and command.name != only:
            continue  # listed in the parent's help, never run: its arguments are not needed
        command.configure(parser)
        if command.children:
            children = parser.add_subparsers(title="commands", metavar="COMMAND")
            _add_commands(children, command.children, common)
            parser.set_defaults(_run=None, _parser=parser)
        else:
            parser.set_defaults(_run=command.run, _parser=parser)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``pricegym`` program (see the module docstring).

    ``command`` (a top-level command's name) adds only that command's arguments; the
    others are listed in ``--help`` but not configured, so running one command never
    imports what another one's parser needs (``pricegym price`` must run where only
    numpy and onnxruntime are installed); ``""`` configures none (the command list
    alone). ``None``: every command is configured.
    """
    parser = argparse.ArgumentParser(
        prog="pricegym",
        description="pricegym: fit demand models to sales history and simulate pricing "
        "markets. Commands: fit, demand plot, demo, run, init, evaluate, validate, report, export, "
        "price.",
    )
    parser.add_argument("--version", action="version", version=f"pricegym {pricegym.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error as well"
    )
    # accepted after the command too; SUPPRESS keeps a value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_commands(subparsers, COMMANDS, common, only=command)
    parser.set_defaults(_run=None, _parser=parser)
    return parser


def _report_error(exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = "\n".join(line for line in str(exc).splitlines() if line.strip())
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """``warning: Category: text`` for pricegym's warnings (no file, line or source).

    A pricegym warning is a message to the user (an optimum at the grid's edge, a
    weak instrument), not a note to a programmer, so it reads like ``error: ...``;
    other categories keep Python's format. Only the text is changed: recorded
    warnings (``pytest.warns``, the commands' own collectors) are untouched.
    """
    if issubclass(category, PricegymWarning):
        text = "\n".join(part for part in str(message).splitlines() if part.strip())
        return f"warning: {category.__name__}: {text}\n"
    return _PYTHON_FORMATWARNING(message, category, filename, lineno, line)


_PYTHON_FORMATWARNING = warnings.formatwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pricegym`` program on ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Never raises for wrong input: usage errors, :class:`~pricegym.errors.PricegymError`
    and unreadable files return :data:`EXIT_USAGE` (2) after one ``error: ...``
    paragraph on stderr (plus the traceback with ``--debug``); ``--help`` and
    ``--version`` return 0. Bugs (any other exception) propagate with their traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    names = {c.name for c in COMMANDS}
    chosen = next((a for a in argv if not a.startswith("-")), None)
    # no command (or an unknown one): argparse answers from the command list alone
    parser = build_parser(chosen if chosen in names else "")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    debug = bool(getattr(args, "debug", False))
    if args._run is None:
        args._parser.print_help(sys.stderr)
        return EXIT_USAGE
    previous = warnings.formatwarning
    try:
        if not debug:  # --debug shows where a warning came from, as Python does
            warnings.formatwarning = _format_warning
        return int(args._run(args))
    except (PricegymError, OSError) as exc:
        return _report_error(exc, debug)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:  # main also runs inside other programs (the tests): leave no hook behind
        warnings.formatwarning = previous
