#!/usr/bin/env bash
# `make bench`: the rule engine natively (criterion) and the wasm module
# (policy-runner bench: warm instance as kwctl, fresh instance per request as
# policy-server), on the same request files, in one run, against the
# do-nothing policy; then one table of figures and ratios.
#
#   BENCH_ITERATIONS   wasm evaluations per mode, typical request (default 3000)
#   BENCH_LARGE_ITERATIONS  the same for the ~1 MiB object (default 300)
#   BENCH_AUDIT_OBJECTS     stored objects audited per cluster size (default 1000)
#   BENCH_REPORT_ONLY=1     print the table of the last run (target/bench/) again
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release-bench
iterations=${BENCH_ITERATIONS:-3000}
large_iterations=${BENCH_LARGE_ITERATIONS:-300}
out=target/bench
mkdir -p "$out"

if [ -z "${BENCH_REPORT_ONLY:-}" ]; then
echo "==> native: criterion (profile $profile)"
cargo bench --locked --profile "$profile" -p documentdb-upgrade-safety --bench rules
cp target/bench-native.json "$out/native.json"

echo "==> wasm: policy-runner bench (profile $profile)"
cargo build --locked -q --profile "$profile" -p policy-runner
runner=target/$profile/policy-runner
for request in typical-update large-object; do
    n=$iterations
    [ "$request" = large-object ] && n=$large_iterations
    "$runner" bench --iterations "$n" --request-path "e2e/fixtures/bench/$request.json" \
        --baseline target/noop-policy.wasm --json policy.wasm >"$out/wasm-$request.json"
done

# The context-aware CREATE: the ImageVolume check lists the Nodes, answered by a
# kwctl session replayed from its start for every evaluation (3 Nodes: the e2e
# session; 5,000: written here). The annotated module carries the
# contextAwareResources that --allow-context-aware grants.
cargo run -q --locked -p test-support --bin generate-fixtures -- --nodes-session 5000 "$out/nodes-5000.yml"
for nodes in 3 5000; do
    session=e2e/sessions/imagevolume-ready.yml
    [ "$nodes" = 5000 ] && session=$out/nodes-5000.yml
    "$runner" bench --iterations "$large_iterations" --request-path e2e/fixtures/create/version-only.json \
        --allow-context-aware --replay-host-capabilities-interactions "$session" \
        --baseline target/noop-policy.wasm --json annotated-policy.wasm >"$out/wasm-create-$nodes-nodes.json"
done

# The background audit: 1,000 stored objects replayed as the audit scanner
# sends them, on a cluster of 5,000 Nodes and on one with none. A replay reads
# nothing from the cluster, so both must cost the same.
cargo run -q --locked -p test-support --bin generate-fixtures -- --nodes-session 0 "$out/nodes-0.yml"
for nodes in 0 5000; do
    "$runner" bench --iterations "${BENCH_AUDIT_OBJECTS:-1000}" --request-path e2e/fixtures/audit/healthy-0.112.0.json \
        --allow-context-aware --replay-host-capabilities-interactions "$out/nodes-$nodes.yml" \
        --baseline target/noop-policy.wasm --json annotated-policy.wasm >"$out/wasm-audit-$nodes-nodes.json"
done
fi

jq -rn --slurpfile native "$out/native.json" \
    --slurpfile typical "$out/wasm-typical-update.json" \
    --slurpfile large "$out/wasm-large-object.json" \
    --slurpfile nodes3 "$out/wasm-create-3-nodes.json" \
    --slurpfile nodes5000 "$out/wasm-create-5000-nodes.json" \
    --slurpfile audit0 "$out/wasm-audit-0-nodes.json" \
    --slurpfile audit5000 "$out/wasm-audit-5000-nodes.json" '
  def r: . * 100 | round / 100;
  def row($name; $w):
    ($native[0].requests[$name].validate.mean_us) as $n
    | ($w.policy.warm.mean_us - $w.baseline.warm.mean_us) as $own
    | "| \($name) (\($w.request_bytes) B) | \($n | r) | \($w.policy.warm.mean_us | r) (p50 \($w.policy.warm.p50_us | r), p99 \($w.policy.warm.p99_us | r)) | \($w.policy.warm.mean_us / $n | r)× | \($w.baseline.warm.mean_us | r) | \($own | r) = \($own / $n | r)× | \($w.policy.fresh.mean_us | r) (p99 \($w.policy.fresh.p99_us | r)) | \($w.baseline.fresh.mean_us | r) | \($w.ratios.fresh_mean | r)× | \($w.policy.fresh.evals_per_sec | round) |";
  "",
  "| request | native µs | wasm warm µs | warm / native | do-nothing warm µs | policy own warm µs (/ native) | wasm fresh µs | do-nothing fresh µs | fresh / do-nothing | fresh evals/s |",
  "|---|---|---|---|---|---|---|---|---|---|",
  row("typical-update"; $typical[0]),
  row("large-object"; $large[0]),
  "",
  "| module | bytes | compile ms |",
  "|---|---|---|",
  "| policy.wasm | \($typical[0].policy.size_bytes) | \($typical[0].policy.compile_ms | r) |",
  "| do-nothing | \($typical[0].baseline.size_bytes) | \($typical[0].baseline.compile_ms | r) |",
  "| ratio | \($typical[0].ratios.size | r)× | \($typical[0].ratios.compile | r)× |",
  "",
  "| context-aware CREATE, natively | Nodes listed | µs |",
  "|---|---|---|",
  ($native[0].context_aware // {} | to_entries[] | "| \(.key) (\(.value.request)) | \(.value.nodes) | \(.value.validate_payload.mean_us // "not measured" | if type == "number" then r else . end) |"),
  "",
  "| context-aware CREATE in wasm (session replayed) | warm µs | fresh µs (p99) | do-nothing fresh µs | fresh / do-nothing |",
  "|---|---|---|---|---|",
  ([["3 Nodes", $nodes3[0]], ["5,000 Nodes", $nodes5000[0]]][] | . as [$name, $w] | "| \($name) | \($w.policy.warm.mean_us | r) | \($w.policy.fresh.mean_us | r) (\($w.policy.fresh.p99_us | r)) | \($w.baseline.fresh.mean_us | r) | \($w.ratios.fresh_mean | r)× |"),
  "",
  "| background audit, one stored object per evaluation | objects | warm µs | fresh µs (p99) | all objects, fresh ms |",
  "|---|---|---|---|---|",
  ([["no Nodes", $audit0[0]], ["5,000 Nodes", $audit5000[0]]][] | . as [$name, $w] | "| \($name) | \($w.iterations) | \($w.policy.warm.mean_us | r) | \($w.policy.fresh.mean_us | r) (\($w.policy.fresh.p99_us | r)) | \($w.policy.fresh.mean_us * $w.iterations / 1000 | r) |"),
  "| 5,000 Nodes / no Nodes | | \($audit5000[0].policy.warm.mean_us / $audit0[0].policy.warm.mean_us | r)× | \($audit5000[0].policy.fresh.mean_us / $audit0[0].policy.fresh.mean_us | r)× | |",
  "",
  "Targets: size ≤ 1.25×; warm/native ≤ 2× (typical); fresh/do-nothing ≤ 1.3× (typical), ≤ 1.5× (large)."
'
