"""Layer entries -> a tree of validated nodes: layers, parallel branches, and block instances.

A spec's ``layers`` list (and each ``[blocks.NAME]`` body) holds entries of three sorts:

* a layer, as a table of its kind and fields (``{kind = ..., filters = 64, kernel = 3}``) or a
  compact line ``"conv 64 3x3 p1 relu x2"``;
* parallel branches merged by channel concatenation, addition, or not at all (a side output):
  ``{concat = [[...], [...]]}``, ``{add = [[...], []]}``, ``{side = [[...]]}``;
* a use of a block, written like a layer whose kind is the block's name, with its parameters in
  order or by name: ``"inception3a: inception 64 96 128 16 32 32"``.

Inside a block, field values may be expressions of its parameters (``"4*c"``); nothing is ever
evaluated as Python.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Union

from .dims import Dim, is_symbol_name, parse_dim
from .errors import LimitError, Location, SpecError, SpecErrors
from .layers import KINDS, MERGES, Layer, LayerKind, kind_named
from .layers.base import nearest

MAX_LAYERS = int(os.environ.get("ARCHCALC_MAX_LAYERS", 100_000))
MAX_REPEAT = 10_000
MAX_NESTING = 32
MAX_ERRORS = 20  # independent errors reported from one spec
LAYER_KEYS = ("kind", "name", "repeat", "activation", "trainable", "share", "floors", "inputs")  # and each kind's shorthand key


def shorthand_kinds() -> list[LayerKind]:
    """Kinds that a key on a conv or fc adds after it (batch norm's ``batchnorm = true``), in order,
    among the kinds registered so far (a key that is not found loads the plugins: see validate_fields)."""
    return KINDS.shorthands()


@dataclass(frozen=True)
class Parallel:
    """Branches that all read the same input; ``merge`` says how their outputs combine."""

    name: str
    merge: str  # the name of a MergeKind (archcalc.layers.merge)
    branches: tuple[tuple["Node", ...], ...]
    location: Location


@dataclass(frozen=True)
class Block:
    """One use of a named block: its parameters' values and its expanded body."""

    name: str
    block: str
    label: str
    body: tuple["Node", ...]
    location: Location


@dataclass(frozen=True)
class Join:
    """A merge written as an entry of its own that names the values it joins
    (``{kind = "concat", inputs = ["conv3", "pool1"]}``): the graph's general form of a branch merge."""

    name: str
    merge: str  # the name of a MergeKind
    inputs: tuple[str, ...]
    location: Location


Node = Union[Layer, Parallel, Block, Join]


@dataclass(frozen=True)
class BlockDefinition:
    name: str
    params: tuple[str, ...]
    body: tuple[Any, ...]
    label: str | None
    location: Location


def leaves(nodes) -> list[Layer]:
    """Every layer in the tree, in order (branches in their order).

    >>> from archcalc.spec import load_spec
    >>> [layer.name for layer in leaves(load_spec("lenet5").layers)][:2]
    ['c1', 'c1_tanh']
    """
    found: list[Layer] = []
    for node in nodes:
        if isinstance(node, Layer):
            found.append(node)
        elif isinstance(node, Parallel):
            for branch in node.branches:
                found.extend(leaves(branch))
        elif isinstance(node, Block):
            found.extend(leaves(node.body))
    return found


def parse_blocks(raw: Any, file: str) -> dict[str, BlockDefinition]:
    """Read ``[blocks.NAME]`` tables: ``params`` (names, in call order), ``layers``, ``label``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError("[blocks] must be a table of named blocks", Location(file, field="blocks"))
    definitions = {}
    for name, table in raw.items():
        where = Location(file, layer_name=f"block {name}")
        if KINDS.known(name):  # the kinds registered so far: plugins are not loaded for this check
            raise SpecError(f"block name {name!r} is already a layer kind", where.with_field("blocks"))
        if not isinstance(table, dict):
            raise SpecError(f"block {name!r} must be a table with params and layers", where)
        for key in table:
            if key not in ("params", "layers", "label"):
                hint = nearest(key, ("params", "layers", "label"))
                raise SpecError(f"unknown block key {key!r}" + (f"; {hint}" if hint else ""), where.with_field(key))
        params = table.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) and is_symbol_name(p) for p in params):
            raise SpecError("params must be a list of names", where.with_field("params"))
        body = table.get("layers")
        if not isinstance(body, list) or not body:
            raise SpecError(f"block {name!r} has no layers", where.with_field("layers"))
        label = table.get("label")
        if label is not None and not isinstance(label, str):
            raise SpecError("label must be text", where.with_field("label"))
        definitions[name] = BlockDefinition(name, tuple(params), tuple(body), label, where)
    return definitions


class Expander:
    """Expands entries into nodes, numbering layers in order and checking every field."""

    def __init__(self, file: str, blocks: Mapping[str, BlockDefinition], lines: list[int | None] | None = None):
        self.file, self.blocks, self.count, self.names = file, blocks, 0, {}
        self.lines = lines or []  # the file line of each top-level entry, where known
        self.frames: list[tuple[int, str | None, int | None]] = []  # (position, what it is inside of, line)
        self.frozen = False  # inside a block use marked trainable = false
        self.floors = False  # inside a block use marked floors = true

    def here(self, name: str | None, copy: tuple[int, int] | None = None) -> Location:
        """The location of the entry being expanded, as the user counts: its position in the list it
        was written in, the copy of a repeat, the block or branch it sits in, and the file line."""
        position, inside, _ = self.frames[-1] if self.frames else (self.count + 1, None, None)
        line = next((line for _, _, line in self.frames if line), None)
        within = ", ".join(filter(None, [f"copy {copy[0]} of {copy[1]}" if copy and copy[1] > 1 else "", inside]))
        return Location(self.file, position, name, line=line, within=within or None)

    def sequence(self, entries: Any, prefix: str = "", variables: Mapping[str, Dim] | None = None,
                 stack: tuple[str, ...] = (), inside: str | None = None) -> tuple[Node, ...]:
        if not isinstance(entries, list):
            raise SpecError("layers must be a list", Location(self.file, field="layers"))
        counters: dict[str, int] = {}
        names = [_entry_name(entry, "") for entry in entries]
        shared = {name for name in names if name and names.count(name) > 1}
        counters.update({f"name:{name}": 0 for name in shared})  # these are numbered across entries
        nodes: list[Node] = []
        errors: list[SpecError] = []
        words = {name: value for name, value in (variables or {}).items() if isinstance(value, (str, float))}
        numbers = {name: value for name, value in (variables or {}).items() if not isinstance(value, (str, float))}
        top = not self.frames
        for position, entry in enumerate(entries, start=1):
            line = self.lines[position - 1] if top and position <= len(self.lines) else None
            self.frames.append((position, inside, line))
            try:
                nodes.extend(self.entry(with_words(entry, words), prefix, numbers, stack, counters, words))
            except SpecErrors as several:
                errors.extend(several.errors)
            except LimitError:
                raise  # a limit: stop at once
            except SpecError as error:
                errors.append(error)
                self.count += 1
            finally:
                self.frames.pop()
            if len(errors) >= MAX_ERRORS:
                break
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise SpecErrors(errors)
        return tuple(nodes)

    def entry(self, entry: Any, prefix: str, variables, stack, counters, words=None) -> list[Node]:
        where = self.here(_entry_name(entry, prefix))
        if isinstance(entry, dict) and any(key in MERGES for key in entry):
            return [self.parallel(entry, prefix, {**variables, **(words or {})}, stack, counters, where)]
        table = self.compact(entry, where) if isinstance(entry, str) else entry
        if not isinstance(table, dict):
            raise SpecError(f"a layer must be a table or a compact line, found {entry!r}", where)
        kind_name = table.get("kind")
        if not isinstance(kind_name, str):
            raise SpecError("missing the layer's kind" if kind_name is None else f"kind must be text, found {kind_name!r}",
                            where.with_field("kind"), f"known kinds: {', '.join(sorted(KINDS))}")
        if kind_name in self.blocks:
            return self.block_uses(table, prefix, {**variables, **(words or {})}, stack, counters, where)
        if kind_name in MERGES or (not KINDS.known(kind_name) and KINDS.load_plugins() and kind_name in MERGES):
            return [self.join(table, prefix, counters, where)]
        return self.layers(table, prefix, variables, counters, where)

    def join(self, table: dict, prefix: str, counters, where: Location) -> Join:
        """``{kind = "add", inputs = ["conv2", "conv1"]}``: a merge of named values, as Caffe's bottom
        and Darknet's from write it."""
        merge = MERGES[table["kind"]]
        for key in table:
            if key not in ("kind", "name", "inputs"):
                raise SpecError(f"a {merge.name} entry takes name and inputs, found {key!r}", where.with_field(key),
                                f"e.g. {{kind = \"{merge.name}\", inputs = [\"conv3\", \"pool1\"]}}")
        if merge.passes_input:
            raise SpecError(f"{merge.name} takes a branch, not inputs: write {{{merge.name} = [[...]]}}",
                            where.with_field("kind"))
        inputs = _inputs(table.get("inputs"), where)
        if len(inputs) < 2:
            raise SpecError(f"{merge.name} joins two or more values, found {len(inputs)}", where.with_field("inputs"),
                            f"e.g. inputs = [\"conv3\", \"pool1\"] (the network's input is \"input\")")
        name = prefix + (_name(table, where) or _merge_name(merge.name, counters))
        self.count += 1  # a merge row has a number of its own
        self.claim(name, replace(where, layer_name=name))
        return Join(name, merge.name, inputs, replace(where, layer_name=name))

    def compact(self, line: str, where: Location) -> dict:
        return parse_compact(line, where, self.blocks)

    # --- layers ---

    def layers(self, table: dict, prefix: str, variables, counters, where: Location) -> list[Layer]:
        kind = kind_named(table["kind"], where.with_field("kind"))
        repeat = _repeat(table.get("repeat", 1), where)
        values = validate_fields(kind, table, where, variables)
        followers = _followers(kind, table, where)
        name = _name(table, where)
        trainable = _trainable(table, where) and not self.frozen
        floors = _flag(table, "floors", False, where) or self.floors
        share = self.shared_layer(table, where)
        inputs = _inputs(table["inputs"], where) if "inputs" in table else ()
        if len(inputs) > 1 and not kind.reads_many:
            raise SpecError(f"{kind.name} reads one value, found inputs = {list(inputs)}", where.with_field("inputs"),
                            "join several with a merge first: {kind = \"concat\", inputs = [...]} or \"add\"")
        layers = []
        for copy in range(1, repeat + 1):
            short = _copy_name(name, repeat, counters) if name else _next_name(kind.name, counters)
            layers.append(self.new_layer(kind.name, prefix + short, values, trainable, share, floors, (copy, repeat),
                                         written=frozenset(key for key in table if key in values),
                                         inputs=inputs if copy == 1 else ()))
            for follower in followers:
                suffix = follower.shorthand.suffix if follower.shorthand else follower.name
                layers.append(self.new_layer(follower.name, f"{prefix}{short}_{suffix}",
                                             validate_fields(follower, {}, where), trainable, copy=(copy, repeat)))
        return layers

    def shared_layer(self, table: dict, where: Location) -> str | None:
        """``share = "conv1"``: the earlier layer whose parameters this one uses."""
        share = table.get("share")
        if share is None:
            return None
        if not isinstance(share, str) or share not in self.names:
            hint = nearest(share, self.names) if isinstance(share, str) else ""
            raise SpecError(f"share must name an earlier layer, found {share!r}" + (f"; {hint}" if hint else ""),
                            where.with_field("share"), "a layer can share the parameters of one that comes before it")
        return share

    def new_layer(self, kind: str, name: str, values: dict, trainable: bool = True, share: str | None = None,
                  floors: bool = False, copy: tuple[int, int] | None = None,
                  written: frozenset[str] = frozenset(), inputs: tuple[str, ...] = ()) -> Layer:
        self.count += 1
        location = self.here(name, copy)
        if self.count > MAX_LAYERS:
            raise LimitError(f"more than {MAX_LAYERS:,} layers after expansion", location,
                            "raise the limit with the environment variable ARCHCALC_MAX_LAYERS")
        self.claim(name, location)
        return Layer(kind, name, self.count, values, location, trainable, share, floors, written, inputs)

    def claim(self, name: str, location: Location) -> None:
        """Take a layer's or a merge's name, which no earlier one may have."""
        if name in self.names:
            raise SpecError(f"the name {name!r} is already used by {self.names[name]}", location.with_field("name"))
        self.names[name] = str(replace(location, file=None, line=None, layer_name=None, field=None))

    # --- branches ---

    def parallel(self, table: dict, prefix: str, variables, stack, counters, where: Location) -> Parallel:
        merges = [key for key in MERGES if key in table]
        allowed = ("name",) + tuple(MERGES)
        for key in table:
            if key not in allowed:
                raise SpecError(f"unknown key {key!r} in a branch table (allowed: name, and one of "
                                f"{', '.join(MERGES)})", where.with_field(key))
        if len(merges) != 1:
            raise SpecError(f"a branch table takes one of {', '.join(MERGES)}, found {', '.join(merges)}", where)
        merge = merges[0]
        branches = table[merge]
        if not isinstance(branches, list) or not branches or not all(isinstance(b, list) for b in branches):
            raise SpecError(f"{merge} takes a list of branches, each a list of layers", where.with_field(merge))
        side = MERGES[merge].passes_input
        if side and len(branches) != 1:
            raise SpecError(f"{merge} takes exactly one branch", where.with_field(merge))
        if not side and len(branches) < 2:
            raise SpecError(f"{merge} needs at least two branches", where.with_field(merge))
        explicit = _name(table, where)
        name = explicit or _merge_name(merge, counters)
        # The first unnamed merge of a sequence puts its branches right under the sequence (b1/, b2/);
        # any later one keeps them under its own name.
        first = not explicit and not side and "merges" not in counters
        if not side:
            counters["merges"] = counters.get("merges", 0) + 1
        inner = prefix if first else f"{prefix}{name}/"
        outer = f"layer {where.layer_index} ({prefix + name})"
        expanded = tuple(self.sequence(branch, inner if side else f"{inner}b{i}/", variables, stack,
                                       f"of branch {i} in {outer}")
                         for i, branch in enumerate(branches, start=1))
        self.count += 1  # the merge row has a number of its own
        return Parallel(prefix + name, merge, expanded, replace(where, layer_name=prefix + name))

    # --- blocks ---

    def block_uses(self, table: dict, prefix: str, variables, stack, counters, where: Location) -> list[Block]:
        definition = self.blocks[table["kind"]]
        if definition.name in stack:
            cycle = " -> ".join(stack[stack.index(definition.name):] + (definition.name,))
            raise SpecError(f"block {definition.name!r} uses itself ({cycle})", where.with_field("kind"))
        if len(stack) >= MAX_NESTING:
            raise SpecError(f"blocks nested more than {MAX_NESTING} deep", where,
                            "the limit is archcalc.expand.MAX_NESTING")
        arguments = self.arguments(definition, table, variables, where)
        repeat = _repeat(table.get("repeat", 1), where)
        name = _name(table, where)
        frozen, self.frozen = self.frozen, self.frozen or not _trainable(table, where)
        floors, self.floors = self.floors, self.floors or _flag(table, "floors", False, where)
        uses = []
        try:
            for copy in range(1, repeat + 1):
                short = _copy_name(name, repeat, counters) if name else _next_name(definition.name, counters)
                use = f"layer {where.layer_index}" + (f", copy {copy} of {repeat}" if repeat > 1 else "")
                body = self.sequence(list(definition.body), f"{prefix}{short}/", arguments, stack + (definition.name,),
                                     f"of block '{definition.name}' in {use}")
                uses.append(Block(prefix + short, definition.name, _block_label(definition, arguments), body,
                                  replace(where, layer_name=prefix + short)))
        finally:
            self.frozen, self.floors = frozen, floors
        return uses

    def arguments(self, definition: BlockDefinition, table: dict, variables, where: Location) -> dict[str, Dim]:
        values = dict(zip(definition.params, table.get("_positional", [])))
        if len(table.get("_positional", [])) > len(definition.params):
            raise SpecError(f"block {definition.name!r} takes {len(definition.params)} values "
                            f"({', '.join(definition.params)}), found {len(table['_positional'])}", where)
        for key, value in table.items():
            if key in ("kind", "name", "repeat", "trainable", "floors", "_positional"):
                continue
            if key not in definition.params:
                hint = nearest(key, definition.params)
                raise SpecError(f"block {definition.name!r} has no parameter {key!r}" + (f"; {hint}" if hint else "") +
                                f" (parameters: {', '.join(definition.params) or 'none'})", where.with_field(key))
            values[key] = value
        missing = [p for p in definition.params if p not in values]
        if missing:
            raise SpecError(f"block {definition.name!r} needs a value for {', '.join(missing)}",
                            where.with_field(missing[0]))
        return {key: _argument(value, variables, where.with_field(key)) for key, value in values.items()}


def _argument(value: Any, variables, where: Location) -> Dim | str | float:
    """A block parameter's value: a whole number, an expression of the enclosing block's parameters,
    or a word (``relu``) or a fraction (``0.025``) that replaces the parameter's name wherever it
    stands as a whole token or a whole value."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SpecError(f"a block parameter must be a number, an expression or a word, found {value!r}", where)
    if isinstance(value, (int, float)):
        return value
    if isinstance(variables.get(value), (str, float)) or (is_symbol_name(value) and value not in variables):
        return variables.get(value, value)
    numbers = {name: dim for name, dim in variables.items() if not isinstance(dim, (str, float))}
    try:
        return parse_dim(value, numbers, new_symbols=False)
    except SpecError as error:
        raise SpecError(error.message, where, error.hint) from None


def with_words(entry: Any, words: Mapping[str, str | float]) -> Any:
    """An entry of a block's body with its word and fraction parameters put in: a whole token of a
    compact line, or a whole value of a table, that is such a parameter's name becomes its value."""
    if not words:
        return entry
    if isinstance(entry, str):
        return " ".join(_word_token(token, words) for token in entry.split(" "))
    if isinstance(entry, dict):
        return {key: (words.get(value, value) if isinstance(value, str) else value) for key, value in entry.items()}
    return entry


def _word_token(token: str, words: Mapping[str, str | float]) -> str:
    key, equals, value = token.rpartition("=")
    return f"{key}={words.get(value, value)}" if equals else str(words.get(token, token))


def _block_label(definition: BlockDefinition, arguments: dict) -> str:
    title = definition.label or definition.name.upper()
    values = ", ".join(str(arguments[p]) for p in definition.params)
    return f"{title} ({values})" if values else title


def _name(table: dict, where: Location) -> str | None:
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name)):
        raise SpecError(f"name must be letters, digits, '_', '-' or '.', found {name!r}", where.with_field("name"))
    return name


