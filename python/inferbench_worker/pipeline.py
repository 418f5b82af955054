"""Pipelined ``infer``: the worker takes the next batch while the current one runs.

An ``infer`` request with ``in_flight`` N > 1 is *launched* on the reading thread (its host
part: argument handling and, on CUDA, queuing the kernels on a stream of its own) and then
handed to a completion thread that waits for its device part (a CUDA event, or the synthetic
model's simulated device) and writes its reply. The reading thread meanwhile reads and
launches the next request, so the host part of batch k+1 overlaps the device part of batch k,
as in a GPU server. Replies of launched requests may leave out of order; each carries its id.

Every other request is a barrier: it waits until all launched requests have replied, so
requests without ``in_flight`` keep the protocol's one-reply-per-request-in-order contract.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import classify
from .protocol import (
    MAX_IN_FLIGHT,
    InferResult,
    Request,
    WorkerError,
    decode_request,
    encode_reply,
    error_reply,
    ok_reply,
    request_id_of,
)


class Completion(Protocol):
    """A launched call: ``wait`` blocks until its device part is done and returns its timing."""

    def wait(self) -> InferResult: ...


@dataclass(frozen=True)
class Finished:
    """A call that completed while it was launched (a CPU torch model: its ops are synchronous)."""

    result: InferResult

    def wait(self) -> InferResult:
        return self.result


class Launcher(Protocol):
    """What the pipeline needs of the session: answer a request, or launch a pipelined infer."""

    def handle(self, request: Request) -> dict[str, Any]: ...
    def launch(self, request: Request) -> Completion: ...


def pipelined_depth(request: Request) -> int:
    """The ``in_flight`` of an ``infer`` request, 1 for everything else. A malformed value is 1:
    the request then takes the ordinary path, whose argument parser answers ``bad_request``."""
    depth = request.args.get("in_flight") if request.op == "infer" else None
    if isinstance(depth, int) and not isinstance(depth, bool) and 1 < depth <= MAX_IN_FLIGHT:
        return depth
    return 1


class Pipeline:
    """Serves request lines, writing each reply with ``write`` (called from several threads,
    one line at a time under a lock)."""

    def __init__(self, session: Launcher, write: Callable[[bytes], None]) -> None:
        self._session = session
        self._write_line = write
        self._write_lock = threading.Lock()
        self._outstanding = 0
        self._changed = threading.Condition()
        # Threads start on first use: nothing runs before the first pipelined request.
        self._completions = ThreadPoolExecutor(max_workers=MAX_IN_FLIGHT, thread_name_prefix="inferbench-completion")

    @property
    def outstanding(self) -> int:
        """Launched requests whose reply is not written yet."""
        with self._changed:
            return self._outstanding

    def serve(self, line: bytes) -> None:
        try:
            request = decode_request(line)
        except WorkerError as exc:
            self._wait_below(1)
            self._write(error_reply(request_id_of(exc), exc))
            return
        depth = pipelined_depth(request)
        self._wait_below(depth)
        if depth == 1:
            self._write(self._session.handle(request))
            return
        try:
            completion = self._session.launch(request)
        except Exception as exc:
            self._write(error_reply(request.id, classify(exc)))
            return
        with self._changed:
            self._outstanding += 1
        self._completions.submit(self._finish, request.id, completion)

    def close(self) -> None:
        """Waits for every launched request's reply (EOF and shutdown answer everything first)."""
        self._wait_below(1)
        self._completions.shutdown(wait=True)

    def _wait_below(self, limit: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._outstanding < limit)

    def _finish(self, request_id: int | None, completion: Completion) -> None:
        try:
            reply = ok_reply(request_id, completion.wait())
        except Exception as exc:
            reply = error_reply(request_id, classify(exc))
        try:
            self._write(reply)
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (or the channel closed): the main loop ends on EOF
        finally:
            with self._changed:
                self._outstanding -= 1
                self._changed.notify_all()

    def _write(self, reply: dict[str, Any]) -> None:
        line = encode_reply(reply)
        with self._write_lock:
            self._write_line(line)
