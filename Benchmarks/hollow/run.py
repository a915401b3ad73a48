#!/usr/bin/env python3
"""Equal-wall-clock training runs for docs/hollow-and-residual-flows.md, through the laminar CLI.

    python3 Benchmarks/hollow/run.py toy        --budget 60s   # hollow vs MLP (exact, Hutchinson) on 3 toy sets
    python3 Benchmarks/hollow/run.py mixtures   --budget 120s  # the same on 16-/64-D Gaussian mixtures (mixture.py)
    python3 Benchmarks/hollow/run.py resflow    --budget 60s   # residual flows on the toy sets

Every run trains with `laminar train --time-budget`, one BLAS thread and seed 1, then
`laminar evaluate` reports the test NLL (exact log-determinants). Per run the JSON records the
iterations reached, seconds per iteration (mean and median from metrics.jsonl), NFE per iteration,
seconds per function evaluation (iteration time / (forward + backward NFE)), the test NLL ± its
standard error, and the 1-minute load average before and after (the machine is shared).
Standard library only.
"""
import argparse, json, os, re, statistics, subprocess, sys, time

TOY = ["8gaussians", "checkerboard", "2spirals"]


def configs(suite, dimension):
    if suite == "resflow":
        return [("resflow K=8 64-64", ["--model", "resflow", "--depth", "8", "--hidden", "64-64"])]
    per_dim = {2: "32-32-32", 16: "8-8", 64: "4-4"}[dimension]
    return [
        ("mlp 64-64-64, exact trace (d VJPs)", ["--hidden", "64-64-64", "--trace", "exact"]),
        ("mlp 64-64-64, Hutchinson (Gaussian)", ["--hidden", "64-64-64", "--trace", "hutchinson"]),
        (f"hollow {per_dim} per dim, exact (one pass)", ["--field", "hollow", "--hidden", per_dim]),
    ]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("suite", choices=["toy", "mixtures", "resflow"])
    ap.add_argument("--budget", default="60s")
    ap.add_argument("--bin", default=".build/release/laminar")
    ap.add_argument("--runs", default="runs/hollow")
    ap.add_argument("--data-dir", default="/tmp/hollow-data")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    sets = [(d, None, 2) for d in TOY] if args.suite != "mixtures" else [
        (os.path.join(args.data_dir, f"mix{d}", "train.csv"), os.path.join(args.data_dir, f"mix{d}", "test.csv"), d)
        for d in (16, 64)]
    records = []
    for data, test, dimension in sets:
        name = os.path.basename(os.path.dirname(data)) if test else data
        for label, flags in configs(args.suite, dimension):
            out = os.path.join(args.runs, args.suite, name, re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"))
            if os.path.exists(out):
                subprocess.run(["rm", "-rf", out], check=True)
            load_before = os.getloadavg()[0]
            start = time.time()
            run([args.bin, "train", "--data", data, "--iters", "1000000", "--time-budget", args.budget, "--seed", "1",
                 "--threads", "1", "--no-pictures", "--out", out] + flags)
            wall = time.time() - start
            lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if l.strip()]
            secs = [l["seconds"] for l in lines]
            nfe = [l["nfe_forward"] + l["nfe_backward"] for l in lines]
            eval_cmd = [args.bin, "evaluate", "--checkpoint", os.path.join(out, "checkpoint.safetensors"), "--threads", "1"]
            eval_cmd += ["--data", test] if test else ["--n", "5000", "--seed", "123"]
            text = run(eval_cmd)
            nll = float(re.search(r"NLL: ([-0-9.]+)", text).group(1))
            se = float(re.search(r"standard error: ([-0-9.]+)", text).group(1))
            eval_time = float(re.search(r"time: ([0-9.]+) s", text).group(1))
            record = {
                "suite": args.suite, "data": name, "dimension": dimension, "model": label, "flags": flags,
                "budget": args.budget, "iterations": len(lines), "wall_seconds": wall,
                "seconds_per_iteration_mean": statistics.mean(secs), "seconds_per_iteration_median": statistics.median(secs),
                "nfe_per_iteration_mean": statistics.mean(nfe),
                "seconds_per_nfe": statistics.mean(secs) / max(statistics.mean(nfe), 1e-12) if max(nfe) > 0 else None,
                "train_nll_last50": statistics.mean(l["nll"] for l in lines[-50:]),
                "test_nll": nll, "test_nll_se": se, "evaluation_seconds": eval_time,
                "load_before": load_before, "load_after": os.getloadavg()[0],
            }
            records.append(record)
            print(json.dumps(record), flush=True)
    path = args.json or f"Benchmarks/results/hollow-{args.suite}.json"
    with open(path + ".tmp", "w") as f:
        json.dump({"suite": args.suite, "budget": args.budget, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "machine": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" \t:") + f", {os.cpu_count()} cores",
                   "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
                   "records": records}, f, indent=1)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
