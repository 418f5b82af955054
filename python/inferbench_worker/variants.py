"""A variant's precision, memory format and compilation applied to a built model."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .environment import cxx_compiler
from .errors import missing_dependency
from .protocol import CompileCache, CompileMode, LoadArgs, Precision, WorkerError

if TYPE_CHECKING:
    import torch

AMP_PRECISIONS = ("amp-fp16", "amp-bf16")


@dataclass(frozen=True)
class Variant:
    precision: Precision
    compile: CompileMode
    channels_last: bool
    fullgraph: bool
    dynamic: bool | None

    @staticmethod
    def of(args: LoadArgs) -> Variant:
        return Variant(args.precision, args.compile, args.channels_last, args.fullgraph, args.dynamic)

    @property
    def compiled(self) -> bool:
        return self.compile != "eager"

    def model_dtype(self) -> torch.dtype | None:
        """The dtype weights and floating inputs are converted to; None keeps fp32."""
        import torch

        return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(self.precision)

    def autocast_dtype(self) -> torch.dtype | None:
        import torch

        return {"amp-fp16": torch.float16, "amp-bf16": torch.bfloat16}.get(self.precision)

    def check(self, device: torch.device) -> None:
        """Rejects combinations this worker cannot run before anything is built."""
        if self.precision == "tf32" and device.type != "cuda":
            raise WorkerError("unsupported", "tf32 applies to CUDA GPUs only")
        if self.compiled and device.type == "cpu" and cxx_compiler() is None:
            raise WorkerError(
                "compile",
                f"compile={self.compile} on CPU needs a C++ compiler (g++, c++ or clang++) on PATH; "
                "install one (e.g. apt-get install g++) or use compile=eager",
            )

    def apply(self, module: torch.nn.Module) -> torch.nn.Module:
        """Converts weights to the variant's dtype and memory format (the module is on its device)."""
        import torch

        dtype = self.model_dtype()
        if dtype is not None:
            module = module.to(dtype)
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        return module

    def context(self, device: torch.device) -> contextlib.ExitStack:
        """inference_mode, plus autocast for the AMP precisions; entered around whole loops."""
        import torch

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        amp = self.autocast_dtype()
        if amp is not None:
            stack.enter_context(torch.autocast(device_type=device.type, dtype=amp))
        return stack


def set_tf32(enabled: bool) -> None:
    """Sets both TF32 switches (``tf32`` on, the strict fp32 reference of ``verify`` off)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled


def set_precision_defaults(precision: Precision) -> None:
    """TF32 switches for a variant. ``fp32`` means PyTorch's defaults, which is what a user's
    own fp32 code runs: matmuls in full fp32, cuDNN convolutions allowed TF32. ``tf32`` turns
    TF32 on for matmuls too. The correctness reference stays strict fp32 (both off)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = True


def tf32_state() -> tuple[bool, bool]:
    import torch

    return bool(torch.backends.cuda.matmul.allow_tf32), bool(torch.backends.cudnn.allow_tf32)


def restore_tf32(state: tuple[bool, bool]) -> None:
    import torch

    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = state


def torch_compile(module: torch.nn.Module, variant: Variant) -> Callable[..., Any]:
    """Wraps the module with torch.compile; compilation itself happens at the first call.

    A module that names ``compile_targets`` (submodule paths, e.g. ``("unet",)`` for a whole
    diffusion pipeline) gets only those submodules compiled, as a user compiles ``pipe.unet``:
    the result is a shallow copy of the module holding the compiled submodules, so the module
    itself stays eager (the FLOP count and ``verify``'s reference run it) and shares weights.
    """
    import torch

    torch._dynamo.reset()  # a fresh cache: no entries, guard failures or counters from earlier models
    torch._dynamo.utils.counters.clear()
    _allow_graph_per_shape(torch)
    options: dict[str, Any] = {"fullgraph": variant.fullgraph, "dynamic": variant.dynamic}
    if variant.compile == "tensorrt":
        # Torch-TensorRT registers the "tensorrt" backend when imported; without it, say so.
        try:
            import torch_tensorrt  # noqa: F401
        except ImportError:
            raise missing_dependency("torch_tensorrt", "compile=tensorrt") from None
        options["backend"] = "tensorrt"
    else:
        options["mode"] = None if variant.compile == "default" else variant.compile
    targets: tuple[str, ...] = tuple(getattr(module, "compile_targets", ()))
    if not targets:
        return torch.compile(module, **options)
    return with_compiled_submodules(module, targets, lambda sub: torch.compile(sub, **options))


def with_compiled_submodules(module: torch.nn.Module, targets: tuple[str, ...],
                             compile_fn: Callable[[torch.nn.Module], Callable[..., Any]]) -> torch.nn.Module:
    """A shallow copy of ``module`` whose ``targets`` (dotted submodule paths) are replaced by
    ``compile_fn(submodule)``; every module on a target's path is copied, the rest is shared."""
    import copy

    def copied(m: torch.nn.Module) -> torch.nn.Module:
        twin = copy.copy(m)
        twin._modules = dict(m._modules)  # so that replacing a child leaves the original alone
        return twin

    root = copied(module)
    for target in targets:
        *path, leaf = target.split(".")
        parent = root
        for name in path:
            child = copied(parent.get_submodule(name))
            setattr(parent, name, child)
            parent = child
        setattr(parent, leaf, compile_fn(parent.get_submodule(leaf)))
    return root


