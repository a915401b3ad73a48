# Laminar — the two commands of the README are `make demo` and `make test`.
SHELL        := /bin/bash
SWIFT        ?= swift
# Swift code is compiled for the build machine's vector unit when it has AVX2 and FMA (LLVM's
# `haswell`, the x86-64-v3 level: 8-wide instead of 4-wide elementwise kernels, about 15 % less
# time per CNF training step; LAMINAR_FMA lets the polynomial kernels use fused multiply–adds);
# otherwise, and on other architectures, for the baseline.
# `make CPU_FLAGS=` builds a binary that also runs on older x86-64 machines.
CPU_FLAGS    ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo "-Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DLAMINAR_FMA")
# One build configuration for everything: `make build`, `make demo` and `make test` compile the
# same modules with the same flags into .build/release, so each command reuses what another one
# built (-enable-testing is what the tests' @testable imports need). `make test` builds with
# `swift build --build-tests` and runs with `swift test --skip-build`: `swift test` building by
# itself would add its own -enable-testing, and the changed command line recompiles everything.
# Cross-module optimisation specialises the generic tensor/autodiff code where it is used; it is
# a flag here rather than in Package.swift so that other packages can depend on Laminar by version.
BUILD_FLAGS   = -c release -Xswiftc -cross-module-optimization $(CPU_FLAGS) -Xswiftc -enable-testing
TEST_FLAGS    = $(BUILD_FLAGS) --disable-xctest
BIN           = .build/release/laminar
DEMO_OUT     ?= runs/demo
DEMO_ITERS   ?= 2000

.PHONY: all deps build demo test test-debug docs clean help

all: build

help:
	@echo "make demo   — install missing apt packages, build, train an FFJORD CNF on 'checkerboard', write PNGs to $(DEMO_OUT)"
	@echo "              (run again: the previous demo run in $(DEMO_OUT) is replaced by a fresh one)"
	@echo "make build  — build the laminar command (.build/release/laminar)"
	@echo "make test   — install missing apt packages, run the whole test suite (release build), the README's"
	@echo "              marked commands with tiny iteration counts and the benchmark smoke run"
	@echo "make bench  — run Laminar's benchmarks (JSON into Benchmarks/results/)"
	@echo "make bench-peers — the same side by side with torchdiffeq / diffrax / scipy"
	@echo "make docs   — build the API documentation (DocC, all public modules combined) into $(DOCS_OUT)/"
	@echo "make bench-distributed — data-parallel training on 1 and 2 ranks (mpirun), all-reduce cost, projection"

deps:
	@Scripts/install-deps

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product laminar

# A second `make demo` starts afresh: the files of the previous demo run are removed first.
demo: build
	@if [ -e $(DEMO_OUT)/checkpoint.safetensors ]; then \
	  echo "demo: replacing the previous demo run in $(DEMO_OUT) with a fresh one"; \
	  rm -f $(DEMO_OUT)/checkpoint.safetensors $(DEMO_OUT)/metrics.jsonl $(DEMO_OUT)/density.png $(DEMO_OUT)/samples.png; \
	fi
	$(BIN) train --data checkerboard --iters $(DEMO_ITERS) --out $(DEMO_OUT) --seed 1
	@echo "demo: pictures in $(DEMO_OUT)/ (density.png, samples.png)"

test: deps
	@mkdir -p .build
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	@# A failing test does not stop make here: the summary below counts it and fails the target.
	-set -o pipefail; $(SWIFT) test $(TEST_FLAGS) --skip-build 2>&1 | tee .build/test-output.log
	Scripts/readme-commands $(BIN) README.md docs/*.md
	$(MAKE) --no-print-directory bench-smoke
	SWIFT=$(SWIFT) Scripts/check-library-examples
	@Scripts/test-summary .build/test-output.log

test-debug: deps
	$(SWIFT) test

# API documentation: one DocC catalog per public module (Sources/<Module>/Documentation.docc),
# built together into one static archive whose root page (documentation/) lists every module.
# The plugin (swift-docc-plugin, a package dependency, so this works offline) builds the modules
# in debug to extract their symbol graphs, then runs the toolchain's `docc`; `--disable-sandbox`
# and `--allow-writing-to-directory` let it write outside its own work directory where plugins
# are sandboxed (macOS). Links between modules' pages are written as code voice: docc does not
# resolve symbol links into the other modules' archives (toolchain 6.3, plugin 1.5.0).
# `Scripts/check-doc-comments` runs first: it counts the public declarations without a `///`
# comment per module and fails when a module it lists as fully documented has one.
DOCS_OUT      ?= .build/docs
DOCS_MODULES  = LaminarTensor LaminarAutodiff LaminarODE LaminarNN LaminarTraining LaminarData LaminarImaging \
                LaminarSDE LaminarDistributed LaminarFlows LaminarClassifiers LaminarLatentODE Laminar
docs: deps
	Scripts/check-doc-comments
	@mkdir -p $(DOCS_OUT)
	$(SWIFT) package --disable-sandbox --allow-writing-to-directory $(DOCS_OUT) \
	  generate-documentation $(addprefix --target ,$(DOCS_MODULES)) \
	  --enable-experimental-combined-documentation --output-path $(DOCS_OUT)/Laminar.doccarchive
	@echo "docs: $(DOCS_OUT)/Laminar.doccarchive; to read it: python3 -m http.server -d $(DOCS_OUT)/Laminar.doccarchive 8000, then http://localhost:8000/documentation/"

clean:
	rm -rf .build Tests/Fuzz/.build

-include Benchmarks/bench.mk

# Fuzzing (libFuzzer + AddressSanitizer). Not part of `make test`; the tests run the same
# targets with an in-process mutation harness. FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = idx safetensors checkpoint points-csv npy time-series-csv
FUZZ_BIN      = Tests/Fuzz/.build/release/laminar-fuzz
# libFuzzer without its `main` (the driver calls LLVMFuzzerRunDriver), from the toolchain.
FUZZ_RUNTIME  = $(firstword $(wildcard $(dir $(realpath $(shell command -v $(SWIFT))))../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a))
FUZZ_FLAGS    = -c release -Xswiftc -sanitize=address \
                -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
                -Xlinker $(FUZZ_RUNTIME) -Xlinker -lstdc++

.PHONY: fuzz fuzz-build
fuzz-build: deps
	@test -n "$(FUZZ_RUNTIME)" || { echo "fuzz: libclang_rt.fuzzer_no_main not found next to $(SWIFT)"; exit 1; }
	cd Tests/Fuzz && $(SWIFT) build $(FUZZ_FLAGS)

fuzz: fuzz-build
	@mkdir -p .build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t ($(FUZZ_SECONDS) s)"; \
	  ASAN_OPTIONS=detect_leaks=0 LAMINAR_FUZZ_TARGET=$$t LAMINAR_FUZZ_CORPUS=.build/fuzz/corpus-$$t $(FUZZ_BIN) .build/fuzz/corpus-$$t \
	    -max_total_time=$(FUZZ_SECONDS) -detect_leaks=0 -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=.build/fuzz/$$t- 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY|artifact_prefix)" \
	    || true; \
	done
	@if ls .build/fuzz/*-crash-* .build/fuzz/*-oom-* .build/fuzz/*-timeout-* >/dev/null 2>&1; then \
	  echo "fuzz: failures in .build/fuzz/ (turn each into a regression test)"; exit 1; fi
