"""An ONNX file read as untrusted input: the operators, the initializers' sizes (never their data
beyond small constants), the shapes onnx's own inference gives, and the small constants that shape
computations produce (evaluated here with numpy, each capped in size). Nothing in the file is run."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LimitError, Location, SpecError
from ..layers.reading import OnnxNode

MAX_ONNX_BYTES = int(os.environ.get("ARCHCALC_MAX_ONNX_BYTES", 4 << 30))
MAX_NODES = 200_000
MAX_CONSTANT = 65_536  # elements of a constant read or computed (shape tensors are tiny)
MAX_ELEMENTS = 10 ** 13  # a declared tensor larger than this is absurd, not big


@dataclass
class OnnxGraph:
    """The graph as plain values: nodes in order, the one activation input and its output(s)."""

    file: str
    nodes: list[OnnxNode]
    input_name: str
    input_dims: tuple
    outputs: tuple[str, ...]
    initializers: dict[str, tuple[int, ...]]
    constants: dict[str, Any] = field(default_factory=dict)  # name -> numpy array
    shapes: dict[str, tuple] = field(default_factory=dict)
    producer: str = ""
    opset: int = 0
    notes: list[str] = field(default_factory=list)
    weight_inputs: frozenset[str] = frozenset()  # weights given as graph inputs (exported without their values)
    floating: frozenset[str] = frozenset()  # the initializers of a floating-point type (parameters are; shapes are not)

    def dims(self, tensor: str) -> tuple | None:
        if tensor in self.initializers:
            return self.initializers[tensor]
        if tensor in self.constants:
            return tuple(self.constants[tensor].shape)
        return self.shapes.get(tensor)

    def values(self, tensor: str) -> tuple | None:
        found = self.constants.get(tensor)
        return tuple(found.reshape(-1).tolist()) if found is not None else None


def read_onnx(path: str | Path, data: bytes | None = None) -> OnnxGraph:
    """Read an ONNX model from ``path`` (or from ``data``, named ``path``); any problem with the
    file is a SpecError naming it."""
    onnx = _require_onnx()
    where = Location(str(path))
    model = _parse(onnx, path, data, where)
    if len(model.graph.node) > MAX_NODES:
        raise LimitError(f"the graph has {len(model.graph.node):,} nodes; archcalc reads at most {MAX_NODES:,}", where)
    graph = _read_graph(onnx, model, path, where)
    for _ in range(MAX_SHAPE_ROUNDS):  # TensorFlow's SAME padding: pads computed from the sizes before them
        computed = _computed_amounts(graph)
        if not computed:
            break
        _freeze(onnx, model, computed)
        graph = _read_graph(onnx, model, path, where)
    return graph


MAX_SHAPE_ROUNDS = 64
FLOATING = (1, 10, 11, 16)  # TensorProto's FLOAT, FLOAT16, DOUBLE, BFLOAT16


def _computed_amounts(graph: OnnxGraph) -> dict[str, Any]:
    """The amounts (a Pad's pads, a Resize's sizes, a Reshape's shape) that archcalc computed from the
    sizes before them, where onnx's shape inference left the node's output without a size: each round
    gives them to the inference as constants, and the sizes after them become known."""
    initial = set(graph.initializers) | {name for node in graph.nodes if node.op == "Constant" for name in node.outputs}
    found = {}
    for node in graph.nodes:
        shape = graph.shapes.get(node.outputs[0]) if node.outputs else ()
        if shape is not None and all(isinstance(d, int) for d in shape):
            continue
        for name in node.inputs[1:]:
            if name and name in graph.constants and name not in initial:
                found[name] = graph.constants[name]
    return found


def _freeze(onnx, model, values: dict[str, Any]) -> None:
    """Each computed amount becomes an initializer that its readers read instead."""
    from onnx import numpy_helper

    renamed = {name: f"{name}#computed" for name in values}
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            if index and name in renamed:
                node.input[index] = renamed[name]
    for name, value in values.items():
        model.graph.initializer.append(numpy_helper.from_array(value, renamed[name]))


def _read_graph(onnx, model, path, where: Location) -> OnnxGraph:
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as error:  # onnx raises several types; the graph may still be read
        inferred = model
        note = f"onnx's shape inference failed ({str(error).splitlines()[0][:200]}); sizes come from archcalc alone"
    else:
        note = ""
    graph = inferred.graph
    initializers = {t.name: _checked_dims(t.dims, t.name, where) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) > 1:  # exported without its weights (export_params=False): they are inputs that no node reads first
        source = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity" and n.input and n.output}
        first = set()
        for n in graph.node:
            if n.input and n.op_type != "Identity":
                name = n.input[0]
                while name in source:
                    name = source[name]
                first.add(name)
        data = [i for i in inputs if i.name in first][:1]  # producers list the model's input before its weights
        weights = [i for i in inputs if i not in data]
        inputs = data
        for value in weights:
            dims = _dims(value)
            if dims is None or not all(isinstance(d, int) for d in dims):
                raise SpecError(f"the graph's input {value.name!r} has no fixed shape", where)
            initializers[value.name] = _checked_dims(dims, value.name, where)
    weight_inputs = frozenset(initializers) - {t.name for t in graph.initializer}
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise SpecError(f"the graph has {len(inputs)} inputs ({names}); archcalc reads networks with one", where)
    nodes = [_node(onnx, n, index, where) for index, n in enumerate(graph.node)]
    _check_order(nodes, {inputs[0].name, *initializers}, where)
    shapes = {v.name: _dims(v) for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    result = OnnxGraph(str(path), nodes, inputs[0].name, _dims(inputs[0]), tuple(o.name for o in graph.output),
                       initializers, shapes=shapes, producer=f"{model.producer_name} {model.producer_version}".strip(),
                       opset=max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0),
                       weight_inputs=weight_inputs,
                       floating=frozenset(t.name for t in graph.initializer if t.data_type in FLOATING) | weight_inputs)
    result.notes.extend([note] if note else [])
    result.constants = _small_initializers(onnx, graph.initializer, where)
    _evaluate_constants(result)
    return result


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise SpecError("reading an ONNX file needs the onnx package: pip install 'archcalc[verify]'") from None
    return onnx


def _parse(onnx, path, data: bytes | None, where: Location):
    if data is None:
        file = Path(path)
        try:
            if not file.is_file():
                raise SpecError("no such ONNX file" + (" (it is a folder)" if file.is_dir() else ""), where)
            if file.stat().st_size > MAX_ONNX_BYTES:
                raise LimitError(f"the file is {file.stat().st_size:,} bytes; archcalc reads ONNX files up to "
                                 f"{MAX_ONNX_BYTES:,}", where, "raise ARCHCALC_MAX_ONNX_BYTES")
            data = file.read_bytes()  # protobuf parses from bytes; the weights' values are dropped right after
        except OSError as error:  # a name longer than the file system allows, a file that cannot be read
            raise SpecError(f"cannot read the ONNX file: {error.strerror or error}", where) from None
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
    except Exception as error:
        raise SpecError(f"not an ONNX model: the file does not parse as one ({type(error).__name__})", where) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SpecError("not an ONNX model: it has no graph, or a graph without nodes", where)
    _drop_weight_values(model)
    return model


def _drop_weight_values(model) -> None:
    """Only the sizes of large tensors matter: their values go before shape inference copies the model."""
    for tensor in model.graph.initializer:
        count = 1
        for d in tensor.dims:
            count *= max(d, 0)
        if count > MAX_CONSTANT:
            for name in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
                tensor.ClearField(name)


def _checked_dims(dims, name: str, where: Location) -> tuple[int, ...]:
    dims = tuple(int(d) for d in dims)
    total = 1
    for d in dims:
        if d < 0:
            raise SpecError(f"tensor {name!r} declares a negative size {d}", where)
        total *= d
    if total > MAX_ELEMENTS:
        raise LimitError(f"tensor {name!r} declares {total:,} elements: an absurd size", where)
    return dims


def _dims(value_info) -> tuple | None:
    """A value's declared shape: ints, names for symbolic sizes, None where unknown."""
    kind = value_info.type.WhichOneof("value")
    tensor = getattr(value_info.type, kind) if kind == "tensor_type" else None
    if tensor is None or not tensor.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)


