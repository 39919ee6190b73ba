"""Any DAG in a spec: layers that name their inputs and merges of named values (archcalc.graph).

The numbers are hand arithmetic written here, and execution: the Res2Net example of docs/spec.md
against a Res2Net bottleneck written by hand in PyTorch, given the same weights."""
from pathlib import Path

import pytest

import archcalc
from archcalc.engine import analysis_of
from archcalc.errors import SpecError
from archcalc.graph import graph_of
from archcalc.liveness import inference_memory
from archcalc.spec import load_spec, parse_spec

RES2NET = str(Path(__file__).parent.parent / "docs" / "examples" / "res2net_block.toml")

VOVNET_OSA = """
[model]
name = "osa"
title = "VoVNet-39's first OSA module (Lee et al. 2019, Table 1): five 3x3 convs, one concatenation"
[input]
shape = [56, 56, 128]
[blocks.osa]
params = ["c", "out"]
layers = [
  "c1: conv c 3x3 p1 nobias bn relu", "c2: conv c 3x3 p1 nobias bn relu", "c3: conv c 3x3 p1 nobias bn relu",
  "c4: conv c 3x3 p1 nobias bn relu", "c5: conv c 3x3 p1 nobias bn relu",
  "agg: concat input c1_relu c2_relu c3_relu c4_relu c5_relu",
  "conv 256 1x1 nobias bn relu",
]
[[layers]]
kind = "osa"
name = "stage2"
c = 128
out = 256
"""


@pytest.fixture(scope="module")
def res2net():
    return load_spec(RES2NET)


def test_res2net_counts_by_hand(res2net):
    analysis = analysis_of(res2net)
    conv1, kernel, conv3 = 256 * 104, 26 * 26 * 9, 104 * 256
    norms = 2 * (104 + 3 * 26 + 256)
    assert analysis.totals.params == conv1 + 3 * kernel + conv3 + norms == 72_376
    assert analysis.totals.macs == 56 * 56 * (conv1 + 3 * kernel + conv3) == 224_224_000
    rows = {row.name: row for row in analysis.rows}
    assert rows["block1/x3"].shape == (56, 56, 26) and rows["block1/x3"].memory == 0  # a view
    assert rows["block1/cat"].shape == (56, 56, 4 * 26)
    assert rows["block1/sum"].shape == (56, 56, 256)
    assert analysis.sources["block1/s3"] == ("block1/x3", "block1/k2_bn")  # the rows it reads (the relu folds)
    assert analysis.sources["block1/sum"] == ("block1/conv3_bn", "input")  # in the block, input is its input
    assert analysis.depth == 5  # conv1, k2, k3, k4, conv3 on the longest path


def test_res2net_receptive_field_is_the_longest_path(res2net):
    """y4 = K4(x4 + K3(x3 + K2(x2))): three 3x3 convs in a row, a 7x7 field (the paper's point)."""
    rows = {row.name: row for row in analysis_of(res2net).rows}
    assert rows["block1/k2"].rf[0].size == 3
    assert rows["block1/k4"].rf[0].size == 7
    assert rows["block1/cat"].rf[0].size == 7


def test_vovnet_one_shot_aggregation_by_hand():
    analysis = analysis_of(parse_spec(VOVNET_OSA))
    rows = {row.name: row for row in analysis.rows}
    assert rows["stage2/agg"].shape == (56, 56, 128 + 5 * 128)
    convs = 5 * 128 * 128 * 9 + 768 * 256
    norms = 2 * (5 * 128 + 256)
    assert analysis.totals.params == convs + norms
    assert analysis.totals.macs == 56 * 56 * convs


def test_a_named_input_must_exist_and_come_before():
    base = 'input = "8x8x3"\nlayers = ["conv1: conv 4 3x3 p1", "conv2: conv 4 3x3 p1", {line}]'
    with pytest.raises(SpecError) as typo:
        parse_spec(base.format(line='"last: conv 4 1x1 inputs=cnov1"'), "typo.toml")
    assert typo.value.location.field == "inputs" and "conv1" in str(typo.value) and "typo.toml" in str(typo.value)
    with pytest.raises(SpecError, match="no earlier layer"):
        parse_spec('input = "8x8x3"\nlayers = ["conv1: conv 4 3x3 p1 inputs=conv2", "conv2: conv 4 3x3 p1"]')
    with pytest.raises(SpecError, match="two or more"):
        parse_spec(base.format(line='"add conv1"'))
    with pytest.raises(SpecError, match="reads one value"):
        parse_spec(base.format(line='{kind = "conv", filters = 4, kernel = 1, inputs = ["conv1", "conv2"]}'))
    with pytest.raises(SpecError, match="merges of named inputs: concat, add, multiply"):
        parse_spec(base.format(line='{kind = "sum", inputs = ["conv1", "conv2"]}'))


