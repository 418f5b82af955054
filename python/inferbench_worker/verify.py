"""Comparing a variant's outputs with the eager fp32 reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .protocol import Precision, Tolerance, VerifyResult, WorkerError

if TYPE_CHECKING:
    import torch

# atol, rtol, minimum cosine similarity, by precision (see protocol.md)
_TOLERANCES: dict[Precision, Tolerance] = {
    "fp32": {"atol": 1e-4, "rtol": 1e-3, "cosine_min": 0.999},
    "tf32": {"atol": 1e-2, "rtol": 1e-2, "cosine_min": 0.999},
    "fp16": {"atol": 5e-2, "rtol": 5e-2, "cosine_min": 0.999},
    "amp-fp16": {"atol": 5e-2, "rtol": 5e-2, "cosine_min": 0.999},
    "bf16": {"atol": 5e-2, "rtol": 5e-2, "cosine_min": 0.99},
    "amp-bf16": {"atol": 5e-2, "rtol": 5e-2, "cosine_min": 0.99},
}

_REL_EPS = 1e-6


def tolerance_for(precision: Precision) -> Tolerance:
    return Tolerance(**_TOLERANCES[precision])  # a copy: the caller may change it


def compare(got: list[torch.Tensor], want: list[torch.Tensor], tol: Tolerance) -> VerifyResult:
    """Errors of ``got`` against ``want`` (both fp32 tensor lists in the same order).

    ``max_rel_err`` is the largest ``|got - want| / (|want| + 1e-6)`` over all elements, so
    it is large wherever the reference is near zero. That is why ``within_tolerance`` judges
    the error against the scale of the whole output instead: ``max_abs_err <= atol + rtol *
    ref_max_abs`` (reduced precision rounds relative to the magnitudes being summed, not to
    each result), and the cosine similarity of all outputs concatenated must reach
    ``cosine_min``. NaN or inf anywhere fails.
    """
    import torch

    if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want, strict=False)):
        raise WorkerError(
            "internal", f"variant outputs {_shapes(got)} do not match the reference's {_shapes(want)}"
        )
    if not got:
        raise WorkerError("unsupported", "the model returned no tensors to compare")
    g = torch.cat([t.reshape(-1) for t in got]).double()
    w = torch.cat([t.reshape(-1) for t in want]).to(g.device).double()
    finite = bool(torch.isfinite(g).all()) and bool(torch.isfinite(w).all())
    err = (g - w).abs()
    max_abs = float(err.max()) if err.numel() else 0.0
    max_rel = float((err / (w.abs() + _REL_EPS)).max()) if err.numel() else 0.0
    norms = float(g.norm()) * float(w.norm())
    if norms > 0:
        cosine = float(torch.dot(g, w)) / norms
    else:  # a zero vector: similar only to another zero vector
        cosine = 1.0 if max_abs == 0.0 else 0.0
    ref_max = float(w.abs().max()) if w.numel() else 0.0
    within = finite and max_abs <= tol["atol"] + tol["rtol"] * ref_max and cosine >= tol["cosine_min"]
    return {
        "max_abs_err": max_abs,
        "max_rel_err": max_rel,
        "ref_max_abs": ref_max,
        "cosine": cosine,
        "tolerance": tol,
        "within_tolerance": within,
    }


def _shapes(tensors: list[torch.Tensor]) -> list[tuple[int, ...]]:
    return [tuple(t.shape) for t in tensors]
