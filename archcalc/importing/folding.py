"""What exporters fold away, found and undone: a batch norm folded into the convolution before it,
and a bias the dynamo exporter dropped because its values were zero.

Folding a batch norm of C channels into a conv rescales the conv's kernel and gives it a bias; the
model as its author wrote it has a conv without bias and a batch norm with 2C parameters (and 2C
running statistics). The evidence is in the file, not guessed from the shapes:

- torch.onnx's dynamo exporter (``dynamo=True``, its default) records each rewrite in the node's
  metadata: ``FuseBatchNormIntoConv`` on the conv; ``RemoveOptionalBiasFromConv`` (or ``...Gemm``)
  where it dropped a bias of zeros, and the traced call (``aten.conv2d(%x, %weight, %bias)``,
  ``aten.linear``) says the module had one.
- its TorchScript exporter (``dynamo=False``, constant folding on by default) writes a folded kernel
  and bias as new initializers named ``onnx::Conv_<n>`` instead of the module's ``conv1.weight``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..layers import KINDS
from .convert import Unit, View, module_path, name_uniquely

FUSED_NORM = "FuseBatchNormIntoConv"
DROPPED_BIAS = "RemoveOptionalBiasFrom"  # ...Conv, ...Gemm
FOLDED_NAME = re.compile(r"onnx::Conv_\d+")


@dataclass(frozen=True)
class Folding:
    """What the file's exporter folded: batch norms (by the conv they were folded into) and dropped biases."""

    norms: tuple[tuple[str, int], ...] = ()  # (conv, channels)
    biases: tuple[tuple[str, int], ...] = ()
    evidence: str = ""

    def __bool__(self) -> bool:
        return bool(self.norms or self.biases)

    def parameters(self) -> int:
        """The parameters that undoing it restores: 2C per batch norm (gamma and beta), C per bias."""
        return sum(2 * channels for _, channels in self.norms) + sum(channels for _, channels in self.biases)

    def text(self, undone: bool) -> str:
        """What the table says about it."""
        parts = ([f"folded {len(self.norms)} batch norm{'s' if len(self.norms) != 1 else ''} into the convolution "
                  "before each"] if self.norms else []) + \
                ([f"dropped {len(self.biases)} bias{'es' if len(self.biases) != 1 else ''} of zeros"]
                 if self.biases else [])
        found = f"the exporter {' and '.join(parts)} (found by {self.evidence})"
        if undone:
            return (f"{found}: counted as the model was written, each batch norm after its conv with its 2C "
                    f"parameters and 2C running statistics, each dropped bias restored ({self.parameters():,} "
                    "parameters that the file does not store); --as-exported (as_exported=True) counts the file as it stands.")
        return f"{found}: counted as the file stands, {self.parameters():,} parameters fewer than the model as written."


def undo_folding(units: list[Unit], view: View) -> tuple[list[Unit], Folding]:
    """The units of the model as written: each folded batch norm back after its conv (the conv without
    the bias the fold gave it), each dropped bias back; and what was undone."""
    norm_kind = next((kind for kind in KINDS.values() if kind.folded_by_exporters), None)
    result: list[Unit] = []
    norms, biases, evidence = [], [], set()
    constant_folded = [unit for unit in units if _folded_by_constant_folding(unit, view)]
    untrained_norms = any(_zeros(view.values(unit.weights[1])) for unit in constant_folded)
    for unit in units:
        conv = _weighted_node(unit, view)
        if conv is None or norm_kind is None:
            result.append(unit)
            continue
        channels = _channels(view.dims(unit.output))
        if KINDS[unit.kind].convolutional and (FUSED_NORM in conv.rewrites or unit in constant_folded):
            evidence.add("the dynamo exporter's FuseBatchNormIntoConv rewrite" if FUSED_NORM in conv.rewrites else
                         "constant folding (the kernels are new initializers named onnx::Conv_<n>)")
            if FUSED_NORM in conv.rewrites:  # the fuse names a bias it creates after the kernel; an own one keeps its name
                own_bias = len(conv.inputs) > 2 and bool(conv.inputs[2]) and conv.inputs[2] != conv.inputs[1] + "_bias"
            else:  # where the other folds left zeros, the norms hold their initial values: a bias is the conv's
                own_bias = untrained_norms and _zeros(view.values(unit.weights[1])) is False
            conv_unit, norm_unit = _split(unit, conv, norm_kind.name, own_bias)
            result += [conv_unit, norm_unit]
            norms.append((conv_unit.name, channels))
        elif any(rule.startswith(DROPPED_BIAS) for rule in conv.rewrites) and conv.had_bias \
                and not unit.fields.get("bias"):
            evidence.add("the dynamo exporter's RemoveOptionalBias rewrites (biases of zeros)")
            result.append(replace(unit, fields={**unit.fields, "bias": True}))
            biases.append((unit.name, channels))
        else:
            result.append(unit)
    name_uniquely(result)
    return result, Folding(tuple(norms), tuple(biases), " and ".join(sorted(evidence)))


def _weighted_node(unit: Unit, view: View):
    """The node of a conv or fc layer that reads its weight (a Conv, a Gemm; not the Pad before it)."""
    if unit.kind is None or not KINDS[unit.kind].weighted or not unit.weights:
        return None
    return next((node for node in unit.nodes if len(node.inputs) > 1 and view.source(node.inputs[1]) == unit.weights[0]),
                None)


def _channels(dims) -> int:
    """Output channels of an N x C (x ...) tensor, 0 where its shape is unknown."""
    return dims[1] if dims and len(dims) > 1 and isinstance(dims[1], int) else 0


def _folded_by_constant_folding(unit: Unit, view: View) -> bool:
    """A conv with a bias whose kernel is an initializer the exporter computed (``onnx::Conv_<n>``) rather
    than the module's own tensor. (The bias may carry another tensor's name: equal values are stored once,
    and an untrained batch norm folds to a bias of zeros.)"""
    return (len(unit.weights) >= 2 and FOLDED_NAME.fullmatch(unit.weights[0]) is not None
            and unit.weights[0] not in view.graph.weight_inputs)


def _zeros(values) -> bool | None:
    """Whether a tensor's values (None where the file does not give them) are all zero."""
    return None if values is None else all(value == 0 for value in values)


def _split(unit: Unit, conv, norm_kind: str, own_bias: bool) -> tuple[Unit, Unit]:
    """The conv (named by its kernel's module where the dynamo exporter named the node after the batch
    norm; with a bias only where it had one of its own) and the batch norm after it, which takes over the
    conv's output tensor."""
    between = f"{unit.output}#before_folded_norm"
    if conv.scope:  # the dynamo exporter: the node's module is the batch norm, its kernel names the conv
        norm_name = module_path(conv.scope)
        kernel = unit.weights[0] if unit.weights else ""
        conv_name = kernel[:-len(".weight")] if re.fullmatch(r"[\w.]+\.weight", kernel) else f"{norm_name}_conv"
        conv_scope = unit.scope[:-1] + (conv_name,)
    else:
        conv_name, conv_scope, norm_name = unit.name, unit.scope, f"{unit.name}_bn"
    conv_unit = replace(unit, name=conv_name, scope=conv_scope, output=between, fields={**unit.fields, "bias": own_bias})
    norm_unit = Unit(norm_name, unit.scope, norm_kind, None, {}, (between,), unit.output, ())
    return conv_unit, norm_unit
