"""Memory as execution holds it (archcalc.liveness), against hand arithmetic and against PyTorch: the
lowered network run under a dispatch mode that tracks every storage it makes (archcalc.lower.measure),
and autograd's saved-tensor hooks."""
import json

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.engine import analysis_of
from archcalc.liveness import (in_place_layers, inference_memory, largest_batch, parse_byte_size, row_live_bytes,
                             training_memory)
from archcalc.spec import parse_spec, shipped_spec_names
from sweeps import sweep

F32 = 4


def analysis(text: str):
    return analysis_of(parse_spec(text))


RESIDUAL = '''input = "8x8x4"
layers = [{ name = "block", add = [["a: conv 4 3x3 p1", "a_relu: relu", "b: conv 4 3x3 p1"], []] }, "out: relu"]
'''


def test_a_residual_block_by_hand():
    """Every map is 8*8*4 values = 1,024 bytes. The input is held throughout (the caller and the
    shortcut); conv b runs while a's output (its input) and its own output are alive; the add reads
    the input and b's output and makes the sum; the ReLUs overwrite what they read."""
    memory = inference_memory(analysis(RESIDUAL))
    one = 8 * 8 * 4 * F32
    assert [(m.name, m.live_bytes) for m in memory.moments] == [
        ("block/b1/a", 2 * one), ("block/b1/a_relu", 2 * one), ("block/b1/b", 3 * one), ("block", 3 * one),
        ("out", 2 * one)]
    assert (memory.peak.name, memory.peak_bytes) == ("block/b1/b", 3 * one)
    assert sorted(h.bytes for h in memory.live_at_peak) == [one, one, one]
    assert memory.naive_bytes == 4 * one  # the lecture's column: input, a, b, the sum (the ReLUs fold in)


def test_vgg16_peaks_at_its_first_two_convs():
    """While conv1_2 runs: the input (224*224*3), conv1_1's output and its own (224*224*64 each)."""
    memory = inference_memory(analysis_of(archcalc.load("vgg16")))
    assert memory.peak.name == "conv1_2"
    assert memory.peak_bytes == (224 * 224 * 3 + 2 * 224 * 224 * 64) * F32 == 26_292_224
    assert memory.naive_bytes == 15_237_608 * F32  # the lecture note's total: 15.2M values



def test_in_float16_the_pooling_indices_set_the_peak():
    """Max pooling's int64 positions of the maxima do not shrink with the activations: in float16 at
    batch 8, VGG16 peaks at pool1 (input, conv1_2's output, the pooled map and its indices)."""
    memory = inference_memory(analysis_of(archcalc.load("vgg16")), batch=8, dtype="float16")
    values = 224 * 224 * 3 + 224 * 224 * 64 + 112 * 112 * 64
    assert memory.peak.name == "pool1"
    assert memory.peak_bytes == values * 2 * 8 + 112 * 112 * 64 * 8 * 8 == 118_013_952


TINY = '''input = "4x4x1"
layers = ["conv 2 3x3 p1 nobias", "relu", "flatten", "fc 3"]
'''


def test_a_training_step_by_hand():
    """Kept for backward: the conv's input (16 values); the ReLU's output, which it overwrote in place
    (32 values); the fc's input is that same tensor seen through the flatten: 48 values, 192 bytes.
    Parameters: 2*3*3 + 32*3 + 3 = 117."""
    step = training_memory(analysis(TINY), optimizer="sgd-momentum")
    assert step.saved_bytes == (16 + 32) * F32
    assert dict(step.saved) == {"conv1": 16 * F32, "relu1": 32 * F32}
    assert (step.param_bytes, step.grad_bytes, step.optimizer_bytes) == (117 * F32, 117 * F32, 117 * F32)
    assert step.bound_bytes == 3 * 117 * F32 + 48 * F32 + 16 * F32
    assert training_memory(analysis(TINY), optimizer="sgd").optimizer_bytes == 0
    assert training_memory(analysis(TINY), optimizer="adam").optimizer_bytes == 2 * 117 * F32
    mixed = training_memory(analysis(TINY), dtype="float16", mixed=True)
    assert (mixed.param_bytes, mixed.saved_bytes, mixed.weight_copy_bytes) == (117 * F32, 48 * 2, 117 * 2)
    half = training_memory(analysis(TINY), batch=4, dtype="float16")
    assert (half.param_bytes, half.saved_bytes) == (117 * 2, 4 * 48 * 2)


