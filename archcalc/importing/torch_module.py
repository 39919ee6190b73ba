"""A live ``torch.nn.Module`` -> a spec, through PyTorch's ONNX exporter: the exporter keeps the
module names in its node names (``/layer1/layer1.0/conv1/Conv``), and with constant folding off
it keeps the batch norms apart from the convs. What ONNX does not carry, the module tells:
which parameters are frozen."""
from __future__ import annotations

import io
import warnings

from ..errors import ArchcalcError
from ..spec import ModelSpec, parse_spec


def torch_spec(module, input: str, name: str | None = None) -> ModelSpec:
    """The module's spec on an input of ``input`` (H x W x C, L x C, or F)."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ArchcalcError(f"from_torch needs a torch.nn.Module, found {type(module).__name__}")
    sizes = _sizes(input)
    layout = {3: lambda s: (1, s[2], s[0], s[1]), 2: lambda s: (1, s[1], s[0]), 1: lambda s: (1, s[0])}[len(sizes)]
    example = torch.zeros(layout(sizes))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), buffer, dynamo=False, input_names=["input"], output_names=["output"],
                          do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL, export_params=False)
    from . import import_onnx

    label = name or type(module).__name__.lower()
    frozen = frozenset(path for path, child in module.named_modules()
                       if list(child.parameters(recurse=False)) and
                       not any(p.requires_grad for p in child.parameters(recurse=False)))
    classes = {path: type(child).__name__ for path, child in module.named_modules() if path}
    imported = import_onnx(f"{label}.onnx", data=buffer.getvalue(), name=label, frozen=frozen,
                           origin=f"read from the PyTorch module {type(module).__name__}", classes=classes)
    return parse_spec(imported.text, f"<{type(module).__name__}>", label)


def _sizes(input: str) -> tuple[int, ...]:
    parts = str(input).lower().split("x")
    if not 1 <= len(parts) <= 3 or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
        raise ArchcalcError(f"input must be whole sizes such as 224x224x3 (or 100x12, or 784), found {input!r}")
    return tuple(int(part) for part in parts)
