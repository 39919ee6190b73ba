"""Convolutions: ``floor((W - D(F-1) - 1 + 2P)/S) + 1`` per axis, ``(F*F*C_in/g)*C_out`` weights;
and the convolutions of homework questions beyond the plain one: transposed, depthwise,
depthwise separable, and 1-D."""
from __future__ import annotations

from ..dims import floor_div, format_dim, normalize, product
from ..errors import ShapeError
from ..formulas import conv_macs, conv_weights, effective_kernel, transposed_conv_output_size
from ..working import divided, given, plus, times
from .base import (BIAS, BOOL, COUNT, DILATION, NATURAL, PADDING, PAIR, PAIR0, TABLE, Dilation, Field, Layer, LayerKind,
                   TensorSize, Shape, Slip, Step, TorchModule, Trait, bias_adds, flops_view, keras_biases, mults_adds,
                   require_map, require_sequence)
from .reading import Claim, conv_claim, convolution, matmul_with_bias, padded_conv, spatial_fields
from .registry import register
from .spatial import check_dilation, resolve_padding, slide_axis

KERNEL_SIZES = Trait("kernel_sizes", "conv kernel sizes", "distinct", rank=20)
DEPTHWISE = Trait("depthwise", "depthwise convolution", rank=25)
LOCAL = "archcalc.lower.modules"


def conv_biases(layer: Layer, shape: Shape):
    """One bias per filter, none, or one per output unit (``bias = "unit"``)."""
    bias = layer["bias"]
    if bias == "unit":
        return times(*shape)
    return given(shape[-1] if bias else 0)


def unit_bias(layer: Layer, shape: Shape) -> tuple[TorchModule, ...]:
    """The module that adds one bias per output unit, where the layer has them (PyTorch's conv has
    one per filter: it is built without, and this follows)."""
    if layer["bias"] != "unit":
        return ()
    return (TorchModule("UnitBias", (("shape", (shape[2], shape[0], shape[1])),), LOCAL),)


def kernel_text(kernel: tuple) -> str:
    """``3`` for a square kernel, ``1x7`` otherwise (the VGG paper's CONV3-64 naming)."""
    return format_dim(kernel[0]) if kernel[0] == kernel[1] else f"{kernel[0]}x{kernel[1]}"


def kernel_size(kernel: tuple):
    """A kernel as the comparison lists it: ``3``, or ``"1x7"`` where it is not square."""
    return kernel[0] if kernel[0] == kernel[1] else f"{kernel[0]}x{kernel[1]}"


def check_groups(layer: Layer, in_channels, out_channels, groups) -> None:
    """Groups must divide both channel counts (where they are known)."""
    for channels, what in ((in_channels, "input channels"), (out_channels, "filters")):
        if isinstance(channels, int) and isinstance(groups, int) and channels % groups:
            raise ShapeError(f"groups = {groups} does not divide the {channels} {what}", layer.at("groups"))


def windows(kernel, stride, pad, dilation) -> tuple:
    """Per axis: (effective kernel, stride, padding before), for the receptive field."""
    return tuple((effective_kernel(kernel[axis], dilation[axis]), stride[axis], pad[axis][0]) for axis in (0, 1))


def explicit_padding(pad, module: str, fill=None) -> tuple[tuple[TorchModule, ...], tuple]:
    """PyTorch pads symmetrically; uneven padding becomes a padding module first.

    Returns ``(modules to put first, the padding argument for the layer itself)``.
    """
    (top, bottom), (left, right) = pad
    if top == bottom and left == right:
        return (), (top, left)
    args = (("padding", (left, right, top, bottom)),) + ((("value", fill),) if fill is not None else ())
    return (TorchModule(module, args),), (0, 0)


def padded_input(pad, x: Shape) -> tuple[TensorSize, ...]:
    """The padded copy of the input that an uneven padding makes before the layer runs (PyTorch pads
    symmetrically itself, which needs no copy)."""
    (top, bottom), (left, right) = pad
    if top == bottom and left == right:
        return ()
    return (TensorSize("padded input", normalize((x[0] + top + bottom) * (x[1] + left + right) * x[2])),)


