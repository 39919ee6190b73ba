"""Import of real models (ONNX files and live PyTorch modules), checked against the shipped specs
(whose numbers are checked elsewhere against papers and execution), against torchvision's
published parameter and GFLOPS figures, against hand arithmetic, and against what PyTorch itself
counts in the module."""
from collections import Counter

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from click.testing import CliRunner  # noqa: E402

from archcalc import analyze, from_torch, load  # noqa: E402
from archcalc.cli import main  # noqa: E402
from archcalc.errors import ArchcalcError  # noqa: E402
from archcalc.importing import import_onnx  # noqa: E402
from archcalc.importing.convert import UnsupportedGraph  # noqa: E402
from archcalc.spec import parse_spec, shipped_spec_names  # noqa: E402
from torchvision_models import location, reference  # noqa: E402
from sweeps import sweep

# Shipped specs whose exported graph archcalc cannot read back, and why (each asserted below):
# LeNet's sparse connection tables and trainable subsampling become Gathers and products.
NOT_READ = {"lecun1989": "Gather", "lenet5_1998": "Gather"}
# Auxiliary classifiers run only in training: an inference export leaves them out
WITHOUT_SIDE_OUTPUTS = {"googlenet_aux": "googlenet"}
ROUND_TRIP = [name for name in shipped_spec_names() if name not in NOT_READ]
SMALL = "64x64x3"  # the round trip checks rules, not sizes: the larger networks are exported at 64x64


def spec_at_small_size(name: str):
    try:
        model = load(name, SMALL)
        analyze(model)
        return model
    except ArchcalcError:
        return load(name)


def exported(model, tmp_path, weights: bool = False):
    """The spec's ONNX export; without weights unless asked (the structure is the same, and VGG's
    528 MB of weights cost 20 s to write)."""
    from archcalc.lower.export import write_onnx

    path = tmp_path / f"{model.name}.onnx"
    write_onnx(model, str(path), weights=weights)
    return path


def weighted_rows(result) -> Counter:
    """The parameters that make each output shape: per-layer figures whatever the names, and whether a
    projection shortcut's batch norm is a row of its own (ONNX) or part of the shortcut's row (spec)."""
    found: Counter = Counter()
    for row in result.rows:
        if row.params:
            found[row.shape] += row.params
    return found


@pytest.mark.parametrize("name", sweep(ROUND_TRIP))
def test_round_trip_through_onnx(name, tmp_path):
    """export --onnx, then the ONNX file and the spec written from it give the spec's own params,
    MACs and per-layer shapes."""
    model = spec_at_small_size(name)
    try:
        path = exported(model, tmp_path)
    except Exception:  # adaptive pooling to a larger map than 64x64 leaves does not export
        model = load(name)
        path = exported(model, tmp_path)
    original = analyze(load(WITHOUT_SIDE_OUTPUTS[name], model.input_shape) if name in WITHOUT_SIDE_OUTPUTS else model)
    from_file = analyze(str(path))
    if name == "inception_v3":
        # its auxiliary head, by hand (Szegedy et al. 2015, torchvision's InceptionAux): a 1x1 conv 768 -> 128 and
        # a 5x5 conv 128 -> 768 without biases, each with a batch norm, and an fc 768 -> 1000
        head = 768 * 128 + 2 * 128 + 5 * 5 * 128 * 768 + 2 * 768 + 768 * 1000 + 1000
        assert head == 3_326_696
        assert original.totals.params - head == from_file.totals.params
        assert original.totals.macs == from_file.totals.macs  # training-only MACs are not in the totals
        return
    imported = import_onnx(path)
    rewritten = analyze(parse_spec(imported.text, "imported.toml"))
    for result in (from_file, rewritten):
        assert (result.totals.params, result.totals.macs) == (original.totals.params, original.totals.macs)
        assert weighted_rows(result) == weighted_rows(original)
    assert imported.parameter_values == original.totals.params  # the initializers the layers use, counted by onnx


