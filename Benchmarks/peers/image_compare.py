#!/usr/bin/env python3
"""`make bench-peers`, image models: `laminar-bench classify` (ODE-Net, RK-Net, ResNet training
step and inference, batch 128, 64 channels) against `classifiers_torch.py` (the same
architectures and parameter counts in PyTorch + torchdiffeq), interleaved A, B, A, B for
ROUNDS rounds with 1 and with 2 threads each side (peer_rounds.py). Prints, per model, the
median seconds of each side (median over rounds of each round's median), the ratio torch ÷
Laminar (above 1: Laminar faster) and the NFE of both; the 1-minute load average is recorded
per round, since the machine may be shared. Writes Benchmarks/results/image-peers.json.
MODELS=resnet (comma-separated: odenet, rknet, resnet) measures a subset on both sides."""
import os

from peer_rounds import THREADS, ROUNDS, interleaved, laminar, median_over_rounds, torch_peer, write_json


MODELS = os.environ.get("MODELS", "odenet,rknet,resnet").split(",")
os.environ["LAMINAR_BENCH_CLASSIFIERS"] = ",".join(MODELS)  # read by `laminar-bench classify`


def laminar_rows(threads):
    rows = {}
    for m in laminar("classify", threads):
        model, rest = m["name"].split(" ", 1)
        kind = "training step" if rest.startswith("training step") else "inference"
        rows[(model, kind)] = {"median": m["median"], "nfe": m.get("nfe", 0), "nfeBackward": m.get("nfeBackward", 0)}
    return rows


def torch_rows(threads):
    return {(m["model"], m["kind"]): m for m in torch_peer("classifiers_torch.py", threads, ["--models", ",".join(MODELS)])}


def main():
    record = {"rounds": ROUNDS, "rows": [], "load_average": []}
    lines = []
    for threads in THREADS:
        ours, theirs = interleaved(laminar_rows, torch_rows, threads, record["load_average"])
        for key in sorted(ours[0]):
            a, b = median_over_rounds(ours, key), median_over_rounds(theirs, key)
            row = {"model": key[0], "kind": key[1], "threads": threads, "laminar_s": a, "torch_s": b,
                   "torch_over_laminar": b / a,
                   "laminar_nfe": [ours[-1][key]["nfe"], ours[-1][key]["nfeBackward"]],
                   "torch_nfe": [theirs[-1][key]["nfe"], theirs[-1][key]["nfeBackward"]],
                   "laminar_rounds": [r[key]["median"] for r in ours], "torch_rounds": [r[key]["median"] for r in theirs]}
            record["rows"].append(row)
            lines.append(f"{key[0]:7s} {key[1]:14s} threads {threads}: Laminar {a:.3f} s, torch {b:.3f} s, "
                         f"torch ÷ Laminar {b / a:.2f}  (NFE {row['laminar_nfe']} vs {row['torch_nfe']})")
    write_json("image-peers.json", record)
    print("\n".join(lines))
    print("load average (1 min) before each round:", [round(x["before_laminar"], 2) for x in record["load_average"]])


if __name__ == "__main__":
    main()
