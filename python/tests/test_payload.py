"""The payload ring (``payload_open``, ``infer`` with a payload): layout, bytes in and out,
checksums, errors, and that the file goes with the ring. The Swift side of the same contract
is Tests/InferbenchCoreTests/PayloadRingTests.swift."""

from __future__ import annotations

import json
import mmap
import os
import random
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest

from inferbench_worker.payload import Layout, align64
from inferbench_worker.pipeline import Pipeline
from inferbench_worker.session import Session

from conftest import Worker, call, error_of, ok


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


needs_cuda = pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")


class Mapped:
    """The orchestrator's side: the ring's file mapped, read and written by the layout's offsets."""

    def __init__(self, layout: dict[str, Any]) -> None:
        self.layout = layout
        with open(layout["path"], "r+b") as f:
            self.mm = mmap.mmap(f.fileno(), layout["size"])

    def slot(self, k: int) -> int:
        return int(self.layout["slots_offset"] + k * self.layout["slot_stride"])

    def output(self, k: int) -> int:
        return self.slot(k) + int(self.layout["output_offset"])

    def sample(self, pool: int, j: int, i: int) -> bytes:
        """Input ``i`` of sample ``j`` of a pool."""
        p = self.layout["pools"][pool]
        start = p["offset"] + j * sum(p["sample_bytes"]) + sum(p["sample_bytes"][:i])
        return bytes(self.mm[start:start + p["sample_bytes"][i]])

    def write_blocks(self, k: int, blocks: list[bytes]) -> None:
        """Input blocks in turn from the slot's start, each at the next multiple of 64."""
        offset = self.slot(k)
        for block in blocks:
            self.mm[offset:offset + len(block)] = block
            offset = self.slot(k) + align64(offset - self.slot(k) + len(block))

    def close(self) -> None:
        self.mm.close()


def infer(session: Session, batch: int, slot: int, rows: int, checksum: bool = True, **more: Any) -> dict[str, Any]:
    return call(session, "infer", batch_size=batch, payload={"slot": slot, "rows": rows, "checksum": checksum},
                **more)


# --- the synthetic model ------------------------------------------------------------------


def test_the_synthetic_ring_is_laid_out_as_the_protocol_says(session: Session) -> None:
    ok(call(session, "load", model="synthetic:median_ms=0", batch_size=4, seed=3))
    ring = ok(call(session, "payload_open", slots=2, max_batch=4, lengths=[], pool=3))
    path = ring.pop("path")
    assert path.startswith(("/dev/shm/inferbench-payload-", "/tmp/")) and f"-{os.getpid()}-" in path
    assert ring == {
        "size": 768 + 2 * 1152, "pinned": False,
        "inputs": [{"name": None, "dtype": "uint8", "itemsize": 1, "shape": [256]}], "length_dims": [[]],
        "pools": [{"length": None, "offset": 0, "count": 3, "sample_bytes": [256]}],
        "slots_offset": 768, "slot_stride": 1024 + 128, "input_capacity": 1024, "output_offset": 1024,
        "output_capacity": 32 + 32 + 64,  # 4 rows of 8 bytes, aligned, and 64 to spare
        "outputs": [{"name": "output0", "dtype": "uint8", "itemsize": 1, "shape": [8]}],
    }
    assert os.path.getsize(path) == ring["size"]
    with open(path, "rb") as f:  # seeded bytes
        assert f.read(768) == random.Random(3 * 1_000_003).randbytes(768)