def test_the_largest_batch_that_fits():
    """A plain conv net's inference peak is the batch times the peak of one image: VGG16's is
    26,292,224 bytes, so 10^9 bytes hold 38 images (999,104,512) and not 39 (1,025,396,736)."""
    vgg = analysis_of(archcalc.load("vgg16"))
    fit = largest_batch(lambda batch: inference_memory(vgg, batch).peak_bytes, 10**9)
    assert (fit.batch, fit.peak_bytes, fit.peak_at_next) == (38, 38 * 26_292_224, 39 * 26_292_224)
    assert largest_batch(lambda batch: 100 * batch, 99).batch == 0
    assert largest_batch(lambda batch: 100 * batch + 7, 100_007).batch == 1000


@pytest.mark.parametrize("text, expected", [("24GiB", 24 * 2**30), ("24GB", 24 * 10**9), ("1.5 GB", 1_500_000_000),
                                            ("512MiB", 512 * 2**20), ("4096", 4096), ("1e9", 10**9)])
def test_sizes_as_people_write_them(text, expected):
    assert parse_byte_size(text) == expected


def test_which_activations_run_in_place():
    """Right after a fresh output that nothing else needs: not first in a branch (its input is the
    branch input, read by the other branches), not after a view, the identity at inference, or an
    activation that keeps its output; GELU has no in-place form."""
    found = in_place_layers(analysis('''input = "8x8x4"
layers = ["c1: conv 4 3x3 p1", "r1: relu", "d: dropout 0.5", "r2: relu", "s: sigmoid", "r3: relu",
          { name = "cat", concat = [["r4: relu", "c2: conv 4 1x1", "r5: relu6"], ["c3: conv 4 1x1"]] }, "r6: relu",
          "c4: conv 4 1x1", "g: gelu", "f: flatten", "r7: relu"]
'''))
    assert {name.split("/")[-1] for name in found} == {"r1", "r5", "r6"}


def test_the_lowering_overwrites_where_the_model_says():
    pytest.importorskip("torch")
    from archcalc.lower.build import build

    network = build(archcalc.load(input="8x8x4", layers="conv 4 3x3 p1; relu; sigmoid; relu"))
    assert [getattr(module, "inplace", None) for module in network.children()] == [None, True, None, False]


def test_a_collapsed_block_shows_the_most_live_among_its_members():
    result = archcalc.analyze("resnet50", depth=0)
    live = row_live_bytes(result, inference_memory(result).moments)
    full = inference_memory(analysis_of(archcalc.load("resnet50")))
    assert live["conv2_1"] == max(m.live_bytes for m in full.moments if m.name.startswith("conv2_1/"))


# --- against execution -------------------------------------------------------------------------

