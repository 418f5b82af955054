#!/usr/bin/env bash
# GPU evidence for the matrix and the reports: the guide's assessment grid, one model per call
# (each fits a 10-minute device call), plus extras.
#   make gpu-bundle (here); on the host from the repository root:
#   OUT=dir scripts/gpu-evidence-d.sh resnet50|bert-base|extras
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench
export PYTHONUNBUFFERED=1 INFERBENCH_STORE=/tmp/ib-store.sqlite
log() { echo "== $(date +%T) $*"; }
what=${1:?resnet50, bert-base or extras}
case "$what" in
resnet50 | bert-base)
  model=$what; [ "$what" = bert-base ] && model="bert-base:seq=128"
  { log "$model grid"; "$IB" run plans/guide-assessment.yaml --model "$model" --out /tmp/ib-grid; echo "exit $?"; } > "$OUT/$what.txt" 2>&1
  for f in results.json report.md report.html; do cp /tmp/ib-grid/$f "$OUT/$what-$f" 2>/dev/null; done
  ;;
extras)
  {
    log "aot-inductor resnet50 fp16 bs1,8 (dynamic batch)"
    "$IB" run --model resnet50 --compile eager,aot-inductor --precision fp16 --batch 1,8 --dynamic --max-time 2 --out /tmp/ib-aoti; echo "exit $?"
    log "batch reuse vs fresh: resnet50 fp16 default bs 1,8,32"
    "$IB" run --model resnet50 --compile default --precision fp16 --batch 1,8,32 --max-time 2 --no-verify --quiet --out /tmp/ib-fresh --no-batch-reuse; echo "exit $?"
  } > "$OUT/extras.txt" 2>&1
  cp /tmp/ib-aoti/results.json "$OUT/aoti-results.json" 2>/dev/null
  cp /tmp/ib-fresh/results.json "$OUT/fresh-results.json" 2>/dev/null
  ;;
esac
tail -n 60 "$OUT"/*.txt
