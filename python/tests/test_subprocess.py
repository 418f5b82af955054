"""The worker as a real process: the stdout channel, EOF, shutdown, SIGTERM, and running
without torch (or diffusers), simulated by shadowing the package on PYTHONPATH."""

from __future__ import annotations

import json
import signal
import textwrap
import time
from pathlib import Path

import pytest

from conftest import Worker, error_of, ok, shadow_package


def test_hello_and_eof(worker: Worker) -> None:
    hello = ok(worker.request("hello"))
    assert hello["protocol"] == 2 and hello["worker_version"] == "0.1.0"
    assert hello["pid"] == worker.proc.pid
    env = hello["env"]
    assert env["torch"] and env["torch_error"] is None and env["torch_threads"] == 1  # OMP_NUM_THREADS=1
    assert env["cpu_count"] >= 1 and env["python_executable"]
    assert worker.close_stdin_and_wait() == 0


def test_replies_in_order_and_shutdown(worker: Worker) -> None:
    assert error_of(worker.send_raw(b"this is not json\n")) ["kind"] == "bad_request"
    reply = worker.send_raw(b"{oops\n")
    assert reply["id"] is None
    assert error_of(worker.request("frobnicate"))["kind"] == "bad_request"
    ok(worker.request("load", model="synthetic:median_ms=0.5"))
    assert len(ok(worker.request("measure", iterations=10))["host_ns"]) == 10
    assert ok(worker.request("shutdown")) == {}
    assert worker.proc.wait(timeout=30) == 0
    assert worker.remaining_stdout() == b""


NOISY_MODEL = '''
import os, sys, torch

def build():
    print("print from build")
    os.write(1, b"raw write to fd 1\\n")
    sys.__stdout__.write("write to sys.__stdout__\\n")
    sys.__stdout__.flush()
    return torch.nn.Linear(4, 2), lambda batch_size, device: (torch.randn(batch_size, 4, device=device),)
'''


def test_user_prints_never_reach_the_channel(tmp_path: Path) -> None:
    (tmp_path / "noisy.py").write_text(textwrap.dedent(NOISY_MODEL))
    w = Worker(cwd=tmp_path)
    try:
        load = ok(w.request("load", model="noisy.py:build"))  # a path relative to the worker's cwd
        assert load["output_desc"] == "float32[1,2]"
        assert ok(w.request("shutdown")) == {}
        assert w.proc.wait(timeout=30) == 0
        assert w.remaining_stdout() == b""  # nothing but the two replies ever came
        stderr = w.stderr_text()
        for text in ("print from build", "raw write to fd 1", "write to sys.__stdout__"):
            assert text in stderr
    finally:
        w.kill()


def test_sigterm_exits_promptly(worker: Worker) -> None:
    ok(worker.request("load", model="synthetic:median_ms=1000"))  # two 1 s calls at load
    assert worker.proc.stdin is not None
    worker.proc.stdin.write(b'{"id": 9, "op": "measure", "args": {"iterations": 60}}\n')
    worker.proc.stdin.flush()
    time.sleep(0.5)
    t0 = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=10) == -signal.SIGTERM
    assert time.monotonic() - t0 < 2.0


def test_without_torch(tmp_path: Path) -> None:
    w = Worker(extra_path=[shadow_package(tmp_path, "torch")])
    try:
        env = ok(w.request("hello"))["env"]
        assert env["torch"] is None and env["cuda"] is None and env["torch_threads"] is None
        assert env["torch_error"] == "No module named 'torch'"
        assert env["cuda_available"] is False and env["gpus"] == []
        assert len(ok(w.request("models"))) == 10
        load = ok(w.request("load", model="synthetic:median_ms=1"))
        assert load["memory"]["peak_allocated_mb"] is None
        assert min(ok(w.request("measure", iterations=20))["host_ns"]) >= 1_000_000
        assert ok(w.request("verify"))["within_tolerance"]
        assert ok(w.request("memory"))["rss_mb"] > 0
        err = error_of(w.request("load", model="mlp"))
        assert err["kind"] == "missing_dependency" and "pip install torch" in err["message"]
        assert ok(w.request("hello"))["env"]["torch"] is None  # still alive and still answering
    finally:
        w.kill()


def test_missing_model_package(tmp_path: Path) -> None:
    w = Worker(extra_path=[shadow_package(tmp_path, "diffusers")])
    try:
        err = error_of(w.request("load", model="unet-tiny"))
        assert err["kind"] == "missing_dependency" and "pip install diffusers" in err["message"], err
        ok(w.request("load", model="mlp:in=4,hidden=4,out=4"))
    finally:
        w.kill()


def test_every_stdout_line_is_a_reply(worker: Worker) -> None:
    lines = [b'{"id": %d, "op": "hello"}\n' % i for i in range(3)] + [b"\n", b'{"id": 3, "op": "models"}\n']
    assert worker.proc.stdin is not None and worker.proc.stdout is not None
    worker.proc.stdin.write(b"".join(lines))
    worker.proc.stdin.close()  # EOF after the batch: the worker answers all, then exits 0
    replies = [json.loads(line) for line in worker.proc.stdout.read().splitlines()]
    assert [r["id"] for r in replies] == [0, 1, 2, 3] and all(r["ok"] for r in replies)
    assert worker.proc.wait(timeout=30) == 0


def test_smoke_argument_checks(worker: Worker) -> None:
    assert error_of(worker.request("smoke", kind="jit", device="cpu"))["kind"] == "bad_request"
    assert error_of(worker.request("smoke", kind="compile", device="tpu"))["kind"] == "bad_request"


def test_smoke_survives_a_crashing_child(tmp_path: Path) -> None:
    """A toolchain that kills the process loading it is reported, and the worker lives on."""
    crash = tmp_path / "crash" / "torch"
    crash.mkdir(parents=True)
    (crash / "__init__.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    w = Worker(extra_path=[crash.parent])
    try:
        r = ok(w.request("smoke", kind="aot-inductor", device="cpu"))
        assert r["ok"] is False and r["compile_s"] is None
        assert "crashed its process (SIGSEGV)" in r["error"], r
        assert ok(w.request("models"))  # the worker itself never imported torch
    finally:
        w.kill()


def test_smoke_reports_a_missing_gpu(worker: Worker) -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = ok(worker.request("smoke", kind="compile", device="cuda:0"))
    assert r["ok"] is False and "CUDA is not available" in r["error"]
