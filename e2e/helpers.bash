# Shared by e2e/e2e.bats and the per-case suite `policy-runner cases bats` generates
# (target/e2e/cases.bats): the engine, and how a case is evaluated and checked.
#
# Engine: `kwctl run` when kwctl is on PATH, else `policy-runner run` (the project's
# waPC runner, same flags and output). Force one with E2E_ENGINE=kwctl|policy-runner;
# choose the module with POLICY=path and the runner with RUNNER=path.
#
# The including file sets E2E_DIR (this directory) before `load`.

E2E_ROOT="$(cd "$E2E_DIR/.." && pwd)"
E2E_CASES="${E2E_CASES:-$E2E_DIR/cases.yaml}"

setup_file() {
    cd "$E2E_ROOT"
    if [ -z "${E2E_ENGINE:-}" ]; then
        if command -v kwctl >/dev/null; then E2E_ENGINE=kwctl; else E2E_ENGINE=policy-runner; fi
    fi
    export E2E_ENGINE
    if [ "$E2E_ENGINE" = kwctl ] && ! command -v kwctl >/dev/null; then
        echo "E2E_ENGINE=kwctl but kwctl is not on PATH (Kubewarden's kwctl-installer action installs it)" >&2
        return 1
    fi
    export POLICY="${POLICY:-annotated-policy.wasm}"
    export RUNNER="${RUNNER:-target/debug/policy-runner}"
    [ -f "$POLICY" ] || { echo "missing $POLICY: run make annotated-policy.wasm" >&2; return 1; }
    [ -x "$RUNNER" ] || { echo "missing $RUNNER: run make runner" >&2; return 1; }
    echo "# engine: $E2E_ENGINE, module: $POLICY" >&3
}

setup() {
    cd "$E2E_ROOT"
}

# engine FLAGS...: `kwctl run FLAGS... $POLICY` or `policy-runner run FLAGS... $POLICY`.
engine() {
    if [ "$E2E_ENGINE" = kwctl ]; then
        kwctl run "$@" "$POLICY"
    else
        "$RUNNER" run "$@" "$POLICY"
    fi
}

# check_case NAME FLAGS...: evaluates the case with the engine and has
# `policy-runner cases check` compare what it printed with what the case states
# (it prints the differences and fails when they disagree).
check_case() {
    local name="$1" status=0
    shift
    engine "$@" >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
    "$RUNNER" cases check "$E2E_CASES" "$name" --exit-code "$status" \
        --stdout "$BATS_TEST_TMPDIR/stdout" --stderr "$BATS_TEST_TMPDIR/stderr"
}
