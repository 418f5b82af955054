"""User models from ``.pt2`` files: a saved ExportedProgram, or an AOTInductor package.

``path/model.pt2[:key=value,...]``; the two kinds are told apart by the zip's contents:

- an AOTInductor package (``torch._inductor.aoti_compile_and_package``) holds
  ``data/aotinductor/``: it is loaded with ``aoti_load_package`` and runs as packaged, so only
  ``compile=eager``, ``precision=fp32`` (meaning: the package's own dtypes) and no
  channels_last apply; it records no input shapes and carries no eager model, so its inputs
  must be given (``shape=`` or ``inputs=``) and ``verify`` is unsupported.
- an ExportedProgram (``torch.export.save``) holds ``models/*.json``: ``torch.export.load``,
  then ``.module()`` is the model, and every compile mode and precision applies as to any
  module. Its inputs are the example inputs the program stores, unless parameters say otherwise.

Parameters (both kinds): ``inputs=FILE`` (a ``torch.save``d tensor, tuple/list of tensors or
dict of keyword tensors, loaded on the CPU), or ``shape=1x3x224x224`` with ``+`` between inputs
(``shape=1x128+1x128``) and ``dtype=float32`` (one for all, or one per input: ``int64+int64``;
integer inputs are zeros, floating ones standard normal from the seeded generator). Paths are
relative to the worker's working directory.

Batch size: dimension 0 of the example inputs is the batch. At another batch size B, an
ExportedProgram whose batch dimension was exported dynamic gets its batch-carrying inputs
resized to B (example rows repeated; ``shape=`` inputs drawn at size B); one exported with a
static batch is ``unsupported`` at any other size. An AOTInductor package checks its inputs
itself (``AOTI_RUNTIME_CHECK_INPUTS``) and a package compiled for a static batch rejects others.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .protocol import WorkerError, bad_request

if TYPE_CHECKING:
    import torch

    from .variants import Variant
    from .zoo import Built, Inputs

PARAMS: Mapping[str, str] = {"inputs": "", "shape": "", "dtype": "float32"}
Kind = Literal["exported_program", "aoti_package"]
DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int8", "uint8", "bool")
_MAKE_ONE = ("torch.export.save(torch.export.export(model, example_args), PATH) or "
             "torch._inductor.aoti_compile_and_package(exported_program, package_path=PATH)")


def is_pt2_name(name: str) -> bool:
    return name.endswith(".pt2") or ".pt2:" in name


@dataclass(frozen=True)
class Pt2File:
    """A checked ``.pt2`` file: which kind it is and, for a package, the device it was built for."""

    path: str
    kind: Kind
    package_device: str | None = None  # "cpu" or "cuda" (AOTInductor packages only)


def split_name(name: str) -> tuple[str, str]:
    """``dir/m.pt2:shape=1x8`` -> (``dir/m.pt2``, ``shape=1x8``)."""
    if name.endswith(".pt2"):
        return name, ""
    path, _, rest = name.partition(".pt2:")
    return path + ".pt2", rest


def inspect(path: str) -> Pt2File:
    """Tells the kind of a ``.pt2`` file from its zip's member names, without loading it."""
    if not os.path.isfile(path):
        raise bad_request(f"model file {path!r} not found (relative to {os.getcwd()}); "
                          f"give the path of a .pt2 file made by {_MAKE_ONE}")
    if not zipfile.is_zipfile(path):
        raise bad_request(f"model file {path!r} is not a zip archive, so neither a saved ExportedProgram nor an "
                          f"AOTInductor package; make one with {_MAKE_ONE}")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        aoti = [n for n in names if "data/aotinductor/" in n]
        if aoti:
            return Pt2File(path, "aoti_package", _package_device(archive, aoti))
    if any(n.endswith(".json") and ("/models/" in f"/{n}" or n.endswith("serialized_exported_program.json"))
           for n in names):
        return Pt2File(path, "exported_program")
    if any(n.endswith("data.pkl") for n in names):
        raise bad_request(f"model file {path!r} is a torch.save checkpoint (data.pkl), not a .pt2 program; "
                          f"export the model first: {_MAKE_ONE}")
    raise bad_request(f"model file {path!r} is a zip archive holding neither an ExportedProgram (models/*.json) "
                      f"nor an AOTInductor package (data/aotinductor/); make one with {_MAKE_ONE}")


def _package_device(archive: zipfile.ZipFile, members: list[str]) -> str | None:
    """``AOTI_DEVICE_KEY`` (cpu, cuda) from the package's wrapper metadata; None if unreadable."""
    meta = [n for n in members if n.endswith("metadata.json")]
    meta.sort(key=lambda n: ".wrapper" not in n)  # the wrapper's metadata first
    if not meta:
        return None
    try:
        device = json.loads(archive.read(meta[0])).get("AOTI_DEVICE_KEY")
    except (ValueError, KeyError, AttributeError):
        return None
    return device if isinstance(device, str) and device else None


