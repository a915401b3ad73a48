#!/usr/bin/env python3
"""FFJORD's toy setting in JAX + diffrax, the second peer of `laminar-bench cnf-toy`.

The same model, data and settings as ffjord_toy.py (hidden 64-64-64 ConcatSquashLinear, tanh,
T = 0.5 learned as sqrt_end_time², 8gaussians, batch 512, Hutchinson with Gaussian noise drawn
once per solve, dopri5 at rtol = atol = 1e-5, Adam 1e-3), with diffrax's continuous adjoint
(`BacksolveAdjoint`, step control on `adjoint_rms_seminorm`), or with `--adjoint recursive`
diffrax's default discretise-then-optimise `RecursiveCheckpointAdjoint`. The whole training
step (solve, gradient, Adam) is one `jax.jit` function; its compile time is reported apart
(`compile_s`) and the first call is not timed. `--weights` loads Laminar's initial weights.
NFE are counted in one extra, untimed step with a host callback in the vector field. Prints
one JSON object with the same fields as ffjord_toy.py."""
import argparse, json, math, os, resource, statistics, time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import jax
import jax.numpy as jnp
import numpy as np
import diffrax

jax.config.update("jax_enable_x64", False)
# XLA takes minutes to compile the training step; later runs (make bench-peers' rounds) reuse it.
jax.config.update("jax_compilation_cache_dir", os.environ.get("LAMINAR_JAX_CACHE", "/tmp/laminar-jax-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

HIDDEN = (2, 64, 64, 64, 2)


def init_params(key):
    params = {"layers": [], "sqrt_end_time": jnp.array(math.sqrt(0.5), jnp.float32)}
    for a, b in zip(HIDDEN[:-1], HIDDEN[1:]):
        key, *ks = jax.random.split(key, 6)
        bound = 1 / math.sqrt(a)
        params["layers"].append({
            "weight": jax.random.uniform(ks[0], (b, a), minval=-bound, maxval=bound),
            "bias": jax.random.uniform(ks[1], (b,), minval=-bound, maxval=bound),
            "hyper_bias": jax.random.uniform(ks[2], (b, 1), minval=-1, maxval=1),
            "hyper_gate_weight": jax.random.uniform(ks[3], (b, 1), minval=-1, maxval=1),
            "hyper_gate_bias": jax.random.uniform(ks[4], (b,), minval=-1, maxval=1)})
    return params


def load_weights(path):
    from safetensors.numpy import load_file
    t = load_file(path)
    p = "chain.0.odefunc.layers."
    layers = [{"weight": t[f"{p}{i}._layer.weight"], "bias": t[f"{p}{i}._layer.bias"],
               "hyper_bias": t[f"{p}{i}._hyper_bias.weight"], "hyper_gate_weight": t[f"{p}{i}._hyper_gate.weight"],
               "hyper_gate_bias": t[f"{p}{i}._hyper_gate.bias"]} for i in range(len(HIDDEN) - 1)]
    return jax.tree_util.tree_map(jnp.asarray, {"layers": layers, "sqrt_end_time": t["chain.0.sqrt_end_time"][0]})


def field(layers, t, z):
    h = z
    for i, layer in enumerate(layers):
        gate = jax.nn.sigmoid(t * layer["hyper_gate_weight"][:, 0] + layer["hyper_gate_bias"])
        h = (h @ layer["weight"].T + layer["bias"]) * gate + t * layer["hyper_bias"][:, 0]
        if i < len(layers) - 1:
            h = jnp.tanh(h)
    return h


def make_augmented(count=None):
    def augmented(s, y, args):
        # s ∈ [0, 1] is time over T: dz/ds = T f(sT, z), the same trajectory as over [0, T],
        # so that T is an argument (diffrax's continuous adjoint differentiates args, not t1).
        z, _ = y
        layers, e, end = args
        if count is not None:
            jax.debug.callback(count)
        f, pullback = jax.vjp(lambda z: field(layers, s * end, z), z)
        (e_dfdz,) = pullback(e)
        return end * f, -end * jnp.sum(e_dfdz * e, axis=1)
    return augmented


def make_loss(adjoint_kind, count=None):
    controller = diffrax.PIDController(rtol=1e-5, atol=1e-5)
    if adjoint_kind == "backsolve":
        adjoint = diffrax.BacksolveAdjoint(
            solver=diffrax.Dopri5(),
            stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-5, norm=diffrax.adjoint_rms_seminorm))
    else:
        adjoint = diffrax.RecursiveCheckpointAdjoint()
    term = diffrax.ODETerm(make_augmented(count))

    def loss(params, x, e):
        end = params["sqrt_end_time"] ** 2
        sol = diffrax.diffeqsolve(term, diffrax.Dopri5(), 0.0, 1.0, None, (x, jnp.zeros(x.shape[0])),
                                  args=(params["layers"], e, end), stepsize_controller=controller, adjoint=adjoint,
                                  saveat=diffrax.SaveAt(t1=True), max_steps=4096)
        z, dlogp = sol.ys[0][-1], sol.ys[1][-1]
        logpz = -0.5 * jnp.sum(z ** 2, axis=1) - z.shape[1] * 0.5 * math.log(2 * math.pi)
        return -jnp.mean(logpz - dlogp), sol.stats["num_steps"]
    return loss


def adam_init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "step": jnp.array(0, jnp.int32)}