def test_a_merge_of_named_inputs_checks_its_shapes():
    from archcalc.errors import ShapeError

    spec = parse_spec('input = "8x8x3"\nlayers = ["conv1: conv 4 3x3 p1", "conv2: conv 5 3x3 p1", "add conv1 conv2"]')
    with pytest.raises(ShapeError, match="8x8x4.*8x8x5|branch 2"):
        analysis_of(spec)


def test_the_graph_of_branches_is_the_graph_of_named_inputs():
    """The sugar and the general form give the same graph and the same numbers."""
    branches = parse_spec('input = "8x8x3"\nlayers = ["conv1: conv 4 3x3 p1", '
                          '{name = "res", add = [["conv 4 3x3 p1", "conv 4 3x3 p1"], []]}]')
    named = parse_spec('input = "8x8x3"\nlayers = ["conv1: conv 4 3x3 p1", "a: conv 4 3x3 p1", "b: conv 4 3x3 p1", '
                       '"res: add b conv1"]')
    assert [len(n.inputs) for n in branches.graph.nodes] == [len(n.inputs) for n in named.graph.nodes]
    one, two = analysis_of(branches), analysis_of(named)
    assert (one.totals, one.depth, one.rows[-1].shape) == (two.totals, two.depth, two.rows[-1].shape)
    assert inference_memory(one).peak_bytes == inference_memory(two).peak_bytes


def test_values_are_let_go_after_their_last_reader(res2net):
    graph = graph_of(res2net.layers)
    released = {name: node.name for node in graph.nodes for name in node.releases}
    assert released["block1/x1"] == "block1/cat"  # y1 = x1 waits for the concatenation
    assert released["block1/k2_relu"] == "block1/cat"
    assert "input" not in released and graph.output not in released


# --- execution ---------------------------------------------------------------------------------


def _hand_written_res2net(torch):
    """The Res2Net bottleneck of Gao et al. (2019, Fig. 2) as one would write it in PyTorch."""
    nn = torch.nn

    class Res2NetBottleneck(nn.Module):
        def __init__(self, channels=256, width=26, scale=4):
            super().__init__()
            self.width = width
            self.conv1 = nn.Conv2d(channels, width * scale, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width * scale)
            self.convs = nn.ModuleList()
            for _ in range(scale - 1):
                self.convs.append(nn.Conv2d(width, width, 3, padding=1, bias=False))
                self.convs.append(nn.BatchNorm2d(width))
            self.conv3 = nn.Conv2d(width * scale, channels, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            splits = torch.split(out, self.width, dim=1)
            ys, y = [splits[0]], None
            for i in range(1, len(splits)):
                sp = splits[i] if y is None else splits[i] + y
                y = torch.relu(self.convs[2 * i - 1](self.convs[2 * i - 2](sp)))
                ys.append(y)
            return torch.relu(self.bn3(self.conv3(torch.cat(ys, dim=1))) + x)

    return Res2NetBottleneck()


def test_res2net_runs_as_the_hand_written_module(res2net):
    torch = pytest.importorskip("torch")
    from archcalc.lower.build import build, example_input

    ours = build(res2net)
    theirs = _hand_written_res2net(torch).eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters()) == 72_376
    for mine, hand in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        assert mine.shape == hand.shape
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for tensor in ours.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
    theirs.load_state_dict(dict(zip(theirs.state_dict(), ours.state_dict().values())))
    x = example_input(res2net, 2)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), rtol=1e-4, atol=1e-4)


def test_res2net_verifies_and_holds_what_the_model_says(res2net):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from archcalc.lower.measure import measure_inference
    from archcalc.lower.verify import verify

    report = verify(res2net)
    assert report.ok, report.record()
    analysis = analysis_of(res2net)
    assert measure_inference(res2net, 2, analysis).peak_bytes == inference_memory(analysis, 2).peak_bytes


def test_a_training_step_on_a_dag_is_what_pytorch_holds():
    pytest.importorskip("torch")
    from archcalc.liveness import training_memory
    from archcalc.lower.measure import measure_training_step

    spec = parse_spec(VOVNET_OSA.replace("[56, 56, 128]", "[12, 12, 16]").replace("c = 128", "c = 8")
                      + '[[layers]]\nkind = "fc"\nunits = 10\n')  # class scores, for the cross entropy
    analysis = analysis_of(spec)
    measured = measure_training_step(spec, 2, analysis=analysis)
    model = training_memory(analysis, 2)
    assert model.saved_bytes == measured.saved_bytes and model.peak_phase == measured.peak_phase
    assert abs(model.peak_bytes / measured.peak_bytes - 1) < 0.05  # as test_memory asks of every network


