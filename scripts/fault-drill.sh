#!/usr/bin/env bash
# Fault drill: the faults a careful user meets, against the real binary and a real worker
# (the synthetic model, CPU). Each case checks the exit code, that results.json parses and
# agrees with the store, and the store's PRAGMA integrity_check. Full disks and read-only
# disks are tmpfs mounts, so the drill needs root; without it, it says so and skips.
#
#   scripts/fault-drill.sh [BINARY]     (default .build/debug/inferbench)
# Prints "PASS name" / "FAIL name: why" and ends with "N passed, N failed".
set -u
BIN=$(realpath "${1:-.build/debug/inferbench}")
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && export INFERBENCH_PYTHON=${INFERBENCH_PYTHON:-$PWD/.venv/bin/python}
W=$(mktemp -d /tmp/inferbench-drill.XXXXXX)
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$W" 2>/dev/null; then
    echo "fault drill skipped: it mounts small tmpfs disks, which needs root (CI has it)"
    rmdir "$W"
    exit 0
fi
umount "$W"
MOUNTS=()
cleanup() {
    for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
S=synthetic:dist=constant,median_ms=2
export INFERBENCH_STORE=$W/store.sqlite
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# expect NAME CODE CMD...: runs CMD, checks its exit code; stderr kept in $W/NAME.err.
expect() {
    local name=$1 code=$2
    shift 2
    "$@" >"$W/$name.out" 2>"$W/$name.err"
    local rc=$?
    if [ "$rc" = "$code" ]; then pass "$name (exit $rc)"; else fail "$name" "exit $rc, expected $code: $(tail -n 2 "$W/$name.err" | tr '\n' ' ')"; fi
}

# consistent NAME RESULTS_DIR STORE: results.json parses, the store passes integrity_check and
# holds the same run with the same cells (or steps) and status as results.json.
consistent() {
    local name=$1 dir=$2 store=$3
    local why
    why=$("$PY" - "$dir/results.json" "$store" <<'PYEOF'
import json, sqlite3, sys, os
path, store = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"results.json does not parse: {e}"); sys.exit(1)
if not os.path.exists(store):
    sys.exit(0)  # --no-store or a store on another disk: nothing to agree with
# The writer has exited: read the file as it is (no -shm to create on a full or read-only disk).
# Read-only first (it replays the WAL of a killed writer); where the disk cannot take the -shm
# file (full, read-only) the writer closed cleanly, and the file alone is the store.
def open_store(query):
    db = sqlite3.connect(f"file:{store}?{query}", uri=True)
    db.execute("SELECT 1 FROM sqlite_master").fetchall()
    return db
try:
    db = open_store("mode=ro")
except Exception:
    try:
        db = open_store("mode=ro&immutable=1")
    except Exception as e:
        print(f"store does not open: {e}"); sys.exit(1)
try:
    ok = db.execute("PRAGMA integrity_check").fetchone()[0]
except Exception as e:
    print(f"integrity_check failed: {e}"); sys.exit(1)
if ok != "ok":
    print(f"integrity_check: {ok}"); sys.exit(1)
if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'run'").fetchall():
    sys.exit(0)  # the disk filled before the store got its tables: it claims nothing
row = db.execute("SELECT status, results_json FROM run WHERE id = ?", (r["run"]["id"],)).fetchone()
if row is None:
    sys.exit(0) if not r["cells"] and not r["load_tests"] else (print("run missing from the store"), sys.exit(1))
if row[0] != r["run"]["status"]:
    print(f"store says {row[0]}, results.json {r['run']['status']}"); sys.exit(1)
stored = json.loads(row[1])
if len(stored["cells"]) < len(r["cells"]):
    print(f"store holds {len(stored['cells'])} cells, results.json {len(r['cells'])}"); sys.exit(1)
steps = lambda x: len([s for s in x.get("load_tests", []) if not s.get("partial")])
if steps(stored) < steps(r):
    print(f"store holds {steps(stored)} steps, results.json {steps(r)}"); sys.exit(1)
PYEOF
    ) && pass "$name: results.json and store agree" || fail "$name" "$why"
}

