#!/usr/bin/env bash
# GPU evidence, third call: the guide's assessment (resnet50, bert-base seq 128; eager, default,
# reduce-overhead; fp16; batch 1 and 32), sd15-unet eager vs compile in fp16, aot-inductor for
# resnet50. Needs diffusers (carried as wheels in .whl/).
set -uo pipefail
OUT=${OUT:-/tmp/inferbench-gpu}; mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
xz -d -k -f .gpu/inferbench.xz; IB=$PWD/.gpu/inferbench
export PYTHONUNBUFFERED=1
"$IB" run --model resnet50,bert-base:seq=128 --compile eager,default,reduce-overhead --precision fp16 --batch 1,32 \
  --max-time 3 --out /tmp/ib-guide > "$OUT/guide.txt" 2>&1
cp /tmp/ib-guide/results.json "$OUT/guide.json"; cp /tmp/ib-guide/report.md "$OUT/guide.md"; cp /tmp/ib-guide/report.html "$OUT/guide.html"
"$IB" run --model sd15-unet --compile eager,default --precision fp16 --batch 1 --max-time 4 --out /tmp/ib-sd > "$OUT/sd15-aoti.txt" 2>&1
"$IB" run --model resnet50 --compile eager,aot-inductor --precision fp16 --batch 1 --max-time 3 --out /tmp/ib-aoti >> "$OUT/sd15-aoti.txt" 2>&1
cp /tmp/ib-sd/results.json "$OUT/sd15.json"; cp /tmp/ib-aoti/results.json "$OUT/aoti.json"
tail -n 40 "$OUT"/*.txt
