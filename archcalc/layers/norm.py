"""Normalisation layers: LRN (no parameters) and batch norm (a scale and a shift per channel)."""
from __future__ import annotations

from ..formulas import batchnorm_params
from .base import Field, Layer, LayerKind, Shape, Step, TorchModule
from .registry import register


@register
class LocalResponseNorm(LayerKind):
    name = "lrn"
    family = "norm"
    summary = "local response normalisation across channels (AlexNet's NORM); no parameters"
    fields = (
        Field("size", "count", 5, "channels in the window (n)"),
        Field("alpha", "number", 1e-4, "alpha"),
        Field("beta", "number", 0.75, "beta"),
        Field("k", "number", 1.0, "k (AlexNet uses 2; PyTorch's default is 1)"),
    )
    positional = "size"

    def infer(self, layer: Layer, x: Shape) -> Step:
        return Step(shape=x)

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        # PyTorch divides alpha by the window size (Caffe's convention); shapes are unaffected.
        return (TorchModule("LocalResponseNorm", (("size", layer["size"]), ("alpha", layer["alpha"]),
                                                  ("beta", layer["beta"]), ("k", layer["k"]))),)

    def label(self, layer: Layer) -> str:
        return "NORM"


@register
class BatchNorm(LayerKind):
    name = "batchnorm"
    family = "norm"
    summary = "batch normalisation: gamma and beta per channel (running statistics are buffers)"
    fields = (
        Field("eps", "number", 1e-5, "epsilon"),
        Field("momentum", "number", 0.1, "running-statistics momentum"),
        Field("affine", "bool", True, "learn gamma (counted as weights) and beta (as biases)"),
    )

    def infer(self, layer: Layer, x: Shape) -> Step:
        channels = x[-1]
        gamma, beta = batchnorm_params(channels) if layer["affine"] else (0, 0)
        return Step(shape=x, weights=gamma, biases=beta, weights_formula=f"{channels}")

    def torch_modules(self, layer: Layer, x: Shape) -> tuple[TorchModule, ...]:
        return (TorchModule("BatchNorm2d" if len(x) == 3 else "BatchNorm1d", (
            ("num_features", x[-1]), ("eps", layer["eps"]), ("momentum", layer["momentum"]),
            ("affine", layer["affine"]))),)

    def label(self, layer: Layer) -> str:
        return "BN"
