"""User models from .pt2 files: a saved ExportedProgram (dynamic and static batch), an
AOTInductor package (one slow test builds one), and the errors for bad files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from inferbench_worker import models, pt2
from inferbench_worker.protocol import WorkerError
from inferbench_worker.session import Session

from conftest import call, error_of, ok

torch = pytest.importorskip("torch")


class TinyMLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


def export(path: Path, dynamic: bool) -> Path:
    torch.manual_seed(0)
    shapes = ({0: torch.export.Dim("batch")},) if dynamic else None
    program = torch.export.export(TinyMLP().eval(), (torch.randn(2, 8),), dynamic_shapes=shapes)
    torch.export.save(program, path)
    return path


def test_exported_program_with_dynamic_batch_runs_at_two_batch_sizes(session: Session, tmp_path: Path) -> None:
    path = export(tmp_path / "mlp.pt2", dynamic=True)
    assert pt2.inspect(str(path)).kind == "exported_program"
    load = ok(call(session, "load", model=str(path), batch_size=3))
    assert load["input_desc"] == "float32[3,8]" and load["output_desc"] == "float32[3,4]"
    assert load["parameters"] == 8 * 16 + 16 + 16 * 4 + 4
    assert load["flops_per_sample"] == 2 * (8 * 16 + 16 * 4)
    assert "steps_per_call" not in load
    assert len(ok(call(session, "measure", iterations=3))["host_ns"]) == 3
    assert len(ok(call(session, "measure", iterations=3, batch_size=5))["host_ns"]) == 3
    assert ok(call(session, "verify", batch_size=5))["within_tolerance"]


def test_exported_program_inputs_from_shape_parameter(session: Session, tmp_path: Path) -> None:
    path = export(tmp_path / "mlp.pt2", dynamic=True)
    load = ok(call(session, "load", model=f"{path}:shape=1x8", batch_size=4))
    assert load["input_desc"] == "float32[4,8]"
    err = error_of(call(session, "load", model=f"{path}:shape=1x9"))
    assert err["kind"] == "bad_request" and "dimension 1 is static" in err["message"]


def test_exported_program_with_static_batch_explains_the_fix(session: Session, tmp_path: Path) -> None:
    path = export(tmp_path / "static.pt2", dynamic=False)
    ok(call(session, "load", model=str(path), batch_size=2))
    err = error_of(call(session, "measure", iterations=1, batch_size=4))
    assert err["kind"] == "unsupported"
    assert "static batch dimension of 2" in err["message"] and "--batch 2" in err["message"]
    assert "Dim('batch')" in err["message"]


def test_exported_program_compiles_like_any_module(session: Session, tmp_path: Path) -> None:
    path = export(tmp_path / "mlp.pt2", dynamic=True)
    load = ok(call(session, "load", model=str(path), precision="bf16", batch_size=2))
    assert load["input_desc"] == "bfloat16[2,8]"
    assert ok(call(session, "verify"))["within_tolerance"]


def test_bad_pt2_files_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(WorkerError, match="not found.*torch.export.save"):
        models.resolve(str(tmp_path / "missing.pt2"))
    (tmp_path / "text.pt2").write_text("not a zip")
    with pytest.raises(WorkerError, match="not a zip archive"):
        models.resolve(str(tmp_path / "text.pt2"))
    with zipfile.ZipFile(tmp_path / "other.pt2", "w") as z:
        z.writestr("stuff/readme.txt", "hello")
    with pytest.raises(WorkerError, match="neither an ExportedProgram"):
        models.resolve(str(tmp_path / "other.pt2"))
    torch.save(TinyMLP().state_dict(), tmp_path / "weights.pt2")
    with pytest.raises(WorkerError, match="torch.save checkpoint"):
        models.resolve(str(tmp_path / "weights.pt2"))
    path = export(tmp_path / "mlp.pt2", dynamic=True)
    with pytest.raises(WorkerError, match="no parameter seq; valid: inputs, shape, dtype"):
        models.resolve(f"{path}:seq=3")


def test_inputs_file_and_shape_errors(session: Session, tmp_path: Path) -> None:
    path = export(tmp_path / "mlp.pt2", dynamic=True)
    err = error_of(call(session, "load", model=f"{path}:inputs={tmp_path / 'none.pt'}"))
    assert err["kind"] == "bad_request" and "not found" in err["message"]
    torch.save((torch.ones(1, 8), torch.ones(1, 8)), tmp_path / "two.pt")
    err = error_of(call(session, "load", model=f"{path}:inputs={tmp_path / 'two.pt'}"))
    assert "takes 1 tensor input(s) (x), got 2" in err["message"]
    torch.save(torch.ones(3, 8), tmp_path / "one.pt")
    load = ok(call(session, "load", model=f"{path}:inputs={tmp_path / 'one.pt'}", batch_size=5))
    assert load["input_desc"] == "float32[5,8]"  # the example rows, repeated to the batch size
    for bad, words in (("shape=1xx8", "not like 1x3x224x224"), ("shape=1x8,dtype=float8", "unknown dtype"),
                       ("shape=1x8+1x8,dtype=int64+int64+int64", "2 shape(s) but 3 dtype(s)")):
        err = error_of(call(session, "load", model=f"{path}:{bad}"))
        assert err["kind"] == "bad_request" and words in err["message"], err


@pytest.mark.slow
def test_aot_inductor_package_runs_as_packaged(session: Session, tmp_path: Path) -> None:
    """The only test that builds a package: AOTInductor compiles C++ (~30 s on a small CPU)."""
    torch.manual_seed(0)
    program = torch.export.export(TinyMLP().eval(), (torch.randn(2, 8),))
    path = torch._inductor.aoti_compile_and_package(program, package_path=str(tmp_path / "pkg.pt2"))
    assert pt2.inspect(path) == pt2.Pt2File(path, "aoti_package", "cpu")

    err = error_of(call(session, "load", model=path))
    assert err["kind"] == "bad_request" and "records no input shapes" in err["message"]
    err = error_of(call(session, "load", model=f"{path}:shape=2x8", compile="default"))
    assert err["kind"] == "unsupported" and "--compile eager" in err["message"]
    err = error_of(call(session, "load", model=f"{path}:shape=2x8", precision="fp16"))
    assert err["kind"] == "unsupported" and "--precision fp32" in err["message"]

    load = ok(call(session, "load", model=f"{path}:shape=2x8", batch_size=2))
    assert load["output_desc"] == "float32[2,4]" and load["parameters"] is None and load["flops_per_sample"] is None
    assert len(ok(call(session, "measure", iterations=3))["host_ns"]) == 3
    err = error_of(call(session, "verify"))
    assert err["kind"] == "unsupported" and "no eager model" in err["message"]
    # Compiled for batch 2 only: the package's own input check rejects 3 instead of computing garbage.
    err = error_of(call(session, "measure", iterations=1, batch_size=3))
    assert err["kind"] == "unsupported" and "expected: 2, but got: 3" in err["message"], err
    torch.save((torch.randn(2, 8),), tmp_path / "inputs.pt")
    ok(call(session, "load", model=f"{path}:inputs={tmp_path / 'inputs.pt'}", batch_size=2))
    err = error_of(call(session, "load", model=f"{path}:shape=2x8,dtype=float64", batch_size=2))
    assert err["kind"] == "unsupported" and "unmatched dtype" in err["message"]