@pytest.mark.parametrize("name", sorted(NOT_READ))
def test_what_is_not_read_is_named(name, tmp_path):
    """Strict: an error naming each operator and node. Otherwise the operators are opaque rows, named in
    a warning, and the MACs are "at least"."""
    path = exported(spec_at_small_size(name), tmp_path)
    with pytest.raises(UnsupportedGraph) as raised:
        import_onnx(path, strict=True)
    message = str(raised.value)
    assert f"{NOT_READ[name]} (node '/" in message
    result = analyze(str(path))
    assert result.macs_unknown and f"{NOT_READ[name]} (" in result.warnings[-1]
    assert "TOTAL MACs: at least" in result.render()


def test_resnet18_reads_like_a_spec_with_blocks(tmp_path):
    """Repeated blocks become [blocks.*] with parameters: the basic block twice (with and without the
    projection shortcut), used 8 times, not 60 flat lines."""
    text = import_onnx(exported(load("resnet18"), tmp_path)).text
    layers = text.split("layers = [", 1)[1].split("]\n", 1)[0].strip().splitlines()
    assert len(layers) == 13 and text.count("[blocks.") == 2
    assert '"conv1: conv 64 7x7 s2 p3 nobias bn relu"' in text
    assert '"conv2_1: conv_block 64"' in text and '"conv3_1: conv_block2 128"' in text


torchvision_present = pytest.mark.skipif(location() is None, reason="no copy of torchvision's model files")
TORCHVISION = ["alexnet", "vgg16", "googlenet", "resnet18", "resnext50_32x4d", "squeezenet1_0", "densenet121",
               "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0",
               "regnet_y_400mf", "convnext_tiny"]


SHIPPED_AS = {"alexnet": "alexnet_torchvision", "googlenet": "googlenet_torchvision"}


@torchvision_present
@pytest.mark.parametrize("name", sweep(TORCHVISION))
def test_torchvision_models_agree_with_their_published_counts(name):
    """from_torch on torchvision's own module: its documented num_params and GFLOPS (multiply-adds),
    the parameters PyTorch counts in the module, and the shipped spec's parameters and MACs."""
    model, meta = reference(name)
    result = from_torch(model, input="224x224x3")
    shipped = analyze(SHIPPED_AS.get(name, name), "224x224x3")
    assert (result.totals.params, result.totals.macs) == (shipped.totals.params, shipped.totals.macs)
    assert result.totals.params == meta["num_params"]
    if name != "googlenet":  # its auxiliary classifiers run only in training: not in an eval export, nor in num_params
        assert result.totals.params == sum(p.numel() for p in model.parameters())
    assert round(result.totals.macs / 1e9, 3) == meta["_ops"]


@torchvision_present
def test_torchvision_inception_v3_without_its_training_only_head():
    """Inception v3's auxiliary classifier runs only in training: an eval export leaves it out, and
    its parameters (counted by hand) are the difference from the documented total."""
    model, meta = reference("inception_v3")
    result = from_torch(model, input="299x299x3")
    head = 768 * 128 + 2 * 128 + 5 * 5 * 128 * 768 + 2 * 768 + 768 * 1000 + 1000
    assert result.totals.params == meta["num_params"] - head
    assert round(result.totals.macs / 1e9, 3) == meta["_ops"]


@torchvision_present
def test_torchvision_resnet18_agrees_with_the_shipped_spec_layer_by_layer():
    model, _ = reference("resnet18")
    assert weighted_rows(from_torch(model, input="224x224x3")) == weighted_rows(analyze("resnet18"))


