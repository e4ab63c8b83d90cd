# DocumentDB upgrade-safety policy for Kubewarden.
#
#   make policy.wasm  build the module (cargo + wasm-opt), nothing else: the default goal
#   make run          install the wasm32-wasip1 target and wasm-opt if missing, build
#                     policy.wasm, play the two-phase upgrade story through it, then
#                     one request per other webhook rule (storage, bootstrap, envelope)
#   make run REQUEST=e2e/fixtures/update/rollback-version.json [SETTINGS=settings.json]
#   make test         install what the suite needs if missing, then everything CI runs:
#                     fmt, lint, unit, wasm e2e table, OCI round trip, bats, web
#   make prerequisites  only the installing part of `make test` (idempotent)
#   make bench        native vs wasm, warm vs fresh instance, against a do-nothing policy
#   make fuzz         cargo-fuzz every target for FUZZ_SECONDS (nightly)
#   make web          install wasm-bindgen-cli if missing, build the same rules for the
#                     browser and Node (crates/upgrade-checker/pkg)
#   make serve-web    the page on http://127.0.0.1:8080/
#   make checker-package  the installable checker: target/documentdb-upgrade-check-<version>.tgz
#                     (npm tarball, the web build inside; the release attaches it)
#
# Only `run`, `test`, `web` and the prerequisites* targets install anything;
# file targets (policy.wasm, target/noop-policy.wasm, …) build and nothing else.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := policy.wasm

CARGO ?= cargo
CARGO_GLOBAL_OPTIONS ?= --locked
WASM_TARGET := wasm32-wasip1
POLICY_CRATE := documentdb-upgrade-safety
POLICY_SOURCES := Cargo.toml Cargo.lock $(shell find src -name '*.rs')
RUNNER := target/debug/policy-runner
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int
FUZZ_SECONDS ?= 30
REQUEST ?=
SETTINGS ?=

.PHONY: prerequisites prerequisites-run prerequisites-web run runner test unit-tests e2e-tests web web-tests checker-package serve-web bench-web fmt lint bench fuzz clean

# ------------------------------------------------------------ installing
# Explicit and scoped; each installs only what is missing (idempotent). See
# scripts/install-prerequisites.sh for the list.

# Everything `make test` needs.
prerequisites:
	@scripts/install-prerequisites.sh all

# Building and running the policy: the wasm32-wasip1 target, wasm-opt.
prerequisites-run:
	@scripts/install-prerequisites.sh run

# `make web`: the wasm32-unknown-unknown target, wasm-bindgen-cli.
prerequisites-web:
	@scripts/install-prerequisites.sh web

# ------------------------------------------------------------ building
# The module, built the way Kubewarden builds policies, then shrunk by wasm-opt.
# Written through a temporary file, so that a failed or concurrent build never
# leaves a partial module.
policy.wasm: $(POLICY_SOURCES)
	@$(call require,wasm-opt,binaryen,prerequisites-run)
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) --target=$(WASM_TARGET) --release -p $(POLICY_CRATE)
	tmp=$@.$$$$.tmp; wasm-opt $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/documentdb_upgrade_safety.wasm -o $$tmp; mv $$tmp $@
	@echo "policy.wasm: $$(stat -c %s $@) bytes"

# The benchmark baseline: accepts everything without reading it, same SDK and profile.
target/noop-policy.wasm: crates/noop-policy/Cargo.toml crates/noop-policy/src/lib.rs Cargo.lock
	@$(call require,wasm-opt,binaryen,prerequisites-run)
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) --target=$(WASM_TARGET) --release -p noop-policy
	tmp=$@.$$$$.tmp; wasm-opt $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/noop_policy.wasm -o $$tmp; mv $$tmp $@

# $(call require,COMMAND,PACKAGE,TARGET): a clear failure when COMMAND is missing.
require = command -v $(1) >/dev/null || { echo "$(1) not found: install $(2) (make $(3) does)" >&2; exit 1; }

# ------------------------------------------------------------ distribution
# annotate, push and the Artifact Hub package use kwctl when it is on PATH,
# else `cargo run -p policy-dist` (same inputs and outputs; crates/policy-dist/src/lib.rs
# lists the documented differences).
#
#   make annotated-policy.wasm
#   make push [REGISTRY=host/repo] [TAG=v…] [SOURCES=sources.yml]
#   make artifacthub  artifacthub/artifacthub-pkg.yml for the release (not kept on main: the release
#                     workflow publishes it on the artifacthub branch, docs/releasing.md)

