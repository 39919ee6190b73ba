"""Layers and branches read from a graph -> a readable spec: compact lines, batch norms and
activations folded into the conv before them (``conv 64 3x3 p1 nobias bn relu``), and the model's
repeated modules written once as ``[blocks.NAME]`` with parameters, used once per copy under the
model's own names."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Union

from ..layers import KINDS, MERGES
from ..layers.base import PAIR
from .convert import Entry, MergeEntry, module_path

PARAM_NAMES = {"filters": "c", "units": "n", "stride": "s", "kernel": "k", "pad": "p", "groups": "g",
               "multiplier": "m", "dilation": "d", "start": "start", "count": "count", "scale": "scale"}
MIN_BLOCK_SIZE = 2  # a block stands for at least this many written lines


def _parameterisable(key: str, value: Any) -> bool:
    """A whole-number field that a block may take as a parameter (filters, stride, kernel, ...)."""
    return key in PARAM_NAMES and isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Line:
    name: str
    kind: str
    fields: dict[str, Any]
    scope: tuple[str, ...]
    followers: list[str] = field(default_factory=list)
    share: str | None = None
    trainable: bool = True
    inputs: list[str] = field(default_factory=list)  # named inputs, where it does not read the line before


@dataclass
class Merge:
    merge: str
    branches: list[list["Item"]]
    scope: tuple[str, ...]


Item = Union[Line, Merge]


# --- entries -> items -----------------------------------------------------------------------------


def items_of(entries: list[Entry], frozen: set[str] = frozenset()) -> list[Item]:
    """The entries as written: pass-throughs dropped, default batch norms and plain activations
    folded into the conv or fc before them."""
    items: list[Item] = []
    for entry in entries:
        unit = entry.unit
        if isinstance(entry, MergeEntry):
            items.append(Merge(unit.merge, [items_of(branch, frozen) for branch in entry.branches], _scope(entry)))
            continue
        if unit.kind is None:
            continue
        line = Line(unit.name, unit.kind, dict(unit.fields), unit.scope, share=unit.share,
                    trainable=unit.name not in frozen)
        if not _fold_into(items[-1] if items else None, line):
            items.append(line)
    return items


def _scope(entry: MergeEntry) -> tuple[str, ...]:
    scopes = [entry.unit.scope] + [_scope_of(item) for branch in entry.branches for item in branch]
    return _common(scopes)


def _scope_of(entry: Entry) -> tuple[str, ...]:
    return _scope(entry) if isinstance(entry, MergeEntry) else entry.unit.scope


def _common(scopes: list[tuple[str, ...]]) -> tuple[str, ...]:
    common: list[str] = []
    for parts in zip(*scopes):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return tuple(common)


def _fold_into(before: Item | None, line: Line) -> bool:
    """``bn`` and an activation name are tokens of the conv or fc line before them, where the batch
    norm or activation has no field of its own to say."""
    kind = KINDS[line.kind]
    if not isinstance(before, Line) or not KINDS[before.kind].takes_followers or line.share:
        return False
    if before.trainable != line.trainable or any(not _is_default(kind, k, v) for k, v in line.fields.items()):
        return False
    if kind.shorthand and not before.followers:
        before.followers.append(line.kind)
        return True
    if kind.activation and not any(KINDS[name].activation for name in before.followers):
        before.followers.append(line.kind)
        return True
    return False


# --- compact lines --------------------------------------------------------------------------------


def render(line: Line, values: dict[str, Any] | None = None) -> str | dict:
    """A layer as a compact line, or as a table where a field has no compact form (four-sided padding).
    ``values`` replaces fields by block parameters (names or expressions)."""
    kind = KINDS[line.kind]
    fields = {**line.fields, **(values or {})}
    fields = {key: value for key, value in fields.items() if not _is_default(kind, key, value)}
    if isinstance(fields.get("pad"), list) and len(fields["pad"]) == 4:
        return _table(line, kind, fields)
    tokens = [f"{line.name}: {kind.name}" if line.name else kind.name]
    if kind.positional in fields:
        tokens.append(_value_text(fields.pop(kind.positional)))
    for key, value in fields.items():
        tokens.append(_token(kind, key, value))
    tokens += [_follower_token(name) for name in line.followers]
    tokens += [f"share={line.share}"] if line.share else []
    tokens += ["trainable=false"] if not line.trainable else []
    return " ".join(tokens)


def _follower_token(kind_name: str) -> str:
    kind = KINDS[kind_name]
    return kind.shorthand.token if kind.shorthand else kind.name


def _is_default(kind, key: str, value: Any) -> bool:
    found = kind.field_named(key)
    if found is None:
        return False
    default = found.default
    return value == default or (isinstance(value, list) and value and all(v == default for v in value))


def _token(kind, key: str, value: Any) -> str:
    if isinstance(value, str) and not re.fullmatch(r"\d+", value) and key != "pad":
        return f"{key}={value}"  # a block parameter or expression, or a word
    if key == "kernel" and kind.field_named("kernel").type is PAIR:
        return _value_text(value) if isinstance(value, list) else f"{value}x{value}"
    prefixes = {"stride": "s", "pad": "p", "dilation": "d", "groups": "g"}
    if key in prefixes and (isinstance(value, int) or (isinstance(value, list) and len(value) == 2)):
        return prefixes[key] + _value_text(value)
    if key == "pad" and value in ("same", "valid"):
        return value
    if value is False and key == "bias":
        return "nobias"
    if value is True and key == "ceil":
        return "ceil"
    return f"{key}={_value_text(value)}"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.7g}"
    return str(value)


def _table(line: Line, kind, fields: dict) -> dict:
    table: dict[str, Any] = {"name": line.name, "kind": kind.name, **fields}
    for name in line.followers:
        follower = KINDS[name]
        if follower.shorthand:
            table[follower.shorthand.key] = True
        else:
            table["activation"] = follower.name
    if line.share:
        table["share"] = line.share
    if not line.trainable:
        table["trainable"] = False
    return table


# --- any graph: named inputs ----------------------------------------------------------------------


def dag_entries(units: list, passed: dict[str, str], input_tensor: str, frozen: set[str] = frozenset()) -> list[Any]:
    """Units that do not form a tree of branches, written in order with named inputs (``inputs=a``,
    ``add a b``) wherever a unit does not read the one before; batch norms and activations that read
    only the conv or fc before them fold into its line, as everywhere."""
    readers: dict[str, int] = {}
    for unit in units:
        for tensor in unit.inputs:
            tensor = passed.get(tensor, tensor)
            readers[tensor] = readers.get(tensor, 0) + 1
    value_of = {input_tensor: "input"}  # tensor -> the name a spec reads it by
    lines: list[Line | tuple[str, str, list[str]]] = []
    previous_tensor = input_tensor
    for unit in units:
        inputs = [passed.get(tensor, tensor) for tensor in unit.inputs]
        names = [value_of[tensor] for tensor in inputs]
        if unit.merge is not None:
            lines.append((unit.name, unit.merge, names))
            value_of[unit.output], previous_tensor = unit.name, unit.output
            continue
        line = Line(unit.name, unit.kind, dict(unit.fields), unit.scope, share=unit.share,
                    trainable=unit.name not in frozen)
        before = lines[-1] if lines else None
        chained = inputs == [previous_tensor] and readers.get(previous_tensor, 0) == 1
        if chained and isinstance(before, Line) and _fold_into(before, line):
            kind = KINDS[line.kind]
            value_of[unit.output] = f"{before.name}_{kind.shorthand.suffix if kind.shorthand else kind.name}"
        else:
            line.inputs = [] if inputs == [previous_tensor] else names  # else it reads the entry before
            lines.append(line)
            value_of[unit.output] = unit.name
        previous_tensor = unit.output
    return [_dag_render(line) for line in lines]


def _dag_render(line) -> str | dict:
    if not isinstance(line, Line):
        name, merge, names = line
        return f"{name}: {merge} {' '.join(names)}"
    written = render(line)
    if not line.inputs:
        return written
    if isinstance(written, dict):
        return {**written, "inputs": line.inputs}
    return f"{written} inputs={','.join(line.inputs)}"


# --- blocks ---------------------------------------------------------------------------------------


@dataclass
class BlockDefinition:
    name: str
    params: list[str]
    body: list[Any]  # rendered entries


def find_blocks(items: list[Item], classes: dict[str, str] | None = None) -> tuple[list[Any], list[BlockDefinition]]:
    """Group the top-level items by module scope, at the depth that writes fewest lines, and write
    every group whose structure repeats as uses of one block (named after the module's class where
    ``classes`` maps module paths to class names, as from_torch does)."""
    flat = [_render_item(item) for item in items]
    best = (_lines(flat), flat, [])
    depth_limit = max((len(item.scope) for item in items), default=0)
    for depth in range(1, depth_limit + 1):
        written, blocks = _with_blocks(items, depth, classes or {})
        lines = _lines(written) + sum(1 + _lines(block.body) for block in blocks)
        if blocks and lines < best[0]:
            best = (lines, written, blocks)
    return best[1], best[2]


def count_lines(items: list[Item]) -> int:
    """Layers and merges, each one line."""
    return sum(1 + sum(count_lines(b) for b in item.branches) if isinstance(item, Merge) else 1 for item in items)


def _lines(written: list[Any]) -> int:
    """The same count on written entries: a merge table is a line and its branches' lines."""
    return sum(1 + sum(_lines(branch) for branches in entry.values() if isinstance(branches, list)
                       for branch in branches)
               if isinstance(entry, dict) and "kind" not in entry else 1 for entry in written)


