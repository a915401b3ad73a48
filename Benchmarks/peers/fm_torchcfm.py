#!/usr/bin/env python3
"""One flow-matching training step with torchcfm, for `make bench-peers` (fm_compare.py).

The model is the field Laminar trains on toy data (FFJORD's ODEnet: ConcatSquash layers
2-64-64-64-2, tanh), with one time per row; the step is: noise, coupling, path sample,
field, MSE, backward, Adam. The data batch (8gaussians) is drawn outside the timed region,
as in laminar-bench's `flow-matching` case. Prints one JSON line per coupling."""
import argparse, json, math, statistics, time

import torch
from torch import nn
from torchcfm.conditional_flow_matching import (ExactOptimalTransportConditionalFlowMatcher,
                                                TargetConditionalFlowMatcher)


class ConcatSquashLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.layer = nn.Linear(n_in, n_out)
        self.hyper_bias = nn.Linear(1, n_out, bias=False)
        self.hyper_gate = nn.Linear(1, n_out)

    def forward(self, t, x):  # t: [n, 1]
        return self.layer(x) * torch.sigmoid(self.hyper_gate(t)) + self.hyper_bias(t)


class Field(nn.Module):
    def __init__(self, d=2, hidden=(64, 64, 64)):
        super().__init__()
        widths = (d, *hidden, d)
        self.layers = nn.ModuleList(ConcatSquashLinear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, t, x):
        for i, layer in enumerate(self.layers):
            x = layer(t, x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


def eight_gaussians(n, generator):
    centers = torch.tensor([(math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)) for k in range(8)]) * 4
    idx = torch.randint(0, 8, (n,), generator=generator)
    return (centers[idx] + 0.5 * torch.randn(n, 2, generator=generator)) / 1.414


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--couplings", default="independent,ot")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    for coupling in a.couplings.split(","):
        model = Field()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        matcher = (TargetConditionalFlowMatcher(sigma=1e-4) if coupling == "independent"
                   else ExactOptimalTransportConditionalFlowMatcher(sigma=0.0))
        batches = [eight_gaussians(a.batch, g) for _ in range(a.repeats + 10)]
        times, losses = [], []
        for i, x1 in enumerate(batches):
            start = time.perf_counter()
            x0 = torch.randn_like(x1)
            t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)
            loss = ((model(t[:, None], xt) - ut) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            elapsed = time.perf_counter() - start
            if i >= 10:  # warm-up
                times.append(elapsed)
                losses.append(loss.item())
        print(json.dumps({"peer": "torchcfm", "coupling": coupling, "batch": a.batch, "median": statistics.median(times),
                          "min": min(times), "repeats": len(times), "loss_last": statistics.mean(losses[-20:]),
                          "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
