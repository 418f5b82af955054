"""The ``synthetic`` model: waits for a seeded random time per call, without torch.

It exists to test the harness itself: its latency distribution is known exactly, so the
statistics, stopping rules and reports of the orchestrator can be checked against it.
A call has a host part (the drawn time plus ``host_ms``, spent in the calling thread, like a
kernel launch) and an optional device part (``device_ms``) on a simulated device: one queue
that runs device parts one after another, asynchronously to the caller, so that a pipelined
call's host part overlaps the previous call's device part as on a GPU.
Each wait sleeps until about 200 µs before its deadline and spins on ``perf_counter_ns``
for the rest, which is accurate to a few microseconds on an idle machine.
"""

from __future__ import annotations

import functools
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import procstate, timing
from .memory import rss_peak_mb, snapshot
from .payload import Batch, InputSpec, Layout, Ring, with_checksum
from .protocol import (
    COMPILE_MODES,
    PRECISIONS,
    CompilePeaks,
    InferResult,
    LatencyResult,
    LoadResult,
    MeasureArgs,
    PayloadOpenArgs,
    Precision,
    ThroughputResult,
    VerifyResult,
    bad_request,
    load_result,
)
from .verify import tolerance_for

DISTRIBUTIONS = ("constant", "normal", "lognormal", "uniform", "bimodal")

# Empty defaults are derived from median_ms (see SyntheticConfig.parse).
DEFAULT_PARAMS: Mapping[str, str] = {
    "dist": "constant",
    "median_ms": "",
    "sigma": "0.1",
    "low_ms": "",
    "high_ms": "",
    "p_slow": "0.05",
    "slow_ms": "",
    "stall_every": "0",
    "stall_ms": "0",
    "per_item_ms": "0",
    "seq": "1",
    "per_token_ms": "0",
    "host_ms": "0",
    "device_ms": "0",
    "payload_bytes": "256",
    "seed": "",
    "scale": "",
    "error": "",
}

DESCRIPTION = (
    "no torch: each call waits a seeded random time (harness testing); dist=constant|normal|"
    "lognormal|uniform|bimodal; low_ms/high_ms default to 0.5x/1.5x median_ms, slow_ms to 10x, "
    "seed to the load seed; stall_ms is added to every stall_every-th call; host_ms and device_ms "
    "split a call into a host part and an asynchronous device part (median_ms then defaults to 0, else 1); "
    "per_token_ms adds that much per sample per token of seq (or of a call's length); payload_bytes is a "
    "sample's size for payload_open (one uint8 input; each row's output is its first 8 bytes, zero-padded); "
    "scale=fp16:0.5+default:0.8 multiplies a call's time for the variants named (precision or compile mode, "
    "factors multiply), error=fp16:0.2 makes verify report that relative error for them (a known cost and "
    "accuracy model for testing `recommend`)"
)

_SPIN_NS = 200_000  # sleep until this close to the deadline, then spin

# A payload call's output: this many bytes a row, the row's first bytes (zero-padded), so that a
# test can see each request get its own row's answer back.
OUTPUT_BYTES_PER_ROW = 8

# Multiplies every call's duration in this worker: an environment whose Python is started with it
# set is a known amount slower than another, which tests comparisons between environments.
SCALE_VARIABLE = "INFERBENCH_SYNTHETIC_SCALE"


