#!/usr/bin/env bash
# Installs what one part of the work needs, and nothing when it is all there
# already (idempotent). Called by `make prerequisites*`, `make run`, `make test`
# and `make web` only, never by a build target, so that the README's commands
# work on a fresh Debian/Ubuntu machine with a Rust toolchain (rustup).
#
#   scripts/install-prerequisites.sh run   building and running the policy
#       wasm32-wasip1     the target Kubewarden policies are built for (rustup)
#       binaryen          wasm-opt, shrinks policy.wasm (~17%)
#   scripts/install-prerequisites.sh web   building crates/upgrade-checker (wasm-bindgen)
#       wasm32-unknown-unknown, wasm-bindgen-cli (the version Cargo.lock pins
#                         for the wasm-bindgen crate)
#   scripts/install-prerequisites.sh all   everything `make test` needs: run and web, and
#       bats, jq          the kwctl-style e2e suite (e2e/e2e.bats)
#       docker-registry   the CNCF distribution registry, for the OCI round trip test
#       chromium, node/npm  crates/upgrade-checker's page and Node checker tests
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: $0 run|web|all" >&2
    exit 2
}
[ $# -eq 1 ] || usage

rust_target() {
    if ! rustup target list --installed 2>/dev/null | grep -qx "$1"; then
        echo "==> rustup target add $1"
        rustup target add "$1"
    fi
}

# wasm-bindgen-cli must be exactly the wasm-bindgen crate's version: the
# generated JS glue and the module's custom section speak one schema version.
wasm_bindgen_cli() {
    local version
    version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, "", $3); print $3 }' Cargo.lock)
    if [ -z "$version" ]; then
        echo "error: no wasm-bindgen in Cargo.lock" >&2
        exit 1
    fi
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
        echo "==> cargo install wasm-bindgen-cli $version"
        # --locked when the registry has every locked dependency; a mirror that
        # lags behind may not (one lacks webpki-roots 1.0.11), then the newest
        # compatible ones are used.
        cargo install -q wasm-bindgen-cli --version "=$version" --locked ||
            cargo install -q wasm-bindgen-cli --version "=$version"
    fi
}

# Debian packages, given as COMMAND=PACKAGE pairs (COMMAND an absolute path
# when the package's command is also the name of something else).
debian_packages() {
    local missing=() pair command package
    for pair in "$@"; do
        command=${pair%%=*}
        package=${pair#*=}
        if [[ $command == /* ]]; then
            [ -x "$command" ] || missing+=("$package")
        else
            command -v "$command" >/dev/null || missing+=("$package")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    echo "==> installing Debian packages: ${missing[*]}"
    local -a sudo
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "error: missing ${missing[*]}; install them (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

case "$1" in
run)
    rust_target wasm32-wasip1
    debian_packages wasm-opt=binaryen
    ;;
web)
    rust_target wasm32-unknown-unknown
    wasm_bindgen_cli
    ;;
all)
    rust_target wasm32-wasip1
    rust_target wasm32-unknown-unknown
    wasm_bindgen_cli
    debian_packages wasm-opt=binaryen bats=bats jq=jq /usr/bin/docker-registry=docker-registry \
        /usr/bin/chromium=chromium node=nodejs npm=npm
    ;;
*) usage ;;
esac
