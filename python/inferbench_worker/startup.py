"""CPU pinning and torch's thread count, set from the environment when the worker starts.

``INFERBENCH_CPUS`` (a CPU list such as ``0-3,6``) pins the whole process with
``sched_setaffinity`` before any other thread exists, so every thread torch, OpenMP or Inductor
starts later inherits the mask. ``INFERBENCH_THREADS`` (an integer >= 1) imports torch at once
and calls ``torch.set_num_threads``. A value that cannot be applied ends the worker with exit
status 2 and one line on stderr, before the handshake: a benchmark must not run unpinned when
pinning was asked for. Nothing here imports torch unless ``INFERBENCH_THREADS`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

CPUS_VARIABLE = "INFERBENCH_CPUS"
THREADS_VARIABLE = "INFERBENCH_THREADS"

EXIT_STATUS = 2


class StartupError(Exception):
    """A setting from the environment that cannot be applied; the worker exits with status 2."""


def parse_cpu_list(text: str) -> set[int]:
    """The CPUs of a list like ``0-3,6`` (the format of ``taskset -c`` and cpusets)."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty entry in CPU list {text!r}")
        low, sep, high = part.partition("-")
        try:
            first = int(low.strip())
            last = int(high.strip()) if sep else first
        except ValueError:
            raise ValueError(f"{part!r} is not a CPU number or range (e.g. 0-3,6)") from None
        if first < 0 or last < first:
            raise ValueError(f"{part!r} is not a CPU range: give low-high with 0 <= low <= high")
        cpus.update(range(first, last + 1))
    return cpus


def format_cpu_list(cpus: Iterable[int]) -> str:
    """``{0, 1, 2, 3, 6}`` as ``0-3,6``."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_threads(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{text!r} is not a thread count: give an integer >= 1")
    return n


def configure(environ: Mapping[str, str]) -> None:
    """Applies ``INFERBENCH_CPUS`` and ``INFERBENCH_THREADS``; raises ``StartupError``."""
    cpus_text = environ.get(CPUS_VARIABLE, "").strip()
    threads_text = environ.get(THREADS_VARIABLE, "").strip()
    threads = None
    if threads_text:
        try:
            threads = parse_threads(threads_text)
        except ValueError as exc:
            raise StartupError(f"{THREADS_VARIABLE}={threads_text!r}: {exc}") from None
    if cpus_text:
        pin(cpus_text)
    if threads is not None:
        set_torch_threads(threads)


def pin(text: str) -> None:
    try:
        cpus = parse_cpu_list(text)
    except ValueError as exc:
        raise StartupError(f"{CPUS_VARIABLE}={text!r}: {exc}") from None
    setaffinity = getattr(os, "sched_setaffinity", None)
    if setaffinity is None:
        raise StartupError(f"{CPUS_VARIABLE}={text!r}: this platform cannot pin a process to CPUs")
    try:
        setaffinity(0, cpus)
        actual = os.sched_getaffinity(0)
    except OSError as exc:
        raise StartupError(f"{CPUS_VARIABLE}={text!r}: cannot pin to CPUs {format_cpu_list(cpus)}: "
                           f"{exc.strerror or exc}{_available()}") from None
    missing = cpus - actual
    if missing:  # the kernel pinned to the permitted part only: say so rather than run elsewhere
        raise StartupError(f"{CPUS_VARIABLE}={text!r}: CPUs {format_cpu_list(missing)} are not available to "
                           f"this process{_available()}")


def _available() -> str:
    """Which CPUs there are to pin to, for an error message: the cgroup's cpuset, else the online CPUs."""
    for path, what in (("/sys/fs/cgroup/cpuset.cpus.effective", "its cpuset allows"),
                       ("/sys/devices/system/cpu/online", "online CPUs:")):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text:
            return f" ({what} {text})"
    return ""


def set_torch_threads(n: int) -> None:
    """``torch.set_num_threads(n)``; without torch nothing happens (``hello`` reports why)."""
    try:
        import torch
    except Exception:
        return
    torch.set_num_threads(n)
