#!/usr/bin/env bash
# The foundation's GPU evidence, run on a GPU host from the repository root:
#   make gpu-bundle   (here)   then, on the host:   OUT=/some/dir scripts/gpu-foundation.sh
# Writes the terminal output and results.json of each run into $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}
mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz
IB=$PWD/.gpu/inferbench
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv
  "$IB" --version
  "$IB" doctor
} > "$OUT/doctor.txt" 2>&1
"$IB" run --model resnet50 --compile eager,default,reduce-overhead --batch 1 --precision fp32 --out /tmp/ib-r50 > "$OUT/resnet50.txt" 2>&1
cp /tmp/ib-r50/results.json "$OUT/resnet50.json"
"$IB" run --model bert-base --compile eager,default --batch 1 --out /tmp/ib-bert > "$OUT/bert.txt" 2>&1
cp /tmp/ib-bert/results.json "$OUT/bert.json"
INFERBENCH=$IB PYTHON=$(command -v python3) benchmarks/harness-overhead.sh resnet50 1 3 > "$OUT/overhead.txt" 2>&1
INFERBENCH=$IB PYTHON=$(command -v python3) benchmarks/harness-overhead.sh bert-base 1 3 >> "$OUT/overhead.txt" 2>&1
tail -n 30 "$OUT"/*.txt