def check_variant(info: Pt2File, variant: Variant, device: torch.device) -> None:
    """An AOTInductor package runs as packaged: reject what would change it before loading."""
    if info.kind != "aoti_package":
        return
    where = f"{info.path!r} is an AOTInductor package, already compiled: it runs as packaged"
    if variant.compile != "eager":
        raise WorkerError("unsupported", f"{where}, so use --compile eager (not {variant.compile}); to compare "
                                         "compile modes, benchmark the ExportedProgram saved by torch.export.save")
    if variant.precision != "fp32":
        raise WorkerError("unsupported", f"{where}, in the dtypes it was compiled for: use --precision fp32 "
                                         f"(meaning: as packaged), not {variant.precision}")
    if variant.channels_last:
        raise WorkerError("unsupported", f"{where}: drop --channels-last (the memory format is compiled in)")
    if info.package_device is not None and info.package_device != device.type:
        raise WorkerError("unsupported", f"{where} on {info.package_device}, not {device.type}: "
                                         f"use --device {info.package_device}")


def check_verifiable(info: Pt2File) -> None:
    if info.kind == "aoti_package":
        raise WorkerError("unsupported", f"{info.path!r} is an AOTInductor package: it carries no eager model to "
                                         "verify against; verify before packaging, or benchmark the "
                                         "ExportedProgram (torch.export.save) instead")


# --- building -------------------------------------------------------------------------


def build(info: Pt2File, params: Mapping[str, str]) -> Built:
    if info.kind == "aoti_package":
        return _build_package(info, params)
    return _build_exported(info, params)


def _build_exported(info: Pt2File, params: Mapping[str, str]) -> Built:
    import torch

    try:
        program = torch.export.load(info.path)
    except Exception as exc:
        raise bad_request(f"{info.path!r}: torch.export.load failed ({type(exc).__name__}: {exc}); was it saved "
                          f"by torch.export.save with a compatible torch? This worker has torch {torch.__version__}"
                          ) from exc
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    specs = [placeholders[name].meta.get("val") for name in program.graph_signature.user_inputs]
    names = list(program.graph_signature.user_inputs)
    given = _given_inputs(info, params)
    if given is None:
        stored = getattr(program, "example_inputs", None)
        if stored is None:
            raise bad_request(f"{info.path!r} stores no example inputs (saved by an older torch?): give them as "
                              f"{info.path}:shape=1x3x224x224 or {info.path}:inputs=inputs.pt")
        args, kwargs = stored
        if args and kwargs:
            raise WorkerError("unsupported", f"{info.path!r}: its example inputs mix positional and keyword "
                                             "arguments; give them with inputs=FILE (a tuple, or a dict)")
        example: _Source = _Stored(dict(kwargs) if kwargs else tuple(args))
    else:
        example = given
    dynamic = [_dim0_dynamic(s) for s in specs]
    module = _exported_module(program.module())

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        made = example.make(batch if any(dynamic) else None, device)
        leaves = _leaves(made)
        if len(leaves) != len(specs):
            raise bad_request(f"{info.path!r} takes {len(specs)} tensor input(s) ({', '.join(names)}), "
                              f"got {len(leaves)}; give one shape per input (shape=AxB+CxD) or an inputs= file")
        base = _batch_of(leaves)
        if base is not None and batch != base and not any(dynamic):
            raise WorkerError(
                "unsupported",
                f"{info.path!r} was exported with a static batch dimension of {base}; run it with --batch {base}, "
                "or export it again with a dynamic batch: torch.export.export(model, args, "
                "dynamic_shapes=({0: torch.export.Dim('batch')},))",
            )
        resized = [_resize(t, batch) if flag else t for t, flag in zip(leaves, dynamic, strict=True)]
        for name, t, spec in zip(names, resized, specs, strict=True):
            _check_shape(info, name, t, spec)
        return _rebuild(made, resized)

    return module, inputs


def _build_package(info: Pt2File, params: Mapping[str, str]) -> Built:
    import torch

    given = _given_inputs(info, params)
    if given is None:
        raise bad_request(f"{info.path!r} is an AOTInductor package, which records no input shapes: give them as "
                          f"{info.path}:shape=1x3x224x224 (dtype=float32 by default, + between inputs) or "
                          f"{info.path}:inputs=inputs.pt (a torch.save'd tuple of example tensors)")
    index = torch.cuda.current_device() if info.package_device == "cuda" else -1
    try:
        runner = torch._inductor.aoti_load_package(info.path, device_index=index)
    except Exception as exc:
        raise bad_request(f"{info.path!r}: aoti_load_package failed ({type(exc).__name__}: {exc}); packages load "
                          f"only into the torch version and platform that built them (this worker: torch "
                          f"{torch.__version__})") from exc
    module = _packaged_module(runner, info.path)

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        made = given.make(batch, device)
        return _rebuild(made, [_resize(t, batch) for t in _leaves(made)])

    return module, inputs


