"""The wire protocol, version 1: the Python mirror of ``docs/protocol.md``.

One JSON object per line in each direction. Requests are ``{"id", "op", "args"}``;
replies are ``{"id", "ok": true, "result"}`` or ``{"id", "ok": false, "error"}``.
This module holds the names, the argument parsers (which reject what the schema does
not allow with a ``bad_request``) and the encode/decode helpers; it imports no torch.
Change it together with ``docs/protocol.md`` and the Swift ``WorkerProtocol.swift``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, TypedDict, TypeVar, get_args

PROTOCOL_VERSION: Final = 2

Op = Literal[
    "hello", "models", "check", "load", "payload_open", "measure", "infer", "verify", "memory", "unload", "shutdown",
    "smoke"
]
OPS: Final[tuple[Op, ...]] = get_args(Op)

ErrorKind = Literal["oom", "compile", "unsupported", "bad_request", "missing_dependency", "internal"]
ERROR_KINDS: Final[tuple[ErrorKind, ...]] = get_args(ErrorKind)

Precision = Literal["fp32", "tf32", "fp16", "bf16", "amp-fp16", "amp-bf16"]
PRECISIONS: Final[tuple[Precision, ...]] = get_args(Precision)

CompileMode = Literal[
    "eager", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs", "aot-inductor", "tensorrt"
]
COMPILE_MODES: Final[tuple[CompileMode, ...]] = get_args(CompileMode)

MeasureMode = Literal["latency", "throughput"]
MEASURE_MODES: Final[tuple[MeasureMode, ...]] = get_args(MeasureMode)

Clock = Literal["cuda_event", "perf_counter"]

# The states of Inductor's FX graph cache after a compile, and of a batch-sweep load (see load).
CompileCache = Literal["cold", "warm", "partial"]
BatchReuse = Literal["reused", "recompiled", "reexported"]

# What a load did about Inductor's compile-worker pools, and about the garbage collector.
CompileWorkers = Literal["shut_down", "none", "unavailable"]
GcPolicy = Literal["disabled_in_timed_loops"]

_Choice = TypeVar("_Choice", bound=str)

# The most pipelined ``infer`` requests a worker holds at once (``--in-flight`` is 1 to 8).
MAX_IN_FLIGHT: Final = 8

# ``payload_open``: slots of the ring (one per batch in flight) and samples a pool holds at most.
MAX_PAYLOAD_SLOTS: Final = MAX_IN_FLIGHT
MAX_PAYLOAD_POOL: Final = 256


class WorkerError(Exception):
    """An error that becomes an error reply; the worker carries on after sending it."""

    def __init__(self, kind: ErrorKind, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.detail = detail


def bad_request(message: str) -> WorkerError:
    return WorkerError("bad_request", message)


# --- requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A decoded request line. ``op`` is not checked here: the dispatcher answers unknown ops."""

    id: int | None
    op: str
    args: dict[str, Any]


def decode_request(line: bytes) -> Request:
    """Parses one request line; raises ``WorkerError(bad_request)`` when it is not a request.

    The error carries no id; the caller replies with ``"id": null`` (see protocol.md).
    """
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"request is not a JSON object line: {exc}") from None
    if not isinstance(obj, dict):
        raise bad_request("request must be a JSON object with 'id', 'op' and 'args'")
    rid = obj.get("id")
    if rid is not None and (not isinstance(rid, int) or isinstance(rid, bool)):
        raise bad_request("request 'id' must be an integer")
    op = obj.get("op")
    args = obj.get("args", {})
    if args is None:
        args = {}
    if not isinstance(op, str):
        raise _BadRequestWithId(rid, "request 'op' must be a string naming an operation: " + ", ".join(OPS))
    if not isinstance(args, dict):
        raise _BadRequestWithId(rid, f"request 'args' of op '{op}' must be a JSON object")
    return Request(id=rid, op=op, args=args)


class _BadRequestWithId(WorkerError):
    """A malformed request whose id could be read, so the reply can still echo it."""

    def __init__(self, request_id: int | None, message: str) -> None:
        super().__init__("bad_request", message)
        self.request_id = request_id


def request_id_of(error: WorkerError) -> int | None:
    return error.request_id if isinstance(error, _BadRequestWithId) else None


