"""The full Stable Diffusion pipeline model (sd-tiny on the CPU): one call, steps per call,
and torch.compile applied to the UNet only."""

from __future__ import annotations

import pytest

from inferbench_worker import diffusion, models, variants
from inferbench_worker.protocol import LoadArgs, WorkerError
from inferbench_worker.session import Session

from conftest import call, error_of, ok

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")


def test_sd_tiny_call_makes_images_and_reports_steps(session: Session) -> None:
    load = ok(call(session, "load", model="sd-tiny:steps=3", batch_size=2))
    assert load["steps_per_call"] == 3
    assert load["input_desc"] == "input_ids=int64[2,77], latents=float32[2,4,16,16]"
    assert load["output_desc"] == "float32[2,3,32,32]"
    assert load["parameters"] > 1_000_000 and load["flops_per_sample"] > 0
    assert load["first_call_ms"] < 1000  # fast enough for tests on a small CPU
    assert len(ok(call(session, "measure", iterations=2))["host_ns"]) == 2
    assert ok(call(session, "verify"))["within_tolerance"]


def test_sd_tiny_images_are_deterministic_per_seed_and_in_range() -> None:
    ref = models.resolve("sd-tiny", {"steps": "2"})
    images = []
    for _ in range(2):
        torch.manual_seed(0)
        module, factory = models.build(ref)
        torch.manual_seed(7)
        inputs = factory(1, torch.device("cpu"), torch.float32)
        assert inputs["input_ids"][0].tolist() == diffusion.prompt_ids()
        with torch.inference_mode():
            images.append(module(**inputs))
    assert torch.equal(images[0], images[1])
    assert images[0].shape == (1, 3, 32, 32) and 0 <= images[0].min() and images[0].max() <= 1


def test_guidance_off_runs_one_latent_batch() -> None:
    calls: list[int] = []
    module, factory = models.build(models.resolve("sd-tiny", {"steps": "2", "cfg": "1"}))
    module.unet.register_forward_pre_hook(lambda _m, args: calls.append(args[0].shape[0]))
    with torch.inference_mode():
        module(**factory(3, torch.device("cpu"), torch.float32))
    assert calls == [3, 3]
    guided, factory = models.build(models.resolve("sd-tiny", {"steps": "2"}))
    calls.clear()
    guided.unet.register_forward_pre_hook(lambda _m, args: calls.append(args[0].shape[0]))
    with torch.inference_mode():
        guided(**factory(3, torch.device("cpu"), torch.float32))
    assert calls == [6, 6]


def test_compile_targets_only_the_unet() -> None:
    module, _ = models.build(models.resolve("sd-tiny"))
    variant = variants.Variant.of(LoadArgs(model="sd-tiny", compile="default"))
    compiled = variants.torch_compile(module, variant)
    optimized = torch._dynamo.eval_frame.OptimizedModule
    assert not isinstance(compiled, optimized)  # the loop itself stays Python
    assert isinstance(compiled.unet, optimized) and compiled.unet._orig_mod is module.unet
    assert not isinstance(compiled.text_encoder, optimized) and not isinstance(compiled.vae, optimized)
    assert not isinstance(module.unet, optimized)  # the original stays eager for FLOPs and verify
    assert compiled.vae is module.vae


def test_compiled_submodules_along_a_dotted_path() -> None:
    inner = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    outer = torch.nn.Sequential(inner, torch.nn.Linear(2, 2))
    marker = torch.nn.Identity()
    twin = variants.with_compiled_submodules(outer, ("0.1",), lambda _m: marker)
    assert twin[0][1] is marker and outer[0][1] is not marker and twin[0][0] is outer[0][0]


def test_aot_inductor_refuses_a_loop_with_compile_targets(session: Session) -> None:
    err = error_of(call(session, "load", model="sd-tiny", compile="aot-inductor"))
    assert err["kind"] == "unsupported" and "unet" in err["message"] and "torch.compile" in err["message"]


def test_bad_sd_parameters() -> None:
    with pytest.raises(WorkerError, match="multiple of 4"):
        models.build(models.resolve("sd-tiny:size=30"))
    with pytest.raises(WorkerError, match="guidance scale"):
        models.build(models.resolve("sd-tiny:cfg=lots"))


@pytest.mark.slow
def test_sd_tiny_torch_compile_default(session: Session) -> None:
    load = ok(call(session, "load", model="sd-tiny:steps=2", compile="default"))
    assert load["compile_s"] > 0 and load["steps_per_call"] == 2
    assert (load["graph_breaks"], load["recompiles"]) == (0, 0), load["compile_reasons"]
    ok(call(session, "measure", iterations=2))
    assert ok(call(session, "verify"))["within_tolerance"]
