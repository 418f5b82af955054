"""The ``smoke`` op behind ``inferbench doctor``: does torch.compile / AOTInductor work here?

Each check runs in a child Python process (``python -m inferbench_worker.smoke KIND DEVICE``),
because a broken toolchain can crash the process that loads generated code (an AOTInductor
package was seen to segfault in ``aoti_load_package`` with torch 2.11): the worker survives
and reports ``ok: false`` with the signal instead of dying. A failed check is a result, not
an error reply.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from .protocol import WorkerError, bad_request

if TYPE_CHECKING:
    import torch

SMOKE_KINDS = ("compile", "aot-inductor")
_WARMUP = 10
_CALLS = 50


class SmokeResult(TypedDict):
    ok: bool
    eager_ms: float | None
    compiled_ms: float | None
    compile_s: float | None
    max_abs_err: float | None
    error: str | None


@dataclass(frozen=True)
class SmokeArgs:
    kind: str
    device: str

    @staticmethod
    def parse(args: Mapping[str, Any]) -> SmokeArgs:
        unknown = sorted(set(args) - {"kind", "device"})
        if unknown:
            raise bad_request(f"op 'smoke' got unknown argument(s) {', '.join(unknown)}; valid: kind, device")
        kind, device = args.get("kind"), args.get("device", "cpu")
        if kind not in SMOKE_KINDS:
            raise bad_request(f"op 'smoke': kind must be one of {', '.join(SMOKE_KINDS)}, got {kind!r}")
        if not isinstance(device, str) or not (device in ("cpu", "cuda") or device.startswith("cuda:")):
            raise bad_request(f"op 'smoke': device must be cpu, cuda or cuda:N, got {device!r}")
        return SmokeArgs(kind, device)


def _empty(error: str | None = None) -> SmokeResult:
    return {"ok": error is None, "eager_ms": None, "compiled_ms": None, "compile_s": None,
            "max_abs_err": None, "error": error}


# --- in the worker ----------------------------------------------------------------------


def run_isolated(args: SmokeArgs) -> SmokeResult:
    """Runs one check in a child process and returns its result, or why it produced none."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "inferbench_worker.smoke", args.kind, args.device],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False,
    )
    log = proc.stderr.decode(errors="replace")
    sys.stderr.write(log)  # the child's diagnostics belong in the run's log too
    lines = proc.stdout.decode(errors="replace").strip().splitlines()
    if proc.returncode == 0 and lines:
        try:
            result: SmokeResult = json.loads(lines[-1])
            return result
        except json.JSONDecodeError:
            pass
    last = next((ln.strip() for ln in reversed(log.splitlines()) if ln.strip()), "no output")
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        return _empty(f"the {args.kind} smoke test crashed its process ({name}); last log line: {last}")
    return _empty(f"the {args.kind} smoke test process exited with status {proc.returncode}: {last}")


# --- in the child -----------------------------------------------------------------------


def _median_ms(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    for _ in range(_WARMUP):
        fn()
    sync()
    times = []
    for _ in range(_CALLS):
        t0 = time.perf_counter_ns()
        fn()
        sync()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e6


def _device(name: str) -> torch.device:
    import torch

    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WorkerError("unsupported", f"{name}: CUDA is not available to torch {torch.__version__}")
    return device


def _sync_for(device: torch.device) -> Callable[[], None]:
    import torch

    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def compile_check(device_name: str) -> SmokeResult:
    """relu(x @ W + 0.1), x 32x512 and W 512x512: eager against torch.compile (default mode)."""
    import torch

    device = _device(device_name)
    sync = _sync_for(device)
    torch.manual_seed(0)
    x = torch.randn(32, 512, device=device)
    w = torch.randn(512, 512, device=device)

    def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ w + 0.1)

    result = _empty()
    with torch.inference_mode():
        want = f(x, w)
        result["eager_ms"] = _median_ms(lambda: f(x, w), sync)
        compiled = torch.compile(f)
        t0 = time.perf_counter()
        try:
            got = compiled(x, w)
            sync()
        except Exception as exc:
            return _empty(_summary(exc))
        result["compile_s"] = time.perf_counter() - t0
        result["compiled_ms"] = _median_ms(lambda: compiled(x, w), sync)
        result["max_abs_err"] = float((got - want).abs().max())
    return result


def aot_check(device_name: str) -> SmokeResult:
    """A 2-layer MLP through export, aoti_compile_and_package and aoti_load_package."""
    import torch

    device = _device(device_name)
    sync = _sync_for(device)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512))
    model = model.eval().to(device)
    x = torch.randn(32, 512, device=device)
    result = _empty()
    with torch.inference_mode():
        want = model(x)
        result["eager_ms"] = _median_ms(lambda: model(x), sync)
    with tempfile.TemporaryDirectory(prefix="inferbench-smoke-") as workdir:
        t0 = time.perf_counter()
        try:
            with torch.no_grad():
                exported = torch.export.export(model, (x,))
                path = torch._inductor.aoti_compile_and_package(
                    exported, package_path=os.path.join(workdir, "smoke.pt2"))
            index = device.index if device.type == "cuda" and device.index is not None else -1
            loaded = torch._inductor.aoti_load_package(path, device_index=index)
        except Exception as exc:
            return _empty(_summary(exc))
        result["compile_s"] = time.perf_counter() - t0
        with torch.inference_mode():
            got = loaded(x)
            result["compiled_ms"] = _median_ms(lambda: loaded(x), sync)
        result["max_abs_err"] = float((got - want).abs().max())
    return result


def _summary(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _die_with_parent() -> None:
    """Linux: get SIGKILL if the worker dies, so a killed worker leaves no compiling orphan."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    """Child entry point: prints one JSON result line on the real stdout."""
    _die_with_parent()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # compiler chatter goes to stderr, the result alone to stdout
    sys.stdout = sys.stderr
    kind, device = argv
    try:
        result = compile_check(device) if kind == "compile" else aot_check(device)
    except WorkerError as exc:
        result = _empty(exc.message)
    except Exception as exc:
        result = _empty(_summary(exc))
    channel.write(json.dumps(result) + "\n")
    channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
