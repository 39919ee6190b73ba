"""Verify every shipped spec on a CUDA GPU and record the figures in one file.

    python3 scripts/gpu_verify.py OUT_DIR [--batch 2]

For each spec: every per-layer check of ``archcalc verify`` (shape, weights, biases, MACs, ONNX),
the median forward latency, and torch.cuda.max_memory_allocated at inference and in a steady
training step (SGD with momentum) beside ``archcalc memory``'s figures (cuDNN's workspaces and the
caching allocator's 512-byte rounding are what the model leaves out).
Where torchvision is installed, its own models are built and compared with the matching specs
(parameters, output shape, MACs): an oracle independent of archcalc's lowering.
Writes OUT_DIR/gpu_verify.json and OUT_DIR/gpu_verify.md; exits 1 if anything differs.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archcalc.engine import analysis_of  # noqa: E402
from archcalc.lower.verify import verify  # noqa: E402
from archcalc.spec import load_spec, shipped_spec_names  # noqa: E402

TORCHVISION_MODELS = {  # spec -> (torchvision builder, keyword arguments)
    "alexnet_torchvision": ("alexnet", {}), "vgg11": ("vgg11", {}), "vgg13": ("vgg13", {}),
    "vgg16": ("vgg16", {}), "vgg19": ("vgg19", {}), "vgg16_bn": ("vgg16_bn", {}),
    "googlenet_torchvision": ("googlenet", {"aux_logits": False, "init_weights": False}),
    "resnet18": ("resnet18", {}), "resnet34": ("resnet34", {}), "resnet50_torchvision": ("resnet50", {}),
    "resnet101_torchvision": ("resnet101", {}), "resnet152_torchvision": ("resnet152", {}),
}


def torchvision_check(name: str, device: str) -> dict | None:
    try:
        import torch
        import torchvision
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    builder, kwargs = TORCHVISION_MODELS[name]
    model = getattr(torchvision.models, builder)(weights=None, **kwargs).eval().to(device)
    analysis = analysis_of(load_spec(name))
    x = torch.randn(1, 3, 224, 224, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(x)
    params = sum(p.numel() for p in model.parameters())
    macs = counter.get_total_flops() // 2
    return {"torchvision": f"{builder} {torchvision.__version__}", "params": [analysis.totals.params, params],
            "macs": [analysis.totals.macs, macs], "output": [list(analysis.rows[-1].shape), list(out.shape[1:])],
            "ok": analysis.totals.params == params and analysis.totals.macs == macs
            and list(analysis.rows[-1].shape) == list(out.shape[1:])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--specs", nargs="*", default=None)
    parser.add_argument("--device", default="cuda", help="cuda (the point of this script), or cpu for a dry run")
    args = parser.parse_args()
    import torch

    args.out.mkdir(parents=True, exist_ok=True)
    names = args.specs or shipped_spec_names()
    results, started = [], time.time()
    for name in names:
        began = time.time()
        record = verify(load_spec(name), device=args.device, batch=args.batch, with_onnx=True).record()
        if name in TORCHVISION_MODELS:
            record["torchvision"] = torchvision_check(name, args.device)
        record["seconds"] = round(time.time() - began, 1)
        results.append(record)
        print(f"{name}: {'ok' if record['ok'] else 'DIFFERENCES'} in {record['seconds']} s", flush=True)
    summary = {"gpu": torch.cuda.get_device_name() if args.device == "cuda" else args.device, "torch": torch.__version__, "python": platform.python_version(),
               "batch": args.batch, "seconds": round(time.time() - started, 1), "models": results}
    (args.out / "gpu_verify.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "gpu_verify.md").write_text(markdown(summary))
    ok = all(r["ok"] and (r.get("torchvision") or {"ok": True})["ok"] for r in results)
    print(markdown(summary))
    return 0 if ok else 1


def markdown(summary: dict) -> str:
    lines = [f"# archcalc verify on {summary['gpu']}", "",
             f"torch {summary['torch']}, Python {summary['python']}, batch {summary['batch']}, "
             f"{summary['seconds']} s in all.", "",
             "| spec | layer checks | ONNX | torchvision | latency (ms, median) | inference peak (MB) "
             "| archcalc (MB) | ratio | training step peak (MB) | archcalc (MB) | ratio | GPU vs CPU output |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in summary["models"]:
        checks = sum(len(layer["checks"]) for layer in r["layers"])
        bad = sum(not c["ok"] for layer in r["layers"] for c in layer["checks"].values())
        cuda, tv = r["cuda"], r.get("torchvision")
        tv_text = "" if tv is None else ("agrees" if tv["ok"] else f"DIFFERS {tv}")
        measured = (f"{cuda['latency_ms_median']} | {cuda['peak_memory_bytes'] / 1e6:.1f} "
                    f"| {cuda['archcalc_inference_peak_bytes'] / 1e6:.1f} "
                    f"| {cuda['peak_memory_bytes'] / cuda['archcalc_inference_peak_bytes']:.3f} "
                    f"| {cuda['training_peak_memory_bytes'] / 1e6:.1f} "
                    f"| {cuda['archcalc_training_peak_bytes'] / 1e6:.1f} "
                    f"| {cuda['training_peak_memory_bytes'] / cuda['archcalc_training_peak_bytes']:.3f} "
                    f"| {cuda['max_relative_difference_from_cpu']:.1e}") if cuda else " | | | | | | | "
        lines.append(f"| {r['model']} | {checks - bad}/{checks} agree | {'ok' if r['onnx'].get('ok') else 'FAIL'} "
                     f"| {tv_text} | {measured} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
