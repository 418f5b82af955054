"""Torch models on the CPU in eager mode, driven in-process."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from inferbench_worker.session import Session

from conftest import call, error_of, ok

pytest.importorskip("torch")

MLP = "mlp:in=64,hidden=128,out=32"


def test_mlp_load_measure_verify_memory(session: Session) -> None:
    load = ok(call(session, "load", model=MLP, batch_size=4, seed=1))
    assert load["parameters"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 32 + 32
    assert load["flops_per_sample"] == 2 * (64 * 128 + 128 * 128 + 128 * 32)
    assert load["input_desc"] == "float32[4,64]" and load["output_desc"] == "float32[4,32]"
    assert load["compile_s"] == 0.0 and load["first_call_ms"] > 0 and load["load_s"] > 0
    assert (load["graph_breaks"], load["recompiles"], load["compile_reasons"]) == (0, 0, [])
    assert load["memory"]["peak_allocated_mb"] is None and load["memory"]["rss_mb"] > 10

    lat = ok(call(session, "measure", iterations=30))
    assert lat["clock"] == "perf_counter" and lat["device_ns"] is None
    assert len(lat["host_ns"]) == 30 and all(isinstance(t, int) and t > 0 for t in lat["host_ns"])
    thr = ok(call(session, "measure", iterations=30, mode="throughput"))
    assert thr["iterations"] == 30 and thr["total_ns"] > 0

    other = ok(call(session, "measure", iterations=5, batch_size=2))  # new inputs, made untimed
    assert len(other["host_ns"]) == 5
    inf = ok(call(session, "infer", batch_size=2))
    assert inf["device_ns"] is None and inf["host_ns"] > 0

    v = ok(call(session, "verify"))
    assert v["within_tolerance"] and v["max_abs_err"] == 0.0 and v["cosine"] > 0.999999
    mem = ok(call(session, "memory", reset_peak=True))
    assert set(mem) == {"peak_allocated_mb", "peak_reserved_mb", "device_used_mb", "rss_mb"}
    assert mem["device_used_mb"] is None and mem["rss_mb"] > 10
    assert ok(call(session, "unload")) == {}
    assert error_of(call(session, "measure", iterations=1))["kind"] == "bad_request"


@pytest.mark.parametrize("precision", ["fp16", "bf16", "amp-bf16"])
def test_reduced_precisions_verify_within_tolerance(session: Session, precision: str) -> None:
    load = ok(call(session, "load", model=MLP, precision=precision, batch_size=2))
    dtype = "float32" if precision.startswith("amp") else {"fp16": "float16", "bf16": "bfloat16"}[precision]
    assert load["input_desc"] == f"{dtype}[2,64]"
    v = ok(call(session, "verify"))
    assert 0 < v["max_abs_err"] < v["tolerance"]["atol"], v
    assert v["within_tolerance"], v


def test_tf32_on_cpu_is_unsupported(session: Session) -> None:
    err = error_of(call(session, "load", model=MLP, precision="tf32"))
    assert err == {"kind": "unsupported", "message": "tf32 applies to CUDA GPUs only", "detail": None}


def test_cuda_without_a_gpu_is_unsupported(session: Session) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    err = error_of(call(session, "load", model=MLP, device="cuda"))
    assert err["kind"] == "unsupported" and "CUDA is not available" in err["message"]


def test_bert_tiny_eager(session: Session) -> None:
    load = ok(call(session, "load", model="bert-tiny:seq=32", batch_size=2))
    assert load["input_desc"] == "input_ids=int64[2,32], attention_mask=int64[2,32]"
    assert load["output_desc"] == "float32[2,32,128], float32[2,128]"
    assert 4_000_000 < load["parameters"] < 5_000_000
    assert load["flops_per_sample"] and load["flops_per_sample"] > 1e6
    assert len(ok(call(session, "measure", iterations=5))["host_ns"]) == 5
    v = ok(call(session, "verify"))
    assert v["within_tolerance"] and v["max_abs_err"] < 1e-5


def test_resnet18_channels_last(session: Session) -> None:
    load = ok(call(session, "load", model="resnet18:size=64", channels_last=True))
    assert load["output_desc"] == "float32[1,1000]" and load["parameters"] == 11_689_512
    assert ok(call(session, "verify"))["within_tolerance"]


@pytest.mark.skipif(importlib.util.find_spec("diffusers") is None, reason="diffusers is not installed")
def test_unet_tiny(session: Session) -> None:
    load = ok(call(session, "load", model="unet-tiny", batch_size=1))
    assert load["input_desc"] == "float32[2,4,32,32], int64[2], float32[2,77,32]"  # cfg: 2 latents a sample
    assert load["output_desc"] == "float32[2,4,32,32]"
    assert ok(call(session, "verify"))["within_tolerance"]


USER_MODEL = '''
import torch

class Scale(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(8))

    def forward(self, x, y):
        print("forward called")  # must not reach the protocol channel
        return {"sum": x * self.w + y, "aux": (x.mean(),)}

def build():
    print("building")
    return Scale(), lambda batch_size, device: (torch.randn(batch_size, 8, device=device),
                                                torch.randn(batch_size, 8, device=device))

def broken():
    return Scale(), lambda batch_size, device: (torch.randn(batch_size, 3, device=device),
                                                torch.randn(batch_size, 3, device=device))

def oom():
    class M(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("CUDA out of memory. Tried to allocate 80.00 GiB")
    return M(), lambda batch_size, device: (torch.zeros(batch_size, device=device),)

def needs_missing():
    import inferbench_no_such_package  # noqa: F401

def not_a_pair():
    return 3
'''


def _user_file(tmp_path: Path) -> Path:
    path = tmp_path / "user_model.py"
    path.write_text(textwrap.dedent(USER_MODEL))
    return path


def test_user_model(session: Session, tmp_path: Path) -> None:
    path = _user_file(tmp_path)
    load = ok(call(session, "load", model=f"{path}:build", batch_size=3))
    assert load["parameters"] == 8
    assert load["input_desc"] == "float32[3,8], float32[3,8]"
    assert load["output_desc"] == "float32[3,8], float32[]"
    assert ok(call(session, "verify"))["within_tolerance"]


@pytest.mark.parametrize("fn, kind, fragment", [
    ("broken", "internal", "RuntimeError"),
    ("oom", "oom", "out of memory"),
    ("needs_missing", "missing_dependency", "pip install inferbench_no_such_package"),
    ("not_a_pair", "bad_request", "must return"),
    ("absent", "bad_request", "has no function"),
])
def test_user_model_failures_become_replies(session: Session, tmp_path: Path, fn: str, kind: str,
                                            fragment: str) -> None:
    err = error_of(call(session, "load", model=f"{_user_file(tmp_path)}:{fn}"))
    assert err["kind"] == kind and fragment in err["message"], err
    if kind in ("internal", "oom"):
        assert "Traceback" in err["detail"]
    assert session.loaded is None  # a failed load leaves nothing behind
    assert ok(call(session, "load", model="synthetic:median_ms=0"))  # and the session carries on


def test_eager_batch_sweep_reuses_the_loaded_model(session: Session) -> None:
    ok(call(session, "load", model="mlp:in=16,hidden=32,out=8,layers=1", batch_size=2))
    swept = ok(call(session, "load", model="mlp:in=16,hidden=32,out=8,layers=1", batch_size=6, reuse=True))
    assert swept["batch_reuse"] == "reused" and swept["load_s"] == 0.0 and swept["compile_s"] == 0.0
    assert swept["output_desc"] == "float32[6,8]"
    assert len(ok(call(session, "measure", iterations=5))["host_ns"]) == 5
    # another model under reuse=true is loaded afresh
    other = ok(call(session, "load", model="mlp:in=16,hidden=32,out=4,layers=1", batch_size=6, reuse=True))
    assert "batch_reuse" not in other and other["output_desc"] == "float32[6,4]"


def test_bert_takes_a_length_per_call_and_refuses_one_beyond_its_positions(session: Session) -> None:
    ok(call(session, "load", model="bert-tiny:seq=32", batch_size=2))
    short = ok(call(session, "infer", batch_size=2, length=8))
    assert short["host_ns"] > 0 and "recompiles" not in short  # eager: nothing to recompile
    assert ok(call(session, "infer", batch_size=4, length=64))["host_ns"] > 0
    too_long = error_of(call(session, "infer", batch_size=1, length=513))
    assert too_long["kind"] == "bad_request" and "seq must be between 1 and 512" in too_long["message"]


def test_a_length_sweep_reuses_the_loaded_model_at_the_new_length(session: Session) -> None:
    # run --seq: the Swift side loads each length with reuse=true and the model's seq set
    ok(call(session, "load", model="bert-tiny", params={"seq": "16"}, batch_size=2))
    swept = ok(call(session, "load", model="bert-tiny", params={"seq": "48"}, batch_size=2, reuse=True))
    assert swept["batch_reuse"] == "reused" and swept["load_s"] == 0.0
    assert "[2,48]" in swept["input_desc"]
    assert len(ok(call(session, "measure", iterations=3))["host_ns"]) == 3
    assert ok(call(session, "verify"))["within_tolerance"]
    back = ok(call(session, "load", model="bert-tiny", params={"seq": "16"}, batch_size=2, reuse=True))
    assert back["batch_reuse"] == "reused" and "[2,16]" in back["input_desc"]
    # another variant at the new length is loaded afresh
    other = ok(call(session, "load", model="bert-tiny", params={"seq": "48"}, precision="bf16", batch_size=2,
                    reuse=True))
    assert "batch_reuse" not in other and "[2,48]" in other["input_desc"]


def test_a_model_without_a_length_refuses_one(session: Session) -> None:
    ok(call(session, "load", model="mlp:in=8,hidden=8,out=4,layers=1", batch_size=1))
    refused = error_of(call(session, "infer", batch_size=1, length=16))
    assert refused["kind"] == "bad_request" and "no sequence length" in refused["message"]


def test_the_catalogue_names_the_length_parameter(session: Session) -> None:
    listed = {m["name"]: m for m in ok(call(session, "models"))}
    assert listed["bert-base"]["length"] == "seq" and listed["synthetic"]["length"] == "seq"
    assert listed["resnet50"]["length"] == "size" and "length" not in listed["mlp"]


def test_an_image_model_takes_a_size_per_call(session: Session) -> None:
    ok(call(session, "load", model="resnet18", params={"size": "64"}, batch_size=1))
    assert ok(call(session, "infer", batch_size=2, length=96))["host_ns"] > 0
    small = error_of(call(session, "infer", batch_size=1, length=16))
    assert small["kind"] == "bad_request" and "size" in small["message"]
