"""Sweeps over the shipped networks: a core that every run checks, one of each construct (grouped,
depthwise, dense, inception, residual, side outputs, shuffles, squeeze-and-excitation, layer scale,
LeCun's tables), and the rest under the ``slow`` marker, which .ci/run runs after the README's command."""
import pytest

CORE = {"lecun1989", "lenet5", "lenet5_1998", "alexnet_simplified", "alexnet", "googlenet", "googlenet_aux",
        "googlenet_torchvision", "resnet18", "resnet50", "resnet50_torchvision", "resnext50_32x4d", "densenet121",
        "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v2_x1_0", "squeezenet1_0",
        "efficientnet_b0", "regnet_y_400mf", "convnext_tiny", "nin", "inception_v3", "mnasnet1_0"}


def sweep(names):
    """``names`` as a parametrisation: the core in every run, the others marked slow."""
    return [name if name in CORE else pytest.param(name, marks=pytest.mark.slow) for name in names]
