"""Pipelined ``infer`` (``in_flight`` > 1): overlap, depth, out-of-order replies, barriers."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import pytest

from inferbench_worker.pipeline import Finished, Pipeline
from inferbench_worker.protocol import InferResult, Request, ok_reply
from inferbench_worker.session import Session
from inferbench_worker.synthetic import SimulatedDevice

from conftest import Worker, call, error_of, ok

MS = 1_000_000


def line(request_id: int, op: str, **args: Any) -> bytes:
    return (json.dumps({"id": request_id, "op": op, "args": args}) + "\n").encode()


class Replies:
    """Reply lines written by a pipeline, decoded, in the order they were written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        with self.lock:
            self.lines.append(json.loads(data))

    @property
    def ids(self) -> list[int | None]:
        with self.lock:
            return [r["id"] for r in self.lines]


def served_seconds(session: Session, in_flight: int, n: int) -> tuple[float, Replies]:
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    t0 = time.perf_counter()
    for i in range(n):
        pipeline.serve(line(i + 1, "infer", in_flight=in_flight))
    pipeline.close()
    return time.perf_counter() - t0, replies


def test_two_in_flight_overlap_the_host_part_with_the_previous_device_part(session: Session) -> None:
    ok(call(session, "load", model="synthetic:host_ms=10,device_ms=10"))
    one, sequential = served_seconds(session, 1, 8)
    two, pipelined = served_seconds(session, 2, 8)
    # One in flight: 8 x (10 + 10) ms; two: about 10 + 8 x 10 ms. Side by side, a generous bound.
    assert two < 0.75 * one, (one, two)
    assert sorted(sequential.ids) == sorted(pipelined.ids) == list(range(1, 9))
    for reply in pipelined.lines:
        result = ok(reply)
        assert result["device_ns"] == 10 * MS and result["host_ns"] >= 20 * MS * 0.95


def test_a_synchronous_infer_with_a_device_part_reports_it_and_waits_for_both_parts(session: Session) -> None:
    ok(call(session, "load", model="synthetic:host_ms=3,device_ms=5"))
    result = ok(call(session, "infer"))
    assert result["device_ns"] == 5 * MS and result["host_ns"] >= 8 * MS
    # Throughput overlaps the parts as a GPU loop with one synchronize at the end does.
    chunk = ok(call(session, "measure", iterations=10, mode="throughput"))
    assert chunk["total_ns"] < 10 * 8 * MS * 0.85


def test_the_simulated_device_runs_parts_one_after_another() -> None:
    device = SimulatedDevice()
    first = device.enqueue(launched_ns=0, ready_ns=100, duration_ns=50)
    second = device.enqueue(launched_ns=90, ready_ns=120, duration_ns=50)  # waits for the first
    third = device.enqueue(launched_ns=300, ready_ns=400, duration_ns=10)  # the device is idle again
    assert (first.device_start_ns, first.device_end_ns) == (100, 150)
    assert (second.device_start_ns, second.device_end_ns) == (150, 200)
    assert (third.device_start_ns, third.device_end_ns) == (400, 410)


class Gate:
    """A completion the test finishes by hand."""

    def __init__(self, host_ns: int) -> None:
        self.open = threading.Event()
        self.host_ns = host_ns

    def wait(self) -> InferResult:
        assert self.open.wait(10), "the test never finished this call"
        return {"device_ns": None, "host_ns": self.host_ns}


class GatedSession:
    """Launches return gates; other requests answer at once."""

    def __init__(self) -> None:
        self.gates: dict[int | None, Gate] = {}
        self.handled: list[str] = []

    def handle(self, request: Request) -> dict[str, Any]:
        self.handled.append(request.op)
        return ok_reply(request.id, {})

    def launch(self, request: Request) -> Gate:
        gate = Gate(host_ns=request.id or 0)
        self.gates[request.id] = gate
        return gate


def settle(condition: Any, what: str) -> None:
    give_up = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < give_up, f"still waiting: {what}"
        time.sleep(0.001)


def test_replies_leave_in_completion_order_and_the_depth_bounds_what_is_launched() -> None:
    session = GatedSession()
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    pipeline.serve(line(1, "infer", in_flight=2))
    pipeline.serve(line(2, "infer", in_flight=2))
    # A third has to wait for a free slot: it is not launched while two are out.
    third = threading.Thread(target=pipeline.serve, args=(line(3, "infer", in_flight=2),))
    third.start()
    time.sleep(0.05)
    assert set(session.gates) == {1, 2} and pipeline.outstanding == 2
    session.gates[2].open.set()  # the second finishes first
    settle(lambda: replies.ids == [2], "reply 2")
    third.join(10)
    assert set(session.gates) == {1, 2, 3}
    session.gates[3].open.set()
    settle(lambda: replies.ids == [2, 3], "reply 3")
    session.gates[1].open.set()
    pipeline.close()
    assert replies.ids == [2, 3, 1]
    assert [ok(r)["host_ns"] for r in replies.lines] == [2, 3, 1]


def test_any_other_request_waits_until_every_launched_one_has_replied() -> None:
    session = GatedSession()
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    pipeline.serve(line(1, "infer", in_flight=2))
    barrier = threading.Thread(target=pipeline.serve, args=(line(2, "memory"),))
    barrier.start()
    time.sleep(0.05)
    assert session.handled == [] and replies.ids == []
    session.gates[1].open.set()
    barrier.join(10)
    pipeline.close()
    assert replies.ids == [1, 2] and session.handled == ["memory"]


