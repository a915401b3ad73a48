#!/usr/bin/env python3
"""Data-parallel scaling of `laminar train` on this host, and a modelled projection to more ranks.

Measures, with the release binaries:
  1. the all-reduce alone (`mpirun -np 2 laminar-bench allreduce`): seconds per call for 4 B … 16 MiB,
     fitted as t(n) = a + b·n (two ranks: a = 2α latency terms, b = 1/bandwidth);
  2. training steps of each setting under 1 rank (plain process) and 2 ranks (mpirun) at the same
     global batch: iterations/s (median over iterations after a warm-up) and, on 2 ranks, the
     all-reduce's share of a step (`allreduce_seconds` in metrics.jsonl, the wait for the slower
     rank included);
  3. a projection to 8–64 ranks: compute t₁/P per step (the global batch split P ways) plus a ring
     all-reduce 2(P−1)·α + 2(P−1)/P · n/B with α, B from (1). A model, not a measurement.

Writes Benchmarks/results/distributed.json and prints a Markdown table. The host's load average is
recorded before and after: other processes on a shared machine slow the ranks down.
"""
import json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAMINAR = os.path.join(ROOT, ".build/release/laminar")
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
RESULTS = os.path.join(ROOT, "Benchmarks/results")
MPIRUN = ["mpirun", "--oversubscribe", "--mca", "btl", "self,vader"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
ITERS = int(os.environ.get("LAMINAR_SCALING_ITERS", "40"))
WARMUP = 5

SETTINGS = [
    # (name, arguments): FFJORD on 2-D toy data (FFJORD's toy defaults) and an MLP CNF on
    # Fashion-MNIST (1.07 M parameters: a 4.3 MB gradient per step).
    ("ffjord-toy", ["--data", "checkerboard", "--hidden", "64-64-64", "--trace", "hutchinson", "--batch", "512",
                    "--rtol", "1e-5", "--atol", "1e-5", "--no-pictures"]),
    ("mlp-cnf-fashion-mnist", ["--data", "fashion-mnist", "--model", "ffjord-mlp", "--batch", "64", "--rtol", "1e-3",
                               "--atol", "1e-3", "--eval-images", "0", "--no-pictures"]),
]


def load():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def train(name, arguments, ranks, directory):
    out = os.path.join(directory, f"{name}-{ranks}")
    command = [LAMINAR, "train", *arguments, "--iters", str(ITERS), "--out", out, "--seed", "1"]
    if ranks > 1:
        command = MPIRUN + ["-np", str(ranks)] + command
    start = time.time()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - start
    with open(os.path.join(out, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()][WARMUP:]
    seconds = statistics.median(r["seconds"] for r in records)
    result = {"ranks": ranks, "iterations_measured": len(records), "seconds_per_iteration": seconds,
              "iterations_per_second": 1 / seconds, "wall_seconds": wall,
              "nfe_forward": statistics.median(r["nfe_forward"] for r in records),
              "nfe_backward": statistics.median(r["nfe_backward"] for r in records)}
    if ranks > 1:
        allreduce = statistics.median(r["allreduce_seconds"] for r in records)
        result["allreduce_seconds"] = allreduce
        result["allreduce_share"] = allreduce / seconds
        result["nfe_forward_mean"] = statistics.median(r["nfe_forward_mean"] for r in records)
    return result


def parameter_count(run):
    """Parameters of a run's model (the gradient all-reduced each step), from its checkpoint."""
    with open(os.path.join(run, "checkpoint.safetensors"), "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    total = 0
    for key, entry in header.items():
        if key == "__metadata__" or key.startswith("optimizer."):
            continue
        count = 1
        for d in entry["shape"]:
            count *= d
        total += count
    return total


def allreduce_fit(directory):
    subprocess.run(MPIRUN + ["-np", "2", BENCH, "allreduce", "--out", directory], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(directory, "allreduce.json")) as f:
        measurements = json.load(f)["measurements"]
    points = [(m["extra"]["bytes"], m["median"]) for m in measurements]
    # Least squares on 64 KiB … 2 MiB for the bandwidth, latency from the smallest messages.
    # Larger messages switch to a protocol in which both ranks must run at the same moment; on a
    # host with more runnable processes than cores they wait for the scheduler (tens of ms), so
    # they are reported but not fitted.
    large = [(x, y) for x, y in points if 65536 <= x <= 2 * 1024 * 1024]
    mx, my = statistics.mean(x for x, _ in large), statistics.mean(y for _, y in large)
    slope = sum((x - mx) * (y - my) for x, y in large) / sum((x - mx) ** 2 for x, _ in large)
    latency = statistics.median(y for x, y in points if x <= 64)
    return {"points": [{"bytes": x, "seconds": y} for x, y in points], "fitted_bytes": [65536, 2 * 1024 * 1024],
            "small_message_seconds": latency, "seconds_per_byte": slope, "bandwidth_bytes_per_second": 1 / slope}


def project(t1, message_bytes, fit, ranks):
    # Two-rank ring: t(n) = 2α + n/B  ⇒  α = small-message time / 2.
    alpha = fit["small_message_seconds"] / 2
    beta = fit["seconds_per_byte"]
    rows = []
    for p in ranks:
        allreduce = 2 * (p - 1) * alpha + 2 * (p - 1) / p * message_bytes * beta
        step = t1 / p + allreduce
        rows.append({"ranks": p, "allreduce_seconds": allreduce, "step_seconds": step,
                     "speedup": t1 / step, "efficiency": t1 / step / p})
    return rows


def main():
    for path in (LAMINAR, BENCH):
        if not os.path.exists(path):
            sys.exit(f"scaling.py: {path} is missing; run `make build bench-build` first")
    before = load()
    work = tempfile.mkdtemp(prefix="laminar-scaling-")
    fit = allreduce_fit(work)
    settings = []
    for name, arguments in SETTINGS:
        if "fashion-mnist" in arguments and not os.path.isdir("/usr/share/datasets/fashion-mnist"):
            print(f"skipping {name}: Fashion-MNIST is not installed", file=sys.stderr)
            continue
        one = train(name, arguments, 1, work)
        two = train(name, arguments, 2, work)
        parameters = parameter_count(os.path.join(work, f"{name}-1"))
        settings.append({"name": name, "arguments": arguments, "parameters": parameters, "gradient_bytes": 4 * parameters,
                         "one_rank": one, "two_ranks": two, "speedup_2": two["iterations_per_second"] / one["iterations_per_second"],
                         "projection": project(one["seconds_per_iteration"], 4 * parameters, fit, [2, 8, 16, 32, 64])})
    after = load()
    record = {"machine": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": ").strip(),
              "cores": os.cpu_count(), "load_average_before": before, "load_average_after": after,
              "iterations": ITERS, "warmup": WARMUP, "allreduce": fit, "settings": settings,
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "distributed.json"), "w") as f:
        json.dump(record, f, indent=2, sort_keys=True)
    print(f"load average before {before}, after {after} on {record['cores']} cores")
    print(f"all-reduce, 2 ranks: {fit['small_message_seconds'] * 1e6:.1f} µs small messages, "
          f"{fit['bandwidth_bytes_per_second'] / 1e9:.2f} GB/s")
    print("| setting | parameters | 1 rank it/s | 2 ranks it/s | speedup | all-reduce share (2 ranks) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for s in settings:
        print(f"| {s['name']} | {s['parameters']:,} | {s['one_rank']['iterations_per_second']:.2f} | "
              f"{s['two_ranks']['iterations_per_second']:.2f} | {s['speedup_2']:.2f}× | {100 * s['two_ranks']['allreduce_share']:.1f} % |")
    print("\nprojection (model: t₁/P + ring all-reduce with the measured α, B):")
    print("| setting | " + " | ".join(f"P = {r['ranks']}" for r in settings[0]["projection"]) + " |")
    print("| --- |" + " --- |" * len(settings[0]["projection"]))
    for s in settings:
        print(f"| {s['name']} | " + " | ".join(f"{r['speedup']:.1f}× ({100 * r['efficiency']:.0f} %)" for r in s["projection"]) + " |")


if __name__ == "__main__":
    main()
