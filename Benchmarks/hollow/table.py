#!/usr/bin/env python3
"""Markdown tables from Benchmarks/results/hollow-*.json (run.py) and hollow.json (laminar-bench hollow).

    python3 Benchmarks/hollow/table.py
"""
import json, os

R = "Benchmarks/results"


def load(name):
    path = os.path.join(R, name)
    return json.load(open(path)) if os.path.exists(path) else None


def runs(name, title):
    data = load(name)
    if not data:
        return
    machine = data["machine"].strip(" \t:")
    print(f"\n{title} (budget {data['budget']} each, {machine}, commit {data['commit']}, {data['date']})\n")
    print("| data | model | iterations | s / iteration (mean) | NFE / iteration (fwd + bwd) | ms / NFE | test NLL (nats) | load (1 min, before → after) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in data["records"]:
        per_nfe = f"{1e3 * r['seconds_per_nfe']:.2f}" if r.get("seconds_per_nfe") else "—"
        nfe = f"{r['nfe_per_iteration_mean']:.0f}" if r["nfe_per_iteration_mean"] else "—"
        print(f"| {r['data']} | {r['model']} | {r['iterations']} | {r['seconds_per_iteration_mean']:.3f} | {nfe} | {per_nfe} | "
              f"{r['test_nll']:.3f} ± {r['test_nll_se']:.3f} | {r['load_before']:.1f} → {r['load_after']:.1f} |")


def bench():
    data = load("hollow.json")
    if not data:
        return
    print(f"\nOne function evaluation of the augmented dynamics, batch 256, Float, 1 thread ({data['machine']}, commit {data['commit']}, {data['date']}); medians in µs\n")
    rows = {}
    for m in data["measurements"]:
        kind, rest = m["name"].split(" d=", 1)
        d, model = rest.split(" ", 1)
        rows.setdefault(model, {}).setdefault(int(d), {})[kind] = m["median"]
    ds = sorted({d for v in rows.values() for d in v})
    print("| field | " + " | ".join(f"d = {d} (eval / pullback)" for d in ds) + " |")
    print("| --- | " + " | ".join("---" for _ in ds) + " |")
    for model, by_d in rows.items():
        cells = [f"{by_d[d]['evaluate']:.0f} / {by_d[d]['pullback']:.0f}" if d in by_d else "" for d in ds]
        print(f"| {model} | " + " | ".join(cells) + " |")


runs("hollow-toy.json", "Toy data, equal wall-clock")
runs("hollow-mixtures.json", "Gaussian mixtures (mixture.py, 8 components), equal wall-clock")
runs("hollow-resflow.json", "Residual flows on the toy sets")
bench()