def test_a_synthetic_payload_arrives_and_its_output_is_written(session: Session) -> None:
    ok(call(session, "load", model="synthetic:median_ms=1,payload_bytes=100", batch_size=4))
    layout = ok(call(session, "payload_open", slots=2, max_batch=4, pool=2))
    ring = Mapped(layout)
    try:
        rows = [ring.sample(0, 1, 0), ring.sample(0, 0, 0), bytes(100)]  # two requests and a padding row
        ring.write_blocks(1, [b"".join(rows)])
        ring.mm[ring.output(1):ring.output(1) + 64] = b"\xff" * 64
        result = ok(infer(session, 3, slot=1, rows=2))
        assert result["checksum"] == zlib.crc32(b"".join(rows[:2]))
        # Each row's answer is its own first 8 bytes (a padding row's are zeros).
        echoed = b"".join(r[:8] for r in rows)
        assert result["output_bytes"] == 3 * 8 and ring.mm[ring.output(1):ring.output(1) + 25] == echoed + b"\xff"
        assert result["device_ns"] is None and result["host_ns"] >= 1_000_000
        assert 0 < result["h2d_ns"] < result["host_ns"] and 0 < result["d2h_ns"] < result["host_ns"]
        assert "checksum" not in ok(infer(session, 4, slot=0, rows=4, checksum=False))
        # The in-device path is as it was.
        assert set(ok(call(session, "infer", batch_size=4))) == {"device_ns", "host_ns"}
    finally:
        ring.close()


def test_the_synthetic_payload_has_no_length_axis(session: Session) -> None:
    ok(call(session, "load", model="synthetic:median_ms=0,per_token_ms=0.01", batch_size=2))
    layout = ok(call(session, "payload_open", slots=1, max_batch=2, lengths=[64, 128], pool=1))
    assert [p["length"] for p in layout["pools"]] == [None, 64, 128]
    assert {tuple(p["sample_bytes"]) for p in layout["pools"]} == {(256,)}
    result = ok(infer(session, 2, slot=0, rows=2, length=100))  # any length: the bytes are the same
    assert result["host_ns"] >= 2 * 100 * 10_000


def test_pipelined_synthetic_payloads_take_a_slot_each(session: Session) -> None:
    ok(call(session, "load", model="synthetic:host_ms=2,device_ms=2", batch_size=2))
    layout = ok(call(session, "payload_open", slots=2, max_batch=2, pool=2))
    ring = Mapped(layout)
    replies: list[dict[str, Any]] = []
    pipeline = Pipeline(session, lambda line: replies.append(json.loads(line)))
    try:
        for k in range(2):
            ring.write_blocks(k, [ring.sample(0, k, 0) * 2])
        for n in range(6):
            args = {"batch_size": 2, "in_flight": 2, "payload": {"slot": n % 2, "rows": 1, "checksum": True}}
            pipeline.serve((json.dumps({"id": n, "op": "infer", "args": args}) + "\n").encode())
        pipeline.close()
        assert sorted(r["id"] for r in replies) == list(range(6))
        for reply in replies:
            result = ok(reply)
            assert result["checksum"] == zlib.crc32(ring.sample(0, reply["id"] % 2, 0))
            assert result["device_ns"] == 2_000_000 and result["output_bytes"] == 16 and result["h2d_ns"] > 0
    finally:
        ring.close()


def test_bad_payload_requests_are_refused(session: Session) -> None:
    def refused(reply: dict[str, Any], fragment: str) -> None:
        err = error_of(reply)
        assert err["kind"] == "bad_request" and fragment in err["message"], err

    refused(call(session, "payload_open", slots=1, max_batch=1, pool=1), "needs a loaded model")
    ok(call(session, "load", model="synthetic:median_ms=0", batch_size=4))
    refused(infer(session, 4, slot=0, rows=1), "send payload_open")
    refused(call(session, "payload_open", slots=9, max_batch=1, pool=1), "'slots' must be an integer from 1 to 8")
    refused(call(session, "payload_open", slots=1, max_batch=1, pool=257), "'pool'")
    refused(call(session, "payload_open", slots=1, max_batch=0, pool=1), "'max_batch'")
    refused(call(session, "payload_open", slots=1, pool=1), "needs argument 'max_batch'")
    refused(call(session, "payload_open", slots=1, max_batch=1, pool=1, lengths=[0]), "'lengths'")
    refused(call(session, "payload_open", slots=1, max_batch=1, pool=1, lengths=8), "'lengths'")
    ok(call(session, "payload_open", slots=2, max_batch=4, pool=1))
    refused(infer(session, 4, slot=2, rows=1), "slot 2 is out of range")
    refused(infer(session, 2, slot=0, rows=3), "must not exceed the batch size")
    refused(infer(session, 4, slot=0, rows=0), "'rows' must be an integer >= 1")
    refused(infer(session, 5, slot=0, rows=1), "a ring slot holds 1,024")
    refused(call(session, "infer", batch_size=1, payload={"slot": 0, "rows": 1, "bytes": 9}), "unknown argument")
    refused(call(session, "infer", batch_size=1, payload=[0, 1]), "must be an object")
    assert ok(infer(session, 4, slot=1, rows=4))["output_bytes"] == 32  # and the ring still serves


