"""Evaluate two pricing agents in a bundled market and print their league table.

Run it with ``python -m pricegym.experiments.example_evaluate`` (or this file's
path). It is the pattern for your own evaluation scripts:

1. build (or load) the agents — here a fixed price and the DP optimum;
2. call :func:`~pricegym.experiments.evaluate.evaluate` for each with the same
   market and seeds, so the agents face the same demand draws (paired);
3. concatenate the tidy tables and summarise them with
   :func:`~pricegym.experiments.stats.league_table` (two-level bootstrap CIs: seeds, then
   episodes; the DP's exact value beside its sampled mean) and
   :func:`~pricegym.experiments.stats.paired_difference`.

The market is the one of the bundled ``markdown`` experiment: 12 units to sell in
20 periods, Poisson demand with mean 10·exp(−price), 10 prices from 0.5 to 5.
"""

from __future__ import annotations

import pandas as pd

from pricegym.agents.dp import DPAgent, fixed_price_values, solve_dp
from pricegym.agents.rules import FixedPrice, demand_from_spec
from pricegym.experiments.evaluate import evaluate
from pricegym.experiments.schema import load_experiment
from pricegym.experiments.stats import league_table, paired_difference

#: Replicate seeds (the independent units of every confidence interval).
SEEDS = (0, 1, 2, 3, 4)
#: Episodes per seed.
EPISODES = 20


def main(seeds: tuple[int, ...] = SEEDS, episodes: int = EPISODES) -> pd.DataFrame:
    """Evaluate the agents, print the league table, and return it."""
    market = load_experiment("markdown").market
    agents = [FixedPrice(price=2.5, name="fixed_2.5"), DPAgent(name="dp_optimum")]
    table = pd.concat(
        [evaluate(agent, market, episodes, seed) for agent in agents for seed in seeds],
        ignore_index=True,
    )
    # The exact benchmarks of this market (expected profit per season).

    truth = demand_from_spec(market.demand)
    optimum = {"markdown": solve_dp(truth, market.options).expected_value}
    best_fixed = {"markdown": float(fixed_price_values(truth, market.options).max())}
    exact = {("markdown", "dp_optimum"): optimum["markdown"]}  # the DP knows its own value
    league = league_table(table, optimum=optimum, best_fixed=best_fixed, exact=exact)
    columns = ["rank", "agent", "mean", "mean_low", "mean_high", "pct_of_optimum", "exact"]
    columns += ["gain_share", "ci_basis"]
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(league[columns].to_string(index=False))
    gap = paired_difference(table, "dp_optimum", "fixed_2.5")
    print(f"DP optimum minus fixed price, per episode (paired by seed and episode): {gap}")
    values = f"DP optimum {optimum['markdown']:.3f}, best fixed price {best_fixed['markdown']:.3f}"
    print(f"exact: {values}")
    return league


if __name__ == "__main__":
    main()
