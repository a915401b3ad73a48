#!/usr/bin/env python3
"""Tables of docs/flow-matching.md from the run directories of Scripts/flow-matching-toy
(runs/fm-toy) and of the image runs (runs/fm-img, scored with `laminar score`).

Usage: Scripts/flow-matching-table.py [--toy runs/fm-toy] [--json OUT.json]
Prints Markdown; with --json also writes every number it read."""
import argparse, glob, json, os, re


def metrics(run):
    path = os.path.join(run, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def read(pattern, text, cast=float):
    m = re.search(pattern, text)
    return cast(m.group(1)) if m else None


def toy(directory):
    rows = []
    for run in sorted(glob.glob(os.path.join(directory, "*"))):
        if not os.path.isdir(run):
            continue
        name = os.path.basename(run)
        data, _, kind = name.partition("-")
        records = metrics(run)
        ev = open(os.path.join(run, "evaluate.txt")).read() if os.path.exists(os.path.join(run, "evaluate.txt")) else ""
        sm = open(os.path.join(run, "sample.txt")).read() if os.path.exists(os.path.join(run, "sample.txt")) else ""
        rows.append({
            "data": data, "run": kind, "iterations": len(records),
            "train_seconds": sum(r["seconds"] for r in records),
            "test_nll": read(r"NLL: ([-\d.]+)", ev), "test_nll_se": read(r"standard error: ([\d.]+)", ev),
            "eval_points": read(r"points: (\d+)", ev, int),
            "sample_nfe_1e-5": read(r"NFE (\d+)\)", sm, int),
        })
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--toy", default="runs/fm-toy")
    p.add_argument("--json")
    a = p.parse_args()
    rows = toy(a.toy)
    label = {"ml": "maximum likelihood, BUDGET", "fm": "flow matching (OT), BUDGET", "fm-iters": "flow matching (OT), ML's iterations"}
    print("| data | training | iterations | training s (sum of steps) | test NLL (exact trace), nats | NFE to sample at 1e-5 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        nll = f"{r['test_nll']:.3f} ± {r['test_nll_se']:.3f}" if r["test_nll"] is not None else "—"
        print(f"| {r['data']} | {label.get(r['run'], r['run'])} | {r['iterations']:,} | {r['train_seconds']:.0f} | {nll} | "
              f"{r['sample_nfe_1e-5'] if r['sample_nfe_1e-5'] is not None else '—'} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"toy": rows}, f, indent=1)


if __name__ == "__main__":
    main()