@dataclass(frozen=True)
class SyntheticConfig:
    dist: str
    median_ms: float
    sigma: float
    low_ms: float
    high_ms: float
    p_slow: float
    slow_ms: float
    stall_every: int
    stall_ms: float
    per_item_ms: float
    seq: int
    per_token_ms: float
    host_ms: float
    device_ms: float
    payload_bytes: int
    seed: int
    scale: Mapping[str, float] = field(default_factory=dict)  # variant name -> time factor
    error: Mapping[str, float] = field(default_factory=dict)  # variant name -> relative error

    def variant_scale(self, names: tuple[str, ...]) -> float:
        """The product of the factors of ``names`` (the loaded precision and compile mode)."""
        return math.prod(self.scale.get(n, 1.0) for n in names)

    def variant_error(self, names: tuple[str, ...]) -> float:
        """The largest error ``error=`` gives any of ``names``; 0 when none is named."""
        return max((self.error.get(n, 0.0) for n in names), default=0.0)

    @staticmethod
    def parse(params: Mapping[str, str], default_seed: int) -> SyntheticConfig:
        """Reads the model's parameters (already checked for unknown names)."""
        p = {**DEFAULT_PARAMS, **params}
        dist = p["dist"]
        if dist not in DISTRIBUTIONS:
            raise bad_request(f"parameter dist must be one of {', '.join(DISTRIBUTIONS)}, got {dist!r}")
        host_ms, device_ms = _number(p, "host_ms", 0.0), _number(p, "device_ms", 0.0)
        # With an explicit split the parts are the call; otherwise a call is 1 ms of host time.
        median = _number(p, "median_ms", 0.0, default=0.0 if host_ms or device_ms else 1.0)
        cfg = SyntheticConfig(
            dist=dist,
            median_ms=median,
            sigma=_number(p, "sigma", 0.0),
            low_ms=_number(p, "low_ms", 0.0, default=0.5 * median),
            high_ms=_number(p, "high_ms", 0.0, default=1.5 * median),
            p_slow=_number(p, "p_slow", 0.0),
            slow_ms=_number(p, "slow_ms", 0.0, default=10.0 * median),
            stall_every=int(_number(p, "stall_every", 0.0, integer=True)),
            stall_ms=_number(p, "stall_ms", 0.0),
            per_item_ms=_number(p, "per_item_ms", 0.0),
            seq=int(_number(p, "seq", 1.0, integer=True)),
            per_token_ms=_number(p, "per_token_ms", 0.0),
            host_ms=host_ms,
            device_ms=device_ms,
            payload_bytes=int(_number(p, "payload_bytes", 1.0, integer=True)),
            seed=int(_number(p, "seed", 0.0, default=float(default_seed), integer=True)),
            scale=_variant_map(p["scale"], "scale", positive=True),
            error=_variant_map(p["error"], "error", positive=False),
        )
        if cfg.p_slow > 1.0:
            raise bad_request(f"parameter p_slow must be a probability in [0, 1], got {cfg.p_slow}")
        if cfg.high_ms < cfg.low_ms:
            raise bad_request(f"parameter high_ms ({cfg.high_ms}) must not be below low_ms ({cfg.low_ms})")
        return cfg


# A synthetic call of over a minute is a typo (median_ms=1e12 would sleep for 30 years and
# hang the run): the time parameters are bounded.
MAX_MS = 60_000.0


def _number(p: Mapping[str, str], key: str, minimum: float, default: float | None = None,
            integer: bool = False) -> float:
    text = p[key].strip()
    if text == "" and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise bad_request(f"parameter {key} must be a number, got {text!r}") from None
    if key.endswith("_ms") and math.isfinite(value) and value > MAX_MS:
        raise bad_request(f"parameter {key} must be at most {MAX_MS:.0f} ms (a minute a call), got {text}")
    if not math.isfinite(value) or value < minimum or (integer and not value.is_integer()):
        kind = "an integer" if integer else "a number"
        raise bad_request(f"parameter {key} must be {kind} >= {minimum:g}, got {text!r}")
    return value


def _variant_map(text: str, key: str, positive: bool) -> dict[str, float]:
    """``fp16:0.5+default:0.8`` as {"fp16": 0.5, "default": 0.8}: names of precisions or compile
    modes, each with a number (a factor > 0 for scale, an error >= 0 for error)."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split("+"))):
        name, _, number = item.partition(":")
        if name not in PRECISIONS and name not in COMPILE_MODES:
            raise bad_request(f"parameter {key}: {name!r} is not a precision or compile mode "
                              f"(e.g. {key}=fp16:0.5+default:0.8)")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise bad_request(f"parameter {key}: {item!r} needs a number {'> 0' if positive else '>= 0'} "
                              f"after the colon, e.g. {key}={name}:0.5")
        out[name] = value
    return out


@dataclass(frozen=True)
class DeviceCompletion:
    """A synthetic call's device part: done at ``device_end_ns`` on the simulated device."""

    launched_ns: int
    device_start_ns: int
    device_end_ns: int

    def wait(self) -> InferResult:
        wait_until(self.device_end_ns)
        return {"device_ns": self.device_end_ns - self.device_start_ns,
                "host_ns": time.perf_counter_ns() - self.launched_ns}


@dataclass(frozen=True)
class PayloadCompletion:
    """A synthetic call with a payload: its device part, then its output written to the ring."""

    device: DeviceCompletion
    h2d_ns: int
    batch: Batch
    output_offset: int
    checksum: int | None
    echo: bytes  # each row's first OUTPUT_BYTES_PER_ROW bytes

    def wait(self) -> InferResult:
        wait_until(self.device.device_end_ns)
        t0 = time.perf_counter_ns()
        nbytes = OUTPUT_BYTES_PER_ROW * self.batch.size
        self.batch.ring.write(self.output_offset, self.echo)
        end = time.perf_counter_ns()
        result: InferResult = {"device_ns": self.device.device_end_ns - self.device.device_start_ns,
                               "host_ns": end - self.device.launched_ns, "h2d_ns": self.h2d_ns, "d2h_ns": end - t0,
                               "output_bytes": nbytes}
        return with_checksum(result, self.checksum)


