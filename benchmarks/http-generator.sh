#!/usr/bin/env bash
# inferbench's HTTP load generator (`load --target`) side by side with wrk (Debian) and Locust
# (PyPI, FastHttpUser) against the same trivial endpoint: nginx, one worker process, answering
# an Open Inference Protocol model `echo` with fixed bodies (benchmarks/http/nginx.conf.in), so
# that the generators, not the server, are what is measured. Every tool posts the same infer
# body (16 UINT8 values as JSON) over CONNECTIONS keep-alive connections, closed loop (each
# connection sends when its last answer arrives), for DURATION seconds; ROUNDS rounds, the
# tools in turn within each round so that drift on the machine falls on all of them.
#
# Prints per tool: requests/s (median of the rounds and their range) and CPU seconds per 1,000
# requests (the tool's own user + system time, its start-up included, from getrusage of the
# child), then inferbench's ratios to each: paired within each round (the median and range over
# the rounds), and the ratio of the medians. What each tool does per request differs and is
# part of the comparison: wrk reads the status line and headers; Locust checks the status;
# inferbench also parses every JSON answer and checks its outputs' names, shapes and dtypes
# against the model's metadata, and times each request from its due time.
#
#   benchmarks/http-generator.sh    (env: INFERBENCH, CONNECTIONS=64, DURATION=10, ROUNDS=3,
#                                   WRK_THREADS=2, PORT=18080)
# Installs what is missing: wrk and nginx (apt), Locust into .venv-bench (pip); builds the
# release binary when INFERBENCH is not given and it is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$HERE/..
if ! command -v wrk >/dev/null || ! { command -v nginx >/dev/null || test -x /usr/sbin/nginx; }; then
  (apt-get update -qq && apt-get install -y -qq wrk nginx-light) >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
BENCH=$ROOT/.venv-bench
if ! test -x "$BENCH/bin/locust"; then
  python3 -m venv "$BENCH" && "$BENCH/bin/pip" install -q -r "$HERE/http/requirements.txt" >&2
fi
CONNECTIONS=${CONNECTIONS:-64} DURATION=${DURATION:-10} ROUNDS=${ROUNDS:-3} WRK_THREADS=${WRK_THREADS:-2} PORT=${PORT:-18080}
TMP=$(mktemp -d)
sed -e "s|@PREFIX@|$TMP|g" -e "s|@PORT@|$PORT|g" "$HERE/http/nginx.conf.in" > "$TMP/nginx.conf"
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break; sleep 0.1; done
"$BENCH/bin/python" - "$INFERBENCH" "$BENCH/bin/locust" "$HERE/http/locustfile.py" "$TMP" "$PORT" "$CONNECTIONS" "$DURATION" \
  "$ROUNDS" "$WRK_THREADS" <<'PY'
import csv, json, os, re, resource, statistics, subprocess, sys

binary, locust, locustfile, tmp, port = sys.argv[1:6]
connections, duration, rounds, wrk_threads = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
url = f"http://127.0.0.1:{port}"
# What wrk and Locust post: the form and size of inferbench's own bodies for this model (an id,
# 16 UINT8 values as JSON, the output asked for by name); inferbench makes its own, seeded.
body = json.dumps({"id": "bench-0", "inputs": [{"name": "input0", "shape": [1, 16], "datatype": "UINT8",
                   "data": [7, 1, 200, 33, 0, 9, 128, 64, 5, 17, 250, 3, 99, 42, 11, 77]}],
                   "outputs": [{"name": "output0"}]})


def timed(cmd: list[str], env: dict | None = None) -> tuple[str, float]:
    """Runs cmd to its end; its output and the CPU seconds it (and children it waited for) used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout + done.stderr, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wrk() -> tuple[float, int, float]:
    script = f"{tmp}/post.lua"
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n")
    text, cpu = timed(["wrk", f"-t{wrk_threads}", f"-c{connections}", f"-d{duration}s", "-s", script, f"{url}/v2/models/echo/infer"])
    if "Non-2xx" in text:
        sys.exit(f"wrk saw errors: {text}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    return rate, total, cpu


def locust_run() -> tuple[float, int, float]:
    prefix = f"{tmp}/locust"
    env = dict(os.environ, BENCH_BODY=body)
    _, cpu = timed([locust, "-f", locustfile, "--headless", "-u", str(connections), "-r", str(connections), "-t", f"{duration}s",
                    "--host", url, "--only-summary", "--csv", prefix, "--loglevel", "WARNING"], env=env)
    row = next(r for r in csv.DictReader(open(f"{prefix}_stats.csv")) if r["Name"] == "Aggregated")
    if int(row["Failure Count"]):
        sys.exit(f"locust saw {row['Failure Count']} failures")
    return float(row["Requests/s"]), int(row["Request Count"]), cpu


def inferbench() -> tuple[float, int, float]:
    out = f"{tmp}/ib"
    subprocess.run(["rm", "-rf", out])
    _, cpu = timed([binary, "load", "--target", url, "--concurrency", str(connections), "--connections", str(connections),
                    "--duration", f"{duration}s", "--quiet", "--no-telemetry", "--no-store", "--out", out])
    step = json.load(open(f"{out}/results.json"))["load_tests"][0]
    if step["errors"]:
        sys.exit(f"inferbench saw {step['errors']} errors: {step.get('error_kinds')}")
    return step["achieved_qps"], step["completed"], cpu


tools = {"inferbench": inferbench, "wrk": wrk, "locust": locust_run}
seen: dict[str, list[tuple[float, int, float]]] = {name: [] for name in tools}
for r in range(rounds):
    for name, run in tools.items():
        seen[name].append(run())
        rate, n, cpu = seen[name][-1]
        print(f"round {r + 1} {name:<10} {rate:10,.0f} req/s  {n:9,} requests  CPU {cpu:6.2f} s", file=sys.stderr)

print(f"{connections} connections, closed loop, {duration} s x {rounds} rounds, against nginx (1 worker) on 127.0.0.1; "
      f"{os.cpu_count()} CPUs")
print(f"{'tool':<11} {'req/s (median)':>15} {'range':>21} {'CPU s / 1k req':>15}")
median = {}
for name, runs in seen.items():
    rates = [x[0] for x in runs]
    median[name] = statistics.median(rates)
    per_k = statistics.median([cpu / n * 1000 for _, n, cpu in runs])
    print(f"{name:<11} {median[name]:>15,.0f} {min(rates):>10,.0f}–{max(rates):<10,.0f} {per_k:>15.3f}")
# Each round's tools ran back to back, so the machine's drift between rounds falls on all of
# them: the ratio within a round is the paired figure; its median and range over the rounds.
for other, target, digits in (("wrk", "≥ 0.5", 2), ("locust", "≥ 10", 1)):
    paired = [a[0] / b[0] for a, b in zip(seen["inferbench"], seen[other])]
    print(f"inferbench ÷ {other + ':':<7} {statistics.median(paired):.{digits}f}× per round, median "
          f"(range {min(paired):.{digits}f}–{max(paired):.{digits}f}; ratio of the medians "
          f"{median['inferbench'] / median[other]:.{digits}f}×) (target {target})")
PY
