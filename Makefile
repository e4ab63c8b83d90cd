# DocumentDB upgrade-safety policy for Kubewarden.
#
#   make run          build policy.wasm, play the two-phase upgrade story through it
#   make run REQUEST=test_data/update/rollback-version.json [SETTINGS=settings.json]
#   make test         everything CI runs: fmt, lint, unit, wasm e2e table, OCI round trip, bats
#   make bench        native vs wasm, warm vs fresh instance, against a do-nothing policy
#   make fuzz         cargo-fuzz every target for FUZZ_SECONDS (nightly)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := policy.wasm

CARGO ?= cargo
CARGO_GLOBAL_OPTIONS ?= --locked
WASM_TARGET := wasm32-wasip1
POLICY_CRATE := documentdb-upgrade-policy
POLICY_SOURCES := Cargo.toml Cargo.lock $(wildcard src/*.rs)
RUNNER := target/debug/policy-runner
BENCH_RUNNER := target/release-bench/policy-runner
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int
FUZZ_SECONDS ?= 30
REQUEST ?=
SETTINGS ?=

.PHONY: prerequisites run runner test unit-tests e2e-tests fmt lint bench fuzz clean

prerequisites:
	@scripts/install-prerequisites.sh

# The module, built the way Kubewarden builds policies, then shrunk by wasm-opt.
# Written through a temporary file: tests build it concurrently.
policy.wasm: $(POLICY_SOURCES) | prerequisites
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) --target=$(WASM_TARGET) --release -p $(POLICY_CRATE)
	tmp=$@.$$$$.tmp; wasm-opt $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/documentdb_upgrade_policy.wasm -o $$tmp; mv $$tmp $@
	@echo "policy.wasm: $$(stat -c %s $@) bytes"

# The benchmark baseline: accepts everything without reading it, same SDK and profile.
target/noop-policy.wasm: noop-policy/Cargo.toml noop-policy/src/lib.rs Cargo.lock | prerequisites
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) --target=$(WASM_TARGET) --release -p noop-policy
	wasm-opt $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/noop_policy.wasm -o $@

runner:
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) -q -p policy-runner

# The main job: the two-phase upgrade story, or any request you name.
run: policy.wasm runner
ifeq ($(REQUEST),)
	@echo "The two-phase upgrade of a DocumentDB cluster, evaluated by policy.wasm:"
	@for step in test_data/walkthrough/*.json; do \
		echo; echo "── $$(basename $$step .json)"; \
		$(RUNNER) run --human --request-path "$$step" policy.wasm; \
	done
else
	$(RUNNER) run --human --request-path "$(REQUEST)" $(if $(SETTINGS),--settings-path "$(SETTINGS)") policy.wasm
endif

test: prerequisites fmt lint unit-tests e2e-tests

# Unit tests, the wasm e2e case table, the OCI round trip: one workspace build.
unit-tests: policy.wasm
	$(CARGO) test $(CARGO_GLOBAL_OPTIONS) --workspace

e2e-tests: annotated-policy.wasm runner
	bats e2e/e2e.bats

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy $(CARGO_GLOBAL_OPTIONS) --workspace --all-targets -- -D warnings

bench: policy.wasm target/noop-policy.wasm
	scripts/bench.sh

fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

clean:
	$(CARGO) clean
	rm -f policy.wasm annotated-policy.wasm
