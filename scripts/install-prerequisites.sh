#!/usr/bin/env bash
# Installs what building and testing the policy need, and nothing when it is
# all there already. Called by `make` targets, so the README's two commands
# work on a fresh Debian/Ubuntu machine with a Rust toolchain (rustup).
#
#   wasm32-wasip1   the target Kubewarden policies are built for (rustup)
#   binaryen        wasm-opt, shrinks policy.wasm (~17%)
#   bats, jq        the kwctl-style e2e suite (e2e/e2e.bats)
#   docker-registry the CNCF distribution registry, for the OCI round trip test
set -euo pipefail

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
    echo "==> rustup target add wasm32-wasip1"
    rustup target add wasm32-wasip1
fi

missing=()
command -v wasm-opt >/dev/null || missing+=(binaryen)
command -v bats >/dev/null || missing+=(bats)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
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
