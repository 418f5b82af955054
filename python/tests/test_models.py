"""Model names, the zoo listing, user models and output flattening."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inferbench_worker import models
from inferbench_worker.protocol import WorkerError
from inferbench_worker.session import Session

from conftest import call, error_of, ok


def test_resolve_merges_defaults_name_params_and_extra_params() -> None:
    ref = models.resolve("mlp:hidden=64, layers=3", {"layers": "4"})
    assert ref.name == "mlp"
    assert ref.params == {"in": "512", "hidden": "64", "out": "512", "layers": "4"}


def test_unknown_model_suggests_nearest(session: Session) -> None:
    err = error_of(call(session, "load", model="bert-bas"))
    assert err["kind"] == "bad_request"
    assert "bert-base" in err["message"] and "did you mean" in err["message"]


def test_unknown_parameter_names_valid_ones() -> None:
    with pytest.raises(WorkerError) as info:
        models.resolve("bert-base:sequence=512")
    assert info.value.kind == "bad_request"
    assert "sequence" in info.value.message and "seq" in info.value.message


def test_bad_parameter_value(session: Session) -> None:
    err = error_of(call(session, "load", model="bert-tiny:seq=abc"))
    assert err["kind"] == "bad_request" and "seq" in err["message"]
    err = error_of(call(session, "load", model="bert-tiny:seq=4096"))
    assert err["kind"] == "bad_request" and "512" in err["message"]


def test_models_op_lists_the_zoo(session: Session) -> None:
    listing = ok(call(session, "models"))
    names = [m["name"] for m in listing]
    assert names == ["mlp", "resnet18", "resnet50", "bert-base", "bert-tiny", "unet-tiny", "sd15-unet", "sd15",
                     "sd-tiny", "synthetic"]
    sd15 = next(m for m in listing if m["name"] == "sd15")
    assert sd15["params"] == {"size": "512", "steps": "50", "cfg": "7.5"}
    bert = next(m for m in listing if m["name"] == "bert-base")
    assert bert["params"] == {"seq": "128"} and bert["needs"] == ["torch", "transformers"]
    assert next(m for m in listing if m["name"] == "synthetic")["needs"] == []


def test_user_model_name_checks(tmp_path: Path) -> None:
    with pytest.raises(WorkerError, match="not found"):
        models.resolve(str(tmp_path / "missing.py") + ":build")
    (tmp_path / "m.py").write_text("x = 1\n")
    with pytest.raises(WorkerError, match="not a Python function name"):
        models.resolve(str(tmp_path / "m.py") + ":1bad")


def test_flatten_outputs() -> None:
    torch = pytest.importorskip("torch")
    from collections import OrderedDict

    from inferbench_worker.outputs import describe_outputs, flatten

    a, b, c = torch.zeros(1), torch.ones(2), torch.full((3,), 2.0)
    nested = (a, {"x": b, "skip": None, "y": [c]}, 4)
    assert [t.shape[0] for t in flatten(nested)] == [1, 2, 3]
    assert flatten(OrderedDict(last_hidden_state=b, pooler_output=a))[0] is b
    assert describe_outputs((a, b)) == "float32[1], float32[2]"



def test_tensorrt_without_torch_tensorrt_says_how_to_install() -> None:
    import importlib.util
    import json

    import pytest

    if importlib.util.find_spec("torch_tensorrt") is not None:
        pytest.skip("torch_tensorrt is installed here")
    from inferbench_worker.session import Session

    params = {"hidden": "16", "in": "8", "out": "8", "layers": "1"}
    args = {"model": "mlp", "params": params, "device": "cpu", "compile": "tensorrt"}
    request = {"id": 1, "op": "load", "args": args}
    reply = Session().handle_line(json.dumps(request).encode())
    assert reply["ok"] is False
    assert reply["error"]["kind"] == "missing_dependency"
    assert "pip install torch-tensorrt" in reply["error"]["message"]


@pytest.mark.parametrize(
    "model, params, fragments",
    [
        ("synthetic:dist=foo", {}, ("'synthetic'", "dist", "constant, normal")),
        ("mlp:layers=0", {}, ("'mlp'", "layers", ">= 1")),
        ("bert-base:seq=100000", {}, ("'bert-base'", "seq", "between 1 and 512")),
        ("bert-tiny", {"seq": "x"}, ("seq", "integer")),
        ("sd15:size=100", {}, ("size", "multiple of 64")),
        ("unet-tiny:cfg=maybe", {}, ("cfg", "true or false")),
        ("missing.py:build", {}, ("missing.py", "not found")),
        ("missing.pt2", {}, ("missing.pt2", "not found")),
    ],
)
def test_check_rejects_bad_parameters_without_building(session: Session, model: str, params: dict[str, str],
                                                      fragments: tuple[str, ...]) -> None:
    err = error_of(call(session, "check", model=model, params=params))
    assert err["kind"] == "bad_request"
    assert all(f in err["message"] for f in fragments), err["message"]


def test_check_accepts_good_names_and_returns_full_parameters(session: Session) -> None:
    assert ok(call(session, "check", model="mlp:layers=3", params={"hidden": 64})) == {
        "model": "mlp", "params": {"in": "512", "hidden": "64", "out": "512", "layers": "3"}}
    assert ok(call(session, "check", model="sd15"))["params"]["steps"] == "50"


def test_check_builds_nothing_and_imports_no_torch() -> None:
    code = ("import json, sys; from inferbench_worker.session import Session; s = Session()\n"
            "for m in ('bert-base:seq=256', 'resnet50', 'sd15', 'synthetic:dist=lognormal'):\n"
            "    r = s.handle_line(json.dumps({'id': 1, 'op': 'check', 'args': {'model': m}}).encode())\n"
            "    assert r['ok'], r\n"
            "assert not [n for n in ('torch', 'torchvision', 'transformers', 'diffusers') if n in sys.modules]\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_check_reads_a_user_file_without_running_it(session: Session, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.py").write_text("raise SystemExit('never run')\n\ndef build():\n    pass\n")
    (tmp_path / "broken.py").write_text("def build(:\n")
    assert ok(call(session, "check", model="good.py:build")) == {"model": "good.py:build", "params": {}}
    err = error_of(call(session, "check", model="good.py:make"))
    assert err["kind"] == "bad_request" and "'make'" in err["message"] and "build" in err["message"]
    err = error_of(call(session, "check", model="broken.py:build"))
    assert err["kind"] == "bad_request" and "not valid Python" in err["message"]
    err = error_of(call(session, "check", model="good.py:build", params={"x": "1"}))
    assert err["kind"] == "bad_request" and "takes no parameters" in err["message"]


def test_check_argument_errors(session: Session) -> None:
    assert "needs argument 'model'" in error_of(call(session, "check"))["message"]
    assert "valid: model, params" in error_of(call(session, "check", model="mlp", device="cpu"))["message"]
