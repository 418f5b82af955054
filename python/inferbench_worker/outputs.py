"""Model inputs and outputs as plain tensor lists: flattening, casting, short descriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from .zoo import Inputs


def flatten(value: Any) -> list[torch.Tensor]:
    """The tensors of a model output in a stable order.

    Handles tensors, tuples/lists, dicts and transformers/diffusers output objects (which
    are ordered dicts); other leaves (None, ints, strings) are not outputs and are skipped.
    """
    import torch

    out: list[torch.Tensor] = []
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, dict):  # ModelOutput and BaseOutput are OrderedDict subclasses
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, (tuple, list)):
            stack.extend(reversed(v))
        elif hasattr(v, "to_tuple"):
            stack.extend(reversed(v.to_tuple()))
    return out


def describe_tensor(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')}[{','.join(str(d) for d in t.shape)}]"


def describe_inputs(inputs: Inputs) -> str:
    import torch

    def one(v: Any) -> str:
        return describe_tensor(v) if isinstance(v, torch.Tensor) else type(v).__name__

    if isinstance(inputs, dict):
        return ", ".join(f"{k}={one(v)}" for k, v in inputs.items())
    return ", ".join(one(v) for v in inputs)


def describe_outputs(value: Any) -> str:
    tensors = flatten(value)
    return ", ".join(describe_tensor(t) for t in tensors) if tensors else type(value).__name__


def map_tensors(inputs: Inputs, fn: Any) -> Inputs:
    """Applies ``fn`` to each tensor of an input set (tuple or dict), keeping its shape."""
    import torch

    if isinstance(inputs, dict):
        return {k: fn(v) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
    return tuple(fn(v) if isinstance(v, torch.Tensor) else v for v in inputs)


def cast_inputs(inputs: Inputs, dtype: torch.dtype | None, channels_last: bool) -> Inputs:
    """Floating tensors to ``dtype`` (None: unchanged); 4-D floating ones to channels_last if asked."""
    import torch

    def conv(t: torch.Tensor) -> torch.Tensor:
        if not t.is_floating_point():
            return t
        if dtype is not None and t.dtype != dtype:
            t = t.to(dtype)
        if channels_last and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        elif not channels_last and t.dim() == 4:
            t = t.contiguous()
        return t

    return map_tensors(inputs, conv)


def split(inputs: Inputs) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(positional args, keyword args) of an input set."""
    if isinstance(inputs, dict):
        return (), dict(inputs)
    return tuple(inputs), {}
