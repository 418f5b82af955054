#!/usr/bin/env bash
# GPU evidence for the serving path with real payloads (issue 13): benchmarks/batching-efficiency.sh
# on resnet50 fp16 channels-last torch.compile default, max batch 32, P99 <= 15 ms, one GPU:
# inputs on the device (the compute-only ceiling) vs each request's bytes through the
# shared-memory ring (--payload host), then several workers on the GPU instead of two batches in
# flight in one. One device call:
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-payload.sh
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; chmod +x .gpu/inferbench
export INFERBENCH=$PWD/.gpu/inferbench PYTHON=python3 INFERBENCH_WORKER_SOURCE=$PWD/python INFERBENCH_STORE=/tmp/ib-store.sqlite
{ nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"
  nproc; command -v nvidia-cuda-mps-control || echo "no nvidia-cuda-mps-control"; } > "$OUT/gpu.txt" 2>&1
# Several workers on the GPU as MPS clients where the host has MPS, else time-sliced.
MPS=$(command -v nvidia-cuda-mps-control >/dev/null && echo " --mps" || echo "")
start=$(date +%s)
{ echo "== $(date +%T) resnet50 default fp16 channels-last, max batch 32, SLA P99 15 ms, one GPU"
  KEEP=$OUT/efficiency PLACES=${PLACES:---payload device;--payload host;--payload host --workers 2 --in-flight 1$MPS} \
    EXTRA="--channels-last --processes 1 --duration ${DURATION:-4s} ${EXTRA:-}" LIMIT=${LIMIT:-170} \
    benchmarks/batching-efficiency.sh resnet50
  echo "exit $? after $(( $(date +%s) - start )) s"; } > "$OUT/batching-efficiency-resnet50.txt" 2>&1
# The device returns at most 8 files: the kept folder as one archive.
(cd "$OUT" && tar czf efficiency.tgz efficiency && rm -rf efficiency)
tail -n 20 "$OUT"/*.txt
