"""A loaded PyTorch model variant: cold start, prepared inputs, measure, infer, verify.

Inputs are made once per batch size on the device (``INPUT_SETS`` sets from different
seeds, rotated by the loops) and bound to the model as zero-argument calls, so the timed
loops do no allocation or argument handling of their own.
"""

from __future__ import annotations

import functools
import gc
import shutil
import sys
import tempfile
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import models, outputs, procstate, timing
from .errors import classify, missing_dependency
from .memory import compile_peaks, excluded_from_peaks, forget_carried_peaks, reset_peaks, snapshot, trim_heap
from .models import ModelRef
from .payload import Batch, Layout, Ring, dtype_name, file_samples, input_specs, sample_rows, with_checksum
from .pipeline import Completion, Finished
from .protocol import (
    BatchReuse,
    CompileCache,
    CompileWorkers,
    InferResult,
    LatencyResult,
    LoadArgs,
    LoadResult,
    MeasureArgs,
    PayloadOpenArgs,
    ThroughputResult,
    VerifyResult,
    WorkerError,
    bad_request,
    load_result,
)
from .variants import (
    Variant,
    aot_inductor,
    compile_cache_state,
    compile_stats,
    fx_cache_counts,
    recompile_reasons,
    restore_tf32,
    set_precision_defaults,
    set_tf32,
    tf32_state,
    torch_compile,
)
from .verify import compare, tolerance_for

if TYPE_CHECKING:
    import torch

    from .zoo import Inputs

INPUT_SETS = 4
# Seeds of the payload ring's pools (pool k: this + k), apart from the device input sets' 0 to 3.
PAYLOAD_SEEDS = 1_000
# Shapes whose inputs are kept: batch buckets times length buckets of a load test.
MAX_CACHED_SHAPES = 128

Call = Callable[[], object]
Shape = tuple[int, "int | None"]  # (batch size, per-call length; None: the loaded one)


def _log(message: str) -> None:
    print(f"[inferbench-worker] {message}", file=sys.stderr, flush=True)


def resolve_device(name: str) -> torch.device:
    import torch

    device = torch.device(name)
    if device.type != "cuda":
        return device
    if not torch.cuda.is_available():
        raise WorkerError(
            "unsupported",
            f"device {name} asked for, but CUDA is not available to this worker's torch "
            f"{torch.__version__} (built for CUDA {torch.version.cuda or 'none'})",
        )
    index = torch.cuda.current_device() if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise bad_request(f"device {name}: this host has {torch.cuda.device_count()} CUDA device(s)")
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


