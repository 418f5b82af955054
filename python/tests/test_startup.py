"""CPU pinning and torch's thread count from INFERBENCH_CPUS / INFERBENCH_THREADS (startup.py),
and what hello reports of threads and affinity."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from inferbench_worker.startup import StartupError, configure, format_cpu_list, parse_cpu_list, parse_threads

from conftest import Worker, ok

LINUX = sys.platform.startswith("linux")
pin_test = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")


def test_cpu_lists() -> None:
    assert parse_cpu_list("0-3,6") == {0, 1, 2, 3, 6}
    assert parse_cpu_list(" 2 , 0 - 1 ") == {0, 1, 2}
    assert parse_cpu_list("5") == {5}
    for bad in ("", "a", "3-1", "-1", "0,,1", "0-", "1.5"):
        with pytest.raises(ValueError):
            parse_cpu_list(bad)
    assert format_cpu_list({6, 0, 1, 2, 3}) == "0-3,6"
    assert format_cpu_list([4]) == "4" and format_cpu_list([]) == ""


def test_thread_counts() -> None:
    assert parse_threads(" 4 ") == 4
    for bad in ("0", "-2", "two", "1.5", ""):
        with pytest.raises(ValueError):
            parse_threads(bad)


def test_nothing_set_changes_nothing() -> None:
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    configure({})
    configure({"INFERBENCH_CPUS": " ", "INFERBENCH_THREADS": ""})
    if before is not None:
        assert os.sched_getaffinity(0) == before


def test_a_bad_thread_count_is_refused_before_pinning() -> None:
    with pytest.raises(StartupError, match="INFERBENCH_THREADS='x'"):
        configure({"INFERBENCH_THREADS": "x", "INFERBENCH_CPUS": "not a list"})


def test_hello_reports_threads_and_affinity(worker: Worker) -> None:
    env = ok(worker.request("hello"))["env"]
    assert env["thread_env"] == {"OMP_NUM_THREADS": "1"}  # the fixture's; others are not inherited
    if LINUX:
        assert env["cpu_affinity"] == sorted(os.sched_getaffinity(0))
        assert len(env["cpu_affinity"]) == env["cpu_count"]
    if env["torch"] is not None:
        assert env["torch_threads"] == 1 and env["torch_interop_threads"] >= 1


@pin_test
def test_pinned_worker_and_every_thread_it_starts(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cpu = min(os.sched_getaffinity(0))
    w = Worker(env={"INFERBENCH_CPUS": str(cpu), "INFERBENCH_THREADS": "2"})
    try:
        env = ok(w.request("hello"))["env"]
        assert env["cpu_affinity"] == [cpu] and env["cpu_count"] == 1
        assert env["torch_threads"] == 2  # INFERBENCH_THREADS over OMP_NUM_THREADS=1
        assert env["thread_env"] == {"OMP_NUM_THREADS": "1", "INFERBENCH_CPUS": str(cpu), "INFERBENCH_THREADS": "2"}
        ok(w.request("load", model="mlp:in=64,hidden=256,out=64", batch_size=64))
        chunk = ok(w.request("measure", iterations=20))
        assert chunk["proc"]["cpu"] == cpu and chunk["proc"]["migrations"] in (0, None)
        tasks = Path(f"/proc/{w.proc.pid}/task")
        masks = {(t / "status").read_text().split("Cpus_allowed_list:")[1].split()[0] for t in tasks.iterdir()}
        assert masks == {str(cpu)}, "every thread (torch's pool included) inherits the pin"
    finally:
        w.kill()


@pytest.mark.parametrize("env, said", [
    ({"INFERBENCH_CPUS": "0-x"}, "INFERBENCH_CPUS='0-x': '0-x' is not a CPU number or range"),
    ({"INFERBENCH_CPUS": "100000"}, "INFERBENCH_CPUS='100000': cannot pin to CPUs 100000"),
    ({"INFERBENCH_THREADS": "0"}, "INFERBENCH_THREADS='0': '0' is not a thread count"),
])
def test_a_setting_that_cannot_be_applied_ends_the_worker(env: dict[str, str], said: str) -> None:
    if "INFERBENCH_CPUS" in env and not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs sched_setaffinity")
    w = Worker(env=env)
    try:
        assert w.close_stdin_and_wait() == 2
        assert w.remaining_stdout() == b""  # no handshake
        assert f"inferbench-worker: {said}" in w.stderr_text()
    finally:
        w.kill()