def _with_blocks(items: list[Item], depth: int, classes: dict[str, str]) -> tuple[list[Any], list[BlockDefinition]]:
    runs: list[tuple[tuple[str, ...] | None, list[Item]]] = []
    for item in items:
        key = item.scope[:depth] if len(item.scope) >= depth else None
        if key is not None and runs and runs[-1][0] == key:
            runs[-1][1].append(item)
        else:
            runs.append((key, [item]))
    templates: dict[str, list[tuple[str, list[Item], list[Any]]]] = {}
    shapes: list[str | None] = []  # each run's template
    for key, run in runs:
        shape, numbers = _template(run, _path(key)) if key is not None else (None, [])
        shapes.append(shape)
        if shape is not None:
            templates.setdefault(shape, []).append((_path(key), run, numbers))
    written: list[Any] = []
    blocks: list[BlockDefinition] = []
    chosen: dict[str, tuple[BlockDefinition, list[list[Any]]]] = {}
    for shape, instances in templates.items():
        if len(instances) < 2 or count_lines(instances[0][1]) < MIN_BLOCK_SIZE:
            continue
        definition, arguments = _define(instances, {b.name for b in blocks}, classes)
        blocks.append(definition)
        chosen[shape] = (definition, arguments)
    seen: dict[str, int] = {}
    for (key, run), shape in zip(runs, shapes):
        if shape in chosen:
            prefix = _path(key)
            definition, arguments = chosen[shape]
            index = seen.get(shape, 0)
            seen[shape] = index + 1
            values = " ".join(_value_text(v) for v in arguments[index])
            written.append(f"{prefix}: {definition.name}" + (f" {values}" if values else ""))
        else:
            written.extend(_render_item(item) for item in run)
    return written, blocks


