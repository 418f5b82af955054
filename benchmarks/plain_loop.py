"""A plain PyTorch timing loop, written independently of the worker, for the harness-overhead benchmark.

Times `model(*inputs)` the way DESIGN.md says inferbench does (CUDA events around each call with a
synchronize per iteration on GPU; perf_counter_ns on CPU) and prints one JSON line with the median.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def build(spec: str, batch: int, device: str, precision: str) -> tuple[torch.nn.Module, tuple]:
    """The model and inputs inferbench's zoo builds for ``spec`` (``bert-base:seq=512``), with
    weights and floating inputs in ``precision`` (fp16/bf16 convert them, as inferbench does)."""
    torch.manual_seed(0)
    name, _, params = spec.partition(":")
    seq = int(dict(p.split("=", 1) for p in params.split(",") if p).get("seq", 128))
    if name == "resnet50" or name == "resnet18":
        import torchvision

        model = getattr(torchvision.models, name)(weights=None)
        inputs = (torch.randn(batch, 3, 224, 224),)
    elif name.startswith("bert"):
        from transformers import BertConfig, BertModel

        config = BertConfig() if name == "bert-base" else BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512)
        model = BertModel(config)
        inputs = (torch.randint(0, config.vocab_size, (batch, seq)), torch.ones(batch, seq, dtype=torch.long))
    elif name == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(512, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 512))
        inputs = (torch.randn(batch, 512),)
    else:
        raise SystemExit(f"plain_loop.py knows resnet18, resnet50, bert-base, bert-tiny, mlp; not {name}")
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    model = model.eval().to(device=device, dtype=dtype)
    return model, tuple(t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype) for t in inputs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    model, inputs = build(args.model, args.batch, args.device, args.precision)
    cuda = args.device.startswith("cuda")
    times: list[float] = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(*inputs)
        if cuda:
            torch.cuda.synchronize()
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(args.iterations)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(args.iterations)]
            for i in range(args.iterations):
                starts[i].record()
                model(*inputs)
                ends[i].record()
                ends[i].synchronize()
            times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
        else:
            for _ in range(args.iterations):
                t0 = time.perf_counter_ns()
                model(*inputs)
                times.append((time.perf_counter_ns() - t0) / 1e6)
    print(json.dumps({"median_ms": statistics.median(times), "n": len(times), "clock": "cuda_event" if cuda else "perf_counter"}))


if __name__ == "__main__":
    main()