# --- argument parsing -----------------------------------------------------------------


class _Args:
    """Typed reads from a request's ``args`` object; every failure is a ``bad_request``."""

    def __init__(self, op: str, args: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(args) - set(allowed))
        if unknown:
            raise bad_request(
                f"op '{op}' got unknown argument(s) {', '.join(unknown)}; valid: {', '.join(allowed)}"
            )
        self.op = op
        self.args = args

    def _fail(self, key: str, want: str) -> WorkerError:
        return bad_request(f"op '{self.op}': argument '{key}' must be {want}, got {self.args[key]!r}")

    def string(self, key: str, default: str | None = None) -> str:
        if key not in self.args or self.args[key] is None:
            if default is None:
                raise bad_request(f"op '{self.op}' needs argument '{key}'")
            return default
        value = self.args[key]
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        return value

    def choice(self, key: str, choices: tuple[_Choice, ...], default: _Choice) -> _Choice:
        value = self.string(key, default)
        for choice in choices:
            if value == choice:
                return choice
        raise self._fail(key, "one of " + ", ".join(choices))

    def integer(self, key: str, default: int | None, minimum: int) -> int | None:
        value = self.args.get(key)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return value

    def count(self, key: str, minimum: int, maximum: int | None = None) -> int:
        """A required integer in [minimum, maximum]."""
        value = self.integer(key, None, minimum)
        if value is None:
            raise bad_request(f"op '{self.op}' needs argument '{key}'")
        if maximum is not None and value > maximum:
            raise self._fail(key, f"an integer from {minimum} to {maximum}")
        return value

    def integers(self, key: str, minimum: int) -> tuple[int, ...]:
        """A list of integers (absent or null: empty)."""
        value = self.args.get(key)
        if value is None:
            return ()
        want = f"a list of integers >= {minimum}"
        if not isinstance(value, list):
            raise self._fail(key, want)
        out: list[int] = []
        for item in value:
            if isinstance(item, float) and item.is_integer():
                item = int(item)
            if not isinstance(item, int) or isinstance(item, bool) or item < minimum:
                raise self._fail(key, want)
            out.append(item)
        return tuple(out)

    def object(self, key: str) -> Mapping[str, Any] | None:
        value = self.args.get(key)
        if value is not None and not isinstance(value, dict):
            raise self._fail(key, "an object")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.args.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def optional_boolean(self, key: str) -> bool | None:
        value = self.args.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true, false or null")
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.args.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._fail(key, "an object of parameter names to values")
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool):
                out[k] = "true" if v else "false"
            elif isinstance(v, (str, int, float)):
                out[k] = str(v)
            else:
                raise bad_request(f"op '{self.op}': parameter '{k}' must be a string or number, got {v!r}")
        return out


@dataclass(frozen=True)
class CheckArgs:
    """Arguments of ``check``: a model name and parameters, as ``load`` takes them."""

    model: str
    params: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(args: Mapping[str, Any]) -> CheckArgs:
        a = _Args("check", args, ("model", "params"))
        return CheckArgs(model=a.string("model"), params=a.string_map("params"))


@dataclass(frozen=True)
class LoadArgs:
    model: str
    params: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    precision: Precision = "fp32"
    compile: CompileMode = "eager"
    batch_size: int = 1
    seed: int = 0
    channels_last: bool = False
    fullgraph: bool = False
    dynamic: bool | None = None
    reuse: bool = False
    # compile=aot-inductor: where to keep the package built (a .pt2 path), with its example
    # inputs beside it (``<path>.inputs.pt``), so that a new process can load it as a model.
    package_path: str | None = None

    @staticmethod
    def parse(args: Mapping[str, Any]) -> LoadArgs:
        a = _Args("load", args, ("model", "params", "device", "precision", "compile", "batch_size",
                                 "seed", "channels_last", "fullgraph", "dynamic", "reuse", "package_path"))
        device = a.string("device", "cpu")
        if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise bad_request(f"op 'load': device must be cpu, cuda or cuda:N, got {device!r}")
        return LoadArgs(
            model=a.string("model"),
            params=a.string_map("params"),
            device=device,
            precision=a.choice("precision", PRECISIONS, "fp32"),
            compile=a.choice("compile", COMPILE_MODES, "eager"),
            batch_size=a.integer("batch_size", 1, 1) or 1,
            seed=a.integer("seed", 0, 0) or 0,
            channels_last=a.boolean("channels_last", False),
            fullgraph=a.boolean("fullgraph", False),
            dynamic=a.optional_boolean("dynamic"),
            reuse=a.boolean("reuse", False),
            package_path=a.string("package_path") if args.get("package_path") is not None else None,
        )

    def same_variant(self, other: LoadArgs) -> bool:
        """Whether ``other`` asks for this variant, at any batch size."""
        return replace(other, batch_size=self.batch_size, reuse=self.reuse) == self


