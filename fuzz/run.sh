#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 30), one after the
# other, starting from the committed seeds and crash reproducers and from the
# local working corpus (fuzz/corpus/<target>/, gitignored, grows across runs).
#
#   fuzz/run.sh [SECONDS]                 # what `make fuzz FUZZ_SECONDS=…` calls
#   FUZZ_TARGETS="parsing payload" fuzz/run.sh 60
#   FUZZ_SANITIZER=none fuzz/run.sh 600   # ~2x the executions, no ASan
#   fuzz/run.sh 30 -jobs=2 -workers=2     # extra arguments go to libFuzzer
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# A crash stops that target, leaves the input in fuzz/artifacts/<target>/ and
# makes the script exit 1 after the other targets ran. To keep a crash as a
# regression test: `cargo +nightly fuzz tmin <target> <artifact>`, copy the
# minimised file to fuzz/regressions/<target>/, and `cargo test -p fuzz-checks`
# replays it on stable from then on.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true
targets=(${FUZZ_TARGETS:-payload structured parsing})
sanitizer="${FUZZ_SANITIZER:-address}"
toolchain="${FUZZ_TOOLCHAIN:-+nightly}"

# Input size limits (bytes of fuzzer input, before any expansion): a payload
# up to 2 MiB (above the 1.5 MiB etcd object limit); the structured target's
# input is a recipe that renders to at most one ~1 MiB value; parsing inputs that
# start with 0xFF are repeated up to 1 MiB.
max_len() {
    case "$1" in
        payload) echo $((2 << 20)) ;;
        structured) echo 65536 ;;
        parsing) echo 65536 ;;
        *) echo 4096 ;;
    esac
}

cargo "$toolchain" fuzz build --sanitizer "$sanitizer"

failed=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dirs=("corpus/$target" "seeds/$target")
    [[ -d "regressions/$target" ]] && dirs+=("regressions/$target")
    echo "=== fuzz $target for ${seconds}s (max_len $(max_len "$target"))" >&2
    if ! cargo "$toolchain" fuzz run --sanitizer "$sanitizer" "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" \
        -max_len="$(max_len "$target")" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=512 \
        -timeout=20 \
        -print_final_stats=1 \
        "$@"; then
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${targets[*]}: no crash in ${seconds}s each" >&2
