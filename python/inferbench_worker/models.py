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

import ast
import difflib
import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import diffusion, pt2, synthetic, zoo
from .errors import missing_dependency
from .protocol import CheckResult, ModelInfo, WorkerError, bad_request

if TYPE_CHECKING:
    import torch

    from .variants import Variant
    from .zoo import Built, Inputs

@dataclass(frozen=True)
class ZooEntry:
    name: str
    description: str
    params: Mapping[str, str]
    needs: tuple[str, ...]
    # Reads the full parameters (defaults merged) as the builder will: a bad value is a
    # bad_request naming the parameter and its valid range. Cheap: imports and builds nothing.
    check: Callable[[Mapping[str, str]], object]
    build: Callable[[Mapping[str, str]], Built] | None  # None: the synthetic model (no torch)
    # The parameter that may vary per call (``infer``'s ``length``): its input factory takes
    # ``length=`` and makes inputs of that many tokens (``seq``) or pixels a side (``size``)
    # instead of the parameter's.
    length: str | None = None


ZOO: Mapping[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("mlp", "multi-layer perceptron: layers x (Linear+ReLU), then Linear to out",
                 {"in": "512", "hidden": "2048", "out": "512", "layers": "2"}, ("torch",), zoo.mlp_shape,
                 zoo.build_mlp),
        ZooEntry("resnet18", "torchvision ResNet-18, random weights, input 3 x size x size",
                 {"size": "224"}, ("torch", "torchvision"), zoo.image_size, zoo.build_resnet18, "size"),
        ZooEntry("resnet50", "torchvision ResNet-50, random weights, input 3 x size x size",
                 {"size": "224"}, ("torch", "torchvision"), zoo.image_size, zoo.build_resnet50, "size"),
        ZooEntry("bert-base", "transformers BertModel (BERT-base config), input_ids + attention_mask of seq tokens",
                 {"seq": "128"}, ("torch", "transformers"), zoo.bert_seq, zoo.build_bert_base, "seq"),
        ZooEntry("bert-tiny", "transformers BertModel, hidden 128, 2 layers, 2 heads, seq tokens",
                 {"seq": "128"}, ("torch", "transformers"), zoo.bert_seq, zoo.build_bert_tiny, "seq"),
        ZooEntry("unet-tiny", "diffusers UNet2DConditionModel, tiny config (32/64 channels), one denoising step",
                 {"size": "32", "cfg": "true", "text_len": "77"}, ("torch", "diffusers"), zoo.unet_shape,
                 zoo.build_unet_tiny),
        ZooEntry("sd15-unet", "Stable Diffusion v1.5 UNet (published config), one denoising step on size x size "
                 "latents; cfg=true: a sample is 2 latents (classifier-free guidance)",
                 {"size": "64", "cfg": "true", "text_len": "77"}, ("torch", "diffusers"), zoo.unet_shape,
                 zoo.build_sd15_unet),
        ZooEntry("sd15", "Stable Diffusion v1.5 txt2img (published UNet/VAE/CLIP configs): one call = text encoding "
                 "of fixed 77-token ids (no tokenizer), steps DDIM steps with guidance scale cfg (a 2B latent batch), "
                 "VAE decode to B size x size images",
                 {"size": "512", "steps": "50", "cfg": "7.5"}, ("torch", "diffusers", "transformers"),
                 diffusion.sd15_shape, diffusion.build_sd15),
        ZooEntry("sd-tiny", "tiny Stable Diffusion txt2img (diffusers' test configs) for CPU and tests: as sd15, "
                 "32 x 32 images, 4 DDIM steps",
                 {"size": "32", "steps": "4", "cfg": "7.5"}, ("torch", "diffusers", "transformers"),
                 diffusion.sd_tiny_shape, diffusion.build_sd_tiny),
        ZooEntry("synthetic", synthetic.DESCRIPTION, synthetic.DEFAULT_PARAMS, (),
                 lambda params: synthetic.SyntheticConfig.parse(params, default_seed=0), None, "seq"),
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
    infos: list[ModelInfo] = []
    for e in ZOO.values():
        info: ModelInfo = {
            "name": e.name, "description": e.description, "params": dict(e.params), "needs": list(e.needs)
        }
        if e.length is not None:
            info["length"] = e.length
        infos.append(info)
    return infos


def same_but_length(a: ModelRef, b: ModelRef) -> bool:
    """Whether two refs name the same model and parameters, but for the length parameter
    (bert's ``seq``): one loaded model serves every length of a ``run --seq`` sweep."""
    key = a.entry.length if a.entry is not None else None
    if key is None:
        return a == b

    def lengthless(ref: ModelRef) -> ModelRef:
        return replace(ref, params={k: v for k, v in ref.params.items() if k != key})

    return lengthless(a) == lengthless(b)


def check_length(ref: ModelRef, length: int) -> None:
    """Rejects a per-call ``length`` the model has no axis for, or one its parameter refuses
    (bert's 512 positions), with the parameter's own message."""
    entry = ref.entry
    if entry is None or entry.length is None:
        raise bad_request(f"infer: model {ref.name!r} has no sequence length or image size to vary; send no length")
    entry.check({**ref.params, entry.length: str(length)})


def is_user_model(name: str) -> bool:
    return ".py:" in name or pt2.is_pt2_name(name)


def resolve(name: str, params: Mapping[str, str] | None = None) -> ModelRef:
    """Checks a model name and its parameters (extra ``params`` win over those in the name).

    Cheap: nothing is imported or built. A zoo model's parameters are read by its parser
    (names and values); a ``.pt2`` file is opened as a zip and its parameters are read; a
    user ``file.py`` must exist (it is not read: see ``check``).
    """
    params = dict(params or {})
    if pt2.is_pt2_name(name):
        path, rest = pt2.split_name(name)
        merged = {**_parse_params(name, rest), **params}
        unknown = sorted(set(merged) - set(pt2.PARAMS))
        if unknown:
            valid = ", ".join(pt2.PARAMS)
            raise bad_request(f"model file {path!r} has no parameter {', '.join(unknown)}; valid: {valid}")
        info = pt2.inspect(path)
        full = {**pt2.PARAMS, **merged}
        pt2.input_spec(info, full)
        return ModelRef(name=path, params=full, pt2=info)
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
    full = {**entry.params, **merged}
    try:
        entry.check(full)
    except WorkerError as exc:
        raise bad_request(f"model {base!r}: {exc.message}") from None
    return ModelRef(name=base, params=full, entry=entry)


def check(name: str, params: Mapping[str, str] | None = None) -> CheckResult:
    """The ``check`` op: ``resolve``, and for a user ``file.py:fn`` also that the file parses
    as Python and defines ``fn`` at top level (read, not run). Builds and imports nothing, and
    does not look for the packages a model needs (``load`` reports those)."""
    ref = resolve(name, params)
    if ref.user_file is not None and ref.user_fn is not None:
        _check_user_file(ref.user_file, ref.user_fn)
    return {"model": ref.name, "params": dict(ref.params)}


def _check_user_file(path: str, fn: str) -> None:
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
    except SyntaxError as exc:
        raise bad_request(f"user model file {path!r} is not valid Python: {exc.msg} (line {exc.lineno})") from None
    except (OSError, ValueError) as exc:
        raise bad_request(f"user model file {path!r} cannot be read: {exc}") from None
    defined: set[str] = set()
    functions: list[str] = []
    star_import = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
            if not isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                functions.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            star_import |= any(alias.name == "*" for alias in node.names)
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    # A name made some other way (a star import, globals(), a conditional definition) is left to load.
    conditional = any(isinstance(node, (ast.If, ast.Try, ast.With)) for node in tree.body)
    if fn not in defined and not star_import and not conditional:
        have = f"; its functions: {', '.join(functions[:10])}" if functions else ""
        raise bad_request(f"user model file {path!r} has no top-level function {fn!r}{have}")


def _parse_params(name: str, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise bad_request(f"model name {name!r}: parameter {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


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
        declared: Any = module.parameter_count  # an int or None, declared by the model
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
