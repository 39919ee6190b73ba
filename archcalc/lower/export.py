"""Export of the lowered network: a readable PyTorch source file, or an ONNX model."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from ..files import write_output
from ..spec import ModelSpec
from .build import build, example_input, module_source, require_torch


def write_torch_source(spec: ModelSpec, path: str, force: bool = False) -> Path:
    """A self-contained Python file that builds the network (``python FILE`` prints it)."""
    return write_output(path, module_source(spec), force)


MAX_ONNX_LAYERS = int(os.environ.get("ARCHCALC_MAX_ONNX_LAYERS", 5_000))


def check_onnx_size(spec: ModelSpec) -> None:
    """ONNX export and checking grow past minutes and gigabytes beyond a few thousand layers (a
    10,000-layer net: 133 s, 2.6 GB): a named limit instead."""
    from ..errors import LimitError

    count = len(spec.leaves())
    if count > MAX_ONNX_LAYERS:
        raise LimitError(f"ONNX export is limited to {MAX_ONNX_LAYERS:,} layers; this network has {count:,}",
                         hint="use `no_onnx` (verify) or `torch` (export), or raise ARCHCALC_MAX_ONNX_LAYERS")


def write_onnx(spec: ModelSpec, path: str, force: bool = False, weights: bool = True) -> Path:
    """Export the lowered network (batch 1) to ``path``; nothing is left behind on failure. Without
    ``weights`` the file holds the structure alone (the weights are graph inputs with their shapes):
    VGG16 in 20 KB instead of 528 MB, for viewers and for ``archcalc import``."""
    check_onnx_size(spec)
    torch = require_torch()
    network, x = build(spec), example_input(spec, 1)

    def export(temporary: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # constant folding would fold each batch norm into the conv before it: off, the file holds
            # the network the spec describes (archcalc import reads it back with the same parameters)
            torch.onnx.export(network, (x,), str(temporary), dynamo=False, input_names=["input"],
                              output_names=["output"], do_constant_folding=False, export_params=weights)

    return write_output(path, export, force)