def stride_suffix(stride: tuple) -> str:
    return f" s{kernel_text(stride)}" if stride != (1, 1) else ""


def slide(layer: Layer, x: Shape, kernel, stride, dilation, pad):
    """Both axes of a 2-D window: (rows, cols) with their working."""
    rows = slide_axis(layer, 0, x[0], kernel[0], stride[0], pad[0], dilation[0])
    cols = slide_axis(layer, 1, x[1], kernel[1], stride[1], pad[1], dilation[1])
    return rows, cols


def axes_step(rows, cols) -> dict:
    """The Step fields that come from sliding along both axes."""
    return {"working": (rows.working, cols.working), "inexact": tuple(a.inexact for a in (rows, cols) if a.inexact),
            "assumptions": rows.assumptions + cols.assumptions}


def im2col_text(window: int, channels: int, positions: int, filters: int, groups: int, window_text: str,
                positions_text: str, shape_text: str) -> str:
    """``columns [363 x 3,025] (11*11*3 values for each of 55*55 outputs), filters [96 x 363], output
    [96 x 3,025] -> 55x55x96``; with groups, one such product per group."""
    per_group_in, per_group_out = channels // groups, filters // groups
    rows = window * per_group_in
    text = (f"columns [{rows:,} x {positions:,}] ({window_text}*{per_group_in} values for each of {positions_text} "
            f"outputs), filters [{per_group_out:,} x {rows:,}], filters x columns = [{per_group_out:,} x "
            f"{positions:,}]")
    text += f", one product per group ({groups} groups)" if groups > 1 else ""
    return text + f" -> {shape_text}"


class ConvKind(LayerKind):
    """What every convolution shares: weighted, convolutional, `filters` first, the activation
    shorthand, a worked example in handouts, ptflops' bias adds, its kernel size in the comparison,
    and its input kept for the backward pass (to compute the weights' gradient)."""

    family = "conv"
    positional = "filters"
    takes_followers = True
    weighted = True
    convolutional = True
    worked_example = True
    costs = {"ptflops": bias_adds, "ptflops-aten": bias_adds, "keras": keras_biases, "mults-adds": mults_adds}
    reports = (KERNEL_SIZES,)

    def kernel(self, layer: Layer) -> tuple:
        return layer["kernel"]

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        return flops_view(step)  # each output one dot product (a transposed conv says otherwise)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {KERNEL_SIZES: kernel_size(self.kernel(layer))}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (TensorSize("input", product(x)),)

    def input_or_padded(self, layer: Layer, x: Shape) -> tuple[TensorSize, ...]:
        """What its convolution reads and keeps for the weights' gradient: its input, or the padded
        copy where the padding is uneven."""
        return padded_input(self.padding(layer, x), x) or (TensorSize("input", product(x)),)

    def padding(self, layer: Layer, x: Shape):
        return resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], layer["stride"], layer["dilation"])