def aot_inductor(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                 variant: Variant, device: torch.device, workdir: str,
                 keep: str | None = None) -> Callable[..., Any]:
    """torch.export, AOTInductor compile and package to a .pt2, then load the package.

    With ``dynamic=true`` dimension 0 of every tensor input is exported as dynamic (the batch),
    from inputs of batch 2 or more; otherwise the package runs at the export batch size only.
    ``keep``: a copy of the package goes there, and the example inputs (on the CPU, keyword
    inputs as a dict) to ``keep + ".inputs.pt"``: what a new process loads it with
    (``model.pt2:inputs=model.pt2.inputs.pt``), as a replica started from the package would.
    """
    import torch

    targets: tuple[str, ...] = tuple(getattr(module, "compile_targets", ()))
    if targets:
        raise WorkerError(
            "unsupported",
            f"compile=aot-inductor exports one graph, but this model compiles only its "
            f"{', '.join(targets)} inside a Python loop (compile_targets); use a torch.compile "
            "mode, or benchmark the submodule alone (e.g. sd15-unet with aot-inductor)",
        )
    torch._dynamo.utils.counters.clear()
    dynamic_shapes: Any = None
    if variant.dynamic:
        def batch_dim(v: Any) -> Any:
            return {0: torch.export.Dim.DYNAMIC} if isinstance(v, torch.Tensor) and v.dim() > 0 else None

        dynamic_shapes = {k: batch_dim(v) for k, v in kwargs.items()} if kwargs else tuple(map(batch_dim, args))

        # torch.export specialises a dimension of size 1 (it cannot tell 1 from "any"), so a
        # dynamic batch is exported from inputs of batch 2: the same rows, twice.
        def at_least_two(v: Any) -> Any:
            return torch.cat([v, v]) if isinstance(v, torch.Tensor) and v.dim() > 0 and v.shape[0] == 1 else v

        args = tuple(map(at_least_two, args))
        kwargs = {k: at_least_two(v) for k, v in kwargs.items()}
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        amp = variant.autocast_dtype()
        if amp is not None:
            stack.enter_context(torch.autocast(device_type=device.type, dtype=amp))
        exported = torch.export.export(module, args, kwargs=kwargs or None, dynamic_shapes=dynamic_shapes)
        path = torch._inductor.aoti_compile_and_package(exported, package_path=os.path.join(workdir, "model.pt2"))
    if keep is not None:
        _keep_package(path, keep, args, kwargs)
    index = device.index if device.type == "cuda" and device.index is not None else -1
    return torch._inductor.aoti_load_package(path, device_index=index)


def compile_stats() -> tuple[int, int, list[str]]:
    """(graph breaks, recompiles, reasons) since the last torch_compile/aot_inductor call.

    Graph breaks come from dynamo's ``counters["graph_break"]`` (reason -> count); recompiles
    from ``torch._dynamo.utils.guard_failures`` (one entry per guard failure that forced a
    recompile), since the installed torch keeps no recompile counter.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return 0, 0, []
    breaks = torch._dynamo.utils.counters.get("graph_break", {})
    failures = recompile_reasons()
    reasons = [f"graph break: {k}" for k in breaks] + [f"recompile: {r}" for r in failures]
    return int(sum(breaks.values())), len(failures), reasons


# Graphs dynamo keeps per function before it gives up and runs it eagerly (its default is 8).
# A server with static graphs per shape bucket (5 batch x 8 length buckets = 40) raises it, and
# so does inferbench, so that "static graphs per bucket" measures graphs, not a silent fallback.
RECOMPILE_LIMIT = 64


def _allow_graph_per_shape(torch: Any) -> None:
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):  # renamed in torch 2.7; either is set
        if hasattr(config, name):
            setattr(config, name, max(getattr(config, name), RECOMPILE_LIMIT))


def recompile_reasons() -> list[str]:
    """Dynamo's reason for each recompile since the last torch_compile/aot_inductor call, in
    the order they happened (one guard failure each)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    return [str(r) for reasons in torch._dynamo.utils.guard_failures.values() for r in reasons]


def fx_cache_counts() -> tuple[int, int]:
    """(hits, misses) of Inductor's FX graph cache since the counters were last cleared."""
    torch = sys.modules.get("torch")
    if torch is None:
        return 0, 0
    inductor = torch._dynamo.utils.counters.get("inductor", {})
    return int(inductor.get("fxgraph_cache_hit", 0)), int(inductor.get("fxgraph_cache_miss", 0))


def compile_cache_state(since: tuple[int, int] = (0, 0)) -> CompileCache | None:
    """Whether Inductor's FX graph cache served the compilation: "warm" (every graph a hit),
    "cold" (every graph a miss), "partial", or None when the counters say nothing.

    A warm cache skips code generation, so its compile time is what a restarted server pays;
    a cold one is what the first deployment pays. Counters were cleared at torch_compile;
    ``since`` (from ``fx_cache_counts``) leaves out what an earlier compile counted.
    """
    hits, misses = fx_cache_counts()
    hits, misses = hits - since[0], misses - since[1]
    if hits == 0 and misses == 0:
        return None
    if misses == 0:
        return "warm"
    return "cold" if hits == 0 else "partial"


def _keep_package(path: str, keep: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Copies the package to ``keep`` and saves its example inputs beside it; a folder that
    cannot be written is the caller's bad request, not a compile failure."""
    import shutil

    import torch

    def cpu(v: Any) -> Any:
        return v.detach().cpu() if isinstance(v, torch.Tensor) else v

    try:
        os.makedirs(os.path.dirname(os.path.abspath(keep)), exist_ok=True)
        shutil.copyfile(path, keep)
        example = {k: cpu(v) for k, v in kwargs.items()} if kwargs else tuple(cpu(v) for v in args)
        torch.save(example, keep + ".inputs.pt")
    except OSError as exc:
        raise WorkerError("bad_request", f"cannot keep the AOTInductor package at {keep!r}: {exc}") from exc
