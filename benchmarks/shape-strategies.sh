#!/usr/bin/env bash
# Three ways to serve a text model under variable lengths, side by side in one run: eager,
# torch.compile with a static graph per (batch bucket × length bucket), and one dynamic
# graph. Each is a `load --find-max-qps` over the same lognormal lengths and Poisson
# arrivals; the table gives capacity under the P99 bound (an interval), offline throughput,
# recompiles while measuring, padding waste and compile/warm-up time, and names the strategy
# whose capacity is highest (or says the intervals overlap).
#
#   benchmarks/shape-strategies.sh [MODEL] [DEVICE] [SLA_MS]      (env: INFERBENCH, PYTHON, KEEP, LIMIT, FLAGS)
# e.g. on a GPU: bert-base cuda 50; on this CPU: bert-tiny cpu 200
# FLAGS replaces the load flags below (lengths, padding, buckets, step duration); KEEP=DIR
# keeps each strategy's results and reports; LIMIT bounds each strategy in seconds, one figure
# for all or eager,static,dynamic (SIGINT: what finished is kept).
set -uo pipefail
MODEL=${1:-bert-tiny}; DEVICE=${2:-auto}; SLA=${3:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERBENCH=${INFERBENCH:-$HERE/../.build/release/inferbench}
PYTHON=${PYTHON:-$(test -x "$HERE/../.venv/bin/python" && echo "$HERE/../.venv/bin/python" || echo python3)}
FLAGS=${FLAGS:---seq-len lognormal:median=128,sigma=0.6,max=512 --pad-to 128 --max-batch 16 --batch-buckets 1,16 --duration 5s --processes 1}
OUTS=${KEEP:-$(mktemp -d)}; mkdir -p "$OUTS"
IFS=, read -r -a limits <<< "${LIMIT:-600}"
i=0
for s in eager:eager:auto static:default:false dynamic:default:true; do
  IFS=: read -r name compile dynamic <<< "$s"
  limit=${limits[$i]:-${limits[0]}}; i=$((i + 1))
  start=$(date +%s)
  # shellcheck disable=SC2086  # FLAGS is a list of flags
  timeout -s INT "$limit" "$INFERBENCH" load --python "$PYTHON" --model "$MODEL" --device "$DEVICE" --precision "${PRECISION:-fp32}" \
    --compile "$compile" --dynamic "$dynamic" $FLAGS --find-max-qps --sla-p99 "$SLA" --quiet --no-store --out "$OUTS/$name" \
    > "$OUTS/$name.txt" 2>&1
  echo "$name: exit $? after $(( $(date +%s) - start )) s (load --compile $compile --dynamic $dynamic)"
done
"$PYTHON" - "$OUTS" "$SLA" <<'PY'
import json, os, sys
root, sla = sys.argv[1], sys.argv[2]
rows = []
for name in ("eager", "static", "dynamic"):
    path = os.path.join(root, name, "results.json")
    if not os.path.exists(path):
        print(f"{name}: no results (see {name}.txt)"); continue
    d = json.load(open(path))
    load, steps = d.get("load") or {}, d.get("load_tests") or []
    cap = load.get("capacity") or {}
    off = load.get("offline") or {}
    recompiles = sum(s.get("recompiles") or 0 for s in steps)
    waste = [s["padding_waste"] for s in steps if s.get("padding_waste")]
    cold = sum((s.get("cold_shapes") or {}).get("batches", 0) for s in steps)
    lo, hi = cap.get("lower_qps"), cap.get("upper_qps")
    rows.append((name, lo, hi, off.get("per_s"), recompiles, waste, cold, load.get("warm_lengths")))
def f(x): return "-" if x is None else f"{x:,.0f}"
def interval(lo, hi):
    if lo is None: return "none passed" if hi is None else f"below {f(hi)}"
    return f"at least {f(lo)}" if hi is None else f"{f(lo)}-{f(hi)}"
print(f"\ncapacity at P99 <= {sla} ms (interval: highest passing - lowest failing rate), offline, recompiles while measured, padding waste")
print(f"{'strategy':<9} {'capacity req/s':>20} {'offline samples/s':>18} {'recompiles':>10} {'padding waste':>14} {'cold batches':>12}")
for name, lo, hi, off, rec, waste, cold, _ in rows:
    w = f"{min(waste):.2f}-{max(waste):.2f}x" if waste else "-"
    print(f"{name:<9} {interval(lo, hi):>20} {f(off):>18} {rec:>10} {w:>14} {cold:>12}")
ranked = sorted((r for r in rows if r[1] is not None), key=lambda r: r[1], reverse=True)
if len(ranked) >= 2:
    top, second = ranked[0], ranked[1]
    if second[2] is not None and top[1] >= second[2]:
        print(f"most capacity within the SLA: {top[0]} ({interval(top[1], top[2])} req/s), above {second[0]}'s interval")
    else:
        print(f"most capacity within the SLA: {top[0]} by its lower bound, but its interval overlaps {second[0]}'s: no clear winner")
PY
# The same question through the product: each compiled strategy against eager, static against dynamic.
for pair in eager:static eager:dynamic static:dynamic; do
  IFS=: read -r x y <<< "$pair"
  [ -f "$OUTS/$x/results.json" ] && [ -f "$OUTS/$y/results.json" ] && { echo; "$INFERBENCH" compare "$OUTS/$x" "$OUTS/$y"; }
done
