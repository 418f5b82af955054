"""The worker process around timed loops: the garbage collector kept out of them, the timing
thread's state read before and after each chunk, and Inductor's compile workers shut down.

A chunk's ``proc`` object is the evidence for why one process measured slower than another:
context switches (the thread was preempted, or slept), CPU migrations (its caches went cold),
the CPU it ended on, garbage collections, and how much of the chunk's wall time the thread
spent on a CPU. Everything is read twice per chunk, never per iteration, and every field is
null where the platform does not say (no /proc, no ``RUSAGE_THREAD``).
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from .protocol import CompileWorkers, ProcessState

try:
    import resource as _resource
except ImportError:  # not on Windows
    _resource = None  # type: ignore[assignment]
resource: ModuleType | None = _resource

_T = TypeVar("_T")

GC_POLICY = "disabled_in_timed_loops"

_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)


@dataclass(frozen=True)
class Reading:
    """One reading of the calling thread's counters; None where the platform does not say."""

    nivcsw: int | None
    nvcsw: int | None
    migrations: int | None
    cpu: int | None
    gc_collections: int
    cpu_time_s: float
    wall_s: float


def _thread_file(name: str) -> str:
    return f"/proc/self/task/{threading.get_native_id()}/{name}"


def _read_text(name: str) -> str | None:
    """``/proc/thread-self/<name>`` (Linux 3.17+), else the task's own folder; None without /proc."""
    for path in (f"/proc/thread-self/{name}", _thread_file(name)):
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                return f.read()
        except OSError:
            continue
    return None


def parse_migrations(sched: str) -> int | None:
    """``se.nr_migrations`` of a /proc/…/sched file (kernels built with CONFIG_SCHED_DEBUG)."""
    for line in sched.splitlines():
        if line.startswith("se.nr_migrations"):
            try:
                return int(line.split(":", 1)[1].strip())
            except (IndexError, ValueError):
                return None
    return None


def parse_processor(stat: str) -> int | None:
    """Field 39 (``processor``: the CPU last run on) of a /proc/…/stat line. The command name
    (field 2) is in parentheses and may hold spaces, so the count starts after the last ')'."""
    rest = stat[stat.rfind(")") + 1:].split()
    try:
        return int(rest[39 - 3])  # rest[0] is field 3
    except (IndexError, ValueError):
        return None


def gc_collections() -> int:
    """Collections the cyclic garbage collector has run in this process, all generations."""
    return sum(int(g.get("collections", 0)) for g in gc.get_stats())


def read() -> Reading:
    nivcsw = nvcsw = None
    if resource is not None and _RUSAGE_THREAD is not None:
        try:
            usage = resource.getrusage(_RUSAGE_THREAD)
            nivcsw, nvcsw = int(usage.ru_nivcsw), int(usage.ru_nvcsw)
        except (OSError, ValueError):
            pass
    sched = _read_text("sched")
    stat = _read_text("stat")
    return Reading(
        nivcsw=nivcsw,
        nvcsw=nvcsw,
        migrations=parse_migrations(sched) if sched is not None else None,
        cpu=parse_processor(stat) if stat is not None else None,
        gc_collections=gc_collections(),
        cpu_time_s=time.thread_time(),
        wall_s=time.perf_counter(),
    )


def _minus(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else after - before


def delta(before: Reading, after: Reading) -> ProcessState:
    """What happened between two readings; ``cpu`` is where the thread was at the second."""
    return {
        "nivcsw": _minus(after.nivcsw, before.nivcsw),
        "nvcsw": _minus(after.nvcsw, before.nvcsw),
        "migrations": _minus(after.migrations, before.migrations),
        "cpu": after.cpu,
        "gc_collections": after.gc_collections - before.gc_collections,
        "cpu_time_s": after.cpu_time_s - before.cpu_time_s,
        "wall_s": after.wall_s - before.wall_s,
    }


class GcGuard:
    """Keeps Python's cyclic garbage collector out of timed loops.

    The first timed chunk after a load collects once and freezes what exists then (the
    model, its inputs, compiled code: ``gc.freeze`` moves them to a generation that later
    collections skip), so later collections have little to walk. Every timed chunk runs with
    the collector disabled, and it is enabled again after, so garbage made between chunks is
    still collected. ``after_load`` unfreezes, so the state of an unloaded model (or of an old
    batch size) can be collected, and makes the next chunk collect and freeze again.
    """

    def __init__(self) -> None:
        self.primed = False

    def after_load(self) -> None:
        gc.unfreeze()
        self.primed = False

    def run(self, loop: Callable[[], _T]) -> tuple[_T, ProcessState]:
        """``loop()`` with the collector disabled, and the thread's state over it."""
        if not self.primed:
            gc.collect()
            gc.freeze()
            self.primed = True
        enabled = gc.isenabled()
        gc.disable()
        try:
            before = read()
            result = loop()
            after = read()
        finally:
            if enabled:
                gc.enable()
        return result, delta(before, after)


GC = GcGuard()  # the collector is one per process, and so is its guard


def timed_chunk(loop: Callable[[], _T]) -> tuple[_T, ProcessState]:
    return GC.run(loop)


_ASYNC_COMPILE = "torch._inductor.async_compile"


def shut_down_compile_workers(compiled: bool) -> CompileWorkers:
    """Shuts down Inductor's compile-worker pools (subprocesses or threads that compile kernels
    in parallel), so that they neither run nor wait on a CPU during measurement.

    "shut_down": there were pools, and they are shut down (also when the installed torch does
    not say whether there were any); "none": there were none (an eager variant, or Inductor
    compiled in this process); "unavailable": this torch has no ``shutdown_compile_workers``.
    A later compile (a new batch size) starts them again. For an eager variant Inductor is
    not imported just to ask.
    """
    module = sys.modules.get(_ASYNC_COMPILE)
    if module is None:
        if not compiled:
            return "none"
        try:
            module = importlib.import_module(_ASYNC_COMPILE)
        except Exception:
            return "unavailable"
    shutdown = getattr(module, "shutdown_compile_workers", None)
    if not callable(shutdown):
        return "unavailable"
    pools = getattr(module, "_pool_set", None)
    try:
        had_pools = pools is None or len(pools) > 0
    except TypeError:
        had_pools = True
    try:
        shutdown()
    except Exception as exc:  # a pool that fails to stop must not fail the load
        print(f"[inferbench-worker] shutting down the compile workers failed: {type(exc).__name__}: {exc}",
              file=sys.stderr, flush=True)
        return "unavailable"
    return "shut_down" if had_pools else "none"
