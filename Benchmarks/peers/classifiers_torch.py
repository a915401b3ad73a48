#!/usr/bin/env python3
"""PyTorch peer of `laminar-bench classify`: the Neural ODE paper's ODE-Net, RK-Net and ResNet
classifiers with Laminar's architectures (ImageClassifier.swift: 3×3 stem conv, GroupNorm(32),
ReLU, two 4×4 stride-2 convs; an ODE block of two time-concatenating 3×3 convs with three
GroupNorms, or six residual blocks without conv biases; GroupNorm, ReLU, global average pool,
linear head), 64 channels, batch 128 of 28×28 uniform images, Adam 1e-3. One training step =
forward, cross entropy, backward, Adam. ODE-Net: torchdiffeq dopri5 at rtol = atol = 1e-3 with
odeint_adjoint; RK-Net: rk4, 4 steps, backpropagation through the solver. One JSON line per
measurement (seconds per step, median of `--repeats` after one warm-up), in the field names of
laminar-bench's JSON."""
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchdiffeq import odeint, odeint_adjoint


class ConcatConv2d(nn.Module):
    """FFJORD's ConcatConv2d: time as the first input channel."""

    def __init__(self, cin, cout):
        super().__init__()
        self._layer = nn.Conv2d(cin + 1, cout, 3, 1, 1)

    def forward(self, t, x):
        tt = torch.ones_like(x[:, :1]) * t
        return self._layer(torch.cat([tt, x], 1))


class ODEFunc(nn.Module):
    def __init__(self, c):
        super().__init__()
        g = min(32, c)
        self.norm1, self.norm2, self.norm3 = nn.GroupNorm(g, c), nn.GroupNorm(g, c), nn.GroupNorm(g, c)
        self.conv1, self.conv2 = ConcatConv2d(c, c), ConcatConv2d(c, c)
        self.nfe = 0

    def forward(self, t, x):
        self.nfe += 1
        h = F.relu(self.norm1(x))
        h = F.relu(self.norm2(self.conv1(t, h)))
        return self.norm3(self.conv2(t, h))


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        g = min(32, c)
        self.norm1, self.norm2 = nn.GroupNorm(g, c), nn.GroupNorm(g, c)
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)

    def forward(self, x):
        return x + self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


class Classifier(nn.Module):
    def __init__(self, architecture, c=64):
        super().__init__()
        g = min(32, c)
        self.architecture = architecture
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3), nn.GroupNorm(g, c), nn.ReLU(),
                                  nn.Conv2d(c, c, 4, 2, 1), nn.GroupNorm(g, c), nn.ReLU(),
                                  nn.Conv2d(c, c, 4, 2, 1))
        if architecture == "resnet":
            self.blocks = nn.Sequential(*[ResidualBlock(c) for _ in range(6)])
        else:
            self.odefunc = ODEFunc(c)
        self.head_norm = nn.GroupNorm(g, c)
        self.head = nn.Linear(c, 10)
        self.register_buffer("times", torch.tensor([0.0, 1.0]))

    def features(self, h):
        if self.architecture == "resnet":
            return self.blocks(h)
        if self.architecture == "rknet":
            return odeint(self.odefunc, h, self.times, method="rk4", options=dict(step_size=0.25))[-1]
        solve = odeint_adjoint if torch.is_grad_enabled() else odeint
        return solve(self.odefunc, h, self.times, rtol=1e-3, atol=1e-3, method="dopri5")[-1]

    def forward(self, x):
        h = self.features(self.stem(x))
        return self.head(F.relu(self.head_norm(h)).mean(dim=(2, 3)))


def timed(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--models", default="odenet,rknet,resnet")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(17)
    x = torch.rand(args.batch, 1, 28, 28)
    labels = torch.arange(args.batch) % 10
    for architecture in args.models.split(","):
        net = Classifier(architecture)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        nfe = {"forward": 0, "backward": 0}

        def step():
            f = getattr(net, "odefunc", None)
            if f is not None:
                f.nfe = 0
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), labels)
            if f is not None:
                nfe["forward"] = f.nfe
            loss.backward()
            if f is not None:
                nfe["backward"] = f.nfe - nfe["forward"]
            opt.step()

        train = timed(step, args.repeats)
        infer_nfe = [0]

        def infer():
            f = getattr(net, "odefunc", None)
            if f is not None:
                f.nfe = 0
            with torch.no_grad():
                net(x)
            infer_nfe[0] = f.nfe if f is not None else 0

        inference = timed(infer, args.repeats)
        params = sum(p.numel() for p in net.parameters())
        for kind, samples, fwd, bwd in [("training step", train, nfe["forward"], nfe["backward"]),
                                        ("inference", inference, infer_nfe[0], 0)]:
            print(json.dumps({"peer": "torch", "model": architecture, "kind": kind, "threads": args.threads,
                              "median": statistics.median(samples), "min": min(samples), "repeats": len(samples),
                              "nfe": fwd, "nfeBackward": bwd, "parameters": params, "batch": args.batch,
                              "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
