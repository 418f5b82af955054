#!/usr/bin/env bash
# GPU evidence for `inferbench recommend` (issue 16): resnet50 fp16 channels-last, eager against
# torch.compile default at max batch 32, P99 <= 15 ms, a 50,000 req/s peak at $3 a GPU-hour, then
# `--check` of the answer. Each step is cut by `timeout -s INT` so that one device call holds it:
# a stopped search answers from what it measured and keeps its record. The search folder is
# worked on outside $OUT (which a device call empties) and comes back as recommend.tgz.
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-recommend.sh
#   RESUME=folder   continue a search (or check one) instead of starting one
#   SEARCH_S=0      no search (with RESUME: only the check); CHECK_S=0: no check
#   COMPILE, PRECISION, MAX_BATCH, MAX_DELAY (ms), STEP, BUDGET: the search space and its time,
#   e.g. COMPILE=default MAX_BATCH=16,32 MAX_DELAY=0,2 for serving settings with a lower floor
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
WORK=${WORK:-/tmp/ib-recommend}; rm -rf "$WORK"; mkdir -p "$WORK"
xz -d -k -f .gpu/inferbench.xz; chmod +x .gpu/inferbench
export INFERBENCH_WORKER_SOURCE=$PWD/python INFERBENCH_STORE=/tmp/ib-store.sqlite
{ nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"
  nproc; } > "$OUT/gpu.txt" 2>&1
[ -n "${RESUME:-}" ] && cp -r "$RESUME" "$WORK/recommend"
start=$(date +%s)
if [ "${SEARCH_S:-330}" = 0 ]; then
  :
elif [ -n "${RESUME:-}" ]; then
  # Continue a search folder that a budget cut short (RESUME=docs/examples/…/recommend BUDGET=600s).
  timeout -s INT "${SEARCH_S:-330}" .gpu/inferbench recommend --resume "$WORK/recommend" --budget "${BUDGET:-600s}" --python python3 \
    > "$OUT/recommend.txt" 2>&1
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$OUT/recommend.txt"
else
  timeout -s INT "${SEARCH_S:-330}" .gpu/inferbench recommend --model resnet50 --sla-p99 15 --peak-qps 50000 --gpu-price 3 \
    --compile "${COMPILE:-eager,default}" --precision "${PRECISION:-fp16}" --max-batch "${MAX_BATCH:-32}" \
    --max-delay "${MAX_DELAY:-2}" --channels-last \
    --step "${STEP:-2s}" --budget "${BUDGET:-300s}" --python python3 --out "$WORK/recommend" > "$OUT/recommend.txt" 2>&1
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$OUT/recommend.txt"
fi
if [ "${CHECK_S:-170}" != 0 ]; then
  start=$(date +%s)
  timeout -s INT "${CHECK_S:-170}" .gpu/inferbench recommend --check "$WORK/recommend" --python python3 > "$OUT/check.txt" 2>&1
  echo "exit $? after $(( $(date +%s) - start )) s" >> "$OUT/check.txt"
fi
# The device returns few files: the search folder as one archive.
(cd "$WORK" && tar czf "$OUT/recommend.tgz" recommend)
tail -n 30 "$OUT"/*.txt
