"""The request dispatcher: one ``Session`` per worker process, holding the loaded model.

``Session.handle_line`` takes one request line and returns one reply object; it never
raises for a bad request or a failing op (those become error replies). Tests drive the
worker in-process through it; ``__main__`` wires it to stdin/stdout.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from . import models, procstate, smoke
from .environment import hello
from .errors import classify
from .memory import snapshot
from .payload import Batch, Ring
from .pipeline import Completion
from .protocol import (
    OPS,
    BatchArgs,
    CheckArgs,
    InferArgs,
    InferResult,
    LatencyResult,
    LoadArgs,
    LoadResult,
    MeasureArgs,
    MemoryArgs,
    PayloadOpenArgs,
    Request,
    ThroughputResult,
    VerifyResult,
    WorkerError,
    bad_request,
    decode_request,
    error_reply,
    ok_reply,
    parse_no_args,
    request_id_of,
)
from .synthetic import SyntheticModel


class LoadedModel(Protocol):
    """What the ops need of a loaded model; a torch model variant or the synthetic model."""

    batch_size: int  # the loaded one

    def measure(self, args: MeasureArgs) -> LatencyResult | ThroughputResult: ...
    def infer(self, batch_size: int | None, length: int | None = None, payload: Batch | None = None) -> InferResult: ...
    def launch(self, batch_size: int | None, in_flight: int, length: int | None = None,
               payload: Batch | None = None) -> Completion: ...
    def open_payload(self, args: PayloadOpenArgs) -> Ring: ...
    def verify(self, batch_size: int | None) -> VerifyResult: ...
    def can_reuse(self, ref: models.ModelRef, args: LoadArgs) -> bool: ...
    def rebatch(self, batch_size: int, ref: models.ModelRef | None = None) -> LoadResult: ...
    def unload(self) -> None: ...


class Session:
    def __init__(self) -> None:
        self.loaded: LoadedModel | None = None
        self.ring: Ring | None = None  # payload_open's, made from the loaded model
        self.stopped = False
        self._ops: Mapping[str, Callable[[dict[str, Any]], Any]] = {
            "hello": self.hello,
            "models": self.models,
            "check": self.check,
            "load": self.load,
            "payload_open": self.payload_open,
            "measure": self.measure,
            "infer": self.infer,
            "verify": self.verify,
            "memory": self.memory,
            "unload": self.unload,
            "shutdown": self.shutdown,
            "smoke": self.smoke,
        }
        assert set(self._ops) == set(OPS)

    def handle_line(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line (``"id": null`` when the line is not a request)."""
        try:
            request = decode_request(line)
        except WorkerError as exc:
            return error_reply(request_id_of(exc), exc)
        return self.handle(request)

    def handle(self, request: Request) -> dict[str, Any]:
        op = self._ops.get(request.op)
        if op is None:
            near = difflib.get_close_matches(request.op, OPS, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            return error_reply(request.id, bad_request(f"unknown op {request.op!r}{hint} (ops: {', '.join(OPS)})"))
        try:
            return ok_reply(request.id, op(request.args))
        except Exception as exc:
            return error_reply(request.id, classify(exc))

    # --- ops --------------------------------------------------------------------------

    def hello(self, args: dict[str, Any]) -> Any:
        parse_no_args("hello", args)
        return hello()

    def models(self, args: dict[str, Any]) -> Any:
        parse_no_args("models", args)
        return models.model_list()

    def check(self, args: dict[str, Any]) -> Any:
        """Checks a model name and parameters against the catalogue without building it."""
        check_args = CheckArgs.parse(args)
        return models.check(check_args.model, check_args.params)

    def load(self, args: dict[str, Any]) -> Any:
        self._close_ring()  # it was laid out for the model as it was (a reuse may change its length)
        try:
            load_args = LoadArgs.parse(args)
            ref = models.resolve(load_args.model, load_args.params)
        except BaseException:
            self._unload()  # after a failed load no model is loaded
            raise
        if load_args.reuse and self.loaded is not None and self.loaded.can_reuse(ref, load_args):
            # A batch (or length) sweep: the loaded variant (and its compiled graphs) serves the new shape.
            try:
                return self.loaded.rebatch(load_args.batch_size, ref)
            except BaseException:
                self._unload()
                raise
        self._unload()
        if ref.is_synthetic:
            model, result = SyntheticModel.load(ref.params, load_args.batch_size, load_args.seed,
                                                (load_args.precision, load_args.compile))
            self.loaded = model
            return result
        from .loaded import TorchModel

        torch_model, result = TorchModel.load(ref, load_args)
        self.loaded = torch_model
        return result

    def _model(self, op: str) -> LoadedModel:
        if self.loaded is None:
            raise bad_request(f"op {op!r} needs a loaded model: send 'load' first")
        return self.loaded

    def payload_open(self, args: dict[str, Any]) -> Any:
        """Makes the payload ring for the loaded model (see ``payload.py``), closing any earlier one."""
        open_args = PayloadOpenArgs.parse(args)
        model = self._model("payload_open")
        self._close_ring()
        self.ring = model.open_payload(open_args)
        return self.ring.describe()

    def measure(self, args: dict[str, Any]) -> Any:
        measure_args = MeasureArgs.parse(args)
        return self._model("measure").measure(measure_args)

    def infer(self, args: dict[str, Any]) -> Any:
        """A synchronous call (also for ``in_flight`` > 1 when a test drives the session directly)."""
        infer_args = InferArgs.parse(args)
        model = self._model("infer")
        return model.infer(infer_args.batch_size, infer_args.length, self._payload(infer_args, model))

    def launch(self, request: Request) -> Completion:
        """Starts a pipelined ``infer`` (see ``pipeline.py``); raises what ``infer`` would reply."""
        infer_args = InferArgs.parse(request.args)
        model = self._model("infer")
        return model.launch(infer_args.batch_size, infer_args.in_flight, infer_args.length,
                            self._payload(infer_args, model))

    def _payload(self, args: InferArgs, model: LoadedModel) -> Batch | None:
        """The ring's share of an ``infer`` with a payload, checked against the ring's layout."""
        if args.payload is None:
            return None
        if self.ring is None:
            raise bad_request("infer: a payload needs the payload ring: send payload_open after load")
        return self.ring.batch(args.payload, args.batch_size or model.batch_size, args.length)

    def verify(self, args: dict[str, Any]) -> Any:
        return self._model("verify").verify(BatchArgs.parse("verify", args).batch_size)

    def memory(self, args: dict[str, Any]) -> Any:
        memory_args = MemoryArgs.parse(args)
        device = getattr(self.loaded, "device", None)  # None: synthetic, or nothing loaded
        return snapshot(device, memory_args.reset_peak)

    def unload(self, args: dict[str, Any]) -> Any:
        parse_no_args("unload", args)
        self._unload()
        return {}

    def shutdown(self, args: dict[str, Any]) -> Any:
        self.stopped = True  # exit after this reply, even if unloading fails
        self._unload()
        return {}

    def smoke(self, args: dict[str, Any]) -> Any:
        """A toolchain check for ``doctor``, in a child process; the loaded model is kept."""
        return smoke.run_isolated(smoke.SmokeArgs.parse(args))

    def close(self) -> None:
        """At EOF: the ring's file must not outlive the worker (atexit would also close it)."""
        self._close_ring()

    def _close_ring(self) -> None:
        ring, self.ring = self.ring, None
        if ring is not None:
            ring.close()

    def _unload(self) -> None:
        self._close_ring()
        model, self.loaded = self.loaded, None
        procstate.GC.after_load()  # what was frozen for the old model can be collected again
        if model is not None:
            model.unload()
