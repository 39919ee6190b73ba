"""TOML specs -> frozen ModelSpec objects, validated before anything is computed.

A spec has ``[model]`` metadata, an ``[input]`` shape and a ``layers`` list. Each layer is a
table (``{kind = "conv", filters = 64, kernel = 3, pad = 1}``) or a line of the compact syntax
(``"conv 64 3x3 p1 relu x2"``); both are checked against the kind's fields in the registry.
Nothing in a spec is evaluated as Python.
"""
from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .dims import Dim, parse_dim
from .errors import Location, SpecError
from .layers import KINDS, Layer, LayerKind, kind_named
from .layers.base import MAX_DIMENSION, nearest

MAX_LAYERS = 100_000
MAX_REPEAT = 10_000
MODEL_KEYS = ("name", "title", "year", "paper", "authors", "url", "source", "notes", "top5_error",
              "data_augmentation", "claims")
TOP_LEVEL_KEYS = ("model", "input", "layers")
LAYER_KEYS = ("kind", "name", "repeat", "activation", "batchnorm")


@dataclass(frozen=True)
class ModelSpec:
    """A validated, expanded network: metadata, input shape, and the flat list of layers."""

    name: str
    file: str
    input_shape: tuple[Dim, ...]
    layers: tuple[Layer, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

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
    path = Path(source)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise SpecError(f"no such spec file: {source}")
        return _read(path, source), source
    shipped = shipped_specs_dir() / f"{source}.toml"
    if shipped.is_file():
        return _read(shipped, f"specs/{source}.toml"), f"specs/{source}.toml"
    names = shipped_spec_names()
    hint = nearest(source, names)
    raise SpecError(f"unknown spec {source!r}" + (f"; {hint}" if hint else "") +
                    f" (shipped specs: {', '.join(names)}; or give a path to a .toml file)")


def _read(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read the file: {error}", Location(display)) from None


def load_spec(source: str) -> ModelSpec:
    """Load and validate a spec by shipped name or path.

    >>> load_spec("vgg16").input_shape
    (224, 224, 3)
    """
    text, display = locate(source)
    default_name = Path(display).stem if display != "<stdin>" else "stdin"
    return parse_spec(text, display, default_name)


# --- parsing ----------------------------------------------------------------------------------


def parse_spec(text: str, file: str = "<spec>", default_name: str = "model") -> ModelSpec:
    """Parse TOML text into a validated ModelSpec."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"TOML syntax error: {error}", Location(file)) from None
    _check_keys(document, TOP_LEVEL_KEYS, Location(file), "top-level key")
    meta = _parse_model(document.get("model", {}), file, default_name)
    input_shape = _parse_input(document.get("input"), file)
    layers = expand_layers(document.get("layers"), file)
    return ModelSpec(meta["name"], file, input_shape, layers, meta)


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
    if not isinstance(meta["name"], str) or not meta["name"]:
        raise SpecError("the model name must be non-empty text", Location(file, field="model.name"))
    return meta


def _parse_input(table: Any, file: str) -> tuple[Dim, ...]:
    where = Location(file, field="input.shape")
    if isinstance(table, (list, str)):  # the short form: input = [224, 224, 3]
        return parse_shape(table, where)
    if not isinstance(table, dict) or "shape" not in table:
        raise SpecError("missing [input] with shape = [H, W, C]", where, "e.g. [input] shape = [224, 224, 3]")
    _check_keys(table, ("shape",), Location(file), "[input] key")
    return parse_shape(table["shape"], where)


def parse_shape(raw: Any, where: Location) -> tuple[Dim, ...]:
    """``[224, 224, 3]``, ``["H", "W", 3]``, ``"224x224x3"`` or ``"HxWx3"`` -> a shape tuple.

    >>> parse_shape("32x32x3", Location())
    (32, 32, 3)
    """
    if isinstance(raw, str):
        raw = [part.strip() for part in re.split(r"[x,]", raw)]
        raw = [int(p) if p.isdigit() else p for p in raw]
    if not isinstance(raw, list) or len(raw) not in (1, 3):
        raise SpecError(f"expected an input shape [H, W, C] or [N], found {raw!r}", where,
                        "e.g. [224, 224, 3] or \"224x224x3\"; symbols allowed: \"HxWx3\"")
    return tuple(_input_dim(value, where) for value in raw)


def _input_dim(value: Any, where: Location) -> Dim:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SpecError(f"expected a whole number or a symbol name, found {value!r}", where)
    dim = parse_dim(value) if isinstance(value, str) else value
    if isinstance(dim, int) and not 1 <= dim <= MAX_DIMENSION:
        raise SpecError(f"input size {dim:,} is outside 1..{MAX_DIMENSION:,}", where)
    return dim


# --- layers -----------------------------------------------------------------------------------


def expand_layers(raw: Any, file: str) -> tuple[Layer, ...]:
    """Validate every layer entry and expand ``repeat`` and ``activation`` in place."""
    if raw is None or (isinstance(raw, list) and not raw):
        raise SpecError("the spec has no layers", Location(file, field="layers"),
                        'add [[layers]] tables or layers = ["conv 64 3x3 p1", ...]')
    if not isinstance(raw, list):
        raise SpecError("layers must be a list", Location(file, field="layers"))
    expanded: list[Layer] = []
    counters: dict[str, int] = {}
    for position, entry in enumerate(raw, start=1):
        where = Location(file, len(expanded) + 1, _entry_name(entry))
        table = parse_compact(entry, where) if isinstance(entry, str) else entry
        if not isinstance(table, dict):
            raise SpecError(f"a layer must be a table or a compact line, found {entry!r}", where)
        expanded.extend(_expand_entry(table, where, len(expanded), counters))
        if len(expanded) > MAX_LAYERS:
            raise SpecError(f"more than {MAX_LAYERS:,} layers after expansion", where,
                            "the limit is archcalc.spec.MAX_LAYERS")
    _check_unique_names(expanded)
    return tuple(expanded)


def _entry_name(entry: Any) -> str | None:
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return entry["name"]
    if isinstance(entry, str) and re.match(r"\s*[\w.-]+:", entry):
        return entry.split(":", 1)[0].strip()
    return None


def _expand_entry(table: dict, where: Location, done: int, counters: dict[str, int]) -> list[Layer]:
    kind_name = table.get("kind")
    if not isinstance(kind_name, str):
        raise SpecError("missing the layer's kind" if kind_name is None else f"kind must be text, found {kind_name!r}",
                        where.with_field("kind"), f"known kinds: {', '.join(sorted(KINDS))}")
    kind = kind_named(kind_name, where.with_field("kind"))
    repeat = _repeat(table.get("repeat", 1), where)
    params = validate_fields(kind, table, where)
    followers = _followers(kind, table, where)
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise SpecError(f"name must be non-empty text, found {name!r}", where.with_field("name"))
    layers = []
    for copy in range(1, repeat + 1):
        layer_name = (f"{name}_{copy}" if repeat > 1 else name) if name else _next_name(kind.name, counters)
        index = done + len(layers) + 1
        layers.append(Layer(kind.name, layer_name, index, params, Location(where.file, index, layer_name)))
        for follower in followers:
            follower_index = done + len(layers) + 1
            follower_name = f"{layer_name}_{follower.name}"
            layers.append(Layer(follower.name, follower_name, follower_index, validate_fields(follower, {}, where),
                                Location(where.file, follower_index, follower_name)))
    return layers


def _followers(kind: LayerKind, table: dict, where: Location) -> list[LayerKind]:
    """The layers the shorthands ``batchnorm = true`` and ``activation = "relu"`` put after a conv or fc."""
    followers = []
    batchnorm = table.get("batchnorm", False)
    if batchnorm is not False:
        if batchnorm is not True:
            raise SpecError(f"batchnorm must be true or false, found {batchnorm!r}", where.with_field("batchnorm"))
        if not kind.takes_activation:
            raise SpecError(f"{kind.name} does not take the batchnorm shorthand", where.with_field("batchnorm"),
                            "add a batchnorm layer of its own")
        followers.append(KINDS["batchnorm"])
    activation = _activation(kind, table.get("activation"), where)
    return followers + ([activation] if activation else [])


def _next_name(kind: str, counters: dict[str, int]) -> str:
    counters[kind] = counters.get(kind, 0) + 1
    return f"{kind}{counters[kind]}"


def _repeat(raw: Any, where: Location) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_REPEAT:
        raise SpecError(f"repeat must be a whole number in 1..{MAX_REPEAT:,}, found {raw!r}",
                        where.with_field("repeat"))
    return raw


def _activation(kind: LayerKind, raw: Any, where: Location) -> LayerKind | None:
    if raw is None:
        return None
    if not kind.takes_activation:
        raise SpecError(f"{kind.name} does not take an activation shorthand", where.with_field("activation"),
                        "add the activation as a layer of its own")
    activation = kind_named(raw, where.with_field("activation")) if isinstance(raw, str) else None
    if activation is None or activation.family != "activation":
        raise SpecError(f"activation must name an activation kind, found {raw!r}", where.with_field("activation"))
    return activation


def validate_fields(kind: LayerKind, table: Mapping[str, Any], where: Location) -> dict[str, Any]:
    """Check a layer table against its kind: unknown fields, missing ones, types. Returns typed values."""
    allowed = [f.name for f in kind.fields] + list(LAYER_KEYS)
    for key in table:
        if key not in allowed:
            hint = nearest(key, allowed)
            raise SpecError(f"{kind.name} has no field {key!r}" + (f"; {hint}" if hint else "") +
                            f" (fields: {', '.join(f.name for f in kind.fields) or 'none'})",
                            where.with_field(key))
    params: dict[str, Any] = {}
    for spec_field in kind.fields:
        if spec_field.name in table:
            params[spec_field.name] = spec_field.coerce(table[spec_field.name], where)
        elif spec_field.required:
            raise SpecError(f"{kind.name} needs the field '{spec_field.name}' ({spec_field.help})",
                            where.with_field(spec_field.name))
        else:
            default = spec_field.default
            params[spec_field.name] = default if default is None else spec_field.coerce(default, where)
    return params


def _check_unique_names(layers: list[Layer]) -> None:
    seen: dict[str, int] = {}
    for layer in layers:
        if layer.name in seen:
            raise SpecError(f"the name {layer.name!r} is already used by layer {seen[layer.name]}",
                            layer.at("name"))
        seen[layer.name] = layer.index


# --- the compact syntax -----------------------------------------------------------------------

_PAIR = r"(\d+)(?:x(\d+))?"
_PREFIXED = {"s": "stride", "p": "pad", "d": "dilation", "g": "groups"}
_FLAGS = {"ceil": ("ceil", True), "nobias": ("bias", False), "no-bias": ("bias", False), "bn": ("batchnorm", True),
          "same": ("pad", "same"), "valid": ("pad", "valid")}


def parse_compact(line: str, where: Location) -> dict[str, Any]:
    """One layer in the compact syntax -> the same table the long form gives.

    >>> parse_compact("conv1: conv 96 11x11 s4 p0 relu", Location())
    {'name': 'conv1', 'kind': 'conv', 'filters': 96, 'kernel': [11, 11], 'stride': 4, 'pad': 0, 'activation': 'relu'}
    >>> parse_compact("maxpool 3 s2 ceil x2", Location())
    {'kind': 'maxpool', 'kernel': 3, 'stride': 2, 'ceil': True, 'repeat': 2}
    """
    text = line.strip()
    table: dict[str, Any] = {}
    label = re.match(r"([\w.-]+):\s*", text)
    if label:
        table["name"] = label.group(1)
        text = text[label.end():]
    tokens = text.split()
    if not tokens:
        raise SpecError(f"empty layer line {line!r}", where, 'e.g. "conv 64 3x3 s1 p1"')
    kind = kind_named(tokens[0], where.with_field("kind"))
    table["kind"] = kind.name
    for token in tokens[1:]:
        key, value = _compact_token(kind, token, table, line, where)
        if key in table:
            raise SpecError(f"{key!r} given twice in {line!r}", where.with_field(key))
        table[key] = value
    return table


def _compact_token(kind: LayerKind, token: str, table: dict, line: str, where: Location) -> tuple[str, Any]:
    if "=" in token:
        key, _, value = token.partition("=")
        return key, _compact_value(value)
    if token in _FLAGS:
        return _FLAGS[token]
    if token in KINDS and KINDS[token].family == "activation":
        return "activation", token
    repeat = re.fullmatch(r"[x*](\d+)", token)
    if repeat:
        return "repeat", int(repeat.group(1))
    prefixed = re.fullmatch(r"([spdg])" + _PAIR, token)
    if prefixed:
        return _PREFIXED[prefixed.group(1)], _pair_value(prefixed.group(2), prefixed.group(3))
    pair = re.fullmatch(r"(\d+)x(\d+)", token)
    if pair and kind.field_named("kernel") and "kernel" not in table:
        return "kernel", [int(pair.group(1)), int(pair.group(2))]
    if re.fullmatch(r"\d+(x\d+)?|\d*\.\d+", token) and kind.positional:
        return kind.positional, _compact_value(token)
    raise SpecError(f"cannot read {token!r} in {line!r}", where,
                    "compact tokens: a number, FxF (kernel), sN (stride), pN (pad), dN (dilation), gN (groups), "
                    "xN (repeat), ceil, nobias, same, valid, an activation name, or key=value")


def _pair_value(first: str, second: str | None) -> int | list[int]:
    return int(first) if second is None else [int(first), int(second)]


def _compact_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``6x6`` -> [6, 6], anything else stays text."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d+x\d+", text):
        return [int(part) for part in text.split("x")]
    if re.fullmatch(r"\d*\.\d+(e-?\d+)?|\d+e-?\d+", text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text


# --- transformations requested on the command line --------------------------------------------


def with_input(spec: ModelSpec, shape: tuple[Dim, ...]) -> ModelSpec:
    """The same network on another input size."""
    return replace(spec, input_shape=shape)


def without_bias(spec: ModelSpec) -> ModelSpec:
    """Every conv and fc without biases (the lecture's 'not counting biases')."""
    def strip(layer: Layer) -> Layer:
        if "bias" not in layer.params:
            return layer
        return replace(layer, params={**layer.params, "bias": False})

    return replace(spec, layers=tuple(strip(layer) for layer in spec.layers))
