"""The networks on both sides of the lecture, each checked against something independent: torchvision's
own model executed (parameters, trainable parameters, MACs) and its published num_params and GFLOPS,
archcalc's lowering executed layer by layer (``verify``), and the papers' own counts."""
import pytest

from archcalc import analyze, load
from archcalc.spec import shipped_spec_names

torch = pytest.importorskip("torch")

from torchvision_models import location, reference  # noqa: E402
from sweeps import sweep

# spec -> (torchvision's name, the input at which its lowering is executed). The large networks run at
# 64x64: verify checks the same shape, parameter and MAC rules at any size (the parameters do not
# depend on it); Inception v3 runs at its own 299, since its auxiliary head needs the 17x17 maps.
ZOO = {
    "lecun1989": (None, None), "lenet5_1998": (None, None), "nin": (None, None),
    "inception_v3": ("inception_v3", None),
    **{name: (name, "64x64x3") for name in (
        "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2", "densenet121", "densenet161",
        "densenet169", "densenet201", "squeezenet1_0", "squeezenet1_1", "mobilenet_v2", "mobilenet_v3_small",
        "mobilenet_v3_large", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0", "efficientnet_b3",
        "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny")},
}
TORCHVISION = sorted(name for name, (reference_name, _) in ZOO.items() if reference_name)


def test_every_zoo_spec_ships():
    assert set(ZOO) <= set(shipped_spec_names())


def executed_counts(model, size: int) -> tuple[int, int, int]:
    """Parameters, trainable parameters, and MACs measured by PyTorch (FlopCounterMode's FLOPs / 2)
    running the model on the meta device (shapes without arithmetic, so full-size inputs cost nothing)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = model.to("meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, size, size, device="meta"))
    return (sum(p.numel() for p in model.parameters()), sum(p.numel() for p in model.parameters() if p.requires_grad),
            counter.get_total_flops() // 2)


@pytest.mark.skipif(location() is None, reason="no copy of torchvision's model files (see tests/torchvision_models.py)")
@pytest.mark.parametrize("name", sweep(TORCHVISION))
def test_equal_to_torchvision_executed_and_published(name):
    result = analyze(name)
    model, meta = reference(ZOO[name][0])
    params, trainable, macs = executed_counts(model, result.spec.input_shape[0])
    assert (result.totals.params, result.totals.trainable_params, result.totals.macs) == (params, trainable, macs)
    assert result.totals.params == meta["num_params"]  # the weights' documented parameter count
    assert round(result.totals.macs / 1e9, 3) == meta["_ops"]  # the documented "GFLOPS" are GMACs


@pytest.mark.parametrize("name", sweep(sorted(ZOO)))
def test_every_layer_agrees_with_its_execution(name):
    """archcalc's lowering run in PyTorch: every row's shape, weights, biases, trainable parameters and
    MACs, then the ONNX export's shapes and onnxruntime's output."""
    from archcalc.lower.verify import verify

    report = verify(load(name, input=ZOO[name][1]), batch=1, with_onnx=True)
    bad = [(layer.name, key, check) for layer in report.layers for key, check in layer.checks.items() if not check.ok]
    assert not bad and report.onnx["ok"], (bad, report.onnx.get("shape_differences"))


def test_lecun_1989_counts_as_the_paper_states():
    """Section 5: 1,256 units, 64,660 connections, 9,760 independent parameters. By hand: H1 has 768 units
    of 5x5 shared weights and a bias each (12*25 + 768 = 1,068 parameters, 768*26 connections); H2 192
    units, each 5x5 on 8 maps and a bias (12*8*25 + 192 = 2,592; 192*201); H3 192*30 + 30; output 30*10 + 10."""
    totals = analyze("lecun1989").totals
    assert 16 * 16 + 768 + 192 + 30 + 10 == 1256 == totals.memory  # the units, input included
    assert 768 * 26 + 192 * 201 + 5790 + 310 == 64660 == totals.connections
    assert 1068 + 2592 + 5790 + 310 == 9760 == totals.params


def test_lenet5_1998_layer_by_layer():
    """Section II-B's figures for each layer, and in all."""
    rows = {row.name: row for row in analyze("lenet5_1998").rows}
    paper = {"C1": (156, 122304), "S2": (12, 5880), "C3": (1516, 151600), "S4": (32, 2000), "C5": (48120, 48120),
             "F6": (10164, 10164), "output": (840, 840)}
    assert {name: (rows[name].params, rows[name].connections) for name in paper} == paper
    totals = analyze("lenet5_1998").totals
    assert (totals.params, totals.connections) == (60840, 340908)
    assert rows["C3"].step.weights.value == 60 * 25  # Table I: 60 connections between S2 and C3 maps


def test_nin_is_the_model_zoos_29_megabyte_file():
    """mlpconv blocks of 96, 256, 384, 1024 with two 1x1 convs each, by hand; 4 bytes a parameter."""
    by_hand = (11 * 11 * 3 * 96 + 96 + 2 * (96 * 96 + 96) + 5 * 5 * 96 * 256 + 256 + 2 * (256 * 256 + 256)
               + 3 * 3 * 256 * 384 + 384 + 2 * (384 * 384 + 384) + 3 * 3 * 384 * 1024 + 1024
               + 1024 * 1024 + 1024 + 1024 * 1000 + 1000)
    params = analyze("nin").totals.params
    assert params == by_hand
    assert round(params * 4 / 2**20) == 29


@pytest.mark.skipif(location() is None, reason="no copy of torchvision's model files")
def test_inception_v3_with_and_without_its_auxiliary_head():
    """torchvision's published count includes the auxiliary classifier; its GFLOPS (inference) do not."""
    result = analyze("inception_v3")
    without, _ = reference("inception_v3", aux_logits=False)
    aux = sum(row.params for row in result.rows if row.training_only)
    assert result.totals.params - aux == sum(p.numel() for p in without.parameters())
    assert result.totals.training_only_macs > 0 and "AuxLogits" in result.notes[0]
