"""Regenerate the README's benchmark tables from ``benchmarks/results/*.json``.

Every number in the README's benchmark and results sections comes from a JSON file
written by a script in this folder; this script only formats them. Each table
lives between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` markers, and a
results file that is missing leaves its table untouched (and says so).

Usage: ``python benchmarks/report.py`` (or ``make report``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def kernels(doc: dict[str, Any]) -> str:
    """Kernel vs fitting library, per call (B = 1) and per batch."""
    rows = [
        [
            r["family"],
            str(r["batch"]),
            f"{r['kernel_us']:,.1f}",
            f"{r['library_us']:,.1f}",
            f"{r['speedup']:,.1f}×",
        ]
        for r in doc["rows"]
    ]
    return (
        _table(["family", "markets B", "kernel µs", "library µs", "library / kernel"], rows)
        + f"\n\nData set: `{doc['dataset']}`; written by `benchmarks/bench_kernels.py`."
    )


def envs(doc: dict[str, Any]) -> str:
    """Env steps per second against Gymnasium's CartPole yardsticks."""
    rows = []
    for r in doc["rows"]:
        goal = ""
        if r["goal"] is not None:
            goal = f"≥ {r['goal']:.1f}× {'met' if r['met'] else 'missed'}"
        rows.append(
            [
                r["env"],
                r["mode"] or "–",
                f"{r['steps_per_s']:,.0f}",
                f"{r['ratio']:.2f}× ({r['ratio_min']:.2f}–{r['ratio_max']:.2f})",
                goal,
            ]
        )
    return (
        _table(["env", "path", "steps/s", "vs yardstick (min–max)", "goal"], rows)
        + f"\n\nData set `{doc['dataset']}`, {doc['horizon']}-period seasons, "
        f"{doc['clock']} time, median of {doc['rounds']} interleaved rounds{_load(doc)}; "
        "written by `benchmarks/bench_envs.py`."
    )


def _load(doc: dict[str, Any]) -> str:
    """', load L1–L2 on N CPUs' when the run recorded the machine's load average."""
    machine = doc.get("machine", {})
    load = machine.get("load")
    if not load:
        return ""
    return f", load average {load[0]:.1f}–{load[1]:.1f} on {machine.get('cpus', '?')} CPUs"


def training(doc: dict[str, Any]) -> str:
    """PPO with our defaults on Markdown-v0 against the DP optimum and SB3's defaults."""
    ppo, base = doc["ppo"], doc["sb3_default_ppo"]
    opt = doc["dp_optimum"]
    rows = [
        ["DP optimum (exact)", f"{opt:.3f}", "100%", "", ""],
        [
            f"best fixed price ({doc['best_fixed_price']:g})",
            f"{doc['best_fixed_value']:.3f}",
            f"{100 * doc['best_fixed_share']:.2f}%",
            "",
            "",
        ],
        [
            f"PPO, pricegym defaults ({ppo['frames']:,} frames, {ppo['train_s']:.0f} s)",
            f"{ppo['final_mc_value']:.3f} ± {ppo['final_mc_ci95']:.3f}",
            f"{100 * ppo['final_mc_share']:.2f}% ± {100 * ppo['final_mc_share_ci95']:.2f}",
            f"{ppo['fps']:,.0f}",
            f"{ppo['seconds_to_99pct']:.1f} s (stays ≥ 99% from "
            f"{ppo['seconds_to_stay_above_99pct']:.1f} s)",
        ],
        [
            "SB3-default PPO, CartPole-v1, 8 DummyVecEnv",
            "",
            "",
            f"{base['cartpole_fps']:,.0f}",
            "",
        ],
        [
            "SB3-default PPO, Markdown-v0, 8 DummyVecEnv",
            "",
            "",
            f"{base['markdown_dummy8']['fps']:,.0f}",
            "",
        ],
    ]
    return (
        _table(["policy", "profit per season", "% of optimum", "frames/s", "time to 99%"], rows)
        + f"\n\n`{doc['env_id']}`; PPO frames/s = {doc['speedup_vs_cartpole']:.1f}× SB3's "
        "default PPO on CartPole; ± is a 95% CI over evaluation seasons; written by "
        "`benchmarks/bench_training.py`."
    )


def qlearning(doc: dict[str, Any]) -> str:
    """The Calvano et al. (2020) baseline: collusion index and prices over sessions."""
    lo, hi = doc["profit_gain_ci95"]
    cfg = doc["config"]
    rows = [
        ["sessions (converged)", f"{doc['sessions']} ({doc['converged']})", "1,000"],
        [
            "profit gain Δ [95% CI]",
            f"{doc['profit_gain_mean']:.3f} [{lo:.3f}, {hi:.3f}]",
            f"{doc['profit_gain_published']:.2f}",
        ],
        [
            "average price (Nash, monopoly)",
            f"{doc['price_mean']:.3f} ({doc['nash_price']:.4f}, {doc['monopoly_price']:.4f})",
            "between Nash and monopoly",
        ],
        [
            "periods to convergence (median / max)",
            f"{doc['periods_median']:,.0f} / {doc['periods_max']:,}",
            "",
        ],
        [
            "wall time",
            f"{doc['wall_seconds']:.0f} s ({doc['jobs']} processes, 2 cores)",
            "",
        ],
    ]
    return (
        _table(["", "pricegym", "Calvano et al. (2020), as recalled (not re-verified here)"], rows)
        + f"\n\nα = {cfg['alpha']}, β = {cfg['beta']:g}, δ = {cfg['delta']}, memory "
        f"{cfg['memory']}, convergence after {cfg['convergence_periods']:,} unchanged periods; "
        "written by `benchmarks/bench_qlearning.py`."
    )


