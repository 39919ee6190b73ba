"""Build a torch.nn module tree from a spec: a Sequential per sequence, one child per layer, block
or branch, each named after its node, so that a row's name is also its module's path."""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Union

from ..dims import is_symbolic
from ..engine import Analysis, analysis_of
from ..errors import LoweringError
from ..expand import Block, Join, Parallel
from ..layers import KINDS, MERGES, Layer
from ..layers.base import TorchModule
from ..liveness import in_place_layers

from ..spec import ModelSpec

LOCAL = "archcalc.lower.modules"  # the modules torch.nn lacks: their source goes into an exported file


@dataclass(frozen=True)
class LoweredLayer:
    modules: tuple[TorchModule, ...]
    trainable: bool = True


@dataclass(frozen=True)
class LoweredGroup:
    """The modules of a block instance, a side output, a branch or the whole network, by name."""

    children: tuple[tuple[str, "Lowered"], ...]  # (module name, lowered node)


@dataclass(frozen=True)
class LoweredMerge:
    combine: str  # how Branches combines its inputs: "cat", "sum" or "mul"
    branches: tuple[tuple[str, LoweredGroup], ...]  # the modules of the branches it merges (none for a Join)


Lowered = Union[LoweredLayer, LoweredGroup, LoweredMerge]


def require_torch():
    """Import torch, or say which extra to install."""
    try:
        import torch
    except ImportError:
        raise LoweringError("this command needs PyTorch: pip install 'archcalc[verify]'") from None
    return torch


@dataclass(frozen=True)
class Plan:
    """The modules as data, named as the spec nests them (a row's module sits at a dotted path); the
    wiring that runs them, one entry per node of the graph; and which modules use another's
    parameters (path -> the owner's path)."""

    tree: LoweredGroup
    paths: dict[str, str]
    shared: dict[str, str]
    wiring: tuple[tuple, ...]  # (value, module path, inputs, values let go after it, training only, side output)
    output: str


def _segment(part: str) -> str:
    """A node's name as a module name: ``3x3`` -> ``n3x3``, ``a-b`` -> ``a_b``."""
    cleaned = re.sub(r"\W", "_", part)
    return f"n{cleaned}" if cleaned[0].isdigit() else cleaned


def plan(spec: ModelSpec, analysis: Analysis | None = None) -> Plan:
    """The modules and their wiring as data (no torch needed).

    >>> from archcalc.spec import load_spec
    >>> plan(load_spec("resnet18")).paths["conv2_1/b1/conv1"]
    'conv2_1.add.b1.conv1'
    """
    if any(is_symbolic(d) for d in spec.input_shape):
        raise LoweringError("a symbolic spec cannot run: give concrete sizes with `input` (e.g. 224x224x3)")
    paths: dict[str, str] = {}
    analysis = analysis or analysis_of(spec)
    tree = _group(spec.layers, analysis, "", paths, in_place_layers(analysis))
    shared = {paths[layer.name]: paths[layer.share] for layer in spec.leaves() if layer.share}
    graph = spec.graph
    wiring = tuple((node.name, paths[node.name], node.inputs, node.releases, node.training_only, bool(node.ends_side))
                   for node in graph.nodes)
    return Plan(tree, paths, shared, wiring, graph.output)


def _group(nodes, analysis: Analysis, path: str, paths: dict[str, str], in_place: frozenset[str]) -> LoweredGroup:
    """The modules of a list of entries, named as the spec nests them (the wiring comes from the graph)."""
    children = []
    for node in nodes:
        name = _segment(node.name.split("/")[-1])
        here = f"{path}{name}"
        if isinstance(node, Layer):
            paths[node.name] = here
            kind, x = KINDS[node.kind], analysis.inputs[node.name]
            modules = kind.torch_modules_in_place(node, x) if node.name in in_place else kind.torch_modules(node, x)
            lowered = LoweredLayer(modules, node.trainable)
        elif isinstance(node, Block):
            lowered = _group(node.body, analysis, here + ".", paths, in_place)
        elif isinstance(node, Join):
            paths[node.name] = here
            lowered = LoweredMerge(_combine(node.merge, node.location), ())
        else:
            paths[node.name] = here
            lowered = _branches(node, analysis, here, paths, in_place)
        if name in dict(children):
            raise LoweringError(f"two modules would be called {name!r} in the same place", node.location)
        children.append((name, lowered))
    return LoweredGroup(tuple(children))


def _combine(merge_name: str, where) -> str:
    combine = MERGES[merge_name].torch_combine
    if combine not in ("cat", "sum", "mul"):
        raise LoweringError(f"the merge {merge_name!r} has no PyTorch lowering (archcalc runs cat, sum and mul)", where)
    return combine


def _branches(node: Parallel, analysis: Analysis, here: str, paths: dict[str, str],
              in_place: frozenset[str]) -> Lowered:
    merge = MERGES[node.merge]
    if merge.passes_input:
        return _group(node.branches[0], analysis, here + ".", paths, in_place)
    return LoweredMerge(_combine(node.merge, node.location),
                        tuple((f"b{i}", _group(branch, analysis, f"{here}.b{i}.", paths, in_place))
                              for i, branch in enumerate(node.branches, start=1)))


def instantiate(lowering: Plan):
    """Turn the plan into modules: a ``Network`` that runs them as the graph's wiring says."""
    from . import modules as local

    return local.Network(_instantiate_children(lowering.tree), list(lowering.wiring), lowering.output)