# kill_when NAME SIGNAL FILE SECONDS CMD...: starts CMD, waits (at most 90 s) until FILE exists
# (results.json: the workers are up and the first checkpoint is written), sends SIGNAL
# SECONDS later, and returns CMD's exit code.
kill_when() {
    local name=$1 sig=$2 file=$3 after=$4
    shift 4
    "$@" >"$W/$name.out" 2>"$W/$name.err" &
    local pid=$!
    for _ in $(seq 1 360); do [ -e "$file" ] && break; sleep 0.25; done
    sleep "$after"
    kill "-$sig" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# kill_worker_when NAME FILE SECONDS CMD...: as kill_when, but SIGKILLs inferbench's first worker
# process instead of inferbench itself.
kill_worker_when() {
    local name=$1 file=$2 after=$3
    shift 3
    "$@" >"$W/$name.out" 2>"$W/$name.err" &
    local pid=$!
    for _ in $(seq 1 360); do [ -e "$file" ] && break; sleep 0.25; done
    sleep "$after"
    local worker
    worker=$(pgrep -f "inferbench_worker" -P "$pid" | head -1)
    [ -n "$worker" ] && kill -KILL "$worker"
    wait "$pid" 2>/dev/null
}

# handled NAME DIR WORD: the signal was handled, not just fatal: stderr has the `WORD:` line and
# results.json was finished as incomplete (finished_at set).
handled() {
    local name=$1 dir=$2 word=$3
    local why
    why=$("$PY" - "$dir/results.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["run"]
if r["status"] != "incomplete" or not r.get("finished_at"):
    print(f"status {r['status']}, finished_at {r.get('finished_at')}"); sys.exit(1)
PYEOF
    ) && grep -q "^error: $word:" "$W/$name.err" && pass "$name was handled ($word, results finished as incomplete)" \
        || fail "$name" "not handled: ${why:-no '$word:' line}"
}

tmpfs() {  # tmpfs DIR SIZE [ro]
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" tmpfs "$1" || return 1
    MOUNTS+=("$1")
}

echo "== full disk"
tmpfs "$W/full" 1m
dd if=/dev/zero of="$W/full/pad" bs=1k count=1000 status=none 2>/dev/null
expect run-disk-full 6 "$BIN" run --device cpu --model $S --batch 1,2,3,4 --iterations 200 --out "$W/full/run" --store "$W/full/s.sqlite" -q
grep -qE "results\.json holds [0-9]+ of 4 cells" "$W/run-disk-full.err" && pass "run-disk-full says what is on disk" || fail run-disk-full "no 'holds N of 4 cells' line"
consistent run-disk-full "$W/full/run" "$W/full/s.sqlite"
rm -rf "$W/full/run" "$W/full/s.sqlite"*
expect load-disk-full 6 "$BIN" load --device cpu --model $S --concurrency 1,2 --duration 2s --out "$W/full/load" --no-store -q
[ -f "$W/full/load/report.md" ] && fail load-disk-full "a report was written beside an incomplete results.json" || pass "load-disk-full writes no report from lost results"
rm -rf "$W/full/load"

echo "== interrupts (run)"
code=0; kill_when run-sigint INT "$W/int/results.json" 3 "$BIN" run --device cpu --model $S --batch 1,2,4,8 --min-time 2 --max-time 3 --out "$W/int" || code=$?
[ "$code" = 130 ] && pass "run SIGINT (exit 130)" || fail run-sigint "exit $code"
consistent run-sigint "$W/int" "$INFERBENCH_STORE"
handled run-sigint "$W/int" interrupted
code=0; kill_when run-sigterm TERM "$W/term/results.json" 3 "$BIN" run --device cpu --model $S --batch 1,2,4,8 --min-time 2 --max-time 3 --out "$W/term" || code=$?
[ "$code" = 143 ] && pass "run SIGTERM (exit 143)" || fail run-sigterm "exit $code"
consistent run-sigterm "$W/term" "$INFERBENCH_STORE"
handled run-sigterm "$W/term" terminated
code=0; kill_when run-sigkill KILL "$W/kill/results.json" 4 "$BIN" run --device cpu --model $S --batch 1,2,4,8 --min-time 2 --max-time 3 --out "$W/kill" || code=$?
[ "$code" = 137 ] && pass "run SIGKILL (killed)" || fail run-sigkill "exit $code"
consistent run-sigkill "$W/kill" "$INFERBENCH_STORE"
"$BIN" history --limit 1 >"$W/hist.out" 2>&1
grep -q "/4 " "$W/hist.out" && pass "history counts the planned cells of a killed run (N/4)" || fail history-planned "$(tail -n 1 "$W/hist.out")"

echo "== a worker killed mid-run"
code=0; kill_worker_when worker-kill-run "$W/wk/results.json" 2 "$BIN" run --device cpu --model $S --batch 1,2 --min-time 4 --max-time 5 \
    --out "$W/wk" --no-interleave || code=$?
[ "$code" = 2 ] && pass "worker SIGKILL in run fails that cell only (exit 2)" || fail worker-kill-run "exit $code"
consistent worker-kill-run "$W/wk" "$INFERBENCH_STORE"

echo "== interrupts (load)"
code=0; kill_when load-sigint INT "$W/lint/results.json" 3 "$BIN" load --device cpu --model $S --qps 50 --duration 20s --out "$W/lint" || code=$?
[ "$code" = 130 ] && pass "load SIGINT mid-step (exit 130)" || fail load-sigint "exit $code"
consistent load-sigint "$W/lint" "$INFERBENCH_STORE"
handled load-sigint "$W/lint" interrupted
code=0; kill_when load-sigterm TERM "$W/lterm/results.json" 3 "$BIN" load --device cpu --model $S --qps 50 --duration 20s --out "$W/lterm" || code=$?
[ "$code" = 143 ] && pass "load SIGTERM mid-step (exit 143)" || fail load-sigterm "exit $code"
consistent load-sigterm "$W/lterm" "$INFERBENCH_STORE"
handled load-sigterm "$W/lterm" terminated
start=$(date +%s)
code=0; kill_when load-sigint-start INT "$W/lstart/logs" 1 "$BIN" load --device cpu --model $S --workers 3 --qps 50 --duration 20s --out "$W/lstart" || code=$?
took=$(( $(date +%s) - start ))
[ "$code" = 130 ] && [ "$took" -lt 15 ] && pass "load SIGINT while workers start (exit 130 after ${took}s)" || fail load-sigint-start "exit $code after ${took}s"
code=0; kill_when load-sigkill KILL "$W/lkill/results.json" 4 "$BIN" load --device cpu --model $S --concurrency 1,2 --duration 5s --out "$W/lkill" || code=$?
[ "$code" = 137 ] && pass "load SIGKILL (killed)" || fail load-sigkill "exit $code"
consistent load-sigkill "$W/lkill" "$INFERBENCH_STORE"

echo "== a worker killed mid-load"
code=0; kill_worker_when worker-kill-load "$W/lwk/results.json" 3 "$BIN" load --device cpu --model $S --concurrency 2 --duration 8s --out "$W/lwk" || code=$?
# The dead worker's batch counts as errors (exit 2); the replica is restarted and the step goes on.
[ "$code" = 2 ] && pass "worker SIGKILL in load: its requests are errors, the test goes on (exit 2)" || fail worker-kill-load "exit $code"
grep -q "worker died and was restarted" "$W/worker-kill-load.err" && pass "worker-kill-load says the worker was restarted" || fail worker-kill-load "no restart line"
consistent worker-kill-load "$W/lwk" "$INFERBENCH_STORE"

echo "== readers beside a writer, read-only and foreign stores"
"$PY" - "$INFERBENCH_STORE" <<'PYEOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE"); c.execute("UPDATE run SET command = command"); time.sleep(8); c.execute("COMMIT")
PYEOF
holder=$!
sleep 1
start=$(date +%s)
expect history-beside-writer 0 "$BIN" history
expect report-beside-writer 0 "$BIN" report latest --summary --format none
[ $(( $(date +%s) - start )) -lt 5 ] && pass "readers did not wait for the writer" || fail readers-wait "took $(( $(date +%s) - start )) s"
wait $holder
tmpfs "$W/ro" 4m
cp "$INFERBENCH_STORE" "$W/ro/store.sqlite"
mount -o remount,ro "$W/ro"
expect history-read-only-disk 0 "$BIN" history --store "$W/ro/store.sqlite"
expect compare-read-only-disk 0 "$BIN" compare latest latest --store "$W/ro/store.sqlite"
"$PY" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()" "$W/foreign.db"
before=$(md5sum <"$W/foreign.db")
expect foreign-store 64 "$BIN" history --store "$W/foreign.db"
[ "$before" = "$(md5sum <"$W/foreign.db")" ] && [ ! -e "$W/foreign.db-wal" ] && pass "foreign SQLite file left unchanged" || fail foreign-unchanged "the file changed"

echo "== bad input (exit 64 before any cell runs)"
expect model-empty 64 "$BIN" run --model "" --out "$W/bad"
expect model-comma 64 "$BIN" run --model "," --out "$W/bad"
expect max-queue-0 64 "$BIN" load --model $S --qps 10 --max-queue 0
expect max-queue-neg 64 "$BIN" load --model $S --qps 10 --max-queue -1
expect qps-nan 64 "$BIN" load --model $S --qps nan
expect duration-0 64 "$BIN" load --model $S --qps 10 --duration 0
expect sla-without-search 64 "$BIN" load --model $S --qps 10 --sla-p99 5
expect min-above-max 64 "$BIN" run --model $S --min-time 5 --max-time 1
expect synthetic-huge 64 "$BIN" run --device cpu --model synthetic:median_ms=1e12 --out "$W/bad" --no-store
expect synthetic-bad-dist 64 "$BIN" run --device cpu --model synthetic:dist=foo --out "$W/bad" --no-store
expect mlp-layers-0 64 "$BIN" run --device cpu --model mlp:layers=0 --out "$W/bad" --no-store
expect missing-py 64 "$BIN" run --device cpu --model "$W/nope.py:build" --out "$W/bad" --no-store
expect out-read-only 64 "$BIN" run --device cpu --model $S --out "$W/ro/out" --no-store
expect plan-is-folder 64 "$BIN" run "$W" --no-store
expect workers-beyond-memory 64 "$BIN" load --device cpu --model $S --qps 10 --workers 64 --out "$W/bad" --no-store
"$BIN" run --device cpu --model synthetic:median_ms=1 --iterations 20 --out "$W/cmpA" --no-store -q >/dev/null 2>&1
"$BIN" run --device cpu --model synthetic:median_ms=2 --iterations 20 --out "$W/cmpB" --no-store -q >/dev/null 2>&1
expect compare-nothing-matched 7 "$BIN" compare "$W/cmpA" "$W/cmpB" --fail-on-regression 5
for f in "$W"/*.err; do
    if grep -q "NSCocoaErrorDomain\|Error Domain=\|internal error" "$f"; then fail "raw-errors" "$(basename "$f"): $(grep -m1 "Domain\|internal" "$f")"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
