"""inferbench worker: runs PyTorch models for the inferbench orchestrator.

The orchestrator starts ``python -m inferbench_worker`` and speaks the line-delimited JSON
protocol of ``docs/protocol.md`` (mirrored in :mod:`inferbench_worker.protocol`).
Nothing here imports torch at module import time, so ``hello``, ``models`` and the
``synthetic`` model work on a Python without PyTorch.
"""

__version__ = "0.1.0"
