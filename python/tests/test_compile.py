"""Compiled variants on the CPU: one torch.compile and one AOTInductor build (slow: each
runs Inductor's C++ code generation), plus the fast failure paths."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inferbench_worker import variants
from inferbench_worker.session import Session

from conftest import call, error_of, ok

pytest.importorskip("torch")

TINY_MLP = "mlp:in=16,hidden=32,out=8,layers=1"


@pytest.mark.slow
def test_torch_compile_default(session: Session) -> None:
    load = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=2))
    assert load["compile_s"] > 0.5  # trace + codegen + one run
    assert load["first_call_ms"] < 1000 * load["compile_s"]
    assert (load["graph_breaks"], load["recompiles"]) == (0, 0)
    assert load["output_desc"] == "float32[2,8]"
    assert len(ok(call(session, "measure", iterations=20))["host_ns"]) == 20
    v = ok(call(session, "verify"))
    assert v["within_tolerance"] and v["max_abs_err"] < 1e-5
    # A new batch size makes dynamo recompile (with dynamic shapes), untimed, and it is counted.
    again = ok(call(session, "measure", iterations=3, batch_size=3))
    assert again["recompiles"] == 1
    # A batch sweep reloads with reuse: the dynamic graph dynamo made for size 3 serves size 5
    # without compiling again; a load of another variant is a fresh load.
    swept = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=5, reuse=True))
    assert swept["batch_reuse"] == "reused" and swept["load_s"] == 0.0
    assert swept["output_desc"] == "float32[5,8]" and swept["recompiles"] == 0
    assert ok(call(session, "verify"))["within_tolerance"]
    fresh = ok(call(session, "load", model=TINY_MLP, compile="eager", batch_size=5, reuse=True))
    assert "batch_reuse" not in fresh and fresh["load_s"] > 0


@pytest.mark.slow
def test_batch_sweep_recompiles_once_then_reuses(session: Session) -> None:
    first = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=1))
    assert "batch_reuse" not in first
    second = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=4, reuse=True))
    assert second["batch_reuse"] == "recompiled" and second["compile_s"] > 0
    assert any("recompile" in r for r in second["compile_reasons"])
    third = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=8, reuse=True))
    assert third["batch_reuse"] == "reused" and third["compile_s"] < second["compile_s"]
    assert third["input_desc"] == "float32[8,16]"


@pytest.mark.slow
def test_aot_inductor(session: Session) -> None:
    load = ok(call(session, "load", model=TINY_MLP, compile="aot-inductor", batch_size=2))
    assert load["compile_s"] > 0.5 and load["output_desc"] == "float32[2,8]"
    assert len(ok(call(session, "measure", iterations=20))["host_ns"]) == 20
    assert ok(call(session, "verify"))["within_tolerance"]
    err = error_of(call(session, "measure", iterations=3, batch_size=3))
    assert err["kind"] == "unsupported" and "batch size 2" in err["message"]


@pytest.mark.slow
def test_a_kept_aot_inductor_package_loads_as_a_model(session: Session, tmp_path: Path) -> None:
    """``package_path`` keeps the package and its example inputs; a new load runs it as a model
    (what recommend's replica from a package does in a new process)."""
    package = tmp_path / "kept" / "mlp.pt2"
    built = ok(call(session, "load", model=TINY_MLP, compile="aot-inductor", batch_size=2, package_path=str(package)))
    assert package.is_file() and Path(f"{package}.inputs.pt").is_file()
    loaded = ok(call(session, "load", model=f"{package}:inputs={package}.inputs.pt", batch_size=2))
    assert loaded["compile_s"] == 0 and loaded["output_desc"] == built["output_desc"] == "float32[2,8]"
    assert len(ok(call(session, "measure", iterations=5))["host_ns"]) == 5


GRAPH_BREAK_MODEL = '''
import torch

class M(torch.nn.Module):
    def forward(self, x):
        x = x + 1
        torch._dynamo.graph_break()
        return x * 2

def build():
    return M(), lambda batch_size, device: (torch.randn(batch_size, 4, device=device),)
'''


def test_fullgraph_with_a_graph_break_is_a_compile_error(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "breaks.py"
    path.write_text(textwrap.dedent(GRAPH_BREAK_MODEL))
    err = error_of(call(session, "load", model=f"{path}:build", compile="default", fullgraph=True))
    assert err["kind"] == "compile" and "fullgraph=True" in err["message"], err
    assert "Traceback" in err["detail"]
    assert session.loaded is None


def test_compiling_on_cpu_without_a_cxx_compiler(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(variants, "cxx_compiler", lambda: None)
    err = error_of(call(session, "load", model=TINY_MLP, compile="max-autotune"))
    assert err["kind"] == "compile" and "C++ compiler" in err["message"]
    ok(call(session, "load", model=TINY_MLP))  # eager needs none


def _children() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return pids


@pytest.mark.slow
def test_compile_workers_are_shut_down_after_a_compiled_load(session: Session) -> None:
    ac = pytest.importorskip("torch._inductor.async_compile")
    if not hasattr(ac, "_pool_set") or not Path("/proc/self/task").exists():
        pytest.skip("this torch or platform does not show its compile workers")
    load = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=2))
    assert load["compile_workers"] in ("shut_down", "none")  # a CPU compile may start no pool
    assert len(ac._pool_set) == 0
    # A pool that a compile left running (as Triton's parallel compiles on a GPU do) is
    # stopped, its processes with it, before the load replies.
    before = _children()
    pool = ac.AsyncCompile.process_pool()
    pool.submit(ac.AsyncCompile._get_ready).result(timeout=300)
    started = _children() - before
    assert started, "the pool started no process"
    again = ok(call(session, "load", model=TINY_MLP, compile="default", batch_size=3, reuse=True))
    assert again["compile_workers"] == "shut_down" and len(ac._pool_set) == 0
    assert not (_children() & started)
    assert again["compile_rss_peak_mb"] >= load["memory"]["rss_mb"]


@pytest.mark.slow
def test_a_length_sweep_recompiles_static_graphs_and_reuses_a_dynamic_one(session: Session) -> None:
    # run --seq --shapes static,dynamic: what each strategy pays for a new length
    ok(call(session, "load", model="bert-tiny", params={"seq": "16"}, compile="default", batch_size=1, dynamic=False))
    static = ok(call(session, "load", model="bert-tiny", params={"seq": "24"}, compile="default", batch_size=1,
                     dynamic=False, reuse=True))
    assert static["batch_reuse"] == "recompiled" and static["compile_s"] > 0 and static["compile_reasons"]
    ok(call(session, "load", model="bert-tiny", params={"seq": "16"}, compile="default", batch_size=1, dynamic=True))
    dynamic = ok(call(session, "load", model="bert-tiny", params={"seq": "24"}, compile="default", batch_size=1,
                      dynamic=True, reuse=True))
    assert dynamic["batch_reuse"] == "reused" and "[1,24]" in dynamic["input_desc"]
    assert ok(call(session, "verify"))["within_tolerance"]


@pytest.mark.slow
def test_infer_tells_of_the_recompiles_a_new_length_sets_off_with_their_reasons(session: Session) -> None:
    # Static graphs (dynamic=false): every new length is a recompile, told once, by the call
    # that set it off; a length already compiled is not.
    ok(call(session, "load", model="bert-tiny:seq=16", compile="default", batch_size=1, dynamic=False))
    assert "recompiles" not in ok(call(session, "infer", batch_size=1, length=16))
    new = ok(call(session, "infer", batch_size=1, length=24))
    assert new["recompiles"] >= 1 and any("size" in r or "24" in r for r in new["compile_reasons"])
    again = ok(call(session, "infer", batch_size=1, length=24))
    assert "recompiles" not in again and "compile_reasons" not in again