def _inputs(raw: Any, where: Location) -> tuple[str, ...]:
    """``inputs = ["conv3", "pool1"]``, or ``"conv3,pool1"`` as the compact syntax writes it: the
    names of earlier layers, blocks or merges (``"input"``: the network's input), checked by the graph."""
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(
            isinstance(n, str) and re.fullmatch(r"[\w./-]+", n.strip()) for n in names):
        raise SpecError(f"inputs must be a list of layer names, found {raw!r}", where.with_field("inputs"),
                        'e.g. inputs = ["conv3", "pool1"]; the network\'s input is "input"')
    return tuple(n.strip() for n in names)


def _entry_name(entry: Any, prefix: str) -> str | None:
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return prefix + entry["name"]
    if isinstance(entry, str) and re.match(r"\s*[\w.-]+:", entry):
        return prefix + entry.split(":", 1)[0].strip()
    return None


def _followers(kind: LayerKind, table: dict, where: Location) -> list[LayerKind]:
    """The layers that shorthand keys (``batchnorm = true``, ``activation = ...``) put after a conv or fc."""
    followers = []
    for follower in shorthand_kinds():
        key = follower.shorthand.key
        value = table.get(key, False)
        if value is False or kind.field_named(key):
            continue
        if value is not True:
            raise SpecError(f"{key} must be true or false, found {value!r}", where.with_field(key))
        if not kind.takes_followers:
            raise SpecError(f"{kind.name} does not take the {key} shorthand", where.with_field(key),
                            f"add a {follower.name} layer of its own")
        followers.append(follower)
    activation = _activation(kind, table.get("activation"), where)
    return followers + ([activation] if activation else [])


