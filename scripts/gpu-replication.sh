#!/usr/bin/env bash
# GPU evidence for process replication (issue 11), one part per device call:
#   make gpu-bundle (here); on the host from the repository root:
#   OUT=dir scripts/gpu-replication.sh pairs|misc|plain|load|grid
#   load: LOAD_FLAGS replaces the model and search flags (default: resnet50 default fp16, P99 15 ms)
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench; chmod +x "$IB"
export PYTHONUNBUFFERED=1 INFERBENCH_STORE=/tmp/ib-store.sqlite INFERBENCH_WORKER_SOURCE=$PWD/python
log() { echo "== $(date +%T) $*"; }
keep() { cp "$1/results.json" "$OUT/$2-results.json" 2>/dev/null; }
case "${1:?pairs, misc, plain, load or grid}" in
pairs)
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader > "$OUT/gpu.txt" 2>&1
  python3 -c "import torch;print(torch.__version__)" >> "$OUT/gpu.txt" 2>&1
  for i in 1 2; do
    { log "resnet50 three modes, run $i"; "$IB" run --model resnet50 --compile eager,default,reduce-overhead --batch 1 --precision fp32 \
        --warmup 50 --iterations 500 --no-verify --out /tmp/rn$i; echo "exit $?"; } > "$OUT/resnet50-$i.txt" 2>&1; keep /tmp/rn$i resnet50-$i
  done
  for i in 1 2; do
    { log "bert-base seq512 fp16, run $i"; "$IB" run --model bert-base:seq=512 --compile eager,default --precision fp16 --batch 1,8,32 \
        --max-time 2 --no-verify --out /tmp/bb$i; echo "exit $?"; } > "$OUT/bert512-$i.txt" 2>&1; keep /tmp/bb$i bert512-$i
  done
  ;;
misc)
  {
    log "memory: resnet50 eager vs reduce-overhead fp32 bs32; bert-base fp32 bs1 with verify"
    "$IB" run --model resnet50 --compile eager,reduce-overhead --precision fp32 --batch 32 --processes 1 --max-time 1 --out /tmp/mem1; echo "exit $?"
    "$IB" run --model bert-base --compile eager --precision fp32 --batch 1 --processes 1 --max-time 1 --out /tmp/mem2; echo "exit $?"
    for p in --no-pin --pin; do
      log "pinning $p: resnet50 eager bs1, 4 processes"
      "$IB" run --model resnet50 --compile eager --batch 1 --processes 4 --max-time 0.5 --no-verify --no-throughput $p --quiet --out /tmp/pin$p; echo "exit $?"
    done
  } > "$OUT/memory-pin.txt" 2>&1
  keep /tmp/mem1 memory-resnet50; keep /tmp/mem2 memory-bert
  python3 - >> "$OUT/memory-pin.txt" <<'PY'
import json
for p in ("--no-pin", "--pin"):
    c = json.load(open(f"/tmp/pin{p}/results.json"))["cells"][0]
    m = [q.get("median_ms") for q in c["measurement"]["processes"]]
    print(p, "process medians", [round(x, 4) for x in m if x], "spread", round(max(m) / min(m), 4), "ci95", c["latency_ms"]["ci95"]["p50"])
PY
  { log "inferbench vs plain loop, resnet50 bs1 fp32, 4 fresh processes each, alternated"
    INFERBENCH=$IB PYTHON=python3 benchmarks/replication-vs-plain.sh resnet50 1 4; echo "exit $?"; } > "$OUT/plain.txt" 2>&1
  ;;
plain)
  # inferbench vs a plain loop where the GPU decides (bert-base seq512 fp16 bs32), then where
  # launches decide (resnet50 fp32 bs1: each process's lifelong state decides, on both sides).
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader > "$OUT/gpu.txt" 2>&1
  python3 -c "import torch;print(torch.__version__)" >> "$OUT/gpu.txt" 2>&1
  { log "inferbench vs plain loop, bert-base:seq=512 fp16 bs32, ${PLAIN_GPU:-4} fresh processes each, alternated"
    INFERBENCH=$IB PYTHON=python3 benchmarks/replication-vs-plain.sh bert-base:seq=512 32 "${PLAIN_GPU:-4}" fp16; echo "exit $?"
    log "inferbench vs plain loop, resnet50 fp32 bs1, ${PLAIN_LAUNCH:-6} fresh processes each, alternated"
    INFERBENCH=$IB PYTHON=python3 benchmarks/replication-vs-plain.sh resnet50 1 "${PLAIN_LAUNCH:-6}" fp32; echo "exit $?"
  } > "$OUT/plain-session5.txt" 2>&1
  ;;
load)
  # Two runs, each on fresh starts of the workers (--processes auto: 2 on a GPU, a 3rd when
  # their brackets share no rate): the two runs' capacity intervals should overlap.
  for i in 1 2; do
    { log "load find-max-qps, run $i"; start=$(date +%s)
      timeout -s INT ${LOAD_LIMIT:-285} "$IB" load ${LOAD_FLAGS:---model resnet50 --compile default --precision fp16 --channels-last --find-max-qps --sla-p99 15} \
        --offline --max-batch 32 --max-delay 2 --out /tmp/ld$i; echo "exit $? after $(( $(date +%s) - start )) s"; } > "$OUT/load-$i.txt" 2>&1
    keep /tmp/ld$i load-$i; cp /tmp/ld$i/report.md "$OUT/load-$i-report.md" 2>/dev/null
  done
  python3 - >> "$OUT/load-2.txt" <<'PY'
import json
caps = []
for i in (1, 2):
    load = json.load(open(f"/tmp/ld{i}/results.json"))["load"]
    c = load.get("capacity", {})
    caps.append((c.get("lower_qps"), c.get("upper_qps")))
    starts = [(s.get("lower_qps"), s.get("upper_qps")) for s in c.get("replicates", [])]
    print(f"run {i}: capacity {caps[-1]}, per start {starts}, offline {load.get('offline', {}).get('per_s')} {load.get('offline', {}).get('ci95')}")
(a, b), (c, d) = caps
print("overlap" if a is not None and c is not None and b is not None and d is not None and max(a, c) <= min(b, d) else "NO OVERLAP")
PY
  ;;
grid)
  model=${2:-resnet50}; [ "$model" = bert-base ] && model="bert-base:seq=128"
  { log "$model guide grid with process replication (${GRID_FLAGS:-auto})"; start=$(date +%s)
    timeout -s INT 560 "$IB" run plans/guide-assessment.yaml --model "$model" ${GRID_FLAGS:-} --out /tmp/ib-grid
    echo "exit $? after $(( $(date +%s) - start )) s"; } > "$OUT/grid.txt" 2>&1
  for f in results.json report.md report.html; do cp /tmp/ib-grid/$f "$OUT/grid-$f" 2>/dev/null; done
  ;;
esac
tail -n 40 "$OUT"/*.txt