def _instantiate_children(group: LoweredGroup):
    from collections import OrderedDict

    return OrderedDict((name, _instantiate(child)) for name, child in group.children)


def _instantiate(lowered: Lowered):
    torch = require_torch()
    from . import modules as local

    if isinstance(lowered, LoweredLayer):
        built = [module_class(m)(**dict(m.args)) for m in lowered.modules]
        module = built[0] if len(built) == 1 else torch.nn.Sequential(*built)
        return module if lowered.trainable else module.requires_grad_(False)
    if isinstance(lowered, LoweredGroup):
        return local.Group(_instantiate_children(lowered))
    from collections import OrderedDict

    return local.Branches(lowered.combine, OrderedDict((name, _instantiate(branch)) for name, branch in lowered.branches))


def module_class(module: TorchModule):
    """The class a TorchModule names: from torch.nn, archcalc's own modules, or a plugin's module."""
    try:
        return getattr(importlib.import_module(module.module), module.cls)
    except (ImportError, AttributeError) as error:
        raise LoweringError(f"cannot find the module class {module.module}.{module.cls}: {error}") from None


def materialize(lowering: Plan):
    """The plan's modules, with shared parameters tied: a module that shares another's uses the very
    same Parameter objects, so PyTorch counts them once and trains them together."""
    network = instantiate(lowering)
    for path, owner_path in lowering.shared.items():
        module, owner = network.get_submodule(path), network.get_submodule(owner_path)
        for name, parameter in owner.named_parameters():
            holder, _, attribute = name.rpartition(".")
            setattr(module.get_submodule(holder) if holder else module, attribute, parameter)
    return network


def build(spec: ModelSpec, analysis: Analysis | None = None):
    """The spec as a module (archcalc.lower.modules.Network) in eval mode; ``plan(spec).paths`` says
    where each row's module is."""
    return materialize(plan(spec, analysis)).eval()


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
    """A Python file that builds the network with torch.nn: archcalc's own helper modules are
    copied in (the file stands alone); a plugin's modules are imported from its package."""
    lowering = plan(spec)
    body = _source(lowering.tree, 2)
    used = sorted(_classes_used(lowering.tree) | {(LOCAL, "Network")}, key=_definition_order)
    helpers = [inspect.getsource(module_class(TorchModule(cls, (), module))) for module, cls in used if module == LOCAL]
    imports = [f"from {module} import {cls}" for module, cls in used if module not in (LOCAL, "torch.nn")]
    imports += [line for line in _helper_imports() if helpers and line not in ("import torch", "from torch import nn")]
    wiring = "".join(f"    {_wiring_source(step)},\n" for step in lowering.wiring)
    lines = [f'"""{spec.title}: generated by archcalc from {spec.file}."""',
             "from collections import OrderedDict", "", "import torch", "from torch import nn", *imports, "", ""]
    lines += [helper + "\n" for helper in helpers]
    lines += ["# One entry per layer or merge, in the order they run: (value, module, the values it reads,",
              "# the values let go once it has run, whether it runs only in training, whether it is a side output)",
              f"WIRING = [\n{wiring}]", "", "",
              "def build() -> Network:", f"    return Network({body}, WIRING, {lowering.output!r})", "", "",
              'if __name__ == "__main__":', "    print(build())", ""]
    return "\n".join(lines)


def _definition_order(used: tuple[str, str]) -> tuple:
    """archcalc's helpers in the order their module defines them (Network builds on Group), then the rest."""
    module, cls = used
    if module != LOCAL:
        return (1, module, cls)
    from . import modules

    return (0, list(vars(modules)).index(cls), cls)


def _wiring_source(step: tuple) -> str:
    value, path, inputs, releases, training_only, side = step
    return repr((value, path, list(inputs), list(releases), training_only, side))


def _helper_imports() -> list[str]:
    """The imports of the module the helpers are copied from (``from functools import reduce``...):
    the copied classes need every name their module imported."""
    import ast

    from . import modules

    tree = ast.parse(inspect.getsource(modules))
    return [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def _classes_used(lowered: Lowered) -> set[tuple[str, str]]:
    """Every (module, class) the tree builds, the merge helpers included."""
    if isinstance(lowered, LoweredLayer):
        return {(m.module, m.cls) for m in lowered.modules}
    if isinstance(lowered, LoweredGroup):
        return {(LOCAL, "Group")}.union(*(_classes_used(child) for _, child in lowered.children))
    return {(LOCAL, "Branches")}.union(*(_classes_used(branch) for _, branch in lowered.branches))


def _source(lowered: Lowered, indent: int) -> str:
    pad = "    " * indent
    if isinstance(lowered, LoweredLayer):
        parts = [m.source() for m in lowered.modules]
        return parts[0] if len(parts) == 1 else "nn.Sequential(" + ", ".join(parts) + ")"
    if isinstance(lowered, LoweredGroup):
        items = "".join(f'{pad}("{name}", {_source(child, indent + 1)}),\n' for name, child in lowered.children)
        return f"OrderedDict([\n{items}{pad[:-4]}])" if indent == 2 else f"Group(OrderedDict([\n{items}{pad[:-4]}]))"
    items = "".join(f'{pad}("{name}", {_source(branch, indent + 1)}),\n' for name, branch in lowered.branches)
    return f'Branches("{lowered.combine}", OrderedDict([\n{items}{pad[:-4]}]))'
