#!/usr/bin/env bash
# Pipelined workers: --in-flight 1 vs N side by side on the same model and machine. Prints the
# offline throughput (5 rounds, with its 95% interval) and the closed-loop capacity (achieved
# requests/s with more clients than the workers can hold) at each depth, and their ratios.
#
#   benchmarks/pipelining.sh [MODEL] [DEVICE] [N] [MAX_BATCH]
#       default: synthetic:host_ms=2,device_ms=2 on cpu, N=2, max batch 1
# On a GPU host, e.g.: benchmarks/pipelining.sh resnet50 cuda 2 32 (with --compile via EXTRA).
# KEEP=dir keeps each depth's results.json there (as in-flight-N-results.json).
set -euo pipefail
MODEL=${1:-synthetic:host_ms=2,device_ms=2}; DEVICE=${2:-cpu}; N=${3:-2}; MAX_BATCH=${4:-1}
EXTRA=${EXTRA:-}
CLIENTS=${CLIENTS:-$((4 * MAX_BATCH * N))}
DURATION=${DURATION:-5s}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "model $MODEL on $DEVICE, max batch $MAX_BATCH, $CLIENTS closed-loop clients for $DURATION"
for depth in 1 "$N"; do
  # shellcheck disable=SC2086
  "$INFERBENCH" load --model "$MODEL" --device "$DEVICE" --offline --concurrency "$CLIENTS" --duration "$DURATION" \
    --max-batch "$MAX_BATCH" --in-flight "$depth" --quiet --no-telemetry --no-store --out "$TMP/$depth" $EXTRA > /dev/null
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$TMP/$depth/results.json" "$KEEP/in-flight-$depth-results.json"; fi
done
"$PYTHON" - "$TMP" 1 "$N" <<'PY'
import json, sys
root, depths = sys.argv[1], sys.argv[2:]
rows = {}
for d in depths:
    r = json.load(open(f"{root}/{d}/results.json"))
    load, step = r["load"], r["load_tests"][0]
    ci = load["offline"].get("ci95") or [float("nan")] * 2
    rows[d] = (load["offline_throughput_per_s"], ci, step["achieved_qps"], step["latency_ms"]["p50"], step["breakdown_ms"])
    off, ci, cap, p50, b = rows[d]
    print(f"in-flight {d}: offline {off:8.1f} samples/s [{ci[0]:.1f}, {ci[1]:.1f}]   closed loop {cap:8.1f} req/s "
          f"(p50 {p50:.2f} ms; queue {b['queue']:.2f}, ipc {b['transport']:.2f}, compute {b['compute']:.2f} ms)")
one, n = rows[depths[0]], rows[depths[-1]]
print(f"ratio in-flight {depths[-1]} / 1: offline {n[0] / one[0]:.2f}x, closed-loop capacity {n[2] / one[2]:.2f}x")
PY