def _copy_name(name: str, repeat: int, counters: dict[str, int]) -> str:
    """``conv1`` stays ``conv1``; repeated, or shared by several entries, it becomes conv1_1, conv1_2, ..."""
    key = f"name:{name}"
    if repeat == 1 and key not in counters:
        return name
    counters[key] = counters.get(key, 0) + 1
    return f"{name}_{counters[key]}"


def _merge_name(merge: str, counters: dict[str, int]) -> str:
    """``add`` for the first addition in a sequence, then ``add2``, ``add3``."""
    counters[merge] = counters.get(merge, 0) + 1
    return merge if counters[merge] == 1 else f"{merge}{counters[merge]}"


def _next_name(kind: str, counters: dict[str, int]) -> str:
    counters[kind] = counters.get(kind, 0) + 1
    return f"{kind}{counters[kind]}"


def _trainable(table: dict, where: Location) -> bool:
    return _flag(table, "trainable", True, where)


def _flag(table: dict, key: str, default: bool, where: Location) -> bool:
    """A layer's or a block use's true/false key (``trainable``, ``floors``)."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(f"{key} must be true or false, found {value!r}", where.with_field(key))
    return value


def _repeat(raw: Any, where: Location) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_REPEAT:
        raise SpecError(f"repeat must be a whole number in 1..{MAX_REPEAT:,}, found {raw!r}",
                        where.with_field("repeat"))
    return raw


def _activation(kind: LayerKind, raw: Any, where: Location) -> LayerKind | None:
    if raw is None:
        return None
    if not (kind.takes_followers or kind.takes_activation):
        raise SpecError(f"{kind.name} does not take an activation shorthand", where.with_field("activation"),
                        "add the activation as a layer of its own")
    activation = kind_named(raw, where.with_field("activation")) if isinstance(raw, str) else None
    if activation is None or not activation.activation:
        raise SpecError(f"activation must name an activation kind, found {raw!r}", where.with_field("activation"))
    return activation


def validate_fields(kind: LayerKind, table: Mapping[str, Any], where: Location,
                    variables: Mapping[str, Dim] | None = None) -> dict[str, Any]:
    """Check a layer table against its kind: unknown fields, missing ones, types. Returns typed values."""
    allowed = [f.name for f in kind.fields] + list(LAYER_KEYS) + [k.shorthand.key for k in shorthand_kinds()]
    if any(key not in allowed for key in table) and KINDS.load_plugins():  # a plugin kind may add a shorthand key
        allowed = [f.name for f in kind.fields] + list(LAYER_KEYS) + [k.shorthand.key for k in shorthand_kinds()]
    errors: list[SpecError] = []  # every independent problem of the layer, not only the first
    for key in table:
        if key not in allowed:
            hint = nearest(key, allowed)
            errors.append(SpecError(f"{kind.name} has no field {key!r}" + (f"; {hint}" if hint else "") +
                                    f" (fields: {', '.join(f.name for f in kind.fields) or 'none'})",
                                    where.with_field(key)))
    values: dict[str, Any] = {}
    for spec_field in kind.fields:
        try:
            if spec_field.name in table:
                values[spec_field.name] = spec_field.coerce(table[spec_field.name], where, variables)
            elif spec_field.required:
                if not any(nearest(key, [spec_field.name]) for key in table if key not in allowed):
                    errors.append(SpecError(f"{kind.name} needs the field '{spec_field.name}' ({spec_field.help})",
                                            where.with_field(spec_field.name)))
            else:
                default = spec_field.default
                values[spec_field.name] = default if default is None else spec_field.coerce(default, where)
        except LimitError:
            raise
        except SpecError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)
    return values


# --- the compact syntax -----------------------------------------------------------------------

_PAIR = r"(\d+)(?:x(\d+))?"
_PREFIXED = {"s": "stride", "p": "pad", "d": "dilation", "g": "groups"}
_FLAGS = {"ceil": ("ceil", True), "nobias": ("bias", False), "no-bias": ("bias", False),
          "same": ("pad", "same"), "valid": ("pad", "valid")}  # and each shorthand kind's token (bn)
_EXPRESSION = re.compile(r"[\w*+/%()-]+")
_FRACTION = re.compile(r"\d*\.\d+(e-?\d+)?|\d+e-?\d+")


def parse_compact(line: str, where: Location, blocks: Mapping[str, BlockDefinition] | None = None) -> dict[str, Any]:
    """One layer in the compact syntax -> the same table the long form gives.

    >>> table = parse_compact("conv1: conv 96 11x11 s4 p0 relu", Location())
    >>> table["name"], table["filters"], table["kernel"], table["stride"], table["pad"]
    ('conv1', 96, [11, 11], 4, 0)
    >>> table = parse_compact("maxpool 3 s2 ceil x2", Location())
    >>> table["kernel"], table["stride"], table["ceil"], table["repeat"]
    (3, 2, True, 2)
    >>> table = parse_compact("conv1d 16 3 s2 p1", Location())
    >>> table["filters"], table["kernel"], table["stride"], table["pad"]
    (16, 3, 2, 1)
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
    if blocks and tokens[0] in blocks:
        return _compact_block_use(tokens, table, line, where)
    if tokens[0] in MERGES:  # "agg1: concat conv3 pool1": a merge and the values it joins
        table["kind"] = tokens[0]
        named = [t.partition("=")[2] if t.startswith("inputs=") else t for t in tokens[1:]]
        table["inputs"] = [name for part in named for name in part.split(",") if name]
        return table
    kind = kind_named(tokens[0], where.with_field("kind"))
    table["kind"] = kind.name  # canonical, whatever alias or case was written
    for token in tokens[1:]:
        key, value = _compact_token(kind, token, table, line, where)
        if key in table:
            raise SpecError(f"{key!r} given twice in {line!r}", where.with_field(key))
        table[key] = value
    return table


