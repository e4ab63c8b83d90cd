#!/usr/bin/env bash
# The step of action.yml: installs the released checker and runs it on the
# inputs, which the runner passes as INPUT_* environment variables (multi-path
# inputs one path per line). Exit status: the checker's (0 allowed, 1 denied,
# 2 nothing checked or unusable input); 2 also when it cannot be installed.
# Tested by crates/upgrade-checker/tests/package.test.mjs against the packed checker.
set -euo pipefail

readonly NAME=documentdb-upgrade-check
readonly DEFAULT_REPOSITORY=documentdb-policies/documentdb-upgrade-safety

fail() {
  echo "::error title=DocumentDB upgrade check::$1"
  exit 2
}

for tool in node npm; do
  command -v "$tool" > /dev/null || fail "$tool is not installed on this runner: add actions/setup-node before this step"
done

package=${INPUT_PACKAGE:-}
if [[ -z $package ]]; then
  version=${INPUT_VERSION:-${ACTION_REF:-}}
  version=${version#v}
  if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
    fail "the action is used at '${ACTION_REF:-}', not a release tag: pin it to a release (uses: ${ACTION_REPOSITORY:-$DEFAULT_REPOSITORY}@v0.1.0) or set the input version"
  fi
  package="https://github.com/${ACTION_REPOSITORY:-$DEFAULT_REPOSITORY}/releases/download/v$version/$NAME-$version.tgz"
fi

prefix="${RUNNER_TEMP:-$(mktemp -d)}/$NAME"
mkdir -p "$prefix"
echo "Installing $package"
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "$package"; then
  fail "cannot install the checker from $package: is the version released, and does the runner reach it?"
fi

args=()
# One path per line; blank lines and surrounding spaces are ignored.
add_paths() {
  local option=$1 line
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -z $line ]] && continue
    if [[ -n $option ]]; then args+=("$option" "$line"); else manifests+=("$line"); fi
  done <<< "$2"
}
manifests=()
add_paths --current "${INPUT_CURRENT:-}"
add_paths --cluster "${INPUT_CLUSTER:-}"
[[ -n ${INPUT_POLICY:-} ]] && args+=(--policy "$INPUT_POLICY")
[[ -n ${INPUT_SETTINGS:-} ]] && args+=(--settings "$INPUT_SETTINGS")
[[ -n ${INPUT_NAMESPACE:-} ]] && args+=(--namespace "$INPUT_NAMESPACE")
add_paths "" "${INPUT_MANIFESTS:-}"
((${#manifests[@]} > 0)) || fail "the input manifests is empty: give the files or folders to check"

status=0
report=$("$prefix/node_modules/.bin/$NAME" "${args[@]}" -- "${manifests[@]}") || status=$?
echo "$report"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  {
    echo '### DocumentDB upgrade check'
    echo
    echo '```text'
    # The annotations are for the log, not the summary.
    grep -v '^::' <<< "$report" || true
    echo '```'
  } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