def test_the_compact_syntax_reads_named_inputs():
    spec = archcalc.load(input="8x8x3", layers="a: conv 4 3x3 p1; b: conv 4 3x3 p1; c: conv 4 1x1 inputs=a; "
                                               "j: concat b c")
    rows = {row.name: row for row in analysis_of(spec).rows}
    assert rows["c"].shape == (8, 8, 4) and rows["j"].shape == (8, 8, 8)
    assert spec.graph.node("c").inputs == ("a",)


def test_a_graph_that_is_not_a_tree_imports_with_named_inputs(tmp_path):
    """The importer used to stop at Res2Net's hierarchical adds ("reads activations from outside the
    branches"); it now writes each layer's inputs, and the numbers are the hand arithmetic's."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    import warnings

    from archcalc.importing import import_onnx

    path = tmp_path / "res2net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_hand_written_res2net(torch).eval(), (torch.randn(1, 256, 56, 56),), str(path),
                          dynamo=False, do_constant_folding=False)
    imported = import_onnx(path)
    assert "not a tree of branches" in imported.text and "inputs=" in imported.text
    spec = parse_spec(imported.text, str(path))
    analysis = analysis_of(spec)
    assert analysis.totals.params == 72_376 and analysis.totals.macs == 224_224_000
    assert analysis.rows[-1].shape == (56, 56, 256)
    from archcalc.lower.verify import verify

    assert verify(spec, with_onnx=False).ok


def test_densenet_as_torchvision_runs_it_holds_what_torchvision_holds():
    """The one gap of the memory model was DenseNet: the paper's chain of concatenations holds 18.9%
    less than torchvision's model, which concatenates every earlier map again for each layer. The
    same network declared as that graph gives what torchvision holds, to the byte."""
    torch = pytest.importorskip("torch")
    from torchvision_models import location, reference

    if location() is None:
        pytest.skip("no copy of torchvision's model files (see tests/torchvision_models.py)")
    from archcalc.lower.measure import _tracker_class

    model, _ = reference("densenet121")
    x = torch.randn(1, 3, 224, 224)
    tracker = _tracker_class()({t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]})
    tracker.register(x)
    with torch.no_grad(), tracker:
        model(x)
    spec = load_spec(str(Path(RES2NET).parent / "densenet121_torchvision.toml"))
    analysis = analysis_of(spec)
    assert analysis.totals.params == sum(p.numel() for p in model.parameters())
    assert inference_memory(analysis).peak_bytes == tracker.peak
    chain = inference_memory(analysis_of(load_spec("densenet121"))).peak_bytes
    assert round(100 * (1 - chain / tracker.peak), 1) == 18.9


@pytest.mark.parametrize("name", __import__("archcalc.spec", fromlist=["x"]).shipped_spec_names())
def test_every_shipped_network_written_back_from_its_graph_reads_as_the_same_network(name):
    """graph -> TOML (every layer in order, named inputs, no blocks) -> graph: the same layers with the
    same sizes, parameters and MACs, the same totals and depth."""
    from archcalc.importing.writer import graph_text

    spec = load_spec(name)
    again = parse_spec(graph_text(spec), f"{name} written back")
    one, two = analysis_of(spec), analysis_of(again)
    assert (one.totals, one.depth, one.conv_depth) == (two.totals, two.depth, two.conv_depth)
    steps = {layer_name.split("/")[-1]: step for layer_name, step in two.steps.items()}
    for layer_name, step in one.steps.items():
        other = steps[layer_name.replace("/", ".")]
        assert (step.shape, step.weights.value, step.biases.value, step.macs.value) == (
            other.shape, other.weights.value, other.biases.value, other.macs.value), layer_name
    assert len(one.steps) == len(two.steps)


def test_a_plugins_merge_is_an_entry_at_once_and_is_not_lowered_by_guessing(monkeypatch):
    from archcalc.errors import LoweringError
    from archcalc.layers import MERGES, MergeKind
    from archcalc.layers.base import Step
    from archcalc.lower.build import plan

    class Maximum(MergeKind):
        name = "maximum"
        summary = "element-wise maximum"

        def combine(self, name, location, outputs, assumptions):
            return Step(shape=outputs[0], label="MAX")

    monkeypatch.setitem(MERGES, "maximum", Maximum())
    spec = parse_spec('input = "8x8x3"\nlayers = ["a: conv 4 3x3 p1", "b: conv 4 3x3 p1", "m: maximum a b"]')
    assert analysis_of(spec).rows[-1].shape == (8, 8, 4)
    with pytest.raises(LoweringError, match="no PyTorch lowering"):
        plan(spec)
