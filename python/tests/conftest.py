"""Shared fixtures: an in-process session and a real worker subprocess.

The suite pins torch to one thread (in-process and in subprocesses, through
OMP_NUM_THREADS): on a small shared CPU, two OpenMP threads competing with another job
make tiny models a hundred times slower and the timings meaningless.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inferbench_worker.environment import THREAD_VARIABLES
from inferbench_worker.session import Session

PYTHON_DIR = Path(__file__).resolve().parents[1]

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass


def call(session: Session, op: str, **args: Any) -> dict[str, Any]:
    """Sends one request through the in-process dispatcher, as bytes, like the real loop does."""
    line = json.dumps({"id": 1, "op": op, "args": args}).encode()
    reply = session.handle_line(line)
    json.dumps(reply, allow_nan=False)  # every reply must be strict JSON
    return reply


def ok(reply: dict[str, Any]) -> Any:
    assert reply["ok"], reply.get("error")
    return reply["result"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert not reply["ok"], reply.get("result")
    return reply["error"]


@pytest.fixture
def session() -> Iterator[Session]:
    s = Session()
    yield s
    s.handle_line(b'{"id": 0, "op": "unload", "args": {}}')


class Worker:
    """``python -m inferbench_worker`` as the orchestrator runs it."""

    def __init__(self, extra_path: list[Path] | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        """``env`` adds variables. Thread and pinning variables are not inherited (OMP_NUM_THREADS
        is 1), so what ``hello`` reports of them is the same on every machine."""
        environ = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        paths = [str(p) for p in (extra_path or [])] + [str(PYTHON_DIR)]
        if environ.get("PYTHONPATH"):
            paths.append(environ["PYTHONPATH"])
        environ["PYTHONPATH"] = os.pathsep.join(paths)
        environ["OMP_NUM_THREADS"] = "1"
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inferbench_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=environ, cwd=cwd or PYTHON_DIR,
        )
        self._next_id = 0

    def send_raw(self, line: bytes) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        out = self.proc.stdout.readline()
        if not out:
            log = self.stderr_text()
            status = self.proc.returncode
            raise AssertionError(f"worker ended (status {status}) without a reply; log tail:\n{log[-3000:]}")
        reply: dict[str, Any] = json.loads(out)
        return reply

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        self._next_id += 1
        reply = self.send_raw((json.dumps({"id": self._next_id, "op": op, "args": args}) + "\n").encode())
        assert reply["id"] == self._next_id
        return reply

    def close_stdin_and_wait(self, timeout: float = 30) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=timeout)

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def remaining_stdout(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.kill()


def shadow_package(root: Path, name: str) -> Path:
    """A directory that, put first on PYTHONPATH, makes ``import name`` fail as if absent."""
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{name}'\", name={name!r})\n"
    )
    return root
