# Laminar — the two commands of the README are `make demo` and `make test`.
SHELL        := /bin/bash
SWIFT        ?= swift
RELEASE_FLAGS = -c release
TEST_FLAGS    = -c release -Xswiftc -enable-testing --disable-xctest
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
	@mkdir -p .build
	set -o pipefail; $(SWIFT) test $(TEST_FLAGS) 2>&1 | tee .build/test-output.log
	$(MAKE) --no-print-directory bench-smoke
	@Scripts/test-summary .build/test-output.log

test-debug: deps
	$(SWIFT) test

clean:
	rm -rf .build Benchmarks/.build

-include Benchmarks/bench.mk
