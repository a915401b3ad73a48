#!/usr/bin/env python3
"""`make bench-peers`, image density models: `laminar-bench images` (multiscale CNF and image
Real NVP training steps, batch 64, Fashion-MNIST) against `images_torch.py` (the same
architectures and parameter counts in PyTorch + torchdiffeq), interleaved A, B, A, B for
ROUNDS rounds at each of THREADS (default 1 and 2) through peer_rounds.py.

Prints per model and thread count: both medians (median over rounds of each round's median),
torch ÷ Laminar (above 1: Laminar faster), both sides' NFE forward/backward, and for the CNF the
seconds per function evaluation (step ÷ (forward + backward NFE)) and its ratio — adaptive
solves take different NFE from different random initialisations, so the step ratio alone
mixes solver luck with engine speed; then each side's 2-thread ÷ 1-thread speed-up, and the
same as markdown tables. Exits 1 when the parameter counts of a pair differ. Writes
Benchmarks/results/density-peers.json. Run it under `nice -n -15` on a shared machine.
MODELS="Real NVP" (comma-separated) measures a subset on both sides."""
import os, statistics, sys

from peer_rounds import ROUNDS, THREADS, interleaved, laminar, load_summary, median_over_rounds, torch_peer, write_json

MODELS = os.environ.get("MODELS", "multiscale CNF,Real NVP").split(",")
os.environ["LAMINAR_BENCH_IMAGES"] = ",".join(MODELS)  # read by `laminar-bench images`
FIELDS = ["median", "nfe", "nfeBackward", "seconds_per_evaluation", "bits_per_dim_initial", "parameters"]


def laminar_rows(threads):
    rows = {}
    for m in laminar("images", threads):
        model = m["name"].split(" training step")[0]
        if model in MODELS:
            rows[model] = {"median": m["median"], "nfe": m.get("nfe") or 0, "nfeBackward": m.get("nfeBackward") or 0,
                           **{k: m["extra"].get(k) for k in FIELDS[3:]}}
    return rows


def torch_rows(threads):
    return {m["model"]: {k: m[k] for k in FIELDS} for m in torch_peer("images_torch.py", threads, ["--models", ",".join(MODELS)])}


def side(rounds, model):
    """One side's summary of one model over the rounds."""
    per_nfe = [r[model]["seconds_per_evaluation"] for r in rounds if r[model]["seconds_per_evaluation"]]
    return {"median_s": median_over_rounds(rounds, model), "rounds_s": [r[model]["median"] for r in rounds],
            "nfe": [[r[model]["nfe"], r[model]["nfeBackward"]] for r in rounds],
            "seconds_per_evaluation": statistics.median(per_nfe) if per_nfe else None,
            "bits_per_dim_initial": [r[model]["bits_per_dim_initial"] for r in rounds],
            "parameters": rounds[0][model]["parameters"]}


def nfe_text(s):
    """Forward/backward NFE per round, or '—' for a model without a solver."""
    return ", ".join(f"{f}/{b}" for f, b in s["nfe"]) if any(f or b for f, b in s["nfe"]) else "—"


def markdown(rows, speedups, loads):
    out = ["| model | threads | Laminar (s) | PyTorch (s) | torch ÷ Laminar | NFE fwd/bwd, Laminar | NFE fwd/bwd, PyTorch "
           "| ms per NFE, Laminar / PyTorch | per-NFE torch ÷ Laminar | initial bits/dim, Laminar / PyTorch |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        a, b = r["laminar"], r["torch"]
        per_nfe = (f"{a['seconds_per_evaluation'] * 1e3:.1f} / {b['seconds_per_evaluation'] * 1e3:.1f}", f"{r['per_nfe_ratio']:.2f}") \
            if r["per_nfe_ratio"] else ("—", "—")
        out.append(f"| {r['model']} | {r['threads']} | {a['median_s']:.3f} | {b['median_s']:.3f} | {r['step_ratio']:.2f} "
                   f"| {nfe_text(a)} | {nfe_text(b)} | {per_nfe[0]} | {per_nfe[1]} "
                   f"| {statistics.median(a['bits_per_dim_initial']):.2f} / {statistics.median(b['bits_per_dim_initial']):.2f} |")
    if speedups:
        out += ["", "| model | Laminar 2 ÷ 1 thread speed-up | PyTorch 2 ÷ 1 thread speed-up |", "| --- | --- | --- |"]
        out += [f"| {s['model']} | {s['laminar']:.2f}× | {s['torch']:.2f}× |" for s in speedups]
    out += ["", f"{ROUNDS} round(s) per thread count; 1-minute load average {load_summary(loads)} "
                f"(before each run: {[round(x, 1) for l in loads for x in (l['before_laminar'], l['before_torch'])]})"]
    return "\n".join(out)


def main():
    record = {"rounds": ROUNDS, "threads": THREADS, "rows": [], "speedups": [], "load_average": []}
    lines, mismatched = [], []
    for threads in THREADS:
        ours, theirs = interleaved(laminar_rows, torch_rows, threads, record["load_average"])
        for model in MODELS:
            a, b = side(ours, model), side(theirs, model)
            if a["parameters"] != b["parameters"]:
                mismatched.append(f"{model}: Laminar {a['parameters']:.0f} parameters, PyTorch {b['parameters']}")
            per_nfe = b["seconds_per_evaluation"] / a["seconds_per_evaluation"] if a["seconds_per_evaluation"] else None
            row = {"model": model, "threads": threads, "laminar": a, "torch": b,
                   "step_ratio": b["median_s"] / a["median_s"], "per_nfe_ratio": per_nfe}
            record["rows"].append(row)
            lines.append(f"{model:14s} threads {threads}: Laminar {a['median_s']:.3f} s, torch {b['median_s']:.3f} s, "
                         f"torch ÷ Laminar {row['step_ratio']:.2f}; NFE {nfe_text(a)} vs {nfe_text(b)}"
                         + (f"; per NFE {a['seconds_per_evaluation'] * 1e3:.1f} vs {b['seconds_per_evaluation'] * 1e3:.1f} ms, "
                            f"ratio {per_nfe:.2f}" if per_nfe else "")
                         + f"; parameters {a['parameters']:.0f} / {b['parameters']}")
    if 1 in THREADS and 2 in THREADS:
        by = {(r["model"], r["threads"]): r for r in record["rows"]}
        for model in MODELS:
            one, two = by[(model, 1)], by[(model, 2)]
            record["speedups"].append({"model": model, "laminar": one["laminar"]["median_s"] / two["laminar"]["median_s"],
                                       "torch": one["torch"]["median_s"] / two["torch"]["median_s"]})
    write_json("density-peers.json", record)
    print("\n".join(lines))
    for s in record["speedups"]:
        print(f"{s['model']:14s} 2 ÷ 1 thread speed-up: Laminar {s['laminar']:.2f}×, torch {s['torch']:.2f}×")
    print()
    print(markdown(record["rows"], record["speedups"], record["load_average"]))
    if mismatched:
        print("not comparable:", "; ".join(mismatched), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
