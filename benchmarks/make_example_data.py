"""Write ``demand/data/shop_sales.csv``, the README walk-through's example sales file.

A seller's own export, as an analyst would meet it: a shop that trades Monday to
Friday (and is closed on four public holidays), its own column names, weather
columns the demand model does not use, and no cost column. The truth behind it,
for checking a fit against:

    units ~ Poisson(exp(4.6 − 2.1·log(our_price / 4) + 0.8·log(rival_price / 4)
                        + weekday effect + 0.01·(temp_c − 20)))

with weekday effects Mon −0.15, Tue −0.05, Wed 0, Thu 0.05, Fri 0.20, and the
seller's unit cost 1.90 (not in the file). With own-price elasticity −2.1 the
static profit-maximising price is 1.90 · 2.1 / 1.1 ≈ 3.63, inside the prices
tried (3.49 .. 4.49).

Run ``python benchmarks/make_example_data.py``; seeded, so the file is the same
on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "demand" / "data" / "shop_sales.csv"
CLOSED = ["2025-04-18", "2025-05-26", "2025-07-04", "2025-09-01"]
PRICES = np.array([3.49, 3.79, 3.99, 4.29, 4.49])
WEEKDAY = np.array([-0.15, -0.05, 0.0, 0.05, 0.20])


def main() -> None:
    rng = np.random.default_rng(2025)
    days = pd.bdate_range("2025-03-03", "2025-09-30")
    days = days[~days.isin(pd.to_datetime(CLOSED))]
    week = (days - days[0]).days // 7
    n_weeks = int(week.max()) + 1
    level = rng.integers(0, PRICES.size, size=n_weeks)  # the price is set each Monday
    ours = PRICES[level[week]]
    rival = np.round(3.9 + 0.25 * rng.standard_normal(n_weeks), 2)[week]
    season = np.sin(np.pi * (days.day_of_year.to_numpy() - 60) / 240)
    temp = np.round(12 + 15 * season + 2.5 * rng.standard_normal(days.size), 1)
    rain = np.round(np.where(rng.random(days.size) < 0.3, rng.exponential(6, days.size), 0), 1)
    log_rate = (
        4.6
        - 2.1 * np.log(ours / 4)
        + 0.8 * np.log(rival / 4)
        + WEEKDAY[days.day_of_week.to_numpy()]
        + 0.01 * (temp - 20)
    )
    units = rng.poisson(np.exp(log_rate))
    frame = pd.DataFrame(
        {
            "day": days.strftime("%Y-%m-%d"),
            "our_price": ours,
            "units_sold": units,
            "rival_price": rival,
            "temp_c": temp,
            "rain_mm": rain,
        }
    )
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {len(frame)} trading days, {frame.units_sold.sum()} units")


if __name__ == "__main__":
    main()
