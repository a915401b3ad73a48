# Benchmarks (included by the top-level Makefile). Not part of `make test`, except the smoke run.
BENCH_BIN = .build/release/laminar-bench
PEERS_PY  = Benchmarks/peers/.venv/bin/python

.PHONY: bench bench-build bench-peers bench-smoke bench-distributed

bench-build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product laminar-bench

bench: bench-build
	$(BENCH_BIN) --threads 1
	$(BENCH_BIN) blas autodiff cnf-toy images --threads 2 --out Benchmarks/results/threads-2

$(PEERS_PY): Benchmarks/peers/requirements.txt
	python3 -m venv Benchmarks/peers/.venv
	$(PEERS_PY) -m pip install -q -r Benchmarks/peers/requirements.txt
	touch $(PEERS_PY)

bench-peers: bench-build $(PEERS_PY)
	$(PEERS_PY) Benchmarks/peers/compare.py
	$(PEERS_PY) Benchmarks/peers/fm_compare.py
	$(PEERS_PY) Benchmarks/peers/ot_compare.py
	$(PEERS_PY) Benchmarks/peers/image_compare.py
	$(PEERS_PY) Benchmarks/peers/density_compare.py

# A few seconds: every case runs with tiny repeat counts into a temporary directory.
bench-smoke: bench-build
	$(BENCH_BIN) --smoke --out $$(mktemp -d)

# Data-parallel scaling: 1 vs 2 ranks (mpirun) at the same global batch, the all-reduce alone,
# and a modelled projection to 8–64 ranks (Benchmarks/results/distributed.json).
bench-distributed: build bench-build
	python3 Benchmarks/distributed/scaling.py