@register
class Conv(ConvKind):
    name = "conv"
    aliases = ("conv2d",)
    summary = "2-D convolution (filters, kernel, stride, pad, dilation, groups, bias)"
    fields = (
        Field("filters", COUNT, help="number of filters = output channels"),
        Field("kernel", PAIR, help="F, or [Fh, Fw]"),
        Field("stride", PAIR, 1, "S, or [Sh, Sw]"),
        Field("pad", PADDING, 0, 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'),
        Field("dilation", DILATION, 1, "D: a dilated kernel spans D(F-1)+1 inputs"),
        Field("groups", COUNT, 1, "split channels into groups (AlexNet's two towers: 2)"),
        Field("bias", BIAS, True, 'one bias per filter; false for none; "unit" for one per output unit'),
        Field("connections", TABLE, None, "a sparse connection table: per filter, the input maps it sees"),
    )
    onnx_ops = ("Conv", "Pad", "MatMul")

    def from_onnx(self, node, graph) -> Claim | None:
        """A 2-D Conv (with a zero Pad before it folded into its padding), or a MatMul on a
        channels-last map with a bias Add after it (torchvision's ConvNeXt writes 1x1 convs so)."""
        if node.op == "MatMul":
            return pointwise_matmul(node, graph)
        found = padded_conv(node, graph)
        read = found and convolution(found[0][-1], graph, 2, found[1])
        if not read:
            return None
        read.pop("in_channels")
        return conv_claim(read, found[0])

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        channels = x[2]
        kernel, stride, dilation = layer["kernel"], layer["stride"], layer["dilation"]
        filters, groups = layer["filters"], layer["groups"]
        check_groups(layer, channels, filters, groups)
        pad = self.padding(layer, x)
        rows, cols = slide(layer, x, kernel, stride, dilation, pad)
        shape = (rows.size, cols.size, filters)
        if layer["connections"]:
            weights, macs, notes = self.table_costs(layer, x, shape)
        else:
            weights = conv_weights(kernel[0], kernel[1], channels, filters, groups)
            macs, notes = conv_macs(rows.size, cols.size, filters, kernel[0], kernel[1], channels, groups), ()
        return Step(shape=shape, weights=weights, biases=conv_biases(layer, shape), macs=macs, notes=notes,
                    window=windows(kernel, stride, pad, dilation), **axes_step(rows, cols))

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        """The convolution as one matrix product (im2col, as CS231n's notes present it)."""
        if layer["connections"] or not all(isinstance(d, int) for d in x + step.shape):
            return flops_view(step)
        kernel, groups, filters = layer["kernel"], layer["groups"], layer["filters"]
        return (("im2col", im2col_text(kernel[0] * kernel[1], x[2], step.shape[0] * step.shape[1], filters, groups,
                                       f"{kernel[0]}*{kernel[1]}", f"{step.shape[0]}*{step.shape[1]}",
                                       "x".join(map(str, step.shape)))),) + flops_view(step)

    def table_costs(self, layer: Layer, x: Shape, shape: Shape):
        """A sparse table: each filter spans only its own input maps, so the weights are F*F times
        the table's connections, not F*F*C_in*filters."""
        table, kernel = layer["connections"], layer["kernel"]
        if len(table) != layer["filters"] or layer["groups"] != 1:
            raise ShapeError(f"the connection table has {len(table)} rows for {layer['filters']} filters"
                             + (" (and groups must be 1)" if layer["groups"] != 1 else ""), layer.at("connections"))
        largest = max(max(row) for row in table)
        if isinstance(x[2], int) and largest >= x[2]:
            raise ShapeError(f"the connection table names input map {largest}, but the input has {x[2]} "
                             f"(numbered from 0)", layer.at("connections"))
        links = sum(len(row) for row in table)
        note = f"the connection table joins {links} of the {layer['filters'] * x[2]} (filter, input map) pairs"
        return (times(kernel[0], kernel[1], links), times(normalize(shape[0] * shape[1]), kernel[0] * kernel[1] * links,
                                                          spaced=True, thousands=True), (note,))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        explicit, padding = explicit_padding(self.padding(layer, x), "ZeroPad2d")
        if layer["connections"]:
            conv = TorchModule("ConnectionTable", (
                ("table", [list(row) for row in layer["connections"]]), ("kernel_size", layer["kernel"]),
                ("stride", layer["stride"]), ("padding", padding), ("bias", layer["bias"] is True)), LOCAL)
        else:
            conv = TorchModule("Conv2d", (
                ("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
                ("stride", layer["stride"]), ("padding", padding), ("dilation", layer["dilation"]),
                ("groups", layer["groups"]), ("bias", layer["bias"] is True)))
        return explicit + (conv,) + unit_bias(layer, self.infer(layer, x).shape)

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """With a connection table, each output map's conv keeps its own gathered copy of its input
        maps, and the gather its indices."""
        if not layer["connections"]:
            return self.input_or_padded(layer, x)
        gathered = sum(len(row) for row in layer["connections"])
        return (TensorSize("gathered input maps", normalize(gathered * x[0] * x[1])),
                TensorSize("gather indices", gathered, "int64", per_image=False))

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        out = product(step.shape)
        padded = padded_input(self.padding(layer, x), x)
        if layer["connections"]:  # one small conv per map, each on a gathered copy of its input maps
            return padded + self.table_workspace(layer, x, step)
        unbiased = (TensorSize("output before its biases", out),) if layer["bias"] == "unit" else ()
        return padded + unbiased + (TensorSize("output", out),)

    def table_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The busiest moment of a connection table: the maps done so far, the current map's gathered
        inputs and its output; or, at the end, all the maps and their concatenation."""
        positions = product(step.shape[:2])
        inputs = product(x[:2])
        done, busiest = 0, 0
        for row in layer["connections"]:
            busiest = max(busiest, done + inputs * len(row) + positions)
            done += positions
        sizes = (("maps so far, the current map's inputs and output", busiest), ("all maps", done), ("output", done))
        cat = 2 * done
        return (TensorSize(*sizes[0]),) if busiest >= cat else (TensorSize(*sizes[1]), TensorSize(*sizes[2]))

    def slips(self, layer: Layer, x: Shape, step: Step) -> tuple[Slip, ...]:
        groups = layer["groups"]
        if groups == 1 or not isinstance(groups, int):
            return super().slips(layer, x, step)
        diagnosis = "diverges at the groups: each filter sees only C_in/groups channels"
        ungrouped = normalize(step.weights.value * groups)
        return super().slips(layer, x, step) + (
            Slip("weights", ungrouped, diagnosis), Slip("params", ungrouped, diagnosis),
            Slip("params", normalize(ungrouped + step.biases.value), diagnosis))

    def label(self, layer: Layer) -> str:
        text = f"CONV{kernel_text(layer['kernel'])}-{layer['filters']}" + stride_suffix(layer["stride"])
        if layer["dilation"] != (1, 1):
            text += f" d{kernel_text(layer['dilation'])}"
        if layer["groups"] != 1:
            text += f" g{layer['groups']}"
        if layer["connections"]:
            text += " (table)"
        return text + (" (bias per unit)" if layer["bias"] == "unit" else "")


@register
class TransposedConv(ConvKind):
    name = "deconv"
    aliases = ("convtranspose", "transposedconv", "conv_transpose")
    summary = "transposed convolution: (W-1)S - 2P + D(F-1) + output_padding + 1"
    fields = (
        Field("filters", COUNT, help="output channels"),
        Field("kernel", PAIR, help="F, or [Fh, Fw]"),
        Field("stride", PAIR, 1, "S"),
        Field("pad", PAIR0, 0, "P (removed from both sides of the output)"),
        Field("output_padding", PAIR0, 0, "extra rows/columns on one side (less than S or D)"),
        Field("dilation", DILATION, 1, "D"),
        Field("groups", COUNT, 1, "groups"),
        Field("bias", BOOL, True, "one bias per filter"),
    )
    onnx_ops = ("ConvTranspose",)

    def from_onnx(self, node, graph) -> Claim | None:
        weight = graph.dims(node.inputs[1])
        if not weight or len(weight) != 4 or node.attribute("output_shape") or not all(isinstance(d, int) for d in weight):
            return None
        fields = spatial_fields(node, graph, tuple(weight[2:]))
        if fields is None or not isinstance(fields["pad"], (int, list)) or (isinstance(fields["pad"], list)
                                                                             and len(fields["pad"]) == 4):
            return None  # a transposed conv removes the same padding from both sides
        groups = int(node.attribute("group", 1))
        extra = node.attribute("output_padding", [0, 0])
        fields.update(filters=weight[1] * groups, groups=groups, bias=len(node.inputs) > 2 and bool(node.inputs[2]),
                      output_padding=extra[0] if extra[0] == extra[1] else list(extra))
        return conv_claim(fields, (node,))

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        channels, filters, groups = x[2], layer["filters"], layer["groups"]
        check_groups(layer, channels, filters, groups)
        kernel, stride, pad = layer["kernel"], layer["stride"], layer["pad"]
        dilation, extra = layer["dilation"], layer["output_padding"]
        for axis in (0, 1):
            check_dilation(layer, dilation[axis])
            if isinstance(extra[axis], int) and extra[axis] >= max(stride[axis], dilation[axis]):
                raise ShapeError(f"output_padding {extra[axis]} must be smaller than the stride or the dilation",
                                 layer.at("output_padding"))
        sizes, working = [], []
        for axis in (0, 1):
            out = transposed_conv_output_size(x[axis], kernel[axis], stride[axis], 2 * pad[axis], dilation[axis],
                                              extra[axis])
            if isinstance(out, int) and out < 1:
                raise ShapeError(f"the output would be {out} wide", layer.at("pad"))
            sizes.append(out)
            working.append(f"({x[axis]} - 1)*{stride[axis]} - 2*{pad[axis]} + {dilation[axis]}*({kernel[axis]} - 1)"
                           f" + {extra[axis]} + 1 = {format_dim(out)}")
        per_input = normalize(kernel[0] * kernel[1] * floor_div(filters, groups))  # outputs each input reaches
        return Step(
            shape=(sizes[0], sizes[1], filters), weights=conv_weights(kernel[0], kernel[1], channels, filters, groups),
            biases=given(filters if layer["bias"] else 0),
            macs=times(normalize(x[0] * x[1] * channels), per_input, spaced=True, thousands=True),
            working=tuple(working),
            window=tuple((effective_kernel(kernel[a], dilation[a]), ("up", stride[a]), pad[a]) for a in (0, 1)),
        )

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        """The same output size from a direct convolution (Dumoulin & Visin, relationship 14): put
        S - 1 zeros between the inputs, pad each side with D(F - 1) - P (plus output_padding on one
        side), and slide the kernel at stride 1."""
        kernel, stride, pad = layer["kernel"], layer["stride"], layer["pad"]
        dilation, extra = layer["dilation"], layer["output_padding"]
        if not all(isinstance(d, int) for d in x[:2] + step.shape[:2]):
            return ()
        parts = []
        for axis in (0, 1):
            stretched = x[axis] + (stride[axis] - 1) * (x[axis] - 1)
            outer = dilation[axis] * (kernel[axis] - 1) - pad[axis]
            span = dilation[axis] * (kernel[axis] - 1) + 1
            parts.append(f"{x[axis]} inputs with {stride[axis] - 1} zero(s) between them = {stretched}, padded by "
                         f"{outer} each side" + (f" and {extra[axis]} more on one" if extra[axis] else "")
                         + f", then a stride-1 window of {span}: {stretched} + 2*{outer}"
                         + (f" + {extra[axis]}" if extra[axis] else "") + f" - {span} + 1 = {step.shape[axis]}")
        same = parts[0] == parts[1]
        return (("as a direct convolution", parts[0] if same else f"rows: {parts[0]}; columns: {parts[1]}"),)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("ConvTranspose2d", (
            ("in_channels", x[2]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", layer["pad"]), ("output_padding", layer["output_padding"]),
            ("groups", layer["groups"]), ("bias", layer["bias"]), ("dilation", layer["dilation"]))),)

    def label(self, layer: Layer) -> str:
        return f"DECONV{kernel_text(layer['kernel'])}-{layer['filters']}" + stride_suffix(layer["stride"])


DEPTHWISE_FIELDS = (
    Field("kernel", PAIR, help="F, or [Fh, Fw]"),
    Field("stride", PAIR, 1, "S, or [Sh, Sw]"),
    Field("pad", PADDING, 0, 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'),
    Field("dilation", DILATION, 1, "D: a dilated kernel spans D(F-1)+1 inputs"),
    Field("multiplier", COUNT, 1, "filters per input channel"),
)


class DepthwiseKind(ConvKind):
    """Shared by depthwise and separable convolution: the per-channel spatial part."""

    reports = (KERNEL_SIZES, DEPTHWISE)

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {KERNEL_SIZES: kernel_size(layer["kernel"]), DEPTHWISE: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return self.input_or_padded(layer, x)

    def depthwise(self, layer: Layer, x: Shape):
        require_map(layer, x)
        pad = self.padding(layer, x)
        rows, cols = slide(layer, x, layer["kernel"], layer["stride"], layer["dilation"], pad)
        return rows, cols, pad

    def depthwise_module(self, layer: Layer, x: Shape, out_channels, bias: bool) -> tuple[TorchModule, ...]:
        explicit, padding = explicit_padding(self.padding(layer, x), "ZeroPad2d")
        return explicit + (TorchModule("Conv2d", (
            ("in_channels", x[2]), ("out_channels", out_channels), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", padding), ("dilation", layer["dilation"]), ("groups", x[2]),
            ("bias", bias))),)


@register
class DepthwiseConv(DepthwiseKind):
    name = "dwconv"
    aliases = ("depthwise",)
    summary = "depthwise convolution: one F x F filter per input channel (groups = C_in), times a multiplier"
    fields = DEPTHWISE_FIELDS + (Field("bias", BOOL, True, "one bias per output channel"),)
    positional = "kernel"
    onnx_ops = ("Conv", "Pad")

    def from_onnx(self, node, graph) -> Claim | None:
        """A Conv with one group per input channel (its weight [C*m, 1, F, F])."""
        found = padded_conv(node, graph)
        read = found and convolution(found[0][-1], graph, 2, found[1])
        if not read or read["groups"] < 2 or read["in_channels"] != read["groups"]:
            return None
        fields = {key: read[key] for key in ("kernel", "stride", "pad", "dilation", "bias")}
        return conv_claim({**fields, "multiplier": read["filters"] // read["groups"]}, found[0], specificity=1)

    def infer(self, layer: Layer, x: Shape) -> Step:
        rows, cols, pad = self.depthwise(layer, x)
        channels = normalize(x[2] * layer["multiplier"])
        kernel = layer["kernel"]
        return Step(
            shape=(rows.size, cols.size, channels),
            weights=times(times(kernel[0], kernel[1], 1), channels), biases=given(channels if layer["bias"] else 0),
            macs=times(normalize(rows.size * cols.size * channels), normalize(kernel[0] * kernel[1]), spaced=True,
                       thousands=True),
            window=windows(kernel, layer["stride"], pad, layer["dilation"]), **axes_step(rows, cols))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return self.depthwise_module(layer, x, x[2] * layer["multiplier"], layer["bias"])

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return padded_input(self.padding(layer, x), x) + (TensorSize("output", product(step.shape)),)

    def label(self, layer: Layer) -> str:
        return f"DWCONV{kernel_text(layer['kernel'])}" + stride_suffix(layer["stride"])


@register
class SeparableConv(DepthwiseKind):
    name = "sepconv"
    aliases = ("separable",)
    summary = "depthwise separable convolution: depthwise F x F, then pointwise 1x1 to `filters` (MobileNet, Xception)"
    fields = (Field("filters", COUNT, help="output channels of the pointwise 1x1"),) + DEPTHWISE_FIELDS + (
        Field("bias", BOOL, True, "one bias per output channel (on the pointwise conv, as in Keras)"),)

    def infer(self, layer: Layer, x: Shape) -> Step:
        rows, cols, pad = self.depthwise(layer, x)
        kernel, filters = layer["kernel"], layer["filters"]
        middle = normalize(x[2] * layer["multiplier"])
        depthwise, pointwise = times(kernel[0], kernel[1], middle), times(middle, filters)
        standard = times(kernel[0], kernel[1], x[2], filters)
        return Step(
            shape=(rows.size, cols.size, filters),
            weights=plus(depthwise, pointwise), biases=given(filters if layer["bias"] else 0),
            macs=times(normalize(rows.size * cols.size), plus(depthwise.value, pointwise.value, thousands=True),
                       spaced=True, thousands=True),
            window=windows(kernel, layer["stride"], pad, layer["dilation"]),
            explanation=(f"a standard {kernel[0]}x{kernel[1]} conv would have {standard.text} = "
                         f"{format_dim(standard.value, True)} weights",),
            **axes_step(rows, cols))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        middle = x[2] * layer["multiplier"]
        return self.depthwise_module(layer, x, middle, False) + (
            TorchModule("Conv2d", (("in_channels", middle), ("out_channels", layer["filters"]), ("kernel_size", 1),
                                   ("bias", layer["bias"]))),)

    def weighted_layers(self, layer: Layer, x: Shape) -> int:
        return 2  # MobileNet counts depthwise and pointwise as separate layers

    def traits(self, layer: Layer, x: Shape) -> dict:
        return {KERNEL_SIZES: (kernel_size(layer["kernel"]), 1), DEPTHWISE: True}

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        middle = normalize(step.shape[0] * step.shape[1] * x[2] * layer["multiplier"])
        return self.input_or_padded(layer, x) + (TensorSize("depthwise output", middle),)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The depthwise output lives while the pointwise conv makes the output (and the padded input,
        if any, while the depthwise conv makes it)."""
        middle = TensorSize("depthwise output", normalize(step.shape[0] * step.shape[1] * x[2] * layer["multiplier"]))
        padded = padded_input(self.padding(layer, x), x)
        first, second = padded + (middle,), (middle, TensorSize("output", product(step.shape)))
        return first if sum(t.elements for t in first) > sum(t.elements for t in second) else second

    def label(self, layer: Layer) -> str:
        return f"SEPCONV{kernel_text(layer['kernel'])}-{layer['filters']}" + stride_suffix(layer["stride"])


@register
class Conv1d(ConvKind):
    name = "conv1d"
    summary = "1-D convolution over an L x C sequence"
    fields = (
        Field("filters", COUNT, help="output channels"),
        Field("kernel", COUNT, help="F"),
        Field("stride", COUNT, 1, "S"),
        Field("pad", NATURAL, 0, "P on both ends"),
        Field("dilation", Dilation(1), 1, "D"),
        Field("groups", COUNT, 1, "groups"),
        Field("bias", BOOL, True, "one bias per filter"),
    )
    onnx_ops = ("Conv",)

    def from_onnx(self, node, graph) -> Claim | None:
        read = convolution(node, graph, 1)
        if not read or not isinstance(read["pad"], int):
            return None
        read.pop("in_channels")
        return conv_claim(read, (node,))

    def kernel(self, layer: Layer) -> tuple:
        return (layer["kernel"], layer["kernel"])

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_sequence(layer, x)
        length, channels = x
        filters, groups, kernel = layer["filters"], layer["groups"], layer["kernel"]
        check_groups(layer, channels, filters, groups)
        axis = slide_axis(layer, 1, length, kernel, layer["stride"], (layer["pad"], layer["pad"]), layer["dilation"])
        per_group = channels if groups == 1 else divided(channels, groups)
        return Step(
            shape=(axis.size, filters), biases=given(filters if layer["bias"] else 0),
            weights=times(times(kernel, per_group), filters),
            macs=conv_macs(axis.size, 1, filters, kernel, 1, channels, groups), working=(axis.working,),
            inexact=(axis.inexact,) if axis.inexact else (), assumptions=axis.assumptions,
            window=((effective_kernel(kernel, layer["dilation"]), layer["stride"], layer["pad"]),),
        )

    def views(self, layer: Layer, x: Shape, step: Step) -> tuple[tuple[str, str], ...]:
        if not all(isinstance(d, int) for d in x + step.shape):
            return flops_view(step)
        return (("im2col", im2col_text(layer["kernel"], x[1], step.shape[0], layer["filters"], layer["groups"],
                                       str(layer["kernel"]), str(step.shape[0]), "x".join(map(str, step.shape)))),
                ) + flops_view(step)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("Conv1d", (
            ("in_channels", x[1]), ("out_channels", layer["filters"]), ("kernel_size", layer["kernel"]),
            ("stride", layer["stride"]), ("padding", layer["pad"]), ("dilation", layer["dilation"]),
            ("groups", layer["groups"]), ("bias", layer["bias"]))),)

    def label(self, layer: Layer) -> str:
        return f"CONV1D{layer['kernel']}-{layer['filters']}" + (f" s{layer['stride']}" if layer["stride"] != 1 else "")


@register
class LocallyConnected(ConvKind):
    name = "local"
    aliases = ("locallyconnected", "unshared")
    summary = "locally connected: a convolution without weight sharing, every output position its own filters"
    fields = (
        Field("filters", COUNT, help="filters at each position = output channels"),
        Field("kernel", PAIR, help="F, or [Fh, Fw]"),
        Field("stride", PAIR, 1, "S, or [Sh, Sw]"),
        Field("pad", PADDING, 0, 'P, [Ph, Pw], [top, bottom, left, right], "same" or "valid"'),
        Field("bias", BIAS, "unit", '"unit": one per output unit (as Keras); true: one per filter; false'),
    )

    def padding(self, layer: Layer, x: Shape):
        return resolve_padding(layer["pad"], x[0], x[1], layer["kernel"], layer["stride"], (1, 1))

    def infer(self, layer: Layer, x: Shape) -> Step:
        require_map(layer, x)
        kernel, stride, filters = layer["kernel"], layer["stride"], layer["filters"]
        pad = self.padding(layer, x)
        rows, cols = slide(layer, x, kernel, stride, (1, 1), pad)
        shape = (rows.size, cols.size, filters)
        shared = conv_weights(kernel[0], kernel[1], x[2], filters)
        return Step(shape=shape, weights=times(times(rows.size, cols.size), times(kernel[0], kernel[1], x[2]), filters),
                    biases=conv_biases(layer, shape),
                    macs=conv_macs(rows.size, cols.size, filters, kernel[0], kernel[1], x[2]),
                    window=windows(kernel, stride, pad, (1, 1)),
                    explanation=(f"with shared weights (a conv) it would have {shared}",), **axes_step(rows, cols))

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        explicit, padding = explicit_padding(self.padding(layer, x), "ZeroPad2d")
        step = self.infer(layer, x)
        return explicit + (TorchModule("LocallyConnected2d", (
            ("in_channels", x[2]), ("out_channels", layer["filters"]), ("output_size", step.shape[:2]),
            ("kernel_size", layer["kernel"]), ("stride", layer["stride"]), ("padding", padding),
            ("bias", layer["bias"])), LOCAL),)

    def patches(self, layer: Layer, x: Shape, step: Step) -> TensorSize:
        """The unfolded input: one column of F*F*C_in values per output position."""
        kernel = layer["kernel"]
        return TensorSize("patches", normalize(step.shape[0] * step.shape[1] * kernel[0] * kernel[1] * x[2]))

    def saved_for_backward(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        return (self.patches(layer, x, step),)

    def inference_workspace(self, layer: Layer, x: Shape, step: Step) -> tuple[TensorSize, ...]:
        """The patches, the product per position, its copy in the output's layout, and the biases added."""
        out = product(step.shape)
        biased = (TensorSize("output", out),) if layer["bias"] else ()
        return padded_input(self.padding(layer, x), x) + (self.patches(layer, x, step), TensorSize("products", out),
                                                          TensorSize("products, laid out", out)) + biased

    def label(self, layer: Layer) -> str:
        return f"LOCAL{kernel_text(layer['kernel'])}-{layer['filters']}" + stride_suffix(layer["stride"])


def pointwise_matmul(node, graph) -> Claim | None:
    """``x @ W (+ b)`` on a channels-last map: a 1x1 conv of W's [C_in, C_out]."""
    found = matmul_with_bias(node, graph) if graph.channels_last(node.inputs[0]) else None
    if found is None:
        return None
    nodes, weights, filters = found
    return Claim({"filters": filters, "kernel": 1, "bias": len(nodes) == 2}, nodes, weights)