def qlearning_vs_rules(doc: dict[str, Any]) -> str:
    """One Q-learner against each rival: periods per CPU second, before and after compiling."""

    def cell(r: dict[str, Any] | None) -> str:
        return "—" if r is None else f"{r['periods_per_cpu_s']:,.0f}"

    def hours(r: dict[str, Any] | None) -> str:
        if r is None:
            return "—"
        h = r["hours_for_1e9"]
        return f"{h:,.1f} h" if h >= 1 else f"{h * 3600:,.0f} s"

    rows = [
        [
            f"`{r['rival']}`",
            cell(r["before"]),
            cell(r["python"]),
            cell(r["compiled"]),
            "—" if r.get("speedup_vs_before") is None else f"{r['speedup_vs_before']:,.0f}×",
            f"{hours(r['before'])} → {hours(r['compiled'] or r['python'])}",
        ]
        for r in doc["rows"]
    ]
    return (
        _table(
            [
                "rival",
                "before: episode loop",
                "Python session",
                "compiled session",
                "speed-up",
                "10⁹ periods",
            ],
            rows,
        )
        + f"\n\nPeriods per CPU second; {doc['market']}; convergence off so every path plays "
        f"its budget ({doc['python_periods']:,} periods in Python, {doc['compiled_periods']:,} "
        "compiled); `random_price` cannot be compiled and plays in Python after a time "
        "estimate; written by `benchmarks/bench_qlearning.py --vs-rules`."
    )


def inference(doc: dict[str, Any]) -> str:
    """Exported-policy runtime (onnxruntime) vs SB3 ``predict``, per call."""
    cells: dict[tuple[str, int], dict[str, float]] = {}
    for r in doc["rows"]:
        cells.setdefault((r["policy"], r["batch"]), {})[r["path"]] = r["us_per_call"]
    rows = []
    for (policy, batch), c in cells.items():
        single = c.get("runtime_price")
        rows.append(
            [
                policy,
                str(batch),
                f"{c['runtime']:,.0f}",
                "–" if single is None else f"{single:,.0f}",
                f"{c['sb3_predict']:,.0f}",
                f"{c['sb3_predict'] / c['runtime']:.1f}×",
            ]
        )
    return (
        _table(
            [
                "policy",
                "batch",
                "runtime `prices` µs",
                "runtime `price(dict)` µs",
                "SB3 `predict` µs",
                "SB3 / runtime",
            ],
            rows,
        )
        + "\n\nMedian per call, one thread; the runtime validates each observation against "
        "the policy card and returns prices; written by `benchmarks/bench_inference.py`."
    )


def _script_formatter(name: str) -> Callable[[dict[str, Any]], str]:
    """The ``readme_table`` function a benchmark script defines beside its numbers."""

    def fmt(doc: dict[str, Any]) -> str:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            f"_bench_{name}", ROOT / "benchmarks" / f"bench_{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.readme_table(doc)

    return fmt


#: results file stem → formatter of its README table.
SECTIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "kernels": kernels,
    "envs": envs,
    "training": training,
    "qlearning": qlearning,
    "qlearning_vs_rules": qlearning_vs_rules,
    "inference": inference,
    "gvr": _script_formatter("gvr"),
    "ferreira": _script_formatter("ferreira"),
    "calvano_sweep": _script_formatter("calvano_sweep"),
    "gvr_rl": _script_formatter("gvr_rl"),
    "cross_model": _script_formatter("cross_model"),
    "scaling": _script_formatter("scaling"),
    "causal": _script_formatter("causal"),
    "afp": _script_formatter("afp"),
    "censored": _script_formatter("censored"),
    "bandit_collusion": _script_formatter("bandit_collusion"),
    "capacity": _script_formatter("capacity"),
    "capacity_ppo": _script_formatter("capacity_ppo"),
    "regret": _script_formatter("regret"),
    "klein": _script_formatter("klein"),
    "multiproduct": _script_formatter("multiproduct"),
    "ray_cluster": _script_formatter("ray_cluster"),
    "validation": _script_formatter("validation"),
    "workers": _script_formatter("workers"),
    "fit": _script_formatter("fit"),
}


def render(text: str, results: Path = RESULTS) -> tuple[str, list[str]]:
    """``text`` with every known section replaced; also the names of sections skipped."""
    skipped = []
    for name, fmt in SECTIONS.items():
        path = results / f"{name}.json"
        pattern = re.compile(rf"(<!-- bench:{name} -->\n)(.*?)(<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            skipped.append(f"{name} (no markers in README)")
            continue
        if not path.is_file():
            skipped.append(f"{name} ({path.name} missing; run its benchmark)")
            continue
        body = fmt(json.loads(path.read_text()))
        text = pattern.sub(lambda m, b=body: m.group(1) + b + "\n" + m.group(3), text)
    return text, skipped


def main() -> int:
    new, skipped = render(README.read_text())
    README.write_text(new)
    for s in skipped:
        print(f"skipped: {s}", file=sys.stderr)
    print(f"updated {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
