#!/usr/bin/env bash
# Harness overhead: inferbench's reported median vs a plain PyTorch loop timing the same
# model and input the same way, run back to back in alternating rounds (A B A B ...).
# Prints both medians per round, the ratio (target 0.99-1.01) and the added cost per iteration.
#
#   benchmarks/harness-overhead.sh [MODEL] [BATCH] [ROUNDS]     (env: INFERBENCH, PYTHON, DEVICE)
set -euo pipefail
MODEL=${1:-resnet50}; BATCH=${2:-1}; ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
DEVICE=${DEVICE:-auto}
TMP=$(mktemp -d)
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  "$INFERBENCH" run --python "$PYTHON" --model "$MODEL" --batch "$BATCH" --device "$DEVICE" \
      --warmup 50 --iterations 500 --no-throughput --no-verify --quiet --out "$TMP/r$round" > /dev/null
  ib=$("$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1]))['cells'][0]; print(c['latency_ms']['p50'])" "$TMP/r$round/results.json")
  dev=$("$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1]))['cells'][0]; print(c['device'])" "$TMP/r$round/results.json")
  plain=$("$PYTHON" "$HERE/plain_loop.py" --model "$MODEL" --batch "$BATCH" --device "${dev%%:*}" --warmup 50 --iterations 500 \
      | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")
  ratio=$("$PYTHON" -c "print(f'{$ib/$plain:.4f}')")
  added=$("$PYTHON" -c "print(f'{($ib-$plain)*1000:+.1f}')")
  printf 'round %d  %s bs%s on %s: inferbench p50 %.4f ms  plain loop p50 %.4f ms  ratio %s  added %s us/iter\n' \
      "$round" "$MODEL" "$BATCH" "$dev" "$ib" "$plain" "$ratio" "$added"
  ratios+=("$ratio")
done
"$PYTHON" -c "
import statistics, sys
r = [float(x) for x in sys.argv[1:]]
print(f'median ratio over {len(r)} rounds: {statistics.median(r):.4f} (target 0.99-1.01)')
" "${ratios[@]}"
rm -rf "$TMP"
