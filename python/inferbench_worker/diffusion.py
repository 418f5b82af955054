"""The full Stable Diffusion txt2img pipeline as one module: ``sd15`` and ``sd-tiny``.

One call is one pipeline invocation for ``B`` images: the CLIP text encoder on the prompt
and the empty (unconditional) prompt, ``steps`` DDIM denoising steps, each a UNet call on a
2B latent batch (classifier-free guidance with scale ``cfg``; ``cfg`` <= 1 turns guidance
off, as in diffusers: B latents, no empty prompt), then the VAE decoder to pixels in [0, 1]. The
weights are random (built from the published Stable Diffusion v1.5 configs) and no tokenizer
is downloaded: the prompt is a fixed sequence of 77 token ids (BOS, 12 word ids, EOS, EOS
padding), the same for every image; the latents come from the seeded input generator.

The scheduler is DDIM (deterministic, eta 0) with SD v1.5's noise schedule, not the
checkpoint's default PNDM: DDIM makes exactly ``steps`` UNet calls per image, where PNDM
makes ``steps + 1``. ``torch.compile`` applies to the UNet only (``compile_targets``), as one
compiles ``pipe.unet`` in diffusers; the loop, the text encoder and the VAE stay eager.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import bad_request
from .zoo import SD15_UNET_CONFIG, Built, Inputs, int_param

if TYPE_CHECKING:
    import torch

TEXT_LEN = 77
BOS, EOS = 49406, 49407  # CLIP's <|startoftext|> and <|endoftext|> (also its padding)
# Twelve fixed "word" ids standing in for a tokenized prompt.
PROMPT_IDS = (320, 1125, 539, 320, 2368, 530, 518, 1821, 593, 320, 3307, 2119)

# Stable Diffusion v1.5 text_encoder/config.json (CLIP ViT-L/14 text tower).
SD15_CLIP_CONFIG: Mapping[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": TEXT_LEN,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
    "projection_dim": 768,
    "bos_token_id": 0,
    "pad_token_id": 1,
    "eos_token_id": 2,
}

# Stable Diffusion v1.5 vae/config.json.
SD15_VAE_CONFIG: Mapping[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}

# Stable Diffusion v1.5 scheduler/scheduler_config.json's noise schedule.
SD15_SCHEDULE: Mapping[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}

# The tiny configurations diffusers' own pipeline tests use.
TINY_UNET_CONFIG: Mapping[str, Any] = {
    "sample_size": 16,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "norm_num_groups": 32,
    "cross_attention_dim": 32,
    "attention_head_dim": 8,
}
TINY_CLIP_CONFIG: Mapping[str, Any] = {
    "vocab_size": 49408,  # CLIP's, so that the fixed prompt ids are in range
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": TEXT_LEN,
    "layer_norm_eps": 1e-5,
    "projection_dim": 32,
}
TINY_VAE_CONFIG: Mapping[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 2,
    "up_block_types": ("UpDecoderBlock2D",) * 2,
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 32,
    "scaling_factor": 0.18215,
}


def prompt_ids() -> list[int]:
    """The fixed prompt: BOS, the word ids, EOS, then EOS padding to 77 tokens."""
    ids = [BOS, *PROMPT_IDS, EOS]
    return ids + [EOS] * (TEXT_LEN - len(ids))


def empty_prompt_ids() -> list[int]:
    """The unconditional (empty) prompt of classifier-free guidance."""
    return [BOS] + [EOS] * (TEXT_LEN - 1)


@dataclass(frozen=True)
class PipelineShape:
    steps: int
    size: int  # image pixels
    latent: int  # latent pixels: size / the VAE's downscale
    cfg: float  # guidance scale


def _pipeline_shape(unet_config: Mapping[str, Any], vae_config: Mapping[str, Any],
                    params: Mapping[str, str]) -> PipelineShape:
    steps = int_param(params, "steps", maximum=1000)
    size = int_param(params, "size", minimum=8)
    try:
        cfg = float(params["cfg"])
    except ValueError:
        raise bad_request(f"parameter cfg must be a number (the guidance scale), got {params['cfg']!r}") from None
    if not math.isfinite(cfg):
        raise bad_request(f"parameter cfg must be a finite number (the guidance scale), got {params['cfg']!r}")
    vae_scale = 2 ** (len(vae_config["block_out_channels"]) - 1)
    unet_scale = 2 ** (len(unet_config["block_out_channels"]) - 1)
    if size % (vae_scale * unet_scale):
        raise bad_request(f"parameter size must be a multiple of {vae_scale * unet_scale} (image pixels), "
                          f"got {size}")
    return PipelineShape(steps, size, size // vae_scale, cfg)


def sd15_shape(params: Mapping[str, str]) -> PipelineShape:
    return _pipeline_shape(SD15_UNET_CONFIG, SD15_VAE_CONFIG, params)


def sd_tiny_shape(params: Mapping[str, str]) -> PipelineShape:
    return _pipeline_shape(TINY_UNET_CONFIG, TINY_VAE_CONFIG, params)


def _pipeline(unet_config: Mapping[str, Any], clip_config: Mapping[str, Any], vae_config: Mapping[str, Any],
              params: Mapping[str, str]) -> Built:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    shape = _pipeline_shape(unet_config, vae_config, params)
    steps, size, latent, cfg = shape.steps, shape.size, shape.latent, shape.cfg
    guided = cfg > 1  # as in diffusers: a scale of 1 or less turns classifier-free guidance off
    text_encoder = CLIPTextModel(CLIPTextConfig(**clip_config))
    unet: Any = UNet2DConditionModel(**{**unet_config, "sample_size": latent})
    vae: Any = AutoencoderKL(**{**vae_config, "sample_size": size})
    scheduler: Any = DDIMScheduler(**SD15_SCHEDULE)
    channels = int(unet_config["in_channels"])

    class StableDiffusion(torch.nn.Module):
        """txt2img: text encoding, ``steps`` guided DDIM steps, VAE decode; returns images."""

        compile_targets = ("unet",)
        steps_per_call = steps
        empty_ids: torch.Tensor  # a buffer

        def __init__(self) -> None:
            super().__init__()
            self.text_encoder = text_encoder
            self.unet = unet
            self.vae = vae
            self.register_buffer("empty_ids", torch.tensor([empty_prompt_ids()]), persistent=False)

        def forward(self, input_ids: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
            if guided:  # the empty prompt first, then the prompt, as diffusers orders them
                input_ids = torch.cat([self.empty_ids.expand(input_ids.shape[0], -1), input_ids])
            text = self.text_encoder(input_ids, return_dict=False)[0].to(latents.dtype)
            scheduler.set_timesteps(steps)  # every call, as the diffusers pipeline does (cheap, on the CPU)
            timesteps = scheduler.timesteps
            on_device = timesteps.to(latents.device)  # the UNet's timestep lives beside its inputs
            latents = latents * scheduler.init_noise_sigma
            for i, t in enumerate(timesteps):
                sample = torch.cat([latents, latents]) if guided else latents
                sample = scheduler.scale_model_input(sample, t)
                noise = self.unet(sample, on_device[i], encoder_hidden_states=text, return_dict=False)[0]
                if guided:
                    uncond, cond = noise.chunk(2)
                    noise = uncond + cfg * (cond - uncond)
                latents = scheduler.step(noise, t, latents, return_dict=False)[0]
            image: torch.Tensor = self.vae.decode(latents / self.vae.config.scaling_factor, return_dict=False)[0]
            return (image / 2 + 0.5).clamp(0, 1)

    prompt = prompt_ids()

    def inputs(batch: int, device: torch.device, dtype: torch.dtype) -> Inputs:
        ids = torch.tensor([prompt] * batch, device=device, dtype=torch.int64)
        noise = torch.randn(batch, channels, latent, latent, device=device, dtype=dtype)
        return {"input_ids": ids, "latents": noise}

    return StableDiffusion(), inputs


def build_sd15(params: Mapping[str, str]) -> Built:
    return _pipeline(SD15_UNET_CONFIG, SD15_CLIP_CONFIG, SD15_VAE_CONFIG, params)


def build_sd_tiny(params: Mapping[str, str]) -> Built:
    return _pipeline(TINY_UNET_CONFIG, TINY_CLIP_CONFIG, TINY_VAE_CONFIG, params)

