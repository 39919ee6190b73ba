"""Import of real models: an ONNX file (or a live PyTorch module, through PyTorch's ONNX exporter)
read into archcalc's layers, written as a readable spec, and analysed like any other.

``import_onnx("model.onnx")`` gives the spec's text and what the import has to say: how the file's
initializers add up to the parameters (batch-norm statistics are buffers, shape tensors are
constants), and where an exporter folded batch norms into convolutions."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError
from .folding import undo_folding
from .convert import NotATree, graph_units, read_units, structure
from .graph import OnnxGraph, read_onnx
from .writer import dag_entries, find_blocks, items_of, toml_text


@dataclass(frozen=True)
class Imported:
    """A model read from ONNX: the spec's text, and the accounting of its initializers."""

    text: str
    notes: tuple[str, ...]
    initializer_values: int  # every value the file's initializers hold
    parameter_values: int  # those the layers use as parameters (each tensor once)
    buffer_values: int  # batch norms' running statistics
    constant_values: int  # the rest: shapes, pads, scales


def import_onnx(path: str | Path, input: str | None = None, name: str | None = None, data: bytes | None = None,
                frozen: frozenset[str] = frozenset(), origin: str | None = None,
                classes: dict[str, str] | None = None, as_exported: bool = False, strict: bool = False) -> Imported:
    """Read an ONNX model and write it as a spec.

    ``input`` replaces the graph's input size (``"HxWx3"`` keeps it symbolic); ``frozen`` names
    layers whose parameters are not trained; ``origin`` says where the model came from; ``classes``
    maps module paths to class names (block names). Batch norms the exporter folded into convs are
    restored (the model as written) unless ``as_exported``. An operator no kind reads is kept as an
    opaque layer, unless ``strict``: then it is an error."""
    graph = read_onnx(path, data)
    units, view = read_units(graph, strict)
    restored, folding = undo_folding(units, view)
    units = units if as_exported else restored
    notes = list(graph.notes) + ([folding.text(undone=not as_exported)] if folding else _folding_notes(units))
    try:
        items = items_of(structure(units, graph), frozen)
    except NotATree as reason:  # Res2Net, DLA, VoVNet: each layer names what it reads
        kept, passed = graph_units(units, graph)
        written, blocks = dag_entries(kept, passed, graph.input_name, frozen), []
        notes.append(f"the graph is not a tree of branches ({reason.message}): each layer that does not read the one "
                     "before names its inputs")
    else:
        written, blocks = find_blocks(items, classes)
    shape = _input_shape(graph, input)
    stem = name or re.sub(r"[^\w.-]", "_", Path(str(path)).stem) or "model"
    source = origin or f"imported from {Path(str(path)).name}"
    exporter = f"{graph.producer}, " if graph.producer else ""
    accounting = _accounting(graph, units)
    header = [f"{stem}: {source} by archcalc ({exporter}ONNX opset {graph.opset}, {len(graph.nodes):,} nodes, "
              f"{len(units):,} read).", *accounting[0]] + [f"Note: {note}" for note in notes]
    model: dict[str, Any] = {"name": stem, "title": stem, "source": source, **({"notes": notes} if notes else {})}
    text = toml_text(header, shape, written, blocks, model)
    floored = _floored_layers(text, str(path))
    if floored:  # ONNX defines its operators' sizes with the floor: the file's sizes are floored by design
        model["floors"] = floored
        model["floors_reason"] = "ONNX defines its convolutions' and poolings' sizes with the floor"
        text = toml_text(header, shape, written, blocks, model)
    return Imported(text, tuple(accounting[0][1:] + notes), *accounting[1])


def _floored_layers(text: str, file: str) -> list[str]:
    """The layers whose (W - F + 2P)/S + 1 is not whole: ONNX's Conv and pools floor it by definition
    (ceil_mode aside), so the graph's own sizes are floored ones, and the spec says so. This analysis
    is also the check that the written spec analyses: its errors are the import's."""
    from ..engine import analysis_of
    from ..spec import parse_spec

    analysis = analysis_of(parse_spec(text, file))
    return [row.name for row in analysis.rows if row.step is not None and row.step.inexact]


