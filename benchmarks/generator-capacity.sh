#!/usr/bin/env bash
# The load generator's own capacity: open-loop Poisson traffic against a zero-cost synthetic
# worker (batches of up to 256, so the worker is never the bottleneck), at rising rates.
# Prints, per rate, the achieved rate, late requests, and inferbench's CPU time per 1,000
# requests; the highest rate it sustains is the last with achieved >= 98% and late < 1%.
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
      f'p99 {s["latency_ms"]["p99"]:7.2f} ms  CPU {1000 * (user + system) / max(s["sent"], 1) * 1000:7.1f} ms per 1000 requests (whole process, incl. start-up)')
PY
)
  echo "${line#* }"
  if [ "${line%% *}" = "True" ]; then best=$rate; fi
done
echo "highest sustained rate: $best requests/s (achieved >= 98% of target, under 1% late)"
rm -rf "$TMP"
