#!/usr/bin/env bash
# GPU evidence for pipelined workers (issue 13): benchmarks/pipelining.sh, --in-flight 1 vs 2,
# on resnet50 fp16 channels-last at max batch 32, eager (many launches per batch) then
# torch.compile default. One device call:
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-pipelining.sh
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; chmod +x .gpu/inferbench
export INFERBENCH=$PWD/.gpu/inferbench PYTHON=python3 INFERBENCH_WORKER_SOURCE=$PWD/python INFERBENCH_STORE=/tmp/ib-store.sqlite
{ nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"; } > "$OUT/gpu.txt" 2>&1
for compile in ${COMPILES:-eager default}; do
  { echo "== $(date +%T) resnet50 $compile fp16 channels-last, max batch 32, in-flight 1 vs 2"; start=$(date +%s)
    KEEP=$OUT/$compile EXTRA="--compile $compile --precision fp16 --channels-last" DURATION=${DURATION:-5s} CLIENTS=${CLIENTS:-128} \
      timeout -s INT "${LIMIT:-240}" benchmarks/pipelining.sh resnet50 cuda 2 32
    echo "exit $? after $(( $(date +%s) - start )) s"; } > "$OUT/pipelining-resnet50-$compile.txt" 2>&1
done
tail -n 20 "$OUT"/*.txt