@dataclass(frozen=True)
class MeasureArgs:
    batch_size: int | None
    iterations: int
    mode: MeasureMode

    @staticmethod
    def parse(args: Mapping[str, Any]) -> MeasureArgs:
        a = _Args("measure", args, ("batch_size", "iterations", "mode"))
        return MeasureArgs(
            batch_size=a.integer("batch_size", None, 1),
            iterations=a.integer("iterations", 10, 1) or 10,
            mode=a.choice("mode", MEASURE_MODES, "latency"),
        )


@dataclass(frozen=True)
class BatchArgs:
    """Arguments of ``infer`` and ``verify``: an optional batch size (default: the loaded one)."""

    batch_size: int | None

    @staticmethod
    def parse(op: str, args: Mapping[str, Any]) -> BatchArgs:
        return BatchArgs(batch_size=_Args(op, args, ("batch_size",)).integer("batch_size", None, 1))


@dataclass(frozen=True)
class PayloadArgs:
    """``infer``'s ``payload``: the batch's inputs wait in ring slot ``slot`` (see ``payload.py``),
    the first ``rows`` rows of them real (the rest padding); ``checksum``: reply their CRC-32."""

    slot: int
    rows: int
    checksum: bool = False

    @staticmethod
    def parse(args: Mapping[str, Any]) -> PayloadArgs:
        a = _Args("infer.payload", args, ("slot", "rows", "checksum"))
        return PayloadArgs(slot=a.count("slot", 0), rows=a.count("rows", 1), checksum=a.boolean("checksum", False))


@dataclass(frozen=True)
class InferArgs:
    """Arguments of ``infer``: a batch size, and how many pipelined requests may be in flight
    with this one (1, the default: an ordinary synchronous request; see ``pipeline.py``)."""

    batch_size: int | None
    in_flight: int
    # The sequence length of this batch, for a model with one (``ModelInfo.length``); None:
    # the loaded one.
    length: int | None = None
    # None: the worker's own inputs on the device; else the batch's bytes in the payload ring.
    payload: PayloadArgs | None = None

    @staticmethod
    def parse(args: Mapping[str, Any]) -> InferArgs:
        a = _Args("infer", args, ("batch_size", "in_flight", "length", "payload"))
        in_flight = a.integer("in_flight", 1, 1) or 1
        if in_flight > MAX_IN_FLIGHT:
            raise bad_request(f"infer: in_flight must be at most {MAX_IN_FLIGHT}, got {in_flight}")
        payload = a.object("payload")
        return InferArgs(batch_size=a.integer("batch_size", None, 1), in_flight=in_flight,
                         length=a.integer("length", None, 1),
                         payload=None if payload is None else PayloadArgs.parse(payload))


@dataclass(frozen=True)
class PayloadOpenArgs:
    """Arguments of ``payload_open``: ``slots`` slots of up to ``max_batch`` samples each, and
    ``pool`` samples at the loaded shape and at each of ``lengths`` (see ``payload.py``)."""

    slots: int
    max_batch: int
    lengths: tuple[int, ...]
    pool: int
    # A .npy or .npz file whose samples make the pool instead of the model's factory
    # (``load --payload-file``); its samples, not ``pool``, set the pool's size.
    file: str | None = None

    @staticmethod
    def parse(args: Mapping[str, Any]) -> PayloadOpenArgs:
        a = _Args("payload_open", args, ("slots", "max_batch", "lengths", "pool", "file"))
        file = a.string("file", "") or None
        parsed = PayloadOpenArgs(slots=a.count("slots", 1, MAX_PAYLOAD_SLOTS), max_batch=a.count("max_batch", 1),
                                 lengths=a.integers("lengths", 1), pool=a.count("pool", 1, MAX_PAYLOAD_POOL), file=file)
        if file is not None and parsed.lengths:
            raise bad_request("payload_open: a payload file holds one shape; lengths cannot be listed beside it")
        return parsed


