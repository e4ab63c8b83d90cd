#!/usr/bin/env bats
# The release commands through make, as docs/verify.md shows them: `make push`
# to a registry, `make sign REF=… KEY=…`, `make verify REF=… KEY=…` and
# `make verify REF=… VERIFICATION_CONFIG=…`, against Debian's docker-registry
# on 127.0.0.1 (started here, stopped at the end). cargo test never runs make:
# the dist tool itself, the signature's layout in the registry and every error
# text are tested in crates/policy-dist/tests/dist/signing.rs; this file checks
# the Makefile's interface on top of it. The tests run in file order and share
# the pushed module: unsigned first, then signed.

setup_file() {
    cd "$BATS_TEST_DIRNAME/.."
    command -v docker-registry >/dev/null || {
        echo "docker-registry not found: make prerequisites installs it" >&2
        return 1
    }
    export RELEASE_DIR="$BATS_FILE_TMPDIR"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$RELEASE_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $RELEASE_DIR/data
http:
  addr: 127.0.0.1:$port
EOF
    # 3>&-: bats waits for every process that holds its output descriptor.
    docker-registry serve "$RELEASE_DIR/registry.yml" >"$RELEASE_DIR/registry.log" 2>&1 3>&- &
    echo $! >"$RELEASE_DIR/registry.pid"
    python3 - "$port" <<'EOF' || { cat "$RELEASE_DIR/registry.log" >&2; return 1; }
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("docker-registry did not answer on /v2/")
EOF
    echo "insecure_sources: [\"127.0.0.1:$port\"]" >"$RELEASE_DIR/sources.yml"
    export COSIGN_PASSWORD="release e2e"
    cargo run --locked -q -p policy-dist -- generate-key-pair --output-key-prefix "$RELEASE_DIR/cosign"
    cargo run --locked -q -p policy-dist -- generate-key-pair --output-key-prefix "$RELEASE_DIR/other"

    local pushed
    pushed=$(make --no-print-directory push REGISTRY="127.0.0.1:$port/e2e/documentdb-upgrade-safety" \
        TAG=v0.0.0-e2e SOURCES="$RELEASE_DIR/sources.yml")
    REF=$(sed -n 's/.*"immutable_ref":"\([^"]*\)".*/\1/p' <<<"$pushed")
    [[ $REF == 127.0.0.1:$port/e2e/documentdb-upgrade-safety@sha256:* ]] || {
        echo "make push printed no immutable reference: $pushed" >&2
        return 1
    }
    export REF
    cat >"$RELEASE_DIR/verification-config.yml" <<EOF
apiVersion: v1
allOf:
  - kind: pubKey
    owner: maintainers
    key: |
$(sed 's/^/      /' "$RELEASE_DIR/cosign.pub")
EOF
}

teardown_file() {
    [ -f "$RELEASE_DIR/registry.pid" ] && kill "$(cat "$RELEASE_DIR/registry.pid")" 2>/dev/null || true
}

setup() {
    cd "$BATS_TEST_DIRNAME/.."
}

# release TARGET VAR=VALUE...: make TARGET with the module reference and the sources.
release() {
    make --no-print-directory "$@" REF="$REF" SOURCES="$RELEASE_DIR/sources.yml"
}

@test "make verify refuses the module before it is signed" {
    run release verify KEY="$RELEASE_DIR/cosign.pub"
    [ "$status" -ne 0 ]
    command -v kwctl >/dev/null || [[ $output == *"no signature found at "* ]]
}

@test "make sign signs the module make push printed" {
    run release sign KEY="$RELEASE_DIR/cosign.key"
    [ "$status" -eq 0 ]
    [[ $output == *"Signed $REF: signature pushed to "*".sig (1 signature(s) there)"* ]]
}

@test "make verify accepts it with the public key" {
    run release verify KEY="$RELEASE_DIR/cosign.pub"
    [ "$status" -eq 0 ]
    command -v kwctl >/dev/null || [[ $output == *"Policy successfully verified: $REF"* ]]
}

