#!/usr/bin/env python3
"""PyTorch's CPU group normalisation on the shapes of `laminar-bench groupnorm`: forward and
backward (aten.native_group_norm_backward) of `group_norm` with 32 groups, alone and followed by
a ReLU (forward: group_norm then relu; backward: threshold_backward then the normalisation's
backward), Float, medians of 20 calls after 3 warm-ups, one JSON line per shape."""
import argparse, json, statistics, time

import torch

SHAPES = [(128, 64, 26, 26), (128, 64, 6, 6)]


def median_time(fn):
    for _ in range(3):
        fn()
    samples = []
    for _ in range(20):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(4)
    groups = 32
    with torch.no_grad():
        for shape in SHAPES:
            n, c = shape[0], shape[1]
            hw = shape[2] * shape[3]
            x, dy = torch.randn(shape), torch.randn(shape)
            gamma, beta = torch.randn(c), torch.randn(c)
            y, mean, rstd = torch.ops.aten.native_group_norm(x, gamma, beta, n, c, hw, groups, 1e-5)
            z = torch.relu(y)

            def backward(g):
                return torch.ops.aten.native_group_norm_backward(g, x, mean, rstd, gamma, n, c, hw, groups, [True, True, True])

            print(json.dumps({
                "peer": f"torch-{torch.__version__}", "shape": "x".join(map(str, shape)), "threads": args.threads,
                "groupnorm_forward_s": median_time(lambda: torch.ops.aten.native_group_norm(x, gamma, beta, n, c, hw, groups, 1e-5)),
                "groupnorm_backward_s": median_time(lambda: backward(dy)),
                "groupnorm_relu_forward_s": median_time(
                    lambda: torch.relu(torch.ops.aten.native_group_norm(x, gamma, beta, n, c, hw, groups, 1e-5)[0])),
                "groupnorm_relu_backward_s": median_time(lambda: backward(torch.ops.aten.threshold_backward(dy, z, 0)))}),
                flush=True)


if __name__ == "__main__":
    main()