def test_a_failing_launch_or_completion_is_an_error_reply_with_its_id(session: Session) -> None:
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    pipeline.serve(line(7, "infer", in_flight=2))  # nothing loaded
    pipeline.close()
    assert replies.ids == [7]
    assert "needs a loaded model" in error_of(replies.lines[0])["message"]

    class Broken:
        def wait(self) -> InferResult:
            raise RuntimeError("device fault")

    class BrokenSession(GatedSession):
        def launch(self, request: Request) -> Any:
            return Broken() if request.id == 1 else Finished({"device_ns": None, "host_ns": 5})

    replies = Replies()
    pipeline = Pipeline(BrokenSession(), replies.write)
    pipeline.serve(line(1, "infer", in_flight=2))
    pipeline.serve(line(2, "infer", in_flight=2))
    pipeline.close()
    by_id = {r["id"]: r for r in replies.lines}
    assert error_of(by_id[1])["kind"] == "internal" and ok(by_id[2])["host_ns"] == 5


@pytest.mark.parametrize("value", [0, 9, "2", 2.5])
def test_a_bad_in_flight_is_a_bad_request(session: Session, value: Any) -> None:
    ok(call(session, "load", model="synthetic:median_ms=0"))
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    pipeline.serve(line(4, "infer", in_flight=value))
    pipeline.close()
    error = error_of(replies.lines[0])
    assert replies.ids == [4] and error["kind"] == "bad_request" and "in_flight" in error["message"]


def test_the_worker_process_answers_pipelined_requests_by_id_and_all_of_them_before_eof(worker: Worker) -> None:
    ok(worker.request("load", model="synthetic:host_ms=20,device_ms=20"))
    assert worker.proc.stdin is not None
    worker.proc.stdin.write(b"".join(line(100 + i, "infer", in_flight=2) for i in range(4)))
    assert worker.close_stdin_and_wait() == 0
    replies = [json.loads(x) for x in worker.remaining_stdout().splitlines()]
    assert sorted(r["id"] for r in replies) == [100, 101, 102, 103]
    assert all(ok(r)["device_ns"] == 20 * MS for r in replies)


class RandomSession:
    """Launches complete after a random delay on a helper thread; other requests answer at once.
    Counts how many launched calls are unfinished at once."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.order: list[tuple[str, int | None]] = []  # handled or launched, in that order

    def handle(self, request: Request) -> dict[str, Any]:
        with self.lock:
            assert self.running == 0, f"{request.op} {request.id} handled with {self.running} launched calls unfinished"
            self.order.append((request.op, request.id))
        return ok_reply(request.id, {"op": request.op})

    def launch(self, request: Request) -> Any:
        delay = self.rng.random() * 0.002
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.order.append(("launch", request.id))
        session = self

        class Later:
            def wait(self) -> InferResult:
                time.sleep(delay)
                with session.lock:
                    session.running -= 1
                return {"device_ns": None, "host_ns": request.id or 0}

        return Later()


@pytest.mark.parametrize("seed", range(20))
def test_many_pipelined_requests_with_barriers_among_them_are_each_answered_once(seed: int) -> None:
    # Hundreds of pipelined infers at a depth of 1 to 8, with ordinary requests among them and
    # EOF at the end: every request gets exactly one reply, each pipelined reply carries its own
    # id, no more than the depth are ever launched at once, and an ordinary request is handled
    # only once every launched call before it has replied.
    rng = random.Random(seed)
    session = RandomSession(seed)
    replies = Replies()
    pipeline = Pipeline(session, replies.write)
    depth = 1 + seed % 8
    sent: list[int] = []
    for i in range(1, 301):
        if rng.random() < 0.1:
            pipeline.serve(line(i, "memory"))
        else:
            pipeline.serve(line(i, "infer", in_flight=depth))
        sent.append(i)
    pipeline.close()
    assert sorted(replies.ids) == sent  # once each, none lost
    assert pipeline.outstanding == 0
    if depth > 1:
        assert session.most_running <= depth
    for reply in replies.lines:
        result = ok(reply)
        if "host_ns" in result:
            assert result["host_ns"] == reply["id"]
    # An ordinary request's reply comes after the replies of every request sent before it.
    position = {rid: n for n, rid in enumerate(replies.ids)}
    for op, rid in session.order:
        if op == "memory":
            assert all(position[earlier] < position[rid] for earlier in range(1, rid or 0))


def test_the_worker_process_answers_a_long_mixed_stream_then_exits_on_eof(worker: Worker) -> None:
    ok(worker.request("load", model="synthetic:host_ms=0.05,device_ms=0.2"))
    assert worker.proc.stdin is not None
    rng = random.Random(7)
    lines = []
    for i in range(1000, 1300):
        lines.append(line(i, "memory") if rng.random() < 0.05 else line(i, "infer", in_flight=4))
    worker.proc.stdin.write(b"".join(lines))
    assert worker.close_stdin_and_wait() == 0
    replies = [json.loads(x) for x in worker.remaining_stdout().splitlines()]
    assert sorted(r["id"] for r in replies) == list(range(1000, 1300))
    assert all(r["ok"] for r in replies)