KWCTL ?= kwctl
KWCTL_BIN := $(shell command -v $(KWCTL) 2>/dev/null)
POLICY_DIST := $(CARGO) run $(CARGO_GLOBAL_OPTIONS) -q -p policy-dist --
METADATA := policy-metadata/metadata.yml
QUESTIONS := policy-metadata/questions-ui.yml
# [package] version is the first `version =` line of Cargo.toml.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
OCI_URL := $(shell sed -n 's/^ *io\.kubewarden\.policy\.ociUrl: *//p' $(METADATA))
REGISTRY ?= $(OCI_URL)
TAG ?= v$(VERSION)
# A YAML file with `insecure_sources: ["host:port"]` for a plain-HTTP registry.
SOURCES ?=
# createdAt of the generated Artifact Hub package: the last commit touching
# its inputs (reproducible), now when there is no git history.
ARTIFACTHUB_EPOCH ?= $(shell git log -1 --format=%ct -- $(METADATA) $(QUESTIONS) 2>/dev/null)

.PHONY: push artifacthub

annotated-policy.wasm: policy.wasm $(METADATA) README.md
ifneq ($(KWCTL_BIN),)
	tmp=$@.$$$$.tmp; $(KWCTL) annotate -m $(METADATA) -u README.md -o $$tmp policy.wasm; mv $$tmp $@
else
	@echo "kwctl not found: using policy-dist annotate (cargo run -p policy-dist)"
	$(POLICY_DIST) annotate -m $(METADATA) -u README.md -o $@ policy.wasm
endif

push: annotated-policy.wasm
	@test -n "$(REGISTRY)" || { echo "REGISTRY is empty: make push REGISTRY=<host>/<repository>"; exit 1; }
ifneq ($(KWCTL_BIN),)
	$(KWCTL) push $(if $(SOURCES),--sources-path $(SOURCES)) -o json annotated-policy.wasm registry://$(REGISTRY):$(TAG)
else
	@echo "kwctl not found: using policy-dist push (cargo run -p policy-dist)"
	$(POLICY_DIST) push $(if $(SOURCES),--sources-path $(SOURCES)) -o json annotated-policy.wasm registry://$(REGISTRY):$(TAG)
endif
	@echo

artifacthub: $(METADATA) $(QUESTIONS)
ifneq ($(KWCTL_BIN),)
	$(KWCTL) scaffold artifacthub --metadata-path $(METADATA) --questions-path $(QUESTIONS) \
		--output artifacthub/artifacthub-pkg.yml
else
	@echo "kwctl not found: using policy-dist scaffold artifacthub (cargo run -p policy-dist)"
	$(POLICY_DIST) scaffold artifacthub --metadata-path $(METADATA) --questions-path $(QUESTIONS) \
		$(if $(ARTIFACTHUB_EPOCH),--created-at @$(ARTIFACTHUB_EPOCH)) --output artifacthub/artifacthub-pkg.yml
endif
	ln -sfn ../README.md artifacthub/README.md

# ------------------------------------------------------------ signing, SBOM
# Cosign's key-based signatures (docs/verify.md; the release workflow signs
# keyless). REF is a module reference as `make push` prints it
# (<host>/<repository>@sha256:…; a tag works too, the digest it resolves to is
# signed). Passwords: COSIGN_PASSWORD. kwctl verifies but does not sign (users
# sign with cosign); `make sign` uses policy-dist, `make verify` kwctl when it
# is on PATH.
#
#   make generate-key-pair           cosign.key, cosign.pub (as cosign generate-key-pair)
#   make sign REF=<ref> KEY=cosign.key [SOURCES=sources.yml]
#   make verify REF=<ref> (VERIFICATION_CONFIG=<file> | KEY=cosign.pub) [SOURCES=sources.yml]
#               [TRUST_CONFIG=<ClientTrustConfig JSON>]  (kwctl needs one offline: docs/verify.md)
#   make sbom                        policy-sbom.spdx.json (SPDX, from Cargo.lock)
#   make sign-sbom KEY=cosign.key    policy-sbom.spdx.json.sig (as cosign sign-blob --key)