class _Source:
    """Example inputs at their own batch size, or (``batch`` not None) drawn at that size."""

    def make(self, batch: int | None, device: torch.device) -> Inputs:
        raise NotImplementedError


class _Stored(_Source):
    def __init__(self, value: Inputs) -> None:
        self.value = value

    def make(self, batch: int | None, device: torch.device) -> Inputs:
        import torch

        from .outputs import map_tensors

        return map_tensors(self.value, lambda t: t.to(device) if isinstance(t, torch.Tensor) else t)


class _Shapes(_Source):
    def __init__(self, shapes: list[list[int]], dtypes: list[torch.dtype]) -> None:
        self.shapes = shapes
        self.dtypes = dtypes

    def make(self, batch: int | None, device: torch.device) -> Inputs:
        import torch

        out = []
        for shape, dtype in zip(self.shapes, self.dtypes, strict=True):
            size = [batch if batch is not None and i == 0 else d for i, d in enumerate(shape)]
            if dtype.is_floating_point:
                out.append(torch.randn(size, device=device, dtype=dtype))
            else:
                out.append(torch.zeros(size, device=device, dtype=dtype))
        return tuple(out)



@dataclass(frozen=True)
class InputSpec:
    """What the parameters say about the inputs: a file to ``torch.load``, or shapes and dtype names."""

    file: str | None = None
    shapes: tuple[tuple[int, ...], ...] = ()
    dtypes: tuple[str, ...] = ()


def input_spec(info: Pt2File, params: Mapping[str, str]) -> InputSpec | None:
    """Checks ``inputs=``, ``shape=`` and ``dtype=`` without torch; None when neither is given."""
    path, shape_text = params.get("inputs", ""), params.get("shape", "")
    if path and shape_text:
        raise bad_request(f"{info.path}: give either inputs= or shape=, not both")
    if path:
        if not os.path.isfile(path):
            raise bad_request(f"{info.path}: inputs file {path!r} not found (relative to {os.getcwd()}); make it with "
                              "torch.save((tensor1, tensor2), PATH)")
        return InputSpec(file=path)
    if not shape_text:
        if params.get("dtype", "float32") != "float32":
            raise bad_request(f"{info.path}: dtype= goes with shape= (e.g. shape=1x128,dtype=int64)")
        return None
    shapes: list[tuple[int, ...]] = []
    for part in shape_text.split("+"):
        try:
            dims = tuple(int(d) for d in part.lower().split("x"))
        except ValueError:
            dims = ()
        if not dims or any(d < 1 for d in dims):
            raise bad_request(f"{info.path}: shape {part!r} is not like 1x3x224x224 (positive sizes joined by x; "
                              "+ between inputs)")
        shapes.append(dims)
    names = params.get("dtype", "float32").split("+")
    if len(names) == 1:
        names = names * len(shapes)
    if len(names) != len(shapes):
        raise bad_request(f"{info.path}: {len(shapes)} shape(s) but {len(names)} dtype(s); give one dtype for all "
                          "or one per shape, joined by +")
    unknown = [n for n in names if n not in DTYPES]
    if unknown:
        raise bad_request(f"{info.path}: unknown dtype {', '.join(unknown)}; valid: {', '.join(DTYPES)}")
    return InputSpec(shapes=tuple(shapes), dtypes=tuple(names))


def _given_inputs(info: Pt2File, params: Mapping[str, str]) -> _Source | None:
    """The inputs the parameters give: ``inputs=FILE``, or ``shape=`` with ``dtype=``; None if neither."""
    import torch

    spec = input_spec(info, params)
    if spec is None:
        return None
    path = spec.file
    if path is not None:
        try:
            value = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise bad_request(f"{info.path}: inputs file {path!r} cannot be read by torch.load ({exc}); make it "
                              "with torch.save((tensor1, tensor2), PATH)") from exc
        if isinstance(value, torch.Tensor):
            value = (value,)
        ok = (isinstance(value, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in value)) or \
             (isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in value.items()))
        if not ok or not value:
            raise bad_request(f"{info.path}: inputs file {path!r} must hold a tensor, a tuple or list of tensors, "
                              f"or a dict of keyword tensors; it holds {type(value).__name__}")
        return _Stored(dict(value) if isinstance(value, dict) else tuple(value))
    return _Shapes([list(s) for s in spec.shapes], [getattr(torch, n) for n in spec.dtypes])


