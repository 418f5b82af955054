"""Golden transcripts: request/reply lines of the real worker, the contract with the Swift side.

Each file under ``Tests/InferbenchCoreTests/Fixtures/transcripts/`` holds one JSON object per
line, ``{"request": ..., "reply": ...}``: ``request`` is the request object exactly as the Swift
``Worker`` encodes it (all of its keys; or, for a line no Swift type can produce, the raw line
as a string or a hand-made object), ``reply`` the worker's reply. The Swift suite
``ProtocolTranscriptTests`` replays every reply through the Swift decoder and fails when a key
the worker sent is not decoded there, and encodes every accepted request from the Swift types.

``INFERBENCH_UPDATE_TRANSCRIPTS=1`` rewrites the files from this run. Otherwise this test fails
when a reply's structure differs from the committed one: the key sets of every object, and
the JSON type of every value (numbers as one type; ``null`` and ``[]`` match anything, since
what is null or empty depends on the machine, e.g. CUDA figures). Timings, pids and versions
are not compared.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import Worker

REPO = Path(__file__).resolve().parents[2]
TRANSCRIPTS = REPO / "Tests" / "InferbenchCoreTests" / "Fixtures" / "transcripts"
UPDATE = os.environ.get("INFERBENCH_UPDATE_TRANSCRIPTS") == "1"

# User models for the error kinds only a model can cause, written into the worker's directory.
USER_MODELS = '''
import torch


class Fails(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("this model fails on purpose")


class Breaks(torch.nn.Module):
    def forward(self, x):
        torch._dynamo.graph_break()
        return x + 1


def raises():
    return Fails(), lambda batch, device: (torch.zeros(batch, 4, device=device),)


def graph_break():
    return Breaks(), lambda batch, device: (torch.zeros(batch, 4, device=device),)


def needs_a_package():
    import inferbench_no_such_package  # noqa: F401
'''


def load_args(model: str, **overrides: Any) -> dict[str, Any]:
    """``load`` arguments as Swift's ``LoadArgs`` encodes them (``dynamic`` and ``reuse`` only when set)."""
    args: dict[str, Any] = {"model": model, "params": {}, "device": "cpu", "precision": "fp32", "compile": "eager",
                            "batch_size": 1, "seed": 0, "channels_last": False, "fullgraph": False}
    args.update(overrides)
    return args


def measure(batch: int, iterations: int, mode: str) -> dict[str, Any]:
    return {"batch_size": batch, "iterations": iterations, "mode": mode}


Step = tuple[str, dict[str, Any]] | bytes  # (op, args), or a raw line

SESSIONS: dict[str, list[Step]] = {
    "synthetic": [
        ("hello", {}),
        ("models", {}),
        ("check", {"model": "synthetic", "params": {"median_ms": "1"}}),
        ("load", load_args("synthetic", params={"median_ms": "1"}, batch_size=2)),
        ("measure", measure(2, 5, "latency")),
        ("measure", measure(2, 5, "throughput")),
        ("infer", {"batch_size": 2}),
        ("infer", {"batch_size": 2, "in_flight": 2}),  # pipelined (alone here: one reply, as usual)
        ("payload_open", {"slots": 2, "max_batch": 2, "lengths": [], "pool": 4}),
        ("infer", {"batch_size": 2, "payload": {"slot": 0, "rows": 1, "checksum": True}}),
        ("infer", {"batch_size": 2, "in_flight": 2, "payload": {"slot": 1, "rows": 2, "checksum": False}}),
        ("verify", {"batch_size": 2}),
        ("memory", {"reset_peak": False}),
        ("unload", {}),
        ("shutdown", {}),
    ],
    "mlp-cpu": [
        ("hello", {}),
        ("check", {"model": "mlp", "params": {"in": "8", "hidden": "16", "out": "4", "layers": "1"}}),
        ("load", load_args("mlp", params={"in": "8", "hidden": "16", "out": "4", "layers": "1"})),
        ("measure", measure(1, 5, "latency")),
        ("measure", measure(1, 5, "throughput")),
        ("infer", {"batch_size": 3}),
        ("verify", {"batch_size": 1}),
        ("memory", {"reset_peak": True}),
        ("load", load_args("mlp", params={"in": "8", "hidden": "16", "out": "4", "layers": "1"}, batch_size=2,
                           reuse=True)),
        ("unload", {}),
    ],
    "errors": [
        b"{not json\n",  # bad_request with "id": null
        ("mesure", {}),  # bad_request: unknown op
        ("measure", measure(1, 5, "latency")),  # bad_request: nothing loaded
        ("check", {"model": "mlp:layers=0", "params": {}}),  # bad_request from the catalogue
        ("load", load_args("mlp", precision="tf32")),  # unsupported: tf32 on a CPU
        ("load", load_args("user_models.py:needs_a_package")),  # missing_dependency
        ("load", load_args("user_models.py:graph_break", compile="default", fullgraph=True)),  # compile
        ("load", load_args("user_models.py:raises")),  # internal
    ],
}


