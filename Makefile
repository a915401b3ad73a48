# Laminar — the two commands of the README are `make demo` and `make test`.
SWIFT        ?= swift
RELEASE_FLAGS = -c release
TEST_FLAGS    = -c release -Xswiftc -enable-testing
BIN           = .build/release/laminar
DEMO_OUT     ?= runs/demo
DEMO_ITERS   ?= 2000

.PHONY: all deps build demo test test-debug clean help

all: build

help:
	@echo "make demo   — install missing apt packages, build, train an FFJORD CNF on 'checkerboard', write PNGs to $(DEMO_OUT)"
	@echo "make test   — install missing apt packages, run the whole test suite (release build) and the benchmark smoke run"
	@echo "make bench  — run Laminar's benchmarks (JSON into Benchmarks/results/)"
	@echo "make bench-peers — the same side by side with torchdiffeq / diffrax / scipy"

deps:
	@Scripts/install-deps

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product laminar

demo: build
	$(BIN) train --data checkerboard --iters $(DEMO_ITERS) --out $(DEMO_OUT) --seed 1
	@echo "demo: pictures in $(DEMO_OUT)/ (density.png, samples.png)"

test: deps
	$(SWIFT) test $(TEST_FLAGS)
	@if [ -f Benchmarks/bench.mk ]; then $(MAKE) --no-print-directory bench-smoke; fi

test-debug: deps
	$(SWIFT) test

clean:
	rm -rf .build Benchmarks/.build

-include Benchmarks/bench.mk
