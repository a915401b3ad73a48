#!/usr/bin/env python3
"""PyTorch's CPU convolution (oneDNN inside) on the shapes of `laminar-bench conv`: forward,
backward-data and backward-weights of one convolution (aten.convolution_backward with only
the requested output), Float, medians of 20 calls after 3 warm-ups, one JSON line per shape;
then, for `laminar-bench groupnorm`, `group_norm` with 32 groups forward and backward
(aten.native_group_norm_backward), alone and followed by a ReLU (threshold_backward before the
normalisation's backward), on the classifier's 26 × 26 and 6 × 6 shapes."""
import argparse, json, statistics, time

import torch

SHAPES = [("odenet block 128x65x6x6 -> 64, 3x3 p1", (128, 65, 6, 6), 64, 3, 1, 1),
          ("stem 128x1x28x28 -> 64, 3x3", (128, 1, 28, 28), 64, 3, 1, 0),
          ("stem 128x64x26x26 -> 64, 4x4 s2 p1", (128, 64, 26, 26), 64, 4, 2, 1),
          ("stem 128x64x13x13 -> 64, 4x4 s2 p1", (128, 64, 13, 13), 64, 4, 2, 1),
          ("resnet block 128x64x6x6 -> 64, 3x3 p1", (128, 64, 6, 6), 64, 3, 1, 1),
          ("cnf 64x33x28x28 -> 32, 3x3 p1", (64, 33, 28, 28), 32, 3, 1, 1),
          ("cnf 64x33x14x14 -> 32, 3x3 p1", (64, 33, 14, 14), 32, 3, 1, 1),
          ("cnf 64x33x7x7 -> 32, 3x3 p1", (64, 33, 7, 7), 32, 3, 1, 1)]
NORM_SHAPES = [(128, 64, 26, 26), (128, 64, 6, 6)]


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
    torch.manual_seed(2)
    conv_backward = torch.ops.aten.convolution_backward
    with torch.no_grad():
        for name, shape, o, k, stride, pad in SHAPES:
            x = torch.randn(shape)
            w = torch.randn(o, shape[1], k, k)
            b = torch.randn(o)
            y = torch.nn.functional.conv2d(x, w, b, stride, pad)

            def backward(mask):
                return lambda: conv_backward(y, x, w, [o], [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1, mask)

            print(json.dumps({"peer": f"torch-{torch.__version__}", "shape": name, "threads": args.threads,
                              "forward_s": median_time(lambda: torch.nn.functional.conv2d(x, w, b, stride, pad)),
                              "backward_data_s": median_time(backward([True, False, False])),
                              "backward_weights_s": median_time(backward([False, True, True]))}), flush=True)
    group_norms(args.threads)


def group_norms(threads):
    groups = 32
    with torch.no_grad():
        for shape in NORM_SHAPES:
            n, c, hw = shape[0], shape[1], shape[2] * shape[3]
            x, dy = torch.randn(shape), torch.randn(shape)
            gamma, beta = torch.randn(c), torch.randn(c)
            y, mean, rstd = torch.ops.aten.native_group_norm(x, gamma, beta, n, c, hw, groups, 1e-5)
            z = torch.relu(y)

            def forward():
                return torch.ops.aten.native_group_norm(x, gamma, beta, n, c, hw, groups, 1e-5)[0]

            def backward(g):
                return torch.ops.aten.native_group_norm_backward(g, x, mean, rstd, gamma, n, c, hw, groups, [True, True, True])

            print(json.dumps({
                "peer": f"torch-{torch.__version__}", "shape": "groupnorm " + "x".join(map(str, shape)), "threads": threads,
                "groupnorm_forward_s": median_time(forward), "groupnorm_backward_s": median_time(lambda: backward(dy)),
                "groupnorm_relu_forward_s": median_time(lambda: torch.relu(forward())),
                "groupnorm_relu_backward_s": median_time(lambda: backward(torch.ops.aten.threshold_backward(dy, z, 0)))}),
                flush=True)


if __name__ == "__main__":
    main()