@dataclass(frozen=True)
class MemoryArgs:
    reset_peak: bool

    @staticmethod
    def parse(args: Mapping[str, Any]) -> MemoryArgs:
        return MemoryArgs(reset_peak=_Args("memory", args, ("reset_peak",)).boolean("reset_peak", False))


def parse_no_args(op: str, args: Mapping[str, Any]) -> None:
    _Args(op, args, ())


# --- results --------------------------------------------------------------------------


class GpuInfo(TypedDict):
    index: int
    name: str
    memory_mb: float
    capability: str
    multiprocessors: int


class EnvInfo(TypedDict):
    python: str
    python_executable: str
    platform: str
    torch: str | None
    torch_error: str | None
    cuda: str | None
    cudnn: str | None
    triton: str | None
    cuda_available: bool
    gpus: list[GpuInfo]
    cpu: str
    cpu_count: int
    torch_threads: int | None
    torch_interop_threads: int | None
    thread_env: dict[str, str]  # the thread and pinning variables that are set (see environment.py)
    cpu_affinity: list[int] | None  # the CPUs this process may run on
    cxx: str | None
    torchvision: str | None
    transformers: str | None
    diffusers: str | None


class HelloResult(TypedDict):
    protocol: int
    worker_version: str
    pid: int
    env: EnvInfo


class _ModelBasics(TypedDict):
    name: str
    description: str
    params: dict[str, str]
    needs: list[str]


class ModelInfo(_ModelBasics, total=False):
    # The parameter that is a per-request sequence length (``infer``'s ``length``), if any.
    length: str


class CheckResult(TypedDict):
    model: str  # the name without parameters (a file's path for a .pt2)
    params: dict[str, str]  # every parameter, defaults merged


class MemoryResult(TypedDict):
    peak_allocated_mb: float | None
    peak_reserved_mb: float | None
    device_used_mb: float | None
    rss_mb: float | None


@dataclass(frozen=True)
class CompilePeaks:
    """Memory high-water marks of a load (build, compile, first calls): CUDA allocator peaks
    (None on CPU) and the host's resident set, the worker's and its largest finished child's."""

    allocated_mb: float | None
    reserved_mb: float | None
    rss_mb: float | None


class _LoadResultFields(TypedDict):
    load_s: float
    compile_s: float
    first_call_ms: float
    parameters: int | None
    flops_per_sample: float | None
    input_desc: str
    output_desc: str
    memory: MemoryResult
    graph_breaks: int
    recompiles: int
    compile_reasons: list[str]
    compile_cache: CompileCache | None
    compile_workers: CompileWorkers
    gc: GcPolicy
    compile_peak_allocated_mb: float | None
    compile_peak_reserved_mb: float | None
    compile_rss_peak_mb: float | None


class LoadResult(_LoadResultFields, total=False):
    batch_reuse: BatchReuse  # only after a load with reuse=true that the loaded variant served
    steps_per_call: int  # iterative models only (sd15): denoising steps (UNet calls) per call


