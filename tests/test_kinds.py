"""The layer kind is the one place that knows about itself: no module outside archcalc/layers/
names a kind, and every kind answers every question the commands ask of it."""
import ast
from pathlib import Path

import pytest

from archcalc import analyze, parse_spec
from archcalc.layers import KINDS, MERGES, LayerKind, Usage
from archcalc.layers.base import CapabilityError

PACKAGE = Path(__file__).parent.parent / "archcalc"


def string_literals(path: Path):
    """Every string constant in a module, the pieces of f-strings included, with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_kind_is_named_outside_its_own_module():
    """The issue's measure: a string literal that is a kind's (or a merge's) name, anywhere in the package
    outside archcalc/layers/, means a decision made on the kind's name instead of asking the kind."""
    names = {kind.name for kind in KINDS.values()} | set(MERGES)
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}"
             for path in sorted(PACKAGE.rglob("*.py")) if "layers" not in path.relative_to(PACKAGE).parts
             for line, text in string_literals(path) if text.strip().lower() in names]
    assert not found, "\n".join(found)


def test_the_literal_check_can_fail(tmp_path):
    module = tmp_path / "offender.py"
    module.write_text('if row.kind == "conv":\n    pass\nlabel = f"{x}conv"\n')
    assert [text for _, text in string_literals(module)] == ["conv", "conv"]


def example(kind: str) -> tuple[str, str]:
    """A one-layer spec line for ``kind`` and an input it accepts."""
    line = {"conv1d": "conv1d 8 kernel=3", "maxpool1d": "maxpool1d 2", "avgpool1d": "avgpool1d 2"}.get(
        kind, EXAMPLES.get(kind, kind))
    return line, "20x6" if kind.endswith("1d") else "12x12x4"


def one_layer(line: str, input_shape: str = "12x12x4"):
    analysis = analyze(parse_spec(f'input = "{input_shape}"\nlayers = ["{line}"]'))
    layer = analysis.spec.leaves()[0]
    return KINDS[layer.kind], layer, analysis.inputs[layer.name], analysis.steps[layer.name]


EXAMPLES = {  # one small use of every built-in kind
    "conv": "conv 8 3x3 p1", "deconv": "deconv 8 4x4 s2 pad=1", "dwconv": "dwconv 3x3 p1", "sepconv": "sepconv 8 3x3 p1",
    "maxpool": "maxpool 2", "avgpool": "avgpool 2", "adaptiveavgpool": "adaptiveavgpool 3",
    "adaptivemaxpool": "adaptivemaxpool 3", "globalavgpool": "globalavgpool", "globalmaxpool": "globalmaxpool",
    "fc": "fc 10", "lrn": "lrn 3", "batchnorm": "batchnorm", "dropout": "dropout 0.5", "flatten": "flatten",
    "upsample": "upsample 2", "zeropad": "zeropad 1", "shortcut": "shortcut 8 stride=2",
    "channels": "channels 1 count=2", "shuffle": "shuffle 2", "stochasticdepth": "stochasticdepth 0.2",
    "local": "local 4 3x3", "subsample": "subsample 2", "rbf": "rbf 10", "opaque": "opaque Erf output=12x12x4",
}


@pytest.mark.parametrize("kind", sorted(KINDS), ids=sorted(KINDS))
def test_every_kind_answers_every_question(kind):
    """Shape, costs with their working, label, lowering, conventions, traits, backward memory, slips."""
    kind_object, layer, x, step = one_layer(*example(kind))
    assert isinstance(kind_object, LayerKind) and kind_object.name == kind and kind_object.summary
    assert step.shape and kind_object.label(layer)
    if step.macs.value:
        assert step.macs.text, "MACs computed without their working"
    if kind_object.opaque:  # an operator no kind reads: nothing to run, and it says so
        with pytest.raises(CapabilityError, match="no PyTorch lowering"):
            kind_object.torch_modules(layer, x)
        assert step.macs_unknown and step.params == 0
    else:
        assert kind_object.torch_modules(layer, x)
    for convention in ("fvcore", "ptflops", "thop", "keras", "archcalc"):
        kind_object.cost(convention, Usage(layer, x, step))
    assert set(kind_object.traits(layer, x)) <= set(kind_object.reports)
    for saved in kind_object.saved_for_backward(layer, x, step):
        assert saved.elements >= 0
    kind_object.slips(layer, x, step)


def test_a_kind_without_a_capability_says_which():
    class Bare(LayerKind):
        name = "bare"

    layer = one_layer("relu")[1]
    with pytest.raises(CapabilityError, match="'bare' has no PyTorch lowering"):
        Bare().torch_modules(layer, (4, 4, 1))
    with pytest.raises(CapabilityError, match="does not say what it saves"):
        Bare().saved_for_backward(layer, (4, 4, 1), None)


BYTES = {None: 4, "float32": 4, "int64": 8}  # float32 activations


@pytest.mark.parametrize("line, shape", [example(kind) for kind in sorted(KINDS) if not KINDS[kind].opaque] + [
    ("shortcut 8 stride=2 batchnorm=true", "12x12x4"), ("upsample 2 mode=bilinear", "12x12x4"),
    ("maxpool 3 s2 p1 ceil", "13x13x4"), ("deconv 4 3x3 s2 g2", "9x9x4"), ("conv 4 3x3 bias=unit", "12x12x4"),
    ("stochasticdepth 0.2 mode=batch", "12x12x4"), ("layernorm", "20x6"), ("layernorm", "30"),
    ("local 4 3x3 s2 p1 bias=true", "12x12x4")], ids=lambda value: value)
@pytest.mark.parametrize("batch", [1, 3])
def test_saved_for_backward_is_what_pytorch_saves(line, shape, batch):
    """What each kind says it keeps for the backward pass, against what PyTorch's autograd packs
    (torch.autograd.graph.saved_tensors_hooks; distinct storages; parameters and buffers excluded),
    on the CPU in training mode."""
    torch = pytest.importorskip("torch")
    from archcalc.lower.build import example_input, instantiate, plan

    kind, layer, x, step = one_layer(line, shape)
    example_spec = parse_spec(f'input = "{shape}"\nlayers = ["{line}"]')
    network = instantiate(plan(example_spec)).train()
    skip = {t.data_ptr() for t in list(network.parameters()) + list(network.buffers())}
    packed = {}

    def pack(tensor):
        if tensor.data_ptr() not in skip:
            packed[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        network(example_input(example_spec, batch).requires_grad_(True))
    declared = sum(s.elements * (batch if s.per_image else 1) * BYTES[s.dtype]
                   for s in kind.saved_for_backward(layer, x, step))
    assert declared == sum(packed.values())