def adam_update(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    step = state["step"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1 ** step, 1 - b2 ** step
    params = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
    return params, {"m": m, "v": v, "step": step}


def make_step(adjoint_kind, count=None):
    loss = make_loss(adjoint_kind, count)

    def step(params, state, x, key):
        e = jax.random.normal(key, x.shape, x.dtype)
        (value, steps), grads = jax.value_and_grad(loss, has_aux=True)(params, x, e)
        params, state = adam_update(params, grads, state)
        return params, state, value, steps
    return step


def eight_gaussians(n, rng):
    s = 1 / math.sqrt(2)
    centers = 4 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
    x = rng.standard_normal((n, 2)) * 0.5 + centers[rng.integers(0, 8, n)]
    return jnp.asarray(x / 1.414, dtype=jnp.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights")
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--adjoint", default="backsolve", choices=["backsolve", "recursive"])
    args = p.parse_args()
    params = load_weights(args.weights) if args.weights else init_params(jax.random.PRNGKey(args.seed))
    state = adam_init(params)
    rng = np.random.default_rng(args.seed)
    key = jax.random.PRNGKey(args.seed)
    step = jax.jit(make_step(args.adjoint))
    start = time.perf_counter()
    key, sub = jax.random.split(key)
    compiled_params, compiled_state, _, _ = jax.block_until_ready(step(params, state, eight_gaussians(args.batch, rng), sub))
    compile_s = time.perf_counter() - start
    del compiled_params, compiled_state  # the compile call's step is not part of the run
    rng = np.random.default_rng(args.seed)
    times, losses, steps = [], [], []
    for _ in range(args.iterations):
        x = eight_gaussians(args.batch, rng)
        key, sub = jax.random.split(key)
        start = time.perf_counter()
        params, state, value, n = jax.block_until_ready(step(params, state, x, sub))
        times.append(time.perf_counter() - start)
        losses.append(float(value))
        steps.append(int(n))
    # NFE of one more step, counted by a host callback per evaluation of the vector field.
    calls = [0]
    counting = jax.jit(make_step(args.adjoint, count=lambda: calls.__setitem__(0, calls[0] + 1)))
    key, sub = jax.random.split(key)
    _ = jax.block_until_ready(counting(params, state, eight_gaussians(args.batch, rng), sub))
    # The forward solve's evaluations: 6 per step (dopri5 is FSAL) + the first and the
    # initial step-size selection's two; the rest of the callbacks are the backward pass.
    forward = 6 * int(np.mean(steps)) + 2
    print(json.dumps({
        "case": "cnf-toy", "peer": f"diffrax-{args.adjoint}", "jax": jax.__version__, "diffrax": diffrax.__version__,
        "threads": args.threads, "median": statistics.median(times), "min": min(times), "max": max(times),
        "repeats": len(times), "compile_s": compile_s, "nfe": forward, "nfe_backward": max(calls[0] - forward, 0),
        "nfe_counted_total": calls[0], "loss_first": losses[0], "loss_last": losses[-1],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