def test_batch_norms_folded_by_the_exporter_are_stated(tmp_path):
    """torch.onnx.export's default folds each batch norm into the conv before it: the conv gains a
    bias of C and the batch norm's 2C go. archcalc finds the fold (the kernels become new initializers
    named onnx::Conv_<n>), restores the batch norms and says so; `as_exported` counts the file as it
    stands. Hand arithmetic over the spec's layers."""
    model = load("resnet18")
    from archcalc.lower.build import build, example_input

    path = tmp_path / "folded.onnx"
    torch.onnx.export(build(model), (example_input(model, 1),), str(path), dynamo=False)
    # batch-norm channels: conv1 64; two per basic block, 2 blocks at each of 64, 128, 256, 512; the three
    # projection shortcuts 128 + 256 + 512
    channels = 64 + 2 * 2 * (64 + 128 + 256 + 512) + 128 + 256 + 512
    assert channels == 4_800
    imported = import_onnx(path)
    restored = analyze(parse_spec(imported.text, "restored.toml"))
    assert restored.totals.params == 11_689_512  # torchvision's count
    assert any("folded 20 batch norms" in note for note in imported.notes)
    assert any("folded 20 batch norms" in note for note in restored.notes)  # said on the table too
    # ONNX floors (W - F + 2P)/S + 1 by definition: the table says so, not that "the spec" intends it
    floored = [note for note in restored.notes if "floor keeps" in note]
    assert floored and all("ONNX defines" in note and "the spec" not in note for note in floored)
    as_stored = import_onnx(path, as_exported=True)
    assert analyze(parse_spec(as_stored.text, "folded.toml")).totals.params == 11_689_512 - 2 * channels + channels
    assert any("as the file stands" in note for note in as_stored.notes)


class ConvNormHead(torch.nn.Module if torch else object):
    """conv 3->8 3x3 p1 without bias, batch norm, ReLU, conv 8->4 3x3 p1 with a bias, global average
    pool, fc 4->10. Parameters by hand: 8*3*9 = 216; 2*8 = 16; 4*8*9 + 4 = 292; 4*10 + 10 = 50: 574.
    MACs on 16x16: 16*16*8*27 = 55,296; 16*16*4*72 = 73,728; 40: 129,064."""

    def __init__(self, trained: bool):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 10)
        with torch.no_grad():
            if trained:  # statistics and affine values away from their initial ones
                for tensor in (self.bn1.weight, self.bn1.bias, self.bn1.running_mean):
                    tensor.uniform_(0.5, 1.5)
                self.bn1.running_var.uniform_(1.0, 2.0)
            else:  # as timm initialises: biases of zeros, which exporters may drop
                self.conv2.bias.zero_()
                self.fc.bias.zero_()
        self.eval()

    def forward(self, x):
        x = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("trained", [False, True], ids=["untrained", "trained"])
def test_folds_of_both_exporters_are_undone(tmp_path, dynamo, trained):
    """Both exporters at their defaults, with trained and untrained weights: the model as written is
    counted (574 parameters, 129,064 MACs by hand, and as PyTorch counts the module). As the file stands:
    the fold gives conv1 a bias of 8 and takes the batch norm's 16 (566), and the dynamo exporter also
    drops biases whose values are zero (untrained: conv1's folded bias, conv2's 4 and fc's 10: 544)."""
    import warnings

    module = ConvNormHead(trained)
    assert sum(p.numel() for p in module.parameters()) == 574
    path = tmp_path / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 3, 16, 16),), str(path), dynamo=dynamo)
    result = analyze(str(path))
    assert (result.totals.params, result.totals.macs) == (574, 129_064)
    assert [row.params for row in result.rows if row.params] == [216, 16, 292, 50]
    as_stored = analyze(str(path), as_exported=True)
    assert as_stored.totals.params == (544 if dynamo and not trained else 566)
    # the rows keep the modules' names (the dynamo exporter records them in each node's metadata, and
    # names the folded conv's node after the batch norm); the restored batch norm follows its conv
    assert [row.name for row in result.rows if row.params] == ["conv1", "conv1_bn", "conv2", "fc"]


