#!/usr/bin/env bats
# End-to-end suite in the Kubewarden style (`make e2e-tests`): every case of
# e2e/cases.yaml is evaluated against the policy module by an engine, and the
# line it prints is checked with jq.
#
# Engine: `kwctl run` when kwctl is on PATH, else `policy-runner run` (the
# project's waPC runner, same input and output shape). Force one with
# E2E_ENGINE=kwctl|policy-runner; choose the module with POLICY=path.

setup_file() {
    cd "$BATS_TEST_DIRNAME/.."
    if [ -z "${E2E_ENGINE:-}" ]; then
        if command -v kwctl >/dev/null; then E2E_ENGINE=kwctl; else E2E_ENGINE=policy-runner; fi
    fi
    export E2E_ENGINE
    export POLICY="${POLICY:-annotated-policy.wasm}"
    export RUNNER="${RUNNER:-target/debug/policy-runner}"
    [ -f "$POLICY" ] || { echo "missing $POLICY: run make annotated-policy.wasm" >&2; return 1; }
    [ -x "$RUNNER" ] || { echo "missing $RUNNER: run make runner" >&2; return 1; }
    # The table as JSON lines: bash reads JSON with jq, not YAML.
    "$RUNNER" cases e2e/cases.yaml >"$BATS_FILE_TMPDIR/cases.jsonl"
    echo "# engine: $E2E_ENGINE, module: $POLICY" >&3
}

setup() {
    cd "$BATS_TEST_DIRNAME/.."
}

# evaluate REQUEST SETTINGS_JSON: the engine's stdout; stderr (logs) to a file.
evaluate() {
    if [ "$E2E_ENGINE" = kwctl ]; then
        kwctl run --request-path "$1" --settings-json "$2" "$POLICY" 2>"$BATS_TEST_TMPDIR/stderr"
    else
        "$RUNNER" run --request-path "$1" --settings-json "$2" "$POLICY" 2>"$BATS_TEST_TMPDIR/stderr"
    fi
}

# check_case CASE_JSON: evaluates one case; prints what differs, fails if anything does.
check_case() {
    local case="$1" request settings output status=0
    request=$(jq -r .request <<<"$case")
    settings=$(jq -c '.settings // {}' <<<"$case")
    output=$(evaluate "$request" "$settings") || status=$?

    if jq -e 'has("settings_error")' <<<"$case" >/dev/null; then
        local expected
        expected=$(jq -r .settings_error <<<"$case")
        [ "$status" -ne 0 ] || { echo "  expected the engine to refuse the settings, got: $output"; return 1; }
        grep -qF "Provided settings are not valid" "$BATS_TEST_TMPDIR/stderr" &&
            grep -qF -- "$expected" "$BATS_TEST_TMPDIR/stderr" ||
            { echo "  stderr lacks '$expected':"; sed 's/^/    /' "$BATS_TEST_TMPDIR/stderr"; return 1; }
        return 0
    fi

    [ "$status" -eq 0 ] || { echo "  engine exited $status:"; sed 's/^/    /' "$BATS_TEST_TMPDIR/stderr"; return 1; }
    local problems
    # Everything the case states is compared in one jq program.
    problems=$(jq -rn --argjson case "$case" --argjson out "$output" '
        [ (if $out.allowed != $case.allowed then "allowed is \($out.allowed), expected \($case.allowed)" else empty end),
          (if ($case | has("code")) and $out.status.code != $case.code then "code is \($out.status.code), expected \($case.code)" else empty end),
          ($case.message // [] | .[] as $m | if ($out.status.message // "" | contains($m)) then empty else "message lacks: \($m)" end),
          (if ($case | has("warnings")) then
              ($out.warnings // []) as $w
              | if ($w | length) != ($case.warnings | length) then "warnings are \($w), expected \($case.warnings | length)"
                else ([range(0; $w | length)] | .[] as $i | if ($w[$i] | contains($case.warnings[$i])) then empty else "warning \($i) lacks: \($case.warnings[$i])" end)
                end
           else empty end),
          (["uid", "allowed", "auditAnnotations", "warnings"] - ($out | keys) | if length > 0 then "output lacks keys \(.)" else empty end)
        ] | .[]')
    [ -z "$problems" ] || { echo "$problems" | sed 's/^/  /'; echo "  output: $output"; return 1; }
}

@test "every case of e2e/cases.yaml" {
    local failures=0 total=0 case name
    while IFS= read -r case; do
        total=$((total + 1))
        name=$(jq -r .name <<<"$case")
        if check_case "$case"; then
            echo "ok   $name"
        else
            echo "FAIL $name"
            failures=$((failures + 1))
        fi
    done <"$BATS_FILE_TMPDIR/cases.jsonl"
    echo "$total cases, $failures failed"
    [ "$total" -gt 0 ]
    [ "$failures" -eq 0 ]
}

@test "output is one JSON line on stdout, logs stay on stderr" {
    run evaluate e2e/fixtures/other/pod.json '{}'
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    jq -e '.allowed == true and .uid == "705ab4f5-6393-11e8-b7cc-42010a800002"' <<<"$output"
}

@test "a bare AdmissionRequest and an AdmissionReview give the same line" {
    bare=$(evaluate e2e/fixtures/walkthrough/04-rollback-image-0.110.0.json '{}')
    wrapped=$(evaluate e2e/fixtures/admission-review/rollback.json '{}')
    [ "$bare" = "$wrapped" ]
}

@test "invalid settings: non-zero exit and the module's message" {
    run evaluate e2e/fixtures/create/version-only.json '{"bogus": 1}'
    [ "$status" -ne 0 ]
    grep -qF 'Provided settings are not valid: unknown setting "bogus"' "$BATS_TEST_TMPDIR/stderr"
}