@dataclass
class SimulatedDevice:
    """One in-order queue, like a CUDA stream's device: a part starts when both it is launched
    and the previous part is done. Only the launching (reading) thread touches it."""

    free_at_ns: int = field(default=0)

    def enqueue(self, launched_ns: int, ready_ns: int, duration_ns: int) -> DeviceCompletion:
        start = max(ready_ns, self.free_at_ns)
        self.free_at_ns = start + duration_ns
        return DeviceCompletion(launched_ns, start, self.free_at_ns)


class SyntheticModel:
    """A loaded synthetic model: the state is the random generator, the call count and the
    simulated device."""

    def __init__(self, cfg: SyntheticConfig, batch_size: int, variant: tuple[str, ...] = ()) -> None:
        self.cfg = cfg
        self.batch_size = batch_size
        self.variant = variant  # the load's precision and compile mode, for scale= and error=
        self._rng = random.Random(cfg.seed)
        self._calls = 0
        self._draw: Callable[[], float] = self._sampler()
        self._scale = environment_scale() * cfg.variant_scale(variant)
        self._device = SimulatedDevice()

    @staticmethod
    def load(params: Mapping[str, str], batch_size: int, seed: int,
             variant: tuple[str, ...] = ()) -> tuple[SyntheticModel, LoadResult]:
        procstate.GC.after_load()
        t0 = time.perf_counter()
        model = SyntheticModel(SyntheticConfig.parse(params, seed), batch_size, variant)
        load_s = time.perf_counter() - t0
        first_ns = timing.host_latency([model._caller(batch_size)], 1)[0]
        model.call(batch_size)  # the "once more" call, as for torch models
        result = load_result(
            load_s=load_s,
            compile_s=0.0,
            first_call_ms=first_ns / 1e6,
            parameters=0,
            flops_per_sample=None,
            input_desc=f"synthetic[{batch_size}]",
            output_desc="none",
            memory=snapshot(None, reset_peak=False),
            compile_peaks=CompilePeaks(allocated_mb=None, reserved_mb=None, rss_mb=rss_peak_mb()),
        )
        return model, result

    def _sampler(self) -> Callable[[], float]:
        """A function drawing one call's base latency in ms (before batch cost and stalls)."""
        c, rng = self.cfg, self._rng
        if c.dist == "constant":
            return lambda: c.median_ms
        if c.dist == "normal":
            return lambda: rng.gauss(c.median_ms, c.sigma * c.median_ms)
        if c.dist == "lognormal":
            mu = math.log(c.median_ms) if c.median_ms > 0 else -math.inf
            return (lambda: rng.lognormvariate(mu, c.sigma)) if c.median_ms > 0 else (lambda: 0.0)
        if c.dist == "uniform":
            return lambda: rng.uniform(c.low_ms, c.high_ms)
        return lambda: c.slow_ms if rng.random() < c.p_slow else c.median_ms  # bimodal

    def target_ns(self, batch_size: int, length: int | None = None) -> int:
        """Draws the next call's host part; advances the generator and the call count."""
        self._calls += 1
        tokens = self.cfg.seq if length is None else length
        ms = max(0.0, self._draw()) + self.cfg.per_item_ms * (batch_size - 1) + self.cfg.host_ms
        ms += self.cfg.per_token_ms * batch_size * tokens
        if self.cfg.stall_every > 0 and self._calls % self.cfg.stall_every == 0:
            ms += self.cfg.stall_ms
        return int(ms * self._scale * 1e6)

    def launch(self, batch_size: int | None, in_flight: int = 1, length: int | None = None,
               payload: Batch | None = None) -> DeviceCompletion | PayloadCompletion:
        """Spends the host part in this thread and queues the device part; returns at once after
        the host part (``in_flight`` is for torch models' streams: the device is one queue)."""
        if payload is not None:
            return self._launch_payload(payload)
        start = time.perf_counter_ns()
        return self._host_part(start, start, batch_size or self.batch_size, length)

    def _host_part(self, launched_ns: int, ready_ns: int, batch_size: int, length: int | None) -> DeviceCompletion:
        host_end = ready_ns + self.target_ns(batch_size, length)
        wait_until(host_end)
        device_ns = int(self.cfg.device_ms * self._scale * 1e6)
        return self._device.enqueue(launched_ns, host_end, device_ns)

    def _launch_payload(self, batch: Batch) -> PayloadCompletion:
        """As ``launch``, with the batch's rows first copied out of the ring into a bytes object
        (h2d) and, once the device part is done, 8 zero bytes a row written back (d2h)."""
        output_offset = batch.output_offsets([OUTPUT_BYTES_PER_ROW * batch.size])[0]
        checksum = batch.checksum_value()  # of what arrived, before the copy
        start = time.perf_counter_ns()
        rows = batch.read_inputs()[0]
        copied = time.perf_counter_ns()
        device = self._host_part(start, copied, batch.size, batch.length)
        width = len(rows) // batch.size if batch.size else 0
        echo = b"".join(rows[r * width:r * width + OUTPUT_BYTES_PER_ROW].ljust(OUTPUT_BYTES_PER_ROW, b"\0")
                        for r in range(batch.size))
        return PayloadCompletion(device, copied - start, batch, output_offset, checksum, echo)

    def open_payload(self, args: PayloadOpenArgs) -> Ring:
        """The payload ring: one uint8 input of ``payload_bytes`` a sample, seeded random bytes,
        with no length axis (``seq`` stays a compute parameter: a pool per listed length holds
        samples of the same size); an output of 8 bytes a row."""
        if args.file is not None:
            raise bad_request("--payload-file: the synthetic model makes its own payload bytes (payload_bytes=N); "
                              "give the file to a torch model")
        spec = InputSpec(None, "uint8", 1, (self.cfg.payload_bytes,))
        layout = Layout.plan((spec,), None, args.lengths, args.pool, args.slots, args.max_batch,
                                     (OUTPUT_BYTES_PER_ROW,))
        ring = Ring.create(layout, pin=False)
        ring.outputs = [{"name": "output0", "dtype": "uint8", "itemsize": 1, "shape": [OUTPUT_BYTES_PER_ROW]}]
        for index, pool in enumerate(layout.pools):
            # A generator of its own: the call times' draws stay what they were.
            ring.write(pool.offset, random.Random(self.cfg.seed * 1_000_003 + index).randbytes(pool.nbytes))
        return ring

    def call(self, batch_size: int) -> None:
        """One synchronous call: both parts."""
        self.launch(batch_size).wait()

    def _caller(self, batch_size: int) -> Callable[[], None]:
        return functools.partial(self.call, batch_size)

    def measure(self, args: MeasureArgs) -> LatencyResult | ThroughputResult:
        batch = args.batch_size or self.batch_size
        n = args.iterations
        if args.mode == "throughput":
            total, proc = procstate.timed_chunk(lambda: self._back_to_back(batch, n))
            return {"total_ns": total, "iterations": n, "recompiles": 0, "proc": proc}
        host, proc = procstate.timed_chunk(lambda: timing.host_latency([self._caller(batch)], n))
        return {"device_ns": None, "host_ns": host, "clock": "perf_counter", "recompiles": 0, "proc": proc}

    def _back_to_back(self, batch: int, n: int) -> int:
        """Launches without waiting, then waits for the last device part (as a GPU throughput
        loop does with one synchronize at the end): host and device parts overlap."""
        t0 = time.perf_counter_ns()
        last = None
        for _ in range(n):
            last = self.launch(batch)
        if last is not None:
            last.wait()
        return time.perf_counter_ns() - t0

    def infer(self, batch_size: int | None, length: int | None = None,
              payload: Batch | None = None) -> InferResult:
        result = self.launch(batch_size, length=length, payload=payload).wait()
        if self.cfg.device_ms <= 0:
            result["device_ns"] = None  # without a device part the call is all host time
        return result

    def verify(self, batch_size: int | None) -> VerifyResult:
        """Nothing to compare: a perfect match, or the error ``error=`` gives this variant against
        a reference of scale 1 (within tolerance when at most the precision's rtol)."""
        err = self.cfg.variant_error(self.variant)
        precision: Precision = next((p for p in PRECISIONS if p in self.variant), "fp32")
        tol = tolerance_for(precision) if err > 0 else {"atol": 0.0, "rtol": 0.0, "cosine_min": 1.0}
        return {
            "max_abs_err": err,
            "max_rel_err": err,
            "ref_max_abs": 1.0 if err > 0 else 0.0,
            "cosine": 1.0 - err * err / 2,
            "tolerance": tol,
            "within_tolerance": err <= tol["atol"] + tol["rtol"] and 1.0 - err * err / 2 >= tol["cosine_min"],
        }

    def can_reuse(self, ref: Any, args: Any) -> bool:
        return False  # a fresh synthetic load costs nothing

    def rebatch(self, batch_size: int, ref: Any = None) -> LoadResult:
        raise AssertionError("the synthetic model is never reused")

    def unload(self) -> None:
        pass


def environment_scale() -> float:
    """``$INFERBENCH_SYNTHETIC_SCALE`` as a positive factor (1 when unset)."""
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = -1.0
    if not (scale > 0 and math.isfinite(scale)):
        raise bad_request(f"${SCALE_VARIABLE}={text!r}: give a positive number, e.g. 1.5")
    return scale


def wait_until(deadline_ns: int) -> None:
    """Sleeps, then spins, until ``perf_counter_ns()`` reaches ``deadline_ns``."""
    clock = time.perf_counter_ns
    remaining = deadline_ns - clock()
    if remaining > _SPIN_NS:
        time.sleep((remaining - _SPIN_NS) / 1e9)
    while clock() < deadline_ns:
        pass
