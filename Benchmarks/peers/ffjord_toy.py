#!/usr/bin/env python3
"""FFJORD's toy setting in PyTorch + torchdiffeq, the peer of `laminar-bench cnf-toy`.

Same model (hidden 64-64-64 ConcatSquashLinear, tanh, one CNF block, T = 0.5 learned as
sqrt_end_time²), same data (8gaussians, batch 512), Hutchinson estimator with Gaussian noise
drawn once per solve, dopri5 at rtol = atol = 1e-5, adjoint gradients with the seminorm, Adam
1e-3. `--weights` loads Laminar's initial weights (safetensors) so both start from one model.
Prints one JSON object with the same fields as Laminar's results."""
import argparse, json, math, os, resource, statistics, sys, time

import numpy as np
import torch
import torch.nn as nn
from torchdiffeq import odeint_adjoint


class ConcatSquashLinear(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self._layer = nn.Linear(i, o)
        self._hyper_bias = nn.Linear(1, o, bias=False)
        self._hyper_gate = nn.Linear(1, o)

    def forward(self, t, x):
        tt = t.view(1, 1)
        return self._layer(x) * torch.sigmoid(self._hyper_gate(tt)) + self._hyper_bias(tt)


class ODEFunc(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList([ConcatSquashLinear(a, b) for a, b in zip(widths[:-1], widths[1:])])
        self.e = None  # Hutchinson noise; None means the exact trace
        self.nfe = 0

    def forward(self, t, state):
        # state = [z, Δlog p] as one [n, 3] tensor.
        self.nfe += 1
        with torch.set_grad_enabled(True):
            z = state[:, :2] if state.requires_grad else state[:, :2].clone().requires_grad_(True)
            h = z
            for i, layer in enumerate(self.layers):
                h = layer(t, h)
                if i < len(self.layers) - 1:
                    h = torch.tanh(h)
            if self.e is not None:
                e_dfdz = torch.autograd.grad(h, z, self.e, create_graph=True)[0]
                divergence = (e_dfdz * self.e).sum(1, keepdim=True)
            else:
                divergence = 0.0
                for i in range(h.shape[1]):
                    divergence = divergence + torch.autograd.grad(h[:, i].sum(), z, create_graph=True)[0][:, i:i + 1]
        return torch.cat([h, -divergence], 1)


class CNF(nn.Module):
    def __init__(self):
        super().__init__()
        self.odefunc = ODEFunc([2, 64, 64, 64, 2])
        self.sqrt_end_time = nn.Parameter(torch.tensor(math.sqrt(0.5)))

    def forward(self, x, exact=False):
        self.odefunc.e = None if exact else torch.randn_like(x)
        times = torch.stack([torch.tensor(0.0), self.sqrt_end_time * self.sqrt_end_time])
        state = torch.cat([x, torch.zeros(x.shape[0], 1)], 1)
        out = odeint_adjoint(self.odefunc, state, times, rtol=1e-5, atol=1e-5, method="dopri5",
                             adjoint_options=dict(norm="seminorm"))[-1]
        z, dlogp = out[:, :2], out[:, 2:]
        logpz = -0.5 * (z ** 2).sum(1) - z.shape[1] * 0.5 * math.log(2 * math.pi)
        return -(logpz - dlogp.view(-1)).mean()


def eight_gaussians(n, rng):
    s = 1 / math.sqrt(2)
    centers = 4 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
    x = rng.standard_normal((n, 2)) * 0.5 + centers[rng.integers(0, 8, n)]
    return torch.tensor(x / 1.414, dtype=torch.float32)


def checkerboard(n, rng):
    x1 = rng.random(n) * 4 - 2
    x2 = rng.random(n) - rng.integers(0, 2, n) * 2 + np.floor(x1) % 2
    return torch.tensor(np.stack([x1, x2], 1) * 2, dtype=torch.float32)


def two_spirals(n, rng):
    m = np.sqrt(rng.random((n // 2, 1))) * 540 * (2 * np.pi) / 360
    d1x = -np.cos(m) * m + rng.random((n // 2, 1)) * 0.5
    d1y = np.sin(m) * m + rng.random((n // 2, 1)) * 0.5
    x = np.vstack((np.hstack((d1x, d1y)), np.hstack((-d1x, -d1y)))) / 3
    return torch.tensor(x + rng.standard_normal(x.shape) * 0.1, dtype=torch.float32)


DATA = {"8gaussians": eight_gaussians, "checkerboard": checkerboard, "2spirals": two_spirals}


def load_weights(model, path):
    from safetensors.numpy import load_file
    tensors = load_file(path)
    state = {}
    for name, value in tensors.items():
        key = name.replace("chain.0.", "")
        state[key] = torch.tensor(value)
    model.load_state_dict(state, strict=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights")
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="8gaussians", choices=sorted(DATA))
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--trace", default="hutchinson", choices=["hutchinson", "exact"])
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--eval", type=int, default=0, help="after training, exact-trace NLL on this many fresh samples")
    p.add_argument("--state", help="resumable run: save everything to this file every 250 iterations "
                   "(written atomically) and continue from it when it exists")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = CNF()
    if args.weights:
        load_weights(model, args.weights)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=args.weight_decay)
    rng = np.random.default_rng(args.seed)
    times, nfe_f, nfe_b, losses = [], [], [], []
    start_iteration = 0
    if args.state and os.path.exists(args.state):
        saved = torch.load(args.state, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = saved["numpy_rng"]
        torch.set_rng_state(saved["torch_rng"])
        times, nfe_f, nfe_b, losses = saved["times"], saved["nfe_f"], saved["nfe_b"], saved["losses"]
        start_iteration = saved["iteration"]
        print(f"resumed from {args.state} at iteration {start_iteration}", file=sys.stderr)
    for iteration in range(start_iteration, args.iterations):
        if args.state and iteration > start_iteration and iteration % 250 == 0:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                        "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                        "times": times, "nfe_f": nfe_f, "nfe_b": nfe_b, "losses": losses,
                        "iteration": iteration}, args.state + ".tmp")
            os.replace(args.state + ".tmp", args.state)
            print(f"iteration {iteration}: loss {losses[-1]:.4f}, NFE {nfe_f[-1]}/{nfe_b[-1]}", file=sys.stderr, flush=True)
        x = DATA[args.data](args.batch, rng)
        start = time.perf_counter()
        opt.zero_grad()
        model.odefunc.nfe = 0
        loss = model(x, exact=args.trace == "exact")
        nfe_f.append(model.odefunc.nfe)
        model.odefunc.nfe = 0
        loss.backward()
        nfe_b.append(model.odefunc.nfe)
        opt.step()
        times.append(time.perf_counter() - start)
        losses.append(float(loss))
    nll = None
    if args.eval:
        test = DATA[args.data](args.eval, np.random.default_rng(12345))
        values = [float(model(test[i:i + 1000], exact=True)) for i in range(0, args.eval, 1000)]
        nll = statistics.mean(values)
    print(json.dumps({"data": args.data, "trace": args.trace, "test_nll": nll,
        "case": "cnf-toy", "peer": "torchdiffeq", "torch": torch.__version__, "threads": args.threads,
        "median": statistics.median(times), "min": min(times), "max": max(times), "repeats": len(times),
        "nfe": round(statistics.mean(nfe_f)), "nfe_backward": round(statistics.mean(nfe_b)),
        "loss_first": losses[0], "loss_last": losses[-1],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
