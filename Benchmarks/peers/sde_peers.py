#!/usr/bin/env python3
"""Laminar's SDE schemes next to torchsde on the same neural SDE, interleaved.

The SDE (Benchmarks/Sources/laminar-bench/SDECase.swift builds the same one): a batch of 128
states of dimension 8 in float32, drift 8 -> 32 -> 8 (tanh), diagonal diffusion
8 -> 32 -> 8 (tanh, then sigmoid), 100 fixed steps of 0.01 over [0, 1]. torchsde draws its
noise from a BrownianInterval built per call with the step as its `dt` hint, Laminar from a
VirtualBrownianTree built per call. ("forward euler default-bm" also times torchsde with the
interval sdeint builds itself when given no `bm`: at its first query it lays out a dependency
tree of tens of thousands of points, which dominates a 100-step solve.)
Weights are random on both sides (the cost does not depend on them).

Each round runs `laminar-bench sde` once and then every torchsde measurement once (one
thread each); the report gives per-step medians over rounds and their ratios, and writes
Benchmarks/results/sde-peers.json.

    Benchmarks/peers/.venv/bin/python Benchmarks/peers/sde_peers.py --rounds 5
    Benchmarks/peers/.venv/bin/python Benchmarks/peers/sde_peers.py --torchsde-only
"""
import argparse, json, os, statistics, subprocess, sys, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch
import torchsde

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
BATCH, DIM, HIDDEN, STEPS, DT = 128, 8, 32, 100, 0.01


class NeuralSDE(torch.nn.Module):
    noise_type = "diagonal"

    def __init__(self, sde_type):
        super().__init__()
        self.sde_type = sde_type
        self.drift = torch.nn.Sequential(torch.nn.Linear(DIM, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, DIM))
        self.diff = torch.nn.Sequential(torch.nn.Linear(DIM, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, DIM),
                                        torch.nn.Sigmoid())

    def f(self, t, y):
        return self.drift(y)

    def g(self, t, y):
        return self.diff(y)


def timed(body, repeats):
    body()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def brownian():
    return torchsde.BrownianInterval(t0=0.0, t1=1.0, size=(BATCH, DIM), dt=DT)


def torchsde_round(repeats):
    torch.manual_seed(0)
    y0 = torch.randn(BATCH, DIM) * 0.5
    ts = torch.tensor([0.0, 1.0])
    res = {}
    # Laminar's names -> torchsde's (calculus, method, options). Milstein: derivative-free on
    # both sides.
    forward = {"euler": ("ito", "euler", None), "milstein": ("ito", "milstein", {"grad_free": True}),
               "midpoint": ("stratonovich", "midpoint", None), "heun": ("stratonovich", "heun", None)}
    for name, (calculus, method, options) in forward.items():
        sde = NeuralSDE(calculus)

        def run():
            with torch.no_grad():
                torchsde.sdeint(sde, y0, ts, bm=brownian(), method=method, dt=DT, options=options)
        res[f"forward {name}"] = timed(run, repeats)
    sde = NeuralSDE("ito")

    def default_bm():
        with torch.no_grad():
            torchsde.sdeint(sde, y0, ts, method="euler", dt=DT)
    res["forward euler default-bm"] = timed(default_bm, 1)
    sde = NeuralSDE("stratonovich")

    def backprop():
        ys = torchsde.sdeint(sde, y0, ts, bm=brownian(), method="midpoint", dt=DT)
        torch.autograd.grad((ys[-1] ** 2).mean(), list(sde.parameters()))

    def adjoint():
        ys = torchsde.sdeint_adjoint(sde, y0, ts, bm=brownian(), method="midpoint", adjoint_method="midpoint", dt=DT)
        torch.autograd.grad((ys[-1] ** 2).mean(), list(sde.parameters()))
    res["gradient midpoint backprop"] = timed(backprop, repeats)
    res["gradient midpoint adjoint"] = timed(adjoint, repeats)
    return res


def laminar_round():
    out = os.path.join(ROOT, "Benchmarks/results")
    subprocess.run([BENCH, "sde", "--threads", "1", "--out", out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "sde.json")) as f:
        return {m["name"]: m["median"] for m in json.load(f)["measurements"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torchsde-only", action="store_true")
    args = parser.parse_args()
    ours, theirs = {}, {}
    for r in range(args.rounds):
        if not args.torchsde_only:
            for k, v in laminar_round().items():
                ours.setdefault(k, []).append(v)
        for k, v in torchsde_round(args.repeats).items():
            theirs.setdefault(k, []).append(v)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    rows = []
    for name in theirs:
        t = statistics.median(theirs[name]) / STEPS * 1e6
        row = {"measurement": name, "torchsde_us_per_step": t, "rounds": args.rounds}
        if name in ours:
            l = statistics.median(ours[name]) / STEPS * 1e6
            row.update(laminar_us_per_step=l, speedup=t / l)
        rows.append(row)
        print(json.dumps(row))
    record = {"batch": BATCH, "dim": DIM, "hidden": HIDDEN, "steps": STEPS, "dt": DT, "threads": 1,
              "torch": torch.__version__, "torchsde": getattr(torchsde, "__version__", "?"), "rows": rows,
              "note": "interleaved rounds on a machine shared with other builds; medians over rounds"}
    if not args.torchsde_only:
        with open(os.path.join(ROOT, "Benchmarks/results/sde-peers.json"), "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