def _leaves(inputs: Inputs) -> list[Any]:
    return list(inputs.values()) if isinstance(inputs, dict) else list(inputs)


def _rebuild(like: Inputs, leaves: list[Any]) -> Inputs:
    if isinstance(like, dict):
        return dict(zip(like.keys(), leaves, strict=True))
    return tuple(leaves)


def _batch_of(leaves: list[Any]) -> int | None:
    import torch

    return next((int(t.shape[0]) for t in leaves if isinstance(t, torch.Tensor) and t.dim() > 0), None)


def _resize(t: Any, batch: int) -> Any:
    """Dimension 0 of a tensor to ``batch``, repeating its rows (a scalar or a tensor already that size stays)."""
    import torch

    if not isinstance(t, torch.Tensor) or t.dim() == 0 or t.shape[0] == batch:
        return t
    rows = torch.arange(batch, device=t.device) % t.shape[0]
    return t.index_select(0, rows).contiguous()


def _dim0_dynamic(spec: Any) -> bool:
    import torch

    shape = getattr(spec, "shape", None)
    return shape is not None and len(shape) > 0 and isinstance(shape[0], torch.SymInt)


def _check_shape(info: Pt2File, name: str, t: Any, spec: Any) -> None:
    import torch

    want = getattr(spec, "shape", None)
    if not isinstance(t, torch.Tensor) or want is None:
        return
    text = "[" + ", ".join(str(d) for d in want) + "]"
    if t.dim() != len(want):
        raise bad_request(f"{info.path!r}: input {name} has shape {list(t.shape)}, but the program was exported "
                          f"for {text}; give inputs of that shape (shape= or inputs=)")
    for i, (got, expected) in enumerate(zip(t.shape, want, strict=True)):
        if not isinstance(expected, torch.SymInt) and got != expected:
            raise bad_request(f"{info.path!r}: input {name} has shape {list(t.shape)}, but the program was exported "
                              f"for {text} (dimension {i} is static); give inputs of that shape (shape= or inputs=)")


# --- modules (classes made on first use: this module is imported without torch) ---------


def _exported_module(graph_module: torch.nn.Module) -> torch.nn.Module:
    import torch

    class ExportedModule(torch.nn.Module):
        """``ExportedProgram.module()``, callable like the original model.

        The unlifted graph refuses ``train()``/``eval()``; its behaviour was fixed when it was
        exported (dropout, batch norm), so switching modes is a no-op here.
        """

        def __init__(self) -> None:
            super().__init__()
            self.program = graph_module

        def train(self, mode: bool = True) -> ExportedModule:
            self.training = mode
            return self

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self.program(*args, **kwargs)

    return ExportedModule()


def _packaged_module(runner: Any, path: str) -> torch.nn.Module:
    import torch
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    from .errors import is_oom
    from .outputs import describe_inputs

    class PackagedModule(torch.nn.Module):
        """An AOTInductor package as a module without parameters (its weights are inside it).

        The package's first call runs with ``AOTI_RUNTIME_CHECK_INPUTS=1``, which the generated
        code reads once, so every call checks input dtypes and shapes (a few integer comparisons)
        instead of silently computing garbage at a shape the package was not compiled for.
        """

        parameter_count = None  # unknown: the package does not say how large its constants are

        def __init__(self) -> None:
            super().__init__()
            self.checks_on = False

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            if _get_current_dispatch_mode() is not None:  # FlopCounterMode cannot see inside the package
                raise RuntimeError("an AOTInductor package's operations cannot be counted from Python")
            if self.checks_on:
                return self._run(args, kwargs)
            saved = os.environ.get("AOTI_RUNTIME_CHECK_INPUTS")
            os.environ["AOTI_RUNTIME_CHECK_INPUTS"] = "1"
            try:
                return self._run(args, kwargs)
            finally:
                self.checks_on = True
                if saved is None:
                    del os.environ["AOTI_RUNTIME_CHECK_INPUTS"]
                else:
                    os.environ["AOTI_RUNTIME_CHECK_INPUTS"] = saved

        def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            try:
                return runner(*args, **kwargs)
            except RuntimeError as exc:
                if is_oom(exc):
                    raise
                lines = [ln for ln in str(exc).splitlines() if ln.strip() and not ln.startswith(("frame #", "<"))]
                reason = lines[-1] if lines else type(exc).__name__
                raise WorkerError(
                    "unsupported",
                    f"the AOTInductor package {path!r} rejected its inputs ({describe_inputs(kwargs or args)}): "
                    f"{reason}; give inputs of the shapes and dtypes it was compiled for (shape=, dtype=, inputs=; "
                    "at another --batch only if it was compiled with a dynamic batch)",
                ) from exc

    return PackagedModule()
