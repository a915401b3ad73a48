#!/usr/bin/env python3
"""The `solver` case for peers: scipy's solve_ivp (RK45, DOP853), torchdiffeq (dopri5, dopri8)
and diffrax (Dopri5, Tsit5, Dopri8) on Lotka–Volterra, Van der Pol (μ = 1) and Kepler (e = 0.5)
at rtol = atol ∈ {1e-3, 1e-6, 1e-9}: median wall time, NFE and error against a DOP853 solve at
1e-13. JAX compile time is excluded (a warm-up call) and reported separately. Prints JSON lines."""
import argparse, json, math, statistics, time

import numpy as np
from scipy.integrate import solve_ivp


def lotka(t, y):
    return [1.5 * y[0] - y[0] * y[1], -3.0 * y[1] + y[0] * y[1]]


def vdp(t, y):
    return [y[1], (1 - y[0] ** 2) * y[1] - y[0]]


def kepler(t, y):
    r3 = (y[0] ** 2 + y[1] ** 2) ** 1.5
    return [y[2], y[3], -y[0] / r3, -y[1] / r3]


PROBLEMS = {"lotka_volterra": (lotka, [1.0, 1.0], 10.0), "van_der_pol": (vdp, [2.0, 0.0], 20.0),
            "kepler": (kepler, [0.5, 0.0, 0.0, math.sqrt(3.0)], 2 * math.pi)}
TOLS = [1e-3, 1e-6, 1e-9]


def timed(fn, repeats):
    out = []
    for _ in range(repeats):
        s = time.perf_counter()
        r = fn()
        out.append(time.perf_counter() - s)
    return statistics.median(out), r


def emit(peer, problem, method, tol, median, nfe, err, steps=None, extra=None):
    d = {"peer": peer, "problem": problem, "method": method, "tol": tol, "median": median, "nfe": nfe, "error": err}
    if steps:
        d["us_per_step"] = median / steps * 1e6
    d.update(extra or {})
    print(json.dumps(d), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--peers", default="scipy,torchdiffeq,diffrax")
    args = p.parse_args()
    peers = args.peers.split(",")
    refs = {}
    for name, (f, y0, t1) in PROBLEMS.items():
        r = solve_ivp(f, (0, t1), y0, method="DOP853", rtol=1e-13, atol=1e-13)
        refs[name] = r.y[:, -1]
    if "scipy" in peers:
        for name, (f, y0, t1) in PROBLEMS.items():
            for method in ["RK45", "DOP853"]:
                for tol in TOLS:
                    med, r = timed(lambda: solve_ivp(f, (0, t1), y0, method=method, rtol=tol, atol=tol), args.repeats)
                    steps = len(r.t) - 1
                    emit("scipy", name, method, tol, med, int(r.nfev), float(np.max(np.abs(r.y[:, -1] - refs[name]))), steps)
    if "torchdiffeq" in peers:
        import torch
        from torchdiffeq import odeint
        torch.set_num_threads(1)
        for name, (f, y0, t1) in PROBLEMS.items():
            count = [0]

            def tf(t, y, f=f):
                count[0] += 1
                return torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in f(t, y)])
            for method in ["dopri5", "dopri8"]:
                for tol in TOLS:
                    y = torch.tensor(y0, dtype=torch.float64)
                    ts = torch.tensor([0.0, t1], dtype=torch.float64)
                    count[0] = 0
                    med, r = timed(lambda: odeint(tf, y, ts, rtol=tol, atol=tol, method=method), args.repeats)
                    emit("torchdiffeq", name, method, tol, med, count[0] // args.repeats,
                         float(np.max(np.abs(r[-1].numpy() - refs[name]))))
    if "diffrax" in peers:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import diffrax

        def jf(fn):
            return lambda t, y, args: jnp.stack(fn(t, y))
        for name, (f, y0, t1) in PROBLEMS.items():
            term = diffrax.ODETerm(jf(f))
            for solver_name, solver in [("Dopri5", diffrax.Dopri5()), ("Tsit5", diffrax.Tsit5()), ("Dopri8", diffrax.Dopri8())]:
                for tol in TOLS:
                    @jax.jit
                    def run(y):
                        return diffrax.diffeqsolve(term, solver, 0.0, t1, None, y,
                                                   stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
                                                   max_steps=100000)
                    y = jnp.array(y0)
                    s = time.perf_counter()
                    sol = run(y)
                    jax.block_until_ready(sol.ys)
                    compile_s = time.perf_counter() - s
                    med, sol = timed(lambda: jax.block_until_ready(run(y)), args.repeats)
                    steps = int(sol.stats["num_steps"])
                    nfe = steps * (solver.tableau.num_stages if hasattr(solver, "tableau") else 0)
                    emit("diffrax", name, solver_name, tol, med, nfe, float(np.max(np.abs(np.array(sol.ys[-1]) - refs[name]))),
                         steps, {"compile_s": compile_s, "accepted": int(sol.stats["num_accepted_steps"]),
                                 "rejected": int(sol.stats["num_rejected_steps"])})


if __name__ == "__main__":
    main()
