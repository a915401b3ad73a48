#!/usr/bin/env python3
"""Markdown rows of the image density table from `laminar train` runs on images (the
summary.json each writes at the end).

Usage: Scripts/image-table.py RUN_DIR...
"""
import sys

from run_summaries import summaries

print("| run | model | test bits/dim | parameters | iterations | s / iteration | NFE (train f / b) | training time |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for directory, s in summaries(sys.argv[1:]):
    bits = "—"
    if s.get("testBitsPerDimension") is not None:
        estimator = "" if s.get("testExactTrace") else " (Hutchinson)"
        bits = f"{s['testBitsPerDimension']:.3f} ± {s['testStandardError']:.3f}{estimator}"
    nfe = "—"
    if s.get("trainNFEForward"):
        nfe = f"{s['trainNFEForward']:.0f} / {s['trainNFEBackward']:.0f}"
    print(f"| {directory.rstrip('/').split('/')[-1]} | {s['model']} | {bits} | {s['parameters'] / 1e3:.1f} k | "
          f"{s['iterations']} | {s.get('secondsPerIteration') or 0:.2f} | {nfe} | {s['trainingSeconds'] / 60:.1f} min |")