def onnx_spec(path: str | Path, input: str | None = None, as_exported: bool = False, strict: bool = False):
    """The ModelSpec of an ONNX file, as ``archcalc table model.onnx`` analyses it."""
    from ..spec import parse_spec

    imported = import_onnx(path, input, as_exported=as_exported, strict=strict)
    return parse_spec(imported.text, str(path), Path(str(path)).stem)


def _input_shape(graph: OnnxGraph, override: str | None) -> list[Any]:
    """N x C x H x W -> [H, W, C]; N x C x L -> [L, C]; N x F -> [F]."""
    if override:  # checked as any spec's input is, when the text is parsed
        return [int(part) if part.strip().isdigit() else part.strip() for part in override.split("x")]
    dims = graph.input_dims or ()
    layouts = {4: (2, 3, 1), 3: (2, 1), 2: (1,)}
    if len(dims) not in layouts:
        raise SpecError(f"the graph's input {graph.input_name!r} has shape {list(dims)}; archcalc reads images "
                        "(N x C x H x W), sequences (N x C x L) and vectors (N x F)", Location(graph.file))
    shape = [dims[i] for i in layouts[len(dims)]]
    unknown = [d for d in shape if not isinstance(d, int)]
    if unknown:
        raise SpecError(f"the graph's input {graph.input_name!r} has a size that is not fixed ({unknown[0]!r})",
                        Location(graph.file, field="input"), "give the input size: `input` 224x224x3 (or HxWx3)")
    return shape


def _accounting(graph: OnnxGraph, units) -> tuple[list[str], tuple[int, int, int, int]]:
    """How the initializers' values divide into parameters, buffers and constants."""
    def size(name: str) -> int:
        total = 1
        for d in graph.dims(name) or ():
            total *= d if isinstance(d, int) else 0
        return total

    everything = sum(size(name) for name in graph.initializers)
    weights = {w for unit in units for w in unit.weights}
    buffers = {b for unit in units for b in unit.buffers}
    parameters = sum(size(w) for unit in units if not unit.share for w in unit.weights)
    state = sum(size(b) for unit in units for b in unit.buffers)
    stored = weights | buffers
    constants = everything - sum(size(name) for name in stored if name in graph.initializers)
    reused = parameters + state - sum(size(name) for name in stored)
    lines = [f"Initializers: {everything:,} values; the layers' parameters are {parameters:,}"
             + (f", their batch-norm running statistics {state:,} (buffers, not parameters)" if state else "")
             + (f"; {reused:,} of these values are tensors the file stores once for several layers because their "
                "values are equal (an untrained model's batch-norm ones and zeros, zero-initialised convs): equal "
                "values are not tied parameters, so each layer's are counted" if reused else "")
             + (f"; {constants:,} values are constants (shapes, pads, scales)" if constants else "") + "."]
    shared = sum(1 for unit in units if unit.share)
    if shared:
        lines.append(f"{shared} layer(s) reuse another's parameter tensors (share = ...): counted once.")
    return lines, (everything, parameters, state, constants)


def _folding_notes(units) -> list[str]:
    """A graph without batch norms whose convs have biases may have had its batch norms folded."""
    from ..layers import KINDS

    norms = [u for u in units if u.kind and KINDS[u.kind].shorthand]
    biased = [u for u in units if u.kind and KINDS[u.kind].convolutional and u.fields.get("bias") is True]
    if norms or not biased:
        return []
    return [f"no batch norm in the graph, and {len(biased)} convolutions carry a bias. Exporters fold a batch norm "
            "into the conv before it (torch.onnx.export does in eval mode, unless do_constant_folding=False): if the "
            "trained network had them, each folded batch norm of C channels counted 2C parameters where the conv's "
            "bias now counts C."]
