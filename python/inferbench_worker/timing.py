"""The measured loops. Each takes prepared zero-argument calls, so an iteration does only
the call, its clock reads and (on CUDA) its event records and synchronize.

The calls are rotated (``calls[i % len(calls)]``): callers bind each prepared input set
to the model once, outside the loop. Contexts such as ``torch.inference_mode()`` and
``torch.autocast`` are entered by the caller around the whole loop, not per iteration.
Nothing here imports torch unless a CUDA loop is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .protocol import InferResult

Call = Callable[[], object]


def host_latency(calls: Sequence[Call], iterations: int) -> list[int]:
    """Nanoseconds of each call by ``perf_counter_ns`` (CPU models and the synthetic model)."""
    clock = time.perf_counter_ns
    n = len(calls)
    out = [0] * iterations
    for i in range(iterations):
        call = calls[i % n]
        t0 = clock()
        call()
        out[i] = clock() - t0
    return out


def cuda_latency(calls: Sequence[Call], iterations: int) -> tuple[list[int], list[int]]:
    """(device_ns, host_ns) of each call: a CUDA event pair and a host clock pair around it.

    Each iteration ends with the end event's synchronize, so the host time covers launch and
    execution; the event pair covers the GPU work on the current stream.
    """
    import torch

    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    clock = time.perf_counter_ns
    n = len(calls)
    host = [0] * iterations
    torch.cuda.synchronize()
    for i in range(iterations):
        call = calls[i % n]
        start = starts[i]
        end = ends[i]
        t0 = clock()
        start.record()
        call()
        end.record()
        end.synchronize()
        host[i] = clock() - t0
    device = [round(s.elapsed_time(e) * 1e6) for s, e in zip(starts, ends, strict=True)]
    return device, host


def throughput(calls: Sequence[Call], iterations: int, sync: Callable[[], None] | None) -> int:
    """Total nanoseconds of ``iterations`` calls back to back, with one ``sync`` at the end."""
    clock = time.perf_counter_ns
    n = len(calls)
    if sync is not None:
        sync()
    t0 = clock()
    for i in range(iterations):
        calls[i % n]()
    if sync is not None:
        sync()
    return clock() - t0


def timed_call(call: Call, cuda: bool) -> tuple[object, int | None, int]:
    """One synchronized call: (output, device_ns or None, host_ns)."""
    clock = time.perf_counter_ns
    if not cuda:
        t0 = clock()
        out = call()
        return out, None, clock() - t0
    import torch

    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    t0 = clock()
    start.record()
    out = call()
    end.record()
    end.synchronize()
    host = clock() - t0
    return out, round(start.elapsed_time(end) * 1e6), host


class CudaFlight:
    """A call queued on a CUDA stream between two events; ``wait`` blocks on its end event only
    (never a device-wide synchronize), so other streams' calls run on meanwhile."""

    def __init__(self, call: Call, stream: Any) -> None:
        import torch

        self._t0 = time.perf_counter_ns()
        # What the launch learned beside the timing (the recompiles it set off), for the reply.
        self.extra: InferResult = {"device_ns": None, "host_ns": 0}
        self._start = torch.cuda.Event(enable_timing=True)
        self._end = torch.cuda.Event(enable_timing=True)
        # The inputs were made on the default stream: this stream's work starts after them.
        stream.wait_stream(torch.cuda.current_stream(stream.device))
        with torch.cuda.stream(stream):
            self._start.record(stream)
            # Kept until the end event: the output's memory belongs to this stream's pool.
            self._output = call()
            self._end.record(stream)

    def wait(self) -> InferResult:
        self._end.synchronize()
        host = time.perf_counter_ns() - self._t0
        self._output = None
        device = round(self._start.elapsed_time(self._end) * 1e6)
        result: InferResult = {**self.extra, "device_ns": device, "host_ns": host}
        return result


@dataclass(frozen=True)
class Stages:
    """One call whose inputs are copied in and outputs copied out (``infer`` with a payload):
    ``copy_in()`` returns the inputs on the device, ``compute(inputs)`` the output, and
    ``copy_out(output)`` the bytes it wrote back to the host."""

    copy_in: Callable[[], Any]
    compute: Callable[[Any], Any]
    copy_out: Callable[[Any], int]


def timed_stages(stages: Stages, cuda: bool) -> InferResult:
    """One synchronized staged call. On CUDA four events on the current stream split it into
    h2d, the model (``device_ns``, as ``timed_call``'s pair) and d2h; on the CPU the host clock
    does. ``host_ns`` is the whole call on the host clock."""
    clock = time.perf_counter_ns
    if not cuda:
        t0 = clock()
        inputs = stages.copy_in()
        t1 = clock()
        out = stages.compute(inputs)
        t2 = clock()
        written = stages.copy_out(out)
        t3 = clock()
        return {"device_ns": None, "host_ns": t3 - t0, "h2d_ns": t1 - t0, "d2h_ns": t3 - t2, "output_bytes": written}
    import torch

    events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
    torch.cuda.synchronize()
    t0 = clock()
    held = _run_stages(stages, events, None)
    events[3].synchronize()
    host = clock() - t0
    return _staged_result(events, host, held[2])


def _run_stages(stages: Stages, events: list[Any], stream: Any) -> tuple[Any, Any, int]:
    """Queues the three stages between four events on ``stream`` (None: the current one);
    returns what must outlive them: the device inputs, the output and the bytes written."""
    events[0].record(stream)
    inputs = stages.copy_in()
    events[1].record(stream)
    out = stages.compute(inputs)
    events[2].record(stream)
    written = stages.copy_out(out)
    events[3].record(stream)
    return inputs, out, written


def _staged_result(events: list[Any], host_ns: int, written: int) -> InferResult:
    def ns(a: int, b: int) -> int:
        return int(round(events[a].elapsed_time(events[b]) * 1e6))

    return {"device_ns": ns(1, 2), "host_ns": host_ns, "h2d_ns": ns(0, 1), "d2h_ns": ns(2, 3),
            "output_bytes": written}


class CudaStagedFlight:
    """A staged call queued on a CUDA stream, as ``CudaFlight`` queues a call; ``wait`` blocks
    on its last event (after the copy out) only."""

    def __init__(self, stages: Stages, stream: Any) -> None:
        import torch

        self._t0 = time.perf_counter_ns()
        self.extra: InferResult = {"device_ns": None, "host_ns": 0}
        self._events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
        # The model's weights (and the previous synchronous calls) are the default stream's.
        stream.wait_stream(torch.cuda.current_stream(stream.device))
        with torch.cuda.stream(stream):
            # Held until the last event: their memory belongs to this stream's pool, and the
            # copies still read and write it.
            self._held: tuple[Any, Any, int] | None = _run_stages(stages, self._events, stream)

    def wait(self) -> InferResult:
        self._events[3].synchronize()
        host = time.perf_counter_ns() - self._t0
        assert self._held is not None
        written = self._held[2]
        self._held = None
        return {**self.extra, **_staged_result(self._events, host, written)}
