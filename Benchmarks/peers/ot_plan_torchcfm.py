#!/usr/bin/env python3
"""The exact minibatch OT coupling alone in torchcfm, the peer of laminar-bench `ot-coupling`'s
"exact OT coupling" rows: `OTPlanSampler(method="exact").sample_plan(x0, x1)` (squared
distances by `torch.cdist`, POT's network simplex `ot.emd` in Double, then the pairs drawn from
the plan) on standard normal rows, n = 256, 512, 1024, d = 2 and 784, 1 thread. Prints one JSON
line per size."""
import argparse, json, statistics, time

import torch
from torchcfm.optimal_transport import OTPlanSampler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="256,512,1024")
    p.add_argument("--dims", default="2,784")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    sampler = OTPlanSampler(method="exact")
    for n in map(int, a.sizes.split(",")):
        for d in map(int, a.dims.split(",")):
            x0, x1 = torch.randn(n, d), torch.randn(n, d)
            sampler.sample_plan(x0, x1)  # warm-up
            times = []
            for _ in range(a.repeats):
                start = time.perf_counter()
                sampler.sample_plan(x0, x1)
                times.append(time.perf_counter() - start)
            print(json.dumps({"peer": "torchcfm", "n": n, "d": d, "median": statistics.median(times),
                              "min": min(times), "repeats": a.repeats, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
