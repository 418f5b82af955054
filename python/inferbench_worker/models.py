"""The model registry: zoo entries, model-name parsing, user models.

A model name is ``name[:key=value,key=value]`` for zoo models; ``path/to/file.py:build_fn``
for a user model, whose ``build_fn()`` returns ``(model, input_factory)`` with
``input_factory(batch_size, device)`` returning a tuple of tensors; or
``path/to/model.pt2[:key=value,...]`` for a ``.pt2`` file: a ``torch.export.save``d
ExportedProgram or an AOTInductor package (``aoti_compile_and_package``), told apart by the
zip's contents. A ``.pt2`` takes ``inputs=FILE`` (a ``torch.save``d tuple of example tensors)
or ``shape=1x3x224x224`` (``+`` between inputs) with ``dtype=float32``; an ExportedProgram
otherwise uses the example inputs it stores, a package needs one of them. See ``pt2.py``.
Resolving a name checks it completely (unknown names get the nearest zoo names, unknown
parameters the valid ones, a ``.pt2`` must exist and be one of the two kinds) before anything
is built.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import diffusion, pt2, synthetic, zoo
from .protocol import ModelInfo, WorkerError, bad_request

if TYPE_CHECKING:
    import torch

    from .variants import Variant
    from .zoo import Built, Inputs

# pip names of import names that differ from them
_PIP_NAMES: Mapping[str, str] = {"PIL": "pillow", "cv2": "opencv-python", "sklearn": "scikit-learn",
                                 "yaml": "pyyaml", "torch_tensorrt": "torch-tensorrt"}


@dataclass(frozen=True)
class ZooEntry:
    name: str
    description: str
    params: Mapping[str, str]
    needs: tuple[str, ...]
    build: Callable[[Mapping[str, str]], Built] | None  # None: the synthetic model (no torch)


ZOO: Mapping[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("mlp", "multi-layer perceptron: layers x (Linear+ReLU), then Linear to out",
                 {"in": "512", "hidden": "2048", "out": "512", "layers": "2"}, ("torch",), zoo.build_mlp),
        ZooEntry("resnet18", "torchvision ResNet-18, random weights, input 3 x size x size",
                 {"size": "224"}, ("torch", "torchvision"), zoo.build_resnet18),
        ZooEntry("resnet50", "torchvision ResNet-50, random weights, input 3 x size x size",
                 {"size": "224"}, ("torch", "torchvision"), zoo.build_resnet50),
        ZooEntry("bert-base", "transformers BertModel (BERT-base config), input_ids + attention_mask of seq tokens",
                 {"seq": "128"}, ("torch", "transformers"), zoo.build_bert_base),
        ZooEntry("bert-tiny", "transformers BertModel, hidden 128, 2 layers, 2 heads, seq tokens",
                 {"seq": "128"}, ("torch", "transformers"), zoo.build_bert_tiny),
        ZooEntry("unet-tiny", "diffusers UNet2DConditionModel, tiny config (32/64 channels), one denoising step",
                 {"size": "32", "cfg": "true", "text_len": "77"}, ("torch", "diffusers"), zoo.build_unet_tiny),
        ZooEntry("sd15-unet", "Stable Diffusion v1.5 UNet (published config), one denoising step on size x size "
                 "latents; cfg=true: a sample is 2 latents (classifier-free guidance)",
                 {"size": "64", "cfg": "true", "text_len": "77"}, ("torch", "diffusers"), zoo.build_sd15_unet),
        ZooEntry("sd15", "Stable Diffusion v1.5 txt2img (published UNet/VAE/CLIP configs): one call = text encoding "
                 "of fixed 77-token ids (no tokenizer), steps DDIM steps with guidance scale cfg (a 2B latent batch), "
                 "VAE decode to B size x size images",
                 {"size": "512", "steps": "50", "cfg": "7.5"}, ("torch", "diffusers", "transformers"),
                 diffusion.build_sd15),
        ZooEntry("sd-tiny", "tiny Stable Diffusion txt2img (diffusers' test configs) for CPU and tests: as sd15, "
                 "32 x 32 images, 4 DDIM steps",
                 {"size": "32", "steps": "4", "cfg": "7.5"}, ("torch", "diffusers", "transformers"),
                 diffusion.build_sd_tiny),
        ZooEntry("synthetic", synthetic.DESCRIPTION, synthetic.DEFAULT_PARAMS, (), None),
    )
}


@dataclass(frozen=True)
class ModelRef:
    """A checked model name: a zoo entry with its full parameters, or a user entry point."""

    name: str
    params: Mapping[str, str]
    entry: ZooEntry | None = None
    user_file: str | None = None
    user_fn: str | None = None
    pt2: pt2.Pt2File | None = None

    @property
    def is_synthetic(self) -> bool:
        return self.entry is not None and self.entry.build is None


def model_list() -> list[ModelInfo]:
    return [{"name": e.name, "description": e.description, "params": dict(e.params), "needs": list(e.needs)}
            for e in ZOO.values()]


def is_user_model(name: str) -> bool:
    return ".py:" in name or pt2.is_pt2_name(name)


def resolve(name: str, params: Mapping[str, str] | None = None) -> ModelRef:
    """Checks a model name (and extra parameters, which win over those in the name)."""
    params = dict(params or {})
    if pt2.is_pt2_name(name):
        path, rest = pt2.split_name(name)
        merged = {**_parse_params(name, rest), **params}
        unknown = sorted(set(merged) - set(pt2.PARAMS))
        if unknown:
            raise bad_request(f"model file {path!r} has no parameter {', '.join(unknown)}; valid: {', '.join(pt2.PARAMS)}")
        return ModelRef(name=path, params={**pt2.PARAMS, **merged}, pt2=pt2.inspect(path))
    if is_user_model(name):
        path, _, fn = name.rpartition(":")
        if not fn.isidentifier():
            raise bad_request(f"user model {name!r}: {fn!r} is not a Python function name")
        if params:
            raise bad_request(f"user model {name!r} takes no parameters, got {', '.join(sorted(params))}")
        if not os.path.isfile(path):
            raise bad_request(f"user model file {path!r} not found (relative to {os.getcwd()})")
        return ModelRef(name=name, params={}, user_file=path, user_fn=fn)
    base, _, rest = name.partition(":")
    entry = ZOO.get(base)
    if entry is None:
        near = difflib.get_close_matches(base, list(ZOO), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise bad_request(f"unknown model {base!r}{hint} (zoo: {', '.join(ZOO)}; user models: file.py:build_fn or "
                          "file.pt2)")
    merged = {**_parse_params(name, rest), **params}
    unknown = sorted(set(merged) - set(entry.params))
    if unknown:
        valid = ", ".join(entry.params) or "none"
        raise bad_request(f"model {base!r} has no parameter {', '.join(unknown)}; valid: {valid}")
    return ModelRef(name=base, params={**entry.params, **merged}, entry=entry)


def _parse_params(name: str, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise bad_request(f"model name {name!r}: parameter {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


def missing_dependency(module: str, context: str) -> WorkerError:
    pip = _PIP_NAMES.get(module, module)
    return WorkerError(
        "missing_dependency",
        f"{context} needs the Python package {pip!r}: install it with `{sys.executable} -m pip install {pip}`",
    )


def build(ref: ModelRef) -> tuple[torch.nn.Module, Callable[[int, torch.device, torch.dtype], Inputs]]:
    """Builds the model on the CPU with the current torch seed, in eval mode."""
    builder: Callable[[], Built] = functools.partial(_build_user, ref)
    if ref.pt2 is not None:
        builder = functools.partial(pt2.build, ref.pt2, ref.params)
    elif ref.entry is not None:
        assert ref.entry.build is not None, "the synthetic model is not built with torch"
        for package in ref.entry.needs:
            if importlib.util.find_spec(package) is None:
                raise missing_dependency(package, f"model {ref.name!r}")
        builder = functools.partial(ref.entry.build, ref.params)
    try:
        module, factory = builder()
    except ModuleNotFoundError as exc:
        if not exc.name:
            raise
        what = f"model {ref.name!r}" if ref.entry is not None else f"user model {ref.name!r}"
        raise missing_dependency(exc.name.split(".")[0], what) from exc
    return module.eval(), factory


def check_variant(ref: ModelRef, variant: Variant, device: torch.device) -> None:
    """Rejects variants a model cannot run before it is built (an AOTInductor package runs as packaged)."""
    if ref.pt2 is not None:
        pt2.check_variant(ref.pt2, variant, device)


def check_verifiable(ref: ModelRef) -> None:
    """Rejects ``verify`` for a model without an eager fp32 reference (an AOTInductor package)."""
    if ref.pt2 is not None:
        pt2.check_verifiable(ref.pt2)


def parameter_count(module: torch.nn.Module) -> int | None:
    """The module's parameters, or what it declares as ``parameter_count`` (None: unknown)."""
    if hasattr(module, "parameter_count"):
        declared = module.parameter_count
        return None if declared is None else int(declared)
    return sum(p.numel() for p in module.parameters())


def _build_user(ref: ModelRef) -> Built:
    import torch

    assert ref.user_file is not None and ref.user_fn is not None
    path = os.path.abspath(ref.user_file)
    mod_name = "inferbench_user_" + "".join(c if c.isalnum() else "_" for c in path)
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise bad_request(f"user model file {ref.user_file!r} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look the module up here
    sys.path.insert(0, os.path.dirname(path))  # so it can import its neighbours
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(path))
    build_fn = getattr(module, ref.user_fn, None)
    if not callable(build_fn):
        raise bad_request(f"user model file {ref.user_file!r} has no function {ref.user_fn!r}")
    built = build_fn()
    if not (isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], torch.nn.Module)
            and callable(built[1])):
        raise bad_request(f"{ref.name}: {ref.user_fn}() must return (torch.nn.Module, input_factory)")
    model, user_factory = built

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        made: Any = user_factory(batch, device)
        if isinstance(made, torch.Tensor):
            return (made,)
        if isinstance(made, (tuple, list)):
            return tuple(made)
        if isinstance(made, dict):
            return dict(made)
        raise bad_request(f"{ref.name}: input_factory must return a tuple of tensors, got {type(made).__name__}")

    return model, inputs
