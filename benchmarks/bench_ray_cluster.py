"""A real two-node Ray cluster on this machine: same results as the process pool.

Starts a Ray head (``ray start --head``, 1 CPU, resource ``node_head``) and a
second node that joins it (``ray start --address HEAD``, 1 CPU, resource
``node_worker``), each its own raylet; runs one experiment with ``pricegym run
--backend ray --address HEAD --jobs 2`` and the same experiment with the process
pool (``--jobs 2``); checks that every result file is byte-identical (the cell
files up to their ``seconds`` timing field) and counts, from the run's
``logs/run.log``, the cells that ran on each node. Writes
``benchmarks/results/ray_cluster.json`` and stops the cluster.

Ray's token authentication (on by default in Ray 2.5x+) is switched off with
``RAY_AUTH_MODE=disabled`` for this local cluster; on a real cluster keep it on and
give every node the token (see Ray's token-auth page).

Usage: ``python benchmarks/bench_ray_cluster.py [--config PATH] [--port 6391]``
(default config: the bundled ``markdown`` experiment shrunk to 2 seeds, 3000 PPO
timesteps and 5 training episodes, 16 cells).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "ray_cluster.json"
BIN = Path(sys.executable).parent
RESULT_FILES = ("summary.csv", "episodes.csv", "benchmarks.json", "seeds.json", "report.json")


def _small_markdown(folder: Path) -> Path:
    """The bundled markdown experiment with small budgets (same agents and market)."""
    text = (ROOT / "experiments" / "configs" / "markdown.yaml").read_text(encoding="utf-8")
    text = re.sub(r"timesteps: \d+", "timesteps: 3000", text)
    text = re.sub(r"train: \{episodes: \d+\}", "train: {episodes: 5}", text)
    text = re.sub(r"^(\s*)seeds: \d+", r"\1seeds: 2", text, flags=re.M)
    text = re.sub(r"^(\s*)episodes: \d+", r"\1episodes: 3", text, flags=re.M)
    text = re.sub(r"^(\s*)dir: .*$", "", text, flags=re.M)
    path = folder / "markdown_small.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _ray(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN / "ray"), *args], env=env, capture_output=True, text=True, timeout=180
    )
    if done.returncode != 0:
        raise RuntimeError(f"ray {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def _run(config: Path, out: Path, env: dict[str, str], *extra: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "pricegym"), "run", str(config), "--jobs", "2", "--out", str(out), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pricegym run failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def _cells(run_dir: Path) -> dict[str, dict]:
    """Every cell file, without its wall-clock ``seconds`` field."""
    cells = {}
    for path in sorted((run_dir / "cells").rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc.pop("seconds", None)
        cells[str(path.relative_to(run_dir))] = doc
    return cells


def readme_table(doc: dict) -> str:
    """The README's lines for this benchmark (``benchmarks/report.py`` calls it)."""
    same = all(doc["result_files_identical"].values()) and doc["cells_identical_but_seconds"]
    nodes = ", ".join(f"{n} on node {node}" for node, n in doc["cells_per_node"].items())
    return (
        "| cluster | cells | where they ran | results vs process pool | wall time |\n"
        "|---|---|---|---|---|\n"
        f"| {doc['nodes_in_cluster']} Ray nodes on one machine, 1 CPU each | {doc['cells']} "
        f"| {nodes} | {'byte-identical' if same else 'DIFFERENT'} ({', '.join(RESULT_FILES)}; "
        f"cell files up to their timing) | Ray {doc['ray_seconds']:.0f} s, process pool "
        f"{doc['pool_seconds']:.0f} s (load {doc['load_average']:.1f}) |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--port", type=int, default=6391)
    args = parser.parse_args()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    work = Path(tempfile.mkdtemp(prefix="pricegym-ray-"))
    config = args.config or _small_markdown(work)
    head_log = _ray(
        "start", "--head", "--port", str(args.port), "--num-cpus", "1",
        "--resources", '{"node_head": 1}', "--disable-usage-stats",
        "--include-dashboard", "false", env=env,
    )  # fmt: skip
    try:
        ip = re.search(r"ray start --address='([\d.]+):\d+'", head_log)
        address = f"{ip.group(1) if ip else '127.0.0.1'}:{args.port}"
        _ray(
            "start", "--address", address, "--num-cpus", "1",
            "--resources", '{"node_worker": 1}', "--disable-usage-stats", env=env,
        )  # fmt: skip
        status = _ray("status", "--address", address, env=env)
        n_nodes = len(re.findall(r"^\s*1 node_[0-9a-f]+", status, flags=re.M))
        ray_seconds = _run(config, work / "ray", env, "--backend", "ray", "--address", address)
    finally:
        _ray("stop", "--force", env=env)
    pool_seconds = _run(config, work / "pool", env)
    identical = {
        f: (work / "ray" / f).read_bytes() == (work / "pool" / f).read_bytes() for f in RESULT_FILES
    }
    cells_ray, cells_pool = _cells(work / "ray"), _cells(work / "pool")
    log = (work / "ray" / "logs" / "run.log").read_text(encoding="utf-8")
    per_node = Counter(re.findall(r"ran on Ray node ([0-9a-f]+)", log))
    result = {
        "config": "bundled markdown, 2 seeds, 3000 PPO timesteps, 5 training episodes"
        if args.config is None
        else str(args.config),
        "nodes_in_cluster": n_nodes,
        "cells": len(cells_ray),
        "cells_per_node": {node[:12]: n for node, n in sorted(per_node.items())},
        "result_files_identical": identical,
        "cells_identical_but_seconds": cells_ray == cells_pool,
        "ray_seconds": round(ray_seconds, 1),
        "pool_seconds": round(pool_seconds, 1),
        "load_average": os.getloadavg()[0],
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    if not (all(identical.values()) and result["cells_identical_but_seconds"]):
        sys.exit("the Ray cluster's results differ from the process pool's")
    if len(per_node) < 2:
        sys.exit(f"cells ran on {len(per_node)} node(s), not both")


if __name__ == "__main__":
    main()
