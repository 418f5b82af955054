"""Turning exceptions into error replies: OOM, compiler failures, missing packages, bugs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping

from .protocol import WorkerError

# pip names of import names that differ from them
_PIP_NAMES: Mapping[str, str] = {"PIL": "pillow", "cv2": "opencv-python", "sklearn": "scikit-learn",
                                 "yaml": "pyyaml", "torch_tensorrt": "torch-tensorrt"}

_COMPILER_MODULES = ("torch._dynamo", "torch._inductor", "torch.export", "torch._export", "torch._functorch")


def missing_dependency(module: str, context: str) -> WorkerError:
    """A ``missing_dependency`` error whose message is the pip command that installs ``module``."""
    pip = _PIP_NAMES.get(module, module)
    return WorkerError(
        "missing_dependency",
        f"{context} needs the Python package {pip!r}: install it with `{sys.executable} -m pip install {pip}`",
    )


def is_oom(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_cuda_cache() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _is_compiler_error(exc: BaseException) -> bool:
    return any(type(e).__module__.startswith(_COMPILER_MODULES) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def classify(exc: BaseException, compiling: str | None = None) -> WorkerError:
    """The error reply for an exception raised by an op.

    ``compiling`` names the compile step in progress (e.g. ``torch.compile(mode=default)``):
    any failure there, other than OOM or a missing package, is a ``compile`` error. Outside
    it, an exception from dynamo/inductor/export is still a ``compile`` error (a recompile
    during measurement); everything else is ``internal``. ``detail`` holds the traceback.
    """
    if isinstance(exc, WorkerError):
        return exc
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    oom = next((e for e in _chain(exc) if is_oom(e)), None)
    if oom is not None:
        _free_cuda_cache()
        return WorkerError("oom", f"out of memory: {_summary(oom)}", detail)
    missing = next((e for e in _chain(exc) if isinstance(e, ModuleNotFoundError) and e.name), None)
    if missing is not None and missing.name is not None:
        err = missing_dependency(missing.name.split(".")[0], compiling or "this model")
        err.detail = detail
        return err
    if compiling is not None or _is_compiler_error(exc):
        return WorkerError("compile", f"{compiling or 'compilation'} failed: {_summary(exc)}", detail)
    return WorkerError("internal", _summary(exc), detail)
