"""Reading a run directory for the report, and the tables its figures are drawn from.

Split out of :mod:`pricegym.experiments.report`, which re-exports every public name
here (import them from there). This is the part of a report that only reads what a
run saved (``resolved.json``, ``summary.csv``, ``episodes.csv``, ``head_to_head.csv``,
``cross_model.csv``, ``benchmarks.json``, SB3's logs) into :class:`RunData` and small
pandas tables; it draws nothing and builds no market, so it can be tested on its own.
Pandas and numpy are imported inside the functions, so importing it stays cheap.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.schema import load_experiment

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.schema import ExperimentConfig


#: The file every run directory has (:func:`load_run` refuses a directory without it).
_MARKER = "resolved.json"


# ==================================================================== loading
@dataclass
class RunData:
    """The saved results of a run directory (see :func:`load_run`).

    Attributes:
        path: the run directory.
        resolved: the resolved experiment (``resolved.json``).
        config: the experiment rebuilt from it, or ``None`` when it cannot be (then
            ``config_error`` says why, and figures that replay policies are skipped).
        summary: the league table (``summary.csv``).
        episodes: the tidy episode table (``episodes.csv``), if present.
        benchmarks: ``benchmarks.json`` (empty if absent).
        head_to_head, cross_model: those tables when the tournament modes ran.
        command, config_text: ``command.txt`` and ``config.yaml`` as text.
        versions: ``versions.json``.
        validation: ``validation.json`` (held-out validation of the fitted markets),
            ``None`` when the run has none.
    """

    path: Path
    resolved: dict[str, Any]
    config: ExperimentConfig | None
    summary: pd.DataFrame
    episodes: pd.DataFrame | None
    benchmarks: dict[str, Any]
    head_to_head: pd.DataFrame | None = None
    cross_model: pd.DataFrame | None = None
    command: str = ""
    config_text: str = ""
    versions: dict[str, Any] = field(default_factory=dict)
    config_error: str | None = None
    validation: dict[str, Any] | None = None


def _not_a_run(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{str(path)!r} is not a pricegym run directory: {why}. Fix: pass the directory that "
        "`pricegym run CONFIG --out DIR` wrote (by default runs/<experiment name>), e.g. "
        "`pricegym report runs/quickstart`."
    )


def load_run(run_dir: str | Path) -> RunData:
    """Read the saved results of ``run_dir``.

    Raises:
        ConfigError: ``run_dir`` is missing, not a directory, not a run directory (no
            ``resolved.json``), or a run that has not finished (no ``summary.csv``).
    """
    import pandas as pd

    path = Path(run_dir)
    if not path.exists():
        raise _not_a_run(path, "it does not exist")
    if not path.is_dir():
        raise _not_a_run(path, "it is a file, not a directory")
    marker = path / _MARKER
    if not marker.is_file():
        raise _not_a_run(path, f"it has no {_MARKER}")
    try:
        resolved = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise _not_a_run(path, f"its {_MARKER} cannot be read ({exc})") from None
    summary_path = path / "summary.csv"
    if not summary_path.is_file():
        raise ConfigError(
            f"run directory {str(path)!r} has no summary.csv: the run has not finished. Fix: run "
            f"`pricegym run CONFIG --out {path}` again to complete it (finished cells are "
            f"reused), then `pricegym report {path}`."
        )
    texts = {"opponent": str, "trained_in": str, "market": str, "agent": str, "mode": str}
    summary = pd.read_csv(summary_path, dtype={k: v for k, v in texts.items() if k != "opponent"})
    episodes_path = path / "episodes.csv"
    episodes = pd.read_csv(episodes_path, dtype=texts) if episodes_path.is_file() else None
    h2h = path / "head_to_head.csv"
    cross = path / "cross_model.csv"
    config, error = None, None
    try:
        config = load_experiment(resolved)
    except PricegymError as exc:
        error = str(exc)
    return RunData(
        path=path,
        resolved=resolved,
        config=config,
        summary=summary,
        episodes=episodes,
        benchmarks=_read_json(path / "benchmarks.json", {}),
        head_to_head=pd.read_csv(h2h, dtype=texts) if h2h.is_file() else None,
        cross_model=pd.read_csv(cross, dtype=texts) if cross.is_file() else None,
        command=_read_text(path / "command.txt").strip(),
        config_text=_read_text(path / "config.yaml"),
        versions=_read_json(path / "versions.json", {}),
        config_error=error,
        validation=_read_json(path / "validation.json", None),
    )


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return default


# ==================================================================== data behind the figures
def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def league_bars(summary: pd.DataFrame) -> pd.DataFrame:
    """The bars of the league-table figure: one row per summary row, in its order.

    Per (mode, market) panel the metric is ``pct_of_optimum`` (% of the DP optimum)
    when every row of the panel has it, else ``delta`` (collusion index) when every
    row has it, else ``mean`` (profit per episode); ``value``/``low``/``high`` are
    that column and its CI columns exactly as in summary.csv.

    Returns:
        Columns ``mode, market, agent, metric, value, low, high``.
    """
    import pandas as pd

    metrics = (
        ("pct_of_optimum", "pct_low", "pct_high"),
        ("delta", "delta_low", "delta_high"),
        ("mean", "mean_low", "mean_high"),
    )
    frame = summary.copy()
    if "mode" not in frame.columns:
        frame["mode"] = "solo"
    rows = []
    for _, panel in frame.groupby(["mode", "market"], sort=False):
        col, lo, hi = next(
            (m for m in metrics if m[0] in panel.columns and panel[m[0]].notna().all()),
            metrics[-1],
        )
        for _, r in panel.iterrows():
            rows.append(
                {
                    "mode": r["mode"],
                    "market": r["market"],
                    "agent": r["agent"],
                    "metric": col,
                    "value": float(r[col]),
                    "low": float(r[lo]),
                    "high": float(r[hi]),
                }
            )
    return pd.DataFrame(rows, columns=["mode", "market", "agent", "metric", "value", "low", "high"])


def head_to_head_matrix(table: pd.DataFrame, market: str, value: str = "mean") -> pd.DataFrame:
    """Agent (rows) × opponent (columns) of ``value`` in ``market`` of head_to_head.csv.

    Cell (a, b) is a's ``value`` (mean profit per episode, or ``delta``) when
    playing b; rows and columns follow the order in which agents first appear.
    """
    rows = table[table["market"] == market]
    names = list(dict.fromkeys([*rows["agent"], *rows["opponent"]]))
    wide = rows.pivot_table(index="agent", columns="opponent", values=value, aggfunc="first")
    return wide.reindex(index=names, columns=names)


def cross_model_matrix(table: pd.DataFrame, agent: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trained-in (rows) × evaluated-in (columns) mean profit of ``agent``, and the same
    as % of the profit of the policy trained in the evaluated market itself (the
    diagonal; % of the column's best where the diagonal is missing).
    """
    rows = table[table["agent"] == agent]
    markets = list(dict.fromkeys([*rows["trained_in"], *rows["market"]]))
    mean = rows.pivot_table(index="trained_in", columns="market", values="mean", aggfunc="first")
    mean = mean.reindex(index=markets, columns=markets)
    relative = mean.copy()
    for col in markets:
        home = mean.loc[col, col] if col in mean.index else float("nan")
        ref = home if _finite(home) and home != 0 else mean[col].max()
        relative[col] = 100.0 * mean[col] / ref if _finite(ref) and ref != 0 else float("nan")
    return mean, relative


