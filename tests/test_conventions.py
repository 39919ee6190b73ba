"""Each convention profile against the tool it names, run on the same network (archcalc's lowering).

The tools are optional (pip install 'archcalc[peers]'); each test skips where its tool is missing.
"""
import logging

import pytest

torch = pytest.importorskip("torch")

from archcalc import analyze, load_spec  # noqa: E402
from archcalc.spec import quick_spec  # noqa: E402
from archcalc.counting import apply  # noqa: E402
from archcalc.lower.build import build, example_input  # noqa: E402

NETWORKS = ["resnet18", "vgg16_bn", "googlenet_torchvision", "alexnet_torchvision", "googlenet", "lenet5",
            "resnet50_torchvision", "mobilenet_v2", "mobilenet_v3_small"]
# one layer after a conv, for the rules that differ between tools: ptflops counts ReLU, ELU and GELU
# twice (module hook and patched functional) but ReLU6 (F.hardtanh), LeakyReLU and SiLU once;
# fvcore charges upsampling 1 (nearest) or 4 (bilinear) per output element, thop 1 or 11
LAYERS = ["relu", "relu6", "leakyrelu", "elu", "gelu", "silu", "hardswish", "upsample 2", "upsample 2 mode=bilinear",
          "upsample 2 call=functional", "upsample 2 mode=bilinear call=functional"]


def fvcore_total(spec):
    fvcore = pytest.importorskip("fvcore.nn")
    logging.disable(logging.WARNING)
    counter = fvcore.FlopCountAnalysis(build(spec), example_input(spec, 1))
    counter.unsupported_ops_warnings(False)
    counter.uncalled_modules_warnings(False)
    return counter.total()


def ptflops_total(spec, backend):
    ptflops = pytest.importorskip("ptflops")
    shape = spec.input_shape
    macs, params = ptflops.get_model_complexity_info(build(spec), (shape[2], shape[0], shape[1]), backend=backend,
                                                     print_per_layer_stat=False, as_strings=False)
    return macs, params


def thop_total(spec):
    thop = pytest.importorskip("thop")
    macs, params = thop.profile(build(spec), inputs=(example_input(spec, 1),), verbose=False)
    return int(macs), int(params)


def network(name):
    """A shipped spec, or one of LAYERS after a 1x1 conv on 8x8x3."""
    return load_spec(name) if name in NETWORKS else quick_spec("8x8x3", f"conv 4 1x1; {name}")


@pytest.mark.parametrize("name", NETWORKS + LAYERS)
def test_fvcore(name):
    spec = network(name)
    assert apply(analyze(spec), "fvcore").ops == fvcore_total(spec)


@pytest.mark.parametrize("name", NETWORKS + LAYERS)
def test_ptflops_default_backend(name):
    spec = network(name)
    macs, params = ptflops_total(spec, "pytorch")
    result = apply(analyze(spec), "ptflops")
    assert (result.ops, result.params) == (macs, params)


def test_ptflops_own_interpolate_test():
    """ptflops' own test_func_interpolate_args: F.interpolate of 3x10x10 to 20x20 costs 3*20*20 = 1,200
    (one per output); an nn.Upsample module costs twice that (its hook, then the patched functional)."""
    functional = analyze(quick_spec("10x10x3", "upsample 2 mode=bilinear call=functional"))
    module = analyze(quick_spec("10x10x3", "upsample 2 mode=bilinear"))
    assert apply(functional, "ptflops").ops == 1_200
    assert apply(module, "ptflops").ops == 2_400
    ptflops = pytest.importorskip("ptflops")
    torch = pytest.importorskip("torch")

    class CustomModel(torch.nn.Module):  # as ptflops' test writes it
        def forward(self, x):
            return torch.nn.functional.interpolate(input=x, size=(20, 20), mode="bilinear", align_corners=False)

    macs, params = ptflops.get_model_complexity_info(CustomModel(), (3, 10, 10), as_strings=False,
                                                     print_per_layer_stat=False, backend="pytorch")
    assert (macs, params) == (1_200, 0)


@pytest.mark.parametrize("name", NETWORKS + LAYERS)
def test_ptflops_aten_backend(name):
    spec = network(name)
    macs, _ = ptflops_total(spec, "aten")
    assert apply(analyze(spec), "ptflops-aten").ops == macs


@pytest.mark.parametrize("name", NETWORKS + LAYERS)
def test_thop(name):
    spec = network(name)
    macs, params = thop_total(spec)
    result = apply(analyze(spec), "thop")
    assert (result.ops, result.params) == (macs, params)


@pytest.mark.parametrize("name, gmacs", [("resnet50_torchvision", 4.089), ("resnet152_torchvision", 11.514)])
def test_torchvision_gflops_column(name, gmacs):
    assert round(apply(analyze(load_spec(name)), "torchvision").ops / 1e9, 3) == gmacs
