#!/usr/bin/env bash
# inferbench vs a plain PyTorch loop, both as fresh processes, alternated (I P I P ...): the
# ratio of their medians of process medians, with a 95% bootstrap interval over processes
# (target 0.97-1.03). Process-to-process spread on a cloud VM is the noise that decides, so
# each side is several processes, never one.
#
#   benchmarks/replication-vs-plain.sh [MODEL] [BATCH] [PROCESSES] [PRECISION]   (env: INFERBENCH, PYTHON, DEVICE)
# e.g. a GPU-bound cell, where no process lottery decides: bert-base:seq=512 32 4 fp16
set -euo pipefail
MODEL=${1:-resnet50}; BATCH=${2:-1}; PROCESSES=${3:-4}; PRECISION=${4:-fp32}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
DEVICE=${DEVICE:-auto}
TMP=$(mktemp -d)
ib=(); plain=()
for i in $(seq 1 "$PROCESSES"); do
  "$INFERBENCH" run --python "$PYTHON" --model "$MODEL" --batch "$BATCH" --precision "$PRECISION" --device "$DEVICE" --processes 1 \
      --warmup 50 --iterations 500 --no-throughput --no-verify --quiet --out "$TMP/r$i" > /dev/null
  ib+=("$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['cells'][0]['latency_ms']['p50'])" "$TMP/r$i/results.json")")
  dev=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['cells'][0]['device'])" "$TMP/r$i/results.json")
  plain+=("$("$PYTHON" "$HERE/plain_loop.py" --model "$MODEL" --batch "$BATCH" --precision "$PRECISION" --device "${dev%%:*}" --warmup 50 --iterations 500 \
      | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
  printf 'process %d  %s %s bs%s on %s: inferbench p50 %s ms  plain loop p50 %s ms\n' "$i" "$MODEL" "$PRECISION" "$BATCH" "$dev" "${ib[-1]}" "${plain[-1]}"
done
"$PYTHON" - "${#ib[@]}" "${ib[@]}" "${plain[@]}" <<'PY'
import random, statistics, sys
n = int(sys.argv[1]); a = [float(x) for x in sys.argv[2:2 + n]]; b = [float(x) for x in sys.argv[2 + n:]]
ratio = statistics.median(a) / statistics.median(b)
rng = random.Random(1)
boot = sorted(statistics.median(rng.choices(a, k=n)) / statistics.median(rng.choices(b, k=n)) for _ in range(4000))
lo, hi = boot[int(0.025 * len(boot))], boot[int(0.975 * len(boot)) - 1]
print(f"inferbench / plain loop, medians of {n} process medians each: {ratio:.4f} [{lo:.4f}-{hi:.4f}] (target 0.97-1.03)")
print(f"process medians: inferbench {min(a):.4f}-{max(a):.4f} ms, plain loop {min(b):.4f}-{max(b):.4f} ms")
PY
rm -rf "$TMP"
