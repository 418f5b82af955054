#!/usr/bin/env bash
# GPU evidence for variable shapes (issue 14), one device call (about 7 minutes):
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-shapes.sh
# 1. benchmarks/shape-strategies.sh: load --find-max-qps with lognormal lengths (median 128, up
#    to 512) under Poisson arrivals, eager vs static buckets vs one dynamic graph.
# 2. run --seq: bert-base fp16 at lengths 64,128,256,512, eager vs default with a static graph
#    per length vs one dynamic graph (compile cost over the sweep, speed per length, payback).
# Everything comes back in one archive (the device returns at most 8 files).
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"; W=/tmp/shapes; mkdir -p "$W"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench; chmod +x "$IB"
export PYTHONUNBUFFERED=1 INFERBENCH_STORE=/tmp/ib-store.sqlite INFERBENCH_WORKER_SOURCE=$PWD/python COLUMNS=100
{ nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"; nproc; } > "$W/gpu.txt" 2>&1
{ echo "== $(date +%T) shape strategies under load"
  INFERBENCH=$IB PYTHON=python3 PRECISION=fp16 KEEP=$W/load LIMIT=${LOAD_LIMIT:-70,140,100} benchmarks/shape-strategies.sh bert-base cuda "${SLA:-50}"
} > "$W/load.txt" 2>&1
{ echo "== $(date +%T) run --seq"; start=$(date +%s)
  timeout -s INT "${RUN_LIMIT:-100}" "$IB" run --model bert-base --precision fp16 --compile eager,default --seq 64,128,256,512 --batch 8 \
    --processes 1 --min-time 0.3 --max-time 1 --no-throughput --out "$W/run-seq"
  echo "exit $? after $(( $(date +%s) - start )) s"; } > "$W/run-seq.txt" 2>&1
tar czf "$OUT/shapes.tgz" -C "$W" . ; cp "$W"/*.txt "$OUT/"
cat "$W/load.txt"; tail -n 25 "$W/run-seq.txt"
