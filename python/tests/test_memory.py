"""The variant's own memory figures: a load's high-water marks reported apart, the peak
counters reset after the load, and verify's fp32 reference left out of later readings."""

from __future__ import annotations

import contextlib
import sys
import types
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from inferbench_worker import loaded, memory, models
from inferbench_worker.session import Session

from conftest import call, error_of, ok

MLP = "mlp:in=64,hidden=128,out=32"


class FakeCuda:
    """The part of ``torch.cuda`` that memory.py reads, with an allocator driven by the test."""

    def __init__(self) -> None:
        self.allocated = 0.0
        self.peak_allocated = 0.0
        self.reserved = 0.0
        self.peak_reserved = 0.0

    def use(self, allocated_mb: float, reserved_mb: float) -> None:
        self.allocated, self.reserved = allocated_mb * 2**20, reserved_mb * 2**20
        self.peak_allocated = max(self.peak_allocated, self.allocated)
        self.peak_reserved = max(self.peak_reserved, self.reserved)

    def is_initialized(self) -> bool:
        return True

    def current_device(self) -> int:
        return 0

    def max_memory_allocated(self, index: int) -> float:
        return self.peak_allocated

    def max_memory_reserved(self, index: int) -> float:
        return self.peak_reserved

    def mem_get_info(self, index: int) -> tuple[int, int]:
        return 1000 * 2**20, 2000 * 2**20

    def reset_peak_memory_stats(self, index: int) -> None:
        self.peak_allocated, self.peak_reserved = self.allocated, self.reserved


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCuda]:
    fake = FakeCuda()
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=fake))
    memory.forget_carried_peaks()
    yield fake
    memory.forget_carried_peaks()


def peaks() -> tuple[float | None, float | None]:
    m = memory.snapshot(None, reset_peak=False)
    return m["peak_allocated_mb"], m["peak_reserved_mb"]


def test_a_stretch_left_out_of_the_peaks(cuda: FakeCuda) -> None:
    cuda.use(100, 120)  # the variant, measured
    cuda.use(50, 120)
    with memory.excluded_from_peaks(None):
        cuda.use(500, 600)  # verify's reference
        cuda.use(50, 120)  # freed before the stretch ends
    assert peaks() == (100, 120)  # as if verify had not run
    assert memory.snapshot(None, reset_peak=True)["peak_allocated_mb"] == 100
    assert peaks() == (50, 120)  # the carried peak went with the reset
    cuda.use(150, 160)  # the variant again, higher
    assert peaks() == (150, 160)


def test_what_a_stretch_still_holds_counts(cuda: FakeCuda) -> None:
    cuda.use(100, 120)
    with memory.excluded_from_peaks(None):
        cuda.use(300, 320)  # not freed
    assert peaks() == (300, 320)


def test_compile_peaks_then_a_fresh_count(cuda: FakeCuda) -> None:
    cuda.use(900, 1000)  # the compile
    cuda.use(100, 400)
    compile_peaks = memory.compile_peaks(None)
    assert (compile_peaks.allocated_mb, compile_peaks.reserved_mb) == (900, 1000)
    memory.reset_peaks(None)
    assert peaks() == (100, 400)


def test_no_cuda_figures_on_a_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    p = memory.compile_peaks(None)
    if "torch" not in sys.modules or not sys.modules["torch"].cuda.is_initialized():
        assert p.allocated_mb is None and p.reserved_mb is None
    if sys.platform.startswith("linux"):
        assert p.rss_mb is not None and p.rss_mb > 10


def test_cpu_load_reports_the_compile_phase(session: Session) -> None:
    pytest.importorskip("torch")
    load = ok(call(session, "load", model=MLP, batch_size=2))
    assert load["gc"] == "disabled_in_timed_loops" and load["compile_workers"] == "none"
    assert load["compile_peak_allocated_mb"] is None and load["compile_peak_reserved_mb"] is None
    assert load["compile_rss_peak_mb"] >= load["memory"]["rss_mb"] > 10
    lat = ok(call(session, "measure", iterations=10))
    assert lat["proc"]["gc_collections"] == 0 and lat["proc"]["cpu_time_s"] > 0
    again = ok(call(session, "load", model=MLP, batch_size=4, reuse=True))
    assert again["batch_reuse"] == "reused" and again["compile_workers"] == "none"
    assert again["compile_rss_peak_mb"] > 10


class _Watch:
    """Weak references to what verify's reference made, checked when its peak exclusion ends."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref[Any]] = []
        self.alive_at_end: list[str] | None = None

    def alive(self) -> list[str]:
        return [type(o).__name__ for r in self.refs if (o := r()) is not None]


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> _Watch:
    pytest.importorskip("torch")
    w = _Watch()
    build = models.build
    real_compare = loaded.compare

    def watched_build(ref: Any) -> Any:
        module, factory = build(ref)
        w.refs.append(weakref.ref(module))
        return module, factory

    def watched_compare(got: Any, want: Any, tol: Any) -> Any:
        w.refs.extend(weakref.ref(t) for t in want)
        return real_compare(got, want, tol)

    @contextlib.contextmanager
    def excluded(device: Any) -> Iterator[None]:
        try:
            yield
        finally:
            w.alive_at_end = w.alive()

    monkeypatch.setattr(models, "build", watched_build)
    monkeypatch.setattr(loaded, "compare", watched_compare)
    monkeypatch.setattr(loaded, "excluded_from_peaks", excluded)
    return w


def test_verify_frees_its_reference_before_it_returns(session: Session, watch: _Watch) -> None:
    ok(call(session, "load", model=MLP, batch_size=2))
    watch.refs.clear()  # the variant's own module stays, of course
    assert ok(call(session, "verify"))["within_tolerance"]
    assert len(watch.refs) == 2  # the reference module and its one output
    assert watch.alive_at_end == []


def test_verify_frees_its_reference_after_an_error(session: Session, watch: _Watch,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ok(call(session, "load", model=MLP, batch_size=2))
    watch.refs.clear()
    compare = loaded.compare

    def failing(got: Any, want: Any, tol: Any) -> Any:
        compare(got, want, tol)
        raise RuntimeError("compare failed on purpose")

    monkeypatch.setattr(loaded, "compare", failing)
    assert error_of(call(session, "verify"))["kind"] == "internal"
    assert len(watch.refs) == 2 and watch.alive_at_end == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmRSS; glibc's malloc_trim")
def test_verify_leaves_the_resident_set_as_it_found_it(session: Session) -> None:
    """The fp32 reference of this bf16 model is freed and its heap given back: without the
    trim, glibc kept about 45 MiB of it resident."""
    pytest.importorskip("torch")
    ok(call(session, "load", model="mlp:in=1024,hidden=4096,out=1024,layers=4", batch_size=64, precision="bf16"))
    before = ok(call(session, "memory"))["rss_mb"]
    ok(call(session, "verify"))
    ok(call(session, "verify"))
    assert ok(call(session, "memory"))["rss_mb"] - before < 16
