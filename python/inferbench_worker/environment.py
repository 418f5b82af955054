"""What ``hello`` reports: Python, PyTorch, CUDA, GPUs, CPU, compiler and zoo packages.

Works without torch: every torch field is then null and ``torch_error`` says why.
Package versions come from installed metadata, so ``hello`` does not pay for importing
transformers or diffusers.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sys
from typing import Any

from . import __version__
from .protocol import PROTOCOL_VERSION, EnvInfo, GpuInfo, HelloResult
from .startup import CPUS_VARIABLE, THREADS_VARIABLE

_MIB = 1024.0 * 1024.0


def hello() -> HelloResult:
    return {"protocol": PROTOCOL_VERSION, "worker_version": __version__, "pid": os.getpid(), "env": environment()}


def environment() -> EnvInfo:
    env: EnvInfo = {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "torch": None,
        "torch_error": None,
        "cuda": None,
        "cudnn": None,
        "triton": package_version("triton"),
        "cuda_available": False,
        "gpus": [],
        "cpu": cpu_name(),
        "cpu_count": cpu_count(),
        "torch_threads": None,
        "torch_interop_threads": None,
        "thread_env": thread_env(),
        "cpu_affinity": cpu_affinity(),
        "cxx": cxx_compiler(),
        "torchvision": package_version("torchvision"),
        "transformers": package_version("transformers"),
        "diffusers": package_version("diffusers"),
    }
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install raising anything else
        env["torch_error"] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ImportError) else str(exc)
        return env
    env["torch"] = str(torch.__version__)
    env["cuda"] = torch.version.cuda
    env["torch_threads"] = torch.get_num_threads()
    env["torch_interop_threads"] = torch.get_num_interop_threads()
    try:
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        env["cudnn"] = str(cudnn) if cudnn is not None else None
        env["cuda_available"] = bool(torch.cuda.is_available())
        if env["cuda_available"]:
            env["gpus"] = [_gpu(torch, i) for i in range(torch.cuda.device_count())]
    except Exception as exc:  # a driver problem must not break the handshake
        env["torch_error"] = f"CUDA query failed: {exc}"
    return env


def _gpu(torch: Any, index: int) -> GpuInfo:
    p = torch.cuda.get_device_properties(index)
    return {
        "index": index,
        "name": str(p.name),
        "memory_mb": round(p.total_memory / _MIB, 1),
        "capability": f"{p.major}.{p.minor}",
        "multiprocessors": int(p.multi_processor_count),
    }


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is absent."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def cxx_compiler() -> str | None:
    """The C++ compiler Inductor's CPU backend and AOTInductor would find, or None."""
    for name in ("g++", "c++", "clang++"):
        path = shutil.which(name)
        if path:
            return path
    return None


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Variables that set how many threads the math libraries start, or where they run.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OMP_WAIT_POLICY", "GOMP_CPU_AFFINITY",
    "KMP_AFFINITY", "KMP_BLOCKTIME", "TORCHINDUCTOR_COMPILE_THREADS", CPUS_VARIABLE, THREADS_VARIABLE,
)


def thread_env() -> dict[str, str]:
    """Those of ``THREAD_VARIABLES`` that are set in this process's environment."""
    return {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}


def cpu_affinity() -> list[int] | None:
    """The CPUs this process may run on, in order; None where the platform does not say."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), which is what torch's threads get."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
