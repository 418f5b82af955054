#!/usr/bin/env bash
# GPU evidence for `inferbench serve` (issue 15): benchmarks/serve-overhead.sh on resnet50 fp16
# channels-last torch.compile default, max batch 32, P99 <= 15 ms: SLA capacity in-process vs
# behind serve driven by `load --target` (binary tensors), then one fixed rate through each.
# One device call:
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-serve.sh
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; chmod +x .gpu/inferbench
export INFERBENCH=$PWD/.gpu/inferbench PYTHON=python3 INFERBENCH_WORKER_SOURCE=$PWD/python INFERBENCH_STORE=/tmp/ib-store.sqlite
{ nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"
  nproc; } > "$OUT/gpu.txt" 2>&1
start=$(date +%s)
{ echo "== $(date +%T) resnet50 default fp16 channels-last, max batch 32, SLA P99 15 ms: in-process vs serve"
  KEEP=$OUT/serve-overhead FLAGS="--compile default --precision fp16 --channels-last" BATCHING="--max-batch 32" SLA=15 \
    DURATION=${DURATION:-4s} FIXED=${FIXED:-10s} ENCODING=${ENCODING:-binary} benchmarks/serve-overhead.sh resnet50
  echo "exit $? after $(( $(date +%s) - start )) s"; } > "$OUT/serve-overhead-resnet50.txt" 2>&1
# The device returns at most 8 files: the kept folder as one archive.
(cd "$OUT" && tar czf serve-overhead.tgz serve-overhead && rm -rf serve-overhead)
tail -n 30 "$OUT"/*.txt
