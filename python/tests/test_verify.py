"""The comparison rule of ``verify``."""

from __future__ import annotations

import pytest

from inferbench_worker.verify import compare, tolerance_for

torch = pytest.importorskip("torch")


def test_errors_are_judged_against_the_output_scale() -> None:
    want = [torch.tensor([10.0, 0.0, -5.0])]
    got = [torch.tensor([10.04, 0.04, -5.0])]  # 0.04 off: huge next to 0, small next to 10
    r = compare(got, want, tolerance_for("fp16"))
    assert r["max_abs_err"] == pytest.approx(0.04, rel=1e-3) and r["ref_max_abs"] == 10.0
    assert (r["max_rel_err"] or 0.0) > 1000 and r["within_tolerance"]
    assert not compare(got, want, tolerance_for("fp32"))["within_tolerance"]  # 0.04 > 1e-4 + 1e-3 * 10


def test_nan_and_wrong_results_fail() -> None:
    want = [torch.ones(4), torch.zeros(2)]
    assert not compare([torch.tensor([1.0, float("nan"), 1, 1]), torch.zeros(2)], want,
                       tolerance_for("bf16"))["within_tolerance"]
    flipped = compare([-torch.ones(4), torch.zeros(2)], want, tolerance_for("bf16"))
    assert flipped["cosine"] == pytest.approx(-1.0) and not flipped["within_tolerance"]
    same = compare([t.clone() for t in want], want, tolerance_for("fp32"))
    assert same["max_abs_err"] == 0.0 and same["within_tolerance"]
