#!/usr/bin/env python3
"""`make bench-peers`, flow matching: one training step of Laminar (laminar-bench
`flow-matching`) and of torchcfm (fm_torchcfm.py) on the same field and batch size,
interleaved round by round (A, B, A, B, …), 1 thread each. Prints ratios of medians and writes
Benchmarks/results/flow-matching-peers.json."""
import json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
PEERS = os.path.join(ROOT, "Benchmarks/peers")
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def ours(out):
    subprocess.run([BENCH, "flow-matching", "--threads", "1", "--out", out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "flow-matching.json")) as f:
        return {m["name"].split(" (")[0].replace("flow-matching step ", ""): m for m in json.load(f)["measurements"]}


def peer():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, os.path.join(PEERS, "fm_torchcfm.py"), "--threads", "1"], check=True,
                       capture_output=True, text=True, env=env)
    return {x["coupling"]: x for x in (json.loads(l) for l in r.stdout.splitlines() if l.startswith("{"))}


def main():
    out = os.path.join(ROOT, "Benchmarks/results")
    rounds = []
    for _ in range(ROUNDS):
        a = ours(out)
        b = peer()
        rounds.append({c: {"laminar_s": a[c]["median"], "torchcfm_s": b[c]["median"]} for c in ("independent", "ot")})
    rows, record = [], {"rounds": rounds, "threads": 1, "batch": 512, "summary": []}
    for c in ("independent", "ot"):
        la = statistics.median(r[c]["laminar_s"] for r in rounds)
        tb = statistics.median(r[c]["torchcfm_s"] for r in rounds)
        record["summary"].append({"coupling": c, "laminar_s": la, "torchcfm_s": tb, "speedup": tb / la})
        rows.append(f"flow-matching step {c:11s}: Laminar {la*1e3:.2f} ms, torchcfm {tb*1e3:.2f} ms, speed-up {tb/la:.2f}× "
                    f"(median of {ROUNDS} interleaved rounds' medians)")
    with open(os.path.join(out, "flow-matching-peers.json"), "w") as f:
        json.dump(record, f, indent=1)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
