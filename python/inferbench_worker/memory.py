"""The ``memory`` op: CUDA allocator peaks, device memory in use, and the worker's RSS."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .protocol import MemoryResult

if TYPE_CHECKING:
    import torch

_MIB = 1024.0 * 1024.0


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
    torch_mod = sys.modules.get("torch")
    if torch_mod is None or not torch_mod.cuda.is_initialized():
        return result
    if device is not None and device.type != "cuda":
        return result
    torch = torch_mod
    index = device.index if device is not None and device.index is not None else torch.cuda.current_device()
    result["peak_allocated_mb"] = torch.cuda.max_memory_allocated(index) / _MIB
    result["peak_reserved_mb"] = torch.cuda.max_memory_reserved(index) / _MIB
    free, total = torch.cuda.mem_get_info(index)
    result["device_used_mb"] = (total - free) / _MIB
    if reset_peak:
        torch.cuda.reset_peak_memory_stats(index)
    return result


def rss_mb() -> float | None:
    """Resident set size from /proc/self/status (VmRSS); None where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None