def test_import_then_verify_passes(tmp_path):
    from archcalc import verify

    onnx_path, bare_path = tmp_path / "mobilenet.onnx", tmp_path / "bare.onnx"
    runner = CliRunner()
    for extra, path in (([], onnx_path), (["--no-weights"], bare_path)):
        exported_ = runner.invoke(main, ["export", "mobilenet_v2", "--input", SMALL, "--onnx", str(path), *extra])
        assert exported_.exit_code == 0, exported_.output
    assert bare_path.stat().st_size < onnx_path.stat().st_size / 20
    with_weights = import_onnx(onnx_path)
    assert with_weights.parameter_values == 3_504_872  # torchvision's documented count for MobileNet v2
    # running mean and variance of every batch norm: the paper's Table 2 (t, c, n, s), a batch norm after
    # the stem, after each block's expansion (t > 1), depthwise and projection, and after the last conv
    channels, c_in = 32, 32
    for t, c, n, _ in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for _ in range(n):
            channels += (t * c_in if t > 1 else 0) + t * c_in + c
            c_in = c
    assert with_weights.buffer_values == 2 * (channels + 1280)
    spec_path = tmp_path / "mobilenet.toml"
    result = CliRunner().invoke(main, ["import", str(onnx_path), "-o", str(spec_path)])
    assert result.exit_code == 0, result.output
    assert verify([str(spec_path)], no_onnx=True).ok


def test_symbolic_input_where_the_graph_allows(tmp_path):
    text = import_onnx(exported(load("resnet18"), tmp_path), input="HxWx3").text
    assert 'input = ["H", "W", 3]' in text
    result = analyze(parse_spec(text, "r.toml"))
    assert result.totals.params == 11_689_512  # torchvision's documented count: the fc reads a pooled vector


def test_frozen_and_shared_modules_from_torch():
    """A module used twice shares its parameters (counted once, as PyTorch does); frozen parameters
    are not trainable."""
    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(8, 8, 3, padding=1)
            self.head = torch.nn.Linear(8 * 16 * 16, 10)
            self.head.requires_grad_(False)

        def forward(self, x):
            return self.head(torch.flatten(self.conv(self.conv(x)), 1))

    module = Twice()
    result = from_torch(module, input="16x16x8")
    assert result.totals.params == sum(p.numel() for p in module.parameters()) == 3 * 3 * 8 * 8 + 8 + 2048 * 10 + 10
    assert result.totals.trainable_params == 3 * 3 * 8 * 8 + 8
    assert result.totals.macs == 2 * (16 * 16 * 8 * 72) + 2048 * 10


def onnx_model(nodes, initializers=(), input_shape=(1, 3, 8, 8), output="y"):
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def weight(name, dims):
    from onnx import TensorProto, helper

    count = 1
    for d in dims:
        count *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.5] * count)


def test_unsupported_operators_are_named_with_their_nodes(tmp_path):
    from onnx import helper

    model = onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv_a", kernel_shape=[3, 3]),
                        helper.make_node("Erf", ["c"], ["e"], name="my_erf"),
                        helper.make_node("Cos", ["e"], ["y"], name="my_cos")], [weight("w", [4, 3, 3, 3])])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    result = CliRunner().invoke(main, ["table", str(path), "--strict"])
    assert result.exit_code == 2
    assert "Erf (node 'my_erf')" in result.output and "Cos (node 'my_cos')" in result.output
    assert "Traceback" not in result.output


def test_an_operator_no_kind_reads_is_an_opaque_row(tmp_path):
    """Nothing fails whole: Erf and Cos become rows with the sizes shape inference gives and MACs unknown
    (shown as ?, the total "at least"); the conv is counted as ever: 4*3*3*3 = 108 parameters (no bias),
    6*6*4*27 = 3,888 MACs on 8x8. A Mul by a learned tensor [4, 1, 1] counts its 4 values as parameters;
    the constant 0.5 (a single value the exporter named) does not."""
    from onnx import helper, numpy_helper
    import numpy as np

    model = onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv_a", kernel_shape=[3, 3]),
                        helper.make_node("Erf", ["c"], ["e"], name="my_erf"),
                        helper.make_node("Cos", ["e"], ["k"], name="my_cos"),
                        helper.make_node("Pow", ["k", "gain"], ["p"], name="my_pow"),
                        helper.make_node("Pow", ["p", "onnx::Pow_7"], ["y"], name="my_pow2")],
                       [weight("w", [4, 3, 3, 3]), weight("gain", [4, 1, 1])])
    model.graph.initializer.append(numpy_helper.from_array(np.array(0.5, dtype=np.float32), "onnx::Pow_7"))
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    result = analyze(str(path))
    assert [(row.name, row.shape, row.params, row.macs) for row in result.rows[1:]] == [
        ("conv_a", (6, 6, 4), 108, 3_888), ("my_erf", (6, 6, 4), 0, 0), ("my_cos", (6, 6, 4), 0, 0),
        ("my_pow", (6, 6, 4), 4, 0), ("my_pow2", (6, 6, 4), 0, 0)]
    assert result.macs_unknown == ("my_erf", "my_cos", "my_pow", "my_pow2")
    shown = CliRunner().invoke(main, ["table", str(path)])
    assert shown.exit_code == 0 and "TOTAL MACs: at least 3888" in shown.output
    assert "Erf (my_erf)" in shown.output and "Cos (my_cos)" in shown.output  # the warning names them
    assert "Erf (opaque)" in shown.output


