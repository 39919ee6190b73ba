"""ONNX export to a file, written atomically like every other output."""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from ..errors import ArchcalcError
from ..spec import ModelSpec
from .build import build, example_input, require_torch


def write_onnx(spec: ModelSpec, path: str, force: bool = False) -> None:
    """Export the lowered network (batch 1) to ``path``; nothing is left behind on failure."""
    torch = require_torch()
    target = Path(path)
    if target.exists() and not force:
        raise ArchcalcError(f"{target} exists; pass --force to overwrite it")
    network, x = build(spec), example_input(spec, 1)
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        temporary = Path(folder) / target.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(network, (x,), str(temporary), dynamo=False, input_names=["input"],
                              output_names=["output"])
        os.replace(temporary, target)
