#!/usr/bin/env bash
# What serving over HTTP costs: one model variant measured through inferbench's in-process path
# (`load --model`) and through `inferbench serve` driven by `load --target`, side by side with
# the same batching settings: the SLA capacity of each (`--find-max-qps`, one fresh start each),
# then one fixed Poisson rate (half the in-process capacity, or RATE) through each, for P50/P99.
# Prints the capacity ratio (serve ÷ in-process, with the range the two brackets allow) and the
# P50/P99 difference at the fixed rate. Both paths copy each request's bytes into the worker's
# payload ring (`--payload host`); serve adds HTTP, JSON or binary tensor decoding and encoding.
#
#   benchmarks/serve-overhead.sh [MODEL]    (default synthetic:median_ms=2; env: INFERBENCH,
#       PYTHON, FLAGS (variant flags for both, e.g. "--compile default --precision fp16
#       --channels-last"), BATCHING (default "--max-batch 8"), SLA (ms, default 15),
#       DURATION (each search step, default 5s), FIXED (the fixed-rate run, default 10s; 0: none),
#       RATE, ENCODING (json|binary, default binary), KEEP (a folder to keep the results in))
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=${1:-synthetic:median_ms=2}
FLAGS=${FLAGS:-} BATCHING=${BATCHING:---max-batch 8} SLA=${SLA:-15} DURATION=${DURATION:-5s} FIXED=${FIXED:-10s}
ENCODING=${ENCODING:-binary}
OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT"
COMMON="--no-store --quiet --python $PYTHON"
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill $SERVE_PID 2>/dev/null; wait 2>/dev/null || true' EXIT

# shellcheck disable=SC2086
in_process() { "$INFERBENCH" load --model "$MODEL" $FLAGS $BATCHING $COMMON "$@"; }
# shellcheck disable=SC2086
target() { "$INFERBENCH" load --target "$URL" --tensor-encoding "$ENCODING" --no-store --quiet "$@"; }

echo "== in-process capacity" >&2
in_process --find-max-qps --sla-p99 "$SLA" --processes 1 --duration "$DURATION" --out "$OUT/in-process-capacity" >&2 || true

echo "== serve" >&2
# shellcheck disable=SC2086
"$INFERBENCH" serve --model "$MODEL" $FLAGS $BATCHING --python "$PYTHON" --port 0 --logs "$OUT/serve-logs" 2> "$OUT/serve.log" &
SERVE_PID=$!
URL=
for _ in $(seq 1800); do
  URL=${URL:-$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$OUT/serve.log" | head -1)}
  grep -q "^ready:\|ready: " "$OUT/serve.log" && break
  kill -0 $SERVE_PID 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.5
done
echo "== serve capacity ($URL)" >&2
target --find-max-qps --sla-p99 "$SLA" --duration "$DURATION" --out "$OUT/serve-capacity" >&2 || true

RATE=${RATE:-$("$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1]))['load'].get('capacity',{}); print(round(c.get('lower_qps',100)/2))" \
  "$OUT/in-process-capacity/results.json")}
if [ "$FIXED" != 0 ]; then
  echo "== serve at $RATE req/s" >&2
  target --qps "$RATE" --duration "$FIXED" --out "$OUT/serve-fixed" >&2 || true
fi
kill -TERM $SERVE_PID; wait $SERVE_PID || true; SERVE_PID=
if [ "$FIXED" != 0 ]; then
  echo "== in-process at $RATE req/s" >&2
  in_process --qps "$RATE" --duration "$FIXED" --out "$OUT/in-process-fixed" >&2 || true
fi

"$PYTHON" - "$OUT" "$MODEL $FLAGS $BATCHING" "$SLA" "$ENCODING" <<'PY'
import json, sys

out, label, sla, encoding = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def load(name: str) -> dict | None:
    try:
        return json.load(open(f"{out}/{name}/results.json"))
    except (OSError, ValueError):
        return None


def bracket(r: dict | None) -> tuple[float | None, float | None]:
    cap = (r or {}).get("load", {}).get("capacity") or {}
    return cap.get("lower_qps"), cap.get("upper_qps")


print(f"{label}: P99 ≤ {sla} ms; serve with {encoding} tensors")
(il, iu), (sl, su) = bracket(load("in-process-capacity")), bracket(load("serve-capacity"))
show = lambda lo, hi: "none passed" if lo is None else f"{lo:,.0f}–{hi:,.0f} req/s" if hi else f"at least {lo:,.0f} req/s"
print(f"capacity in-process: {show(il, iu)}")
print(f"capacity serve:      {show(sl, su)}")
if il and sl:
    lo = sl / (iu or il)
    hi = (su or sl) / il
    print(f"serve ÷ in-process:  {sl / il:.2f}× (the brackets allow {lo:.2f}–{hi:.2f})")
fixed = {}
for name in ("in-process-fixed", "serve-fixed"):
    r = load(name)
    step = (r or {}).get("load_tests", [{}])[0]
    lat = step.get("latency_ms") or {}
    fixed[name] = lat
    if lat:
        print(f"{name:<17} {step['scenario']}: achieved {step['achieved_qps']:,.0f}/s, P50 {lat['p50']:.2f} ms, "
              f"P99 {lat['p99']:.2f} ms, errors {step['errors']}, dropped {step['dropped']}")
a, b = fixed.get("in-process-fixed"), fixed.get("serve-fixed")
if a and b:
    print(f"serve − in-process:  P50 {b['p50'] - a['p50']:+.2f} ms, P99 {b['p99'] - a['p99']:+.2f} ms")
PY
