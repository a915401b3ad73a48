#!/usr/bin/env python3
"""Markdown Table-1 rows from `laminar classify train` runs (the summary.json each writes).

Usage: Scripts/classify-table.py RUN_DIR...
"""
import sys

from run_summaries import summaries

print("| model | test error | parameters | peak memory (training) | forward NFE (train / test) | time per epoch |")
print("| --- | --- | --- | --- | --- | --- |")
for directory, s in summaries(sys.argv[1:]):
    nfe = "—" if s["trainNFEForward"] == 0 else f"{s['trainNFEForward']:.1f} / {s['testNFE']:.1f}"
    minutes = s["secondsPerEpoch"] / 60
    print(f"| {s['model']} | {100 * s['testError']:.2f} % | {s['parameters'] / 1e6:.3f} M | "
          f"{s['peakResidentMiB']:.0f} MiB | {nfe} | {minutes:.1f} min ({s['threads']} thread) |")
