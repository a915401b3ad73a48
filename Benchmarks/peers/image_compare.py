#!/usr/bin/env python3
"""`make bench-peers`, image models: `laminar-bench classify` (ODE-Net, RK-Net, ResNet training
step and inference, batch 128, 64 channels) against `classifiers_torch.py` (the same
architectures and parameter counts in PyTorch + torchdiffeq), interleaved A, B, A, B for
ROUNDS rounds with 1 and with 2 threads each side. Prints, per model, the median seconds of
each side (median over rounds of each round's median), the ratio torch ÷ Laminar (above 1:
Laminar faster) and the NFE of both; the 1-minute load average is recorded per round, since
the machine may be shared. Writes Benchmarks/results/image-peers.json."""
import json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
PY = sys.executable
PEERS = os.path.join(ROOT, "Benchmarks/peers")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
THREADS = [int(t) for t in os.environ.get("THREADS", "1,2").split(",")]


def laminar(threads):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([BENCH, "classify", "--threads", str(threads), "--out", out], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "classify.json")) as f:
            record = json.load(f)
    rows = {}
    for m in record["measurements"]:
        model, rest = m["name"].split(" ", 1)
        kind = "training step" if rest.startswith("training step") else "inference"
        rows[(model, kind)] = {"median": m["median"], "nfe": m.get("nfe", 0), "nfeBackward": m.get("nfeBackward", 0)}
    return rows


def torch_peer(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    r = subprocess.run([PY, os.path.join(PEERS, "classifiers_torch.py"), "--threads", str(threads)],
                       check=True, capture_output=True, text=True, env=env)
    rows = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            m = json.loads(line)
            rows[(m["model"], m["kind"])] = m
    return rows


def main():
    record = {"rounds": ROUNDS, "rows": [], "load_average": []}
    lines = []
    for threads in THREADS:
        ours, theirs = [], []
        for _ in range(ROUNDS):
            record["load_average"].append({"threads": threads, "before_round": os.getloadavg()[0]})
            ours.append(laminar(threads))
            theirs.append(torch_peer(threads))
        for key in sorted(ours[0]):
            a = statistics.median(r[key]["median"] for r in ours)
            b = statistics.median(r[key]["median"] for r in theirs)
            row = {"model": key[0], "kind": key[1], "threads": threads, "laminar_s": a, "torch_s": b,
                   "torch_over_laminar": b / a,
                   "laminar_nfe": [ours[-1][key]["nfe"], ours[-1][key]["nfeBackward"]],
                   "torch_nfe": [theirs[-1][key]["nfe"], theirs[-1][key]["nfeBackward"]],
                   "laminar_rounds": [r[key]["median"] for r in ours], "torch_rounds": [r[key]["median"] for r in theirs]}
            record["rows"].append(row)
            lines.append(f"{key[0]:7s} {key[1]:14s} threads {threads}: Laminar {a:.3f} s, torch {b:.3f} s, "
                         f"torch ÷ Laminar {b / a:.2f}  (NFE {row['laminar_nfe']} vs {row['torch_nfe']})")
    with open(os.path.join(ROOT, "Benchmarks/results/image-peers.json"), "w") as f:
        json.dump(record, f, indent=1)
    print("\n".join(lines))
    print("load average (1 min) before each round:", [round(x["before_round"], 2) for x in record["load_average"]])


if __name__ == "__main__":
    main()
