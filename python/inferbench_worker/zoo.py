"""Builders of the zoo models: random weights, inputs made on the requested device.

Each builder takes the model's full parameter map (defaults merged, names checked) and
returns ``(module, input_factory)``; ``input_factory(batch_size, device, dtype)`` returns
a tuple of positional arguments or a dict of keyword arguments, floating tensors in
``dtype``. torch and the model packages are imported inside the builders only. A builder
reads its parameters with the model's parser (``mlp_shape``, ``image_size``, ...), which the
catalogue also runs alone to check parameters without building anything (the ``check`` op).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import bad_request

if TYPE_CHECKING:
    import torch
    from torch import nn

Inputs = tuple[Any, ...] | dict[str, Any]
InputFactory = Callable[[int, "torch.device", "torch.dtype"], Inputs]
Built = tuple["nn.Module", InputFactory]

BERT_VOCAB = 30522


def int_param(params: Mapping[str, str], key: str, minimum: int = 1, maximum: int | None = None) -> int:
    text = params[key]
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"parameter {key} must be an integer, got {text!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise bad_request(f"parameter {key} must be {bound}, got {value}")
    return value


def bool_param(params: Mapping[str, str], key: str) -> bool:
    text = params[key].strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise bad_request(f"parameter {key} must be true or false, got {params[key]!r}")


# --- parameter parsers: no torch, every failure a bad_request naming the parameter -------


@dataclass(frozen=True)
class MlpShape:
    d_in: int
    hidden: int
    d_out: int
    layers: int


def mlp_shape(params: Mapping[str, str]) -> MlpShape:
    return MlpShape(int_param(params, "in"), int_param(params, "hidden"), int_param(params, "out"),
                    int_param(params, "layers"))


def image_size(params: Mapping[str, str]) -> int:
    return int_param(params, "size", minimum=32)


def bert_seq(params: Mapping[str, str]) -> int:
    return int_param(params, "seq", maximum=512)  # BertConfig's max_position_embeddings


@dataclass(frozen=True)
class UNetShape:
    size: int
    per_sample: int  # latents per sample: 2 with classifier-free guidance
    text_len: int


def unet_shape(params: Mapping[str, str]) -> UNetShape:
    size = int_param(params, "size", minimum=8)
    if size % 8:
        raise bad_request(f"parameter size must be a multiple of 8, got {size}")
    return UNetShape(size, 2 if bool_param(params, "cfg") else 1, int_param(params, "text_len"))


# --- builders ---------------------------------------------------------------------------


def build_mlp(params: Mapping[str, str]) -> Built:
    from torch import nn

    shape = mlp_shape(params)
    d_in, hidden, d_out, layers = shape.d_in, shape.hidden, shape.d_out, shape.layers
    blocks: list[nn.Module] = []
    width = d_in
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    blocks.append(nn.Linear(width, d_out))
    module = nn.Sequential(*blocks)

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        import torch

        return (torch.randn(batch, d_in, device=device, dtype=dtype),)

    return module, inputs


def _image_inputs(size: int) -> InputFactory:
    # ``length``: another image side for this call (``load --image-size``), as bert's factory
    # takes another sequence length.
    def inputs(batch: int, device: torch.device, dtype: torch.dtype, length: int | None = None) -> Inputs:
        import torch

        side = size if length is None else length
        return (torch.randn(batch, 3, side, side, device=device, dtype=dtype),)

    return inputs


def build_resnet18(params: Mapping[str, str]) -> Built:
    import torchvision

    size = image_size(params)
    return torchvision.models.resnet18(weights=None), _image_inputs(size)


def build_resnet50(params: Mapping[str, str]) -> Built:
    import torchvision

    size = image_size(params)
    return torchvision.models.resnet50(weights=None), _image_inputs(size)


def _bert(params: Mapping[str, str], **config: Any) -> Built:
    from transformers import BertConfig, BertModel

    seq = bert_seq(params)
    # return_dict=False: the model returns a tuple of tensors (last_hidden_state, pooler_output).
    module = BertModel(BertConfig(vocab_size=BERT_VOCAB, return_dict=False, **config))

    def inputs(batch: int, device: torch.device, dtype: torch.dtype, length: int | None = None) -> Inputs:
        import torch

        tokens = seq if length is None else length
        ids = torch.randint(0, BERT_VOCAB, (batch, tokens), device=device, dtype=torch.int64)
        mask = torch.ones(batch, tokens, device=device, dtype=torch.int64)
        return {"input_ids": ids, "attention_mask": mask}

    return module, inputs


def build_bert_base(params: Mapping[str, str]) -> Built:
    return _bert(params)


def build_bert_tiny(params: Mapping[str, str]) -> Built:
    return _bert(params, hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512)


# The published Stable Diffusion v1.5 UNet configuration (unet/config.json), written out.
SD15_UNET_CONFIG: Mapping[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}

UNET_TINY_CONFIG: Mapping[str, Any] = {
    "sample_size": 32,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "norm_num_groups": 32,
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
}


def _unet(config: Mapping[str, Any], params: Mapping[str, str]) -> Built:
    import torch
    from diffusers import UNet2DConditionModel

    shape = unet_shape(params)
    size, per_sample, text_len = shape.size, shape.per_sample, shape.text_len
    unet: Any = UNet2DConditionModel(**{**config, "sample_size": size})
    ctx_dim = int(config["cross_attention_dim"])
    channels = int(config["in_channels"])

    class UNetStep(torch.nn.Module):
        """One denoising step returning a tensor, not a diffusers output object."""

        def __init__(self) -> None:
            super().__init__()
            self.unet = unet

        def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                    encoder_hidden_states: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]
            return out

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        n = batch * per_sample  # classifier-free guidance: conditional + unconditional latents
        sample = torch.randn(n, channels, size, size, device=device, dtype=dtype)
        timestep = torch.randint(0, 1000, (n,), device=device, dtype=torch.int64)
        text = torch.randn(n, text_len, ctx_dim, device=device, dtype=dtype)
        return (sample, timestep, text)

    return UNetStep(), inputs


def build_unet_tiny(params: Mapping[str, str]) -> Built:
    return _unet(UNET_TINY_CONFIG, params)


def build_sd15_unet(params: Mapping[str, str]) -> Built:
    return _unet(SD15_UNET_CONFIG, params)
