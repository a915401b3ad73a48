#!/usr/bin/env python3
"""`make bench-peers`: runs Laminar and its peers interleaved (A, B, A, B, …) so that machine
noise hits both, and prints ratios. Exits non-zero when a comparison is not like for like
(NFE differing by more than 25 %, or final losses by more than 0.1 nats) instead of printing a
misleading ratio. Writes Benchmarks/results/peers.json."""
import json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
PY = sys.executable
PEERS = os.path.join(ROOT, "Benchmarks/peers")
ROUNDS = int(os.environ.get("ROUNDS", "2"))


def ours(case, threads, extra=()):
    out = os.path.join(ROOT, "Benchmarks/results")
    subprocess.run([BENCH, case, "--threads", str(threads), "--out", out, *extra], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, f"{case}.json")) as f:
        return json.load(f)


def peer(script, *args, threads=1):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" if threads == 1 else "")
    r = subprocess.run([PY, os.path.join(PEERS, script), *args], check=True, capture_output=True, text=True, env=env)
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def main():
    failures, rows, record = [], [], {"cnf-toy": [], "solver": []}
    weights = os.path.join(ROOT, "Benchmarks/results/cnf-toy-initial-weights.safetensors")
    for threads in (1, 2):
        # Per round: Laminar, torchdiffeq, diffrax (continuous adjoint with the seminorm, like the
        # other two), one after the other, so that the machine's drift hits all three.
        # diffrax-recursive (its default, discretise-then-optimise) is reported for information:
        # its backward pass differentiates the stored steps, so NFE are not like for like.
        runs = {"laminar": [], "torchdiffeq": [], "diffrax": [], "diffrax-recursive": []}
        for _ in range(ROUNDS):
            a = ours("cnf-toy", threads, ["--weights", weights])["measurements"][0]
            runs["laminar"].append({"time": a["median"], "nfe": a["nfe"] + a["nfeBackward"], "loss": a["extra"]["loss_last"],
                                    "bound": a["extra"].get("blas_bound_s")})
            for name, script, extra in (("torchdiffeq", "ffjord_toy.py", []), ("diffrax", "ffjord_toy_diffrax.py", []),
                                        ("diffrax-recursive", "ffjord_toy_diffrax.py", ["--adjoint", "recursive"])):
                b = peer(script, "--weights", weights, "--threads", str(threads), *extra, threads=threads)[0]
                runs[name].append({"time": b["median"], "nfe": b["nfe"] + b["nfe_backward"], "loss": b["loss_last"]})
        med = {k: statistics.median(r["time"] for r in v) for k, v in runs.items()}
        nfe = {k: statistics.mean(r["nfe"] for r in v) for k, v in runs.items()}
        loss = {k: statistics.mean(r["loss"] for r in v) for k, v in runs.items()}
        bounds = [r["bound"] for r in runs["laminar"] if r["bound"]]
        bound = statistics.median(bounds) if bounds else None
        row = {"case": "cnf-toy", "threads": threads, "laminar_s": med["laminar"], "torchdiffeq_s": med["torchdiffeq"],
               "diffrax_s": med["diffrax"], "diffrax_recursive_s": med["diffrax-recursive"], "time_ratio": med["laminar"] / med["torchdiffeq"],
               "speedup": med["torchdiffeq"] / med["laminar"], "speedup_vs_diffrax": med["diffrax"] / med["laminar"],
               "speedup_vs_diffrax_recursive": med["diffrax-recursive"] / med["laminar"],
               "ms_per_nfe": {k: med[k] / nfe[k] * 1e3 for k in med}, "blas_bound_s": bound,
               "bound_ratio": med["laminar"] / bound if bound else None,
               "nfe_ratio": nfe["laminar"] / nfe["torchdiffeq"], "nfe_ratio_diffrax": nfe["laminar"] / nfe["diffrax"],
               "loss_difference": loss["laminar"] - loss["torchdiffeq"], "loss_difference_diffrax": loss["laminar"] - loss["diffrax"],
               "load_average": os.getloadavg()[0]}
        record["cnf-toy"].append(row)
        rows.append(f"cnf-toy  threads {threads}: Laminar {med['laminar']*1e3:.1f} ms/it ({row['ms_per_nfe']['laminar']:.3f} ms/NFE"
                    + (f", BLAS bound {bound*1e3:.1f} ms/it, {row['bound_ratio']:.2f}× the bound" if bound else "") + "), "
                    f"torchdiffeq {med['torchdiffeq']*1e3:.1f} ms/it ({row['ms_per_nfe']['torchdiffeq']:.3f} ms/NFE), "
                    f"diffrax {med['diffrax']*1e3:.1f} ms/it ({row['ms_per_nfe']['diffrax']:.3f} ms/NFE), "
                    f"diffrax recursive {med['diffrax-recursive']*1e3:.1f} ms/it; speed-up {row['speedup']:.2f}× vs "
                    f"torchdiffeq, {row['speedup_vs_diffrax']:.2f}× vs diffrax, {row['speedup_vs_diffrax_recursive']:.2f}× vs "
                    f"diffrax recursive; "
                    f"NFE ratios {row['nfe_ratio']:.2f} / {row['nfe_ratio_diffrax']:.2f}, loss diffs "
                    f"{row['loss_difference']:+.3f} / {row['loss_difference_diffrax']:+.3f}")
        for peer_name in ("torchdiffeq", "diffrax"):
            if abs(nfe["laminar"] / nfe[peer_name] - 1) > 0.25:
                failures.append(f"cnf-toy threads {threads}: NFE differ from {peer_name}'s by "
                                f"{abs(nfe['laminar'] / nfe[peer_name] - 1) * 100:.0f}% (> 25%)")
            if abs(loss["laminar"] - loss[peer_name]) > 0.1:
                failures.append(f"cnf-toy threads {threads}: final losses differ from {peer_name}'s by "
                                f"{abs(loss['laminar'] - loss[peer_name]):.3f} nats (> 0.1)")
    # Solver: Laminar vs scipy/torchdiffeq/diffrax, per-step cost and NFE at equal tolerance.
    mine = {m["name"]: m for m in ours("solver", 1)["measurements"]}
    theirs = peer("solver_peers.py", "--repeats", "5")
    pairs = {"dopri5": [("scipy", "RK45"), ("torchdiffeq", "dopri5"), ("diffrax", "Dopri5")],
             "tsit5": [("diffrax", "Tsit5")], "dopri8": [("scipy", "DOP853"), ("torchdiffeq", "dopri8"), ("diffrax", "Dopri8")]}
    for problem in ["lotka_volterra", "van_der_pol", "kepler"]:
        for ours_method, peer_methods in pairs.items():
            for tol in [1e-3, 1e-6, 1e-9]:
                m = mine.get(f"{problem} {ours_method} tol {tol}")
                for peer_name, method in peer_methods:
                    p = next((x for x in theirs if x["peer"] == peer_name and x["problem"] == problem
                              and x["method"] == method and x["tol"] == tol), None)
                    if not m or not p:
                        continue
                    row = {"case": "solver", "problem": problem, "tol": tol, "laminar": ours_method, "peer": peer_name,
                           "peer_method": method, "time_ratio": m["median"] / p["median"], "nfe_ratio": m["nfe"] / p["nfe"],
                           "laminar_error": m["extra"]["error"], "peer_error": p["error"]}
                    record["solver"].append(row)
                    rows.append(f"solver {problem:15s} tol {tol:.0e} {ours_method}/{peer_name}:{method:7s} time ratio "
                                f"{row['time_ratio']:.3f}, NFE ratio {row['nfe_ratio']:.2f}, error {m['extra']['error']:.1e} vs {p['error']:.1e}")
    with open(os.path.join(ROOT, "Benchmarks/results/peers.json"), "w") as f:
        json.dump(record, f, indent=1)
    print("\n".join(rows))
    if failures:
        print("\nNOT COMPARABLE:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
