#!/usr/bin/env bash
# Batching efficiency of inferbench's serving path: SLA capacity (highest Poisson rate whose
# conservative P99 stays within SLA_MS) ÷ offline throughput at the same --max-batch, for each
# placement in PLACES, measured by the same binary one after the other, with the intervals
# inferbench reports. Then each placement's capacity over the first's (two GPUs ÷ one), with
# the interval from the ends of the two capacity brackets.
#
#   benchmarks/batching-efficiency.sh [MODEL]
#     env: INFERBENCH, PYTHON, SLA_MS (15), MAX_BATCH (32), MAX_DELAY (2), COMPILE (default),
#          PRECISION (fp16), PLACES ("--gpus 0;--gpus 0,1"; on a CPU e.g. "--workers 1;--workers 2"),
#          EXTRA (more load flags, e.g. "--channels-last --processes 1"), LIMIT (s per load, 280),
#          KEEP (a folder: each placement's results.json, reports and log are kept there as pN-*)
#
# Targets (issue 13, resnet50 fp16 compiled on an H100/H200): ≥ 0.90 on one GPU, two GPUs ≥ 1.9×
# one. A placement stopped by LIMIT keeps the steps it finished; its figures then say so.
set -uo pipefail
MODEL=${1:-resnet50}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
IFS=';' read -r -a places <<< "${PLACES:---gpus 0;--gpus 0,1}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for i in "${!places[@]}"; do
  # shellcheck disable=SC2086  # the placement and EXTRA are lists of flags
  timeout -s INT "${LIMIT:-280}" "$INFERBENCH" load --python "$PYTHON" --model "$MODEL" --compile "${COMPILE:-default}" \
    --precision "${PRECISION:-fp16}" --find-max-qps --sla-p99 "${SLA_MS:-15}" --offline --max-batch "${MAX_BATCH:-32}" \
    --max-delay "${MAX_DELAY:-2}" ${places[$i]} ${EXTRA:-} --quiet --out "$TMP/p$i" > "$TMP/p$i.log" 2>&1
  echo "${places[$i]}: exit $?" >&2
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"; cp "$TMP/p$i.log" "$KEEP/p$i.log"
    for f in results.json report.md; do [ -f "$TMP/p$i/$f" ] && cp "$TMP/p$i/$f" "$KEEP/p$i-$f"; done
  fi
done
"$PYTHON" - "$TMP" "${places[@]}" <<'PY'
import json, os, sys
tmp, places = sys.argv[1], sys.argv[2:]
rows = []
for i, place in enumerate(places):
    path = os.path.join(tmp, f"p{i}", "results.json")
    if not os.path.exists(path):
        print(f"{place}: no results (see the log above)")
        rows.append(None)
        continue
    r = json.load(open(path))
    load = r["load"]
    cap, off, eff = load.get("capacity") or {}, load.get("offline") or {}, load.get("batching_efficiency") or {}
    rows.append(cap)
    ci = off.get("ci95") or [None, None]
    fmt = lambda x: "-" if x is None else f"{x:,.0f}"
    pct = lambda x: "-" if x is None else f"{100 * x:.0f}%"
    status = r["run"].get("status")
    print(f"{place}: capacity {fmt(cap.get('lower_qps'))}–{fmt(cap.get('upper_qps'))} req/s at P99 <= SLA; "
          f"offline {fmt(off.get('per_s'))} [{fmt(ci[0])}–{fmt(ci[1])}] samples/s; "
          f"efficiency {pct(eff.get('estimate'))} [{pct(eff.get('lower'))}–{pct(eff.get('upper'))}]"
          + ("" if status == "complete" else f" ({status})"))
first = rows[0] if rows else None
for place, cap in zip(places[1:], rows[1:]):
    if not first or not cap or not first.get("lower_qps") or not cap.get("lower_qps"):
        continue
    lo1, hi1 = first["lower_qps"], first.get("upper_qps") or first["lower_qps"]
    lo2, hi2 = cap["lower_qps"], cap.get("upper_qps") or cap["lower_qps"]
    print(f"{place} ÷ {places[0]}: capacity {lo2 / lo1:.2f}× [{lo2 / hi1:.2f}–{hi2 / lo1:.2f}]")
PY
