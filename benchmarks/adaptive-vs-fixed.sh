#!/usr/bin/env bash
# Adaptive stopping vs a fixed 1000-iteration run, side by side on the same model and machine:
# prints the wall time each took, their medians with 95% intervals, and whether they agree.
#
#   benchmarks/adaptive-vs-fixed.sh [MODEL] [DEVICE]      (default resnet18 on cpu)
set -euo pipefail
MODEL=${1:-resnet18}; DEVICE=${2:-cpu}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
TMP=$(mktemp -d)
run() { # name, extra flags...
  local name=$1; shift
  local t0=$(date +%s.%N)
  "$INFERBENCH" run --model "$MODEL" --device "$DEVICE" --no-verify --no-throughput --quiet --out "$TMP/$name" "$@" > /dev/null || true
  local t1=$(date +%s.%N)
  "$PYTHON" - "$TMP/$name/results.json" "$name" "$t0" "$t1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["cells"][0]
l, m = c["latency_ms"], c["measurement"]
print(f'{sys.argv[2]:9s} wall {float(sys.argv[4]) - float(sys.argv[3]):6.1f} s (measuring {m["measure_s"]:5.1f} s), '
      f'n={l["n"]:5d}, p50 {l["p50"]:.3f} ms [{l["ci95"]["p50"][0]:.3f}, {l["ci95"]["p50"][1]:.3f}], stop: {m["stop_reason"]}')
json.dump({"p50": l["p50"], "ci": l["ci95"]["p50"], "wall": float(sys.argv[4]) - float(sys.argv[3])}, open(sys.argv[1] + ".summary", "w"))
PY
}
run adaptive --target-ci 0.01 --max-time 60
run fixed --iterations 1000 --warmup 20
"$PYTHON" - "$TMP" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/adaptive/results.json.summary"))
f = json.load(open(sys.argv[1] + "/fixed/results.json.summary"))
overlap = a["ci"][0] <= f["ci"][1] and f["ci"][0] <= a["ci"][1]
print(f'adaptive took {a["wall"]:.1f} s, fixed 1000 took {f["wall"]:.1f} s ({f["wall"] / a["wall"]:.1f}x as long); '
      f'medians {a["p50"]:.3f} vs {f["p50"]:.3f} ms: ' + ("their 95% intervals overlap (agree)" if overlap else "their 95% intervals do NOT overlap"))
PY
rm -rf "$TMP"
