"""The ``synthetic`` model: waits for a seeded random time per call, without torch.

It exists to test the harness itself: its latency distribution is known exactly, so the
statistics, stopping rules and reports of the orchestrator can be checked against it.
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
from dataclasses import dataclass
from typing import Any

from . import procstate, timing
from .memory import rss_peak_mb, snapshot
from .protocol import (
    CompilePeaks,
    InferResult,
    LatencyResult,
    LoadResult,
    MeasureArgs,
    ThroughputResult,
    VerifyResult,
    bad_request,
    load_result,
)

DISTRIBUTIONS = ("constant", "normal", "lognormal", "uniform", "bimodal")

# Empty defaults are derived from median_ms (see SyntheticConfig.parse).
DEFAULT_PARAMS: Mapping[str, str] = {
    "dist": "constant",
    "median_ms": "1",
    "sigma": "0.1",
    "low_ms": "",
    "high_ms": "",
    "p_slow": "0.05",
    "slow_ms": "",
    "stall_every": "0",
    "stall_ms": "0",
    "per_item_ms": "0",
    "seed": "",
}

DESCRIPTION = (
    "no torch: each call waits a seeded random time (harness testing); dist=constant|normal|"
    "lognormal|uniform|bimodal; low_ms/high_ms default to 0.5x/1.5x median_ms, slow_ms to 10x, "
    "seed to the load seed; stall_ms is added to every stall_every-th call"
)

_SPIN_NS = 200_000  # sleep until this close to the deadline, then spin

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
    seed: int

    @staticmethod
    def parse(params: Mapping[str, str], default_seed: int) -> SyntheticConfig:
        """Reads the model's parameters (already checked for unknown names)."""
        p = {**DEFAULT_PARAMS, **params}
        dist = p["dist"]
        if dist not in DISTRIBUTIONS:
            raise bad_request(f"parameter dist must be one of {', '.join(DISTRIBUTIONS)}, got {dist!r}")
        median = _number(p, "median_ms", 0.0)
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
            seed=int(_number(p, "seed", 0.0, default=float(default_seed), integer=True)),
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


class SyntheticModel:
    """A loaded synthetic model: the state is the random generator and the call count."""

    def __init__(self, cfg: SyntheticConfig, batch_size: int) -> None:
        self.cfg = cfg
        self.batch_size = batch_size
        self._rng = random.Random(cfg.seed)
        self._calls = 0
        self._draw: Callable[[], float] = self._sampler()
        self._scale = environment_scale()

    @staticmethod
    def load(params: Mapping[str, str], batch_size: int, seed: int) -> tuple[SyntheticModel, LoadResult]:
        procstate.GC.after_load()
        t0 = time.perf_counter()
        model = SyntheticModel(SyntheticConfig.parse(params, seed), batch_size)
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

    def target_ns(self, batch_size: int) -> int:
        """Draws the next call's duration; advances the generator and the call count."""
        self._calls += 1
        ms = max(0.0, self._draw()) + self.cfg.per_item_ms * (batch_size - 1)
        if self.cfg.stall_every > 0 and self._calls % self.cfg.stall_every == 0:
            ms += self.cfg.stall_ms
        return int(ms * self._scale * 1e6)

    def call(self, batch_size: int) -> None:
        start = time.perf_counter_ns()
        wait_until(start + self.target_ns(batch_size))

    def _caller(self, batch_size: int) -> Callable[[], None]:
        return functools.partial(self.call, batch_size)

    def measure(self, args: MeasureArgs) -> LatencyResult | ThroughputResult:
        calls = [self._caller(args.batch_size or self.batch_size)]
        n = args.iterations
        if args.mode == "throughput":
            total, proc = procstate.timed_chunk(lambda: timing.throughput(calls, n, sync=None))
            return {"total_ns": total, "iterations": n, "recompiles": 0, "proc": proc}
        host, proc = procstate.timed_chunk(lambda: timing.host_latency(calls, n))
        return {"device_ns": None, "host_ns": host, "clock": "perf_counter", "recompiles": 0, "proc": proc}

    def infer(self, batch_size: int | None) -> InferResult:
        host = timing.host_latency([self._caller(batch_size or self.batch_size)], 1)[0]
        return {"device_ns": None, "host_ns": host}

    def verify(self, batch_size: int | None) -> VerifyResult:
        """Nothing to compare: reports a perfect match, so harness tests see a passing check."""
        return {
            "max_abs_err": 0.0,
            "max_rel_err": 0.0,
            "ref_max_abs": 0.0,
            "cosine": 1.0,
            "tolerance": {"atol": 0.0, "rtol": 0.0, "cosine_min": 1.0},
            "within_tolerance": True,
        }

    def can_reuse(self, ref: Any, args: Any) -> bool:
        return False  # a fresh synthetic load costs nothing

    def rebatch(self, batch_size: int) -> LoadResult:
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
