"""Shared by the image comparisons of `make bench-peers` (image_compare.py, density_compare.py):
one `laminar-bench` case and one PyTorch peer script run interleaved A, B, A, B for ROUNDS
rounds at each of THREADS (environment variables, default 3 rounds at 1 and 2 threads), with
the 1-minute load average recorded before every run, since the machine may be shared."""
import json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, ".build/release/laminar-bench")
PEERS = os.path.join(ROOT, "Benchmarks/peers")
RESULTS = os.path.join(ROOT, "Benchmarks/results")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
THREADS = [int(t) for t in os.environ.get("THREADS", "1,2").split(",")]


def laminar(case, threads):
    """The measurements of `laminar-bench <case> --threads <threads>` (its JSON's list)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([BENCH, case, "--threads", str(threads), "--out", out], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(out, f"{case}.json")) as f:
            return json.load(f)["measurements"]


def torch_peer(script, threads, extra=()):
    """The JSON lines printed by `<script> --threads <threads> <extra…>`, with OpenMP limited to as
    many threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    r = subprocess.run([sys.executable, os.path.join(PEERS, script), "--threads", str(threads), *extra],
                       check=True, capture_output=True, text=True, env=env)
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def interleaved(laminar_rows, torch_rows, threads, loads):
    """ROUNDS rounds of (Laminar, PyTorch) at `threads`; each side's run becomes a dict by the
    keys its `*_rows` function gives. Appends the load average before every run to `loads`."""
    ours, theirs = [], []
    for r in range(ROUNDS):
        load = {"threads": threads, "round": r + 1, "before_laminar": os.getloadavg()[0]}
        ours.append(laminar_rows(threads))
        load["before_torch"] = os.getloadavg()[0]
        theirs.append(torch_rows(threads))
        loads.append(load)
    return ours, theirs


def median_over_rounds(rounds, key, field="median"):
    """Median over rounds of one row's `field` (each round's own median for timings)."""
    return statistics.median(r[key][field] for r in rounds)


def load_summary(loads):
    """`1.2–3.4` (min–max of the recorded 1-minute load averages)."""
    values = [x for load in loads for x in (load["before_laminar"], load["before_torch"])]
    return f"{min(values):.1f}–{max(values):.1f}"


def write_json(name, record):
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(record, f, indent=1)
