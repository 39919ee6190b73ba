"""torchvision's own model definitions, as a reference to test against, without importing the
torchvision package: its __init__ loads C++ operators that do not load beside every torch build
(and an installed torchvision breaks ptflops' import for the same reason). The pure-Python model
files are imported from a copy that is not on sys.path (`pip install --no-deps --target
.torchvision torchvision==0.28.0`, or the folder named by ARCHCALC_TORCHVISION), under stand-in
packages, and the stand-ins are removed again afterwards."""
from __future__ import annotations

import contextlib
import enum
import importlib
import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).parent.parent


def location() -> Path | None:
    """The folder holding the ``torchvision`` package copy, if there is one."""
    for folder in (os.environ.get("ARCHCALC_TORCHVISION"), ROOT / ".torchvision"):
        if folder and (Path(folder) / "torchvision" / "models").is_dir():
            return Path(folder)
    return None


@contextlib.contextmanager
def stand_ins(folder: Path):
    """Path-only packages for torchvision and the parts its model files import, then nothing left."""
    before = set(sys.modules)
    try:
        for name in ("torchvision", "torchvision.ops", "torchvision.transforms", "torchvision.models"):
            module = types.ModuleType(name)
            module.__path__ = [str(folder.joinpath(*name.split(".")))]
            sys.modules[name] = module
        transforms = sys.modules["torchvision.transforms"]
        transforms.InterpolationMode = enum.Enum("InterpolationMode", "NEAREST BILINEAR BICUBIC")
        presets = types.ModuleType("torchvision.transforms._presets")
        presets.InterpolationMode = transforms.InterpolationMode
        for preset in ("ImageClassification", "ObjectDetection", "SemanticSegmentation", "VideoClassification"):
            setattr(presets, preset, type(preset, (), {"__init__": lambda self, *args, **kwargs: None}))
        sys.modules[presets.__name__] = presets
        ops = sys.modules["torchvision.ops"]
        ops.StochasticDepth = importlib.import_module("torchvision.ops.stochastic_depth").StochasticDepth
        misc = importlib.import_module("torchvision.ops.misc")
        for name in ("Conv2dNormActivation", "SqueezeExcitation", "MLP", "Permute"):
            setattr(ops, name, getattr(misc, name))
        yield
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]


CLASSIFIERS = ("alexnet", "convnext", "densenet", "efficientnet", "googlenet", "inception", "mnasnet", "mobilenetv2",
               "mobilenetv3", "regnet", "resnet", "shufflenetv2", "squeezenet", "vgg")


def reference(name: str, **options):
    """torchvision's ``name`` model (random weights, eval mode) and its weights' published metadata
    (``num_params``, ``_ops`` in GMACs, ``min_size``); ``options`` go to the model's builder."""
    folder = location()
    if folder is None:
        raise LookupError("no copy of torchvision: pip install --no-deps --target .torchvision torchvision==0.28.0")
    with stand_ins(folder):
        for module in CLASSIFIERS:  # each registers its builders
            importlib.import_module(f"torchvision.models.{module}")
        api = importlib.import_module("torchvision.models._api")
        builder = api.get_model_builder(name)
        meta = dict(api.get_model_weights(name).DEFAULT.meta)
        import torch

        torch.manual_seed(0)
        return builder(weights=None, **{**_published_options(name), **options}).eval(), meta


def _published_options(name: str) -> dict:
    """The constructor options of the published weights (Inception v3 comes with its auxiliary head)."""
    return {"aux_logits": True, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