def test_the_file_goes_with_the_ring(session: Session) -> None:
    ok(call(session, "load", model="synthetic:median_ms=0"))
    first = ok(call(session, "payload_open", slots=1, max_batch=1, pool=1))["path"]
    second = ok(call(session, "payload_open", slots=1, max_batch=1, pool=1))["path"]
    assert not os.path.exists(first) and os.path.exists(second)  # a second payload_open closes the first
    ok(call(session, "unload"))
    assert not os.path.exists(second)
    ok(call(session, "load", model="synthetic:median_ms=0"))
    third = ok(call(session, "payload_open", slots=1, max_batch=1, pool=1))["path"]
    ok(call(session, "load", model="synthetic:median_ms=0"))  # a load: the ring was laid out for the last one
    assert not os.path.exists(third)
    assert "send payload_open" in error_of(infer(session, 1, slot=0, rows=1))["message"]
    fourth = ok(call(session, "payload_open", slots=1, max_batch=1, pool=1))["path"]
    ok(call(session, "shutdown"))
    assert not os.path.exists(fourth)


@pytest.mark.parametrize("end", ["eof", "shutdown"])
def test_a_worker_removes_its_ring_when_it_ends(end: str) -> None:
    worker = Worker()
    try:
        ok(worker.request("load", model="synthetic:median_ms=0"))
        path = ok(worker.request("payload_open", slots=2, max_batch=2, lengths=[], pool=4))["path"]
        assert os.path.exists(path)
        if end == "shutdown":
            ok(worker.request("shutdown"))
        assert worker.close_stdin_and_wait() == 0
        assert not os.path.exists(path)
    finally:
        worker.kill()


def test_the_layout_takes_the_largest_shape_and_aligns_every_block() -> None:
    from inferbench_worker.payload import InputSpec

    ids = InputSpec("input_ids", "int64", 8, (16,), (0,))
    image = InputSpec(None, "float16", 2, (3, 10, 10), (1, 2))
    layout = Layout.plan((ids, image), 16, (8, 20), 3, 2, 5, (12, 1))
    assert [(p.length, p.offset, p.sample_bytes) for p in layout.pools] == [
        (None, 0, (128, 600)), (8, align64(3 * 728), (64, 384)), (20, align64(3 * 728) + align64(3 * 448), (160, 2400)),
    ]
    assert layout.slots_offset == align64(layout.pools[2].offset + 3 * 2560)
    assert layout.input_capacity == align64(5 * 160) + align64(5 * 2400)
    assert layout.output_capacity == (align64(5 * 12) + 64) + (align64(5) + 64)
    assert layout.output_offset == align64(layout.input_capacity)
    assert layout.slot_stride == layout.output_offset + align64(layout.output_capacity)
    blocks = layout.blocks(1000, 3, 20)
    assert [(b.offset, b.shape) for b in blocks] == [(1000, (3, 20)), (1000 + align64(480), (3, 3, 20, 20))]


# --- torch models -------------------------------------------------------------------------


def _floats(data: bytes, shape: tuple[int, ...]) -> Any:
    import torch

    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)


