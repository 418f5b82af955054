#!/usr/bin/env bash
# The load generator's own capacity: open-loop Poisson traffic against a zero-cost synthetic
# worker (batches of up to 256, so the worker is never the bottleneck), at rising rates.
# Prints, per rate, the achieved rate, late requests, and the CPU time of inferbench and its
# worker (start-up and the generator's spin-wait included); the marginal CPU per 1,000 requests
# is the slope between consecutive rates. The highest rate it sustains is the last with
# achieved >= 98% of target and under 1% late.
#
#   benchmarks/generator-capacity.sh [RATES...]      (default 1000 2000 5000 10000 20000 40000)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
RATES=${*:-1000 2000 5000 10000 20000 40000}
TMP=$(mktemp -d)
best=0
for rate in $RATES; do
  /usr/bin/time -f "%U %S" -o "$TMP/time" "$INFERBENCH" load --model synthetic:median_ms=0 --qps "$rate" --duration 5s \
      --max-batch 256 --max-delay 1 --no-telemetry --quiet --out "$TMP/r$rate" > /dev/null 2>&1 || true
  line=$("$PYTHON" - "$TMP/r$rate/results.json" "$TMP/time" "$rate" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["load_tests"][0]
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
rate = float(sys.argv[3])
ok = s["achieved_qps"] >= 0.98 * rate and s["late"] < 0.01 * max(s["sent"], 1)
print(f'{ok} target {rate:8.0f}/s achieved {s["achieved_qps"]:8.0f}/s sent {s["sent"]:7d} late {s["late"]:6d} '
      f'p99 {s["latency_ms"]["p99"]:7.2f} ms  CPU {user + system:6.2f} s')
open(sys.argv[2] + ".cpu", "a").write(f'{s["sent"]} {user + system}\n')
PY
)
  echo "${line#* }"
  if [ "${line%% *}" = "True" ]; then best=$rate; fi
done
echo "highest sustained rate: $best requests/s (achieved >= 98% of target, under 1% late)"
"$PYTHON" - "$TMP/time.cpu" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
for (n0, c0), (n1, c1) in zip(rows, rows[1:]):
    if n1 > n0:
        print(f"marginal CPU from {n0:.0f} to {n1:.0f} requests: {1000 * 1000 * (c1 - c0) / (n1 - n0):.1f} ms per 1000 requests")
PY
rm -rf "$TMP"
