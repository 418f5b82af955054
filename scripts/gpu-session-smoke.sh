#!/usr/bin/env bash
# GPU smoke of the session redesign: run, load, signals, read-only readers, on the static binary.
#   make gpu-bundle (here); on the host from the repository root: OUT=dir scripts/gpu-session-smoke.sh
set -u
xz -d -k -f .gpu/inferbench.xz; B=$PWD/.gpu/inferbench; chmod +x $B
export INFERBENCH_STORE=/tmp/store.sqlite
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/gpu.txt 2>&1
python3 -c "import torch;print(torch.__version__)" >> $OUT/gpu.txt 2>&1
$B run --model resnet50 --compile eager,default --batch 1,8 --precision fp16 --max-time 3 --out /tmp/run > $OUT/run.txt 2>&1; echo "exit $?" >> $OUT/run.txt
cp /tmp/run/results.json $OUT/run-results.json
{
  $B run --model resnet50 --compile eager --batch 1,8,32 --max-time 5 --out /tmp/int > /tmp/int.out 2>&1 & p=$!
  for i in $(seq 1 240); do [ -e /tmp/int/results.json ] && break; sleep 0.5; done; sleep 6; kill -INT $p; wait $p; echo "run SIGINT exit $?"
  tail -n 4 /tmp/int.out
  python3 -c "import json;d=json.load(open('/tmp/int/results.json'));print('run status',d['run']['status'],[(c['variant']['batch_size'],c['status']) for c in d['cells']])"
  $B load --model resnet50 --precision fp16 --qps 300 --duration 30s --out /tmp/lterm > /tmp/lterm.out 2>&1 & p=$!
  for i in $(seq 1 240); do [ -e /tmp/lterm/results.json ] && break; sleep 0.5; done; sleep 6; kill -TERM $p; wait $p; echo "load SIGTERM exit $?"
  tail -n 3 /tmp/lterm.out
  python3 -c "import json;d=json.load(open('/tmp/lterm/results.json'));print('load status',d['run']['status'],[(s['scenario'],s['completed'],s.get('partial')) for s in d['load_tests']])"
  $B history --limit 5
  $B compare /tmp/run latest --fail-on-regression 50; echo "compare exit $?"
} > $OUT/signals.txt 2>&1
$B load --model resnet50 --compile default --precision fp16 --concurrency 1,8,32 --max-batch 32 --duration 5s --out /tmp/load > $OUT/load.txt 2>&1; echo "exit $?" >> $OUT/load.txt
cp /tmp/load/results.json $OUT/load-results.json