def test_resnet_payload_is_made_channels_last_on_the_device_and_its_output_read_back(session: Session) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    ok(call(session, "load", model="resnet18:size=32", channels_last=True, batch_size=2))
    layout = ok(call(session, "payload_open", slots=1, max_batch=2, lengths=[40], pool=2))
    assert layout["inputs"] == [{"name": None, "dtype": "float32", "itemsize": 4, "shape": [3, 32, 32]}]
    assert layout["length_dims"] == [[1, 2]] and [p["length"] for p in layout["pools"]] == [None, 40]
    assert [p["sample_bytes"] for p in layout["pools"]] == [[3 * 32 * 32 * 4], [3 * 40 * 40 * 4]]
    # One sample's outputs at the loaded shape, so that a server can hand each request its rows.
    assert layout["outputs"] == [{"name": "output0", "dtype": "float32", "itemsize": 4, "shape": [1000]}]
    ring = Mapped(layout)
    try:
        image = ring.sample(1, 1, 0)  # the second sample at 40 x 40, then a padding row
        ring.write_blocks(0, [image + bytes(len(image))])
        result = ok(infer(session, 2, slot=0, rows=1, length=40))
        assert result["checksum"] == zlib.crc32(image) and result["output_bytes"] == 2 * 1000 * 4
        assert result["device_ns"] is None and result["h2d_ns"] > 0 and result["d2h_ns"] > 0
        got = _floats(ring.mm[ring.output(0):ring.output(0) + 8000], (2, 1000))
        model = session.loaded.module  # type: ignore[union-attr]
        with torch.inference_mode():
            want = model(_floats(image + bytes(len(image)), (2, 3, 40, 40)))
        assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)
        err = error_of(infer(session, 2, slot=0, rows=1, length=36))
        assert "no samples at length 36" in err["message"]  # an image is no prefix of a larger one
    finally:
        ring.close()


def test_bert_payload_rows_are_prefixes_padded_with_zeros(session: Session) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    ok(call(session, "load", model="bert-tiny:seq=16", batch_size=2))
    layout = ok(call(session, "payload_open", slots=2, max_batch=4, lengths=[8], pool=3))
    assert [i["name"] for i in layout["inputs"]] == ["input_ids", "attention_mask"]
    assert layout["length_dims"] == [[0], [0]] and layout["inputs"][0]["shape"] == [16]
    assert layout["input_capacity"] == 2 * align64(4 * 16 * 8)
    ring = Mapped(layout)
    try:
        # Two requests of 12 tokens (prefixes of loaded-length samples) in a batch of 3 rows.
        ids = [ring.sample(0, j, 0)[:12 * 8] for j in (2, 0)] + [bytes(12 * 8)]
        mask = [ring.sample(0, j, 1)[:12 * 8] for j in (2, 0)] + [bytes(12 * 8)]
        assert all(m == (1).to_bytes(8, "little") * 12 for m in mask[:2])
        ring.write_blocks(1, [b"".join(ids), b"".join(mask)])
        result = ok(infer(session, 3, slot=1, rows=2, length=12))
        assert result["checksum"] == zlib.crc32(b"".join(mask[:2]), zlib.crc32(b"".join(ids[:2])))
        assert result["output_bytes"] == 3 * 12 * 128 * 4 + 3 * 128 * 4
        hidden = _floats(ring.mm[ring.output(1):ring.output(1) + 3 * 12 * 128 * 4], (3, 12, 128))
        pooled_at = ring.output(1) + align64(3 * 12 * 128 * 4)
        pooled = _floats(ring.mm[pooled_at:pooled_at + 3 * 128 * 4], (3, 128))
        def ints(blocks: list[bytes]) -> Any:
            return torch.frombuffer(bytearray(b"".join(blocks)), dtype=torch.int64).reshape(3, 12)

        with torch.inference_mode():
            want = session.loaded.module(input_ids=ints(ids), attention_mask=ints(mask))  # type: ignore[union-attr]
        assert torch.allclose(hidden, want[0], atol=1e-5) and torch.allclose(pooled, want[1], atol=1e-5)
        refused = error_of(infer(session, 2, slot=0, rows=1, length=17))  # longer than every pool
        assert "no samples at length 17" in refused["message"]
        too_big = error_of(infer(session, 5, slot=0, rows=1))
        assert "a ring slot holds" in too_big["message"]
        assert ok(infer(session, 6, slot=0, rows=1, length=8))["output_bytes"] > 0  # fits: shorter rows
    finally:
        ring.close()


