"""The envelope: decoding, replies, malformed requests, argument checks."""

from __future__ import annotations

import json

import pytest

from inferbench_worker import protocol
from inferbench_worker.protocol import LoadArgs, WorkerError, decode_request, encode_reply, error_reply, ok_reply
from inferbench_worker.session import Session

from conftest import call, error_of, ok


def test_decode_request() -> None:
    r = decode_request(b'{"id": 7, "op": "measure", "args": {"iterations": 3}}\n')
    assert (r.id, r.op, r.args) == (7, "measure", {"iterations": 3})
    assert decode_request(b'{"id": 1, "op": "hello"}').args == {}


@pytest.mark.parametrize("line", [b"{not json", b"[1, 2]", b'"hello"', b'{"id": "x", "op": "hello"}', b"\xff\xfe"])
def test_malformed_lines_reply_with_null_id(session: Session, line: bytes) -> None:
    reply = session.handle_line(line)
    assert reply["id"] is None
    assert error_of(reply)["kind"] == "bad_request"


def test_bad_op_field_echoes_id(session: Session) -> None:
    reply = session.handle_line(b'{"id": 5, "op": 3}')
    assert reply["id"] == 5 and error_of(reply)["kind"] == "bad_request"


def test_unknown_op(session: Session) -> None:
    err = error_of(call(session, "mesure"))
    assert err["kind"] == "bad_request"
    assert "mesure" in err["message"] and "measure" in err["message"]


def test_unknown_argument_names_valid_ones(session: Session) -> None:
    err = error_of(call(session, "measure", iterations=3, batchsize=2))
    assert err["kind"] == "bad_request"
    assert "batchsize" in err["message"] and "batch_size" in err["message"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({}, "needs argument 'model'"),
        ({"model": "mlp", "precision": "fp8"}, "precision"),
        ({"model": "mlp", "compile": "fast"}, "compile"),
        ({"model": "mlp", "batch_size": 0}, "batch_size"),
        ({"model": "mlp", "device": "tpu"}, "device"),
        ({"model": "mlp", "channels_last": "yes"}, "channels_last"),
    ],
)
def test_load_argument_checks(args: dict[str, object], fragment: str) -> None:
    with pytest.raises(WorkerError) as info:
        LoadArgs.parse(args)
    assert info.value.kind == "bad_request" and fragment in info.value.message


def test_load_defaults_and_params_as_strings() -> None:
    a = LoadArgs.parse({"model": "bert-base", "params": {"seq": 512}})
    assert a.params == {"seq": "512"}
    assert (a.device, a.precision, a.compile, a.batch_size, a.seed, a.dynamic) == ("cpu", "fp32", "eager", 1, 0, None)


def test_ops_before_load_are_bad_requests(session: Session) -> None:
    for op in ("measure", "infer", "verify"):
        err = error_of(call(session, op))
        assert err["kind"] == "bad_request" and "load" in err["message"]
    assert ok(call(session, "unload")) == {}


def test_encode_reply_is_one_strict_json_line() -> None:
    line = encode_reply(ok_reply(3, {"x": float("nan"), "y": [1, 2], "z": [float("inf"), 1.5], "s": "é"}))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"id": 3, "ok": True, "result": {"x": None, "y": [1, 2], "z": [None, 1.5], "s": "é"}}


def test_error_message_is_one_line() -> None:
    reply = error_reply(2, WorkerError("internal", "first\nsecond", "trace\nback"))
    assert reply["error"] == {"kind": "internal", "message": "first second", "detail": "trace\nback"}


def test_names_match_the_documented_schema() -> None:
    assert protocol.PROTOCOL_VERSION == 2
    assert protocol.OPS[-1] == "smoke"
    assert protocol.ERROR_KINDS == ("oom", "compile", "unsupported", "bad_request", "missing_dependency", "internal")
    assert protocol.PRECISIONS == ("fp32", "tf32", "fp16", "bf16", "amp-fp16", "amp-bf16")
    assert "aot-inductor" in protocol.COMPILE_MODES and "max-autotune-no-cudagraphs" in protocol.COMPILE_MODES
