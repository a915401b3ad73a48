#!/usr/bin/env python3
"""The exact minibatch OT coupling, Laminar (laminar-bench `ot-coupling`: squared distances +
assignment) against torchcfm's `OTPlanSampler` (ot_plan_torchcfm.py), interleaved round by
round (A, B, A, B, …), 1 thread each. Prints the ratio of medians per size and writes
Benchmarks/results/ot-coupling-peers.json. Run by `make bench-peers`."""
import json, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
PEERS = os.path.join(ROOT, "Benchmarks/peers")
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def ours(out):
    subprocess.run([BENCH, "ot-coupling", "--threads", "1", "--out", out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "ot-coupling.json")) as f:
        rows = {}
        for m in json.load(f)["measurements"]:
            match = re.match(r"exact OT coupling n (\d+) (\d+)-D", m["name"])
            if match:
                rows[(int(match[1]), int(match[2]))] = m["median"]
        return rows


def peer():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, os.path.join(PEERS, "ot_plan_torchcfm.py")], check=True,
                       capture_output=True, text=True, env=env)
    return {(x["n"], x["d"]): x["median"] for x in (json.loads(l) for l in r.stdout.splitlines() if l.startswith("{"))}


def main():
    out = os.path.join(ROOT, "Benchmarks/results")
    rounds = [(ours(out), peer()) for _ in range(ROUNDS)]
    rows, record = [], {"rounds": [{"laminar_s": {f"{n}x{d}": v for (n, d), v in a.items()},
                                    "torchcfm_s": {f"{n}x{d}": v for (n, d), v in b.items()}} for a, b in rounds],
                        "threads": 1, "load_average": os.getloadavg(), "summary": []}
    for key in sorted(rounds[0][0]):
        la = statistics.median(a[key] for a, _ in rounds)
        tb = statistics.median(b[key] for _, b in rounds)
        record["summary"].append({"n": key[0], "d": key[1], "laminar_s": la, "torchcfm_s": tb, "speedup": tb / la})
        rows.append(f"exact OT coupling n {key[0]:5d} d {key[1]:3d}: Laminar {la*1e3:8.2f} ms, torchcfm {tb*1e3:8.2f} ms, "
                    f"speed-up {tb/la:.2f}× (median of {ROUNDS} interleaved rounds)")
    with open(os.path.join(out, "ot-coupling-peers.json"), "w") as f:
        json.dump(record, f, indent=1)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