# the inputs at which the networks run here: the large ones smaller (liveness does not depend on the size)
SMALL = {name: "64x64x3" for name in shipped_spec_names() if name.startswith(("vgg", "resnet", "wide_resnet")) or name in (
    "densenet121", "densenet161", "densenet169", "densenet201", "squeezenet1_0", "squeezenet1_1", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0",
    "efficientnet_b3", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny", "mobilenet_v1")}


def small(name: str):
    return archcalc.load(name, input=SMALL.get(name))


@pytest.mark.parametrize("name", sweep(shipped_spec_names()))
def test_the_inference_peak_is_what_pytorch_holds(name):
    """The most bytes live while each layer and merge runs, the peak and where: equal to the storages
    PyTorch makes and frees running the lowered network, at two batch sizes."""
    pytest.importorskip("torch")
    from archcalc.lower.measure import measure_inference

    spec = small(name)
    model_analysis = analysis_of(spec)
    for batch in (1, 3):
        model = inference_memory(model_analysis, batch)
        measured = measure_inference(spec, batch, model_analysis)
        assert {m.name: m.live_bytes for m in model.moments} == measured.live
        assert (model.peak_bytes, model.peak.name) == (measured.peak_bytes, measured.peak_at)


@pytest.mark.parametrize("name", sweep(shipped_spec_names()))
def test_a_training_step_is_what_pytorch_holds(name):
    """What is kept for backward equals what autograd packs (distinct storages, parameters excluded),
    exactly; the step's peak (SGD with momentum, the second step, parameters and optimizer state
    included) is within 5% of the tracked one, in the same phase."""
    pytest.importorskip("torch")
    from archcalc.lower.measure import measure_training_step

    spec = small(name)
    model_analysis = analysis_of(spec)
    model = training_memory(model_analysis, 2, optimizer="sgd-momentum")
    measured = measure_training_step(spec, 2, "sgd-momentum", model_analysis)
    assert model.saved_bytes == measured.saved_bytes
    assert model.peak_phase == measured.peak_phase
    assert abs(model.peak_bytes / measured.peak_bytes - 1) < 0.05


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_the_other_optimizers(optimizer):
    """Adam's step makes its denominator per tensor on the CPU: AlexNet's peak is in the step."""
    pytest.importorskip("torch")
    from archcalc.lower.measure import measure_training_step

    spec = archcalc.load("alexnet_torchvision")
    model = training_memory(analysis_of(spec), 1, optimizer=optimizer)
    measured = measure_training_step(spec, 1, optimizer)
    assert model.peak_phase == measured.peak_phase
    assert abs(model.peak_bytes / measured.peak_bytes - 1) < 0.05


ACTIVATIONS_IN_PLACE = ["relu", "relu6", "leakyrelu", "elu", "silu", "hardswish", "hardsigmoid"]


@pytest.mark.parametrize("activation", ACTIVATIONS_IN_PLACE)
def test_what_an_activation_keeps_when_it_overwrites_its_input(activation):
    """ReLU, leaky ReLU and ELU keep their result (the tensor they overwrote, nothing new); ReLU6
    (hardtanh), SiLU, hardswish and hardsigmoid keep a copy of their input made before."""
    torch = pytest.importorskip("torch")
    from archcalc.layers import KINDS
    from archcalc.lower.build import build, example_input

    spec = archcalc.load(input="6x6x2", layers=f"conv 3 3x3 p1; {activation}")
    network = build(spec).train()
    model_analysis = analysis_of(spec)
    layer = model_analysis.spec.leaves()[1]
    assert layer.name in in_place_layers(model_analysis) and list(network.children())[1].inplace
    conv_output, packed, active = [], [], [False]
    list(network.children())[0].register_forward_hook(lambda module, args, out: conv_output.append(out.untyped_storage().data_ptr()))
    list(network.children())[1].register_forward_pre_hook(lambda module, args: active.__setitem__(0, True))
    list(network.children())[1].register_forward_hook(lambda module, args, out: active.__setitem__(0, False))

    def pack(tensor):
        if active[0]:
            packed.append((tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes()))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        network(example_input(spec, 2))
    (declared,) = KINDS[activation].saved_in_place(layer, (6, 6, 3), model_analysis.steps[layer.name])
    assert len(packed) == 1 and packed[0][1] == 2 * 6 * 6 * 3 * F32 == declared.elements * 2 * F32
    assert (packed[0][0] == conv_output[0]) == (declared.what == "output")


# --- the command ---------------------------------------------------------------------------------


def test_the_json_contract():
    result = CliRunner().invoke(main, ["memory", "vgg16", "--train", "--fit", "24GiB", "-f", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"model", "batch", "dtype", "inference", "training", "fit"} <= set(document)
    assert {"peak_bytes", "peak_layer", "naive_bytes", "layers"} <= set(document["inference"])
    assert {"saved_bytes", "param_bytes", "grad_bytes", "optimizer_bytes", "peak_bytes", "peak_phase",
            "layers"} <= set(document["training"])
    assert document["fit"]["limit_bytes"] == 24 * 2**30
    assert document["inference"]["peak_bytes"] == 26_292_224 and document["inference"]["peak_layer"] == "conv1_2"
    assert document["training"]["param_bytes"] == 138_357_544 * F32
    assert document["inference"]["layers"][0] == {"name": "conv1_1", "live_bytes": (224 * 224 * 3 + 224 * 224 * 64) * 4}
    plain = json.loads(CliRunner().invoke(main, ["memory", "vgg16", "-f", "json"]).stdout)
    assert "training" not in plain and "fit" not in plain


def test_the_text_report_says_where_and_why():
    text = CliRunner().invoke(main, ["memory", "resnet50", "--batch", "32", "--train", "--optimizer", "adam"]).stdout
    assert "INFERENCE peak:" in text and "while conv2_1/b2/shortcut runs" in text
    assert "TRAINING STEP (Adam, float32, steady state)" in text and "upper-bound formula" in text


def test_the_table_gains_a_live_column():
    result = CliRunner().invoke(main, ["table", "vgg16", "--live"])
    assert " live" in result.stdout.splitlines()[2] and "26.3 MB" in result.stdout
    record = json.loads(CliRunner().invoke(main, ["table", "vgg16", "--live", "-f", "json"]).stdout)
    assert record["layers"][2]["live_bytes"] == 26_292_224


@pytest.mark.parametrize("arguments, message", [
    (["memory", "vgg16", "--fit", "24 parsecs"], "cannot read '24 parsecs' as a size"),
    (["memory", "vgg16", "--train", "--mixed"], "mixed precision keeps activations in float16 or bfloat16"),
    (["memory", "vgg16", "--mixed", "--dtype", "float16"], "add --train"),
    (["memory", "vgg61"], "vgg61"),
    (["memory", "--input", "HxWx3", "--layers", "conv 4 3x3"], "memory needs concrete sizes"),
    (["memory", "vgg16", "--measure", "--dtype", "float16"], "float32"),
])
def test_bad_requests_get_one_clean_paragraph(arguments, message):
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_measure_runs_it(tmp_path):
    pytest.importorskip("torch")
    target = tmp_path / "missing" / "lenet.json"
    result = CliRunner().invoke(main, ["memory", "lenet5", "--train", "--measure", "-f", "json", "-o", str(target)])
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    assert document["measured"]["inference_peak_bytes"] == document["inference"]["peak_bytes"]
    assert document["measured"]["saved_bytes"] == document["training"]["saved_bytes"]


def test_the_gpu_path_runs_with_its_cuda_calls_stubbed(monkeypatch):
    """scripts/gpu_verify.sh runs only where a GPU is lent: check its code on the CPU, with the
    CUDA calls answering as a GPU would (max_memory_allocated from a tracker is not needed here)."""
    torch = pytest.importorskip("torch")
    from archcalc.lower.build import build, example_input
    from archcalc.lower.verify import measure_cuda

    for name, value in (("synchronize", None), ("empty_cache", None), ("reset_peak_memory_stats", None),
                        ("max_memory_allocated", 12345), ("get_device_name", "stub")):
        monkeypatch.setattr(torch.cuda, name, lambda *args, value=value: value)
    spec = archcalc.load("googlenet_aux", input="224x224x3")
    model_analysis = analysis_of(spec)
    figures = measure_cuda(build(spec, model_analysis), example_input(spec, 1), model_analysis, 1, runs=1)
    params = int(model_analysis.totals.params) * F32
    assert figures["archcalc_inference_peak_bytes"] == inference_memory(model_analysis).peak_bytes + params
    assert figures["archcalc_training_peak_bytes"] == training_memory(model_analysis, device="cuda").peak_bytes
    assert figures["training_peak_memory_bytes"] == 12345