def _node(onnx, proto, index: int, where: Location) -> OnnxNode:
    attributes = {}
    for attribute in proto.attribute:
        if attribute.type in (attribute.GRAPH, attribute.GRAPHS):
            attributes[attribute.name] = None  # subgraphs (If, Loop) are not read
            continue
        try:
            value = onnx.helper.get_attribute_value(attribute)
        except Exception:
            raise SpecError(f"node {proto.name!r} ({proto.op_type}) has an attribute {attribute.name!r} that does not "
                            "decode", where) from None
        attributes[attribute.name] = _plain(value)
    name = proto.name or f"{proto.op_type}_{index}"  # unnamed nodes: by their place in the graph
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    return OnnxNode(name, proto.op_type if proto.domain in ("", "ai.onnx") else f"{proto.domain}.{proto.op_type}",
                    tuple(proto.input), tuple(proto.output), attributes, scope=_scope_of(metadata.get("namespace", "")),
                    rewrites=tuple(rule.strip() for rule in metadata.get(REWRITES_KEY, "").split(",") if rule.strip()),
                    had_bias=_had_bias(metadata.get(FX_NODE_KEY, "")))


REWRITES_KEY = "pkg.onnxscript.rewriter.rule_name"  # torch.onnx's dynamo exporter records these three
FX_NODE_KEY = "pkg.torch.onnx.fx_node"
TRACED_CALL = re.compile(r"target=torch\.ops\.aten\.(conv\w*|linear|addmm)\.\w+\]\(args = \((.*)\), kwargs")