def _run(name: str, steps: list[Step], cwd: Path) -> list[dict[str, Any]]:
    worker = Worker(cwd=cwd)
    lines: list[dict[str, Any]] = []
    try:
        for n, step in enumerate(steps, start=1):
            if isinstance(step, bytes):
                lines.append({"request": step.decode().rstrip("\n"), "reply": worker.send_raw(step)})
                continue
            op, args = step
            request = {"id": n, "op": op, "args": args}
            reply = worker.send_raw((json.dumps(request) + "\n").encode())
            assert reply["id"] == n, f"{name}: reply {reply} to request {n}"
            lines.append({"request": request, "reply": reply})
    finally:
        worker.kill()
    return lines


def shape(value: Any) -> Any:
    """The structure of a JSON value: key sets and value types, not the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        kinds: list[Any] = []
        for item in map(shape, value):
            if item not in kinds:
                kinds.append(item)
        return kinds
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Where two shapes differ; None (null) and [] (an empty list) match anything."""
    if want is None or got is None or want == [] or got == []:
        return []
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}: key {k!r} is new" for k in sorted(set(got) - set(want))]
        out += [f"{path}: key {k!r} is gone" for k in sorted(set(want) - set(got))]
        for k in sorted(set(want) & set(got)):
            out += differences(want[k], got[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        out = []
        for g in got:  # every kind of element sent now must match a kind committed
            if not any(not differences(w, g) for w in want):
                out.append(f"{path}[]: element {g} matches none of {want}")
        return out
    return [] if want == got else [f"{path}: was {want}, is {got}"]


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_transcript(name: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    (tmp_path / "user_models.py").write_text(USER_MODELS)
    lines = _run(name, SESSIONS[name], tmp_path)
    path = TRANSCRIPTS / f"{name}.jsonl"
    if UPDATE:
        TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line, sort_keys=True, allow_nan=False) + "\n" for line in lines))
        return
    assert path.exists(), f"{path} is missing: run with INFERBENCH_UPDATE_TRANSCRIPTS=1 to write it"
    committed = [json.loads(text) for text in path.read_text().splitlines() if text.strip()]
    assert [c["request"] for c in committed] == [line["request"] for line in lines], (
        f"{path.name}: the requests changed; run with INFERBENCH_UPDATE_TRANSCRIPTS=1 to rewrite it")
    problems = [f"line {n}{p}" for n, (c, line) in enumerate(zip(committed, lines, strict=True), start=1)
                for p in differences(shape(c["reply"]), shape(line["reply"]))]
    assert not problems, (f"{path.name}: the worker's replies changed structure (update the Swift decoder and "
                          "rewrite the transcripts with INFERBENCH_UPDATE_TRANSCRIPTS=1):\n" + "\n".join(problems))


def test_every_error_kind_but_oom_is_in_the_transcripts() -> None:
    """``oom`` cannot be caused honestly on a CPU (a failed CPU allocation is not reported as one)."""
    from inferbench_worker.protocol import ERROR_KINDS

    seen = set()
    for path in TRANSCRIPTS.glob("*.jsonl"):
        for text in path.read_text().splitlines():
            reply = json.loads(text)["reply"]
            if not reply["ok"]:
                seen.add(reply["error"]["kind"])
    assert seen == set(ERROR_KINDS) - {"oom"}