def test_a_hand_made_graph_counts_as_hand_arithmetic(tmp_path):
    """Pad 1 + Conv 3x3 (one conv with pad 1), ReLU, a 2x2 max pool, Flatten, Gemm."""
    from onnx import helper

    model = onnx_model([
        helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="constant"),
        helper.make_node("Conv", ["p", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["m"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["m"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)],
        [weight("w", [4, 3, 3, 3]), weight("b", [4]), weight("fw", [10, 64]), weight("fb", [10]),
         onnx.helper.make_tensor("pads", onnx.TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])])
    path = tmp_path / "hand.onnx"
    onnx.save(model, str(path))
    result = analyze(str(path))
    assert result.totals.params == 3 * 3 * 3 * 4 + 4 + 64 * 10 + 10
    assert result.totals.macs == 8 * 8 * 4 * 27 + 64 * 10
    assert [row.shape for row in result.rows if row.params] == [(8, 8, 4), (10,)]


@pytest.mark.parametrize("content, expected", [
    (b"\x00\x01garbage", "not an ONNX model"),
    (b"", "not an ONNX model"),
])
def test_malformed_files_exit_2(tmp_path, content, expected):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_hostile_declared_sizes_exit_2_without_allocating(tmp_path):
    """A weight that declares 10^14 values (and holds none), and an input of 10^9 x 10^9."""
    from onnx import TensorProto, helper

    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[10_000_000, 10_000_000, 1, 1])  # no data at all
    model = onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[1, 1])], [huge])
    path = tmp_path / "huge.onnx"
    onnx.save(model, str(path))
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2 and "absurd" in result.output
    model = onnx_model([helper.make_node("Relu", ["x"], ["y"], name="r")], input_shape=(1, 3, 10 ** 9, 10 ** 9))
    onnx.save(model, str(path))
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_graph_out_of_order_exits_2(tmp_path):
    from onnx import helper

    model = onnx_model([helper.make_node("Relu", ["r"], ["y"], name="second"),
                        helper.make_node("Relu", ["x"], ["r"], name="first")])
    path = tmp_path / "loop.onnx"
    onnx.save(model, str(path), )
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 2 and "out of order" in result.output


def test_import_refuses_to_overwrite_and_writes_nothing_on_error(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"junk")
    target = tmp_path / "out.toml"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(target)])
    assert result.exit_code == 2 and not target.exists()


@pytest.mark.parametrize("auto_pad, pads", [("SAME_UPPER", None), ("SAME_LOWER", None), ("NOTSET", [0, 1, 2, 1]),
                                            ("VALID", None)])
def test_padding_forms_agree_with_onnxruntime(tmp_path, auto_pad, pads):
    """auto_pad and uneven pads: archcalc's output size equals what onnxruntime computes."""
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import helper

    attributes = {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": auto_pad}
    if pads:
        attributes["pads"] = pads
    model = onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attributes)],
                       [weight("w", [4, 3, 3, 3])], input_shape=(1, 3, 9, 8))
    path = tmp_path / "pads.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"x": np.zeros((1, 3, 9, 8), dtype=np.float32)})
    row = analyze(str(path)).rows[-1]
    assert row.shape == (output.shape[2], output.shape[3], output.shape[1])