def _scope_of(namespace: str) -> tuple[str, ...]:
    """The modules in the dynamo exporter's namespace: ``: ResNet/layer1: Sequential/layer1.0:
    BasicBlock/layer1.0.bn1: BatchNorm2d/batch_norm: aten...`` is (layer1, layer1.0, layer1.0.bn1): the
    first segment is the model, the last the operator, and each module's path comes before its ': '."""
    names = tuple(segment.split(": ", 1)[0].strip() for segment in namespace.split("/")[1:-1])
    return names if all(re.fullmatch(r"[\w.]+", name) for name in names) else ()


def _had_bias(fx_node: str) -> bool | None:
    """Whether the traced convolution or linear call passed a bias: ``aten.conv2d(%x, %weight, %bias, ...)``
    (``addmm``'s bias comes first); None where the node is not such a call."""
    match = TRACED_CALL.search(fx_node)
    if match is None:
        return None
    arguments = [argument.strip() for argument in match.group(2).split(",")]
    position = 0 if match.group(1) == "addmm" else 2
    return len(arguments) > position and arguments[position].startswith("%")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value  # a number, or a TensorProto (a Constant's value), kept as it is


def _check_order(nodes: list[OnnxNode], known: set[str], where: Location) -> None:
    """ONNX keeps nodes in topological order; a graph that reads a value before it is written is
    malformed (or has a cycle)."""
    written = set(known)
    for node in nodes:
        for name in node.inputs:
            if name and name not in written:
                raise SpecError(f"node {node.name!r} ({node.op}) reads {name!r}, which no earlier node writes "
                                "(the graph is out of order, has a cycle, or misses a value)", where)
        written.update(node.outputs)


def _small_initializers(onnx, tensors, where: Location) -> dict[str, Any]:
    from onnx import numpy_helper

    found = {}
    for tensor in tensors:
        count = 1
        for d in tensor.dims:
            count *= d
        if count > MAX_CONSTANT or tensor.data_location == tensor.EXTERNAL:
            continue
        try:
            found[tensor.name] = numpy_helper.to_array(tensor)
        except Exception:
            raise SpecError(f"initializer {tensor.name!r} does not hold the data its size declares", where) from None
    return found


# --- the shape computations, evaluated ------------------------------------------------------------


def _evaluate_constants(graph: OnnxGraph) -> None:
    """Constants, and what the shape-computing nodes (Shape, Gather, Concat, ...) make of them,
    where every input is known and every result is small."""
    import numpy as np

    from onnx import numpy_helper

    for node in graph.nodes:
        if node.op == "Constant":
            value = _constant_value(np, numpy_helper, node)
            if value is not None and value.size <= MAX_CONSTANT:
                graph.constants[node.outputs[0]] = value
            continue
        if node.op == "Shape":
            shape = graph.shapes.get(node.inputs[0])
            if shape and all(isinstance(d, int) for d in shape):
                start, end = node.attribute("start", 0), node.attribute("end", len(shape))
                graph.constants[node.outputs[0]] = np.array(shape[start:end], dtype=np.int64)
            continue
        rule = _RULES.get(f"onnx::{node.op}")
        inputs = [graph.constants.get(name) if name else None for name in node.inputs]
        if rule is None or any(value is None for name, value in zip(node.inputs, inputs) if name):
            continue
        try:
            value = rule(np, node, inputs)
        except Exception:  # a computation numpy refuses is simply not known
            continue
        if value is not None and np.asarray(value).size <= MAX_CONSTANT:
            graph.constants[node.outputs[0]] = np.asarray(value)


