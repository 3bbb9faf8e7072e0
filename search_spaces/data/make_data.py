"""Regenerate the small data files shipped with the example search spaces (seeded, reproducible).

    python search_spaces/data/make_data.py

- churn.csv: 600 synthetic customers, numeric and categorical columns with missing values; the
  target `churned` (yes/no) follows a known logistic rule plus noise.
- waves.npz: 600 noisy sequences (40 steps, 1 feature) of three shapes: sine, square, sawtooth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def churn(n: int = 600, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    income = np.round(rng.lognormal(10.5, 0.4, n), -2)
    city = rng.choice(["berlin", "lisbon", "oslo", "rome"], n, p=[0.4, 0.25, 0.2, 0.15])
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(0, 72, n)
    calls = rng.poisson(1.5, n)
    logit = (
        -0.5
        + 0.6 * calls
        - 0.05 * tenure
        + np.where(plan == "basic", 0.9, np.where(plan == "plus", 0.0, -0.9))
        + np.where(city == "oslo", 0.8, 0.0)
        - 0.02 * (age - 45)
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    rows = []
    for i in range(n):
        row = [
            "" if rng.random() < 0.06 else f"{age[i]:.0f}",
            "NA" if rng.random() < 0.08 else f"{income[i]:.0f}",
            "" if rng.random() < 0.05 else city[i],
            plan[i],
            str(tenure[i]),
            str(calls[i]),
            "yes" if churned[i] else "no",
        ]
        rows.append(row)
    with (HERE / "churn.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["age", "income", "city", "plan", "tenure_months", "support_calls", "churned"]
        writer.writerow(header)
        writer.writerows(rows)


def waves(n: int = 600, steps: int = 40, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    y = rng.integers(0, 3, n)
    freq = rng.uniform(0.05, 0.15, n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n)[:, None]
    angle = 2 * np.pi * freq * t[None, :] + phase
    sine = np.sin(angle)
    square = np.sign(np.sin(angle))
    saw = 2 * ((angle / (2 * np.pi)) % 1.0) - 1
    x = np.where(y[:, None] == 0, sine, np.where(y[:, None] == 1, square, saw))
    x = x + rng.normal(0, 0.3, x.shape)
    np.savez_compressed(HERE / "waves.npz", x=x[..., None].astype("float32"), y=y.astype("int64"))


if __name__ == "__main__":
    churn()
    waves()
