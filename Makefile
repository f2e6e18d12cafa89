# spotkeeper: `make demo` and `make test` work on a fresh machine (they install first).
SHELL := /bin/bash
BUILD ?= build
export PATH := $(CURDIR)/tools/bin:$(PATH)

.PHONY: all setup configure build test unit integration asan asan-configure fuzz fuzz-smoke bench demo format clean lambda-zip demo-aws

all: build

setup:
	@bash scripts/setup.sh

configure:
	@test -f $(BUILD)/build.ninja || cmake --preset release

build: setup configure
	@ninja -C $(BUILD) -j2

# The whole suite: unit tests, then integration tests against loopback peers,
# then a short run of every fuzz harness (skipped, saying so, without clang++).
test: build
	@ctest --test-dir $(BUILD) -j2 --output-on-failure --timeout 900
	@$(MAKE) --no-print-directory fuzz-smoke

unit: build
	@ctest --test-dir $(BUILD) -j2 -L unit --output-on-failure

integration: build
	@ctest --test-dir $(BUILD) -L integration --output-on-failure

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/
# (clang at -O0), the tree fuzz-smoke builds its harnesses in: the layer
# libraries they share are compiled once.
asan: asan-configure
	@ninja -C build-asan -j2 unit_tests
	@ctest --test-dir build-asan -j2 -L unit --output-on-failure

# A build-asan/ from before the tree was shared (g++, no fuzz harnesses) is
# configured afresh.
asan-configure: setup
	@grep -qs '^SPK_FUZZ:BOOL=ON' build-asan/CMakeCache.txt || cmake --preset asan --fresh >/dev/null

# Every libFuzzer harness for FUZZ_SECONDS (default 300) each, or until
# FUZZ_RUNS executions if given first; FUZZ_JOBS processes each; FUZZ_CHUNK
# (scripts/fuzz.sh, default 10^6) executions at most per process (docs/fuzzing.md).
FUZZ_SECONDS ?= 300
FUZZ_RUNS ?=
FUZZ_JOBS ?= 1
fuzz: setup
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$(FUZZ_JOBS) bash scripts/fuzz.sh

# The short run `make test` includes: each harness 3 s, as the ctest tests
# labelled fuzz of build-asan/ (the harnesses at -O0 beside the ASan unit
# tests: a run of seconds does not need -O1, docs/fuzzing.md).
fuzz-smoke:
	@if command -v clang++ >/dev/null; then \
	  $(MAKE) --no-print-directory asan-configure && \
	  ninja -C build-asan -j2 fuzzers && \
	    ctest --test-dir build-asan -L fuzz -j2 --output-on-failure; \
	else \
	  echo "fuzz-smoke: SKIPPED: clang++ is not installed (scripts/setup.sh installs clang, libfuzzer-14-dev)"; \
	fi

bench: build
	@bash bench/run.sh $(BUILD)

# The AWS Lambda package for provided.al2023: $(BUILD)/spotkeeper-lambda.zip with a
# static `bootstrap` at its root (docs/packaging.md).
lambda-zip: build
	@ninja -C $(BUILD) -j2 lambda_zip

# The simulator on the built-in default day, every policy: the table and the HTML report.
demo: build
	@bash scripts/demo.sh $(BUILD)/spotkeeper

# The AWS side: doctor against moto_server, metadata against the EC2 metadata mock.
demo-aws: build
	@bash scripts/demo_aws.sh $(BUILD)/spotkeeper

format:
	@clang-format -i $$(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc')

clean:
	rm -rf build build-debug build-asan build-fuzz
