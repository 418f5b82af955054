"""The ``memory`` op: CUDA allocator peaks, device memory in use, and the worker's RSS; and the
load's own high-water marks (``compile_peaks``), kept apart from those of the measurement."""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .protocol import CompilePeaks, MemoryResult

if TYPE_CHECKING:
    import torch

try:
    import resource as _resource
except ImportError:  # not on Windows
    _resource = None  # type: ignore[assignment]
resource: ModuleType | None = _resource

_MIB = 1024.0 * 1024.0

# Peaks (allocated, reserved; MiB) from before a stretch whose allocations are not the
# variant's (verify's fp32 reference), by device index: reported as if the counters had not
# been reset for that stretch, until the next reset.
_carried: dict[int, tuple[float, float]] = {}


def _cuda(device: torch.device | None) -> tuple[Any, int] | None:
    """(torch, device index) when this process has initialised CUDA and ``device`` is a CUDA
    device (None: the current one); None otherwise. Never initialises CUDA."""
    torch_mod = sys.modules.get("torch")
    if torch_mod is None or not torch_mod.cuda.is_initialized():
        return None
    if device is not None and device.type != "cuda":
        return None
    index = device.index if device is not None and device.index is not None else torch_mod.cuda.current_device()
    return torch_mod, int(index)


def _peaks(torch: Any, index: int) -> tuple[float, float]:
    allocated = torch.cuda.max_memory_allocated(index) / _MIB
    reserved = torch.cuda.max_memory_reserved(index) / _MIB
    carried = _carried.get(index)
    if carried is not None:
        allocated, reserved = max(allocated, carried[0]), max(reserved, carried[1])
    return allocated, reserved


def forget_carried_peaks() -> None:
    """At a fresh load: peaks carried from the previous model are not this one's."""
    _carried.clear()


def reset_peaks(device: torch.device | None) -> None:
    """Resets the allocator's peak counters (and forgets carried peaks) of a CUDA device."""
    cuda = _cuda(device)
    if cuda is None:
        return
    torch, index = cuda
    torch.cuda.reset_peak_memory_stats(index)
    _carried.pop(index, None)


def snapshot(device: torch.device | None, reset_peak: bool) -> MemoryResult:
    """Reads memory figures; the CUDA ones are null unless this process has used CUDA.

    ``device`` picks the GPU (None: the current one). It never initialises CUDA: a worker
    that has only run CPU models reports null GPU figures rather than creating a context.
    ``device_used_mb`` is the whole device's use (all processes), from ``cudaMemGetInfo``.
    """
    result: MemoryResult = {
        "peak_allocated_mb": None,
        "peak_reserved_mb": None,
        "device_used_mb": None,
        "rss_mb": rss_mb(),
    }
    cuda = _cuda(device)
    if cuda is None:
        return result
    torch, index = cuda
    result["peak_allocated_mb"], result["peak_reserved_mb"] = _peaks(torch, index)
    free, total = torch.cuda.mem_get_info(index)
    result["device_used_mb"] = (total - free) / _MIB
    if reset_peak:
        reset_peaks(device)
    return result


def compile_peaks(device: torch.device | None) -> CompilePeaks:
    """The high-water marks since the load began (its start reset the CUDA counters)."""
    cuda = _cuda(device)
    allocated = reserved = None
    if cuda is not None:
        allocated, reserved = _peaks(*cuda)
    return CompilePeaks(allocated_mb=allocated, reserved_mb=reserved, rss_mb=rss_peak_mb())


@contextlib.contextmanager
def excluded_from_peaks(device: torch.device | None) -> Iterator[None]:
    """Leaves the allocations made inside out of the next ``memory`` reply's peaks.

    The peaks from before are kept aside and the counters reset on the way out, so the caller
    must have freed what it made (``del``, ``gc.collect``, ``torch.cuda.empty_cache``) by then:
    what it still holds counts, as it should.
    """
    cuda = _cuda(device)
    if cuda is None:
        yield
        return
    torch, index = cuda
    before = _peaks(torch, index)
    try:
        yield
    finally:
        torch.cuda.reset_peak_memory_stats(index)
        _carried[index] = before


def rss_mb() -> float | None:
    """Resident set size from /proc/self/status (VmRSS); None where there is no /proc."""
    return _status_mb("VmRSS:")


def rss_peak_mb() -> float | None:
    """The host memory high-water mark of a load: this process's (``ru_maxrss`` of
    ``RUSAGE_SELF``) plus its largest finished child's (``RUSAGE_CHILDREN``: Inductor compiles
    in subprocesses, which are counted once they have exited and been waited for). Both are
    kB on Linux (bytes on macOS). None without ``resource``."""
    if resource is None:
        return None
    try:
        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        peak += int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    except (OSError, ValueError):
        return None
    return peak / (_MIB if sys.platform == "darwin" else 1024.0)


_malloc_trim: Any = None


def trim_heap() -> None:
    """Gives freed heap memory back to the system (glibc's ``malloc_trim``), so that ``rss_mb``
    after freeing a large object (verify's reference, an unloaded model) shows it gone. Does
    nothing where there is no glibc."""
    global _malloc_trim
    if not sys.platform.startswith("linux"):
        return
    if _malloc_trim is None:
        try:
            _malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", False)
        except OSError:
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None