def _constant_value(np, numpy_helper, node: OnnxNode):
    for key in ("value", "value_ints", "value_floats", "value_int", "value_float"):
        value = node.attribute(key)
        if value is None:
            continue
        if key == "value":
            count = int(np.prod(list(value.dims))) if value.dims else 1
            return numpy_helper.to_array(value) if count <= MAX_CONSTANT else None
        return np.array(value)
    return None


def _shape_of_constant(np, node, inputs):
    shape = [int(d) for d in inputs[0].reshape(-1)]
    if any(d < 0 for d in shape) or int(np.prod(shape)) > MAX_CONSTANT:
        return None
    value = node.attribute("value")
    fill = value.float_data[0] if value is not None and value.float_data else (
        value.int64_data[0] if value is not None and value.int64_data else 0)
    return np.full(shape, fill)


def _slice(np, node, inputs):
    data, starts, ends = inputs[0], inputs[1], inputs[2]
    axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def _unsqueeze(np, node, inputs):
    axes = node.attribute("axes") or [int(a) for a in inputs[1]]
    value = inputs[0]
    for axis in sorted(int(a) % (value.ndim + len(axes)) for a in axes):
        value = np.expand_dims(value, axis)
    return value


def _squeeze(np, node, inputs):
    axes = node.attribute("axes") or ([int(a) for a in inputs[1]] if len(inputs) > 1 and inputs[1] is not None else None)
    return np.squeeze(inputs[0], axis=tuple(axes) if axes else None)


def _reshape(np, node, inputs):
    shape = [int(d) for d in inputs[1]]
    shape = [inputs[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return inputs[0].reshape(shape)


def _divide(np, node, inputs):
    a, b = inputs
    return a // b if a.dtype.kind in "iu" and b.dtype.kind in "iu" else a / b


# ONNX's arithmetic on shapes, by operator (named as PyTorch's exporter names ONNX's operators)
_RULES = {
    "onnx::Identity": lambda np, node, x: x[0],
    "onnx::Cast": lambda np, node, x: x[0].astype(np.float32 if node.attribute("to") == 1 else np.int64),
    "onnx::Gather": lambda np, node, x: np.take(x[0], x[1].astype(np.int64), axis=node.attribute("axis", 0)),
    "onnx::Unsqueeze": _unsqueeze,
    "onnx::Squeeze": _squeeze,
    "onnx::Concat": lambda np, node, x: np.concatenate([np.atleast_1d(v) for v in x], axis=node.attribute("axis", 0)),
    "onnx::Slice": _slice,
    "onnx::Reshape": _reshape,
    "onnx::Transpose": lambda np, node, x: np.transpose(x[0], node.attribute("perm")),
    "onnx::Add": lambda np, node, x: x[0] + x[1],
    "onnx::Sub": lambda np, node, x: x[0] - x[1],
    "onnx::Mul": lambda np, node, x: x[0] * x[1],
    "onnx::Div": _divide,
    "onnx::Neg": lambda np, node, x: -x[0],
    "onnx::Abs": lambda np, node, x: np.abs(x[0]),
    "onnx::Ceil": lambda np, node, x: np.ceil(x[0]),
    "onnx::Floor": lambda np, node, x: np.floor(x[0]),
    "onnx::Clip": lambda np, node, x: np.clip(x[0], x[1] if len(x) > 1 and x[1] is not None else None,
                                              x[2] if len(x) > 2 and x[2] is not None else None),
    "onnx::Equal": lambda np, node, x: x[0] == x[1],
    "onnx::Where": lambda np, node, x: np.where(x[0], x[1], x[2]),
    "onnx::Min": lambda np, node, x: np.minimum.reduce(x),
    "onnx::Max": lambda np, node, x: np.maximum.reduce(x),
    "onnx::ConstantOfShape": _shape_of_constant,
    "onnx::Range": lambda np, node, x: np.arange(x[0], x[1], x[2]) if abs((x[1] - x[0]) / x[2]) <= MAX_CONSTANT else None,
}