def _path(scope: tuple[str, ...]) -> str:
    return re.sub(r"[^\w.-]", "_", module_path(scope))


def _relative(name: str, prefix: str) -> str:
    return name[len(prefix) + 1:] if prefix and name.startswith(prefix + ".") else name


def _template(run: list[Item], prefix: str) -> tuple[str, list[Any]]:
    """The run's structure with its whole numbers left out, and those numbers in order."""
    numbers: list[Any] = []

    def shape_of(item: Item) -> str:
        if isinstance(item, Merge):
            return item.merge + "[" + "|".join(",".join(shape_of(i) for i in branch) for branch in item.branches) + "]"
        masked = {}
        for key, value in item.fields.items():
            if _parameterisable(key, value):
                numbers.append((key, value))
                masked[key] = "#"
            else:
                masked[key] = value
        return json.dumps([_relative(item.name, prefix), item.kind, masked, item.followers, item.share is not None,
                           item.trainable], sort_keys=True)

    return ";".join(shape_of(item) for item in run), numbers


def _define(instances, taken: set[str], classes: dict[str, str]) -> tuple[BlockDefinition, list[list[Any]]]:
    """One block for runs of the same structure: numbers that differ become parameters (a number
    that is always a whole multiple of another, or a whole fraction of it, is written so: 4*c, c//2)."""
    prefix, run, numbers = instances[0]
    columns = [[numbers_of[i][1] for _, _, numbers_of in instances] for i in range(len(numbers))]
    params: list[str] = []
    param_columns: list[list[int]] = []
    expressions: list[Any] = []
    for (key, _), column in zip(numbers, columns):
        if all(v == column[0] for v in column):
            expressions.append(column[0])
            continue
        expressions.append(_expression(column, params, param_columns) or _new_param(key, column, params, param_columns))
    name = _block_name(classes.get(prefix) or prefix, taken)
    position = iter(expressions)
    body = [_render_item(item, position, prefix) for item in run]
    arguments = [[column[i] for column in param_columns] for i in range(len(instances))]
    return BlockDefinition(name, params, body), arguments