@pytest.mark.parametrize("op, attributes", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "dilations": [2, 2]}),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1,
                     "count_include_pad": 1}),
    ("AveragePool", {"kernel_shape": [3, 3]}),  # ONNX's stride defaults to 1, PyTorch's to the kernel
])
def test_pooling_forms_agree_with_onnxruntime(tmp_path, op, attributes):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import helper

    model = onnx_model([helper.make_node(op, ["x"], ["y"], name="pool", **attributes)], input_shape=(1, 3, 9, 8))
    path = tmp_path / "pool.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"x": np.zeros((1, 3, 9, 8), dtype=np.float32)})
    assert analyze(str(path)).rows[-1].shape == (output.shape[2], output.shape[3], output.shape[1])


def test_a_split_is_read_as_channel_ranges(tmp_path):
    """Split 3 channels into 1 + 2, a conv on the second part, concatenated again (ShuffleNet's
    pattern): the shapes against onnxruntime, the parameters by hand."""
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import helper

    sizes = helper.make_tensor("sizes", onnx.TensorProto.INT64, [2], [1, 2])
    model = onnx_model([helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="split", axis=1),
                        helper.make_node("Conv", ["b", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
                        helper.make_node("Concat", ["a", "c"], ["y"], name="cat", axis=1)],
                       [weight("w", [5, 2, 1, 1]), sizes])
    path = tmp_path / "split.onnx"
    onnx.save(model, str(path))
    (output,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": np.zeros((1, 3, 8, 8), dtype=np.float32)})
    result = analyze(str(path))
    assert result.rows[-1].shape == (output.shape[2], output.shape[3], output.shape[1]) == (8, 8, 6)
    assert result.totals.params == 2 * 5
    assert "channels 1 count=2" in import_onnx(path).text


class SamePadded(torch.nn.Module if torch else object):
    """TensorFlow's SAME padding as timm's tf_ ports compute it, from the input's size at run time:
    total = max((ceil(W/S) - 1)*S + (F - 1)*D + 1 - W, 0), the odd one at the bottom and right. Two
    stride-2 3x3 convs on 15x15: (8-1)*2 + 3 - 15 = 2 -> [1, 1], 8x8; (4-1)*2 + 3 - 8 = 1 -> [0, 1], 4x4.
    Parameters 4*3*9 + 4 = 112 and 8*4*9 + 8 = 296; MACs 8*8*4*27 = 6,912 and 4*4*8*36 = 4,608."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, stride=2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, stride=2)

    @staticmethod
    def same(x, kernel: int, stride: int):
        import math

        pads = []
        for size in (x.shape[-1], x.shape[-2]):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return torch.nn.functional.pad(x, pads)

    def forward(self, x):
        return self.conv2(self.same(self.conv1(self.same(x, 3, 2)), 3, 2))


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_tensorflow_same_padding_computed_at_run_time(tmp_path, dynamo):
    """The pads are Ceil/Sub/Clip arithmetic over the sizes; each round of onnx's shape inference
    gives the sizes the next pad needs. The pads fold into the convs, as the docstring's arithmetic says."""
    import warnings

    path = tmp_path / "same.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(SamePadded().eval(), (torch.randn(1, 3, 15, 15),), str(path), dynamo=dynamo)
    result = analyze(str(path))
    assert [row.shape for row in result.rows[1:]] == [(8, 8, 4), (4, 4, 8)]
    assert [(row.params, row.macs) for row in result.rows[1:]] == [(112, 6_912), (296, 4_608)]


@pytest.mark.parametrize("opset", [17, 20])
def test_gelu_in_its_erf_form_is_one_gelu(tmp_path, opset):
    """Before opset 20 the TorchScript exporter writes GELU as Div, Erf, Add, Mul, Mul; from 20 as Gelu.
    Either way one activation row (folded into the conv's), and nothing else: conv 3->4 3x3 on 8x8,
    4*27 + 4 = 112 parameters, 6*6*4*27 = 3,888 MACs."""
    import warnings

    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.GELU()).eval()
    path = tmp_path / "gelu.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 3, 8, 8),), str(path), dynamo=False, opset_version=opset)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert ("Erf" in ops) == (opset < 20)
    result = analyze(str(path))
    assert [(row.label, row.folded) for row in result.rows[1:]] == [("CONV3-4", ("gelu",))]
    assert (result.totals.params, result.totals.macs) == (112, 3_888)


ZOO_EXPORTS = ("alexnet", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121",
               "squeezenet1_0", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0",
               "mnasnet1_0", "efficientnet_b0", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny")


def randomised_statistics(model):
    """A stand-in for trained weights: every batch norm's scale, shift and running statistics away from
    their initial ones and zeros, so nothing folds to zeros and no two tensors are equal."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor in (module.weight, module.bias, module.running_mean):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 1.0)
    return model


@pytest.mark.slow
@torchvision_present
@pytest.mark.parametrize("trained", [False, True], ids=["untrained", "trained"])
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", ZOO_EXPORTS)
def test_torchvision_files_of_both_exporters_read_exactly(tmp_path, name, dynamo, trained):
    """torchvision's classification zoo exported by each exporter at its defaults (batch norms folded,
    equal tensors stored once, the dynamo exporter's rewrites), at 64x64 (AlexNet at 224x224):
    parameters and MACs equal to PyTorch's count of the model itself (FlopCounterMode's FLOPs halved)."""
    import warnings

    from test_zoo import executed_counts

    model, _ = reference(name)
    model = randomised_statistics(model) if trained else model
    size = 224 if name == "alexnet" else 64  # AlexNet's adaptive pool to 6x6 exports only from whole multiples
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(1, 3, size, size),), str(path), dynamo=dynamo)
    result = analyze(str(path))
    params, _, macs = executed_counts(model, size)
    assert (result.totals.params, result.totals.macs) == (params, macs)
    assert not result.macs_unknown


def test_learned_layer_scales_are_not_written_as_their_initial_value(tmp_path):
    """A trained layer scale holds learned factors, negative ones too: the import writes the default
    initial value (1e-6) rather than one learned factor, which the spec's own field would reject, and
    counts the C factors: conv 3->4 1x1 on 4x4 (4*3 + 4 = 16) and 4 scales."""
    from onnx import helper, numpy_helper
    import numpy as np

    model = onnx_model([helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[1, 1]),
                        helper.make_node("Mul", ["c", "gamma"], ["y"], name="ls")],
                       [weight("w", [4, 3, 1, 1]), weight("b", [4])], input_shape=(1, 3, 4, 4))
    model.graph.initializer.append(numpy_helper.from_array(np.array([[[-0.0779]], [[0.5]], [[1.5]], [[-2.0]]],
                                                                    dtype=np.float32), "gamma"))
    path = tmp_path / "scaled.onnx"
    onnx.save(model, str(path))
    imported = import_onnx(path)
    assert "-0.0779" not in imported.text
    assert analyze(str(path)).totals.params == 16 + 4


def test_a_sum_with_zero_passes_the_activations_on(tmp_path):
    """MobileOne sums its branches from ``out = 0``: the exporter writes x + 0, which is x (no row); a
    learned scalar that happens to start at 0 is not a constant and stays (an opaque row, its 1 value a
    parameter). Conv 3->4 1x1 on 4x4 with a bias: 16 parameters."""
    from onnx import helper, numpy_helper
    import numpy as np

    model = onnx_model([helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[1, 1]),
                        helper.make_node("Add", ["c", "zero"], ["s"], name="plus_zero"),
                        helper.make_node("Add", ["s", "learned.offset"], ["y"], name="plus_learned")],
                       [weight("w", [4, 3, 1, 1]), weight("b", [4])], input_shape=(1, 3, 4, 4))
    model.graph.node.insert(0, helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(
        np.array(0.0, dtype=np.float32))))
    model.graph.initializer.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "learned.offset"))
    path = tmp_path / "plus_zero.onnx"
    onnx.save(model, str(path))
    result = analyze(str(path))
    assert [(row.name, row.params) for row in result.rows[1:]] == [("conv", 16), ("plus_learned", 1)]
