#!/usr/bin/env bash
# GPU evidence, second call: resnet50 eager vs compile at bs 1 and 32 (statistics, telemetry),
# then load tests on resnet50 fp16 compiled: max QPS under a 15 ms P99 SLA, and a concurrency sweep.
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench
export PYTHONUNBUFFERED=1
"$IB" run --model resnet50 --compile eager,default,reduce-overhead --batch 1,32 --precision fp32 --out /tmp/ib-r50 > "$OUT/resnet50.txt" 2>&1
cp /tmp/ib-r50/results.json "$OUT/resnet50.json"
"$IB" load --model resnet50 --compile default --precision fp16 --channels-last --find-max-qps --sla-p99 15 --offline \
  --max-batch 32 --max-delay 2 --duration 5s --out /tmp/ib-sla > "$OUT/load-sla.txt" 2>&1
cp /tmp/ib-sla/results.json "$OUT/load-sla.json"
"$IB" load --model resnet50 --compile default --precision fp16 --channels-last --concurrency 1,8,32,128 \
  --max-batch 32 --max-delay 2 --duration 5s --out /tmp/ib-conc > "$OUT/load-conc.txt" 2>&1
cp /tmp/ib-conc/results.json "$OUT/load-conc.json"
tail -n 30 "$OUT"/*.txt