def test_a_payload_file_makes_the_pool(session: Session, tmp_path: Path) -> None:
    """A .npz with an array per input: shorter token rows are padded with zeros, integers of
    another width are cast, and its samples (not ``pool``) are the pool."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("transformers")
    ok(call(session, "load", model="bert-tiny:seq=16", batch_size=2))
    ids = np.arange(1, 5 * 10 + 1, dtype=np.int32).reshape(5, 10)
    path = tmp_path / "tokens.npz"
    np.savez(path, input_ids=ids, attention_mask=np.ones((5, 10), dtype=np.int64))
    layout = ok(call(session, "payload_open", slots=1, max_batch=4, pool=3, file=str(path)))
    assert layout["pools"][0]["count"] == 5
    ring = Mapped(layout)
    try:
        got = np.frombuffer(ring.sample(0, 3, 0), dtype=np.int64)
        assert got.tolist() == ids[3].tolist() + [0] * 6
        mask = np.frombuffer(ring.sample(0, 3, 1), dtype=np.int64)
        assert mask.tolist() == [1] * 10 + [0] * 6
    finally:
        ring.close()


@pytest.mark.parametrize(("arrays", "message"), [
    ({"input_ids": [[1] * 20]}, "no array named attention_mask"),
    ({"input_ids": [[1] * 20], "attention_mask": [[1] * 20]},
     "input_ids is int64[1, 20]; the model takes int64[N, 16]"),
    ({"input_ids": [[0.5] * 16], "attention_mask": [[1] * 16]}, "input_ids is float64; the model takes int64"),
    ({"input_ids": [[1] * 16] * 2, "attention_mask": [[1] * 16]}, "different numbers of samples"),
])
def test_a_payload_file_that_does_not_fit_the_model_is_refused(session: Session, tmp_path: Path,
                                                               arrays: dict[str, Any], message: str) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("transformers")
    ok(call(session, "load", model="bert-tiny:seq=16", batch_size=2))
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: np.array(v) for k, v in arrays.items()})
    error = error_of(call(session, "payload_open", slots=1, max_batch=4, pool=3, file=str(path)))
    assert error["kind"] == "bad_request" and message in error["message"], error["message"]
    not_numpy = tmp_path / "x.npy"
    not_numpy.write_text("hello")
    error = error_of(call(session, "payload_open", slots=1, max_batch=4, pool=3, file=str(not_numpy)))
    assert error["kind"] == "bad_request" and "not a .npy or .npz file" in error["message"]


def test_pipelined_payloads_on_the_cpu(session: Session) -> None:
    pytest.importorskip("torch")
    ok(call(session, "load", model="mlp:in=8,hidden=16,out=4,layers=1", precision="bf16", batch_size=2))
    layout = ok(call(session, "payload_open", slots=2, max_batch=2, pool=2))
    assert layout["inputs"] == [{"name": None, "dtype": "bfloat16", "itemsize": 2, "shape": [8]}]
    assert layout["length_dims"] == [[]] and layout["pools"][0]["sample_bytes"] == [16]
    ring = Mapped(layout)
    replies: list[dict[str, Any]] = []
    pipeline = Pipeline(session, lambda line: replies.append(json.loads(line)))
    try:
        for k in range(2):
            ring.write_blocks(k, [ring.sample(0, k, 0) + ring.sample(0, 1 - k, 0)])
        for n in range(4):
            args = {"batch_size": 2, "in_flight": 2, "payload": {"slot": n % 2, "rows": 2, "checksum": True}}
            pipeline.serve((json.dumps({"id": n, "op": "infer", "args": args}) + "\n").encode())
        pipeline.close()
        assert sorted(r["id"] for r in replies) == list(range(4))
        for reply in replies:
            result = ok(reply)
            k = reply["id"] % 2
            assert result["checksum"] == zlib.crc32(ring.sample(0, k, 0) + ring.sample(0, 1 - k, 0))
            assert result["output_bytes"] == 2 * 4 * 2 and result["h2d_ns"] > 0 and result["d2h_ns"] > 0
    finally:
        ring.close()


def test_a_model_without_a_length_takes_no_lengths(session: Session) -> None:
    pytest.importorskip("torch")
    ok(call(session, "load", model="mlp:in=8,hidden=8,out=4,layers=1"))
    err = error_of(call(session, "payload_open", slots=1, max_batch=1, lengths=[16], pool=1))
    assert err["kind"] == "bad_request" and "no sequence length" in err["message"]
    ok(call(session, "payload_open", slots=1, max_batch=1, pool=1))
    err = error_of(infer(session, 1, slot=0, rows=1, length=16))
    assert err["kind"] == "bad_request" and "no sequence length" in err["message"]


def test_a_length_beyond_the_model_is_refused_at_open(session: Session) -> None:
    pytest.importorskip("transformers")
    ok(call(session, "load", model="bert-tiny:seq=8"))
    err = error_of(call(session, "payload_open", slots=1, max_batch=1, lengths=[600], pool=1))
    assert err["kind"] == "bad_request" and "length 600" in err["message"] and "512" in err["message"]
    # Without lengths: the loaded shape's pool only, the length axis still said.
    layout = ok(call(session, "payload_open", slots=1, max_batch=2, lengths=[], pool=1))
    assert [p["length"] for p in layout["pools"]] == [None] and layout["length_dims"] == [[0], [0]]
    assert ok(infer(session, 2, slot=0, rows=2, length=4))["output_bytes"] == 2 * 4 * 128 * 4 + 2 * 128 * 4


NOT_BATCHED = '''
import torch

class Add(torch.nn.Module):
    def forward(self, x, table):
        return x + table.sum()

def build():
    return Add(), lambda batch, device: (torch.zeros(batch, 4, device=device), torch.ones(7, device=device))
'''


def test_inputs_without_a_batch_dimension_are_unsupported(session: Session, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "not_batched.py"
    path.write_text(textwrap.dedent(NOT_BATCHED))
    ok(call(session, "load", model=f"{path}:build", batch_size=2))
    err = error_of(call(session, "payload_open", slots=1, max_batch=2, pool=1))
    assert err["kind"] == "unsupported" and "input 1 is float32[7]" in err["message"]
    assert "--payload device" in err["message"]
    assert not [n for n in os.listdir("/dev/shm") if n.startswith(f"inferbench-payload-{os.getpid()}-")]


@pytest.mark.slow
def test_a_compiled_model_runs_payloads_without_recompiling(session: Session) -> None:
    pytest.importorskip("torch")
    ok(call(session, "load", model="mlp:in=8,hidden=16,out=4,layers=1", compile="default", batch_size=2))
    ok(call(session, "payload_open", slots=1, max_batch=2, pool=1))
    for _ in range(2):
        result = ok(infer(session, 2, slot=0, rows=2))
        assert "recompiles" not in result, result


# --- CUDA -----------------------------------------------------------------------------------


@needs_cuda
def test_cuda_payload_is_pinned_and_timed_by_events(session: Session) -> None:
    import torch

    ok(call(session, "load", model="resnet18:size=64", device="cuda", precision="fp16", channels_last=True,
            batch_size=4))
    layout = ok(call(session, "payload_open", slots=2, max_batch=4, pool=2))
    assert layout["pinned"] and layout["inputs"][0]["dtype"] == "float16"
    assert session.ring is not None and session.ring.tensor(0, "uint8", (64,)).is_pinned()  # torch sees it so
    ring = Mapped(layout)
    try:
        image = ring.sample(0, 1, 0)
        ring.write_blocks(0, [image * 4])
        for _ in range(3):
            result = ok(infer(session, 4, slot=0, rows=4))
        assert result["checksum"] == zlib.crc32(image * 4) and "recompiles" not in result
        assert 0 < result["device_ns"] and 0 < result["h2d_ns"] and 0 < result["d2h_ns"]
        assert result["device_ns"] + result["h2d_ns"] + result["d2h_ns"] <= result["host_ns"] + 1000
        got = torch.frombuffer(bytearray(ring.mm[ring.output(0):ring.output(0) + 4 * 1000 * 2]), dtype=torch.float16)
        model = session.loaded.module  # type: ignore[union-attr]
        view = torch.frombuffer(bytearray(image * 4), dtype=torch.float16).reshape(4, 3, 64, 64)
        with torch.inference_mode():
            want = model(view.cuda().contiguous(memory_format=torch.channels_last)).cpu().reshape(-1)
        assert torch.allclose(got.float(), want.float(), atol=1e-2, rtol=1e-2)
    finally:
        ring.close()
    path = layout["path"]
    ok(call(session, "unload"))  # unregistered and unmapped without an error
    assert not os.path.exists(path)


@needs_cuda
def test_cuda_pipelined_payloads_complete_on_their_streams(session: Session) -> None:
    ok(call(session, "load", model="bert-tiny:seq=32", device="cuda", batch_size=4))
    layout = ok(call(session, "payload_open", slots=2, max_batch=4, lengths=[], pool=4))
    ring = Mapped(layout)
    replies: list[dict[str, Any]] = []
    pipeline = Pipeline(session, lambda line: replies.append(json.loads(line)))
    try:
        for k in range(2):
            ids = b"".join(ring.sample(0, j, 0) for j in range(4))
            mask = b"".join(ring.sample(0, j, 1) for j in range(4))
            ring.write_blocks(k, [ids, mask])
        want = zlib.crc32(mask[:3 * 256], zlib.crc32(ids[:3 * 256]))
        for n in range(8):
            args = {"batch_size": 4, "in_flight": 2, "payload": {"slot": n % 2, "rows": 3, "checksum": True}}
            pipeline.serve((json.dumps({"id": n, "op": "infer", "args": args}) + "\n").encode())
        pipeline.close()
        assert sorted(r["id"] for r in replies) == list(range(8))
        for reply in replies:
            result = ok(reply)
            assert result["checksum"] == want and result["device_ns"] > 0 and result["h2d_ns"] > 0
            assert result["output_bytes"] == 4 * 32 * 128 * 4 + 4 * 128 * 4
    finally:
        ring.close()


@needs_cuda
@pytest.mark.slow
def test_cuda_compiled_payloads_do_not_recompile(session: Session) -> None:
    ok(call(session, "load", model="resnet18:size=64", device="cuda", precision="fp16", channels_last=True,
            compile="default", batch_size=4))
    layout = ok(call(session, "payload_open", slots=2, max_batch=4, pool=2))
    ring = Mapped(layout)
    replies: list[dict[str, Any]] = []
    pipeline = Pipeline(session, lambda line: replies.append(json.loads(line)))
    try:
        for k in range(2):
            ring.write_blocks(k, [ring.sample(0, k, 0) * 4])
        for _ in range(2):
            assert "recompiles" not in ok(infer(session, 4, slot=0, rows=4))
        for n in range(6):
            args = {"batch_size": 4, "in_flight": 2, "payload": {"slot": n % 2, "rows": 4, "checksum": True}}
            pipeline.serve((json.dumps({"id": n, "op": "infer", "args": args}) + "\n").encode())
        pipeline.close()
        for reply in replies:
            result = ok(reply)
            assert "recompiles" not in result and result["device_ns"] > 0, result
            assert result["checksum"] == zlib.crc32(ring.sample(0, reply["id"] % 2, 0) * 4)
    finally:
        ring.close()