@test "make verify accepts it with a policy-server verification config" {
    run release verify VERIFICATION_CONFIG="$RELEASE_DIR/verification-config.yml"
    [ "$status" -eq 0 ]
    command -v kwctl >/dev/null || [[ $output == *"satisfied allOf[0]: pubKey (owner maintainers)"* ]]
}

@test "make verify refuses a key that did not sign it" {
    run release verify KEY="$RELEASE_DIR/other.pub"
    [ "$status" -ne 0 ]
    command -v kwctl >/dev/null || [[ $output == *"no signature by this key"* ]]
}

@test "make sign and make verify name what is missing" {
    run make --no-print-directory sign REF= KEY="$RELEASE_DIR/cosign.key"
    [ "$status" -ne 0 ]
    [[ $output == *"REF is empty: make sign REF=<reference printed by make push> KEY=<cosign.key>"* ]]
    run make --no-print-directory verify REF="$REF"
    [ "$status" -ne 0 ]
    [[ $output == *"make verify needs VERIFICATION_CONFIG=<file> or KEY=<cosign.pub>"* ]]
}

# A kwctl stand-in on PATH: prints its arguments, fails like kwctl offline
# unless it is given a trust config.
fake_kwctl() {
    cat >"$BATS_TEST_TMPDIR/kwctl" <<'SCRIPT'
#!/usr/bin/env bash
echo "kwctl $*"
[[ " $* " == *" --sigstore-trust-config "* ]] && exit 0
echo "Error: Failed to fetch Sigstore's TUF repository" >&2
exit 1
SCRIPT
    chmod +x "$BATS_TEST_TMPDIR/kwctl"
}

@test "make verify with kwctl offline says to pass TRUST_CONFIG" {
    fake_kwctl
    run make --no-print-directory verify REF="$REF" KEY="$RELEASE_DIR/cosign.pub" KWCTL="$BATS_TEST_TMPDIR/kwctl"
    [ "$status" -ne 0 ]
    [[ $output == *"kwctl verify failed. If this machine has no internet access, kwctl could not fetch Sigstore's trust root: pass TRUST_CONFIG=<ClientTrustConfig JSON> (docs/verify.md, section Offline)."* ]]
}

@test "make verify passes TRUST_CONFIG to kwctl as --sigstore-trust-config" {
    fake_kwctl
    echo '{}' >"$BATS_TEST_TMPDIR/trust.json"
    run make --no-print-directory verify REF="$REF" KEY="$RELEASE_DIR/cosign.pub" \
        TRUST_CONFIG="$BATS_TEST_TMPDIR/trust.json" KWCTL="$BATS_TEST_TMPDIR/kwctl"
    [ "$status" -eq 0 ]
    [[ $output == *"kwctl verify  --sigstore-trust-config $BATS_TEST_TMPDIR/trust.json"*"-k $RELEASE_DIR/cosign.pub registry://$REF"* ]]
    run make --no-print-directory verify REF="$REF" KEY="$RELEASE_DIR/cosign.pub" TRUST_CONFIG=/nonexistent/trust.json
    [ "$status" -ne 0 ]
    [[ $output == *"TRUST_CONFIG=/nonexistent/trust.json: no such file"* ]]
}

@test "E2E_ENGINE=kwctl without kwctl on PATH fails at once instead of falling back" {
    # (printf: bats reads every line that starts with @test in this file as a test.)
    printf 'E2E_DIR="%s/e2e"\nload "%s/e2e/helpers.bash"\n%s "a case" { true; }\n' \
        "$PWD" "$PWD" "@test" >"$BATS_TEST_TMPDIR/one.bats"
    run env E2E_ENGINE=kwctl PATH=/usr/bin:/bin bats "$BATS_TEST_TMPDIR/one.bats"
    [ "$status" -ne 0 ]
    [[ $output == *"E2E_ENGINE=kwctl but kwctl is not on PATH (Kubewarden's kwctl-installer action installs it)"* ]]
}
