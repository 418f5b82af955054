"""CUDA paths: event timing, precisions, compiled variants, memory, OOM. Skipped without a GPU."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from inferbench_worker.session import Session

from conftest import Worker, call, error_of, ok

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_hello_lists_the_gpu(session: Session) -> None:
    env = ok(call(session, "hello"))["env"]
    assert env["cuda_available"] and env["cuda"] and env["gpus"]
    gpu = env["gpus"][0]
    assert gpu["memory_mb"] > 1000 and gpu["multiprocessors"] > 0 and "." in gpu["capability"]


def test_mlp_cuda_events_memory(session: Session) -> None:
    load = ok(call(session, "load", model="mlp", device="cuda", batch_size=8))
    assert load["memory"]["peak_allocated_mb"] > 0 and load["memory"]["device_used_mb"] > 0
    r = ok(call(session, "measure", iterations=50))
    assert r["clock"] == "cuda_event" and len(r["device_ns"]) == 50 == len(r["host_ns"])
    # each host interval encloses its event pair (allow the events' 0.5 µs resolution)
    assert all(0 < d <= h + 1000 for d, h in zip(r["device_ns"], r["host_ns"], strict=True))
    t = ok(call(session, "measure", iterations=50, mode="throughput"))
    assert t["total_ns"] > 0
    inf = ok(call(session, "infer", batch_size=3))
    assert inf["device_ns"] > 0 and inf["host_ns"] >= inf["device_ns"] - 1000
    assert ok(call(session, "verify"))["within_tolerance"]
    mem = ok(call(session, "memory", reset_peak=True))
    assert mem["peak_allocated_mb"] > 0 and mem["peak_reserved_mb"] >= mem["peak_allocated_mb"]


@pytest.mark.parametrize("precision", ["fp32", "tf32", "fp16", "bf16", "amp-fp16", "amp-bf16"])
def test_precisions_verify(session: Session, precision: str) -> None:
    ok(call(session, "load", model="resnet18:size=64", device="cuda", precision=precision,
            channels_last=True, batch_size=2))
    v = ok(call(session, "verify"))
    assert v["within_tolerance"], v
    ok(call(session, "load", model="bert-tiny:seq=64", device="cuda", precision=precision, batch_size=2))
    v = ok(call(session, "verify"))
    assert v["within_tolerance"], v


@pytest.mark.parametrize("model, compile, precision", [
    ("resnet18:size=64", "default", "fp16"),
    ("bert-tiny:seq=64", "reduce-overhead", "fp32"),
    ("bert-tiny:seq=64", "aot-inductor", "amp-bf16"),
    ("resnet18:size=64", "aot-inductor", "fp16"),
])
def test_compiled_on_cuda(worker: Worker, model: str, compile: str, precision: str) -> None:
    # In a worker process: loading generated code can crash a process (an AOTInductor package
    # segfaulted in aoti_load_package with torch 2.11.0+cu130), which must fail this test only.
    reply = worker.request("load", model=model, device="cuda", compile=compile, precision=precision, batch_size=4)
    load = ok(reply)
    assert load["compile_s"] > 0 and load["graph_breaks"] == 0, load
    r = ok(worker.request("measure", iterations=30))
    assert len(r["device_ns"]) == 30
    v = ok(worker.request("verify"))
    assert v["within_tolerance"], v
    assert load["compile_workers"] in ("shut_down", "none"), load
    assert 0 < load["compile_peak_allocated_mb"] <= load["compile_peak_reserved_mb"]
    assert r["proc"]["gc_collections"] == 0


def test_memory_peaks_are_the_variants_own(session: Session) -> None:
    """The load's peaks are reported as compile peaks and then reset; verify's fp32 reference
    (four times the bytes of this fp16 model) is freed and left out of later peaks."""
    import torch

    model = "mlp:in=1024,hidden=4096,out=1024,layers=4"
    load = ok(call(session, "load", model=model, device="cuda", precision="fp16", batch_size=64))
    assert 0 < load["compile_peak_allocated_mb"] <= load["compile_peak_reserved_mb"]
    assert load["compile_peak_allocated_mb"] == load["memory"]["peak_allocated_mb"]
    assert load["compile_rss_peak_mb"] >= load["memory"]["rss_mb"]
    ok(call(session, "measure", iterations=20))
    measured = ok(call(session, "memory"))
    assert 0 < measured["peak_allocated_mb"] <= load["compile_peak_allocated_mb"]
    allocated = torch.cuda.memory_allocated()
    reserved = torch.cuda.memory_reserved()
    assert ok(call(session, "verify"))["within_tolerance"]
    assert torch.cuda.memory_allocated() == allocated  # the reference and its outputs are gone
    assert torch.cuda.memory_reserved() <= reserved  # and their cached blocks released
    after = ok(call(session, "memory", reset_peak=True))
    assert after["peak_allocated_mb"] == measured["peak_allocated_mb"]
    assert after["peak_reserved_mb"] == measured["peak_reserved_mb"]
    swept = ok(call(session, "load", model=model, device="cuda", precision="fp16", batch_size=128, reuse=True))
    assert swept["batch_reuse"] == "reused" and swept["compile_peak_allocated_mb"] > 0


@pytest.mark.skipif(importlib.util.find_spec("diffusers") is None, reason="diffusers is not installed")
def test_sd15_unet_fp16(session: Session) -> None:
    load = ok(call(session, "load", model="sd15-unet", device="cuda", precision="fp16", batch_size=1))
    assert 850_000_000 < load["parameters"] < 870_000_000  # 859.5M in the published model
    assert load["input_desc"] == "float16[2,4,64,64], int64[2], float16[2,77,768]"
    assert load["flops_per_sample"] > 1e11
    r = ok(call(session, "measure", iterations=5))
    assert len(r["device_ns"]) == 5
    v = ok(call(session, "verify"))
    assert v["within_tolerance"], v


OOM_MODEL = '''
import torch

class Hog(torch.nn.Module):
    def forward(self, x):
        return torch.empty(1 << 44, dtype=torch.uint8, device=x.device)  # 16 TiB

def build():
    return Hog(), lambda batch_size, device: (torch.zeros(batch_size, device=device),)
'''


def test_cuda_oom_is_a_reply(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "hog.py"
    path.write_text(textwrap.dedent(OOM_MODEL))
    err = error_of(call(session, "load", model=f"{path}:build", device="cuda"))
    assert err["kind"] == "oom", err
    ok(call(session, "load", model="mlp", device="cuda"))
    assert ok(call(session, "verify"))["within_tolerance"]


@pytest.mark.parametrize("kind", ["compile", "aot-inductor"])
def test_smoke(session: Session, kind: str) -> None:
    r = ok(call(session, "smoke", kind=kind, device="cuda:0"))
    assert set(r) == {"ok", "eager_ms", "compiled_ms", "compile_s", "max_abs_err", "error"}
    if r["ok"]:
        assert r["eager_ms"] > 0 and r["compiled_ms"] > 0 and r["compile_s"] > 0 and r["max_abs_err"] < 1e-2
    else:  # a broken toolchain is a result with a reason, never a crash of the worker
        assert r["error"], r
