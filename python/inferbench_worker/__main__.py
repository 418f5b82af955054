"""``python -m inferbench_worker``: serve protocol requests on stdin/stdout until EOF or shutdown.

Before anything else the real stdout is kept for protocol lines only, and file descriptor 1
is pointed at stderr, so neither a ``print`` in a user model nor a C library or compiler
subprocess writing to stdout can corrupt the channel. SIGTERM keeps its default action
(immediate exit, even in the middle of a long C call such as a compilation).
Pipelined ``infer`` requests (``in_flight`` > 1) are answered from completion threads
(``pipeline.py``). ``INFERBENCH_CPUS`` and ``INFERBENCH_THREADS`` are applied next (``startup.py``): a value that
cannot be applied ends the process with status 2 before the handshake.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import BinaryIO


def _take_stdout() -> BinaryIO:
    sys.stdout.flush()
    channel_fd = os.dup(1)  # not inherited by child processes (PEP 446)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(channel_fd, "wb")


def main() -> int:
    channel = _take_stdout()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    # Pinning and torch's thread count, before anything starts a thread (see startup.py).
    from .startup import EXIT_STATUS, StartupError, configure

    try:
        configure(os.environ)
    except StartupError as exc:
        print(f"inferbench-worker: {exc}", file=sys.stderr, flush=True)
        return EXIT_STATUS

    from .pipeline import Pipeline
    from .session import Session

    session = Session()

    def write(line: bytes) -> None:
        channel.write(line)
        channel.flush()

    pipeline = Pipeline(session, write)
    requests = sys.stdin.buffer
    try:
        while not session.stopped:
            line = requests.readline()
            if not line:
                break  # EOF: the orchestrator is done with us
            if line.strip():
                pipeline.serve(line)
        pipeline.close()  # every launched request is answered before the exit
    except BrokenPipeError:
        return 0  # the reader went away; nobody is left to answer
    except KeyboardInterrupt:
        return 130
    finally:
        session.close()  # the payload ring's file goes with the worker
    return 0


if __name__ == "__main__":
    sys.exit(main())