def learning_curves(run_dir: str | Path) -> pd.DataFrame:
    """Training curves from the SB3 logs of every training cell of ``run_dir``.

    Returns:
        Columns ``agent, market, seed, source, timesteps, profit``: ``source`` is
        ``"train"`` (``rollout/ep_rew_mean`` of ``progress.csv``: mean profit of the
        last training episodes, unnormalised) or ``"eval"`` (mean of
        ``eval/evaluations.npz``'s episodes at each evaluation). Empty when no cell
        left such logs.
    """
    import numpy as np
    import pandas as pd

    run = Path(run_dir)
    rows: list[dict[str, Any]] = []
    for cell_file in sorted((run / "cells" / "train").glob("*.json")):
        key = _read_json(cell_file, {}).get("key")
        if not key:
            continue
        arena = f"{key['market']} vs {key['rival']}" if key.get("rival") else key["market"]
        base = {"agent": "+".join(key["agents"]), "market": arena, "seed": int(key["seed"])}
        logs = run / "logs" / "train" / cell_file.stem
        progress = logs / "progress.csv"
        if progress.is_file():
            try:
                frame = pd.read_csv(progress)
            except (pd.errors.EmptyDataError, pd.errors.ParserError):
                frame = pd.DataFrame()
            cols = ("time/total_timesteps", "rollout/ep_rew_mean")
            if all(c in frame.columns for c in cols):
                frame = frame[list(cols)].dropna()
                for t, v in frame.itertuples(index=False):
                    rows.append({**base, "source": "train", "timesteps": int(t), "profit": v})
        evals = logs / "eval" / "evaluations.npz"
        if evals.is_file():
            with np.load(evals) as data:
                if "timesteps" in data and "results" in data and len(data["timesteps"]):
                    means = np.asarray(data["results"], dtype=float).reshape(
                        len(data["timesteps"]), -1
                    )
                    for t, v in zip(data["timesteps"], means.mean(axis=1), strict=True):
                        rows.append({**base, "source": "eval", "timesteps": int(t), "profit": v})
    columns = ["agent", "market", "seed", "source", "timesteps", "profit"]
    return pd.DataFrame(rows, columns=columns)
