#!/usr/bin/env bash
# GPU evidence, first call: doctor, the foundation runs, harness overhead, telemetry.
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-doctor-foundation-telemetry.sh
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench; PY=$(command -v python3)
export PYTHONUNBUFFERED=1
log() { echo "== $(date +%T) $*"; }
log resnet50 > "$OUT/resnet50.txt"
"$IB" run --model resnet50 --compile eager,default,reduce-overhead --batch 1,32 --precision fp32 --out /tmp/ib-r50 >> "$OUT/resnet50.txt" 2>&1
cp /tmp/ib-r50/results.json "$OUT/resnet50.json"
{
  log bert-base; "$IB" run --model bert-base --compile eager,default --batch 1 --out /tmp/ib-bert
  log telemetry overhead: resnet50 eager bs1 with and without the sampler, alternating
  for i in 1; do
    "$IB" run --model resnet50 --batch 1 --iterations 1000 --warmup 100 --no-verify --no-throughput --quiet --out /tmp/t-on-$i | grep "eager/fp32"
    "$IB" run --model resnet50 --batch 1 --iterations 1000 --warmup 100 --no-verify --no-throughput --quiet --no-telemetry --out /tmp/t-off-$i | grep "eager/fp32"
  done
} > "$OUT/bert-telemetry.txt" 2>&1
cp /tmp/ib-bert/results.json "$OUT/bert.json"
{
  log doctor; nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv; "$IB" doctor
  log monitor vs dmon
  (nvidia-smi dmon -s pucm -c 6 > /tmp/dmon.txt 2>&1 &) ; "$IB" monitor --interval 1000 --count 6 --csv /tmp/monitor.csv
  sleep 1; cat /tmp/dmon.txt; cat /tmp/monitor.csv
} > "$OUT/doctor-monitor.txt" 2>&1
{
  log harness overhead
  INFERBENCH=$IB PYTHON=$PY benchmarks/harness-overhead.sh resnet50 1 3
  INFERBENCH=$IB PYTHON=$PY benchmarks/harness-overhead.sh bert-base 1 2
} > "$OUT/overhead.txt" 2>&1
tail -n 25 "$OUT"/*.txt
