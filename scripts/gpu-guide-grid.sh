#!/usr/bin/env bash
# GPU evidence for the matrix and the reports: the guide's assessment grid, one model per call
# (each fits a 10-minute device call), plus extras.
#   make gpu-bundle (here); on the host from the repository root:
#   OUT=dir scripts/gpu-guide-grid.sh resnet50|bert-base|extras|reuse
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench
export PYTHONUNBUFFERED=1 INFERBENCH_STORE=/tmp/ib-store.sqlite
log() { echo "== $(date +%T) $*"; }
what=${1:?resnet50, bert-base, extras or reuse}
case "$what" in
resnet50 | bert-base)
  model=$what; [ "$what" = bert-base ] && model="bert-base:seq=128"
  { log "$model grid"; "$IB" run plans/guide-assessment.yaml --model "$model" --out /tmp/ib-grid; echo "exit $?"; } > "$OUT/$what.txt" 2>&1
  for f in results.json report.md report.html; do cp /tmp/ib-grid/$f "$OUT/$what-$f" 2>/dev/null; done
  ;;
extras)
  # diffusers is not in the host image: wheels carried in .whl/ (pip download diffusers==0.42.1 here).
  if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  # The worker from this checkout, so that worker fixes need no new binary.
  export INFERBENCH_WORKER_SOURCE=$PWD/python
  {
    log "sd15 txt2img pipeline, 50 steps, 512x512, fp16: eager vs compiled UNet"
    "$IB" run --model sd15 --compile eager,default --precision fp16 --batch 1 --max-time 15 --out /tmp/ib-sd15; echo "exit $?"
  } > "$OUT/sd15.txt" 2>&1
  for f in results.json report.md; do cp /tmp/ib-sd15/$f "$OUT/sd15-$f" 2>/dev/null; done
  {
    log "aot-inductor resnet50 fp16 bs1,8 (dynamic batch)"
    "$IB" run --model resnet50 --compile eager,aot-inductor --precision fp16 --batch 1,8 --dynamic --max-time 2 --out /tmp/ib-aoti; echo "exit $?"
  } > "$OUT/extras.txt" 2>&1
  cp /tmp/ib-aoti/results.json "$OUT/aoti-results.json" 2>/dev/null
  ;;
reuse)
  {
    for round in 1; do
      log "batch reuse vs fresh, round $round: resnet50 fp16 eager+default bs 1,8,32"
      "$IB" run --model resnet50 --compile eager,default --precision fp16 --batch 1,8,32 --max-time 2 --no-verify --quiet --out /tmp/ib-reuse-$round; echo "exit $?"
      "$IB" run --model resnet50 --compile eager,default --precision fp16 --batch 1,8,32 --max-time 2 --no-verify --quiet --out /tmp/ib-fresh-$round --no-batch-reuse; echo "exit $?"
    done
  } > "$OUT/reuse.txt" 2>&1
  cp /tmp/ib-reuse-1/results.json "$OUT/reuse-results.json" 2>/dev/null
  cp /tmp/ib-fresh-1/results.json "$OUT/fresh-results.json" 2>/dev/null
  ;;
esac
tail -n 60 "$OUT"/*.txt