def _compact_block_use(tokens: list[str], table: dict, line: str, where: Location) -> dict:
    table["kind"] = tokens[0]
    positional = []
    for token in tokens[1:]:
        repeat = re.fullmatch(r"[x*](\d+)", token)
        if repeat:
            table["repeat"] = int(repeat.group(1))
        elif "=" in token:
            key, _, value = token.partition("=")
            table[key] = _compact_value(value)
        elif _EXPRESSION.fullmatch(token) or _FRACTION.fullmatch(token):
            positional.append(_compact_value(token))
        else:
            raise SpecError(f"cannot read {token!r} in {line!r}", where)
    table["_positional"] = positional
    return table


def _compact_token(kind: LayerKind, token: str, table: dict, line: str, where: Location) -> tuple[str, Any]:
    if "=" in token:
        key, _, value = token.partition("=")
        return key, _compact_value(value)
    if token in _FLAGS:
        return _FLAGS[token]
    shorthand = next((k.shorthand for k in shorthand_kinds() if k.shorthand.token == token), None)
    if shorthand:
        return shorthand.key, True
    repeat = re.fullmatch(r"[x*](\d+)", token)
    if repeat:
        return "repeat", int(repeat.group(1))
    prefixed = re.fullmatch(r"([spdg])" + _PAIR, token)
    if prefixed:
        return _PREFIXED[prefixed.group(1)], _pair_value(prefixed.group(2), prefixed.group(3))
    pair = re.fullmatch(r"(\d+)x(\d+)", token)
    if pair and kind.field_named("kernel") and "kernel" not in table:
        return "kernel", [int(pair.group(1)), int(pair.group(2))]
    if KINDS.known(token) and KINDS[token].activation:
        return "activation", KINDS[token].name
    if kind.positional and kind.positional not in table and (
            re.fullmatch(r"\d+(x\d+)?|\d*\.\d+", token) or (_EXPRESSION.fullmatch(token) and not token.isdigit())):
        return kind.positional, _compact_value(token)
    if token.isdigit() and kind.field_named("kernel") and "kernel" not in table and kind.positional in table:
        return "kernel", int(token)  # a second bare number: the kernel (conv1d 16 3 s2 p1)
    if KINDS.load_plugins():  # a plugin kind may give this token a meaning
        return _compact_token(kind, token, table, line, where)
    flags = ", ".join(list(_FLAGS) + [k.shorthand.token for k in shorthand_kinds()])
    suggestion = _compact_suggestion(kind, token)
    raise SpecError(f"cannot read {token!r} in {line!r}" + (f"; did you mean {suggestion!r}?" if suggestion else ""),
                    where, "compact tokens: a number, FxF (kernel), sN (stride), pN (pad), dN (dilation), gN (groups), "
                    f"xN (repeat), {flags}, an activation name, or key=value")