REF ?=
KEY ?=
VERIFICATION_CONFIG ?=
TRUST_CONFIG ?=
# kwctl builds a Sigstore trust root for every verification, from Sigstore's
# TUF repository over the internet unless a trust config is given.
VERIFY_OFFLINE_HINT := kwctl verify failed. If this machine has no internet access, kwctl could not fetch Sigstore's trust root: pass TRUST_CONFIG=<ClientTrustConfig JSON> (docs/verify.md, section Offline).
REF_URI = $(if $(findstring ://,$(REF)),$(REF),registry://$(REF))
SBOM := policy-sbom.spdx.json
# creationInfo.created: the last commit touching the lock file (reproducible).
SBOM_EPOCH ?= $(shell git log -1 --format=%ct -- Cargo.lock 2>/dev/null)

.PHONY: generate-key-pair sign verify sbom sign-sbom

generate-key-pair:
	$(POLICY_DIST) generate-key-pair

sign:
	@test -n "$(REF)" || { echo "REF is empty: make sign REF=<reference printed by make push> KEY=<cosign.key>"; exit 1; }
	@test -n "$(KEY)" || { echo "KEY is empty: make sign REF=<reference> KEY=<cosign.key> (make generate-key-pair writes one)"; exit 1; }
	$(POLICY_DIST) sign $(if $(SOURCES),--sources-path $(SOURCES)) --key $(KEY) $(REF_URI)

verify:
	@test -n "$(REF)" || { echo "REF is empty: make verify REF=<reference> (VERIFICATION_CONFIG=<file> | KEY=<cosign.pub>)"; exit 1; }
	@test -n "$(VERIFICATION_CONFIG)$(KEY)" || { echo "make verify needs VERIFICATION_CONFIG=<file> or KEY=<cosign.pub>"; exit 1; }
	@test -z "$(TRUST_CONFIG)" -o -r "$(TRUST_CONFIG)" || { echo "TRUST_CONFIG=$(TRUST_CONFIG): no such file"; exit 1; }
ifneq ($(KWCTL_BIN),)
	$(KWCTL) verify $(if $(SOURCES),--sources-path $(SOURCES)) $(if $(TRUST_CONFIG),--sigstore-trust-config $(TRUST_CONFIG)) \
		$(if $(VERIFICATION_CONFIG),--verification-config-path $(VERIFICATION_CONFIG),-k $(KEY)) $(REF_URI) \
		$(if $(TRUST_CONFIG),,|| { echo "$(VERIFY_OFFLINE_HINT)" >&2; exit 1; })
else
	@echo "kwctl not found: using policy-dist verify (cargo run -p policy-dist)"
	$(POLICY_DIST) verify $(if $(SOURCES),--sources-path $(SOURCES)) $(if $(TRUST_CONFIG),--sigstore-trust-config $(TRUST_CONFIG)) \
		$(if $(VERIFICATION_CONFIG),--verification-config-path $(VERIFICATION_CONFIG),-k $(KEY)) $(REF_URI)
endif

sbom: $(SBOM)

$(SBOM): Cargo.toml Cargo.lock
	$(POLICY_DIST) sbom --manifest-path Cargo.toml -p $(POLICY_CRATE) --target $(WASM_TARGET) \
		$(if $(SBOM_EPOCH),--created-at @$(SBOM_EPOCH)) -o $@

sign-sbom: $(SBOM)
	@test -n "$(KEY)" || { echo "KEY is empty: make sign-sbom KEY=<cosign.key>"; exit 1; }
	$(POLICY_DIST) sign-blob --key $(KEY) --output-signature $(SBOM).sig $(SBOM)

# `make run`'s second part: one request per webhook rule (e2e/fixtures/resources/).
WEBHOOK_EXAMPLES := $(addprefix e2e/fixtures/resources/,storage-shrink.json \
	storage-same-size-other-unit.json bootstrap-changed.json envelope-too-small.json)

runner:
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) -q -p policy-runner

# The main job: the two-phase upgrade story, or any request you name. Builds
# after installing (a second make), so that `make -j run` cannot race the install.
run: prerequisites-run
	@$(MAKE) --no-print-directory policy.wasm runner
ifeq ($(REQUEST),)
	@echo "The two-phase upgrade of a DocumentDB cluster, evaluated by policy.wasm:"
	@for step in e2e/fixtures/walkthrough/*.json; do \
		echo; echo "── $$(basename $$step .json)"; \
		$(RUNNER) run --human --request-path "$$step" policy.wasm; \
	done
	@echo; echo "The operator webhook's other checks, enforced by the same module:"
	@for step in $(WEBHOOK_EXAMPLES); do \
		echo; echo "── $$(basename $$step .json)"; \
		$(RUNNER) run --human --request-path "$$step" policy.wasm; \
	done
else
	$(RUNNER) run --human --request-path "$(REQUEST)" $(if $(SETTINGS),--settings-path "$(SETTINGS)") policy.wasm
endif

test: prerequisites
	@$(MAKE) --no-print-directory fmt lint unit-tests e2e-tests web-tests

# The modules the Rust tests load: `cargo test` never runs make, it reads these
# (crates/policy-runner/tests/cases.rs, tests/policy_runner/sdk.rs).
export POLICY_WASM := $(CURDIR)/policy.wasm
export NOOP_POLICY_WASM := $(CURDIR)/target/noop-policy.wasm
# The module as the linker wrote it, before wasm-opt (the layout of its data).
export POLICY_LINKED_WASM := $(CURDIR)/target/$(WASM_TARGET)/release/documentdb_upgrade_safety.wasm

# Unit tests, the wasm e2e case table, the OCI round trip: one workspace build.
unit-tests: policy.wasm target/noop-policy.wasm
	$(CARGO) test $(CARGO_GLOBAL_OPTIONS) --workspace
	@# The JSON reader against serde_json as the module is built (without the
	@# float_roundtrip that the workspace build turns on for sigstore): every number.
	$(CARGO) test $(CARGO_GLOBAL_OPTIONS) -q -p $(POLICY_CRATE) --lib json::

# bats 1.8 finds tests by reading the file: the runner writes one test per case.
# e2e/release.bats: make push / sign / verify against a local docker-registry.
e2e-tests: annotated-policy.wasm runner
	mkdir -p target/e2e
	$(RUNNER) cases bats e2e/cases.yaml >target/e2e/cases.bats
	bats e2e/e2e.bats target/e2e/cases.bats e2e/release.bats

# ------------------------------------------------------------ crates/upgrade-checker/ (wasm-bindgen)
# The rule engine built a second way, for the page (crates/upgrade-checker/index.html) and the
# pipeline checker (node crates/upgrade-checker/check.mjs). Written to crates/upgrade-checker/pkg.tmp, then renamed.
# No wasm-opt here: Debian's binaryen (version 108) predates the reference
# types wasm-bindgen's glue relies on and emits a module that fails to
# instantiate; it would save 7%.

WEB_CRATE := upgrade-checker
WEB_WASM := target/wasm32-unknown-unknown/web/upgrade_checker.wasm
WEB_PKG := crates/upgrade-checker/pkg/upgrade_checker_bg.wasm
WEB_SOURCES := $(POLICY_SOURCES) crates/upgrade-checker/Cargo.toml $(wildcard crates/upgrade-checker/src/*.rs)
WEB_PORT ?= 8080

web: prerequisites-web
	@$(MAKE) --no-print-directory $(WEB_PKG)

$(WEB_PKG): $(WEB_SOURCES)
	@$(call require,wasm-bindgen,wasm-bindgen-cli,prerequisites-web)
	$(CARGO) build $(CARGO_GLOBAL_OPTIONS) --target=wasm32-unknown-unknown --profile web -p $(WEB_CRATE)
	rm -rf crates/upgrade-checker/pkg.tmp
	wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir crates/upgrade-checker/pkg.tmp $(WEB_WASM)
	rm -rf crates/upgrade-checker/pkg && mv crates/upgrade-checker/pkg.tmp crates/upgrade-checker/pkg
	@echo "$@: $$(stat -c %s $@) bytes"

crates/upgrade-checker/node_modules/.package-lock.json: crates/upgrade-checker/package.json crates/upgrade-checker/package-lock.json
	cd crates/upgrade-checker && npm ci --no-audit --no-fund --loglevel=error

# The whole e2e table through crates/upgrade-checker/pkg (against the module's own answers), the
# Node checker, and the page in headless Chromium.
web-tests: $(WEB_PKG) policy.wasm runner crates/upgrade-checker/node_modules/.package-lock.json
	node --test --test-reporter=spec crates/upgrade-checker/tests/*.test.mjs

# The installable checker (crates/upgrade-checker/pack.mjs): what the release
# attaches and action.yml installs; the web tests install and run the same.
checker-package: $(WEB_PKG)
	node crates/upgrade-checker/pack.mjs target

serve-web: web
	node crates/upgrade-checker/serve.mjs $(WEB_PORT)

bench-web: web
	node crates/upgrade-checker/bench.mjs

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy $(CARGO_GLOBAL_OPTIONS) --workspace --all-targets -- -D warnings
	$(CARGO) clippy $(CARGO_GLOBAL_OPTIONS) -p $(POLICY_CRATE) --no-default-features --all-targets -- -D warnings
	$(CARGO) test $(CARGO_GLOBAL_OPTIONS) -q -p $(POLICY_CRATE) --test layers

bench: policy.wasm annotated-policy.wasm target/noop-policy.wasm
	scripts/bench.sh

fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

clean:
	$(CARGO) clean
	rm -f policy.wasm annotated-policy.wasm $(SBOM) $(SBOM).sig
	rm -rf crates/upgrade-checker/pkg crates/upgrade-checker/pkg.tmp crates/upgrade-checker/node_modules
