#!/usr/bin/env python3
"""PyTorch peer of `laminar-bench images`: the multiscale CNF and the image Real NVP with
Laminar's architectures (Sources/LaminarFlows/Images/), one training step at batch 64 on real
Fashion-MNIST training images.

Multiscale CNF (MultiscaleCNF.swift, CNFBlock.swift, CNFDynamics.swift): 2 scales, one CNF
block before and one after the squeeze, factor-out of half of the channels; each block a stack
of ConcatConv2d 3×3 (time as the first input channel) C → 32 → 32 → C with softplus between,
a learned end time T = sqrt_end_time² (T = 1 at start); Hutchinson's trace with Rademacher
noise drawn once per solve; the RNODE kinetic ∫‖f‖² and Jacobian ∫‖εᵀ∂f/∂z‖² integrals (batch
mean, summed over blocks) at λ = 0.01 each; dopri5 at rtol = atol = 1e-3 through torchdiffeq's
`odeint_adjoint` with the seminorm. The state [z, Δ, K, J] is one flat tensor per row, so that
the error norm is the RMS over all components, as Laminar's solver takes it.

Image Real NVP (ImageRealNVP.swift): 2 scales; 3 checkerboard couplings, squeeze, 3 channel-wise
couplings, factor-out; 4 checkerboard couplings on the last scale; coupling nets 3×3 conv
C → 32 → 32 → 2C with ReLU, the last conv zero-initialised, log-scales bounded by
σ ⊙ tanh(·) with a learned per-channel σ (initially 1); no batch normalisation.

Data as Laminar's ImagePreprocessing: the first 1,000 training images, uniform dequantization,
logit with α = 1e-6, bits/dim including the preprocessing's log-determinant. One training step
= forward, loss (NLL + regularisers), backward, Adam 1e-3; batches are prepared outside the
timed region on both sides. One JSON line per model (median of `--repeats` steps after one
warm-up, NFE forward/backward as means over the timed steps, bits/dim of the warm-up step from
the initial weights), in the field names of laminar-bench's JSON."""
import argparse, gzip, json, math, os, statistics, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchdiffeq import odeint_adjoint

from classifiers_torch import ConcatConv2d

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # MNISTFormat.fashionMNISTDirectory
ALPHA = 1e-6
# Laminar's parameter counts of the default configurations (laminar-bench images reports them).
LAMINAR_PARAMETERS = {"multiscale CNF": 33_673, "Real NVP": 112_741}