_WORDS = {"stride": "s", "pad": "p", "padding": "p", "dilation": "d", "groups": "g", "group": "g", "repeat": "x"}


def _compact_suggestion(kind: LayerKind, token: str) -> str:
    """The token meant: ``rleu`` -> ``relu``, ``pad2`` -> ``p2``, ``kernel3`` -> ``3x3``, ``stirde=2`` ->
    ``stride=2``.

    >>> _compact_suggestion(KINDS["conv"], "rleu"), _compact_suggestion(KINDS["conv"], "pad2")
    ('relu', 'p2')
    """
    from difflib import get_close_matches

    key, equals, value = token.partition("=")
    if equals:
        names = [f.name for f in kind.fields] + list(LAYER_KEYS)
        close = get_close_matches(key.lower(), names, n=1)
        return f"{close[0]}={value}" if close else ""
    worded = re.fullmatch(r"([a-z_]+)[=:]?(\d+(?:x\d+)?)", token.lower())
    if worded:
        word, number = worded.groups()
        if word in ("kernel", "k", "f") and "x" not in number:
            return f"{number}x{number}"
        close = get_close_matches(word, list(_WORDS), n=1, cutoff=0.7)
        if close:
            return f"{_WORDS[close[0]]}{number}"
    tokens = {word: word for word in list(_FLAGS) + [name for name in KINDS if KINDS[name].activation]}
    tokens.update({spelling: k.shorthand.token for k in shorthand_kinds()
                   for spelling in (k.shorthand.token, k.shorthand.key, k.name)})  # batchnorm -> bn
    close = get_close_matches(token.lower(), list(tokens), n=1, cutoff=0.6)
    return tokens[close[0]] if close else ""


def _pair_value(first: str, second: str | None) -> int | list[int]:
    return int(first) if second is None else [int(first), int(second)]


def _compact_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``6x6`` -> [6, 6], anything else stays text."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d+x\d+", text):
        return [int(part) for part in text.split("x")]
    if _FRACTION.fullmatch(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text
