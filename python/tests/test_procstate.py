"""Per-chunk process state, the garbage collector out of timed loops, and Inductor's compile
workers shut down after a load (procstate.py)."""

from __future__ import annotations

import gc
import sys
import types
from typing import Any

import pytest

from inferbench_worker import procstate
from inferbench_worker.procstate import GcGuard, Reading, delta, parse_migrations, parse_processor
from inferbench_worker.session import Session

from conftest import call, ok

PROC_KEYS = {"nivcsw", "nvcsw", "migrations", "cpu", "gc_collections", "cpu_time_s", "wall_s"}
LINUX = sys.platform.startswith("linux")

# /proc/thread-self/stat of a thread whose command name holds spaces and parentheses; fields
# 3.. follow the last ')', and field 39 (processor) is 5.
STAT = ("4041 (my (odd) name) R 1 4041 4041 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 1165937 "
        "5795840 262 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 5 0 0 0 0 0 0 0 0 0 0 0 0 0\n")

SCHED = """python (4041, #threads: 3)
-------------------------------------------------------------------
se.exec_start                                :      11659375.725666
se.sum_exec_runtime                          :             0.275062
se.nr_migrations                             :                   12
nr_switches                                  :                    1
"""


def test_parsers_read_recorded_proc_text() -> None:
    assert parse_processor(STAT) == 5
    assert parse_processor("1 (x) R") is None  # too short: not a stat line
    assert parse_migrations(SCHED) == 12
    assert parse_migrations("nr_switches : 1\n") is None


def test_delta_is_null_safe() -> None:
    before = Reading(nivcsw=None, nvcsw=3, migrations=None, cpu=None, gc_collections=4, cpu_time_s=1.0, wall_s=2.0)
    after = Reading(nivcsw=None, nvcsw=5, migrations=None, cpu=None, gc_collections=4, cpu_time_s=1.5, wall_s=3.0)
    assert delta(before, after) == {"nivcsw": None, "nvcsw": 2, "migrations": None, "cpu": None,
                                    "gc_collections": 0, "cpu_time_s": 0.5, "wall_s": 1.0}


@pytest.mark.skipif(not LINUX, reason="reads /proc and RUSAGE_THREAD")
def test_a_reading_on_linux_has_every_counter() -> None:
    r = procstate.read()
    assert isinstance(r.nivcsw, int) and isinstance(r.nvcsw, int) and isinstance(r.cpu, int)
    assert r.cpu >= 0 and r.cpu_time_s > 0
    # se.nr_migrations needs a kernel with CONFIG_SCHED_DEBUG; where /proc has it, it is read
    try:
        with open("/proc/thread-self/sched") as f:
            has_sched = "se.nr_migrations" in f.read()
    except OSError:
        has_sched = False
    assert (r.migrations is not None) == has_sched


def test_the_guard_disables_the_collector_in_the_loop_only() -> None:
    guard = GcGuard()
    assert gc.isenabled()
    try:
        def loop() -> bool:
            for _ in range(50_000):  # cyclic garbage that would trigger collections
                a: list[Any] = []
                a.append(a)
            return gc.isenabled()

        enabled_inside, proc = guard.run(loop)
        assert not enabled_inside and gc.isenabled()
        assert proc["gc_collections"] == 0
        assert guard.primed and gc.get_freeze_count() > 0  # the first chunk collected and froze
        _, proc = guard.run(lambda: None)
        assert set(proc) == PROC_KEYS and proc["wall_s"] >= 0
        guard.after_load()
        assert not guard.primed and gc.get_freeze_count() == 0
        gc.disable()  # a caller that had it off keeps it off
        guard.run(lambda: None)
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_synthetic_measure_replies_carry_the_process_state(session: Session) -> None:
    load = ok(call(session, "load", model="synthetic:median_ms=2"))
    assert load["gc"] == "disabled_in_timed_loops" and load["compile_workers"] == "none"
    assert load["compile_peak_allocated_mb"] is None and load["compile_peak_reserved_mb"] is None
    lat = ok(call(session, "measure", iterations=5))
    thr = ok(call(session, "measure", iterations=5, mode="throughput"))
    for proc in (lat["proc"], thr["proc"]):
        assert set(proc) == PROC_KEYS
        assert proc["gc_collections"] == 0
        assert proc["wall_s"] >= 0.009  # five calls of 2 ms
        assert 0 < proc["cpu_time_s"] < proc["wall_s"]  # it slept for most of it
        if LINUX:
            assert proc["nvcsw"] >= 1  # each sleep gives the CPU up
            assert proc["nivcsw"] >= 0 and proc["cpu"] >= 0
    assert gc.isenabled()


def test_the_first_chunk_after_a_load_freezes_and_unload_unfreezes(session: Session) -> None:
    ok(call(session, "load", model="synthetic:median_ms=0"))
    assert not procstate.GC.primed
    ok(call(session, "measure", iterations=2))
    assert procstate.GC.primed and gc.get_freeze_count() > 0
    ok(call(session, "load", model="synthetic:median_ms=0"))  # another load primes again
    assert not procstate.GC.primed and gc.get_freeze_count() == 0
    ok(call(session, "measure", iterations=2))
    ok(call(session, "unload"))
    assert gc.get_freeze_count() == 0 and gc.isenabled()


# --- compile workers ---------------------------------------------------------------------

class FakePool:
    def __init__(self) -> None:
        self.stopped = False

    def shutdown(self) -> None:
        self.stopped = True


def fake_async_compile(pools: list[FakePool], with_shutdown: bool = True) -> types.ModuleType:
    module = types.ModuleType("torch._inductor.async_compile")
    pool_set = set(pools)
    module._pool_set = pool_set  # type: ignore[attr-defined]
    if with_shutdown:
        def shutdown() -> None:
            for p in pool_set:
                p.shutdown()
            pool_set.clear()

        module.shutdown_compile_workers = shutdown  # type: ignore[attr-defined]
    return module


def test_compile_workers_are_shut_down(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "torch._inductor.async_compile"
    pool = FakePool()
    monkeypatch.setitem(sys.modules, name, fake_async_compile([pool]))
    assert procstate.shut_down_compile_workers(compiled=True) == "shut_down" and pool.stopped
    assert procstate.shut_down_compile_workers(compiled=True) == "none"  # nothing left to stop
    monkeypatch.setitem(sys.modules, name, fake_async_compile([], with_shutdown=False))
    assert procstate.shut_down_compile_workers(compiled=True) == "unavailable"


def test_an_eager_variant_does_not_import_inductor_to_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "torch._inductor.async_compile"
    monkeypatch.delitem(sys.modules, name, raising=False)

    def no_import(module: str) -> Any:
        raise AssertionError(f"imported {module}")

    monkeypatch.setattr(procstate.importlib, "import_module", no_import)
    assert procstate.shut_down_compile_workers(compiled=False) == "none"
    assert name not in sys.modules


def test_a_torch_without_the_module_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch._inductor.async_compile", raising=False)

    def missing(module: str) -> Any:
        raise ImportError(module)

    monkeypatch.setattr(procstate.importlib, "import_module", missing)
    assert procstate.shut_down_compile_workers(compiled=True) == "unavailable"