def load_result(
    *,
    load_s: float,
    compile_s: float,
    first_call_ms: float,
    parameters: int | None,
    flops_per_sample: float | None,
    input_desc: str,
    output_desc: str,
    memory: MemoryResult,
    graph_breaks: int = 0,
    recompiles: int = 0,
    compile_reasons: list[str] | None = None,
    compile_cache: CompileCache | None = None,
    compile_workers: CompileWorkers = "none",
    compile_peaks: CompilePeaks | None = None,
    batch_reuse: BatchReuse | None = None,
    steps_per_call: int | None = None,
) -> LoadResult:
    """The ``load`` reply; the optional keys are present only when they apply (not as null)."""
    result: LoadResult = {
        "load_s": load_s,
        "compile_s": compile_s,
        "first_call_ms": first_call_ms,
        "parameters": parameters,
        "flops_per_sample": flops_per_sample,
        "input_desc": input_desc,
        "output_desc": output_desc,
        "memory": memory,
        "graph_breaks": graph_breaks,
        "recompiles": recompiles,
        "compile_reasons": list(compile_reasons or []),
        "compile_cache": compile_cache,
        "compile_workers": compile_workers,
        "gc": "disabled_in_timed_loops",
        "compile_peak_allocated_mb": compile_peaks.allocated_mb if compile_peaks else None,
        "compile_peak_reserved_mb": compile_peaks.reserved_mb if compile_peaks else None,
        "compile_rss_peak_mb": compile_peaks.rss_mb if compile_peaks else None,
    }
    if batch_reuse is not None:
        result["batch_reuse"] = batch_reuse
    if steps_per_call is not None:
        result["steps_per_call"] = steps_per_call
    return result


class ProcessState(TypedDict):
    """The timing thread over one measure chunk (see procstate.py); null where unknown."""

    nivcsw: int | None  # involuntary context switches (preempted)
    nvcsw: int | None  # voluntary context switches (waited: sleep, I/O, a lock, a CUDA sync)
    migrations: int | None  # moves to another CPU
    cpu: int | None  # the CPU it was on at the end
    gc_collections: int  # garbage collections (0 unless the model calls gc.collect)
    cpu_time_s: float  # the thread's CPU time
    wall_s: float


class LatencyResult(TypedDict):
    device_ns: list[int] | None
    host_ns: list[int]
    clock: Clock
    recompiles: int
    proc: ProcessState


class ThroughputResult(TypedDict):
    total_ns: int
    iterations: int
    recompiles: int
    proc: ProcessState


class _InferTiming(TypedDict):
    device_ns: int | None
    host_ns: int


class InferResult(_InferTiming, total=False):
    # Recompiles this call set off (a shape the compiled graphs did not cover) and dynamo's
    # reasons for them; absent for a call that compiled nothing.
    recompiles: int
    compile_reasons: list[str]
    # With a payload: the copies to and from the device, the bytes written to the ring's output
    # area, and (when asked) the CRC-32 of the inputs as they arrived.
    h2d_ns: int
    d2h_ns: int
    output_bytes: int
    checksum: int


class PayloadInput(TypedDict):
    name: str | None  # None: positional
    dtype: str
    itemsize: int
    shape: list[int]  # per sample, at the loaded length


class PayloadPool(TypedDict):
    length: int | None  # None: the loaded shape
    offset: int
    count: int
    sample_bytes: list[int]


class PayloadOpenResult(TypedDict):
    path: str
    size: int
    pinned: bool
    inputs: list[PayloadInput]
    length_dims: list[list[int]]
    pools: list[PayloadPool]
    slots_offset: int
    slot_stride: int
    input_capacity: int
    output_offset: int
    output_capacity: int
    outputs: list[PayloadInput]


class Tolerance(TypedDict):
    atol: float
    rtol: float
    cosine_min: float


class VerifyResult(TypedDict):
    max_abs_err: float | None
    max_rel_err: float | None
    ref_max_abs: float | None
    cosine: float | None
    tolerance: Tolerance
    within_tolerance: bool


class ErrorBody(TypedDict):
    kind: ErrorKind
    message: str
    detail: str | None


# --- replies --------------------------------------------------------------------------


def ok_reply(request_id: int | None, result: Mapping[str, Any] | list[Any]) -> dict[str, Any]:
    return {"id": request_id, "ok": True, "result": result}


def error_reply(request_id: int | None, error: WorkerError) -> dict[str, Any]:
    body: ErrorBody = {"kind": error.kind, "message": _one_line(error.message), "detail": error.detail}
    return {"id": request_id, "ok": False, "error": body}


def encode_reply(reply: Mapping[str, Any]) -> bytes:
    """One reply line. Non-finite floats (NaN, inf) are sent as null: JSON has no spelling for them."""
    return (json.dumps(_finite(reply), separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # Lists of ints (the timings) are the bulk of the traffic: skip the walk for them.
        if value and type(value[0]) is int and all(type(v) is int for v in value):
            return value
        return [_finite(v) for v in value]
    return value


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 500 else line[:497] + "..."
