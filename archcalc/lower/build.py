"""Build a torch.nn module tree from a spec: a Sequential per sequence, one child per layer, block
or branch, each named after its node, so that a row's name is also its module's path."""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Union

from ..dims import is_symbolic
from ..engine import Analysis, analyze
from ..errors import LoweringError
from ..expand import Block, Parallel
from ..layers import KINDS, Layer
from ..layers.base import TorchModule
from ..spec import ModelSpec

LOCAL = "archcalc:"  # TorchModule classes with this prefix live in archcalc.lower.modules


@dataclass(frozen=True)
class LoweredLayer:
    modules: tuple[TorchModule, ...]


@dataclass(frozen=True)
class LoweredSequence:
    children: tuple[tuple[str, "Lowered"], ...]  # (module name, lowered node)


@dataclass(frozen=True)
class LoweredBranches:
    merge: str  # concat, add, side
    branches: tuple[tuple[str, LoweredSequence], ...]


Lowered = Union[LoweredLayer, LoweredSequence, LoweredBranches]


def require_torch():
    """Import torch, or say which extra to install."""
    try:
        import torch
    except ImportError:
        raise LoweringError("this command needs PyTorch: pip install 'archcalc[verify]'") from None
    return torch


@dataclass(frozen=True)
class Plan:
    """The module tree as data, and where each row's module sits in it (a dotted path)."""

    tree: LoweredSequence
    paths: dict[str, str]


def _segment(part: str) -> str:
    """A node's name as a module name: ``3x3`` -> ``n3x3``, ``a-b`` -> ``a_b``."""
    cleaned = re.sub(r"\W", "_", part)
    return f"n{cleaned}" if cleaned[0].isdigit() else cleaned


def plan(spec: ModelSpec, analysis: Analysis | None = None) -> Plan:
    """The module tree as data (no torch needed).

    >>> from archcalc.spec import load_spec
    >>> plan(load_spec("resnet18")).paths["conv2_1/b1/conv1"]
    'conv2_1.add.b1.conv1'
    """
    if any(is_symbolic(d) for d in spec.input_shape):
        raise LoweringError("a symbolic spec cannot run: give concrete sizes with --input (e.g. 224x224x3)")
    paths: dict[str, str] = {}
    tree = _sequence(spec.layers, analysis or analyze(spec), "", paths)
    return Plan(tree, paths)


def _sequence(nodes, analysis: Analysis, path: str, paths: dict[str, str]) -> LoweredSequence:
    children = []
    for node in nodes:
        name = _segment(node.name.split("/")[-1])
        here = f"{path}{name}"
        if isinstance(node, Layer):
            paths[node.name] = here
            lowered = LoweredLayer(KINDS[node.kind].torch_modules(node, analysis.inputs[node.name]))
        elif isinstance(node, Block):
            lowered = _sequence(node.body, analysis, here + ".", paths)
        else:
            paths[node.name] = here
            lowered = _branches(node, analysis, here, paths)
        if name in dict(children):
            raise LoweringError(f"two modules would be called {name!r} in the same place", node.location)
        children.append((name, lowered))
    return LoweredSequence(tuple(children))


def _branches(node: Parallel, analysis: Analysis, here: str, paths: dict[str, str]) -> LoweredBranches:
    if node.merge == "side":
        return LoweredBranches("side", (("", _sequence(node.branches[0], analysis, here + ".", paths)),))
    return LoweredBranches(node.merge, tuple((f"b{i}", _sequence(branch, analysis, f"{here}.b{i}.", paths))
                                             for i, branch in enumerate(node.branches, start=1)))


def instantiate(lowered: Lowered):
    """Turn the plan into modules."""
    torch = require_torch()
    from collections import OrderedDict

    from . import modules as local

    if isinstance(lowered, LoweredLayer):
        built = [_module_class(m, torch, local)(**dict(m.args)) for m in lowered.modules]
        return built[0] if len(built) == 1 else torch.nn.Sequential(*built)
    if isinstance(lowered, LoweredSequence):
        return torch.nn.Sequential(OrderedDict((name, instantiate(child)) for name, child in lowered.children))
    if lowered.merge == "side":
        inner = lowered.branches[0][1]
        return local.SideOutput(OrderedDict((name, instantiate(child)) for name, child in inner.children))
    return local.Branches(lowered.merge, OrderedDict((name, instantiate(branch)) for name, branch in lowered.branches))


def _module_class(module: TorchModule, torch, local):
    if module.cls.startswith(LOCAL):
        return getattr(local, module.cls[len(LOCAL):])
    return getattr(torch.nn, module.cls)


def build(spec: ModelSpec, analysis: Analysis | None = None):
    """The spec as a ``torch.nn.Sequential`` in eval mode; ``plan(spec).paths`` says where each row's module is."""
    return instantiate(plan(spec, analysis).tree).eval()


def example_input(spec: ModelSpec, batch: int, device: str = "cpu"):
    """Random input in PyTorch's layout: N x C x H x W for maps, N x C x L for sequences, N x F for vectors."""
    torch = require_torch()
    shape = spec.input_shape
    layout = {3: lambda: (batch, shape[2], shape[0], shape[1]), 2: lambda: (batch, shape[1], shape[0]),
              1: lambda: (batch, shape[0])}[len(shape)]()
    generator = torch.Generator().manual_seed(0)
    return torch.randn(layout, generator=generator).to(device)


# --- readable source --------------------------------------------------------------------------


def module_source(spec: ModelSpec) -> str:
    """A self-contained Python file that builds the network with torch.nn."""
    body = _source(plan(spec).tree, 2)
    used = sorted(set(re.findall(r"\b(Branches|SideOutput|ZeroPadShortcut)\(", body)))
    helpers = []
    if used:
        from . import modules as local  # noqa: F401  (only for its source text; needs torch)

        helpers = [inspect.getsource(getattr(local, name)) for name in used]
    lines = [f'"""{spec.title}: generated by archcalc from {spec.file}."""',
             "from collections import OrderedDict", "", "import torch", "from torch import nn", "", ""]
    lines += [helper + "\n" for helper in helpers]
    lines += ["def build() -> nn.Sequential:", f"    return {body}", "", "",
              'if __name__ == "__main__":', "    print(build())", ""]
    return "\n".join(lines)


def _source(lowered: Lowered, indent: int) -> str:
    pad = "    " * indent
    if isinstance(lowered, LoweredLayer):
        parts = [m.source().replace(f"nn.{LOCAL}", "") for m in lowered.modules]
        return parts[0] if len(parts) == 1 else "nn.Sequential(" + ", ".join(parts) + ")"
    if isinstance(lowered, LoweredSequence):
        items = "".join(f'{pad}("{name}", {_source(child, indent + 1)}),\n' for name, child in lowered.children)
        return f"nn.Sequential(OrderedDict([\n{items}{pad[:-4]}]))"
    if lowered.merge == "side":
        inner = lowered.branches[0][1]
        items = "".join(f'{pad}("{name}", {_source(child, indent + 1)}),\n' for name, child in inner.children)
        return f"SideOutput(OrderedDict([\n{items}{pad[:-4]}]))"
    items = "".join(f'{pad}("{name}", {_source(branch, indent + 1)}),\n' for name, branch in lowered.branches)
    return f'Branches("{lowered.merge}", OrderedDict([\n{items}{pad[:-4]}]))'
