#!/usr/bin/env bash
# Installs what building and testing the policy need, and nothing when it is
# all there already. Called by `make` targets, so the README's two commands
# work on a fresh Debian/Ubuntu machine with a Rust toolchain (rustup).
#
#   wasm32-wasip1   the target Kubewarden policies are built for (rustup)
#   binaryen        wasm-opt, shrinks policy.wasm (~17%)
#   bats, jq        the kwctl-style e2e suite (e2e/e2e.bats)
#   docker-registry the CNCF distribution registry, for the OCI round trip test
#   wasm32-unknown-unknown, wasm-bindgen-cli (the version Cargo.lock pins for
#                   the wasm-bindgen crate), chromium, node/npm: crates/upgrade-checker/ and its tests
#
#   scripts/install-prerequisites.sh web   only what `make web` needs (the
#                   wasm32-unknown-unknown target and wasm-bindgen-cli): for
#                   pipelines that build the checker and run nothing else
set -euo pipefail
cd "$(dirname "$0")/.."

only_web=false
[ "${1:-}" = web ] && only_web=true
targets=(wasm32-wasip1 wasm32-unknown-unknown)
$only_web && targets=(wasm32-unknown-unknown)

for target in "${targets[@]}"; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        echo "==> rustup target add $target"
        rustup target add "$target"
    fi
done

# wasm-bindgen-cli must be exactly the wasm-bindgen crate's version: the
# generated JS glue and the module's custom section speak one schema version.
bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, "", $3); print $3 }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
    echo "error: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
    echo "==> cargo install wasm-bindgen-cli $bindgen_version"
    # --locked when the registry has every locked dependency; a mirror that
    # lags behind may not, then the newest compatible ones are used.
    cargo install -q wasm-bindgen-cli --version "=$bindgen_version" --locked ||
        cargo install -q wasm-bindgen-cli --version "=$bindgen_version"
fi
$only_web && exit 0

missing=()
command -v wasm-opt >/dev/null || missing+=(binaryen)
command -v bats >/dev/null || missing+=(bats)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing Debian packages: ${missing[*]}"
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