class TorchModel:
    """One model variant on one device; the worker's only state while it is loaded."""

    def __init__(self, ref: ModelRef, args: LoadArgs, device: torch.device, variant: Variant,
                 module: torch.nn.Module, factory: Callable[[int, torch.device, torch.dtype], Inputs]) -> None:
        self.ref = ref
        self.args = args
        self.seed = args.seed
        self.batch_size = args.batch_size
        self.device = device
        self.variant = variant
        self.module = module
        self.factory = factory
        self._loaded_factory = factory  # as built; ``factory`` may bind another length (``rebatch``)
        self._loaded_ref = ref
        self.fn: Callable[..., Any] = module
        self.cuda = device.type == "cuda"
        self.workdir: str | None = None
        # Keyed by shape: (batch size, per-call length or None for the loaded one).
        self._inputs: OrderedDict[Shape, list[Inputs]] = OrderedDict()
        self._calls: dict[Shape, list[Call]] = {}
        self._recompiles_told = 0  # dynamo's recompiles already reported by infer replies
        self._rotation = 0
        self._streams: list[Any] = []  # CUDA streams of pipelined calls, made on first use
        self._flops: float | None = None

    # --- load -------------------------------------------------------------------------

    @staticmethod
    def load(ref: ModelRef, args: LoadArgs) -> tuple[TorchModel, LoadResult]:
        try:
            import torch
        except ImportError:
            raise missing_dependency("torch", f"model {ref.name!r}") from None
        device = resolve_device(args.device)
        variant = Variant.of(args)
        variant.check(device)
        models.check_variant(ref, variant, device)
        set_precision_defaults(variant.precision)
        procstate.GC.after_load()
        forget_carried_peaks()
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)

        t0 = time.perf_counter()
        torch.manual_seed(args.seed)
        module, factory = models.build(ref)
        module = variant.apply(module.to(device))
        _sync(device)
        load_s = time.perf_counter() - t0

        model = TorchModel(ref, args, device, variant, module, factory)
        try:
            result = model._cold_start(load_s)
        except BaseException:
            model.unload()
            raise
        return model, result

    def _cold_start(self, load_s: float) -> LoadResult:
        calls = self._calls_for(self.batch_size, warm=False)
        compile_s = 0.0
        if self.variant.compiled:
            what = self._compile_label()
            t0 = time.perf_counter()
            try:
                if self.variant.compile == "aot-inductor":
                    self.workdir = tempfile.mkdtemp(prefix="inferbench-aoti-")
                    args, kwargs = outputs.split(self._inputs[(self.batch_size, None)][0])
                    self.fn = aot_inductor(self.module, args, kwargs, self.variant, self.device, self.workdir,
                                           keep=self.args.package_path)
                    calls = self._bind((self.batch_size, None))
                else:
                    self.fn = torch_compile(self.module, self.variant)
                    calls = self._bind((self.batch_size, None))
                with self.variant.context(self.device):
                    timing.timed_call(calls[0], self.cuda)
            except WorkerError:
                raise
            except Exception as exc:
                raise classify(exc, compiling=what) from exc
            compile_s = time.perf_counter() - t0
        workers = procstate.shut_down_compile_workers(self.variant.compiled)
        with self.variant.context(self.device):
            out, _, host_ns = timing.timed_call(calls[0], self.cuda)
            output_desc = outputs.describe_outputs(out)
            del out
            if not self.variant.compiled:
                timing.timed_call(calls[1 % len(calls)], self.cuda)  # "once more", as compiled models get
        breaks, recompiles, reasons = compile_stats() if self.variant.compiled else (0, 0, [])
        cache = compile_cache_state() if self.variant.compiled else None
        self._flops = self._flops_per_sample()
        return self._load_result(
            load_s=load_s,
            compile_s=compile_s,
            first_call_ms=host_ns / 1e6,  # synchronized wall time: what a request sees
            output_desc=output_desc,
            graph_breaks=breaks,
            recompiles=recompiles,
            compile_reasons=reasons,
            compile_cache=cache,
            compile_workers=workers,
        )

    def _load_result(self, *, load_s: float, compile_s: float, first_call_ms: float, output_desc: str,
                     graph_breaks: int, recompiles: int, compile_reasons: list[str],
                     compile_cache: CompileCache | None, compile_workers: CompileWorkers,
                     batch_reuse: BatchReuse | None = None) -> LoadResult:
        """The ``load`` reply for the current batch size: the figures of the model itself are read
        here, those of the calls just made are given. ``steps_per_call`` is added for a model that
        runs a denoising loop per call (sd15).

        The memory high-water marks of the load are read here, then the CUDA peak counters are
        reset: the next ``memory`` reply's peaks are the warm-up's and the measurement's."""
        # infer replies tell of recompiles from here on; those of the load or rebatch are in this reply
        self._recompiles_told = len(recompile_reasons()) if self.variant.compiled else 0
        steps = getattr(self.module, "steps_per_call", None)
        peaks = compile_peaks(self.device)
        memory = snapshot(self.device, reset_peak=True)
        return load_result(
            load_s=load_s,
            compile_s=compile_s,
            first_call_ms=first_call_ms,
            parameters=models.parameter_count(self.module),
            flops_per_sample=self._flops,
            input_desc=outputs.describe_inputs(self._inputs[(self.batch_size, None)][0]),
            output_desc=output_desc,
            memory=memory,
            graph_breaks=graph_breaks,
            recompiles=recompiles,
            compile_reasons=compile_reasons,
            compile_cache=compile_cache,
            compile_workers=compile_workers,
            compile_peaks=peaks,
            batch_reuse=batch_reuse,
            steps_per_call=None if steps is None else int(steps),
        )

    def _compile_label(self) -> str:
        if self.variant.compile == "aot-inductor":
            return "AOTInductor (torch.export + aoti_compile_and_package)"
        v = self.variant
        return f"torch.compile(mode={v.compile}, fullgraph={v.fullgraph}, dynamic={v.dynamic})"

    def _flops_per_sample(self) -> float | None:
        """FLOPs of one eager batch-1 forward by FlopCounterMode; None if it cannot count."""
        try:
            from torch.utils.flop_counter import FlopCounterMode

            inputs = self._make_inputs(1, count=1)[0]
            args, kwargs = outputs.split(inputs)
            counter = FlopCounterMode(display=False)
            with self.variant.context(self.device), counter:
                self.module(*args, **kwargs)
            total = counter.get_total_flops()
            return float(total) if total > 0 else None
        except Exception as exc:  # a figure we can do without; never fail the load for it
            _log(f"FLOP count failed: {type(exc).__name__}: {exc}")
            return None

    # --- batch sweeps ------------------------------------------------------------------

    def can_reuse(self, ref: ModelRef, args: LoadArgs) -> bool:
        """Whether a load of ``args`` asks for this variant (at any batch size and, for a model
        with a length axis, any length: ``run --seq`` sweeps lengths like batch sizes)."""
        return models.same_but_length(ref, self.ref) and self.args.same_variant(replace(args, params=self.args.params))

    def rebatch(self, batch: int, ref: ModelRef | None = None) -> LoadResult:
        """Serves a new batch size (and, with ``ref``, a new length) with the loaded variant
        instead of loading it again.

        The inputs of earlier sizes are freed first. Under torch.compile the first call at the
        new size is what PyTorch does on its own: a recompile when the shape guards fail
        (dynamo then marks the batch dimension dynamic, so later sizes usually reuse that
        graph), nothing when a dynamic graph already covers it. ``batch_reuse`` says which:
        "recompiled", "reused", or "reexported" for a static AOTInductor package, which is
        exported and compiled again. ``compile_s`` is that first call, as at a fresh load.
        """
        import torch

        self._calls.clear()
        self._inputs.clear()
        procstate.GC.after_load()
        gc.collect()
        trim_heap()
        if self.cuda:
            torch.cuda.empty_cache()
            reset_peaks(self.device)
        self.batch_size = batch
        self.args = replace(self.args, batch_size=batch)
        if ref is not None:
            self._relength(ref)
        _, recompiles0, reasons0 = compile_stats() if self.variant.compiled else (0, 0, [])
        cache0 = fx_cache_counts()
        reexport = self.variant.compile == "aot-inductor" and not self.variant.dynamic
        t0 = time.perf_counter()
        try:
            if reexport:
                self._inputs[(batch, None)] = self._make_inputs(batch)
                if self.workdir is not None:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = tempfile.mkdtemp(prefix="inferbench-aoti-")
                args, kwargs = outputs.split(self._inputs[(batch, None)][0])
                self.fn = aot_inductor(self.module, args, kwargs, self.variant, self.device, self.workdir)
                recompiles0, reasons0 = 0, []  # aot_inductor cleared the counters
                cache0 = (0, 0)
            calls = self._bind((batch, None)) if reexport else self._calls_for(batch, warm=False)
            with self.variant.context(self.device):
                out, _, first_ns = timing.timed_call(calls[0], self.cuda)
        except WorkerError:
            raise
        except Exception as exc:
            raise classify(exc, compiling=self._compile_label() if self.variant.compiled else None) from exc
        compile_s = time.perf_counter() - t0 if self.variant.compiled else 0.0
        output_desc = outputs.describe_outputs(out)
        del out
        breaks1, recompiles1, reasons1 = compile_stats() if self.variant.compiled else (0, 0, [])
        workers = procstate.shut_down_compile_workers(self.variant.compiled)
        with self.variant.context(self.device):
            _, _, host_ns = timing.timed_call(calls[1 % len(calls)], self.cuda)
        _, recompiles2, _ = compile_stats() if self.variant.compiled else (0, 0, [])
        reuse: BatchReuse
        if not self.variant.compiled:
            reuse = "reused"
        elif reexport:
            reuse = "reexported"
        else:
            reuse = "recompiled" if recompiles1 > recompiles0 else "reused"
        return self._load_result(
            load_s=0.0,
            compile_s=compile_s,
            # eager: the first call at this size; compiled: the call after the (re)compile
            first_call_ms=(host_ns if self.variant.compiled else first_ns) / 1e6,
            output_desc=output_desc,
            graph_breaks=breaks1,
            # the recompile this size asked for is the sweep's, not a surprise; later ones are
            recompiles=recompiles2 - recompiles1,
            compile_reasons=reasons1[len(reasons0):] if reuse == "recompiled" else [],
            compile_cache=compile_cache_state(since=cache0) if reuse != "reused" else None,
            compile_workers=workers,
            batch_reuse=reuse,
        )

    def _relength(self, ref: ModelRef) -> None:
        """Makes ``ref``'s length the one inputs are made at (``can_reuse`` let only it differ)."""
        key = ref.entry.length if ref.entry is not None else None
        self.ref = ref
        self.args = replace(self.args, params=dict(ref.params))
        if key is None or ref.params.get(key) == self._loaded_ref.params.get(key):
            self.factory = self._loaded_factory
        else:
            self.factory = functools.partial(self._loaded_factory, length=int(ref.params[key]))  # type: ignore[call-arg]

    # --- inputs -----------------------------------------------------------------------

    def _make_inputs(self, batch: int, count: int = INPUT_SETS, length: int | None = None) -> list[Inputs]:
        return [self._input_set(batch, length, k, self.device, self.variant.channels_last) for k in range(count)]

    def _input_set(self, batch: int, length: int | None, seed: int, device: torch.device,
                   channels_last: bool) -> Inputs:
        """One input set from the factory, seeded, its floating tensors in the variant's dtype."""
        import torch

        dtype = self.variant.model_dtype()
        torch.manual_seed((self.seed + 1) * 1_000_003 + seed)
        if length is None:
            raw = self.factory(batch, device, dtype or torch.float32)
        else:  # a model with a length axis (models.check_length): its factory takes length=
            raw = self.factory(batch, device, dtype or torch.float32, length=length)  # type: ignore[call-arg]
        return outputs.cast_inputs(raw, dtype, channels_last)

    def _bind(self, shape: Shape) -> list[Call]:
        calls: list[Call] = []
        for inputs in self._inputs[shape]:
            args, kwargs = outputs.split(inputs)
            calls.append(functools.partial(self.fn, *args, **kwargs))
        self._calls[shape] = calls
        return calls

    def _calls_for(self, batch: int, warm: bool = True, length: int | None = None) -> list[Call]:
        """Prepared calls for a batch size (and a per-call length); new inputs are made (and, if
        ``warm``, called once, untimed, which absorbs a recompile) the first time a shape is seen."""
        shape = (batch, length)
        if shape in self._inputs:
            self._inputs.move_to_end(shape)
            return self._calls[shape]
        if self.variant.compile == "aot-inductor" and not self.variant.dynamic and shape != (self.batch_size, None):
            raise WorkerError(
                "unsupported",
                f"the AOTInductor package was compiled for batch size {self.batch_size} at the loaded length, "
                f"not {batch}{'' if length is None else f' at length {length}'}; load again with this shape, "
                "or with dynamic=true",
            )
        if length is not None:
            models.check_length(self.ref, length)
        self._inputs[shape] = self._make_inputs(batch, length=length)
        calls = self._bind(shape)
        while len(self._inputs) > MAX_CACHED_SHAPES:
            old, _ = self._inputs.popitem(last=False)
            del self._calls[old]
        if warm:
            with self.variant.context(self.device):
                timing.timed_call(calls[0], self.cuda)
            if self.variant.compiled:  # a recompile may have started the compile workers again
                procstate.shut_down_compile_workers(compiled=True)
        return calls

    # --- payload ring (load --payload host) -------------------------------------------

    def open_payload(self, args: PayloadOpenArgs) -> Ring:
        """The payload ring: ``args.pool`` samples at the loaded shape and at each listed length,
        made by the model's own input factory on the CPU (valid token ids), seeded, in the
        variant's dtype and C order (channels-last is applied on the device after each copy, as
        a server receiving NCHW bytes does); slots for ``max_batch`` samples and their outputs."""
        loaded = self._loaded_length()
        for length in args.lengths:
            self._check_payload_length(length)
        other = self._other_length(loaded)
        specs = input_specs(self._host_inputs(1), self._host_inputs(2),
                            None if other is None else self._host_inputs(1, other))
        longest = None if loaded is None else max((loaded, *args.lengths))
        at_loaded = self._output_samples(None)
        out_bytes = [n for _, n in (at_loaded if longest == loaded else self._output_samples(longest))]
        from_file = file_samples(args.file, specs) if args.file is not None else None
        count = args.pool if from_file is None else from_file[1]
        layout = Layout.plan(specs, loaded, args.lengths, count, args.slots, args.max_batch, out_bytes)
        ring = Ring.create(layout, pin=self.cuda)
        ring.outputs = [
            {"name": f"output{i}", "dtype": dtype_name(t.dtype), "itemsize": t.element_size(),
             "shape": list(t.shape[1:])}
            for i, (t, _) in enumerate(at_loaded)
        ]
        try:
            for index, pool in enumerate(layout.pools):
                samples: Any = from_file[0] if from_file is not None else None
                if samples is None:
                    samples = self._host_inputs(pool.count, pool.length, seed=PAYLOAD_SEEDS + index)
                rows = sample_rows(samples, specs, pool.count, pool.length)
                ring.tensor(pool.offset, "uint8", (rows.numel(),)).copy_(rows.reshape(-1))
        except BaseException:
            ring.close()
            raise
        return ring

    def _host_inputs(self, batch: int, length: int | None = None, seed: int = 0) -> Inputs:
        import torch

        return self._input_set(batch, length, seed, torch.device("cpu"), channels_last=False)

    def _loaded_length(self) -> int | None:
        """The loaded value of the model's length parameter (bert's seq, resnet's size); None: none."""
        key = self.ref.entry.length if self.ref.entry is not None else None
        return None if key is None else int(self.ref.params[key])

    def _other_length(self, loaded: int | None) -> int | None:
        """A length beside the loaded one, to find the dims of the inputs that are its axis."""
        for candidate in ([] if loaded is None else [loaded + 1, loaded - 1]):
            try:
                models.check_length(self.ref, candidate)
                return candidate
            except WorkerError:
                continue
        return None

    def _check_payload_length(self, length: int) -> None:
        if self._loaded_length() is None:
            raise bad_request(f"payload_open: model {self.ref.name!r} has no sequence length or image size; "
                              "send no lengths")
        try:
            models.check_length(self.ref, length)
        except WorkerError as exc:
            raise bad_request(f"payload_open: length {length}: {exc.message}") from None

    def _output_samples(self, length: int | None) -> list[tuple[Any, int]]:
        """Each flattened output of one sample at ``length``, with its bytes: one untimed call at
        batch 1, of the eager module (the variant's compiled graphs are not asked for another shape)."""
        args, kwargs = outputs.split(self._make_inputs(1, count=1, length=length)[0])
        with self.variant.context(self.device):
            return [(t, t.numel() * t.element_size()) for t in outputs.flatten(self.module(*args, **kwargs))]

    def _payload_call(self, batch: Batch) -> tuple[timing.Stages, int | None]:
        """An ``infer`` with a payload, and the CRC-32 of its rows as they arrived (if asked). A
        shape not seen before is prepared and warmed first, as without a payload (which also
        checks its length, and an AOTInductor package's batch size), so both compile alike."""
        self._calls_for(batch.size, length=batch.length)
        return self._payload_stages(batch), batch.checksum_value()

    def _payload_stages(self, batch: Batch) -> timing.Stages:
        """The slot's blocks copied into new device tensors (non_blocking: DMA from the pinned
        ring, on the current stream), made channels-last there if the variant is; the model
        called with them as with the factory's inputs; every output copied back into the slot."""
        import torch

        views = batch.input_views()
        names = [b.spec.name for b in batch.blocks]
        device, cuda, channels_last = self.device, self.cuda, self.variant.channels_last

        def copy_in() -> tuple[Any, ...]:
            # Not inference tensors: those fail the compiled graphs' guards (their dispatch keys
            # differ from the warm-up inputs') and would recompile them.
            with torch.inference_mode(False):
                moved = tuple(v.to(device, non_blocking=cuda, copy=True) for v in views)
                return tuple(outputs.cast_inputs(moved, None, channels_last=True)) if channels_last else moved

        def compute(inputs: tuple[Any, ...]) -> object:
            args = [t for t, name in zip(inputs, names, strict=True) if name is None]
            kwargs = {name: t for t, name in zip(inputs, names, strict=True) if name is not None}
            return self.fn(*args, **kwargs)

        def copy_out(out: object) -> int:
            return batch.write_outputs(outputs.flatten(out), non_blocking=cuda)

        return timing.Stages(copy_in, compute, copy_out)

    # --- ops --------------------------------------------------------------------------

    def measure(self, args: MeasureArgs) -> LatencyResult | ThroughputResult:
        """One timed chunk, with the garbage collector kept out of it (``procstate.GC``) and the
        timing thread's state read before and after it."""
        calls = self._calls_for(args.batch_size or self.batch_size)
        n = args.iterations
        with self.variant.context(self.device):
            if args.mode == "throughput":
                sync = self._sync_fn()
                total, proc = procstate.timed_chunk(lambda: timing.throughput(calls, n, sync=sync))
                return {"total_ns": total, "iterations": n, "recompiles": self._recompiles(), "proc": proc}
            if self.cuda:
                (device_ns, host_ns), proc = procstate.timed_chunk(lambda: timing.cuda_latency(calls, n))
                return {"device_ns": device_ns, "host_ns": host_ns, "clock": "cuda_event",
                        "recompiles": self._recompiles(), "proc": proc}
            host_ns, proc = procstate.timed_chunk(lambda: timing.host_latency(calls, n))
        return {"device_ns": None, "host_ns": host_ns, "clock": "perf_counter", "recompiles": self._recompiles(),
                "proc": proc}

    def infer(self, batch_size: int | None, length: int | None = None, payload: Batch | None = None) -> InferResult:
        """One synchronized call; a shape not seen before is made and warmed first, inside the
        call's round trip, so a request that waited for a recompile shows it in its latency."""
        if payload is not None:
            stages, checksum = self._payload_call(payload)
            with self.variant.context(self.device):
                result = timing.timed_stages(stages, self.cuda)
            return self._with_recompiles(with_checksum(result, checksum))
        calls = self._calls_for(batch_size or self.batch_size, length=length)
        self._rotation += 1
        with self.variant.context(self.device):
            _, device_ns, host_ns = timing.timed_call(calls[self._rotation % len(calls)], self.cuda)
        return self._with_recompiles({"device_ns": device_ns, "host_ns": host_ns})

    def launch(self, batch_size: int | None, in_flight: int, length: int | None = None,
               payload: Batch | None = None) -> Completion:
        """A pipelined call: on CUDA queued on one of ``in_flight`` streams (taken in turn, so a
        call never shares a stream with the calls still in flight) and returned at once; on the
        CPU run to the end here, since its ops are synchronous. Launches run one at a time on
        the reading thread, so the recompiles counted around one are its own."""
        if payload is not None:
            return self._launch_payload(payload, in_flight)
        calls = self._calls_for(batch_size or self.batch_size, length=length)
        self._rotation += 1
        call = calls[self._rotation % len(calls)]
        with self.variant.context(self.device):
            if not self.cuda:
                _, _, host_ns = timing.timed_call(call, False)
                return Finished(self._with_recompiles({"device_ns": None, "host_ns": host_ns}))
            flight = timing.CudaFlight(call, self._stream(self._rotation % in_flight))
        flight.extra = self._with_recompiles({"device_ns": None, "host_ns": 0})
        return flight

    def _launch_payload(self, batch: Batch, in_flight: int) -> Completion:
        """``launch`` with a payload: the copies and the call on the stream, between four events."""
        stages, checksum = self._payload_call(batch)
        self._rotation += 1
        with self.variant.context(self.device):
            if not self.cuda:
                result = timing.timed_stages(stages, False)
                return Finished(self._with_recompiles(with_checksum(result, checksum)))
            flight = timing.CudaStagedFlight(stages, self._stream(self._rotation % in_flight))
        flight.extra = self._with_recompiles(with_checksum({"device_ns": None, "host_ns": 0}, checksum))
        return flight

    def _with_recompiles(self, result: InferResult) -> InferResult:
        """Adds the recompiles (and their reasons) since the last reply that told of any."""
        if not self.variant.compiled:
            return result
        failures = recompile_reasons()
        if len(failures) > self._recompiles_told:
            result["recompiles"] = len(failures) - self._recompiles_told
            result["compile_reasons"] = failures[self._recompiles_told:]
        self._recompiles_told = len(failures)
        return result

    def _stream(self, index: int) -> Any:
        import torch

        while len(self._streams) <= index:
            self._streams.append(torch.cuda.Stream(self.device))
        return self._streams[index]

    def verify(self, batch_size: int | None) -> VerifyResult:
        """Compares with the eager fp32 reference, which is freed before this returns, also
        after an error: a worker is reused across batch sizes, and neither the reference model
        nor its outputs may be left in a later ``memory`` reply, nor its peak (excluded)."""
        models.check_verifiable(self.ref)
        batch = batch_size or self.batch_size
        calls = self._calls_for(batch)
        with excluded_from_peaks(self.device):
            return self._verify(batch, calls)

    def _verify(self, batch: int, calls: list[Call]) -> VerifyResult:
        import torch

        saved = tf32_state()
        got: list[torch.Tensor] | None = None
        want: list[torch.Tensor] | None = None
        inputs: Inputs | None = None
        args: tuple[Any, ...] | None = None
        kwargs: dict[str, Any] | None = None
        reference: torch.nn.Module | None = None
        try:
            with self.variant.context(self.device):
                got = [t.detach().float().clone() for t in outputs.flatten(calls[0]())]
            inputs = outputs.cast_inputs(self._inputs[(batch, None)][0], torch.float32, channels_last=False)
            args, kwargs = outputs.split(inputs)
            set_tf32(False)
            torch.manual_seed(self.seed)
            reference, _ = models.build(self.ref)
            reference = reference.to(self.device)
            with torch.inference_mode():
                want = [t.detach().float() for t in outputs.flatten(reference(*args, **kwargs))]
            return compare(got, want, tolerance_for(self.variant.precision))
        except BaseException as exc:
            _drop_locals(exc)  # the error reply keeps the traceback's lines, not the tensors
            raise
        finally:
            restore_tf32(saved)
            # Unbound here, so that a traceback holding this frame holds none of them either.
            del got, want, inputs, args, kwargs, reference
            gc.collect()
            trim_heap()
            if self.cuda:
                torch.cuda.empty_cache()

    def _recompiles(self) -> int:
        return compile_stats()[1] if self.variant.compiled else 0

    def _sync_fn(self) -> Callable[[], None] | None:
        if not self.cuda:
            return None
        import torch

        return torch.cuda.synchronize

    def unload(self) -> None:
        import torch

        procstate.GC.after_load()  # unfrozen, so that collecting below can free the model
        self._calls.clear()
        self._inputs.clear()
        self._streams.clear()
        self.fn = None  # type: ignore[assignment]
        self.module = None  # type: ignore[assignment]
        if self.variant.compiled:
            torch._dynamo.reset()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        gc.collect()
        trim_heap()
        if self.cuda:
            torch.cuda.empty_cache()


def _drop_locals(exc: BaseException) -> None:
    """Clears the local variables of the finished frames an exception's traceback holds (and
    those of the exceptions it was raised from), so that tensors made in them are freed now."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)  # skips the frames still running
        pending += [e.__cause__, e.__context__]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)
