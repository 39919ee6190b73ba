"""TOML specs -> frozen ModelSpec objects, validated before anything is computed.

A spec has ``[model]`` metadata, an ``[input]`` shape and a ``layers`` list. Each layer is a
table of its kind and fields (``{kind = ..., filters = 64, kernel = 3, pad = 1}``) or a line of the
compact syntax (``"conv 64 3x3 p1 relu x2"``); both are checked against the kind's fields in the
registry.
Nothing in a spec is evaluated as Python.
"""
from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from .dims import Dim, parse_dim
from .errors import Location, SpecError
from .expand import Block, Expander, Node, Parallel, leaves, parse_blocks
from .graph import Graph, graph_of
from .layers import KINDS, Dilation, Layer
from .layers.base import MAX_DIMENSION, nearest

MODEL_KEYS = ("name", "title", "era", "year", "paper", "authors", "url", "source", "notes", "top5_error", "top5_source",
              "width_multiplier", "data_augmentation", "claims", "floors", "floors_reason", "keras_conv_biases", "labels")
TOP_LEVEL_KEYS = ("model", "input", "layers", "blocks")


@dataclass(frozen=True)
class ModelSpec:
    """A validated, expanded network: metadata, input shape, and the tree of layers and branches."""

    name: str
    file: str
    input_shape: tuple[Dim, ...]
    layers: tuple[Node, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def leaves(self) -> list[Layer]:
        """Every layer, branches included, in order."""
        return leaves(self.layers)

    @cached_property
    def graph(self) -> Graph:
        """The network as one graph of layers and merges (archcalc.graph), made once per spec."""
        return graph_of(self.layers)

    @property
    def title(self) -> str:
        return self.meta.get("title", self.name)


# --- finding specs ----------------------------------------------------------------------------


def shipped_specs_dir() -> Path:
    """The specs that ship with archcalc: inside the installed package, or the repo's ``specs/``."""
    installed = Path(__file__).parent / "specs"
    return installed if installed.is_dir() else Path(__file__).parent.parent / "specs"


def shipped_spec_names() -> list[str]:
    """The names ``archcalc table NAME`` accepts, sorted.

    >>> "vgg16" in shipped_spec_names()
    True
    """
    return sorted(path.stem for path in shipped_specs_dir().glob("*.toml"))


def locate(source: str) -> tuple[str, str]:
    """Read a spec given as a path, a shipped name, or ``-`` (stdin). Returns ``(text, display name)``."""
    if source == "-":
        return sys.stdin.read(), "<stdin>"
    shown = source if len(source) <= 80 else source[:77] + "..."
    try:
        path = Path(source)
        if path.suffix == ".toml" or path.exists():
            if not path.is_file():
                raise SpecError(f"no such spec file: {shown}" + (" (it is a folder)" if path.is_dir() else ""))
            return _read(path, source), source
        shipped = shipped_specs_dir() / f"{source}.toml"
        if "/" not in source and "\x00" not in source and shipped.is_file():
            return _read(shipped, f"specs/{source}.toml"), f"specs/{source}.toml"
    except (OSError, ValueError) as error:  # a name too long for a path, a NUL byte
        raise SpecError(f"no such spec: {shown!r} ({getattr(error, 'strerror', None) or error})") from None
    names = shipped_spec_names()
    hint = nearest(source, names) if len(source) <= 80 else ""
    raise SpecError(f"unknown spec {shown!r}" + (f"; {hint}" if hint else "") +
                    f" (shipped specs: {', '.join(names)}; or give a path to a .toml file)")


def _read(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark, as Windows editors write, is dropped
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read the file: {error}", Location(display)) from None


def load_spec(source: str) -> ModelSpec:
    """Load and validate a spec by shipped name or path.

    >>> load_spec("vgg16").input_shape
    (224, 224, 3)
    """
    if source.lower().endswith(".onnx"):  # the importer builds on this module: archcalc.load reads models
        raise SpecError(f"{source} is a model, not a spec: read it with archcalc.load({source!r}) "
                        f"(or import it: archcalc import {source})")
    text, display = locate(source)
    default_name = Path(display).stem if display != "<stdin>" else "stdin"
    return parse_spec(text, display, default_name)


# --- parsing ----------------------------------------------------------------------------------


def parse_spec(text: str, file: str = "<spec>", default_name: str = "model") -> ModelSpec:
    """Parse TOML text into a validated ModelSpec (a leading byte-order mark is dropped)."""
    try:
        document = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"TOML syntax error: {error}", Location(file)) from None
    _check_keys(document, TOP_LEVEL_KEYS, Location(file), "top-level key")
    meta = _parse_model(document.get("model", {}), file, default_name)
    input_shape = _parse_input(document.get("input"), file)
    blocks = parse_blocks(document.get("blocks"), file)
    entries = document.get("layers")
    if entries is None or (isinstance(entries, list) and not entries):
        raise SpecError("the spec has no layers", Location(file, field="layers"),
                        'add [[layers]] tables or layers = ["conv 64 3x3 p1", ...]')
    layers = Expander(file, blocks, entry_lines(text)).sequence(entries, variables=input_symbols(input_shape))
    if "floors" in meta:
        layers = floors_by_design(layers, meta["floors"], Location(file, field="model.floors"))
    spec = ModelSpec(meta["name"], file, input_shape, layers, meta)
    spec.graph  # named inputs resolve now, before anything is computed
    return spec


def floors_by_design(layers: tuple[Node, ...], names: Any, where: Location) -> tuple[Node, ...]:
    """``[model] floors = ["conv1", "conv3_1"]``: the layers (or every layer of the blocks) named,
    whose flooring of (W - F + 2P)/S + 1 is the reference implementation's: notes, not warnings."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise SpecError(f"floors must be a list of layer or block names, found {names!r}", where)
    known = {layer.name for layer in leaves(layers)}
    unknown = [name for name in names if name not in known and not any(k.startswith(name + "/") for k in known)]
    if unknown:
        hint = nearest(unknown[0], sorted(known))
        raise SpecError(f"floors names {unknown[0]!r}, which is no layer or block of this spec"
                        + (f"; {hint}" if hint else ""), where)

    def mark(layer: Layer) -> Layer:
        inside = any(layer.name == name or layer.name.startswith(name + "/") for name in names)
        return replace(layer, floors=True) if inside else layer

    return map_layers(layers, mark)


def _check_keys(table: Mapping, allowed, location: Location, what: str) -> None:
    for key in table:
        if key not in allowed:
            hint = nearest(key, allowed)
            raise SpecError(f"unknown {what} {key!r}" + (f"; {hint}" if hint else "") +
                            f" (allowed: {', '.join(allowed)})", location.with_field(key))


def _parse_model(table: Any, file: str, default_name: str) -> dict:
    if not isinstance(table, dict):
        raise SpecError("[model] must be a table", Location(file, field="model"))
    _check_keys(table, MODEL_KEYS, Location(file), "[model] key")
    meta = dict(table)
    meta.setdefault("name", default_name)
    if meta.get("labels", "full") not in ("full", "slide"):
        raise SpecError(f"[model] labels must be \"full\" or \"slide\", found {meta['labels']!r}",
                        Location(file, field="model.labels"),
                        "\"slide\" leaves padding out of the labels, as the VGG slide's CONV3-64 does")
    if not isinstance(meta["name"], str) or not meta["name"]:
        raise SpecError("the model name must be non-empty text", Location(file, field="model.name"))
    return meta


def _parse_input(table: Any, file: str) -> tuple[Dim, ...]:
    where = Location(file, field="input.shape")
    if isinstance(table, (list, str)):  # the short form: input = [224, 224, 3]
        return parse_input_shape(table, where)
    if not isinstance(table, dict) or "shape" not in table:
        raise SpecError("missing [input] with shape = [H, W, C]", where, "e.g. [input] shape = [224, 224, 3]")
    _check_keys(table, ("shape",), Location(file), "[input] key")
    return parse_input_shape(table["shape"], where)


def parse_input_shape(raw: Any, where: Location) -> tuple[Dim, ...]:
    """``[224, 224, 3]``, ``["H", "W", 3]``, ``"224x224x3"``, ``"HxWx3"``, ``[L, C]`` or ``[N]`` -> a shape tuple.

    >>> parse_input_shape("32x32x3", Location())
    (32, 32, 3)
    """
    if isinstance(raw, str):
        raw = [part.strip() for part in re.split(r"[x,]", raw)]
        raw = [int(p) if p.isdigit() else p for p in raw]
    if not isinstance(raw, list) or len(raw) not in (1, 2, 3):
        raise SpecError(f"expected an input shape [H, W, C], [L, C] or [N], found {raw!r}", where,
                        "e.g. [224, 224, 3] or \"224x224x3\"; symbols allowed: \"HxWx3\"")
    return tuple(_input_dim(value, where) for value in raw)


def _input_dim(value: Any, where: Location) -> Dim:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SpecError(f"expected a whole number or a symbol name, found {value!r}", where)
    dim = parse_dim(value) if isinstance(value, str) else value
    if isinstance(dim, int) and not 1 <= dim <= MAX_DIMENSION:
        raise SpecError(f"input size {dim:,} is outside 1..{MAX_DIMENSION:,}", where)
    return dim


def entry_lines(text: str) -> list[int]:
    """The line on which each top-level entry of ``layers`` starts (``[[layers]]`` tables, or the
    items of ``layers = [...]``), found by a light scan of the TOML text; errors cite them.

    >>> entry_lines('input = [8, 8, 3]\\nlayers = [\\n  "conv 4 3x3",  # one\\n  { kind = "relu" },\\n]')
    [3, 4]
    """
    headers = [number for number, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[layers]]")]
    if headers:
        return headers
    start = re.search(r"(?m)^layers\s*=\s*\[", text)
    if not start:
        return []
    found, depth, expecting, position = [], 0, True, start.end()
    counted, lines = 0, 1  # newlines counted up to ``counted``: each entry's line costs the text since the last

    def line_at(position: int) -> int:
        nonlocal counted, lines
        lines += text.count("\n", counted, position)
        counted = position
        return lines

    while position < len(text):
        character = text[position]
        if character == "#":
            position = text.find("\n", position)
            if position < 0:
                break
        elif character in "\"'":
            if depth == 0 and expecting:
                found.append(line_at(position))
                expecting = False
            position = _string_end(text, position)
        elif character in "[{":
            if depth == 0 and expecting:
                found.append(line_at(position))
                expecting = False
            depth += 1
        elif character in "]}":
            if depth == 0:
                break
            depth -= 1
        elif character == "," and depth == 0:
            expecting = True
        position += 1
    return found


def _string_end(text: str, start: int) -> int:
    """The index of the closing quote of the TOML string that opens at ``start``."""
    quote = text[start]
    position = start + 1
    while position < len(text) and text[position] != quote:
        position += 2 if quote == '"' and text[position] == "\\" else 1
    return position


def quick_spec(input_shape: str, layers: str) -> ModelSpec:
    """A spec from the command line: ``--input 32x32x3 --layers "conv 10 5x5 s1 p2; maxpool 2 s2"``.

    >>> quick_spec("32x32x3", "conv 10 5x5 p2; maxpool 2").input_shape
    (32, 32, 3)
    """
    where = Location("`layers`")
    lines = [line.strip() for line in re.split(r"[;\n]", layers) if line.strip()]
    if not lines:
        raise SpecError("`layers` is empty", where, 'e.g. `layers` "conv 10 5x5 s1 p2; maxpool 2 s2"')
    shape = parse_input_shape(input_shape, Location("`input`"))
    layers = Expander("`layers`", {}).sequence(lines, variables=input_symbols(shape))
    return ModelSpec("question", "--layers", shape, layers, {"title": "Question"})


def input_symbols(shape: tuple[Dim, ...]) -> dict[str, Dim]:
    """The input's symbols by name, for the layers' fields: ``HxWxC`` lets a conv have ``C`` filters.

    >>> sorted(input_symbols(parse_input_shape("HxWxC", Location())))
    ['C', 'H', 'W']
    """
    return {str(symbol): symbol for dim in shape if not isinstance(dim, int) for symbol in dim.free_symbols}


# --- transformations requested on the command line --------------------------------------------


def with_input(spec: ModelSpec, shape: tuple[Dim, ...]) -> ModelSpec:
    """The same network on another input size."""
    return replace(spec, input_shape=shape)


def without_bias(spec: ModelSpec) -> ModelSpec:
    """Every conv and fc without biases (the lecture's 'not counting biases')."""
    return replace(spec, layers=map_layers(spec.layers, _strip_bias))


def _strip_bias(layer: Layer) -> Layer:
    if "bias" not in layer.fields:
        return layer
    return replace(layer, fields={**layer.fields, "bias": False})


def map_layers(nodes: tuple[Node, ...], change) -> tuple[Node, ...]:
    """The same tree with ``change`` applied to every layer."""
    def one(node: Node) -> Node:
        if isinstance(node, Layer):
            return change(node)
        if isinstance(node, Parallel):
            return replace(node, branches=tuple(map_layers(branch, change) for branch in node.branches))
        if isinstance(node, Block):
            return replace(node, body=map_layers(node.body, change))
        return node  # a merge of named values: no fields to change

    return tuple(one(node) for node in nodes)


def caffe_pooling(spec: ModelSpec) -> ModelSpec:
    """Every pooling with a rounding choice (a ``ceil`` field) in ceil mode, as Caffe rounds pooling."""
    def ceil(layer: Layer) -> Layer:
        if "ceil" not in layer.fields:
            return layer
        return replace(layer, fields={**layer.fields, "ceil": True})

    return replace(spec, layers=map_layers(spec.layers, ceil))


def dilation_from_zero(spec: ModelSpec) -> ModelSpec:
    """Read every dilation as the number of gaps between kernel taps (0 = an ordinary conv, effective
    kernel F + (F-1)*D), as some courses do, rather than PyTorch's D = 1 for an ordinary conv. Only
    a dilation the spec gives is read so: a layer without one stays an ordinary conv."""
    def shift(layer: Layer) -> Layer:
        dilated = {f.name: f.type.shifted(layer[f.name]) for f in KINDS[layer.kind].fields
                   if isinstance(f.type, Dilation) and f.name in layer.written}
        return replace(layer, fields={**layer.fields, **dilated}) if dilated else layer

    return replace(spec, layers=map_layers(spec.layers, shift))
