#!/usr/bin/env python3
"""Markdown table of `laminar latent train` runs: mean ± sd over seeds of the interpolation
and extrapolation RMSE, per model and number of observed points.

Usage: Scripts/latent-table.py RUN_DIR...   (each holding the summary.json a run writes)
"""
import statistics
import sys

from run_summaries import summaries
from collections import defaultdict

rows = defaultdict(list)
for directory, s in summaries(sys.argv[1:]):
    rows[(s["model"] + (" + Poisson" if s.get("poisson") else ""), s.get("points"))].append(s)


def cell(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


print("| model | points | seeds | interpolation RMSE | extrapolation RMSE | parameters | s/iteration |")
print("| --- | --- | --- | --- | --- | --- | --- |")
order = {"latent-ode": 0, "latent-ode + Poisson": 1, "odernn": 2, "rnn": 3}
for (model, points), runs in sorted(rows.items(), key=lambda kv: (kv[0][1] or 0, order.get(kv[0][0], 9))):
    interp = [r["scores"]["interpolationRMSE"] for r in runs]
    extrap = [r["scores"]["extrapolationRMSE"] for r in runs]
    seconds = statistics.mean(r["trainSeconds"] / r["iterations"] for r in runs)
    print(f"| {model} | {points} | {len(runs)} | {cell(interp)} | {cell(extrap)} | {runs[0]['parameters']} | {seconds:.3f} |")