def squeeze(x):
    """[n, C, H, W] → [n, 4C, H/2, W/2]; channel 4c + 2i + j holds pixel (2r + i, 2s + j) of c."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def scale_shapes(c, h, w, scales):
    """(C, H, W) entering each scale: a squeeze and a factor-out of ⌊4C/2⌋ channels between scales."""
    shapes = []
    for _ in range(scales):
        shapes.append((c, h, w))
        c, h, w = 4 * c - (4 * c) // 2, h // 2, w // 2
    return shapes


def standard_normal_log_density(z):
    return -0.5 * (z ** 2).sum(1) - z.shape[1] * 0.5 * math.log(2 * math.pi)


# MARK: - multiscale CNF

class ConvField(nn.Module):
    """ConvVectorField: ConcatConv2d C → hidden… → C with softplus between the layers."""

    def __init__(self, c, hidden):
        super().__init__()
        sizes = [c] + list(hidden) + [c]
        self.layers = nn.ModuleList(ConcatConv2d(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, t, x):
        for layer in self.layers[:-1]:
            x = F.softplus(layer(t, x))
        return self.layers[-1](t, x)


class AugmentedDynamics(nn.Module):
    """[f, −εᵀ(∂f/∂z)ε, ‖f‖², ‖εᵀ∂f/∂z‖²] on a flat state [z, Δ, K, J] of rows [n, C·H·W + 3]."""

    def __init__(self, shape, hidden):
        super().__init__()
        self.shape = shape
        self.diffeq = ConvField(shape[0], hidden)
        self.noise = None  # Rademacher, [n, C·H·W], drawn once per solve
        self.nfe = 0

    def forward(self, t, state):
        self.nfe += 1
        n, d = state.shape[0], self.noise.shape[1]
        recording = state.requires_grad  # inside the adjoint's vector–Jacobian products
        with torch.enable_grad():
            z = state[:, :d] if recording else state[:, :d].detach().requires_grad_(True)
            f = self.diffeq(t, z.reshape(n, *self.shape)).reshape(n, d)
            e_dfdz = torch.autograd.grad(f, z, self.noise, create_graph=recording)[0]
        out = torch.cat([f, -(e_dfdz * self.noise).sum(1, keepdim=True), (f ** 2).sum(1, keepdim=True),
                         (e_dfdz ** 2).sum(1, keepdim=True)], 1)
        return out if recording else out.detach()


class CNFBlock(nn.Module):
    """Integrates the augmented dynamics from t = 0 to T = sqrt_end_time²."""

    def __init__(self, shape, hidden, rtol, atol, time_length=1.0):
        super().__init__()
        self.odefunc = AugmentedDynamics(shape, hidden)
        self.sqrt_end_time = nn.Parameter(torch.tensor(math.sqrt(time_length)))
        self.rtol, self.atol = rtol, atol

    def forward(self, z):
        """z [n, d] → (z(T), log|det| [n], kinetic [n], Jacobian [n])."""
        n, d = z.shape
        self.odefunc.noise = torch.randint(0, 2, z.shape, dtype=z.dtype) * 2 - 1
        state = torch.cat([z, z.new_zeros(n, 3)], 1)
        times = torch.stack([torch.zeros(()), self.sqrt_end_time * self.sqrt_end_time])
        out = odeint_adjoint(self.odefunc, state, times, rtol=self.rtol, atol=self.atol, method="dopri5",
                             adjoint_options=dict(norm="seminorm"))[-1]
        return out[:, :d], -out[:, d], out[:, d + 1], out[:, d + 2]


class MultiscaleCNF(nn.Module):
    """Blocks before the squeeze and after it, then half of the channels factored out; the last
    scale has blocks only. `loss` is the mean NLL in nats plus the weighted RNODE terms."""

    def __init__(self, c=1, h=28, w=28, scales=2, blocks_per_scale=1, hidden=(32, 32), rtol=1e-3, atol=1e-3,
                 kinetic_weight=0.01, jacobian_weight=0.01):
        super().__init__()
        self.shapes = scale_shapes(c, h, w, scales)
        self.kinetic_weight, self.jacobian_weight = kinetic_weight, jacobian_weight

        def blocks(shape):
            return nn.ModuleList(CNFBlock(shape, hidden, rtol, atol) for _ in range(blocks_per_scale))

        self.before = nn.ModuleList(blocks(s) for s in self.shapes)
        self.after = nn.ModuleList(blocks((4 * c, h // 2, w // 2)) for c, h, w in self.shapes[:-1])

    @property
    def dynamics(self):
        return [b.odefunc for stage in list(self.before) + list(self.after) for b in stage]

    def loss(self, x):
        n = x.shape[0]
        log_det = x.new_zeros(n)
        kinetic = jacobian = 0.0
        factored = []

        def run(blocks, z):
            nonlocal log_det, kinetic, jacobian
            for block in blocks:
                z, ld, k, j = block(z)
                log_det, kinetic, jacobian = log_det + ld, kinetic + k.mean(), jacobian + j.mean()
            return z

        h = x
        for s, (c, height, width) in enumerate(self.shapes):
            h = run(self.before[s], h)
            if s == len(self.shapes) - 1:
                break
            h = run(self.after[s], squeeze(h.reshape(n, c, height, width)).reshape(n, -1))
            kept = 4 * c - (4 * c) // 2
            h = h.reshape(n, 4 * c, height // 2, width // 2)
            factored.append(h[:, kept:].reshape(n, -1))
            h = h[:, :kept].reshape(n, -1)
        z = torch.cat(factored + [h], 1)
        nll = -(standard_normal_log_density(z) + log_det).mean()
        return nll + self.kinetic_weight * kinetic + self.jacobian_weight * jacobian, nll


# MARK: - image Real NVP

def checkerboard(c, h, w, parity):
    r, col = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return ((r + col + parity) % 2 == 0).float().expand(1, c, h, w).clone()


def channelwise(c, h, w, parity):
    first = (torch.arange(c) < c // 2) == (parity == 0)
    return first.float().view(1, c, 1, 1).expand(1, c, h, w).clone()


class Coupling(nn.Module):
    """y = x ⊙ exp(s) + t, s = σ ⊙ tanh(ŝ(x ⊙ m)) ⊙ (1 − m), t = t̂(x ⊙ m) ⊙ (1 − m)."""

    def __init__(self, mask, hidden):
        super().__init__()
        c = mask.shape[1]
        self.register_buffer("mask", mask)
        self.register_buffer("complement", 1 - mask)
        sizes = [c] + list(hidden)
        self.net = nn.ModuleList([nn.Conv2d(a, b, 3, 1, 1) for a, b in zip(sizes[:-1], sizes[1:])]
                                 + [nn.Conv2d(sizes[-1], 2 * c, 3, 1, 1)])
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(1, c, 1, 1))
        self.channels = c

    def forward(self, x):
        h = x * self.mask
        for conv in self.net[:-1]:
            h = F.relu(conv(h))
        h = self.net[-1](h)
        s = torch.tanh(h[:, :self.channels]) * self.scale * self.complement
        t = h[:, self.channels:] * self.complement
        return x * torch.exp(s) + t, s.flatten(1).sum(1)


class ImageRealNVP(nn.Module):
    def __init__(self, c=1, h=28, w=28, scales=2, couplings_per_stage=3, hidden=(32, 32)):
        super().__init__()
        self.shapes = scale_shapes(c, h, w, scales)
        k = couplings_per_stage
        self.before = nn.ModuleList(
            nn.ModuleList(Coupling(checkerboard(c, h, w, i % 2), hidden) for i in range(k + (s == scales - 1)))
            for s, (c, h, w) in enumerate(self.shapes))
        self.after = nn.ModuleList(
            nn.ModuleList(Coupling(channelwise(4 * c, h // 2, w // 2, i % 2), hidden) for i in range(k))
            for c, h, w in self.shapes[:-1])
        self.dynamics = []

    def loss(self, x):
        n = x.shape[0]
        log_det = x.new_zeros(n)
        factored = []
        c, h, w = self.shapes[0]
        state = x.reshape(n, c, h, w)
        for s, (c, h, w) in enumerate(self.shapes):
            for coupling in self.before[s]:
                state, ld = coupling(state)
                log_det = log_det + ld
            if s == len(self.shapes) - 1:
                break
            state = squeeze(state)
            for coupling in self.after[s]:
                state, ld = coupling(state)
                log_det = log_det + ld
            kept = 4 * c - (4 * c) // 2
            factored.append(state[:, kept:].reshape(n, -1))
            state = state[:, :kept]
        nll = -(standard_normal_log_density(torch.cat(factored + [state.reshape(n, -1)], 1)) + log_det).mean()
        return nll, nll


# MARK: - data and the training step

def fashion_mnist_train(count):
    with gzip.open(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return raw.reshape(-1, 28 * 28)[:count]


def preprocess(pixels, rng):
    """Dequantize and logit-transform bytes [n, D] → (y [n, D] float32, mean log|dy/dx̃| over the rows)."""
    v = (pixels.astype(np.float64) + rng.random(pixels.shape)) / 256
    s = ALPHA + (1 - 2 * ALPHA) * v
    y = np.log(s) - np.log1p(-s)
    log_det = (math.log(1 - 2 * ALPHA) - np.log(s) - np.log1p(-s)).sum(1) - pixels.shape[1] * math.log(256)
    return torch.tensor(y, dtype=torch.float32), float(log_det.mean())


def bits_per_dim(nll, preprocessing_log_det, dimension):
    return (nll - preprocessing_log_det) / (dimension * math.log(2))


def measure(name, model, batches, repeats):
    """Times `repeats` training steps after one warm-up on consecutive batches."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, nfe_forward, nfe_backward, bpd = [], [], [], []
    for x, log_det in batches[:repeats + 1]:
        for f in model.dynamics:
            f.nfe = 0
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss, nll = model.loss(x)
        forward = sum(f.nfe for f in model.dynamics)
        loss.backward()
        opt.step()
        seconds.append(time.perf_counter() - start)
        nfe_forward.append(forward)
        nfe_backward.append(sum(f.nfe for f in model.dynamics) - forward)
        bpd.append(bits_per_dim(float(nll.detach()), log_det, x.shape[1]))
    timed = seconds[1:]
    evaluations = [f + b for f, b in zip(nfe_forward[1:], nfe_backward[1:])]
    params = sum(p.numel() for p in model.parameters())
    return {"peer": "torch", "model": name, "kind": "training step", "threads": torch.get_num_threads(),
            "median": statistics.median(timed), "min": min(timed), "max": max(timed), "repeats": len(timed),
            "nfe": round(statistics.mean(nfe_forward[1:])), "nfeBackward": round(statistics.mean(nfe_backward[1:])),
            "seconds_per_evaluation": statistics.median(s / e for s, e in zip(timed, evaluations)) if evaluations[0] else None,
            "bits_per_dim_initial": bpd[0], "bits_per_dim_last": bpd[-1], "parameters": params,
            "laminar_parameters": LAMINAR_PARAMETERS[name], "batch": batches[0][0].shape[0], "torch": torch.__version__}


MODELS = {"multiscale CNF": MultiscaleCNF, "Real NVP": ImageRealNVP}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    images = fashion_mnist_train(1_000)
    order = rng.permutation(len(images))
    batches = [preprocess(images[order[i * args.batch:(i + 1) * args.batch]], rng) for i in range(args.repeats + 1)]
    for name in args.models.split(","):
        model = MODELS[name]()
        record = measure(name, model, batches, args.repeats)
        assert record["parameters"] == record["laminar_parameters"], \
            f"{name}: {record['parameters']} parameters, Laminar has {record['laminar_parameters']}"
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
