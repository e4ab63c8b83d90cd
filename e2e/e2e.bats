#!/usr/bin/env bats
# End-to-end suite in the Kubewarden style (`make e2e-tests`): what every engine must
# do whatever the case. The cases of e2e/cases.yaml are one test each in the suite
# generated from the table (bats 1.8 finds tests by reading the file):
#
#   target/debug/policy-runner cases bats e2e/cases.yaml >target/e2e/cases.bats
#   bats e2e/e2e.bats target/e2e/cases.bats
#
# The engine (kwctl run or policy-runner run) and the helpers: e2e/helpers.bash.

E2E_DIR="$BATS_TEST_DIRNAME"
load helpers

# evaluate REQUEST SETTINGS_JSON: the engine's stdout; stderr (logs) to a file.
evaluate() {
    engine --request-path "$1" --settings-json "$2" 2>"$BATS_TEST_TMPDIR/stderr"
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

@test "the per-case suite is generated from the current table" {
    local suite=target/e2e/cases.bats
    [ -f "$suite" ] || {
        echo "missing $suite: make e2e-tests generates it ($RUNNER cases bats e2e/cases.yaml)"
        return 1
    }
    "$RUNNER" cases bats e2e/cases.yaml | diff - "$suite" || {
        echo "$suite is stale: make e2e-tests regenerates it"
        return 1
    }
}

@test "the checker fails a case the engine's output contradicts" {
    # The rollback case expects a denial; the pod request is accepted.
    run check_case walkthrough-4-rollback-denied --request-path e2e/fixtures/other/pod.json --settings-json '{}'
    [ "$status" -eq 1 ]
    [[ "$output" == *"allowed is true, expected Some(false)"* ]]
}
