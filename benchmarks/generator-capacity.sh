#!/usr/bin/env bash
# The load generator's own capacity: open-loop Poisson traffic against a zero-cost synthetic
# worker (synthetic:median_ms=0, batches of up to 256, so the worker is rarely the
# bottleneck), at rising rates, one `inferbench load --qps R --duration D` run per rate.
#
# Prints per rate: the achieved rate, % of requests sent over 1 ms late, the step's wall time
# (from results.json showing it started to results.json showing it finished, polled every
# 20 ms) against its planned duration, and the CPU seconds per
# 1,000 requests of the inferbench process alone (its worker's CPU is not counted: it is
# read from /proc while the process runs). The highest rate it sustains is the last with
# achieved >= 98% of target, under 0.1% late and a wall time within 10% of the plan.
# A run that takes longer than RUN_LIMIT seconds (default 60) is stopped and says so.
# Builds the release binary first when INFERBENCH is not given and it is missing.
#
#   benchmarks/generator-capacity.sh [RATES...]   (default 1000 5000 10000 20000 50000 100000;
#                                                  env: INFERBENCH, PYTHON, DURATION, RUN_LIMIT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RATES=${*:-1000 5000 10000 20000 50000 100000}
DURATION=${DURATION:-5}
RUN_LIMIT=${RUN_LIMIT:-60}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" - "$INFERBENCH" "$TMP" "$DURATION" "$RUN_LIMIT" $RATES <<'PY'
import json, os, subprocess, sys, time

binary, tmp, duration, limit = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rates = [float(r) for r in sys.argv[5:]]
tick = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` alone (not its children), from /proc."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / tick


def step_state(path: str) -> str | None:
    """Whether results.json shows the step started, finished, or neither yet."""
    try:
        steps = json.load(open(path)).get("load_tests") or []
    except (OSError, ValueError):
        return None
    if not steps:
        return None
    return "finished" if steps[0].get("latency_ms") or steps[0].get("sent") else "started"


best = 0.0
print(f"{'target/s':>9} {'achieved/s':>10} {'sent':>8} {'late %':>7} {'wall s':>7} {'plan s':>6} {'CPU s/1k':>8}  sustained")
for rate in rates:
    out = f"{tmp}/r{int(rate)}"
    command = [binary, "load", "--model", "synthetic:median_ms=0", "--qps", str(rate), "--duration", f"{duration}s",
               "--max-batch", "256", "--max-delay", "1", "--no-telemetry", "--quiet", "--out", out]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began, cpu, stopped = time.monotonic(), 0.0, False
    step_began = step_ended = None
    while process.poll() is None:
        cpu = cpu_seconds(process.pid) or cpu
        # results.json is written when the step starts and when it has finished (its
        # generator returned): the step's wall time, whatever its outcomes' timestamps say.
        if step_ended is None:
            state = step_state(f"{out}/results.json")
            if state == "started" and step_began is None:
                step_began = time.monotonic()
            elif state == "finished":
                step_ended = time.monotonic()
        if not stopped and time.monotonic() - began > limit:
            process.terminate()
            stopped = True
        time.sleep(0.02)
    try:
        step = json.load(open(f"{out}/results.json"))["load_tests"][0]
    except (OSError, KeyError, IndexError, ValueError):
        print(f"{rate:9.0f}  no results{' (stopped after %.0f s)' % limit if stopped else ''}")
        continue
    sent = step["sent"]
    wall = (step_ended or time.monotonic()) - (step_began or began)
    late = 100 * step["late"] / max(sent, 1)
    ok = step["achieved_qps"] >= 0.98 * rate and late < 0.1 and wall <= 1.1 * duration and not stopped
    if ok:
        best = rate
    note = f"  (stopped after {limit:.0f} s)" if stopped else ""
    print(f"{rate:9.0f} {step['achieved_qps']:10.0f} {sent:8d} {late:7.3f} {wall:7.2f} {duration:6.1f} "
          f"{1000 * cpu / max(sent, 1):8.4f}  {'yes' if ok else 'no'}{note}")
print(f"highest sustained rate: {best:.0f} requests/s (achieved >= 98% of target, < 0.1% late, wall within 10% of plan)")
PY