def _expression(column: list[int], params: list[str], param_columns: list[list[int]]) -> str | None:
    for name, values in zip(params, param_columns):
        if column == values:
            return name
        if all(v and c % v == 0 for c, v in zip(column, values)) and len({c // v for c, v in zip(column, values)}) == 1:
            return f"{column[0] // values[0]}*{name}"
        if all(c and v % c == 0 for c, v in zip(column, values)) and len({v // c for c, v in zip(column, values)}) == 1:
            return f"{name}//{values[0] // column[0]}"
    return None


def _new_param(key: str, column: list[int], params: list[str], param_columns: list[list[int]]) -> str:
    base = PARAM_NAMES.get(key, key)
    name, count = base, 1
    while name in params:
        count += 1
        name = f"{base}{count}"
    params.append(name)
    param_columns.append(column)
    return name


def _block_name(prefix: str, taken: set[str]) -> str:
    """``layer1.0`` -> ``layer``; ``inception3a`` -> ``inception``; a class name ``Bottleneck`` ->
    ``bottleneck``; never a kind's name."""
    last = prefix.split(".")[-1] if not prefix.split(".")[-1].isdigit() else prefix.split(".")[0]
    base = re.sub(r"\d.*$", "", last).strip("_-").lower() or "block"
    base = re.sub(r"[^A-Za-z0-9_]", "_", base)
    if KINDS.known(base) or base in MERGES:
        base += "_block"
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}{count}"
    return name


def _render_item(item: Item, numbers=None, prefix: str = "") -> Any:
    """An item as the spec writes it; inside a block, ``numbers`` gives each parameterisable field its
    value or parameter in turn, and names are relative to the block's ``prefix``."""
    if isinstance(item, Merge):
        return {item.merge: [[_render_item(i, numbers, prefix) for i in branch] for branch in item.branches]}
    values = {}
    if numbers is not None:
        for key, value in item.fields.items():
            if _parameterisable(key, value):
                values[key] = next(numbers)
    line = Line(_relative(item.name, prefix), item.kind, item.fields, item.scope, item.followers,
                _relative(item.share, prefix) if item.share and prefix else item.share, item.trainable)
    return render(line, values)


# --- TOML text ------------------------------------------------------------------------------------


def toml_text(header: list[str], input_shape: list, entries: list[Any], blocks: list[BlockDefinition],
              model: dict[str, Any]) -> str:
    """The spec's text: comments, input, layers (one per line), blocks, [model]."""
    import textwrap

    lines = [f"# {line}" for text in header for line in textwrap.wrap(text, 98) or [""]]
    lines.append(f"input = {_toml(input_shape)}")
    lines.append("layers = [")
    lines += [f"  {_toml(entry)}," for entry in entries]
    lines.append("]")
    for block in blocks:
        lines += ["", f"[blocks.{block.name}]", f"params = {_toml(block.params)}", "layers = ["]
        lines += [f"  {_toml(entry)}," for entry in block.body]
        lines.append("]")
    lines += ["", "[model]"] + [f"{key} = {_toml(value)}" for key, value in model.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


# --- any spec's graph, written back --------------------------------------------------------------


def graph_entries(graph) -> list[dict]:
    """A graph (``spec.graph``) as the long form's entries, every layer and merge in the order it
    runs, each naming its inputs where it does not read the entry before; a side output's layers
    as a ``side`` table. Block structure is not kept: names become dotted (``conv2_1.b1.conv1``)."""
    def name(value: str) -> str:
        return value.replace("/", ".")

    entries: list[dict] = []
    previous = "input"
    side: list[dict] | None = None
    for node in graph.nodes:
        if node.training_only:
            side = side if side is not None else []
            side.append(_graph_entry(node, name, previous=None))
            if node.ends_side:
                passing = next(merge.name for merge in MERGES.values() if merge.passes_input)
                entries.append({"name": name(node.ends_side) + "." + passing, passing: [side]})
                side = None
            continue
        entries.append(_graph_entry(node, name, previous))
        previous = node.name
    return entries


def _graph_entry(node, name, previous: str | None) -> dict:
    reads = [name(value) for value in node.inputs]
    if node.layer is None:
        return {"kind": node.merge, "name": name(node.name), "inputs": reads}
    layer = node.layer
    entry: dict[str, Any] = {"kind": layer.kind, "name": name(layer.name)}
    entry.update({key: _plain(value) for key, value in layer.fields.items() if value is not None})
    if node.inputs != (previous,):
        entry["inputs"] = reads
    if layer.share:
        entry["share"] = name(layer.share)
    if not layer.trainable:
        entry["trainable"] = False
    if layer.floors:
        entry["floors"] = True
    return entry


def _plain(value: Any) -> Any:
    """A field's value as a spec writes it: a pair or four sides that are all equal as one number
    (the form every field of sizes accepts), other tuples as lists, whole numbers as int."""
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, int) and not isinstance(v, bool) and v == value[0] for v in value):
            return int(value[0])
        return [_plain(v) for v in value]
    if isinstance(value, bool) or isinstance(value, (str, float)):
        return value
    return int(value)


def graph_text(spec) -> str:
    """The spec written back from its graph alone (``graph_entries``), as TOML text that reads as
    the same network: the same layers, sizes, parameters and MACs."""
    input_shape = [int(d) for d in spec.input_shape]
    return toml_text([f"{spec.name}: written back from its graph by archcalc"], input_shape, graph_entries(spec.graph),
                     [], {"name": spec.name})
