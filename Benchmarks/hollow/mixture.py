#!/usr/bin/env python3
"""Gaussian mixtures in d dimensions for the hollow-field measurements (docs/hollow-and-residual-flows.md).

    python3 Benchmarks/hollow/mixture.py --dimension 16 --out /tmp/mix16

writes train.csv and test.csv (header x1,…,xd) and truth.json with the mixture and the true mean
test NLL in nats (the floor any model's test NLL is measured against). Eight components with
means at distance 4 from the origin in random directions and diagonal standard deviations
drawn from [0.4, 1.0]; standard library only, seeded.
"""
import argparse, json, math, os, random

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dimension", type=int, required=True)
    p.add_argument("--components", type=int, default=8)
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--test", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    rng = random.Random(a.seed)
    d, k = a.dimension, a.components
    means, sds = [], []
    for _ in range(k):
        g = [rng.gauss(0, 1) for _ in range(d)]
        n = math.sqrt(sum(v * v for v in g))
        means.append([4 * v / n for v in g])
        sds.append([rng.uniform(0.4, 1.0) for _ in range(d)])

    def draw(count):
        rows = []
        for _ in range(count):
            c = rng.randrange(k)
            rows.append([means[c][j] + sds[c][j] * rng.gauss(0, 1) for j in range(d)])
        return rows

    def log_density(x):
        terms = []
        for m, s in zip(means, sds):
            t = -math.log(k)
            for j in range(d):
                z = (x[j] - m[j]) / s[j]
                t += -0.5 * z * z - math.log(s[j]) - 0.5 * math.log(2 * math.pi)
            terms.append(t)
        top = max(terms)
        return top + math.log(sum(math.exp(t - top) for t in terms))

    os.makedirs(a.out, exist_ok=True)
    train, test = draw(a.train), draw(a.test)
    for name, rows in (("train.csv", train), ("test.csv", test)):
        with open(os.path.join(a.out, name), "w") as f:
            f.write(",".join(f"x{j + 1}" for j in range(d)) + "\n")
            for r in rows:
                f.write(",".join(f"{v:.6f}" for v in r) + "\n")
    nll = [-log_density(x) for x in test]
    mean = sum(nll) / len(nll)
    se = math.sqrt(sum((v - mean) ** 2 for v in nll) / (len(nll) - 1) / len(nll))
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump({"dimension": d, "components": k, "seed": a.seed, "test_nll_nats": mean, "test_nll_se": se,
                   "means": means, "sds": sds}, f)
    print(f"d={d}: true test NLL {mean:.4f} ± {se:.4f} nats")

if __name__ == "__main__":
    main()
